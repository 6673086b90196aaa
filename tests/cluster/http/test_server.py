"""The server's lifecycle and logs, the web client's files, and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from elektraweb.cluster.config import Config
from elektraweb.cluster.http.connections import ConnectionSettings
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.store.instances import Instance
from elektraweb.web.assets import VENDORED
from support.inprocess import InProcessNetwork

from ..fakes import ADMIN_PASSWORD, Client


async def test_one_start_line_and_one_line_per_request_without_secrets(
    config: Config,
    gateway: WireGateway,
    network: InProcessNetwork,
    caplog: pytest.LogCaptureFixture,
) -> None:
    daemon = await network.start("tcp://127.0.0.1:40001")
    host = Instance(1, "web-1", daemon.endpoint, daemon.public_key)
    server = Server(config, gateway=gateway)
    with caplog.at_level(logging.INFO):
        await server.start()
        url = server.url
        client = Client(url, {"X-Requested-With": "test"})
        try:
            await client.login("admin", ADMIN_PASSWORD)
            token = (await client.post("/api/tokens", {"name": "t"})).body["token"]
            await client.get(f"/api/me?token={token}")
            await client.get("/api/instances")
            await gateway.call(host, "get", {"key": "user:/"})  # a link for stop to close
        finally:
            await client.close()
            await server.stop()
    assert [link.closed for link in network.links] == [True]

    starts = [r.getMessage() for r in caplog.records if "listening" in r.getMessage()]
    assert starts == [f"clusterd listening on {url} (state {config.state_dir})"]
    access = [r.getMessage() for r in caplog.records if r.name == "elektraweb.cluster.access"]
    assert [line.split()[:4] for line in access] == [
        ["-", "POST", "/api/login", "200"],
        ["admin", "POST", "/api/tokens", "201"],
        ["admin", "GET", "/api/me", "200"],
        ["admin", "GET", "/api/instances", "200"],
    ]
    assert all(line.endswith("ms") for line in access)
    assert ADMIN_PASSWORD not in caplog.text
    assert token not in caplog.text


async def test_refused_requests_get_the_api_error_shape_and_their_line(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(server.url)
    try:
        with caplog.at_level(logging.INFO):
            unauthenticated = await client.get("/api/instances")
            unknown = await client.get("/api/no-such-route")
            not_json = await client.request(
                "POST", "/api/login", data=b"{", headers={"Content-Type": "application/json"}
            )
    finally:
        await client.close()
    assert unauthenticated.status == 401 and "error" in unauthenticated.body
    assert unknown.status == 404 and "/api/no-such-route" in unknown.body["error"]["message"]
    assert not_json.status == 400 and "body" in not_json.body["error"]["message"]
    access = [r.getMessage() for r in caplog.records if r.name == "elektraweb.cluster.access"]
    assert [line.split()[:4] for line in access] == [
        ["-", "GET", "/api/instances", "401"],
        ["-", "GET", "/api/no-such-route", "404"],
        ["-", "POST", "/api/login", "400"],
    ]


async def test_a_kept_alive_connection_owes_its_next_request_head_after_each_answer(
    tmp_path: Path, gateway: WireGateway
) -> None:
    config = Config(
        state_dir=tmp_path / "state",
        http_port=0,
        admin_password=ADMIN_PASSWORD,
        static_dir=tmp_path / "web",
        connections=ConnectionSettings(header_timeout=0.5),
    )
    server = Server(config, gateway=gateway)
    await server.start()
    try:
        host, _, port = server.url.removeprefix("http://").partition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /api/version HTTP/1.1\r\nHost: clusterd\r\n\r\n")
        async with asyncio.timeout(30):
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 401 "), head  # answered (no token)
            length = next(
                int(line.partition(b":")[2])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            # Kept alive, but silent: the head deadline runs again and closes it.
            assert await reader.read() == b""
        writer.close()
    finally:
        await server.stop()


async def test_database_is_sqlite_in_wal_mode_in_the_state_dir(
    server: Server, config: Config
) -> None:
    assert config.database_path.parent == config.state_dir
    with sqlite3.connect(config.database_path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert tables >= {
        "instances",
        "clusters",
        "cluster_keys",
        "users",
        "sessions",
        "api_tokens",
        "audit",
    }


async def test_web_client_files_are_served_without_login(
    config: Config, gateway: WireGateway, tmp_path: Path
) -> None:
    web = config.web_root
    web.mkdir(parents=True)
    (web / "index.html").write_text("<h1>elektra-web</h1>")
    (web / "app.js").write_text("export {};")
    (web / "vendor").mkdir()
    for name in VENDORED:
        (web / "vendor" / name).write_text("export {};")
    server = Server(config, gateway=gateway)
    await server.start()
    client = Client(server.url)
    try:
        assert (await client.get("/")).body == "<h1>elektra-web</h1>"
        assert (await client.get("/app.js")).body == "export {};"
        assert (await client.get("/missing.js")).status == 404
        api = await client.get("/api/instances")
        assert api.status == 401  # the static files do not shadow the API
        # Unknown API and socket paths: the API's 404 naming the path, never the page.
        for path in ("/api/unknown", "/api", "/zmq/unknown", "/zmq-unknown", "/zmq/events/x"):
            refused = await client.get(path)
            assert refused.status == 404, path
            assert refused.body["error"]["code"] == "not-found", path
            assert path in refused.body["error"]["message"]
    finally:
        await client.close()
        await server.stop()


async def test_a_web_client_without_its_libraries_is_refused_naming_them_and_the_fix(
    config: Config, gateway: WireGateway
) -> None:
    web = config.web_root
    (web / "vendor").mkdir(parents=True)
    (web / "index.html").write_text("<h1>elektra-web</h1>")
    (web / "vendor" / "preact.js").write_text("export {};")
    server = Server(config, gateway=gateway)
    with pytest.raises(ValueError) as refused:
        await server.start()
    message = str(refused.value)
    assert str(web / "vendor" / "hooks.js") in message
    assert str(web / "vendor" / "htm.js") in message
    assert "preact.js" not in message
    assert "make install" in message and "elektraweb.web.assets" in message
    assert not config.database_path.exists()  # refused before anything was opened


_RUN = """
import asyncio, logging, sys
from pathlib import Path
import pytest

from elektraweb.cluster.config import Config
from elektraweb.cluster.http.connections import ConnectionSettings
from elektraweb.cluster.http.server import Server, run

class Gateway:
    async def close(self):
        print("gateway closed", flush=True)

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
config = Config(state_dir=Path(sys.argv[1]), http_port=0, admin_password="pw-123456")
asyncio.run(run(Server(config, gateway=Gateway())))
print("stopped", flush=True)
"""


async def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _RUN,
        str(tmp_path / "state"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        while b"listening on" not in (
            line := await asyncio.wait_for(process.stderr.readline(), 30)
        ):
            assert line, "clusterd exited before listening"
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            os.kill(process.pid, signal.SIGKILL)
            await process.wait()
    assert process.returncode == 0
    assert out.decode().splitlines() == ["gateway closed", "stopped"]
