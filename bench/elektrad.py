"""Benchmark elektrad: single-key get and set through CURVE, next to the transport ceiling and etcd.

    .venv/bin/python bench/elektrad.py                     # 3 s per measurement
    .venv/bin/python bench/elektrad.py --seconds 1 --no-etcd --format toml

Each measurement keeps 1 or 64 requests in flight for ``--seconds`` and reports round trips
per second and the p50/p99 latency. Every request reads or writes one key; each of the
requests in flight has a key of its own (``user:/bench/key0`` .. ``key63``), as when clusterd
fans out different changes:

- elektrad get / set:  the wire client (ZmqTransport) against a real elektrad subprocess,
  the 64 keys mounted in one file (``--format``, default dump); set rewrites the file and
  fsyncs it and its directory (sets in flight together share one write: group commit).
- echo:  the same client against a bare pyzmq CURVE ROUTER in its own process that answers
  every request with a fixed reply (the ceiling any server on this transport can reach).
- wire:  elektraweb.wire's asyncio server with a handler that does nothing (elektrad without
  the KDB), which shows how much of the gap to echo is the server framework's.
- etcd range / put:  a single etcd node (Debian's etcd-server) on loopback, driven through
  its HTTP/JSON gateway (/v3/kv/range, /v3/kv/put) by aiohttp; put fsyncs its WAL.

- elektrad 100k set / ls:  the same elektrad with a second dump file of ``--big-keys`` keys
  (default 100k, mounted at ``user:/big``), one request in flight: set one key of it, and
  ``ls`` a page of 1,000 names from the middle of it (issue 10: ≤ 50 ms and ≤ 10 ms p50).

Also: idle RSS of elektrad after start and after the load. Aims (issue 3): cached get at
least 50% of echo and above etcd's range rate, set p50 within 2x of etcd's put p50, idle
RSS under 60 MB. Prints a table and writes bench/results/elektrad.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import zmq

from elektraweb.kdb.storage import FORMATS
from elektraweb.wire.client import ClientOptions, ZmqTransport
from elektraweb.wire.encoding import encode_reply
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.messages import Reply, Request
from elektraweb.wire.server import WireServer

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "elektrad.json"
ELEKTRAD = Path(sys.prefix) / "bin" / "elektrad"
KDB = Path(sys.prefix) / "bin" / "kdb"
KEY = "user:/bench/key"
_START_LINE = re.compile(r"listening on (\S+), events on \S+, public key (\S{40})")


@dataclass
class Result:
    target: str
    op: str
    in_flight: int
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float


Call = Callable[[int, int], Awaitable[object]]  # (lane, serial): each lane has its own key


def lane_key(lane: int) -> str:
    return f"{KEY}{lane}"


async def drive(call: Call, in_flight: int, seconds: float) -> tuple[int, float, float, float]:
    """Keep ``in_flight`` calls running for ``seconds``: (count, rate, p50 ms, p99 ms)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker(lane: int) -> None:
        # At least one call per lane: on a loaded machine a lane may start after the deadline.
        serial = 0
        while serial == 0 or time.perf_counter() < deadline:
            started = time.perf_counter()
            await call(lane, serial)
            latencies.append(time.perf_counter() - started)
            serial += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(lane) for lane in range(in_flight)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies), len(latencies) / elapsed, statistics.median(latencies) * 1e3, p99 * 1e3


async def measure(target: str, op: str, call: Call, in_flight: int, seconds: float) -> Result:
    count, rate, p50, p99 = await drive(call, in_flight, seconds)
    print(
        f"  {target:13} {op:6} {in_flight:3} in flight: {rate:9.0f}/s  "
        f"p50 {p50:7.3f} ms  p99 {p99:7.3f} ms",
        flush=True,
    )
    return Result(target, op, in_flight, count, rate, p50, p99)


# -- elektrad ------------------------------------------------------------------------------

BIG = "user:/big"
BIG_PER_SECTION = 100


def big_key(index: int) -> str:
    return f"{BIG}/section{index // BIG_PER_SECTION}/key{index}"


