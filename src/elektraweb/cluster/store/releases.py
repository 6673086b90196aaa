"""A cluster's draft (edits collected before they are published) and its releases (published
drafts, each one audited change), with the hold a canary release keeps on the members outside
its canary (docs/clusters.md, Releases).

Only storage lives here: folding a draft into one write is the release routes' job
(`api.releases`), what a hold means for convergence is `clusters.releases`'.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from elektraweb.cluster.store.connection import Row, checked_again, new_id
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import RecordConflict, RecordNotFound
from elektraweb.wire.json_value import Encodable

DraftOp = Literal["set", "rm"]
GROUP_ENTRY = "@draft-group"
"""Where an edit of a group keeps the group in its `meta` column (the schema has no column of
its own for it): a JSON object `{id, op, key, ...}` under a name no metadata patch may use."""
ReleaseState = Literal["canary", "published", "rolled-back"]
HeldState = dict[str, Any] | None
"""A held key's previous `{value, meta}`; None: it did not exist before the release."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class DraftEdit:
    id: int
    cluster_id: int
    user: str
    time: str
    op: DraftOp
    key: str
    value: str | None
    meta: dict[str, str | None]
    group: dict[str, Encodable] | None = None
    """The drafted subtree write this edit is one key of (`{id, op, key, ...}`), if any."""

    def to_json(self) -> dict[str, Encodable]:
        return {
            "id": self.id,
            "user": self.user,
            "time": self.time,
            "op": self.op,
            "key": self.key,
            "value": self.value,
            "meta": self.meta,
        }


NewEdit = tuple[DraftOp, str, str | None, dict[str, str | None]]
"""An edit to add: op, key, value, metadata patch."""


@dataclass(frozen=True)
class Release:
    id: int
    cluster_id: int
    user: str
    time: str
    message: str
    entry: int | None
    state: ReleaseState
    keys: list[str]
    canary: list[int]
    held: dict[str, HeldState]

    def to_json(self) -> dict[str, Encodable]:
        return {
            "id": self.id,
            "cluster": self.cluster_id,
            "user": self.user,
            "time": self.time,
            "message": self.message,
            "entry": self.entry,
            "state": self.state,
            "canary": self.canary,
            "keys": self.keys,
        }


