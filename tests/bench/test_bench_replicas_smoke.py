"""bench/replicas.py at a small size against the throwaway PostgreSQL: it reports every way of
renewing leases (no timing is judged here; the benchmark is for people to read)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "replicas.py"


def test_the_benchmark_reports_each_way_of_renewing(tmp_path: Path, postgres_dsn: str) -> None:
    output = tmp_path / "replicas.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--database", postgres_dsn, "--instances", "100",
         "--rounds", "3", "--output", str(output)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(output.read_text())
    assert [way["round_trips"] for way in report["ways"]] == [100, 1, 1]
    assert all(0 < way["p50_ms"] <= way["p99_ms"] for way in report["ways"])
    # Renewing 100 rows writes more WAL than renewing 64.
    assert report["ways"][1]["wal_bytes"] > report["ways"][2]["wal_bytes"] > 0
