"""The event socket: a CURVE PUB socket that publishes every change under its key name (or
a coalesced change under its subtree's name)."""

from __future__ import annotations

import dataclasses
import logging

import zmq
import zmq.asyncio

from elektraweb.wire.encoding import encode_event
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.messages import AnyEvent
from elektraweb.wire.sockets import Heartbeat

logger = logging.getLogger(__name__)


class EventPublisher:
    """Publishes events with consecutive `seq` numbers (from 1 at each start).

    Create it on a context whose ZAP handler holds the allow-list (`WireServer` does).
    """

    def __init__(
        self,
        context: zmq.asyncio.Context,
        keypair: KeyPair,
        endpoint: str,
        heartbeat: Heartbeat,
    ) -> None:
        self._socket = context.socket(zmq.PUB)
        self._socket.linger = 0
        keypair.configure_server(self._socket)
        heartbeat.apply(self._socket)
        try:
            self._socket.bind(endpoint)
        except zmq.ZMQError:
            self._socket.close()
            raise
        self.endpoint: str = self._socket.getsockopt_string(zmq.LAST_ENDPOINT)
        self._seq = 0

    async def publish(self, event: AnyEvent) -> AnyEvent:
        """Send `event` to every subscriber of its topic; returns it with its `seq`.

        A slow or absent subscriber misses it (subscribers notice by the gap in `seq`).
        """
        self._seq += 1
        stamped = dataclasses.replace(event, seq=self._seq)
        await self._socket.send_multipart(encode_event(stamped))
        logger.debug("published %s seq=%d origin=%s", event.key, self._seq, event.origin)
        return stamped

    def close(self) -> None:
        self._socket.close()
