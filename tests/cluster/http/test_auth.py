"""Authentication (cookie, bearer token, ?token=), roles and CSRF against a running clusterd."""

from __future__ import annotations

import sqlite3

import pytest
from yarl import URL

from elektraweb.cluster.config import Config
from elektraweb.cluster.http.server import Server

from ..conftest import ClientFactory, Register
from ..fakes import ADMIN_PASSWORD, Client


async def test_every_api_route_but_login_needs_authentication(clients: ClientFactory) -> None:
    anonymous = await clients()
    for method, path in [
        ("GET", "/api/version"),
        ("GET", "/api/instances"),
        ("GET", "/api/openapi.json"),
        ("POST", "/api/clusters"),
        ("GET", "/api/instances/1/kdb/user:/app"),
        ("GET", "/api/audit"),
        ("GET", "/api/me"),
    ]:
        answer = await anonymous.request(method, path)
        assert answer.status == 401, (method, path)
        assert answer.body["error"]["code"] == "unauthorized"


async def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(
    clients: ClientFactory,
) -> None:
    client = await clients()
    login = await client.login("admin", ADMIN_PASSWORD)
    assert login.status == 200
    assert login.body == {"name": "admin", "role": "admin"}
    cookie = login.headers["Set-Cookie"]
    assert cookie.startswith("clusterd_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/" in cookie
    me = await client.get("/api/me")
    assert me.body == {"user": "admin", "role": "admin", "via": "session"}

    stolen = client.session.cookie_jar.filter_cookies(URL(client.base))["clusterd_session"].value
    assert (await client.post("/api/logout")).status == 204
    assert (await client.get("/api/me")).status == 401
    replayed = await client.get("/api/me", headers={"Cookie": f"clusterd_session={stolen}"})
    assert replayed.status == 401


async def test_wrong_password_and_unknown_user_get_the_same_refusal(clients: ClientFactory) -> None:
    client = await clients()
    wrong = await client.login("admin", "not-the-password")
    unknown = await client.login("nobody", "not-the-password")
    assert wrong.status == unknown.status == 401
    assert wrong.body == unknown.body
    assert "Set-Cookie" not in wrong.headers


async def test_wrong_or_malformed_tokens_are_refused(clients: ClientFactory, admin: Client) -> None:
    client = await clients()
    for header in ["Bearer ewt_wrong", "Bearer ", "Basic YWRtaW46eA=="]:
        answer = await client.get("/api/me", headers={"Authorization": header})
        assert answer.status == 401, header
    assert (await client.get("/api/me?token=ewt_wrong")).status == 401


async def test_a_wrong_token_is_not_rescued_by_a_valid_cookie(admin: Client) -> None:
    answer = await admin.get("/api/me", headers={"Authorization": "Bearer ewt_wrong"})
    assert answer.status == 401


async def test_token_is_shown_once_stored_hashed_and_works_until_revoked(
    admin: Client, clients: ClientFactory, config: Config
) -> None:
    created = await admin.post("/api/tokens", {"name": "ci", "role": "viewer"})
    assert created.status == 201
    secret = created.body["token"]
    assert secret.startswith("ewt_")
    listed = await admin.get("/api/tokens")
    assert listed.body == [{k: v for k, v in created.body.items() if k != "token"}]
    assert secret not in str(listed.body)
    with sqlite3.connect(config.database_path) as db:
        stored = db.execute("SELECT token_hash FROM api_tokens").fetchall()
    assert stored and all(secret not in row[0] for row in stored)

    script = await clients()
    bearer = {"Authorization": f"Bearer {secret}"}
    me = await script.get("/api/me", headers=bearer)
    assert me.body == {"user": "admin", "role": "viewer", "via": "token"}
    assert (await script.get(f"/api/me?token={secret}")).status == 200
    # The token's role, not the user's: a viewer token cannot write.
    refused = await script.post("/api/clusters", {"name": "x"}, headers=bearer)
    assert refused.status == 403

    assert (await admin.delete(f"/api/tokens/{created.body['id']}")).status == 200
    assert (await script.get("/api/me", headers=bearer)).status == 401


async def test_a_token_role_cannot_exceed_its_user(clients: ClientFactory) -> None:
    editor = await clients("editor")
    refused = await editor.post("/api/tokens", {"name": "root", "role": "admin"})
    assert refused.status == 403
    own = await editor.post("/api/tokens", {"name": "mine"})
    assert own.body["role"] == "editor"


async def test_users_see_and_revoke_only_their_own_tokens(
    admin: Client, clients: ClientFactory
) -> None:
    theirs = await admin.post("/api/tokens", {"name": "admin-token"})
    viewer = await clients("viewer")
    mine = await viewer.post("/api/tokens", {"name": "viewer-token"})
    assert [t["name"] for t in (await viewer.get("/api/tokens")).body] == ["viewer-token"]
    assert (await viewer.delete(f"/api/tokens/{theirs.body['id']}")).status == 404
    assert {t["name"] for t in (await admin.get("/api/tokens")).body} == {
        "admin-token",
        "viewer-token",
    }
    assert (await viewer.delete(f"/api/tokens/{mine.body['id']}")).status == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/clusters", {"name": "c"}),
        ("POST", "/api/instances", {"name": "i", "endpoint": "h", "public_key": "k"}),
        ("DELETE", "/api/instances/1", None),
        ("POST", "/api/users", {"name": "u", "password": "long-enough", "role": "viewer"}),
        ("PUT", "/api/instances/1/kdb/user:/app", "v"),
        ("POST", "/api/instances/1/kdbMeta/user:/app", {"key": "k", "value": "v"}),
    ],
)
async def test_viewer_cannot_write(
    clients: ClientFactory, method: str, path: str, body: object
) -> None:
    viewer = await clients("viewer")
    answer = await viewer.request(method, path, body)
    assert answer.status == 403
    assert "needs role" in answer.body["error"]["message"]


