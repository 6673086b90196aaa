"""ZmqTransport against real servers: status, deadlines, retries, unreachable daemons."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from elektraweb.wire import (
    KeyPair,
    LinkError,
    TimedOut,
    Unreachable,
    WireServer,
    ZmqTransport,
)
from elektraweb.wire import client as wire_client
from elektraweb.wire.client import SharedArgs
from elektraweb.wire.encoding import encode_request
from elektraweb.wire.messages import Request

from .conftest import (
    ClientFactory,
    RecordingHandler,
    Restartable,
    ServerThread,
    echoed,
    unused_endpoint,
    wait_until,
)


async def test_status_follows_the_server_going_away_and_coming_back(
    serve_at: Restartable, dial: ClientFactory
) -> None:
    endpoint = unused_endpoint()
    server = serve_at(endpoint)
    await server.start()
    client = dial(endpoint)
    await client.start()
    try:
        await wait_until(lambda: client.status.online)
        assert client.status.offline_since is None

        await server.stop()
        await wait_until(lambda: not client.status.online)
        assert client.status.offline_since is not None
        assert client.status.last_error == f"connection to {endpoint} lost"

        server = serve_at(endpoint)
        await server.start()
        await wait_until(lambda: client.status.online)
        assert client.status.last_error is None
        assert await client.request("get", {"key": "user:/back"})
        assert client.status.last_seen is not None
    finally:
        await server.stop()


async def test_request_made_while_offline_is_sent_when_the_server_appears(
    handler: RecordingHandler, server_keys: KeyPair, client_keys: KeyPair, dial: ClientFactory
) -> None:
    endpoint = unused_endpoint()
    client = dial(endpoint, timeout=5.0, retries=0)
    await client.start()
    server = WireServer(
        handler, keypair=server_keys, allowed_keys=[client_keys.public], listen=endpoint
    )
    try:
        request = asyncio.create_task(client.request("set", {"key": "user:/early"}))
        await asyncio.sleep(0.3)
        assert not request.done()
        await server.start()
        assert echoed(await request) == {"key": "user:/early"}
    finally:
        await server.stop()


async def test_no_server_is_unreachable_and_says_why(dial: ClientFactory) -> None:
    endpoint = unused_endpoint()
    client = dial(endpoint, timeout=0.3, retries=1)
    await client.start()
    with pytest.raises(Unreachable) as caught:
        await client.request("get", {"key": "user:/x"})
    assert endpoint in str(caught.value)
    assert client.status.online is False
    assert client.status.last_error == f"cannot connect to {endpoint}"


async def test_silent_server_times_out_after_its_retries(
    connect: ClientFactory, handler: RecordingHandler
) -> None:
    client = connect(timeout=0.5, retries=2)
    await client.start()
    with pytest.raises(TimedOut) as caught:
        await client.request("set", {"key": "user:/slow", "sleep": 2.0})
    assert "3 attempts" in str(caught.value)
    # Every retry carried the same request id, so the daemon ran it only once.
    assert list(handler.calls.values()) == [1]


async def test_a_slow_request_on_a_link_still_answering_others_keeps_it_online(
    connect: ClientFactory, handler: RecordingHandler
) -> None:
    """A busy daemon is not a silent one: no reopening, no offline, no catch-up storm."""
    client = connect(timeout=0.5, retries=5)
    await client.start()
    await client.request("get", {"key": "user:/first"})
    went: list[bool] = []
    client.status.listeners.append(lambda status: went.append(status.online))

    slow = asyncio.create_task(client.request("set", {"key": "user:/slow", "sleep": 1.5}))
    answered = 0
    for _ in range(500):  # bounded: the slow request ends long before
        if slow.done():
            break
        await client.request("get", {"key": "user:/busy"})
        answered += 1
        await asyncio.sleep(0.02)
    assert echoed(await slow)["key"] == "user:/slow"
    assert answered > 0
    assert went == []  # never offline, so never back online either
    assert set(handler.calls.values()) == {1}  # the slow one ran once: not resent


async def test_a_slow_reply_over_a_connection_that_stays_up_is_awaited_not_resent(
    connect: ClientFactory, handler: RecordingHandler
) -> None:
    """The daemon has the request (TCP delivered it and the connection never dropped): its
    attempts run out one after the other on the same socket, the link stays online."""
    client = connect(timeout=0.3, retries=10)
    await client.start()
    await client.request("get", {"key": "user:/first"})
    went: list[bool] = []
    client.status.listeners.append(lambda status: went.append(status.online))

    result = await client.request("set", {"key": "user:/slow", "sleep": 1.2})

    assert echoed(result)["key"] == "user:/slow"
    assert went == []  # never reopened: a reopened socket is offline until its handshake
    assert set(handler.calls.values()) == {1}


async def test_a_request_lost_with_a_restarting_daemon_is_sent_again(
    handler: RecordingHandler, serve_at: Restartable, dial: ClientFactory
) -> None:
    """A reply that can no longer come (its connection dropped) is asked for again: the
    socket is reopened and the request sent to the daemon that answers now."""
    endpoint = unused_endpoint()
    server = serve_at(endpoint)
    await server.start()
    client = dial(endpoint, timeout=0.5, retries=20)
    await client.start()
    try:
        await wait_until(lambda: client.status.online)
        request = asyncio.create_task(client.request("set", {"key": "user:/lost", "sleep": 0.3}))
        await wait_until(lambda: bool(handler.calls))  # the first daemon runs it ...
        await server.stop(grace=0)  # ... and is gone before it answers
        server = serve_at(endpoint)
        await server.start()

        assert echoed(await request)["key"] == "user:/lost"
        assert list(handler.calls.values()) == [2]  # the second daemon ran it again
    finally:
        await server.stop()


async def test_many_concurrent_requests_each_get_their_own_reply(client: ZmqTransport) -> None:
    names = [f"user:/k/{i}" for i in range(200)]
    results = await asyncio.gather(*(client.request("get", {"key": n}) for n in names))
    assert [echoed(r)["key"] for r in results] == names


async def test_shared_arguments_are_encoded_once_however_many_links_send_them(
    client: ZmqTransport, connect: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cluster's set to each of its members: every daemon gets the arguments, and they are
    encoded to JSON once (per operation); arguments of their own are encoded per request."""
    encoded: list[str] = []

    def counting(request: Request) -> list[bytes]:
        encoded.append(request.op)
        return encode_request(request)

    monkeypatch.setattr(wire_client, "encode_request", counting)
    second = connect()
    await second.start()
    args = SharedArgs({"key": "user:/shared", "value": "é" * 100, "meta": {"gone": None}})
    replies = await asyncio.gather(
        client.request("set", args), second.request("set", args), client.request("set", args)
    )
    assert [dict(reply) for reply in replies] == [{"op": "set", "args": dict(args)}] * 3
    assert encoded == ["set"]

    assert dict(await second.request("get", args))["op"] == "get"
    await client.request("set", {"key": "user:/own"})
    assert encoded == ["set", "get", "set"]


