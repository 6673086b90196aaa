"""A daemon's ZeroMQ context holds the links of more than 511 instances (two sockets each)."""

from __future__ import annotations

import errno

import zmq

from elektraweb.cluster.http.connections import raise_descriptor_limit
from elektraweb.wire.limits import allow_many_sockets

LINKS = 600  # instances: 1,200 sockets, beyond libzmq's default of 1,023 per context


def open_links(context: zmq.Context[zmq.Socket[bytes]]) -> int:
    """How many sockets of 2 * LINKS the context opens before it refuses one."""
    sockets: list[zmq.Socket[bytes]] = []
    try:
        for _ in range(2 * LINKS):
            sockets.append(context.socket(zmq.DEALER))
    except zmq.ZMQError as error:
        assert error.errno == errno.EMFILE
    finally:
        for socket in sockets:
            socket.close(linger=0)
    return len(sockets)


def test_a_context_allowing_many_sockets_opens_every_link_a_default_one_refuses() -> None:
    raise_descriptor_limit()  # each socket has a mailbox descriptor, as clusterd's do
    default, allowing = zmq.Context(), zmq.Context()
    allow_many_sockets(allowing)
    try:
        assert open_links(default) < 2 * LINKS
        assert open_links(allowing) == 2 * LINKS
    finally:
        default.term()
        allowing.term()
