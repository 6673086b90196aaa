"""Bringing one member in line with its cluster's desired state.

A sync compares the desired state with what the member is known to have (`AppliedKeys`) and
sends the difference as cluster operations (`cluster` set, so the member's locks let them
through): first `lock` with the full list of the cluster's keys, then a `set` per key to put
(value and the cluster's metadata; metadata the cluster dropped is removed), then an `rm` per key
the cluster no longer sets and an `unlock` of those. Every outcome is recorded at once, so an
interrupted sync (member gone, clusterd stopped) resumes where it stopped.

One sync runs at a time per member; members sync in parallel. A member's sync checks at its
start that the instance still belongs to the cluster, and its outcomes are stored only while
it does (`AppliedKeys`), so a leave, on this clusterd or another, never leaves outcomes behind.

Syncing many members of a cluster at once (a fan-out) runs them in one `Batch`: the cluster's
members, its keys, their revisions and what every member has are read once, not once per member;
a `set` that several members get is encoded once (`SharedArgs`); their outcomes are stored in one
transaction; and the change is reported once, at the end. A member whose keys were written since
the batch read them (another sync got to it first), or a cluster whose desired state changed
since, is read afresh, so a batch never sends stale content; the members are read afresh once
anything in the database changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, cast

from elektraweb.cluster.api.errors import ApiError, BadGateway
from elektraweb.cluster.clusters.releases import Holds
from elektraweb.cluster.clusters.sync_state import work_of
from elektraweb.cluster.instances.gateway import (
    InstanceError,
    InstanceTimeout,
    InstanceUnreachable,
    api_error,
)
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.applied_keys import AppliedKey, AppliedKeys, Rejection
from elektraweb.cluster.store.cluster_keys import DesiredState
from elektraweb.cluster.store.instances import Instance
from elektraweb.cluster.store.releases import Releases
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


class _Unreachable(Exception):
    """The member stopped answering during a sync; `error` says why."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class _Snapshot:
    desired: DesiredState
    desired_version: int
    applied: Mapping[int, dict[str, AppliedKey]]
    applied_mark: int


@dataclass(frozen=True)
class Members:
    """Members of a cluster to sync together, and the cluster's version read before they were
    (`Convergence.members`): a change committed between the two reads moves the version on, so
    the list is never taken for the members at a version newer than itself. None: the list is
    not all of the cluster's members at any known version (each is checked alone)."""

    version: int | None
    instances: list[Instance]


@dataclass
class _Turn:
    """What the syncs that start in one turn of the event loop read once between them: the
    cluster's version, and the desired state as each member should have it (`Holds.states`,
    one read of the release in flight), kept with the state it was made of."""

    cluster_version: int | None
    wanted: tuple[DesiredState, Callable[[int], DesiredState]] | None = None


class Batch:
    """Syncs of several members of one cluster that share one read of the cluster's state
    (see the module's docstring); made by `Convergence.batch`."""

    def __init__(
        self,
        convergence: Convergence,
        applied: AppliedKeys,
        cluster_id: int,
        members: Members,
    ) -> None:
        self._convergence = convergence
        self._applied = applied
        self._cluster_id = cluster_id
        self._snapshot: _Snapshot | None = None
        self._members = members.version, {member.id: member for member in members.instances}
        self._turn: _Turn | None = None
        self.requests: Puts = {}
        self.changed = False

    def member(self, instance_id: int) -> Instance | None:
        """The instance, if it is a member of the cluster now: as the batch was given it
        while the cluster is unchanged, else read alone (it may have left meanwhile; reading
        all members again for each of 1,000 syncs cost more than the syncs)."""
        version, members = self._members
        if version is not None and version == self._this_turn().cluster_version:
            return members.get(instance_id)
        return self._convergence.member(self._cluster_id, instance_id)

    def _this_turn(self) -> _Turn:
        """The reads shared by the syncs that start in this turn of the event loop.

        A fan-out's syncs all begin in the same turn (their tasks are made together, and none
        waits before it reads), so nothing else can change the registry or the releases
        between their reads: one read serves them all. It is forgotten once the loop runs
        anything else, so a sync that had to wait for its member reads afresh."""
        if self._turn is None:
            self._turn = _Turn(self._convergence.cluster_version(self._cluster_id))
            asyncio.get_running_loop().call_soon(self._end_turn)
        return self._turn

    def _end_turn(self) -> None:
        self._turn = None

    def known(self, instance_id: int) -> tuple[DesiredState, dict[str, AppliedKey]]:
        """The desired state and what the member has of it, as of now."""
        cluster_id, version = self._cluster_id, self._convergence.desired_version(self._cluster_id)
        snapshot = self._snapshot
        if snapshot is None or snapshot.desired_version != version:
            snapshot = self._snapshot = _Snapshot(
                self._convergence.desired(cluster_id),
                version,
                self._applied.of_cluster(cluster_id),
                self._applied.mark(),
            )
        turn = self._this_turn()
        if turn.wanted is None or turn.wanted[0] is not snapshot.desired:
            wanted = self._convergence.holds.states(cluster_id, snapshot.desired)
            turn.wanted = snapshot.desired, wanted
        desired = turn.wanted[1](instance_id)
        if self._applied.changed_since(cluster_id, instance_id, snapshot.applied_mark):
            return desired, self._applied.of(cluster_id, instance_id)
        return desired, snapshot.applied.get(instance_id, {})


