"""Deferred key sets: keys a KeySet holds as a source not built yet, such as a parsed
document, until it is first looked into (see :meth:`KeySet.deferred`)."""

from __future__ import annotations

from typing import Protocol, Self

from elektraweb.kdb import names
from elektraweb.kdb.key import Key

# A deferred set looked up more often than this builds all its keys; before, each lookup
# builds only the key it finds. So, too, a set searched more often than this computes all its
# sort keys (see ``key_order``).
LAZY_SEARCHES = 64


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


class DeferredKeys:
    """The keys of a KeySet by name and in order, or the source that builds them: every look
    into the keys goes through ``_keys`` and ``_order``, which build a deferred set's keys."""

    __slots__ = ("_by_name", "_in_order", "_source", "_source_lookups")

    # Set by ``KeySet.__init__``, which sets the slots of every layer in one body.
    _by_name: dict[str, Key]
    _in_order: list[Key] | None
    # Keys not built yet (see ``deferred``); None: the keys are those above.
    _source: KeySource | None
    _source_lookups: int  # lookups answered by the source (see ``LAZY_SEARCHES``)

    @classmethod
    def deferred(cls, source: KeySource) -> Self:
        """A KeySet of the keys ``source`` builds, built when the set is first looked into
        (a format's read: a get of a whole file need not build a Key per value)."""
        result = cls()
        result._source = source
        return result

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

    def _find(self, name: str) -> Key | None:
        source = self._source
        if source is not None and self._source_lookups < LAZY_SEARCHES:
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

    def __len__(self) -> int:
        source = self._source
        return len(self._by_name) if source is None else len(source)