def fill_big_tree(env: dict[str, str], size: int) -> None:
    """Mount a dump file at ``user:/big`` holding ``size`` keys."""
    from elektraweb.kdb import KDB as Database
    from elektraweb.kdb import Key
    from elektraweb.kdb.mounts import Paths

    database = Database(Paths.from_environ(env, cwd=Path(env["HOME"])))
    database.mount("big.ecf", BIG, "dump")
    keys = database.get(BIG)
    keys.extend(Key(big_key(index), f"v{index}") for index in range(size))
    database.set(keys, BIG)


def start_elektrad(
    base: Path, client: KeyPair, storage: str, big_keys: int = 0
) -> tuple[subprocess.Popen[str], str, str]:
    env = {**os.environ, "KDB_ROOT": str(base / "kdb"), "HOME": str(base)}
    subprocess.run(
        [str(KDB), "mount", f"bench.{storage}", "user:/bench", storage],
        env=env,
        check=True,
        capture_output=True,
    )
    if big_keys:
        fill_big_tree(env, big_keys)
    process = subprocess.Popen(
        [
            str(ELEKTRAD),
            "--listen",
            "tcp://127.0.0.1:0",
            "--events",
            "tcp://127.0.0.1:0",
            "--state",
            str(base / "state"),
            "--allow-key",
            client.public,
            "--log-level",
            "WARNING",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    match = _START_LINE.search(process.stdout.readline())
    if match is None:
        process.kill()
        raise SystemExit("elektrad did not start")
    return process, match[1], match[2]


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    kilobytes = int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]
    return kilobytes / 1024


# -- the transport ceiling -----------------------------------------------------------------


def echo_server() -> None:
    """A bare CURVE ROUTER answering every request with one fixed, valid reply."""
    keypair = KeyPair.generate()
    context = zmq.Context()
    router = context.socket(zmq.ROUTER)
    keypair.configure_server(router)
    router.bind("tcp://127.0.0.1:0")
    print(router.getsockopt_string(zmq.LAST_ENDPOINT), keypair.public, flush=True)
    reply = encode_reply(Reply({"time": 0.0}))
    while True:
        frames = router.recv_multipart()
        router.send_multipart([frames[0], frames[1], reply])


async def noop_wire_server(client_key: str) -> None:
    """elektraweb.wire's server with a handler that does nothing: elektrad minus the KDB."""

    async def handler(request: Request) -> Reply:
        return Reply({"exists": False})

    keypair = KeyPair.generate()
    server = WireServer(
        handler,
        keypair=keypair,
        allowed_keys=[client_key],
        listen="tcp://127.0.0.1:0",
        events="tcp://127.0.0.1:0",
    )
    await server.start()
    print(server.endpoint, keypair.public, flush=True)
    await asyncio.Event().wait()


def start_helper(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    """Run this file in another mode (a server of its own); returns (process, endpoint, key)."""
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    endpoint, key = process.stdout.readline().split()
    return process, endpoint, key


# -- etcd ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_etcd(base: Path) -> tuple[subprocess.Popen[bytes], str]:
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    process = subprocess.Popen(
        [
            "etcd",
            "--name",
            "bench",
            "--data-dir",
            str(base / "etcd"),
            "--listen-client-urls",
            url,
            "--advertise-client-urls",
            url,
            "--listen-peer-urls",
            f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls",
            f"http://127.0.0.1:{peer}",
            "--initial-cluster",
            f"bench=http://127.0.0.1:{peer}",
            "--log-level",
            "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, url


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Etcd:
    """Calls to one etcd's v3 HTTP/JSON gateway; the same pattern as for elektrad."""

    def __init__(self, url: str) -> None:
        import aiohttp

        self._url = url
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=128))

    async def _post(self, path: str, body: dict[str, str]) -> None:
        async with self._session.post(f"{self._url}{path}", json=body) as response:
            response.raise_for_status()
            await response.read()

    async def put(self, lane: int, serial: int) -> None:
        await self._post("/v3/kv/put", {"key": b64(lane_key(lane)), "value": b64(str(serial))})

    async def range(self, lane: int, serial: int) -> None:
        await self._post("/v3/kv/range", {"key": b64(lane_key(lane))})

    async def wait_ready(self) -> None:
        import aiohttp

        for _attempt in range(100):
            try:
                await self.put(0, 0)
                return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"etcd at {self._url} did not answer")

    async def close(self) -> None:
        await self._session.close()


# -- run -----------------------------------------------------------------------------------


def client_for(endpoint: str, server_key: str, keypair: KeyPair) -> ZmqTransport:
    options = ClientOptions(timeout=30.0, retries=0, ping_interval=None)
    return ZmqTransport(endpoint, server_key=server_key, keypair=keypair, options=options)


async def run(args: argparse.Namespace) -> dict[str, object]:
    """Start every server, then measure each scenario on all of them back to back, so that
    the ratios compare measurements taken under the same load of the machine."""
    keypair = KeyPair.generate()
    results: list[Result] = []
    report: dict[str, object] = {"seconds": args.seconds, "format": args.format}
    async with contextlib.AsyncExitStack() as stack:
        base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-elektrad-")))
        daemon, endpoint, key = start_elektrad(base, keypair, args.format)
        stack.callback(stop, daemon)
        echo, echo_endpoint, echo_key = start_helper("--echo-server")
        stack.callback(stop, echo)
        noop, noop_endpoint, noop_key = start_helper("--noop-wire-server", keypair.public)
        stack.callback(stop, noop)
        await asyncio.sleep(1.0)
        report["elektrad_idle_rss_mb"] = rss_mb(daemon.pid)
        link = await stack.enter_async_context(client_for(endpoint, key, keypair))
        ceiling = await stack.enter_async_context(client_for(echo_endpoint, echo_key, keypair))
        bare = await stack.enter_async_context(client_for(noop_endpoint, noop_key, keypair))
        for lane in range(64):
            await link.request("set", {"key": lane_key(lane), "value": "0"})
        etcd: Etcd | None = None
        if args.no_etcd:
            report["etcd"] = "skipped (--no-etcd)"
        elif shutil.which("etcd") is None:
            report["etcd"] = "not installed: apt-get install etcd-server"
        else:
            etcd_process, url = start_etcd(base)
            stack.callback(stop, etcd_process)
            etcd = Etcd(url)
            stack.push_async_callback(etcd.close)
            await etcd.wait_ready()
            for lane in range(64):
                await etcd.put(lane, 0)

        async def get(lane: int, serial: int) -> None:
            await link.request("get", {"key": lane_key(lane)})

        async def set_(lane: int, serial: int) -> None:
            await link.request("set", {"key": lane_key(lane), "value": str(serial)})

        async def echoed(lane: int, serial: int) -> None:
            await ceiling.request("get", {"key": lane_key(lane)})

        async def noop_get(lane: int, serial: int) -> None:
            await bare.request("get", {"key": lane_key(lane)})

        scenarios: list[tuple[str, str, Call]] = [
            ("elektrad", "get", get),
            ("wire", "get", noop_get),
            ("echo", "get", echoed),
            ("elektrad", "set", set_),
        ]
        if etcd is not None:
            scenarios[3:3] = [("etcd", "range", etcd.range)]
            scenarios.append(("etcd", "put", etcd.put))
        for _target, _op, call in scenarios:
            await drive(call, 4, min(0.3, args.seconds))  # warm up connections and caches
        for in_flight in (1, 64):
            for target, op, call in scenarios:
                results.append(await measure(target, op, call, in_flight, args.seconds))
        if args.big_keys:
            # A daemon of its own, so the idle RSS above stays that of a small KDB.
            (base / "big").mkdir()
            big_daemon, big_endpoint, big_server = start_elektrad(
                base / "big", keypair, "dump", args.big_keys
            )
            stack.callback(stop, big_daemon)
            big_link = await stack.enter_async_context(
                client_for(big_endpoint, big_server, keypair)
            )
            middle = big_key(args.big_keys // 2)
            big = f"elektrad {args.big_keys // 1000}k"

            async def big_set(lane: int, serial: int) -> None:
                await big_link.request("set", {"key": middle, "value": str(serial)})

            async def big_ls(lane: int, serial: int) -> None:
                page = await big_link.request("ls", {"key": BIG, "cursor": middle, "limit": 1000})
                assert page["keys"], page  # a page of names after the middle key

            for op, call in (("set", big_set), ("ls", big_ls)):
                await drive(call, 1, min(0.3, args.seconds))
                results.append(await measure(big, op, call, 1, args.seconds))
            report["elektrad_big_tree_rss_mb"] = rss_mb(big_daemon.pid)
        await asyncio.sleep(1.0)
        report["elektrad_rss_after_load_mb"] = rss_mb(daemon.pid)
    report["results"] = [asdict(result) for result in results]
    report["ratios"] = ratios(results)
    return report


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ratios(results: list[Result]) -> dict[str, float]:
    by = {(r.target, r.op, r.in_flight): r for r in results}
    found: dict[str, float] = {}
    for in_flight in (1, 64):
        get, echo = by.get(("elektrad", "get", in_flight)), by.get(("echo", "get", in_flight))
        wire = by.get(("wire", "get", in_flight))
        range_ = by.get(("etcd", "range", in_flight))
        set_, put = by.get(("elektrad", "set", in_flight)), by.get(("etcd", "put", in_flight))
        if get and echo:
            found[f"get_vs_echo_rate_{in_flight}"] = get.per_second / echo.per_second
        if wire and echo:
            found[f"noop_wire_server_vs_echo_rate_{in_flight}"] = wire.per_second / echo.per_second
        if get and range_:
            found[f"get_vs_etcd_range_rate_{in_flight}"] = get.per_second / range_.per_second
        if set_ and put:
            found[f"set_vs_etcd_put_p50_{in_flight}"] = set_.p50_ms / put.p50_ms
    # Issue 10's aims for a 100k-key tree: p50 of a one-key set ≤ 50 ms, of an ls page ≤ 10 ms.
    for (target, op, _), result in by.items():
        aim = {"set": 50.0, "ls": 10.0}.get(op)
        if target.startswith("elektrad ") and aim:
            found[f"{target.split()[1]}_{op}_p50_over_aim"] = result.p50_ms / aim
    return found


def print_report(report: dict[str, object]) -> None:
    print()
    print(f"{'target':14}{'op':7}{'in flight':>10}{'req/s':>11}{'p50 ms':>10}{'p99 ms':>10}")
    for row in report["results"]:  # type: ignore[attr-defined]
        print(
            f"{row['target']:14}{row['op']:7}{row['in_flight']:>10}{row['per_second']:>11.0f}"
            f"{row['p50_ms']:>10.3f}{row['p99_ms']:>10.3f}"
        )
    print()
    for name, value in report["ratios"].items():  # type: ignore[attr-defined]
        print(f"{name:34} {value:6.2f}")
    print(f"{'elektrad idle RSS (MB)':34} {report['elektrad_idle_rss_mb']:6.1f}")
    print(f"{'elektrad RSS after load (MB)':34} {report['elektrad_rss_after_load_mb']:6.1f}")
    if "elektrad_big_tree_rss_mb" in report:
        print(f"{'elektrad RSS, 100k-key tree (MB)':34} {report['elektrad_big_tree_rss_mb']:6.1f}")
    if isinstance(report.get("etcd"), str):
        print(f"etcd: {report['etcd']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--no-etcd", action="store_true", help="skip the etcd comparison")
    parser.add_argument(
        "--format",
        default="dump",
        choices=FORMATS,
        help="storage format of the file the keys are mounted in (default dump)",
    )
    parser.add_argument(
        "--big-keys",
        type=int,
        default=100_000,
        help="keys of the big tree for the 100k rows (0: leave them out)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--echo-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--noop-wire-server", metavar="CLIENT_KEY", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        echo_server()
        return
    if args.noop_wire_server:
        asyncio.run(noop_wire_server(args.noop_wire_server))
        return
    report = asyncio.run(run(args))
    print_report(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
