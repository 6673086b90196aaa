"""A real elektrad: `preview` makes every check of a write and stores nothing; `restore` puts
keys back all at once, each guarded by its revision (docs/protocol.md §4)."""

from __future__ import annotations

import stat
from typing import Any

import pytest

from elektraweb.wire.client import ZmqTransport
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.replies import OperationReply

from .conftest import Daemon


@pytest.fixture
def area(request: pytest.FixtureRequest) -> str:
    return f"user:/tests/{request.node.name}"


async def value_of(link: ZmqTransport, key: str) -> Any:
    found = await link.request("get", {"key": key})
    return found.get("value") if found["exists"] else "<missing>"


async def test_a_previewed_write_reports_its_changes_and_stores_nothing(
    link: ZmqTransport, area: str
) -> None:
    await link.request(
        "set", {"key": f"{area}/port", "value": "80", "meta": {"check/type": "long"}}
    )
    await link.request("set", {"key": f"{area}/db/host", "value": "db1"})
    previewed = await link.request("rm", {"key": area, "recursive": True, "preview": True})
    assert previewed["preview"] is True and previewed["removed"] == 2
    assert [(c["key"], c["new"]) for c in previewed["changes"][1:]] == [
        (f"{area}/db/host", None),
        (f"{area}/port", None),
    ]
    assert await value_of(link, f"{area}/port") == "80"

    with pytest.raises(RemoteError) as invalid:
        await link.request("set", {"key": f"{area}/port", "value": "eighty", "preview": True})
    assert invalid.value.code is ErrorCode.VALIDATION
    with pytest.raises(RemoteError) as not_a_write:
        await link.request("get", {"key": area, "preview": True})
    assert not_a_write.value.code is ErrorCode.BAD_REQUEST
    assert "preview" in not_a_write.value.message


async def test_restore_puts_keys_back_at_once_or_not_at_all(link: ZmqTransport, area: str) -> None:
    host = await link.request("set", {"key": f"{area}/db/host", "value": "db2"})
    made = await link.request("set", {"key": f"{area}/db/new", "value": "x"})
    args: dict[str, Any] = {
        "key": f"{area}/db",
        "keys": [
            {"name": f"{area}/db/host", "value": "db1", "meta": {"description": "primary"}},
            {"name": f"{area}/db/user", "value": "web"},
        ],
        "removals": [f"{area}/db/new"],
        "expect": {
            f"{area}/db/host": host["revision"],
            f"{area}/db/new": "not-its-revision",
            f"{area}/db/user": None,
        },
    }
    with pytest.raises(RemoteError) as stale:
        await link.request("restore", args)
    assert stale.value.code is ErrorCode.CONFLICT and stale.value.key == f"{area}/db/new"
    assert await value_of(link, f"{area}/db/host") == "db2"
    assert await value_of(link, f"{area}/db/user") == "<missing>"

    args["expect"][f"{area}/db/new"] = made["revision"]
    restored = await link.request("restore", args)
    assert restored["restored"] == 3
    assert await value_of(link, f"{area}/db/host") == "db1"
    assert (await link.request("get", {"key": f"{area}/db/host"}))["meta"] == {
        "description": "primary"
    }
    assert await value_of(link, f"{area}/db/user") == "web"
    assert await value_of(link, f"{area}/db/new") == "<missing>"
    outside = {**args, "removals": ["user:/elsewhere"], "expect": {}}
    with pytest.raises(RemoteError) as refused:
        await link.request("restore", outside)
    assert (
        refused.value.code is ErrorCode.BAD_REQUEST and "not at or below" in refused.value.message
    )


LAYOUTS = {
    "toml": (
        "toml",
        '# app settings\ntitle = "demo"\n\n[server]\nhost = "0.0.0.0"\n'
        "# the port the app listens on\nport = 5432  # default postgres\nworkers = 4\n\n"
        '[db]\n# primary database\nname = "orders"\nuser = "web"  # login\n\n'
        '[log]\nlevel = "info"\n',
    ),
    "ini": (
        "ini",
        "; app settings\n[server]\nhost = 0.0.0.0\n; the port the app listens on\n"
        "port = 5432\nworkers = 4\n\n[db]\n; primary database\nname = orders\nuser = web\n\n"
        "[log]\nlevel = info\n",
    ),
    "yaml": (
        "yaml",
        "# app settings\nserver:\n  host: 0.0.0.0\n  # the port the app listens on\n"
        "  port: 5432  # default postgres\n  workers: 4\ndb:\n  # primary database\n"
        "  name: orders\n  user: web  # login\nlog:\n  level: info\n",
    ),
}


