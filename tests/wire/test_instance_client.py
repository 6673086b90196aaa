"""InstanceClient: each operation's arguments as docs/protocol.md specifies them."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.wire import (
    OPERATIONS,
    ErrorCode,
    Expect,
    InProcessTransport,
    InstanceClient,
    RemoteError,
    Reply,
    Request,
)


class Scripted:
    """Records requests and answers each op with a canned result."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.results = results
        self.requests: list[Request] = []

    async def __call__(self, request: Request) -> Reply:
        self.requests.append(request)
        result = self.results.get(request.op, {})
        return Reply(result(request.args) if callable(result) else result)

    @property
    def last(self) -> tuple[str, dict[str, Any]]:
        return self.requests[-1].op, self.requests[-1].args


def client_for(results: dict[str, Any] | None = None) -> tuple[InstanceClient, Scripted]:
    handler = Scripted(results or {})
    return InstanceClient(InProcessTransport(handler)), handler


def test_every_operation_has_a_method() -> None:
    methods = {op.replace("-", "_") + ("_" if op == "import" else "") for op in OPERATIONS}
    assert all(callable(getattr(InstanceClient, name, None)) for name in methods)


async def test_set_sends_value_meta_and_compare_and_set_conditions() -> None:
    client, handler = client_for()
    await client.set("user:/a", "1")
    assert handler.last == ("set", {"key": "user:/a", "value": "1"})
    await client.set(
        "user:/a", None, meta={"check/type": "long", "old": None}, expect="abc", cluster="c1"
    )
    assert handler.last == (
        "set",
        {
            "key": "user:/a",
            "value": None,
            "meta": {"check/type": "long", "old": None},
            "expect": "abc",
            "cluster": "c1",
        },
    )
    await client.set("user:/new", "v", expect=Expect.ABSENT)
    assert handler.last[1]["expect"] is None


async def test_reads_and_their_defaults() -> None:
    client, handler = client_for({"mounts": {"mounts": []}})
    await client.get("user:/a", depth=2)
    assert handler.last == ("get", {"key": "user:/a", "depth": 2})
    await client.find("port$", values=True, limit=5)
    assert handler.last == ("find", {"regex": "port$", "values": True, "limit": 5})
    assert await client.mounts() == []


async def test_mount_and_umount_send_their_documented_arguments() -> None:
    client, handler = client_for()
    await client.mount("system:/app", "/srv/conf/app.ini")
    assert handler.last == ("mount", {"mountpoint": "system:/app", "path": "/srv/conf/app.ini"})
    await client.mount("system:/app", "/srv/conf/app", format="toml")
    assert handler.last[1]["format"] == "toml"
    await client.umount("system:/app")
    assert handler.last == ("umount", {"mountpoint": "system:/app"})


async def test_writes_send_their_documented_arguments() -> None:
    client, handler = client_for(
        {
            "rm": {"removed": 3},
            "export": {"format": "toml", "data": "a = 1\n"},
            "lock": {"cluster": "c", "keys": ["user:/a"]},
            "unlock": {"cluster": "c", "keys": []},
        }
    )
    assert await client.rm("user:/a", recursive=True, cluster="c") == 3
    assert handler.last == ("rm", {"key": "user:/a", "recursive": True, "cluster": "c"})
    await client.mv("user:/a", "user:/b", force=True)
    assert handler.last == (
        "mv",
        {"key": "user:/a", "target": "user:/b", "recursive": False, "force": True},
    )
    await client.meta_bulk("user:/a", {"x": "1", "y": None}, expect="r")
    assert handler.last == (
        "meta-bulk",
        {"key": "user:/a", "meta": {"x": "1", "y": None}, "expect": "r"},
    )
    await client.set_all("user:/app", [{"name": "user:/app/a", "value": "1"}])
    assert handler.last == (
        "set-all",
        {"key": "user:/app", "keys": [{"name": "user:/app/a", "value": "1"}]},
    )
    assert await client.export("user:/app", "toml") == "a = 1\n"
    await client.import_("user:/app", "ini", "a = 1\n", strategy="replace")
    assert handler.last == (
        "import",
        {"key": "user:/app", "format": "ini", "data": "a = 1\n", "strategy": "replace"},
    )
    assert await client.lock("c", ["user:/a"]) == ["user:/a"]
    assert await client.unlock("c") == []
    assert handler.last == ("unlock", {"cluster": "c"})


async def test_ls_all_follows_the_cursor_through_every_page() -> None:
    names = [f"user:/k/{i}" for i in range(7)]

    def page(args: dict[str, Any]) -> dict[str, Any]:
        start = names.index(args["cursor"]) + 1 if "cursor" in args else 0
        chunk = names[start : start + args["limit"]]
        more = start + args["limit"] < len(names)
        return {"keys": chunk, "next": chunk[-1] if more else None}

    client, handler = client_for({"ls": page})
    assert [name async for name in client.ls_all("user:/k", page=3)] == names
    assert len(handler.requests) == 3
    assert handler.requests[0].args == {"key": "user:/k", "limit": 3, "depth": None}


async def test_a_result_that_is_not_an_object_is_an_internal_error() -> None:
    client, _ = client_for({"version": ["not", "an", "object"]})
    with pytest.raises(RemoteError) as caught:
        await client.version()
    assert caught.value.code is ErrorCode.INTERNAL
