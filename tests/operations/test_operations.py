"""The KeySet rules of the key operations, proven once for each store (elektrad's KDB and a
cluster's desired state): see conftest.py."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from elektraweb.kdb.storage import FORMATS
from elektraweb.wire.errors import ErrorCode, RemoteError
from support.key_stores import Harness

APP = "user:/app"


def refused(harness: Harness, op: str, /, **args: Any) -> RemoteError:
    """The refusal of ``op``, after checking that it left every key as it was."""
    before = harness.stored()
    with pytest.raises(RemoteError) as caught:
        harness.run(op, **args)
    assert harness.stored() == before
    return caught.value


def seed(keys: Harness, *names: str) -> None:
    keys.run("set-all", key=APP, keys=[{"name": name, "value": name[-1]} for name in names])


def test_ls_lists_to_a_depth_and_pages_with_a_cursor(keys: Harness) -> None:
    seed(keys, f"{APP}/a", f"{APP}/a/b", f"{APP}/a/b/c", f"{APP}/d", f"{APP}/e/f")
    assert keys.run("ls", key=APP, depth=1)["keys"] == [f"{APP}/a", f"{APP}/d", f"{APP}/e"]
    everything = keys.run("ls", key=APP)
    assert everything == {  # levels that exist only implicitly (e) are listed too
        "keys": [f"{APP}/a", f"{APP}/a/b", f"{APP}/a/b/c", f"{APP}/d", f"{APP}/e", f"{APP}/e/f"],
        "next": None,
    }
    pages, cursor = [], None
    for _ in range(10):  # bounded: six names in pages of two
        page = keys.run("ls", key=APP, limit=2, cursor=cursor)
        pages.append(page["keys"])
        cursor = page["next"]
        if cursor is None:
            break
    assert pages == [everything["keys"][0:2], everything["keys"][2:4], everything["keys"][4:6]]
    cascading = keys.run("ls", key="/app", depth=1)["keys"]
    assert cascading == [f"{APP}/a", f"{APP}/d", f"{APP}/e"]


def test_get_describes_a_key_its_children_and_a_cascading_lookup(keys: Harness) -> None:
    keys.run("set", key=f"{APP}/port", value="8080", meta={"check/type": "unsigned_short"})
    keys.run("set", key=f"{APP}/db/host", value="db.local")
    node = keys.run("get", key="/app/port")
    assert node["exists"] and node["resolved"] == f"{APP}/port"
    assert (node["value"], node["meta"]["check/type"]) == ("8080", "unsigned_short")
    tree = keys.run("get", key=APP, depth=2)
    assert not tree["exists"]
    assert [child["path"] for child in tree["children"]] == [f"{APP}/db", f"{APP}/port"]
    assert tree["children"][0]["children"][0]["value"] == "db.local"
    assert keys.run("get", key=APP, ls_limit=1)["ls_truncated"] is True


def test_find_matches_names_or_values_below_a_key_within_a_limit(keys: Harness) -> None:
    keys.run("set", key=f"{APP}/port", value="8080")
    keys.run("set", key=f"{APP}/admin_port", value="9090")
    keys.run("set", key="user:/other/port", value="80")
    assert keys.run("find", regex="port$", under=APP)["keys"] == [
        f"{APP}/admin_port",
        f"{APP}/port",
    ]
    assert keys.run("find", regex="^90", values=True)["keys"] == [f"{APP}/admin_port"]
    limited = keys.run("find", regex="port", limit=1)
    assert len(limited["keys"]) == 1 and limited["truncated"] is True
    assert refused(keys, "find", regex="(").code == ErrorCode.BAD_REQUEST


@pytest.mark.parametrize("op", ["cp", "mv"])
def test_copy_and_move_carry_a_whole_subtree(keys: Harness, op: str) -> None:
    seed(keys, f"{APP}/a", f"{APP}/a/b", f"{APP}/a/b/c")
    answer = keys.run(op, key=f"{APP}/a", target=f"{APP}/z", recursive=True)
    assert answer[{"cp": "copied", "mv": "moved"}[op]] == 3
    stored = keys.stored()
    assert [stored[f"{APP}/z{rest}"][0] for rest in ("", "/b", "/b/c")] == ["a", "b", "c"]
    assert (f"{APP}/a/b/c" in stored) == (op == "cp")


def test_copy_refuses_an_existing_target_unless_forced_and_a_target_inside_its_source(
    keys: Harness,
) -> None:
    seed(keys, f"{APP}/a", f"{APP}/b")
    error = refused(keys, "cp", key=f"{APP}/a", target=f"{APP}/b")
    assert (error.code, error.key) == (ErrorCode.CONFLICT, f"{APP}/b")
    keys.run("cp", key=f"{APP}/a", target=f"{APP}/b", force=True)
    assert keys.stored()[f"{APP}/b"][0] == "a"
    inside = refused(keys, "mv", key=f"{APP}/a", target=f"{APP}/a/x", recursive=True)
    assert inside.code == ErrorCode.BAD_REQUEST and "lies in the source" in inside.message
    missing = refused(keys, "mv", key=f"{APP}/nothing", target=f"{APP}/x")
    assert missing.code == ErrorCode.NOT_FOUND


def test_rm_removes_a_key_or_a_subtree(keys: Harness) -> None:
    seed(keys, f"{APP}/a", f"{APP}/a/b", f"{APP}/c")
    assert keys.run("rm", key=f"{APP}/a")["removed"] == 1
    assert keys.run("rm", key=APP, recursive=True)["removed"] == 2
    assert keys.stored() == {}
    assert refused(keys, "rm", key=f"{APP}/a").code == ErrorCode.NOT_FOUND


def test_metadata_is_set_removed_and_patched_with_compare_and_set(keys: Harness) -> None:
    keys.run("meta-set", key=f"{APP}/port", name="description", value="the port")
    assert keys.stored()[f"{APP}/port"] == (None, {"description": "the port"})
    revision = keys.run("get", key=f"{APP}/port")["revision"]
    answer = keys.run(
        "meta-bulk",
        key=f"{APP}/port",
        meta={"description": None, "check/type": "long"},
        expect=revision,
    )
    assert answer["revision"] != revision
    assert keys.stored()[f"{APP}/port"] == (None, {"check/type": "long"})
    stale = refused(keys, "meta-rm", key=f"{APP}/port", name="check/type", expect=revision)
    assert stale.code == ErrorCode.CONFLICT
    keys.run("meta-rm", key=f"{APP}/port", name="check/type")
    assert keys.stored()[f"{APP}/port"] == (None, {})
    assert refused(keys, "meta-rm", key=f"{APP}/none", name="x").code == ErrorCode.NOT_FOUND
    bad_name = refused(keys, "meta-set", key=f"{APP}/port", name="", value="x")
    assert "no metadata name" in bad_name.message


def test_set_all_makes_a_subtree_exactly_the_keys_given(keys: Harness) -> None:
    seed(keys, f"{APP}/a", f"{APP}/b")
    keys.run("set", key="user:/other", value="kept")
    answer = keys.run(
        "set-all",
        key=APP,
        keys=[
            {"name": f"{APP}/a", "value": "a"},
            {"name": f"{APP}/c", "value": "3", "meta": {"description": "new"}},
        ],
    )
    assert (answer["written"], answer["removed"]) == (1, 1)
    assert keys.stored() == {
        f"{APP}/a": ("a", {}),
        f"{APP}/c": ("3", {"description": "new"}),
        "user:/other": ("kept", {}),
    }
    twice = [{"name": f"{APP}/a", "value": "1"}, {"name": f"{APP}/a", "value": "2"}]
    assert "more than once" in refused(keys, "set-all", key=APP, keys=twice).message
    outside = refused(keys, "set-all", key=APP, keys=[{"name": "user:/x", "value": "1"}])
    assert "not at or below" in outside.message and outside.key == "user:/x"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("preserve", {f"{APP}/a": "old", f"{APP}/b": "old", f"{APP}/c": "new"}),
        ("overwrite", {f"{APP}/a": "new", f"{APP}/b": "old", f"{APP}/c": "new"}),
        ("replace", {f"{APP}/a": "new", f"{APP}/c": "new"}),
    ],
)
def test_import_merges_by_its_strategy(
    keys: Harness, strategy: str, expected: dict[str, str]
) -> None:
    keys.run("set-all", key=APP, keys=[{"name": f"{APP}/{n}", "value": "old"} for n in "ab"])
    keys.run("import", key=APP, format="toml", data='a = "new"\nc = "new"\n', strategy=strategy)
    assert {name: value for name, (value, _) in keys.stored().items()} == expected
    error = refused(keys, "import", key=APP, format="json", data="{", strategy=strategy)
    assert (error.code, error.elektra) == (ErrorCode.VALIDATION, "C03100")


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_writes_every_format_that_import_reads_back(keys: Harness, fmt: str) -> None:
    keys.run("set", key=f"{APP}/port", value="8080")
    keys.run("set", key=f"{APP}/db/host", value="db.local")
    exported = keys.run("export", key=APP, format=fmt)
    assert exported["format"] == fmt and "8080" in exported["data"]
    keys.run("import", key="user:/copy", format=fmt, data=exported["data"])
    stored = keys.stored()
    assert (stored["user:/copy/port"][0], stored["user:/copy/db/host"][0]) == (
        "8080",
        "db.local",
    )


def test_a_binary_value_travels_as_base64(keys: Harness) -> None:
    data = bytes(range(256))
    encoded = base64.b64encode(data).decode()
    keys.run("set", key=f"{APP}/blob", value=encoded, meta={"binary": ""})
    assert keys.run("get", key=f"{APP}/blob")["value"] == encoded
    error = refused(keys, "set", key=f"{APP}/blob2", value="not base64!", meta={"binary": ""})
    assert error.code == ErrorCode.VALIDATION


@pytest.mark.parametrize(
    ("op", "args", "code", "named"),
    [
        ("set", {"key": "/app/x", "value": "1"}, ErrorCode.BAD_REQUEST, "cascading name"),
        ("set", {"key": "proc:/x", "value": "1"}, ErrorCode.BAD_REQUEST, "in proc:/"),
        ("set", {"key": "bogus:/x", "value": "1"}, ErrorCode.INVALID_NAME, "unknown namespace"),
        ("set", {"key": "user:/x", "value": 1}, ErrorCode.BAD_REQUEST, "'value'"),
        ("set", {"key": "user:/x", "value": "\ud800"}, ErrorCode.BAD_REQUEST, "surrogate"),
        (
            "set",
            {"key": "user:/x", "value": "1", "colour": "red"},
            ErrorCode.BAD_REQUEST,
            "unknown argument 'colour'",
        ),
        (
            "set",
            {"key": "system:/elektra/mountpoints/x", "value": "1"},
            ErrorCode.PROTECTED,
            "system:/elektra",
        ),
        ("ls", {"key": "user:/x", "limit": 0}, ErrorCode.BAD_REQUEST, "'limit'"),
        ("export", {"key": APP, "format": "xml"}, ErrorCode.BAD_REQUEST, "'format'"),
        (
            "import",
            {"key": APP, "format": "ini", "data": "", "strategy": "merge"},
            ErrorCode.BAD_REQUEST,
            "'strategy'",
        ),
        ("set-all", {"key": APP, "keys": {}}, ErrorCode.BAD_REQUEST, "must be a list"),
    ],
)
def test_bad_arguments_are_refused_naming_the_problem(
    keys: Harness, op: str, args: dict[str, Any], code: ErrorCode, named: str
) -> None:
    error = refused(keys, op, **args)
    assert error.code == code and named in error.message


def test_restrictions_and_compare_and_set_refuse_writes(keys: Harness) -> None:
    keys.run(
        "set", key=f"{APP}/fixed", value="1", meta={"restrict/write": "1", "restrict/remove": "1"}
    )
    written = refused(keys, "set", key=f"{APP}/fixed", value="2")
    assert (written.code, written.key) == (ErrorCode.FORBIDDEN, f"{APP}/fixed")
    assert refused(keys, "rm", key=APP, recursive=True).code == ErrorCode.FORBIDDEN
    created = refused(keys, "set", key=f"{APP}/fixed", value="1", expect=None)
    assert created.code == ErrorCode.CONFLICT
    revision = keys.run("get", key=f"{APP}/fixed")["revision"]
    answer = keys.run("set", key=f"{APP}/new", value="1", expect=None)
    assert answer["created"] is True
    assert keys.run("set", key=f"{APP}/fixed", value="1", expect=revision)["created"] is False


def test_get_counts_every_key_below_even_when_it_lists_none(keys: Harness) -> None:
    seed(keys, f"{APP}/a", f"{APP}/a/b", f"{APP}/c")
    node = keys.run("get", key=APP, ls_limit=0)
    assert (node["ls"], node["count"], node["ls_truncated"]) == ([], 3, True)
    assert keys.run("get", key=APP)["count"] == 3


def test_restore_puts_keys_back_at_once_each_guarded_by_its_revision(keys: Harness) -> None:
    seed(keys, f"{APP}/a", f"{APP}/b")
    revisions = {name: keys.run("get", key=name)["revision"] for name in (f"{APP}/a", f"{APP}/b")}
    stale = refused(
        keys,
        "restore",
        key=APP,
        keys=[{"name": f"{APP}/a", "value": "old"}],
        removals=[f"{APP}/b"],
        expect={**revisions, f"{APP}/a": "0-stale"},
    )
    assert (stale.code, stale.key) == (ErrorCode.CONFLICT, f"{APP}/a")
    outside = refused(keys, "restore", key=APP, keys=[], removals=["user:/other"], expect={})
    assert outside.code == ErrorCode.BAD_REQUEST and "not at or below" in outside.message
    answer = keys.run(
        "restore",
        key=APP,
        keys=[{"name": f"{APP}/a", "value": "old"}],
        removals=[f"{APP}/b"],
        expect=revisions,
    )
    assert answer["restored"] == 2
    assert keys.stored() == {f"{APP}/a": ("old", {})}


def test_a_critical_key_changes_only_with_a_reason_or_as_a_clusters_write(
    keys: Harness,
) -> None:
    name = f"{APP}/primary"
    keys.run("set", key=name, value="db1", meta={"critical": "1"}, reason="new primary")
    unexplained = refused(keys, "set", key=name, value="db2")
    assert (unexplained.code, unexplained.key) == (ErrorCode.REASON_REQUIRED, name)
    assert refused(keys, "rm", key=APP, recursive=True).code == ErrorCode.REASON_REQUIRED
    keys.run("set", key=name, value="db2", reason="failover")
    keys.run("meta-set", key=name, name="description", value="the primary", cluster="7")
    assert keys.stored()[name] == ("db2", {"critical": "1", "description": "the primary"})
