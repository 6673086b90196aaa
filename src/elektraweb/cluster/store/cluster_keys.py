"""A cluster's desired state: the keys (value and metadata) it sets on every member.

Only storage lives here; applying the state to members is the cluster service's job. A key's
value is stored as the protocol carries it (a binary key's bytes as base64).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from elektraweb.cluster.store.clusters import touch_cluster
from elektraweb.cluster.store.database import Database
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.operations.representation import key_from_wire, wire_value
from elektraweb.wire.errors import RemoteError
from elektraweb.wire.revision import revision

Row = tuple[str | None, dict[str, str]]
"""A desired key as stored: its value as the protocol carries it, and its metadata."""


class DesiredState(Mapping[str, Key]):
    """A cluster's desired state: its keys by name, as a KeySet for the operations
    (``clusters.desired_store``), each key's protocol revision computed once however many
    members it is compared with. Nobody changes it: a write makes a new one.

    Keys are built from their rows when first asked for: a sync compares every revision but
    sends only the keys a member lacks."""

    def __init__(self, rows: Mapping[str, Row]) -> None:
        self._rows = rows
        self._keys: dict[str, Key] = {}
        self._keyset: KeySet | None = None
        self._revisions: dict[str, str] = {}

    def __getitem__(self, name: str) -> Key:
        key = self._keys.get(name)
        if key is None:
            value, meta = self._rows[name]
            key = self._keys[name] = key_of_row(name, value, meta)
        return key

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, name: object) -> bool:
        return name in self._rows

    @property
    def keyset(self) -> KeySet:
        """The keys in KeySet order (built on first use: most syncs need none)."""
        if self._keyset is None:
            self._keyset = KeySet(self[name] for name in self._rows)
        return self._keyset

    def replaced(self, rows: Mapping[str, Row | None]) -> DesiredState:
        """This state with `rows` put in (None: that key is not desired)."""
        merged = {name: row for name, row in self._rows.items() if name not in rows}
        merged.update((name, row) for name, row in rows.items() if row is not None)
        return DesiredState(dict(sorted(merged.items())))

    def revision(self, name: str) -> str:
        """The revision of the desired content of key `name` (which must be desired)."""
        found = self._revisions.get(name)
        if found is None:
            found = self._revisions[name] = revision(*self._rows[name])
        return found


def key_of_row(name: str, value: str | None, meta: dict[str, str]) -> Key:
    """The key a row holds; a binary key's base64 value becomes its bytes."""
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
        return DesiredState({row["name"]: (row["value"], json.loads(row["meta"])) for row in rows})

    @contextmanager
    def writing(self, cluster_id: int) -> Iterator[DesiredState]:
        """A transaction for a write of the cluster's desired state, with the state as it is
        now: the write's checks against it (compare-and-set, the operation's rules) and its
        `put`s and `remove`s are one step for every clusterd on the database
        (`Database.serialize`, one rule per cluster), so two replicas' writes expecting one
        revision never both succeed."""
        with self._db.transaction():
            self._db.serialize(f"desired state of cluster {cluster_id}")
            yield self.state(cluster_id)

    def key(self, cluster_id: int, name: str) -> Key | None:
        row = self._db.connection.execute(
            "SELECT name, value, meta FROM cluster_keys WHERE cluster_id = ? AND name = ?",
            (cluster_id, name),
        ).fetchone()
        if row is None:
            return None
        return key_of_row(row["name"], row["value"], json.loads(row["meta"]))

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
            touch_cluster(db, cluster_id)

    def remove(self, cluster_id: int, names: list[str]) -> None:
        if not names:  # nothing changes, so the cluster's version must not move either
            return
        with self._db.transaction() as db:
            db.executemany(
                "DELETE FROM cluster_keys WHERE cluster_id = ? AND name = ?",
                [(cluster_id, name) for name in names],
            )
            touch_cluster(db, cluster_id)
