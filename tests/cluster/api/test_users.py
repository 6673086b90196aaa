"""PUT /api/users/{name} with a password: one's own needs the current one (admins too), an
admin's reset of someone else's does not; either ends the user's other sessions."""

from __future__ import annotations

from typing import Any

from ..conftest import ClientFactory
from ..fakes import ADMIN_PASSWORD, USER_PASSWORD, Client


async def changes(admin: Client) -> list[dict[str, Any]]:
    entries = (await admin.get("/api/audit")).body
    return [entry for entry in entries if entry["action"] == "user.change"]


async def test_ones_own_password_needs_the_current_one(clients: ClientFactory) -> None:
    editor = await clients("editor")
    admin = await clients("admin")

    missing = await editor.put("/api/users/editor", {"password": "editor-new-1"})
    assert missing.status == 400
    assert missing.body["error"]["field"] == "current_password"
    wrong = await editor.put(
        "/api/users/editor", {"password": "editor-new-1", "current_password": "not-it"}
    )
    assert (wrong.status, wrong.body["error"]["code"]) == (403, "wrong-current-password")
    assert (await (await clients()).login("editor", "editor-new-1")).status == 401
    [refused] = await changes(admin)
    assert (refused["user"], refused["result"]["ok"]) == ("editor", False)

    right = await editor.put(
        "/api/users/editor", {"password": "editor-new-1", "current_password": USER_PASSWORD}
    )
    assert right.status == 200, right.body
    assert (await (await clients()).login("editor", "editor-new-1")).status == 200
    assert (await (await clients()).login("editor", USER_PASSWORD)).status == 401


async def test_an_admin_resets_another_password_without_it_but_not_their_own(
    clients: ClientFactory,
) -> None:
    viewer = await clients("viewer")
    admin = await clients("admin")
    other_admin_session = await clients("admin")

    reset = await admin.put("/api/users/viewer", {"password": "viewer-reset-1"})
    assert reset.status == 200, reset.body
    assert (await viewer.get("/api/me")).status == 401  # the reset user's sessions all end
    assert (await admin.get("/api/me")).status == 200

    own = await admin.put("/api/users/admin", {"password": "admin-new-1"})
    assert (own.status, own.body["error"]["field"]) == (400, "current_password")
    own = await admin.put(
        "/api/users/admin", {"password": "admin-new-1", "current_password": ADMIN_PASSWORD}
    )
    assert own.status == 200, own.body
    assert (await other_admin_session.get("/api/me")).status == 401
    assert (await admin.get("/api/me")).status == 200  # this session stays
    ended = [entry["after"]["sessions_ended"] for entry in reversed(await changes(admin))]
    # The viewer's one session; the other admin session and the one the fixture made the
    # viewer with.
    assert ended == [1, 2]


async def test_a_role_change_alone_asks_nothing_and_ends_no_session(
    clients: ClientFactory,
) -> None:
    editor = await clients("editor")
    admin = await clients("admin")
    assert (await admin.put("/api/users/editor", {"role": "viewer"})).status == 200
    assert (await editor.get("/api/me")).body["role"] == "viewer"


async def test_wrong_current_passwords_lock_out_the_change_and_the_login(
    clients: ClientFactory,
) -> None:
    viewer = await clients("viewer")
    guess = {"password": "taken-over-1", "current_password": "guess"}
    statuses = [(await viewer.put("/api/users/viewer", guess)).status for _ in range(6)]
    assert statuses == [403, 403, 403, 403, 403, 429]
    locked = await (await clients()).login("viewer", USER_PASSWORD)
    assert (locked.status, locked.body["error"]["code"]) == (429, "login-throttled")
