"""The registry: which instances clusterd knows and which clusters group them.

Identity rules (design brief §4): an instance is its public key, and one address serves one
instance, so a second registration with the same key or the same normalised endpoint is refused
naming the instance that has it; an instance belongs to at most one cluster.

An instance that enrolled itself waits in state `pending` until an admin accepts it: it holds
its key and endpoint (so the identity rules apply to it too), but `instances()` leaves it out,
so nothing contacts it, and it cannot join a cluster.

Across clusterd replicas on one database (docs/architecture.md, The rule on check-then-write):
every transaction that changes which cluster an instance is in, or deletes an instance or a
cluster, first takes `MEMBERSHIP` (`Database.serialize`), so that what it read of the members
is what it writes over, the version of the cluster it changes moves on, and a removal reports
every member it released; the identity rules and cluster names are unique constraints, whose
violation by a registration made meanwhile on another replica is refused like the check's.

An instance and a cluster are read through a cache (`row_cache`), which every transaction that
changes them empties on each clusterd (`Database.changed`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlsplit

from elektraweb.cluster.store.connection import Connection, Row, checked_again, new_id
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import InvalidField, RecordConflict, RecordNotFound
from elektraweb.cluster.store.row_cache import RowCache

DEFAULT_INSTANCE_PORT = 33333
VISIBILITIES = ("critical", "important", "user", "advanced", "developer", "internal")
_Z85_ALPHABET = frozenset(
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
)
_Z85_KEY_LENGTH = 40

InstanceState = Literal["pending", "accepted"]
MEMBERSHIP = "membership"
"""The rule `Database.serialize` takes before a change of members: a cluster counts exactly the
instances that are in it, and its version moves on with each change of them."""


@dataclass(frozen=True)
class Endpoint:
    """An instance's request address: `address` to connect to, `identity` to compare."""

    address: str
    identity: str


def parse_endpoint(text: str) -> Endpoint:
    """Parse ``tcp://host:port`` (scheme and port optional, default port 33333).

    The identity lowercases the host, writes IP addresses canonically and treats `localhost`
    as 127.0.0.1, so two spellings of one address are recognised as the same instance.
    """
    raw = text.strip()
    parts = urlsplit(raw if "://" in raw else f"tcp://{raw}")
    if parts.scheme.lower() != "tcp":
        raise InvalidField(f"endpoint {text!r} must use tcp://", field="endpoint")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise InvalidField(
            f"endpoint {text!r} must be tcp://HOST:PORT and nothing else", field="endpoint"
        )
    host = parts.hostname
    if not host or host == "*":
        raise InvalidField(f"endpoint {text!r} names no host to connect to", field="endpoint")
    try:
        port = parts.port or DEFAULT_INSTANCE_PORT
    except ValueError:
        raise InvalidField(f"endpoint {text!r} has an invalid port", field="endpoint") from None
    identity_host = "127.0.0.1" if host == "localhost" else host
    try:
        ip = ipaddress.ip_address(identity_host)
    except ValueError:
        pass
    else:
        identity_host = f"[{ip.compressed}]" if ip.version == 6 else ip.compressed
    address_host = f"[{host}]" if ":" in host else host
    return Endpoint(f"tcp://{address_host}:{port}", f"tcp://{identity_host}:{port}")


def check_public_key(key: str) -> str:
    """Return `key` if it is a z85-encoded CURVE public key (40 characters), else refuse it."""
    if len(key) != _Z85_KEY_LENGTH or not set(key) <= _Z85_ALPHABET:
        raise InvalidField(
            f"public key {key!r} is not a 40-character z85 CURVE key", field="public_key"
        )
    return key


@dataclass(frozen=True)
class Instance:
    id: int
    name: str
    endpoint: str
    public_key: str
    description: str = ""
    visibility: str = "user"
    cluster_id: int | None = None
    state: InstanceState = "accepted"

    def to_json(self) -> dict[str, str | int | None]:
        return {
            "id": self.id,
            "name": self.name,
            "endpoint": self.endpoint,
            "public_key": self.public_key,
            "description": self.description,
            "visibility": self.visibility,
            "cluster": self.cluster_id,
            "state": self.state,
        }


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


@dataclass(frozen=True)
class InstanceFields:
    """What a client may set on an instance; validated by `validated()`."""

    name: str
    endpoint: str
    public_key: str
    description: str = ""
    visibility: str = "user"

    def validated(self) -> InstanceFields:
        if not self.name.strip():
            raise InvalidField("instance name must not be empty", field="name")
        if self.visibility not in VISIBILITIES:
            raise InvalidField(
                f"visibility {self.visibility!r} is not one of {', '.join(VISIBILITIES)}",
                field="visibility",
            )
        check_public_key(self.public_key)
        return replace(self, name=self.name.strip(), endpoint=parse_endpoint(self.endpoint).address)


def _instance(row: Row) -> Instance:
    return Instance(
        id=row["id"],
        name=row["name"],
        endpoint=row["endpoint"],
        public_key=row["public_key"],
        description=row["description"],
        visibility=row["visibility"],
        cluster_id=row["cluster_id"],
        state="pending" if row["state"] == "pending" else "accepted",
    )


