"""The real `InstanceGateway`: one CURVE link per instance over the daemon link (`elektraweb.wire`).

A link is opened the first time an instance is needed, pinned to the instance's public key and
authenticated with clusterd's own keypair, and closed when the instance is forgotten. The link's
state (socket monitor events and periodic pings) is the instance's live status; each time a link
comes online the gateway asks the daemon for its `version`, so the status also carries the
protocol version, hostname, mounts and where the daemon publishes its events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import zmq
import zmq.asyncio

from elektraweb.cluster.instances.gateway import (
    DEFAULT_TIMEOUT,
    InstanceError,
    InstanceTimeout,
    InstanceUnreachable,
    LinkStatusJSON,
)
from elektraweb.cluster.store.instances import Instance, parse_endpoint
from elektraweb.wire import (
    ClientOptions,
    KeyPair,
    LinkStatus,
    RemoteError,
    TimedOut,
    Transport,
    Unreachable,
    ZmqTransport,
)
from elektraweb.wire.replies import OperationArgs, OperationReply

log = logging.getLogger(__name__)

StatusListener = Callable[[Instance, LinkStatusJSON], None]
"""Called with the instance and its `status()` whenever that status changes."""

_RETRIES = 1
"""Attempts after the first within one call's deadline (Lazy Pirate, docs/protocol.md §2)."""


class TransportFactory(Protocol):
    """Opens the transport (not started) to the daemon at `endpoint` whose public key is
    `server_key`, shaped by `options`; raises ValueError for an endpoint or key it cannot use."""

    def __call__(self, endpoint: str, *, server_key: str, options: ClientOptions) -> Transport: ...


def zmq_transports(
    keypair: KeyPair, context: zmq.asyncio.Context | None = None
) -> TransportFactory:
    """The daemon link itself: a CURVE `ZmqTransport` authenticating as `keypair`."""

    def open_transport(endpoint: str, *, server_key: str, options: ClientOptions) -> Transport:
        return ZmqTransport(
            endpoint, server_key=server_key, keypair=keypair, options=options, context=context
        )

    return open_transport


