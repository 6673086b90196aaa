"""Real CURVE sockets on loopback: a server with a recording handler, and clients for it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from elektraweb.wire import (
    ClientOptions,
    KeyPair,
    Reconnect,
    RemoteError,
    Reply,
    Request,
    WireServer,
    ZmqTransport,
)
from elektraweb.wire.replies import OperationReply
from support.processes import free_port

ANY_PORT = "tcp://127.0.0.1:*"


class RecordingHandler:
    """Answers every operation with its arguments; counts how often each request id ran.

    Arguments steer it: `sleep` (seconds) delays the reply, `error` (a code) refuses, `crash`
    raises an unexpected exception, `unencodable` answers with a result that is not JSON,
    `result` replaces the echoed result.
    """

    def __init__(self) -> None:
        self.calls: Counter[bytes] = Counter()

    async def __call__(self, request: Request) -> Reply:
        self.calls[request.id] += 1
        args = request.args
        if isinstance(sleep := args.get("sleep"), int | float):
            await asyncio.sleep(sleep)
        if "error" in args:
            raise RemoteError(str(args["error"]), f"refused {request.key}", key=request.key)
        if args.get("crash"):
            raise ZeroDivisionError("handler bug")
        if args.get("unencodable"):
            return Reply({"nan": float("nan")})  # JSON has no NaN
        if "result" in args:
            return Reply(args["result"])
        return Reply({"op": request.op, "args": args})


def echoed(result: OperationReply) -> Any:
    """The arguments `RecordingHandler` answered with (a member no operation has)."""
    return dict(result)["args"]


@pytest.fixture
def server_keys() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture
def client_keys() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


Restartable = Callable[..., WireServer]


@pytest.fixture
def serve_at(handler: RecordingHandler, server_keys: KeyPair, client_keys: KeyPair) -> Restartable:
    """`serve_at(listen, events=None)`: a new server (not started) of the same daemon on the
    same endpoints each time, so stopping one and starting the next is a restart."""

    def serve(listen: str, events: str | None = None) -> WireServer:
        return WireServer(
            handler,
            keypair=server_keys,
            allowed_keys=[client_keys.public],
            listen=listen,
            events=events,
        )

    return serve


@pytest.fixture
async def server(
    handler: RecordingHandler, server_keys: KeyPair, client_keys: KeyPair
) -> AsyncIterator[WireServer]:
    async with WireServer(
        handler,
        keypair=server_keys,
        allowed_keys=[client_keys.public],
        listen=ANY_PORT,
        events=ANY_PORT,
    ) as running:
        yield running


def fast_options(**changes: Any) -> ClientOptions:
    """Short deadlines and reconnects, so link failures show within a test's patience."""
    settings: dict[str, Any] = {
        "timeout": 1.0,
        "retries": 2,
        "ping_interval": None,
        "reconnect": Reconnect(interval=0.05, max_interval=0.2),
    }
    settings.update(changes)
    return ClientOptions(**settings)


ClientFactory = Callable[..., ZmqTransport]


@pytest.fixture
async def dial(server_keys: KeyPair, client_keys: KeyPair) -> AsyncIterator[ClientFactory]:
    """`dial(endpoint, keypair=client_keys, **options)` makes a client of whatever listens at
    `endpoint`, if anything (not started, closed after the test); keywords go to ClientOptions."""
    opened: list[ZmqTransport] = []

    def make(endpoint: str, keypair: KeyPair = client_keys, **options: Any) -> ZmqTransport:
        transport = ZmqTransport(
            endpoint,
            server_key=server_keys.public,
            keypair=keypair,
            options=fast_options(**options),
        )
        opened.append(transport)
        return transport

    yield make
    for transport in opened:
        await transport.close()


@pytest.fixture
def connect(server: WireServer, dial: ClientFactory) -> ClientFactory:
    """`dial` with the endpoint of `server`."""

    def make(**options: Any) -> ZmqTransport:
        return dial(server.endpoint, **options)

    return make


@pytest.fixture
async def client(connect: ClientFactory) -> ZmqTransport:
    transport = connect()
    await transport.start()
    return transport


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `condition` every 20 ms; fail the test if it stays false for `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


def unused_endpoint() -> str:
    """A loopback endpoint with a port nobody listens on (yet)."""
    return f"tcp://127.0.0.1:{free_port()}"


class ServerThread:
    """A server on its own event loop in a thread: sync tests can use it, tests can wedge it."""

    def __init__(self, server: WireServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(5)
        return self

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    def wedge(self, seconds: float) -> None:
        self.loop.call_soon_threadsafe(time.sleep, seconds)
