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

    def transport(self) -> asyncio.Transport:
        """The TCP transport under the WebSocket (aiohttp has no public way to it), e.g. to
        stop reading as a busy client does."""
        connection = self.ws._response.connection
        assert connection is not None and connection.transport is not None, "not connected"
        return connection.transport

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


async def subscribe_events(
    session: aiohttp.ClientSession, prefix: str
) -> aiohttp.ClientWebSocketResponse:
    """A ZWS 2.0 subscriber on `/zmq/events` of the server `session` is logged in to, frame by
    frame with no helper: routing ids exchanged, `prefix` subscribed."""
    ws = await session.ws_connect("/zmq/events", protocols=("ZWS2.0",))
    assert await ws.receive_bytes() == b"\x00"  # clusterd's (empty) routing id
    await ws.send_bytes(b"\x00")
    await ws.send_bytes(b"\x00\x01" + prefix.encode())
    return ws


async def next_event(ws: aiohttp.ClientWebSocketResponse, timeout: float) -> tuple[str, Any]:
    """The next event of a `subscribe_events` subscriber: its topic and its JSON."""
    async with asyncio.timeout(timeout):
        topic = await ws.receive_bytes()
        body = await ws.receive_bytes()
    assert (topic[:1], body[:1]) == (b"\x01", b"\x00")  # more, last
    return topic[1:].decode(), json.loads(body[1:])
