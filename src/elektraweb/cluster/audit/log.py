"""The audit log: one append-only row per change made through clusterd.

A change to a host is recorded in two steps (docs/security.md §5): its intent (who, what,
target), committed before anything is sent, as a pending entry; then its outcome, written into
that entry exactly once. Nothing else changes an entry, and entries leave only by a retention
(`audit_retention`); the database refuses anything else (triggers), not only this code.
Values over the size limit are kept as their size and SHA-256 (`bounded`). Listeners (the event
hub) are told about every finished entry after it is stored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from elektraweb.cluster.config import AUDIT_VALUE_LIMIT
from elektraweb.cluster.store.connection import Connection, Row, new_id
from elektraweb.cluster.store.database import Database
from elektraweb.wire.json_value import JSON, Encodable, JSONObject, as_object

TargetType = Literal["instance", "cluster", "user", "token", "enrollment", "audit"]
KeyChange = tuple[str, Encodable, Encodable]
"""One key a write changed: its name, and its `{"value", "meta"}` before and after (None: it
did not exist)."""
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
RETAIN = "audit.retain"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    time: str
    user: str
    action: str
    target_type: TargetType
    target_id: str | None
    key: str | None
    before: JSON
    after: JSON
    result: JSONObject
    pending: bool = False

    def to_json(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "time": self.time,
            "user": self.user,
            "action": self.action,
            "target": {"type": self.target_type, "id": self.target_id},
            "key": self.key,
            "before": self.before,
            "after": self.after,
            "result": self.result,
            "pending": self.pending,
        }


@dataclass(frozen=True)
class AuditFilter:
    """Entries matching all given fields; `key` matches that key and every key below it."""

    instance: int | None = None
    cluster: int | None = None
    user: str | None = None
    key: str | None = None
    before_id: int | None = None
    limit: int = DEFAULT_LIMIT


def _loads(text: str | None) -> JSON:
    if text is None:
        return None
    value: JSON = json.loads(text)
    return value


def _dumps(value: JSON) -> str | None:
    return None if value is None else json.dumps(value)


def row_entry(row: Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        time=row["time"],
        user=row["user"],
        action=row["action"],
        target_type=row["target_type"],
        target_id=row["target_id"],
        key=row["key"],
        before=_loads(row["before"]),
        after=_loads(row["after"]),
        result=as_object(_loads(row["result"]), "an audit result"),
        pending=bool(row["pending"]),
    )


def digest(text: str) -> dict[str, str | int]:
    """What the audit log keeps of a text over its limit: its UTF-8 size and SHA-256."""
    data = text.encode()
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


ROW_FACTOR = 4
"""A before, after or result still longer than this many limits once each of its values is
bounded (a write of many values) is kept as the digest of its whole text."""


def bounded(value: Encodable, limit: int, *, whole: bool = True) -> JSON:
    """`value` as the audit log keeps it: each text over `limit` bytes replaced by its
    `digest`, and (if `whole`) the whole by its digest if it still exceeds `ROW_FACTOR`
    limits."""
    return bounded_text(value, limit)[0] if whole else _cut(value, limit)


def bounded_text(value: Encodable, limit: int) -> tuple[JSON, str]:
    """`bounded(value, limit)` and its JSON text, which the size check already made: the row
    stores that text rather than encoding the value a second time."""
    kept = _cut(value, limit)
    text = json.dumps(kept)
    if len(text) > ROW_FACTOR * limit:
        kept = digest(text)
        text = json.dumps(kept)
    return kept, text


def _cut(part: object, limit: int) -> JSON:
    if isinstance(part, str):
        return digest(part) if len(part.encode()) > limit else part
    if isinstance(part, dict):
        return {name: _cut(member, limit) for name, member in part.items()}
    if isinstance(part, list | tuple):
        return [_cut(member, limit) for member in part]
    if part is None or isinstance(part, int | float):
        return part
    raise TypeError(f"the audit log keeps JSON, not {type(part).__name__}")


class AuditLog:
    def __init__(self, database: Database, value_limit: int = AUDIT_VALUE_LIMIT) -> None:
        self._db = database
        self.value_limit = value_limit
        self._in_flight: set[int] = set()
        self._listeners: list[Callable[[AuditEntry], None]] = []

    def subscribe(self, listener: Callable[[AuditEntry], None]) -> None:
        """Call `listener` with every entry recorded from now on."""
        self._listeners.append(listener)

    def record(
        self,
        *,
        user: str,
        action: str,
        target_type: TargetType,
        target_id: int | str | None,
        key: str | None = None,
        before: Encodable = None,
        after: Encodable = None,
        result: Mapping[str, object],
    ) -> AuditEntry:
        """Append a finished entry."""
        entry = self._insert(user, action, target_type, target_id, key, before, after, result)
        self._tell(entry)
        return entry

    async def intend(
        self,
        *,
        user: str,
        action: str,
        target_type: TargetType,
        target_id: int | str | None,
        key: str | None,
        args: Mapping[str, object],
    ) -> AuditEntry:
        """Append the pending entry of a change about to be sent, durably (committed with
        the writes of concurrent requests); it is in flight, left to its sender, until
        `release`d."""
        # Bounded on their own, so that too large arguments (a set-all of 10k keys) become
        # their digest and the entry keeps its shape for `conclude`.
        result = {"outcome": "pending", "args": bounded(args, self.value_limit)}
        columns = (user, action, target_type, target_id, key, None, None, result)

        def insert(db: Connection) -> AuditEntry:
            entry = self._insert_into(db, *columns, pending=True)
            # Before the commit: `unresolved` must never offer an entry its sender still has.
            self._in_flight.add(entry.id)
            return entry

        return await self._db.group_commit.run(insert)

    def release(self, intent: AuditEntry) -> None:
        """The sender of `intent` is done with it: if still pending, `unresolved` offers it."""
        self._in_flight.discard(intent.id)

    async def conclude(
        self,
        intent: AuditEntry,
        before: Encodable,
        after: Encodable,
        result: Mapping[str, object],
        changes: Sequence[KeyChange] = (),
    ) -> AuditEntry:
        """Write the outcome of the pending entry `intent`, durably (committed with the writes
        of concurrent requests); its arguments are kept. `changes` are every key the write
        changed, `(key, before, after)`, for the history; each value over the limit is kept as
        its digest, but a change is never cut as a whole."""
        kept_before, before_text = self._stored(before)
        kept_after, after_text = self._stored(after)
        kept, result_text = self._stored({**result, "args": intent.result["args"]})
        kept_result = as_object(kept, "result")
        row = (before_text, after_text, result_text, intent.id)
        history = [
            (intent.id, key, _dumps(self._kept(old)), _dumps(self._kept(new)))
            for key, old, new in changes
        ]

        def update(db: Connection) -> None:
            cursor = db.execute(
                "UPDATE audit SET before = ?, after = ?, result = ?, pending = 0"
                " WHERE id = ? AND pending = 1",
                row,
            )
            if cursor.rowcount != 1:
                raise LookupError(f"audit entry {intent.id} is not pending")
            db.executemany(
                "INSERT INTO audit_changes (entry, key, before, after) VALUES (?, ?, ?, ?)",
                history,
            )

        await self._db.group_commit.run(update)
        entry = AuditEntry(
            intent.id, intent.time, intent.user, intent.action, intent.target_type,
            intent.target_id, intent.key, kept_before, kept_after, kept_result,
        )  # fmt: skip
        self._tell(entry)
        return entry

    def unresolved(self) -> list[AuditEntry]:
        """The pending entries whose sender gave up on them (or died), oldest first."""
        rows = self._db.connection.execute("SELECT * FROM audit WHERE pending = 1 ORDER BY id")
        return [entry for row in rows if (entry := row_entry(row)).id not in self._in_flight]

    def oldest_pending(self, through_id: int) -> int | None:
        """The id of the first pending entry up to `through_id`, if any."""
        row = self._db.connection.execute(
            "SELECT min(id) AS id FROM audit WHERE pending = 1 AND id <= ?", (through_id,)
        ).fetchone()
        return None if row is None or row["id"] is None else int(row["id"])

    def last_id_before(self, time: str) -> int | None:
        """The newest entry recorded before `time` (ISO 8601, UTC), if any."""
        row = self._db.connection.execute(
            "SELECT max(id) AS id FROM audit WHERE time < ?", (time,)
        ).fetchone()
        return None if row is None or row["id"] is None else int(row["id"])

    def retainable(self, through_id: int) -> Iterator[AuditEntry]:
        """The entries a retention through `through_id` exports and drops, oldest first;
        earlier retentions' own entries stay."""
        rows = self._db.connection.execute(
            "SELECT * FROM audit WHERE id <= ? AND action != 'audit.retain' ORDER BY id",
            (through_id,),
        )
        return (row_entry(row) for row in rows)

    def drop_exported(self, user: str, through_id: int, export: dict[str, str | int]) -> AuditEntry:
        """Record the retention (its own entry, which stays) and drop the entries it exported
        (`export`: file, entries, sha256), all in one transaction."""
        with self._db.transaction() as db:
            entry = self._insert(
                user, RETAIN, "audit", None, None, None,
                {**export, "through_id": through_id}, {"ok": True},
            )  # fmt: skip
            db.execute(
                "INSERT INTO audit_retention (id, through_id, file, entries, sha256)"
                " VALUES (?, ?, ?, ?, ?)",
                (entry.id, through_id, export["file"], export["entries"], export["sha256"]),
            )
            db.execute("DELETE FROM audit WHERE id <= ? AND action != ?", (through_id, RETAIN))
        self._tell(entry)
        return entry

    def _kept(self, state: Encodable) -> JSON:
        """A key's state as the history keeps it: each value over the limit as its digest."""
        return None if state is None else bounded(state, self.value_limit, whole=False)

    def _stored(self, value: Encodable) -> tuple[JSON, str | None]:
        """`value` as a row keeps it, and the row's text (None for no value)."""
        return (None, None) if value is None else bounded_text(value, self.value_limit)

    def _insert(self, *columns: Any) -> AuditEntry:
        """Append (committed) a finished entry of `user, action, target_type, target_id, key,
        before, after, result`, in this order."""
        with self._db.transaction() as db:
            return self._insert_into(db, *columns)

    def _insert_into(self, db: Connection, *columns: Any, pending: bool = False) -> AuditEntry:
        user, action, target_type, target_id, key, before, after, result = columns
        time = datetime.now(UTC).isoformat(timespec="milliseconds")
        target = None if target_id is None else str(target_id)
        kept_before, before_text = self._stored(before)
        kept_after, after_text = self._stored(after)
        kept, result_text = self._stored(result)
        kept_result = as_object(kept, "result")
        cursor = db.execute(
            'INSERT INTO audit (time, "user", action, target_type, target_id, key, before,'
            " after, result, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                time, user, action, target_type, target, key,
                before_text, after_text, result_text, int(pending),
            ),
        )  # fmt: skip
        return AuditEntry(
            new_id(cursor), time, user, action, target_type, target, key, kept_before,
            kept_after, kept_result, pending,
        )  # fmt: skip

    def _tell(self, entry: AuditEntry) -> None:
        for listener in self._listeners:
            try:
                listener(entry)
            except Exception:
                # A broken listener must not undo or hide a change that already happened.
                log.exception("audit listener %r failed on entry %d", listener, entry.id)

    def entries(self, where: AuditFilter) -> list[AuditEntry]:
        """Matching entries, newest first."""
        clauses: list[str] = []
        params: list[str | int] = []
        for target_type, target_id in (("instance", where.instance), ("cluster", where.cluster)):
            if target_id is not None:
                clauses.append("target_type = ? AND target_id = ?")
                params += [target_type, str(target_id)]
        if where.user is not None:
            clauses.append('"user" = ?')
            params.append(where.user)
        if where.key is not None:
            below = where.key if where.key.endswith("/") else where.key + "/"
            clauses.append("(key = ? OR substr(key, 1, ?) = ?)")
            params += [where.key, len(below), below]
        if where.before_id is not None:
            clauses.append("id < ?")
            params.append(where.before_id)
        sql = "SELECT * FROM audit"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(max(1, min(where.limit, MAX_LIMIT)))
        return [row_entry(row) for row in self._db.connection.execute(sql, params)]
