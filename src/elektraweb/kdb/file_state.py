"""Change detection: what identifies one version of a file (its stat and content), read
together so that a change made while reading is noticed, and whether a file is still it."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import NamedTuple

from elektraweb.kdb.errors import ResourceError

# Linux stamps files from a coarse clock (one scheduler tick, at most 10 ms) and some
# filesystems keep whole seconds, so a file changed within that time after we looked at it
# may keep an identical stat. Every change sets ctime to "now" (nothing can set it back), so
# a file whose ctime is older than the window when we look cannot change unseen; for a
# younger one the content hash decides (git calls such entries "racily clean").
RACY_WINDOW_NS = 50_000_000
# A ctime of whole seconds suggests a filesystem that keeps only seconds.
RACY_WINDOW_COARSE_NS = 2_000_000_000


class FileState(NamedTuple):
    """What identifies one version of a file: its stat and its content.

    The content is kept rather than a hash of it: the parsed document holds the same bytes
    anyway, and telling a racily clean file from a changed one is then a memory compare,
    not a hash of the whole file on every read and write.
    """

    mtime_ns: int
    ctime_ns: int
    size: int
    inode: int
    device: int
    content: bytes
    seen_ns: int

    def __repr__(self) -> str:
        return f"FileState(inode={self.inode}, size={self.size}, ctime_ns={self.ctime_ns})"

    @property
    def racy(self) -> bool:
        """True if the file may change without its stat changing, so only the hash can tell."""
        coarse = self.ctime_ns % 1_000_000_000 == 0
        window = max(RACY_WINDOW_NS, RACY_WINDOW_COARSE_NS if coarse else 0)
        return self.ctime_ns >= self.seen_ns - window

    def matches_stat(self, st: os.stat_result) -> bool:
        return (
            st.st_mtime_ns == self.mtime_ns
            and st.st_ctime_ns == self.ctime_ns
            and st.st_size == self.size
            and st.st_ino == self.inode
            and st.st_dev == self.device
        )


def state_of(st: os.stat_result, data: bytes, seen_ns: int) -> FileState:
    """The state of a file that had stat ``st`` at time ``seen_ns`` (taken before the stat:
    seeing it later than it was would shrink the racy window)."""
    return FileState(
        mtime_ns=st.st_mtime_ns,
        ctime_ns=st.st_ctime_ns,
        size=st.st_size,
        inode=st.st_ino,
        device=st.st_dev,
        content=data,
        seen_ns=seen_ns,
    )


def read(path: Path) -> tuple[bytes, FileState] | None:
    """The file's content and state, or None if it does not exist."""
    for _attempt in range(5):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ResourceError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            before = os.fstat(fd)
            data = _read_all(fd, before.st_size)
            seen_ns = time.time_ns()
            after = os.fstat(fd)
        except OSError as exc:
            raise ResourceError(f"cannot read {path}: {exc.strerror}") from exc
        finally:
            os.close(fd)
        # Someone writing in place (an editor, not us) changed the file while we read it.
        if (before.st_ctime_ns, before.st_size) == (after.st_ctime_ns, after.st_size):
            return data, state_of(after, data, seen_ns)
        time.sleep(0.01)
    raise ResourceError(f"cannot read {path}: it keeps changing while being read")


def _read_all(fd: int, size: int) -> bytes:
    """``fd``'s content to its end, ``size`` bytes as far as ``fstat`` knew: read from the
    descriptor itself (a Python file object around it costs four more system calls)."""
    chunks: list[bytes] = []
    wanted = size + 1  # one byte more: the empty read that follows finds the end
    while chunk := os.read(fd, wanted):
        chunks.append(chunk)
        wanted = 1 << 16
    return b"".join(chunks)


def stat_unchanged(path: Path, known: FileState | None) -> bool:
    """True if one ``stat`` proves the file is still ``known`` (None: still missing).

    False means "maybe changed": the stat differs, or it is too recent to be trusted.
    """
    return stat_matches(path, known) and (known is None or not known.racy)


def stat_matches(path: Path, known: FileState | None) -> bool:
    """False if one ``stat`` proves the file is no longer ``known`` (None: missing); True
    if the stat is the same, which for a racily new ``known`` may still hide a change."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return known is None
    except OSError as exc:
        raise ResourceError(f"cannot stat {path}: {exc.strerror}") from exc
    return known is not None and known.matches_stat(st)


def unchanged(path: Path, known: FileState | None) -> bool:
    """True if the file still has the content it had in state ``known``."""
    if stat_unchanged(path, known):
        return True
    current = read(path)
    if current is None or known is None:
        return current is None and known is None
    return current[1].content == known.content
