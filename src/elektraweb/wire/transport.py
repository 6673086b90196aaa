"""How a client reaches elektrad: the `Transport` seam, its errors, and the in-process one.

`ZmqTransport` (elektraweb.wire.client) crosses the network; `InProcessTransport` calls a
handler directly but through the same encoding, so code above the seam behaves the same and can
be tested without sockets.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Mapping
from typing import Protocol

from elektraweb.wire.encoding import (
    decode_reply,
    decode_request,
    encode_reply_within,
    encode_request,
)
from elektraweb.wire.errors import RemoteError
from elektraweb.wire.messages import MAX_MESSAGE_BYTES, Handler, Reply, Request, pong
from elektraweb.wire.monitor import LinkStatus
from elektraweb.wire.replies import OperationReply, as_reply


class LinkError(Exception):
    """No reply came; whether the request was executed is unknown."""


class Unreachable(LinkError):
    """There was no connection to send the request on (down, refused, or our key not allowed)."""


class TimedOut(LinkError):
    """The request was sent, but no reply came within the deadline and its retries."""


# 16 random hex digits per process, then a counter: unique across processes and restarts as a
# random UUID is, at a tenth of its cost per request (docs/protocol.md §2).
_PROCESS_PREFIX = secrets.token_hex(8)
_sequence = itertools.count()


def new_request_id() -> bytes:
    """32 hex digits: this process's random prefix and the request's number in it."""
    return f"{_PROCESS_PREFIX}{next(_sequence):016x}".encode("ascii")


class Transport(Protocol):
    """Sends one operation to one elektrad and returns its result.

    `request` raises `RemoteError` for an error reply and `LinkError` when no reply came.
    """

    status: LinkStatus

    async def start(self) -> None:
        """Open the link; its `status` reports how that goes."""
        ...

    async def request(
        self,
        op: str,
        args: Mapping[str, object] | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> OperationReply: ...

    async def close(self) -> None: ...


class InProcessTransport:
    """Calls `handler` in this process, with the wire's validation and JSON encoding.

    Unlike the server it lets a handler's unexpected exception propagate, so tests see it.
    """

    def __init__(self, handler: Handler, *, timeout: float = 5.0) -> None:
        self._handler = handler
        self._timeout = timeout
        self.status = LinkStatus("in-process")

    async def start(self) -> None:
        # Online from here on, like a link whose handshake succeeded: listeners see it come up.
        self.status.mark_online()

    async def request(
        self,
        op: str,
        args: Mapping[str, object] | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> OperationReply:
        request_id, body = encode_request(Request(new_request_id(), op, dict(args or {})))
        request = decode_request(request_id, body)
        deadline = self._timeout if timeout is None else timeout
        if request.op == "ping":
            reply = pong()
        else:
            try:
                async with asyncio.timeout(deadline):
                    reply = await self._handler(request)
            except TimeoutError:
                raise TimedOut(f"no reply to {op} within {deadline} s") from None
            except RemoteError as error:
                reply = Reply(error=error)
        answer = decode_reply(encode_reply_within(reply, request, MAX_MESSAGE_BYTES))
        return as_reply(op, answer.unwrap())

    async def close(self) -> None:
        self.status.mark_offline("closed", expected=True)
