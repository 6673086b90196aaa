"""Drift: a key a cluster owns, changed on a member behind everybody's back.

elektrad refuses writes to locked keys, but a local `kdb set` or an editor saving a mounted file
goes around it. clusterd notices in two ways: the member's change feed (an event for the key
whose origin is not the cluster), and a check that reads the member's keys when it comes back
and periodically (changes made while the member's daemon or clusterd was down leave no event).

Either way the key counts as drifted only if the member's revision differs from the one it
reported right after the cluster last applied the key. Drift is recorded in the audit log
(action `drift`, target the member, `before` what was found, `after` what was restored), the
key is restored to the cluster's value, and `cluster/<id>/drift/<key>` is published.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from elektraweb.cluster.clusters.convergence import Convergence
from elektraweb.cluster.instances.gateway import GATEWAY_ERRORS
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.applied_keys import AppliedKeys
from elektraweb.cluster.store.instances import Instance
from elektraweb.kdb.key import Key
from elektraweb.operations.representation import key_revision, state_json
from elektraweb.wire.json_value import Encodable, EncodableObject, JSONObject
from elektraweb.wire.messages import Event, KeyState

log = logging.getLogger(__name__)

AUDIT_USER = "clusterd"
"""Who the audit log names for changes clusterd makes on its own."""

Publish = Callable[[str, EncodableObject], None]


def found_state(state: KeyState | None) -> JSONObject | None:
    """What an event says the member now has, as the drift report shows it."""
    return None if state is None else {"value": state.value, "meta": dict(state.meta)}


class DriftWatch:
    def __init__(
        self,
        services: Services,
        applied: AppliedKeys,
        convergence: Convergence,
        publish: Publish,
    ) -> None:
        self._services = services
        self._applied = applied
        self._convergence = convergence
        self._publish = publish

    def drifted(self, instance: Instance, event: Event) -> Key | None:
        """The cluster's key if `event` shows a key of `instance`'s cluster drifted."""
        cluster_id = instance.cluster_id
        if cluster_id is None or event.origin == f"cluster:{cluster_id}":
            return None
        return self._differs(cluster_id, instance, event.key, event.revision)

    def _differs(
        self, cluster_id: int, instance: Instance, name: str, revision: str | None
    ) -> Key | None:
        desired = self._convergence.holds.key(cluster_id, instance.id, name)
        row = self._applied.of(cluster_id, instance.id).get(name)
        # Not applied yet (or being restored already): the pending sync puts it right.
        if desired is None or row is None or row.revision != key_revision(desired):
            return None
        return desired if revision != row.observed else None

    async def restore(
        self,
        instance: Instance,
        desired: Key,
        found: JSONObject | None,
        origin: str | None,
    ) -> bool:
        """Record the drift, restore the cluster's key, publish what happened; True if
        restored."""
        cluster_id = instance.cluster_id
        assert cluster_id is not None
        name = desired.name
        log.warning(
            "instance %d: cluster %d's key %s drifted (origin %s); restoring it",
            instance.id,
            cluster_id,
            name,
            origin or "unknown",
        )
        self._applied.drifted(cluster_id, instance.id, name, {"found": found})
        outcome = (await self._convergence.sync(cluster_id, instance, retry=[name])).get(name)
        restored = outcome is not None and outcome.status == "applied"
        report: dict[str, Encodable] = {
            "cluster": cluster_id,
            "instance": instance.id,
            "key": name,
            "origin": origin,
            "found": found,
            "desired": state_json(desired),
            "restored": restored,
        }
        if outcome is not None and outcome.error is not None:
            report["error"] = outcome.error
        self._services.audit.record(
            user=AUDIT_USER,
            action="drift",
            target_type="instance",
            target_id=instance.id,
            key=name,
            before=found,
            after=state_json(desired) if restored else found,
            result={"ok": restored, **report},
        )
        self._publish(f"cluster/{cluster_id}/drift/{name}", report)
        return restored

    async def check(self, instance: Instance) -> int:
        """Read every applied key of the member's cluster from it and restore those that
        drifted; returns how many did. Stops quietly when the member cannot be reached."""
        cluster_id = instance.cluster_id
        if cluster_id is None:
            return 0
        desired = self._convergence.holds.state(
            cluster_id, instance.id, self._convergence.desired(cluster_id)
        )
        applied = self._applied.of(cluster_id, instance.id)
        names = [
            name
            for name in desired
            if name in applied and applied[name].revision == desired.revision(name)
        ]
        timeout = self._services.config.instance_timeout
        gateway = self._services.gateway
        try:
            # Read while no sync runs, so an answer is never compared with a newer apply.
            async with self._convergence.member_lock(instance.id):
                answers = await asyncio.gather(
                    *(gateway.call(instance, "get", {"key": n}, timeout=timeout) for n in names)
                )
        except GATEWAY_ERRORS as error:
            log.info("instance %d: drift check stopped: %s", instance.id, error)
            return 0
        restored = 0
        for name, answer in zip(names, answers, strict=True):
            drifted = self._differs(cluster_id, instance, name, answer.get("revision"))
            if drifted is None:
                continue
            found = (
                {"value": answer.get("value"), "meta": answer.get("meta", {})}
                if answer.get("exists")
                else None
            )
            restored += await self.restore(instance, drifted, found, None)
        return restored
