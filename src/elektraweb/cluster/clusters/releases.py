"""What a canary release in flight means for a cluster's members (docs/clusters.md, Releases).

The desired state (`cluster_keys`) always holds the latest published content, the release's
included: a cluster's reads, previews and history show it. While a release is a canary, its
row keeps the previous state of every key it changed (`held`); each member outside its canary
is *held back*: convergence, drift and the sync state compare it with the desired state with
those keys put back (`Holds.state`, `Holds.key`). So the canary members get the release and
keep it, the others keep the previous content and are not pushed the canary's; a drifted held
key is restored to its previous state. Promoting ends the hold (`promote`), and a full sync
brings the held-back members up to date; rolling back reverts the release's audit entry,
which puts the previous content into the desired state, then ends the hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from elektraweb.cluster.clusters.service import ClusterService, JoinedJSON
from elektraweb.cluster.store.cluster_keys import ClusterKeys, DesiredState, Row, key_of_row
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.cluster.store.registry import Registry
from elektraweb.cluster.store.releases import HeldState, Release, Releases
from elektraweb.kdb.key import Key


def _held_row(state: HeldState) -> Row | None:
    return None if state is None else (state["value"], state["meta"])


class Holds:
    """The desired state as each member should have it while a canary is in flight."""

    def __init__(self, releases: Releases, cluster_keys: ClusterKeys) -> None:
        self._releases = releases
        self._cluster_keys = cluster_keys

    def state(self, cluster_id: int, instance_id: int, desired: DesiredState) -> DesiredState:
        """`desired` (the cluster's) as the member should have it."""
        return self.states(cluster_id, desired)(instance_id)

    def states(self, cluster_id: int, desired: DesiredState) -> Callable[[int], DesiredState]:
        """`state` for every member of the cluster, from one read of the release in flight
        (a cluster's sync state takes it for each of its members)."""
        hold = self._releases.hold(cluster_id)
        if hold is None:
            return lambda instance_id: desired
        canary, held = hold
        held_back = desired.replaced({name: _held_row(state) for name, state in held.items()})
        return lambda instance_id: desired if instance_id in canary else held_back

    def key(self, cluster_id: int, instance_id: int, name: str) -> Key | None:
        """Key `name` as the member should have it (None: it should not have it)."""
        held = self._releases.held_for(cluster_id, instance_id)
        if name in held:
            row = _held_row(held[name])
            return None if row is None else key_of_row(name, *row)
        return self._cluster_keys.key(cluster_id, name)


async def promote(
    service: ClusterService, registry: Registry, releases: Releases, cluster: Cluster,
    release: Release,
) -> dict[str, JoinedJSON]:  # fmt: skip
    """End the release's hold and bring every member outside its canary up to date (a full
    sync, as when a member joins); one report per member, by id."""
    releases.settle(release.id, "published")
    held_back = [m for m in registry.members(cluster.id) if m.id not in release.canary]
    reports = await asyncio.gather(*(service.member_joined(cluster, m) for m in held_back))
    return {str(member.id): report for member, report in zip(held_back, reports, strict=True)}
