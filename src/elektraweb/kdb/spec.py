"""Specifications: metadata of ``spec:/`` keys applied to the keys they describe.

As libelektra's spec plugin (src/plugins/spec/README.md), a spec key's name is a pattern
over the parts of other keys' names, in every namespace except ``spec`` and ``meta``:

- ``_`` matches any one part that is not an array element,
- ``#`` matches any one array element (``#0``, ``#_10``, ``#__100``),
- a part with ``*``, ``?`` or ``[...]`` is an fnmatch(3) pattern for one part
  (``*`` never crosses a ``/``), every other part matches itself.

Two deliberate differences from libelektra: a key's own metadata wins over the spec's (so
storing a key never loses what it said itself), and ``#`` patterns describe every array
element, not only those up to the parent's ``array`` size (the size only bounds the
``default:/`` keys created for arrays).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import NamedTuple

from elektraweb.kdb import names
from elektraweb.kdb.key import NOTHING_INHERITED, Key
from elektraweb.kdb.keyset import KeySet

SPEC = "spec"
CRITICAL = "critical"
"""Metadata of a spec key that makes the keys it describes critical: set to anything but a
false word, a change to them needs a reason (docs/validation.md, Critical keys)."""
# Namespaces whose keys a specification describes.
DESCRIBED = tuple(ns for ns in names.NAMESPACES if ns not in (SPEC, "meta"))
_NO_META: Mapping[str, str] = {}

# How specific a pattern part is; the most specific matching pattern wins.
_GLOB, _ANY_PART, _LITERAL = 0, 1, 2
_ANY_PLAIN_PART = rf"(?!{names.ARRAY_PART_REGEX}(?:\x00|\Z))[^\x00]*"


def _glob_part_regex(part: str) -> str:
    """fnmatch(3) for one part: ``*``, ``?``, ``[...]`` (``[!...]`` negates, no escapes)."""
    out: list[str] = []
    i = 0
    while i < len(part):
        char = part[i]
        i += 1
        if char == "*":
            out.append("[^\\x00]*")
        elif char == "?":
            out.append("[^\\x00]")
        elif char == "[" and (close := _bracket_end(part, i)) >= 0:
            body, i = part[i:close], close + 1
            negated = body[0] in "!^"
            members = "".join(c if c == "-" else re.escape(c) for c in body[negated:])
            out.append(f"[^\\x00{members}]" if negated else f"[{members}]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _bracket_end(part: str, start: int) -> int:
    """Index of the ``]`` closing a bracket that opens before ``start``; -1 if none."""
    if part[start : start + 1] in ("!", "^"):
        start += 1
    if part[start : start + 1] == "]":  # a ']' right after '[' or '[!' is a member
        start += 1
    return part.find("]", start)


def _part_regex(part: str) -> tuple[str, int]:
    if part == "_":
        return _ANY_PLAIN_PART, _ANY_PART
    if part == "#":
        return names.ARRAY_PART_REGEX, _ANY_PART
    if any(char in part for char in "*?["):
        return _glob_part_regex(part), _GLOB
    return re.escape(part), _LITERAL


@lru_cache(maxsize=1024)
def _compile_parts(parts: tuple[str, ...]) -> tuple[re.Pattern[str], tuple[int, ...]]:
    """One regex over the NUL-joined parts of a name, and each part's specificity."""
    compiled = [_part_regex(part) for part in parts]
    regex = re.compile("\\x00".join(text for text, _ in compiled))
    return regex, tuple(kind for _, kind in compiled)


class _Pattern(NamedTuple):
    """One spec key, compiled."""

    key: Key
    regex: re.Pattern[str]
    specificity: tuple[int, ...]

    @classmethod
    def compile(cls, key: Key) -> _Pattern:
        return cls(key, *_compile_parts(key.parts))

    @property
    def head(self) -> str | None:
        """The literal first part, if the pattern has one."""
        return self.key.parts[0] if self.specificity[:1] == (_LITERAL,) else None

    @property
    def instantiable(self) -> bool:
        """Whether the names it describes can be listed (no ``_`` and no glob parts)."""
        return _GLOB not in self.specificity and "_" not in self.key.parts


