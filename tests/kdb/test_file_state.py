"""A file's state: read whole, its stat trusted only when not racily new, a change seen
whatever the stat says."""

import os
from pathlib import Path

import pytest

from elektraweb.kdb import file_state, files
from support.file_states import existing_state


def test_a_file_is_read_whole_whatever_its_size(tmp_path: Path) -> None:
    for size in (0, 1, 65_535, 65_536, 300_001):
        target = tmp_path / f"f{size}"
        content = os.urandom(size)
        target.write_bytes(content)
        read = file_state.read(target)
        assert read is not None
        assert read[0] == content
        assert read[1].size == size


def test_stat_is_trusted_only_for_files_that_are_not_racily_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"x")
    fresh = existing_state(target)
    assert fresh.racy
    assert not file_state.stat_unchanged(target, fresh)
    monkeypatch.setattr(file_state, "RACY_WINDOW_NS", 0)  # as if the change were long ago
    assert not fresh.racy
    assert file_state.stat_unchanged(target, fresh)


def test_rewrite_keeping_size_and_mtime_is_still_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(file_state, "RACY_WINDOW_NS", 0)
    target = tmp_path / "f"
    target.write_bytes(b"one")
    known = existing_state(target)
    target.write_bytes(b"two")
    os.utime(target, ns=(known.mtime_ns, known.mtime_ns))
    assert not file_state.stat_unchanged(target, known)
    assert not file_state.unchanged(target, known)


def test_same_content_written_again_counts_as_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"same")
    known = existing_state(target)
    files.write_atomically(target, b"same")
    assert file_state.unchanged(target, known)
    files.write_atomically(target, b"diff")
    assert not file_state.unchanged(target, known)


def test_missing_and_created_files(tmp_path: Path) -> None:
    target = tmp_path / "f"
    assert file_state.read(target) is None
    assert file_state.unchanged(target, None)
    target.write_bytes(b"")
    assert not file_state.unchanged(target, None)
    known = existing_state(target)
    target.unlink()
    assert not file_state.unchanged(target, known)
