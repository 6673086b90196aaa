"""A ZAP handler (ZeroMQ RFC 27) that admits only allow-listed CURVE client keys.

libzmq asks the ZAP handler of the socket's context about every CURVE handshake, so every
CURVE server socket of that context (elektrad's ROUTER and PUB) shares this one allow-list.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

import zmq
import zmq.asyncio
import zmq.utils.z85

from elektraweb.wire.keys import load_public_key

logger = logging.getLogger(__name__)

ZAP_ENDPOINT = "inproc://zeromq.zap.01"
_ZAP_VERSION = b"1.0"
# A refused client reconnects on its own; one warning per key and interval is enough.
_REPEAT_WARNING_AFTER = 60.0
_REMEMBERED_REFUSALS = 1024


class ZapAllowList:
    """Answers ZAP requests on `context`: CURVE clients whose public key is allowed get in."""

    def __init__(self, context: zmq.asyncio.Context, allowed_keys: Iterable[str]) -> None:
        self._context = context
        self._allowed = frozenset(
            zmq.utils.z85.decode(load_public_key(key)) for key in allowed_keys
        )
        self._socket: zmq.asyncio.Socket | None = None
        self._task: asyncio.Task[None] | None = None
        self._warned_at: dict[bytes, float] = {}

    def start(self) -> None:
        """Bind the handler; must happen before the context's server sockets accept clients."""
        socket = self._context.socket(zmq.REP)
        socket.linger = 0
        socket.bind(ZAP_ENDPOINT)
        self._socket = socket
        self._task = asyncio.get_running_loop().create_task(self._serve(socket), name="zap")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._socket is not None:
            self._socket.close()
        self._task = self._socket = None

    async def _serve(self, socket: zmq.asyncio.Socket) -> None:
        while True:
            request = await socket.recv_multipart()
            await socket.send_multipart(self._answer(request))

    def _answer(self, request: list[bytes]) -> list[bytes]:
        if len(request) < 6 or request[0] != _ZAP_VERSION:
            logger.warning("malformed ZAP request with %d frames refused", len(request))
            request_id = request[1] if len(request) > 1 else b""
            return [_ZAP_VERSION, request_id, b"500", b"malformed ZAP request", b"", b""]
        request_id, address, mechanism = request[1], request[3], request[5]
        credentials = request[6:]
        if mechanism != b"CURVE" or len(credentials) != 1:
            logger.warning(
                "refused %s client from %s: only CURVE clients are accepted",
                mechanism.decode(errors="replace"),
                address.decode(errors="replace"),
            )
            return [_ZAP_VERSION, request_id, b"400", b"CURVE required", b"", b""]
        client_key = credentials[0]
        if client_key in self._allowed:
            user_id = zmq.utils.z85.encode(client_key)
            return [_ZAP_VERSION, request_id, b"200", b"OK", user_id, b""]
        self._warn_refused(client_key, address.decode(errors="replace"))
        return [_ZAP_VERSION, request_id, b"400", b"key not allowed", b"", b""]

    def _warn_refused(self, client_key: bytes, address: str) -> None:
        now = time.monotonic()
        if now - self._warned_at.get(client_key, -_REPEAT_WARNING_AFTER) < _REPEAT_WARNING_AFTER:
            return
        if len(self._warned_at) >= _REMEMBERED_REFUSALS:
            self._warned_at.clear()
        self._warned_at[client_key] = now
        logger.warning(
            "refused CURVE client key %s from %s: not in the allow-list",
            zmq.utils.z85.encode(client_key).decode("ascii"),
            address,
        )
