"""Apply an edit to the original text line by line, so untouched lines stay as they were.

A round-trip library re-emits the whole document in its own layout, which differs from the
file's in places (ruamel.yaml joins a plain scalar wrapped over several lines). The lines an
edit changes are the differences between the library's rendering of the document before the
edit and after it; applying only those differences to the original text keeps every other
line byte for byte. Where an edited line is one the library also re-laid out, the library's
lines for that stretch replace the original's.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher

_Opcodes = Sequence[tuple[str, int, int, int, int]]


def apply_edit(original: str, before: str, after: str) -> str:
    """``original`` with the changes that turn ``before`` into ``after``.

    ``before`` and ``after`` are the library's renderings of the document read from
    ``original`` and of the edited document. The caller checks that the result reads back as
    ``after`` does (it falls back to ``after`` otherwise).
    """
    if before == original:
        return after
    old = original.splitlines(keepends=True)
    rendered = before.splitlines(keepends=True)
    edited = after.splitlines(keepends=True)
    layout = _refined(
        SequenceMatcher(None, rendered, old, autojunk=False).get_opcodes(), rendered, old
    )
    hunks: list[list[int]] = []
    for tag, start, end, edited_start, edited_end in SequenceMatcher(
        None, rendered, edited, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            continue
        # Widen the hunk to line positions that exist in the original: a hunk that reaches
        # into a stretch the library re-laid out takes that whole stretch.
        wide_start, wide_end = _widen(layout, start, end)
        hunk = [
            wide_start,
            wide_end,
            edited_start - (start - wide_start),
            edited_end + (wide_end - end),
        ]
        if hunks and hunk[0] <= hunks[-1][1]:
            last = hunks[-1]
            if hunk[1] >= last[1]:
                last[1], last[3] = hunk[1], hunk[3]
        else:
            hunks.append(hunk)
    out: list[str] = []
    position = 0
    for start, end, edited_start, edited_end in hunks:
        out.extend(old[position : _position_in_original(layout, start)])
        out.extend(edited[edited_start:edited_end])
        position = _position_in_original(layout, end)
    out.extend(old[position:])
    return "".join(out)


def _refined(layout: _Opcodes, rendered: list[str], old: list[str]) -> _Opcodes:
    """Split re-laid-out stretches line by line where the lines correspond, so that
    neighbouring keys re-laid out alike (two wrapped scalars, two escaped strings) stay
    separate stretches and an edit of one leaves the other's lines alone."""
    refined: list[tuple[str, int, int, int, int]] = []
    for opcode in layout:
        tag, first, last, original_first, original_last = opcode
        split = _split(rendered[first:last], old[original_first:original_last])
        if tag != "replace" or split is None:
            refined.append(opcode)
            continue
        position = original_first
        for index, length in enumerate(split):
            refined.append(
                ("replace", first + index, first + index + 1, position, position + length)
            )
            position += length
    return refined


def _split(rendered: list[str], old: list[str]) -> list[int] | None:
    """How many original lines each rendered line stands for, or None if they do not line
    up (each rendered line must start as the first of its original lines does)."""
    counts: list[int] = []
    position = 0
    for index, line in enumerate(rendered):
        if position >= len(old) or not _starts(line, old[position]):
            return None
        end = position + 1
        following = rendered[index + 1] if index + 1 < len(rendered) else None
        while end < len(old) and (following is None or not _starts(following, old[end])):
            end += 1
        counts.append(end - position)
        position = end
    return counts if position == len(old) else None


def _starts(line: str, original: str) -> bool:
    """Whether ``line`` starts with ``original``'s key: its text up to the first ``:`` or
    ``=`` (all of it if it has neither, as a wrapped scalar's first line joined)."""
    head = original.rstrip("\n")
    cut = min(
        (index for index in (head.find(":"), head.find("=")) if index >= 0), default=len(head) - 1
    )
    head = head[: cut + 1]
    return bool(head.strip()) and line.startswith(head)


def _widen(layout: _Opcodes, start: int, end: int) -> tuple[int, int]:
    for tag, first, last, _, _ in layout:
        if tag != "equal":
            if first < start < last:
                start = first
            if first < end < last:
                end = last
    return start, end


def _position_in_original(layout: _Opcodes, position: int) -> int:
    """The original's line position for a line position of the rendering (one that lies on
    the boundary of, or inside an unchanged stretch of, the layout differences)."""
    for tag, first, last, original_first, original_last in layout:
        if first <= position <= last:
            if tag == "equal":
                return original_first + position - first
            if position == first:
                return original_first
            if position == last:
                return original_last
    raise AssertionError(f"line {position} lies inside a re-laid-out stretch")
