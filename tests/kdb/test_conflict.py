import multiprocessing
import os
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from elektraweb.kdb import KDB, Key, file_state
from elektraweb.kdb.errors import ConflictError
from elektraweb.kdb.mounts import Paths
from elektraweb.kdb.sidecar import sidecar_path
from support.keys import existing_key


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    paths = Paths.from_environ({"KDB_ROOT": str(tmp_path), "HOME": str(tmp_path)}, cwd=tmp_path)
    KDB(paths).mount("app.ecf", "user:/app", "dump")
    return paths


def set_key(kdb: KDB, name: str, value: str) -> list[Path]:
    ks = kdb.get("user:/")
    ks.add(Key(name, value))
    return kdb.set(ks, "user:/")


def stored(paths: Paths) -> dict[str, object]:
    return {k.name: k.value for k in KDB(paths).get("user:/app")}


def test_a_file_changed_since_the_get_is_a_conflict_and_nothing_is_lost(paths: Paths) -> None:
    first, second = KDB(paths), KDB(paths)
    mine = first.get("user:/app")
    set_key(second, "user:/app/theirs", "2")
    mine.add(Key("user:/app/mine", "1"))
    with pytest.raises(ConflictError) as caught:
        first.set(mine, "user:/app")
    assert caught.value.code == "C02000"
    assert str(paths.user / "app.ecf") in caught.value.message
    assert stored(paths) == {"user:/app/theirs": "2"}
    set_key(first, "user:/app/mine", "1")  # a fresh get, then the set succeeds
    assert stored(paths) == {"user:/app/theirs": "2", "user:/app/mine": "1"}


def test_the_same_content_written_again_is_no_conflict(paths: Paths) -> None:
    first = KDB(paths)
    set_key(first, "user:/app/a", "1")
    mine = first.get("user:/app")
    file = paths.user / "app.ecf"
    file.write_bytes(file.read_bytes())  # e.g. an editor saving without changes
    mine.add(Key("user:/app/b", "2"))
    first.set(mine, "user:/app")
    assert stored(paths) == {"user:/app/a": "1", "user:/app/b": "2"}


def test_a_conflict_in_one_file_writes_none_of_the_others(paths: Paths) -> None:
    first, second = KDB(paths), KDB(paths)
    first.mount("other.ecf", "user:/other", "dump")
    mine = first.get("user:/")
    set_key(second, "user:/app/theirs", "2")
    mine.add(Key("user:/other/mine", "1"))
    mine.add(Key("user:/app/mine", "1"))
    with pytest.raises(ConflictError, match=r"app\.ecf"):
        first.set(mine, "user:/")
    assert not (paths.user / "other.ecf").exists()


def test_a_sidecar_saved_by_an_editor_during_the_write_is_kept_and_read_again(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    kdb = KDB(paths)
    kdb.mount("app.ini", "user:/ini", "ini")
    keys = kdb.get("user:/ini")
    keys.add(Key("user:/ini/s/port", "80", {"check/type": "short"}))
    kdb.set(keys, "user:/ini")
    sidecar = sidecar_path(paths.user / "app.ini")
    keys = kdb.get("user:/ini")
    keys.add(Key("user:/ini/s/port", "81", {"check/type": "short", "note": "new"}))
    editor_save = sidecar.with_name("editor.tmp")
    editor_save.write_bytes(sidecar.read_bytes().replace(b"short", b"float"))
    os.replace(editor_save, sidecar)
    with monkeypatch.context() as patched:
        # The editor's rename lands after every check, just before our rename of the sidecar.
        patched.setattr(file_state, "unchanged", lambda path, known: True)
        with pytest.raises(ConflictError, match="back in place"):
            kdb.set(keys, "user:/ini")
    port = kdb.get("user:/ini").lookup("user:/ini/s/port")
    assert port is not None  # the data file was renamed first and holds the new value
    assert (port.value, port.meta) == ("81", {"check/type": "float"})  # the editor's sidecar


def test_a_mount_made_since_the_get_is_a_conflict(paths: Paths) -> None:
    first, second = KDB(paths), KDB(paths)
    mine = first.get("user:/")
    second.mount("new.ecf", "user:/new", "dump")
    mine.add(Key("user:/new/key", "1"))
    with pytest.raises(ConflictError, match=r"elektra\.ecf"):
        first.set(mine, "user:/")
    set_key(first, "user:/new/key", "1")
    assert first.file_of("user:/new/key") == paths.user / "new.ecf"
    assert existing_key(KDB(paths).get("user:/new"), "user:/new/key").value == "1"


def _writer(
    paths: Paths, name: str, barrier: Barrier, outcome: "multiprocessing.Queue[str]"
) -> None:
    kdb = KDB(paths)
    ks = kdb.get("user:/")
    ks.add(Key(name, "written"))
    barrier.wait()  # both have read the same state before either writes
    try:
        kdb.set(ks, "user:/")
        outcome.put(f"{name} won")
    except ConflictError as error:
        outcome.put(f"{name} {error.code}")
        set_key(kdb, name, "written")  # what a client does on a conflict: get again, retry


def test_two_processes_writing_the_same_file_one_wins_the_other_conflicts(
    paths: Paths,
) -> None:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    outcome: multiprocessing.Queue[str] = context.Queue()
    writers = [
        context.Process(target=_writer, args=(paths, f"user:/app/{who}", barrier, outcome))
        for who in ("left", "right")
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=30)
    assert [writer.exitcode for writer in writers] == [0, 0]
    results = sorted(outcome.get(timeout=5) for _ in writers)
    assert sorted(result.split()[1] for result in results) == ["C02000", "won"]
    assert stored(paths) == {"user:/app/left": "written", "user:/app/right": "written"}
