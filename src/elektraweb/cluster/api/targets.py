"""Where a KDB operation runs: one instance (through the gateway) or one cluster (through the
cluster service). Both answer `call(op, args)` with the daemon link's operations, and
`write(op, args)` with the write's reply and its key's state before and after (for the audit
log), which both report among the reply's `changes`; both raise API errors that name the
target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import cast

from elektraweb.cluster.api.errors import (
    ApiError,
    BadGateway,
    Conflict,
    GatewayTimeout,
    NotImplementedYet,
)
from elektraweb.cluster.api.preview import (
    TargetPreview,
    accepted,
    cluster_at,
    instance_at,
    refused,
)
from elektraweb.cluster.audit.history import KeyState
from elektraweb.cluster.audit.log import KeyChange, TargetType
from elektraweb.cluster.clusters.service import ClusterService
from elektraweb.cluster.instances.gateway import GATEWAY_ERRORS, api_error
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.cluster_keys import Row
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.cluster.store.instances import Instance
from elektraweb.operations.store import KeyChange as PlannedChange
from elektraweb.wire.replies import (
    ChangeJSON,
    KeyStateJSON,
    OperationArgs,
    OperationReply,
)

REPORTED_CHANGES = ("changes", "changes_truncated")
"""Result members in which elektrad reports what a write did (docs/protocol.md §4)."""


@dataclass(frozen=True)
class Written:
    """A write's reply and its key's state before and after it. A state that could not be
    learnt is None, with the reason under ``before_unknown`` or ``after_unknown`` in
    ``unknown``. ``changes`` are every key the write changed, as the target reported them
    (for the history, docs/api.md §History), cut short where ``changes_truncated``."""

    reply: OperationReply
    before: KeyState
    after: KeyState
    unknown: dict[str, str] = field(default_factory=dict)
    changes: list[ChangeJSON] = field(default_factory=list)
    changes_truncated: bool = False


def audited_changes(written: Written) -> list[KeyChange]:
    """The keys the write changed, with their states as the audit log keeps them."""
    return [
        (change["key"], _as_audited(change["old"]), _as_audited(change["new"]))
        for change in written.changes
        if change["old"] != change["new"]
    ]


def _reported(reply: OperationReply) -> tuple[OperationReply, list[ChangeJSON], bool]:
    """The reply to pass on, and the changes (and whether they were cut short) it reported."""
    passed_on = {name: value for name, value in reply.items() if name not in REPORTED_CHANGES}
    changes = reply.get("changes") or []
    return cast(OperationReply, passed_on), changes, bool(reply.get("changes_truncated"))


async def read_state(target: Target, key: str) -> KeyState:
    """The key's value and metadata, or None if it does not exist."""
    found = await target.call("get", {"key": key, "depth": 0, "ls_limit": 1})
    if not found.get("exists"):
        return None
    return {"value": found.get("value"), "meta": found.get("meta", {})}


async def _read_back(
    target: Target, reply: OperationReply, key: str, before: KeyState, unknown: dict[str, str]
) -> Written:
    try:
        after = await read_state(target, key)
    except ApiError as error:
        # The write succeeded; only reading it back failed. Record that, do not fail the write.
        return Written(reply, before, None, {**unknown, "after_unknown": error.message})
    return Written(reply, before, after, unknown)


async def _reported_write(target: Target, op: str, args: OperationArgs) -> Written:
    """One round trip: the target's reply reports the key's state before and after, first
    among its `changes`, which the reply passed on leaves out."""
    reply, reported, truncated = _reported(await target.call(op, args))
    key = args["key"]
    if reported and reported[0]["key"] == key:
        old, new = _as_audited(reported[0]["old"]), _as_audited(reported[0]["new"])
        return Written(reply, old, new, {}, reported, truncated)
    # An elektrad from before digests were reported: what the key holds now is all there is.
    reason = f"{target.kind} {target.id} did not report the state of {key} (too large)"
    written = await _read_back(target, reply, key, None, {"before_unknown": reason})
    return replace(written, changes=reported, changes_truncated=truncated)


def _as_audited(state: KeyStateJSON | None) -> KeyState:
    """A reported state; a value too large to report is its digest, as the audit keeps it."""
    if state is None:
        return None
    if "value_digest" in state:
        return {"value": state["value_digest"], "meta": state["meta"]}
    return {"value": state.get("value"), "meta": state["meta"]}


SUBTREE_WRITES = frozenset({"import", "set-all"})
RECURSIVE_WRITES = frozenset({"mv", "cp", "rm"})
"""Operations that write a whole subtree (the second kind only with `recursive`), so take the
longer deadline; a write of one key keeps the short one."""


def writes_subtree(op: str, args: OperationArgs) -> bool:
    return op in SUBTREE_WRITES or (op in RECURSIVE_WRITES and args.get("recursive") is True)


