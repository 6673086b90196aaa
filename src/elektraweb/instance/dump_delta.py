"""What changed in a file in dump format, reading only the records that differ.

A `kdb set` on the host rewrites a 100k-key file for one key; parsing all of it again to find
that key took the change feed seconds. The feed keeps each dump file's bytes with the offsets
of its `$key` records (a `DumpSnapshot`); when the file changes, the bytes shared at its start
and at its end are skipped whole records at a time, and only the records between are parsed,
in the old and in the new version. Whenever that cannot be sure (`$copymeta`, whose keys
depend on records elsewhere; a file not written as dump 2), `delta` says so and the feed reads
the whole file as before.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from elektraweb.kdb.errors import KDBError
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.dump import DumpFormat

_OPEN = b"kdbOpen 2\n"
_END = b"$end\n"
_RECORD = re.compile(rb"\$(key|meta|copymeta)(?: [a-z-]+)? ([0-9]+) ([0-9]+)\n")
_BLOCK = 1 << 14


@dataclass(frozen=True)
class DumpSnapshot:
    """A dump file's bytes, and where its `$key` records start (then where `$end` does)."""

    data: bytes
    starts: list[int]


def snapshot(data: bytes) -> DumpSnapshot | None:
    """The snapshot of ``data``; None for a file `delta` cannot follow."""
    if not data.startswith(_OPEN) or b"$copymeta" in data:
        return None
    walked = _walk(data, len(_OPEN), len(data) - len(_END))
    if walked is None or not data.endswith(_END):
        return None
    return DumpSnapshot(data, [*walked, len(data) - len(_END)])


def delta(
    old: DumpSnapshot, data: bytes, mountpoint: str
) -> tuple[KeySet, KeySet, DumpSnapshot] | None:
    """The keys of the records that differ between ``old`` and ``data``, as they were and as
    they are, and the snapshot of ``data``; None when only reading all of ``data`` can tell."""
    if not (data.startswith(_OPEN) and data.endswith(_END)) or b"$copymeta" in data:
        return None
    before = old.data
    prefix = _common_prefix(before, data)
    suffix = _common_suffix(before, data, min(len(before), len(data)) - prefix)
    first = bisect_right(old.starts, prefix) - 1
    if first < 0:
        return None  # the header itself changed
    if first > 0 and prefix <= old.starts[first] + 1:
        # Only the `$` of a record is shared: a `$meta` added at the end of the key before
        # shares it with the next `$key` (or `$end`), and belongs to that key.
        first -= 1
    # Both end with `$end`: the shared end reaches at least that far, whatever limited it.
    last = min(bisect_left(old.starts, len(before) - suffix), len(old.starts) - 1)
    shift = len(data) - len(before)
    start, old_end = old.starts[first], old.starts[last]
    walked = _walk(data, start, old_end + shift)
    if walked is None:
        return None
    was = _read(before[start:old_end], mountpoint)
    now = _read(data[start : old_end + shift], mountpoint)
    if was is None or now is None:
        return None
    starts = old.starts[:first] + walked + [offset + shift for offset in old.starts[last:]]
    return was, now, DumpSnapshot(data, starts)


def _walk(data: bytes, position: int, end: int) -> list[int] | None:
    """The `$key` record starts from ``position`` to exactly ``end``; None if the records
    there do not end at ``end`` (or are not records)."""
    starts: list[int] = []
    match = _RECORD.match
    while position < end:
        record = match(data, position)
        if record is None:
            return None
        if record[1] == b"key":
            starts.append(position)
        position = record.end() + int(record[2]) + int(record[3]) + 2
    return starts if position == end else None


def _read(records: bytes, mountpoint: str) -> KeySet | None:
    try:
        return DumpFormat().read(_OPEN + records + _END, mountpoint).keys
    except KDBError:
        return None


def _common_prefix(a: bytes, b: bytes) -> int:
    """How many bytes at the start ``a`` and ``b`` share (compared a block at a time)."""
    limit, index = min(len(a), len(b)), 0
    while index < limit and a[index : index + _BLOCK] == b[index : index + _BLOCK]:
        index += _BLOCK
    index = min(index, limit)
    while index < limit and a[index] == b[index]:
        index += 1
    return index


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """How many bytes at the end ``a`` and ``b`` share, at most ``limit``."""
    size = 0
    while size < limit:
        step = min(_BLOCK, limit - size)
        if a[len(a) - size - step : len(a) - size] != b[len(b) - size - step : len(b) - size]:
            break
        size += step
    while size < limit and a[len(a) - size - 1] == b[len(b) - size - 1]:
        size += 1
    return size
