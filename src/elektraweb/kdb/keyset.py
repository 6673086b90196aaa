"""A KeySet: keys kept in libelektra's order, with lookup by name and subtree views."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import Protocol, cast

from elektraweb.kdb import names
from elektraweb.kdb.key import Key

_by_sort_key = attrgetter("sort_key")
# No byte of an unescaped name after the namespace byte is 0xff (UTF-8 never uses it), so
# appending it gives an upper bound for every name below a given one.
_ABOVE_ALL = b"\xff"
# Up to this many keys added to (or removed from) an ordered KeySet at once are inserted
# (removed) one by one; more cost one pass: a sort (timsort merges sorted runs in linear
# time), or a filter.
_FEW_CHANGES = 32
# A set searched more often than this computes all its sort keys (a search of a plain list
# runs in C); before, each search computes only those it looks at (about log2 n). So, too,
# a deferred set looked up more often than this builds all its keys; before, each lookup
# builds only the key it finds.
_LAZY_SEARCHES = 64


class KeySource(Protocol):
    """Keys not built yet, such as a JSON file's parsed document: what a deferred KeySet
    holds until it is first looked into (see :meth:`KeySet.deferred`)."""

    namespace: str
    parts: tuple[str, ...]  # every key of the source lies at or below this place

    def __len__(self) -> int:
        """How many keys :meth:`keys` builds."""
        ...

    def keys(self) -> dict[str, Key]:
        """Every key by name, in libelektra's order: built on the first call, the same dict
        (which nobody changes) on later ones. Every source of one document hands out the
        same Key object for a name."""
        ...

    def below(self, parts: tuple[str, ...]) -> KeySource | None:
        """The source of the keys at or below ``parts``, which lie below ``self.parts``;
        None if there are none."""
        ...

    def find(self, name: str, parts: tuple[str, ...]) -> Key | None:
        """The key of the canonical ``name`` (whose ``parts`` lie at or below
        ``self.parts``), building as few keys as it can."""
        ...

    def fresh(self) -> dict[str, Key]:
        """Every key as ``keys`` has them, but new Key objects that nothing else holds."""
        ...


class _Loan:
    """Keys a family of KeySets shares with a set that never changes (a KDB view), and the
    copies of them the family has handed out: every set of the family (a ``lend`` and the
    sets made of it by ``below``, ``cut``, ``extend``) hands out the same copy of a key, as
    sets that share their own keys hand out the same key. The shared keys of a deferred set
    are its source's, built when first asked for."""

    __slots__ = ("_originals", "copies")

    def __init__(self, originals: dict[str, Key] | KeySource) -> None:
        self._originals = originals
        self.copies: dict[str, Key] = {}

    @property
    def originals(self) -> dict[str, Key]:
        originals = self._originals
        if not isinstance(originals, dict):
            originals = self._originals = originals.keys()
        return originals

    def copy_of(self, key: Key) -> Key | None:
        """The family's copy of ``key`` if it is an original, else None."""
        name = key.name
        if self.originals.get(name) is not key:
            return None
        mine = self.copies.get(name)
        if mine is None:
            mine = self.copies[name] = key.copy()
        return mine


