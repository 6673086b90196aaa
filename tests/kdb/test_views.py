"""Read views (``KDB.view``), one-shot reads (``KDB.peek``) and paged listings of big trees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elektraweb.kdb import KDB, Key, KeySet, file_state, names
from elektraweb.kdb.errors import ConflictError, KDBError
from elektraweb.kdb.mounts import Mount, Paths
from elektraweb.kdb.views import NotRemembered, ViewCache

KDB_EXECUTABLE = Path(sys.prefix) / "bin" / "kdb"


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.from_environ(
        {"KDB_ROOT": str(tmp_path / "root"), "HOME": str(tmp_path / "home")}, cwd=tmp_path
    )


@pytest.fixture
def kdb(paths: Paths) -> KDB:
    kdb = KDB(paths)
    kdb.mount("app.ecf", "user:/app", "dump")
    keys = kdb.get("user:/app")
    keys.extend(Key(f"user:/app/s{i // 10}/k{i}", f"v{i}") for i in range(100))
    kdb.set(keys, "user:/app")
    return kdb


def snapshot(keys: KeySet) -> list[tuple[str, object, dict[str, str]]]:
    return [(key.name, key.value, dict(key.meta)) for key in keys]


def test_a_view_is_remembered_and_shows_a_write_made_through_the_same_kdb(kdb: KDB) -> None:
    before = kdb.view("user:/app")
    assert kdb.view("user:/app") is before  # unchanged files: the same view, not rebuilt
    frozen = snapshot(before)
    keys = kdb.get("user:/app")
    keys.add(Key("user:/app/s3/k31", "changed"))
    keys.remove("user:/app/s0/k0")
    kdb.set(keys, "user:/app")
    after = kdb.view("user:/app")
    assert after.lookup("user:/app/s3/k31").value == "changed"  # type: ignore[union-attr]
    assert "user:/app/s0/k0" not in after
    # The earlier view is exactly as it was: a set replaces keys, it never changes them.
    assert snapshot(before) == frozen


def test_the_views_of_many_single_keys_read_in_turn_are_all_remembered(kdb: KDB) -> None:
    # A client reading 100 keys one by one, over and over (as the REST benchmark does).
    parents = [f"user:/app/s{i // 10}/k{i}" for i in range(100)]
    first = [kdb.view(parent) for parent in parents]
    again = [kdb.view(parent) for parent in parents]
    assert all(view is seen for view, seen in zip(again, first, strict=True))


def test_the_kdb_tells_which_views_it_remembers(kdb: KDB) -> None:
    assert not kdb.remembers("user:/app/s1")
    kdb.view("user:/app/s1")
    assert kdb.remembers("user:/app/s1") and kdb.remembers("user:/app/s1/")  # any spelling
    assert not kdb.remembers("user:/app/s2")
    assert not kdb.remembers("bogus:/app")  # not a valid name: nothing remembered


@pytest.fixture
def settled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written a moment ago count as written long ago: their stat alone tells."""
    monkeypatch.setattr(file_state, "RACY_WINDOW_NS", 0)
    monkeypatch.setattr(file_state, "RACY_WINDOW_COARSE_NS", 0)


@pytest.mark.usefixtures("settled")
def test_remembered_only_answers_a_remembered_view_of_unchanged_files(kdb: KDB) -> None:
    view = kdb.view("user:/app/s1")
    with kdb.remembered_only():
        assert kdb.view("user:/app/s1/") is view
        with pytest.raises(NotRemembered):
            kdb.view("user:/app/s2")  # never read: it would have to be built
    assert kdb.view("user:/app/s1") is view


@pytest.mark.usefixtures("settled")
def test_remembered_only_reads_no_file_that_changed_since(kdb: KDB, paths: Paths) -> None:
    before = kdb.view("user:/app/s5")
    other = KDB(paths)  # another program writes the file
    theirs = other.get("user:/app")
    theirs.add(Key("user:/app/s5/k55", "from outside"))
    other.set(theirs, "user:/app")

    with kdb.remembered_only(), pytest.raises(NotRemembered):
        kdb.view("user:/app/s5")

    assert before.lookup("user:/app/s5/k55").value == "v55"  # type: ignore[union-attr]
    after = kdb.view("user:/app/s5")  # read as always outside the mode
    assert after.lookup("user:/app/s5/k55").value == "from outside"  # type: ignore[union-attr]


