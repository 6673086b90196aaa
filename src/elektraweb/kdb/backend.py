"""A backend: one mounted file (plus its sidecar) as the database sees it.

It remembers the file's state and parsed document from the last read, so a get of an
unchanged file costs a ``stat`` of it and of its sidecar, and it renders new content for a
set without touching the disk until the database commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from elektraweb.kdb import collector, file_locks, file_state, files, names, removal_record
from elektraweb.kdb.errors import ConflictError, KDBError, ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.mounts import Mount
from elektraweb.kdb.sidecar import SIDECAR_FORMAT, for_format, leftovers, merged, sidecar_path
from elektraweb.kdb.storage import (
    Document,
    DocumentWriter,
    RegionReader,
    StorageFormat,
    get_format,
)


class Backend:
    """One mount's file: its last known state and keys (data file and sidecar merged)."""

    def __init__(self, mount: Mount) -> None:
        self.mount = mount
        self.file = mount.file
        self.format: StorageFormat = get_format(mount.format)
        # A file in the sidecar's own format can hold all a sidecar could: it needs none.
        self.sidecar_file = None if mount.format == SIDECAR_FORMAT else sidecar_path(mount.file)
        self.loaded = False
        self.state: file_state.FileState | None = None
        self.sidecar_state: file_state.FileState | None = None
        self.document: Document | None = None
        self.sidecar_document: Document | None = None
        self.keys = KeySet()
        # Whether a removal record may lie beside the file (``removal_record``): found by
        # the last read of new content or left by the last write; unknown at first.
        self.record_on_disk = True
        self._owned: dict[tuple[str, ...], KeySet] = {}
        # Set by ``peek_below``: ``keys`` and ``document`` hold only the part of the file
        # at or below this name (not ``loaded``: a get reads the whole file again).
        self.region: str | None = None

    def refresh(self) -> None:
        """Bring ``keys`` up to date with the files, parsing only content that changed."""
        if self.current():
            return
        with file_locks.read_locked(self.file):
            data = file_state.read(self.file)
            sidecar = file_state.read(self.sidecar_file) if self.sidecar_file else None
        document = self._reuse_or_parse(data, self.state, self.document, self.format, self.file)
        sidecar_document = self._reuse_or_parse(
            sidecar,
            self.sidecar_state,
            self.sidecar_document,
            get_format(SIDECAR_FORMAT),
            sidecar_path(self.file),
        )
        if document is not None and document is not self.document and data is not None:
            found = removal_record.load(self.file, data[0])
            document.removed, self.record_on_disk = found or (), found is not None
        if document is not self.document or sidecar_document is not self.sidecar_document:
            self.document, self.sidecar_document = document, sidecar_document
            self.keys = merged(_keys_of(document), _keys_of(sidecar_document))
            self._owned = {}
        self.state = data[1] if data else None
        self.sidecar_state = sidecar[1] if sidecar else None
        self.loaded = True
        self.region = None

    def current(self) -> bool:
        """Whether one ``stat`` each proves file and sidecar as the last read left them (a
        file too recently changed for its stat to tell is not)."""
        return self.loaded and all(file_state.stat_unchanged(p, s) for p, s in self._watched())

    def holds(self, start: str) -> bool:
        """Whether ``keys`` hold every key of the file at or below ``start``."""
        region = self.region
        return self.loaded or (region is not None and names.is_below_or_same(start, region))

    def _watched(self) -> list[tuple[Path, file_state.FileState | None]]:
        watched = [(self.file, self.state)]
        if self.sidecar_file is not None:
            watched.append((self.sidecar_file, self.sidecar_state))
        return watched

    def _reuse_or_parse(
        self,
        current: tuple[bytes, file_state.FileState] | None,
        known: file_state.FileState | None,
        document: Document | None,
        fmt: StorageFormat,
        path: Path,
    ) -> Document | None:
        if current is None:
            return None
        data, state = current
        if self.loaded and known is not None and known.content == state.content:
            return document
        return self._parse(fmt, data, path)

    def _parse(self, fmt: StorageFormat, data: bytes, path: Path) -> Document:
        with self._reading(fmt, path), collector.paused():
            return fmt.read(data, self.mount.name)

    @contextlib.contextmanager
    def _reading(self, fmt: StorageFormat, path: Path) -> Iterator[None]:
        """Turn a format's complaint into an error that names the file and the mount."""
        try:
            yield
        except KDBError as exc:
            raise ResourceError(
                f"cannot read {path} as {fmt.name} (mounted at {self.mount.name}): {exc.message}",
                key=exc.key or self.mount.name,
            ) from exc

    def peek_below(self, start: str, submounts: tuple[str, ...]) -> KeySet:
        """The keys at or below ``start`` that ``owned(submounts)`` holds after a refresh.

        A file not read before is read for that part only where its format can (see
        ``RegionReader``): only those keys are built, and a set may then change keys at
        or below ``start`` and rewrite just their part of the file. For one-shot readers
        and writers (``kdb get``, ``kdb set``) of big files.
        """
        fmt = self.format
        if not self.loaded and start != self.mount.name and isinstance(fmt, RegionReader):
            with file_locks.read_locked(self.file):
                data = file_state.read(self.file)
                sidecar = file_state.read(self.sidecar_file) if self.sidecar_file else None
            if data is not None and sidecar is None:
                with self._reading(fmt, self.file):
                    document = fmt.read_region(data[0], self.mount.name, start)
                if document is not None:
                    self.state, self.sidecar_state = data[1], None
                    self.document, self.sidecar_document = document, None
                    self.keys, self._owned = document.keys, {}
                    self.region = start
                    return self.owned(submounts).below(start)
        self.refresh()
        return self.owned(submounts).below(start)

    def owned(self, submounts: tuple[str, ...]) -> KeySet:
        """The keys this backend is responsible for: all but those below deeper mounts.

        The result shares its Key objects with the backend; callers copy before handing out.
        """
        if not submounts:
            return self.keys
        view = self._owned.get(submounts)
        if view is None:
            view = KeySet(self.keys)
            for name in submounts:
                view.cut(name)
            self._owned[submounts] = view
        return view

    def prepare(self, desired: KeySet, types: Mapping[str, str] | None = None) -> StagedWrite:
        """Render ``desired`` (every key of the file) into new file and sidecar content.
        ``types`` are the declared types of keys (their own or their specification's
        ``check/type``): a format with typed values writes a new value as its type."""
        mountpoint = self.mount.name
        data, document = self._render(self._writers_view(desired, types or {}))
        # The file alone holds every key as given. A spliced write's document holds the very
        # Key objects of ``desired``, which compare by identity: no per-key work.
        if document.keys is desired or document.keys == desired:
            return StagedWrite(self, desired, data, document, None, None)
        extra = leftovers(desired, document.keys)
        if not len(extra):
            return StagedWrite(self, desired, data, document, None, None)
        if self.sidecar_file is None:
            lost = ", ".join(extra.names())
            raise ResourceError(f"{self.format.name} did not keep all of {lost}", key=mountpoint)
        sidecar_format = get_format(SIDECAR_FORMAT)
        sidecar = sidecar_format.write(extra, mountpoint, self.sidecar_document)
        sidecar_document = self._parse(sidecar_format, sidecar, self.sidecar_file)
        return StagedWrite(self, desired, data, document, sidecar, sidecar_document)

    def _writers_view(self, desired: KeySet, types: Mapping[str, str]) -> KeySet:
        """The keys as the format writes them: its native metadata, and for a format with
        typed values each key's declared type (not stored by the format: the sidecar keeps
        the key's own metadata, the specification the rest)."""
        view = for_format(desired, self.format.native_meta)
        if not self.format.typed_values or not types:
            return view
        view = KeySet(view)  # keys are replaced, never changed: ``view`` may share them
        for name, declared in types.items():
            key = view.lookup(name)
            if key is not None:
                view.add(Key(key.name, key.value, {**key.meta, "check/type": declared}))
        return view

    def _render(self, keys: KeySet) -> tuple[bytes, Document]:
        """The format's rendering of ``keys`` and the document it reads back as (parsed
        again unless the format can tell). A value the format refuses to place is left out
        (the sidecar then keeps it), any other refusal is an error naming the file."""
        fmt = self.format
        while True:
            try:
                if isinstance(fmt, DocumentWriter):
                    return fmt.write_document(keys, self.mount.name, self.document)
                data = fmt.write(keys, self.mount.name, self.document)
                break
            except KDBError as exc:
                refused = keys.lookup(exc.key) if exc.key else None
                if refused is None or refused.value is None:
                    raise type(exc)(
                        f"cannot write {self.file} as {fmt.name}: {exc.message}",
                        key=exc.key,
                        code=exc.code,
                    ) from exc
                without_value = refused.copy()
                without_value.value = None
                keys = KeySet(keys)  # ``keys`` may be the caller's
                keys.add(without_value)
        return data, self._parse(fmt, data, self.file)

    def check_unchanged_on_disk(self) -> None:
        """ConflictError unless file and sidecar are as this backend last read them."""
        for path, state in self._watched():
            if not file_state.unchanged(path, state):
                raise ConflictError(
                    f"{path} changed on disk since it was last read (mounted at "
                    f"{self.mount.name}); get the keys again and retry",
                    key=self.mount.name,
                )