class KeySet:
    """Keys by canonical name, iterated in libelektra's order.

    Lookup is a dict access. The order is computed when first needed: building a KeySet of n
    keys costs one sort, and keys added to an ordered KeySet are merged in on the next ordered
    access (timsort merges the two sorted runs in linear time).

    A KeySet made by :meth:`lend` (what ``KDB.get`` returns) holds keys it shares with a set
    that never changes (the KDB's view): it copies each such key the first time it hands it
    out (``lookup``, iteration, ``remove``, and the sets ``below``/``cut`` make), so its
    caller can change every key it is given and the shared originals never change.

    A KeySet made by :meth:`deferred` holds a :class:`KeySource` instead of keys, and builds
    them when it is first looked into; ``len``, ``lend``, ``below`` and taking the whole set
    over (``KeySet(deferred)``, ``extend`` of an empty set) pass the source on unbuilt.
    """

    __slots__ = (
        "_added", "_by_name", "_in_order", "_lazy_searches", "_loan", "_sort_keys", "_source",
        "_source_lookups",
    )

    _by_name: dict[str, Key]
    _in_order: list[Key] | None

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        # Keys not built yet (see ``deferred``); None: the keys are those below.
        self._source: KeySource | None = None
        self._source_lookups = 0  # lookups answered by the source (see ``_LAZY_SEARCHES``)
        self._by_name = {}
        self._in_order = None
        # The sort keys of ``_order`` (a key's name is fixed while it is in a set), each
        # computed when a search first looks at it; None: none computed yet.
        self._sort_keys: list[names.SortKey | None] | None = None
        # Searches made computing only the sort keys they looked at; -1: all are known.
        self._lazy_searches = 0
        self._added: list[Key] = []
        # What this set shares with a set that never changes; None: it shares nothing.
        self._loan: _Loan | None = None
        self.extend(keys)

    @classmethod
    def deferred(cls, source: KeySource) -> KeySet:
        """A KeySet of the keys ``source`` builds, built when the set is first looked into
        (a format's read: a get of a whole file need not build a Key per value)."""
        result = cls()
        result._source = source
        return result

    # Every look into the keys goes through these two, which build a deferred set's keys.
    @property
    def _keys(self) -> dict[str, Key]:
        if self._source is not None:
            self._build()
        return self._by_name

    @_keys.setter
    def _keys(self, keys: dict[str, Key]) -> None:
        self._by_name = keys

    @property
    def _order(self) -> list[Key] | None:
        if self._source is not None:
            self._build()
        return self._in_order

    @_order.setter
    def _order(self, order: list[Key] | None) -> None:
        self._in_order = order

    def _build(self) -> None:
        source, self._source = self._source, None
        assert source is not None
        built = source.keys()  # the source's own dict: this set changes a copy of it
        self._by_name, self._in_order = dict(built), list(built.values())

    def _build_own(self) -> None:
        """Build a lent deferred set that is iterated (which hands out every key, so copies
        every shared one) as keys of its own: one Key per key, not a shared one and a copy.
        They are its loan's copies from now on, so that the other sets of the family hand
        out the same ones; copies the family handed out before stay the keys it holds."""
        source, loan = self._source, self._loan
        assert source is not None and loan is not None
        own, copies = source.fresh(), loan.copies
        for name in own.keys() & copies.keys():
            own[name] = copies[name]
        copies.update(own)
        self._source, self._loan = None, None
        self._by_name, self._in_order = own, list(own.values())

    @classmethod
    def ordered(cls, keys: dict[str, Key]) -> KeySet:
        """A KeySet that takes over ``keys`` (by name), which are in libelektra's order
        already (a format's read): it needs no sort."""
        result = cls()
        result._keys = keys
        result._order = list(keys.values())
        return result

    def add(self, key: Key) -> None:
        """Insert or replace the key of the same name."""
        previous = self._keys.get(key.name)
        self._keys[key.name] = key
        if self._order is None:
            return
        if previous is None:
            self._added.append(key)
            return
        self._replace_in_order(previous, key)

    def _replace_in_order(self, previous: Key, key: Key) -> None:
        assert self._order is not None
        index = self._position(previous.sort_key)
        if index < len(self._order) and self._order[index] is previous:
            self._order[index] = key
        else:  # replaced a key that was itself added since the last ordering
            self._added[self._added.index(previous)] = key

    def _own(self, key: Key) -> Key:
        """``key`` (one of this set's, or one just removed) as the caller may change it: a
        shared key is copied, and the copy takes its place in the set."""
        mine = None if self._loan is None else self._loan.copy_of(key)
        if mine is None or self._source is not None:  # a deferred set takes the loan's copy
            return key if mine is None else mine  # when it is built (``_settled``, ``_own``)
        if self._keys.get(key.name) is key:
            self._keys[key.name] = mine
            if self._order is not None:
                self._replace_in_order(key, mine)
        return mine

    def lend(self) -> KeySet:
        """A KeySet of these keys for a caller to change as it likes, at the cost of copying
        two containers: each key is copied only when the new set first hands it out. This
        set must never change afterwards (a KDB view). A deferred set lends its source,
        unbuilt: the new set builds the source's keys, and lends them, when looked into."""
        result = KeySet()
        if self._source is not None and self._loan is None:
            result._source = self._source
            result._loan = _Loan(self._source)
            return result
        result._order = list(self._settled())
        result._sort_keys = None if self._sort_keys is None else list(self._sort_keys)
        result._lazy_searches = self._lazy_searches
        result._keys = dict(self._keys)
        # All of this set's keys, its own and those it shares itself, are the new set's to copy.
        result._loan = _Loan(self._keys)
        return result

    def extend(self, keys: Iterable[Key]) -> None:
        """Add every key of ``keys``; another KeySet with none of these names is taken over
        in bulk (its keys are shared, not copied), which costs no per-key work."""
        if isinstance(keys, KeySet | list) and not len(keys):
            return  # nothing to add: a deferred set stays unbuilt
        if isinstance(keys, KeySet) and keys._loan is not None and keys._loan is not self._loan:
            if self._loan is None:
                self._loan = keys._loan  # treating own keys as lent would only cost a copy
            else:  # keys of two loans: take those of ``keys`` as it hands them out
                keys = list(keys)
        if isinstance(keys, KeySet) and keys._source is not None and self._is_new():
            self._source = keys._source  # the whole set, still unbuilt
            return
        if not self._keys and self._order is None and isinstance(keys, list):
            # A new KeySet of a list (a format's read): no order to keep up yet, and a
            # later key replaces an earlier one of the same name, as ``add`` does.
            self._keys = {key.name: key for key in keys}
            return
        if isinstance(keys, KeySet) and self._keys.keys().isdisjoint(keys._keys.keys()):
            if not self._keys:
                self._keys = dict(keys._keys)
                self._order = None if keys._order is None else list(keys._order)
                self._sort_keys = None if keys._sort_keys is None else list(keys._sort_keys)
                self._lazy_searches = keys._lazy_searches
                self._added = list(keys._added)
                return
            self._keys.update(keys._keys)
            if self._order is not None:
                self._added.extend(keys._keys.values())
            return
        for key in keys:
            self.add(key)

    def _is_new(self) -> bool:
        """Whether this set is empty and never held a key (nothing to build, sort or keep)."""
        return (self._source is None and not self._by_name and self._in_order is None
                and not self._added)  # fmt: skip

    def lookup(self, name: str) -> Key | None:
        key = self._find(name)
        return None if key is None else self._own(key)

    def _find(self, name: str) -> Key | None:
        source = self._source
        if source is not None and self._source_lookups < _LAZY_SEARCHES:
            self._source_lookups += 1
            try:
                canonical, namespace, parts = names.parse(name)
            except ValueError:
                return None
            place = source.parts
            if namespace != source.namespace or parts[: len(place)] != place:
                return None
            return source.find(canonical, parts)
        key = self._keys.get(name)
        if key is None:
            try:
                key = self._keys.get(names.canonical(name))
            except ValueError:
                return None
        return key

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._find(name) is not None

    def remove(self, name: str) -> Key | None:
        key = self._keys.pop(names.canonical(name), None)
        if key is None:
            return None
        if self._order is not None:
            index = self._position(key.sort_key)
            del self._merge_added()[index]
            del self._known_sort_keys()[index]
        return self._own(key)

    def remove_all(self, removed: Iterable[str]) -> None:
        """Remove the keys of these names, if present."""
        removed = list(removed)
        if len(removed) <= _FEW_CHANGES:
            for name in removed:
                self.remove(name)
            return
        for name in removed:
            self._keys.pop(names.canonical(name), None)
        if self._order is not None:
            present = self._keys.get
            self._added = [key for key in self._added if present(key.name) is key]
            self._order = [key for key in self._order if present(key.name) is key]
            self._sort_keys, self._lazy_searches = None, 0

    def __len__(self) -> int:
        source = self._source
        return len(self._by_name) if source is None else len(source)

    def _merge_added(self) -> list[Key]:
        order = self._order
        if order is not None and len(self._added) <= _FEW_CHANGES:
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

    def _position(self, sort_key: names.SortKey, lo: int = 0, hi: int | None = None, *,
                  right: bool = False) -> int:
        """Where ``sort_key`` goes in the order (``bisect`` over the sort keys)."""
        return self._position_in(self._merge_added(), sort_key, lo, hi, right=right)

    def _position_in(self, order: list[Key], sort_key: names.SortKey, lo: int = 0,
                     hi: int | None = None, *, right: bool = False) -> int:
        known = self._known_sort_keys_of(order)
        search = bisect_right if right else bisect_left
        hi = len(order) if hi is None else hi
        if 0 <= self._lazy_searches < _LAZY_SEARCHES:
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

    def __iter__(self) -> Iterator[Key]:
        if self._source is not None and self._loan is not None:
            self._build_own()
        order = self._merge_added()
        return iter(order) if self._loan is None else self._handing_out(order, self._loan)

    def held(self) -> list[Key]:
        """The keys in order as this set holds them, keys it shares included (no copy):
        for a reader that neither changes them nor hands them on (``KDB.set`` comparing
        them with the stored keys, which it recognises by identity)."""
        return self._settled()

    def _settled(self) -> list[Key]:
        """The order, with each shared key that another set of the loan's family has handed
        out replaced by that copy (which may have been changed since)."""
        order = self._merge_added()
        loan = self._loan
        if loan is None or not loan.copies:
            return order
        originals, keys = loan.originals, self._keys
        if len(loan.copies) <= len(order) // 16:  # a few: find each
            for name in loan.copies:
                if keys.get(name) is originals[name]:
                    self._own(originals[name])
            return order
        for index, key in enumerate(order):
            mine = loan.copies.get(key.name)
            if mine is not None and originals.get(key.name) is key:
                order[index] = keys[key.name] = mine
        return order

    def _handing_out(self, order: list[Key], loan: _Loan) -> Iterator[Key]:
        for index, key in enumerate(order):
            mine = loan.copy_of(key)
            if mine is not None:
                if order is self._order and self._keys.get(key.name) is key:
                    order[index] = self._keys[key.name] = mine  # without ``_own``'s search
                else:  # the set changed while it was iterated
                    mine = self._own(key)
                key = mine
            yield key

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

    def _slice(self, start: int, end: int) -> KeySet:
        everything = self._merge_added()
        result = KeySet()
        if start == 0 and end == len(everything):
            result._keys, result._order = dict(self._keys), list(everything)
        else:
            result._order = everything[start:end]
            result._keys = {key.name: key for key in result._order}
        if self._sort_keys is not None:
            result._sort_keys = self._sort_keys[start:end]
            result._lazy_searches = self._lazy_searches
        result._loan = self._loan
        return result

    def below(self, name: str) -> KeySet:
        """A new KeySet with the key ``name`` (if present) and every key below it."""
        if self._source is not None:
            _, namespace, parts = names.parse(name)
            return self._source_below(namespace, parts)
        return self._slice(*self._span_below(name))

    def below_parts(self, namespace: str, parts: tuple[str, ...]) -> KeySet:
        """As :meth:`below`, for a place that need not be a valid name itself: the keys
        below ``("",)`` (``user:/%/x``), though ``user:/%`` names no key."""
        if self._source is not None:
            return self._source_below(namespace, parts)
        return self._slice(*self._span_below_parts(namespace, parts))

    def _source_below(self, namespace: str, parts: tuple[str, ...]) -> KeySet:
        """``below`` of a deferred set: the part of its source, unbuilt."""
        source = self._source
        assert source is not None
        result = KeySet()
        result._loan = self._loan
        if namespace != source.namespace:
            return result
        depth = min(len(parts), len(source.parts))
        if parts[:depth] != source.parts[:depth]:
            return result  # apart from the source's place: nothing
        result._source = source if len(parts) <= depth else source.below(parts)
        return result

    def cut(self, name: str) -> KeySet:
        """Remove and return the key ``name`` and everything below it."""
        start, end = self._span_below(name)
        taken = self._slice(start, end)
        for key_name in taken._keys:
            del self._keys[key_name]
        if self._order is not None:
            del self._order[start:end]
            if self._sort_keys is not None:
                del self._sort_keys[start:end]
        return taken

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

    def copy(self) -> KeySet:
        """A KeySet of copies of the keys (already in order); keys this set has on loan (see
        :meth:`lend`) are on loan to the copy too, which copies them when it hands them out."""
        originals = None if self._loan is None else self._loan.originals
        result = KeySet()
        result._order = [
            key if originals is not None and originals.get(key.name) is key else key.copy()
            for key in self._settled()
        ]
        result._sort_keys = None if self._sort_keys is None else list(self._sort_keys)
        result._lazy_searches = self._lazy_searches
        result._keys = {key.name: key for key in result._order}
        result._loan = None if originals is None else _Loan(originals)
        return result

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeySet):
            return NotImplemented
        self._settled()
        other._settled()
        return self._keys == other._keys

    __hash__ = None  # type: ignore[assignment]  # key sets are mutable

    def __repr__(self) -> str:
        return f"KeySet({self._settled()!r})"
