"""Changing one's own password asks for the current one: a stolen session (cookie or token)
alone cannot take the account over for good, guessing the current password through this route
is throttled like guessing at the login, and a change ends the user's other sessions.

A real clusterd process. Eve's own browser and the attacker's copy of one of her sessions are
two clients; the guesses all come from 127.0.0.1, the login throttle's defaults apply (5 free
failures, then a lockout of 1 s that doubles).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSCloseCode

from support.processes import Api, Clusterd
from support.zws import open_zws

PASSWORD = "eve-secret-1"
FREE_FAILURES = 5


@dataclass
class Accounts:
    clusterd: Clusterd
    eve: Api
    """Eve's own browser."""
    thief: Api
    """Whoever holds another session of eve's: a stolen cookie, a forgotten browser."""

    async def change(self, who: Api, body: dict[str, Any]) -> tuple[int, Any]:
        return await who("PUT", "/api/users/eve", body)

    async def can_log_in(self, password: str) -> bool:
        fresh = Api(self.clusterd.url)
        try:
            status, _ = await fresh("POST", "/api/login", {"user": "eve", "password": password})
            return status == 200
        finally:
            await fresh.close()

    async def audit(self, action: str) -> list[dict[str, Any]]:
        status, entries = await self.clusterd.api("GET", "/api/audit")
        assert status == 200, entries
        return [entry for entry in entries if entry["action"] == action]


@pytest.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[Accounts]:
    clusterd = Clusterd(tmp_path / "clusterd")
    opened: list[Api] = []
    try:
        await clusterd.start()
        user = {"name": "eve", "password": PASSWORD, "role": "editor"}
        assert (await clusterd.api("POST", "/api/users", user))[0] == 201
        for _ in ("eve", "thief"):
            client = Api(clusterd.url)
            opened.append(client)
            login = {"user": "eve", "password": PASSWORD}
            assert (await client("POST", "/api/login", login))[0] == 200
        yield Accounts(clusterd, *opened)
    finally:
        for client in opened:
            await client.close()
        await clusterd.stop()


async def test_a_stolen_session_cannot_change_the_password_without_the_current_one(
    accounts: Accounts,
) -> None:
    status, body = await accounts.change(accounts.thief, {"password": "thief-owns-it-1"})
    assert (status, body["error"]["field"]) == (400, "current_password")

    status, body = await accounts.change(
        accounts.thief, {"password": "thief-owns-it-1", "current_password": "a-guess"}
    )
    assert (status, body["error"]["code"]) == (403, "wrong-current-password")
    assert body["error"]["field"] == "current_password"

    # A token made with the stolen session is no way around it either.
    status, token = await accounts.thief("POST", "/api/tokens", {"name": "kept"})
    assert status == 201, token
    scripted = Api(accounts.clusterd.url)
    try:
        scripted.session.headers["Authorization"] = f"Bearer {token['token']}"
        status, body = await scripted("PUT", "/api/users/eve", {"password": "thief-owns-it-1"})
        assert status == 400, body
    finally:
        await scripted.close()

    assert await accounts.can_log_in(PASSWORD)
    assert not await accounts.can_log_in("thief-owns-it-1")
    [refused] = await accounts.audit("user.change")
    assert (refused["user"], refused["target"]) == ("eve", {"type": "user", "id": "eve"})
    assert refused["result"]["ok"] is False
    assert refused["result"]["error"]["code"] == "wrong-current-password"
    assert "a-guess" not in json.dumps(refused)


async def test_guessing_the_current_password_is_throttled_like_a_login(
    accounts: Accounts,
) -> None:
    for guess in range(FREE_FAILURES):
        status, body = await accounts.change(
            accounts.thief, {"password": "thief-owns-it-1", "current_password": f"guess-{guess}"}
        )
        assert status == 403, body

    status, body = await accounts.change(
        accounts.thief, {"password": "thief-owns-it-1", "current_password": PASSWORD}
    )
    # Locked means locked: even the right current password is refused, and tells nothing.
    assert (status, body["error"]["code"]) == (429, "login-throttled")
    assert body["error"]["retry_after"] >= 1
    # The same counter as the login's: guesses cannot move from one route to the other.
    status, body = await accounts.clusterd.api(
        "POST", "/api/login", {"user": "eve", "password": PASSWORD}
    )
    assert status == 429, body
    [lockout, *_] = await accounts.audit("login.lockout")
    assert (lockout["target"]["id"], lockout["after"]["failures"]) == ("eve", FREE_FAILURES)
    assert await accounts.can_log_in("thief-owns-it-1") is False


async def test_a_change_ends_the_other_sessions_and_keeps_this_one(accounts: Accounts) -> None:
    mine = await open_zws(accounts.eve.session, "/zmq")
    stolen = await open_zws(accounts.thief.session, "/zmq")

    status, body = await accounts.change(
        accounts.eve, {"password": "eve-secret-2", "current_password": PASSWORD}
    )
    assert status == 200, body

    code, _ = await stolen.closed()
    assert code == WSCloseCode.POLICY_VIOLATION
    assert (await accounts.thief("GET", "/api/me"))[0] == 401
    assert (await accounts.eve("GET", "/api/me"))[0] == 200
    reply = await mine.request(b"1", {"method": "GET", "path": "/api/me"})
    assert (reply["status"], reply["body"]["user"]) == (200, "eve")
    [changed] = await accounts.audit("user.change")
    assert changed["after"]["password_changed"] is True
    assert changed["after"]["sessions_ended"] == 1
    await mine.ws.close()