async def test_ping_measures_a_round_trip(client: ZmqTransport, handler: RecordingHandler) -> None:
    assert await client.ping() > 0
    assert not handler.calls  # the transport answers ping itself


async def test_request_before_start_is_refused(dial: ClientFactory) -> None:
    client = dial(unused_endpoint())
    with pytest.raises(RuntimeError, match="not started"):
        await client.request("version")


@pytest.fixture
def threaded_server(
    handler: RecordingHandler, server_keys: KeyPair, client_keys: KeyPair
) -> Iterator[ServerThread]:
    server = WireServer(
        handler, keypair=server_keys, allowed_keys=[client_keys.public], listen=unused_endpoint()
    )
    with ServerThread(server) as running:
        yield running


async def test_application_ping_notices_a_wedged_daemon(
    threaded_server: ServerThread, dial: ClientFactory
) -> None:
    client = dial(threaded_server.server.endpoint, timeout=0.3, ping_interval=0.1)
    await client.start()
    await wait_until(lambda: client.status.online)
    # TCP and ZMTP heartbeats stay fine: only the application ping can tell.
    threaded_server.wedge(1.5)
    await wait_until(lambda: not client.status.online)
    assert client.status.last_error == "no answer to ping within 0.3 s"
    await wait_until(lambda: client.status.online)


async def test_closing_the_link_ends_a_waiting_request_with_an_error(
    connect: ClientFactory, handler: RecordingHandler
) -> None:
    client = connect(timeout=30.0, retries=0)
    await client.start()
    waiting = asyncio.create_task(client.request("get", {"key": "user:/slow", "sleep": 5}))
    await wait_until(lambda: bool(handler.calls))  # the daemon has it: the request waits
    await client.close()
    with pytest.raises(LinkError, match="closed"):
        await waiting
