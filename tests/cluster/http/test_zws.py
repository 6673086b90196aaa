"""The ZWS 2.0 codec: frames, messages, the routing-id handshake, limits and subscriptions."""

import pytest
from aiohttp import WSCloseCode
from hypothesis import given
from hypothesis import strategies as st

from elektraweb.cluster.http.zws import (
    Frame,
    MessageAssembler,
    SubscriptionChange,
    ZwsProtocolError,
    encode_message,
    parse_subscription,
)

bodies = st.binary(max_size=300)
frames = st.builds(
    lambda body, kind: Frame(body, more=kind == "more", command=kind == "command"),
    bodies,
    st.sampled_from(["last", "more", "command"]),
)


def assembler_past_routing_id(**limits: int) -> MessageAssembler:
    assembler = MessageAssembler(**limits)
    assert assembler.feed(b"\x00peer") is None
    return assembler


def test_frame_wire_form_is_flag_byte_then_body() -> None:
    assert Frame(b"abc").encode() == b"\x00abc"
    assert Frame(b"abc", more=True).encode() == b"\x01abc"
    assert Frame(b"", command=True).encode() == b"\x02"


@given(frames)
def test_frame_decodes_to_what_was_encoded(frame: Frame) -> None:
    assert Frame.decode(frame.encode()) == frame


@given(st.binary(max_size=64))
def test_any_bytes_decode_to_a_frame_or_a_protocol_error(data: bytes) -> None:
    try:
        frame = Frame.decode(data)
    except ZwsProtocolError as error:
        assert error.close_code == WSCloseCode.PROTOCOL_ERROR
    else:
        assert frame.encode() == data


@pytest.mark.parametrize("flag", [0x03, 0x04, 0x80, 0xFF])
def test_unknown_flag_byte_is_named_in_the_error(flag: int) -> None:
    with pytest.raises(ZwsProtocolError, match=f"0x{flag:02x}") as caught:
        Frame.decode(bytes((flag,)) + b"body")
    assert caught.value.close_code == WSCloseCode.PROTOCOL_ERROR


def test_empty_websocket_message_is_a_protocol_error() -> None:
    with pytest.raises(ZwsProtocolError, match="flag byte"):
        Frame.decode(b"")


def test_encode_message_flags_all_frames_but_the_last() -> None:
    assert encode_message([b"id", b"", b"{}"]) == [b"\x01id", b"\x01", b"\x00{}"]
    assert encode_message([b""]) == [b"\x00"]


@given(st.lists(st.lists(bodies, min_size=1, max_size=5), max_size=5), st.binary(max_size=20))
def test_assembler_returns_the_messages_that_were_sent(
    messages: list[list[bytes]], routing_id: bytes
) -> None:
    assembler = MessageAssembler()
    received = []
    for message in [[routing_id], *messages]:
        for data in encode_message(message):
            result = assembler.feed(data)
            if result is not None:
                received.append(result)
    assert assembler.routing_id == routing_id
    assert received == messages


@given(st.lists(st.binary(max_size=40), max_size=30))
def test_assembler_on_garbage_yields_messages_or_a_protocol_error(chunks: list[bytes]) -> None:
    assembler = MessageAssembler(max_message_bytes=100, max_frames=4)
    try:
        for chunk in chunks:
            message = assembler.feed(chunk)
            if message is not None:
                assert 1 <= len(message) <= 4
                assert sum(map(len, message)) <= 100
    except ZwsProtocolError as error:
        assert error.close_code in (WSCloseCode.PROTOCOL_ERROR, WSCloseCode.MESSAGE_TOO_BIG)
        assert len(error.close_reason) <= 123


def test_first_message_is_the_peers_routing_id_and_is_not_delivered() -> None:
    assembler = MessageAssembler()
    assert assembler.routing_id is None
    assert assembler.feed(b"\x00") is None
    assert assembler.routing_id == b""
    assert assembler.feed(b"\x00hello") == [b"hello"]


def test_multi_frame_routing_id_is_refused() -> None:
    assembler = MessageAssembler()
    assembler.feed(b"\x01a")
    with pytest.raises(ZwsProtocolError, match="routing id"):
        assembler.feed(b"\x00b")


def test_routing_id_longer_than_zeromq_allows_is_refused() -> None:
    with pytest.raises(ZwsProtocolError, match="256 bytes"):
        MessageAssembler().feed(b"\x00" + b"x" * 256)


def test_command_frames_are_ignored_between_messages() -> None:
    assembler = assembler_past_routing_id()
    assert assembler.feed(b"\x02\x04PING") is None
    assert assembler.feed(b"\x00after") == [b"after"]


def test_command_frame_inside_a_message_is_refused() -> None:
    assembler = assembler_past_routing_id()
    assembler.feed(b"\x01first")
    with pytest.raises(ZwsProtocolError, match="command frame inside"):
        assembler.feed(b"\x02\x04PING")


def test_message_over_the_byte_limit_is_refused_across_frames() -> None:
    assembler = assembler_past_routing_id(max_message_bytes=10)
    assembler.feed(b"\x01" + b"x" * 6)
    with pytest.raises(ZwsProtocolError, match="exceeds 10 bytes") as caught:
        assembler.feed(b"\x00" + b"y" * 5)
    assert caught.value.close_code == WSCloseCode.MESSAGE_TOO_BIG


def test_message_over_the_frame_limit_is_refused() -> None:
    assembler = assembler_past_routing_id(max_frames=3)
    for _ in range(3):
        assembler.feed(b"\x01")
    with pytest.raises(ZwsProtocolError, match="more than 3 frames"):
        assembler.feed(b"\x00")


def test_close_reason_is_cut_to_fit_a_close_frame_without_splitting_a_character() -> None:
    error = ZwsProtocolError(WSCloseCode.PROTOCOL_ERROR, "é" * 100)
    assert len(error.close_reason) <= 123
    assert error.close_reason.decode() == "é" * 61


def test_subscription_messages_as_jszmq_sends_them() -> None:
    assert parse_subscription([b"\x01instance/"]) == SubscriptionChange(True, b"instance/")
    assert parse_subscription([b"\x00instance/"]) == SubscriptionChange(False, b"instance/")
    assert parse_subscription([b"\x01"]) == SubscriptionChange(True, b"")


@pytest.mark.parametrize("message", [[b""], [b"\x02topic"], [b"\x01a", b"b"], [b"hello"]])
def test_anything_else_is_not_a_subscription(message: list[bytes]) -> None:
    with pytest.raises(ZwsProtocolError, match="expected a subscription"):
        parse_subscription(message)
