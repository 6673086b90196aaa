"""Issue 8 item 4: idle, slow and too many connections cannot stop clusterd.

Real clusterd processes on loopback; attackers connect from other loopback addresses
(127.0.1.x, 127.0.2.x ...), which Linux routes to the same host.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from elektraweb.cluster.config import ADMIN_PASSWORD_ENV
from elektraweb.cluster.http.connections import ConnectionLimits, ConnectionSettings
from elektraweb.demo import processes
from support import connection_flood
from support.connection_flood import Flood
from support.processes import ADMIN_PASSWORD, Api, Clusterd

REQUEST = b"GET /api/version HTTP/1.1\r\nHost: clusterd\r\nConnection: close\r\n\r\n"
PATIENCE = 30.0
"""Bound of every wait for something that must happen (a close, an answer)."""


@contextlib.asynccontextmanager
async def running(tmp_path: Path, *options: str) -> AsyncIterator[Clusterd]:
    clusterd = Clusterd(tmp_path / "clusterd", options=options)
    try:
        yield await clusterd.start()
    finally:
        await clusterd.stop()


def address(clusterd: Clusterd) -> tuple[str, int]:
    url = urlsplit(clusterd.url)
    assert url.hostname is not None and url.port is not None
    return url.hostname, url.port


async def connect(
    clusterd: Clusterd, source: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(*address(clusterd), local_addr=(source, 0))


async def answer(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (b"" if it cut it)."""
    with contextlib.suppress(ConnectionResetError):
        async with asyncio.timeout(PATIENCE):
            return await reader.read()
    return b""


async def test_a_request_head_sent_byte_by_byte_is_cut_off(tmp_path: Path) -> None:
    async with running(tmp_path, "--header-timeout", "1") as clusterd:
        reader, writer = await connect(clusterd, "127.0.0.2")
        closed = asyncio.create_task(answer(reader))
        writer.write(b"GET /api/version HTTP/1.1\r\nHost: clusterd\r\n")
        # A slowloris: a header line every 0.1 s, never the empty line that ends the head.
        for line in range(int(PATIENCE * 10)):
            if closed.done():
                break
            with contextlib.suppress(ConnectionError):
                writer.write(b"X-%d: ...\r\n" % line)
                await writer.drain()
            await asyncio.sleep(0.1)
        assert closed.done(), "clusterd kept a connection that never finished its head"
        assert await closed == b""  # cut, not answered
        writer.close()
        # Another client is served as usual.
        assert (await clusterd.api("GET", "/api/version"))[0] == 200


async def test_a_body_that_never_arrives_gets_408_and_the_connection_closes(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, "--body-timeout", "1") as clusterd:
        reader, writer = await connect(clusterd, "127.0.0.3")
        writer.write(
            b"POST /api/login HTTP/1.1\r\nHost: clusterd\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"user": "admin", '
        )
        reply = await answer(reader)
        writer.close()
        assert reply.startswith(b"HTTP/1.1 408 "), reply
        assert b"request body not received within 1 s" in reply


async def test_one_address_gets_no_more_than_its_share_of_connections(tmp_path: Path) -> None:
    async with running(tmp_path, "--max-connections-per-address", "8") as clusterd:
        opened = [await connect(clusterd, "127.0.0.4") for _ in range(12)]
        refused = [await answer(reader) for reader, _ in opened[8:]]
        for reply in refused:
            assert reply.startswith(b"HTTP/1.1 503 "), reply
            assert reply.endswith(b"too many connections from 127.0.0.4 (limit 8)")
        # Another address is served meanwhile.
        assert (await clusterd.api("GET", "/api/version"))[0] == 200
        # The eight admitted ones are served; once they are closed, their places are free.
        for _ in range(2):
            for _, writer in opened[:8]:
                writer.write(REQUEST)
            for reader, _ in opened[:8]:
                assert (await answer(reader)).startswith(b"HTTP/1.1 401 ")
            for _, writer in opened:
                writer.close()
            opened = [await connect(clusterd, "127.0.0.4") for _ in range(8)]
        for _, writer in opened:
            writer.close()
        assert clusterd.log().count("over its limit of 8") == 1


