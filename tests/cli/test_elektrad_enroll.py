"""`elektrad --enroll` end to end: real clusterd and elektrad processes on loopback. A host
enrolls with a one-time token, waits pending and uncontacted until the admin accepts it, pins
clusterd's key in its state directory and, restarted, uses it without enrolling again."""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from elektraweb.wire.keys import load_public_key
from support.processes import Api, Clusterd, EnrollingElektrad, free_port, started_clusterd

PATIENCE = 30.0


@pytest.fixture
async def clusterd(tmp_path: Path) -> AsyncIterator[Clusterd]:
    async with started_clusterd(tmp_path / "clusterd") as daemon:
        yield daemon


async def _token(api: Api, **fields: Any) -> str:
    status, body = await api("POST", "/api/enrollment-tokens", fields)
    assert status == 201, body
    return str(body["token"])


async def _instance(api: Api, name: str) -> dict[str, Any]:
    status, instances = await api("GET", "/api/instances")
    assert status == 200, instances
    [instance] = [each for each in instances if each["name"] == name]
    return dict(instance)


async def _online(api: Api, name: str) -> dict[str, Any]:
    """The instance once clusterd's link to it is up."""
    async with asyncio.timeout(PATIENCE):
        while not (instance := await _instance(api, name))["status"]["online"]:
            await asyncio.sleep(0.05)
    return instance


async def test_a_host_enrolls_waits_for_the_admin_and_restarts_without_a_token(
    tmp_path: Path, clusterd: Clusterd
) -> None:
    api = clusterd.api
    status, shop = await api("POST", "/api/clusters", {"name": "shop"})
    assert status == 201
    waiting = EnrollingElektrad(tmp_path / "app1", clusterd.url, await _token(api), "app1")
    joining = EnrollingElektrad(
        tmp_path / "app2", clusterd.url, await _token(api, cluster=shop["id"]), "app2"
    )
    try:
        await asyncio.gather(waiting.start(), joining.start())
        # Both enrolled; app2's token accepted it into shop, so clusterd links to it ...
        member = await _online(api, "app2")
        assert (member["state"], member["cluster"]) == ("accepted", shop["id"])
        assert member["public_key"] == joining.public_key
        # ... while app1 waits, never contacted: no link was ever up.
        pending = await _instance(api, "app1")
        assert pending["state"] == "pending"
        assert pending["public_key"] == waiting.public_key
        assert pending["endpoint"] == waiting.endpoint
        assert pending["status"]["last_seen"] is None
        status, refused = await api("GET", f"/api/instances/{pending['id']}/version")
        assert (status, refused["error"]["code"]) == (409, "instance-pending")

        assert "until an admin accepts it" in waiting.log_path.read_text()
        # Each pinned clusterd's key, readable by its own user only.
        for host in (waiting, joining):
            pinned = host.base / "state" / "clusterd.key"
            assert load_public_key(pinned) == clusterd.public_key
            assert stat.S_IMODE(pinned.stat().st_mode) == 0o600

        status, accepted = await api("POST", f"/api/instances/{pending['id']}/accept")
        assert (status, accepted["state"]) == (200, "accepted")
        await _online(api, "app1")

        # Restarted with the spent token on its command line: it uses the pinned key.
        await waiting.stop()
        await waiting.start()
        status, version = await api("GET", f"/api/instances/{pending['id']}/version")
        assert (status, version["instance"]) == (200, waiting.public_key)
        status, tokens = await api("GET", "/api/enrollment-tokens")
        assert [token["instance"] for token in tokens] == [pending["id"], member["id"]]
        # And without --enroll at all, as its systemd unit starts it.
        await waiting.stop()
        waiting.url = None
        await waiting.start()
        status, version = await api("GET", f"/api/instances/{pending['id']}/version")
        assert (status, version["instance"]) == (200, waiting.public_key)
    finally:
        await asyncio.gather(waiting.stop(), joining.stop())


