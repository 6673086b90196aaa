"""A cluster's desired state: the keys (value and metadata) it sets on every member.

Only storage lives here; applying the state to members is the cluster service's job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from elektraweb.cluster.store.database import Database


@dataclass(frozen=True)
class DesiredKey:
    name: str
    value: str | None
    meta: Mapping[str, str] = field(default_factory=dict)


class ClusterKeys:
    """Read and change the desired keys of clusters; names are canonical key names."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def keys(self, cluster_id: int) -> list[DesiredKey]:
        rows = self._db.connection.execute(
            "SELECT name, value, meta FROM cluster_keys WHERE cluster_id = ? ORDER BY name",
            (cluster_id,),
        )
        return [DesiredKey(row["name"], row["value"], json.loads(row["meta"])) for row in rows]

    def key(self, cluster_id: int, name: str) -> DesiredKey | None:
        row = self._db.connection.execute(
            "SELECT name, value, meta FROM cluster_keys WHERE cluster_id = ? AND name = ?",
            (cluster_id, name),
        ).fetchone()
        return (
            None if row is None else DesiredKey(row["name"], row["value"], json.loads(row["meta"]))
        )

    def put(self, cluster_id: int, key: DesiredKey) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO cluster_keys (cluster_id, name, value, meta) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (cluster_id, name) DO UPDATE SET value = excluded.value,"
                " meta = excluded.meta",
                (cluster_id, key.name, key.value, json.dumps(dict(key.meta), sort_keys=True)),
            )

    def remove(self, cluster_id: int, names: list[str]) -> None:
        with self._db.transaction() as db:
            db.executemany(
                "DELETE FROM cluster_keys WHERE cluster_id = ? AND name = ?",
                [(cluster_id, name) for name in names],
            )
