"""Releasing the locks a member holds for clusters it is not a member of.

Two kinds, both released whenever clusterd brings the instance online (a catch-up, a join):

- owed: the member left a cluster while offline; clusterd recorded the unlock it owes
  (`AppliedKeys.owe_unlock`, table `cluster_unlocks`);
- stray: elektrad reports locks (`version`'s `locks`, docs/protocol.md §4) of a cluster clusterd
  owes nothing for: the owed row went with a removed instance's registry row (the host added
  again is a new instance) or was lost some other way.

The member's own cluster keeps its locks (its full sync releases what that cluster no longer
sets). Lock owners that are not cluster ids (no clusterd names a cluster so) are not clusterd's
and stay. Each release is logged and recorded in the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from elektraweb.cluster.clusters.convergence import Convergence
from elektraweb.cluster.clusters.drift import AUDIT_USER
from elektraweb.cluster.instances.gateway import GATEWAY_ERRORS, InstanceError
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.applied_keys import AppliedKeys
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.instances import Instance

log = logging.getLogger(__name__)


class Unlocks:
    """Settles a member's locks of clusters it is not in (see the module's docstring)."""

    def __init__(self, services: Services, applied: AppliedKeys, convergence: Convergence) -> None:
        self._services = services
        self._applied = applied
        self._convergence = convergence

    async def settle(self, instance: Instance) -> None:
        """Unlock, on the member, every cluster it holds locks of or is owed an unlock for,
        except the one it is a member of as the registry has it now. Stops quietly (and is
        tried again the next time) when the member cannot be reached."""
        gateway, timeout = self._services.gateway, self._services.config.instance_timeout
        async with self._convergence.member_lock(instance.id):
            try:
                held = _held(await gateway.call(instance, "version", {}, timeout=timeout))
            except GATEWAY_ERRORS as error:
                log.info("instance %d: cannot read its locks: %s", instance.id, error)
                if not isinstance(error, InstanceError):
                    return  # not reachable: nothing can be unlocked now
                held = None  # it answered: the owed unlocks are still known
            # Read under the member's lock, after its locks: a join since is not undone (its
            # sync waits for this lock and locks its cluster's keys again). From the database,
            # not the cache: a join on another replica, whose sync may already have locked its
            # keys, is seen before this replica hears of it.
            try:
                current = self._services.registry.instance(instance.id, cached=False).cluster_id
            except RecordNotFound:
                return
            owed = set(self._applied.unlocks_owed(instance.id))
            if current in owed:
                # It rejoined: a full sync releases whatever that cluster no longer sets.
                self._applied.unlocked(instance.id, current)
            for cluster_id in sorted((owed | set(held or {})) - {current}):
                try:
                    await gateway.call(
                        instance, "unlock", {"cluster": str(cluster_id)}, timeout=timeout
                    )
                except GATEWAY_ERRORS as error:
                    log.info(
                        "instance %d: still cannot unlock cluster %d: %s",
                        instance.id,
                        cluster_id,
                        error,
                    )
                    return
                self._applied.unlocked(instance.id, cluster_id)
                keys = None if held is None else held.get(cluster_id, 0)
                self._released(instance, cluster_id, keys, cluster_id in owed)

    def _released(self, instance: Instance, cluster_id: int, keys: int | None, owed: bool) -> None:
        why = "left it while offline" if owed else "not a member"
        log.info(
            "instance %d: released cluster %d's locks (%s keys; %s)",
            instance.id,
            cluster_id,
            "?" if keys is None else keys,
            why,
        )
        self._services.audit.record(
            user=AUDIT_USER,
            action="unlock",
            target_type="instance",
            target_id=instance.id,
            before={"cluster": cluster_id, "locked": keys},
            result={"ok": True, "cluster": cluster_id, "reason": why},
        )


def _held(version: object) -> dict[int, int] | None:
    """Cluster id → how many keys it holds locked, from a `version` reply; None from an
    elektrad that does not tell (older than `locks`)."""
    locks = version.get("locks") if isinstance(version, Mapping) else None
    if not isinstance(locks, Mapping):
        return None
    return {
        int(owner): count
        for owner, count in locks.items()
        if isinstance(owner, str) and _is_cluster_id(owner) and isinstance(count, int)
    }


def _is_cluster_id(owner: str) -> bool:
    """A lock owner clusterd names: a cluster id as `str(cluster_id)` writes it."""
    return owner.isascii() and owner.isdigit() and owner == str(int(owner))
