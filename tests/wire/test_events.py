"""The change feed: WireServer.publish through CURVE to EventSubscriber, by topic prefix."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from elektraweb.wire import Event, EventSubscriber, KeyPair, KeyState, SubtreeEvent, WireServer

from .conftest import ANY_PORT, RecordingHandler, Restartable, unused_endpoint, wait_until


def change(key: str, value: str) -> Event:
    return Event(key, None, KeyState(value, {}), f"rev-{value}", "external")


async def subscribe(
    server: WireServer,
    server_keys: KeyPair,
    keys: KeyPair,
    *prefixes: str,
    watch_until_online: bool = False,
) -> EventSubscriber:
    assert server.events_endpoint is not None
    subscriber = EventSubscriber(
        server.events_endpoint,
        server_key=server_keys.public,
        keypair=keys,
        prefixes=prefixes,
        watch_until_online=watch_until_online,
    )
    await subscriber.start()
    return subscriber


async def settle(server: WireServer, subscriber: EventSubscriber, probe_key: str) -> None:
    """Publish probes until one arrives: PUB drops what it sends before a subscription lands."""

    async def first_probe() -> None:
        while (await subscriber.receive()).key != probe_key:
            pass

    receiving = asyncio.create_task(first_probe())
    while not receiving.done():
        await server.publish(change(probe_key, "probe"))
        await asyncio.wait({receiving}, timeout=0.05)
    await receiving


@pytest.fixture
async def subscriber(
    server: WireServer, server_keys: KeyPair, client_keys: KeyPair
) -> AsyncIterator[EventSubscriber]:
    subscriber = await subscribe(server, server_keys, client_keys, "user:/app/")
    await settle(server, subscriber, "user:/app/probe")
    yield subscriber
    await subscriber.close()


async def test_subscriber_gets_the_subtree_it_follows_in_order(
    server: WireServer, subscriber: EventSubscriber
) -> None:
    for key in ["user:/app/port", "user:/apple/x", "system:/app/port", "user:/app/db/host"]:
        await server.publish(change(key, "1"))
    first = await asyncio.wait_for(subscriber.receive(), 5)
    second = await asyncio.wait_for(subscriber.receive(), 5)
    assert [first.key, second.key] == ["user:/app/port", "user:/app/db/host"]
    assert isinstance(first, Event) and first.new == KeyState("1", {})
    assert first.origin == "external"
    assert second.seq > first.seq
    assert subscriber.status.online


async def test_events_handed_to_a_callback_arrive_in_order_and_stop_at_close(
    server: WireServer, subscriber: EventSubscriber, server_keys: KeyPair, client_keys: KeyPair
) -> None:
    # How clusterd's instance feed reads: from the socket's reader callback, no Future each.
    witness = await subscribe(server, server_keys, client_keys, "")
    await settle(server, witness, "system:/probe")  # outside what `subscriber` follows
    received: list[str] = []
    subscriber.deliver_to(lambda event: received.append(event.key))
    keys = [f"user:/app/k{index}" for index in range(20)]
    for key in [*keys[:10], "system:/app/other", *keys[10:]]:
        await server.publish(change(key, "1"))
    await wait_until(lambda: len(received) >= len(keys))
    assert received == keys
    assert subscriber.status.online

    await subscriber.close()
    await server.publish(change("user:/app/after", "1"))
    # The witness, subscribed the same way, has it: it was sent, and the closed one took none.
    while (await asyncio.wait_for(witness.receive(), 5)).key != "user:/app/after":
        pass
    await witness.close()
    assert received == keys


async def test_subtree_event_reaches_whoever_follows_its_subtree(
    server: WireServer, subscriber: EventSubscriber
) -> None:
    published = await server.publish(SubtreeEvent("user:/app/db", 40, 1, 2, "elektrad"))
    await server.publish(SubtreeEvent("user:/apple", 40, 0, 0, "elektrad"))
    await server.publish(change("user:/app/after", "1"))
    received = [await asyncio.wait_for(subscriber.receive(), 5) for _ in range(2)]
    assert received[0] == published
    assert received[0] == SubtreeEvent("user:/app/db", 40, 1, 2, "elektrad", seq=published.seq)
    assert received[1].key == "user:/app/after" and received[1].seq == published.seq + 2


async def test_publish_numbers_events_from_one(server: WireServer) -> None:
    first = await server.publish(change("user:/a", "1"))
    second = await server.publish(change("user:/a", "2"))
    assert (first.seq, second.seq) == (1, 2)


async def test_more_prefixes_can_be_followed_later(
    server: WireServer, subscriber: EventSubscriber
) -> None:
    subscriber.subscribe("system:/")
    await settle(server, subscriber, "system:/probe")
    await server.publish(change("system:/hosts/a", "1"))
    assert (await asyncio.wait_for(subscriber.receive(), 5)).key == "system:/hosts/a"


async def test_subscriber_with_an_unknown_key_is_refused(
    server: WireServer, server_keys: KeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = KeyPair.generate()
    with caplog.at_level(logging.WARNING, logger="elektraweb.wire.zap"):
        subscriber = await subscribe(server, server_keys, stranger, "")
        try:
            await wait_until(lambda: subscriber.status.last_error is not None)
            for _ in range(20):
                await server.publish(change("user:/secret", "s3cr3t"))
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(subscriber.receive(), 0.3)
            assert "refused our CURVE key" in (subscriber.status.last_error or "")
        finally:
            await subscriber.close()
    assert stranger.public in caplog.text


async def test_server_without_events_endpoint_cannot_publish(
    handler: RecordingHandler, server_keys: KeyPair
) -> None:
    async with WireServer(handler, keypair=server_keys, allowed_keys=[], listen=ANY_PORT) as plain:
        with pytest.raises(RuntimeError, match="without an events endpoint"):
            await plain.publish(change("user:/a", "1"))


@pytest.mark.parametrize(
    ("watch_until_online", "went"), [(False, [False, True]), (True, [])], ids=["watched", "feed"]
)
async def test_subscriber_follows_a_restarted_daemon(
    serve_at: Restartable,
    server_keys: KeyPair,
    client_keys: KeyPair,
    watch_until_online: bool,
    went: list[bool],
) -> None:
    """ZeroMQ reconnects the subscription. Watched, its status goes offline and back; watched
    only until online (the feed's kind: no connection monitor after the first handshake), it
    stays online throughout."""
    listen, events = unused_endpoint(), unused_endpoint()
    server = serve_at(listen, events)
    await server.start()
    subscriber = await subscribe(
        server, server_keys, client_keys, "user:/", watch_until_online=watch_until_online
    )
    changes: list[bool] = []
    try:
        await settle(server, subscriber, "user:/probe")
        await wait_until(lambda: subscriber.status.online)
        subscriber.status.listeners.append(lambda status: changes.append(status.online))
        await server.stop()
        if not watch_until_online:
            await wait_until(lambda: not subscriber.status.online)

        server = serve_at(listen, events)
        await server.start()
        await settle(server, subscriber, "user:/probe")
        first = await server.publish(change("user:/after", "1"))
        event = await asyncio.wait_for(subscriber.receive(), 5)
        assert (event.key, event.seq) == ("user:/after", first.seq)
        await wait_until(lambda: subscriber.status.online)
        assert changes == went
    finally:
        await subscriber.close()
        await server.stop()
