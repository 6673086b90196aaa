"""In-process members that honour cluster locks, and waiting helpers, for the cluster
service's unit tests.

`LockingDaemon` adds what elektrad does for clusters (docs/protocol.md §3, §4) to `FakeDaemon`:
the `cluster` argument, `lock`/`unlock`, and refusing writes that touch another's locked key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from elektraweb.cluster.events import Event, Subscription
from elektraweb.cluster.gateway import InstanceError
from elektraweb.cluster.registry import Instance, parse_endpoint
from elektraweb.kdb import names
from elektraweb.wire.revision import revision

from ..fakes import FakeDaemon, FakeGateway


@dataclass
class LockingDaemon(FakeDaemon):
    owners: dict[str, str] = field(default_factory=dict)
    """Locked key name → the cluster that owns it."""

    def run(self, op: str, args: dict[str, Any]) -> Any:
        args = dict(args)
        cluster = args.pop("cluster", None)
        if op == "lock":
            return self._lock_keys(cluster, args["keys"])
        if op == "unlock":
            return self._unlock_keys(cluster, args.get("keys"))
        self._check_locks(op, args, cluster)
        return super().run(op, args)

    def _owned(self, cluster: str) -> dict[str, Any]:
        owned = sorted(key for key, owner in self.owners.items() if owner == cluster)
        return {"cluster": cluster, "keys": owned}

    def _lock_keys(self, cluster: str, keys: list[str]) -> dict[str, Any]:
        for key in keys:
            owner = self.owners.get(key)
            if owner is not None and owner != cluster:
                raise InstanceError("locked", f"key {key} is owned by cluster {owner}", key=key)
        self.owners.update(dict.fromkeys(keys, cluster))
        return self._owned(cluster)

    def _unlock_keys(self, cluster: str, keys: list[str] | None) -> dict[str, Any]:
        for key in [k for k, c in self.owners.items() if c == cluster]:
            if keys is None or key in keys:
                del self.owners[key]
        return self._owned(cluster)

    def _check_locks(self, op: str, args: dict[str, Any], cluster: str | None) -> None:
        if op in ("get", "ls", "find", "export", "version", "mounts"):
            return
        roots = [args["key"], *([args["target"]] if "target" in args else [])]
        subtree = args.get("recursive") or op in ("set-all", "import")
        for key, owner in self.owners.items():
            if owner == cluster:
                continue
            if any(key == root or (subtree and names.is_below(key, root)) for root in roots):
                raise InstanceError(
                    "locked", f"key {key} is owned by cluster {owner}: only it may", key=key
                )

    def _set(
        self, key: str, value: str | None, meta: dict[str, Any] | None = None, expect: Any = ...
    ) -> dict[str, Any]:
        # As elektrad: a null metadata entry removes it (FakeDaemon would store the null).
        result = super()._set(key, value, {k: v for k, v in (meta or {}).items() if v}, expect)
        removed = [name for name, entry in (meta or {}).items() if entry is None]
        if removed:
            value, current = self.keys[result["key"]]
            kept = {name: entry for name, entry in current.items() if name not in removed}
            self.keys[result["key"]] = (value, kept)
            result["revision"] = revision(value, kept)
        return result

    def change_behind_its_back(self, key: str, value: str | None) -> str | None:
        """What a local `kdb set` (or `kdb rm`, for None) does; returns the new revision."""
        if value is None:
            self.keys.pop(key, None)
            return None
        meta = self.keys.get(key, (None, {}))[1]
        self.keys[key] = (value, meta)
        return revision(value, meta)


class LockingGateway(FakeGateway):
    """Reports a down daemon the way `WireGateway` does once its link dropped."""

    def daemon(self, endpoint: str) -> LockingDaemon:
        daemon = LockingDaemon()
        self.daemons[parse_endpoint(endpoint).identity] = daemon
        return daemon

    def status(self, instance: Instance) -> dict[str, Any]:
        online = super().status(instance)["online"]
        return {"online": online, "offline_since": None if online else "2026-01-01T00:00:00Z"}


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Wait until `check()` is truthy (background work finished) and return it."""
    async with asyncio.timeout(timeout):
        while not (result := check()):
            await asyncio.sleep(0.01)
    return result


async def next_event(subscription: Subscription, timeout: float = 5.0) -> Event:
    async with asyncio.timeout(timeout):
        return await anext(subscription)
