"""Sessions (browser logins) and API tokens (scripts): random secrets stored only as hashes.

The secrets are 256-bit random values, so one SHA-256 is enough to make a stolen database
useless for logging in; a slow password hash would only slow down every request.

Every request shows its secret. On the SQLite file, which only this clusterd writes, the
principals of recently checked secrets are kept in memory (at most `CHECKED_LIMIT`, each for at
most `CHECKED_SECONDS`, never past a session's expiry) rather than asked of the database each
time. They are all forgotten whenever a store of this clusterd changes or removes a user,
session or token row (`Database.changed`: logout, a revoked token, a user's new role, a removed
user and the sessions and tokens that go with it), right after the statement: such a change
takes effect with the very next request. Only a change made by another program can go unseen,
for `CHECKED_SECONDS` at most. On PostgreSQL, where other clusterd replicas change these rows
too, nothing is kept: every check asks the database (one point read), so a logout on one
replica refuses the session on every other with the very next request. Secrets that fail the
check are not kept. Listeners (`on_change`) hear of every such change, made by this clusterd or
(on PostgreSQL) by another one (`Database.changed_elsewhere`); the WebSocket endpoints close the
connections whose credentials it ended or changed.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from elektraweb.cluster.principals import Principal, Role, lesser_role
from elektraweb.cluster.store.connection import Row, new_id
from elektraweb.cluster.store.database import WATCHED_TABLES, Database
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.users import check_role

TOKEN_PREFIX = "ewt_"
"""API tokens start with this, so they are recognisable in a leaked file."""
CHECKED_SECONDS = 5.0
CHECKED_LIMIT = 1024


def secret_digest(secret: str) -> str:
    """What is stored of a random secret (a session, an API or enrollment token)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ApiToken:
    id: int
    name: str
    user: str
    role: Role
    created: str

    def to_json(self) -> dict[str, str | int]:
        return {
            "id": self.id,
            "name": self.name,
            "user": self.user,
            "role": self.role,
            "created": self.created,
        }


def _token(row: Row) -> ApiToken:
    return ApiToken(row["id"], row["name"], row["user"], check_role(row["role"]), row["created"])


@dataclass(frozen=True)
class _Checked:
    principal: Principal
    until: float
    """When (`time.time()`) the secret must be checked against the database again."""


