"""Bringing the members of a cluster in line with its desired state.

One sync runs at a time per member; members sync in parallel. A member's sync checks at its
start that the instance still belongs to the cluster, and its outcomes are stored only while
it does (`AppliedKeys`), so a leave, on this clusterd or another, never leaves outcomes behind.

A sync of one member is a `MemberSync` (`member_sync`); syncs of many members at once share
their reads in a `Batch` (`batch`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager

from elektraweb.cluster.api.errors import BadGateway
from elektraweb.cluster.clusters.batch import Batch, Members
from elektraweb.cluster.clusters.member_sync import MemberSync, Puts, SyncResult, Unreachable
from elektraweb.cluster.clusters.releases import Holds
from elektraweb.cluster.instances.gateway import (
    InstanceError,
    InstanceTimeout,
    InstanceUnreachable,
    api_error,
)
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.applied_keys import AppliedKeys
from elektraweb.cluster.store.cluster_keys import DesiredState
from elektraweb.cluster.store.instances import Instance
from elektraweb.cluster.store.releases import Releases
from elektraweb.wire.replies import OperationArgs, OperationReply


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
            raise Unreachable(api_error(error, instance=instance.id)) from error

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
            run = MemberSync(
                self._call, self._applied, cluster_id, current, desired, applied, requests
            )
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
            except Unreachable as unreachable:
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
