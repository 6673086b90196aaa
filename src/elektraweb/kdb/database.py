"""The KDB: get and set over the mounted files, with libelektra's semantics.

``get`` reads every file mounted at or below the parent key (only files that changed since
the last get are parsed again) and returns the keys with their specification applied.
``set`` takes the desired state at and below the parent, validates it, and writes only the
files whose keys changed: all of them are rendered first, then written atomically under
their locks, and a file that changed on disk since this KDB read it is a conflict (C02000).

A KDB keeps what it read in memory for the next get and set; it is not thread-safe.
``view`` is ``get`` without the copy, for readers of big key sets (a daemon's listings);
``peek`` reads only the part of a file a one-shot ``kdb get`` or ``kdb set`` needs.
``remembered_only`` answers views without reading any file, or not at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from elektraweb.kdb import names
from elektraweb.kdb.backend import Backend
from elektraweb.kdb.errors import INTERFACE, InvalidNameError, KDBError, MountError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.mounts import (
    MOUNTPOINTS,
    PERSISTENT_NAMESPACES,
    Mount,
    Mountpoint,
    MountTable,
    Paths,
    Region,
    bootstrap_mount,
)
from elektraweb.kdb.spec import Specification, apply_spec, strip_spec
from elektraweb.kdb.storage import FORMATS, format_for_file
from elektraweb.kdb.validation import validate_change
from elektraweb.kdb.views import PROC, NotRemembered, ViewCache
from elektraweb.kdb.writes import commit, file_change

# Parts of spec key names that match more than themselves (see elektraweb.kdb.spec).
_WILDCARD_PARTS = ("_", "#")
_GLOB_CHARACTERS = ("*", "?", "[")


class KDB:
    """libelektra's key database over this host's mounted files."""

    def __init__(self, paths: Paths | None = None, *, lock_timeout: float = 10.0) -> None:
        self.paths = paths if paths is not None else Paths.from_environ()
        self.lock_timeout = lock_timeout
        self._backends: dict[Mount, Backend] = {}
        self._table: MountTable | None = None
        self._table_source: KeySet | None = None
        self._proc = KeySet()
        self._bootstrap = bootstrap_mount(self.paths)
        self._spec_wildcards: dict[Mount, tuple[KeySet, list[Key]]] = {}
        self._views = ViewCache()  # dropped when anything a view was built from changes
        self._remembered_only = False
        self._written: frozenset[Mount] = frozenset()  # the mounts the last set wrote

    # -- mount table ---------------------------------------------------------------------

    def _mount_table(self) -> MountTable:
        """The mount table, read again only when the bootstrap file changed."""
        bootstrap = self._backend(self._bootstrap)
        bootstrap.refresh()
        if self._table is None or self._table_source is not bootstrap.keys:
            table = MountTable.from_keys(bootstrap.keys, self.paths)
            self._backends = {m: b for m, b in self._backends.items() if m in table.mounts}
            self._spec_wildcards = {}
            self._views.clear()
            self._table, self._table_source = table, bootstrap.keys
        return self._table

    def _backend(self, mount: Mount) -> Backend:
        backend = self._backends.get(mount)
        if backend is None:
            backend = self._backends[mount] = Backend(mount)
        return backend

    def mounts(self) -> list[Mountpoint]:
        """The mountpoints made with ``mount`` (the built-in default mounts not included)."""
        return list(self._mount_table().mountpoints)

    def mount(
        self,
        file: str | Path,
        mountpoint: str,
        format: str | None = None,
        plugins: tuple[str, ...] = (),
        *,
        replace: bool = False,
    ) -> Mountpoint:
        """Mount ``file`` at ``mountpoint``; the format defaults to the file's extension.

        ``plugins`` are check plugins to record (``elektraweb.kdb.plugins``). A cascading
        ``mountpoint`` with ``replace`` (``kdb spec-mount``) replaces a mount already there
        and leaves out the namespaces mounted at that very name on their own.
        """
        storage = format or format_for_file(str(file))
        if storage is None:
            raise MountError(
                f"cannot tell the storage format of {file} from its name; "
                f"name one of {', '.join(FORMATS)}"
            )
        name = names.canonical(mountpoint)
        keys = self.get(MOUNTPOINTS)
        table = MountTable.from_keys(keys, self.paths)
        only: tuple[str, ...] = ()
        if replace:
            if any(mp.name == name for mp in table.mountpoints):
                table = table.removing(name)
                keys.cut(Mountpoint.entry_name(name))
            taken = {mp.name for mp in table.mountpoints}
            free = tuple(
                ns for ns in PERSISTENT_NAMESPACES if names.with_namespace(name, ns) not in taken
            )
            only = () if free == PERSISTENT_NAMESPACES else free
        entry = Mountpoint(name, str(file), storage, plugins, only)
        for mount in table.adding(entry).mounts:
            if mount.origin == entry.name:
                _check_readable(mount)
        keys.extend(entry.keys())
        self.set(keys, MOUNTPOINTS)
        return entry

    def umount(self, mountpoint: str) -> None:
        """Remove the mountpoint ``mountpoint``; its file stays as it is."""
        keys = self.get(MOUNTPOINTS)
        MountTable.from_keys(keys, self.paths).removing(mountpoint)
        keys.cut(Mountpoint.entry_name(names.canonical(mountpoint)))
        self.set(keys, MOUNTPOINTS)

    def file_of(self, name: str) -> Path:
        """The file that stores the key ``name`` (which needs a namespace)."""
        return self._mount_table().mount_of(names.canonical(name)).file

    # -- get -----------------------------------------------------------------------------

    def get(self, parent: str = "/") -> KeySet:
        """Every key stored at or below ``parent``, with its specification applied.

        A cascading parent covers all namespaces. The result also holds the ``spec:/`` keys
        that describe keys below ``parent``, the ``default:/`` keys they create, and the
        ``proc:/`` keys this KDB keeps in memory. It is the caller's own copy.
        """
        return self.view(parent).lend()

    def view(
        self,
        parent: str = "/",
        *,
        after_set: bool = False,
        unreadable: dict[Mount, KDBError] | None = None,
    ) -> KeySet:
        """The keys ``get`` returns, without copying them: read-only.

        The keys are shared with this KDB and with other views, so neither they nor the
        KeySet may be changed (copy a key to change it, or ``KeySet(view)`` for a KeySet of
        one's own). A view is remembered while its files are unchanged: reading the same
        parent again costs a ``stat`` per file. It never changes, whatever later gets and
        sets do; the next ``view`` shows their effect.

        ``after_set``, right after a ``set``: the keys as that set stored them. The files it
        wrote are taken as it left them, not read again (it placed their content under its
        lock a moment ago; a change since then shows in the next view); the others are
        checked as always.

        ``unreadable``: a file under ``parent`` that cannot be read leaves its keys out of
        the view, recorded there with its error, instead of failing the view (such a view
        is not remembered). Spec files must still read: their keys describe the others.
        """
        parent = names.canonical(parent)
        namespace, parts = _readable(parent)
        if self._remembered_only:
            return self._remembered(parent)
        table = self._mount_table()
        written = self._written if after_set else frozenset()
        regions: list[tuple[Region, KeySet]] = []
        for region in table.regions(parent):
            try:
                regions.append((region, self._owned(table, region.mount, region.mount in written)))
            except KDBError as error:
                if unreadable is None:
                    raise
                unreadable[region.mount] = error
        spec_regions = self._spec_regions(table, namespace, parts)
        with_proc = namespace in ("proc", names.CASCADING)
        remembered = None if unreadable else self._views.use(parent)
        if remembered is not None:
            return remembered
        result = self._assemble(
            [owned.below(region.start) for region, owned in regions],
            spec_regions,
            parts,
            with_proc=with_proc,
        )
        if unreadable:
            return result
        sources: set[Mount | str] = {region.mount for region, _ in (*regions, *spec_regions)}
        if with_proc:
            sources.add(PROC)
        self._views.remember(parent, frozenset(sources), result)
        return result

    def peek(self, parent: str = "/") -> KeySet:
        """The keys ``get`` returns, read-only as a view, for one-shot readers and writers.

        A file not read before is parsed only as far as the keys at or below ``parent``
        need, where its format can (dump; ``Backend.peek_below``): ``kdb get`` and
        ``kdb set`` need not build every key of a big file to print or change one. A
        ``set`` at or below ``parent`` may follow and rewrites only that part of such a
        file; any other ``get`` reads the whole file again.
        """
        parent = names.canonical(parent)
        namespace, parts = _readable(parent)
        table = self._mount_table()
        found = [
            self._backend(region.mount).peek_below(region.start, table.submounts(region.mount))
            for region in table.regions(parent)
        ]
        return self._assemble(
            found,
            self._spec_regions(table, namespace, parts),
            parts,
            with_proc=namespace in ("proc", names.CASCADING),
        )

    def remembers(self, parent: str) -> bool:
        """Whether a view of ``parent`` is remembered, so that ``view`` costs a ``stat`` per
        file (unless a file changed since). False for a name that is not valid."""
        try:
            return names.canonical(parent) in self._views
        except InvalidNameError:
            return False

    @contextlib.contextmanager
    def remembered_only(self) -> Iterator[None]:
        """Within the block, ``view`` answers only with a remembered view whose files still
        have the ``stat`` they were read with (and the mount table's file too), and raises
        ``NotRemembered`` instead of reading or parsing any file: for a caller that must not
        wait for files (elektrad's event loop), which then asks the KDB's own thread."""
        self._remembered_only = True
        try:
            yield
        finally:
            self._remembered_only = False

    def _remembered(self, parent: str) -> KeySet:
        sources = self._views.sources(parent)
        mounts = [self._bootstrap, *(s for s in sources or () if isinstance(s, Mount))]
        backends = [self._backends.get(mount) for mount in mounts]
        if sources is None or not all(b is not None and b.current() for b in backends):
            raise NotRemembered(f"no view of {parent} is remembered as its files are now")
        view = self._views.use(parent)
        assert view is not None
        return view

    def _spec_regions(
        self, table: MountTable, namespace: str, parts: tuple[str, ...]
    ) -> list[tuple[Region, KeySet]]:
        """The regions of spec:/ that hold spec keys for ``parts``, with their mounts' keys."""
        if namespace == "spec":
            return []
        return [
            (region, self._owned(table, region.mount))
            for region in table.regions(names.join("spec", parts))
        ]

    def _assemble(
        self,
        found: list[KeySet],
        spec_regions: list[tuple[Region, KeySet]],
        parts: tuple[str, ...],
        *,
        with_proc: bool,
    ) -> KeySet:
        """One result of ``found`` keys, the spec keys that describe them (applied) and,
        ``with_proc``, the proc:/ keys at ``parts``."""
        result = KeySet()
        for keys in found:
            result.extend(keys)
        for region, owned in spec_regions:
            # Spec keys above the parent (patterns such as ``#`` or ``_``) describe it too.
            result.extend(self._spec_for(region, owned, parts))
        if with_proc:
            result.extend(self._proc.below(names.join("proc", parts)))
        apply_spec(result)
        return result

    def _owned(self, table: MountTable, mount: Mount, trusted: bool = False) -> KeySet:
        """The keys ``mount``'s file holds now (as last written or read, if ``trusted``)."""
        backend = self._backend(mount)
        if not trusted:
            before = backend.keys
            backend.refresh()
            if backend.keys is not before:
                self._views.forget(mount)
        return backend.owned(table.submounts(mount))

    def _spec_for(self, region: Region, owned: KeySet, parts: tuple[str, ...]) -> list[Key]:
        """The spec keys of ``region`` (``owned`` by its mount) that may describe keys at
        or below ``parts``."""
        if len(names.parts_of(region.mount.name)) > len(parts) or not parts:
            return list(owned.below(region.start))  # all of it is at or below the parent
        # The mount holds the parent; patterns for it start with its first part or a wildcard.
        cached = self._spec_wildcards.get(region.mount)
        if cached is None or cached[0] is not owned:
            wild = [key for key in owned if key.parts and _is_pattern(key.parts[0])]
            cached = self._spec_wildcards[region.mount] = (owned, wild)
        literal = owned.below_parts("spec", parts[:1])
        return [key for key in (*literal, *cached[1]) if _may_describe(key.parts, parts)]

    # -- set -----------------------------------------------------------------------------

    def set(
        self,
        ks: KeySet,
        parent: str = "/",
        *,
        own_checks: bool = True,
        validate: bool = True,
        dry_run: bool = False,
    ) -> list[Path]:
        """Store ``ks`` as the complete state at and below ``parent``; return the files written.

        Keys below ``parent`` missing from ``ks`` are removed. Only files whose keys change
        are written. Raises ValidationError for a value its metadata forbids and ConflictError
        (C02000, naming the file) if a file changed on disk since this KDB last read it; in
        both cases nothing is written. ``own_checks=False`` checks values against their
        specification only, not against their own ``check/*`` metadata (an import of keys
        that describe themselves: a get reports their problems). ``validate=False``
        (``kdb set -f``) stores values without checking them at all. ``dry_run`` makes every
        check and renders every file, then writes nothing (a preview).
        """
        parent = names.canonical(parent)
        namespace, parts = names.split(parent)
        if self._table is None:
            raise KDBError(f"cannot set {parent}: call get before set", code=INTERFACE)
        table = self._table
        specification = Specification(ks)
        # Keys carry their spec's metadata since the get; store only what is their own.
        stored = strip_spec(ks, specification)
        for space in (names.CASCADING, "meta"):
            for key in stored.below(names.join(space, parts)):
                raise KDBError(
                    f"cannot store {key.name}: give the key a namespace such as user:/",
                    key=key.name,
                    code=INTERFACE,
                )
        checked = specification if validate else None
        changes = [
            change
            for region in table.regions(parent)
            if (
                change := file_change(
                    self._backends.get(region.mount),
                    table,
                    region,
                    stored,
                    checked,
                    own_checks,
                    specification,
                )
            )
        ]
        for change in changes:
            if change.backend.mount == self._bootstrap:
                MountTable.from_keys(change.keys, self.paths)  # refuse a broken mount table
        proc_region = names.join("proc", parts)
        proc = None
        if namespace in ("proc", names.CASCADING):
            old_proc = self._proc.below(proc_region)
            proc = stored.below(proc_region)
            if validate:
                proc = validate_change(old_proc, proc, specification, own_checks=own_checks)
        if dry_run:
            return [change.backend.file for change in changes]
        self._written = frozenset()
        try:
            commit(changes, self._backend(self._bootstrap), self.lock_timeout)
            self._written = frozenset(change.backend.mount for change in changes)
        finally:
            for change in changes:
                self._views.forget(change.backend.mount)
        if proc is not None:
            self._proc.cut(proc_region)
            self._proc.extend(key.copy() for key in proc)
            self._views.forget(PROC)
        return [change.backend.file for change in changes]


def _check_readable(mount: Mount) -> None:
    """MountError unless the (existing) file of a new mount reads in its format: a mount
    that every later read would fail on is refused before it is recorded."""
    try:
        Backend(mount).refresh()
    except KDBError as exc:
        raise MountError(f"cannot mount {mount.name}: {exc.message}", key=mount.name) from exc


def _readable(parent: str) -> tuple[str, tuple[str, ...]]:
    """Namespace and parts of the canonical ``parent`` of a read; meta:/ holds no keys."""
    namespace, parts = names.split(parent)
    if namespace == "meta":
        raise KDBError(f"cannot get {parent}: meta:/ names metadata, not keys", code=INTERFACE)
    return namespace, parts


def _is_pattern(part: str) -> bool:
    return part in _WILDCARD_PARTS or any(char in part for char in _GLOB_CHARACTERS)


def _may_describe(spec_parts: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """Whether a spec key could match a key at or below ``parts`` (a cheap superset test)."""
    return all(
        spec_part == part or _is_pattern(spec_part)
        for spec_part, part in zip(spec_parts, parts, strict=False)
    )