class StagedWrite:
    """New content for one backend, rendered and checked, then staged and committed."""

    def __init__(
        self,
        backend: Backend,
        keys: KeySet,
        data: bytes,
        document: Document,
        sidecar: bytes | None,  # None: the file needs no sidecar
        sidecar_document: Document | None,
    ) -> None:
        self.backend, self.keys, self.data = backend, keys, data
        self.document, self.sidecar, self.sidecar_document = document, sidecar, sidecar_document
        self._staged: list[files.StagedFile] = []
        self._record: files.StagedFile | None = None

    def stage(self) -> None:
        """Write the new content to temporary files (nothing visible changes yet)."""
        backend = self.backend
        files.remove_stale_temporaries(backend.file)
        self._staged.append(files.StagedFile(backend.file, self.data))
        sidecar_file, sidecar = backend.sidecar_file, self.sidecar
        if sidecar is not None and sidecar_file and not _holds(backend.sidecar_state, sidecar):
            files.remove_stale_temporaries(sidecar_file)
            self._staged.append(files.StagedFile(sidecar_file, sidecar))
        self._record = removal_record.stage(backend.file, self.document.removed, self.data)

    def commit(self) -> None:
        """Put the staged content in place and remember it as the backend's new state."""
        backend = self.backend
        try:
            for staged in self._staged:
                is_file = staged.target == backend.file
                state = staged.commit(backend.state if is_file else backend.sidecar_state)
                if is_file:
                    backend.state = state
                else:
                    backend.sidecar_state = state
        except BaseException:
            # The data file may be new and its sidecar not (a conflict on the second): the
            # next get reads both again rather than trusting a half-updated state.
            backend.loaded = False
            raise
        if self.sidecar is None and backend.sidecar_file and backend.sidecar_state:
            files.remove(backend.sidecar_file)
            backend.sidecar_state = None
        backend.record_on_disk = removal_record.commit(
            backend.file, self._record, backend.record_on_disk
        )
        self._staged, self._record = [], None
        backend.document = self.document
        backend.sidecar_document = self.sidecar_document
        backend.keys = self.keys
        backend._owned = {}
        backend.region = None  # a part written: the next get reads the whole file

    def discard(self) -> None:
        for staged in self._staged:
            staged.discard()
        if self._record is not None:
            self._record.discard()
        self._staged, self._record = [], None


def _holds(state: file_state.FileState | None, data: bytes) -> bool:
    return state is not None and state.content == data


def _keys_of(document: Document | None) -> KeySet:
    return document.keys if document is not None else KeySet()
