"""One sync of one member: what it lacks of its cluster's desired state, sent.

A sync compares the desired state with what the member is known to have (`AppliedKeys`) and
sends the difference as cluster operations (`cluster` set, so the member's locks let them
through): first `lock` with the full list of the cluster's keys, then a `set` per key to put
(value and the cluster's metadata; metadata the cluster dropped is removed), then an `rm` per key
the cluster no longer sets and an `unlock` of those. Every outcome is recorded at once, so an
interrupted sync (member gone, clusterd stopped) resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Literal, cast

from elektraweb.cluster.api.errors import ApiError
from elektraweb.cluster.clusters.sync_state import work_of
from elektraweb.cluster.instances.gateway import InstanceError, api_error
from elektraweb.cluster.store.applied_keys import AppliedKey, AppliedKeys, Rejection
from elektraweb.cluster.store.cluster_keys import DesiredState
from elektraweb.cluster.store.instances import Instance
from elektraweb.kdb.key import Key
from elektraweb.operations.representation import wire_value
from elektraweb.wire.client import SharedArgs
from elektraweb.wire.json_value import EncodableObject
from elektraweb.wire.replies import OperationArgs, OperationReply

log = logging.getLogger(__name__)

Status = Literal["applied", "rejected", "pending"]

Puts = dict[tuple[str, str, tuple[str, ...]], OperationArgs]
"""The `set` requests of a sync or batch, by key, revision and the metadata they drop."""


@dataclass(frozen=True)
class SyncResult:
    """What became of one key on one member; `error` is the API error object (the member's
    refusal, or why it could not be reached)."""

    status: Status
    error: EncodableObject | None = None


MemberCall = Callable[[Instance, str, OperationArgs], Awaitable[OperationReply]]
"""Sends one operation to a member; raises `Unreachable` if it stops answering."""


class Unreachable(Exception):
    """The member stopped answering during a sync; `error` says why."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


def _taken(row: AppliedKey | None) -> bool:
    """The member took some content of the key from the cluster (and so holds its lock)."""
    return row is not None and row.revision is not None


class MemberSync:
    """One sync of one member: the work, what has been sent, and the outcomes."""

    def __init__(
        self,
        call: MemberCall,
        applied_keys: AppliedKeys,
        cluster_id: int,
        instance: Instance,
        desired: DesiredState,
        applied: dict[str, AppliedKey],
        requests: Puts,
    ) -> None:
        self._call = call
        self._requests = requests
        self._applied = applied_keys
        self._cluster_id = cluster_id
        self._cluster = str(cluster_id)
        self._instance = instance
        self._desired = desired
        self._known = applied
        self.outcomes: dict[str, SyncResult] = {}
        self.unlocked: list[str] = []

    async def run(self, retry: Collection[str], full: bool) -> dict[str, SyncResult]:
        desired, applied = self._desired, self._known
        work = work_of(desired, applied)
        wanted = {
            n
            for n in (*(k.name for k in work.puts), *work.removals)
            if full or n in retry or n not in work.refused
        }
        if not wanted and not work.forgotten and not full:
            return {}
        puts = [key for key in work.puts if key.name in wanted]
        # A key the member has taken is locked already (elektrad keeps its locks); a full sync
        # locks every key again and learns which of the member's locks are stale.
        new_keys = [key for key in puts if not _taken(applied.get(key.name))]
        try:
            owned = await self._lock(sorted(desired), puts) if full or new_keys else []
            for key in puts:
                if key.name not in self.outcomes:
                    row = applied.get(key.name)
                    await self._put(key, row.meta_names if row is not None else frozenset())
            removed = [name for name in work.removals if name in wanted and await self._rm(name)]
            # Locks the member holds for keys the cluster gave up while it was not told.
            stale = set(owned) - set(desired) - set(work.removals)
            if await self._unlock(sorted({*removed, *work.forgotten, *stale})):
                self._applied.forget(self._cluster_id, self._instance.id, list(work.forgotten))
        except Unreachable as unreachable:
            pending = SyncResult("pending", unreachable.error.body()["error"])
            for name in wanted:
                self.outcomes.setdefault(name, pending)
        return self.outcomes

    def _refused(self, name: str, revision: str | None, error: InstanceError) -> None:
        body = api_error(error, instance=self._instance.id).body()["error"]
        self._applied.rejected(self._cluster_id, self._instance.id, name, Rejection(revision, body))
        self.outcomes[name] = SyncResult("rejected", body)

    async def _lock(self, names: list[str], puts: list[Key]) -> list[str]:
        """Lock the cluster's keys and return all the member holds for the cluster. A key
        another cluster holds is refused and left out; any other refusal refuses every put."""
        revisions = {key.name: self._desired.revision(key.name) for key in puts}
        while True:
            try:
                reply = await self._call(
                    self._instance, "lock", {"cluster": self._cluster, "keys": names}
                )
            except InstanceError as error:
                if error.key in names:
                    if error.key in revisions:
                        self._refused(error.key, revisions[error.key], error)
                    names = [name for name in names if name != error.key]
                    continue
                for name, revision in revisions.items():
                    self._refused(name, revision, error)
                return []
            owned: list[str] = reply.get("keys", []) if isinstance(reply, dict) else []
            return owned

    async def _put(self, key: Key, applied_meta: frozenset[str]) -> None:
        """Set the key's value and the cluster's metadata, removing entries it dropped."""
        dropped = tuple(sorted(applied_meta - set(key.meta)))
        revision = self._desired.revision(key.name)
        args = self._requests.get((key.name, revision, dropped))
        if args is None:
            patch: dict[str, str | None] = {**key.meta, **dict.fromkeys(dropped)}
            shared = SharedArgs(
                {"key": key.name, "value": wire_value(key), "meta": patch, "cluster": self._cluster}
            )
            # Read-only from here on; the gateway passes it to the link unchanged.
            args = self._requests[key.name, revision, dropped] = cast(OperationArgs, shared)
        try:
            reply = await self._call(self._instance, "set", args)
        except InstanceError as error:
            self._refused(key.name, revision, error)
            return
        observed = reply.get("revision") if isinstance(reply, dict) else None
        self._applied.applied(
            self._cluster_id, self._instance.id, key.name, revision, key.meta, observed
        )
        self.outcomes[key.name] = SyncResult("applied")

    async def _rm(self, name: str) -> bool:
        """Remove a key the cluster gave up; True once the member no longer has it."""
        try:
            await self._call(self._instance, "rm", {"key": name, "cluster": self._cluster})
        except InstanceError as error:
            if error.code != "not-found":
                self._refused(name, None, error)
                return False
        self._applied.forget(self._cluster_id, self._instance.id, [name])
        self.outcomes[name] = SyncResult("applied")
        return True

    async def _unlock(self, names: list[str]) -> bool:
        """Release the cluster's locks of `names` on the member; True once they are."""
        if not names:
            return True
        try:
            await self._call(self._instance, "unlock", {"cluster": self._cluster, "keys": names})
        except InstanceError as error:
            log.warning("instance %d: cannot unlock %s: %s", self._instance.id, names, error)
            return False
        self.unlocked.extend(names)
        return True
