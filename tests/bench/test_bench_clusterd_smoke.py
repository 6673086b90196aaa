"""bench/clusterd.py at the smallest sizes: it runs against real daemons and reports every
measurement (no timing is judged here; the benchmark's aims are for people to read)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench" / "clusterd.py"
CPU_CONTROLLER = Path("/sys/fs/cgroup/cpu")  # bench/cpu_quota.py's


def test_the_benchmark_reports_every_measurement(tmp_path: Path) -> None:
    output = tmp_path / "clusterd.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--seconds", "0.1", "--in-flight", "2",
         "--cluster-sizes", "1,2", "--fanout-sets", "2", "--events", "2",
         "--registered", "5", "--output", str(output)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(output.read_text())

    hop = {(row["name"], row["in_flight"]): row for row in report["hop"]}
    for transport in ("direct", "rest", "zws"):
        for op in ("get", "set"):
            assert {(f"{transport} {op}", 1), (f"{transport} {op}", 2)} <= hop.keys()
    assert {("rest version", 1), ("zws version", 1)} <= hop.keys()
    for row in hop.values():
        assert row["requests"] >= 1
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert row["per_second"] > 0
    assert set(report["hop_p50_ms"]) == {"rest get", "rest set", "zws get", "zws set"}

    assert [row["members"] for row in report["fanout"]] == [1, 2]
    assert_fanout_measured(report["fanout"])

    events = {row["origin"]: row for row in report["change_to_subscriber"]}
    assert set(events) == {"elektrad", "external"}
    for row in events.values():
        assert (row["samples"], row["missed"]) == (2, 0)
        assert 0 <= row["p50_ms"] <= row["p99_ms"]

    rss = report["rss_mb"]
    assert rss["members"] == 2
    assert 0 < rss["elektrad_mean"] <= rss["elektrad_max"] < rss["elektrad_total"]
    assert rss["clusterd_with_members"] > 0

    registry = report["registry"]
    assert registry["instances"] == 5
    assert registry["rss_empty_mb"] > 0 and registry["rss_registered_mb"] > 0
    assert registry["register_per_second"] > 0 and registry["idle_cpu_percent"] >= 0

    assert {aim["aim"] for aim in report["aims"]} >= {
        "hop rest get p50 ms", "fan-out 2 / fan-out 1 p50",
        "change to subscriber (external) p50 ms",
    }  # fmt: skip
    for aim in report["aims"]:
        assert math.isfinite(aim["value"]) and isinstance(aim["met"], bool)


def assert_fanout_measured(rows: list[dict[str, Any]]) -> None:
    """Each size: its sets all applied, its peer sent straight to the members, the CPU."""
    for row in rows:
        assert row["sets"] == 2
        assert row["not_applied"] == 0
        assert 0 < row["p50_ms"] <= row["p99_ms"]
        assert 0 < row["direct_p50_ms"] <= row["direct_p99_ms"]
        assert row["clusterd_cpu_ms_per_set"] >= 0 and row["elektrad_cpu_ms_per_set"] >= 0
        assert row["p50_ratio_to_one"] == row["p50_ms"] / rows[0]["p50_ms"]


def test_only_the_fanout_is_measured_when_asked(tmp_path: Path) -> None:
    output = tmp_path / "clusterd.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--only-fanout", "--cluster-sizes", "1,2",
         "--fanout-sets", "2", "--output", str(output)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(output.read_text())
    assert "registry" not in report and report["hop"] == []
    assert_fanout_measured(report["fanout"])
    assert [aim["aim"] for aim in report["aims"]] == ["fan-out 2 / fan-out 1 p50"]
    assert "clusterd CPU/set" in done.stdout


def test_the_fanout_with_each_daemon_on_a_share_of_a_core_of_its_own(tmp_path: Path) -> None:
    output = tmp_path / "clusterd.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--only-fanout", "--cluster-sizes", "1,2",
         "--fanout-sets", "2", "--cpu-share", "0.5", "--output", str(output)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    if not os.access(CPU_CONTROLLER / "cgroup.procs", os.W_OK):
        # Refused before any daemon starts, naming the option and what it needs.
        assert done.returncode == 1, done.stdout[-2000:]
        assert "--cpu-share needs root and the cgroup v1 cpu controller" in done.stderr
        return
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["confined_daemons"] == 3  # clusterd and both members, each in its group
    assert_fanout_measured(report["fanout"])
    assert not list(CPU_CONTROLLER.glob("elektraweb-bench-*"))  # every group removed again
