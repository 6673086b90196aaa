"""WireServer through real CURVE sockets: concurrency, idempotency, refusals, logs, shutdown."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
import zmq
import zmq.asyncio

from elektraweb.wire import (
    ErrorCode,
    KeyPair,
    LinkError,
    RemoteError,
    Reply,
    Request,
    ServerOptions,
    WireServer,
    ZmqTransport,
)

from .conftest import ANY_PORT, ClientFactory, RecordingHandler, echoed, wait_until


async def test_request_round_trip(client: ZmqTransport) -> None:
    result = await client.request("get", {"key": "user:/app/port", "depth": 1})
    assert result == {"op": "get", "args": {"key": "user:/app/port", "depth": 1}}


async def test_unicode_survives_the_round_trip(client: ZmqTransport) -> None:
    result = await client.request("set", {"key": "user:/ä/ключ", "value": "naïve ☃"})
    assert echoed(result) == {"key": "user:/ä/ключ", "value": "naïve ☃"}


async def test_a_fast_reply_overtakes_a_slow_one(client: ZmqTransport) -> None:
    finished: list[str] = []

    async def ask(name: str, sleep: float) -> None:
        await client.request("get", {"key": name, "sleep": sleep})
        finished.append(name)

    await asyncio.gather(ask("user:/slow", 0.5), ask("user:/fast", 0.0))
    assert finished == ["user:/fast", "user:/slow"]


async def test_error_reply_raises_remote_error_with_its_fields(client: ZmqTransport) -> None:
    with pytest.raises(RemoteError) as caught:
        await client.request("set", {"key": "user:/locked/key", "error": "locked"})
    assert caught.value.code is ErrorCode.LOCKED
    assert caught.value.key == "user:/locked/key"
    assert "user:/locked/key" in caught.value.message


async def test_handler_crash_is_an_internal_error_and_the_server_keeps_serving(
    client: ZmqTransport, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(RemoteError) as caught:
        await client.request("rm", {"key": "user:/x", "crash": True})
    assert caught.value.code is ErrorCode.INTERNAL
    assert "ZeroDivisionError" in caplog.text
    assert await client.request("get", {"key": "user:/x"})


async def test_result_that_is_not_json_becomes_an_internal_error(client: ZmqTransport) -> None:
    with pytest.raises(RemoteError) as caught:
        await client.request("get", {"key": "user:/x", "unencodable": True})
    assert caught.value.code is ErrorCode.INTERNAL
    assert "could not be encoded" in caught.value.message


async def raw_dealer(server: WireServer, server_keys: KeyPair, keys: KeyPair) -> zmq.asyncio.Socket:
    socket = zmq.asyncio.Context.instance().socket(zmq.DEALER)
    socket.linger = 0
    keys.configure_client(socket, server_keys.public)
    socket.connect(server.endpoint)
    return socket


def body(op: str, args: dict[str, object]) -> bytes:
    return json.dumps({"v": 1, "op": op, "args": args}).encode()


async def test_a_request_sent_again_while_it_runs_joins_it_and_runs_the_handler_once(
    server: WireServer, server_keys: KeyPair, client_keys: KeyPair, handler: RecordingHandler
) -> None:
    # What a client's retry after a missed deadline does: the same id, the same body.
    socket = await raw_dealer(server, server_keys, client_keys)
    try:
        request = [b"id-slow", body("set", {"key": "user:/slow", "value": "1", "sleep": 0.5})]
        await socket.send_multipart(request)
        await wait_until(lambda: handler.calls.get(b"id-slow") == 1)
        await socket.send_multipart(request)
        first = await asyncio.wait_for(socket.recv_multipart(), 5)
        second = await asyncio.wait_for(socket.recv_multipart(), 5)
        assert first == second
        assert echoed(json.loads(first[1])["result"])["value"] == "1"
        assert list(handler.calls.values()) == [1]
    finally:
        socket.close()


async def test_same_request_id_again_gets_the_cached_reply(
    server: WireServer, server_keys: KeyPair, client_keys: KeyPair, handler: RecordingHandler
) -> None:
    socket = await raw_dealer(server, server_keys, client_keys)
    try:
        request = [b"id-1", body("set", {"key": "user:/a", "value": "1"})]
        await socket.send_multipart(request)
        first = await asyncio.wait_for(socket.recv_multipart(), 5)
        await socket.send_multipart(request)
        second = await asyncio.wait_for(socket.recv_multipart(), 5)
        assert first == second
        assert first[0] == b"id-1"
        assert handler.calls[b"id-1"] == 1

        await socket.send_multipart([b"id-1", body("set", {"key": "user:/a", "value": "2"})])
        reused = json.loads((await asyncio.wait_for(socket.recv_multipart(), 5))[1])
        assert reused["error"]["code"] == "bad-request"
        assert "reused" in reused["error"]["message"]
        assert handler.calls[b"id-1"] == 1
    finally:
        socket.close()


async def test_oversized_request_gets_too_large(
    server: WireServer, server_keys: KeyPair, client_keys: KeyPair
) -> None:
    socket = await raw_dealer(server, server_keys, client_keys)
    try:
        huge = body("set", {"key": "user:/big", "value": "x" * (16 * 1024 * 1024)})
        await socket.send_multipart([b"big", huge])
        reply = await asyncio.wait_for(socket.recv_multipart(), 10)
        assert reply[0] == b"big"
        error = json.loads(reply[1])["error"]
        assert error["code"] == "too-large"
        assert str(len(huge)) in error["message"]
    finally:
        socket.close()


async def test_client_refuses_to_send_an_oversized_request(client: ZmqTransport) -> None:
    with pytest.raises(RemoteError) as caught:
        await client.request("set", {"key": "user:/big", "value": "x" * (16 * 1024 * 1024)})
    assert caught.value.code is ErrorCode.TOO_LARGE


async def test_unknown_client_key_gets_nothing_and_is_logged(
    connect: ClientFactory, handler: RecordingHandler, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = KeyPair.generate()
    client = connect(keypair=stranger, timeout=0.3, retries=1)
    await client.start()
    with (
        caplog.at_level(logging.WARNING, logger="elektraweb.wire.zap"),
        pytest.raises(LinkError),
    ):
        await client.request("get", {"key": "user:/secret"})
    assert not handler.calls
    assert stranger.public in caplog.text
    assert client.status.online is False
    assert client.status.last_error is not None
    assert "refused our CURVE key" in client.status.last_error


async def test_one_info_line_per_request(
    client: ZmqTransport, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="elektraweb.wire.server"):
        await client.request("get", {"key": "user:/app/port"})
        with pytest.raises(RemoteError):
            await client.request("rm", {"key": "user:/gone", "error": "not-found"})
    lines = [r.getMessage() for r in caplog.records if r.name == "elektraweb.wire.server"]
    assert len(lines) == 2
    assert lines[0].startswith("op=get key=user:/app/port outcome=ok ms=")
    assert lines[1].startswith("op=rm key=user:/gone outcome=not-found ms=")


async def test_stop_finishes_requests_in_flight(
    handler: RecordingHandler, server_keys: KeyPair, client_keys: KeyPair
) -> None:
    server = WireServer(
        handler, keypair=server_keys, allowed_keys=[client_keys.public], listen=ANY_PORT
    )
    await server.start()
    client = ZmqTransport(server.endpoint, server_key=server_keys.public, keypair=client_keys)
    await client.start()
    try:
        pending = asyncio.create_task(
            client.request("set", {"key": "user:/k", "value": "v", "sleep": 0.5})
        )
        await wait_until(lambda: bool(handler.calls))
        await server.stop()
        assert echoed(await pending)["value"] == "v"
    finally:
        await client.close()


async def test_requests_beyond_max_in_flight_wait_until_one_finishes(
    server_keys: KeyPair, client_keys: KeyPair
) -> None:
    started: list[str] = []
    release = asyncio.Event()

    async def gated(request: Request) -> Reply:
        started.append(str(request.key))
        if request.key != "user:/quick":
            await release.wait()
        return Reply({"key": request.key})

    options = ServerOptions(max_in_flight=2)
    async with (
        WireServer(
            gated,
            keypair=server_keys,
            allowed_keys=[client_keys.public],
            listen=ANY_PORT,
            options=options,
        ) as server,
        ZmqTransport(server.endpoint, server_key=server_keys.public, keypair=client_keys) as client,
    ):
        held = [
            asyncio.create_task(client.request("get", {"key": f"user:/held{n}"})) for n in (1, 2)
        ]
        try:
            await wait_until(lambda: len(started) == 2)
            quick = asyncio.create_task(client.request("get", {"key": "user:/quick"}))
            # Nothing the server answers while both run (a ping would queue too): give the
            # quick one time to start, which it must not.
            await asyncio.sleep(0.3)
            assert started == ["user:/held1", "user:/held2"] and not quick.done()
        finally:
            release.set()
        assert dict(await quick) == {"key": "user:/quick"}
        await asyncio.gather(*held)
    assert started[2] == "user:/quick"


async def test_second_server_on_a_taken_endpoint_fails_to_start(
    server: WireServer, handler: RecordingHandler, server_keys: KeyPair
) -> None:
    other = WireServer(handler, keypair=server_keys, allowed_keys=[], listen=server.endpoint)
    with pytest.raises(zmq.ZMQError):
        await other.start()
