"""clusterd's side of the daemon link: an asyncio CURVE DEALER with deadlines and retries.

Many requests share one DEALER and their replies are matched by request id in any order. An
attempt that gets no reply within its deadline makes the client close the DEALER, open a new
one and send every pending request again with its same request id (ZeroMQ guide's "Lazy
Pirate"); elektrad's replay cache makes that safe for writes. See docs/protocol.md §2.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from types import TracebackType

import zmq
import zmq.asyncio

from elektraweb.wire.encoding import decode_reply, encode_request
from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.messages import MAX_MESSAGE_BYTES, Reply, Request
from elektraweb.wire.monitor import LinkStatus, SocketMonitor
from elektraweb.wire.reader import SocketReader
from elektraweb.wire.replies import OperationReply, as_reply
from elektraweb.wire.sockets import Heartbeat, Reconnect, connecting_socket
from elektraweb.wire.transport import LinkError, TimedOut, Unreachable, new_request_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    timeout: float = 5.0  # per attempt
    retries: int = 2  # attempts after the first
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    reconnect: Reconnect = field(default_factory=Reconnect)
    # Application heartbeat: a ping this often notices a wedged daemon; None turns it off.
    ping_interval: float | None = 10.0
    max_message_bytes: int = MAX_MESSAGE_BYTES


class SharedArgs(dict[str, object]):
    """The arguments of one operation sent over many links (a cluster's write to each of its
    members): `ZmqTransport` encodes them to JSON once, however many links send them. Not to be
    changed once sent: the encoding is kept."""

    def __init__(self, args: Mapping[str, object]) -> None:
        super().__init__(args)
        self._bodies: dict[str, bytes] = {}

    def body(self, op: str) -> bytes:
        """The request body of `op` with these arguments (the request id is a frame of its own)."""
        body = self._bodies.get(op)
        if body is None:
            body = self._bodies[op] = encode_request(Request(b"", op, self))[1]
        return body


@dataclass(slots=True, eq=False)
class _Pending:
    op: str
    frames: list[bytes]
    # The waiting attempt's: set by a reply, a close or the attempt's deadline.
    wake: asyncio.Future[None] | None = None
    reply: Reply | None = None  # kept across attempts: a late reply to an earlier one counts
    failure: LinkError | None = None
    sent_on: int = 0  # the socket generation it was last sent on; 0 = never sent
    sent_over: int = 0  # the connection it was sent over (`ZmqTransport._connection`); 0 = unknown


class ZmqTransport:
    """A `Transport` to the elektrad at `endpoint` whose public key is `server_key` (pinned).

    Use as `async with ZmqTransport(...) as link:` or call `start()` and `close()`.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        server_key: str,
        keypair: KeyPair,
        options: ClientOptions | None = None,
        context: zmq.asyncio.Context | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._server_key = server_key
        self._keypair = keypair
        self._options = options or ClientOptions()
        self._context = context or zmq.asyncio.Context.instance()
        self.status = LinkStatus(endpoint)
        self.status.listeners.append(self._on_status)
        self._pending: dict[bytes, _Pending] = {}
        self._socket: zmq.asyncio.Socket | None = None
        self._monitor: SocketMonitor | None = None
        self._reader: SocketReader | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._generation = 0
        self._opened_at = 0.0
        self._heard_at = 0.0  # the last frame read from the current socket
        self._connection = 0  # counts the link's comings online: each is a new connection
        self._reopening = asyncio.Lock()
        self._started = False

    async def start(self) -> None:
        self._started = True
        self._open_socket()
        if self._options.ping_interval is not None:
            self._spawn(self._keep_pinging(self._options.ping_interval))

    async def close(self) -> None:
        self._started = False
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._close_socket()
        for pending in self._pending.values():
            pending.failure = LinkError(f"link to {self.endpoint} closed")
            _wake(pending.wake)
        self.status.mark_offline("closed", expected=True)

    async def __aenter__(self) -> ZmqTransport:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def request(
        self,
        op: str,
        args: Mapping[str, object] | None = None,
        *,
        timeout: float | None = None,
        retries: int | None = None,
    ) -> OperationReply:
        """Send `op` and return its result; `timeout` is per attempt (see `ClientOptions`)."""
        if not self._started:
            raise RuntimeError(f"the transport to {self.endpoint} is not started")
        timeout = self._options.timeout if timeout is None else timeout
        retries = self._options.retries if retries is None else retries
        request = Request(new_request_id(), op, dict(args or {}))
        if isinstance(args, SharedArgs):
            frames = [request.id, args.body(op)]
        else:
            frames = encode_request(request)
        if len(frames[1]) > self._options.max_message_bytes:
            raise RemoteError(
                ErrorCode.TOO_LARGE,
                f"{op} request has {len(frames[1])} bytes, the limit is"
                f" {self._options.max_message_bytes}",
                key=request.key,
            )
        pending = _Pending(op, frames)
        self._pending[request.id] = pending
        try:
            reply = await self._attempt(pending, timeout, retries)
        finally:
            del self._pending[request.id]
        return as_reply(op, reply.unwrap())

    async def ping(self, timeout: float | None = None) -> float:
        """Round-trip time in seconds of one `ping` (no retries)."""
        started = time.perf_counter()
        await self.request("ping", timeout=timeout, retries=0)
        return time.perf_counter() - started

    async def _attempt(self, pending: _Pending, timeout: float, retries: int) -> Reply:
        for attempt in range(retries + 1):
            if attempt and self._went_silent(pending, timeout):
                async with self._reopening:
                    # Another request may have reopened the socket while we waited for the lock.
                    if self._went_silent(pending, timeout):
                        await self._reopen(f"no reply to {pending.op} within {timeout} s")
            self._send(pending)
            if pending.reply is None and pending.failure is None:
                await self._wait(pending, timeout)
            if pending.failure is not None:
                raise pending.failure
            if pending.reply is not None:
                return pending.reply
        if pending.sent_on == self._generation:
            raise TimedOut(
                f"no reply to {pending.op} from {self.endpoint} after {retries + 1} attempts"
                f" of {timeout} s"
            )
        reason = self.status.last_error or "not connected"
        raise Unreachable(f"cannot send {pending.op} to {self.endpoint}: {reason}")

    @staticmethod
    async def _wait(pending: _Pending, timeout: float) -> None:
        """Until a reply, a close or `timeout` seconds: one timer, no task cancellation (an
        `asyncio.timeout` around a `shield` cost a Future, a cancel scope and callbacks more)."""
        loop = asyncio.get_running_loop()
        wake = pending.wake = loop.create_future()
        deadline = loop.call_later(timeout, _wake, wake)
        try:
            await wake
        finally:
            deadline.cancel()

    def _went_silent(self, pending: _Pending, timeout: float) -> bool:
        """Sent on this socket, which is older than `timeout`, still no reply, not known to
        be in the daemon's hands (`_delivered`), and the link silent as long (`_silent_for`)."""
        sent_here = pending.sent_on == self._generation
        return (
            sent_here
            and not self._delivered(pending)
            and time.monotonic() - self._opened_at >= timeout
            and self._silent_for(timeout)
        )

    def _delivered(self, pending: _Pending) -> bool:
        """Sent over the connection that is still up, with no news of it dropping unread: TCP
        delivered the request, so the daemon has it and is only slow to answer (ZMTP
        heartbeats drop a connection whose peer is gone). Sending it again, on this socket or
        a new one, cannot bring the reply sooner; reopening would mark the link offline and,
        for a cluster member, start a full catch-up. A request sent before the connection
        dropped (a daemon restart) may be lost: that one is sent again."""
        monitor = self._monitor
        return (
            pending.sent_over == self._connection
            and self.status.online
            and monitor is not None
            and not monitor.has_news()
        )

    def _silent_for(self, seconds: float) -> bool:
        """Nothing read from the socket for `seconds`, and no reply waiting to be read. A
        daemon still answering other requests is busy, not gone, and a reply queued while
        this process was too busy to read it is no silence of the daemon: reopening the
        link (marking it offline) would only add a full catch-up to the load."""
        if time.monotonic() - self._heard_at < seconds:
            return False
        reader = self._reader
        return reader is None or not reader.has_queued()

    def _send(self, pending: _Pending) -> None:
        if self._reader is None or pending.sent_on == self._generation:
            return
        try:
            self._reader.send(pending.frames)
        except zmq.Again:
            return  # not connected yet (IMMEDIATE): sent when the handshake succeeds
        pending.sent_on = self._generation
        # The monitor may not have told of the handshake yet: then "unknown", never "delivered".
        pending.sent_over = self._connection if self.status.online else 0

    def _open_socket(self) -> None:
        socket = connecting_socket(
            self._context,
            zmq.DEALER,
            keypair=self._keypair,
            server_key=self._server_key,
            heartbeat=self._options.heartbeat,
            reconnect=self._options.reconnect,
        )
        socket.immediate = True
        socket.maxmsgsize = 4 * self._options.max_message_bytes
        self._monitor = SocketMonitor(socket, self.status)
        socket.connect(self.endpoint)
        self._socket = socket
        self._generation += 1
        self._opened_at = self._heard_at = time.monotonic()
        self._reader = SocketReader(socket, self._take)

    async def _close_socket(self) -> None:
        socket, monitor, reader = self._socket, self._monitor, self._reader
        self._socket = self._monitor = self._reader = None
        if reader is not None:
            reader.close()
        if monitor is not None:
            await monitor.close()
        if socket is not None:
            socket.close()

    async def _reopen(self, reason: str) -> None:
        logger.info("%s: %s; reopening the socket and resending", self.endpoint, reason)
        self.status.mark_offline(reason)
        await self._close_socket()
        self._open_socket()
        self._flush()

    def _flush(self) -> None:
        for pending in list(self._pending.values()):
            self._send(pending)

    def _on_status(self, status: LinkStatus) -> None:
        if status.online:
            self._connection += 1
        if status.online and self._pending:
            asyncio.get_running_loop().call_soon(self._flush)

    def _spawn(self, coroutine: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _take(self, frames: list[bytes]) -> None:
        if len(frames) != 2:
            logger.warning("%s sent a reply of %d frames; ignored", self.endpoint, len(frames))
            return
        self._heard_at = time.monotonic()
        self.status.mark_online()
        pending = self._pending.get(frames[0])
        if pending is None or pending.reply is not None:
            return  # a late or duplicate reply to a request already settled
        try:
            pending.reply = decode_reply(frames[1])
        except RemoteError as error:
            pending.reply = Reply(
                error=RemoteError(
                    ErrorCode.INTERNAL, f"malformed reply from {self.endpoint}: {error.message}"
                )
            )
        _wake(pending.wake)

    async def _keep_pinging(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.ping()
            except RemoteError:
                continue  # an error reply is still an answer
            except LinkError:
                if not self._silent_for(self._options.timeout):
                    continue  # busy answering other requests: no sign the daemon is gone
                self.status.mark_offline(
                    f"no answer to ping within {self._options.timeout} s",
                    keep_known_reason=not self.status.online,
                )


def _wake(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)
