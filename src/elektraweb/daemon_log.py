"""The daemons' log: one readable line per record on stderr, cheap enough for one per request.

    2026-12-06 12:11:07,961 INFO elektraweb.wire.server: op=get key=user:/a outcome=ok ms=0.3

Both daemons log every request at INFO, so the cost of a record is part of every request's.
The line is the standard library's (``%(asctime)s %(levelname)s %(name)s: %(message)s``); what
it does not show is not collected (caller, thread and process, docs/python "Optimization" of
logging), and the time stamp's text is made once a second, not once a line.
"""

from __future__ import annotations

import logging
import sys
import time

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_DATE_TIME = "%Y-%m-%d %H:%M:%S"  # logging.Formatter's default_time_format


class _SecondCachedFormatter(logging.Formatter):
    """The standard ``asctime`` (``2026-12-06 12:11:07,961``, local time), its date and time
    formatted once per second."""

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self._second = -1
        self._text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._text = time.strftime(_DATE_TIME, self.converter(record.created))
            self._second = second
        return f"{self._text},{int(record.msecs):03d}"  # default_msec_format "%s,%03d"


def configure(level: str | int) -> None:
    """Log records of ``level`` and above to stderr, one line each."""
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # no caller lookup: FORMAT shows no file or line
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SecondCachedFormatter())
    logging.basicConfig(level=level, handlers=[handler])
