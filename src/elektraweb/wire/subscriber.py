"""Following an elektrad's change feed: a CURVE SUB socket that yields its events.

ZeroMQ reconnects the SUB socket by itself and re-sends its subscriptions, so a subscriber
survives daemon restarts; events published while it was away are lost (a gap in `seq`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType

import zmq
import zmq.asyncio

from elektraweb.wire.encoding import decode_event
from elektraweb.wire.errors import RemoteError
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.messages import AnyEvent
from elektraweb.wire.monitor import LinkStatus, SocketMonitor
from elektraweb.wire.reader import SocketReader
from elektraweb.wire.sockets import Heartbeat, Reconnect, connecting_socket

logger = logging.getLogger(__name__)


class EventSubscriber:
    """Receives the events whose key name starts with one of the subscribed prefixes.

    `user:/app/` follows everything below `user:/app`; `""` follows everything. `status`
    follows the connection; with `watch_until_online` only until it is first made (it then
    stays online: for a caller that learns of the daemon's comings and goings elsewhere).
    Use as `async with EventSubscriber(...) as events: async for event in events: ...`, or
    hand every event to a callback as it arrives (`deliver_to`).
    """

    def __init__(
        self,
        endpoint: str,
        *,
        server_key: str,
        keypair: KeyPair,
        prefixes: Iterable[str] = (),
        heartbeat: Heartbeat | None = None,
        reconnect: Reconnect | None = None,
        context: zmq.asyncio.Context | None = None,
        watch_until_online: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.status = LinkStatus(endpoint)
        self._watch_until_online = watch_until_online
        self._prefixes = list(prefixes)
        context = context or zmq.asyncio.Context.instance()
        self._socket = connecting_socket(
            context,
            zmq.SUB,
            keypair=keypair,
            server_key=server_key,
            heartbeat=heartbeat or Heartbeat(),
            reconnect=reconnect or Reconnect(),
        )
        self._monitor: SocketMonitor | None = None
        self._reader: SocketReader | None = None

    async def start(self) -> None:
        self._monitor = SocketMonitor(
            self._socket, self.status, until_online=self._watch_until_online
        )
        for prefix in self._prefixes:
            self.subscribe(prefix)
        self._socket.connect(self.endpoint)

    def subscribe(self, prefix: str) -> None:
        self._socket.subscribe(prefix.encode())

    def unsubscribe(self, prefix: str) -> None:
        self._socket.unsubscribe(prefix.encode())

    async def receive(self) -> AnyEvent:
        """The next event; malformed messages are logged and skipped."""
        while True:
            event = self._decoded(await self._socket.recv_multipart())
            if event is not None:
                return event

    def deliver_to(self, on_event: Callable[[AnyEvent], None]) -> None:
        """From now on call `on_event` with every event, from the socket's reader callback
        (`SocketReader`: no Future and no task wake-up per event, which a feed of many daemons
        pays for every change); malformed messages are logged and skipped. Use it instead of
        `receive`, after `start`."""

        def take(frames: list[bytes]) -> None:
            event = self._decoded(frames)
            if event is not None:
                on_event(event)

        self._reader = SocketReader(self._socket, take)

    def _decoded(self, frames: list[bytes]) -> AnyEvent | None:
        self.status.mark_online()
        try:
            return decode_event(frames)
        except RemoteError as error:
            logger.warning("skipped a malformed event from %s: %s", self.endpoint, error)
            return None

    async def __aiter__(self) -> AsyncIterator[AnyEvent]:
        while True:
            yield await self.receive()

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._monitor is not None:
            await self._monitor.close()
            self._monitor = None
        self._socket.close()
        self.status.mark_offline("closed", expected=True)

    async def __aenter__(self) -> EventSubscriber:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
