"""What the cluster service publishes on the event hub (docs/websocket.md, docs/clusters.md):
each change of a cluster's desired state under `cluster/<id>/<key>` (one event per namespace's
subtree for a commit of more than `COALESCE_ABOVE` keys), its sync status under
`cluster/<id>/status`, and drift reports.

An event nobody receives (no subscription matches, no other replica listens) is not built:
the status, recomputed over every member, is the dearest of them (`EventHub.wanted`).
"""

from __future__ import annotations

from collections.abc import Callable

from elektraweb.cluster.clusters.service import ClusterSyncJSON
from elektraweb.cluster.events.hub import EventHub
from elektraweb.kdb.key import Key
from elektraweb.operations.bulk import COALESCE_ABOVE, subtree_events
from elektraweb.operations.representation import state_json
from elektraweb.operations.store import KeyChange
from elektraweb.wire.json_value import EncodableObject
from elektraweb.wire.messages import SubtreeEvent


class Announcements:
    """Publishes a cluster's changes and status on `hub`; with no hub, publishes nothing."""

    def __init__(self, hub: EventHub | None) -> None:
        self._hub = hub

    def publish(self, topic: str, data: EncodableObject) -> None:
        if self._hub is not None:
            self._hub.publish(topic, data)

    def wanted(self, topic: str) -> bool:
        return self._hub is not None and self._hub.wanted(topic)

    def changes(self, cluster_id: int, changes: list[KeyChange]) -> None:
        """Each key's change, or for more than `COALESCE_ABOVE` keys one event per
        namespace's subtree."""
        if len(changes) > COALESCE_ABOVE:
            for event in subtree_events(changes, f"cluster:{cluster_id}"):
                self._subtree(cluster_id, event)
            return
        for change in changes:
            self._key(cluster_id, change.key, change.old, change.new)

    def status(self, cluster_id: int, status: Callable[[], ClusterSyncJSON | None]) -> None:
        """The cluster's sync status, worked out by `status` (None: nothing to show) only if
        someone receives it."""
        topic = f"cluster/{cluster_id}/status"
        if not self.wanted(topic):
            return
        shown = status()
        if shown is not None:
            self.publish(topic, {"cluster": cluster_id, **shown})

    def _key(self, cluster_id: int, name: str, old: Key | None, new: Key | None) -> None:
        topic = f"cluster/{cluster_id}/{name}"
        if self.wanted(topic):
            change = {"key": name, "old": state_json(old), "new": state_json(new)}
            self.publish(topic, {"cluster": cluster_id, **change})

    def _subtree(self, cluster_id: int, event: SubtreeEvent) -> None:
        self.publish(
            f"cluster/{cluster_id}/{event.key}",
            {
                "cluster": cluster_id,
                "subtree": event.key,
                "created": event.created,
                "changed": event.changed,
                "removed": event.removed,
            },
        )