def test_a_set_forgets_the_views_of_the_file_it_wrote_and_keeps_the_others(kdb: KDB) -> None:
    kdb.mount("other.ecf", "user:/other", "dump")
    keys = kdb.get("user:/other")
    keys.add(Key("user:/other/x", "1"))
    kdb.set(keys, "user:/other")
    other, section = kdb.view("user:/other"), kdb.view("user:/app/s3")
    kdb.view("user:/app")
    kdb.view("user:/")  # built from both files

    keys = kdb.get("user:/app/s3")
    keys.add(Key("user:/app/s3/k31", "changed"))
    kdb.set(keys, "user:/app/s3")

    assert [kdb.remembers(parent) for parent in ("user:/app", "user:/app/s3", "user:/")] == [
        False,
        False,
        False,
    ]
    for parent in ("user:/app", "user:/app/s3", "user:/"):
        assert kdb.view(parent).lookup("user:/app/s3/k31").value == "changed"  # type: ignore[union-attr]
    assert kdb.view("user:/app/s3") is not section
    assert kdb.view("user:/other") is other  # its file was not written: the same view


def test_the_view_cache_keeps_the_most_recently_used_and_forgets_by_source() -> None:
    cache = ViewCache(kept=2, keys_kept=10)
    a, b, c = (KeySet([Key(f"user:/{name}", "1")]) for name in "abc")
    cache.remember("user:/a", frozenset({"file a"}), a)
    cache.remember("user:/b", frozenset({"file a", "file b"}), b)
    assert cache.use("user:/a") is a  # now used more recently than b
    cache.remember("user:/c", frozenset({"file c"}), c)
    assert ["user:/a" in cache, "user:/b" in cache, "user:/c" in cache] == [True, False, True]

    cache.forget("file a")
    assert ["user:/a" in cache, cache.use("user:/c")] == [False, c]

    many = KeySet(Key(f"user:/d/k{index}", "1") for index in range(11))
    cache.remember("user:/d", frozenset({"file d"}), many)  # more keys than kept: alone
    assert ["user:/c" in cache, cache.use("user:/d") is many] == [False, True]
    cache.forget("file c")  # its view is gone already: nothing else goes
    assert "user:/d" in cache


def test_a_view_shows_a_write_another_process_made(kdb: KDB, tmp_path: Path) -> None:
    before = kdb.view("user:/app/s5")
    env = {**os.environ, "KDB_ROOT": str(tmp_path / "root"), "HOME": str(tmp_path / "home")}
    subprocess.run([str(KDB_EXECUTABLE), "set", "user:/app/s5/k55", "from outside"],
                   env=env, check=True, capture_output=True, timeout=60)  # fmt: skip
    after = kdb.view("user:/app/s5")
    assert after is not before
    assert after.lookup("user:/app/s5/k55").value == "from outside"  # type: ignore[union-attr]
    assert before.lookup("user:/app/s5/k55").value == "v55"  # type: ignore[union-attr]


def test_the_view_after_a_set_is_what_it_stored_and_the_next_view_sees_the_disk(
    kdb: KDB, paths: Paths
) -> None:
    keys = kdb.get("user:/app")
    keys.add(Key("user:/app/s3/k31", "ours"))
    kdb.set(keys, "user:/app")
    # Another writer saves the file right after our set (a second KDB: the lock, then a
    # rename), before our reply is built.
    other = KDB(paths)
    theirs = other.get("user:/app")
    theirs.add(Key("user:/app/s3/k31", "theirs"))
    other.set(theirs, "user:/app")
    stored = kdb.view("user:/app", after_set=True)
    assert stored.lookup("user:/app/s3/k31").value == "ours"  # type: ignore[union-attr]
    assert len(stored) == 100
    now = kdb.view("user:/app")
    assert now.lookup("user:/app/s3/k31").value == "theirs"  # type: ignore[union-attr]


def test_changing_what_get_returns_leaves_the_view_alone(kdb: KDB) -> None:
    view = kdb.view("user:/app")
    frozen = snapshot(view)
    mine = kdb.get("user:/app")
    mine.lookup("user:/app/s1/k10").value = "mine"  # type: ignore[union-attr]
    mine.lookup("user:/app/s1/k11").meta["type"] = "long"  # type: ignore[union-attr]
    mine.cut("user:/app/s2")
    assert snapshot(view) == frozen
    assert snapshot(kdb.view("user:/app")) == frozen  # and nothing was written


def test_a_spec_applied_at_read_time_is_not_stored_through_a_view(kdb: KDB) -> None:
    kdb.mount("spec.ecf", "spec:/app", "dump")
    spec = kdb.get("spec:/app")
    spec.add(Key("spec:/app/s1/k12", None, {"check/type": "long", "default": "1"}))
    kdb.set(spec, "spec:/app")
    view = kdb.view("user:/app/s1")
    assert view.lookup("user:/app/s1/k12").meta["check/type"] == "long"  # type: ignore[union-attr]
    keys = KeySet(view)
    keys.add(Key("user:/app/s1/k12", "12"))
    kdb.set(keys, "user:/app/s1")
    raw = kdb.file_of("user:/app").read_bytes()
    assert b"12" in raw and b"check/type" not in raw


