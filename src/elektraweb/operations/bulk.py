"""How a commit of many keys is published: one subtree event per namespace it touched instead
of one event per key (docs/protocol.md §5). elektrad publishes its commits so, and clusterd a
cluster's writes to its desired state (docs/websocket.md): per-key events of a 20k-key import
overflowed every subscriber's queue, and each made the browser read again."""

from __future__ import annotations

from collections.abc import Sequence

from elektraweb.kdb import names
from elektraweb.operations.store import KeyChange
from elektraweb.wire.messages import SubtreeEvent

COALESCE_ABOVE = 32
"""A commit of more keys than this is published as subtree events."""


def committed_parent(changes: Sequence[KeyChange]) -> str:
    """The deepest name every changed key is at or below (what libelektra's zeromqsend names)."""
    parent = changes[0].key
    for change in changes[1:]:
        parent = names.common_parent(parent, change.key)
    return parent


def subtree_events(changes: Sequence[KeyChange], origin: str) -> list[SubtreeEvent]:
    """One `SubtreeEvent` per namespace `changes` touched, in the order the namespaces' first
    changes came, counting the keys created, changed and removed there."""
    by_namespace: dict[str, list[KeyChange]] = {}
    for change in changes:
        by_namespace.setdefault(names.namespace_of(change.key), []).append(change)
    return [
        SubtreeEvent(
            key=committed_parent(group),
            created=sum(change.old is None for change in group),
            changed=sum(change.old is not None and change.new is not None for change in group),
            removed=sum(change.new is None for change in group),
            origin=origin,
        )
        for group in by_namespace.values()
    ]
