"""Logins as a browser on another machine makes them: from a loopback address of the test's
choosing (127.0.0.x), so that the throttle's per-address counters can be told apart."""

from __future__ import annotations

import json
from typing import Any

import aiohttp


async def login_from(
    url: str, source: str, user: str, password: str
) -> tuple[int, dict[str, Any], str | None]:
    """One login at the clusterd at `url` from loopback address `source`: status, body,
    Retry-After."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(f"{url}/api/login", json={"user": user, "password": password}) as answer,
    ):
        return answer.status, json.loads(await answer.text()), answer.headers.get("Retry-After")
