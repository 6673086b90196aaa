"""SocketReader over a real CURVE DEALER/ROUTER pair on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
import zmq
import zmq.asyncio

from elektraweb.wire.keys import KeyPair
from elektraweb.wire.reader import SocketReader


@dataclass
class Pair:
    dealer: zmq.asyncio.Socket
    router: zmq.asyncio.Socket


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    """A CURVE ROUTER and a DEALER connected to it, the handshake done."""
    server, client = KeyPair.generate(), KeyPair.generate()
    context = zmq.asyncio.Context()
    router = context.socket(zmq.ROUTER)
    server.configure_server(router)
    router.bind("tcp://127.0.0.1:*")
    dealer = context.socket(zmq.DEALER)
    client.configure_client(dealer, server.public)
    dealer.connect(router.getsockopt_string(zmq.LAST_ENDPOINT))
    await dealer.send_multipart([b"hello"])
    await router.recv_multipart()
    yield Pair(dealer, router)
    dealer.close(linger=0)
    router.close(linger=0)
    context.term()


class Inbox:
    """Collects messages; `arrived(n)` waits until it has `n` of them."""

    def __init__(self) -> None:
        self.messages: list[list[bytes]] = []
        self._changed = asyncio.Event()

    def __call__(self, frames: list[bytes]) -> None:
        self.messages.append(frames)
        self._changed.set()

    async def arrived(self, count: int) -> None:
        while len(self.messages) < count:
            self._changed.clear()
            await self._changed.wait()


def sync(socket: zmq.asyncio.Socket) -> zmq.Socket[Any]:
    return zmq.Socket.shadow(socket.underlying)


async def test_messages_queued_before_reading_began_are_read(pair: Pair) -> None:
    identity = (await _identity(pair))[0]
    for n in range(3):
        sync(pair.router).send_multipart([identity, b"%d" % n])
    await _until_readable(pair.dealer)
    inbox = Inbox()
    reader = SocketReader(pair.dealer, inbox)
    await inbox.arrived(3)
    reader.close()
    assert inbox.messages == [[b"0"], [b"1"], [b"2"]]


async def test_a_burst_arrives_whole_and_in_order(pair: Pair) -> None:
    inbox = Inbox()
    reader = SocketReader(pair.dealer, inbox)
    identity = (await _identity(pair))[0]
    sync(pair.router).send_multipart([identity, b"first"])
    await inbox.arrived(1)
    for n in range(500):
        sync(pair.router).send_multipart([identity, b"%d" % n])
    await inbox.arrived(501)
    reader.close()
    assert [frames[0] for frames in inbox.messages[1:]] == [b"%d" % n for n in range(500)]


async def test_replies_to_its_own_sends_keep_coming_however_they_interleave(pair: Pair) -> None:
    """Each request is sent from the reading callback itself, between two reads of the
    socket (where a send may consume ZMQ_FD's edge while a reply waits): all 300 round
    trips complete, in order."""
    inbox = Inbox()
    replies = 0

    def answer(frames: list[bytes]) -> None:
        nonlocal replies
        inbox(frames)
        replies += 1
        if replies < 300:
            reader.send([b"%d" % replies])

    reader = SocketReader(pair.dealer, answer)

    async def echo() -> None:
        for _ in range(300):
            frames = await pair.router.recv_multipart()
            await pair.router.send_multipart(frames)

    echoing = asyncio.create_task(echo())
    reader.send([b"0"])
    await inbox.arrived(300)
    await echoing
    reader.close()
    assert [frames[0] for frames in inbox.messages] == [b"%d" % n for n in range(300)]


async def test_paused_it_reads_nothing_and_resumed_it_reads_what_queued(pair: Pair) -> None:
    inbox = Inbox()
    reader = SocketReader(pair.dealer, inbox)
    identity = (await _identity(pair))[0]
    reader.pause()
    for n in range(3):
        sync(pair.router).send_multipart([identity, b"%d" % n])
    await _until_readable(pair.dealer)
    await asyncio.sleep(0)  # the loop's reader callback had its turn
    assert inbox.messages == []
    reader.resume()
    await inbox.arrived(3)
    reader.close()
    assert inbox.messages == [[b"0"], [b"1"], [b"2"]]


async def test_a_failing_callback_costs_its_message_only(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox()

    def fragile(frames: list[bytes]) -> None:
        if frames == [b"bad"]:
            raise ValueError("handler bug")
        inbox(frames)

    reader = SocketReader(pair.dealer, fragile)
    identity = (await _identity(pair))[0]
    for body in (b"bad", b"good"):
        sync(pair.router).send_multipart([identity, body])
    await inbox.arrived(1)
    reader.close()
    assert inbox.messages == [[b"good"]]
    assert "could not handle a message of 1 frames" in caplog.text


async def _identity(pair: Pair) -> list[bytes]:
    """The DEALER's routing id at the ROUTER (it says hello once more)."""
    sync(pair.dealer).send_multipart([b"again"])
    frames = await pair.router.recv_multipart()
    return frames[:1]


async def _until_readable(socket: zmq.asyncio.Socket) -> None:
    """Until a message waits on `socket`, without reading it."""
    while not cast(int, sync(socket).get(zmq.EVENTS)) & zmq.POLLIN:
        await asyncio.sleep(0.01)
