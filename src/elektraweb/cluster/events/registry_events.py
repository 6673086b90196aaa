"""Changes of the registry and entries of the audit log, as events on the hub.

Every change clusterd makes is recorded in the audit log (by the routes, the drift watch, the
first start), so listening to the log sees them all. Each entry is published as
`audit/<target type>/<target id>` (the entry's JSON, as `GET /api/audit` shows it), and an
entry that changed the registry first as `registry/instance/<id>` or `registry/cluster/<id>`
(`{action, instance}` or `{action, cluster}`; joining and leaving add `membership`). The
payloads are described in docs/websocket.md.
"""

from __future__ import annotations

import contextlib

from aiohttp import web

from elektraweb.cluster.audit.log import AuditEntry
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.services import SERVICES, Extension
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.registry import Registry
from elektraweb.wire.json_value import JSON, as_object

_DONE = {
    "add": "added",
    "change": "changed",
    "remove": "removed",
    "accept": "accepted",
    "reject": "removed",
}
"""The audit verb of an instance or cluster change → the registry event's `action`."""
_GONE = frozenset({"remove", "reject"})


def audit_topic(entry: AuditEntry) -> str:
    if entry.target_id is None:
        return f"audit/{entry.target_type}"
    return f"audit/{entry.target_type}/{entry.target_id}"


class RegistryEvents:
    """An audit listener that publishes every entry, and the registry changes among them."""

    def __init__(self, hub: EventHub, registry: Registry) -> None:
        self._hub = hub
        self._registry = registry

    def __call__(self, entry: AuditEntry) -> None:
        kind, _, verb = entry.action.partition(".")
        if kind in ("instance", "cluster") and verb in _DONE:
            self._stored_changed(kind, verb, entry)
        elif kind == "member" and verb in ("add", "remove") and entry.target_id is not None:
            # A member entry is the cluster's; the instance is named in `after` or `before`.
            named = as_object(entry.after if verb == "add" else entry.before, "a member entry")
            action = "joined" if verb == "add" else "left"
            self._membership(action, int(entry.target_id), named["instance"])
        topic = audit_topic(entry)
        if self._hub.wanted(topic):  # two entries per write: its JSON only for a receiver
            self._hub.publish(topic, entry.to_json())

    def _stored_changed(self, kind: str, verb: str, entry: AuditEntry) -> None:
        """An instance or a cluster was added, changed or removed. Its JSON comes from the
        entry: after the change, or as it was before its removal, which also ends its
        membership."""
        subject = as_object(entry.before if verb in _GONE else entry.after, f"a {kind} entry")
        self._hub.publish(
            f"registry/{kind}/{subject['id']}", {"action": _DONE[verb], kind: subject}
        )
        if verb not in _GONE:
            return
        if kind == "instance" and subject["cluster"] is not None:
            self._membership("left", subject["cluster"], subject["id"])
        elif kind == "cluster" and isinstance(subject["members"], list):
            for member in subject["members"]:
                self._membership("left", subject["id"], member)

    def _membership(self, action: str, cluster_id: JSON, instance_id: JSON) -> None:
        """Publish that the instance joined or left the cluster on the cluster's topic and the
        instance's, each with its JSON as the registry has it now. A side that is gone (the
        removal that ended the membership, or a concurrent request's) has its own event."""
        if not isinstance(cluster_id, int) or not isinstance(instance_id, int):
            raise TypeError(f"a membership names two ids, not {cluster_id!r} and {instance_id!r}")
        membership = {"cluster": cluster_id, "instance": instance_id}
        with contextlib.suppress(RecordNotFound):
            cluster = self._registry.cluster(cluster_id).to_json()
            self._hub.publish(
                f"registry/cluster/{cluster_id}",
                {"action": action, "cluster": cluster, "membership": membership},
            )
        with contextlib.suppress(RecordNotFound):
            instance = self._registry.instance(instance_id).to_json()
            self._hub.publish(
                f"registry/instance/{instance_id}",
                {"action": action, "instance": instance, "membership": membership},
            )


def registry_events_extension(hub: EventHub) -> Extension:
    """The clusterd extension that publishes the audit log and the registry's changes on
    `hub`, from the app's start on."""

    def extend(app: web.Application) -> None:
        services = app[SERVICES]
        services.audit.subscribe(RegistryEvents(hub, services.registry))

    return extend
