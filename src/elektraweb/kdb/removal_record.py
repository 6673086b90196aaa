"""Removal records: where removed keys stood, kept beside their file for the next process.

A write that removes keys remembers the lines it took out (``storage.removed_lines``) with the
document it returns. The record keeps that memory on disk, beside the data file the way the
sidecar keeps what a format cannot hold (``app.toml`` → ``.app.toml.removed``), so that a
``kdb rm`` and a later ``kdb set``, or a delete and its undo with an elektrad restart in
between, put the lines back as one process would.

A record belongs to exactly one content of its data file: it names the SHA-256 of the bytes
written with it, and a read of any other content (edited by hand, or a crash that left the
record in place but not the data file) ignores it, so it can never bring back lines the file
did not lose. It is written with the data file's mode, being made of the file's own lines
(values that may be secret), and removed when there is nothing to remember.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from elektraweb.kdb import file_state, files
from elektraweb.kdb.errors import ResourceError

if TYPE_CHECKING:
    from elektraweb.kdb.storage.removed_lines import RemovedLines

_VERSION = 1


def record_path(file: Path) -> Path:
    return file.with_name(f".{file.name}.removed")


def load(file: Path, data: bytes) -> tuple[RemovedLines, ...] | None:
    """What the record beside ``file`` remembers, if it was written with the content
    ``data``; nothing otherwise (another content, unreadable or malformed: the record only
    ever saves a layout, never a key); None if there is no record at all."""
    try:
        current = file_state.read(record_path(file))
    except ResourceError:
        return ()
    if current is None:
        return None
    # Here, not at the top: every read asks for a record, few files have one, and the
    # module's dataclasses and difflib cost `kdb get` start-up time.
    from elektraweb.kdb.storage.removed_lines import REMEMBERED

    try:
        record = json.loads(current[0])
        if record.get("version") != _VERSION or record.get("file") != _digest(data):
            return ()
        return tuple(_entry(raw) for raw in record["removed"])[-REMEMBERED:]
    except (ValueError, TypeError, KeyError, AttributeError):
        return ()


def stage(file: Path, removed: tuple[RemovedLines, ...], data: bytes) -> files.StagedFile | None:
    """The record of ``removed`` for the data file's new content ``data``, written to a
    temporary file with the data file's mode; None when there is nothing to remember."""
    if not removed:
        return None
    record = {
        "version": _VERSION,
        "file": _digest(data),
        "removed": [_raw(entry) for entry in removed],
    }
    encoded = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    target = record_path(file)
    files.remove_stale_temporaries(target)
    return files.StagedFile(target, encoded, mode_of=file)


def commit(file: Path, staged: files.StagedFile | None, on_disk: bool) -> bool:
    """Put the ``staged`` record in place beside ``file`` (just written), or, when nothing
    is staged, remove the record if one may be ``on_disk``; whether one may be there now.

    A record the caller does not know of (another process wrote it with the same content
    of the data file since) is left: it names content this write replaced, so it is
    ignored, and it stays true of that content should the file ever hold it again."""
    try:
        if staged is not None:
            staged.replace()
            return True
        if on_disk:
            files.remove(record_path(file))
        return False
    except ResourceError as exc:
        # The data file is already written: a record left behind names its old content and
        # is ignored, so only the layout of a later undo is lost, not the write.
        if staged is not None:
            staged.discard()
        import logging  # only here: it costs `kdb get` start-up time

        logging.getLogger(__name__).warning(
            "cannot keep where removed keys stood beside %s: %s", file, exc.message
        )
        return True


def _digest(data: bytes) -> str:
    import hashlib  # only here: OpenSSL's loading costs `kdb get` start-up time (about 2 ms)

    return hashlib.sha256(data).hexdigest()


def _raw(entry: RemovedLines) -> dict[str, object]:
    return {
        "lines": entry.lines,
        "above": entry.above,
        "below": entry.below,
        "names": sorted(entry.names),
    }


def _entry(raw: dict[str, object]) -> RemovedLines:
    from elektraweb.kdb.storage.removed_lines import RemovedLines

    return RemovedLines(
        _lines(raw["lines"]),
        _context(raw["above"]),
        _context(raw["below"]),
        frozenset(_lines(raw["names"])),
    )


def _context(raw: object) -> tuple[str, ...] | None:
    return None if raw is None else _lines(raw)


def _lines(raw: object) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(line, str) for line in raw):
        raise TypeError("not a list of strings")
    return tuple(raw)
