"""Incremental writes for the text formats: write again only the blocks whose keys changed.

A format splits its text into blocks that each hold one part of the tree and read on their
own: a member of JSON's top object, an INI section, a TOML table, a top-level YAML entry. A
write that changes keys of a few existing blocks runs the format's own writer on just the
text of those blocks and splices the results into the file; every other byte is copied.

The split is checked where it is used, so a format may split by simple line patterns: the
old text of a touched block must read back, alone, as exactly the keys the read of the whole
file gave it, and its new text as exactly the keys to write. A block holds every key at or
below its path except those of deeper blocks, so keys read from its text cannot come from or
go to anywhere else, and a block that reads back as intended keeps the whole file reading
back as intended. Anything else writes the whole file as before: a key no existing block
holds (a new top-level entry, a key at the top of an INI or TOML file), a new text that reads
back differently (a value normalised or refused, which the database then keeps in the
sidecar), or a file the format does not split (see each format's ``blocks``).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress
from operator import is_not
from typing import NamedTuple, Protocol, TypeVar

from elektraweb.kdb import names
from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, StorageFormat, previous_state, removed_lines

_Path = tuple[str, ...]
# More changed keys than this are written as a whole file: the blocks would be most of it.
_MOST_CHANGES = 1000


class Block(NamedTuple):
    """Characters ``start``..``end`` of the text, holding the keys at or below ``path``
    (relative to the mountpoint) that no deeper block holds."""

    start: int
    end: int
    path: _Path


def blocks_between(starts: list[tuple[int, _Path]], length: int) -> list[Block]:
    """The blocks of a text of ``length`` characters that start where each ``start`` is and
    end where the next starts (the last at the end)."""
    ends = [start for start, _ in starts[1:]] + [length]
    return [Block(start, end, path) for (start, path), end in zip(starts, ends, strict=False)]


class BlockSyntax(Protocol):
    """What splicing needs from a format, for one file mounted at one mountpoint."""

    # How many levels below its path a block holds keys (INI: its options); None: all.
    depth: int | None

    def blocks(self, text: str) -> list[Block] | None:
        """The blocks of ``text`` in order; None if the format cannot split it soundly."""
        ...

    def read_block(self, text: str) -> KeySet:
        """The keys of a block's text read alone; ResourceError if it does not read."""
        ...

    def write_block(self, text: str, keys: KeySet) -> str | None:
        """The block's text changed to hold ``keys`` (none: the block goes); None if it
        cannot be written alone."""
        ...


class _FileBytes(Protocol):
    def __init__(self, data: bytes) -> None: ...

    @property
    def data(self) -> bytes: ...


_State = TypeVar("_State", bound=_FileBytes)


def write_from_bytes(
    fmt: StorageFormat,
    keys: KeySet,
    mountpoint: str,
    previous: Document | None,
    syntax: BlockSyntax,
    state: type[_State],
    format_name: str,
) -> tuple[bytes, Document]:
    """``write_document`` for a format whose round-trip state is built from the file's bytes
    alone, ``state(data)``: the original is what the ``state`` in ``previous`` holds."""
    original = previous_state(previous, state, format_name)
    data = original.data if original else None
    return write_document(fmt, keys, mountpoint, previous, data, syntax, lambda new, _: state(new))


