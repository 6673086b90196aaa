"""bench/search.py at the smallest sizes: it runs against real daemons and reports every
measurement (no timing is judged here; the benchmark's aims are for people to read)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "search.py"


def test_the_benchmark_reports_every_measurement(tmp_path: Path) -> None:
    output = tmp_path / "search.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--seconds", "0.1", "--keys", "20", "--repeats", "1",
         "--in-flight", "2", "--output", str(output)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(output.read_text())
    answers = {(row["pattern"], row["on"]): row for row in report["answer"]}
    assert len(answers) == 8
    # Only "((.*)*)*!" finds the victim; every name has a 'b' for "(a|aa)*b".
    assert [answers[("((.*)*)*!", on)]["matches"] for on in ("cluster", "instance")] == [1, 1]
    assert [answers[("(a+)+$", on)]["matches"] for on in ("cluster", "instance")] == [0, 0]
    assert all(not row["budget_exceeded"] for row in report["answer"])
    for phase in ("alone", "during finds"):
        row = report["others"][phase]
        assert row["requests"] >= 1 and 0 < row["p50_ms"] <= row["p99_ms"]
    assert report["others"]["finds_during"] >= 1
    assert [aim["aim"] for aim in report["aims"]] == [
        "pathological find answers (slowest, ms)",
        "others p99 during finds (ms)",
    ]
