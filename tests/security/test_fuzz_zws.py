"""Fuzzing clusterd's ZWS endpoint `/zmq`, a real clusterd and elektrad behind it: every input
gets replies below 500, or the connection closes with a code that names the fault; never a
dropped connection. A short pass by default; ELEKTRAWEB_FUZZ_EXAMPLES=100000 for a long one."""

from __future__ import annotations

import itertools
import json

import pytest
from aiohttp import WSCloseCode, WSMsgType
from hypothesis import event, given
from hypothesis import strategies as st

from elektraweb.cluster.http.zws import Frame
from security.conftest import FuzzSite
from support.fuzz import KEY_NAMES, LoopThread, fuzz_settings, json_texts, json_values
from support.processes import Clusterd
from support.zws import ZwsClient, open_zws

# How clusterd may end a connection over bad input: each code names the kind of fault.
FAULT_CODES = {
    WSCloseCode.PROTOCOL_ERROR,
    WSCloseCode.UNSUPPORTED_DATA,
    WSCloseCode.INVALID_TEXT,
    WSCloseCode.MESSAGE_TOO_BIG,
}
SENTINEL = b'{"method":"GET","path":"/api/instances"}'


class Target:
    def __init__(self, loop: LoopThread, clusterd: Clusterd) -> None:
        self.loop, self.clusterd = loop, clusterd
        self.router: ZwsClient | None = None
        self._ids = itertools.count()

    def exchange(self, messages: list[list[bytes]]) -> int | None:
        """Send the messages, then a sentinel request; the close code if the connection
        closed, else None once the sentinel's reply came back."""
        return self.loop.run(self._exchange(messages))

    async def _exchange(self, messages: list[list[bytes]]) -> int | None:
        if self.router is None:
            self.router = await open_zws(self.clusterd.api.session, "/zmq")
        sentinel_id = b"sentinel-%d" % next(self._ids)
        for frames in messages:
            for data in (Frame(body, more=index < len(frames) - 1).encode()
                         for index, body in enumerate(frames)):  # fmt: skip
                await self.router.ws.send_bytes(data)
        await self.router.send(sentinel_id, SENTINEL)
        pending: list[bytes] = []
        while True:
            message = await self.router.ws.receive(timeout=30)
            if message.type is not WSMsgType.BINARY:
                self.router = None
                assert message.type is WSMsgType.CLOSE, f"dropped without a close: {message}"
                return int(message.data)
            frame = Frame.decode(message.data)
            pending.append(frame.body)
            if frame.more:
                continue
            *envelope, reply = pending
            pending = []
            assert json.loads(reply)["status"] < 500, reply
            if envelope == [sentinel_id]:
                return None


@pytest.fixture(scope="module")
def target(fuzz_site: FuzzSite) -> Target:
    return Target(fuzz_site.loop, fuzz_site.clusterd)


requests = st.fixed_dictionaries(
    {},
    optional={
        "method": st.sampled_from(["GET", "PUT", "POST", "DELETE", ""]) | json_values,
        "path": st.tuples(
            st.sampled_from(["/api/instances/1/kdb/", "/api/instances/1/kdbFind/", "/api/"]),
            KEY_NAMES | st.sampled_from(["((.*)*)*!", "(a)\\1", "%ff", "%ED%A0%80"]),
        ).map("".join)
        | json_values,
        "query": st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=2)
        | json_values,
        "body": json_values,
        "extra": json_values,
    },
).map(lambda request: json.dumps(request).encode())
request_ids = st.binary(max_size=12).filter(lambda data: not data.startswith(b"sentinel"))
well_framed = st.tuples(request_ids, requests).map(list)
messages = st.one_of(
    well_framed,
    well_framed,
    well_framed,
    st.tuples(request_ids, json_texts).map(list),
    st.lists(st.binary(max_size=40), min_size=1, max_size=4),
)


@fuzz_settings(short_pass=150)
@given(inputs=st.lists(messages, min_size=1, max_size=2))
def test_every_input_gets_a_reply_below_500_or_a_fault_close(
    target: Target, inputs: list[list[bytes]]
) -> None:
    closed = target.exchange(inputs)
    event("replied" if closed is None else f"closed {closed}")
    assert closed is None or closed in FAULT_CODES, closed


def test_the_endpoint_still_serves_after_the_fuzzing(target: Target) -> None:
    assert target.exchange([]) is None