class Releases:
    """Drafts and releases of clusters."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def _write(self, statement: str, parameters: tuple[object, ...]) -> None:
        """Run one changing statement in its own transaction."""
        with self._db.transaction() as db:
            db.execute(statement, parameters)

    def _insert(self, statement: str, parameters: tuple[object, ...]) -> int:
        """Run one INSERT ... RETURNING id in its own transaction; the new row's id."""
        with self._db.transaction() as db:
            return new_id(db.execute(statement, parameters))

    # -- drafts ----------------------------------------------------------------------------

    def add_edits(
        self,
        cluster_id: int,
        user: str,
        edits: list[NewEdit],
        group: dict[str, Encodable] | None = None,
    ) -> list[DraftEdit]:
        """Add `edits` in one transaction; with `group`, as the keys of one drafted write,
        listed and removed together."""
        time, ids = _now(), []
        with self._db.transaction() as db:
            for op, key, value, meta in edits:
                kept = meta if group is None else {**meta, GROUP_ENTRY: json.dumps(group)}
                ids.append(new_id(db.execute(
                    'INSERT INTO cluster_drafts (cluster_id, "user", time, op, key, value, meta)'
                    " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (cluster_id, user, time, op, key, value, json.dumps(kept, sort_keys=True)),
                )))  # fmt: skip
        return [self._edit(cluster_id, edit_id) for edit_id in ids]

    def draft(self, cluster_id: int) -> list[DraftEdit]:
        """The cluster's draft, oldest edit first."""
        rows = self._db.connection.execute(
            "SELECT * FROM cluster_drafts WHERE cluster_id = ? ORDER BY id", (cluster_id,)
        )
        return [_edit_of(row) for row in rows]

    def _edit(self, cluster_id: int, edit_id: int) -> DraftEdit:
        row = self._db.connection.execute(
            "SELECT * FROM cluster_drafts WHERE cluster_id = ? AND id = ?", (cluster_id, edit_id)
        ).fetchone()
        if row is None:
            raise RecordNotFound(
                f"cluster {cluster_id}'s draft has no edit {edit_id}", edit=edit_id
            )
        return _edit_of(row)

    def remove_edit(self, cluster_id: int, edit_id: int) -> list[int]:
        """Take the edit out of the draft, with every other edit of its group; their ids."""
        group = self._edit(cluster_id, edit_id).group
        ids = [edit_id] if group is None else [
            edit.id for edit in self.draft(cluster_id)
            if edit.group is not None and edit.group["id"] == group["id"]
        ]  # fmt: skip
        with self._db.transaction() as db:
            db.executemany("DELETE FROM cluster_drafts WHERE id = ?", [(i,) for i in ids])
        return ids

    def clear_draft(self, cluster_id: int, through_id: int) -> None:
        """Drop the edits up to `through_id` (those published); later ones stay."""
        self._write(
            "DELETE FROM cluster_drafts WHERE cluster_id = ? AND id <= ?", (cluster_id, through_id)
        )

    # -- releases --------------------------------------------------------------------------

    def begin(
        self,
        cluster_id: int,
        user: str,
        message: str,
        canary: list[int],
        held: dict[str, HeldState],
    ) -> Release:
        """Record a release about to be written, changing the keys in `held` from the states
        there: a canary release holds the other members back at those from now on. One
        canary release at a time per cluster (409 otherwise, also when another clusterd on the
        database began one since the check: a unique index refuses it)."""
        self._refuse_in_flight(cluster_id)
        state: ReleaseState = "canary" if canary else "published"
        with checked_again(lambda: self._refuse_in_flight(cluster_id)):
            release_id = self._insert(
                "INSERT INTO cluster_releases"
                ' (cluster_id, "user", time, message, state, keys, canary, held)'
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    cluster_id,
                    user,
                    _now(),
                    message,
                    state,
                    json.dumps(list(held)),
                    json.dumps(sorted(canary)),
                    json.dumps(held if canary else {}, sort_keys=True),
                ),
            )
        return self.release(cluster_id, release_id)

    def _refuse_in_flight(self, cluster_id: int) -> None:
        in_flight = self.in_flight(cluster_id)
        if in_flight is not None:
            raise RecordConflict(
                f"release {in_flight.id} of cluster {cluster_id} is still a canary: promote or"
                " roll it back first",
                release=in_flight.id,
            )

    def written(self, release_id: int, entry: int) -> None:
        """The release's write is done: `entry` is its audit entry."""
        self._write("UPDATE cluster_releases SET entry = ? WHERE id = ?", (entry, release_id))

    def discard(self, release_id: int) -> None:
        """The release's write was refused: forget it (and its hold)."""
        self._write("DELETE FROM cluster_releases WHERE id = ?", (release_id,))

    def settle(self, release_id: int, state: ReleaseState) -> None:
        """Promoted (`published`) or rolled back: the hold ends. Only a canary is promoted
        (`RecordConflict` otherwise): checked in the write, since a promotion's check may have
        been overtaken by a rollback on another clusterd on the database."""
        with self._db.transaction() as db:
            settled = db.execute(
                "UPDATE cluster_releases SET state = ?, held = '{}'"
                " WHERE id = ? AND (? <> 'published' OR state = 'canary')",
                (state, release_id, state),
            )
            if settled.rowcount == 0 and state == "published":
                row = db.execute(
                    "SELECT state FROM cluster_releases WHERE id = ?", (release_id,)
                ).fetchone()
                now = "gone" if row is None else row["state"]
                raise RecordConflict(
                    f"release {release_id} is {now}: only a canary release is promoted",
                    release=release_id,
                )

    def release(self, cluster_id: int, release_id: int) -> Release:
        row = self._db.connection.execute(
            "SELECT * FROM cluster_releases WHERE cluster_id = ? AND id = ?",
            (cluster_id, release_id),
        ).fetchone()
        if row is None:
            raise RecordNotFound(
                f"cluster {cluster_id} has no release {release_id}", release=release_id
            )
        return _release_of(row)

    def releases(self, cluster_id: int) -> list[Release]:
        """The cluster's releases, newest first."""
        rows = self._db.connection.execute(
            "SELECT * FROM cluster_releases WHERE cluster_id = ? AND entry IS NOT NULL"
            " ORDER BY id DESC",
            (cluster_id,),
        )
        return [_release_of(row) for row in rows]

    def in_flight(self, cluster_id: int) -> Release | None:
        """The cluster's canary release, if one is in flight."""
        row = self._db.connection.execute(
            "SELECT * FROM cluster_releases WHERE cluster_id = ? AND state = 'canary'",
            (cluster_id,),
        ).fetchone()
        return None if row is None else _release_of(row)

    def held_for(self, cluster_id: int, instance_id: int) -> dict[str, HeldState]:
        """The keys the member is held at (their state before the canary release in flight);
        empty for a canary member, or when no canary is in flight."""
        hold = self.hold(cluster_id)
        if hold is None or instance_id in hold[0]:
            return {}
        return hold[1]

    def hold(self, cluster_id: int) -> tuple[frozenset[int], dict[str, HeldState]] | None:
        """The canary members and the held keys of the release in flight; None without one."""
        row = self._db.connection.execute(
            "SELECT canary, held FROM cluster_releases WHERE cluster_id = ? AND state = 'canary'",
            (cluster_id,),
        ).fetchone()
        if row is None:
            return None
        held: dict[str, HeldState] = json.loads(row["held"])
        return frozenset(json.loads(row["canary"])), held


def _edit_of(row: Row) -> DraftEdit:
    meta = json.loads(row["meta"])
    group = meta.pop(GROUP_ENTRY, None)
    return DraftEdit(
        row["id"],
        row["cluster_id"],
        row["user"],
        row["time"],
        row["op"],
        row["key"],
        row["value"],
        meta,
        None if group is None else json.loads(group),
    )


def _release_of(row: Row) -> Release:
    return Release(
        row["id"],
        row["cluster_id"],
        row["user"],
        row["time"],
        row["message"],
        row["entry"],
        row["state"],
        json.loads(row["keys"]),
        json.loads(row["canary"]),
        json.loads(row["held"]),
    )
