"""The removal record beside a file (``kdb/removal_record.py``) is removed when there is
nothing left to remember, and only then touched: a write of a file that has none does not
try to delete one."""

from __future__ import annotations

from pathlib import Path

import pytest

from elektraweb.kdb import KDB, Key, files
from elektraweb.kdb.mounts import Paths
from elektraweb.kdb.removal_record import record_path

TEXT = "[server]\nhost = 'a'  # the host\nport = 'b'\nname = 'c'\n"


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    paths = Paths.from_environ({"KDB_ROOT": str(tmp_path), "HOME": str(tmp_path)}, cwd=tmp_path)
    kdb = KDB(paths)
    kdb.mount("app.toml", "user:/app", "toml")
    file = kdb.file_of("user:/app")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(TEXT)
    return paths


@pytest.fixture
def removals(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The paths the database deletes from now on (they are deleted as before)."""
    removed: list[Path] = []
    remove = files.remove

    def recording_remove(path: Path) -> None:
        removed.append(path)
        remove(path)

    monkeypatch.setattr(files, "remove", recording_remove)
    return removed


def set_value(kdb: KDB, name: str, value: str | None) -> None:
    keys = kdb.get("user:/app")
    if value is None:
        keys.remove(name)
    else:
        keys.add(Key(name, value))
    kdb.set(keys, "user:/app")


def test_writes_of_a_file_without_a_record_delete_nothing(
    paths: Paths, removals: list[Path]
) -> None:
    kdb = KDB(paths)
    for value in ("x", "y", "z"):
        set_value(kdb, "user:/app/server/port", value)
    set_value(KDB(paths), "user:/app/server/name", "from another process")

    assert removals == []
    assert "port = 'z'" in kdb.file_of("user:/app").read_text()


def test_the_write_that_puts_the_last_lines_back_deletes_the_record(
    paths: Paths, removals: list[Path]
) -> None:
    kdb = KDB(paths)
    file = kdb.file_of("user:/app")
    set_value(kdb, "user:/app/server/host", None)
    assert record_path(file).exists()

    set_value(kdb, "user:/app/server/host", "a")  # the undo, in the same process

    assert file.read_text() == TEXT
    assert not record_path(file).exists()
    assert removals == [record_path(file)]


def test_a_record_of_other_content_is_deleted_by_the_next_write(
    paths: Paths, removals: list[Path]
) -> None:
    set_value(KDB(paths), "user:/app/server/host", None)
    file = KDB(paths).file_of("user:/app")
    file.write_text(file.read_text() + "# edited by hand\n")  # the record no longer fits

    kdb = KDB(paths)
    set_value(kdb, "user:/app/server/port", "x")
    set_value(kdb, "user:/app/server/port", "y")

    assert not record_path(file).exists()
    assert removals == [record_path(file)]  # once: the next write knows it is gone
