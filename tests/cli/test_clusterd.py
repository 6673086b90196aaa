"""The `clusterd` command end to end: real clusterd and elektrad processes on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from elektraweb.demo import processes
from elektraweb.wire.keys import ensure_keypair

BIN = Path(sys.prefix) / "bin"
PASSWORD = "clusterd-test-admin"


def free_port_pair() -> int:
    """A loopback port that is free, and so is the port 2 above it (elektrad's events)."""
    while True:
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            try:
                second.bind(("127.0.0.1", port + 2))
            except OSError:
                continue
            return port


def test_show_key_creates_the_keypair_once_and_prints_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    command = [str(BIN / "clusterd"), "--show-key", "--state", str(state)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    key = first.stdout.strip()
    assert len(key) == 40
    assert again.stdout.strip() == key == ensure_keypair(state).public
    assert stat.S_IMODE((state / "curve.key_secret").stat().st_mode) == 0o600


def test_a_bad_http_address_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "clusterd"), "--http", "localhost", "--state", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "'localhost' is not an address like 127.0.0.1:33334" in done.stderr


class Api:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(
            url,
            headers={"X-Requested-With": "test"},
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # keep cookies of 127.0.0.1
        )

    async def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.session.request(method, path, json=body) as response:
            return response.status, await response.json()


class Host:
    """One elektrad with its own KDB, allowing clusterd's key."""

    def __init__(self, base: Path, clusterd_key: str) -> None:
        self.base = base
        # As on a real host, the configuration directories exist before elektrad starts.
        for namespace in ("system", "user"):
            (base / "kdb" / namespace).mkdir(parents=True)
        self.endpoint = f"tcp://127.0.0.1:{free_port_pair()}"
        self.daemon = processes.elektrad(
            base.name,
            endpoint=self.endpoint,
            kdb_root=base / "kdb",
            home=base / "home",
            state=base / "state",
            allow_key=clusterd_key,
            log_path=base / "elektrad.log",
        )
        self.public_key = ""

    async def start(self) -> None:
        self.public_key = (await self.daemon.start())["key"]

    async def kdb(self, *args: str) -> None:
        env = {name: value for name, value in os.environ.items() if not name.startswith("KDB")}
        env.update(KDB_ROOT=str(self.base / "kdb"), HOME=str(self.base / "home"))
        process = await asyncio.create_subprocess_exec(str(BIN / "kdb"), *args, env=env)
        assert await process.wait() == 0


class System:
    def __init__(self, clusterd: processes.Daemon, api: Api, web: Host, db: Host) -> None:
        self.clusterd, self.api, self.web, self.db = clusterd, api, web, db


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    state = tmp_path / "clusterd"
    key = ensure_keypair(state).public
    web, db = Host(tmp_path / "web", key), Host(tmp_path / "db", key)
    clusterd = processes.clusterd(
        http="127.0.0.1:0", state=state, admin_password=PASSWORD, log_path=tmp_path / "clusterd.log"
    )
    daemons = [web.daemon, db.daemon, clusterd]
    try:
        started = await asyncio.gather(web.start(), db.start(), clusterd.start())
        api = Api(started[2]["url"])
        try:
            status, _ = await api("POST", "/api/login", {"user": "admin", "password": PASSWORD})
            assert status == 200
            yield System(clusterd, api, web, db)
        finally:
            await api.session.close()
    finally:
        for daemon in daemons:
            await daemon.stop()


async def add(system: System, host: Host, name: str) -> int:
    status, body = await system.api(
        "POST",
        "/api/instances",
        {"name": name, "endpoint": host.endpoint, "public_key": host.public_key},
    )
    assert status == 201, body
    return int(body["id"])


async def test_instances_are_added_once_and_read_and_written_through_clusterd(
    system: System,
) -> None:
    api = system.api
    web = await add(system, system.web, "web")
    again = await api(
        "POST",
        "/api/instances",
        {"name": "web-again", "endpoint": system.web.endpoint, "public_key": system.web.public_key},
    )
    assert again[0] == 409
    assert again[1]["error"]["code"] == "duplicate-instance"
    assert again[1]["error"]["instance"] == web

    key = quote("user:/app/port")
    status, written = await api("PUT", f"/api/instances/{web}/kdb/{key}", "8080")
    assert status == 200, written
    status, found = await api("GET", f"/api/instances/{web}/kdb/{key}")
    assert (status, found["exists"], found["value"]) == (200, True, "8080")
    status, instance = await api("GET", f"/api/instances/{web}")
    assert instance["status"]["online"] is True
    assert instance["status"]["hostname"] == socket.gethostname()


async def test_one_instance_answers_while_another_is_down(system: System) -> None:
    api = system.api
    web = await add(system, system.web, "web")
    db = await add(system, system.db, "db")
    await system.db.daemon.stop()
    path = f"/api/instances/{{}}/kdb/{quote('user:/app')}"
    (down_status, down), (up_status, _) = await asyncio.gather(
        api("GET", path.format(db)), api("GET", path.format(web))
    )
    assert up_status == 200
    assert down_status in (502, 504)
    assert down["error"]["code"] in ("unreachable", "timeout")
    assert down["error"]["instance"] == db
    status, listed = await api("GET", "/api/instances")
    assert status == 200
    assert {entry["id"]: entry["status"]["online"] for entry in listed} == {web: True, db: False}


async def subscribe(api: Api, prefix: str) -> aiohttp.ClientWebSocketResponse:
    """A ZWS 2.0 subscriber on /zmq/events: routing ids exchanged, `prefix` subscribed."""
    ws = await api.session.ws_connect("/zmq/events", protocols=("ZWS2.0",))
    assert await ws.receive_bytes() == b"\x00"  # clusterd's (empty) routing id
    await ws.send_bytes(b"\x00")
    await ws.send_bytes(b"\x00\x01" + prefix.encode())
    return ws


async def next_event(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> tuple[str, Any]:
    async with asyncio.timeout(timeout):
        topic = await ws.receive_bytes()
        body = await ws.receive_bytes()
    assert (topic[:1], body[:1]) == (b"\x01", b"\x00")  # more, last
    return topic[1:].decode(), json.loads(body[1:])


async def test_a_change_made_on_the_host_reaches_websocket_subscribers(system: System) -> None:
    api = system.api
    web = await add(system, system.web, "web")
    ws = await subscribe(api, f"instance/{web}/")
    try:
        # A subscriber hears only what is published after it is connected, all the way to
        # elektrad: write through clusterd until one of our own writes comes back.
        for attempt in range(10):
            await api("PUT", f"/api/instances/{web}/kdb/{quote('user:/app/probe')}", str(attempt))
            try:
                topic, event = await next_event(ws, timeout=1.0)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("no event for writes through clusterd")
        assert (topic, event["origin"]) == (f"instance/{web}/user:/app/probe", "elektrad")

        await system.web.kdb("set", "system:/app/color", "green")
        topic, event = await next_event(ws, timeout=10.0)
        assert topic == f"instance/{web}/system:/app/color"
        assert (event["new"]["value"], event["origin"]) == ("green", "external")
    finally:
        await ws.close()


async def test_sigterm_stops_clusterd_cleanly(system: System) -> None:
    await add(system, system.web, "web")
    assert await system.clusterd.stop() == 0
    log = system.clusterd.log_path.read_text()
    assert "clusterd stopping" in log
    assert "Traceback" not in log
