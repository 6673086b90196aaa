"""Keys a cluster owns: every other write touching them is refused, also after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from elektraweb.instance.locks import LockedError, LockTable
from elektraweb.wire.client import ZmqTransport
from elektraweb.wire.errors import ErrorCode, RemoteError

from .conftest import Daemon

OWNED = "user:/app/owned"
FREE = "user:/app/free"


async def assert_locked(link: ZmqTransport, op: str, args: dict[str, Any]) -> None:
    with pytest.raises(RemoteError) as caught:
        await link.request(op, args)
    assert caught.value.code is ErrorCode.LOCKED, caught.value
    assert caught.value.key == OWNED
    assert "c1" in caught.value.message


WRITES_TOUCHING_OWNED: list[tuple[str, dict[str, Any]]] = [
    ("set", {"key": OWNED, "value": "mine"}),
    ("rm", {"key": OWNED}),
    ("rm", {"key": "user:/app", "recursive": True}),
    ("mv", {"key": FREE, "target": OWNED, "force": True}),
    ("mv", {"key": OWNED, "target": "user:/app/elsewhere"}),
    ("cp", {"key": FREE, "target": OWNED, "force": True}),
    ("meta-set", {"key": OWNED, "name": "description", "value": "d"}),
    ("meta-rm", {"key": OWNED, "name": "description"}),
    ("meta-bulk", {"key": OWNED, "meta": {"order": "1"}}),
    ("set-all", {"key": "user:/app", "keys": [{"name": FREE, "value": "x"}]}),
]


async def test_locked_keys_refuse_writes_and_survive_restart(daemon: Daemon) -> None:
    async with daemon.transport() as link:
        await link.request("set", {"key": OWNED, "value": "cluster's"})
        await link.request("set", {"key": FREE, "value": "anyone's"})
        owned = await link.request("lock", {"cluster": "c1", "keys": [OWNED]})
        assert owned == {"cluster": "c1", "keys": [OWNED]}
        for op, args in WRITES_TOUCHING_OWNED:
            await assert_locked(link, op, args)
        exported = await link.request("export", {"key": "user:/app", "format": "dump"})
        await assert_locked(
            link,
            "import",
            {"key": "user:/app", "format": "dump", "data": exported["data"], "strategy": "replace"},
        )
        # The owner writes; others write around the lock.
        await link.request("set", {"key": OWNED, "value": "new", "cluster": "c1"})
        await link.request("set", {"key": FREE, "value": "still mine"})
        with pytest.raises(RemoteError) as caught:
            await link.request("lock", {"cluster": "c2", "keys": [OWNED]})
        assert caught.value.code is ErrorCode.LOCKED
    assert daemon.terminate() == 0
    daemon.start()
    async with daemon.transport() as link:
        await assert_locked(link, "set", {"key": OWNED, "value": "after restart"})
        assert (await link.request("lock", {"cluster": "c1", "keys": []}))["keys"] == [OWNED]
        released = await link.request("unlock", {"cluster": "c1"})
        assert released == {"cluster": "c1", "keys": []}
        await link.request("set", {"key": OWNED, "value": "free again"})
        assert (await link.request("get", {"key": OWNED}))["value"] == "free again"


async def test_version_tells_which_clusters_hold_locks_also_after_a_restart(
    daemon: Daemon,
) -> None:
    async with daemon.transport() as link:
        assert (await link.request("version"))["locks"] == {}
        await link.request("lock", {"cluster": "c1", "keys": [OWNED, FREE]})
        await link.request("lock", {"cluster": "c2", "keys": ["user:/other"]})
        assert (await link.request("version"))["locks"] == {"c1": 2, "c2": 1}
    assert daemon.terminate() == 0
    daemon.start()
    async with daemon.transport() as link:
        assert (await link.request("version"))["locks"] == {"c1": 2, "c2": 1}
        await link.request("unlock", {"cluster": "c1"})
        assert (await link.request("version"))["locks"] == {"c2": 1}


def test_lock_table_is_kept_on_disk(tmp_path: Path) -> None:
    table = LockTable(tmp_path)
    table.lock("c1", ["user:/a", "user:/b/../c"])
    table.lock("c2", ["system:/x"])
    table.unlock("c1", ["user:/a"])
    reread = LockTable(tmp_path)
    assert reread.by_cluster() == {"c1": ["user:/c"], "c2": ["system:/x"]}
    reread.check(["user:/c"], cluster="c1")
    with pytest.raises(LockedError) as caught:
        reread.check(subtrees=["user:/"], cluster="c2")
    assert (caught.value.key, caught.value.cluster) == ("user:/c", "c1")
    # Locks name exact keys: the parent and the children of a locked key are free.
    reread.check(["user:/", "user:/c/child"])


def test_a_damaged_lock_table_is_reported(tmp_path: Path) -> None:
    (tmp_path / "locks.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"locks\.json"):
        LockTable(tmp_path)
