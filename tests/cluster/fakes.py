"""Test doubles for clusterd's tests: a cluster service that applies nothing, and an HTTP
client. Instances are not faked: see tests/support/inprocess.py."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from elektraweb.cluster.api.errors import BadRequest, Locked
from elektraweb.cluster.api.preview import TargetPreview, accepted, cluster_at
from elektraweb.cluster.clusters.service import (
    ClusterReply,
    ClusterSyncJSON,
    InstanceSyncJSON,
    JoinedJSON,
    MemberResultJSON,
)
from elektraweb.cluster.clusters.sync_state import cluster_state, member_state
from elektraweb.cluster.instances.gateway import InstanceError
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.cluster_keys import DesiredState, Row
from elektraweb.cluster.store.clusters import Cluster
from elektraweb.cluster.store.instances import Instance
from elektraweb.kdb.key import Key
from elektraweb.operations.representation import wire_value
from elektraweb.operations.store import KeyChange
from elektraweb.wire.replies import KeyStateJSON, OperationArgs

ADMIN_PASSWORD = "admin-secret-1"
USER_PASSWORD = "user-secret-1"


class FakeClusterService:
    """A cluster service that keeps desired keys in `ClusterKeys` and applies nothing (so its
    members are always pending every key): enough to see the dispatcher route cluster
    requests, audit them, honour locks and show sync states."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.calls: list[tuple[int, str, OperationArgs]] = []
        self.joined: list[tuple[int, int]] = []
        self.left: list[tuple[int, int]] = []

    async def call(self, cluster: Cluster, op: str, args: OperationArgs) -> ClusterReply:
        self.calls.append((cluster.id, op, args))
        keys = self.services.cluster_keys
        if op == "get":
            found = keys.key(cluster.id, args["key"])
            state: ClusterReply = {"exists": found is not None, "name": "", "path": args["key"]}
            state["ls"] = [args["key"]] if found else []
            if found is not None:
                meta = dict(found.meta)
                state.update({"value": wire_value(found), "meta": meta, "revision": "r"})
            return state
        if op == "set":
            keys.put(cluster.id, Key(args["key"], args["value"]))
            applied: MemberResultJSON = {"name": "", "status": "applied"}
            return {"members": {str(m): applied for m in cluster.members}}
        raise InstanceError("bad-request", f"the fake cluster does not do {op}")

    async def preview(self, cluster: Cluster, op: str, args: OperationArgs) -> list[TargetPreview]:
        """A set's change to the desired state; the fake previews nothing on members."""
        if op != "set":
            raise InstanceError("bad-request", f"the fake cluster does not preview {op}")
        found = self.services.cluster_keys.key(cluster.id, args["key"])
        old: KeyStateJSON | None = None
        if found is not None:
            old = {"value": wire_value(found), "meta": dict(found.meta)}
        new: KeyStateJSON = {"value": args["value"], "meta": {} if old is None else old["meta"]}
        return [accepted(cluster_at(cluster.id), [{"key": args["key"], "old": old, "new": new}])]

    def planned(
        self, cluster: Cluster, op: str, args: OperationArgs, draft: Mapping[str, Row | None]
    ) -> list[KeyChange]:
        raise BadRequest(f"the fake cluster does not plan {op}")

    def check_member_write(self, instance: Instance, op: str, args: OperationArgs) -> None:
        assert instance.cluster_id is not None
        if self.services.cluster_keys.key(instance.cluster_id, args["key"]) is not None:
            raise Locked(
                f"key {args['key']} is owned by cluster {instance.cluster_id}",
                key=args["key"],
                cluster=instance.cluster_id,
            )

    async def member_joined(self, cluster: Cluster, instance: Instance) -> JoinedJSON:
        self.joined.append((cluster.id, instance.id))
        keys = len(self.services.cluster_keys.state(cluster.id))
        return {"name": instance.name, "status": "pending", "keys": keys}

    async def member_left(self, cluster: Cluster, instance: Instance) -> None:
        self.left.append((cluster.id, instance.id))

    def cluster_status(self, cluster: Cluster) -> ClusterSyncJSON:
        desired = self._desired(cluster.id)
        members = {member: member_state(desired, {}) for member in cluster.members}
        return cluster_state(members, len(desired))

    def member_status(self, instance: Instance) -> InstanceSyncJSON | None:
        cluster_id = instance.cluster_id
        if cluster_id is None:
            return None
        return {"cluster": cluster_id, **member_state(self._desired(cluster_id), {})}

    def _desired(self, cluster_id: int) -> DesiredState:
        return self.services.cluster_keys.state(cluster_id)


@dataclass
class Answer:
    status: int
    body: Any
    headers: Any


class Client:
    """An HTTP client of the running clusterd; `headers` go with every request."""

    def __init__(self, base: str, headers: dict[str, str] | None = None) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), headers=headers or {}
        )

    async def request(self, method: str, path: str, body: Any = None, **options: Any) -> Answer:
        if body is not None and "data" not in options:
            options["json"] = body
        async with self.session.request(method, self.base + path, **options) as response:
            text = await response.text()
            content = (
                json.loads(text) if text and response.content_type == "application/json" else text
            )
            return Answer(response.status, content, response.headers)

    async def get(self, path: str, **options: Any) -> Answer:
        return await self.request("GET", path, **options)

    async def post(self, path: str, body: Any = None, **options: Any) -> Answer:
        return await self.request("POST", path, body, **options)

    async def put(self, path: str, body: Any = None, **options: Any) -> Answer:
        return await self.request("PUT", path, body, **options)

    async def delete(self, path: str, body: Any = None, **options: Any) -> Answer:
        return await self.request("DELETE", path, body, **options)

    async def login(self, user: str, password: str) -> Answer:
        return await self.post("/api/login", {"user": user, "password": password})

    async def close(self) -> None:
        await self.session.close()
