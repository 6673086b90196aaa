"""Writing a dump file again: the unchanged keys' records copied from the previous file,
new records rendered only for the keys that changed."""

from __future__ import annotations

from array import array
from typing import NamedTuple

from elektraweb.kdb.key import Key
from elektraweb.kdb.storage.dump_records import END, HEADER, RecordWriter


class Layout(NamedTuple):
    """How long each key's record is in a file this format rendered (records follow the
    header in key order), so that the next write renders only the records that changed.
    Lengths rather than offsets: a changed record shifts every later offset, but no length,
    so the unchanged runs are copied as array slices."""

    keys: list[Key]
    lengths: array[int]


def _same_run(new: list[Key], i: int, old: list[Key], j: int) -> int:
    """How many keys from ``new[i]`` on equal those from ``old[j]`` on. Compares growing
    slices (a loop in C, identical keys cost no more than a pointer check) and narrows
    down on the first difference."""
    run, step = 0, 64
    limit = min(len(new) - i, len(old) - j)
    while run < limit:
        size = min(step, limit - run)
        if new[i + run : i + run + size] == old[j + run : j + run + size]:
            run += size
            step *= 2
        elif size == 1:
            break
        else:
            step = size // 2
    return run


def render(writer: RecordWriter, order: list[Key]) -> tuple[bytes, Layout]:
    """A whole file of the records of the keys ``order``, and its layout."""
    records = [writer.record(key) for key in order]
    lengths = array("q", map(len, records))
    return b"".join([HEADER, *records, END]), Layout(order, lengths)


def splice(
    writer: RecordWriter, order: list[Key], previous: Layout, data: bytes
) -> tuple[bytes, Layout]:
    """What ``render`` returns, made of the previous file's records (``data``, laid out as
    ``previous``) for the keys that are unchanged and new records for the others."""
    old, old_lengths = previous.keys, previous.lengths
    source = memoryview(data)
    out: list[bytes | memoryview] = [HEADER]
    lengths = array("q")
    i = j = 0
    old_position = len(HEADER)  # where old[j]'s record starts
    while i < len(order):
        key = order[i]
        while j < len(old) and old[j].sort_key < key.sort_key:
            old_position += old_lengths[j]  # a removed key
            j += 1
        run = _same_run(order, i, old, j)
        if run:
            copied = old_lengths[j : j + run]
            stop = old_position + sum(copied)
            out.append(source[old_position:stop])
            lengths.extend(copied)
            old_position = stop
            i += run
            j += run
            continue
        if j < len(old) and old[j].name == key.name:
            old_position += old_lengths[j]  # a changed key
            j += 1
        record = writer.record(key)
        out.append(record)
        lengths.append(len(record))
        i += 1
    out.append(END)
    return b"".join(out), Layout(order, lengths)