@pytest.mark.parametrize("parent", [
    "user:/app", "user:/app/s3", "user:/app/s3/k33", "user:/app/s9/missing", "/app/s4",
    "user:/", "/",
])  # fmt: skip
def test_peek_returns_what_get_returns(kdb: KDB, paths: Paths, parent: str) -> None:
    assert snapshot(KDB(paths).peek(parent)) == snapshot(kdb.get(parent))


def test_a_set_after_a_peek_may_change_only_what_the_peek_read(paths: Paths, kdb: KDB) -> None:
    fresh = KDB(paths)
    fresh.peek("user:/app/s3")
    with pytest.raises(KDBError, match="call get first"):
        fresh.set(KeySet(), "user:/app")  # the rest of the file was not read


@pytest.mark.parametrize("name", [
    "user:/app/s3/k33", "user:/app/s3", "user:/app/s3/new", "user:/app/a-first",
    "user:/app/zz/last", "user:/app/s3/k33/below",
])  # fmt: skip
def test_a_set_after_a_peek_rewrites_only_that_part_as_a_full_write_would(
    paths: Paths, kdb: KDB, name: str
) -> None:
    from elektraweb.kdb.storage.dump import FORMAT

    file = kdb.file_of("user:/app")
    fresh = KDB(paths)
    keys = KeySet(fresh.peek(name))
    keys.add(Key(name, "changed", {"comment/#0": "by a one-shot set"}))
    assert fresh.set(keys, name) == [file]
    data = file.read_bytes()
    everything = kdb.get("user:/app")  # the first KDB sees the change too
    assert everything.lookup(name).value == "changed"  # type: ignore[union-attr]
    assert len(everything.below("user:/app")) in (100, 101)
    assert data == FORMAT.write(FORMAT.read(data, "user:/app").keys, "user:/app", None)


def test_a_set_after_a_peek_detects_a_change_made_meanwhile(paths: Paths, kdb: KDB) -> None:
    fresh = KDB(paths)
    keys = KeySet(fresh.peek("user:/app/s4/k44"))
    other = kdb.get("user:/app")
    other.add(Key("user:/app/s9/k99", "other writer"))
    kdb.set(other, "user:/app")
    keys.add(Key("user:/app/s4/k44", "late"))
    with pytest.raises(ConflictError, match="C02000"):
        fresh.set(keys, "user:/app/s4/k44")
    assert kdb.get("user:/app").lookup("user:/app/s9/k99").value == "other writer"  # type: ignore[union-attr]


def test_a_dump_file_not_in_key_order_is_read_and_written_whole(paths: Paths, kdb: KDB) -> None:
    file = kdb.file_of("user:/app")
    file.write_bytes(b"kdbOpen 2\n$key string 4 1\nb/k1\n1\n$key string 4 1\na/k1\n2\n"
                     b"$key string 4 1\nb/k2\n3\n$end\n")  # fmt: skip
    fresh = KDB(paths)
    keys = KeySet(fresh.peek("user:/app/b"))
    assert keys.names() == ["user:/app/b/k1", "user:/app/b/k2"]
    keys.add(Key("user:/app/b/k3", "4"))
    fresh.set(keys, "user:/app/b")  # its records lie apart: the peek read all of it
    assert [key.value for key in KDB(paths).get("user:/app").below("user:/app")] == [
        "2",
        "1",
        "3",
        "4",
    ]
    assert file.read_bytes().index(b"a/k1") < file.read_bytes().index(b"b/k1")  # written whole


def test_peek_of_a_file_with_sidecar_submount_and_spec(kdb: KDB, paths: Paths) -> None:
    kdb.mount("inner.ecf", "user:/app/s2/inner", "dump")
    kdb.mount("spec.ecf", "spec:/app", "dump")
    spec = kdb.get("spec:/app")
    spec.add(Key("spec:/app/s2/#", None, {"description": "numbered"}))
    kdb.set(spec, "spec:/app")
    keys = kdb.get("user:/app/s2")
    keys.add(Key("user:/app/s2/inner/x", "in the submount"))
    keys.add(Key("user:/app/s2/#0", "element", {"comment/#0": "kept"}))
    kdb.set(keys, "user:/app/s2")
    for parent in ("user:/app/s2", "user:/app/s2/#0", "user:/app/s2/inner", "/app/s2"):
        assert snapshot(KDB(paths).peek(parent)) == snapshot(kdb.get(parent)), parent


# -- paging ------------------------------------------------------------------------------

part = st.sampled_from(["a", "b", "c", "#0", "#_10", "%", "x.y"])
trees = st.lists(st.lists(part, min_size=1, max_size=4), max_size=40)


