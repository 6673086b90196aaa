"""Socket settings of the daemon link: liveness, reconnection, and the connecting side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import zmq
import zmq.asyncio

from elektraweb.wire.keys import KeyPair


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """ZMTP heartbeats: a PING every `interval` seconds; no traffic for `timeout` drops the link.

    Without them a peer that vanished without closing TCP (power loss, cable) would look
    connected until the kernel gives up, which can take many minutes.
    """

    interval: float = 2.0
    timeout: float = 6.0

    def apply(self, socket: zmq.Socket[Any]) -> None:
        socket.setsockopt(zmq.HEARTBEAT_IVL, round(self.interval * 1000))
        socket.setsockopt(zmq.HEARTBEAT_TIMEOUT, round(self.timeout * 1000))
        # TTL tells the peer how long to wait for us.
        socket.setsockopt(zmq.HEARTBEAT_TTL, round(self.timeout * 1000))


@dataclass(frozen=True, slots=True)
class Reconnect:
    """How soon a connecting socket tries again: `interval`, doubling up to `max_interval`."""

    interval: float = 0.1
    max_interval: float = 2.0

    def apply(self, socket: zmq.Socket[Any]) -> None:
        socket.setsockopt(zmq.RECONNECT_IVL, round(self.interval * 1000))
        socket.setsockopt(zmq.RECONNECT_IVL_MAX, round(self.max_interval * 1000))


def connecting_socket(
    context: zmq.asyncio.Context,
    kind: int,
    *,
    keypair: KeyPair,
    server_key: str,
    heartbeat: Heartbeat,
    reconnect: Reconnect,
) -> zmq.asyncio.Socket:
    """A socket of `kind` for connecting to the elektrad whose public key is `server_key`.

    A CURVE client pinned to that key, with `heartbeat` and `reconnect` applied, whose close
    never waits for unsent messages (a client resends what matters on its own).
    """
    socket = context.socket(kind)
    socket.linger = 0
    keypair.configure_client(socket, server_key)
    heartbeat.apply(socket)
    reconnect.apply(socket)
    return socket
