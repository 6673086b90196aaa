"""Benchmark REST through clusterd against its peer, etcd, under the same wrk load.

    .venv/bin/python bench/peer.py                       # 10 s per row, 1 and 64 connections
    .venv/bin/python bench/peer.py --seconds 3           # a quick run
    .venv/bin/python bench/peer.py --ops put             # puts only
    .venv/bin/python bench/peer.py --floor               # and a bare aiohttp server

Needs wrk and etcd on PATH; they are benchmark tools only, so `make install` leaves them out:

    apt-get install wrk etcd-server

Real processes on 127.0.0.1, each in a temporary directory on the same file system: one
clusterd with one elektrad behind it (CURVE on the link, both daemons at their default log
level), its small KDB, and an API token; one etcd (Debian's, default options, so every put is
fdatasync'd before it is answered; every clusterd put is fsync'd in the host's file and in the
audit log before its 200). Both are driven by the same wrk script, bench/peer.lua, with the
same threads and connections: a get or a put of one of KEYS keys in turn, a new value per put.
etcd's rows use its JSON gateway (POST /v3/kv/range and /v3/kv/put), clusterd's
``GET/PUT /api/instances/<id>/kdb/<key>`` with ``Authorization: Bearer``.

Each row also has the CPU time the peer's processes spent per request (clusterd's: clusterd
and its elektrad together), which tells what limits a rate on a shared machine, and the time
their threads spent runnable but waiting for a core (the kernel's schedstat run delay): on a
loaded machine that wait, not the work, can be most of a request's latency.

With --floor, a third peer: bench/aiohttp_floor.py, a bare aiohttp server with one route and
nothing behind it (no middleware, no token, no daemon link, no file), driven the same way. Its
CPU per request is what aiohttp alone costs a request here, which clusterd pays before its own
work: against etcd's, it tells whether an aim is within reach of any aiohttp server. It also
measures the storage floor of a durable put (bench/durable_floor.py) on the same file system:
what a put with one connection waits for the disk however fast the daemons are, and so the
highest ratio to etcd's put with one connection that this durability leaves.

Aims (issue 10, item 1): clusterd at least 1.0x etcd's requests per second with 64
connections and at least 0.5x with one. Prints the table and writes bench/results/peer.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import durable_floor
from clusterd import Api, Fleet, cpu_seconds, finish, print_load, register
from elektrad import b64, free_port, start_etcd, stop
from errors import BenchError

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "peer.lua"
FLOOR = HERE / "aiohttp_floor.py"
RESULTS = HERE / "results" / "peer.json"
KEYS = 64
FLOOR_ROUNDS = 200
AIMS = {1: 0.5, 64: 1.0}  # connections: least clusterd/etcd ratio (issue 10)
_LATENCY_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class Row:
    peer: str
    op: str
    connections: int
    per_second: float
    average_ms: float
    requests: int
    cpu_us: float  # CPU time of the peer's processes (clusterd: with its elektrad) per request
    cpu_us_each: list[float]  # the same per process (clusterd: clusterd, then elektrad)
    waited_us: float  # time their threads waited for a core per request


def parse_wrk(output: str) -> tuple[float, float, int]:
    """Requests per second, average latency in ms and request count from wrk's report."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    average = re.search(r"Latency\s+([\d.]+)(us|ms|s)\b", output)
    count = re.search(r"(\d+) requests in", output)
    if rate is None or average is None or count is None:
        raise BenchError(f"wrk printed no report:\n{output}")
    if "Non-2xx" in output or "Socket errors" in output:
        raise BenchError(f"wrk saw failed requests:\n{output}")
    return float(rate[1]), float(average[1]) * _LATENCY_UNITS[average[2]], int(count[1])