async def test_editor_configures_but_does_not_manage_the_registry(
    clients: ClientFactory, register: Register
) -> None:
    instance = await register("web-1", 40001)
    editor = await clients("editor")
    written = await editor.put(f"/api/instances/{instance['id']}/kdb/user:/app", "v")
    assert written.status == 200
    assert (await editor.post("/api/clusters", {"name": "c"})).status == 403
    assert (await editor.get("/api/users")).status == 403


async def test_cookie_writes_need_proof_of_origin(server: Server, clients: ClientFactory) -> None:
    bare = Client(server.url)  # no X-Requested-With
    try:
        assert (await bare.login("admin", ADMIN_PASSWORD)).status == 200
        refused = await bare.post("/api/clusters", {"name": "c"})
        assert refused.status == 403
        assert refused.body["error"]["code"] == "csrf"
        foreign = await bare.post(
            "/api/clusters", {"name": "c"}, headers={"Origin": "https://evil.example"}
        )
        assert foreign.status == 403
        same = await bare.post("/api/clusters", {"name": "c"}, headers={"Origin": server.url})
        assert same.status == 201
        assert (await bare.get("/api/clusters")).status == 200  # reads need no proof
    finally:
        await bare.close()


async def test_login_from_a_foreign_origin_is_refused(clients: ClientFactory) -> None:
    client = await clients()
    answer = await client.post(
        "/api/login",
        {"user": "admin", "password": ADMIN_PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert answer.status == 403
    assert "Set-Cookie" not in answer.headers


async def test_token_writes_need_no_origin_proof(server: Server, admin: Client) -> None:
    secret = (await admin.post("/api/tokens", {"name": "script"})).body["token"]
    script = Client(server.url, {"Authorization": f"Bearer {secret}"})
    try:
        assert (await script.post("/api/clusters", {"name": "c"})).status == 201
    finally:
        await script.close()


async def test_a_new_role_applies_to_the_very_next_request(
    admin: Client, clients: ClientFactory
) -> None:
    editor = await clients("editor")
    secret = (await editor.post("/api/tokens", {"name": "script"})).body["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    # Both credentials have just been checked, so clusterd remembers them.
    assert (await editor.get("/api/me")).body["role"] == "editor"
    assert (await editor.get("/api/me", headers=bearer)).body["role"] == "editor"

    assert (await admin.put("/api/users/editor", {"role": "viewer"})).status == 200
    assert (await editor.get("/api/me")).body["role"] == "viewer"
    assert (await editor.get("/api/me", headers=bearer)).body["role"] == "viewer"
    assert (await editor.post("/api/clusters", {"name": "c"}, headers=bearer)).status == 403


async def test_a_removed_user_is_refused_at_once(admin: Client, clients: ClientFactory) -> None:
    viewer = await clients("viewer")
    secret = (await viewer.post("/api/tokens", {"name": "script"})).body["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert (await viewer.get("/api/me")).status == 200
    assert (await viewer.get("/api/me", headers=bearer)).status == 200

    assert (await admin.delete("/api/users/viewer")).status == 200
    assert (await viewer.get("/api/me")).status == 401
    assert (await viewer.get("/api/me", headers=bearer)).status == 401
