"""What clusterd knows each member has of its cluster's keys, kept in clusterd's database.

Comparing this with the desired state gives each member's pending work, so nothing has to be
queued: a member that was offline, or a clusterd that restarted, simply finds the difference
again. Two tables, in the registry's database:

- `cluster_applied`: per cluster, member and key, the revision of the desired content last
  applied (NULL: not applied, or no longer trusted after drift), the metadata names applied (to
  remove entries the cluster drops), the member's revision right after (to recognise drift even
  when the member normalises a value or adds metadata from its spec), the member's refusal of the
  current desired content, and the content found when the key drifted.
- `cluster_unlocks`: members that left a cluster while offline and still hold its locks.

A `cluster_applied` row is written only while its instance is a member of its cluster, checked
in the write itself under the membership lock (`membership.MEMBERSHIP`, shared: outcome writes do
not wait for each other, only for a change of members); a leave removes the
member's rows in its own transaction. So a sync that another clusterd's leave overtook leaves
no rows behind that a later join would take for content the member has (docs/architecture.md,
The rule on check-then-write).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from elektraweb.cluster.store.connection import INTEGRITY_ERRORS, Row
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.membership import MEMBERSHIP
from elektraweb.wire.json_value import EncodableObject, JSONObject

log = logging.getLogger(__name__)

_Parameters = tuple[str | int | None, ...]
"""The parameters of one statement."""


@dataclass(frozen=True)
class Rejection:
    """A member refused the desired content with `revision` (None: refused to remove the key)."""

    revision: str | None
    error: EncodableObject


@dataclass(frozen=True)
class AppliedKey:
    name: str
    revision: str | None = None
    meta_names: frozenset[str] = field(default_factory=frozenset)
    observed: str | None = None
    rejected: Rejection | None = None
    drift: JSONObject | None = None
    """The key as found on the member (`{value, meta}`, or `{"missing": true}`)."""


def _row(row: Row) -> AppliedKey:
    rejected = None if row["rejected"] is None else Rejection(**json.loads(row["rejected"]))
    return AppliedKey(
        name=row["name"],
        revision=row["revision"],
        meta_names=frozenset(json.loads(row["meta_names"])),
        observed=row["observed"],
        rejected=rejected,
        drift=None if row["drift"] is None else json.loads(row["drift"]),
    )


class AppliedKeys:
    """Reads and writes of both tables. Writes inside `batch()` are stored together, in one
    transaction, when the outermost batch ends; reads see them at once all the same (a read
    stores what is waiting first). A write that is lost with a crashed clusterd before it is
    stored only makes clusterd send that member the same content once more."""

    def __init__(self, database: Database) -> None:
        self._db = database
        self._waiting: list[tuple[tuple[int, int], str, list[_Parameters]]] = []
        self._batches = 0
        self._writes = 0
        self._last_write: dict[tuple[int, int], int] = {}

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Store the block's writes in one transaction (batches may nest and overlap)."""
        self._batches += 1
        try:
            yield
        finally:
            self._batches -= 1
            if not self._batches:
                self._store()

    def mark(self) -> int:
        """Where the sequence of writes is now, for `changed_since`."""
        return self._writes

    def changed_since(self, cluster_id: int, instance_id: int, mark: int) -> bool:
        """Whether anything about the member's keys of the cluster was written after `mark`."""
        return self._last_write.get((cluster_id, instance_id), 0) > mark

    def of(self, cluster_id: int, instance_id: int) -> dict[str, AppliedKey]:
        self._store()
        rows = self._db.connection.execute(
            "SELECT * FROM cluster_applied WHERE cluster_id = ? AND instance_id = ?",
            (cluster_id, instance_id),
        )
        return {row["name"]: _row(row) for row in rows}

    def of_cluster(self, cluster_id: int) -> dict[int, dict[str, AppliedKey]]:
        """Every member's keys, by instance id."""
        self._store()
        result: dict[int, dict[str, AppliedKey]] = {}
        rows = self._db.connection.execute(
            "SELECT * FROM cluster_applied WHERE cluster_id = ?", (cluster_id,)
        )
        for row in rows:
            result.setdefault(row["instance_id"], {})[row["name"]] = _row(row)
        return result

    def _write(
        self, cluster_id: int, instance_id: int, statement: str, rows: list[_Parameters]
    ) -> None:
        self._writes += 1
        self._last_write[cluster_id, instance_id] = self._writes
        self._waiting.append(((cluster_id, instance_id), statement, rows))
        if not self._batches:
            self._store()

    def _store(self) -> None:
        if not self._waiting:
            return
        # Member by member, each member's writes in the order made: every statement touches
        # one member's rows only, and two replicas storing outcomes of the same members at once
        # then take the rows' locks in the same order, never each waiting for the other's
        # (PostgreSQL refused one of them as a deadlock). Each run of one statement is one
        # `executemany`: a fan-out's outcomes are one call, not one per member.
        waiting = sorted(self._waiting, key=lambda write: write[0])
        self._waiting = []
        runs: list[tuple[str, list[_Parameters]]] = []
        for _, statement, rows in waiting:
            if runs and runs[-1][0] == statement:
                runs[-1][1].extend(rows)
            else:
                runs.append((statement, list(rows)))
        try:
            self._stored(runs)
        except INTEGRITY_ERRORS:
            # A member or cluster was deleted meanwhile: store the rest without its rows.
            for statement, rows in runs:
                for row in rows:
                    try:
                        self._stored([(statement, [row])])
                    except INTEGRITY_ERRORS as error:
                        log.info("not recorded, its member or cluster is gone: %s", error)

    def _stored(self, runs: list[tuple[str, list[_Parameters]]]) -> None:
        # Under the membership lock: a leave on another clusterd either committed before the
        # writes check membership, or waits and then removes what they wrote. Shared: the
        # outcomes of other members (other clusters', another replica's) need not wait.
        with self._db.transaction() as db:
            self._db.serialize(MEMBERSHIP, shared=True)
            for statement, rows in runs:
                db.executemany(statement, rows)

    def _upsert(self, cluster_id: int, instance_id: int, name: str, **columns: str | None) -> None:
        """Insert the row or change only the given columns of it, if the instance still is a
        member of the cluster."""
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        updates = ", ".join(f"{column} = excluded.{column}" for column in columns)
        self._write(
            cluster_id,
            instance_id,
            f"INSERT INTO cluster_applied (cluster_id, instance_id, name, {names})"
            f" SELECT ?, ?, ?, {marks}"
            " WHERE EXISTS (SELECT 1 FROM instances WHERE id = ? AND cluster_id = ?)"
            " ON CONFLICT (cluster_id, instance_id, name)"
            f" DO UPDATE SET {updates}",
            [(cluster_id, instance_id, name, *columns.values(), instance_id, cluster_id)],
        )

    def applied(
        self,
        cluster_id: int,
        instance_id: int,
        name: str,
        revision: str,
        meta: Mapping[str, str],
        observed: str | None,
    ) -> None:
        """The member took the desired content with `revision`; it now has `observed`."""
        self._upsert(
            cluster_id,
            instance_id,
            name,
            revision=revision,
            meta_names=json.dumps(sorted(meta)),
            observed=observed,
            rejected=None,
            drift=None,
        )

    def rejected(self, cluster_id: int, instance_id: int, name: str, rejection: Rejection) -> None:
        text = json.dumps({"revision": rejection.revision, "error": rejection.error})
        self._upsert(cluster_id, instance_id, name, rejected=text)

    def drifted(self, cluster_id: int, instance_id: int, name: str, found: JSONObject) -> None:
        """The member's key no longer is what was applied: apply it again."""
        self._upsert(cluster_id, instance_id, name, revision=None, drift=json.dumps(found))

    def forget(self, cluster_id: int, instance_id: int, names: list[str]) -> None:
        """Drop the named rows: the member no longer has those keys. (A member's rows all go
        when it leaves, with `Registry.leave`.)"""
        self._write(
            cluster_id,
            instance_id,
            "DELETE FROM cluster_applied WHERE cluster_id = ? AND instance_id = ? AND name = ?",
            [(cluster_id, instance_id, name) for name in names],
        )

    # -- locks a member still holds for a cluster it left -----------------------------------

    def owe_unlock(self, instance_id: int, cluster_id: int) -> None:
        self._write(
            cluster_id,
            instance_id,
            "INSERT INTO cluster_unlocks (instance_id, cluster_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            [(instance_id, cluster_id)],
        )

    def unlocks_owed(self, instance_id: int) -> list[int]:
        self._store()
        rows = self._db.connection.execute(
            "SELECT cluster_id FROM cluster_unlocks WHERE instance_id = ? ORDER BY cluster_id",
            (instance_id,),
        )
        return [row["cluster_id"] for row in rows]

    def unlocked(self, instance_id: int, cluster_id: int) -> None:
        self._write(
            cluster_id,
            instance_id,
            "DELETE FROM cluster_unlocks WHERE instance_id = ? AND cluster_id = ?",
            [(instance_id, cluster_id)],
        )
