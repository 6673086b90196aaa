"""The daemon link between clusterd and elektrad (docs/protocol.md).

clusterd uses `ZmqTransport` (behind the `Transport` seam) and `EventSubscriber`; elektrad uses
`WireServer` with a `Handler`. Neither imports the other's code, both import this package.
"""

from elektraweb.wire.client import ClientOptions, ZmqTransport
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.keys import KeyPair, ensure_keypair, load_keypair, load_public_key
from elektraweb.wire.messages import (
    MAX_MESSAGE_BYTES,
    OPERATION_NAMES,
    PROTOCOL_VERSION,
    AnyEvent,
    Event,
    Handler,
    KeyState,
    Reply,
    Request,
    SubtreeEvent,
)
from elektraweb.wire.monitor import LinkStatus
from elektraweb.wire.revision import revision
from elektraweb.wire.server import ServerOptions, WireServer
from elektraweb.wire.sockets import Heartbeat, Reconnect
from elektraweb.wire.subscriber import EventSubscriber
from elektraweb.wire.transport import (
    InProcessTransport,
    LinkError,
    TimedOut,
    Transport,
    Unreachable,
)

__all__ = [
    "MAX_MESSAGE_BYTES",
    "OPERATION_NAMES",
    "PROTOCOL_VERSION",
    "AnyEvent",
    "ClientOptions",
    "ErrorCode",
    "Event",
    "EventSubscriber",
    "Handler",
    "Heartbeat",
    "InProcessTransport",
    "KeyPair",
    "KeyState",
    "LinkError",
    "LinkStatus",
    "Reconnect",
    "RemoteError",
    "Reply",
    "Request",
    "ServerOptions",
    "SubtreeEvent",
    "TimedOut",
    "Transport",
    "Unreachable",
    "WireServer",
    "ZmqTransport",
    "ensure_keypair",
    "load_keypair",
    "load_public_key",
    "revision",
]
