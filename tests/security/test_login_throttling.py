"""Issue 8 item 6: password guessing is throttled, per user name and per client address.

A real clusterd process; the guesses come from different loopback addresses (127.0.0.x), so
each test sees the user counter and the address counter apart. Its defaults apply: 5 failures
free, then a lockout of 1 s that doubles with every further failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from support.logins import login_from
from support.processes import ADMIN_PASSWORD, Clusterd, started_clusterd

FREE_FAILURES = 5


@pytest.fixture
async def clusterd(tmp_path: Path) -> AsyncIterator[Clusterd]:
    async with started_clusterd(tmp_path / "clusterd") as daemon:
        yield daemon


async def login(
    clusterd: Clusterd, source: str, user: str, password: str
) -> tuple[int, dict[str, Any], str | None]:
    """One login from loopback address `source`: status, body, Retry-After."""
    return await login_from(clusterd.url, source, user, password)


async def lockouts(clusterd: Clusterd) -> list[dict[str, Any]]:
    status, entries = await clusterd.api("GET", "/api/audit?user=clusterd")
    assert status == 200, entries
    return [entry for entry in entries if entry["action"] == "login.lockout"]


@pytest.mark.parametrize("user", ["admin", "nobody"])
async def test_guessing_a_password_is_locked_out_known_user_or_not(
    clusterd: Clusterd, user: str
) -> None:
    for guess in range(FREE_FAILURES):
        status, body, _ = await login(clusterd, f"127.0.0.{10 + guess}", user, f"guess-{guess}")
        assert (status, body["error"]["code"]) == (401, "login-failed")

    status, body, retry_after = await login(clusterd, "127.0.0.20", user, "guess-5")
    assert (status, body["error"]["code"]) == (429, "login-throttled")
    assert retry_after is not None and int(retry_after) >= 1
    assert body["error"]["retry_after"] == int(retry_after)
    # Locked means locked: the right password is refused too, and tells nothing.
    status, _, _ = await login(clusterd, "127.0.0.21", user, ADMIN_PASSWORD)
    assert status == 429

    [lockout] = await lockouts(clusterd)
    assert lockout["target"] == {"type": "user", "id": user}
    assert lockout["after"]["locked"] == "user"
    assert lockout["after"]["failures"] == FREE_FAILURES

    # Once the announced time has passed, the right password logs in (and clears the count).
    await asyncio.sleep(int(retry_after))
    status, _, _ = await login(clusterd, "127.0.0.22", user, ADMIN_PASSWORD)
    assert status == (200 if user == "admin" else 401)


async def test_one_address_guessing_many_names_is_locked_out(clusterd: Clusterd) -> None:
    for guess in range(FREE_FAILURES):
        status, _, _ = await login(clusterd, "127.0.0.30", f"user-{guess}", "wrong-password")
        assert status == 401
    status, body, retry_after = await login(clusterd, "127.0.0.30", "admin", ADMIN_PASSWORD)
    assert (status, body["error"]["code"]) == (429, "login-throttled")
    assert retry_after is not None
    [lockout] = await lockouts(clusterd)
    assert (lockout["after"]["locked"], lockout["after"]["address"]) == ("address", "127.0.0.30")
    # Another address is not affected.
    assert (await login(clusterd, "127.0.0.31", "admin", ADMIN_PASSWORD))[0] == 200


async def test_the_lockout_doubles_with_each_further_failure(clusterd: Clusterd) -> None:
    for guess in range(FREE_FAILURES):
        assert (await login(clusterd, "127.0.0.40", "admin", f"guess-{guess}"))[0] == 401
    for guess in range(3):
        status, _, retry_after = await login(clusterd, "127.0.0.40", "admin", "during")
        assert status == 429 and retry_after is not None
        await asyncio.sleep(int(retry_after))  # wait it out; the next guess counts again
        assert (await login(clusterd, "127.0.0.40", "admin", f"after-{guess}"))[0] == 401
    locked = [entry["after"] for entry in reversed(await lockouts(clusterd))]
    by_user = [(e["failures"], e["seconds"]) for e in locked if e["locked"] == "user"]
    assert by_user == [(5, 1.0), (6, 2.0), (7, 4.0), (8, 8.0)]
    assert [entry["failures"] for entry in locked if entry["locked"] == "address"] == [5, 6, 7, 8]