def write_document(
    fmt: StorageFormat,
    keys: KeySet,
    mountpoint: str,
    previous: Document | None,
    original: bytes | None,
    syntax: BlockSyntax,
    state: Callable[[bytes, str], object],
) -> tuple[bytes, Document]:
    """``fmt.write`` and the document its bytes read back as (``DocumentWriter``): the
    blocks whose keys changed spliced into the ``original`` file that ``previous`` was read
    from, split by ``syntax``, and a document of ``keys`` themselves with the ``state`` of
    the new bytes and text; else the whole file written and read again. Lines that
    ``previous`` remembers removing go back in place first where they read as keys this
    write adds, and the lines this write removes are remembered (``removed_lines``)."""
    if previous is None or original is None:
        data = fmt.write(keys, mountpoint, previous)
        return data, _read_back(fmt, data, keys, mountpoint)
    text = original.decode()  # read before, so valid UTF-8
    changed = _changed(previous.keys, keys)
    added, removed = _added_and_removed(changed, previous.keys, keys)
    if added and previous.removed:
        fit = _PutBack(fmt, syntax, mountpoint)
        put_back = removed_lines.put_back(previous.removed, text, previous.keys, added, fit)
        if put_back is not None:
            text, before, remembered = put_back
            original = text.encode()
            previous = Document(before, state(original, text))
            previous.removed = remembered
            changed = _changed(before, keys)
    spliced = splice(syntax, text, previous.keys, keys, mountpoint, changed)
    if spliced is not None:
        data = original if spliced is text else spliced.encode()
        document = Document(keys, state(data, spliced))
    else:
        data = fmt.write(keys, mountpoint, previous)
        document = _read_back(fmt, data, keys, mountpoint)
    document.removed = previous.removed
    if removed:
        written = data.decode() if spliced is None else spliced
        document.removed = removed_lines.remember(previous.removed, text, written, removed)
    return data, document


def _read_back(fmt: StorageFormat, data: bytes, keys: KeySet, mountpoint: str) -> Document:
    document = fmt.read(data, mountpoint)
    if document.keys == keys:
        # The very Key objects the database goes on with, so that the next write finds the
        # unchanged ones by identity.
        document.keys = keys
    return document


class _PutBack:
    """What lines put back into a text make it read as (``removed_lines.Fit``): found from
    the blocks they fall in, as a splice checks its blocks, which must then hold every key
    they held and keys of no other block; else from the whole text read again."""

    def __init__(self, fmt: StorageFormat, syntax: BlockSyntax, mountpoint: str) -> None:
        self._fmt, self._syntax, self._mountpoint = fmt, syntax, mountpoint
        self._namespace, self._base = names.split(mountpoint)

    def __call__(self, text: str, start: int, end: int, keys: KeySet) -> list[Key] | None:
        syntax = self._syntax
        blocks = syntax.blocks(text)
        touched = [block for block in blocks or () if block.start < end and block.end > start]
        if (
            blocks is None
            or not touched
            or touched[0].start > start
            or not all(block.path for block in touched)
        ):
            try:  # lines above the first block, or a text the format does not split
                return removed_lines.brought_keys(
                    keys, self._fmt.read(text.encode(), self._mountpoint).keys
                )
            except ResourceError:
                return None
        if len({block.path for block in blocks}) != len(blocks):
            return None
        held = _Holders(blocks, syntax.depth, self._namespace, self._base)
        expected, read = KeySet(), KeySet()
        for block in touched:
            expected.extend(held.keys_of(keys, block))
            try:
                read.extend(syntax.read_block(text[block.start : block.end]))
            except ResourceError:
                return None
        brought = removed_lines.brought_keys(expected, read)
        depth = len(self._base)
        if brought is None or not all(held.holder(key.parts[depth:]) in touched for key in brought):
            return None
        return brought


def _added_and_removed(
    changed: list[Key] | None, before: KeySet, keys: KeySet
) -> tuple[frozenset[str], frozenset[str]]:
    """The names of the changed keys that ``keys`` adds to ``before`` and that it lacks
    (none for a write of too many changes, which is not worth remembering)."""
    if not changed:
        return frozenset(), frozenset()
    added = frozenset(key.name for key in changed if key.name not in before)
    removed = frozenset(key.name for key in changed if key.name not in keys)
    return added, removed


