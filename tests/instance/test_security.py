"""Only allowed CURVE keys get an answer, on the request socket and on the event socket."""

from __future__ import annotations

import asyncio

import pytest

from elektraweb.wire.keys import KeyPair
from elektraweb.wire.subscriber import EventSubscriber
from elektraweb.wire.transport import LinkError

from .conftest import Daemon


async def test_an_unknown_key_gets_nothing_and_is_logged(shared_daemon: Daemon) -> None:
    stranger = KeyPair.generate()
    async with shared_daemon.transport(stranger, timeout=1.0, retries=0) as link:
        with pytest.raises(LinkError):
            await link.request("get", {"key": "user:/"})
    events = EventSubscriber(
        shared_daemon.events,
        server_key=shared_daemon.public_key,
        keypair=stranger,
        prefixes=[""],
    )
    async with events, shared_daemon.transport() as allowed:
        for attempt in range(5):
            await allowed.request("set", {"key": "user:/secret", "value": str(attempt)})
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.0):
                await events.receive()
    assert shared_daemon.alive()
    log = shared_daemon.log()
    assert f"refused CURVE client key {stranger.public}" in log
