"""bench/clusterd.py --fleet at a handful of simulated instances: it runs clusterd in front of
`elektra-web fleet` and reports every measurement (no timing is judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "clusterd.py"
COUNT = 3


def test_the_fleet_section_reports_every_measurement(tmp_path: Path) -> None:
    output = tmp_path / "clusterd-fleet.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--fleet", str(COUNT), "--fleet-sets", "2",
         "--output", str(output)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads(output.read_text())
    assert report["instances"] == COUNT
    assert report["fanout"]["sets"] == 2
    assert report["fanout"]["member_results"] == {"applied": 2 * COUNT}
    assert report["fanout"]["p50_ms"] <= report["fanout"]["p99_ms"]
    for name in ("fleet_start_s", "first_in_sync_s", "list_instances_p50_ms",
                 "restart_online_s", "restart_in_sync_s",
                 "rss_mb_after_fanout", "rss_mb_after_restart", "peak_rss_mb_first_start",
                 "peak_rss_mb_after_restart", "peak_rss_mb_login_after_restart",
                 "join_per_second_first_tenth",
                 "join_per_second_last_tenth"):  # fmt: skip
        assert report[name] > 0, name
    assert report["peak_rss_mb_after_restart"] >= report["rss_mb_after_restart"]
    rss_aim = next(aim for aim in report["aims"] if aim["aim"] == "fleet clusterd RSS MB")
    assert rss_aim["value"] >= report["peak_rss_mb_after_restart"]
    assert report["restart_online_s"] <= report["restart_in_sync_s"]
    assert {aim["aim"] for aim in report["aims"]} == {
        "fleet fan-out p50 ms",
        "fleet clusterd RSS MB",
    }
    assert "fleet fan-out p50 ms" in done.stdout
