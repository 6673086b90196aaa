"""Keys owned by clusters: writes to them are refused unless the owning cluster makes them.

clusterd tells elektrad which keys each cluster owns; the table lives in ``locks.json`` in the
state dir, so a restarted daemon keeps refusing writes to them before clusterd reconnects.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from elektraweb.kdb import files, names

FILE_NAME = "locks.json"


class LockedError(Exception):
    """A write touching ``key``, which ``cluster`` owns."""

    def __init__(self, key: str, cluster: str) -> None:
        super().__init__(f"key {key} is locked by cluster {cluster}")
        self.key = key
        self.cluster = cluster


class LockTable:
    """Cluster id → the key names it owns, kept on disk. Lock names are exact key names:
    locking ``user:/app`` does not lock ``user:/app/port``."""

    def __init__(self, state_dir: Path) -> None:
        self._path = state_dir / FILE_NAME
        self._owner: dict[str, str] = {}
        if self._path.exists():
            self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self._path.read_text())
            clusters = data["clusters"]
            for cluster, keys in clusters.items():
                for key in keys:
                    self._owner[names.canonical(key)] = str(cluster)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"lock table {self._path} is damaged: {exc}") from exc

    def by_cluster(self) -> dict[str, list[str]]:
        """Each cluster's keys, in key order."""
        result: dict[str, list[str]] = {}
        for key in sorted(self._owner, key=names.sort_key):
            result.setdefault(self._owner[key], []).append(key)
        return result

    def lock(self, cluster: str, keys: Iterable[str]) -> None:
        """Record ``keys`` as owned by ``cluster`` (in addition to those it owns).

        A key another cluster owns stays with that cluster: raises LockedError naming it.
        """
        wanted = [names.canonical(k) for k in keys]
        for key in wanted:
            owner = self._owner.get(key)
            if owner is not None and owner != cluster:
                raise LockedError(key, owner)
        if any(self._owner.get(key) != cluster for key in wanted):
            self._commit({**self._owner, **dict.fromkeys(wanted, cluster)})

    def unlock(self, cluster: str, keys: Iterable[str] | None = None) -> list[str]:
        """Release ``keys`` (all of the cluster's when None); returns the names released."""
        if keys is None:
            released = [k for k, c in self._owner.items() if c == cluster]
        else:
            released = [
                k for k in (names.canonical(k) for k in keys) if self._owner.get(k) == cluster
            ]
        if released:
            updated = dict(self._owner)
            for key in released:
                del updated[key]
            self._commit(updated)
        return released

    def owner(self, name: str) -> str | None:
        """The cluster owning the key ``name`` (canonical), if any."""
        return self._owner.get(name)

    def check(
        self,
        keys: Iterable[str] = (),
        *,
        subtrees: Iterable[str] = (),
        cluster: str | None = None,
    ) -> None:
        """Raise LockedError if a key in ``keys``, or at or below one of ``subtrees``, is owned
        by a cluster other than ``cluster`` (the cluster a cluster operation acts for)."""
        for key in keys:
            owner = self.owner(key)
            if owner is not None and owner != cluster:
                raise LockedError(key, owner)
        for root in subtrees:
            for locked, owner in self._owner.items():
                if owner != cluster and names.is_below_or_same(locked, root):
                    raise LockedError(locked, owner)

    def _commit(self, owner: Mapping[str, str]) -> None:
        clusters: dict[str, list[str]] = {}
        for key in sorted(owner, key=names.sort_key):
            clusters.setdefault(owner[key], []).append(key)
        text = json.dumps({"clusters": clusters}, indent=1) + "\n"
        # Only the KDB worker changes locks, so no file lock is needed around the write.
        files.write_atomically(self._path, text.encode())
        self._owner = dict(owner)
