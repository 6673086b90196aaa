"""`elektrad --elektra-notify`: libelektra's notification frames, read by a plain pyzmq SUB
bound where libelektra's hub or receiving application would be."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from elektraweb.wire.keys import KeyPair

from .conftest import ELEKTRAD, EVENT_TIMEOUT, Daemon

Received = asyncio.Queue[list[bytes]]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Received, str]]:
    """A SUB socket subscribed as libelektra's zeromqrecv does, to the 7 bytes 'Commit\\0',
    and receiving all the time as an application's I/O loop does (a ZeroMQ socket takes in
    a connection, and so sends its subscription, only while its owner calls it)."""
    context = zmq.asyncio.Context()
    socket = context.socket(zmq.SUB)
    socket.linger = 0
    socket.setsockopt(zmq.SUBSCRIBE, b"Commit\x00")
    port = socket.bind_to_random_port("tcp://127.0.0.1")
    received: Received = asyncio.Queue()

    async def receive() -> None:
        while True:
            received.put_nowait(await socket.recv_multipart())

    task = asyncio.create_task(receive())
    try:
        yield received, f"tcp://127.0.0.1:{port}"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        socket.close()
        context.term()


@pytest.fixture
def notifying(
    tmp_path: Path, client_keys: KeyPair, receiver: tuple[Received, str]
) -> Iterator[Daemon]:
    daemon = Daemon(tmp_path, client_keys, options=("--elektra-notify", receiver[1]))
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.kill()


async def _subscription_seen(daemon: Daemon) -> None:
    # ZeroMQ drops what is published before the subscription arrives; elektrad logs it.
    async with asyncio.timeout(EVENT_TIMEOUT):
        while "subscribed to 'Commit" not in daemon.log():
            await asyncio.sleep(0.05)


async def _next_commit(received: Received) -> list[bytes]:
    async with asyncio.timeout(EVENT_TIMEOUT):
        return await received.get()


async def test_every_commit_reaches_a_libelektra_receiver(
    notifying: Daemon, receiver: tuple[Received, str]
) -> None:
    received, _ = receiver
    await _subscription_seen(notifying)
    async with notifying.transport() as link:
        # A write through elektrad: one notification naming the key, NUL-terminated frames
        # exactly as zeromqsend sends them.
        await link.request("set", {"key": "user:/sw/app/port", "value": "80"})
        assert await _next_commit(received) == [b"Commit\x00", b"user:/sw/app/port\x00"]
        await link.request("set", {"key": "user:/sw/app/host", "value": "h"})
        assert await _next_commit(received) == [b"Commit\x00", b"user:/sw/app/host\x00"]
        # A recursive remove is one commit: it names the parent, as zeromqsend names the
        # parent key of each kdbSet.
        await link.request("rm", {"key": "user:/sw/app", "recursive": True})
        assert await _next_commit(received) == [b"Commit\x00", b"user:/sw/app\x00"]
    # A change made behind elektrad's back, seen by its change feed, is announced too.
    done = notifying.kdb("set", "system:/sw/other", "1")
    assert done.returncode == 0, done.stderr
    assert await _next_commit(received) == [b"Commit\x00", b"system:/sw/other\x00"]


def test_a_remote_endpoint_needs_the_operator_to_opt_in(tmp_path: Path) -> None:
    command = [
        str(ELEKTRAD),
        "--allow-key",
        KeyPair.generate().public,
        "--state",
        str(tmp_path),
        "--elektra-notify",
        "tcp://192.0.2.7:6000",
    ]
    refused = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2
    assert "tcp://192.0.2.7:6000" in refused.stderr
    assert "--elektra-notify-remote" in refused.stderr