async def wrk(url: str, connections: int, seconds: float, *script_args: str) -> str:
    threads = min(connections, os.cpu_count() or 1)
    process = await asyncio.create_subprocess_exec(
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency",
        "-s", str(SCRIPT), url, "--", *script_args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    text = output.decode()
    if process.returncode != 0 or "unexpected status" in text:
        raise BenchError(f"wrk failed:\n{text}")
    return text


def waited_seconds(pid: int) -> float:
    """How long the threads of process `pid` were runnable but not running, in all."""
    return (
        sum(
            int(stat.read_text().split()[1])
            for stat in Path(f"/proc/{pid}/task").glob("*/schedstat")
        )
        / 1e9
    )


async def measure(
    peer: str,
    pids: list[int],
    url: str,
    op: str,
    connections: int,
    args: argparse.Namespace,
    *extra: str,
) -> Row:
    cpu_before = [cpu_seconds(pid) for pid in pids]
    waited_before = sum(waited_seconds(pid) for pid in pids)
    output = await wrk(url, connections, args.seconds, peer, op, str(KEYS), *extra)
    rate, average, count = parse_wrk(output)
    cpu_us_each = [
        (cpu_seconds(pid) - before) / count * 1e6
        for pid, before in zip(pids, cpu_before, strict=True)
    ]
    cpu_us = sum(cpu_us_each)
    waited_us = (sum(waited_seconds(pid) for pid in pids) - waited_before) / count * 1e6
    row = Row(peer, op, connections, rate, average, count, cpu_us, cpu_us_each, waited_us)
    print(
        f"  {peer:9}{op:4}{connections:4} connections: {rate:8.0f}/s  "
        f"average {average:7.2f} ms  CPU {cpu_us:6.0f} us"
        f" ({' + '.join(f'{each:.0f}' for each in cpu_us_each)}),"
        f" waited for a core {waited_us:6.0f} us per request",
        flush=True,
    )
    return row


async def fill_etcd(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _attempt in range(100):
            try:
                async with session.post(f"{url}/v3/kv/put", json={"key": b64("ready")}) as answer:
                    answer.raise_for_status()
                break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        else:
            raise BenchError(f"etcd at {url} did not answer")
        for index in range(KEYS):
            body = {"key": b64(f"user:/bench/peer/k{index}"), "value": b64("0")}
            async with session.post(f"{url}/v3/kv/put", json=body) as answer:
                answer.raise_for_status()


async def start_floor() -> tuple[subprocess.Popen[bytes], str]:
    """bench/aiohttp_floor.py on a free loopback port, once it answers."""
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [sys.executable, str(FLOOR), url.rpartition(":")[2]],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    async with aiohttp.ClientSession() as session:
        for _attempt in range(100):
            try:
                async with session.get(f"{url}/ready") as answer:
                    answer.raise_for_status()
                return process, url
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    stop(process)
    raise BenchError(f"the aiohttp floor at {url} did not answer")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    for tool in ("wrk", *(() if args.no_etcd else ("etcd",))):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} is not installed: apt-get install wrk etcd-server")
    settings = {name: value for name, value in vars(args).items() if name != "output"}
    settings["load_average_before"] = os.getloadavg()[0]
    rows: list[Row] = []
    report: dict[str, Any] = {"settings": settings}
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as temp:
        base = Path(temp)
        if args.floor:  # first, while nothing else of the run is busy
            (base / "durable").mkdir()
            report["durable_floor"] = durable_floor.measure(base / "durable", FLOOR_ROUNDS)
        fleet = Fleet(base)
        etcd = floor = None
        try:
            daemon, url, keypair = await fleet.clusterd("clusterd")
            host = await fleet.elektrad("host", keypair.public)
            api = await Api.login(url)
            try:
                await register(api, host, "host")
                prefix = f"/api/instances/{host.instance_id}"
                for index in range(KEYS):
                    await api.call("PUT", f"{prefix}/kdb/user:/bench/peer/k{index}", "0")
                token = api.session.headers["Authorization"].removeprefix("Bearer ")
            finally:
                await api.session.close()
            daemon_pids = [pid for pid in (daemon.pid, host.daemon.pid) if pid is not None]
            if not args.no_etcd:
                etcd, etcd_url = start_etcd(base)
                await fill_etcd(etcd_url)
            if args.floor:
                floor, floor_url = await start_floor()
            # Peers take turns per row: a shared machine's load then falls on both alike.
            for op in args.ops:
                for connections in args.connections:
                    if etcd is not None:
                        rows.append(
                            await measure("etcd", [etcd.pid], etcd_url, op, connections, args)
                        )
                    rows.append(
                        await measure(
                            "clusterd", daemon_pids, url, op, connections, args, token, prefix
                        )
                    )
                    if floor is not None:
                        rows.append(
                            await measure(
                                "aiohttp",
                                [floor.pid],
                                floor_url,
                                op,
                                connections,
                                args,
                                token,
                                prefix,
                            )
                        )
        finally:
            for process in (etcd, floor):
                if process is not None:
                    stop(process)
            await fleet.stop()
    settings["load_average_after"] = os.getloadavg()[0]
    return {**report, "rows": [asdict(row) for row in rows], "ratios": ratios(rows)}


def ratios(rows: list[Row]) -> list[dict[str, Any]]:
    """Each peer's rate over etcd's, per op and connections, with clusterd's aims."""
    rate = {(row.peer, row.op, row.connections): row.per_second for row in rows}
    found = []
    for (peer, op, connections), ours in rate.items():
        theirs = rate.get(("etcd", op, connections))
        if peer == "etcd" or theirs is None:
            continue
        aim = AIMS.get(connections) if peer == "clusterd" else None
        ratio = ours / theirs
        found.append({
            "peer": peer, "op": op, "connections": connections, "ratio": ratio, "aim": aim,
            "met": None if aim is None else ratio >= aim,
        })  # fmt: skip
    return found


def print_report(report: dict[str, Any]) -> None:
    print_load(report["settings"])
    rows = {(row["peer"], row["op"], row["connections"]): row for row in report["rows"]}
    print(
        f"{'load':35}{'etcd req/s':>12}{'peer req/s':>12}{'(avg ms)':>10}{'ratio':>7}"
        f"{'CPU us/req etcd':>17}{'peer':>8}{'waited us/req etcd':>20}{'peer':>8}  aim"
    )
    for (peer, op, connections), row in rows.items():
        if peer == "etcd":
            continue
        etcd = rows.get(("etcd", op, connections))
        ratio = next(
            (
                r
                for r in report["ratios"]
                if (r["peer"], r["op"], r["connections"]) == (peer, op, connections)
            ),
            None,
        )
        label = f"{peer} {op}, {connections} connection" + "s" * (connections > 1)
        print(
            f"{label:35}"
            f"{etcd['per_second'] if etcd else float('nan'):>12,.0f}"
            f"{row['per_second']:>12,.0f}{row['average_ms']:>10.2f}"
            f"{ratio['ratio'] if ratio else float('nan'):>7.2f}"
            f"{etcd['cpu_us'] if etcd else float('nan'):>17.0f}{row['cpu_us']:>8.0f}"
            f"{etcd['waited_us'] if etcd else float('nan'):>20.0f}{row['waited_us']:>8.0f}  "
            + (
                ""
                if ratio is None or ratio["aim"] is None
                else f"{ratio['aim']:.1f} {'met' if ratio['met'] else 'NOT met'}"
            )
        )
    floor = report.get("durable_floor")
    if floor is not None:
        print(f"\n{durable_floor.describe(floor)}")
        etcd_put = rows.get(("etcd", "put", 1))
        if etcd_put is not None:
            highest = etcd_put["average_ms"] * 1000 / floor["put_us"]
            print(
                f"etcd's put with one connection: {etcd_put['average_ms'] * 1000:,.0f} us;"
                f" the most a put with this durability can reach: {highest:.2f}x etcd"
                f" (aim {AIMS[1]:.1f})"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per row (default 10)")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 64], help="default: 1 64")
    parser.add_argument(
        "--ops", nargs="+", choices=("get", "put"), default=["get", "put"], help="default: get put"
    )
    parser.add_argument("--no-etcd", action="store_true", help="measure clusterd alone")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure a bare aiohttp server (bench/aiohttp_floor.py)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()
    try:
        return finish(lambda: run(args), print_report, args.output)
    except BenchError as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