async def test_twenty_thousand_idle_connections_do_not_stop_clusterd(tmp_path: Path) -> None:
    # The flood must outlast the test: a head timeout far beyond it.
    async with running(tmp_path, "--header-timeout", "600") as clusterd:
        status, token = await clusterd.api("POST", "/api/tokens", {"name": "probe"})
        assert status == 201, token
        log_lines = len(clusterd.log().splitlines())
        async with Flood(address(clusterd), 20_000, PATIENCE) as flood:
            # One address over its default share of 256: the rest is refused, by name.
            over = [await connect(clusterd, "127.0.2.1") for _ in range(300)]
            replies = [await answer(reader) for reader, _ in over[256:]]
            assert all(r.endswith(b"from 127.0.2.1 (limit 256)") for r in replies), replies[0]

            # A request from another address (on a new connection) is answered.
            probe = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(force_close=True),
                headers={"Authorization": f"Bearer {token['token']}"},
            )
            async with probe, probe.get(f"{clusterd.url}/api/version") as reply:
                assert reply.status == 200

            # The flood is held, except what clusterd had to close to stay below its
            # open-files limit (it inherits ours): the connections waiting longest.
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            cap = ConnectionLimits(ConnectionSettings(), hard).max_connections
            over_cap = max(0, 20_000 + 256 + 1 - cap)
            closed = await flood.closed_by_server()
            assert closed <= over_cap + 16, (closed, cap)
            for _, writer in over:
                writer.close()

        log = clusterd.log()
        assert "Too many open files" not in log
        # One line per kind of refusal, plus at most a few counted summaries.
        assert len(log.splitlines()) - log_lines < 20, log.splitlines()[log_lines:]
        assert (await clusterd.api("GET", "/api/version"))[0] == 200


def test_the_flood_helper_refuses_targets_off_loopback() -> None:
    with pytest.raises(SystemExit, match="not a loopback address"):
        connection_flood.main(["192.0.2.1", "80", "127.0.1.1", "1", "1"])


LOW_LIMIT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300))
from elektraweb.cli.clusterd import main
sys.exit(main(sys.argv[1:]))
"""


async def test_accept_errors_at_a_low_open_files_limit_are_counted_not_logged_each(
    tmp_path: Path,
) -> None:
    """With only 300 descriptors, a burst of connections makes accept() itself fail (asyncio
    accepts a whole batch before any is counted): one line, then counts, no tracebacks."""
    daemon = processes.Daemon(
        "clusterd",
        [sys.executable, "-c", LOW_LIMIT, "--http", "127.0.0.1:0",
         "--state", str(tmp_path / "state"), "--header-timeout", "600"],
        ready=processes.CLUSTERD_READY,
        log_path=tmp_path / "clusterd.log",
        env={**os.environ, ADMIN_PASSWORD_ENV: ADMIN_PASSWORD},
    )  # fmt: skip
    url = (await daemon.start())["url"]
    api = Api(url)
    try:
        target = urlsplit(url)
        assert target.hostname is not None and target.port is not None
        async with Flood((target.hostname, target.port), 2000, PATIENCE):
            # Accepting pauses for a second after each failure, and the kernel's queue may be
            # full: the login waits for its turn, but gets it.
            async with asyncio.timeout(PATIENCE * 2):
                status, _ = await api(
                    "POST", "/api/login", {"user": "admin", "password": ADMIN_PASSWORD}
                )
            assert status == 200
        log = (tmp_path / "clusterd.log").read_text()
        assert "accept() failed: [Errno 24] Too many open files" in log
        assert "Traceback" not in log
        assert log.count("Too many open files") < 20, log
    finally:
        await api.close()
        assert await daemon.stop() == 0
