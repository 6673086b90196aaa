"""The order of a KeySet's keys (libelektra's): kept up as keys are added and removed,
searched by sort key, and walked for a subtree's span and its paged children."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from operator import attrgetter
from typing import cast

from elektraweb.kdb import names
from elektraweb.kdb.deferred_keys import LAZY_SEARCHES, DeferredKeys
from elektraweb.kdb.key import Key

_by_sort_key = attrgetter("sort_key")
# No byte of an unescaped name after the namespace byte is 0xff (UTF-8 never uses it), so
# appending it gives an upper bound for every name below a given one.
_ABOVE_ALL = b"\xff"
# Up to this many keys added to (or removed from) an ordered KeySet at once are inserted
# (removed) one by one; more cost one pass: a sort (timsort merges sorted runs in linear
# time), or a filter.
FEW_CHANGES = 32
# A set searched more often than ``LAZY_SEARCHES`` computes all its sort keys (a search of
# a plain list runs in C); before, each search computes only those it looks at (about log2 n).


class OrderedKeys(DeferredKeys):
    """Keys in libelektra's order, computed when first needed: building a set of n keys costs
    one sort, and keys added to an ordered set are merged in on the next ordered access."""

    __slots__ = ("_added", "_lazy_searches", "_sort_keys")

    # Set by ``KeySet.__init__``, which sets the slots of every layer in one body.
    # The sort keys of ``_order`` (a key's name is fixed while it is in a set), each
    # computed when a search first looks at it; None: none computed yet.
    _sort_keys: list[names.SortKey | None] | None
    # Searches made computing only the sort keys they looked at; -1: all are known.
    _lazy_searches: int
    _added: list[Key]  # keys added since the order was last merged

    def _replace_in_order(self, previous: Key, key: Key) -> None:
        assert self._order is not None
        index = self._position(previous.sort_key)
        if index < len(self._order) and self._order[index] is previous:
            self._order[index] = key
        else:  # replaced a key that was itself added since the last ordering
            self._added[self._added.index(previous)] = key

    def _merge_added(self) -> list[Key]:
        order = self._order
        if order is not None and len(self._added) <= FEW_CHANGES:
            # A handful of keys added to a big ordered set: insert each where it belongs.
            for key in self._added:
                index = self._position_in(order, key.sort_key)
                order.insert(index, key)
                self._known_sort_keys_of(order).insert(index, key.sort_key)
            self._added = []
            return order
        if order is None:
            order = sorted(self._keys.values(), key=_by_sort_key)
        else:
            order = sorted(order + self._added, key=_by_sort_key)
        self._added = []
        self._order = order
        self._sort_keys = [key.sort_key for key in order]  # computed for the sort already
        self._lazy_searches = -1
        return order

    def _known_sort_keys(self) -> list[names.SortKey | None]:
        return self._known_sort_keys_of(self._merge_added())

    def _known_sort_keys_of(self, order: list[Key]) -> list[names.SortKey | None]:
        if self._sort_keys is None:
            self._sort_keys, self._lazy_searches = [None] * len(order), 0
        return self._sort_keys

    def _position(
        self, sort_key: names.SortKey, lo: int = 0, hi: int | None = None, *, right: bool = False
    ) -> int:
        """Where ``sort_key`` goes in the order (``bisect`` over the sort keys)."""
        return self._position_in(self._merge_added(), sort_key, lo, hi, right=right)

    def _position_in(
        self,
        order: list[Key],
        sort_key: names.SortKey,
        lo: int = 0,
        hi: int | None = None,
        *,
        right: bool = False,
    ) -> int:
        known = self._known_sort_keys_of(order)
        search = bisect_right if right else bisect_left
        hi = len(order) if hi is None else hi
        if 0 <= self._lazy_searches < LAZY_SEARCHES:
            self._lazy_searches += 1
        elif self._lazy_searches >= 0:  # searched often: compute them all, search in C
            known[:] = [key.sort_key if found is None else found
                        for key, found in zip(order, known, strict=True)]  # fmt: skip
            self._lazy_searches = -1
        if self._lazy_searches < 0:
            return search(cast(list[names.SortKey], known), sort_key, lo, hi)

        def sort_key_at(index: int) -> names.SortKey:
            found = known[index]
            if found is None:  # a binary search looks at few: compute only theirs
                found = known[index] = order[index].sort_key
            return found

        return search(range(len(order)), sort_key, lo, hi, key=sort_key_at)

    def names(self) -> list[str]:
        return [key.name for key in self._merge_added()]

    def _span_below(self, name: str) -> tuple[int, int]:
        """Index range [start, end) of the key ``name`` and everything below it."""
        _, namespace, parts = names.parse(name)
        return self._span_below_parts(namespace, parts)

    def _span_below_parts(self, namespace: str, parts: tuple[str, ...]) -> tuple[int, int]:
        order = self._merge_added()
        own = names.unescaped(namespace, parts)
        above = (own + b"\x00" if parts else own) + _ABOVE_ALL
        start = self._position_in(order, own)
        return start, self._position_in(order, above, start)

    def children(
        self,
        name: str,
        depth: int | None = 1,
        *,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """Names below ``name`` down to ``depth`` levels (None: all), in order.

        Names of intermediate levels that exist only implicitly (a key ``a/b/c`` without
        ``a/b``) are included once, so a tree view can show the path to every key; the one
        level that has no valid name (``/%``, above a key such as ``/%/a``) is left out.
        ``after`` and ``limit`` page through a long listing: only names that sort after
        ``after``, at most ``limit`` of them, at a cost that grows with the page, not with
        the subtree.
        """
        start, end = self._span_below(name)
        _, namespace, base = names.parse(name)
        base_depth = len(base)
        order = self._merge_added()
        result: list[str] = []
        # Keys come in order, so an implicit level is new exactly when it differs from the
        # previous key's prefix at that level.
        previous: tuple[str, ...] = base
        index = start + 1 if start < end and order[start].parts == base else start
        if after is not None:
            _, after_namespace, after_parts = names.parse(after)
            sort_key = names.unescaped(after_namespace, after_parts)
            index = max(index, self._position(sort_key, start, end, right=True))
            if after_namespace == namespace and after_parts[:base_depth] == base:
                # Levels that are prefixes of ``after`` sort before it: the last page had them.
                previous = after_parts
        while index < end and (limit is None or len(result) < limit):
            key = order[index]
            parts = key.parts
            relative = len(parts) - base_depth
            shown = relative if depth is None else min(relative, depth)
            level = 1
            while level <= shown and previous[: base_depth + level] == parts[: base_depth + level]:
                level += 1
            for missing in range(level, shown + 1):
                if missing == relative:
                    result.append(key.name)
                elif parts[: base_depth + missing] != ("",):  # '/%' cannot be named: skip it
                    result.append(names.join(namespace, parts[: base_depth + missing]))
            previous = parts
            index += 1
            if relative > shown:  # skip the rest of a subtree deeper than asked for
                deepest = names.unescaped(namespace, parts[: base_depth + shown])
                index = self._position(deepest + b"\x00" + _ABOVE_ALL, index, end)
        return result if limit is None else result[:limit]
