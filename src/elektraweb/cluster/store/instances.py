"""Instances in the registry: what one is, how its endpoint and key are checked, and the reads
and enrollment decisions that concern one instance alone (`InstanceRecords`, a part of
`registry.Registry`).

Identity rules (design brief §4): an instance is its public key, and one address serves one
instance, so a second registration with the same key or the same normalised endpoint is refused
naming the instance that has it.

An instance that enrolled itself waits in state `pending` until an admin accepts it: it holds
its key and endpoint (so the identity rules apply to it too), but `instances()` leaves it out,
so nothing contacts it, and it cannot join a cluster.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import urlsplit

from elektraweb.cluster.store.connection import Row
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

    def describe(self) -> str:
        """How messages name the instance."""
        return f"instance {self.name!r} (id {self.id})"


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

    def columns(self) -> tuple[str, ...]:
        """The values of the row's name, endpoint, endpoint_key, public_key, description and
        visibility, in this order."""
        identity = parse_endpoint(self.endpoint).identity
        return (
            self.name,
            self.endpoint,
            identity,
            self.public_key,
            self.description,
            self.visibility,
        )


def instance_from_row(row: Row) -> Instance:
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


class InstanceRecords:
    """The registry's reads of instances, its identity check, and an admin's decision on an
    enrolled instance; every method is one transaction."""

    _db: Database
    _instances: RowCache[int, Instance]

    def instances(self, *, with_pending: bool = False) -> list[Instance]:
        """The accepted instances (the ones clusterd talks to); `with_pending` adds the
        enrolled ones still waiting for an admin."""
        rows = self._db.connection.execute(
            "SELECT * FROM instances WHERE state = 'accepted' OR ? ORDER BY id", (with_pending,)
        )
        return [instance_from_row(row) for row in rows]

    def instance(self, instance_id: int, *, cached: bool = True) -> Instance:
        """The instance's row; ``cached=False`` reads the database even where this replica
        may not yet have heard of another's change (a decision that must not undo it)."""
        if not cached:
            return self._read_instance(instance_id)
        return self._instances.get(instance_id, self._read_instance)

    def _read_instance(self, instance_id: int) -> Instance:
        row = self._db.connection.execute(
            "SELECT * FROM instances WHERE id = ?", (instance_id,)
        ).fetchone()
        if row is None:
            message = f"there is no instance with id {instance_id}"
            raise RecordNotFound(message, instance=instance_id)
        return instance_from_row(row)

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
                existing = instance_from_row(row)
                raise RecordConflict(
                    f"{existing.describe()} is already registered with {what}",
                    code="duplicate-instance",
                    instance=existing.id,
                )

    def pending_instance(self, instance_id: int) -> Instance:
        """The instance, which must still wait for an admin (else `RecordConflict`)."""
        instance = self.instance(instance_id)
        if instance.state != "pending":
            raise RecordConflict(
                f"{instance.describe()} is already accepted",
                code="not-pending",
                instance=instance.id,
            )
        return instance

    def accept(self, instance_id: int) -> Instance:
        """Accept an enrolled instance: from now on clusterd talks to it."""
        accepting = "UPDATE instances SET state = 'accepted' WHERE id = ? AND state = 'pending'"
        return replace(self._decide(instance_id, accepting), state="accepted")

    def reject(self, instance_id: int) -> Instance:
        """Remove an enrolled instance that is still pending (else `RecordConflict`)."""
        return self._decide(instance_id, "DELETE FROM instances WHERE id = ? AND state = 'pending'")

    def _decide(self, instance_id: int, decision: str) -> Instance:
        """Run `decision` (a statement on the instance's row, `WHERE state = 'pending'`) on an
        instance that still waits for an admin; returns the instance as it waited."""
        with self._db.transaction() as db:
            instance = self.pending_instance(instance_id)
            # Still pending when written: another clusterd may have decided on it meanwhile.
            if db.execute(decision, (instance_id,)).rowcount == 0:
                self.pending_instance(instance_id)  # raises, now that it sees the other's change
            self._db.changed("instances")
            return instance
