"""`/zmq` and `/zmq/events` on a real aiohttp server on 127.0.0.1, driven by a raw ZWS client.

The dispatcher and the authenticator are stubs defined here: this tests the browser link alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sqlite3
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, web
from aiohttp.test_utils import TestServer

from elektraweb.cluster.api.errors import NotFound
from elektraweb.cluster.api.messages import ApiRequest, ApiResponse
from elektraweb.cluster.config import Config
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http import sockets as zws_routes
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.http.sockets import (
    ZWS_ENDPOINTS,
    ZwsEndpoints,
    add_zws_routes,
    zws_extension,
)
from elektraweb.cluster.http.zws import MAX_MESSAGE_BYTES
from elektraweb.cluster.http.zws_connection import CLOSE_SECONDS
from elektraweb.cluster.http.zws_events import MAX_SUBSCRIPTIONS
from elektraweb.cluster.http.zws_requests import MAX_REQUESTS_IN_FLIGHT
from elektraweb.cluster.principals import Principal
from elektraweb.cluster.store import credentials
from elektraweb.wire.json_value import JSON
from support.zws import ZwsClient, open_zws

TOKENS = {
    "t-alice": Principal("alice", "admin", "token", credential_id=1),
    "t-victor": Principal("victor", "viewer", "token", credential_id=2),
}
PROXY_ORIGIN = "https://proxy.example"


def origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin in (f"{request.scheme}://{request.host}", PROXY_ORIGIN)


async def authenticate(request: web.Request) -> Principal | None:
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ") if header else request.query.get("token", "")
    return TOKENS.get(token)


@dataclass
class StubDispatcher:
    """Echoes each request; `/api/wait/<name>` waits until the test releases <name>."""

    requests: list[ApiRequest] = field(default_factory=list)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    arrival: asyncio.Event = field(default_factory=asyncio.Event)

    def gate(self, name: str) -> asyncio.Event:
        return self.gates.setdefault(name, asyncio.Event())

    async def dispatched(self, count: int) -> None:
        """Return once `count` requests have reached the dispatcher."""
        while len(self.requests) < count:
            self.arrival.clear()
            await self.arrival.wait()

    async def dispatch(self, request: ApiRequest) -> ApiResponse:
        self.requests.append(request)
        self.arrival.set()
        if request.path.startswith("/api/wait/"):
            await self.gate(request.path.removeprefix("/api/wait/")).wait()
        if request.path == "/api/missing":
            raise NotFound("no such thing", path=request.path)
        if request.path == "/api/boom":
            raise RuntimeError("dispatcher bug")
        assert request.principal is not None
        echo: dict[str, JSON] = {
            "method": request.method,
            "path": request.path,
            "query": request.query,
            "body": request.body,
            "user": request.principal.user,
        }
        return ApiResponse(200, echo)


@dataclass
class Harness:
    server: TestServer
    hub: EventHub
    dispatcher: StubDispatcher
    endpoints: ZwsEndpoints
    session: aiohttp.ClientSession

    def url(self, path: str, token: str | None = "t-alice") -> str:
        query = f"?token={token}" if token else ""
        return str(self.server.make_url(path)) + query

    def ws_url(self, path: str) -> str:
        return self.url(path).replace("http://", "ws://", 1)

    async def connect(
        self, path: str, token: str | None = "t-alice", headers: dict[str, str] | None = None
    ) -> ZwsClient:
        return await open_zws(self.session, self.url(path, token), headers)


ServerFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def start_server() -> AsyncIterator[ServerFactory]:
    harnesses: list[Harness] = []

    async def start(queue_limit: int = 1024) -> Harness:
        hub = EventHub(queue_limit=queue_limit)
        dispatcher = StubDispatcher()
        app = web.Application()
        endpoints = add_zws_routes(
            app,
            dispatcher=dispatcher,
            authenticate=authenticate,
            origin_allowed=origin_allowed,
            hub=hub,
        )
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        harness = Harness(server, hub, dispatcher, endpoints, aiohttp.ClientSession())
        harnesses.append(harness)
        return harness

    yield start
    for harness in harnesses:
        await harness.session.close()
        await harness.server.close()


@pytest.fixture
async def harness(start_server: ServerFactory) -> Harness:
    return await start_server()


async def await_subscription(
    hub: EventHub, prefix: str, next_topic: Callable[[float], Awaitable[str]]
) -> None:
    """Return once a subscription to `prefix` has taken effect on the server.

    Like any ZeroMQ subscriber, a client cannot know when its subscription arrived, so probes
    are published under the prefix until one comes back; the probes are consumed.
    """
    for attempt in range(500):
        hub.publish(f"{prefix}probe-{attempt}", {})
        try:
            topic = await next_topic(0.02)
        except TimeoutError:
            continue
        # Probes published after the first that got through follow it; take them too.
        while topic != f"{prefix}probe-{attempt}":
            assert topic.startswith(f"{prefix}probe-"), topic
            topic = await next_topic(10)
        return
    raise AssertionError(f"subscription {prefix!r} never took effect")


async def subscribed(client: ZwsClient, hub: EventHub, prefix: str) -> None:
    await client.send(b"\x01" + prefix.encode())

    async def next_topic(timeout: float) -> str:
        return (await client.receive(timeout))[0].decode()

    await await_subscription(hub, prefix, next_topic)


# --- /zmq: requests and replies ---------------------------------------------------------------


async def test_request_is_dispatched_with_the_connections_principal(harness: Harness) -> None:
    client = await harness.connect("/zmq")
    reply = await client.request(b"1", {"method": "get", "path": "/api/instances", "body": None})
    assert reply == {
        "status": 200,
        "body": {
            "method": "GET",
            "path": "/api/instances",
            "query": {},
            "body": None,
            "user": "alice",
        },
    }


async def test_path_is_a_url_target_with_percent_escapes_and_query(harness: Harness) -> None:
    client = await harness.connect("/zmq")
    reply = await client.request(
        b"1",
        {
            "method": "PUT",
            "path": "/api/instances/3/kdb/user:%2Fapp%2F%25?preload=2",
            "query": {"extra": "yes"},
            "body": "8080",
        },
    )
    assert reply["body"]["path"] == "/api/instances/3/kdb/user:/app/%"
    assert reply["body"]["query"] == {"preload": "2", "extra": "yes"}
    assert reply["body"]["body"] == "8080"


async def test_req_style_envelope_is_echoed_whole(harness: Harness) -> None:
    client = await harness.connect("/zmq")
    await client.send(b"", b"req-7", b'{"method":"GET","path":"/api/version"}')
    empty, request_id, reply = await client.receive()
    assert (empty, request_id) == (b"", b"req-7")
    assert json.loads(reply)["status"] == 200


async def test_replies_come_back_as_requests_finish_not_as_they_were_sent(
    harness: Harness,
) -> None:
    client = await harness.connect("/zmq")
    await client.send(b"slow", b'{"method":"GET","path":"/api/wait/slow"}')
    await client.send(b"fast", b'{"method":"GET","path":"/api/version"}')
    assert (await client.receive())[0] == b"fast"
    harness.dispatcher.gate("slow").set()
    assert (await client.receive())[0] == b"slow"


async def test_api_errors_and_crashes_are_replies_and_the_connection_stays(
    harness: Harness,
) -> None:
    client = await harness.connect("/zmq")
    missing = await client.request(b"1", {"method": "GET", "path": "/api/missing"})
    assert missing == {
        "status": 404,
        "body": {
            "error": {"code": "not-found", "message": "no such thing", "path": "/api/missing"}
        },
    }
    boom = await client.request(b"2", {"method": "GET", "path": "/api/boom"})
    assert boom["status"] == 500
    assert boom["body"]["error"]["code"] == "internal"
    assert "dispatcher bug" not in json.dumps(boom)
    assert (await client.request(b"3", {"method": "GET", "path": "/api/version"}))["status"] == 200


@pytest.mark.parametrize(
    ("request_object", "named"),
    [
        ({"path": "/api/version"}, "'method'"),
        ({"method": "GET"}, "'path'"),
        ({"method": "GET", "path": "api/version"}, "'path'"),
        ({"method": "GET", "path": "/api/x", "query": {"n": 1}}, "'query'"),
        ({"method": "GET", "path": "/api/x", "bdy": 1}, "'bdy'"),
    ],
)
async def test_invalid_request_members_get_a_400_that_names_them(
    harness: Harness, request_object: dict[str, Any], named: str
) -> None:
    client = await harness.connect("/zmq")
    reply = await client.request(b"1", request_object)
    assert reply["status"] == 400
    assert reply["body"]["error"]["code"] == "bad-request"
    assert named in reply["body"]["error"]["message"]
    assert harness.dispatcher.requests == []


async def test_each_request_is_logged_once_with_user_method_path_status(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    client = await harness.connect("/zmq")
    with caplog.at_level(logging.INFO, logger="elektraweb.cluster.http.zws_requests"):
        await client.request(b"1", {"method": "GET", "path": "/api/missing"})
    lines = [r.getMessage() for r in caplog.records if "/api/missing" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].startswith("zws alice GET /api/missing 404 ")


async def test_message_of_exactly_the_size_limit_is_accepted(harness: Harness) -> None:
    client = await harness.connect("/zmq")
    request = b'{"method":"GET","path":"/api/version","body":"%s"}'
    padding = b"x" * (MAX_MESSAGE_BYTES - 1 - len(request % b""))
    await client.send(b"1", request % padding)
    request_id, reply = await client.receive()
    assert request_id == b"1"
    assert json.loads(reply)["body"]["body"] == padding.decode()


MALFORMED: dict[str, tuple[list[bytes] | str, WSCloseCode, str]] = {
    "bad flag byte": ([b"\x05oops"], WSCloseCode.PROTOCOL_ERROR, "bad ZWS flag byte 0x05"),
    "empty message": ([b""], WSCloseCode.PROTOCOL_ERROR, "needs a flag byte"),
    "text message": ("text", WSCloseCode.UNSUPPORTED_DATA, "text message"),
    "frame over 1 MiB": (
        [b"\x00" + b"x" * (MAX_MESSAGE_BYTES + 1)],
        WSCloseCode.MESSAGE_TOO_BIG,
        "",
    ),
    "message over 1 MiB": (
        [b"\x01" + b"x" * MAX_MESSAGE_BYTES, b"\x00{}"],
        WSCloseCode.MESSAGE_TOO_BIG,
        "exceeds 1048576 bytes",
    ),
    "bad JSON": ([b"\x011", b"\x00{nope"], WSCloseCode.INVALID_TEXT, "request is not JSON"),
    "not an object": ([b"\x011", b"\x00[1, 2]"], WSCloseCode.INVALID_TEXT, "got list"),
    "no request id": ([b'\x00{"method":"GET"}'], WSCloseCode.PROTOCOL_ERROR, "got one frame"),
}


@pytest.mark.parametrize("case", MALFORMED.keys())
async def test_malformed_input_closes_only_that_connection(harness: Harness, case: str) -> None:
    sent, code, reason = MALFORMED[case]
    bystander = await harness.connect("/zmq")
    culprit = await harness.connect("/zmq")
    if isinstance(sent, str):
        await culprit.ws.send_str('{"method":"GET"}')
    else:
        for data in sent:
            await culprit.ws.send_bytes(data)
    closed_code, closed_reason = await culprit.closed()
    assert closed_code == code
    assert reason in closed_reason
    reply = await bystander.request(b"1", {"method": "GET", "path": "/api/version"})
    assert reply["status"] == 200
    assert (await harness.connect("/zmq")).ws.protocol == "ZWS2.0"


# --- who may connect --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/zmq", "/zmq/events"])
@pytest.mark.parametrize(
    ("token", "headers", "status"),
    [
        (None, {}, 401),
        ("wrong", {}, 401),
        ("t-alice", {"Origin": "https://evil.example"}, 403),
        ("t-alice", {"Origin": "null"}, 403),
        (None, {"Origin": "https://evil.example"}, 403),
    ],
)
async def test_upgrade_is_refused_without_auth_or_from_a_foreign_origin(
    harness: Harness, path: str, token: str | None, headers: dict[str, str], status: int
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await harness.connect(path, token, headers)
    assert refused.value.status == status


async def test_refusal_body_says_why(harness: Harness) -> None:
    async with harness.session.get(harness.url("/zmq", token=None)) as response:
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("origin", ["own", PROXY_ORIGIN])
async def test_own_and_allowed_origins_may_connect(harness: Harness, origin: str) -> None:
    if origin == "own":
        origin = str(harness.server.make_url("")).rstrip("/")
    client = await harness.connect("/zmq", headers={"Origin": origin})
    assert (await client.request(b"1", {"method": "GET", "path": "/api/version"}))["status"] == 200


async def test_bearer_token_works_as_well_as_query_token(harness: Harness) -> None:
    client = await harness.connect("/zmq", token=None, headers={"Authorization": "Bearer t-victor"})
    reply = await client.request(b"1", {"method": "GET", "path": "/api/version"})
    assert reply["body"]["user"] == "victor"


async def test_client_must_offer_the_zws_subprotocol(harness: Harness) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await harness.session.ws_connect(harness.url("/zmq"), protocols=("chat",))
    assert refused.value.status == 400


async def test_libzmq_style_protocol_offer_gets_plain_zws(harness: Harness) -> None:
    ws = await harness.session.ws_connect(harness.url("/zmq"), protocols=("ZWS2.0/NULL", "ZWS2.0"))
    assert ws.protocol == "ZWS2.0"
    await ws.close()


async def test_disconnect_closes_the_connections_of_a_principal(harness: Harness) -> None:
    alice = await harness.connect("/zmq/events")
    victor = await harness.connect("/zmq", token="t-victor")
    closed = await harness.endpoints.disconnect(lambda p: p.credential_id == 1, "logged out")
    assert closed == 1
    assert await alice.closed() == (WSCloseCode.POLICY_VIOLATION, "logged out")
    assert (await victor.request(b"1", {"method": "GET", "path": "/api/x"}))["status"] == 200


async def test_a_disconnect_while_every_request_slot_is_taken_ends_before_their_replies(
    harness: Harness,
) -> None:
    client = await harness.connect("/zmq")
    # The last request waits for a free slot: the connection reads no further meanwhile.
    for number in range(MAX_REQUESTS_IN_FLIGHT + 1):
        await client.send(str(number).encode(), b'{"method":"GET","path":"/api/wait/slow"}')
    await harness.dispatcher.dispatched(MAX_REQUESTS_IN_FLIGHT)
    order: list[str] = []
    disconnect = asyncio.create_task(harness.endpoints.disconnect(lambda _: True, "logged out"))
    disconnect.add_done_callback(lambda _: order.append("disconnected"))
    closed = asyncio.create_task(client.closed())
    # Bounded only so that a disconnect stuck behind the requests fails rather than hangs.
    await asyncio.wait({disconnect}, timeout=2 * CLOSE_SECONDS)
    order.append("requests answered")
    harness.dispatcher.gate("slow").set()

    assert await disconnect == 1
    assert order == ["disconnected", "requests answered"]
    # No reply came before the close, and none after: the peer sees the close only.
    assert await closed == (WSCloseCode.POLICY_VIOLATION, "logged out")


async def test_server_shutdown_closes_connections_with_going_away(harness: Harness) -> None:
    client = await harness.connect("/zmq/events")
    shutdown = asyncio.create_task(harness.server.close())
    assert (await client.closed())[0] == WSCloseCode.GOING_AWAY
    await shutdown


# --- /zmq/events: publish and subscribe -------------------------------------------------------


async def test_subscriber_receives_topic_and_json_of_matching_events_only(
    harness: Harness,
) -> None:
    client = await harness.connect("/zmq/events")
    await subscribed(client, harness.hub, "instance/a/")
    harness.hub.publish("instance/b/user:/x", {"value": "other instance"})
    harness.hub.publish("instance/a/user:/app/port", {"value": "8080"})
    topic, event = await client.receive()
    assert topic == b"instance/a/user:/app/port"
    assert json.loads(event) == {"value": "8080"}


async def test_unsubscribe_stops_that_prefix_only(harness: Harness) -> None:
    client = await harness.connect("/zmq/events")
    await subscribed(client, harness.hub, "audit/")
    await subscribed(client, harness.hub, "cluster/")
    await client.send(b"\x00audit/")
    await subscribed(client, harness.hub, "registry/")
    harness.hub.publish("audit/1", {})
    harness.hub.publish("cluster/c/user:/k", {})
    assert (await client.receive())[0] == b"cluster/c/user:/k"


async def test_empty_prefix_subscribes_to_everything(harness: Harness) -> None:
    client = await harness.connect("/zmq/events")
    await subscribed(client, harness.hub, "")
    harness.hub.publish("registry/instances/a", {"op": "added"})
    assert (await client.receive())[0] == b"registry/instances/a"


@pytest.mark.parametrize(
    ("sent", "code", "reason"),
    [
        ([b"\x00\x02topic"], WSCloseCode.PROTOCOL_ERROR, "expected a subscription"),
        ([b"\x01\x01a", b"\x00b"], WSCloseCode.PROTOCOL_ERROR, "expected a subscription"),
        ([b"\x00\x01" + b"x" * 5000], WSCloseCode.MESSAGE_TOO_BIG, ""),
    ],
)
async def test_events_connection_closes_on_anything_but_subscriptions(
    harness: Harness, sent: list[bytes], code: int, reason: str
) -> None:
    client = await harness.connect("/zmq/events")
    for data in sent:
        await client.ws.send_bytes(data)
    closed_code, closed_reason = await client.closed()
    assert closed_code == code
    assert reason in closed_reason


async def test_too_many_subscriptions_close_the_connection(harness: Harness) -> None:
    client = await harness.connect("/zmq/events")
    for number in range(MAX_SUBSCRIPTIONS + 1):
        await client.send(b"\x01" + f"instance/{number}/".encode())
    assert await client.closed() == (
        WSCloseCode.POLICY_VIOLATION,
        f"more than {MAX_SUBSCRIPTIONS} subscriptions",
    )


async def test_slow_subscriber_is_told_to_resync_and_others_keep_receiving(
    start_server: ServerFactory,
) -> None:
    harness = await start_server(queue_limit=8)
    slow = await harness.connect("/zmq/events")
    fast = await harness.connect("/zmq/events")
    await subscribed(slow, harness.hub, "audit/")
    await subscribed(fast, harness.hub, "audit/")
    fast_topics: list[bytes] = []

    async def read_fast() -> None:
        while not fast_topics or fast_topics[-1] != b"audit/after":
            fast_topics.append((await fast.receive())[0])

    reader = asyncio.create_task(read_fast())
    # `slow` does not read: once the TCP buffers are full its queue in the hub overflows.
    big = {"padding": "x" * 65536}
    for number in range(5000):
        harness.hub.publish(f"audit/{number}", big)
        await asyncio.sleep(0)
        if harness.hub.overflow_count:
            break
    assert harness.hub.overflow_count == 1
    harness.hub.publish("audit/after", {})
    await asyncio.wait_for(reader, timeout=10)
    assert fast_topics == [f"audit/{n}".encode() for n in range(number + 1)] + [b"audit/after"]
    # Now `slow` reads: what was sent before it fell behind, in order, then one resync saying
    # how many events it missed, then what came after; the connection stays open.
    slow_messages: list[list[bytes]] = []
    while not slow_messages or slow_messages[-1][0] != b"audit/after":
        message = await slow.receive()
        if not message[0].startswith(b"audit/probe-"):  # `fast` subscribing
            slow_messages.append(message)
    topics = [topic for topic, _ in slow_messages]
    delivered = topics.index(b"resync")
    assert topics == [*(f"audit/{n}".encode() for n in range(delivered)), b"resync", b"audit/after"]
    assert json.loads(slow_messages[delivered][1]) == {"dropped": number + 1 - delivered}
    await subscribed(slow, harness.hub, "audit/still-")


# --- plugged into clusterd -------------------------------------------------------------------


@contextlib.asynccontextmanager
async def logged_in_clusterd(
    config: Config, gateway: Any
) -> AsyncIterator[tuple[Server, aiohttp.ClientSession]]:
    """A clusterd with the ZWS extension, and a client session logged in as admin."""
    hub = EventHub()
    clusterd = Server(config, gateway=gateway, extensions=[zws_extension(hub)])
    await clusterd.start()
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            login = {"user": "admin", "password": config.admin_password}
            async with session.post(f"{clusterd.url}/api/login", json=login) as response:
                assert response.status == 200
            yield clusterd, session
    finally:
        await clusterd.stop()
        hub.close()


async def test_extension_serves_clusterds_dispatcher_with_its_session_and_origin_checks(
    config: Config, gateway: Any
) -> None:
    async with logged_in_clusterd(config, gateway) as (clusterd, session):
        url = f"{clusterd.url}/zmq"
        client = await open_zws(session, url, {"Origin": clusterd.url})
        reply = await client.request(b"1", {"method": "GET", "path": "/api/version"})
        assert reply["status"] == 200
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await open_zws(session, url, {"Origin": "https://evil.example"})
        assert refused.value.status == 403
        assert clusterd.app is not None
        closed = await clusterd.app[ZWS_ENDPOINTS].disconnect(
            lambda principal: principal.user == "admin", "logged out"
        )
        assert closed == 1
        assert await client.closed() == (WSCloseCode.POLICY_VIOLATION, "logged out")


async def test_sockets_close_when_their_session_expires(
    config: Config, gateway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Though nothing in clusterd announced it: another program (here a second SQLite
    connection) ends the session; the periodic re-check closes both sockets."""
    monkeypatch.setattr(zws_routes, "RECHECK_SECONDS", 0.2)
    monkeypatch.setattr(credentials, "CHECKED_SECONDS", 0.1)
    async with logged_in_clusterd(config, gateway) as (clusterd, session):
        requests = await open_zws(session, f"{clusterd.url}/zmq")
        events = await open_zws(session, f"{clusterd.url}/zmq/events")
        reply = await requests.request(b"1", {"method": "GET", "path": "/api/version"})
        assert reply["status"] == 200  # open and served while the session lasts
        with contextlib.closing(sqlite3.connect(config.database_path)) as other, other:
            other.execute("UPDATE sessions SET expires = 0")
        # Read at once, as a browser does: an unread socket is cut after the close timeout.
        for code, reason in await asyncio.gather(requests.closed(), events.closed()):
            assert code == WSCloseCode.POLICY_VIOLATION
            assert "session ended" in reason
        async with session.get(f"{clusterd.url}/api/me") as response:
            assert response.status == 401


