"""The history of a target's keys, read from the audit log: each applied write with every key
it changed, before and after (docs/api.md §History)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TypedDict, cast

from elektraweb.cluster.audit.log import MAX_LIMIT, AuditEntry, row_entry
from elektraweb.cluster.store.database import Database
from elektraweb.wire.json_value import JSON, Encodable
from elektraweb.wire.replies import ValueDigestJSON

KEY_WRITES = (
    "set", "rm", "mv", "cp", "meta-set", "meta-rm", "meta-bulk", "set-all", "import",
    "revert", "rollback", "release",
)  # fmt: skip
"""The actions that change keys: the ones the history lists."""
UNDO_DEPTH = 200
"""A user's latest changes that undo and redo look back over."""


class AuditedState(TypedDict):
    value: str | ValueDigestJSON | None
    meta: dict[str, str]


KeyState = AuditedState | None
"""A key's ``{"value", "meta"}`` as the audit log keeps it (a value too large to report is its
digest), or None where it does not exist."""


def _state(recorded: JSON) -> KeyState:
    """A key's state as read back from the log, which recorded it as a `KeyState`."""
    return cast(KeyState, recorded)


@dataclass(frozen=True)
class HistoryChange:
    key: str
    before: KeyState
    after: KeyState

    def to_json(self) -> dict[str, Encodable]:
        before, after = self.before, self.after
        return {
            "key": self.key,
            "before": None if before is None else before["value"],
            "after": None if after is None else after["value"],
            "meta_before": None if before is None else before["meta"],
            "meta_after": None if after is None else after["meta"],
        }


@dataclass(frozen=True)
class HistoryEntry:
    entry: AuditEntry
    changes: list[HistoryChange]

    def to_json(self) -> dict[str, Encodable]:
        result = self.entry.result or {}
        own = ("id", "time", "user", "action", "target", "key")
        return {
            **{name: value for name, value in self.entry.to_json().items() if name in own},
            "args": result.get("args", {}),
            "changes": [change.to_json() for change in self.changes],
            "truncated": bool(result.get("changes_truncated")),
        }


@dataclass(frozen=True)
class HistoryFilter:
    """Applied key writes of one target (`target_type`, `target_id`), newest first; with
    `key`, only those that changed it (and, with `below`, any key below it)."""

    target_type: str
    target_id: int
    key: str | None = None
    below: bool = False
    before_id: int | None = None
    after_time: str | None = None
    limit: int = 100


class History:
    def __init__(self, database: Database) -> None:
        self._db = database

    def entries(self, where: HistoryFilter) -> list[HistoryEntry]:
        clauses = [
            "target_type = ? AND target_id = ? AND pending = 0",
            f"action IN ({', '.join('?' * len(KEY_WRITES))})",
            "json_extract(result, '$.ok') = 1",
        ]
        params: list[str | int] = [where.target_type, str(where.target_id), *KEY_WRITES]
        if where.key is not None:
            below = where.key if where.key.endswith("/") else where.key + "/"
            matches = "c.key = ?" + (" OR substr(c.key, 1, ?) = ?" if where.below else "")
            clauses.append(
                f"(EXISTS (SELECT 1 FROM audit_changes AS c WHERE c.entry = audit.id"
                f" AND ({matches})) OR audit.key = ?)"
            )
            params += [where.key, *((len(below), below) if where.below else ()), where.key]
        if where.before_id is not None:
            clauses.append("id < ?")
            params.append(where.before_id)
        if where.after_time is not None:
            clauses.append("time > ?")
            params.append(where.after_time)
        sql = f"SELECT * FROM audit WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?"
        params.append(max(1, min(where.limit, MAX_LIMIT)))
        rows = self._db.connection.execute(sql, params).fetchall()
        return [self._with_changes(row_entry(row)) for row in rows]

    def entry(self, entry_id: int) -> HistoryEntry | None:
        """The applied key write `entry_id`, or None if there is none."""
        row = self._db.connection.execute(
            f"SELECT * FROM audit WHERE id = ? AND pending = 0"
            f" AND action IN ({', '.join('?' * len(KEY_WRITES))})",
            (entry_id, *KEY_WRITES),
        ).fetchone()
        return None if row is None else self._with_changes(row_entry(row))

    def undo_state(self, user: str) -> tuple[HistoryEntry | None, HistoryEntry | None]:
        """What `user`'s undo and redo would revert, over all targets (docs/api.md §Undo).

        A change is undone while a revert of it stands (is not itself undone). Undo reverts
        the user's newest change that is not undone; redo reverts the newest standing undo,
        as long as the user made no other change after it. Reverts made by undo and redo are
        no changes to undo themselves."""
        rows = self._db.connection.execute(
            f'SELECT * FROM audit WHERE "user" = ? AND pending = 0'
            f" AND action IN ({', '.join('?' * len(KEY_WRITES))})"
            " AND json_extract(result, '$.ok') = 1 ORDER BY id DESC LIMIT ?",
            (user, *KEY_WRITES, UNDO_DEPTH),
        ).fetchall()
        entries = [row_entry(row) for row in rows]
        reverts_of: dict[int, list[int]] = {}
        undone: dict[int, bool] = {}
        for entry in entries:  # newest first: every revert of an entry comes before it
            undone[entry.id] = any(not undone[r] for r in reverts_of.get(entry.id, ()))
            if entry.action == "revert":
                reverts_of.setdefault(_reverted(entry), []).append(entry.id)
        changes = [e for e in entries if e.action != "revert"]
        undo = next((e for e in changes if not undone[e.id]), None)
        newest_change = changes[0].id if changes else 0
        redo = next(
            (
                e
                for e in entries
                if e.action == "revert"
                and e.id > newest_change
                and not undone[e.id]
                and _reverted(e) in {c.id for c in changes}
            ),
            None,
        )
        return (
            None if undo is None else self._with_changes(undo),
            None if redo is None else self._with_changes(redo),
        )

    def _with_changes(self, entry: AuditEntry) -> HistoryEntry:
        rows = self._db.connection.execute(
            "SELECT key, before, after FROM audit_changes WHERE entry = ? ORDER BY rowid",
            (entry.id,),
        ).fetchall()
        changes = [
            HistoryChange(row["key"], _loads(row["before"]), _loads(row["after"])) for row in rows
        ]
        if not changes and entry.key is not None and entry.before != entry.after:
            # Recorded before the log kept every key: the entry's own key is all there is.
            changes = [HistoryChange(entry.key, _state(entry.before), _state(entry.after))]
        return HistoryEntry(entry, changes)


def _loads(text: str | None) -> KeyState:
    return None if text is None else _state(json.loads(text))


def _reverted(revert: AuditEntry) -> int:
    """The id of the entry that the revert entry `revert` took back."""
    args = revert.result["args"]
    entry = args.get("entry") if isinstance(args, dict) else None
    if not isinstance(entry, int | str):
        raise ValueError(f"audit entry {revert.id} reverts no entry")
    return int(entry)
