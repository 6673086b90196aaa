"""The `clusterd` command end to end: real clusterd and elektrad processes on loopback."""

from __future__ import annotations

import asyncio
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from elektraweb.wire.keys import ensure_keypair
from support.processes import Api, Clusterd, Elektrad
from support.zws import next_event, subscribe_events

BIN = Path(sys.prefix) / "bin"


def test_show_key_creates_the_keypair_once_and_prints_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    command = [str(BIN / "clusterd"), "--show-key", "--state", str(state)]
    first = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    again = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    key = first.stdout.strip()
    assert len(key) == 40
    assert again.stdout.strip() == key == ensure_keypair(state).public
    assert stat.S_IMODE((state / "curve.key_secret").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        (["--http", "localhost"], "'localhost' is not an address like 127.0.0.1:33334"),
        (["--event-queue-limit", "0"], "--event-queue-limit: '0' is not a positive number"),
        (["--replica-id", "r1"], "--replica-id needs --database postgresql://"),
    ],
    ids=["http address", "event queue limit", "replica without a shared database"],
)
def test_a_bad_option_is_a_usage_error_naming_it(
    tmp_path: Path, options: list[str], refusal: str
) -> None:
    done = subprocess.run(
        [str(BIN / "clusterd"), *options, "--state", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert refusal in done.stderr


@dataclass
class System:
    clusterd: Clusterd
    web: Elektrad
    db: Elektrad

    @property
    def api(self) -> Api:
        return self.clusterd.api


@pytest.fixture
async def system(tmp_path: Path) -> AsyncIterator[System]:
    clusterd = Clusterd(tmp_path / "clusterd")
    web = Elektrad(tmp_path / "web", clusterd.public_key, "web")
    db = Elektrad(tmp_path / "db", clusterd.public_key, "db")
    try:
        await asyncio.gather(web.start(), db.start(), clusterd.start())
        yield System(clusterd, web, db)
    finally:
        await asyncio.gather(web.stop(), db.stop())
        await clusterd.stop()


async def add(system: System, host: Elektrad, name: str) -> int:
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
    await system.db.stop()
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


async def test_a_change_made_on_the_host_reaches_websocket_subscribers(system: System) -> None:
    api = system.api
    web = await add(system, system.web, "web")
    ws = await subscribe_events(api.session, f"instance/{web}/")
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


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_one_start_line_and_a_clean_stop_on_a_signal(
    system: System, signum: signal.Signals
) -> None:
    await add(system, system.web, "web")
    await system.clusterd.stop(signum)  # fails unless clusterd exits by itself with code 0
    log = system.clusterd.log()
    starts = [line for line in log.splitlines() if "listening on" in line]
    assert starts == [
        f"clusterd listening on {system.clusterd.url}, public key {system.clusterd.public_key},"
        f" state {system.clusterd.state}"
    ]
    assert "clusterd stopping" in log
    assert "Traceback" not in log
