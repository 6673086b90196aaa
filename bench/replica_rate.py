"""The REST get rate through three clusterd replicas against one (issue 11, item 5): the lane
``bench/replicas.py --lane rest``.

Real processes on 127.0.0.1: a throwaway PostgreSQL (tests/support/postgres.py), three clusterd
replicas on one database with one cluster identity (the first replica's CURVE keypair copied
into each replica's own state directory, as docs/deploy.md "Adding a replica" says), one
elektrad with a small KDB (KEYS keys) in one cluster. wrk and bench/peer.lua send the gets with
an API token; "3 replicas" runs one wrk per replica at once, the same total connections split
among them (64 -> 22/21/21). Two targets: ``/api/instances/<id>/kdb/<key>``, which every
replica forwards to the one elektrad, and ``/api/clusters/<id>/kdb/<key>``, which a replica
answers from the cluster's desired state in the database and which never reaches elektrad.
Each row has the CPU time per request of the clusterds, elektrad, PostgreSQL (the server and
its backends, also those that ended) and wrk, and how many of the machine's cores they kept
busy together: near the core count, the machine is the ceiling, not clusterd.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from clusterd import PASSWORD, Api, Fleet, cpu_seconds, print_load, register
from cpu_quota import CpuQuotas
from errors import BenchError
from peer import parse_wrk, wrk

from elektraweb.demo import processes
from elektraweb.wire.keys import ensure_keypair

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.postgres import PostgresServer, start_server

REPLICAS = ("a", "b", "c")
KEYS = 64
AIM = 2.0  # three replicas' combined get rate over one replica's (issue 11, item 5)
IDENTITY = ("curve.key", "curve.key_secret")


@dataclass
class Row:
    target: str  # "instance" (through elektrad) or "cluster" (desired state, no elektrad)
    replicas: int
    connections: list[int]  # per replica
    per_second: float  # all wrk processes together
    average_ms: float  # weighted by each wrk's requests
    requests: int
    cpu_us: dict[str, float]  # per request: clusterd (all replicas), elektrad, postgresql, wrk
    busy: dict[str, float]  # CPU seconds over wall seconds: each replica's, elektrad's, all's


def split(total: int, parts: int) -> list[int]:
    """`total` connections over `parts` replicas as evenly as can be: 64, 3 -> 22, 21, 21."""
    return [total // parts + (index < total % parts) for index in range(parts)]


def postgres_cpu_seconds(server: PostgresServer) -> float:
    """CPU time of the server and its backends, with the ended ones (the postmaster's children
    time)."""
    postmaster = int((server.directory / "data" / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile: its time is in the postmaster's children time now
            continue
        if int(entry.name) == postmaster:
            total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
        if int(entry.name) == postmaster or int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wrk_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk processes, once waited for
    return usage.ru_utime + usage.ru_stime


class Stack:
    """The replicas' URLs, the pids whose CPU counts, and the paths of both targets."""

    def __init__(self, server: PostgresServer, urls: list[str], clusterd: list[int], elektrad: int):
        self.server, self.urls, self.clusterd, self.elektrad = server, urls, clusterd, elektrad
        self.prefixes: dict[str, str] = {}
        self.token = ""

    def cpu(self) -> dict[str, float]:
        return {
            "clusterd": sum(cpu_seconds(pid) for pid in self.clusterd),
            "elektrad": cpu_seconds(self.elektrad),
            "postgresql": postgres_cpu_seconds(self.server),
            "wrk": wrk_cpu_seconds(),
        }

    async def measure(self, target: str, connections: list[int], seconds: float) -> Row:
        before, started = self.cpu(), time.perf_counter()
        outputs = await asyncio.gather(*(
            wrk(url, count, seconds, "clusterd", "get", str(KEYS), self.token,
                self.prefixes[target])
            for url, count in zip(self.urls, connections, strict=False)
        ))  # fmt: skip
        wall = time.perf_counter() - started
        after = self.cpu()
        reports = [parse_wrk(output) for output in outputs]
        requests = sum(count for _, _, count in reports)
        spent = {name: after[name] - before[name] for name in before}
        row = Row(
            target,
            len(connections),
            connections,
            sum(rate for rate, _, _ in reports),
            sum(average * count for _, average, count in reports) / requests,
            requests,
            {name: seconds_ / requests * 1e6 for name, seconds_ in spent.items()},
            {
                # A replica serves on one event loop, elektrad too: near 1.0, that process is
                # the ceiling; all near the core count, the machine is.
                "replica": spent["clusterd"] / len(connections) / wall,
                "elektrad": spent["elektrad"] / wall,
                "all": sum(spent.values()) / wall,
            },
        )
        print(
            f"  {target:9}{row.replicas} replica{'s' * (row.replicas > 1):2}"
            f"{'/'.join(map(str, connections)):>9} connections: {row.per_second:7.0f}/s  "
            f"{row.busy['all']:4.2f} cores busy",
            flush=True,
        )
        return row


async def start_replicas(fleet: Fleet, dsn: str) -> tuple[list[str], list[int], str]:
    """Three clusterd on one database and one identity: URLs, pids, the identity's public key."""
    first = fleet.base / "clusterd-a"
    keypair = ensure_keypair(first)
    urls, pids = [], []
    for name in REPLICAS:  # one after the other: the first makes the tables and the admin
        state = fleet.base / f"clusterd-{name}"
        if state != first:
            state.mkdir()
            for file in IDENTITY:
                shutil.copy2(first / file, state / file)
        daemon = processes.clusterd(
            http="127.0.0.1:0",
            state=state,
            admin_password=PASSWORD,
            log_path=fleet.base / f"clusterd-{name}.log",
            options=["--database", dsn, "--replica-id", name],
        )
        fleet.daemons.append(daemon)
        urls.append((await daemon.start())["url"])
        assert daemon.pid is not None
        pids.append(daemon.pid)
    return urls, pids, keypair.public


