"""The views a KDB remembers: the result of a get of a parent, kept while what it was built
from is unchanged, so that reading the same parent again costs a ``stat`` per file.

A view depends on the mounts whose files it read (and on the ``proc:/`` keys held in memory).
The views are indexed by those sources as well as by parent, so a set forgets just the views
of the files it wrote, however many others are remembered.
"""

from __future__ import annotations

from collections import OrderedDict

from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.mounts import Mount

# Views are remembered for the parents read last, while they hold this many keys in all
# (a view shares its keys with the KDB: it costs its own index, about 100 bytes a key).
# Enough parents for clients that read many single keys in turn: with 16, a get of each of
# 64 keys in turn rebuilt its view every time (docs/benchmarks.md, issue 10 item 1).
VIEWS_KEPT = 256
VIEW_KEYS_KEPT = 250_000
# What a view depends on besides its mounts' files: the proc:/ keys held in memory.
PROC = "proc"

Source = Mount | str


class NotRemembered(Exception):
    """A read in remembered-only mode (``KDB.remembered_only``) would have to read a file:
    no view of its parent is remembered, or a file it was built from changed since."""


class ViewCache:
    """Remembered views by parent, least recently used first, and by source."""

    def __init__(self, *, kept: int = VIEWS_KEPT, keys_kept: int = VIEW_KEYS_KEPT) -> None:
        self._kept, self._keys_kept = kept, keys_kept
        self._views: OrderedDict[str, tuple[frozenset[Source], KeySet]] = OrderedDict()
        self._by_source: dict[Source, set[str]] = {}
        self._held = 0  # keys in all views

    def __contains__(self, parent: str) -> bool:
        return parent in self._views

    def sources(self, parent: str) -> frozenset[Source] | None:
        """What the view of ``parent`` was built from; None if none is remembered."""
        remembered = self._views.get(parent)
        return None if remembered is None else remembered[0]

    def use(self, parent: str) -> KeySet | None:
        """The remembered view of ``parent`` (now the most recently used), or None."""
        remembered = self._views.get(parent)
        if remembered is None:
            return None
        self._views.move_to_end(parent)
        return remembered[1]

    def remember(self, parent: str, sources: frozenset[Source], view: KeySet) -> None:
        """Keep ``view`` of ``parent``, built from ``sources``; the least recently used views
        go while there are too many or they hold too many keys (the newest always stays)."""
        self._drop(parent)
        self._views[parent] = (sources, view)
        self._held += len(view)
        for source in sources:
            self._by_source.setdefault(source, set()).add(parent)
        views = self._views
        while len(views) > 1 and (len(views) > self._kept or self._held > self._keys_kept):
            self._drop(next(iter(views)))

    def forget(self, source: Source) -> None:
        """Drop the views built from ``source``, which changed."""
        for parent in self._by_source.pop(source, ()):
            self._drop(parent)

    def clear(self) -> None:
        self._views.clear()
        self._by_source.clear()
        self._held = 0

    def _drop(self, parent: str) -> None:
        remembered = self._views.pop(parent, None)
        if remembered is None:
            return
        sources, view = remembered
        self._held -= len(view)
        for source in sources:
            parents = self._by_source.get(source)
            if parents is not None:
                parents.discard(parent)
                if not parents:
                    del self._by_source[source]
