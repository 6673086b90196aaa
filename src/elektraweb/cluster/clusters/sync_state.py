"""How far each member is from its cluster's desired state: the work still to do, and the
sync state shown to users (`in-sync`, `pending`, `rejected`, `drift`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from elektraweb.cluster.clusters.service import ClusterSyncJSON, MemberSyncJSON
from elektraweb.cluster.store.applied_keys import AppliedKey
from elektraweb.cluster.store.cluster_keys import DesiredState
from elektraweb.kdb.key import Key
from elektraweb.wire.json_value import EncodableObject

STATES = ("in-sync", "pending", "rejected", "drift")
"""From best to worst; a cluster is in the worst state of its members."""


@dataclass(frozen=True)
class Work:
    """What a member still needs: keys to put and keys to remove, each with the member's
    refusal of that very change if it refused it already; and keys the cluster no longer sets
    that the member refused and never took: only their locks are left to release."""

    puts: tuple[Key, ...]
    removals: tuple[str, ...]
    refused: Mapping[str, EncodableObject]
    forgotten: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.puts) + len(self.removals)


def work_of(desired: DesiredState, applied: Mapping[str, AppliedKey]) -> Work:
    puts: list[Key] = []
    refused: dict[str, EncodableObject] = {}
    for name in sorted(desired):
        row, wanted = applied.get(name), desired.revision(name)
        if row is None or row.revision != wanted:
            puts.append(desired[name])
            if row is not None and row.rejected is not None and row.rejected.revision == wanted:
                refused[name] = row.rejected.error
    removals: list[str] = []
    forgotten: list[str] = []
    for name, row in sorted(applied.items()):
        if name in desired:
            continue
        if row.revision is None and row.rejected is not None and row.drift is None:
            forgotten.append(name)  # nothing to remove, only its lock
            continue
        removals.append(name)
        if row.rejected is not None and row.rejected.revision is None:
            refused[name] = row.rejected.error
    return Work(tuple(puts), tuple(removals), refused, tuple(forgotten))


def member_state(desired: DesiredState, applied: Mapping[str, AppliedKey]) -> MemberSyncJSON:
    """`{state, pending, rejected: {key: error}, drift: [keys]}` of one member."""
    work = work_of(desired, applied)
    drift = sorted(name for name, row in applied.items() if row.drift is not None)
    if drift:
        state = "drift"
    elif work.refused:
        state = "rejected"
    elif work.count:
        state = "pending"
    else:
        state = "in-sync"
    return {"state": state, "pending": work.count, "rejected": dict(work.refused), "drift": drift}


def cluster_state(members: Mapping[int, MemberSyncJSON], keys: int) -> ClusterSyncJSON:
    """`{state, keys, members: {id: member state}}`: the worst member's state."""
    worst = max((STATES.index(member["state"]) for member in members.values()), default=0)
    return {
        "state": STATES[worst],
        "keys": keys,
        "members": {str(instance_id): member for instance_id, member in members.items()},
    }
