"""Benchmark clusterd: the cost of its hop, fan-out to clusters, live events, registry memory.

    .venv/bin/python bench/clusterd.py                                   # clusters of 1, 10, 50
    .venv/bin/python bench/clusterd.py --cluster-sizes 1,10 --seconds 1  # a quick run
    .venv/bin/python bench/clusterd.py --only-fanout --cluster-sizes 1,10 --fanout-sets 100

Real processes on 127.0.0.1, each daemon in a temporary directory, CURVE on every daemon link,
both daemons at their default log level (INFO: one line per request):

- hop: get and set of one key through clusterd, by REST (aiohttp) and by ZWS 2.0 on /zmq
  (aiohttp's WebSocket client speaking the framing of docs/websocket.md), next to the same
  operation sent straight to elektrad by the wire client (ZmqTransport, with clusterd's own
  keypair), with 1 and --in-flight requests in flight, each on a key of its own.
  ``GET /api/version`` on both transports is the floor: a request that never leaves clusterd.
- fan-out: ``PUT /api/clusters/<id>/kdb/<key>`` on one cluster grown to each of
  --cluster-sizes members, one elektrad process each; every member must answer ``applied``.
  Each size's p50 and p99, its p50 over the p50 of one member, and the CPU time (utime + stime
  from /proc) clusterd and the elektrads spent per set. Its peer: the same set sent straight
  to every member at once by the wire client, the floor the machine allows that many elektrads
  (on 2 cores, 10 elektrads share them). --only-fanout measures nothing else. With
  --cpu-share, clusterd and each elektrad are confined to that share of one core, each in a
  cgroup of its own (bench/cpu_quota.py): every member a host of its own, as where the daemons
  run, in miniature, so the ratio shows what clusterd's fan-out adds, not what ten elektrads
  on two cores cost each other.
- change to subscriber: a set sent straight to elektrad (from the moment it is sent), and a
  ``kdb set`` on the host (from the moment its file was renamed into place, the file's ctime:
  the command's own start-up is not the system's latency), until the event arrives on
  clusterd's /zmq/events.
- registry: a second clusterd, empty and then with --registered instances registered as
  offline (no daemons behind them: their endpoints are closed loopback ports), its RSS and its
  CPU use while idle.

Aims (issues 4, 10): the hop adds at most 1 ms at p50; fan-out within 3x of fan-out to one;
change to subscriber under 100 ms at p50. Prints a table and writes bench/results/clusterd.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from cpu_quota import CpuQuotas
from errors import BenchError

from elektraweb.cluster.clusters.configuration import TRIM_INTERVAL_SECONDS
from elektraweb.demo import processes
from elektraweb.demo.processes import Daemon, StartFailed
from elektraweb.wire.client import ClientOptions, ZmqTransport
from elektraweb.wire.keys import KeyPair, ensure_keypair

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "clusterd.json"
KDB_COMMAND = Path(sys.prefix) / "bin" / "kdb"
PASSWORD = "bench-clusterd-admin"
LANE_KEY = "user:/bench/key"  # + lane number: every request in flight has a key of its own
FAN_KEY = "user:/bench/fan"
DIRECT_KEY = "user:/bench/direct"  # no cluster's: set straight to members as the fan-out's peer
START_BATCH = 4  # elektrads started at once: each start costs a second of CPU
REQUEST_TIMEOUT = 60.0
EVENT_TIMEOUT = 5.0
ZWS_LAST, ZWS_MORE = b"\x00", b"\x01"
HOP_AIM_MS, FANOUT_AIM_RATIO, EVENT_AIM_MS = 1.0, 3.0, 100.0


@dataclass
class Latency:
    name: str  # what was measured, e.g. "rest set"
    in_flight: int
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float


def percentiles_ms(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1e3, p99 * 1e3


Call = Callable[[int, int], Awaitable[object]]  # (lane, serial)


def latency(name: str, in_flight: int, latencies: list[float], elapsed: float) -> Latency:
    p50, p99 = percentiles_ms(latencies)
    return Latency(name, in_flight, len(latencies), len(latencies) / elapsed, p50, p99)


async def interleave(calls: dict[str, Call], seconds: float) -> list[Latency]:
    """One call at a time, taking turns for ``seconds``: on a shared machine the load changes
    from second to second, and taking turns exposes every call to the same load."""
    latencies: dict[str, list[float]] = {name: [] for name in calls}
    deadline = time.perf_counter() + seconds
    serial = 0
    while serial == 0 or time.perf_counter() < deadline:
        for name, call in calls.items():
            started = time.perf_counter()
            await call(0, serial)
            latencies[name].append(time.perf_counter() - started)
        serial += 1
    return [latency(name, 1, found, sum(found)) for name, found in latencies.items()]


async def drive(name: str, call: Call, in_flight: int, seconds: float) -> Latency:
    """Keep ``in_flight`` calls running for ``seconds`` (each lane finishes its last call)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def lane(number: int) -> None:
        serial = 0
        while serial == 0 or time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(number, serial)
            latencies.append(time.perf_counter() - started)
            serial += 1

    started = time.perf_counter()
    await asyncio.gather(*(lane(number) for number in range(in_flight)))
    return latency(name, in_flight, latencies, time.perf_counter() - started)


def show(result: Latency) -> Latency:
    print(
        f"  {result.name:14} {result.in_flight:3} in flight: {result.per_second:7.0f}/s  "
        f"p50 {result.p50_ms:8.3f} ms  p99 {result.p99_ms:8.3f} ms",
        flush=True,
    )
    return result


def lane_key(lane: int) -> str:
    return f"{LANE_KEY}{lane}"


