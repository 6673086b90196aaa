"""Following every registered instance: its changes and its link status, into the event hub.

For each instance in the registry the feed keeps a CURVE subscription to the daemon's event
socket (docs/protocol.md §5) and republishes every change on the `EventHub`:

- topic `instance/<id>/<key>`: ``{"instance", "key", "old", "new", "revision", "origin",
  "seq"}``, the daemon's event (`old`/`new` are ``{"value", "meta"}`` or null); for a commit
  of many keys ``{"instance", "subtree", "created", "changed", "removed", "origin", "seq"}``
  under the subtree's name, once, as the daemon published it;
- topic `registry/instance/<id>/status`: ``{"instance", **WireGateway.status()}`` whenever the
  link's status changes (online, offline, or new version details).

Each event is taken from the subscription's reader callback as it arrives (no Future and no
task per event: a fan-out to ten members brings ten back), published, and handed to the
listeners attached with `attach` (the cluster service: drift, catching members up), which are
called in order per instance, after the hub has it, and must not wait: slow work goes to the
background. Online/offline changes are awaited, in order per instance. An event nobody
subscribed to is not built for the hub at all (`EventHub.wanted`).
The feed follows registry changes by listening to the audit log, where every change of the
registry through clusterd is recorded; each entry names the instance it changed, and only that
instance's subscription is brought up to date. Changes made through another replica arrive as
that replica's `audit/instance/<id>` publications (`published_elsewhere`); when some may have
been missed (the replicas' relay was down), a `resync` publication makes the feed read the whole
registry again, and drop the links to instances removed meanwhile.

Listeners are handed the instance as the registry has it for every event (`Registry.instance`:
a fan-out to ten members brings ten events back, and the registry's cache answers them without
a query; every registry change empties it, here at once and on other replicas with its notice).

With replicas (`cluster.replicas`), a replica follows only the instances it holds the lease of
(`owns`), and follows again whenever its leases change (`leases_changed`): each instance is
followed, and its listeners run, on one replica at a time. Every replica still keeps a link to
every instance (it forwards requests to all of them and shows their status), made as soon as
the instance is registered or accepted on any replica.

The event socket is where the daemon's `version` answer says it is (the `events` of the
gateway's status). Until the daemon has answered, the feed subscribes at the request port + 2,
where a daemon that does not tell publishes, and moves the subscription once it knows better.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Protocol

import zmq
from aiohttp import web

from elektraweb.cluster.audit.log import AuditEntry
from elektraweb.cluster.events.hub import RESYNC_TOPIC, EventHub, Publication
from elektraweb.cluster.instances.gateway import InstanceUnreachable, LinkStatusJSON
from elektraweb.cluster.instances.subscriptions import (
    Subscription,
    SubscriptionFactory,
    unannounced_events_endpoint,
    zmq_subscriptions,
)
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import SERVICES, Extension
from elektraweb.cluster.store.errors import RecordNotFound
from elektraweb.cluster.store.instances import Instance
from elektraweb.cluster.store.registry import Registry
from elektraweb.wire import AnyEvent, KeyPair, KeyState, SubtreeEvent
from elektraweb.wire.json_value import JSONObject

log = logging.getLogger(__name__)


class FeedListener(Protocol):
    """What the feed tells its listeners; `instance` is as the registry has it."""

    def on_event(self, instance: Instance, event: AnyEvent) -> None:
        """A key of `instance` changed (through clusterd, another client, or on the host), or
        many keys of one subtree did (a `SubtreeEvent`, which names no single key). Called
        from the feed's reading: it must not block, and starts anything slow in the
        background."""
        ...

    async def on_status(self, instance: Instance, online: bool) -> None:
        """The link to `instance` came up (also the first time after clusterd starts) or went
        down. Events published while it was down were missed."""
        ...


async def _cancel(*tasks: asyncio.Task[None] | None) -> None:
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)


def _state(state: KeyState | None) -> JSONObject | None:
    return None if state is None else {"value": state.value, "meta": state.meta}


def event_json(instance_id: int, event: AnyEvent) -> JSONObject:
    if isinstance(event, SubtreeEvent):
        return {
            "instance": instance_id,
            "subtree": event.key,
            "created": event.created,
            "changed": event.changed,
            "removed": event.removed,
            "origin": event.origin,
            "seq": event.seq,
        }
    return {
        "instance": instance_id,
        "key": event.key,
        "old": _state(event.old),
        "new": _state(event.new),
        "revision": event.revision,
        "origin": event.origin,
        "seq": event.seq,
    }


@dataclass(eq=False)
class _Follower:
    """One instance's subscription, the endpoint it is subscribed at, and the task that
    tells the listeners of its status changes."""

    instance: Instance
    subscriber: Subscription
    events: str
    online: bool = False
    changes: asyncio.Queue[bool] = field(default_factory=asyncio.Queue)
    notifier: asyncio.Task[None] | None = None

    def follows(self, instance: Instance) -> bool:
        return (self.instance.endpoint, self.instance.public_key) == (
            instance.endpoint,
            instance.public_key,
        )


class InstanceFeed:
    """Republishes every registered instance's changes and link status on `hub`.

    Plug it into clusterd with `extension`; it starts with the app and stops before the gateway
    closes. `subscribe` opens each subscription: by default over ZeroMQ as `keypair`.
    """

    def __init__(
        self,
        hub: EventHub,
        gateway: WireGateway,
        keypair: KeyPair,
        *,
        subscribe: SubscriptionFactory | None = None,
        owns: Callable[[int], bool] = lambda instance_id: True,
    ) -> None:
        self._hub = hub
        self._gateway = gateway
        self._open = subscribe or zmq_subscriptions(keypair)
        self._owns = owns
        self._followers: dict[int, _Follower] = {}
        self._listeners: list[FeedListener] = []
        self._registry: Registry | None = None
        self._syncing = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        gateway.add_listener(self._status_changed)

    def attach(self, listener: FeedListener) -> None:
        self._listeners.append(listener)

    def events_online(self, instance_id: int) -> bool:
        """Whether the instance's event socket has connected (False when it is not followed):
        from then on, what the daemon publishes reaches the feed."""
        follower = self._followers.get(instance_id)
        return follower is not None and follower.subscriber.status.online

    @property
    def extension(self) -> Extension:
        """The clusterd extension that starts and stops the feed with the app."""

        def extend(app: web.Application) -> None:
            async def start(app: web.Application) -> None:
                services = app[SERVICES]
                services.audit.subscribe(self.audited)
                await self.start(services.registry)

            async def stop(app: web.Application) -> None:
                await self.close()

            app.on_startup.append(start)
            app.on_cleanup.append(stop)

        return extend

    async def start(self, registry: Registry) -> None:
        self._registry = registry
        await self.sync()

    async def sync(self, instance_id: int | None = None) -> None:
        """Follow exactly the instances in the registry (new ones, moved ones, not removed)
        that this replica holds the leases of, and keep a link to the others; with
        `instance_id`, bring only that instance's subscription and link up to date."""
        if self._registry is None:
            raise RuntimeError("the instance feed is not started")
        async with self._syncing:
            if instance_id is None:
                instances = self._registry.instances()
                checked = list(self._followers)
                for gone in self._gateway.linked() - {instance.id for instance in instances}:
                    await self._gateway.unlink(gone)
            else:
                current = self._current(instance_id)
                instances = [] if current is None else [current]
                checked = [instance_id]
                if current is None:
                    await self._gateway.unlink(instance_id)
            wanted = {instance.id: instance for instance in instances if self._owns(instance.id)}
            for checked_id in checked:
                follower, current = self._followers.get(checked_id), wanted.get(checked_id)
                if follower is not None and (current is None or not follower.follows(current)):
                    await self._stop_following(checked_id)
            for instance in wanted.values():
                if instance.id not in self._followers:
                    await self._follow(instance)
            for instance in instances:
                if instance.id not in wanted:
                    await self._link(instance)

    async def leases_changed(self) -> None:
        """Follow the instances whose leases this replica holds now, and no other."""
        if self._registry is not None:
            await self.sync()

    def published_elsewhere(self, publication: Publication) -> None:
        """Another replica published `publication`: follow its registry changes too (all of
        them after a `resync`: some may have been missed)."""
        topic, action = publication.topic, publication.data.get("action")
        if self._registry is None:
            return
        if topic == RESYNC_TOPIC:
            self._in_background(self.sync())
        elif (
            topic.startswith("audit/instance")
            and isinstance(action, str)
            and action.startswith("instance.")
        ):
            named = topic.removeprefix("audit/instance").removeprefix("/")
            self._in_background(self.sync(int(named) if named.isdigit() else None))

    async def close(self) -> None:
        self._registry = None  # from here on, no status schedules a move
        await _cancel(*self._background)
        async with self._syncing:
            for instance_id in list(self._followers):
                await self._stop_following(instance_id)

    # -- following one instance ---------------------------------------------------------------

    async def _follow(self, instance: Instance) -> None:
        # A link opened earlier by a request may know the endpoint already.
        events = self._gateway.status(instance)["events"] or unannounced_events_endpoint(instance)
        subscriber = await self._subscribe(instance, events)
        if subscriber is None:
            return
        log.info("following instance %d's events at %s", instance.id, events)
        follower = _Follower(instance, subscriber, events)
        self._followers[instance.id] = follower
        subscriber.deliver_to(lambda event: self._received(instance.id, event))
        follower.notifier = asyncio.get_running_loop().create_task(
            self._notify(follower), name=f"status-{instance.id}"
        )
        # Opening the request link makes the gateway follow (and report) the instance's status;
        # a link opened earlier by a request may be online already and report no change.
        await self._gateway.connect(instance)
        self._status_changed(instance, self._gateway.status(instance))

    async def _link(self, instance: Instance) -> None:
        """Keep a link to an instance another replica follows: this one forwards requests to
        it too, and shows its status, from the moment it is registered or accepted anywhere."""
        with contextlib.suppress(InstanceUnreachable):
            await self._gateway.connect(instance)

    async def _subscribe(self, instance: Instance, events: str) -> Subscription | None:
        """A subscription to everything `instance` publishes at `events`; None (logged) when
        ZeroMQ refuses the key or the endpoint."""
        subscriber = None
        try:
            subscriber = self._open(events, server_key=instance.public_key)
            await subscriber.start()
        except (ValueError, zmq.ZMQError) as error:
            # An unusable key is reported by the gateway on every call as well.
            log.warning("cannot follow instance %d's events at %s: %s", instance.id, events, error)
            if subscriber is not None:
                await subscriber.close()
            return None
        return subscriber

    async def _move(self, instance: Instance, events: str) -> None:
        """Follow `instance`'s events at `events`, where its daemon says it publishes."""
        async with self._syncing:
            follower = self._followers.get(instance.id)
            if follower is None or not follower.follows(instance) or follower.events == events:
                return  # no longer followed, moved elsewhere, or moved by an earlier status
            subscriber = await self._subscribe(instance, events)
            if subscriber is None:
                return  # keep the old subscription; the next status change tries again
            log.info(
                "instance %d publishes its events at %s, not %s: following them there",
                instance.id,
                events,
                follower.events,
            )
            old_subscriber = follower.subscriber
            # The follower is consistent at every await: `_stop_following` may come next.
            follower.subscriber, follower.events = subscriber, events
            try:
                await old_subscriber.close()  # read no more before the new one is: in order
            finally:
                subscriber.deliver_to(lambda event: self._received(instance.id, event))

    async def _stop_following(self, instance_id: int) -> None:
        log.info("no longer following instance %d's events", instance_id)
        follower = self._followers.pop(instance_id)
        await _cancel(follower.notifier)
        await follower.subscriber.close()

    def _received(self, instance_id: int, event: AnyEvent) -> None:
        topic = f"instance/{instance_id}/{event.key}"
        if self._hub.wanted(topic):
            self._hub.publish(topic, event_json(instance_id, event))
        instance = self._current(instance_id) if self._listeners else None
        if instance is None:
            return
        for listener in list(self._listeners):
            try:
                listener.on_event(instance, event)
            except Exception:
                log.exception("feed listener failed on %s of %d", event.key, instance_id)

    def _status_changed(self, instance: Instance, status: LinkStatusJSON) -> None:
        follower = self._followers.get(instance.id)
        if follower is None:
            return
        self._hub.publish(
            f"registry/instance/{instance.id}/status", {"instance": instance.id, **status}
        )
        events = status["events"]
        if events is not None and events != follower.events and self._registry is not None:
            self._in_background(self._move(instance, events))
        if status["online"] != follower.online:
            follower.online = status["online"]
            follower.changes.put_nowait(follower.online)

    async def _notify(self, follower: _Follower) -> None:
        instance_id = follower.instance.id
        while True:
            online = await follower.changes.get()
            instance = self._current(instance_id)
            if instance is None:
                continue
            for listener in list(self._listeners):
                try:
                    await listener.on_status(instance, online)
                except Exception:
                    log.exception("feed listener failed on status of instance %d", instance_id)

    def _current(self, instance_id: int) -> Instance | None:
        """The instance as the registry has it now (its cluster may have changed); None if it
        is gone or still pending (never contacted before an admin accepts it)."""
        if self._registry is None:
            return None
        with contextlib.suppress(RecordNotFound):
            instance = self._registry.instance(instance_id)
            return instance if instance.state == "accepted" else None
        return None

    def audited(self, entry: AuditEntry) -> None:
        """This replica recorded `entry` in the audit log: follow the registry change it
        records, if any."""
        if entry.action.startswith("instance.") and self._registry is not None:
            named = None if entry.target_id is None else int(entry.target_id)
            self._in_background(self.sync(named))

    def _in_background(self, work: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
