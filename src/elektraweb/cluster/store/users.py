"""Users of clusterd: names, roles and argon2 password hashes.

Hashing and verifying cost tens of milliseconds of CPU on purpose, so they run in a worker
thread; the database is only touched from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from elektraweb.cluster.principals import ROLES, Role
from elektraweb.cluster.store.connection import INTEGRITY_ERRORS, Row
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import InvalidField, RecordConflict, RecordNotFound

MIN_PASSWORD_LENGTH = 8
CONCURRENT_HASHES = 2
"""Password hashes computed at once: each takes 64 MiB and a core for a while, and logins are
open to anyone, so a burst of them must not exhaust the machine."""
KEEP_AN_ADMIN = "keep an admin"
"""The rule that the last admin is neither demoted nor removed: checked and written as one step
on the whole database (`Database.serialize`), so two clusterds demoting the last two admins at
once cannot both succeed."""
_USER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role}


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise InvalidField(f"role {role!r} is not one of {', '.join(ROLES)}", field="role")


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidField(
            f"password must have at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    return password


def _user(row: Row) -> User:
    return User(row["name"], check_role(row["role"]))


class Users:
    def __init__(self, database: Database, hasher: PasswordHasher | None = None) -> None:
        self._db = database
        self._hasher = hasher or PasswordHasher()
        self._hashing = asyncio.Semaphore(CONCURRENT_HASHES)
        # Verified against when the user does not exist, so a login takes as long either way.
        self._absent_hash: str | None = None

    def users(self) -> list[User]:
        rows = self._db.connection.execute("SELECT name, role FROM users ORDER BY name")
        return [_user(row) for row in rows]

    def user(self, name: str) -> User:
        row = self._db.connection.execute(
            "SELECT name, role FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            raise RecordNotFound(f"there is no user {name!r}", user=name)
        return _user(row)

    def is_empty(self) -> bool:
        return self._db.connection.execute("SELECT 1 FROM users LIMIT 1").fetchone() is None

    async def add(self, name: str, password: str, role: Role) -> User:
        if not _USER_NAME.fullmatch(name):
            raise InvalidField(
                f"user name {name!r} must be 1-64 letters, digits or _ . @ -", field="name"
            )
        password_hash = await self._hash(check_password(password))
        duplicate = RecordConflict(
            f"user {name!r} already exists", code="duplicate-user", user=name
        )
        with self._db.transaction() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise duplicate
            try:
                db.execute(
                    "INSERT INTO users (name, password_hash, role) VALUES (?, ?, ?)",
                    (name, password_hash, role),
                )
            except INTEGRITY_ERRORS:  # another clusterd on the database added it meanwhile
                raise duplicate from None
        return User(name, role)

    async def update(self, name: str, *, password: str | None, role: Role | None) -> User:
        password_hash = None if password is None else await self._hash(check_password(password))
        with self._db.transaction() as db:
            self._db.serialize(KEEP_AN_ADMIN)
            user = self.user(name)
            if role is not None and role != "admin":
                self._keep_an_admin(user, f"cannot make {name!r} a {role}")
            db.execute(
                "UPDATE users SET role = coalesce(?, role),"
                " password_hash = coalesce(?, password_hash) WHERE name = ?",
                (role, password_hash, name),
            )
            self._db.changed("users")
            return self.user(name)

    def remove(self, name: str) -> User:
        with self._db.transaction() as db:
            self._db.serialize(KEEP_AN_ADMIN)
            user = self.user(name)
            self._keep_an_admin(user, f"cannot remove {name!r}")
            db.execute("DELETE FROM users WHERE name = ?", (name,))
            self._db.changed("users")
            return user

    def _keep_an_admin(self, user: User, refusal: str) -> None:
        if user.role != "admin":
            return
        admins = self._db.connection.execute(
            "SELECT count(*) AS admins FROM users WHERE role = 'admin'"
        ).fetchone()
        if admins is not None and admins["admins"] == 1:
            message = f"{refusal}: it is the last admin"
            raise RecordConflict(message, code="last-admin", user=user.name)

    async def verify(self, name: str, password: str) -> User | None:
        """The user if `password` is theirs, else None (also for unknown users)."""
        row = self._db.connection.execute(
            "SELECT name, role, password_hash FROM users WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            await self._matches(await self.absent_hash(), password)
            return None
        if not await self._matches(row["password_hash"], password):
            return None
        return _user(row)

    async def absent_hash(self) -> str:
        """The hash that unknown users' passwords are checked against. clusterd makes it on
        start, so that not even the first unknown user's login takes longer than a known one's."""
        if self._absent_hash is None:
            self._absent_hash = await self._hash("absent user")
        return self._absent_hash

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def _matches(self, password_hash: str, password: str) -> bool:
        async with self._hashing:
            try:
                return await asyncio.to_thread(self._hasher.verify, password_hash, password)
            except (VerificationError, InvalidHashError):
                return False
