"""A KeySet: keys kept in libelektra's order, with lookup by name and subtree views."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from elektraweb.kdb import names
from elektraweb.kdb.key import Key


class KeySet:
    """Keys by canonical name, iterated in libelektra's order.

    Lookup is a dict access; ordering is computed lazily, so building a KeySet of n keys costs
    one sort rather than n sorted inserts.
    """

    __slots__ = ("_keys", "_order", "_sort_keys")

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        self._keys: dict[str, Key] = {}
        self._order: list[str] | None = None
        self._sort_keys: list[names.SortKey] = []
        for key in keys:
            self.add(key)

    def add(self, key: Key) -> None:
        """Insert or replace the key of the same name."""
        if key.name not in self._keys:
            self._order = None
        self._keys[key.name] = key

    def extend(self, keys: Iterable[Key]) -> None:
        for key in keys:
            self.add(key)

    def lookup(self, name: str) -> Key | None:
        key = self._keys.get(name)
        if key is None and name not in self._keys:
            try:
                key = self._keys.get(names.canonical(name))
            except ValueError:
                return None
        return key

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.lookup(name) is not None

    def remove(self, name: str) -> Key | None:
        key = self._keys.pop(names.canonical(name), None)
        if key is not None:
            self._order = None
        return key

    def __len__(self) -> int:
        return len(self._keys)

    def _ensure_order(self) -> list[str]:
        if self._order is None:
            self._order = sorted(self._keys, key=names.sort_key)
            self._sort_keys = [names.sort_key(n) for n in self._order]
        return self._order

    def __iter__(self) -> Iterator[Key]:
        keys = self._keys
        return (keys[n] for n in self._ensure_order())

    def names(self) -> list[str]:
        return list(self._ensure_order())

    def _span_below(self, name: str) -> tuple[int, int]:
        """Index range [start, end) of the key ``name`` and everything below it."""
        order = self._ensure_order()
        rank, parts = names.sort_key(name)
        start = bisect.bisect_left(self._sort_keys, (rank, parts))
        end = start
        depth = len(parts)
        sort_keys = self._sort_keys
        while end < len(order):
            other_rank, other_parts = sort_keys[end]
            if other_rank != rank or other_parts[:depth] != parts:
                break
            end += 1
        return start, end

    def below(self, name: str) -> KeySet:
        """A new KeySet with the key ``name`` (if present) and every key below it."""
        start, end = self._span_below(name)
        result = KeySet()
        keys = self._keys
        order = self._ensure_order()
        result._keys = {n: keys[n] for n in order[start:end]}
        result._order = order[start:end]
        result._sort_keys = self._sort_keys[start:end]
        return result

    def cut(self, name: str) -> KeySet:
        """Remove and return the key ``name`` and everything below it."""
        taken = self.below(name)
        for n in taken._keys:
            del self._keys[n]
        if taken._keys:
            self._order = None
        return taken

    def children(self, name: str, depth: int | None = 1) -> list[str]:
        """Names below ``name`` down to ``depth`` levels (None: all), in order.

        Names of intermediate levels that exist only implicitly (a key ``a/b/c`` without
        ``a/b``) are included once, so a tree view can show the path to every key.
        """
        start, end = self._span_below(name)
        base_depth = len(names.parts_of(name))
        order = self._ensure_order()
        namespace = names.namespace_of(name)
        seen: set[tuple[str, ...]] = set()
        result: list[str] = []
        for index in range(start, end):
            parts = self._sort_keys[index][1]
            rel = len(parts) - base_depth
            if rel == 0:
                continue
            limit = rel if depth is None else min(rel, depth)
            for level in range(1, limit + 1):
                prefix = parts[: base_depth + level]
                if prefix not in seen:
                    seen.add(prefix)
                    result.append(order[index] if level == rel else names.join(namespace, prefix))
        return result

    def copy(self) -> KeySet:
        return KeySet(key.copy() for key in self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeySet):
            return NotImplemented
        return self._keys == other._keys

    __hash__ = None  # type: ignore[assignment]  # key sets are mutable

    def __repr__(self) -> str:
        return f"KeySet({list(self)!r})"
