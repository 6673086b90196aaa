"""Changes made behind elektrad's back: watch the mounted files, diff them against known keys.

The feed keeps the keys of every persistent namespace as last seen. elektrad's own writes are
absorbed into that snapshot on the KDB worker right after they are written, together with the
stat of each file they wrote: when the watcher then reports such a file unchanged since, it is
not read again (a big file costs a full parse and diff). Whatever else differs was changed by
someone else (a local ``kdb set``, an editor) and is emitted with origin ``external``. A file
a writer still holds open, or one that changed while it was read, is not taken as read: its
keys stay as known until the writer's close brings another look (`open_writers`).

A file in dump format that alone holds a mountpoint is also kept as bytes (`dump_delta`): when
it changes, only the records that differ are read, not the whole file, so one key set on the
host in a 100k-key file is published in milliseconds. elektrad's own writes drop that copy; the
next change of the file is read whole, and the copy taken again.

The snapshot methods (:meth:`prime`, :meth:`absorb`, :meth:`rescan`) run on the KDB worker;
:meth:`follow` runs on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Iterable
from pathlib import Path

from elektraweb.instance.dump_delta import DumpSnapshot, delta, snapshot
from elektraweb.instance.filewatch import DirectoryWatch
from elektraweb.instance.open_writers import held_open_for_writing
from elektraweb.instance.worker import KDBWorker
from elektraweb.kdb import names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.errors import KDBError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.mounts import (
    DEFAULT_FORMAT,
    ELEKTRA,
    PERSISTENT_NAMESPACES,
    Mount,
    MountTable,
)
from elektraweb.kdb.sidecar import sidecar_path
from elektraweb.operations.store import KeyChange

logger = logging.getLogger(__name__)

# Changes are grouped until `STEP` seconds pass without one (at most `DEBOUNCE` seconds);
# both are far below the one second in which an outside change must reach subscribers.
DEBOUNCE = 0.3
STEP = 0.03
# After the watcher failed, wait this long (seconds) before watching again.
RETRY_AFTER = 1.0

Emit = Callable[[list[KeyChange]], None]
# What identifies one version of a file for the feed; None: the file does not exist.
Signature = tuple[int, int, int] | None


def _signature(path: Path) -> Signature:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class ChangeFeed:
    """The keys of every mounted file as last seen; ``emit`` gets what changed behind our back."""

    def __init__(self, kdb: KDB, emit: Emit) -> None:
        self._kdb = kdb
        self._emit = emit
        self._known = KeySet()
        self._roots_of: dict[Path, list[str]] = {}  # file (or sidecar) → mountpoints it holds
        self._bootstrap: Path | None = None
        self._awaited: frozenset[Path] = frozenset()  # missing directories on a file's path
        self._written: dict[Path, Signature] = {}  # files as elektrad's last write left them
        self._dump_roots: dict[Path, str] = {}  # dump files that alone hold their mountpoint
        self._dumps: dict[Path, DumpSnapshot] = {}  # their bytes as the snapshot has them
        self.directories: frozenset[Path] = frozenset()

    # -- on the KDB worker -----------------------------------------------------------------

    def prime(self) -> frozenset[Path]:
        """Learn every key and every mounted file; returns the directories to watch."""
        self._known = KeySet()
        for mount in MountTable(self._kdb.mounts(), self._kdb.paths).mounts:
            try:
                # Shared with the KDB's read view, not copied: keys are replaced, never
                # changed, so the snapshot costs an index, not a second copy of the tree.
                self._known.extend(self._kdb.view(mount.name).below(mount.name))
            except KDBError as error:
                # One broken file must not keep elektrad from serving the others.
                logger.warning("cannot read the keys at %s: %s", mount.name, error)
        directories = self._learn_files()
        self._dumps = {}
        self._remember(dict.fromkeys(self._dump_roots))
        return directories

    def absorb(self, changes: Iterable[KeyChange]) -> None:
        """Record changes elektrad itself just wrote, so they are not reported as external."""
        files: set[Path] = set()
        for change in changes:
            if change.new is None:
                self._known.remove(change.key)
            else:
                self._known.add(change.new.copy())
            files.add(self._kdb.file_of(change.key))
        for file in files:
            self._dumps.pop(file, None)  # its bytes are no longer those of the snapshot
            for path in _with_sidecar(file):
                self._written[path] = _signature(path)

    def rescan(
        self, paths: Iterable[Path] | None, closed: Collection[Path] = frozenset()
    ) -> frozenset[Path]:
        """Diff the mounts held by ``paths`` (every mount for None) against the snapshot and
        emit what changed; returns the directories to watch now. ``closed``: those of
        ``paths`` a writer closed since (the watch's `Batch.closed`)."""
        targets = (
            None
            if paths is None
            else {path for path in self._with_files_below(paths) if self._changed(path, closed)}
        )
        changes: list[KeyChange] = []
        if targets is not None:
            for path in sorted(self._dumps.keys() & targets):
                found = self._dump_changes(path)
                if found is not None:
                    changes.extend(found)
                    targets.discard(path)
        if targets is None or self._bootstrap in targets:
            roots = [names.join(namespace, ()) for namespace in PERSISTENT_NAMESPACES]
        else:
            roots = sorted(
                {root for path in targets for root in self._roots_of.get(path, ())},
                key=names.sort_key,
            )
        read: dict[Path, Signature] = {}
        for root in _outermost(roots):
            try:
                changes.extend(self._diff(root, read))
            except KDBError as error:
                # A file every key needs (a spec file, the mount table) may not parse while
                # it is edited; its next save brings another look.
                logger.warning("cannot read the keys at %s after a change: %s", root, error)
        if changes:
            self._emit(changes)
        # Mounts come and go, and so do directories (one removed must be watched for again).
        directories = self._learn_files()
        self._remember({file: read[file] for file in self._dump_roots.keys() & read.keys()})
        return directories

    def _changed(self, path: Path, closed: Collection[Path]) -> bool:
        """Whether ``path`` is to be read: not as elektrad last wrote it, and not in the middle
        of being written in place."""
        if path not in self._written:
            return True
        written, now = self._written[path], _signature(path)
        in_place = now is not None and written is not None and now[2] == written[2]
        if in_place and now != written and path not in closed:
            # The file elektrad wrote, changed in place by a writer that has not closed it
            # yet: it may be truncated and not filled again. Its close brings a batch.
            return False
        del self._written[path]
        return now != written

    def _with_files_below(self, paths: Iterable[Path]) -> set[Path]:
        """``paths`` and, for a directory awaited there (made or removed), the mounted files
        below it: they may have been written before a watch on the directory was in place."""
        found = set(paths)
        for directory in found & self._awaited:
            found.update(file for file in self._roots_of if directory in file.parents)
        return found

    def recheck(self, key: str) -> None:
        """Emit what changed behind our back in the file that holds ``key``."""
        try:
            file = self._kdb.file_of(key)
        except KDBError:
            return  # not a stored key: no file to look at
        files = set(_with_sidecar(file))
        self.rescan(files, closed=files)

    def _remember(self, files: dict[Path, Signature | None]) -> None:
        """Keep the bytes of these dump files for the next change, each only as the version
        its keys were read from (if given): they are the base of the next delta."""
        for file, version in files.items():
            data = _read_settled(file, version)
            kept = None if data is None else snapshot(data)
            if kept is None:
                self._dumps.pop(file, None)
            else:
                self._dumps[file] = kept

    def _dump_changes(self, path: Path) -> list[KeyChange] | None:
        """What changed in the dump file ``path``, from the records that differ; None (and
        its copy dropped) when the whole file must be read."""
        data = _read_settled(path)
        if data is None:
            return None  # read whole, which keeps its keys until a writer at it is done
        try:
            found = delta(self._dumps.pop(path), data, self._dump_roots[path])
        except KeyError:
            return None
        if found is None:
            return None
        was, now, self._dumps[path] = found
        changes: list[KeyChange] = []
        for name in sorted(
            {key.name for key in was} | {key.name for key in now}, key=names.sort_key
        ):
            known, key = self._known.lookup(name), now.lookup(name)
            if key is None and known is not None:
                changes.append(KeyChange(name, known, None))
                self._known.remove(name)
            elif key is not None and (known is None or not known.same_content(key)):
                changes.append(KeyChange(name, known, key))
                self._known.add(key)
        return changes

    def _diff(self, root: str, read: dict[Path, Signature]) -> list[KeyChange]:
        """What changed at and below ``root``; adds the files it read whole, each with the
        version read, to ``read``."""
        table = MountTable(self._kdb.mounts(), self._kdb.paths)
        files = {
            path: _signature(path)
            for region in table.regions(root)
            for path in _with_sidecar(region.mount.file)
        }
        unreadable: dict[Mount, KDBError] = {}
        fresh = self._kdb.view(root, unreadable=unreadable).below(root)
        known = self._known.below(root)
        for mount, error in unreadable.items():
            # Being edited, it may not parse yet; its next save brings another look.
            logger.warning("cannot read the keys at %s after a change: %s", mount.name, error)
        # A file changed while it was read, or held open by a writer now, may have been read
        # half written (truncated, not filled again): its keys stay as known until the
        # writer's close, which the watch reports, brings another look. So do the keys of
        # a file that does not parse, while the others' changes are published.
        busy = {
            path
            for path, version in files.items()
            if _signature(path) != version or held_open_for_writing(path)
        }
        busy.update(path for mount in unreadable for path in _with_sidecar(mount.file))
        if busy:
            fresh = _as_known_in(fresh, known, table, busy)
        read.update((path, version) for path, version in files.items() if path not in busy)
        changes: list[KeyChange] = []
        for key in fresh:
            old = known.lookup(key.name)
            if old is None or not old.same_content(key):
                changes.append(KeyChange(key.name, old, key))
        changes.extend(KeyChange(key.name, key, None) for key in known if key.name not in fresh)
        self._known.cut(root)
        self._known.extend(fresh)
        changes.sort(key=lambda change: names.sort_key(change.key))
        return changes

    def _learn_files(self) -> frozenset[Path]:
        table = MountTable(self._kdb.mounts(), self._kdb.paths)
        roots_of: dict[Path, list[str]] = {}
        for mount in table.mounts:
            for path in _with_sidecar(mount.file):
                roots_of.setdefault(path, []).append(mount.name)
            if mount.name == ELEKTRA:
                self._bootstrap = mount.file
        directories: set[Path] = set()
        awaited: set[Path] = set()
        for path in roots_of:
            directory = path.parent
            while not directory.is_dir() and directory != directory.parent:
                awaited.add(directory)
                directory = directory.parent
            directories.add(directory)
        self._roots_of = roots_of
        # Only a file whose mountpoint has no other mount below it: the keys it holds are
        # then exactly the keys the database shows there.
        self._dump_roots = {
            mount.file: mount.name
            for mount in table.mounts
            if mount.format == DEFAULT_FORMAT
            and mount.name != ELEKTRA
            and roots_of[mount.file] == [mount.name]
            and not any(names.is_below(other.name, mount.name) for other in table.mounts)
        }
        self._awaited = frozenset(awaited)
        self.directories = frozenset(directories)
        return self.directories

    # -- on the event loop -------------------------------------------------------------------

    def _relevant(self, path: Path) -> bool:
        return path in self._roots_of or path in self._awaited

    async def follow(self, worker: KDBWorker, stopping: asyncio.Event) -> None:
        """Watch the mounted files until ``stopping`` is set, rescanning what changed."""
        directories = self.directories
        while not stopping.is_set():
            try:
                directories = await self._watch(worker, stopping, directories)
            except Exception:
                # A watched directory removed, a file that cannot be read: keep following.
                logger.exception(
                    "change feed: watching %s failed; starting again",
                    ", ".join(sorted(map(str, directories))),
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), RETRY_AFTER)
                directories = await worker.run(self.rescan, None)

    async def _watch(
        self, worker: KDBWorker, stopping: asyncio.Event, directories: frozenset[Path]
    ) -> frozenset[Path]:
        """Watch ``directories`` until they are no longer the ones to watch (returns the new
        set) or ``stopping`` is set."""
        watch = DirectoryWatch(directories, self._relevant)
        try:
            # Whatever changed while no watch was in place is found by a full scan, made
            # once the watch is: nothing falls between the two.
            watched = await worker.run(self.rescan, None)
            if watched != directories:
                return watched
            # Closed before the watch is: its descriptor's number may be the next watch's.
            async with contextlib.aclosing(
                watch.batches(stopping, step=STEP, debounce=DEBOUNCE)
            ) as batches:
                async for batch in batches:
                    paths = None if batch.everything else batch.paths
                    watched = await worker.run(self.rescan, paths, batch.closed)
                    if watched != directories:
                        return watched
            return directories
        finally:
            watch.close()


