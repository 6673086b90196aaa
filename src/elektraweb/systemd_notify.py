"""Readiness for systemd: `READY=1` to `$NOTIFY_SOCKET`, so units can use `Type=notify`.

The sd_notify protocol is one datagram on a Unix socket whose path (or, with a leading `@`,
abstract name) systemd puts in `$NOTIFY_SOCKET`; a few lines, so no dependency on libsystemd.
Outside systemd the variable is unset and nothing is sent.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify_ready() -> bool:
    """Tell the service manager the daemon is ready; whether a manager was told."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as link:
            link.connect(address)
            link.sendall(b"READY=1")
    except OSError as error:
        # The daemon serves anyway; systemd then reports the unit's start as timed out.
        log.warning(
            "could not tell systemd at NOTIFY_SOCKET=%s that we are ready: %s",
            os.environ["NOTIFY_SOCKET"],
            error,
        )
        return False
    return True
