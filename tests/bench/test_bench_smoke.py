"""bench/kdb.py, bench/elektrad.py and bench/durable_floor.py at their smallest sizes: each runs
against real files (and daemons) and reports every measurement (times are for people to read,
not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from elektraweb.kdb.storage import FORMATS

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(script: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]


def test_kdb_benchmark_reports_every_format_and_size(tmp_path: Path) -> None:
    output = tmp_path / "kdb.json"
    run_bench("kdb.py", "--sizes", "100,200", "--repeat", "1", "--no-process",
              "--output", str(output))  # fmt: skip
    rows = json.loads(output.read_text())["results"]
    assert {(row["format"], row["keys"]) for row in rows} == {
        (fmt, size) for fmt in FORMATS for size in (100, 200)
    }
    for row in rows:
        assert row["get_one"] > 0 and row["set_one"] > 0 and row["parse"] > 0
        assert row["json_loads"] > 0 and row["cold_over_json"] > 0
        # Every text format is timed next to its own plain parser; dump has none.
        assert (row["peer"] is None) == (row["format"] in ("dump", "ni", "mini"))


def test_kdb_benchmark_times_get_and_set_as_processes_next_to_the_floor(tmp_path: Path) -> None:
    output = tmp_path / "kdb.json"
    run_bench("kdb.py", "--sizes", "100", "--formats", "dump", "--repeat", "1",
              "--process-keys", "2000", "--output", str(output))  # fmt: skip
    rows = {row["case"]: row for row in json.loads(output.read_text())["processes"]}
    assert set(rows) == {"kdb get, 2k keys", "kdb set, 2k keys", "kdb get, 1-key KDB"}
    for row in rows.values():
        assert row["seconds"] > 0 and row["floor_seconds"] > 0 and row["peak_mib"] > 0
    assert rows["kdb get, 1-key KDB"]["libelektra_seconds"] == 0.008


def test_elektrad_benchmark_reports_get_and_set_at_both_depths(tmp_path: Path) -> None:
    output = tmp_path / "elektrad.json"
    run_bench("elektrad.py", "--seconds", "0.2", "--no-etcd", "--big-keys", "2000",
              "--output", str(output))  # fmt: skip
    report = json.loads(output.read_text())
    rows = report["results"]
    measured = {(row["target"], row["op"], row["in_flight"]) for row in rows}
    for op in ("get", "set"):
        assert {("elektrad", op, 1), ("elektrad", op, 64)} <= measured
    assert {("elektrad 2k", "set", 1), ("elektrad 2k", "ls", 1)} <= measured
    assert {"2k_set_p50_over_aim", "2k_ls_p50_over_aim"} <= set(report["ratios"])
    for row in rows:
        assert row["requests"] > 0 and 0 < row["p50_ms"] <= row["p99_ms"]


def test_durable_floor_reports_the_file_replace_and_two_audit_commits(tmp_path: Path) -> None:
    output = tmp_path / "durable-floor.json"
    run_bench("durable_floor.py", "--rounds", "3", "--directory", str(tmp_path),
              "--output", str(output))  # fmt: skip
    report = json.loads(output.read_text())
    assert report["rounds"] == 3
    assert report["replace_us"] > 0 and report["commit_us"] > 0
    assert report["put_us"] == report["replace_us"] + 2 * report["commit_us"]
    assert list(tmp_path.iterdir()) == [output]  # its temporary directory is gone
