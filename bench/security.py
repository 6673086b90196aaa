"""Benchmark clusterd's defences (docs/security.md): what they cost and how fast they act.

    .venv/bin/python bench/security.py                        # 20,000 idle connections
    .venv/bin/python bench/security.py --connections 2000 --samples 20   # a quick run

A real clusterd process on 127.0.0.1 at its default settings (but a request head timeout that
outlasts the run), attackers on other loopback addresses:

- under load: ``GET /api/version`` on a new connection from 127.0.0.1, first with clusterd
  idle (the peer), then while --connections idle connections are held open from 127.0.1.x
  (issue 8 item 4 aims at under 100 ms).
- login: a failed login for an existing user and for one that does not exist, each from a
  fresh loopback address and below the throttle's free failures (item 6: the same time).
- revocation: from the answer to ``DELETE /api/tokens/{id}`` until the close (1008) of a
  `/zmq` socket opened with that token (item 3 aims at within 1 s).

Prints one table per part and writes bench/results/security.json (`sessions_limits` part).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import ipaddress
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from support.connection_flood import Flood  # noqa: E402
from support.processes import ADMIN_PASSWORD, Clusterd  # noqa: E402

RESULTS = HERE / "results" / "security.json"
PATIENCE = 60.0
LOGIN_SOURCES = ipaddress.IPv4Address("127.0.3.1")


def summary(name: str, seconds: list[float]) -> dict[str, Any]:
    milliseconds = sorted(s * 1000 for s in seconds)
    p90 = milliseconds[min(len(milliseconds) - 1, int(len(milliseconds) * 0.9))]
    return {
        "name": name,
        "samples": len(milliseconds),
        "p50_ms": round(statistics.median(milliseconds), 2),
        "p90_ms": round(p90, 2),
        "max_ms": round(milliseconds[-1], 2),
    }


def table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print(f"{'':32} {'samples':>8} {'p50 ms':>9} {'p90 ms':>9} {'max ms':>9}")
    for row in rows:
        print(
            f"{row['name']:32} {row['samples']:>8} {row['p50_ms']:>9} {row['p90_ms']:>9}"
            f" {row['max_ms']:>9}"
        )


async def timed(call: Callable[[], Awaitable[None]], samples: int) -> list[float]:
    seconds = []
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        seconds.append(time.perf_counter() - started)
    return seconds


async def new_connection_request(url: str, token: str) -> None:
    connector = aiohttp.TCPConnector(force_close=True, local_addr=("127.0.0.1", 0))
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(connector=connector, headers=headers) as session,
        session.get(f"{url}/api/version") as answer,
    ):
        assert answer.status == 200, answer.status


async def bench_under_load(
    clusterd: Clusterd, connections: int, samples: int
) -> list[dict[str, Any]]:
    status, token = await clusterd.api("POST", "/api/tokens", {"name": "bench"})
    assert status == 201, token

    async def probe() -> None:
        await new_connection_request(clusterd.url, token["token"])

    rows = [summary("request, clusterd idle", await timed(probe, samples))]
    url = urlsplit(clusterd.url)
    assert url.hostname is not None and url.port is not None
    async with Flood((url.hostname, url.port), connections, PATIENCE):
        rows.append(summary(f"request, {connections} held open", await timed(probe, samples)))
    return rows


async def bench_login(clusterd: Clusterd, samples: int) -> list[dict[str, Any]]:
    sources = iter(LOGIN_SOURCES + index for index in range(1 << 16))

    async def failed_login(user: str) -> None:
        connector = aiohttp.TCPConnector(force_close=True, local_addr=(str(next(sources)), 0))
        body = {"user": user, "password": "not-the-password"}
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.post(f"{clusterd.url}/api/login", json=body) as answer,
        ):
            assert answer.status == 401, answer.status

    # Below the throttle: each name fails at most 4 times, each address once.
    users = [f"bench-{n}" for n in range(samples // 4 + 1)]
    for user in users:
        body = {"name": user, "password": ADMIN_PASSWORD, "role": "viewer"}
        assert (await clusterd.api("POST", "/api/users", body))[0] == 201
    # Alternating, so that a busy moment of the machine falls on both alike.
    times: dict[str, list[float]] = {"existing user": [], "unknown user": []}
    for user in (user for user in users for _ in range(4)):
        for kind, name in (("existing user", user), ("unknown user", f"nobody-{user}")):
            times[kind] += await timed(functools.partial(failed_login, name), 1)
    return [summary(f"failed login, {kind}", seconds[:samples]) for kind, seconds in times.items()]


async def bench_revocation(clusterd: Clusterd, samples: int) -> list[dict[str, Any]]:
    seconds = []
    async with aiohttp.ClientSession() as session:
        for number in range(samples):
            status, token = await clusterd.api("POST", "/api/tokens", {"name": f"r{number}"})
            assert status == 201, token
            ws = await session.ws_connect(
                f"{clusterd.url}/zmq?token={token['token']}", protocols=("ZWS2.0",)
            )
            await ws.receive()  # clusterd's routing id: the socket is open
            await ws.send_bytes(b"\x00")  # ours (empty)
            status, _ = await clusterd.api("DELETE", f"/api/tokens/{token['id']}")
            revoked = time.perf_counter()
            async with asyncio.timeout(PATIENCE):
                message = await ws.receive()
            seconds.append(time.perf_counter() - revoked)
            assert message.type is aiohttp.WSMsgType.CLOSE and message.data == 1008, message
            await ws.close()
    return [summary("token revoked -> /zmq closed", seconds)]


async def bench_sessions_limits(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-security-") as base:
        clusterd = Clusterd(Path(base) / "clusterd", options=("--header-timeout", "3600"))
        try:
            await clusterd.start()
            report = {
                "under_load": await bench_under_load(clusterd, args.connections, args.samples),
                "login": await bench_login(clusterd, args.samples),
                "revocation": await bench_revocation(clusterd, args.samples),
            }
        finally:
            await clusterd.stop()
    table(
        f"Request from another address ({args.connections} idle connections)", report["under_load"]
    )
    table("Failed logins (same time for unknown users)", report["login"])
    table("Revocation to close of an open socket", report["revocation"])
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    report = {"sessions_limits": asyncio.run(bench_sessions_limits(args))}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(args.output.read_text()) if args.output.exists() else {}
    args.output.write_text(json.dumps({**previous, **report}, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
