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

from aiohttp import WSCloseCode, WSMsgType, web

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
        self._close_asked: asyncio.Future[tuple[int, bytes]] = (
            asyncio.get_running_loop().create_future()
        )

    def ask_to_close(self, code: int, reason: bytes) -> None:
        """Have the handler close with `code` and `reason`; the first close asked for wins."""
        if not self._close_asked.done():
            self._close_asked.set_result((code, reason))

    async def messages(self, assembler: MessageAssembler) -> AsyncIterator[list[bytes]]:
        """The peer's ZeroMQ messages until it closes or a close is asked for (then made);
        raises ZwsProtocolError on a violation."""
        while True:
            receiving = asyncio.ensure_future(self.ws.receive())
            try:
                await asyncio.wait(
                    (receiving, self._close_asked), return_when=asyncio.FIRST_COMPLETED
                )
            except asyncio.CancelledError:
                receiving.cancel()
                raise
            if self._close_asked.done():
                # The receive must have ended before the close, which then reads the answer.
                receiving.cancel()
                await asyncio.gather(receiving, return_exceptions=True)
                await self.close(*self._close_asked.result())
                return
            ws_message = receiving.result()
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
