"""Applying a change of a cluster's desired state to all its members at once.

Members are synced in parallel, each answering one result: `applied`, `rejected` with the
member's reason, or `pending` because it is offline (it catches up when it returns). A member
the gateway knows to be down is not waited for. The members' syncs run as one batch
(`Convergence.batch`): one read of the cluster's state, one transaction for the outcomes, one
report of the change however many members there are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from elektraweb.cluster.clusters.batch import Batch, Members
from elektraweb.cluster.clusters.convergence import Convergence
from elektraweb.cluster.clusters.member_sync import Status, SyncResult
from elektraweb.cluster.clusters.service import MemberResultJSON
from elektraweb.cluster.instances.gateway import InstanceGateway, LinkStatusJSON
from elektraweb.cluster.store.instances import Instance
from elektraweb.wire.json_value import EncodableObject


@dataclass(frozen=True)
class MemberResult:
    instance: Instance
    status: Status
    error: EncodableObject | None = None
    """The first refusal (`rejected`) or why the member was not reached (`pending`)."""
    refused: tuple[str, ...] = ()
    applied_any: bool = False

    def to_json(self) -> MemberResultJSON:
        result: MemberResultJSON = {"name": self.instance.name, "status": self.status}
        if self.error is not None:
            result["error"] = self.error
        if self.refused:
            result["refused"] = list(self.refused)
        return result


def known_offline(status: LinkStatusJSON) -> bool:
    """The link went down (rather than: was never opened, which a call opens)."""
    return not status["online"] and status["offline_since"] is not None


def _result(
    instance: Instance, outcomes: Mapping[str, SyncResult], names: Collection[str] | None
) -> MemberResult:
    relevant = [
        (name, outcome)
        for name, outcome in sorted(outcomes.items())
        if names is None or name in names
    ]
    applied_any = any(outcome.status == "applied" for _, outcome in outcomes.items())
    refused = tuple(name for name, outcome in relevant if outcome.status == "rejected")
    if refused:
        first = next(outcome for _, outcome in relevant if outcome.status == "rejected")
        return MemberResult(instance, "rejected", first.error, refused, applied_any)
    for _, outcome in relevant:
        if outcome.status == "pending":
            return MemberResult(instance, "pending", outcome.error, (), applied_any)
    return MemberResult(instance, "applied", None, (), applied_any)


async def fan_out(
    convergence: Convergence,
    gateway: InstanceGateway,
    cluster_id: int,
    members: Members,
    names: Collection[str] | None,
) -> list[MemberResult]:
    """Sync every member; each result covers the keys in `names` (None: a full sync, for a new
    member, covering every key)."""

    async def one(member: Instance, batch: Batch) -> MemberResult:
        offline_since = gateway.offline_since(member)
        if offline_since is not None:
            reason = {
                "code": "unreachable",
                "message": f"instance {member.name!r} is offline since"
                f" {offline_since}: it receives the change when it returns",
            }
            return MemberResult(member, "pending", reason)
        if names is None:
            outcomes = await convergence.sync(cluster_id, member, full=True, batch=batch)
        else:
            outcomes = await convergence.sync(cluster_id, member, retry=names, batch=batch)
        return _result(member, outcomes, names)

    with convergence.batch(cluster_id, members) as batch:
        return list(await asyncio.gather(*(one(member, batch) for member in members.instances)))


def results_json(results: list[MemberResult]) -> dict[str, MemberResultJSON]:
    """One result per member, by instance id (as a string: JSON object keys)."""
    return {str(result.instance.id): result.to_json() for result in results}
