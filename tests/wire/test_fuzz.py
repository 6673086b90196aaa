"""Fuzzing the ROUTER: whatever an allowed client sends, it gets an error reply or nothing,
and the server keeps serving."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import NamedTuple

import pytest
import zmq
from hypothesis import event, given
from hypothesis import strategies as st

from elektraweb.wire import KeyPair, Reply, Request, ServerOptions, WireServer
from support.fuzz import fuzz_settings

from .conftest import ServerThread, unused_endpoint

BODY_LIMIT = 4096  # small, so that oversized bodies are cheap to send thousands of times
SENTINEL_ID = os.urandom(64)  # a request id the fuzzer cannot produce
SENTINEL = [SENTINEL_ID, b'{"v":1,"op":"ping","args":{}}']

leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.text(st.characters(categories=["Cs"]), max_size=3)  # lone surrogates
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
near_valid_bodies = st.fixed_dictionaries(
    {},
    optional={
        "v": st.sampled_from([1, 2, 0, -1, True, "1", None]),
        "op": st.sampled_from(["get", "set", "ping", "nope", "", 5]) | st.text(max_size=10),
        "args": st.dictionaries(st.text(max_size=8), json_values, max_size=3) | json_values,
        "extra": json_values,
    },
).map(lambda body: json.dumps(body).encode())
valid_bodies = st.fixed_dictionaries(
    {
        "v": st.just(1),
        "op": st.sampled_from(["get", "set", "ping"]),
        "args": st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    }
).map(lambda body: json.dumps(body).encode())
truncated_bodies = st.tuples(near_valid_bodies, st.integers(min_value=0)).map(
    lambda pair: pair[0][: pair[1] % (len(pair[0]) + 1)]
)
oversized_bodies = st.integers(min_value=BODY_LIMIT + 1, max_value=3 * BODY_LIMIT).map(
    lambda size: b'{"v":1,"op":"set","args":{"value":"' + b"x" * size + b'"}}'
)
bodies = (
    st.binary(max_size=64) | valid_bodies | near_valid_bodies | truncated_bodies | oversized_bodies
)
request_ids = st.binary(min_size=0, max_size=70)
messages = st.one_of(
    st.tuples(request_ids, bodies).map(list),
    st.lists(st.binary(max_size=80), max_size=5),
    st.tuples(request_ids, bodies, bodies).map(list),
)


class Echo:
    """Answers with the arguments (fuzzed arguments must not steer it, unlike RecordingHandler)."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, request: Request) -> Reply:
        self.calls += 1
        return Reply({"op": request.op, "args": request.args})


class Fuzzed(NamedTuple):
    dealer: zmq.Socket[bytes]
    handler: Echo
    errors: list[logging.LogRecord]


class Collect(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Fuzzed]:
    server_keys, client_keys = KeyPair.generate(), KeyPair.generate()
    handler = Echo()
    server = WireServer(
        handler,
        keypair=server_keys,
        allowed_keys=[client_keys.public],
        listen=unused_endpoint(),
        options=ServerOptions(max_message_bytes=BODY_LIMIT),
    )
    context = zmq.Context()
    dealer = context.socket(zmq.DEALER)
    dealer.linger = 0
    dealer.rcvtimeo = 5000
    client_keys.configure_client(dealer, server_keys.public)
    errors: list[logging.LogRecord] = []
    collect = Collect(errors)
    logging.getLogger("elektraweb.wire").addHandler(collect)
    try:
        with ServerThread(server):
            dealer.connect(server.endpoint)
            yield Fuzzed(dealer, handler, errors)
    finally:
        logging.getLogger("elektraweb.wire").removeHandler(collect)
        dealer.close()
        context.term()


def replies_to(
    dealer: zmq.Socket[bytes], message: list[bytes], expect_reply: bool
) -> list[list[bytes]]:
    """Send `message` and then a ping; collect replies until the ping's has come back (and,
    when `message` must be answered, its reply too: the server answers in any order)."""
    if message:
        dealer.send_multipart(message)
    dealer.send_multipart(SENTINEL)
    replies: list[list[bytes]] = []
    pinged = False
    while not pinged or (expect_reply and not replies):
        reply = dealer.recv_multipart()
        if reply[0] == SENTINEL_ID:
            pinged = True
        else:
            replies.append(reply)
    return replies


@fuzz_settings(short_pass=4000)
@given(message=messages)
def test_every_message_gets_one_well_formed_reply_or_is_dropped(
    fuzzed: Fuzzed, message: list[bytes]
) -> None:
    answerable = bool(message) and 1 <= len(message[0]) <= 64
    replies = replies_to(fuzzed.dealer, message, answerable)
    if not answerable:
        event("dropped")
        assert replies == []
        return
    assert len(replies) == 1
    request_id, body = replies[0]
    assert request_id == message[0]
    reply = json.loads(body)
    event(reply["error"]["code"] if reply["ok"] is False else "ok")
    assert reply["v"] == 1
    if reply["ok"] is False:
        assert reply["error"]["code"] in {"bad-request", "too-large", "unsupported-version"}
        assert reply["error"]["message"]
    else:
        assert len(message) == 2  # only a well-formed request can succeed


def test_server_still_serves_after_the_fuzzing(fuzzed: Fuzzed) -> None:
    calls_before = fuzzed.handler.calls
    fuzzed.dealer.send_multipart([b"after", b'{"v":1,"op":"get","args":{"key":"user:/ok"}}'])
    request_id, body = fuzzed.dealer.recv_multipart()
    assert request_id == b"after"
    assert json.loads(body) == {
        "v": 1,
        "ok": True,
        "result": {"op": "get", "args": {"key": "user:/ok"}},
    }
    assert fuzzed.handler.calls == calls_before + 1
    # Nothing the fuzzer sent made the server log an error (a crash in dispatch would).
    assert [record.getMessage() for record in fuzzed.errors] == []
