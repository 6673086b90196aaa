"""Where removed keys stood: the lines a write took out of a file, to put back in place.

A write that removes keys remembers each run of whole lines it took out of the text (a key's
line with its trailing comment, a table or section with the comments inside it) and the lines
just around it. A later write that adds some of those keys again (the undo of a delete, a
restore from the history) first puts the remembered lines back between the same neighbours,
if they read back as exactly the keys being added, and only then brings the values in line.
So a delete and its undo leave the file byte for byte as it was, even after other edits
elsewhere; where the neighbours are gone, the keys are added as any new key is.

The memory is the document's (``Document.removed``): it lives as long as the database holds
the file as it last wrote it, and is gone when the file is read again (changed on disk, a new
process). Only runs of whole removed lines count: a removal that also changed a neighbouring
line (the comma before a JSON object's last member) is not remembered.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.keyset import KeySet

if TYPE_CHECKING:
    from elektraweb.kdb.storage import Document

# Removals remembered per file (the newest win), and the most lines a write's changed middle
# may have to be compared line by line.
_REMEMBERED = 16
_MOST_LINES = 5000


@dataclass(frozen=True)
class RemovedLines:
    """Lines a write took out, the lines just above and below them (back to the nearest
    line that is not blank; None at the start or end of the text), and the keys the write
    removed (the lines held some of them)."""

    lines: tuple[str, ...]
    above: tuple[str, ...] | None
    below: tuple[str, ...] | None
    names: frozenset[str]

    def places(self, lines: list[str]) -> Iterator[int]:
        """Where in ``lines`` these lines may go back: between both neighbours, else
        below the one above, else above the one below."""
        above, below = self.above, self.below
        both = [at for at in range(len(lines) + 1)
                if _is_above(lines, at, above) and _is_below(lines, at, below)]
        yield from both
        if not both and above is not None and below is not None:
            yield from (at for at in range(len(lines) + 1) if _is_above(lines, at, above))
            yield from (at for at in range(len(lines) + 1) if _is_below(lines, at, below))


def _is_above(lines: list[str], at: int, above: tuple[str, ...] | None) -> bool:
    if above is None:
        return at == 0
    return at >= len(above) and tuple(lines[at - len(above) : at]) == above


def _is_below(lines: list[str], at: int, below: tuple[str, ...] | None) -> bool:
    if below is None:
        return at == len(lines)
    return tuple(lines[at : at + len(below)]) == below


def remember(
    previous: tuple[RemovedLines, ...], old: str, new: str, removed: frozenset[str]
) -> tuple[RemovedLines, ...]:
    """``previous`` and the runs of lines that a write removing the keys ``removed`` took
    out of ``old`` to make ``new``."""
    if not removed:
        return previous
    old_lines, new_lines = _lines(old), _lines(new)
    head = 0
    while head < min(len(old_lines), len(new_lines)) and old_lines[head] == new_lines[head]:
        head += 1
    tail = 0
    while (tail < min(len(old_lines), len(new_lines)) - head
           and old_lines[-1 - tail] == new_lines[-1 - tail]):
        tail += 1
    old_middle = old_lines[head : len(old_lines) - tail]
    new_middle = new_lines[head : len(new_lines) - tail]
    if len(old_middle) > _MOST_LINES or len(new_middle) > _MOST_LINES:
        return previous
    matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=False)
    found = [
        RemovedLines(tuple(old_lines[head + start : head + end]),
                     _context_above(old_lines, head + start),
                     _context_below(old_lines, head + end), removed)
        for tag, start, end, _, _ in matcher.get_opcodes() if tag == "delete"
    ]
    return (*previous, *found)[-_REMEMBERED:]


def _lines(text: str) -> list[str]:
    """``text`` cut after each line feed only (``str.splitlines`` also cuts at characters
    a quoted value may hold, such as U+2028)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def _context_above(lines: list[str], start: int) -> tuple[str, ...] | None:
    if start == 0:
        return None
    first = start - 1
    while first > 0 and not lines[first].strip():
        first -= 1
    return tuple(lines[first:start])


def _context_below(lines: list[str], end: int) -> tuple[str, ...] | None:
    if end == len(lines):
        return None
    last = end
    while last < len(lines) - 1 and not lines[last].strip():
        last += 1
    return tuple(lines[end : last + 1])


def put_back(
    previous: Document, text: str, added: frozenset[str], read: Callable[[str], Document]
) -> tuple[str, Document] | None:
    """``text`` (which reads as ``previous``) with remembered lines put back that read as
    some of the keys named ``added`` (keys a write adds), and the document it reads as
    (remembering the rest); None if no remembered lines fit."""
    remaining = list(previous.removed)
    document: Document | None = None
    keys = previous.keys
    for entry in reversed(previous.removed):
        if not entry.names & added:
            continue
        lines = _lines(text)
        for at in entry.places(lines):
            candidate = "".join((*lines[:at], *entry.lines, *lines[at:]))
            try:
                read_back = read(candidate)
            except ResourceError:
                continue
            brought = _brought(keys, read_back.keys)
            if brought and brought <= added:
                text, document, keys = candidate, read_back, read_back.keys
                added -= brought
                remaining.remove(entry)
                break
    if document is None:
        return None
    document.removed = tuple(remaining)
    return text, document


def _brought(before: KeySet, after: KeySet) -> frozenset[str] | None:
    """The names of the keys ``after`` holds besides ``before``'s; None unless it holds
    every key of ``before`` with the same value."""
    for key in before:
        found = after.lookup(key.name)
        if found is None or found.value != key.value:
            return None
    if len(after) == len(before):
        return frozenset()
    return frozenset(name for name in after.names() if before.lookup(name) is None)
