"""Benchmark the regex defences (issue 8 item 2): pathological find patterns, and everyone else.

    .venv/bin/python bench/search.py                 # 2 s per phase, 2000 keys
    .venv/bin/python bench/search.py --seconds 0.5   # a quick run

Real processes on 127.0.0.1 (bench/clusterd.py's Fleet): clusterd and one elektrad, the
instance the only member of a cluster whose desired state holds --keys keys, one of them
``user:/bench/victim = "a" * 40 + "!"``, the value that made Python's re backtrack for hours.

- answer time: each pathological pattern by find on the cluster (clusterd searches) and on
  the instance (elektrad searches), --repeats times each; the slowest answer is the figure.
- others meanwhile: ``GET .../kdb/<key>`` on the instance, once alone (the peer) and once
  while --in-flight pathological finds run without pause; p50 and p99 of both.

Aims (issue 8): a pathological pattern answers within 1 s; other requests stay under 100 ms
at p99 meanwhile. Prints a table and writes bench/results/search.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from clusterd import Api, Fleet, finish, percentiles_ms

RESULTS = Path(__file__).resolve().parent / "results" / "search.json"
PATHOLOGICAL = ["((.*)*)*!", "(a+)+$", "(a|aa)*b", "^(([a-z])+.)+[A-Z]([a-z])+$"]
VICTIM, VICTIM_VALUE = "user:/bench/victim", "a" * 40 + "!"
ANSWER_AIM_MS, OTHERS_P99_AIM_MS = 1000.0, 100.0


def find_path(target: str, pattern: str) -> str:
    return f"{target}/kdbFind/{quote(pattern, safe='')}?values=true"


async def answer_times(api: Api, targets: dict[str, str], repeats: int) -> list[dict[str, Any]]:
    rows = []
    for pattern in PATHOLOGICAL:
        for where, target in targets.items():
            took = []
            for _ in range(repeats):
                started = time.perf_counter()
                found = await api.call("GET", find_path(target, pattern))
                took.append(time.perf_counter() - started)
            p50, _ = percentiles_ms(took)
            rows.append(
                {"pattern": pattern, "on": where, "p50_ms": p50, "max_ms": max(took) * 1e3,
                 "matches": len(found["keys"]), "budget_exceeded": found["budget_exceeded"]}
            )  # fmt: skip
    return rows


async def others(api: Api, path: str, seconds: float) -> list[float]:
    latencies = []
    deadline = time.perf_counter() + seconds
    while not latencies or time.perf_counter() < deadline:
        started = time.perf_counter()
        await api.call("GET", path)
        latencies.append(time.perf_counter() - started)
    return latencies


async def others_meanwhile(
    api: Api, targets: dict[str, str], path: str, args: argparse.Namespace
) -> dict[str, Any]:
    finds = 0
    stop = asyncio.Event()

    async def attacker(lane: int) -> None:
        nonlocal finds
        paths = [find_path(target, each) for each in PATHOLOGICAL for target in targets.values()]
        while not stop.is_set():
            await api.call("GET", paths[(lane + finds) % len(paths)])
            finds += 1

    alone = await others(api, path, args.seconds)
    attackers = [asyncio.create_task(attacker(lane)) for lane in range(args.in_flight)]
    try:
        attacked = await others(api, path, args.seconds)
    finally:
        stop.set()
        await asyncio.gather(*attackers)
    rows = {}
    for name, latencies in (("alone", alone), ("during finds", attacked)):
        p50, p99 = percentiles_ms(latencies)
        rows[name] = {"requests": len(latencies), "p50_ms": p50, "p99_ms": p99}
    rows["finds_during"] = finds
    return rows


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = {name: str(value) for name, value in vars(args).items()}
    settings["load_average_before"] = str(os.getloadavg()[0])
    with tempfile.TemporaryDirectory(prefix="bench-search-") as temp:
        fleet = Fleet(Path(temp))
        try:
            _, url, keypair = await fleet.clusterd("clusterd")
            host = await fleet.elektrad("host", keypair.public)
            api = await Api.login(url)
            try:
                new = {"name": "host", "endpoint": host.endpoint, "public_key": host.public_key}
                instance = (await api.call("POST", "/api/instances", new, expect=201))["id"]
                cluster = (await api.call("POST", "/api/clusters", {"name": "c"}, expect=201))["id"]
                await api.call(
                    "POST", f"/api/clusters/{cluster}/instances", {"instance": instance}, expect=201
                )
                keys = [{"name": f"user:/bench/k{i}", "value": "b" * 64} for i in range(args.keys)]
                keys.append({"name": VICTIM, "value": VICTIM_VALUE})
                root = f"/api/clusters/{cluster}/kdbAll/{quote('user:/bench', safe='')}"
                await api.call("PUT", root, {"keys": keys})
                targets = {
                    "cluster": f"/api/clusters/{cluster}",
                    "instance": f"/api/instances/{instance}",
                }
                report: dict[str, Any] = {"settings": settings}
                report["answer"] = await answer_times(api, targets, args.repeats)
                get = f"/api/instances/{instance}/kdb/{quote(VICTIM, safe='')}"
                report["others"] = await others_meanwhile(api, targets, get, args)
            finally:
                await api.session.close()
        finally:
            await fleet.stop()
    slowest = max(row["max_ms"] for row in report["answer"])
    p99 = report["others"]["during finds"]["p99_ms"]
    report["aims"] = [
        {"aim": "pathological find answers (slowest, ms)", "value": slowest,
         "limit": ANSWER_AIM_MS, "met": slowest < ANSWER_AIM_MS},
        {"aim": "others p99 during finds (ms)", "value": p99,
         "limit": OTHERS_P99_AIM_MS, "met": p99 < OTHERS_P99_AIM_MS},
    ]  # fmt: skip
    settings["load_average_after"] = str(os.getloadavg()[0])
    return report


def print_report(report: dict[str, Any]) -> None:
    print(f"\n{'pattern':32}{'on':>10}{'p50 ms':>10}{'max ms':>10}{'matches':>9}  budget hit")
    for row in report["answer"]:
        print(
            f"{row['pattern']:32}{row['on']:>10}{row['p50_ms']:>10.2f}{row['max_ms']:>10.2f}"
            f"{row['matches']:>9}  {'yes' if row['budget_exceeded'] else 'no'}"
        )
    others = report["others"]
    print(f"\n{'GET of a key':32}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for name in ("alone", "during finds"):
        row = others[name]
        print(f"{name:32}{row['requests']:>10}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}")
    print(f"({others['finds_during']} pathological finds answered meanwhile)")
    print(f"\n{'aim':44}{'value':>10}{'limit':>8}  met")
    for aim in report["aims"]:
        met = "yes" if aim["met"] else "NO"
        print(f"{aim['aim']:44}{aim['value']:>10.2f}{aim['limit']:>8.1f}  {met}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per latency phase")
    parser.add_argument("--keys", type=int, default=2000, help="keys in the cluster")
    parser.add_argument("--repeats", type=int, default=5, help="finds per pattern and target")
    parser.add_argument("--in-flight", type=int, default=4, help="pathological finds at once")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()
    return finish(lambda: run(args), print_report, args.output)


if __name__ == "__main__":
    sys.exit(main())
