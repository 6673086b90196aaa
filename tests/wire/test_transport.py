"""InProcessTransport: the wire's validation and encoding without sockets."""

from __future__ import annotations

import pytest

from elektraweb.wire import ErrorCode, InProcessTransport, RemoteError, TimedOut

from .conftest import RecordingHandler


async def test_in_process_round_trip(handler: RecordingHandler) -> None:
    transport = InProcessTransport(handler)
    assert not transport.status.online
    await transport.start()
    assert transport.status.online
    assert await transport.request("get", {"key": "user:/a"}) == {
        "op": "get",
        "args": {"key": "user:/a"},
    }


async def test_in_process_refuses_what_the_wire_refuses(handler: RecordingHandler) -> None:
    transport = InProcessTransport(handler)
    with pytest.raises(RemoteError) as caught:
        await transport.request("format-disk")
    assert caught.value.code is ErrorCode.BAD_REQUEST
    with pytest.raises(ValueError, match="not JSON compliant"):
        await transport.request("set", {"value": float("inf")})
    assert not handler.calls


async def test_in_process_error_replies_and_deadlines(handler: RecordingHandler) -> None:
    transport = InProcessTransport(handler, timeout=0.05)
    with pytest.raises(RemoteError) as caught:
        await transport.request("rm", {"key": "user:/k", "error": "forbidden"})
    assert (caught.value.code, caught.value.key) == (ErrorCode.FORBIDDEN, "user:/k")
    with pytest.raises(RemoteError, match="could not be encoded"):
        await transport.request("get", {"unencodable": True})
    with pytest.raises(TimedOut):
        await transport.request("get", {"sleep": 1.0})


async def test_in_process_ping_needs_no_handler(handler: RecordingHandler) -> None:
    transport = InProcessTransport(handler)
    assert isinstance((await transport.request("ping"))["time"], float)
    assert not handler.calls
