"""The two key stores the operations run against, each over real files: elektrad's KDB (files
below a KDB_ROOT) and a cluster's desired state (a SQLite database, as clusterd keeps it).

Both harnesses answer the same calls, so every rule of the operations is proven once for each
store (tests/operations): ``run`` executes an operation as its daemon does (a write's changes
stored before the next call reads) and returns the result; refusals are the protocol's
``RemoteError``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from elektraweb.cluster.clusters.desired_store import DesiredStore
from elektraweb.cluster.store.cluster_keys import ClusterKeys
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.registry import Registry
from elektraweb.instance.context import Host
from elektraweb.instance.kdb_store import KDBStore
from elektraweb.instance.locks import LockTable
from elektraweb.kdb.database import KDB
from elektraweb.kdb.mounts import Paths
from elektraweb.kdb.search import DEFAULT_SEARCH_LIMITS
from elektraweb.operations.catalog import run_key_operation
from elektraweb.operations.result import OperationResult
from elektraweb.operations.store import KeyStore


class Harness(Protocol):
    def run(self, op: str, /, **args: Any) -> dict[str, Any]: ...

    def stored(self) -> dict[str, tuple[str | None, dict[str, str]]]:
        """Every key the store holds now, read afresh from its files: name → (value, meta)."""
        ...


def _answer(outcome: OperationResult) -> dict[str, Any]:
    return outcome.result if outcome.deferred is None else outcome.deferred()


class ElektradHarness:
    """The host's KDB under ``base``, through elektrad's ``KDBStore``."""

    def __init__(self, base: Path) -> None:
        (base / "state").mkdir()
        self._paths = Paths.from_environ(
            {"KDB_ROOT": str(base / "kdb"), "HOME": str(base / "home")}, cwd=base
        )
        host = Host(KDB(self._paths), LockTable(base / "state"), "test-key", "host")
        self._store: KeyStore = KDBStore(host)

    def run(self, op: str, /, **args: Any) -> dict[str, Any]:
        return _answer(run_key_operation(self._store, op, args))

    def stored(self) -> dict[str, tuple[str | None, dict[str, str]]]:
        return {
            key.name: (key.text if key.value is not None else None, dict(key.meta))
            for key in KDB(self._paths).get("/")
            if key.namespace in ("user", "system") and not key.name.startswith("system:/elektra")
        }


class ClusterHarness:
    """A cluster's desired state in clusterd's database, through ``DesiredStore``; a write's
    changes are committed to the database as the cluster service commits them."""

    def __init__(self, base: Path) -> None:
        self._path = base / "clusterd.db"
        self.database = Database.open(self._path)
        self._cluster = Registry(self.database).add_cluster("ops").id
        self._keys = ClusterKeys(self.database)

    def run(self, op: str, /, **args: Any) -> dict[str, Any]:
        store = DesiredStore(self._keys.state(self._cluster), DEFAULT_SEARCH_LIMITS)
        outcome = run_key_operation(store, op, args)
        for change in outcome.changes:
            if change.new is None:
                self._keys.remove(self._cluster, [change.key])
            else:
                self._keys.put(self._cluster, change.new)
        return _answer(outcome)

    def stored(self) -> dict[str, tuple[str | None, dict[str, str]]]:
        database = Database.open(self._path)
        try:
            state = ClusterKeys(database).state(self._cluster)
        finally:
            database.close()
        return {
            name: (key.text if key.value is not None else None, dict(key.meta))
            for name, key in state.items()
        }
