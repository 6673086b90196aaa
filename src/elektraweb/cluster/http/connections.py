"""Limits on clusterd's HTTP connections, so that idle or slow clients cannot exhaust it.

Every accepted TCP connection passes through a `GuardedConnection` in front of aiohttp's own
protocol:

- A client address may hold at most `max_connections_per_address` connections; one more is
  answered `503` and closed at once.
- All clients together may hold at most `max_connections`, a number below the process's file
  descriptor limit (raised from soft to hard on start), so `accept()` never runs out of
  descriptors. At that cap a new connection takes the place of the one that has waited longest
  for a request; if every connection is busy with one, the new one gets `503`.
- A connection must complete its request head within `header_timeout` of opening, or of the
  end of its previous request; else it is closed. A client sending its head byte by byte does
  not extend the time. Bodies have their own deadline (`body_timeout`, in the REST adapter).
- aiohttp's protocol is only created once the first byte arrives, so an idle connection costs
  a few hundred bytes, not a parser and a task.

Recurring problems (refused connections, `accept()` failures) are logged once per
`LOG_INTERVAL` with their count, never once per occurrence.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from elektraweb.cluster.clusters.heap_trim import MAPPED_BUFFER_BYTES

log = logging.getLogger("elektraweb.cluster.http.connections")

LOG_INTERVAL = 10.0
"""Seconds over which repeated refusals and accept errors are summed into one log line."""
BACKLOG = 256
"""Connections the kernel queues until clusterd accepts them; asyncio also accepts up to this
many at a time before any of them is counted."""
DESCRIPTORS_KEPT = 1024
"""File descriptors kept free of client connections (a quarter of the limit if that is less):
the database, the log, the daemon links, and the connections accepted but not yet counted
(up to `BACKLOG`) or closed but not yet released (as many again)."""
READ_BYTES = MAPPED_BUFFER_BYTES - 1024
"""The most a connection reads from its socket at once. asyncio's transports read into a new
buffer of 256 KiB each time; clusterd maps buffers of `MAPPED_BUFFER_BYTES` and more apart
(`heap_trim`), so each read mapped and unmapped pages: about 15 % of a get's CPU. Buffers under
the threshold come from the heap; a large body takes more reads."""
_ACCEPT_ERROR = "socket.accept() out of system resource"


def raise_descriptor_limit() -> int:
    """Raise this process's soft limit of open files to its hard limit; the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


@dataclass(frozen=True)
class ConnectionSettings:
    max_connections_per_address: int = 256
    max_connections: int | None = None
    """None, or anything higher: the open-files limit minus `DESCRIPTORS_KEPT`."""
    header_timeout: float = 10.0
    """Seconds a connection may take to send a request head, from its start or its last
    request's end; also how long an idle keep-alive connection stays open."""
    body_timeout: float = 30.0
    """Seconds a request may take to send its whole body."""


class CountedLog:
    """Logs a recurring problem at once the first time, then once per `interval` with how
    often it happened since, so a flood of them cannot fill the log."""

    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        self._interval = interval
        self._counts: Counter[str] = Counter()
        self._open: set[str] = set()

    def note(self, problem: str) -> None:
        if problem in self._open:
            self._counts[problem] += 1
            return
        log.warning("%s", problem)
        self._open.add(problem)
        asyncio.get_running_loop().call_later(self._interval, self._summarise, problem)

    def _summarise(self, problem: str) -> None:
        count = self._counts.pop(problem, 0)
        if count:
            log.warning("%s: %d more times in the last %g s", problem, count, self._interval)
            asyncio.get_running_loop().call_later(self._interval, self._summarise, problem)
        else:
            self._open.discard(problem)


