"""elektrad's side of the daemon link: a CURVE ROUTER that hands requests to a handler.

Requests run concurrently and are answered in the order they finish. Every message gets one
reply or, when it carries no usable request id, is dropped; nothing a client sends can stop the
server. See docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

import zmq
import zmq.asyncio

from elektraweb.wire.encoding import decode_request, encode_reply, encode_reply_within
from elektraweb.wire.errors import ErrorCode, RemoteError, bad_request
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.messages import (
    MAX_MESSAGE_BYTES,
    MAX_REQUEST_ID_BYTES,
    AnyEvent,
    Handler,
    Reply,
    Request,
    pong,
)
from elektraweb.wire.publisher import EventPublisher
from elektraweb.wire.reader import SocketReader
from elektraweb.wire.replay import ReplayCache, body_digest
from elektraweb.wire.sockets import Heartbeat
from elektraweb.wire.zap import ZapAllowList

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ServerOptions:
    heartbeat: Heartbeat = field(default_factory=Heartbeat)
    max_message_bytes: int = MAX_MESSAGE_BYTES
    # Bigger frames make libzmq drop the connection before we have to hold them in memory.
    max_frame_bytes: int = 4 * MAX_MESSAGE_BYTES
    max_in_flight: int = 256
    replay_entries: int = 4096
    replay_bytes: int = 64 * 1024 * 1024
    # How long replies still queued at shutdown may take to leave.
    linger: float = 1.0
    # After the last reply at shutdown, how long connections stay open. A DEALER with
    # IMMEDIATE=1 discards what it received but not yet read once its connection drops.
    drain: float = 0.2


class WireServer:
    """The request ROUTER, the event PUB (if `events` is given) and their ZAP allow-list.

    `listen` and `events` are ZeroMQ endpoints to bind (`tcp://127.0.0.1:*` picks a free port;
    `endpoint` and `events_endpoint` tell which). Use as `async with WireServer(...) as server:`
    or call `start()` and `stop()`.

    By default the server has a ZeroMQ context and a ZAP allow-list of its own. Many servers
    in one process (the fleet simulator) pass one shared `context` instead: its owner runs its
    one ZAP handler (then `allowed_keys` is that handler's business) and terminates it.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        keypair: KeyPair,
        allowed_keys: Iterable[str],
        listen: str,
        events: str | None = None,
        options: ServerOptions | None = None,
        context: zmq.asyncio.Context | None = None,
    ) -> None:
        self._handler = handler
        self._shared_context = context
        self._keypair = keypair
        self._allowed_keys = tuple(allowed_keys)
        self._listen = listen
        self._events = events
        self._options = options or ServerOptions()
        self._replays = ReplayCache(
            max_entries=self._options.replay_entries, max_bytes=self._options.replay_bytes
        )
        self._in_flight = 0
        self._executions: set[asyncio.Task[None]] = set()
        self._context: zmq.asyncio.Context | None = None  # only a context of its own
        self._zap: ZapAllowList | None = None
        self._router: zmq.asyncio.Socket | None = None
        self._publisher: EventPublisher | None = None
        self._reader: SocketReader | None = None
        self.endpoint = ""
        self.events_endpoint: str | None = None

    async def start(self) -> None:
        """Bind the sockets and start serving; raises `zmq.ZMQError` if an endpoint is taken."""
        if self._shared_context is not None:
            context = self._shared_context
        else:
            # A context of our own: libzmq allows one ZAP handler per context.
            context = self._context = zmq.asyncio.Context()
            self._zap = ZapAllowList(context, self._allowed_keys)
            self._zap.start()
        try:
            router = self._router = context.socket(zmq.ROUTER)
            router.linger = round(self._options.linger * 1000)
            router.router_mandatory = True
            router.maxmsgsize = self._options.max_frame_bytes
            self._keypair.configure_server(router)
            self._options.heartbeat.apply(router)
            router.bind(self._listen)
            self.endpoint = router.getsockopt_string(zmq.LAST_ENDPOINT)
            if self._events is not None:
                self._publisher = EventPublisher(
                    context, self._keypair, self._events, self._options.heartbeat
                )
                self.events_endpoint = self._publisher.endpoint
        except BaseException:
            await self._close_sockets()
            raise
        self._reader = SocketReader(router, self._dispatch)

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking requests, let running ones finish (at most `grace` seconds) and their
        replies leave (`ServerOptions.drain`), then close."""
        if self._reader is not None:
            self._reader.close()  # replies still go out through it
        if self._executions:
            _, late = await asyncio.wait(set(self._executions), timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            await asyncio.sleep(self._options.drain)
        await self._close_sockets()

    async def __aenter__(self) -> WireServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def publish(self, event: AnyEvent) -> AnyEvent:
        """Publish a change on the event socket; returns the event with its `seq`."""
        if self._publisher is None:
            raise RuntimeError("this server was started without an events endpoint")
        return await self._publisher.publish(event)

    async def _close_sockets(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._router is not None:
            self._router.close()
            self._router = None
        if self._zap is not None:
            await self._zap.stop()
            self._zap = None
        if self._context is not None:
            # term() waits for queued replies to leave (bounded by linger): not on the loop.
            await asyncio.to_thread(self._context.term)
            self._context = None

    def _dispatch(self, frames: list[bytes]) -> None:
        started = time.perf_counter()
        if len(frames) < 2 or not 1 <= len(frames[1]) <= MAX_REQUEST_ID_BYTES:
            logger.debug("dropped a message of %d frames without a usable request id", len(frames))
            return
        routing_id, request_id, body_frames = frames[0], frames[1], frames[2:]
        try:
            request, digest = self._parse(request_id, body_frames)
        except RemoteError as error:
            self._send(routing_id, request_id, encode_reply(Reply(error=error)))
            self._log("?", None, error.code, started)
            return
        if request.op == "ping":
            # Answered here, uncached, and logged quietly: clients ping every few seconds.
            self._send(routing_id, request_id, encode_reply(pong()))
            logger.debug("op=ping outcome=ok")
            return
        execution = self._replays.get(request_id)
        if execution is None:
            self._replays.begin(request_id, digest, routing_id)
            self._in_flight += 1
            if self._in_flight >= self._options.max_in_flight and self._reader is not None:
                self._reader.pause()  # the next requests wait in ZeroMQ's queue
            task = asyncio.get_running_loop().create_task(self._execute(request, started))
            self._executions.add(task)
            task.add_done_callback(self._executions.discard)
        elif execution.digest != digest:
            reuse = bad_request("request id reused for a different request")
            self._send(routing_id, request_id, encode_reply(Reply(error=reuse)))
            self._log(request.op, request.key, reuse.code, started)
        elif execution.reply is None:
            execution.waiters.append(routing_id)
            self._log(request.op, request.key, "joined-running", started)
        else:
            self._send(routing_id, request_id, execution.reply)
            self._log(request.op, request.key, "replayed", started)

    def _parse(self, request_id: bytes, body_frames: list[bytes]) -> tuple[Request, bytes]:
        if len(body_frames) != 1:
            raise bad_request(
                f"a request has 2 frames [request id, body], got {1 + len(body_frames)}"
            )
        body = body_frames[0]
        limit = self._options.max_message_bytes
        if len(body) > limit:
            raise RemoteError(
                ErrorCode.TOO_LARGE, f"request body has {len(body)} bytes, the limit is {limit}"
            )
        return decode_request(request_id, body), body_digest(body)

    async def _execute(self, request: Request, started: float) -> None:
        try:
            try:
                reply = await self._handler(request)
                if not isinstance(reply, Reply):
                    raise TypeError(f"the handler returned {reply!r}, not a Reply")
            except RemoteError as error:
                reply = Reply(error=error)
            except Exception:
                logger.exception("%s %s failed", request.op, request.key or "")
                reply = Reply(
                    error=RemoteError(
                        ErrorCode.INTERNAL,
                        f"{request.op} failed inside elektrad; see its log",
                        key=request.key,
                    )
                )
            body = encode_reply_within(reply, request, self._options.max_message_bytes)
            for routing_id in self._replays.finish(request.id, body):
                self._send(routing_id, request.id, body)
            outcome = "ok" if reply.error is None else reply.error.code.value
            self._log(request.op, request.key, outcome, started)
        finally:
            self._in_flight -= 1
            if self._reader is not None:
                self._reader.resume()

    def _send(self, routing_id: bytes, request_id: bytes, body: bytes) -> None:
        if self._reader is None:
            return
        try:
            self._reader.send([routing_id, request_id, body])
        except zmq.ZMQError as error:
            # Gone (EHOSTUNREACH) or not reading (EAGAIN): its retry finds the reply cached.
            logger.debug("reply to %r not sent: %s", request_id, error)

    @staticmethod
    def _log(op: str, key: str | None, outcome: str, started: float) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("op=%s key=%s outcome=%s ms=%.1f", op, key or "-", outcome, elapsed_ms)
