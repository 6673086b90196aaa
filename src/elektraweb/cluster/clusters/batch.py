"""Syncs of many members of one cluster that share their reads.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from elektraweb.cluster.clusters.member_sync import Puts
from elektraweb.cluster.store.applied_keys import AppliedKey, AppliedKeys
from elektraweb.cluster.store.cluster_keys import DesiredState
from elektraweb.cluster.store.instances import Instance

if TYPE_CHECKING:
    from elektraweb.cluster.clusters.convergence import Convergence


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
