"""Reading a ZeroMQ socket from the event loop's reader callback, without a Future per message.

zmq.asyncio gives every `recv_multipart` a Future and wakes the loop through two callbacks per
message; on the daemon link's hot path that was 10–15 % of each daemon's CPU per request. A
`SocketReader` instead reads whatever is queued, synchronously, whenever the socket's ZMQ_FD
becomes readable, and hands each message to a plain callback.

ZMQ_FD is edge-triggered: it signals that the socket's state may have changed, not that a
message waits, and any operation on the socket (a send too) may consume that signal while a
message is queued. So every wake-up reads until EAGAIN, and `send` looks at ZMQ_EVENTS after
sending and reads on the next loop turn if a message waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

import zmq

logger = logging.getLogger(__name__)


class SocketReader:
    """Calls `on_message(frames)` for every message `socket` receives, on the running loop.

    `socket` stays the caller's to close, after `close()` here. Sends that should not disturb
    the reading go through `send`.
    """

    def __init__(self, socket: zmq.Socket[Any], on_message: Callable[[list[bytes]], None]) -> None:
        self._socket: zmq.Socket[bytes] = zmq.Socket.shadow(socket.underlying)
        self._on_message = on_message
        self._loop = asyncio.get_running_loop()
        self._fd = self._socket.FD
        self._paused = False
        self._watching = True
        self._loop.add_reader(self._fd, self._drain)
        # A message queued before we watched signalled nobody.
        self._loop.call_soon(self._drain)

    def send(self, frames: list[bytes]) -> None:
        """Send without blocking; raises `zmq.Again` if it cannot go now, `zmq.ZMQError` if not
        at all (e.g. ROUTER_MANDATORY to a peer that is gone)."""
        try:
            self._socket.send_multipart(frames, flags=zmq.NOBLOCK)
        finally:
            self.has_queued()

    def pause(self) -> None:
        """Stop reading (messages queue in ZeroMQ, up to its high-water mark) until `resume`."""
        self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            self._loop.call_soon(self._drain)

    def close(self) -> None:
        """Stop reading for good; call it before closing the socket."""
        if self._watching:
            self._watching = False
            self._loop.remove_reader(self._fd)

    def has_queued(self) -> bool:
        """Whether a message waits to be read; if so, it is read on the next loop turn. Ask
        here, never the socket itself: reading ZMQ_EVENTS may take the ZMQ_FD signal, and
        nothing would read the message then."""
        queued = self._watching and bool(cast(int, self._socket.get(zmq.EVENTS)) & zmq.POLLIN)
        if queued:
            self._loop.call_soon(self._drain)
        return queued

    def _drain(self) -> None:
        while self._watching and not self._paused:
            try:
                frames = self._socket.recv_multipart(flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                self._on_message(frames)
            except Exception:
                # A bug here must cost one message, never the reading.
                logger.exception("could not handle a message of %d frames", len(frames))
