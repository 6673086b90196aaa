"""Cooperative locks: writers of the same file serialise on ``flock`` of a lock file beside
it (``.app.toml.lock``).

The data file itself cannot carry the lock because every write replaces its inode. Lock files
are never removed, because removing one would let two writers lock two different inodes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from elektraweb.kdb.errors import ConflictError, ResourceError


def lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def locked(
    paths: Iterable[Path], timeout: float = 10.0, *, shared: Iterable[Path] = ()
) -> Iterator[None]:
    """Hold the write lock of every file in ``paths`` and the read lock of those in ``shared``.

    Locks are taken in sorted order, so two writers of overlapping sets cannot deadlock; a
    lock still held by another writer after ``timeout`` seconds is reported as a conflict.
    """
    exclusive = set(paths)
    with contextlib.ExitStack() as stack:
        for path in sorted(exclusive | set(shared)):
            if path in exclusive:
                stack.enter_context(_flock(path, fcntl.LOCK_EX, timeout, create=True))
            else:
                stack.enter_context(_flock(path, fcntl.LOCK_SH, timeout, create=False))
        yield


@contextlib.contextmanager
def read_locked(path: Path, timeout: float = 10.0) -> Iterator[None]:
    """Keep writers out while reading a file and its sidecar as one consistent pair.

    Readers never create the lock file (they may lack the right to, like a user reading
    /etc/kdb); where there is none, no writer has held it yet, and they read unlocked.
    """
    with _flock(path, fcntl.LOCK_SH, timeout, create=False):
        yield


@contextlib.contextmanager
def _flock(path: Path, operation: int, timeout: float, *, create: bool) -> Iterator[None]:
    target = lock_path(path)
    flags = os.O_RDONLY | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    try:
        if create:
            target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, flags, 0o644)
    except OSError as exc:
        if create:
            raise ResourceError(f"cannot create lock file {target}: {exc.strerror}") from exc
        fd = -1
    if fd < 0:
        yield
        return
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, operation | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ConflictError(
                        f"{path} is locked by another writer for more than {timeout:g} s"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