async def test_a_spent_or_expired_token_is_refused_by_name_and_nothing_starts(
    tmp_path: Path, clusterd: Clusterd
) -> None:
    api = clusterd.api
    token = await _token(api)
    first = EnrollingElektrad(tmp_path / "first", clusterd.url, token, "first")
    try:
        await first.start()
    finally:
        await first.stop()

    # Given in a file, as a command line shows it to every local user.
    (tmp_path / "token").write_text(token + "\n")
    options = ["--token-file", str(tmp_path / "token")]
    second = EnrollingElektrad(tmp_path / "second", clusterd.url, None, "second", options)
    code, errors = await second.refused()
    assert code == 1
    assert "enrollment token was already used" in errors
    assert not (second.base / "state" / "clusterd.key").exists()

    status, created = await api("POST", "/api/enrollment-tokens", {"expires_in": 1})
    assert status == 201
    # `expires` is shown to the second, rounded down: past it and one more, the token is out.
    expires = datetime.fromisoformat(created["expires"]) + timedelta(seconds=1)
    async with asyncio.timeout(PATIENCE):
        while datetime.now(UTC) <= expires:
            await asyncio.sleep(0.1)
    late = EnrollingElektrad(tmp_path / "late", clusterd.url, created["token"], "late")
    code, errors = await late.refused()
    assert code == 1
    assert "enrollment token expired at" in errors
    status, instances = await api("GET", "/api/instances")
    assert [instance["name"] for instance in instances] == ["first"]


async def test_a_wrong_clusterd_key_given_beforehand_stops_the_enrollment(
    tmp_path: Path, clusterd: Clusterd
) -> None:
    other = Clusterd(tmp_path / "other")  # only its key: the one the operator got wrong
    token = await _token(clusterd.api)
    host = EnrollingElektrad(
        tmp_path / "app", clusterd.url, token, "app", options=[f"--clusterd-key={other.public_key}"]
    )
    code, errors = await host.refused()
    assert code == 1
    assert f"--clusterd-key {other.public_key} does not match" in errors
    assert not (host.base / "state" / "clusterd.key").exists()
    # clusterd has it as pending, and the admin who sees a host that never came rejects it.
    pending = await _instance(clusterd.api, "app")
    assert pending["state"] == "pending"
    status, _ = await clusterd.api("POST", f"/api/instances/{pending['id']}/reject")
    assert status == 200
    status, instances = await clusterd.api("GET", "/api/instances")
    assert instances == []


def _elektrad(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "elektraweb.cli.elektrad", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_enrollment_options_that_cannot_work_are_named(tmp_path: Path) -> None:
    state = ["--state", str(tmp_path / "state")]
    listen = ["--listen", "tcp://127.0.0.1:1"]
    nothing = _elektrad(*state)
    assert nothing.returncode == 2 and "--enroll URL --token TOKEN" in nothing.stderr
    stray = _elektrad(*state, "--token", "ewe_x")
    assert stray.returncode == 2 and "--token-file and --clusterd-key go with" in stray.stderr
    tokenless = _elektrad(*state, *listen, "--enroll", "http://127.0.0.1:1")
    assert tokenless.returncode == 2 and "--enroll needs --token" in tokenless.stderr
    any_port = _elektrad(
        *state, "--listen", "tcp://127.0.0.1:0", "--enroll", "http://x", "--token", "t"
    )
    assert any_port.returncode == 2 and "no fixed port" in any_port.stderr
    scheme = _elektrad(*state, *listen, "--enroll", "file:///etc/passwd", "--token", "t")
    assert scheme.returncode == 1 and "must be an http:// or https:// URL" in scheme.stderr
    closed = _elektrad(
        *state, *listen, "--enroll", f"http://127.0.0.1:{free_port()}", "--token", "t"
    )
    assert closed.returncode == 1 and "cannot reach http://127.0.0.1:" in closed.stderr
    assert not (tmp_path / "state" / "clusterd.key").exists()
