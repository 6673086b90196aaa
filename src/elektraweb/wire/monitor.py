"""Link status (online, offline since, last error) driven by a socket's monitor events."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import zmq
import zmq.asyncio
from zmq.utils.monitor import recv_monitor_message

logger = logging.getLogger(__name__)

_FOLLOWED_EVENTS = (
    zmq.EVENT_HANDSHAKE_SUCCEEDED
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq.EVENT_DISCONNECTED
    | zmq.EVENT_CONNECT_RETRIED
)


@dataclass(eq=False)
class LinkStatus:
    """What a client knows about its link to one daemon; times are `time.time()` seconds.

    `name` (the endpoint) labels log lines. `online` means a CURVE handshake succeeded and
    nothing has failed since. `last_seen` is when the daemon last answered. `listeners` are
    called after every change of `online`.
    """

    name: str = "link"
    online: bool = False
    offline_since: float | None = field(default_factory=time.time)
    last_error: str | None = None
    last_seen: float | None = None
    listeners: list[Callable[[LinkStatus], None]] = field(default_factory=list, repr=False)

    def mark_online(self) -> None:
        self.last_seen = time.time()
        if self.online:
            return
        self.online, self.offline_since, self.last_error = True, None, None
        logger.info("%s: online", self.name)
        self._notify()

    def mark_offline(
        self, reason: str, *, keep_known_reason: bool = False, expected: bool = False
    ) -> None:
        """Go offline because of `reason`; a vaguer `reason` can leave a known one in place.

        `expected` (we closed the link ourselves) logs at INFO instead of WARNING.
        """
        if not (keep_known_reason and self.last_error is not None):
            self.last_error = reason
        if not self.online:
            return
        self.online, self.offline_since = False, time.time()
        logger.log(
            logging.INFO if expected else logging.WARNING, "%s: offline, %s", self.name, reason
        )
        self._notify()

    def _notify(self) -> None:
        for listener in list(self.listeners):
            try:
                listener(self)
            except Exception:
                logger.exception("link status listener failed")


class SocketMonitor:
    """Feeds one socket's connection events into a `LinkStatus` until closed, or with
    `until_online` only until the first handshake succeeds: a monitor is a socket pair of
    its own inside libzmq (about 20 kB, more once events flowed), which a follower that only
    needs to know its connection was made need not keep (the feed's subscriptions, 1,000 of
    them in a fleet).

    Create it before the socket connects, so that no event is missed.
    """

    def __init__(
        self, socket: zmq.asyncio.Socket, status: LinkStatus, *, until_online: bool = False
    ) -> None:
        self._socket = socket
        self._monitor: zmq.asyncio.Socket | None = socket.get_monitor_socket(_FOLLOWED_EVENTS)
        self._task = asyncio.get_running_loop().create_task(
            self._follow(self._monitor, status, until_online), name="monitor"
        )

    async def _follow(
        self, monitor: zmq.asyncio.Socket, status: LinkStatus, until_online: bool
    ) -> None:
        while not (until_online and status.online):
            message = await recv_monitor_message(monitor)
            _apply(message["event"], int(message["value"]), message["endpoint"].decode(), status)
        self._stop_monitoring()

    def has_news(self) -> bool:
        """Whether an event waits unread (the event loop was too busy to follow yet)."""
        monitor = self._monitor
        return monitor is not None and bool(cast(int, monitor.get(zmq.EVENTS)) & zmq.POLLIN)

    def _stop_monitoring(self) -> None:
        if self._monitor is not None:
            self._socket.disable_monitor()
            self._monitor.close(linger=0)
            self._monitor = None

    async def close(self) -> None:
        """Stop following; call it before closing the socket."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._stop_monitoring()


def _apply(event: int, value: int, endpoint: str, status: LinkStatus) -> None:
    if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
        status.mark_online()
    elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        status.mark_offline(f"{endpoint} refused our CURVE key (ZAP status {value})")
    elif event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        status.mark_offline(f"handshake with {endpoint} failed: protocol error {value:#x}")
    elif event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        status.mark_offline(
            f"handshake with {endpoint} failed (wrong server key, or not an elektrad?)"
        )
    elif event == zmq.EVENT_DISCONNECTED:
        status.mark_offline(f"connection to {endpoint} lost", keep_known_reason=not status.online)
    elif event == zmq.EVENT_CONNECT_RETRIED:
        status.mark_offline(f"cannot connect to {endpoint}", keep_known_reason=True)
