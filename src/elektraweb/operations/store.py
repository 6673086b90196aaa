"""What the operations need of a key database: the :class:`KeyStore` interface, and the
:class:`KeyChange` a write reports for each key it changed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.search import SearchLimits


@dataclass(frozen=True, slots=True)
class KeyChange:
    """One key as a write left it: ``old`` None for a created key, ``new`` None for a removed."""

    key: str
    old: Key | None
    new: Key | None


class KeyStore(Protocol):
    """Keys the operations read and write: elektrad's KDB (``instance.kdb_store``) or a
    cluster's desired state (``cluster.clusters.desired_store``)."""

    @property
    def search(self) -> SearchLimits:
        """The bounds of a ``find`` here."""
        ...

    def view(self, parent: str) -> KeySet:
        """At least every key at and below ``parent`` (in every namespace for a cascading
        name), shared: neither the set nor its keys may be changed."""
        ...

    def admit(self, touched: Iterable[str], subtrees: Iterable[str], cluster: str | None) -> None:
        """Raise ``RemoteError`` if whoever owns these keys forbids the write: ``touched``
        names, and the whole ``subtrees``, changed by ``cluster`` (None: not a cluster)."""
        ...

    def store(self, parent: str, keys: KeySet) -> KeySet:
        """Make the keys at and below ``parent`` exactly ``keys``, all or nothing (or raise
        ``KDBError`` and change nothing); return them as now stored, as ``view`` would."""
        ...
