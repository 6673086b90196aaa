"""Arguments of every shape: each request gets an error reply or a result, the daemon stays up.

The wire tests fuzz the transport (frames, bodies); this fuzzes what the operations receive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elektraweb.wire.client import ZmqTransport
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.messages import OPERATION_NAMES
from support.fuzz import fuzz_settings

from .conftest import Daemon

MEMBERS = [
    "key",
    "value",
    "meta",
    "expect",
    "cluster",
    "depth",
    "ls_limit",
    "cursor",
    "limit",
    "recursive",
    "force",
    "target",
    "name",
    "keys",
    "regex",
    "values",
    "under",
    "format",
    "data",
    "strategy",
]
NAMES = st.sampled_from(
    [
        "user:/fuzz/a",
        "user:/fuzz",
        "system:/fuzz/b/c",
        "/fuzz",
        "user:/",
        "spec:/fuzz/x",
        "bad name",
        "user:/fuzz/%",
        "user:/fuzz/#_10",
        "proc:/p",
        "meta:/m",
        "",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    NAMES,
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=2),  # lone surrogates
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from([*MEMBERS, "check/type", "x"]), inner, max_size=4),
    ),
    max_leaves=12,
)
ARGS = st.dictionaries(st.sampled_from(MEMBERS), VALUES, max_size=6)


class SyncLink:
    """A client on its own event loop, for hypothesis' synchronous test functions."""

    def __init__(self, daemon: Daemon) -> None:
        self.loop = asyncio.new_event_loop()
        self.transport: ZmqTransport = daemon.transport(timeout=10.0, retries=0)
        self.loop.run_until_complete(self.transport.start())

    def call(self, op: str, args: dict[str, Any]) -> Any:
        return self.loop.run_until_complete(self.transport.request(op, args))

    def close(self) -> None:
        self.loop.run_until_complete(self.transport.close())
        self.loop.close()


@pytest.fixture(scope="module")
def sync_link(shared_daemon: Daemon) -> Iterator[SyncLink]:
    link = SyncLink(shared_daemon)
    yield link
    link.close()


@fuzz_settings(short_pass=400)
@given(op=st.sampled_from(sorted(OPERATION_NAMES)), args=ARGS)
def test_any_arguments_get_an_answer(sync_link: SyncLink, op: str, args: dict[str, Any]) -> None:
    try:
        sync_link.call(op, args)
    except RemoteError as error:
        assert error.code is not ErrorCode.INTERNAL, error


async def test_daemon_refuses_huge_requests_and_stays_up(shared_daemon: Daemon) -> None:
    # A client that does not check sizes itself, so the daemon has to.
    careless = shared_daemon.transport(max_message_bytes=64 << 20)
    async with careless as link:
        big = "x" * (1 << 20)
        await link.request("set", {"key": "user:/fuzz/big", "value": big})
        assert (await link.request("get", {"key": "user:/fuzz/big"}))["value"] == big
        with pytest.raises(RemoteError) as caught:
            await link.request("set", {"key": "user:/fuzz/huge", "value": "y" * (17 << 20)})
        assert caught.value.code is ErrorCode.TOO_LARGE
        assert shared_daemon.alive()
        assert (await link.request("ping"))["time"] > 0
