"""How many daemon links one process may hold.

Each link to an elektrad is two ZeroMQ sockets (requests and events). libzmq allows 1,023
sockets per context unless told otherwise, so a clusterd of the default context would refuse
the links of its 512th instance with "Too many open files". Each socket also takes file
descriptors (its TCP connection, its mailbox): the daemons raise their soft limit on open
files to the hard limit when they start.
"""

from __future__ import annotations

from typing import Any

import zmq

MANY_SOCKETS = 32_768
"""Sockets per context a daemon allows by default: the links of 16,000 instances."""


def allow_many_sockets(context: zmq.Context[Any], sockets: int = MANY_SOCKETS) -> None:
    """Let `context` open up to `sockets` sockets (at most libzmq's own limit). Call it
    before the context's first socket: libzmq sizes its table then."""
    context.set(zmq.MAX_SOCKETS, min(sockets, context.get(zmq.SOCKET_LIMIT)))