class Convergence:
    """Syncs members; `synced(cluster_id)` is called after a sync that changed something (once
    per batch). `desired_changed` must be told of every change of a cluster's desired state."""

    def __init__(
        self, services: Services, applied: AppliedKeys, synced: Callable[[int], None]
    ) -> None:
        self._services = services
        self._applied = applied
        self._synced = synced
        self._locks: dict[int, asyncio.Lock] = {}
        self._desired_versions: dict[int, int] = {}
        # A canary release in flight holds back the members outside its canary.
        self.holds = Holds(Releases(services.database), services.cluster_keys)

    def desired(self, cluster_id: int) -> DesiredState:
        return self._services.cluster_keys.state(cluster_id)

    def cluster_version(self, cluster_id: int) -> int | None:
        """Moves on with every change of the cluster's members or desired state, whichever
        clusterd on the database made it; None once the cluster is deleted."""
        return self._services.registry.cluster_version(cluster_id)

    def members(self, cluster_id: int) -> Members:
        """The cluster's members as the registry has them now, for a batch."""
        version = self.cluster_version(cluster_id)
        return Members(version, self._services.registry.members(cluster_id))

    def member(self, cluster_id: int, instance_id: int) -> Instance | None:
        """The instance, if it is a member of the cluster now."""
        return self._services.registry.member(cluster_id, instance_id)

    def desired_version(self, cluster_id: int) -> int:
        return self._desired_versions.get(cluster_id, 0)

    def desired_changed(self, cluster_id: int) -> None:
        self._desired_versions[cluster_id] = self.desired_version(cluster_id) + 1

    @contextmanager
    def batch(self, cluster_id: int, members: Members) -> Iterator[Batch]:
        """Run the block's syncs of `members` (`sync(..., batch=...)`) as one batch."""
        batch = Batch(self, self._applied, cluster_id, members)
        try:
            with self._applied.batch():
                yield batch
        finally:
            if batch.changed:
                self._synced(cluster_id)

    def member_lock(self, instance_id: int) -> asyncio.Lock:
        """Held while anything is sent to the member on behalf of a cluster."""
        return self._locks.setdefault(instance_id, asyncio.Lock())

    async def _call(self, instance: Instance, op: str, args: OperationArgs) -> OperationReply:
        try:
            return await self._services.gateway.call(
                instance, op, args, timeout=self._services.config.instance_timeout
            )
        except (InstanceUnreachable, InstanceTimeout) as error:
            raise _Unreachable(api_error(error, instance=instance.id)) from error

    async def sync(
        self,
        cluster_id: int,
        instance: Instance,
        *,
        retry: Collection[str] = (),
        full: bool = False,
        batch: Batch | None = None,
    ) -> dict[str, SyncResult]:
        """Send the member what it lacks; returns the outcome per key sent.

        A change the member already refused is sent again only if named in `retry`, or with
        `full`, which also retries every refusal and releases locks the member holds for
        keys the cluster no longer sets.
        """
        async with self.member_lock(instance.id):
            if batch is None:
                current = self.member(cluster_id, instance.id)
            else:
                current = batch.member(instance.id)
            if current is None:
                return {}
            if batch is None:
                desired = self.holds.state(cluster_id, current.id, self.desired(cluster_id))
                applied = self._applied.of(cluster_id, current.id)
                requests: Puts = {}
            else:
                desired, applied = batch.known(current.id)
                requests = batch.requests
            run = _Sync(self, cluster_id, current, desired, applied, requests)
            with self._applied.batch():
                outcomes = await run.run(retry, full)
        if outcomes or run.unlocked:
            if batch is None:
                self._synced(cluster_id)
            else:
                batch.changed = True
        return outcomes

    async def release(self, cluster_id: int, instance: Instance) -> None:
        """Unlock every key of the cluster on a member that left it; values stay. An offline
        member is unlocked when it returns (raises 502 saying so). What clusterd recorded of
        it as a member went with the registry change (`Registry.leave`, or a removal's
        cascade)."""
        async with self.member_lock(instance.id):
            try:
                await self._call(instance, "unlock", {"cluster": str(cluster_id)})
            except _Unreachable as unreachable:
                self._applied.owe_unlock(instance.id, cluster_id)
                raise BadGateway(
                    f"instance {instance.name!r} (id {instance.id}) cannot be reached: cluster"
                    f" {cluster_id}'s keys are unlocked on it when it returns"
                    f" ({unreachable.error.message})",
                    instance=instance.id,
                    cluster=cluster_id,
                ) from None
            except InstanceError as error:
                raise api_error(error, instance=instance.id) from error
            self._applied.unlocked(instance.id, cluster_id)


def _taken(row: AppliedKey | None) -> bool:
    """The member took some content of the key from the cluster (and so holds its lock)."""
    return row is not None and row.revision is not None


class _Sync:
    """One sync of one member: the work, what has been sent, and the outcomes."""

    def __init__(
        self,
        convergence: Convergence,
        cluster_id: int,
        instance: Instance,
        desired: DesiredState,
        applied: dict[str, AppliedKey],
        requests: Puts,
    ) -> None:
        self._convergence = convergence
        self._requests = requests
        self._applied = convergence._applied
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
        except _Unreachable as unreachable:
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
                reply = await self._convergence._call(
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
            reply = await self._convergence._call(self._instance, "set", args)
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
            await self._convergence._call(
                self._instance, "rm", {"key": name, "cluster": self._cluster}
            )
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
            await self._convergence._call(
                self._instance, "unlock", {"cluster": self._cluster, "keys": names}
            )
        except InstanceError as error:
            log.warning("instance %d: cannot unlock %s: %s", self._instance.id, names, error)
            return False
        self.unlocked.extend(names)
        return True
