"""A member's keys that its cluster owns: a write through the instance routes that touches
one is refused with 423 before it reaches the instance (docs/clusters.md), naming the key and
the cluster. The touched names are worked out as elektrad sees them (docs/protocol.md §3,
`cluster`), so clusterd refuses what elektrad's locks would.
"""

from __future__ import annotations

from collections.abc import Mapping

from elektraweb.cluster.api.errors import Locked
from elektraweb.cluster.clusters.desired_store import api_error_of
from elektraweb.cluster.store.cluster_keys import DesiredState
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.operations.arguments import canonical_name
from elektraweb.wire.errors import RemoteError, bad_request
from elektraweb.wire.replies import OperationArgs


def owned_key(state: DesiredState, op: str, args: OperationArgs) -> tuple[str, str] | None:
    """`(owned, asked)`: the first key of `state` the write touches and the key it names;
    None if it touches none. Raises the API's 400 for arguments that name no key."""
    try:
        exact, subtrees = _touched(op, args)
    except RemoteError as error:
        raise api_error_of(error) from None
    owned = _owned(state, exact, subtrees)
    return None if owned is None else (owned, _name(op, args, "key"))


def refusal(cluster: Cluster, op: str, owned: str, asked: str) -> Locked:
    touches = "" if owned == asked else f" ({op} of {asked} touches it)"
    return Locked(
        f"key {owned} is owned by cluster {cluster.name!r} (id {cluster.id}){touches}:"
        " change it through the cluster, or take the instance out of the cluster first",
        key=owned,
        cluster=cluster.id,
    )


def _touched(op: str, args: OperationArgs) -> tuple[list[str], list[str]]:
    """The names a write touches exactly, and the subtrees it may touch, as elektrad sees
    them; the first is the request's key."""
    key = _name(op, args, "key")
    recursive = args.get("recursive") is True
    if op in ("set-all", "import"):
        return [], [key]
    if op == "restore":
        raw_keys, raw_removals = args.get("keys"), args.get("removals")
        entries = [entry if isinstance(entry, dict) else {} for entry in raw_keys or []]
        put = [_name(op, entry, "name") for entry in entries]
        removed = [_name(op, {"key": name}, "key") for name in raw_removals or []]
        return [*put, *removed], []
    if op == "rm":
        return ([], [key]) if recursive else ([key], [])
    if op in ("mv", "cp"):
        target = _name(op, args, "target")
        return ([], [key, target]) if recursive else ([key, target], [])
    return [key], []


def _name(op: str, args: Mapping[str, object], member: str) -> str:
    raw = args.get(member)
    if not isinstance(raw, str):
        raise bad_request(f"{op}: argument {member!r} must be a key name, got {raw!r:.60}")
    return canonical_name(raw)


def _owned(state: DesiredState, exact: list[str], subtrees: list[str]) -> str | None:
    """The first name the cluster sets among `exact`, or at or below one of `subtrees`."""
    for name in exact:
        if name in state:
            return name
    for root in subtrees:
        found = state.keyset.below(root).names()
        if found:
            return found[0]
    return None
