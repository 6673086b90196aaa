"""A cluster's desired state: the keys (value and metadata) it sets on every member.

Only storage lives here; applying the state to members is the cluster service's job. A key's
value is stored as the protocol carries it (a binary key's bytes as base64).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping

from elektraweb.cluster.store.database import Database
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.operations.representation import key_from_wire, wire_value
from elektraweb.wire.messages import RemoteError
from elektraweb.wire.revision import revision


class DesiredState(Mapping[str, Key]):
    """A cluster's desired state: its keys by name, as a KeySet for the operations
    (``clusters.desired_store``), each key's protocol revision computed once however many
    members it is compared with. Nobody changes it: a write makes a new one."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self._keys = {key.name: key for key in keys}
        self._keyset: KeySet | None = None
        self._revisions: dict[str, str] = {}

    def __getitem__(self, name: str) -> Key:
        return self._keys[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def keyset(self) -> KeySet:
        """The keys in KeySet order (built on first use: most syncs need none)."""
        if self._keyset is None:
            self._keyset = KeySet(self._keys.values())
        return self._keyset

    def revision(self, name: str) -> str:
        """The revision of the desired content of key `name` (which must be desired)."""
        found = self._revisions.get(name)
        if found is None:
            key = self._keys[name]
            found = self._revisions[name] = revision(wire_value(key), key.meta)
        return found


def _key_of(row: sqlite3.Row) -> Key:
    """The key a row holds; a binary key's base64 value becomes its bytes."""
    name, value, meta = row["name"], row["value"], json.loads(row["meta"])
    try:
        return key_from_wire(name, value, meta)
    except RemoteError:  # no base64 (stored before clusterd checked it): members refuse it
        return Key(name, value, meta)


class ClusterKeys:
    """Read and change the desired keys of clusters; names are canonical key names."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def state(self, cluster_id: int) -> DesiredState:
        rows = self._db.connection.execute(
            "SELECT name, value, meta FROM cluster_keys WHERE cluster_id = ? ORDER BY name",
            (cluster_id,),
        )
        return DesiredState(_key_of(row) for row in rows)

    def key(self, cluster_id: int, name: str) -> Key | None:
        row = self._db.connection.execute(
            "SELECT name, value, meta FROM cluster_keys WHERE cluster_id = ? AND name = ?",
            (cluster_id, name),
        ).fetchone()
        return None if row is None else _key_of(row)

    def put(self, cluster_id: int, key: Key) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO cluster_keys (cluster_id, name, value, meta) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (cluster_id, name) DO UPDATE SET value = excluded.value,"
                " meta = excluded.meta",
                (
                    cluster_id,
                    key.name,
                    wire_value(key),
                    json.dumps(dict(key.meta), sort_keys=True),
                ),
            )

    def remove(self, cluster_id: int, names: list[str]) -> None:
        with self._db.transaction() as db:
            db.executemany(
                "DELETE FROM cluster_keys WHERE cluster_id = ? AND name = ?",
                [(cluster_id, name) for name in names],
            )