class Credentials:
    """Sessions and tokens in `database`; one `Credentials` per database connection."""

    def __init__(self, database: Database, session_seconds: int) -> None:
        self._db = database
        self._session_seconds = session_seconds
        self._checked: OrderedDict[tuple[str, str], _Checked] = OrderedDict()
        # Only where no other clusterd writes (see above).
        self._remembers = database.connection.dialect == "sqlite"
        self._listeners: list[Callable[[], None]] = []
        database.on_change(self._changed)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever a user, session or token changes or goes, from inside the
        statement that changed it: it must not touch the database, only take note."""
        self._listeners.append(listener)

    def _changed(self, table: str) -> None:
        if table in WATCHED_TABLES:
            self._forget()

    def _forget(self) -> None:
        self._checked.clear()
        for listener in self._listeners:
            listener()

    def _recall(self, kind: Literal["session", "token"], digest: str) -> Principal | None:
        checked = self._checked.get((kind, digest))
        if checked is None:
            return None
        if checked.until <= time.time():
            del self._checked[kind, digest]
            return None
        self._checked.move_to_end((kind, digest))
        return checked.principal

    def _remember(
        self, kind: Literal["session", "token"], digest: str, principal: Principal, until: float
    ) -> Principal:
        if not self._remembers:
            return principal
        self._checked[kind, digest] = _Checked(principal, until)
        self._checked.move_to_end((kind, digest))
        if len(self._checked) > CHECKED_LIMIT:
            self._checked.popitem(last=False)
        return principal

    # -- sessions ---------------------------------------------------------------------------

    def open_session(self, user: str) -> str:
        """Start a session for `user`; the returned secret goes into the cookie only."""
        secret = secrets.token_urlsafe(32)
        now = time.time()
        with self._db.transaction() as db:
            if db.execute("DELETE FROM sessions WHERE expires <= ?", (now,)).rowcount:
                self._db.changed("sessions")
            db.execute(
                'INSERT INTO sessions (token_hash, "user", expires) VALUES (?, ?, ?)',
                (secret_digest(secret), user, now + self._session_seconds),
            )
        return secret

    def session(self, secret: str) -> Principal | None:
        digest = secret_digest(secret)
        known = self._recall("session", digest)
        if known is not None:
            return known
        now = time.time()
        row = self._db.connection.execute(
            "SELECT sessions.id, sessions.expires, users.name, users.role FROM sessions"
            ' JOIN users ON users.name = sessions."user"'
            " WHERE token_hash = ? AND expires > ?",
            (digest, now),
        ).fetchone()
        if row is None:
            return None
        principal = Principal(row["name"], check_role(row["role"]), "session", row["id"])
        return self._remember(
            "session", digest, principal, min(now + CHECKED_SECONDS, row["expires"])
        )

    def close_session(self, session_id: int) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
            self._db.changed("sessions")

    def end_sessions(self, user: str, *, keeping: int | None = None) -> int:
        """End every session of `user` but the one with id `keeping`; how many ended."""
        with self._db.transaction() as db:
            cursor = db.execute(
                'DELETE FROM sessions WHERE "user" = ? AND id IS DISTINCT FROM ?', (user, keeping)
            )
            self._db.changed("sessions")
            return cursor.rowcount

    # -- API tokens -------------------------------------------------------------------------

    def create_token(self, user: str, name: str, role: Role) -> tuple[ApiToken, str]:
        """A new token and its secret; the secret is not kept and cannot be shown again."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created = datetime.now(UTC).isoformat(timespec="seconds")
        with self._db.transaction() as db:
            cursor = db.execute(
                'INSERT INTO api_tokens (token_hash, name, "user", role, created)'
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (secret_digest(secret), name, user, role, created),
            )
            return self.token(new_id(cursor)), secret

    def token(self, token_id: int) -> ApiToken:
        row = self._db.connection.execute(
            "SELECT * FROM api_tokens WHERE id = ?", (token_id,)
        ).fetchone()
        if row is None:
            raise RecordNotFound(f"there is no API token with id {token_id}", token=token_id)
        return _token(row)

    def tokens(self, user: str | None = None) -> list[ApiToken]:
        if user is None:
            rows = self._db.connection.execute("SELECT * FROM api_tokens ORDER BY id")
        else:
            rows = self._db.connection.execute(
                'SELECT * FROM api_tokens WHERE "user" = ? ORDER BY id', (user,)
            )
        return [_token(row) for row in rows]

    def revoke_token(self, token_id: int) -> ApiToken:
        with self._db.transaction() as db:
            token = self.token(token_id)
            db.execute("DELETE FROM api_tokens WHERE id = ?", (token_id,))
            self._db.changed("api_tokens")
            return token

    def token_principal(self, secret: str) -> Principal | None:
        """Who a token secret stands for; its role never exceeds the user's current role."""
        digest = secret_digest(secret)
        known = self._recall("token", digest)
        if known is not None:
            return known
        row = self._db.connection.execute(
            "SELECT api_tokens.id, api_tokens.role AS token_role, users.name,"
            " users.role AS user_role FROM api_tokens"
            ' JOIN users ON users.name = api_tokens."user" WHERE token_hash = ?',
            (digest,),
        ).fetchone()
        if row is None:
            return None
        role = lesser_role(check_role(row["token_role"]), check_role(row["user_role"]))
        principal = Principal(row["name"], role, "token", row["id"])
        return self._remember("token", digest, principal, time.time() + CHECKED_SECONDS)