@given(trees, st.integers(1, 7), st.sampled_from([None, 1, 2]))
def test_pages_of_children_join_up_to_the_whole_listing(
    tree: list[list[str]], page: int, depth: int | None
) -> None:
    keys = KeySet(Key(names.join("user", parts)) for parts in tree if parts != ["%"])
    whole = keys.children("user:/", depth=depth)
    pages: list[str] = []
    after = None
    for _round in range(len(whole) + 1):
        chunk = keys.children("user:/", depth=depth, after=after, limit=page)
        assert len(chunk) <= page
        if not chunk:
            break
        pages += chunk
        after = chunk[-1]
    assert pages == whole


# -- incremental dump writes ---------------------------------------------------------------

edits = st.lists(
    st.tuples(
        st.sampled_from(["set", "meta", "remove", "binary"]),
        st.integers(0, 60),
        st.text(alphabet="ab\n $\\", max_size=6),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(edits)
def test_a_dump_file_written_key_by_key_is_what_a_full_render_writes(
    tmp_path_factory: pytest.TempPathFactory, changes: list[tuple[str, int, str]]
) -> None:
    from elektraweb.kdb.storage.dump import FORMAT

    base = tmp_path_factory.mktemp("dump")
    kdb = KDB(Paths.from_environ({"KDB_ROOT": str(base), "HOME": str(base)}, cwd=base))
    kdb.mount("app.ecf", "user:/app", "dump")
    keys = kdb.get("user:/app")
    keys.extend(Key(f"user:/app/s{i // 8}/k{i}", f"v{i}") for i in range(50))
    kdb.set(keys, "user:/app")
    file = kdb.file_of("user:/app")
    for action, index, text in changes:
        name = f"user:/app/s{index // 8}/k{index}"
        keys = KeySet(kdb.view(name))
        old = keys.lookup(name)
        if action == "remove":
            keys.remove(name)
        elif action == "meta":
            keys.add(Key(name, None if old is None else old.value, {"comment/#0": text}))
        elif action == "binary":
            keys.add(Key(name, text.encode()))
        else:
            keys.add(Key(name, text, {} if old is None else old.meta))
        kdb.set(keys, name)
        data = file.read_bytes()
        read = FORMAT.read(data, "user:/app").keys
        assert data == FORMAT.write(read, "user:/app", None)
        assert snapshot(read) == snapshot(kdb.get("user:/app").below("user:/app"))


part_names = st.lists(st.sampled_from(["a", "b", "ab", "#0", "%", "x.y", "k\\/l", "."]),
                      min_size=0, max_size=3)  # fmt: skip


@given(st.lists(part_names, max_size=20), part_names)
def test_reading_part_of_a_dump_file_finds_what_a_full_read_finds(
    stored: list[list[str]], start: list[str]
) -> None:
    from elektraweb.kdb.storage.dump import FORMAT

    keys = KeySet()
    for parts in stored:
        try:
            keys.add(Key("user:/app/" + "/".join(parts), "/".join(parts), {"m": "1"}))
        except ValueError:
            continue
    data = FORMAT.write(keys, "user:/app", None)
    try:
        parent = names.canonical("user:/app/" + "/".join(start))
    except ValueError:
        return
    if not names.is_below_or_same(parent, "user:/app"):
        return
    assert snapshot(FORMAT.read_below(data, "user:/app", parent)) == snapshot(
        FORMAT.read(data, "user:/app").keys.below(parent)
    )


def test_reading_part_of_a_hand_written_dump_file_takes_its_spelling_of_names() -> None:
    from elektraweb.kdb.storage.dump import FORMAT

    # Names as a person or another tool may write them: three are spellings of a/b and below.
    records = [(b"a/b", b"1"), (b"a//b/c", b"2"), (b"x/../a/b/d", b"3"), (b"a/bc", b"4")]
    data = (
        b"kdbOpen 2\n"
        + b"".join(
            b"$key string %d %d\n%b\n%b\n" % (len(name), len(value), name, value)
            for name, value in records
        )
        + b"$end\n"
    )
    found = FORMAT.read_below(data, "user:/app", "user:/app/a/b")
    assert found.names() == ["user:/app/a/b", "user:/app/a/b/c", "user:/app/a/b/d"]


def test_a_view_can_leave_out_a_file_that_does_not_parse(kdb: KDB, paths: Paths) -> None:
    keys = kdb.get("user:/other")
    keys.add(Key("user:/other", "1"))
    kdb.set(keys, "user:/other")
    app = paths.user / "app.ecf"
    saved = app.read_bytes()
    app.write_bytes(b"not a dump file\n")

    with pytest.raises(KDBError):
        kdb.view("user:/")
    unreadable: dict[Mount, KDBError] = {}
    partial = kdb.view("user:/", unreadable=unreadable)
    assert [key.name for key in partial] == ["user:/other"]
    assert [mount.file for mount in unreadable] == [app]

    app.write_bytes(saved)  # the partial view was not remembered: the next one reads it
    assert len(kdb.view("user:/", unreadable={}).below("user:/app")) == 100
