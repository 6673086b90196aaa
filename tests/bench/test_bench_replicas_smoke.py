"""bench/replicas.py at a small size: the leases lane against the throwaway PostgreSQL reports
every way of renewing leases; the rest lane, with its own PostgreSQL, three replicas and an
elektrad, reports the get rate through one replica and through three, for a second a row (no
timing is judged here; the benchmark is for people to read)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "replicas.py"
NO_WRK = "wrk is not installed: apt-get install wrk"


def run_rest_lane(output: Path, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH), "--lane", "rest", "--seconds", "1", "--connections", "6",
         "--output", str(output)],
        capture_output=True, text=True, timeout=240, check=False, env={**os.environ, "PATH": path},
    )  # fmt: skip


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


def test_the_rest_lane_without_wrk_says_how_to_install_it(tmp_path: Path) -> None:
    output = tmp_path / "replicas.json"
    done = run_rest_lane(output, str(tmp_path))  # a PATH with no wrk on it
    assert done.returncode == 1
    assert NO_WRK in done.stderr
    assert not output.exists()


def test_the_rest_lane_reports_one_replica_and_three_per_target(tmp_path: Path) -> None:
    output = tmp_path / "replicas.json"
    done = run_rest_lane(output, os.environ["PATH"])
    if shutil.which("wrk") is None:  # wrk is for benchmarks only; make install leaves it out
        assert done.returncode == 1 and NO_WRK in done.stderr
        return
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(output.read_text())
    loads = [[6], [2, 2, 2], [1], [1, 1, 1]]
    assert [(row["target"], row["connections"]) for row in report["rows"]] == [
        (target, load) for target in ("instance", "cluster") for load in loads
    ]
    for row in report["rows"]:
        assert row["requests"] > 0 and row["per_second"] > 0
        assert row["replicas"] == len(row["connections"])
        assert set(row["cpu_us"]) == {"clusterd", "elektrad", "postgresql", "wrk"}
    assert [(ratio["target"], ratio["connections"]) for ratio in report["ratios"]] == [
        (target, total) for target in ("instance", "cluster") for total in (6, 3)
    ]
    for ratio in report["ratios"]:
        assert ratio["aim"] == 2.0 and ratio["met"] == (ratio["ratio"] >= 2.0)
        assert ratio["cores_ceiling"] > 0
    assert "three replicas over one (aim 2.0)" in done.stdout
