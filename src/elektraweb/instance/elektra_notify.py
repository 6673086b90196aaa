"""libelektra's notification feed: ``["Commit", <key name>]`` for every change elektrad
publishes, so applications using libelektra's notification library (its zeromqrecv
plugin) follow changes made through elektrad (docs/protocol.md §5).

As libelektra's zeromqsend plugin: an XPUB socket *connects* to the endpoint, where a
``kdb run-hub-zeromq`` XSUB hub or an application's SUB socket is bound; both frames carry
a terminating NUL, because the receivers subscribe to the 7 bytes ``Commit\\0``. One
notification names the parent of what one commit changed (zeromqsend sends the parent key
of each ``kdbSet``), which is the key itself for a single-key write.

The socket speaks no CURVE, because libelektra's receivers cannot; so it only connects to
loopback or ``ipc://`` unless the operator opts in (``--elektra-notify-remote``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Sequence

import zmq
import zmq.asyncio

from elektraweb.operations.bulk import committed_parent
from elektraweb.operations.store import KeyChange

logger = logging.getLogger(__name__)

COMMIT = b"Commit\x00"
# The first byte of a subscription message an XPUB socket receives.
_SUBSCRIBE = 1
_TCP = re.compile(r"tcp://(?P<host>\[[0-9a-fA-F:.]+\]|[^:/\s\[\]]+):(?P<port>\d{1,5})")


def check_notify_endpoint(endpoint: str, *, remote: bool) -> str:
    """Accept ``tcp://HOST:PORT`` or ``ipc://PATH``; a tcp host other than loopback only
    with ``remote``. Raises ValueError naming the endpoint and what is wrong."""
    if endpoint.startswith("ipc://") and len(endpoint) > len("ipc://"):
        return endpoint
    match = _TCP.fullmatch(endpoint)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ValueError(
            f"--elektra-notify {endpoint!r} is not an endpoint like tcp://127.0.0.1:6000 "
            "or ipc:///run/elektra-notify"
        )
    if not remote and not _is_loopback(match["host"].strip("[]")):
        raise ValueError(
            f"--elektra-notify {endpoint!r}: libelektra's notifications travel without "
            "encryption, so only loopback hosts (127.0.0.1, ::1, localhost) or ipc:// are "
            "allowed; add --elektra-notify-remote to send them to another host"
        )
    return endpoint


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ElektraNotifier:
    """The connecting XPUB socket. Logs each subscription it sees, so an operator (and a
    test) can tell when a receiver is listening: ZeroMQ drops what no one subscribed to."""

    def __init__(self, context: zmq.asyncio.Context, endpoint: str) -> None:
        self.endpoint = endpoint
        self._socket = context.socket(zmq.XPUB)
        self._socket.linger = 0
        try:
            self._socket.connect(endpoint)
        except zmq.ZMQError:
            self._socket.close()
            raise
        self._listener: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._listener = asyncio.get_running_loop().create_task(
            self._log_subscriptions(), name="elektra-notify"
        )

    async def _log_subscriptions(self) -> None:
        while True:
            message = await self._socket.recv()
            if message[:1] == bytes([_SUBSCRIBE]):
                logger.info(
                    "elektra-notify: a receiver at %s subscribed to %r",
                    self.endpoint,
                    message[1:].decode(errors="replace"),
                )

    async def commit(self, changes: Sequence[KeyChange]) -> None:
        """Send one ``Commit`` naming the parent of ``changes`` (nothing when empty)."""
        if not changes:
            return
        parent = committed_parent(changes)
        await self._socket.send_multipart([COMMIT, parent.encode() + b"\x00"])
        logger.debug("elektra-notify: Commit %s", parent)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        self._socket.close()