@pytest.mark.parametrize("format_name", sorted(LAYOUTS))
async def test_a_delete_and_its_restore_leave_the_file_byte_for_byte(
    link: ZmqTransport, shared_daemon: Daemon, format_name: str
) -> None:
    """As clusterd's history revert does it: the removed keys' states from the rm's reply
    are put back with `restore`; the key goes back between its neighbours, below its
    comment line, with its trailing comment, and the table with the comments inside it."""
    extension, text = LAYOUTS[format_name]
    root = f"user:/layout/{format_name}"
    mounted = shared_daemon.kdb("mount", f"layout.{extension}", root, format_name)
    assert mounted.returncode == 0, mounted.stderr
    file = shared_daemon.root / "user" / f"layout.{extension}"
    file.write_text(text)
    await link.request(
        "meta-set", {"key": f"{root}/server/port", "name": "check/type", "value": "long"}
    )
    text = file.read_text()

    for removed in (f"{root}/server/port", f"{root}/db"):
        reply = await link.request("rm", {"key": removed, "recursive": True})
        assert file.read_text() != text
        restored = await link.request("restore", restore_of(removed, reply))
        assert restored["restored"] > 0
        assert file.read_text() == text
    assert (await link.request("get", {"key": f"{root}/server/port"}))["meta"] == {
        "check/type": "long"
    }


def restore_of(removed: str, reply: OperationReply) -> dict[str, Any]:
    """The `restore` that undoes the `rm` of ``removed`` that answered ``reply``, as
    clusterd's history revert sends it: the removed keys' states, each expected missing."""
    states = [(c["key"], c["old"]) for c in reply["changes"] if c["old"] is not None]
    assert states
    return {
        "key": removed,
        "keys": [{"name": name, **state} for name, state in states],
        "removals": [],
        "expect": {name: None for name, _ in states},
    }


@pytest.mark.parametrize("format_name", sorted(LAYOUTS))
async def test_a_restore_after_elektrad_restarted_leaves_the_file_byte_for_byte(
    daemon: Daemon, format_name: str
) -> None:
    """Where the removed lines stood is kept beside the file (with the file's mode), so an
    elektrad started again between a delete and its undo still puts them back in place."""
    extension, text = LAYOUTS[format_name]
    root = f"user:/layout/{format_name}"
    mounted = daemon.kdb("mount", f"layout.{extension}", root, format_name)
    assert mounted.returncode == 0, mounted.stderr
    file = daemon.root / "user" / f"layout.{extension}"
    file.parent.mkdir(exist_ok=True)
    file.write_text(text)
    file.chmod(0o600)
    record = file.with_name(f".{file.name}.removed")

    async with daemon.transport() as link:
        reply = await link.request("rm", {"key": f"{root}/db", "recursive": True})
    assert file.read_text() != text
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert daemon.terminate() == 0
    daemon.start()
    async with daemon.transport() as link:
        undo = restore_of(f"{root}/db", reply)
        restored = await link.request("restore", undo)
    assert restored["restored"] == len(undo["keys"])
    assert file.read_text() == text
    assert not record.exists()  # nothing left to put back


async def test_a_restore_of_a_critical_key_needs_a_reason(link: ZmqTransport, area: str) -> None:
    """A revert or rollback through clusterd passes the user's reason on, as a set does; a
    restore without one is refused in its transaction, naming the key, and changes nothing."""
    spec = "spec:" + area.removeprefix("user:") + "/secret"
    marked = {"key": spec, "name": "critical", "value": "1", "reason": "holds a password"}
    await link.request("meta-set", marked)
    secret = f"{area}/secret"
    written = await link.request("set", {"key": secret, "value": "new", "reason": "rotate"})
    args: dict[str, Any] = {
        "key": area,
        "keys": [{"name": secret, "value": "old"}, {"name": f"{area}/plain", "value": "p"}],
        "removals": [],
        "expect": {secret: written["revision"], f"{area}/plain": None},
    }
    with pytest.raises(RemoteError) as refused:
        await link.request("restore", args)
    assert refused.value.code is ErrorCode.REASON_REQUIRED and refused.value.key == secret
    assert await value_of(link, secret) == "new"
    assert await value_of(link, f"{area}/plain") == "<missing>"

    restored = await link.request("restore", {**args, "reason": "the rotation broke logins"})
    assert restored["restored"] == 2
    assert await value_of(link, secret) == "old"
    await link.request("rm", {"key": spec, "reason": "the test is over"})