def splice(
    syntax: BlockSyntax,
    text: str,
    before: KeySet,
    keys: KeySet,
    mountpoint: str,
    changed: list[Key] | None,
) -> str | None:
    """``text`` (which read as ``before``) changed to hold ``keys``, writing only the blocks
    whose keys ``changed`` (``_changed``); ``text`` itself when nothing changed; None when
    the whole file must be written (nothing was decided: the caller's full write reports
    refusals)."""
    if changed is None:
        return None
    if not changed:
        return text
    blocks = syntax.blocks(text)
    if blocks is None:
        return None
    namespace, base = names.split(mountpoint)
    held = _Holders(blocks, syntax.depth, namespace, base)
    touched: dict[int, Block] = {}
    for key in changed:
        if key.namespace != namespace or key.parts[: len(base)] != base:
            return None
        block = held.holder(key.parts[len(base) :])
        if block is None:
            return None
        touched[block.start] = block
    out: list[str] = []
    position = 0
    for start in sorted(touched):
        block = touched[start]
        old = text[block.start : block.end]
        wanted = held.keys_of(keys, block)
        if not _reads_as(syntax, old, held.keys_of(before, block)):
            return None
        new = syntax.write_block(old, wanted)
        if new is None or not _reads_as(syntax, new, wanted):
            return None
        out += (text[position : block.start], new)
        position = block.end
    out.append(text[position:])
    return "".join(out)


def _reads_as(syntax: BlockSyntax, text: str, keys: KeySet) -> bool:
    try:
        return syntax.read_block(text) == keys
    except ResourceError:
        return False


def keeps_header(old: list[Block] | None, new: list[Block] | None) -> bool:
    """Whether the new text of a block that opens with a header (an INI section, a TOML
    table), split into ``new``, still opens with the header of its ``old`` text and declares
    nothing outside that path; or declares nothing at all (the block goes). For the
    format's ``write_block``: a nested table whose key became a scalar reads back right
    alone, but its writer puts the scalar under the parent's header (``[s0]`` / ``k0 = 1``
    for ``[s0.k0]``), which the parent's block declares already, so the file would declare
    it twice."""
    if not old or new is None:
        return False
    path = old[0].path
    return not new or (
        new[0].path == path and all(inner.path[: len(path)] == path for inner in new)
    )


def _changed(before: KeySet, keys: KeySet) -> list[Key] | None:
    """The keys of ``keys`` that are new or differ from ``before``, and the keys of
    ``before`` that ``keys`` lacks; None if there are too many to be worth splicing."""
    # Both are in key order, and a set shares the unchanged Key objects with what was read:
    # the differences are found by identity (in C), or by one merge-like walk.
    old_keys, new_keys = list(before), list(keys)
    if len(old_keys) == len(new_keys):
        differing = compress(range(len(old_keys)), map(is_not, old_keys, new_keys))
        pairs = [(old_keys[index], new_keys[index]) for index in differing]
        if all(old.name == new.name for old, new in pairs):
            values = [new for old, new in pairs if old != new]
            return values if len(values) <= _MOST_CHANGES else None
    changed: list[Key] = []
    old_index = new_index = 0
    while old_index < len(old_keys) and new_index < len(new_keys):
        old, new = old_keys[old_index], new_keys[new_index]
        if old is new:
            old_index += 1
            new_index += 1
            continue
        if old.name == new.name:
            old_index += 1
            new_index += 1
            if old == new:
                continue
            changed.append(new)
        elif old.sort_key < new.sort_key:
            old_index += 1
            changed.append(old)
        else:
            new_index += 1
            changed.append(new)
        if len(changed) > _MOST_CHANGES:
            return None
    changed += old_keys[old_index:] + new_keys[new_index:]
    return changed if len(changed) <= _MOST_CHANGES else None


class _Holders:
    """Which block holds which keys."""

    def __init__(self, blocks: list[Block], depth: int | None, namespace: str, base: _Path) -> None:
        self._by_path = {block.path: block for block in blocks if block.path}
        self._depth = depth
        self._namespace, self._base = namespace, base

    def holder(self, path: _Path) -> Block | None:
        """The block that holds the key at ``path``: the deepest block at or above it."""
        shallowest = 1 if self._depth is None else max(1, len(path) - self._depth)
        for length in range(len(path), shallowest - 1, -1):
            block = self._by_path.get(path[:length])
            if block is not None:
                return block
        return None

    def keys_of(self, keys: KeySet, block: Block) -> KeySet:
        """The keys of ``keys`` that ``block`` holds."""
        below = keys.below(names.join(self._namespace, self._base + block.path))
        start = len(self._base)
        return KeySet(key for key in below if self.holder(key.parts[start:]) is block)