def touch_cluster(db: Connection, cluster_id: int) -> None:
    """Move the cluster's version on, in the transaction that changes its desired state or
    its members: every clusterd on the database sees then that what it read is out of date."""
    db.execute("UPDATE clusters SET version = version + 1 WHERE id = ?", (cluster_id,))


def _describe(instance: Instance) -> str:
    return f"instance {instance.name!r} (id {instance.id})"


class Registry:
    """Instances and clusters in the database; every method is one transaction."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._instances: RowCache[int, Instance] = RowCache(database)
        self._clusters: RowCache[int, Cluster] = RowCache(database)

    # -- instances --------------------------------------------------------------------------

    def instances(self, *, with_pending: bool = False) -> list[Instance]:
        """The accepted instances (the ones clusterd talks to); `with_pending` adds the
        enrolled ones still waiting for an admin."""
        rows = self._db.connection.execute(
            "SELECT * FROM instances WHERE state = 'accepted' OR ? ORDER BY id", (with_pending,)
        )
        return [_instance(row) for row in rows]

    def instance(self, instance_id: int) -> Instance:
        return self._instances.get(instance_id, self._read_instance)

    def member(self, cluster_id: int, instance_id: int) -> Instance | None:
        """The instance if it is a member of the cluster now, read from the database rather
        than the cache: whether a member is written hangs on it, and another clusterd's
        leave reaches the cache only with its notice."""
        row = self._db.connection.execute(
            "SELECT * FROM instances WHERE id = ? AND cluster_id = ?", (instance_id, cluster_id)
        ).fetchone()
        return None if row is None else _instance(row)

    def _read_instance(self, instance_id: int) -> Instance:
        row = self._db.connection.execute(
            "SELECT * FROM instances WHERE id = ?", (instance_id,)
        ).fetchone()
        if row is None:
            message = f"there is no instance with id {instance_id}"
            raise RecordNotFound(message, instance=instance_id)
        return _instance(row)

    def check_unique(self, fields: InstanceFields, *, except_id: int | None = None) -> None:
        """Refuse a key or endpoint that is taken, naming the instance that has it."""
        identity = parse_endpoint(fields.endpoint).identity
        for column, value, what in (
            ("public_key", fields.public_key, f"public key {fields.public_key}"),
            ("endpoint_key", identity, f"endpoint {identity}"),
        ):
            row = self._db.connection.execute(
                f"SELECT * FROM instances WHERE {column} = ? AND id IS DISTINCT FROM ?",
                (value, except_id),
            ).fetchone()
            if row is not None:
                existing = _instance(row)
                raise RecordConflict(
                    f"{_describe(existing)} is already registered with {what}",
                    code="duplicate-instance",
                    instance=existing.id,
                )

    def add_instance(
        self,
        fields: InstanceFields,
        *,
        state: InstanceState = "accepted",
        cluster_id: int | None = None,
    ) -> Instance:
        """Register the instance, `pending` for an admin to accept, or accepted (then
        straight into `cluster_id`, if given)."""
        fields = fields.validated()
        if state == "pending" and cluster_id is not None:
            raise ValueError("a pending instance joins no cluster")
        with checked_again(lambda: self.check_unique(fields)), self._db.transaction() as db:
            if cluster_id is not None:
                self._db.serialize(MEMBERSHIP)
                self.cluster(cluster_id)
            self.check_unique(fields)
            cursor = db.execute(
                "INSERT INTO instances (name, endpoint, endpoint_key, public_key, description,"
                " visibility, state, cluster_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    fields.name,
                    fields.endpoint,
                    parse_endpoint(fields.endpoint).identity,
                    fields.public_key,
                    fields.description,
                    fields.visibility,
                    state,
                    cluster_id,
                ),
            )
            if cluster_id is not None:
                touch_cluster(db, cluster_id)
            self._db.changed("instances")
            return self.instance(new_id(cursor))

    def update_instance(self, instance_id: int, fields: InstanceFields) -> Instance:
        fields = fields.validated()
        unique = checked_again(lambda: self.check_unique(fields, except_id=instance_id))
        with unique, self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)  # the cluster it is in when it changes moves on
            current = self.instance(instance_id)
            self.check_unique(fields, except_id=instance_id)
            if current.cluster_id is not None:
                touch_cluster(db, current.cluster_id)
            db.execute(
                "UPDATE instances SET name = ?, endpoint = ?, endpoint_key = ?, public_key = ?,"
                " description = ?, visibility = ? WHERE id = ?",
                (
                    fields.name,
                    fields.endpoint,
                    parse_endpoint(fields.endpoint).identity,
                    fields.public_key,
                    fields.description,
                    fields.visibility,
                    instance_id,
                ),
            )
            self._db.changed("instances")
            return self.instance(instance_id)

    def pending_instance(self, instance_id: int) -> Instance:
        """The instance, which must still wait for an admin (else `RecordConflict`)."""
        instance = self.instance(instance_id)
        if instance.state != "pending":
            raise RecordConflict(
                f"{_describe(instance)} is already accepted",
                code="not-pending",
                instance=instance.id,
            )
        return instance

    def accept(self, instance_id: int) -> Instance:
        """Accept an enrolled instance: from now on clusterd talks to it."""
        with self._db.transaction() as db:
            instance = self.pending_instance(instance_id)
            # Still pending when written: another clusterd may have accepted it meanwhile.
            accepted = db.execute(
                "UPDATE instances SET state = 'accepted' WHERE id = ? AND state = 'pending'",
                (instance_id,),
            )
            if accepted.rowcount == 0:
                self.pending_instance(instance_id)  # raises, now that it sees the other's change
            self._db.changed("instances")
            return replace(instance, state="accepted")

    def reject(self, instance_id: int) -> Instance:
        """Remove an enrolled instance that is still pending (else `RecordConflict`)."""
        with self._db.transaction() as db:
            instance = self.pending_instance(instance_id)
            # Still pending when deleted: another clusterd may have accepted it meanwhile.
            rejected = db.execute(
                "DELETE FROM instances WHERE id = ? AND state = 'pending'", (instance_id,)
            )
            if rejected.rowcount == 0:
                self.pending_instance(instance_id)  # raises, now that it sees the other's change
            self._db.changed("instances")
            return instance

    def remove_instance(self, instance_id: int) -> tuple[Instance, Cluster | None]:
        """Delete the instance, with what clusterd recorded of it as a member (cascaded); the
        cluster it is in moves on. Returns the instance as it was and that cluster (None: in
        none) as of the removal, whose keys its daemon still holds locked: the cluster read
        before may not be it, when another request moved the instance meanwhile."""
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)
            instance = self.instance(instance_id)
            cluster = None
            if instance.cluster_id is not None:
                cluster = self.cluster(instance.cluster_id)
                touch_cluster(db, instance.cluster_id)
            db.execute("DELETE FROM instances WHERE id = ?", (instance_id,))
            self._db.changed("instances")
            return instance, cluster

    # -- clusters ---------------------------------------------------------------------------

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
        return [_instance(row) for row in rows]

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

    def remove_cluster(self, cluster_id: int) -> tuple[Cluster, list[Instance]]:
        """Delete the cluster and its desired state; its members are released, not deleted."""
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)
            cluster = self.cluster(cluster_id)
            released = self.members(cluster_id)
            db.execute("UPDATE instances SET cluster_id = NULL WHERE cluster_id = ?", (cluster_id,))
            db.execute("DELETE FROM clusters WHERE id = ?", (cluster_id,))
            self._db.changed("clusters")
            return cluster, [replace(member, cluster_id=None) for member in released]

    def join(self, cluster_id: int, instance_id: int) -> Instance:
        """Make the instance a member; refused (`RecordConflict`) if it is in any cluster."""
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)
            self.cluster(cluster_id)
            instance = self._joinable(instance_id)
            db.execute(
                "UPDATE instances SET cluster_id = ? WHERE id = ?", (cluster_id, instance_id)
            )
            touch_cluster(db, cluster_id)
            self._db.changed("instances")
            return replace(instance, cluster_id=cluster_id)

    def _joinable(self, instance_id: int) -> Instance:
        """The instance, if it may join a cluster: accepted, and in none."""
        instance = self.instance(instance_id)
        if instance.state == "pending":
            raise RecordConflict(
                f"{_describe(instance)} is pending: accept it before it joins a cluster",
                code="instance-pending",
                instance=instance.id,
            )
        if instance.cluster_id is not None:
            current = self.cluster(instance.cluster_id)
            raise RecordConflict(
                f"{_describe(instance)} is already a member of cluster {current.name!r}"
                f" (id {current.id}); an instance belongs to at most one cluster",
                code="already-member",
                instance=instance.id,
                cluster=current.id,
            )
        return instance

    def leave(self, cluster_id: int, instance_id: int) -> Instance:
        """Take the instance out of the cluster, with what clusterd recorded of it as a
        member; `RecordNotFound` if it is not a member."""
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP)
            cluster = self.cluster(cluster_id)
            instance = self.instance(instance_id)
            if instance.cluster_id != cluster_id:
                raise RecordNotFound(
                    f"{_describe(instance)} is not a member of cluster {cluster.name!r}"
                    f" (id {cluster.id})",
                    instance=instance.id,
                    cluster=cluster.id,
                )
            db.execute("UPDATE instances SET cluster_id = NULL WHERE id = ?", (instance_id,))
            # What clusterd recorded of it as a member goes with it, as a removal's cascade
            # takes it: rows left behind would tell a later join that it has the keys.
            db.execute(
                "DELETE FROM cluster_applied WHERE cluster_id = ? AND instance_id = ?",
                (cluster_id, instance_id),
            )
            touch_cluster(db, cluster_id)
            self._db.changed("instances")
            return replace(instance, cluster_id=None)
