"""Watching directories for the file events that can change a key, through Linux inotify.

Only creates, deletes, moves, attribute changes and closes after a write are asked for: a
program that merely opens or reads a mounted file (elektrad's own reads, its lock file, a
``cat``, a backup) causes no event at all, so it wakes neither the event loop nor the KDB
worker. A write is seen when the writer closes the file (``IN_CLOSE_WRITE``), not at every
``write``: every editor and ``kdb`` closes the file or renames a new one into place. A batch
says which files were closed after a write (`Batch.closed`): a file changed in place but not
closed yet may be half written (truncated, not filled again), and the change feed waits for
its close before it reads it.

The watch runs on the event loop (its descriptor in the loop's selector), without a thread.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import struct
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC

# No IN_OPEN, IN_ACCESS, IN_CLOSE_NOWRITE, IN_MODIFY: see the module's docstring.
MASK = (
    IN_CLOSE_WRITE
    | IN_ATTRIB
    | IN_CREATE
    | IN_DELETE
    | IN_MOVED_FROM
    | IN_MOVED_TO
    | IN_DELETE_SELF
    | IN_MOVE_SELF
    | IN_ONLYDIR
)
# The watched directory itself went away, or the kernel dropped events: nothing known is sure.
_LOST = IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_Q_OVERFLOW

_EVENT = struct.Struct("iIII")  # struct inotify_event: wd, mask, cookie, len; then the name
_READ_SIZE = 64 * 1024


@dataclass
class Batch:
    """What changed during one quiet period: the relevant paths, or ``everything``; and which
    of them a writer closed (``closed``)."""

    paths: set[Path] = field(default_factory=set)
    everything: bool = False
    closed: set[Path] = field(default_factory=set)

    def __bool__(self) -> bool:
        return self.everything or bool(self.paths)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.inotify_init1.argtypes = [ctypes.c_int]
    libc.inotify_init1.restype = ctypes.c_int
    libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    libc.inotify_add_watch.restype = ctypes.c_int
    return libc


class DirectoryWatch:
    """An inotify descriptor watching some directories (not recursively); close it after use."""

    def __init__(self, directories: Iterable[Path], relevant: Callable[[Path], bool]) -> None:
        self._libc = _libc()
        self._relevant = relevant
        self._fd = self._check(self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify")
        self._directories: dict[int, Path] = {}
        try:
            for directory in directories:
                descriptor = self._libc.inotify_add_watch(self._fd, os.fsencode(directory), MASK)
                self._directories[self._check(descriptor, str(directory))] = directory
        except OSError:
            os.close(self._fd)
            raise

    @staticmethod
    def _check(result: int, what: str) -> int:
        if result < 0:
            number = ctypes.get_errno()
            raise OSError(number, f"cannot watch {what}: {os.strerror(number)}")
        return result

    def close(self) -> None:
        os.close(self._fd)

    def pending(self) -> Batch:
        """Every event queued so far, as a batch (empty if none is queued)."""
        batch = Batch()
        self._read_into(batch)
        return batch

    def _read_into(self, batch: Batch) -> int:
        """Add the queued events to ``batch``; returns how many there were."""
        count = 0
        while True:
            try:
                data = os.read(self._fd, _READ_SIZE)
            except BlockingIOError:
                return count
            offset = 0
            while offset < len(data):
                descriptor, mask, _, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = data[offset : offset + length].rstrip(b"\0")
                offset += length
                count += 1
                if mask & _LOST:
                    batch.everything = True
                    continue
                directory = self._directories.get(descriptor)
                if directory is not None and name:
                    path = directory / os.fsdecode(name)
                    if self._relevant(path):
                        batch.paths.add(path)
                        if mask & IN_CLOSE_WRITE:
                            batch.closed.add(path)

    async def batches(
        self, stopping: asyncio.Event, *, step: float, debounce: float
    ) -> AsyncGenerator[Batch, None]:
        """Yield what changed, once ``step`` seconds passed without a new event (at most
        ``debounce`` seconds after the first), until ``stopping`` is set. Events that concern
        no relevant path are read and dropped without a yield."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()

        def readable() -> None:
            # Once: the burst that follows is read every `step`, not event by event, and a
            # reader left in place while a batch is handled would wake the loop on every turn.
            loop.remove_reader(self._fd)
            ready.set()

        stopped = loop.create_task(stopping.wait())
        stopped.add_done_callback(lambda _: ready.set())
        try:
            while True:
                loop.add_reader(self._fd, readable)
                await ready.wait()
                ready.clear()
                batch = Batch()
                deadline = loop.time() + debounce
                while not stopping.is_set() and self._read_into(batch):
                    left = deadline - loop.time()
                    if left <= 0:
                        break
                    await asyncio.sleep(min(step, left))
                if stopping.is_set():
                    return
                if batch:
                    yield batch
        finally:
            loop.remove_reader(self._fd)
            stopped.cancel()