def _read_settled(path: Path, version: Signature | None = None) -> bytes | None:
    """The bytes of ``path``, or None if they cannot be read whole now: no such file, a
    writer has it open, it changed while read, or it is no longer ``version`` (if given)."""
    before = _signature(path)
    if before is None or version not in (None, before) or held_open_for_writing(path):
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if _signature(path) != before or held_open_for_writing(path):
        return None
    return data


def _with_sidecar(file: Path) -> tuple[Path, Path]:
    """The two files a mount's keys are stored in: its own and the sidecar beside it."""
    return file, sidecar_path(file)


def _as_known_in(
    fresh: KeySet, known: KeySet, table: MountTable, files: Collection[Path]
) -> KeySet:
    """``fresh`` with the keys stored in ``files`` (or their sidecars) as ``known`` has them."""

    def unsettled(key: Key) -> bool:
        return any(path in files for path in _with_sidecar(table.mount_of(key.name).file))

    kept = KeySet(key for key in fresh if not unsettled(key))
    kept.extend(key for key in known if unsettled(key))
    return kept


def _outermost(roots: list[str]) -> list[str]:
    """Drop roots that lie below another root in the list (their keys are scanned anyway)."""
    kept: list[str] = []
    for root in roots:
        if not any(names.is_below(root, other) for other in kept):
            kept.append(root)
    return kept