class ConnectionLimits:
    """The counts and deadlines of one listener's connections."""

    def __init__(self, settings: ConnectionSettings, descriptor_limit: int) -> None:
        self.settings = settings
        below_limit = max(descriptor_limit - min(DESCRIPTORS_KEPT, descriptor_limit // 4), 1)
        self.max_connections = min(settings.max_connections or below_limit, below_limit)
        self.counted_log = CountedLog()
        self._per_address: Counter[str] = Counter()
        self._total = 0
        self._waiting: OrderedDict[GuardedConnection, None] = OrderedDict()
        """Connections waiting for a request head, longest waiting first."""

    def protocol_factory(
        self, make_handler: Callable[[], asyncio.Protocol]
    ) -> Callable[[], asyncio.Protocol]:
        """The factory to listen with: guards in front of `make_handler`'s protocols."""
        return lambda: GuardedConnection(self, make_handler)

    def admit(self, connection: GuardedConnection) -> str | None:
        """Count a new connection in; or the reason it is refused."""
        address = connection.address
        cap = self.settings.max_connections_per_address
        if self._per_address[address] >= cap:
            self.counted_log.note(f"refused connections from {address}: over its limit of {cap}")
            return f"too many connections from {address} (limit {cap})"
        if self._total >= self.max_connections:
            if not self._waiting:
                self.counted_log.note(f"refused connections: all {self.max_connections} busy")
                return f"too many connections (limit {self.max_connections})"
            oldest = next(iter(self._waiting))
            self.counted_log.note(
                f"at the limit of {self.max_connections} connections: closing the ones that "
                "waited longest for a request"
            )
            oldest.cut()
        self._per_address[address] += 1
        self._total += 1
        return None

    def release(self, connection: GuardedConnection) -> None:
        self._waiting.pop(connection, None)
        self._total -= 1
        self._per_address[connection.address] -= 1
        if not self._per_address[connection.address]:
            del self._per_address[connection.address]

    def close_idle(self) -> None:
        """Cut every connection that waits for a request (on shutdown: aiohttp closes those
        it handles, but has never seen the ones that sent nothing yet)."""
        for connection in list(self._waiting):
            connection.cut()

    def waiting(self, connection: GuardedConnection, waits: bool) -> None:
        if waits:
            self._waiting[connection] = None
        else:
            self._waiting.pop(connection, None)


class GuardedConnection(asyncio.Protocol):
    """One client connection: admitted or refused, timed while it owes a request head, and
    handed to aiohttp's protocol from its first byte on."""

    def __init__(
        self, limits: ConnectionLimits, make_handler: Callable[[], asyncio.Protocol]
    ) -> None:
        self._limits = limits
        self._make_handler = make_handler
        self._handler: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self.address = "-"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "-"
        refusal = self._limits.admit(self)
        if refusal is not None:
            body = refusal.encode()
            transport.write(
                b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
                b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%b" % (len(body), body)
            )
            transport.close()
            return
        self._transport = transport
        if hasattr(transport, "max_size"):  # asyncio's socket transports
            transport.max_size = READ_BYTES
        self.request_finished()

    def request_started(self) -> None:
        """The request head is complete: the deadline is the handler's business now."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._limits.waiting(self, False)

    def request_finished(self) -> None:
        """Owe the next request head within `header_timeout`."""
        if self._transport is None or self._transport.is_closing():
            return
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = asyncio.get_running_loop().call_later(
            self._limits.settings.header_timeout, self._timed_out
        )
        self._limits.waiting(self, True)

    def _timed_out(self) -> None:
        self._limits.counted_log.note(
            f"closed connections that sent no request head within "
            f"{self._limits.settings.header_timeout:g} s"
        )
        self.cut()

    def cut(self) -> None:
        self._limits.waiting(self, False)
        if self._transport is not None:
            self._transport.abort()

    def data_received(self, data: bytes) -> None:
        if self._transport is None:
            return
        if self._handler is None:
            self._handler = self._make_handler()
            self._handler.connection_made(self._transport)
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        return None if self._handler is None else self._handler.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is None:
            return  # refused: never counted
        if self._deadline is not None:
            self._deadline.cancel()
        self._limits.release(self)
        if self._handler is not None:
            self._handler.connection_lost(exc)
        self._transport = None

    def pause_writing(self) -> None:
        if self._handler is not None:
            self._handler.pause_writing()

    def resume_writing(self) -> None:
        if self._handler is not None:
            self._handler.resume_writing()


def guard_of(request: web.BaseRequest) -> GuardedConnection | None:
    """The guard of the connection `request` came on; None when served without one (e.g. a
    test server). The caller stops its head deadline while it handles the request
    (`request_started`) and starts it again after (`request_finished`)."""
    transport = request.transport
    connection = transport.get_protocol() if transport is not None else None
    return connection if isinstance(connection, GuardedConnection) else None


class GuardedSite(web.BaseSite):
    """A TCP listener whose connections pass through `limits`."""

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, limits: ConnectionLimits
    ) -> None:
        super().__init__(runner, backlog=BACKLOG)
        self._host, self._port, self._limits = host, port, limits

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            self._limits.protocol_factory(server), self._host, self._port, backlog=self._backlog
        )


def count_accept_errors(
    counted: CountedLog,
) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    """A loop exception handler: asyncio reports every failed `accept()` (e.g. "Too many open
    files") with a traceback; these become counted lines, everything else goes on as before."""

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("message") == _ACCEPT_ERROR:
            counted.note(f"accept() failed: {context.get('exception')}")
        else:
            loop.default_exception_handler(context)

    return handle
