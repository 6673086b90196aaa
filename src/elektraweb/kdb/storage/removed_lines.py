"""Where removed keys stood: the lines a write took out of a file, to put back in place.

A write that removes keys remembers each run of whole lines it took out of the text (a key's
line with its trailing comment, a table or section with the comments inside it) and the lines
just around it. A later write that adds some of those keys again (the undo of a delete, a
restore from the history) first puts the remembered lines back between the same neighbours,
if they read back as exactly the keys being added, and only then brings the values in line.
So a delete and its undo leave the file byte for byte as it was, even after other edits
elsewhere; where the neighbours are gone, the keys are added as any new key is.

The memory is the document's (``Document.removed``), kept on disk beside the file for the
next process that reads the very same content (``kdb.removal_record``). Only runs of whole
removed lines count: a removal that also changed a neighbouring line (the comma before a
JSON object's last member) is not remembered.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet

# Removals remembered per file (the newest win), and the most lines a write's changed middle
# is compared line by line (the comparison's cost grows with their product).
REMEMBERED = 16
_MOST_LINES = 1000
# Places tried per removal (each reads the whole file): neighbours repeated more often than
# this are too common a line to tell where the lines stood.
_MOST_PLACES = 8


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
        both = [
            at
            for at in range(len(lines) + 1)
            if _is_above(lines, at, above) and _is_below(lines, at, below)
        ]
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
    # Only the middle that differs is cut into lines: the same lines before and after it
    # are found by comparing text, which a big file's removal would otherwise pay for.
    head = _same_head(old, new)
    head = old.rfind("\n", 0, head) + 1
    tail = _same_tail(old, new, head)
    end = len(old) - tail
    if not (_at_line_start(old, end, head) and _at_line_start(new, len(new) - tail, head)):
        newline = old.find("\n", end)  # within the same tail: the next line start in both
        tail = 0 if newline < 0 else len(old) - newline - 1
    old_middle = _lines(old[head : len(old) - tail])
    new_middle = _lines(new[head : len(new) - tail])
    if not new_middle:  # one run of lines taken out, the usual removal
        runs = [(0, len(old_middle))] if old_middle else []
    elif len(old_middle) > _MOST_LINES or len(new_middle) > _MOST_LINES:
        return previous
    else:
        matcher = difflib.SequenceMatcher(None, old_middle, new_middle, autojunk=False)
        runs = [(start, end) for tag, start, end, _, _ in matcher.get_opcodes() if tag == "delete"]
    offsets = list(itertools.accumulate((len(line) for line in old_middle), initial=head))
    found = [
        RemovedLines(
            tuple(old_middle[start:end]),
            _context_above(old, offsets[start]),
            _context_below(old, offsets[end]),
            removed,
        )
        for start, end in runs
    ]
    return (*previous, *found)[-REMEMBERED:]


def _at_line_start(text: str, at: int, head: int) -> bool:
    return at == head or text[at - 1] == "\n"


def _same_head(old: str, new: str) -> int:
    """How many characters ``old`` and ``new`` start with alike."""
    low, high = 0, min(len(old), len(new))
    while low < high:
        middle = (low + high + 1) // 2
        if old[:middle] == new[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _same_tail(old: str, new: str, head: int) -> int:
    """How many characters ``old`` and ``new`` end with alike, none of the first ``head``."""
    low, high = 0, min(len(old), len(new)) - head
    while low < high:
        middle = (low + high + 1) // 2
        if old[len(old) - middle :] == new[len(new) - middle :]:
            low = middle
        else:
            high = middle - 1
    return low


def _lines(text: str) -> list[str]:
    """``text`` cut after each line feed only (``str.splitlines`` also cuts at characters
    a quoted value may hold, such as U+2028)."""
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def _context_above(text: str, start: int) -> tuple[str, ...] | None:
    """The lines of ``text`` just above character ``start`` (a line's start), back to the
    nearest one that is not blank; None at the start of the text."""
    if start == 0:
        return None
    first = start
    while first > 0:
        first = text.rfind("\n", 0, first - 1) + 1
        if text[first:start].strip():
            break
    return tuple(_lines(text[first:start]))


def _context_below(text: str, end: int) -> tuple[str, ...] | None:
    """The lines of ``text`` from character ``end`` (a line's start) to the nearest one that
    is not blank; None at the end of the text."""
    if end == len(text):
        return None
    last = end
    while last < len(text):
        newline = text.find("\n", last)
        last = len(text) if newline < 0 else newline + 1
        if text[end:last].strip():
            break
    return tuple(_lines(text[end:last]))


# What the lines put back at characters start..end of a text make it read as besides
# ``keys`` (what it read as before): the keys they bring, or None if the text then reads as
# anything else.
Fit = Callable[[str, int, int, KeySet], list[Key] | None]


def put_back(
    remembered: tuple[RemovedLines, ...],
    text: str,
    keys: KeySet,
    added: frozenset[str],
    fit: Fit,
) -> tuple[str, KeySet, tuple[RemovedLines, ...]] | None:
    """``text`` (which reads as ``keys``) with remembered lines put back that bring some of
    the keys named ``added`` (keys a write adds), the keys it reads as, and what is still
    remembered; None if no remembered lines fit."""
    remaining = list(remembered)
    for entry in reversed(remembered):
        if not entry.names & added:
            continue
        lines = _lines(text)
        offsets = list(itertools.accumulate((len(line) for line in lines), initial=0))
        inserted = "".join(entry.lines)
        for at in itertools.islice(entry.places(lines), _MOST_PLACES):
            start = offsets[at]
            candidate = text[:start] + inserted + text[start:]
            brought = fit(candidate, start, start + len(inserted), keys)
            if brought and all(key.name in added for key in brought):
                text, keys = candidate, KeySet(keys)
                keys.extend(brought)
                added -= {key.name for key in brought}
                remaining.remove(entry)
                break
    if len(remaining) == len(remembered):
        return None
    return text, keys, tuple(remaining)


def brought_keys(before: KeySet, after: KeySet) -> list[Key] | None:
    """The keys ``after`` holds besides ``before``'s; None unless it holds every key of
    ``before`` with the same value."""
    for key in before:
        found = after.lookup(key.name)
        if found is None or found.value != key.value:
            return None
    if len(after) == len(before):
        return []
    return [key for key in after if key.name not in before]
