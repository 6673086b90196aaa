import os
from pathlib import Path

import pytest

from elektraweb.kdb import file_state, files
from elektraweb.kdb.errors import ConflictError
from support.file_states import existing_state


def test_atomic_write_creates_directories_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "app.toml"
    state = files.write_atomically(target, b"a = 1\n")
    assert target.read_bytes() == b"a = 1\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["app.toml"]
    assert state.size == 6
    assert state.content == b"a = 1\n"


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    target = tmp_path / "secret.ini"
    target.write_bytes(b"old")
    target.chmod(0o600)
    files.write_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o600


def test_atomic_write_keeps_the_mode_that_the_umask_would_take(tmp_path: Path) -> None:
    target = tmp_path / "shared.ini"
    target.write_bytes(b"old")
    target.chmod(0o664)
    previous = os.umask(0o077)
    try:
        files.write_atomically(target, b"new")
    finally:
        os.umask(previous)
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o664


def test_staged_content_is_invisible_until_commit_and_gone_after_discard(tmp_path: Path) -> None:
    target = tmp_path / "app.json"
    target.write_bytes(b"{}")
    staged = files.StagedFile(target, b'{"a": 1}')
    assert target.read_bytes() == b"{}"
    staged.discard()
    assert target.read_bytes() == b"{}"
    assert [p.name for p in tmp_path.iterdir()] == ["app.json"]
    files.StagedFile(target, b'{"b": 2}').commit(existing_state(target))
    assert target.read_bytes() == b'{"b": 2}'


def test_stale_temporaries_of_a_killed_writer_are_removed(tmp_path: Path) -> None:
    target = tmp_path / "app.toml"
    leftover = tmp_path / ".app.toml.0badf00d.tmp"
    leftover.write_bytes(b"half a file")
    unrelated = tmp_path / ".other.toml.0badf00d.tmp"
    unrelated.write_bytes(b"")
    files.remove_stale_temporaries(target)
    assert not leftover.exists()
    assert unrelated.exists()


def staged_then_saved_by_an_editor(
    target: Path,
) -> tuple[file_state.FileState, files.StagedFile, int]:
    """``target`` read, our new content staged, then an editor's save by rename (without our
    lock): the state we read, our staged file and the inode of the editor's save."""
    target.write_bytes(b"{}")
    read_state = existing_state(target)
    staged = files.StagedFile(target, b'{"ours": 1}')
    other = target.with_name("editor.tmp")
    other.write_bytes(b'{"editor": 1}')
    os.replace(other, target)
    return read_state, staged, os.stat(target).st_ino


def test_commit_refuses_a_file_saved_by_another_program_since_it_was_read(
    tmp_path: Path,
) -> None:
    target = tmp_path / "app.json"
    read_state, staged, _ = staged_then_saved_by_an_editor(target)
    with pytest.raises(ConflictError, match="changed on disk"):
        staged.commit(read_state)
    assert target.read_bytes() == b'{"editor": 1}'


@pytest.fixture
def save_after_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The identity check passes, as if the other program's save landed just after it."""
    monkeypatch.setattr(file_state, "stat_matches", lambda path, known: True)


@pytest.mark.usefixtures("save_after_the_check")
def test_a_save_that_slips_in_after_the_check_is_swapped_back_and_reported(
    tmp_path: Path,
) -> None:
    target = tmp_path / "app.json"
    read_state, staged, editor_inode = staged_then_saved_by_an_editor(target)
    with pytest.raises(ConflictError, match=f"another program.*inode {editor_inode}.*not applied"):
        staged.commit(read_state)
    assert target.read_bytes() == b'{"editor": 1}'
    assert os.stat(target).st_ino == editor_inode
    assert [p.name for p in tmp_path.iterdir()] == ["app.json"]


@pytest.mark.usefixtures("save_after_the_check")
def test_a_new_file_created_meanwhile_by_another_program_is_not_replaced(
    tmp_path: Path,
) -> None:
    target = tmp_path / "app.json"
    staged = files.StagedFile(target, b'{"ours": 1}')
    target.write_bytes(b'{"editor": 1}')
    with pytest.raises(ConflictError, match="created by another program"):
        staged.commit(None)
    assert target.read_bytes() == b'{"editor": 1}'


@pytest.mark.usefixtures("save_after_the_check")
def test_a_second_save_during_the_put_back_is_the_one_left_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "app.json"
    read_state, staged, first_save = staged_then_saved_by_an_editor(target)
    rename2 = files._rename2
    calls: list[int] = []
    newer: list[int] = []

    def editor_saves_again_before_the_put_back(source: Path, dest: Path, flags: int) -> bool:
        calls.append(flags)
        if len(calls) == 2:  # after our swap, before we swap the first save back
            again = tmp_path / "editor.tmp"
            again.write_bytes(b'{"editor": 2}')
            newer.append(os.stat(again).st_ino)
            os.replace(again, target)
        return rename2(source, dest, flags)

    monkeypatch.setattr(files, "_rename2", editor_saves_again_before_the_put_back)
    with pytest.raises(ConflictError) as caught:
        staged.commit(read_state)
    assert f"inode {newer[0]} replacing inode {first_save}" in caught.value.message
    assert target.read_bytes() == b'{"editor": 2}'
    assert [p.name for p in tmp_path.iterdir()] == ["app.json"]
