"""Enrollment tokens: one-time secrets with which a host registers itself (docs/deploy.md §4).

A token is a 256-bit random secret, stored only as its SHA-256 (as API tokens are), with an
expiry, and spent by the one enrollment it admits: `enroll` marks it used and registers the
instance in one transaction, so two hosts presenting the same token cannot both get in, and a
refused registration (a duplicate key or endpoint) leaves the token unspent.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from elektraweb.cluster.store.connection import Row, checked_again, new_id
from elektraweb.cluster.store.credentials import secret_digest
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import InvalidField, RecordNotFound, TokenRefused
from elektraweb.cluster.store.instances import Instance, InstanceFields
from elektraweb.cluster.store.registry import Registry

ENROLLMENT_PREFIX = "ewe_"
"""Enrollment tokens start with this, so they are recognisable in a leaked file."""


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class EnrollmentToken:
    id: int
    created_by: str
    created: str
    expires: float
    cluster_id: int | None
    used: str | None
    instance_id: int | None

    def to_json(self) -> dict[str, str | int | None]:
        return {
            "id": self.id,
            "created_by": self.created_by,
            "created": self.created,
            "expires": _iso(self.expires),
            "cluster": self.cluster_id,
            "used": self.used,
            "instance": self.instance_id,
        }


def _token(row: Row) -> EnrollmentToken:
    return EnrollmentToken(
        row["id"],
        row["created_by"],
        row["created"],
        row["expires"],
        row["cluster_id"],
        row["used"],
        row["instance_id"],
    )


class EnrollmentTokens:
    """The enrollment tokens in `database`; enrolling registers through `registry`."""

    def __init__(self, database: Database, registry: Registry) -> None:
        self._db = database
        self._registry = registry

    def _cluster_now(self, cluster_id: int | None) -> None:
        """Refuse a cluster that no longer exists, read in a transaction: from the database,
        not the registry's cache, whose notice of another clusterd's removal may not have
        been handled yet."""
        if cluster_id is not None:
            with self._db.transaction():
                self._registry.cluster(cluster_id)

    def create(
        self, created_by: str, seconds: int, cluster_id: int | None = None
    ) -> tuple[EnrollmentToken, str]:
        """A new token valid for `seconds`, and its secret (shown once, never kept). With
        `cluster_id`, the host it enrolls is accepted at once, into that cluster."""
        if seconds <= 0:
            raise InvalidField(f"expires_in {seconds} must be positive", field="expires_in")
        secret = ENROLLMENT_PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        # A cluster removed by another clusterd on the database since the check: the foreign
        # key refuses the token, and the check again names what is missing.
        cluster_exists = checked_again(lambda: self._cluster_now(cluster_id))
        with cluster_exists, self._db.transaction() as db:
            if cluster_id is not None:
                self._registry.cluster(cluster_id)
            cursor = db.execute(
                "INSERT INTO enrollment_tokens (token_hash, created_by, created, expires,"
                " cluster_id) VALUES (?, ?, ?, ?, ?) RETURNING id",
                (secret_digest(secret), created_by, _iso(now), now + seconds, cluster_id),
            )
            return self.token(new_id(cursor)), secret

    def token(self, token_id: int) -> EnrollmentToken:
        row = self._db.connection.execute(
            "SELECT * FROM enrollment_tokens WHERE id = ?", (token_id,)
        ).fetchone()
        if row is None:
            raise RecordNotFound(f"there is no enrollment token with id {token_id}", token=token_id)
        return _token(row)

    def tokens(self) -> list[EnrollmentToken]:
        rows = self._db.connection.execute("SELECT * FROM enrollment_tokens ORDER BY id")
        return [_token(row) for row in rows]

    def revoke(self, token_id: int) -> EnrollmentToken:
        with self._db.transaction() as db:
            token = self.token(token_id)
            db.execute("DELETE FROM enrollment_tokens WHERE id = ?", (token_id,))
            return token

    def enroll(self, secret: str, fields: InstanceFields) -> tuple[Instance, EnrollmentToken]:
        """Spend the token on registering the instance: pending, or accepted into the token's
        cluster. Refuses (`TokenRefused`) a token that is unknown, expired or used."""
        fields = fields.validated()
        now = time.time()
        with self._db.transaction() as db:
            row = db.execute(
                "SELECT * FROM enrollment_tokens WHERE token_hash = ?", (secret_digest(secret),)
            ).fetchone()
            if row is None:
                raise TokenRefused("the enrollment token is not known", code="token-unknown")
            token = _token(row)
            if token.used is not None:
                raise TokenRefused(
                    f"the enrollment token was already used, at {token.used}; ask an admin"
                    " for a new one",
                    code="token-used",
                )
            if token.expires <= now:
                raise TokenRefused(
                    f"the enrollment token expired at {_iso(token.expires)}; ask an admin"
                    " for a new one",
                    code="token-expired",
                )
            instance = self._registry.add_instance(
                fields,
                state="pending" if token.cluster_id is None else "accepted",
                cluster_id=token.cluster_id,
            )
            # Spent only if still unused when written: another clusterd on the same database
            # may have spent it since it was read (SQLite's write lock rules that out, but
            # PostgreSQL's row lock only makes the second writer see the first one's row).
            spent = db.execute(
                "UPDATE enrollment_tokens SET used = ?, instance_id = ?"
                " WHERE id = ? AND used IS NULL",
                (_iso(now), instance.id, token.id),
            )
            if spent.rowcount != 1:
                raise TokenRefused(
                    "the enrollment token was just used; ask an admin for a new one",
                    code="token-used",
                )
            return instance, self.token(token.id)