# --- jszmq 0.1.2 in node, an independent ZWS 2.0 implementation ------------------------------

JSZMQ_CLIENT = Path(__file__).parents[2] / "js" / "zws_client.js"


@contextlib.asynccontextmanager
async def jszmq(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run tests/js/zws_client.js; it is killed if the test leaves it running."""
    if shutil.which("node") is None:
        pytest.fail("node is not installed; the jszmq tests need it")
    if not (JSZMQ_CLIENT.parent / "node_modules" / "jszmq").is_dir():
        pytest.fail("jszmq is not installed: run `npm ci --prefix tests/js`")
    process = await asyncio.create_subprocess_exec(
        "node", str(JSZMQ_CLIENT), *args, stdin=PIPE, stdout=PIPE, stderr=PIPE
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def read_json_line(process: asyncio.subprocess.Process, timeout: float = 10) -> Any:
    assert process.stdout is not None and process.stderr is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout)
    if not line:
        await process.wait()
        stderr = (await process.stderr.read()).decode()
        raise AssertionError(f"jszmq client ended ({process.returncode}): {stderr}")
    return json.loads(line)


async def test_jszmq_dealer_gets_replies_in_the_order_requests_finish(harness: Harness) -> None:
    slow = json.dumps({"method": "GET", "path": "/api/wait/slow"})
    fast = json.dumps({"method": "GET", "path": "/api/version", "query": {"q": "1"}})
    async with jszmq("request", harness.ws_url("/zmq"), slow, fast) as client:
        first = await read_json_line(client)
        harness.dispatcher.gate("slow").set()
        second = await read_json_line(client)
        assert await asyncio.wait_for(client.wait(), 10) == 0
    assert first == {
        "id": "2",
        "reply": {
            "status": 200,
            "body": {
                "method": "GET",
                "path": "/api/version",
                "query": {"q": "1"},
                "body": None,
                "user": "alice",
            },
        },
    }
    assert second["id"] == "1"
    assert second["reply"]["body"]["path"] == "/api/wait/slow"


async def test_jszmq_sub_receives_subscribed_events_until_it_unsubscribes(
    harness: Harness,
) -> None:
    async with jszmq("events", harness.ws_url("/zmq/events"), "instance/a/", "probe/") as client:
        assert client.stdin is not None

        async def next_topic(timeout: float) -> str:
            return str((await read_json_line(client, timeout))["topic"])

        await await_subscription(harness.hub, "probe/", next_topic)
        harness.hub.publish("instance/b/user:/x", {"value": "other"})
        harness.hub.publish("instance/a/user:/app/port", {"value": "8080"})
        assert await read_json_line(client) == {
            "topic": "instance/a/user:/app/port",
            "event": {"value": "8080"},
        }
        client.stdin.write(b"unsubscribe instance/a/\nsubscribe audit/\n")
        await client.stdin.drain()
        await await_subscription(harness.hub, "audit/", next_topic)
        harness.hub.publish("instance/a/user:/app/port", {"value": "8081"})
        harness.hub.publish("audit/1", {"key": "user:/app/port"})
        assert await read_json_line(client) == {
            "topic": "audit/1",
            "event": {"key": "user:/app/port"},
        }
