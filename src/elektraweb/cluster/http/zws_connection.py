"""One open ZWS WebSocket: who opened it, the messages its handler reads, and how it closes.

Only the handler closes its WebSocket; other tasks (revoked credentials, `disconnect`,
shutdown, the events forwarder) ask it to. When another task closes a WebSocket whose handler
is waiting for a message, aiohttp shuts the TCP link right after the close frame instead of
waiting for the peer's answer. A message the peer sent before it read that frame then meets a
reset, and a peer that was slow to read loses the unread close frame with it: it sees the
connection drop with no close code. Closed by the handler, the WebSocket reads (and drops) what
the peer still sends until its answer, for at most `CLOSE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiohttp import WSCloseCode, WSMessage, WSMsgType, web

from elektraweb.cluster.http.zws import MessageAssembler, ZwsProtocolError
from elektraweb.cluster.principals import Principal

log = logging.getLogger(__name__)

CLOSE_SECONDS = 5.0
"""How long a close may wait on a peer that does not read before the TCP link is cut."""


class ZwsConnection:
    """An open WebSocket of `/zmq` or `/zmq/events` and the principal that opened it."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, principal: Principal):
        self.ws = ws
        self.request = request
        self.principal = principal
        self.ended = asyncio.Event()
        """Set by the handler when it stops reading: the WebSocket is closed."""
        self._close_asked: tuple[int, bytes] | None = None
        self._receiving: asyncio.Task[object] | None = None
        """The handler's task while it waits for the peer's next message."""

    def ask_to_close(self, code: int, reason: bytes) -> None:
        """Have the handler close with `code` and `reason`; the first close asked for wins."""
        if self._close_asked is not None:
            return
        self._close_asked = (code, reason)
        if self._receiving is not None:
            # Wakes the handler from its wait for a message (see `_receive`); a handler busy
            # elsewhere sees the request before it reads again.
            self._receiving.cancel()

    async def messages(self, assembler: MessageAssembler) -> AsyncIterator[list[bytes]]:
        """The peer's ZeroMQ messages until it closes, or until a close is asked for (which is
        then made); raises ZwsProtocolError on a violation."""
        while True:
            if self._close_asked is not None:
                await self.close(*self._close_asked)
                return
            ws_message = await self._receive()
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

    async def _receive(self) -> WSMessage | None:
        """The next WebSocket message, or None when a close is asked for meanwhile.

        `ask_to_close` cancels the wait; only here, so the cancellation always lands in
        `receive()`, which then leaves any message it had for the close to read and drop."""
        task = asyncio.current_task()
        assert task is not None
        self._receiving = task
        try:
            return await self.ws.receive()
        except asyncio.CancelledError:
            # Cancelled by shutdown as well: that cancellation goes on.
            if self._close_asked is None or task.uncancel() > 0:
                raise
            return None
        finally:
            self._receiving = None

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
