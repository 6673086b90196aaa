"""bench/security.py (the sessions-and-limits part) at the smallest sizes, against a real
clusterd: it reports every measurement (no timing is judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "security.py"


def test_the_benchmark_reports_every_measurement(tmp_path: Path) -> None:
    output = tmp_path / "security.json"
    output.write_text('{"other": {"kept": true}}')  # another part of the file survives
    done = subprocess.run(
        [sys.executable, str(BENCH), "--connections", "400", "--samples", "3",
         "--output", str(output)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["other"] == {"kept": True}
    part = report["sessions_limits"]
    names = [row["name"] for rows in part.values() for row in rows]
    assert names == [
        "request, clusterd idle",
        "request, 400 held open",
        "failed login, existing user",
        "failed login, unknown user",
        "token revoked -> /zmq closed",
    ]
    for rows in part.values():
        for row in rows:
            assert row["samples"] == 3
            assert 0 < row["p50_ms"] <= row["p90_ms"] <= row["max_ms"]
