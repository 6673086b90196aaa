"""Clusters in the registry: what one is, its version, and the reads and writes of its own row
(`ClusterRecords`, a part of `registry.Registry`); a cluster's name is unique. Changes of its
members are `membership`'s."""

from __future__ import annotations

from dataclasses import dataclass, field

from elektraweb.cluster.store.connection import Connection, checked_again, new_id
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import InvalidField, RecordConflict, RecordNotFound
from elektraweb.cluster.store.instances import Instance, instance_from_row
from elektraweb.cluster.store.row_cache import RowCache


@dataclass(frozen=True)
class Cluster:
    id: int
    name: str
    description: str = ""
    members: tuple[int, ...] = field(default=())

    def to_json(self) -> dict[str, str | int | list[int]]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "members": list(self.members),
        }


def touch_cluster(db: Connection, cluster_id: int) -> None:
    """Move the cluster's version on, in the transaction that changes its desired state or
    its members: every clusterd on the database sees then that what it read is out of date."""
    db.execute("UPDATE clusters SET version = version + 1 WHERE id = ?", (cluster_id,))


class ClusterRecords:
    """The registry's reads of clusters and the changes of a cluster's own row; every method
    is one transaction."""

    _db: Database
    _clusters: RowCache[int, Cluster]

    def clusters(self) -> list[Cluster]:
        members: dict[int, list[int]] = {}
        for row in self._db.connection.execute(
            "SELECT id, cluster_id FROM instances WHERE cluster_id IS NOT NULL ORDER BY id"
        ):
            members.setdefault(row["cluster_id"], []).append(row["id"])
        rows = self._db.connection.execute("SELECT * FROM clusters ORDER BY id")
        return [
            Cluster(row["id"], row["name"], row["description"], tuple(members.get(row["id"], ())))
            for row in rows
        ]

    def cluster(self, cluster_id: int) -> Cluster:
        return self._clusters.get(cluster_id, self._read_cluster)

    def _read_cluster(self, cluster_id: int) -> Cluster:
        row = self._db.connection.execute(
            "SELECT * FROM clusters WHERE id = ?", (cluster_id,)
        ).fetchone()
        if row is None:
            raise RecordNotFound(f"there is no cluster with id {cluster_id}", cluster=cluster_id)
        return Cluster(row["id"], row["name"], row["description"], self.member_ids(cluster_id))

    def member_ids(self, cluster_id: int) -> tuple[int, ...]:
        """The ids of the cluster's members, in order, without reading their rows: a cluster's
        JSON and its sync state need no more (at 1,000 members, building every `Instance`
        made each join cost as much as listing the registry)."""
        rows = self._db.connection.execute(
            "SELECT id FROM instances WHERE cluster_id = ? ORDER BY id", (cluster_id,)
        )
        return tuple(row["id"] for row in rows)

    def cluster_version(self, cluster_id: int) -> int | None:
        """The cluster's version (`touch_cluster`); None once it is deleted."""
        row = self._db.connection.execute(
            "SELECT version FROM clusters WHERE id = ?", (cluster_id,)
        ).fetchone()
        return None if row is None else int(row["version"])

    def members(self, cluster_id: int) -> list[Instance]:
        """Read from the database, never from the cache: a fan-out pairs them with the
        cluster's version it read just before, and a cached list may be older than that."""
        rows = self._db.connection.execute(
            "SELECT * FROM instances WHERE cluster_id = ? ORDER BY id", (cluster_id,)
        )
        return [instance_from_row(row) for row in rows]

    def _check_cluster_name(self, name: str, except_id: int | None = None) -> str:
        name = name.strip()
        if not name:
            raise InvalidField("cluster name must not be empty", field="name")
        row = self._db.connection.execute(
            "SELECT id FROM clusters WHERE name = ? AND id IS DISTINCT FROM ?", (name, except_id)
        ).fetchone()
        if row is not None:
            raise RecordConflict(
                f"cluster {name!r} (id {row['id']}) already exists",
                code="duplicate-cluster",
                cluster=row["id"],
            )
        return name

    def add_cluster(self, name: str, description: str = "") -> Cluster:
        with checked_again(lambda: self._check_cluster_name(name)), self._db.transaction() as db:
            name = self._check_cluster_name(name)
            cursor = db.execute(
                "INSERT INTO clusters (name, description) VALUES (?, ?) RETURNING id",
                (name, description),
            )
            self._db.changed("clusters")
            return self.cluster(new_id(cursor))

    def update_cluster(self, cluster_id: int, name: str, description: str) -> Cluster:
        unique = checked_again(lambda: self._check_cluster_name(name, except_id=cluster_id))
        with unique, self._db.transaction() as db:
            self.cluster(cluster_id)
            name = self._check_cluster_name(name, except_id=cluster_id)
            db.execute(
                "UPDATE clusters SET name = ?, description = ? WHERE id = ?",
                (name, description, cluster_id),
            )
            self._db.changed("clusters")
            return self.cluster(cluster_id)
