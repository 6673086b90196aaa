"""The records of one subtree of a dump file, found by skipping from record to record
without decoding: a read of just those keys, and a write that replaces just their records."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from elektraweb.kdb.storage.dump_records import END, HEADER

# The records the region scan handles: version 2 $key and $meta lines (group 1: a $meta).
_RECORD_LINE = re.compile(rb"\$(?:key (?:string|binary(?:-empty)?)|(meta)) ([0-9]+) ([0-9]+)\n")
# A relative name that may not be canonical as written (escapes, empty, '.', '%', '#' parts)
# cannot be compared as bytes; where none of these bytes occur in the whole file, none can.
_UNUSUAL_NAME = re.compile(rb"[\\%#]|//|(?:^|/)\.|^/|/$")
# (Eight ``in`` searches of the file cost less than half of one regular expression over it.)
_UNUSUAL_ANYWHERE = (b"\\", b"%", b"#", b"//", b"/.", b"\n.", b"\n/", b"/\n")


class Unusual(Exception):
    """The file holds what only a full read can interpret."""


def _walk(data: bytes) -> Iterator[tuple[int, int, int, int]]:
    """Each record's start and end, and for a $key its name's start and end (-1 for a
    $meta), found by skipping from record to record by their sizes, decoding nothing.
    Raises Unusual for anything but well-formed version 2 $key and $meta records with
    names canonical as written (version 1, $copymeta, escapes, malformed records)."""
    if not data.startswith(HEADER):
        raise Unusual
    record_line = _RECORD_LINE.match
    unusual = _UNUSUAL_NAME.search if any(b in data for b in _UNUSUAL_ANYWHERE) else None
    size = len(data)
    pos = len(HEADER)
    while pos < size:
        record = record_line(data, pos)
        if record is None:
            if data[pos : pos + len(END)] in (END, END[:-1]):
                return
            raise Unusual
        meta, first_size, second_size = record.groups()
        first = record.end()
        second = first + int(first_size)
        end = second + 1 + int(second_size)
        if end >= size or data[second] != 10 or data[end] != 10:
            raise Unusual
        if meta:
            if pos == len(HEADER):
                raise Unusual  # $meta before the first $key: the full read's error
            yield pos, end + 1, -1, second
        else:
            if unusual is not None and unusual(data[first:second]):
                raise Unusual
            yield pos, end + 1, first, second
        pos = end + 1
    raise Unusual  # no $end


def records_below(data: bytes, relative: bytes) -> list[tuple[int, int]]:
    """Where the records (a $key with its $meta) of the keys whose relative name is
    ``relative`` or below it are; raises Unusual as ``_walk``."""
    below = relative + b"/"
    after_name = len(relative)
    starts_with = data.startswith
    spans: list[tuple[int, int]] = []
    inside = False
    for start, end, name_start, name_end in _walk(data):
        if name_start >= 0:
            inside = starts_with(relative, name_start) and (
                name_end == name_start + after_name or starts_with(below, name_start)
            )
        if inside:
            spans.append((start, end))
    return spans


def insertion_point(data: bytes, relative: bytes) -> int:
    """Where the records of keys at ``relative`` belong in a file without them: before the
    first key that sorts after it (names are canonical as written: unescaped, '/' is the
    separator libelektra's order puts below every other byte)."""
    place = relative.replace(b"/", b"\x00")
    last = len(HEADER)
    for start, end, name_start, name_end in _walk(data):
        if name_start >= 0 and data[name_start:name_end].replace(b"/", b"\x00") > place:
            return start
        last = end
    return last


class Region(NamedTuple):
    """A document of the keys at or below one name only: the whole file, and where in it
    their records are (start -1: there are none yet), so a write replaces just those."""

    data: bytes
    relative: bytes
    start: int
    end: int
