"""What ``KDB.get`` returns shares its keys with the KDB until the caller is handed one.

Whatever the caller does to the keys it got (their value, metadata or name) or to the set
(removing, cutting, adding, copying, taking a part of it into a set of its own), the next
get and the file on disk must show none of it until the caller sets it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elektraweb.kdb import KDB, Key, KeySet
from elektraweb.kdb.mounts import Paths

PARENT = "user:/app"
DOCUMENT = {
    "db": {"host": "localhost", "port": 5432, "users": ["ann", "bob"]},
    "log": {"level": "info", "empty": {}},
    "name": "demo",
}

Snapshot = list[tuple[str, object, dict[str, str]]]


def snapshot(keys: KeySet) -> Snapshot:
    return [(key.name, key.value, dict(key.meta)) for key in keys]


def json_kdb(root: Path, own_metadata: bool = True) -> KDB:
    """A KDB with ``DOCUMENT`` in a JSON file at ``PARENT``, and with ``own_metadata`` a key
    with metadata of its own (kept in the sidecar). Without, a get lends keys not built yet
    (``KeySet.deferred``): the file's document, whose keys are built when first looked into."""
    paths = Paths.from_environ({"KDB_ROOT": str(root / "root"), "HOME": str(root / "home")},
                               cwd=root)  # fmt: skip
    kdb = KDB(paths)
    kdb.mount("app.json", PARENT, "json")
    file = kdb.file_of(PARENT)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(DOCUMENT, indent=2))
    if not own_metadata:
        return kdb
    keys = kdb.get(PARENT)
    keys.lookup(f"{PARENT}/name").meta["description"] = "shown in the title"  # type: ignore[union-attr]
    kdb.set(keys, PARENT)
    return kdb


@pytest.fixture(params=[True, False], ids=["sidecar", "deferred"])
def kdb(tmp_path: Path, request: pytest.FixtureRequest) -> KDB:
    return json_kdb(tmp_path, own_metadata=request.param)


def on_disk(kdb: KDB) -> bytes:
    return kdb.file_of(PARENT).read_bytes()


# Each change is something a caller may do to what it got; none may reach the KDB. Each
# returns the set that shows it (which tells that the change was made at all).
def change_values_while_iterating(keys: KeySet) -> KeySet:
    for key in keys:
        key.value = "changed"
    return keys


def change_metadata_of_a_looked_up_key(keys: KeySet) -> KeySet:
    key = keys.lookup(f"{PARENT}/db/port")
    if key is not None:
        key.meta["description"] = "changed"
    return keys


def rename_a_key(keys: KeySet) -> KeySet:
    key = keys.remove(f"{PARENT}/db/host")  # a name is fixed while the key is in a set
    if key is not None:
        key.name = f"{PARENT}/db/renamed"
        keys.add(key)
    return keys


def change_keys_of_a_part(keys: KeySet) -> KeySet:
    part = keys.below(PARENT)
    for key in part:
        key.value = "changed"
        key.meta.clear()
    return part


def change_keys_cut_out(keys: KeySet) -> KeySet:
    cut = keys.cut(f"{PARENT}/log")
    for key in cut:
        key.meta["cut"] = "yes"
    return cut


def change_a_removed_key(keys: KeySet) -> KeySet:
    removed = keys.remove(f"{PARENT}/name")
    if removed is not None:
        removed.meta.clear()
        removed.value = "changed"
    return KeySet([] if removed is None else [removed])


def change_keys_through_a_set_of_ones_own(keys: KeySet) -> KeySet:
    mine = KeySet()
    mine.extend(keys)
    for key in mine:
        key.value = "changed"
    return mine


def change_keys_of_a_copy(keys: KeySet) -> KeySet:
    duplicate = keys.copy()
    for key in duplicate:
        key.value = "changed"
    return duplicate


def replace_and_add_keys(keys: KeySet) -> KeySet:
    keys.add(Key(f"{PARENT}/db/host", "elsewhere"))
    keys.add(Key(f"{PARENT}/new", "added"))
    return keys


CHANGES: list[Callable[[KeySet], KeySet]] = [
    change_values_while_iterating,
    change_metadata_of_a_looked_up_key,
    rename_a_key,
    change_keys_of_a_part,
    change_keys_cut_out,
    change_a_removed_key,
    change_keys_through_a_set_of_ones_own,
    change_keys_of_a_copy,
    replace_and_add_keys,
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_what_a_caller_does_to_its_keys_reaches_neither_the_next_get_nor_the_file(
    kdb: KDB, change: Callable[[KeySet], KeySet]
) -> None:
    data = on_disk(kdb)
    changed = change(kdb.get(PARENT))  # the first get: a deferred set's keys not built yet
    before = snapshot(KDB(kdb.paths).get(PARENT))
    assert snapshot(changed) != before
    assert snapshot(kdb.get(PARENT)) == before
    assert snapshot(kdb.view(PARENT)) == before
    assert on_disk(kdb) == data


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(CHANGES), min_size=1, max_size=4), st.booleans())
def test_property_no_sequence_of_changes_leaks(
    changes: list[Callable[[KeySet], KeySet]], own_metadata: bool
) -> None:
    with tempfile.TemporaryDirectory(prefix="lending-") as directory:
        kdb = json_kdb(Path(directory), own_metadata)
        data = on_disk(kdb)
        got = kdb.get(PARENT)
        before = snapshot(KDB(kdb.paths).get(PARENT))
        for change in changes:
            change(got)
            assert snapshot(kdb.get(PARENT)) == before
        assert on_disk(kdb) == data


