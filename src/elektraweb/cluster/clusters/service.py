"""The cluster service's interface (fan-out, locks, convergence), as the dispatcher sees it.

The dispatcher owns the routes, roles and audit log; whatever implements `ClusterService` owns
what a cluster's keys mean for its members. Without one, cluster `kdb*` routes answer 501.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NotRequired, Protocol, TypedDict

from elektraweb.cluster.api.preview import TargetPreview
from elektraweb.cluster.store.cluster_keys import Row
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.cluster.store.instances import Instance
from elektraweb.operations.store import KeyChange
from elektraweb.wire.json_value import EncodableObject
from elektraweb.wire.replies import OperationArgs, OperationReply


class MemberResultJSON(TypedDict):
    """What became of a cluster's change on one member (`fanout.MemberResult`)."""

    name: str
    status: str
    error: NotRequired[EncodableObject]
    refused: NotRequired[list[str]]


class JoinedJSON(MemberResultJSON):
    """What became of the cluster's keys on a new member, and how many there are."""

    keys: int


class ClusterReply(OperationReply, total=False):
    """A cluster answers an operation as an instance does; a write adds each member's
    outcome, by member id (`fanout.results_json`), and its `changes` to the desired state."""

    members: dict[str, MemberResultJSON]


class MemberSyncJSON(TypedDict):
    """How far one member is from its cluster's keys (docs/clusters.md, Sync state)."""

    state: str
    pending: int
    rejected: dict[str, EncodableObject]
    drift: list[str]


class InstanceSyncJSON(MemberSyncJSON):
    """A member's sync state, shown on its instance: with the cluster's id."""

    cluster: int


class ClusterSyncJSON(TypedDict):
    """The worst member's `state`, the number of `keys`, each member's state by id."""

    state: str
    keys: int
    members: dict[str, MemberSyncJSON]


class ClusterService(Protocol):
    async def call(self, cluster: Cluster, op: str, args: OperationArgs) -> ClusterReply:
        """Run a KDB operation (docs/protocol.md §4, same arguments) on a cluster.

        Reads (`get`, `ls`, `find`, `export`) answer from the cluster's desired state, in the
        same shape an instance answers. Writes change the desired state and apply it to every
        member in parallel; the result reports one outcome per member (applied, rejected with
        the member's reason, pending because offline) and, as an instance's does, the written
        key's `changes`: its desired state before and after, which the audit log records.
        Raise `errors.ApiError` subclasses or the gateway's errors to refuse.
        """
        ...

    async def preview(self, cluster: Cluster, op: str, args: OperationArgs) -> list[TargetPreview]:
        """What the write `op` would change, changing nothing: the cluster's desired state
        first (`{"cluster": id, ...}`), then each member as elektrad previews it. Raise
        `errors.ApiError` if the cluster itself refuses the write."""
        ...

    def planned(
        self, cluster: Cluster, op: str, args: OperationArgs, draft: Mapping[str, Row | None]
    ) -> list[KeyChange]:
        """The changes the write `op` would make to the cluster's desired state, with the
        keys of `draft` put in first (None: removed), changing nothing. Raise
        `errors.ApiError` if the cluster refuses the write."""
        ...

    def check_member_write(self, instance: Instance, op: str, args: OperationArgs) -> None:
        """Before a write through an instance's own routes: raise `errors.Locked` (423),
        naming the cluster and key, if it touches a key that the instance's cluster owns."""
        ...

    async def member_joined(self, cluster: Cluster, instance: Instance) -> JoinedJSON:
        """The instance was made a member: lock and apply the cluster's keys on it. Returns a
        report for the response (e.g. applied, or pending while it is offline)."""
        ...

    async def member_left(self, cluster: Cluster, instance: Instance) -> None:
        """The instance left (or its cluster or itself was deleted): unlock the cluster's keys
        on it; their values stay."""
        ...

    def cluster_status(self, cluster: Cluster) -> ClusterSyncJSON:
        """How far the cluster's members (as `cluster` lists them) are from its keys
        (docs/clusters.md, Sync state): `{state, keys, members: {id: {state, pending,
        rejected, drift}}}`, `state` being the worst member's."""
        ...

    def member_status(self, instance: Instance) -> InstanceSyncJSON | None:
        """The instance's `{cluster, state, pending, rejected, drift}`; None outside clusters."""
        ...