def _timestamp(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")


def _offline_since(state: LinkStatus) -> str | None:
    # A new link still shaking hands has not failed yet: it is connecting, not offline.
    connecting = state.last_seen is None and state.last_error is None
    return None if connecting else _timestamp(state.offline_since)


def events_endpoint(endpoint: str, version: OperationReply) -> str | None:
    """Where the daemon reached at `endpoint` publishes its events, as its `version` says
    (docs/protocol.md §4): on the host given there, else on the host of `endpoint`. None if
    it did not say (a daemon that does not tell publishes on its request port + 2)."""
    announced = version.get("events")
    if not isinstance(announced, dict):
        return None
    port, host = announced.get("port"), announced.get("host")
    if type(port) is not int or not (host is None or isinstance(host, str)):
        return None
    if host is None:
        host = parse_endpoint(endpoint).address.removeprefix("tcp://").rpartition(":")[0]
    return f"tcp://{host}:{port}"


def _gateway_error(error: RemoteError | TimedOut | Unreachable) -> Exception:
    if isinstance(error, RemoteError):
        return InstanceError(error.code.value, error.message, key=error.key, elektra=error.elektra)
    if isinstance(error, TimedOut):
        return InstanceTimeout(str(error))
    return InstanceUnreachable(str(error))


@dataclass(eq=False)
class _Link:
    instance: Instance
    transport: Transport
    version: OperationReply = field(default_factory=OperationReply)
    events: str | None = None
    """`events_endpoint` of `version`, worked out once: a fan-out asks every member's status."""
    refresh: asyncio.Task[None] | None = None

    def serves(self, instance: Instance) -> bool:
        return (self.instance.endpoint, self.instance.public_key) == (
            instance.endpoint,
            instance.public_key,
        )


class WireGateway:
    """Reaches instances over ZeroMQ with CURVE, authenticating as `keypair` (clusterd's).

    `options` shape every link (heartbeats, reconnects, pings); a call's `timeout` is its whole
    deadline, shared by its attempts. `transport` opens each link, as httpx's `transport=`:
    by default the ZeroMQ one; tests pass one that reaches elektrad's service in-process.
    """

    def __init__(
        self,
        keypair: KeyPair,
        *,
        options: ClientOptions | None = None,
        context: zmq.asyncio.Context | None = None,
        transport: TransportFactory | None = None,
    ) -> None:
        self.keypair = keypair
        self.public_key = keypair.public
        self._options = options or ClientOptions()
        self._open = transport or zmq_transports(keypair, context or zmq.asyncio.Context.instance())
        self._links: dict[int, _Link] = {}
        self._listeners: list[StatusListener] = []

    def add_listener(self, listener: StatusListener) -> None:
        """Call `listener(instance, status)` on every status change of every link."""
        self._listeners.append(listener)

    async def connect(self, instance: Instance) -> None:
        """Open the instance's link now instead of on first use, so its status is followed."""
        await self._link(instance)

    async def call(
        self,
        instance: Instance,
        op: str,
        args: OperationArgs,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> OperationReply:
        link = await self._link(instance)
        status = link.transport.status
        down_since = None if status.online else status.offline_since
        if down_since is not None and time.time() - down_since >= timeout:
            # Known to be down for longer than a call may wait: say so now, don't wait again.
            raise InstanceUnreachable(
                f"instance {instance.name!r} at {instance.endpoint} has been offline since"
                f" {_timestamp(down_since)}: {status.last_error or 'not connected'}"
            )
        try:
            return await link.transport.request(
                op, args, timeout=timeout / (_RETRIES + 1), retries=_RETRIES
            )
        except (RemoteError, TimedOut, Unreachable) as error:
            raise _gateway_error(error) from error

    async def identify(
        self, endpoint: str, public_key: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> OperationReply:
        try:
            probe = self._open(
                endpoint,
                server_key=public_key,
                options=ClientOptions(
                    timeout=timeout,
                    retries=0,
                    heartbeat=self._options.heartbeat,
                    reconnect=self._options.reconnect,
                    ping_interval=None,
                ),
            )
            await probe.start()
        except (ValueError, zmq.ZMQError) as error:
            raise InstanceUnreachable(f"cannot connect to {endpoint}: {error}") from None
        try:
            version = await probe.request("version", timeout=timeout, retries=0)
        except (RemoteError, TimedOut, Unreachable) as error:
            raise _gateway_error(error) from error
        finally:
            await probe.close()
        if version.get("instance") != public_key:
            raise InstanceUnreachable(
                f"the daemon at {endpoint} answers as {version.get('instance')!r},"
                f" not as {public_key}"
            )
        return version

    def status(self, instance: Instance) -> LinkStatusJSON:
        """``{online, offline_since, last_error, last_seen, protocol, elektra, hostname,
        mounts, events}``; times are ISO 8601 UTC, details are null until the daemon has
        answered `version` (`events`, the endpoint to subscribe to, stays null for a daemon
        that does not tell). `offline_since` is null while online and while a link is first
        connecting."""
        link = self._links.get(instance.id)
        if link is None or not link.serves(instance):
            return {
                "online": False,
                "offline_since": None,
                "last_error": "not connected yet",
                "last_seen": None,
                "protocol": None,
                "elektra": None,
                "hostname": None,
                "mounts": None,
                "events": None,
            }
        state = link.transport.status
        version = link.version
        return {
            "online": state.online,
            "offline_since": _offline_since(state),
            "last_error": state.last_error,
            "last_seen": _timestamp(state.last_seen),
            "protocol": version.get("protocol"),
            "elektra": version.get("elektra", {}).get("version"),
            "hostname": version.get("hostname"),
            "mounts": version.get("mounts"),
            "events": link.events,
        }

    def offline_since(self, instance: Instance) -> str | None:
        link = self._links.get(instance.id)
        if link is None or not link.serves(instance) or link.transport.status.online:
            return None
        return _offline_since(link.transport.status)

    def linked(self) -> frozenset[int]:
        """The ids of the instances a link is open to."""
        return frozenset(self._links)

    async def forget(self, instance: Instance) -> None:
        await self.unlink(instance.id)

    async def unlink(self, instance_id: int) -> None:
        """Close the link to the instance with that id, if there is one."""
        link = self._links.pop(instance_id, None)
        if link is not None:
            await self._close_link(link)

    async def close(self) -> None:
        links = list(self._links.values())
        self._links.clear()
        await asyncio.gather(*(self._close_link(link) for link in links))

    async def _link(self, instance: Instance) -> _Link:
        link = self._links.get(instance.id)
        if link is not None and link.serves(instance):
            return link
        if link is not None:
            # The instance moved or got a new key: the old link talks to someone else.
            await self.forget(link.instance)
            link = self._links.get(instance.id)
            if link is not None and link.serves(instance):
                return link  # a concurrent call opened it while we closed the old one
        try:
            transport = self._open(
                instance.endpoint, server_key=instance.public_key, options=self._options
            )
        except ValueError as error:
            raise InstanceUnreachable(
                f"cannot link to instance {instance.name!r}: {error}"
            ) from None
        link = _Link(instance, transport)
        transport.status.listeners.append(lambda status: self._status_changed(link, status))
        # No await between the lookup above and this store: concurrent calls share one link.
        self._links[instance.id] = link
        try:
            await transport.start()
        except zmq.ZMQError as error:
            self._links.pop(instance.id, None)
            await transport.close()
            raise InstanceUnreachable(
                f"cannot connect to instance {instance.name!r} at {instance.endpoint}: {error}"
            ) from None
        return link

    def _status_changed(self, link: _Link, status: LinkStatus) -> None:
        if self._links.get(link.instance.id) is not link:
            return  # a closed link going offline is no news about the instance
        if status.online and (link.refresh is None or link.refresh.done()):
            link.refresh = asyncio.get_running_loop().create_task(self._refresh_version(link))
        self._notify(link)

    async def _refresh_version(self, link: _Link) -> None:
        try:
            version = await link.transport.request(
                "version", timeout=self._options.timeout, retries=0
            )
        except (RemoteError, TimedOut, Unreachable) as error:
            log.info("instance %d: no version after coming online: %s", link.instance.id, error)
            return
        if version != link.version:
            link.version = version
            link.events = events_endpoint(link.instance.endpoint, version)
            self._notify(link)

    def _notify(self, link: _Link) -> None:
        status = self.status(link.instance)
        for listener in list(self._listeners):
            try:
                listener(link.instance, status)
            except Exception:
                log.exception("status listener failed for instance %d", link.instance.id)

    async def _close_link(self, link: _Link) -> None:
        if link.refresh is not None:
            link.refresh.cancel()
            await asyncio.gather(link.refresh, return_exceptions=True)
        await link.transport.close()