def test_a_key_handed_out_is_the_one_the_set_keeps(kdb: KDB) -> None:
    """The copy made on the first hand-out replaces the shared key in the caller's set, so a
    change made through one reference is seen through every later one, and is stored."""
    keys = kdb.get(PARENT)
    host = keys.lookup(f"{PARENT}/db/host")
    assert host is not None
    assert keys.lookup(f"{PARENT}/db/host") is host
    assert next(key for key in keys if key.name == host.name) is host
    host.value = "db.example.org"
    for key in keys.below(f"{PARENT}/log"):
        key.meta["seen"] = "yes"
    assert keys.lookup(f"{PARENT}/db/host").value == "db.example.org"  # type: ignore[union-attr]
    duplicate = keys.copy()
    assert duplicate == keys
    assert duplicate.lookup(f"{PARENT}/log/level").meta == {"seen": "yes"}  # type: ignore[union-attr]
    kdb.set(keys, PARENT)
    again = kdb.get(PARENT)
    assert again.lookup(f"{PARENT}/db/host").value == "db.example.org"  # type: ignore[union-attr]
    assert again.lookup(f"{PARENT}/log/level").meta["seen"] == "yes"  # type: ignore[union-attr]
    assert json.loads(on_disk(kdb))["db"]["host"] == "db.example.org"


def test_a_key_the_caller_added_is_its_own_object(kdb: KDB) -> None:
    keys = kdb.get(PARENT)
    mine = Key(f"{PARENT}/db/host", "mine")
    keys.add(mine)
    assert keys.lookup(f"{PARENT}/db/host") is mine
    assert [key for key in keys if key.name == mine.name] == [mine]


def test_a_lent_set_keeps_its_order_and_lookups_while_it_changes(kdb: KDB) -> None:
    keys = kdb.get(PARENT)
    expected = [key.name for key in kdb.view(PARENT)]
    for key in keys:
        if key.name.endswith("/port"):
            keys.remove(f"{PARENT}/name")  # while iterating: the removed key stays removed
    expected.remove(f"{PARENT}/name")
    assert keys.names() == expected
    assert f"{PARENT}/name" not in keys
    assert all(keys.lookup(name) is not None for name in expected)


def test_keysets_that_share_keys_of_two_gets_copy_both(tmp_path: Path) -> None:
    kdb = json_kdb(tmp_path)
    kdb.mount("other.json", "user:/other", "json")
    kdb.file_of("user:/other").write_text('{"a": "1"}')
    first, second = kdb.get(PARENT), kdb.get("user:/other")
    first.extend(second)
    for key in first:
        key.value = "changed"
    assert kdb.get("user:/other").lookup("user:/other/a").value == "1"  # type: ignore[union-attr]
    assert kdb.get(PARENT).lookup(f"{PARENT}/name").value == "demo"  # type: ignore[union-attr]


def test_a_key_without_metadata_gets_a_dict_of_its_own_when_used() -> None:
    key = Key("user:/a", "1")
    duplicate = key.copy()
    duplicate.meta["type"] = "long"
    assert key.meta == {}
    key.meta["check/type"] = "string"
    assert duplicate.meta == {"type": "long"}
    assert key == Key("user:/a", "1", {"check/type": "string"})
    assert Key("user:/a", "1").same_content(Key("user:/a", "1", {}))


def test_a_change_made_before_the_keys_are_built_is_stored_and_nothing_else(
    tmp_path: Path,
) -> None:
    kdb = json_kdb(tmp_path, own_metadata=False)
    keys = kdb.get(PARENT)
    host = keys.lookup(f"{PARENT}/db/host")  # built alone, the set's other keys are not
    assert host is not None and host.value == "localhost"
    host.value = "db.example.org"
    assert keys.lookup(f"{PARENT}/db/host") is host
    assert kdb.view(PARENT).lookup(f"{PARENT}/db/host").value == "localhost"  # type: ignore[union-attr]
    assert [key for key in keys if key.name == host.name] == [host]
    kdb.set(keys, PARENT)
    expected = json.loads(json.dumps(DOCUMENT))
    expected["db"]["host"] = "db.example.org"
    assert json.loads(on_disk(kdb)) == expected
    fresh = KDB(kdb.paths).get(PARENT)
    assert fresh.lookup(f"{PARENT}/db/host").value == "db.example.org"  # type: ignore[union-attr]
    assert len(fresh) == len(keys)


def test_sets_made_of_a_get_before_its_keys_are_built_hand_out_the_same_keys(
    tmp_path: Path,
) -> None:
    """Iterating a get whose keys are not built yet builds them as its own (not shared keys
    and a copy of each); the sets made of it before then hand out those very keys."""
    kdb = json_kdb(tmp_path, own_metadata=False)
    keys = kdb.get(PARENT)
    part = keys.below(f"{PARENT}/db")  # made before anything was built
    mine = KeySet(keys)
    looked_up = keys.lookup(f"{PARENT}/log/level")
    by_name = {key.name: key for key in keys}  # builds ``keys``, its lookup's key kept
    assert by_name[f"{PARENT}/log/level"] is looked_up
    for key in part:
        assert by_name[key.name] is key
        key.value = "changed through the part"
    assert keys.lookup(f"{PARENT}/db/host").value == "changed through the part"  # type: ignore[union-attr]
    assert all(by_name[key.name] is key for key in mine)
    assert snapshot(kdb.view(PARENT)) == snapshot(KDB(kdb.paths).get(PARENT))
    assert kdb.view(PARENT).lookup(f"{PARENT}/db/host").value == "localhost"  # type: ignore[union-attr]
