"""One open ZWS WebSocket: who opened it, the messages its handler reads, and how it closes.

Only the handler closes its WebSocket; other tasks (revoked credentials, `disconnect`,
shutdown, the events forwarder) ask it to. When another task closes a WebSocket whose handler
is waiting for a message, aiohttp shuts the TCP link right after the close frame instead of
waiting for the peer's answer. A message the peer sent before it read that frame then meets a
reset, and a peer that was slow to read loses the unread close frame with it: it sees the
connection drop with no close code. Closed by the handler, the WebSocket reads (and drops) what
the peer still sends until its answer, for at most `CLOSE_SECONDS`.

Closing is bounded: once a close is asked for, the handler's waits end (for a message, for a
free request slot: `unless_closing`), and whatever the connection's tasks still answer is
dropped (`send`), so a close never waits for a slow request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Coroutine, Sequence
from typing import TypeVar

from aiohttp import WSCloseCode, WSMsgType, web

from elektraweb.cluster.http.zws import MessageAssembler, ZwsProtocolError, encode_message
from elektraweb.cluster.principals import Principal

log = logging.getLogger(__name__)

CLOSE_SECONDS = 5.0
"""How long a close may wait on a peer that does not read before the TCP link is cut."""

Result = TypeVar("Result")


class ZwsConnection:
    """An open WebSocket of `/zmq` or `/zmq/events` and the principal that opened it."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, principal: Principal):
        self.ws = ws
        self.request = request
        self.principal = principal
        self.ended = asyncio.Event()
        """Set by the handler when it stops reading: the WebSocket is closed."""
        self._close_asked: tuple[int, bytes] | None = None
        self._waiting: asyncio.Task[object] | None = None
        """The handler's task while it waits (`unless_closing`)."""
        self._tasks: set[asyncio.Task[None]] = set()

    def ask_to_close(self, code: int, reason: bytes) -> None:
        """Have the handler close with `code` and `reason`; the first close asked for wins."""
        if self._close_asked is not None:
            return
        self._close_asked = (code, reason)
        if self._waiting is not None:
            # Wakes the handler from its wait (see `unless_closing`); a handler busy elsewhere
            # sees the request before it waits again.
            self._waiting.cancel()

    @property
    def closing(self) -> bool:
        """Whether the connection is closing or closed: nothing more is sent on it."""
        return self._close_asked is not None or self.ended.is_set()

    async def messages(self, assembler: MessageAssembler) -> AsyncIterator[list[bytes]]:
        """The peer's ZeroMQ messages until it closes, or until a close is asked for (which is
        then made); raises ZwsProtocolError on a violation."""
        while True:
            if self._close_asked is not None:
                await self.close(*self._close_asked)
                return
            ws_message = await self.unless_closing(self.ws.receive())
            if ws_message is None:
                continue  # a close was asked for
            if ws_message.type is WSMsgType.BINARY:
                message = assembler.feed(ws_message.data)
                if message is not None:
                    yield message
            elif ws_message.type is WSMsgType.TEXT:
                raise ZwsProtocolError(
                    WSCloseCode.UNSUPPORTED_DATA, "text message; ZWS frames are binary messages"
                )
            elif ws_message.type is WSMsgType.ERROR:
                # aiohttp has closed the connection already (e.g. 1009 for an oversized frame).
                log.warning("zws connection closed by the server: %s", ws_message.data)
                return
            elif ws_message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return

    async def unless_closing(self, waiting: Awaitable[Result]) -> Result | None:
        """What `waiting` gives, or None when a close is asked for before or meanwhile: then
        the handler, the only caller, goes back to `messages`, which makes the close.

        `ask_to_close` cancels the wait; only here, so the cancellation always lands in the
        awaited call (`receive()` leaves any message it had for the close to read and drop;
        a semaphore's `acquire()` takes no slot)."""
        if self._close_asked is not None:
            _discard(waiting)
            return None
        task = asyncio.current_task()
        assert task is not None
        self._waiting = task
        try:
            return await waiting
        except asyncio.CancelledError:
            # Cancelled by shutdown as well: that cancellation goes on.
            if self._close_asked is None or task.uncancel() > 0:
                raise
            return None
        finally:
            self._waiting = None

    async def send(self, frames: Sequence[bytes]) -> None:
        """Send one ZeroMQ message, unless the connection is closing: then, or if the peer has
        gone away, the message is dropped."""
        if self.closing:
            log.debug("zws %s: closing; a message was dropped", self.request.path)
            return
        try:
            for data in encode_message(frames):
                await self.ws.send_bytes(data)
        except ConnectionResetError:
            log.debug("zws peer went away before a message could be sent")

    def spawn(self, work: Coroutine[object, object, None]) -> asyncio.Task[None]:
        """Run `work` as one of the connection's tasks (`end_tasks`)."""
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def end_tasks(self, timeout: float | None = None) -> None:
        """Let the connection's tasks end by themselves (a request's effect happens anyway),
        for at most `timeout`; cancel what is left then, or all if we are cancelled (server
        shutdown)."""
        tasks = set(self._tasks)
        if not tasks:
            return
        try:
            _, pending = await asyncio.wait(tasks, timeout=timeout)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            raise
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def close(self, code: int, reason: bytes) -> None:
        """Close with code and reason, from the handler; cut the TCP link if the peer does not
        let that through."""
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                await self.ws.close(code=code, message=reason)
        except TimeoutError:
            log.warning(
                "zws %s: no answer to the close (%d) within %g s; cutting the connection",
                self.request.path,
                code,
                CLOSE_SECONDS,
            )
            if self.request.transport is not None:
                self.request.transport.abort()


def _discard(waiting: Awaitable[object]) -> None:
    """Close a coroutine that will not be awaited (no "never awaited" warning)."""
    close = getattr(waiting, "close", None)
    if close is not None:
        close()
