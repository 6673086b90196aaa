"""How fast the web client feels, measured in Debian's Chromium against a real clusterd and
real elektrad processes (started as in tests/web/stack.py):

- first paint: from opening an instance's page (logged in) until its tree shows the keys;
- expand: from a click on a level with 100 children until they are on screen;
- live: from `kdb set` on the host (the KDB library, in this process) until the new value is
  on screen, through elektrad's change feed, clusterd and `/zmq/events`; on the smallest and
  on the largest instance, so that each run compares the two.

Instances hold 1k, 10k and 100k keys below `user:/bench` (100 per level). Aims (issues 5, 10):
first paint under 1 s at 100k keys, live change on screen under 200 ms p50 at 100k keys.

    python bench/webui.py [--sizes 1000,10000,100000] [--rounds 5] [--live 20]

Prints a table and writes bench/results/webui.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # tests.web.stack and its `support`

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.web.stack import ADMIN_PASSWORD, Instance, Stack  # noqa: E402

from elektraweb.kdb import KDB, Key  # noqa: E402
from elektraweb.kdb.mounts import Paths  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "webui.json"
PER_LEVEL = 100
LIVE_KEY = "user:/bench/g0000/k00"

# Resolves with performance.now() when `selector` matches, watching the DOM as it changes.
WAIT_FOR = """
(selector) => new Promise((resolve) => {
  const found = () => document.querySelector(selector)
  if (found()) return resolve(performance.now())
  const observer = new MutationObserver(() => {
    if (found()) { observer.disconnect(); resolve(performance.now()) }
  })
  observer.observe(document.body, {childList: true, subtree: true, characterData: true})
})
"""

# Leaves in window.seen a promise of Date.now() when the row of `path` shows `value`.
WATCH_FOR_VALUE = """
([path, value]) => { window.seen = new Promise((resolve) => {
  const cell = () => document.querySelector(`[data-path="${path}"] .key-value`)
  const shown = () => cell()?.textContent === value
  const observer = new MutationObserver(() => {
    if (shown()) { observer.disconnect(); resolve(Date.now()) }
  })
  observer.observe(document.body, {childList: true, subtree: true, characterData: true})
}) }
"""


def kdb_of(instance: Instance) -> KDB:
    environ = {"KDB_ROOT": str(instance.root), "HOME": str(instance.home)}
    return KDB(Paths.from_environ(environ, cwd=instance.home))


def fill(instance: Instance, count: int) -> None:
    kdb = kdb_of(instance)
    keys = kdb.get("user:/bench")
    for index in range(count):
        level, leaf = divmod(index, PER_LEVEL)
        keys.add(Key(f"user:/bench/g{level:04d}/k{leaf:02d}", str(index)))
    kdb.set(keys, "user:/bench")


def log_in(page: Page) -> None:
    page.goto("/")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector(".connection[data-state=open]")


def first_paint_and_expand(page: Page, instance: Instance) -> tuple[float, float]:
    """Milliseconds from navigation to the bench level on screen, and to expand a level."""
    page.goto("about:blank")
    page.goto(f"/#/instances/{instance.id}")
    painted = page.evaluate(WAIT_FOR, '[data-path="user:/bench"]')
    page.locator('[data-path="user:/bench"] .twisty').click()
    page.wait_for_selector('[data-path="user:/bench/g0000"]')
    started = page.evaluate(
        "() => { const t = performance.now();"
        " document.querySelector('[data-path=\"user:/bench/g0000\"] .twisty').click();"
        " return t }"
    )
    expanded = page.evaluate(WAIT_FOR, '[data-path="user:/bench/g0000/k00"]')
    return painted, expanded - started


def live_latency(page: Page, instance: Instance, rounds: int) -> list[float]:
    page.locator(f'[data-path="{LIVE_KEY}"]').wait_for()
    kdb = kdb_of(instance)
    latencies = []
    for round_ in range(rounds):
        value = f"live-{round_}"
        page.evaluate(WATCH_FOR_VALUE, [LIVE_KEY, value])
        keys = kdb.get(LIVE_KEY)
        keys.add(Key(LIVE_KEY, value))
        started = time.time() * 1000
        kdb.set(keys, LIVE_KEY)
        latencies.append(page.evaluate("window.seen") - started)
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(sizes: list[int], rounds: int, live_rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {"sizes": {}, "live": {}}
    with tempfile.TemporaryDirectory(prefix="webui-bench-") as base:
        stack = Stack(Path(base))
        try:
            stack.start_clusterd()
            instances = {}
            for size in sizes:
                instance = stack.add_instance(f"bench-{size}", sample=False)
                fill(instance, size)
                instances[size] = instance
            for instance in instances.values():
                stack.register(instance)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(base_url=stack.url, viewport={"width": 1360, "height": 860})
                log_in(page)
                for size, instance in instances.items():
                    timings = [first_paint_and_expand(page, instance) for _ in range(rounds)]
                    results["sizes"][str(size)] = {
                        "first_paint_ms": [round(paint, 1) for paint, _ in timings],
                        "expand_ms": [round(expand, 1) for _, expand in timings],
                    }
                for size in sorted({min(sizes), max(sizes)}):
                    page.goto("about:blank")
                    page.goto(f"/#/instances/{instances[size].id}")
                    page.locator('[data-path="user:/bench"] .twisty').click()
                    page.locator('[data-path="user:/bench/g0000"] .twisty').click()
                    latencies = live_latency(page, instances[size], live_rounds)
                    results["live"][str(size)] = [round(v, 1) for v in latencies]
                browser.close()
        finally:
            stack.stop()
    return results


def report(results: dict[str, Any]) -> None:
    print(f"{'keys':>8} {'first paint p50':>16} {'max':>8} {'expand p50':>11} {'max':>8}")
    for size, timing in results["sizes"].items():
        paints, expands = timing["first_paint_ms"], timing["expand_ms"]
        print(
            f"{int(size):>8} {statistics.median(paints):>13.0f} ms {max(paints):>5.0f} ms"
            f" {statistics.median(expands):>8.0f} ms {max(expands):>5.0f} ms"
        )
    for size, live in results["live"].items():
        print(
            f"live change on screen at {int(size)} keys ({len(live)} x kdb set):"
            f" p50 {percentile(live, 0.5):.0f} ms, p90 {percentile(live, 0.9):.0f} ms,"
            f" max {max(live):.0f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=5, help="page opens per size")
    parser.add_argument("--live", type=int, default=20, help="kdb set rounds")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    results = run(sizes, options.rounds, options.live)
    report(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
