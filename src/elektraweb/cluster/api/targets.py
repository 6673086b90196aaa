"""Where a KDB operation runs: one instance (through the gateway) or one cluster (through the
cluster service). Both answer `call(op, args)` with the daemon link's operations, and
`write(op, args)` with the write's reply and its key's state before and after (for the audit
log); both raise API errors that name the target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict, cast

from elektraweb.cluster.api.errors import ApiError, BadGateway, NotImplementedYet
from elektraweb.cluster.audit.log import TargetType
from elektraweb.cluster.clusters.service import ClusterConfig
from elektraweb.cluster.instances.gateway import GATEWAY_ERRORS, api_error
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.registry import Cluster, Instance
from elektraweb.wire.replies import KeyStateJSON, OperationArgs, OperationReply, ValueDigestJSON


class AuditedState(TypedDict):
    value: str | ValueDigestJSON | None
    meta: dict[str, str]


KeyState = AuditedState | None
"""A key's ``{"value", "meta"}`` as the audit log keeps it (a value too large to report is its
digest), or None where it does not exist."""

REPORTED_CHANGES = ("changes", "changes_truncated")
"""Result members in which elektrad reports what a write did (docs/protocol.md §4)."""


@dataclass(frozen=True)
class Written:
    """A write's reply and its key's state before and after it. A state that could not be
    learnt is None, with the reason under ``before_unknown`` or ``after_unknown`` in
    ``unknown``."""

    reply: OperationReply
    before: KeyState
    after: KeyState
    unknown: dict[str, str] = field(default_factory=dict)


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


def _as_audited(state: KeyStateJSON | None) -> KeyState:
    """A reported state; a value too large to report is its digest, as the audit keeps it."""
    if state is None:
        return None
    if "value_digest" in state:
        return {"value": state["value_digest"], "meta": state["meta"]}
    return {"value": state.get("value"), "meta": state["meta"]}


class InstanceTarget:
    kind: TargetType = "instance"

    def __init__(self, services: Services, instance: Instance) -> None:
        self._services = services
        self.id = instance.id
        self.instance = instance

    async def call(self, op: str, args: OperationArgs) -> OperationReply:
        try:
            return await self._services.gateway.call(
                self.instance, op, args, timeout=self._services.config.instance_timeout
            )
        except GATEWAY_ERRORS as error:
            raise api_error(error, instance=self.id) from error

    async def write(self, op: str, args: OperationArgs) -> Written:
        """One round trip: elektrad's reply reports the key's state before and after, first
        among its `changes`, which the reply passed on leaves out."""
        reply = await self.call(op, args)
        reported = reply.get("changes") or []
        passed_on = {name: value for name, value in reply.items() if name not in REPORTED_CHANGES}
        reply = cast(OperationReply, passed_on)
        key = args["key"]
        if reported and reported[0]["key"] == key:
            return Written(reply, _as_audited(reported[0]["old"]), _as_audited(reported[0]["new"]))
        # An elektrad from before digests were reported: what the key holds now is all there is.
        reason = f"instance {self.id} did not report the state of {key} (too large)"
        return await _read_back(self, reply, key, None, {"before_unknown": reason})

    def check_write(self, op: str, args: OperationArgs) -> None:
        """Refuse (423) a write to a key that the instance's cluster owns."""
        cluster_config = self._services.cluster_config
        if cluster_config is not None and self.instance.cluster_id is not None:
            cluster_config.check_member_write(self.instance, op, args)


class ClusterTarget:
    kind: TargetType = "cluster"

    def __init__(self, services: Services, cluster_config: ClusterConfig, cluster: Cluster) -> None:
        self._services = services
        self._cluster_config = cluster_config
        self.id = cluster.id
        self.cluster = cluster

    async def call(self, op: str, args: OperationArgs) -> OperationReply:
        if op == "explain":
            return await self.explain(args["key"])
        try:
            return await self._cluster_config.call(self.cluster, op, args)
        except GATEWAY_ERRORS as error:
            raise api_error(error, cluster=self.id) from error

    async def explain(self, key: str) -> OperationReply:
        """The members hold the specification: the first member that answers explains the
        key, as it resolves there (``member`` names it). BadGateway if none answers."""
        members = self._services.registry.members(self.id)
        for member in members:
            try:
                reply = await self._services.gateway.call(
                    member, "explain", {"key": key}, timeout=self._services.config.instance_timeout
                )
            except GATEWAY_ERRORS:
                continue
            return cast(OperationReply, {**reply, "member": member.id})
        raise BadGateway(
            f"no member of cluster {self.id} answered: its specification is not known",
            cluster=self.id,
        )

    async def write(self, op: str, args: OperationArgs) -> Written:
        """The cluster's desired state is clusterd's own: reading it around the write costs
        no round trip to any member."""
        key = args["key"]
        before = await read_state(self, key)
        return await _read_back(self, await self.call(op, args), key, before, {})

    def check_write(self, op: str, args: OperationArgs) -> None:
        """A cluster owns its keys: nothing to check."""


Target = InstanceTarget | ClusterTarget


def instance_target(services: Services, instance_id: int) -> InstanceTarget:
    return InstanceTarget(services, services.registry.instance(instance_id))


def cluster_target(services: Services, cluster_id: int) -> ClusterTarget:
    cluster = services.registry.cluster(cluster_id)
    if services.cluster_config is None:
        raise NotImplementedYet("cluster configuration is not available in this clusterd")
    return ClusterTarget(services, services.cluster_config, cluster)
