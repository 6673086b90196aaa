"""ZWS 2.0: ZeroMQ frames over WebSocket, as jszmq 0.1.2 and libzmq's ws transport speak it.

Every ZeroMQ frame travels as one binary WebSocket message: a flag byte (0x00 last frame,
0x01 more frames follow, 0x02 command) and then the frame's body. With the bare `ZWS2.0`
subprotocol there is no greeting and no security mechanism; each side's first message is its
routing id. Authentication and the Origin check happen at the HTTP upgrade, outside this module.

This module only turns bytes into frames and frames into messages; it owns no socket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import WSCloseCode

SUBPROTOCOL = "ZWS2.0"

FLAG_LAST = 0x00
FLAG_MORE = 0x01
FLAG_COMMAND = 0x02

MAX_MESSAGE_BYTES = 1 << 20
"""Largest ZeroMQ message accepted: the sum of its frame bodies."""
MAX_FRAMES = 16
"""Most frames in one ZeroMQ message; requests and subscriptions need at most three."""
MAX_ROUTING_ID_BYTES = 255
"""ZeroMQ's own limit for a routing id."""

_CLOSE_REASON_BYTES = 123  # RFC 6455: a close frame's reason fits in 125 bytes minus the code


class ZwsProtocolError(Exception):
    """The peer broke ZWS 2.0 or a limit; the connection must close with `close_code`."""

    def __init__(self, close_code: WSCloseCode, reason: str) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason

    @property
    def close_reason(self) -> bytes:
        """The reason, cut to what a WebSocket close frame can carry."""
        encoded = self.reason.encode()[:_CLOSE_REASON_BYTES]
        return encoded.decode(errors="ignore").encode()


@dataclass(frozen=True, slots=True)
class Frame:
    """One ZeroMQ frame: its body and the two flags ZWS 2.0 defines."""

    body: bytes
    more: bool = False
    command: bool = False

    def __post_init__(self) -> None:
        if self.more and self.command:
            raise ValueError("a command frame cannot be followed by more frames")

    def encode(self) -> bytes:
        flags = (FLAG_MORE if self.more else FLAG_LAST) | (FLAG_COMMAND if self.command else 0)
        return bytes((flags,)) + self.body

    @classmethod
    def decode(cls, data: bytes) -> Frame:
        """Parse one binary WebSocket message; raises ZwsProtocolError when it is no frame."""
        if not data:
            raise ZwsProtocolError(
                WSCloseCode.PROTOCOL_ERROR, "empty WebSocket message: a ZWS frame needs a flag byte"
            )
        flags = data[0]
        if flags not in (FLAG_LAST, FLAG_MORE, FLAG_COMMAND):
            raise ZwsProtocolError(
                WSCloseCode.PROTOCOL_ERROR,
                f"bad ZWS flag byte 0x{flags:02x} (expected 0x00 last, 0x01 more or 0x02 command)",
            )
        return cls(body=data[1:], more=flags == FLAG_MORE, command=flags == FLAG_COMMAND)


def encode_message(frames: Sequence[bytes]) -> list[bytes]:
    """The WebSocket messages that carry one ZeroMQ message, all but the last flagged MORE."""
    if not frames:
        raise ValueError("a ZeroMQ message has at least one frame")
    last = len(frames) - 1
    return [Frame(body, more=index < last).encode() for index, body in enumerate(frames)]


class MessageAssembler:
    """The incoming half of one ZWS connection: the peer's routing id, then whole messages.

    Feed it every binary WebSocket message in order. Command frames are dropped: without a
    security mechanism ZWS 2.0 defines no command, and ZeroMQ peers ignore unknown commands.
    Heartbeats travel as WebSocket ping and pong, never as frames.
    """

    def __init__(
        self, *, max_message_bytes: int = MAX_MESSAGE_BYTES, max_frames: int = MAX_FRAMES
    ) -> None:
        self._max_message_bytes = max_message_bytes
        self._max_frames = max_frames
        self._frames: list[bytes] = []
        self._size = 0
        self.routing_id: bytes | None = None
        """The peer's routing id once its first message arrived (often empty)."""

    def feed(self, data: bytes) -> list[bytes] | None:
        """Take one WebSocket message; return a complete ZeroMQ message, or None for now."""
        frame = Frame.decode(data)
        if frame.command:
            if self._frames:
                raise ZwsProtocolError(
                    WSCloseCode.PROTOCOL_ERROR, "command frame inside a multi-frame message"
                )
            return None
        self._append(frame.body)
        if frame.more:
            return None
        message, self._frames, self._size = self._frames, [], 0
        if self.routing_id is None:
            self._take_routing_id(message)
            return None
        return message

    def _append(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._max_message_bytes:
            raise ZwsProtocolError(
                WSCloseCode.MESSAGE_TOO_BIG,
                f"message exceeds {self._max_message_bytes} bytes",
            )
        if len(self._frames) == self._max_frames:
            raise ZwsProtocolError(
                WSCloseCode.MESSAGE_TOO_BIG,
                f"message has more than {self._max_frames} frames",
            )
        self._frames.append(body)

    def _take_routing_id(self, message: list[bytes]) -> None:
        if len(message) != 1:
            raise ZwsProtocolError(
                WSCloseCode.PROTOCOL_ERROR,
                f"first message must be the peer's routing id, one frame; got {len(message)}",
            )
        if len(message[0]) > MAX_ROUTING_ID_BYTES:
            raise ZwsProtocolError(
                WSCloseCode.PROTOCOL_ERROR,
                f"routing id has {len(message[0])} bytes, more than {MAX_ROUTING_ID_BYTES}",
            )
        self.routing_id = message[0]


@dataclass(frozen=True, slots=True)
class SubscriptionChange:
    """A subscriber's request to add or drop one topic prefix (ZeroMQ prefix matching)."""

    subscribe: bool
    prefix: bytes


def parse_subscription(message: Sequence[bytes]) -> SubscriptionChange:
    """Read a SUB's message: one frame, 0x01 + prefix to subscribe, 0x00 + prefix to cancel.

    jszmq's Sub and libzmq's SUB over ws both send this as an ordinary frame (flag 0x00),
    the ZMTP 3.0 form, never as a command.
    """
    if len(message) != 1 or not message[0] or message[0][0] not in (0, 1):
        raise ZwsProtocolError(
            WSCloseCode.PROTOCOL_ERROR,
            "expected a subscription: one frame, 0x01 + prefix or 0x00 + prefix",
        )
    body = message[0]
    return SubscriptionChange(subscribe=body[0] == 1, prefix=body[1:])
