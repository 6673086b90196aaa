"""elektrad's real service in the test's process, each daemon on a KDB of its own in a
temporary directory, reached through clusterd's transport seam instead of sockets.

The service is the one elektrad serves (its operations, validation, locks, change feed and
events); only ZeroMQ is left out. Plug a network into clusterd's gateway and instance feed:

    network = InProcessNetwork(tmp_path)
    daemon = await network.start("tcp://127.0.0.1:40001")
    gateway = WireGateway(keypair, transport=network.transport)
    feed = InstanceFeed(hub, gateway, keypair, subscribe=network.subscribe)
    ...
    daemon.keys                           # what `kdb` on the host shows: name -> (value, meta)
    daemon.locked                         # the keys clusters locked: name -> cluster id
    await daemon.kdb_set(key, "1")        # a local `kdb set` behind elektrad's back
    daemon.faults.unreachable = True      # see support/faults.py
    network.calls                         # what reached the daemons, in order
    await network.close()
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path

from elektraweb.cluster.store.instances import parse_endpoint
from elektraweb.instance.changefeed import ChangeFeed
from elektraweb.instance.config import announced_events
from elektraweb.instance.context import Host
from elektraweb.instance.events import EXTERNAL, EventStream
from elektraweb.instance.locks import LockTable
from elektraweb.instance.service import InstanceService
from elektraweb.instance.worker import KDBWorker
from elektraweb.kdb import names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.mounts import Paths
from elektraweb.operations.representation import key_revision
from elektraweb.wire import (
    AnyEvent,
    ClientOptions,
    Event,
    InProcessTransport,
    KeyPair,
    LinkStatus,
    Reply,
    Request,
    Transport,
)
from support.faults import REFUSED, Call, Faults, FaultyTransport

Entry = tuple[str | None, dict[str, str]]
"""A key as `InProcessElektrad.keys` shows it: its value and its metadata."""

HIDDEN = "system:/elektra"  # the mount table and other bookkeeping, not configuration


def _identity(endpoint: str) -> str:
    return parse_endpoint(endpoint).identity


async def _nobody(request: Request) -> Reply:
    raise AssertionError(f"{request.op} reached a daemon that is not there")


def events_endpoint_of(endpoint: str) -> str:
    """Where an in-process daemon says it publishes: its request port + 2, as elektrad does."""
    host, _, port = endpoint.rpartition(":")
    return f"{host}:{int(port) + 2}"


class InProcessElektrad:
    """One host: elektrad's service on the KDB below `base`, as the daemon at `endpoint`."""

    def __init__(
        self, base: Path, endpoint: str, *, hostname: str = "host", public_key: str | None = None
    ) -> None:
        self.endpoint = endpoint
        self.events_endpoint = events_endpoint_of(endpoint)
        self.public_key = public_key or KeyPair.generate().public
        self.faults = Faults()
        state = base / "state"
        state.mkdir(parents=True)
        self.paths = Paths.from_environ(
            {"KDB_ROOT": str(base / "kdb"), "HOME": str(base / "home")}, cwd=base
        )
        self._state = state
        self._host = Host(KDB(self.paths), LockTable(state), self.public_key, hostname)
        self._worker = KDBWorker()
        self.subscribers: list[InProcessSubscription] = []  # see `subscribe`
        self._seq = 0

    async def start(self) -> InProcessElektrad:
        events = EventStream(asyncio.get_running_loop())
        self._feed = ChangeFeed(self._host.kdb, lambda changes: events.submit(changes, EXTERNAL))
        await self._worker.run(self._feed.prime)
        self.service = InstanceService(self._host, self._worker, self._feed, events)
        self.service.announced_events = announced_events(self.endpoint, self.events_endpoint)
        self._events = events
        self._publisher = asyncio.get_running_loop().create_task(events.run(self._publish))
        return self

    async def stop(self) -> None:
        await asyncio.to_thread(self._worker.shutdown)
        self._events.close()
        await self._publisher

    # -- what the host shows -------------------------------------------------------------

    @property
    def keys(self) -> dict[str, Entry]:
        """Every stored key, read from its files as `kdb` on the host reads them."""
        return {
            key.name: (None if key.value is None else key.text, dict(key.meta))
            for key in KDB(self.paths).get("/")
            if not names.is_below_or_same(key.name, HIDDEN)
        }

    @property
    def locked(self) -> dict[str, str]:
        """The keys clusters own on this host, as its lock file holds them: name → cluster id.
        (Read from the file, written atomically: the worker thread changes the table.)"""
        table = LockTable(self._state).by_cluster()
        return {key: cluster for cluster, keys in table.items() for key in keys}

    # -- what happens on the host ----------------------------------------------------------

    async def kdb_set(
        self, key: str, value: str | None, meta: Mapping[str, str] | None = None
    ) -> str | None:
        """Write (or, for None, remove) `key` in its file as a local `kdb set` (`kdb rm`) does,
        then let the change feed see the file, as its watcher would; returns the key's new
        revision. The events elektrad publishes for it are out when this returns."""
        name = names.canonical(key)
        parent = names.join(names.namespace_of(name), ())
        kdb = KDB(self.paths)
        stored = kdb.get(parent)
        written: Key | None = None
        if value is None:
            stored.remove(name)
        else:
            written = Key(name, value, meta if meta is not None else _meta_of(stored, name))
            stored.add(written)
        kdb.set(stored, parent)
        await self._worker.run(self._feed.rescan, None)
        await self._events.flushed()
        return key_revision(written)

    async def kdb_set_many(self, values: Mapping[str, str]) -> None:
        """Write many keys of one namespace at once (no metadata), as a local `kdb import`
        does, then let the change feed see the file."""
        namespaces = {names.namespace_of(names.canonical(key)) for key in values}
        assert len(namespaces) == 1, namespaces
        parent = names.join(namespaces.pop(), ())
        kdb = KDB(self.paths)
        stored = kdb.get(parent)
        for key, value in values.items():
            stored.add(Key(names.canonical(key), value))
        kdb.set(stored, parent)
        await self._worker.run(self._feed.rescan, None)
        await self._events.flushed()

    async def change_behind_its_back(
        self, key: str, value: str | None, meta: Mapping[str, str] | None = None
    ) -> Event:
        """`kdb_set`, and the event elektrad published for `key` because of it."""
        subscription = self.subscribe()
        await subscription.start()
        try:
            await self.kdb_set(key, value, meta)
            return subscription.published(names.canonical(key))
        finally:
            await subscription.close()

    async def lock(self, key: str, cluster: str = "another") -> None:
        """Lock `key` for a cluster (by default one no test writes as), as clusterd would."""
        await InProcessTransport(self.service).request("lock", {"cluster": cluster, "keys": [key]})

    def subscribe(self) -> InProcessSubscription:
        """Everything this daemon publishes from now on (start it to receive)."""
        return InProcessSubscription(self)

    async def _publish(self, event: AnyEvent) -> AnyEvent:
        self._seq += 1
        event = dataclasses.replace(event, seq=self._seq)
        for subscriber in list(self.subscribers):
            subscriber.deliver(event)
        return event


