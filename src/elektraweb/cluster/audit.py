"""The audit log: one append-only row per change made through clusterd.

Entries are never changed or removed; the database refuses it (triggers), not only this code.
Listeners (the event hub) are told about every entry after it is stored.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from elektraweb.cluster.database import Database

TargetType = Literal["instance", "cluster", "user", "token"]
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

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
    before: Any
    after: Any
    result: Any

    def to_json(self) -> dict[str, Any]:
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


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _entry(row: sqlite3.Row) -> AuditEntry:
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
        result=_loads(row["result"]),
    )


class AuditLog:
    def __init__(self, database: Database) -> None:
        self._db = database
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
        before: Any = None,
        after: Any = None,
        result: Any,
    ) -> AuditEntry:
        time = datetime.now(UTC).isoformat(timespec="milliseconds")
        target = None if target_id is None else str(target_id)
        with self._db.transaction() as db:
            cursor = db.execute(
                "INSERT INTO audit (time, user, action, target_type, target_id, key, before,"
                " after, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time,
                    user,
                    action,
                    target_type,
                    target,
                    key,
                    None if before is None else json.dumps(before),
                    None if after is None else json.dumps(after),
                    json.dumps(result),
                ),
            )
        assert cursor.lastrowid is not None
        entry = AuditEntry(
            cursor.lastrowid, time, user, action, target_type, target, key, before, after, result
        )
        for listener in self._listeners:
            try:
                listener(entry)
            except Exception:
                # A broken listener must not undo or hide a change that already happened.
                log.exception("audit listener %r failed on entry %d", listener, entry.id)
        return entry

    def entries(self, where: AuditFilter) -> list[AuditEntry]:
        """Matching entries, newest first."""
        clauses: list[str] = []
        params: list[Any] = []
        for target_type, target_id in (("instance", where.instance), ("cluster", where.cluster)):
            if target_id is not None:
                clauses.append("target_type = ? AND target_id = ?")
                params += [target_type, str(target_id)]
        if where.user is not None:
            clauses.append("user = ?")
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
        return [_entry(row) for row in self._db.connection.execute(sql, params)]
