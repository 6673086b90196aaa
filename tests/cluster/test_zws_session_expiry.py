"""An open ZWS socket ends with its session: the periodic re-check closes it once the session
has expired, though nothing in clusterd announced a change (a real clusterd in this process;
the session's expiry is moved by another program, here a second SQLite connection)."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode

from elektraweb.cluster import credentials, zws_routes
from elektraweb.cluster.config import Config
from elektraweb.cluster.events import EventHub
from elektraweb.cluster.server import Server
from elektraweb.cluster.zws_routes import zws_extension
from support.zws import open_zws


async def test_sockets_close_when_their_session_expires(
    config: Config, gateway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zws_routes, "RECHECK_SECONDS", 0.2)
    monkeypatch.setattr(credentials, "CHECKED_SECONDS", 0.1)
    hub = EventHub()
    clusterd = Server(config, gateway=gateway, extensions=[zws_extension(hub)])
    await clusterd.start()
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            login = {"user": "admin", "password": config.admin_password}
            async with session.post(f"{clusterd.url}/api/login", json=login) as response:
                assert response.status == 200
            requests = await open_zws(session, f"{clusterd.url}/zmq")
            events = await open_zws(session, f"{clusterd.url}/zmq/events")
            reply = await requests.request(b"1", {"method": "GET", "path": "/api/version"})
            assert reply["status"] == 200  # open and served while the session lasts
            with contextlib.closing(sqlite3.connect(config.database_path)) as other, other:
                other.execute("UPDATE sessions SET expires = 0")
            for client in (requests, events):
                code, reason = await client.closed()
                assert code == WSCloseCode.POLICY_VIOLATION
                assert "session ended" in reason
            async with session.get(f"{clusterd.url}/api/me") as response:
                assert response.status == 401
    finally:
        await clusterd.stop()
        hub.close()
