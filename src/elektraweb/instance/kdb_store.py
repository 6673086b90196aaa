"""elektrad's key store: the operations (``elektraweb.operations``) run against the host's KDB,
on the KDB worker thread, with the cluster locks as the owner's rule."""

from __future__ import annotations

from collections.abc import Iterable

from elektraweb.instance.context import Host
from elektraweb.instance.locks import LockedError
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.search import SearchLimits
from elektraweb.wire.errors import ErrorCode, RemoteError


def locked_error(error: LockedError) -> RemoteError:
    return RemoteError(
        ErrorCode.LOCKED,
        f"key {error.key} is owned by cluster {error.cluster}: only that cluster may change it",
        key=error.key,
    )


class KDBStore:
    """The host's KDB as a ``KeyStore``."""

    def __init__(self, host: Host) -> None:
        self._host = host

    @property
    def search(self) -> SearchLimits:
        return self._host.search

    def view(self, parent: str) -> KeySet:
        return self._host.kdb.view(parent)

    def admit(self, touched: Iterable[str], subtrees: Iterable[str], cluster: str | None) -> None:
        """Refuse with ``locked`` a write to keys another cluster (or any cluster, for a write
        that is no cluster's) owns."""
        try:
            self._host.locks.check(touched, subtrees=subtrees, cluster=cluster)
        except LockedError as error:
            raise locked_error(error) from None

    def store(self, parent: str, keys: KeySet) -> KeySet:
        """On a preview host the KDB makes every check of the write and stores nothing:
        the keys are returned as they would be stored."""
        self._host.kdb.set(keys, parent, dry_run=self._host.preview)
        return keys if self._host.preview else self._host.kdb.view(parent, after_set=True)
