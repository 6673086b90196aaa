"""A raw ZWS 2.0 client for tests: clusterd's `/zmq` and `/zmq/events` frame by frame, on top
of aiohttp's WebSocket client (jszmq in tests/js is the independent one)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp import WSMsgType

from elektraweb.cluster.http.zws import Frame, encode_message


class ZwsClient:
    """Just enough ZWS 2.0 on top of aiohttp's client to speak to the endpoints frame by frame."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._frames: list[bytes] = []  # kept across calls, so a timeout loses no frame

    async def send(self, *frames: bytes) -> None:
        for data in encode_message(frames):
            await self.ws.send_bytes(data)

    async def receive(self, timeout: float = 10) -> list[bytes]:
        async with asyncio.timeout(timeout):
            while True:
                message = await self.ws.receive()
                assert message.type is WSMsgType.BINARY, message
                frame = Frame.decode(message.data)
                self._frames.append(frame.body)
                if not frame.more:
                    frames, self._frames = self._frames, []
                    return frames

    async def request(self, request_id: bytes, request: dict[str, Any]) -> dict[str, Any]:
        await self.send(request_id, json.dumps(request).encode())
        reply_id, reply = await self.receive()
        assert reply_id == request_id
        return dict(json.loads(reply))

    async def closed(self) -> tuple[int, str]:
        """Read until the server closes; return its close code and reason."""
        while True:
            message = await asyncio.wait_for(self.ws.receive(), timeout=10)
            if message.type is WSMsgType.CLOSE:
                return message.data, message.extra or ""
            assert message.type is WSMsgType.BINARY, message


async def open_zws(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> ZwsClient:
    """Connect and exchange routing ids."""
    client = ZwsClient(await session.ws_connect(url, protocols=("ZWS2.0",), headers=headers))
    assert await client.receive() == [b""], "the server's routing id comes first"
    await client.send(b"test-peer")
    return client
