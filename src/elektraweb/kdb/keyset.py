"""A KeySet: keys kept in libelektra's order, with lookup by name and subtree views."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from elektraweb.kdb import names
from elektraweb.kdb.deferred_keys import KeySource
from elektraweb.kdb.key import Key
from elektraweb.kdb.key_order import FEW_CHANGES, OrderedKeys


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


class KeySet(OrderedKeys):
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

    __slots__ = ("_loan",)

    def __init__(self, keys: Iterable[Key] = ()) -> None:
        # The slots of every layer (``DeferredKeys``, ``OrderedKeys``) are set here, in one
        # body: a set is made for every ``below`` or ``cut``, and a chain of ``__init__``
        # calls would make that half again as costly.
        self._source = None
        self._source_lookups = 0
        self._by_name = {}
        self._in_order = None
        self._sort_keys = None
        self._lazy_searches = 0
        self._added = []
        # What this set shares with a set that never changes; None: it shares nothing.
        self._loan: _Loan | None = None
        self.extend(keys)

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
        if len(removed) <= FEW_CHANGES:
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
