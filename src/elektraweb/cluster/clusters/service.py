"""The interface of cluster configuration (fan-out, locks, convergence) as the dispatcher sees it.

The dispatcher owns the routes, roles and audit log; whatever implements `ClusterConfig` owns
what a cluster's keys mean for its members. Without one, cluster `kdb*` routes answer 501.
"""

from __future__ import annotations

from typing import Any, Protocol

from elektraweb.cluster.api.preview import TargetPreview
from elektraweb.cluster.store.registry import Cluster, Instance
from elektraweb.wire.replies import OperationArgs, OperationReply


class ClusterReply(OperationReply, total=False):
    """A cluster answers an operation as an instance does; a write adds each member's
    outcome, by member id (`fanout.results_json`), and its `changes` to the desired state."""

    members: dict[str, dict[str, Any]]


class ClusterConfig(Protocol):
    async def call(self, cluster: Cluster, op: str, args: OperationArgs) -> ClusterReply:
        """Run a KDB operation (docs/protocol.md §4, same arguments) on a cluster.

        Reads (`get`, `ls`, `find`, `export`) answer from the cluster's desired state, in the
        same shape an instance answers. Writes change the desired state and apply it to every
        member in parallel; the result reports one outcome per member (applied, rejected with
        the member's reason, pending because offline). Raise `errors.ApiError` subclasses or
        the gateway's errors to refuse.
        """
        ...

    async def preview(self, cluster: Cluster, op: str, args: OperationArgs) -> list[TargetPreview]:
        """What the write `op` would change, changing nothing: the cluster's desired state
        first (`{"cluster": id, ...}`), then each member as elektrad previews it. Raise
        `errors.ApiError` if the cluster itself refuses the write."""
        ...

    def check_member_write(self, instance: Instance, op: str, args: dict[str, Any]) -> None:
        """Before a write through an instance's own routes: raise `errors.Locked` (423),
        naming the cluster and key, if it touches a key that the instance's cluster owns."""
        ...

    async def member_joined(self, cluster: Cluster, instance: Instance) -> Any:
        """The instance was made a member: lock and apply the cluster's keys on it. Returns a
        JSON-able report for the response (e.g. applied, or pending while it is offline)."""
        ...

    async def member_left(self, cluster: Cluster, instance: Instance) -> None:
        """The instance left (or its cluster or itself was deleted): unlock the cluster's keys
        on it; their values stay."""
        ...

    def cluster_status(self, cluster_id: int) -> dict[str, Any]:
        """How far the cluster's members are from its keys (docs/clusters.md, Sync state):
        `{state, keys, members: {id: {state, pending, rejected, drift}}}`, `state` being the
        worst member's."""
        ...

    def member_status(self, instance: Instance) -> dict[str, Any] | None:
        """The instance's `{cluster, state, pending, rejected, drift}`; None outside clusters."""
        ...