async def prepare(stack: Stack, fleet: Fleet, identity: str) -> None:
    """Start the host allowing `identity`, register it, make a cluster of it, set KEYS keys
    through the cluster, and take the API token."""
    api = await Api.login(stack.urls[0])
    try:
        host = await fleet.elektrad("host", identity)
        stack.elektrad = host.daemon.pid or 0
        await register(api, host, "host")
        cluster = (await api.call("POST", "/api/clusters", {"name": "bench"}, expect=201))["id"]
        body = {"instance": host.instance_id}
        await api.call("POST", f"/api/clusters/{cluster}/instances", body, expect=201)
        stack.prefixes = {
            "instance": f"/api/instances/{host.instance_id}",
            "cluster": f"/api/clusters/{cluster}",
        }
        for index in range(KEYS):
            await api.call("PUT", f"/api/clusters/{cluster}/kdb/user:/bench/peer/k{index}", "0")
        stack.token = api.session.headers["Authorization"].removeprefix("Bearer ")
    finally:
        await api.session.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    settings = {
        "seconds": args.seconds,
        "connections": args.connections,
        "keys": KEYS,
        "replica_cpu": args.replica_cpu,
    }
    quotas = CpuQuotas(args.replica_cpu, "--replica-cpu") if args.replica_cpu else None
    settings["load_average_before"] = os.getloadavg()[0]
    rows: list[Row] = []
    servers = start_server()
    server = next(servers)
    try:
        dsn = server.create_database("bench")
        with tempfile.TemporaryDirectory(prefix="bench-replicas-") as temp:
            fleet = Fleet(Path(temp))
            try:
                urls, pids, identity = await start_replicas(fleet, dsn)
                if quotas is not None:
                    for name, pid in zip(REPLICAS, pids, strict=True):
                        quotas.confine(pid, name)
                stack = Stack(server, urls, pids, 0)
                await prepare(stack, fleet, identity)
                # One replica and three take turns per row: a shared machine's load then
                # falls on both alike.
                for target in ("instance", "cluster"):
                    for total in (args.connections, 0):
                        one = [total or 1]
                        three = split(total, len(REPLICAS)) if total else [1] * len(REPLICAS)
                        for connections in (one, three):
                            rows.append(await stack.measure(target, connections, args.seconds))
            finally:
                await fleet.stop()
                if quotas is not None:
                    quotas.release()
    finally:
        servers.close()
    settings["load_average_after"] = os.getloadavg()[0]
    return {"settings": settings, "rows": [asdict(row) for row in rows], "ratios": ratios(rows)}


def ratios(rows: list[Row]) -> list[dict[str, Any]]:
    """Three replicas' rate over one's, per target and load; the aim holds for each. With it
    the most the machine's cores allow: all of them busy at the three replicas' CPU per
    request, over one replica's rate."""
    found = []
    cores = os.cpu_count() or 1
    for one, three in zip(rows[::2], rows[1::2], strict=True):
        ratio = three.per_second / one.per_second
        ceiling = cores / (sum(three.cpu_us.values()) / 1e6) / one.per_second
        found.append({
            "target": one.target, "connections": sum(three.connections), "ratio": ratio,
            "aim": AIM, "met": ratio >= AIM, "cores_ceiling": ceiling,
        })  # fmt: skip
    return found


def print_report(report: dict[str, Any]) -> None:
    print_load(report["settings"])
    print(
        f"{'get through':13}{'replicas':>9}{'connections':>13}{'req/s':>9}{'avg ms':>8}"
        f"{'CPU us/req: clusterd':>22}{'elektrad':>9}{'postgres':>9}{'wrk':>6}"
        f"{'busy: replica':>15}{'elektrad':>9}{'all':>6}"
    )
    for row in report["rows"]:
        cpu = row["cpu_us"]
        print(
            f"{row['target']:13}{row['replicas']:>9}{'/'.join(map(str, row['connections'])):>13}"
            f"{row['per_second']:>9,.0f}{row['average_ms']:>8.2f}{cpu['clusterd']:>22.0f}"
            f"{cpu['elektrad']:>9.0f}{cpu['postgresql']:>9.0f}{cpu['wrk']:>6.0f}"
            f"{row['busy']['replica']:>15.2f}{row['busy']['elektrad']:>9.2f}{row['busy']['all']:>6.2f}"
        )
    share = report["settings"]["replica_cpu"]
    print(
        f"busy: CPU seconds per wall second of each replica, of elektrad, of all of them on "
        f"{os.cpu_count()} cores"
        + (f"; each replica capped at {share:g} of a core" if share else "")
        + f"\n\nthree replicas over one (aim {AIM:.1f}):"
    )
    for ratio in report["ratios"]:
        print(
            f"  {ratio['target']:9}{ratio['connections']:3} connections: {ratio['ratio']:5.2f}"
            f"  {'met' if ratio['met'] else 'NOT met'}"
            + ("" if share else f"   (all cores busy would give {ratio['cores_ceiling']:.2f})")
        )