class Specification:
    """The ``spec:/`` keys of a KeySet, indexed for matching names of other namespaces.

    Patterns are indexed by depth and literal first part, so matching one name costs a
    couple of dict lookups plus a check of the few patterns that can match at all.
    """

    def __init__(self, ks: KeySet) -> None:
        self._by_head: dict[tuple[int, str | None], list[_Pattern]] = {}
        self.keys = ks.below("spec:/")
        # A spec key without metadata says nothing about the keys it matches.
        self._patterns = [_Pattern.compile(key) for key in self.keys if key.meta]
        self._merged: dict[tuple[int, ...], dict[str, str]] = {}  # by ids of the patterns
        for pattern in self._patterns:
            self._by_head.setdefault((len(pattern.key.parts), pattern.head), []).append(pattern)
        # Each literal head also gets the patterns of its depth that start with a wildcard,
        # least specific first, so matching a name needs one list.
        for (depth, head), patterns in self._by_head.items():
            if head is not None:
                patterns.extend(self._by_head.get((depth, None), ()))
            patterns.sort(key=lambda pattern: pattern.specificity)

    def __bool__(self) -> bool:
        return bool(self._patterns)

    @property
    def has_root(self) -> bool:
        """Whether a spec key describes the root keys (``spec:/`` has metadata)."""
        return (0, None) in self._by_head

    def literal_heads(self) -> set[str] | None:
        """The first parts that every pattern below the root starts with; None if some
        pattern starts with a wildcard, so that any name may match."""
        heads = {head for (depth, head) in self._by_head if depth > 0}
        return None if None in heads else {head for head in heads if head is not None}

    def _matching(self, parts: tuple[str, ...]) -> list[_Pattern]:
        """Patterns that match ``parts``, least specific first."""
        depth = len(parts)
        candidates = self._by_head.get((depth, parts[0]), None) if parts else None
        if candidates is None:
            candidates = self._by_head.get((depth, None), [])
        joined = "\x00".join(parts)
        return [pattern for pattern in candidates if pattern.regex.fullmatch(joined)]

    def spec_key_for(self, name: str) -> Key | None:
        """The most specific spec key describing ``name`` (any namespace), if any."""
        matching = self._matching(names.parts_of(name))
        return matching[-1].key if matching else None

    def meta_for(self, key: Key) -> Mapping[str, str]:
        """The metadata the specification gives ``key``; the most specific spec key wins.

        The mapping is shared between keys matched by the same spec keys: do not change it.
        """
        matching = self._matching(key.parts)
        if not matching:
            return _NO_META
        merged_key = tuple(id(pattern) for pattern in matching)
        merged = self._merged.get(merged_key)
        if merged is None:
            merged = {}
            for pattern in matching:
                merged.update(pattern.key.meta)
            self._merged[merged_key] = merged
        return merged

    def default_keys(self, ks: KeySet) -> Iterator[Key]:
        """``default:/`` keys for spec keys with ``default`` whose key exists nowhere in ``ks``.

        Array specs (``#`` parts) are instantiated for every index up to the array size, the
        ``array`` metadata of the array's parent (cascading, then its spec key).
        """
        for pattern in self._patterns:
            if "default" not in pattern.key.meta or not pattern.instantiable:
                continue
            for parts in self._instances(ks, pattern.key.parts):
                if not any(ks.lookup(names.join(ns, parts)) for ns in names.CASCADE_ORDER):
                    meta = pattern.key.meta
                    yield Key(names.join("default", parts), meta["default"], meta)

    def default_for(self, ks: KeySet, name: str) -> Key | None:
        """The ``default:/`` key the spec gives ``name``, as ``default_keys`` would create it:
        none from ``_`` or glob patterns, none for an array element beyond the array size."""
        parts = names.parts_of(name)
        matching = self._matching(parts)
        if not matching or "default" not in matching[-1].key.meta:
            return None
        pattern = matching[-1]
        if not pattern.instantiable:
            return None
        for position, part in enumerate(pattern.key.parts):
            if part != "#":
                continue
            index = names.array_index(parts[position])
            if index is None or index >= self._array_size(ks, parts[:position]):
                return None
        meta = pattern.key.meta
        return Key(names.join("default", parts), meta["default"], meta)

    def _instances(self, ks: KeySet, parts: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        if "#" not in parts:
            yield parts
            return
        position = parts.index("#")
        for prefix in self._instances(ks, parts[:position]):
            size = self._array_size(ks, prefix)
            for index in range(size):
                yield from self._instances(
                    ks, (*prefix, names.array_part(index), *parts[position + 1 :])
                )

    def _array_size(self, ks: KeySet, parent: tuple[str, ...]) -> int:
        last: str | None = None
        for namespace in names.CASCADE_ORDER:
            key = ks.lookup(names.join(namespace, parent))
            if key is not None and "array" in key.meta:
                last = key.meta["array"]
                break
        else:
            spec_key = self.keys.lookup(names.join(SPEC, parent))
            last = spec_key.meta.get("array") if spec_key is not None else None
        index = names.array_index(last) if last else None
        return 0 if index is None else index + 1


def _described_keys(ks: KeySet, specification: Specification) -> Iterator[Key]:
    """The keys of ``ks`` that a spec key may describe, without scanning unrelated subtrees."""
    heads = specification.literal_heads()
    for namespace in DESCRIBED:
        if heads is None:
            yield from ks.below(names.join(namespace, ()))
            continue
        for head in heads:
            yield from ks.below(names.join(namespace, (head,)))
        if specification.has_root:
            root = ks.lookup(names.join(namespace, ()))
            if root is not None:
                yield root


def apply_spec(ks: KeySet) -> None:
    """Give every matching key its spec metadata and add ``default:/`` keys.

    A key's own metadata is never overwritten. A key that gains metadata is replaced in
    ``ks`` by a copy that has it: keys are never changed, since they may be shared (see
    ``KDB.view``). ``default:/`` keys are created for spec keys with ``default`` metadata
    whose key exists in no other namespace; they carry the spec key's metadata too.
    """
    specification = Specification(ks)
    if not specification:
        return
    for key in _described_keys(ks, specification):
        spec_meta = specification.meta_for(key)
        if spec_meta and not spec_meta.keys() <= key.meta.keys():
            described = key.copy()
            described.meta = {**spec_meta, **key.meta}
            described.inherited = spec_meta  # shared and never changed: see meta_for
            ks.add(described)
    for default in list(specification.default_keys(ks)):
        ks.add(default)


def strip_spec(ks: KeySet, specification: Specification | None = None) -> KeySet:
    """What should be stored of ``ks``: a new KeySet without ``default:/`` keys and without
    the metadata a key holds only because a specification says the same: the one in ``ks``
    now, or the one that described the key when it was read (``Key.inherited``), so metadata
    of a spec changed or removed since then is not written into the key's file.

    Keys that lose metadata are copies; the others are shared with ``ks``. Pass the
    ``specification`` of ``ks`` if it is at hand.
    """
    stored = KeySet(ks)
    stored.cut("default:/")
    if specification is None:
        specification = Specification(stored)
    candidates = [key for key in stored.held() if key.inherited]  # read only: no copies
    if specification:
        candidates.extend(_described_keys(stored, specification))
    for key in candidates:
        if not key.meta:
            continue
        spec_meta = specification.meta_for(key) if specification else _NO_META
        own = {
            name: value
            for name, value in key.meta.items()
            if spec_meta.get(name) != value and key.inherited.get(name) != value
        }
        if len(own) != len(key.meta) or key.inherited:
            stripped = key.copy()
            stripped.meta = own
            stripped.inherited = NOTHING_INHERITED
            stored.add(stripped)
    return stored