def _meta_of(stored: KeySet, name: str) -> dict[str, str]:
    existing = stored.lookup(name)
    return {} if existing is None else dict(existing.meta)


class InProcessSubscription:
    """One subscriber to an `InProcessElektrad`'s events (`Subscription` of the instance feed)."""

    def __init__(self, daemon: InProcessElektrad) -> None:
        self._daemon = daemon
        self._queue: asyncio.Queue[AnyEvent] = asyncio.Queue()
        self.status = LinkStatus(daemon.events_endpoint)
        self._on_event: Callable[[AnyEvent], None] | None = None

    async def start(self) -> None:
        self._daemon.subscribers.append(self)
        self.status.mark_online()

    def deliver(self, event: AnyEvent) -> None:
        if self._on_event is None:
            self._queue.put_nowait(event)
        else:  # on a turn of its own, as an event read from a socket arrives
            asyncio.get_running_loop().call_soon(self._handed, self._on_event, event)

    def deliver_to(self, on_event: Callable[[AnyEvent], None]) -> None:
        self._on_event = on_event

    def _handed(self, on_event: Callable[[AnyEvent], None], event: AnyEvent) -> None:
        if self in self._daemon.subscribers:  # none after `close`, as from a closed socket
            on_event(event)

    async def receive(self) -> AnyEvent:
        return await self._queue.get()

    def published(self, key: str) -> Event:
        """The first event for `key` among those received so far (the others are dropped)."""
        while not self._queue.empty():
            event = self._queue.get_nowait()
            if isinstance(event, Event) and event.key == key:
                return event
        raise AssertionError(f"elektrad published no event for {key}")

    async def close(self) -> None:
        if self in self._daemon.subscribers:
            self._daemon.subscribers.remove(self)
        self.status.mark_offline("closed", expected=True)


class InProcessNetwork:
    """The daemons a test runs, by endpoint, and the transports that reach them."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self.daemons: dict[str, InProcessElektrad] = {}
        self.calls: list[Call] = []
        self.links: list[FaultyTransport] = []

    async def start(
        self, endpoint: str, *, hostname: str = "host", public_key: str | None = None
    ) -> InProcessElektrad:
        """A new daemon answering at `endpoint` (holding `public_key`, else a new one)."""
        identity = _identity(endpoint)
        directory = self._base / f"elektrad-{len(self.daemons) + 1}"
        daemon = InProcessElektrad(directory, identity, hostname=hostname, public_key=public_key)
        await daemon.start()
        self.daemons[identity] = daemon
        return daemon

    def __getitem__(self, endpoint: str) -> InProcessElektrad:
        return self.daemons[_identity(endpoint)]

    def transport(self, endpoint: str, *, server_key: str, options: ClientOptions) -> Transport:
        """The gateway's `TransportFactory`: a link that refuses when no daemon listens at
        `endpoint` or the daemon there holds another key (the CURVE handshake fails)."""
        identity = _identity(endpoint)
        daemon = self.daemons.get(identity)
        if daemon is None or daemon.public_key != server_key:
            # The link never comes up: every request is refused, as by a closed port.
            reason = "handshake failed: it holds another key" if daemon else REFUSED
            faults = Faults(refusal=reason, _unreachable=True)
            inner = InProcessTransport(_nobody, timeout=options.timeout)
        else:
            faults = daemon.faults
            inner = InProcessTransport(daemon.service, timeout=options.timeout)
        link = FaultyTransport(inner, faults, endpoint=identity, options=options, calls=self.calls)
        self.links.append(link)
        return link

    def subscribe(self, endpoint: str, *, server_key: str) -> InProcessSubscription:
        """The instance feed's `SubscriptionFactory`."""
        identity = _identity(endpoint)
        for daemon in self.daemons.values():
            if daemon.events_endpoint == identity and daemon.public_key == server_key:
                return daemon.subscribe()
        raise ValueError(f"no in-process daemon publishes at {endpoint} with key {server_key}")

    def ops(self, endpoint: str | None = None) -> list[str]:
        """The operations that reached the daemons (at `endpoint` only, if given), in order."""
        wanted = None if endpoint is None else _identity(endpoint)
        return [call.op for call in self.calls if wanted in (None, call.endpoint)]

    async def close(self) -> None:
        for daemon in self.daemons.values():
            await daemon.stop()
