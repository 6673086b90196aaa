"""Resolving pending audit entries: writes whose outcome clusterd never learnt (it crashed, or
the reply was lost), decided by reading their target (docs/security.md §5).

Entries are resolved when clusterd starts, when their instance comes back online, and every
`interval` seconds; with other replicas on the database, only entries older than twice the
longest request deadline, since a younger one may be another replica's write in flight.
The key's state now tells the outcome: `applied` if it is what the write makes,
`not-applied` if it is not (the write never ran, was refused, or was overwritten since),
`unknown` for writes whose effect one key does not show (`set-all`,
`import`) or whose target was removed. A target that cannot be read leaves the entry pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta

from aiohttp import web

from elektraweb.cluster.api.errors import ApiError
from elektraweb.cluster.api.targets import (
    InstanceTarget,
    Target,
    cluster_target,
    instance_target,
    read_state,
)
from elektraweb.cluster.audit.history import KeyState
from elektraweb.cluster.audit.log import AuditEntry, digest
from elektraweb.cluster.clusters.fanout import known_offline
from elektraweb.cluster.services import SERVICES, Extension, Services
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.instances import Instance
from elektraweb.wire.json_value import JSON, as_object
from elektraweb.wire.messages import AnyEvent

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0


def _same(argument: JSON, value: object) -> bool:
    """A value as the audit log keeps an argument (in full, or as its digest) equals `value`."""
    if isinstance(argument, dict) and isinstance(value, str):
        return argument == digest(value)
    return bool(argument == value)


def _meta_holds(state: KeyState, meta: JSON) -> bool:
    """The key exists and carries each entry of `meta` (a None entry: does not carry it)."""
    if state is None:
        return False
    found = state.get("meta") or {}
    wanted = as_object(meta or {}, "metadata")
    return all(found.get(name) == value for name, value in wanted.items())


async def took_effect(target: Target, entry: AuditEntry, state: KeyState) -> bool | None:
    """Whether the key's `state` now is what the entry's write makes; None: cannot tell."""
    args = as_object(entry.result.get("args", {}), "an audit entry's args")
    match entry.action:
        case "set":
            return (
                state is not None
                and _same(args.get("value"), state.get("value"))
                and _meta_holds(state, args.get("meta"))
            )
        case "rm":
            return state is None
        case "meta-set":
            return _meta_holds(state, {str(args.get("name")): args.get("value")})
        case "meta-rm":
            return _meta_holds(state, {str(args.get("name")): None})
        case "meta-bulk":
            return _meta_holds(state, args.get("meta"))
        case "mv" | "cp":
            moved_away = entry.action == "cp" or state is None
            return moved_away and await read_state(target, str(args.get("target"))) is not None
    return None


class PendingAudits:
    """Resolves unresolved audit entries; an app extension (`extension`) and a listener of
    the instance feed (an instance coming online resolves its entries)."""

    def __init__(
        self,
        services: Services | None = None,
        interval: float = DEFAULT_INTERVAL,
        *,
        others_may_send: bool = False,
    ) -> None:
        self._interval = interval
        # With other replicas, a pending entry may be another's write in flight (its
        # `in flight` set is not ours): only one older than any request's deadline is orphaned.
        self._others_may_send = others_may_send
        self._services = services
        self._resolving: set[int] = set()
        self._tasks: set[asyncio.Task[object]] = set()

    async def resolve(self, instance_id: int | None = None) -> int:
        """Resolve the unresolved entries (of one instance); returns how many are left."""
        services = self._services
        if services is None:
            return 0
        left = 0
        cutoff = (
            datetime.now(UTC) - timedelta(seconds=services.config.subtree_write_timeout * 2)
            if self._others_may_send
            else None
        )
        for entry in services.audit.unresolved():
            if entry.id in self._resolving:
                continue
            if cutoff is not None and datetime.fromisoformat(entry.time) > cutoff:
                left += 1
                continue
            if instance_id is not None and (entry.target_type, entry.target_id) != (
                "instance",
                str(instance_id),
            ):
                continue
            self._resolving.add(entry.id)
            try:
                left += not await self._resolve_one(services, entry)
            finally:
                self._resolving.discard(entry.id)
        return left

    async def _resolve_one(self, services: Services, entry: AuditEntry) -> bool:
        result: dict[str, JSON] = {"resolved": "by reading the target"}
        state: KeyState = None
        try:
            target = _target(services, entry)
            if isinstance(target, InstanceTarget) and known_offline(
                services.gateway.status(target.instance)
            ):
                return False  # resolved when it comes back online (`on_status`)
            assert entry.key is not None
            state = await read_state(target, entry.key)
            effect = await took_effect(target, entry, state)
        except RecordNotFound as error:
            effect, result["reason"] = None, error.message
        except ApiError as error:
            log.info("audit entry %d stays pending: %s", entry.id, error.message)
            return False
        outcome = {True: "applied", False: "not-applied", None: "unknown"}[effect]
        result.update(
            ok=effect, outcome=outcome, before_unknown="clusterd did not learn the outcome"
        )
        with contextlib.suppress(LookupError):  # resolved meanwhile by whoever sent it
            await services.audit.conclude(entry, None, state, result)
            log.info("audit entry %d (%s of %s) resolved: %s", entry.id, entry.action,
                     entry.key, outcome)  # fmt: skip
        return True

    # -- the instance feed's listener ------------------------------------------------------

    def on_event(self, instance: Instance, event: AnyEvent) -> None:
        """Changes tell nothing about pending entries."""

    async def on_status(self, instance: Instance, online: bool) -> None:
        if online:
            self._spawn(self.resolve(instance.id))

    # -- lifecycle -------------------------------------------------------------------------

    async def _keep_resolving(self) -> None:
        while True:
            await self.resolve()
            await asyncio.sleep(self._interval)

    def _spawn(self, coroutine: Coroutine[object, object, object]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def extension(self) -> Extension:
        """Resolve what a previous run left pending once the app starts; stop with it."""

        def install(app: web.Application) -> None:
            async def start(app: web.Application) -> None:
                self._services = app[SERVICES]
                self._spawn(self._keep_resolving())

            async def stop(app: web.Application) -> None:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
                self._services = None

            app.on_startup.append(start)
            app.on_cleanup.append(stop)

        return install


def _target(services: Services, entry: AuditEntry) -> Target:
    target_id = int(entry.target_id or 0)
    if entry.target_type == "cluster":
        return cluster_target(services, target_id)
    return instance_target(services, target_id)
