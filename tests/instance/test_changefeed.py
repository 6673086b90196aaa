"""The change feed on a real KDB and real files, without a daemon around it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from elektraweb.instance.changefeed import ChangeFeed
from elektraweb.kdb import KDB, Key
from elektraweb.kdb.mounts import Paths
from elektraweb.operations.store import KeyChange


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.from_environ({"KDB_ROOT": str(tmp_path), "HOME": str(tmp_path)}, cwd=tmp_path)


def values(changes: list[KeyChange]) -> list[tuple[str, object, object]]:
    """Each change as its key, old value and new value (None: no such key)."""
    return [
        (change.key, change.old and change.old.value, change.new and change.new.value)
        for change in changes
    ]


def app_ini_feed(
    paths: Paths, content: str | None = None
) -> tuple[KDB, ChangeFeed, list[KeyChange]]:
    """A KDB with app.ini (holding ``content``, if given) mounted at user:/app, and a primed
    feed of it collecting what it emits."""
    if content is not None:
        paths.user.mkdir(parents=True)
        (paths.user / "app.ini").write_text(content)
    kdb = KDB(paths)
    kdb.mount("app.ini", "user:/app", "ini")
    emitted: list[KeyChange] = []
    feed = ChangeFeed(kdb, emitted.extend)
    feed.prime()
    return kdb, feed, emitted


def test_recheck_publishes_what_another_program_saved_in_the_file_of_a_key(
    paths: Paths,
) -> None:
    _, feed, emitted = app_ini_feed(paths, "[s]\na = 1\n")
    file = paths.user / "app.ini"
    save = file.with_name("editor.tmp")
    save.write_text("[s]\na = 2\n")
    os.replace(save, file)  # an editor's save, which a write of user:/app/s/b ran into

    feed.recheck("user:/app/s/b")
    feed.recheck("proc:/app/s/b")  # no file holds it: nothing to look at

    assert values(emitted) == [("user:/app/s/a", "1", "2")]


def test_a_key_set_on_the_host_in_a_big_dump_file_is_found_also_after_own_writes(
    paths: Paths,
) -> None:
    host = KDB(paths)
    keys = host.get("user:/bench")
    for index in range(2000):
        keys.add(Key(f"user:/bench/k{index:04d}", str(index)))
    host.set(keys, "user:/bench")
    daemon = KDB(paths)
    emitted: list[list[KeyChange]] = []
    feed = ChangeFeed(daemon, emitted.append)
    feed.prime()
    file = paths.user / "default.ecf"

    def on_the_host(name: str, value: str | None) -> list[tuple[str, str | None, str | None]]:
        keys = host.get(name)
        if value is None:
            keys.remove(name)
        else:
            keys.add(Key(name, value))
        host.set(keys, name)
        feed.rescan({file})
        return [
            (
                change.key,
                None if change.old is None else change.old.text,
                None if change.new is None else change.new.text,
            )
            for change in emitted.pop()
        ]

    assert on_the_host("user:/bench/k0007", "seven") == [("user:/bench/k0007", "7", "seven")]
    assert on_the_host("user:/bench/k1999", None) == [("user:/bench/k1999", "1999", None)]
    # elektrad writes the file itself: what the feed kept of it is stale, the file read whole.
    own = daemon.get("user:/bench/k0008")
    own.add(Key("user:/bench/k0008", "mine"))
    daemon.set(own, "user:/bench/k0008")
    feed.absorb(
        [
            KeyChange(
                "user:/bench/k0008", Key("user:/bench/k0008", "8"), own.lookup("user:/bench/k0008")
            )
        ]
    )
    assert on_the_host("user:/bench/new", "1") == [("user:/bench/new", None, "1")]
    assert on_the_host("user:/bench/k0009", "nine") == [("user:/bench/k0009", "9", "nine")]
    assert not emitted


def test_a_mount_directory_made_and_removed_between_two_looks_is_diffed(paths: Paths) -> None:
    kdb = KDB(paths)
    emitted: list[KeyChange] = []
    feed = ChangeFeed(kdb, emitted.extend)
    assert paths.user not in feed.prime()  # no such directory yet: its parent is watched
    keys = kdb.get("user:/app")
    keys.add(Key("user:/app/a", "1"))
    kdb.set(keys, "user:/app")  # makes the directory, with a file no watch has seen
    feed.absorb([KeyChange("user:/app/a", None, keys.lookup("user:/app/a"))])
    shutil.rmtree(paths.user)

    # All the parent's watch reports is the directory, made and removed again.
    feed.rescan({paths.user})

    assert [(change.key, change.new) for change in emitted] == [("user:/app/a", None)]


def test_a_file_written_in_place_after_an_own_write_is_read_once_its_writer_closes_it(
    paths: Paths,
) -> None:
    kdb, feed, emitted = app_ini_feed(paths)
    keys = kdb.get("user:/app")
    keys.add(Key("user:/app/color", "red"))
    kdb.set(keys, "user:/app")
    feed.absorb([KeyChange("user:/app/color", None, keys.lookup("user:/app/color"))])
    file = paths.user / "app.ini"
    text = file.read_text()

    with file.open("r+") as editor:  # an editor saving in place: truncated, not yet filled
        editor.truncate()
        # The watch reports elektrad's own write late, while the editor is at it.
        feed.rescan({file})
        assert emitted == []  # no removal of user:/app/color
        editor.write(text.replace("red", "blue"))
    feed.rescan({file}, closed={file})

    assert values(emitted) == [("user:/app/color", "red", "blue")]


def test_a_full_look_leaves_the_keys_of_a_file_a_writer_is_at_until_it_closes_it(
    paths: Paths,
) -> None:
    _, feed, emitted = app_ini_feed(paths, "[s]\ncolor = red\nsize = 2\n")
    file = paths.user / "app.ini"
    host = KDB(paths)
    keys = host.get("user:/elsewhere")
    keys.add(Key("user:/elsewhere", "1"))

    with file.open("r+") as editor:  # an editor saving in place: truncated, not yet filled
        editor.truncate()
        host.set(keys, "user:/elsewhere")  # another file of user:/, which is read
        # A watch set up anew (a directory made, the watch restarted) looks at everything.
        feed.rescan(None)
        assert [(change.key, change.new and change.new.value) for change in emitted] == [
            ("user:/elsewhere", "1")
        ]
        editor.write("[s]\ncolor = blue\n")
    feed.rescan({file})  # the editor's close

    assert values(emitted[1:]) == [
        ("user:/app/s/color", "red", "blue"),
        ("user:/app/s/size", "2", None),
    ]


def test_a_dump_file_a_writer_is_at_is_read_once_it_closes_it(paths: Paths) -> None:
    host = KDB(paths)
    keys = host.get("user:/")
    keys.add(Key("user:/a", "1"))
    keys.add(Key("user:/b", "2"))
    host.set(keys, "user:/")
    file = paths.user / "default.ecf"
    before = file.read_bytes()
    emitted: list[KeyChange] = []
    feed = ChangeFeed(KDB(paths), emitted.extend)
    feed.prime()  # keeps the file's bytes, the base of the next change's delta
    keys.add(Key("user:/a", "3"))
    keys.remove("user:/b")
    host.set(keys, "user:/")
    after = file.read_bytes()
    save = file.with_name("saved.ecf")
    save.write_bytes(before)
    os.replace(save, file)

    with file.open("r+b") as writer:  # rewritten in place: truncated, not yet filled
        writer.truncate()
        feed.rescan({file})
        assert emitted == []
        writer.write(after)
    feed.rescan({file}, closed={file})

    assert values(emitted) == [("user:/a", "1", "3"), ("user:/b", "2", None)]


def test_a_file_that_does_not_parse_keeps_its_keys_and_the_others_are_published(
    paths: Paths,
) -> None:
    kdb = KDB(paths)
    kdb.mount("app.json", "user:/app", "json")
    for name, value in (("user:/app/color", "red"), ("user:/other", "1")):
        keys = kdb.get(name)
        keys.add(Key(name, value))
        kdb.set(keys, name)
    emitted: list[KeyChange] = []
    feed = ChangeFeed(KDB(paths), emitted.extend)
    feed.prime()
    file = paths.user / "app.json"
    saved = file.read_text()
    file.write_text(saved[: len(saved) // 2])  # an editor's save cut short: no JSON
    keys = kdb.get("user:/other")
    keys.add(Key("user:/other", "2"))
    kdb.set(keys, "user:/other")  # another file of user:/, changed meanwhile

    feed.rescan(None)  # a full look, as after the watch was set up anew
    assert values(emitted) == [("user:/other", "1", "2")]  # and no removal of the app's keys

    file.write_text(saved.replace("red", "blue"))
    feed.rescan({file}, closed={file})
    assert values(emitted[1:]) == [("user:/app/color", "red", "blue")]
