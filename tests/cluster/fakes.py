"""Test doubles for clusterd's tests: in-process instances and an HTTP client.

`FakeGateway` stands in for the daemon link: each `FakeDaemon` is one host's KDB in a dict,
answering the operations of docs/protocol.md with the same result and error shapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import zmq

from elektraweb.cluster.cluster_keys import DesiredKey
from elektraweb.cluster.desired_changes import WRITES
from elektraweb.cluster.errors import Locked
from elektraweb.cluster.gateway import InstanceError, InstanceTimeout, InstanceUnreachable
from elektraweb.cluster.registry import Cluster, Instance, parse_endpoint
from elektraweb.cluster.services import Services
from elektraweb.cluster.sync_state import DesiredKeys, cluster_state, member_state
from elektraweb.kdb import names
from elektraweb.wire.revision import revision

ADMIN_PASSWORD = "admin-secret-1"
USER_PASSWORD = "user-secret-1"
OFFLINE_SINCE = "2026-01-01T00:00:00Z"


def new_public_key() -> str:
    return zmq.curve_keypair()[0].decode()


class Locks(dict[str, str]):
    """The keys a daemon holds locked: key name → the id of the cluster that owns it."""

    def add(self, key: str, cluster: str = "another") -> None:
        """Lock `key` for a cluster (by default one no test writes as)."""
        self[key] = cluster


@dataclass
class FakeDaemon:
    """One instance: its key, its KDB (name → (value, meta)), the keys clusters locked on it,
    and how it fails. Like elektrad (docs/protocol.md §3, §4) it takes a write's `cluster`,
    keeps `lock`s and refuses writes that touch a key locked by another cluster."""

    public_key: str = field(default_factory=new_public_key)
    keys: dict[str, tuple[str | None, dict[str, str]]] = field(default_factory=dict)
    reachable: bool = True
    silent: bool = False
    hostname: str = "host"
    locked: Locks = field(default_factory=Locks)

    def run(self, op: str, args: dict[str, Any]) -> Any:
        args = dict(args)
        cluster = args.pop("cluster", None)
        if op == "lock":
            return self._lock(cluster, args["keys"])
        if op == "unlock":
            return self._unlock(cluster, args.get("keys"))
        if op in WRITES:
            self._check_locks(op, args, cluster)
        handler = getattr(self, "_" + op.replace("-", "_"), None)
        if handler is None:
            raise InstanceError("bad-request", f"unknown operation {op!r}")
        if op not in WRITES:
            return handler(**args)
        before = dict(self.keys)
        return {**handler(**args), "changes": self._changes(before, names.canonical(args["key"]))}

    def _changes(
        self, before: dict[str, tuple[str | None, dict[str, str]]], key: str
    ) -> list[dict[str, Any]]:
        """What a write did, as elektrad reports it: `key` first, changed or not, then every
        other changed key in order (docs/protocol.md §4, Changes)."""

        def state(entry: tuple[str | None, dict[str, str]] | None) -> dict[str, Any] | None:
            return None if entry is None else {"value": entry[0], "meta": dict(entry[1])}

        changed = [name for name in before.keys() | self.keys.keys()
                   if name != key and before.get(name) != self.keys.get(name)]
        return [
            {"key": name, "old": state(before.get(name)), "new": state(self.keys.get(name))}
            for name in [key, *sorted(changed, key=names.sort_key)]
        ]

    def change_behind_its_back(self, key: str, value: str | None) -> str | None:
        """What a local `kdb set` (or `kdb rm`, for None) does; returns the new revision."""
        if value is None:
            self.keys.pop(key, None)
            return None
        meta = self.keys.get(key, (None, {}))[1]
        self.keys[key] = (value, meta)
        return revision(value, meta)

    def _owned(self, cluster: str) -> dict[str, Any]:
        owned = sorted(key for key, owner in self.locked.items() if owner == cluster)
        return {"cluster": cluster, "keys": owned}

    def _lock(self, cluster: str, keys: list[str]) -> dict[str, Any]:
        for key in keys:
            owner = self.locked.get(key)
            if owner is not None and owner != cluster:
                raise InstanceError("locked", f"key {key} is owned by cluster {owner}", key=key)
        self.locked.update(dict.fromkeys(keys, cluster))
        return self._owned(cluster)

    def _unlock(self, cluster: str, keys: list[str] | None) -> dict[str, Any]:
        for key in [key for key, owner in self.locked.items() if owner == cluster]:
            if keys is None or key in keys:
                del self.locked[key]
        return self._owned(cluster)

    def _check_locks(self, op: str, args: dict[str, Any], cluster: str | None) -> None:
        roots = [args["key"], *([args["target"]] if "target" in args else [])]
        subtree = args.get("recursive") or op in ("set-all", "import")
        for key, owner in self.locked.items():
            if owner == cluster:
                continue
            if any(key == root or (subtree and names.is_below(key, root)) for root in roots):
                raise InstanceError(
                    "locked", f"key {key} is owned by cluster {owner}: only it may", key=key
                )

    def _mounts(self) -> dict[str, Any]:
        return {"mounts": [], "mount_dirs": []}

    def _version(self) -> dict[str, Any]:
        return {
            "protocol": 1,
            "elektra": {"version": "0.11.0", "major": 0, "minor": 11, "micro": 0},
            "instance": self.public_key,
            "hostname": self.hostname,
            "mounts": [],
        }

    def _below(self, key: str) -> list[str]:
        return sorted(
            (name for name in self.keys if names.is_below_or_same(name, key)), key=names.sort_key
        )

    def _get(self, key: str, depth: int = 0, ls_limit: int = 10000) -> dict[str, Any]:
        name = names.canonical(key)
        found: dict[str, Any] = {
            "exists": name in self.keys,
            "name": names.basename(name),
            "path": name,
            "ls": self._below(name)[:ls_limit],
        }
        if name in self.keys:
            value, meta = self.keys[name]
            found.update(value=value, meta=dict(meta), revision=revision(value, meta))
        return found

    def _check(self, name: str, expect: Any) -> None:
        if expect is ...:
            return
        current = self.keys.get(name)
        if (None if current is None else revision(*current)) != expect:
            raise InstanceError("conflict", f"key {name} changed since it was read", key=name)

    def _set(
        self,
        key: str,
        value: str | None,
        meta: dict[str, str | None] | None = None,
        expect: Any = ...,
    ) -> dict[str, Any]:
        name = names.canonical(key)
        self._check(name, expect)
        updated = {**self.keys.get(name, (None, {}))[1], **(meta or {})}
        # A null entry removes that metadata (docs/protocol.md §4, `set`).
        current_meta = {entry: text for entry, text in updated.items() if text is not None}
        if current_meta.get("check/type") == "long" and not (value or "").lstrip("-").isdigit():
            raise InstanceError(
                "validation",
                f"the value {value!r} of key {name} is not a long",
                key=name,
                elektra="C03100",
            )
        created = name not in self.keys
        self.keys[name] = (value, current_meta)
        return {"key": name, "revision": revision(value, current_meta), "created": created}

    def _rm(self, key: str, recursive: bool = False, expect: Any = ...) -> dict[str, Any]:
        name = names.canonical(key)
        self._check(name, expect)
        doomed = self._below(name) if recursive else [n for n in (name,) if n in self.keys]
        if not doomed:
            raise InstanceError("not-found", f"key {name} does not exist", key=name)
        for gone in doomed:
            del self.keys[gone]
        return {"removed": len(doomed)}

    def _copy(self, key: str, target: str, force: bool, remove: bool) -> int:
        source, target = names.canonical(key), names.canonical(target)
        moving = self._below(source)
        if not moving:
            raise InstanceError("not-found", f"key {source} does not exist", key=source)
        for name in moving:
            new_name = names.child(target, *names.relative_parts(name, source))
            if new_name in self.keys and not force:
                raise InstanceError("conflict", f"target {new_name} exists", key=new_name)
            self.keys[new_name] = self.keys[name]
            if remove:
                del self.keys[name]
        return len(moving)

    def _mv(
        self, key: str, target: str, recursive: bool = False, force: bool = False, expect: Any = ...
    ) -> dict[str, Any]:
        return {"target": target, "moved": self._copy(key, target, force, remove=True)}

    def _cp(
        self, key: str, target: str, recursive: bool = False, force: bool = False, expect: Any = ...
    ) -> dict[str, Any]:
        return {"target": target, "copied": self._copy(key, target, force, remove=False)}

    def _meta_bulk(self, key: str, meta: dict[str, str | None], expect: Any = ...) -> Any:
        name = names.canonical(key)
        self._check(name, expect)
        value, current = self.keys.get(name, (None, {}))
        updated = {**current, **meta}
        self.keys[name] = (value, {k: v for k, v in updated.items() if v is not None})
        return {"key": name, "revision": revision(*self.keys[name])}

    def _meta_set(self, key: str, name: str, value: str, expect: Any = ...) -> Any:
        return self._meta_bulk(key, {name: value}, expect)

    def _meta_rm(self, key: str, name: str, expect: Any = ...) -> Any:
        if names.canonical(key) not in self.keys:
            raise InstanceError("not-found", f"key {key} does not exist", key=key)
        return self._meta_bulk(key, {name: None}, expect)

    def _ls(
        self, key: str, depth: int | None = None, cursor: str | None = None, limit: int = 1000
    ) -> dict[str, Any]:
        return {"keys": self._below(names.canonical(key))[:limit], "next": None}

    def _export(self, key: str, format: str) -> dict[str, Any]:
        base = names.canonical(key)
        lines = [f"{name} = {self.keys[name][0]}" for name in self._below(base)]
        return {"format": format, "data": "\n".join(lines)}

    def _find(
        self, regex: str, values: bool = False, under: str | None = None, limit: int = 1000
    ) -> dict[str, Any]:
        try:
            pattern = re.compile(regex)
        except re.error as error:
            raise InstanceError("bad-request", f"invalid regex {regex!r}: {error}") from None
        found = [
            name
            for name, (value, _) in sorted(self.keys.items())
            if pattern.search(name) or (values and value is not None and pattern.search(value))
        ]
        return {"keys": found[:limit], "truncated": len(found) > limit}


@dataclass
class FakeGateway:
    """The in-process gateway: daemons by endpoint, and what was asked of them."""

    daemons: dict[str, FakeDaemon] = field(default_factory=dict)
    calls: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    forgotten: list[int] = field(default_factory=list)
    closed: bool = False

    def daemon(self, endpoint: str) -> FakeDaemon:
        """A new daemon listening at `endpoint`."""
        daemon = FakeDaemon()
        self.daemons[parse_endpoint(endpoint).identity] = daemon
        return daemon

    def _reach(self, endpoint: str, public_key: str) -> FakeDaemon:
        daemon = self.daemons.get(parse_endpoint(endpoint).identity)
        if daemon is None or not daemon.reachable:
            raise InstanceUnreachable(f"connection to {endpoint} refused")
        if daemon.public_key != public_key:
            # As the real link reports it: the CURVE handshake with that key fails.
            raise InstanceUnreachable(f"{endpoint} refused the handshake with key {public_key}")
        if daemon.silent:
            raise InstanceTimeout(f"{endpoint} did not answer within the deadline")
        return daemon

    async def call(
        self, instance: Instance, op: str, args: dict[str, Any], *, timeout: float = 5.0
    ) -> Any:
        self.calls.append((instance.id, op, args))
        return self._reach(instance.endpoint, instance.public_key).run(op, args)

    async def identify(self, endpoint: str, public_key: str, *, timeout: float = 5.0) -> Any:
        return self._reach(endpoint, public_key).run("version", {})

    def status(self, instance: Instance) -> dict[str, Any]:
        """As `WireGateway` reports it: a daemon that went away is down since a (fixed) time;
        with no daemon at the endpoint, no link was ever up."""
        daemon = self.daemons.get(parse_endpoint(instance.endpoint).identity)
        if daemon is None:
            return {"online": False}
        if daemon.reachable:
            return {"online": True}
        return {"online": False, "offline_since": OFFLINE_SINCE}

    async def forget(self, instance: Instance) -> None:
        self.forgotten.append(instance.id)

    async def close(self) -> None:
        self.closed = True


class FakeClusterConfig:
    """A cluster service that keeps desired keys in `ClusterKeys` and applies nothing (so its
    members are always pending every key): enough to see the dispatcher route cluster
    requests, audit them, honour locks and show sync states."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.calls: list[tuple[int, str, dict[str, Any]]] = []
        self.joined: list[tuple[int, int]] = []
        self.left: list[tuple[int, int]] = []

    async def call(self, cluster: Cluster, op: str, args: dict[str, Any]) -> Any:
        self.calls.append((cluster.id, op, args))
        keys = self.services.cluster_keys
        if op == "get":
            found = keys.key(cluster.id, args["key"])
            state: dict[str, Any] = {"exists": found is not None, "name": "", "path": args["key"]}
            state["ls"] = [args["key"]] if found else []
            if found is not None:
                state.update(value=found.value, meta=dict(found.meta), revision="r")
            return state
        if op == "set":
            keys.put(cluster.id, DesiredKey(args["key"], args["value"]))
            return {"members": {str(m): "applied" for m in cluster.members}}
        raise InstanceError("bad-request", f"the fake cluster does not do {op}")

    def check_member_write(self, instance: Instance, op: str, args: dict[str, Any]) -> None:
        assert instance.cluster_id is not None
        if self.services.cluster_keys.key(instance.cluster_id, args["key"]) is not None:
            raise Locked(
                f"key {args['key']} is owned by cluster {instance.cluster_id}",
                key=args["key"],
                cluster=instance.cluster_id,
            )

    async def member_joined(self, cluster: Cluster, instance: Instance) -> Any:
        self.joined.append((cluster.id, instance.id))
        return {"applied": len(self.services.cluster_keys.keys(cluster.id))}

    async def member_left(self, cluster: Cluster, instance: Instance) -> None:
        self.left.append((cluster.id, instance.id))

    def cluster_status(self, cluster_id: int) -> dict[str, Any]:
        desired = self._desired(cluster_id)
        members = {
            member.id: member_state(desired, {})
            for member in self.services.registry.members(cluster_id)
        }
        return cluster_state(members, len(desired))

    def member_status(self, instance: Instance) -> dict[str, Any] | None:
        cluster_id = instance.cluster_id
        if cluster_id is None:
            return None
        return {"cluster": cluster_id, **member_state(self._desired(cluster_id), {})}

    def _desired(self, cluster_id: int) -> DesiredKeys:
        return DesiredKeys(self.services.cluster_keys.keys(cluster_id))


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
