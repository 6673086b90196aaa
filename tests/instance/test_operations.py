"""Every operation of docs/protocol.md, end to end against a real elektrad."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from elektraweb.kdb.storage import FORMATS
from elektraweb.wire.client import ZmqTransport
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.revision import revision

from .conftest import Daemon


@pytest.fixture
def area(request: pytest.FixtureRequest) -> str:
    """A subtree of its own for each test: user:/tests/<test name>."""
    return f"user:/tests/{request.node.name.replace('[', '_').replace(']', '')}"


async def refused(link: ZmqTransport, op: str, args: dict[str, Any]) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        await link.request(op, args)
    return caught.value


async def test_version_names_the_instance_and_its_mounts(
    link: ZmqTransport, shared_daemon: Daemon
) -> None:
    result = await link.request("version")
    assert result["protocol"] == 1
    assert result["instance"] == shared_daemon.public_key
    assert result["hostname"]
    assert {"version", "major", "minor", "micro"} <= result["elektra"].keys()
    assert isinstance(result["mounts"], list)
    # Both sockets listen on 127.0.0.1: the port is all a client needs.
    assert result["events"] == {"port": int(shared_daemon.events.rpartition(":")[2])}


async def test_set_then_get_in_webd_shape(link: ZmqTransport, area: str) -> None:
    created = await link.request(
        "set", {"key": f"{area}/port", "value": "8080", "meta": {"description": "where to listen"}}
    )
    assert created["created"] is True
    assert created["key"] == f"{area}/port"
    found = await link.request("get", {"key": f"{area}/port"})
    assert found["exists"] is True
    assert found["name"] == "port"
    assert found["path"] == f"{area}/port"
    assert found["ls"] == [f"{area}/port"]
    assert found["value"] == "8080"
    assert found["meta"]["description"] == "where to listen"
    assert found["revision"] == created["revision"] == revision("8080", found["meta"])
    again = await link.request("set", {"key": f"{area}/port", "value": "9090"})
    assert again["created"] is False
    # Metadata not named in a set is kept.
    assert (await link.request("get", {"key": f"{area}/port"}))["meta"]["description"]


async def test_get_of_a_missing_key_is_no_error(link: ZmqTransport, area: str) -> None:
    found = await link.request("get", {"key": f"{area}/nothing"})
    assert found == {
        "exists": False,
        "name": "nothing",
        "path": f"{area}/nothing",
        "ls": [],
        "count": 0,
    }


async def test_get_preloads_children_to_the_given_depth(link: ZmqTransport, area: str) -> None:
    for name in ("a", "a/b", "a/b/c", "d"):
        await link.request("set", {"key": f"{area}/{name}", "value": name})
    tree = await link.request("get", {"key": area, "depth": 2})
    assert tree["exists"] is False  # only the keys below it exist
    assert tree["ls"] == [f"{area}/a", f"{area}/a/b", f"{area}/a/b/c", f"{area}/d"]
    children = {child["name"]: child for child in tree["children"]}
    assert set(children) == {"a", "d"}
    assert [grandchild["path"] for grandchild in children["a"]["children"]] == [f"{area}/a/b"]
    assert "children" not in children["a"]["children"][0]


async def test_get_of_a_cascading_name_resolves_it(link: ZmqTransport, area: str) -> None:
    await link.request("set", {"key": f"{area}/mode", "value": "fast"})
    cascading = area.removeprefix("user:") + "/mode"
    found = await link.request("get", {"key": cascading})
    assert found["value"] == "fast"
    assert found["resolved"] == f"{area}/mode"


async def test_binary_values_travel_as_base64(link: ZmqTransport, area: str) -> None:
    blob = bytes(range(256))
    encoded = base64.b64encode(blob).decode()
    await link.request("set", {"key": f"{area}/blob", "value": encoded, "meta": {"binary": ""}})
    assert (await link.request("get", {"key": f"{area}/blob"}))["value"] == encoded
    error = await refused(
        link, "set", {"key": f"{area}/blob2", "value": "not base64!", "meta": {"binary": ""}}
    )
    assert error.code is ErrorCode.VALIDATION


async def test_ls_pages_through_a_subtree(link: ZmqTransport, area: str) -> None:
    await link.request(
        "set-all",
        {
            "key": area,
            "keys": [{"name": f"{area}/k{i:02d}", "value": str(i)} for i in range(25)]
            + [{"name": f"{area}/k00/deep/x", "value": "x"}],
        },
    )
    everything = await link.request("ls", {"key": area, "limit": 10000})
    assert everything["next"] is None
    pages: list[str] = []
    cursor = None
    while True:
        page = await link.request("ls", {"key": area, "limit": 10, "cursor": cursor})
        pages.extend(page["keys"])
        cursor = page["next"]
        if cursor is None:
            break
    assert pages == everything["keys"]
    assert len(pages) == 27  # 25 keys, k00/deep (implicit) and k00/deep/x
    shallow = await link.request("ls", {"key": area, "depth": 1})
    assert shallow["keys"] == [f"{area}/k{i:02d}" for i in range(25)]


async def test_ls_pages_through_a_cascading_name_across_namespaces(
    link: ZmqTransport, area: str
) -> None:
    system_area = area.replace("user:/", "system:/", 1)
    cascading = area.replace("user:/", "/", 1)
    for root in (area, system_area):
        await link.request("set-all", {"key": root, "keys": [
            {"name": f"{root}/k{i}", "value": str(i)} for i in range(4)
        ] + [{"name": root, "value": "root"}]})  # fmt: skip
    everything = (await link.request("ls", {"key": cascading, "limit": 100}))["keys"]
    assert everything == [area, *(f"{area}/k{i}" for i in range(4)),
                          system_area, *(f"{system_area}/k{i}" for i in range(4))]  # fmt: skip
    for size in (1, 3, 5, 9):
        pages: list[str] = []
        cursor = None
        for _page in range(len(everything)):
            page = await link.request("ls", {"key": cascading, "limit": size, "cursor": cursor})
            assert len(page["keys"]) <= size
            pages.extend(page["keys"])
            cursor = page["next"]
            if cursor is None:
                break
        assert pages == everything, size


async def test_rm_single_recursive_and_missing(link: ZmqTransport, area: str) -> None:
    for name in ("x", "x/y", "x/y/z"):
        await link.request("set", {"key": f"{area}/{name}", "value": "v"})
    assert (await link.request("rm", {"key": f"{area}/x/y/z"}))["removed"] == 1
    assert (await link.request("rm", {"key": f"{area}/x", "recursive": True}))["removed"] == 2
    assert (await link.request("get", {"key": area}))["ls"] == []
    error = await refused(link, "rm", {"key": f"{area}/x"})
    assert error.code is ErrorCode.NOT_FOUND and error.key == f"{area}/x"


async def test_restrict_metadata_forbids(link: ZmqTransport, area: str) -> None:
    await link.request(
        "set",
        {
            "key": f"{area}/fixed",
            "value": "1",
            "meta": {"restrict/write": "1", "restrict/remove": "1"},
        },
    )
    await link.request("set", {"key": f"{area}/fixed/child", "value": "c"})
    error = await refused(link, "set", {"key": f"{area}/fixed", "value": "2"})
    assert error.code is ErrorCode.FORBIDDEN and error.key == f"{area}/fixed"
    error = await refused(link, "rm", {"key": area, "recursive": True})
    assert error.code is ErrorCode.FORBIDDEN and error.key == f"{area}/fixed"
    # Nothing was removed: the write is all or nothing.
    assert (await link.request("get", {"key": f"{area}/fixed/child"}))["exists"]


async def test_mv_and_cp_subtrees(link: ZmqTransport, area: str) -> None:
    await link.request("set", {"key": f"{area}/src", "value": "root", "meta": {"order": "1"}})
    await link.request("set", {"key": f"{area}/src/leaf", "value": "leaf"})
    copied = await link.request(
        "cp", {"key": f"{area}/src", "target": f"{area}/copy", "recursive": True}
    )
    assert (copied["target"], copied["copied"]) == (f"{area}/copy", 2)
    leaf = await link.request("get", {"key": f"{area}/copy/leaf"})
    assert leaf["value"] == "leaf"
    assert (await link.request("get", {"key": f"{area}/copy"}))["meta"]["order"] == "1"
    error = await refused(
        link, "mv", {"key": f"{area}/src", "target": f"{area}/copy", "recursive": True}
    )
    assert error.code is ErrorCode.CONFLICT and error.key == f"{area}/copy"
    moved = await link.request(
        "mv", {"key": f"{area}/src", "target": f"{area}/copy", "recursive": True, "force": True}
    )
    assert (moved["target"], moved["moved"]) == (f"{area}/copy", 2)
    assert (await link.request("get", {"key": f"{area}/src"}))["ls"] == []
    error = await refused(link, "cp", {"key": f"{area}/gone", "target": f"{area}/new"})
    assert error.code is ErrorCode.NOT_FOUND


async def test_mv_across_namespaces(link: ZmqTransport, area: str) -> None:
    await link.request("set", {"key": f"{area}/over", "value": "there"})
    target = area.replace("user:", "system:") + "/over"
    await link.request("mv", {"key": f"{area}/over", "target": target})
    assert (await link.request("get", {"key": target}))["value"] == "there"
    assert not (await link.request("get", {"key": f"{area}/over"}))["exists"]


async def test_metadata_operations(link: ZmqTransport, area: str) -> None:
    key = f"{area}/m"
    created = await link.request("meta-set", {"key": key, "name": "description", "value": "d"})
    found = await link.request("get", {"key": key})
    assert found["value"] is None and found["meta"] == {"description": "d"}
    assert created["revision"] == found["revision"]
    await link.request("meta-bulk", {"key": key, "meta": {"order": "2", "description": None}})
    assert (await link.request("get", {"key": key}))["meta"] == {"order": "2"}
    await link.request("meta-rm", {"key": key, "name": "order"})
    assert (await link.request("get", {"key": key}))["meta"] == {}
    error = await refused(link, "meta-rm", {"key": f"{area}/none", "name": "order"})
    assert error.code is ErrorCode.NOT_FOUND


async def test_set_all_replaces_a_subtree(link: ZmqTransport, area: str) -> None:
    await link.request("set", {"key": f"{area}/old", "value": "gone soon"})
    await link.request("set", {"key": f"{area}/same", "value": "same"})
    result = await link.request(
        "set-all",
        {
            "key": area,
            "keys": [
                {"name": f"{area}/same", "value": "same"},
                {"name": f"{area}/new", "value": "n", "meta": {"description": "fresh"}},
            ],
        },
    )
    assert (result["written"], result["removed"]) == (1, 1)
    assert (await link.request("get", {"key": area}))["ls"] == [f"{area}/new", f"{area}/same"]
    error = await refused(
        link, "set-all", {"key": area, "keys": [{"name": "user:/elsewhere", "value": "x"}]}
    )
    assert error.code is ErrorCode.BAD_REQUEST and "user:/elsewhere" in error.message


def state(value: str | None, **meta: str) -> dict[str, Any]:
    return {"value": value, "meta": meta}


async def test_writes_report_their_changes_with_the_requested_key_first(
    link: ZmqTransport, area: str
) -> None:
    created = await link.request("set", {"key": f"{area}/a", "value": "1"})
    assert created["changes"] == [{"key": f"{area}/a", "old": None, "new": state("1")}]
    # A write that changes nothing still reports its key, the same before and after.
    same = await link.request("set", {"key": f"{area}/a", "value": "1"})
    assert same["changes"] == [{"key": f"{area}/a", "old": state("1"), "new": state("1")}]
    described = await link.request(
        "meta-set", {"key": f"{area}/a", "name": "description", "value": "d"}
    )
    assert described["changes"] == [
        {"key": f"{area}/a", "old": state("1"), "new": state("1", description="d")}
    ]
    await link.request("set", {"key": f"{area}/a/b", "value": "2"})
    copied = await link.request(
        "cp", {"key": f"{area}/a", "target": f"{area}/0", "recursive": True}
    )
    assert copied["changes"] == [
        {
            "key": f"{area}/a",
            "old": state("1", description="d"),
            "new": state("1", description="d"),
        },
        {"key": f"{area}/0", "old": None, "new": state("1", description="d")},
        {"key": f"{area}/0/b", "old": None, "new": state("2")},
    ]
    removed = await link.request("rm", {"key": area, "recursive": True})
    assert [(c["key"], c["new"]) for c in removed["changes"]] == [
        (area, None),
        (f"{area}/0", None),
        (f"{area}/0/b", None),
        (f"{area}/a", None),
        (f"{area}/a/b", None),
    ]
    assert "changes_truncated" not in removed


async def test_reported_changes_are_bounded(link: ZmqTransport, area: str) -> None:
    many = [{"name": f"{area}/k{i:04d}", "value": "v"} for i in range(1001)]
    written = await link.request("set-all", {"key": area, "keys": many})
    assert written["written"] == 1001
    assert written["changes_truncated"] is True
    assert written["changes"][0] == {"key": area, "old": None, "new": None}
    assert len(written["changes"]) == 1000
    # Values too big to repeat: the reply carries their digests rather than grow without bound,
    # and still tells the request's key's old state.
    big = "x" * 600_000
    await link.request("set", {"key": f"{area}/big", "value": big})
    replaced = await link.request("set", {"key": f"{area}/big", "value": big.upper()})

    def digest(text: str) -> dict[str, object]:
        return {"size": len(text), "sha256": hashlib.sha256(text.encode()).hexdigest()}

    assert replaced["changes"] == [
        {
            "key": f"{area}/big",
            "old": {"value_digest": digest(big), "meta": {}},
            "new": {"value_digest": digest(big.upper()), "meta": {}},
        }
    ]
    assert "changes_truncated" not in replaced and replaced["created"] is False


async def test_get_reports_stored_values_that_break_their_metadata(
    link: ZmqTransport, area: str
) -> None:
    await link.request("set", {"key": f"{area}/port", "value": "many"})
    await link.request("set", {"key": f"{area}/port/inner", "value": "fine"})
    assert "problems" not in await link.request("get", {"key": f"{area}/port", "depth": 1})
    # A specification written later makes the stored value invalid; get still answers it.
    spec = area.replace("user:", "spec:", 1)
    await link.request(
        "set", {"key": f"{spec}/port", "value": None, "meta": {"check/type": "long"}}
    )
    for key in (f"{area}/port", area.removeprefix("user:") + "/port"):
        found = await link.request("get", {"key": key})
        assert found["value"] == "many"
        [problem] = found["problems"]
        assert problem["key"] == f"{area}/port"
        assert problem["elektra"] in ("C03100", "C03200") and "many" in problem["message"]
    parent = await link.request("get", {"key": area, "depth": 1})
    assert [p["key"] for p in parent["problems"]] == [f"{area}/port"]  # children count
    assert "problems" not in await link.request("get", {"key": area})


async def test_find_over_names_and_values(link: ZmqTransport, area: str) -> None:
    for i in range(5):
        await link.request("set", {"key": f"{area}/host{i}", "value": f"10.0.0.{i}"})
    names = await link.request("find", {"regex": "host[13]$", "under": area})
    assert names == {
        "keys": [f"{area}/host1", f"{area}/host3"],
        "truncated": False,
        "budget_exceeded": False,
    }
    posix_class = await link.request("find", {"regex": "host[[:digit:]]$", "under": area})
    assert len(posix_class["keys"]) == 5  # POSIX ERE (docs/protocol.md), not Python's dialect
    by_value = await link.request("find", {"regex": r"0\.0\.4", "values": True, "under": area})
    assert by_value["keys"] == [f"{area}/host4"]
    limited = await link.request("find", {"regex": "host", "under": area, "limit": 2})
    assert limited["truncated"] is True and len(limited["keys"]) == 2
    assert limited["budget_exceeded"] is False
    error = await refused(link, "find", {"regex": "(unclosed"})
    assert error.code is ErrorCode.BAD_REQUEST


@pytest.mark.parametrize("fmt", FORMATS)
async def test_export_then_import_in_every_format(link: ZmqTransport, area: str, fmt: str) -> None:
    await link.request("set", {"key": f"{area}/src/name", "value": "demo"})
    await link.request("set", {"key": f"{area}/src/sub/level", "value": "3"})
    exported = await link.request("export", {"key": f"{area}/src", "format": fmt})
    assert exported["format"] == fmt and "demo" in exported["data"]
    imported = await link.request(
        "import", {"key": f"{area}/dst", "format": fmt, "data": exported["data"]}
    )
    assert imported["written"] >= 2
    for name, value in (("name", "demo"), ("sub/level", "3")):
        assert (await link.request("get", {"key": f"{area}/dst/{name}"}))["value"] == value


async def test_import_strategies(link: ZmqTransport, area: str) -> None:
    await link.request("set", {"key": f"{area}/a", "value": "mine"})
    await link.request("set", {"key": f"{area}/extra", "value": "mine"})
    data = (await link.request("export", {"key": area, "format": "dump"}))["data"]
    await link.request("set", {"key": f"{area}/a", "value": "changed"})
    await link.request("import", {"key": area, "format": "dump", "data": data})
    assert (await link.request("get", {"key": f"{area}/a"}))["value"] == "changed"  # preserve
    await link.request(
        "import", {"key": area, "format": "dump", "data": data, "strategy": "overwrite"}
    )
    assert (await link.request("get", {"key": f"{area}/a"}))["value"] == "mine"
    await link.request("set", {"key": f"{area}/later", "value": "x"})
    result = await link.request(
        "import", {"key": area, "format": "dump", "data": data, "strategy": "replace"}
    )
    assert result["removed"] == 1
    error = await refused(link, "import", {"key": area, "format": "json", "data": "{nope"})
    assert error.code is ErrorCode.VALIDATION


async def test_mounts_lists_what_kdb_mount_added(link: ZmqTransport, shared_daemon: Daemon) -> None:
    done = shared_daemon.kdb("mount", "mounted.toml", "user:/mounted", "toml")
    assert done.returncode == 0, done.stderr
    listing = await link.request("mounts")
    file = shared_daemon.root / "user" / "mounted.toml"
    assert {
        "mountpoint": "user:/mounted",
        "file": "mounted.toml",
        "format": "toml",
        "files": [str(file.resolve())],
        "managed": False,  # no --mount-dir: the host's own
    } in listing["mounts"]
    assert listing["mount_dirs"] == []
    await link.request("set", {"key": "user:/mounted/answer", "value": "42"})
    assert "42" in file.read_text()


async def test_validation_errors_carry_elektra_codes(link: ZmqTransport, area: str) -> None:
    error = await refused(
        link, "set", {"key": f"{area}/n", "value": "many", "meta": {"check/type": "long"}}
    )
    assert error.code is ErrorCode.VALIDATION
    assert error.elektra in ("C03100", "C03200")
    assert "many" in error.message


async def test_expect_is_compare_and_set(link: ZmqTransport, area: str) -> None:
    key = f"{area}/cas"
    error = await refused(link, "set", {"key": key, "value": "1", "expect": "0" * 32})
    assert error.code is ErrorCode.CONFLICT and error.key == key
    first = await link.request("set", {"key": key, "value": "1", "expect": None})
    error = await refused(link, "set", {"key": key, "value": "2", "expect": None})
    assert error.code is ErrorCode.CONFLICT
    await link.request("set", {"key": key, "value": "2", "expect": first["revision"]})
    error = await refused(link, "rm", {"key": key, "expect": first["revision"]})
    assert error.code is ErrorCode.CONFLICT
    assert (await link.request("get", {"key": key}))["value"] == "2"


@pytest.mark.parametrize(
    ("op", "args", "code"),
    [
        ("get", {"key": "no-namespace"}, ErrorCode.INVALID_NAME),
        ("set", {"key": "user:/x", "value": 5}, ErrorCode.BAD_REQUEST),
        ("set", {"key": "user:/x"}, ErrorCode.BAD_REQUEST),
        ("set", {"key": "/cascading", "value": "v"}, ErrorCode.BAD_REQUEST),
        ("get", {"key": "user:/x", "depht": 1}, ErrorCode.BAD_REQUEST),
        ("ls", {"key": "user:/x", "limit": 0}, ErrorCode.BAD_REQUEST),
        ("export", {"key": "user:/x", "format": "xml"}, ErrorCode.BAD_REQUEST),
        ("meta-set", {"key": "user:/x", "name": "", "value": "v"}, ErrorCode.BAD_REQUEST),
        ("lock", {"keys": ["user:/x"]}, ErrorCode.BAD_REQUEST),
    ],
)
async def test_bad_arguments_are_named(
    link: ZmqTransport, op: str, args: dict[str, Any], code: ErrorCode
) -> None:
    error = await refused(link, op, args)
    assert error.code is code
    assert error.message