class InstanceTarget:
    kind: TargetType = "instance"

    def __init__(self, services: Services, instance: Instance) -> None:
        self._services = services
        self.id = instance.id
        self.instance = instance

    async def call(self, op: str, args: OperationArgs) -> OperationReply:
        config = self._services.config
        subtree = writes_subtree(op, args)
        timeout = config.subtree_write_timeout if subtree else config.instance_timeout
        try:
            return await self._services.gateway.call(self.instance, op, args, timeout=timeout)
        except GATEWAY_ERRORS as error:
            raise api_error(error, instance=self.id) from error

    async def write(self, op: str, args: OperationArgs) -> Written:
        return await _reported_write(self, op, args)

    async def preview(self, op: str, args: OperationArgs) -> list[TargetPreview]:
        """What the write would change on the instance, or how it would be refused."""
        where = instance_at(self.id)
        try:
            self.check_write(op, args)
            reply = await self.call(op, {**args, "preview": True})
        except (GatewayTimeout, BadGateway):
            raise
        except ApiError as error:
            return [refused(where, error)]
        _, reported, truncated = _reported(reply)
        return [accepted(where, reported, truncated)]

    def check_write(self, op: str, args: OperationArgs) -> None:
        """Refuse (423) a write to a key that the instance's cluster owns."""
        cluster_service = self._services.cluster_service
        if cluster_service is not None and self.instance.cluster_id is not None:
            cluster_service.check_member_write(self.instance, op, args)


class ClusterTarget:
    kind: TargetType = "cluster"

    def __init__(
        self, services: Services, cluster_service: ClusterService, cluster: Cluster
    ) -> None:
        self._services = services
        self._cluster_service = cluster_service
        self.id = cluster.id
        self.cluster = cluster

    async def call(self, op: str, args: OperationArgs) -> OperationReply:
        if op == "explain":
            return await self.explain(args["key"])
        try:
            return await self._cluster_service.call(self.cluster, op, args)
        except GATEWAY_ERRORS as error:
            raise api_error(error, cluster=self.id) from error

    async def explain(self, key: str) -> OperationReply:
        """The members hold the specification: the first member that answers explains the
        key, as it resolves there (``member`` names it). BadGateway if none answers."""
        member, reply = await self.first_member("explain", {"key": key})
        return cast(OperationReply, {**reply, "member": member})

    async def first_member(self, op: str, args: OperationArgs) -> tuple[int, OperationReply]:
        """The read `op` on the first member that answers, and that member's id; BadGateway
        if none answers."""
        members = self._services.registry.members(self.id)
        for member in members:
            try:
                reply = await self._services.gateway.call(
                    member, op, args, timeout=self._services.config.instance_timeout
                )
            except GATEWAY_ERRORS:
                continue
            return member.id, reply
        raise BadGateway(
            f"no member of cluster {self.id} answered: its specification is not known",
            cluster=self.id,
        )

    def planned(
        self, op: str, args: OperationArgs, draft: Mapping[str, Row | None] | None = None
    ) -> list[PlannedChange]:
        """The changes the write would make to the desired state (with `draft`'s keys put in
        first), changing nothing; the API error the write would meet if refused."""
        return self._cluster_service.planned(self.cluster, op, args, draft or {})

    async def write(self, op: str, args: OperationArgs) -> Written:
        """The cluster service reports the key's change as elektrad does: from the desired
        state it changed, so the audit needs no read of it before or after."""
        return await _reported_write(self, op, args)

    async def preview(self, op: str, args: OperationArgs) -> list[TargetPreview]:
        """The change of the cluster's desired state, then each member's preview; a write
        the cluster itself refuses reaches no member."""
        try:
            return await self._cluster_service.preview(self.cluster, op, args)
        except ApiError as error:
            return [refused(cluster_at(self.id), error)]
        except GATEWAY_ERRORS as error:
            raise api_error(error, cluster=self.id) from error

    def check_write(self, op: str, args: OperationArgs) -> None:
        """A cluster owns its keys: nothing to check."""


Target = InstanceTarget | ClusterTarget


def instance_target(services: Services, instance_id: int) -> InstanceTarget:
    instance = services.registry.instance(instance_id)
    if instance.state == "pending":
        raise Conflict(
            f"instance {instance.name!r} (id {instance.id}) is pending: an admin must accept it"
            " before clusterd talks to it",
            code="instance-pending",
            instance=instance.id,
        )
    return InstanceTarget(services, instance)


def cluster_target(services: Services, cluster_id: int) -> ClusterTarget:
    cluster = services.registry.cluster(cluster_id)
    if services.cluster_service is None:
        raise NotImplementedYet("the cluster service is not available in this clusterd")
    return ClusterTarget(services, services.cluster_service, cluster)
