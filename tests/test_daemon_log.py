"""The daemons' log lines are the standard library's, however the time stamp is made."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from elektraweb.daemon_log import FORMAT, _SecondCachedFormatter


@pytest.mark.parametrize(
    "created",
    [1_700_000_000.0, 1_700_000_000.0005, 1_700_000_000.9994, 1_700_000_001.5, 1_699_999_999.25],
)
def test_each_line_is_the_one_logging_formatter_makes(created: float) -> None:
    cached = _SecondCachedFormatter()
    standard = logging.Formatter(FORMAT)
    # One formatter for all: the second it cached must not leak into another second's line.
    for when in (1_700_000_000.75, created, created + 1.0, created):
        record = logging.LogRecord("elektraweb.wire.server", logging.INFO, __file__, 1,
                                   "op=%s outcome=%s", ("get", "ok"), None)  # fmt: skip
        record.created, record.msecs = when, (when - int(when)) * 1000
        assert cached.format(record) == standard.format(record)


def test_a_daemon_logs_one_plain_line_per_record() -> None:
    script = (
        "import logging\n"
        "from elektraweb import daemon_log\n"
        "daemon_log.configure('INFO')\n"
        "logging.getLogger('elektraweb.test').info('op=%s key=%s', 'get', 'user:/a')\n"
        "logging.getLogger('elektraweb.test').debug('not shown')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(" INFO elektraweb.test: op=get key=user:/a")
    stamp = lines[0].split(" INFO ")[0]
    assert len(stamp) == len("2026-12-06 12:11:07,961") and stamp[10] == " " and stamp[19] == ","
