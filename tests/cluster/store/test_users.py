"""The first admin, users and their roles, through a running clusterd."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest

from elektraweb.cluster.config import Config
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.wire_gateway import WireGateway

from ..conftest import ClientFactory
from ..fakes import USER_PASSWORD, Client


async def _first_start(
    config: Config, gateway: WireGateway, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server(config, gateway=gateway)
    with caplog.at_level(logging.DEBUG):
        await server.start()
        await server.stop()


async def test_first_admin_password_is_generated_printed_once_and_never_logged(
    config: Config,
    gateway: WireGateway,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLUSTERD_ADMIN_PASSWORD", raising=False)
    config = replace(config, admin_password=None)
    await _first_start(config, gateway, caplog)
    printed = capsys.readouterr().out
    password = re.search(r"user 'admin' with password (\S+)", printed)
    assert password is not None
    assert password[1] not in caplog.text

    server = Server(config, gateway=gateway)
    await server.start()
    client = Client(server.url)
    try:
        assert (await client.login("admin", password[1])).status == 200
    finally:
        await client.close()
        await server.stop()
    assert "password" not in capsys.readouterr().out  # the second start prints nothing


async def test_first_admin_password_from_the_environment(
    config: Config,
    gateway: WireGateway,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLUSTERD_ADMIN_PASSWORD", "from-the-env-1")
    config = replace(config, admin_password=None)
    await _first_start(config, gateway, caplog)
    assert "from-the-env-1" not in capsys.readouterr().out + caplog.text
    server = Server(config, gateway=gateway)
    await server.start()
    client = Client(server.url)
    try:
        assert (await client.login("admin", "from-the-env-1")).status == 200
    finally:
        await client.close()
        await server.stop()


async def test_a_too_short_first_password_stops_the_start(
    config: Config, gateway: WireGateway, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ValueError, match="at least 8 characters"):
        await _first_start(replace(config, admin_password="short"), gateway, caplog)


async def test_admin_manages_users(admin: Client, clients: ClientFactory) -> None:
    created = await admin.post(
        "/api/users", {"name": "olga", "password": USER_PASSWORD, "role": "viewer"}
    )
    assert created.status == 201
    duplicate = await admin.post(
        "/api/users", {"name": "olga", "password": USER_PASSWORD, "role": "viewer"}
    )
    assert duplicate.status == 409
    short = await admin.post("/api/users", {"name": "p", "password": "short", "role": "viewer"})
    assert short.status == 400
    assert "password" in short.body["error"]["message"]

    olga = await clients()
    assert (await olga.login("olga", USER_PASSWORD)).status == 200
    promoted = await admin.put("/api/users/olga", {"role": "editor"})
    assert promoted.body == {"name": "olga", "role": "editor"}
    assert (await olga.get("/api/me")).body["role"] == "editor"  # effective at once

    assert (await admin.delete("/api/users/olga")).status == 200
    assert (await olga.get("/api/me")).status == 401  # sessions die with the user
    assert [u["name"] for u in (await admin.get("/api/users")).body] == ["admin"]


async def test_the_last_admin_cannot_be_removed_or_demoted(admin: Client) -> None:
    assert (await admin.delete("/api/users/admin")).status == 409
    demoted = await admin.put("/api/users/admin", {"role": "viewer"})
    assert demoted.status == 409
    assert demoted.body["error"]["code"] == "last-admin"
    await admin.post("/api/users", {"name": "root2", "password": USER_PASSWORD, "role": "admin"})
    assert (await admin.put("/api/users/admin", {"role": "viewer"})).status == 200


async def test_users_change_their_own_password_only(clients: ClientFactory) -> None:
    viewer = await clients("viewer")
    await clients("editor")
    own = await viewer.put(
        "/api/users/viewer", {"password": "a-new-password", "current_password": USER_PASSWORD}
    )
    assert own.status == 200
    assert (await viewer.put("/api/users/viewer", {"role": "admin"})).status == 403
    assert (await viewer.put("/api/users/editor", {"password": "hijacked-1"})).status == 403
    fresh = await clients()
    assert (await fresh.login("viewer", USER_PASSWORD)).status == 401
    assert (await fresh.login("viewer", "a-new-password")).status == 200