def rss_mb(pid: int | None, field: str = "VmRSS") -> float:
    """The process's resident memory now, or its peak so far with `field="VmHWM"`."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"{field}:\s+(\d+)", status)
    if found is None:
        raise BenchError(f"no {field} for process {pid}")
    return int(found[1]) / 1024


def resident_by_kind_mb(pid: int | None) -> dict[str, float]:
    """Where the process's resident memory is: the C heap's main arena (`[heap]`), other
    anonymous mappings (threads' arenas, buffers mapped apart, Python's object arenas) and
    files (the libraries), from /proc/<pid>/smaps."""
    kinds = {"c_heap": 0, "other_anonymous": 0, "files": 0}
    kind = "other_anonymous"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if fields[0] == "Rss:":
            kinds[kind] += int(fields[1])
        elif not fields[0].endswith(":"):  # a mapping's first line: range, ..., path if any
            path = fields[5] if len(fields) > 5 else ""
            kind = {"[heap]": "c_heap"}.get(path, "files" if path[:1] == "/" else "other_anonymous")
    return {name: kb / 1024 for name, kb in kinds.items()}


def cpu_seconds(pid: int | None) -> float:
    # Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the daemons ---------------------------------------------------------------------------


def free_port_pair() -> int:
    """A loopback port that is free, and so is the one 2 above it (elektrad's events)."""
    while True:
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            try:
                second.bind(("127.0.0.1", port + 2))
            except OSError:
                continue
            return port


@dataclass
class Host:
    """One elektrad with its own KDB, allowing clusterd's key."""

    daemon: Daemon
    base: Path
    endpoint: str
    public_key: str
    instance_id: int = 0

    def last_change(self) -> float:
        """When a file of this host's KDB last changed: the ctime of the newest, which an
        atomic write's rename sets (the kernel's coarse clock: up to a tick early)."""
        files = (path for path in (self.base / "kdb").rglob("*") if path.is_file())
        return max(path.stat().st_ctime_ns for path in files) / 1e9

    async def kdb(self, *args: str) -> None:
        env = {name: value for name, value in os.environ.items() if not name.startswith("KDB")}
        env.update(KDB_ROOT=str(self.base / "kdb"), HOME=str(self.base / "home"))
        process = await asyncio.create_subprocess_exec(
            str(KDB_COMMAND), *args, env=env, stdout=asyncio.subprocess.DEVNULL
        )
        if await process.wait() != 0:
            raise BenchError(f"kdb {' '.join(args)} failed on {self.base.name}")


class Fleet:
    """Every daemon the benchmark started, each below ``base``; `stop` ends them in parallel."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.daemons: list[Daemon] = []

    async def clusterd(self, name: str) -> tuple[Daemon, str, KeyPair]:
        state = self.base / name
        keypair = ensure_keypair(state)  # created before the start, so the bench can use it
        daemon = processes.clusterd(
            http="127.0.0.1:0",
            state=state,
            admin_password=PASSWORD,
            log_path=self.base / f"{name}.log",
        )
        self.daemons.append(daemon)
        url = (await daemon.start())["url"]
        return daemon, url, keypair

    async def elektrad(self, name: str, clusterd_key: str) -> Host:
        base = self.base / name
        for _attempt in range(3):  # another process may take the ports between probe and bind
            endpoint = f"tcp://127.0.0.1:{free_port_pair()}"
            daemon = processes.elektrad(
                name,
                endpoint=endpoint,
                kdb_root=base / "kdb",
                home=base / "home",
                state=base / "state",
                allow_key=clusterd_key,
                log_path=base / "elektrad.log",
            )
            self.daemons.append(daemon)
            try:
                key = (await daemon.start())["key"]
            except StartFailed:
                continue
            return Host(daemon, base, endpoint, key)
        raise BenchError(f"elektrad {name} did not start; see {base / 'elektrad.log'}")

    async def stop(self, daemons: list[Daemon] | None = None) -> None:
        stopping = self.daemons if daemons is None else daemons
        await asyncio.gather(*(daemon.stop() for daemon in stopping), return_exceptions=True)
        self.daemons = [daemon for daemon in self.daemons if daemon not in stopping]


# -- clients of clusterd -------------------------------------------------------------------


class Api:
    """REST calls with an API token; anything but the expected status is a `BenchError`."""

    def __init__(self, session: aiohttp.ClientSession, token: str = "") -> None:
        self.session = session
        self.token = token

    @classmethod
    async def login(cls, url: str) -> Api:
        """Log in with the admin's password (an argon2 check in clusterd) and make a token."""
        async with aiohttp.ClientSession(
            url,
            headers={"X-Requested-With": "bench"},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # keep the cookie of 127.0.0.1
        ) as login:
            await cls(login).call("POST", "/api/login", {"user": "admin", "password": PASSWORD})
            token = await cls(login).call("POST", "/api/tokens", {"name": "bench"}, expect=201)
        return cls.with_token(url, token["token"])

    @classmethod
    def with_token(cls, url: str, token: str) -> Api:
        """Call with a token made earlier: clusterd keeps it in its database, so it outlives
        a restart, and no password is checked."""
        headers = {"Authorization": f"Bearer {token}"}
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        return cls(aiohttp.ClientSession(url, headers=headers, timeout=timeout), token)

    async def call(self, method: str, path: str, body: Any = None, *, expect: int = 200) -> Any:
        async with self.session.request(method, path, json=body) as response:
            answer = await response.json()
            if response.status != expect:
                raise BenchError(f"{method} {path} answered {response.status}: {answer}")
            return answer


async def zws_connect(session: aiohttp.ClientSession, path: str) -> aiohttp.ClientWebSocketResponse:
    """Open a ZWS 2.0 socket: upgrade, then exchange (empty) routing ids."""
    ws = await session.ws_connect(path, protocols=("ZWS2.0",))
    if ws.protocol != "ZWS2.0":
        raise BenchError(f"{path} answered subprotocol {ws.protocol!r}, not ZWS2.0")
    routing_id = await ws.receive_bytes(timeout=EVENT_TIMEOUT)
    if routing_id[:1] != ZWS_LAST:
        raise BenchError(f"{path} sent a routing id with flag {routing_id[:1]!r}")
    await ws.send_bytes(ZWS_LAST)
    return ws


async def zws_messages(ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[list[bytes]]:
    """Yield each ZeroMQ message (its frame bodies) as it completes."""
    frames: list[bytes] = []
    async for message in ws:
        if message.type != aiohttp.WSMsgType.BINARY:
            return
        frames.append(message.data[1:])
        if message.data[:1] == ZWS_LAST:
            yield frames
            frames = []


class ZwsDealer:
    """A DEALER on /zmq: requests ``[id, JSON]`` matched to their replies by id."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._replies: dict[bytes, asyncio.Future[Any]] = {}
        self._sending = asyncio.Lock()  # the two frames of one request must not interleave
        self._serial = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession) -> ZwsDealer:
        return cls(await zws_connect(session, "/zmq"))

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        self._serial += 1
        request_id = str(self._serial).encode()
        request: dict[str, Any] = {"method": method, "path": path}
        if body is not None:
            request["body"] = body
        reply = asyncio.get_running_loop().create_future()
        self._replies[request_id] = reply
        try:
            async with self._sending:
                await self._ws.send_bytes(ZWS_MORE + request_id)
                await self._ws.send_bytes(ZWS_LAST + json.dumps(request).encode())
            async with asyncio.timeout(REQUEST_TIMEOUT):
                answer = await reply
        finally:
            del self._replies[request_id]
        if answer["status"] != 200:
            raise BenchError(f"zws {method} {path} answered {answer['status']}: {answer['body']}")
        return answer["body"]

    async def _read(self) -> None:
        async for frames in zws_messages(self._ws):
            reply = self._replies.get(frames[0])
            if reply is not None and not reply.done():
                reply.set_result(json.loads(frames[-1]))
        for reply in self._replies.values():
            if not reply.done():
                reply.set_exception(BenchError(f"/zmq closed ({self._ws.close_code})"))

    async def close(self) -> None:
        await self._ws.close()
        await self._reader


class ZwsSubscriber:
    """A SUB on /zmq/events; every event is queued with the moment it arrived (wall clock, to
    compare with file times)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._arrived: asyncio.Queue[tuple[float, str, Any]] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, prefix: str) -> ZwsSubscriber:
        ws = await zws_connect(session, "/zmq/events")
        await ws.send_bytes(ZWS_LAST + b"\x01" + prefix.encode())
        return cls(ws)

    async def _read(self) -> None:
        async for frames in zws_messages(self._ws):
            arrived = time.time()
            self._arrived.put_nowait((arrived, frames[0].decode(), json.loads(frames[1])))

    async def arrival(self, topic: str, value: str) -> float | None:
        """When the event setting `topic`'s key to `value` arrived; None if it did not."""
        try:
            async with asyncio.timeout(EVENT_TIMEOUT):
                while True:
                    arrived, got, event = await self._arrived.get()
                    if got == topic and (event.get("new") or {}).get("value") == value:
                        return arrived
        except TimeoutError:
            return None

    async def close(self) -> None:
        await self._ws.close()
        await self._reader


def kdb_path(target: str, key: str) -> str:
    return f"/api/{target}/kdb/{quote(key)}"


# -- the measurements ----------------------------------------------------------------------


async def bench_hop(
    api: Api, zws: ZwsDealer, link: ZmqTransport, host: Host, args: argparse.Namespace
) -> list[Latency]:
    target = f"instances/{host.instance_id}"
    for lane in range(args.in_flight):
        await link.request("set", {"key": lane_key(lane), "value": "0"})

    gets: dict[str, Call] = {
        "rest version": lambda _lane, _n: api.call("GET", "/api/version"),
        "zws version": lambda _lane, _n: zws.call("GET", "/api/version"),
        "direct get": lambda lane, _: link.request("get", {"key": lane_key(lane)}),
        "rest get": lambda lane, _: api.call("GET", kdb_path(target, lane_key(lane))),
        "zws get": lambda lane, _: zws.call("GET", kdb_path(target, lane_key(lane))),
    }
    sets: dict[str, Call] = {
        "direct set": lambda lane, n: link.request("set", {"key": lane_key(lane), "value": str(n)}),
        "rest set": lambda lane, n: api.call("PUT", kdb_path(target, lane_key(lane)), str(n)),
        "zws set": lambda lane, n: zws.call("PUT", kdb_path(target, lane_key(lane)), str(n)),
    }
    print("hop (one key; direct = the wire client straight to elektrad):", flush=True)
    results = []
    # Sets apart from gets: each set makes elektrad rescan its file a moment later.
    for calls in (gets, sets):
        await interleave(calls, min(0.3, args.seconds))  # warm up connections and caches
        results += [show(result) for result in await interleave(calls, args.seconds)]
    if args.in_flight > 1:
        for calls in (gets, sets):
            for name, call in calls.items():
                if not name.endswith("version"):  # the floor is about latency only
                    results.append(show(await drive(name, call, args.in_flight, args.seconds)))
    return results


def hop_p50_ms(results: list[Latency]) -> dict[str, float]:
    """What going through clusterd adds to the direct round trip, at p50, one in flight."""
    p50 = {r.name: r.p50_ms for r in results if r.in_flight == 1}
    return {
        f"{transport} {op}": p50[f"{transport} {op}"] - p50[f"direct {op}"]
        for transport in ("rest", "zws")
        for op in ("get", "set")
    }


async def bench_events(
    api: Api, link: ZmqTransport, host: Host, args: argparse.Namespace
) -> list[dict[str, Any]]:
    prefix = f"instance/{host.instance_id}/user:/bench/"
    subscriber = await ZwsSubscriber.connect(api.session, prefix)
    print("change to subscriber (/zmq/events):", flush=True)
    try:
        key = "user:/bench/events"
        topic = f"instance/{host.instance_id}/{key}"
        for attempt in range(20):  # the subscription reaches clusterd a moment after the upgrade
            await link.request("set", {"key": key, "value": f"ready{attempt}"})
            if await subscriber.arrival(topic, f"ready{attempt}") is not None:
                break
        else:
            raise BenchError("no event reached /zmq/events")
        latencies: dict[str, list[float]] = {"elektrad": [], "external": []}
        missed = {"elektrad": 0, "external": 0}
        kdb_runs: list[float] = []
        for serial in range(args.events):
            started = time.time()
            await link.request("set", {"key": key, "value": f"direct{serial}"})
            arrived = await subscriber.arrival(topic, f"direct{serial}")
            if arrived is None:
                missed["elektrad"] += 1
            else:
                latencies["elektrad"].append(arrived - started)
            started = time.time()
            await host.kdb("set", key, f"external{serial}")
            kdb_runs.append(time.time() - started)
            arrived = await subscriber.arrival(topic, f"external{serial}")
            if arrived is None:
                missed["external"] += 1
            else:
                latencies["external"].append(arrived - host.last_change())
    finally:
        await subscriber.close()
    results = []
    for origin, found in latencies.items():
        p50, p99 = percentiles_ms(found) if found else (float("nan"), float("nan"))
        results.append(
            {
                "origin": origin,
                "samples": len(found),
                "missed": missed[origin],
                "p50_ms": p50,
                "p99_ms": p99,
            }
        )
        print(
            f"  {origin:9} set → event: p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
            f"({len(found)} events, {missed[origin]} missed)",
            flush=True,
        )
    results[1]["kdb_set_command_p50_ms"] = statistics.median(kdb_runs) * 1e3
    return results


async def register(api: Api, host: Host, name: str) -> None:
    body = {"name": name, "endpoint": host.endpoint, "public_key": host.public_key}
    host.instance_id = (await api.call("POST", "/api/instances", body, expect=201))["id"]


async def join(api: Api, cluster: int, host: Host) -> None:
    body = {"instance": host.instance_id}
    await api.call("POST", f"/api/clusters/{cluster}/instances", body, expect=201)


async def grow(
    api: Api, fleet: Fleet, hosts: list[Host], size: int, cluster: int, clusterd_key: str
) -> None:
    """Start, register and add to `cluster` elektrads until `hosts` has `size` of them."""
    while len(hosts) < size:
        batch = range(len(hosts), min(size, len(hosts) + START_BATCH))
        new_hosts = await asyncio.gather(
            *(fleet.elektrad(f"elektrad-{n}", clusterd_key) for n in batch)
        )
        for number, host in zip(batch, new_hosts, strict=True):
            await register(api, host, f"member-{number}")
            await join(api, cluster, host)
        hosts.extend(new_hosts)


async def direct_sets(hosts: list[Host], keypair: KeyPair, sets: int) -> list[float]:
    """The peer of a fan-out: the same set sent straight to every member at once by the wire
    client, with clusterd's keypair, waiting for all replies. Its key is no cluster's, so no
    member refuses it. What the machine allows `len(hosts)` elektrads, without clusterd."""
    options = ClientOptions(timeout=REQUEST_TIMEOUT, retries=0, ping_interval=None)
    links = [
        ZmqTransport(host.endpoint, server_key=host.public_key, keypair=keypair, options=options)
        for host in hosts
    ]
    await asyncio.gather(*(link.start() for link in links))
    try:
        latencies: list[float] = []
        for serial in range(-2, sets):  # two to warm up
            args = {"key": DIRECT_KEY, "value": f"direct{serial}"}
            started = time.perf_counter()
            await asyncio.gather(*(link.request("set", args) for link in links))
            if serial >= 0:
                latencies.append(time.perf_counter() - started)
        return latencies
    finally:
        await asyncio.gather(*(link.close() for link in links))


async def bench_fanout(
    api: Api,
    fleet: Fleet,
    clusterd: Daemon,
    hosts: list[Host],
    keypair: KeyPair,
    args: argparse.Namespace,
    quotas: CpuQuotas | None,
) -> list[dict[str, Any]]:
    """`hosts` holds the first member (registered, not yet in a cluster). With `quotas`,
    each member is confined to its share of a core as it is started."""
    clusterd_key = keypair.public
    cluster = (await api.call("POST", "/api/clusters", {"name": "bench"}, expect=201))["id"]
    await join(api, cluster, hosts[0])
    path = kdb_path(f"clusters/{cluster}", FAN_KEY)
    results = []
    print("fan-out (PUT /api/clusters/<id>/kdb/<key>, one elektrad per member):", flush=True)
    confined = 0
    for size in args.cluster_sizes:
        await grow(api, fleet, hosts, size, cluster, clusterd_key)
        if quotas is not None:
            for number, host in enumerate(hosts[confined:], start=confined):
                assert host.daemon.pid is not None
                quotas.confine(host.daemon.pid, f"elektrad-{number}")
            confined = len(hosts)
        for serial in range(2):  # warm up
            await api.call("PUT", path, f"{size}-warm{serial}")
        latencies: list[float] = []
        not_applied = 0
        processes = [clusterd, *(host.daemon for host in hosts)]
        cpu_before = [cpu_seconds(daemon.pid) for daemon in processes]
        for serial in range(args.fanout_sets):
            started = time.perf_counter()
            answer = await api.call("PUT", path, f"{size}-{serial}")
            latencies.append(time.perf_counter() - started)
            statuses = [member["status"] for member in answer["members"].values()]
            if len(statuses) != size:
                raise BenchError(f"cluster of {size} answered for {len(statuses)} members")
            not_applied += sum(status != "applied" for status in statuses)
        await asyncio.sleep(0.5)  # members rescan their file a moment after each write
        cpu = [cpu_seconds(d.pid) - before for d, before in zip(processes, cpu_before, strict=True)]
        p50, p99 = percentiles_ms(latencies)
        direct_p50, direct_p99 = percentiles_ms(await direct_sets(hosts, keypair, args.fanout_sets))
        results.append(
            {
                "members": size,
                "sets": len(latencies),
                "p50_ms": p50,
                "p99_ms": p99,
                "direct_p50_ms": direct_p50,
                "direct_p99_ms": direct_p99,
                "not_applied": not_applied,
                # CPU per set: where the time goes when 2 cores serve `size` daemons.
                "clusterd_cpu_ms_per_set": cpu[0] / len(latencies) * 1e3,
                "elektrad_cpu_ms_per_set": sum(cpu[1:]) / len(latencies) * 1e3,
            }
        )
        print(
            f"  {size:3} members: p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  "
            f"({not_applied} member results not applied); CPU per set: clusterd "
            f"{cpu[0] / len(latencies) * 1e3:.1f} ms, elektrads "
            f"{sum(cpu[1:]) / len(latencies) * 1e3:.1f} ms; straight to the members: p50 "
            f"{direct_p50:.1f} ms",
            flush=True,
        )
    one = next((row["p50_ms"] for row in results if row["members"] == 1), None)
    for row in results:
        if one is not None:
            row["p50_ratio_to_one"] = row["p50_ms"] / one
    return results


async def bench_registry(fleet: Fleet, args: argparse.Namespace) -> dict[str, Any]:
    """A clusterd of its own, with `args.registered` instances that have no daemon."""
    daemon, url, _keypair = await fleet.clusterd("clusterd-registry")
    api = await Api.login(url)
    try:
        await asyncio.sleep(1.0)
        empty = rss_mb(daemon.pid)
        numbers = iter(range(args.registered))

        async def registrar() -> None:
            for n in numbers:
                # Closed ports on distinct loopback addresses: no daemon, nothing answers.
                endpoint = f"tcp://127.3.{n // 250}.{n % 250 + 1}:1"
                body = {
                    "name": f"offline-{n}",
                    "endpoint": endpoint,
                    "public_key": KeyPair.generate().public,
                    "offline": True,
                }
                await api.call("POST", "/api/instances", body, expect=201)
                done.append(time.perf_counter())

        done = [time.perf_counter()]
        await asyncio.gather(*(registrar() for _ in range(8)))
        # The rate over the first and the last tenth: a registry that slows as it grows shows.
        tenth = max(1, args.registered // 10)
        listing: list[float] = []
        for _ in range(5):
            listed_at = time.perf_counter()
            await api.call("GET", "/api/instances")
            listing.append(time.perf_counter() - listed_at)
        await asyncio.sleep(2.0)  # let the links to nowhere settle into their back-off
        cpu_before, idle_from = cpu_seconds(daemon.pid), time.perf_counter()
        await asyncio.sleep(3.0)
        idle_cpu = (cpu_seconds(daemon.pid) - cpu_before) / (time.perf_counter() - idle_from)
        result = {
            "instances": args.registered,
            "register_per_second": args.registered / (done[-1] - done[0]),
            "register_per_second_first_tenth": tenth / (done[tenth] - done[0]),
            "register_per_second_last_tenth": tenth / (done[-1] - done[-1 - tenth]),
            "list_instances_p50_ms": statistics.median(listing) * 1e3,
            "rss_empty_mb": empty,
            "rss_registered_mb": rss_mb(daemon.pid),
            "idle_cpu_percent": idle_cpu * 100,
        }
    finally:
        await api.session.close()
        await fleet.stop([daemon])
    print(
        f"registry: {args.registered} offline instances, RSS {result['rss_empty_mb']:.1f} → "
        f"{result['rss_registered_mb']:.1f} MB, idle CPU {result['idle_cpu_percent']:.1f}%",
        flush=True,
    )
    return result


# -- run -----------------------------------------------------------------------------------


async def measure_system(
    fleet: Fleet, args: argparse.Namespace, quotas: CpuQuotas | None
) -> dict[str, Any]:
    report: dict[str, Any] = {}
    clusterd, url, keypair = await fleet.clusterd("clusterd")
    api = await Api.login(url)
    options = ClientOptions(timeout=REQUEST_TIMEOUT, retries=0, ping_interval=None)
    try:
        if quotas is not None:
            assert clusterd.pid is not None
            quotas.confine(clusterd.pid, "clusterd")
        first = await fleet.elektrad("elektrad-0", keypair.public)
        await register(api, first, "member-0")
        hosts = [first]
        if not args.only_fanout:
            zws = await ZwsDealer.connect(api.session)
            try:
                async with ZmqTransport(
                    first.endpoint, server_key=first.public_key, keypair=keypair, options=options
                ) as link:
                    report["hop"] = await bench_hop(api, zws, link, first, args)
                    report["hop_p50_ms"] = hop_p50_ms(report["hop"])
                    report["change_to_subscriber"] = await bench_events(api, link, first, args)
            finally:
                await zws.close()
        report["fanout"] = await bench_fanout(api, fleet, clusterd, hosts, keypair, args, quotas)
        await asyncio.sleep(1.0)
        members = [rss_mb(host.daemon.pid) for host in hosts]
        report["rss_mb"] = {
            "clusterd_with_members": rss_mb(clusterd.pid),
            "members": len(members),
            "elektrad_mean": statistics.mean(members),
            "elektrad_max": max(members),
            "elektrad_total": sum(members),
        }
    finally:
        await api.session.close()
        await fleet.stop()
    return report


def aims(report: dict[str, Any]) -> list[dict[str, Any]]:
    found = [
        {"aim": f"hop {name} p50 ms", "value": value, "limit": HOP_AIM_MS}
        for name, value in report.get("hop_p50_ms", {}).items()
    ]
    fanout = {row["members"]: row["p50_ms"] for row in report["fanout"]}
    if 1 in fanout:
        found += [
            {
                "aim": f"fan-out {size} / fan-out 1 p50",
                "value": p50 / fanout[1],
                "limit": FANOUT_AIM_RATIO,
            }
            for size, p50 in fanout.items()
            if size > 1
        ]
    found += [
        {
            "aim": f"change to subscriber ({row['origin']}) p50 ms",
            "value": row["p50_ms"],
            "limit": EVENT_AIM_MS,
        }
        for row in report.get("change_to_subscriber", [])
    ]
    for aim in found:
        aim["met"] = aim["value"] <= aim["limit"]
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    settings = {name: value for name, value in vars(args).items() if name != "output"}
    # The machine is shared: the load around a run says how far to trust its numbers.
    settings["load_average_before"] = os.getloadavg()[0]
    # Refused before anything starts, if it cannot be honoured.
    quotas = CpuQuotas(args.cpu_share, "--cpu-share") if args.cpu_share else None
    with tempfile.TemporaryDirectory(prefix="bench-clusterd-") as temp:
        fleet = Fleet(Path(temp))
        try:
            measured = await measure_system(fleet, args, quotas)
            if quotas is not None:
                measured["confined_daemons"] = len(quotas.groups)
            report: dict[str, Any] = {"settings": settings, **measured}
            if not args.only_fanout:
                report["registry"] = await bench_registry(fleet, args)
        finally:
            await fleet.stop()  # also on Ctrl-C or SIGTERM: the task is cancelled, this runs
            if quotas is not None:
                quotas.release()
    report["hop"] = [asdict(row) for row in report.get("hop", [])]
    report["settings"]["load_average_after"] = os.getloadavg()[0]
    report["aims"] = aims(report)
    return report


def print_load(settings: dict[str, Any]) -> None:
    """The load around a run: on a shared machine, how far to trust its numbers."""
    print(
        f"\nload average (1 min) {settings['load_average_before']:.1f} before, "
        f"{settings['load_average_after']:.1f} after, on {os.cpu_count()} CPUs"
    )


def print_report(report: dict[str, Any]) -> None:
    print_load(report["settings"])
    if report["hop"]:
        print(f"{'measured':16}{'in flight':>10}{'req/s':>9}{'p50 ms':>10}{'p99 ms':>10}")
    for row in report["hop"]:
        print(
            f"{row['name']:16}{row['in_flight']:>10}{row['per_second']:>9.0f}"
            f"{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}"
        )
    for row in report.get("change_to_subscriber", []):
        print(
            f"{'event ' + row['origin']:16}{1:>10}{'':9}"
            f"{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}"
        )
    print(
        f"\n{'fan-out':12}{'p50 ms':>8}{'p99 ms':>8}{'p50 / 1':>9}{'direct p50':>12}"
        f"{'direct p99':>12}{'clusterd CPU/set':>18}{'elektrads CPU/set':>19}"
    )
    for row in report["fanout"]:
        print(
            f"{str(row['members']) + ' members':12}{row['p50_ms']:>8.2f}{row['p99_ms']:>8.2f}"
            f"{row.get('p50_ratio_to_one', math.nan):>9.2f}{row['direct_p50_ms']:>12.2f}"
            f"{row['direct_p99_ms']:>12.2f}{row['clusterd_cpu_ms_per_set']:>15.2f} ms"
            f"{row['elektrad_cpu_ms_per_set']:>16.2f} ms"
        )
    rss = report["rss_mb"]
    print(
        f"\nRSS MB: clusterd with {rss['members']} members {rss['clusterd_with_members']:.1f}; "
        f"elektrad mean {rss['elektrad_mean']:.1f}, max {rss['elektrad_max']:.1f}, "
        f"total {rss['elektrad_total']:.1f}"
    )
    registry = report.get("registry")
    if registry is not None:
        print(
            f"registry: clusterd RSS {registry['rss_empty_mb']:.1f} MB empty, "
            f"{registry['rss_registered_mb']:.1f} MB with {registry['instances']} instances; "
            f"{registry['register_per_second']:.0f} registrations/s "
            f"({registry['register_per_second_first_tenth']:.0f} first tenth, "
            f"{registry['register_per_second_last_tenth']:.0f} last); GET /api/instances "
            f"{registry['list_instances_p50_ms']:.1f} ms; "
            f"idle CPU {registry['idle_cpu_percent']:.1f}%"
        )
    print(f"\n{'aim':44}{'value':>10}{'limit':>8}  met")
    for aim in report["aims"]:
        print(
            f"{aim['aim']:44}{aim['value']:>10.2f}{aim['limit']:>8.1f}  "
            f"{'yes' if aim['met'] else 'NO'}"
        )


def sizes(text: str) -> list[int]:
    values = sorted({int(part) for part in text.split(",")})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a list of cluster sizes like 1,10,50")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per hop measurement")
    parser.add_argument(
        "--in-flight",
        type=int,
        default=16,
        help="requests in flight for the hop's throughput (default 16)",
    )
    parser.add_argument(
        "--cluster-sizes",
        type=sizes,
        default=[1, 10, 50],
        help="members per fan-out step (default 1,10,50; 1,10 for a quick run)",
    )
    parser.add_argument("--fanout-sets", type=int, default=30, help="cluster sets per size")
    parser.add_argument("--events", type=int, default=20, help="events per origin")
    parser.add_argument(
        "--registered",
        type=int,
        default=1000,
        help="offline instances registered for the RSS measurement",
    )
    parser.add_argument(
        "--only-fanout",
        action="store_true",
        help="measure the fan-out only (no hop, events or registry): a quick before/after",
    )
    parser.add_argument(
        "--cpu-share",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="confine clusterd and each elektrad to SHARE of one core, each in a cgroup of its"
        " own: hosts of their own, in miniature (needs root; e.g. 0.15 with --only-fanout)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument(
        "--fleet",
        type=int,
        default=0,
        metavar="N",
        help="instead, the fleet section: N simulated instances (elektra-web fleet), e.g. 1000",
    )
    parser.add_argument("--fleet-sets", type=int, default=20, help="cluster sets on the fleet")
    args = parser.parse_args()
    try:
        if args.fleet:
            output = RESULTS_FLEET if args.output == RESULTS else args.output
            return finish(lambda: run_fleet(args), print_fleet_report, output)
        return finish(lambda: run(args), print_report, args.output)
    except BenchError as error:
        print(error, file=sys.stderr)
        return 1


def finish(
    run: Callable[[], Awaitable[dict[str, Any]]],
    print_report: Callable[[dict[str, Any]], None],
    output: Path,
) -> int:
    """Run a benchmark, print its table and write its JSON; 130 when interrupted."""
    try:
        report = asyncio.run(run())
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, or SIGTERM (run cancels)
        print("interrupted; every daemon was stopped", file=sys.stderr)
        return 130
    print_report(report)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwritten to {output}")
    return 0


# -- fleet: clusterd in front of `elektra-web fleet` ----------------------------------------

RESULTS_FLEET = HERE / "results" / "clusterd-fleet.json"
FLEET_KEY = "system:/bench/fleet"
FLEET_START_SECONDS = 600.0
FLEET_SETTLE_SECONDS = 600.0
FLEET_FANOUT_AIM_MS, FLEET_RSS_AIM_MB = 2000.0, 200.0


async def register_fleet(api: Api, instances: list[dict[str, str]], cluster: int) -> list[float]:
    """Register every instance and add it to `cluster`, 8 at a time; when each was done.
    Registered without asking each for its `version` first (`offline`): the links come up on
    their own, and `fleet_settled` waits for all of them."""
    pending = iter(instances)
    done = [time.perf_counter()]

    async def registrar() -> None:
        for instance in pending:
            body: dict[str, Any] = {"offline": True}
            body.update((key, instance[key]) for key in ("name", "endpoint", "public_key"))
            registered = await api.call("POST", "/api/instances", body, expect=201)
            await join_fleet_member(api, cluster, registered["id"])
            done.append(time.perf_counter())

    await asyncio.gather(*(registrar() for _ in range(8)))
    return done


async def join_fleet_member(api: Api, cluster: int, instance: int) -> None:
    body = {"instance": instance}
    await api.call("POST", f"/api/clusters/{cluster}/instances", body, expect=201)


async def fleet_settled(api: Api, cluster: int, count: int) -> tuple[float, float]:
    """Wait until all `count` instances are online, then until the cluster is in sync; the
    seconds from the call to each. A `BenchError` after FLEET_SETTLE_SECONDS."""
    started = time.perf_counter()
    online_after = 0.0
    while time.perf_counter() - started < FLEET_SETTLE_SECONDS:
        if not online_after:
            listed = await api.call("GET", "/api/instances")
            if sum(bool(row["status"]["online"]) for row in listed) == count:
                online_after = time.perf_counter() - started
        if online_after:
            sync = (await api.call("GET", f"/api/clusters/{cluster}"))["sync"]
            if sync["state"] == "in-sync":
                return online_after, time.perf_counter() - started
        await asyncio.sleep(0.5)
    raise BenchError(f"the fleet's {count} members did not settle in {FLEET_SETTLE_SECONDS} s")


async def fleet_fanout(api: Api, cluster: int, count: int, sets: int) -> dict[str, Any]:
    """`sets` cluster writes, one after the other; their latency and what the members said."""
    path = kdb_path(f"clusters/{cluster}", FLEET_KEY)
    await api.call("PUT", path, "warm")
    latencies: list[float] = []
    results: Counter[str] = Counter()  # member status -> how often, over all sets
    for serial in range(sets):
        started = time.perf_counter()
        members = (await api.call("PUT", path, f"fleet-{serial}"))["members"]
        latencies.append(time.perf_counter() - started)
        results.update(member["status"] for member in members.values())
    if results.total() != sets * count:
        raise BenchError(f"{sets} sets on {count} members answered {results.total()} results")
    p50, p99 = percentiles_ms(latencies)
    not_applied = results.total() - results["applied"]
    return {"sets": sets, "p50_ms": p50, "p99_ms": p99, "not_applied": not_applied,
            "member_results": dict(results)}  # fmt: skip


async def measure_fleet(bench: Fleet, args: argparse.Namespace) -> dict[str, Any]:
    count = args.fleet
    clusterd, url, keypair = await bench.clusterd("clusterd-fleet")
    out = bench.base / "fleet.json"
    simulator = processes.fleet(
        count=count, allow_key=keypair.public, out=out, log_path=bench.base / "fleet.log"
    )
    bench.daemons.append(simulator)
    started = time.perf_counter()
    await simulator.start(timeout=FLEET_START_SECONDS)
    report: dict[str, Any] = {"instances": count, "fleet_start_s": time.perf_counter() - started}
    print(f"fleet: {count} instances up in {report['fleet_start_s']:.1f} s", flush=True)
    api = await Api.login(url)
    try:
        cluster = (await api.call("POST", "/api/clusters", {"name": "fleet"}, expect=201))["id"]
        done = await register_fleet(api, json.loads(out.read_text()), cluster)
        report["register_and_join_per_second"] = count / (done[-1] - done[0])
        # Whether joining slows as the cluster grows: the first and the last tenth's rate.
        tenth = max(count // 10, 1)
        report["join_per_second_first_tenth"] = tenth / (done[tenth] - done[0])
        report["join_per_second_last_tenth"] = tenth / (done[-1] - done[-1 - tenth])
        report["first_online_s"], report["first_in_sync_s"] = await fleet_settled(
            api, cluster, count
        )
        listing = []
        for _ in range(5):
            listed_at = time.perf_counter()
            await api.call("GET", "/api/instances")
            listing.append(time.perf_counter() - listed_at)
        report["list_instances_p50_ms"] = statistics.median(listing) * 1e3
        print(f"registry: GET /api/instances {report['list_instances_p50_ms']:.1f} ms", flush=True)
        cpu_before = cpu_seconds(clusterd.pid), cpu_seconds(simulator.pid)
        report["fanout"] = await fleet_fanout(api, cluster, count, args.fleet_sets)
        # Which side the writes wait for: CPU seconds per write of clusterd and of the fleet.
        report["fanout"]["clusterd_cpu_s_per_set"] = (
            cpu_seconds(clusterd.pid) - cpu_before[0]
        ) / args.fleet_sets
        report["fanout"]["fleet_cpu_s_per_set"] = (
            cpu_seconds(simulator.pid) - cpu_before[1]
        ) / args.fleet_sets
        report["rss_mb_right_after_fanout"] = rss_mb(clusterd.pid)
        # Settled: clusterd hands a burst's free heap back at most one trim interval after
        # the last write (`clusters.heap_trim`); the aim is the size it then keeps.
        await asyncio.sleep(TRIM_INTERVAL_SECONDS + 0.5)
        report["rss_mb_after_fanout"] = rss_mb(clusterd.pid)
        report["peak_rss_mb_first_start"] = rss_mb(clusterd.pid, "VmHWM")
        report["resident_mb_after_fanout"] = resident_by_kind_mb(clusterd.pid)
        fanout = report["fanout"]
        print(
            f"fan-out to {count}: p50 {fanout['p50_ms']:.1f} ms, p99 {fanout['p99_ms']:.1f} ms;"
            f" clusterd RSS {report['rss_mb_right_after_fanout']:.1f} MB right after,"
            f" {report['rss_mb_after_fanout']:.1f} MB settled",
            flush=True,
        )
    finally:
        await api.session.close()
    # Restart: the same state directory, a new process; from its start until every member
    # is online again and the cluster in sync.
    # The bench's token outlives the restart: a password login checks argon2 with 64 MiB of
    # its own for a moment, which is the login's, not the 1,000 links' (measured after).
    await bench.stop([clusterd])
    restarted_at = time.perf_counter()
    clusterd, url, _keypair = await bench.clusterd("clusterd-fleet")
    api = Api.with_token(url, api.token)
    try:
        up = time.perf_counter() - restarted_at
        online, in_sync = await fleet_settled(api, cluster, count)
        report["restart_online_s"], report["restart_in_sync_s"] = up + online, up + in_sync
        report["rss_mb_after_restart"] = rss_mb(clusterd.pid)
        report["peak_rss_mb_after_restart"] = rss_mb(clusterd.pid, "VmHWM")
        report["resident_mb_after_restart"] = resident_by_kind_mb(clusterd.pid)
        await (await Api.login(url)).session.close()
        report["peak_rss_mb_login_after_restart"] = rss_mb(clusterd.pid, "VmHWM")
    finally:
        await api.session.close()
    return report


async def run_fleet(args: argparse.Namespace) -> dict[str, Any]:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    settings = {"fleet": args.fleet, "fleet_sets": args.fleet_sets}
    settings["load_average_before"] = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-clusterd-fleet-") as temp:
        bench = Fleet(Path(temp))
        try:
            report: dict[str, Any] = {"settings": settings, **await measure_fleet(bench, args)}
        finally:
            await bench.stop()
    settings["load_average_after"] = os.getloadavg()[0]
    rss = max(
        report["rss_mb_after_fanout"],
        report["rss_mb_after_restart"],
        report["peak_rss_mb_after_restart"],
    )
    report["aims"] = [
        {"aim": "fleet fan-out p50 ms", "value": report["fanout"]["p50_ms"],
         "limit": FLEET_FANOUT_AIM_MS},
        {"aim": "fleet clusterd RSS MB", "value": rss, "limit": FLEET_RSS_AIM_MB},
    ]  # fmt: skip
    for aim in report["aims"]:
        aim["met"] = aim["value"] <= aim["limit"]
    return report


def print_fleet_report(report: dict[str, Any]) -> None:
    settings, fanout = report["settings"], report["fanout"]
    print(
        f"\nload average (1 min) {settings['load_average_before']:.1f} before, "
        f"{settings['load_average_after']:.1f} after, on {os.cpu_count()} CPUs"
    )
    rows = [
        ("instances (one fleet process)", f"{report['instances']}"),
        ("fleet start", f"{report['fleet_start_s']:.1f} s"),
        ("register + join", f"{report['register_and_join_per_second']:.0f} /s"),
        ("  first tenth, last tenth",
         f"{report['join_per_second_first_tenth']:.0f}, "
         f"{report['join_per_second_last_tenth']:.0f} /s"),
        ("all online, in sync (first start)",
         f"{report['first_online_s']:.1f} s, {report['first_in_sync_s']:.1f} s"),
        ("GET /api/instances p50", f"{report['list_instances_p50_ms']:.1f} ms"),
        (f"fan-out p50 / p99 ({fanout['sets']} sets)",
         f"{fanout['p50_ms']:.1f} / {fanout['p99_ms']:.1f} ms"),
        ("member results not applied", f"{fanout['not_applied']}"),
        ("CPU per write: clusterd, fleet",
         f"{fanout['clusterd_cpu_s_per_set']:.2f}, {fanout['fleet_cpu_s_per_set']:.2f} s"),
        ("after restart: all online, in sync",
         f"{report['restart_online_s']:.1f} s, {report['restart_in_sync_s']:.1f} s"),
        ("clusterd RSS right after fan-out, settled",
         f"{report['rss_mb_right_after_fanout']:.1f}, {report['rss_mb_after_fanout']:.1f} MB"),
        ("clusterd RSS after restart", f"{report['rss_mb_after_restart']:.1f} MB"),
        ("clusterd peak RSS: first start, restart",
         f"{report['peak_rss_mb_first_start']:.1f}, {report['peak_rss_mb_after_restart']:.1f} MB"),
        ("  then with a password login (argon2)",
         f"{report['peak_rss_mb_login_after_restart']:.1f} MB"),
    ]  # fmt: skip
    for moment, label in (("after_fanout", "settled"), ("after_restart", "restarted")):
        kinds = report[f"resident_mb_{moment}"]
        rows.append((f"  {label}: C heap, anonymous, files",
                     f"{kinds['c_heap']:.1f}, {kinds['other_anonymous']:.1f}, "
                     f"{kinds['files']:.1f} MB"))  # fmt: skip
    for name, value in rows:
        print(f"{name:40}{value:>28}")
    print(f"\n{'aim':44}{'value':>10}{'limit':>8}  met")
    for aim in report["aims"]:
        print(
            f"{aim['aim']:44}{aim['value']:>10.2f}{aim['limit']:>8.1f}  "
            f"{'yes' if aim['met'] else 'NO'}"
        )


if __name__ == "__main__":
    sys.exit(main())
