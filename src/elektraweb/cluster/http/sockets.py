"""The browser link: `/zmq` (ROUTER, API requests) and `/zmq/events` (PUB, live events).

Both speak ZWS 2.0 (see `zws`) over aiohttp WebSockets. At the HTTP upgrade the Origin must be
clusterd's own or an allowed one (else 403) and the caller must authenticate (else 401). The
credentials of the upgrade are checked again for every request and whenever any user, session
or token changes: a connection whose principal is gone or has changed (logout, revoked token,
new role, deleted user, expired session) is closed with 1008. After the upgrade:

- `/zmq` takes messages `[envelope..., JSON request]` and answers `[envelope..., JSON reply]`
  (`zws_requests`).
- `/zmq/events` takes subscribe/unsubscribe messages and sends `[topic, JSON event]` for every
  event of the `EventHub` whose topic starts with a subscribed prefix (`zws_events`).

A peer that breaks the protocol loses its connection (close code and reason say why); every
other connection carries on. docs/websocket.md is the user-facing description.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection

from aiohttp import WSCloseCode, web

from elektraweb.cluster.api.errors import ApiError, BadRequest, Forbidden, Unauthorized
from elektraweb.cluster.events.hub import EventHub
from elektraweb.cluster.http.rest import AUTHENTICATOR, DISPATCHER, PRINCIPAL
from elektraweb.cluster.http.zws import MAX_MESSAGE_BYTES, SUBPROTOCOL, ZwsProtocolError
from elektraweb.cluster.http.zws_connection import CLOSE_SECONDS, ZwsConnection
from elektraweb.cluster.http.zws_events import (
    MAX_SUBSCRIPTION_BYTES,
    follow_subscriptions,
    forward,
)
from elektraweb.cluster.http.zws_requests import Authenticate, SupportsDispatch, ZwsRequests
from elektraweb.cluster.principals import Principal
from elektraweb.cluster.services import SERVICES, Extension

log = logging.getLogger(__name__)

ROUTER_PATH = "/zmq"
EVENTS_PATH = "/zmq/events"
EVENTS_PATH_ONE_SEGMENT = "/zmq-events"
"""The events endpoint again, for libzmq's `ws://` transport: libzmq (4.3.4) keeps only the
last segment of an address's path, so `ws://host/zmq/events` asks for `/events`."""

HEARTBEAT_SECONDS = 30.0
"""WebSocket ping interval; a peer that misses the pong is disconnected."""
RECHECK_SECONDS = 5.0
"""Open connections' credentials are checked at least this often, without any change
announced: sessions expire, and another program may change the database."""

OriginAllowed = Callable[[web.Request], bool]
"""False when the request's Origin header names a foreign site (no Origin is allowed)."""


class ZwsEndpoints:
    """The two WebSocket endpoints and the connections they hold open."""

    def __init__(
        self,
        *,
        dispatcher: SupportsDispatch,
        authenticate: Authenticate,
        origin_allowed: OriginAllowed,
        hub: EventHub,
    ) -> None:
        self._authenticate = authenticate
        self._origin_allowed = origin_allowed
        self._hub = hub
        self._requests = ZwsRequests(dispatcher, authenticate, self._principal_changed)
        self._open: set[ZwsConnection] = set()
        self._credentials_changed = asyncio.Event()

    async def router(self, request: web.Request) -> web.StreamResponse:
        """`/zmq`: answer each request message with a reply carrying the same envelope."""
        principal = await self._admit(request)
        connection = await self._accept(request, principal, MAX_MESSAGE_BYTES)
        await self._serve(connection, self._requests.serve(connection))
        return connection.ws

    async def events(self, request: web.Request) -> web.StreamResponse:
        """`/zmq/events`: follow the peer's subscriptions and forward matching events."""
        principal = await self._admit(request)
        with self._hub.subscribe() as subscription:
            connection = await self._accept(request, principal, MAX_SUBSCRIPTION_BYTES)
            connection.spawn(forward(connection, subscription))
            # Ending the subscription lets the forwarder finish on its own rather than be
            # cancelled in the middle of sending an event.
            following = follow_subscriptions(connection, subscription)
            await self._serve(connection, following, subscription.close, CLOSE_SECONDS)
        return connection.ws

    async def _serve(
        self,
        connection: ZwsConnection,
        serving: Awaitable[None],
        stopped: Callable[[], None] = lambda: None,
        timeout: float | None = None,
    ) -> None:
        """Await `serving` (the handler reading the connection's messages) and end the
        connection with it: closed as the peer's protocol violation asks, forgotten (so a
        close waits no longer), `stopped` called, its tasks given `timeout` to end."""
        try:
            await serving
        except ZwsProtocolError as error:
            await self._refuse_peer(connection, error)
        finally:
            self._forget(connection)
            stopped()
            await connection.end_tasks(timeout)

    def credentials_changed(self) -> None:
        """Some user, session or token changed: check every open connection's credentials.
        Synchronous, so the database may call it from inside the statement that changed it."""
        self._credentials_changed.set()

    async def following_credentials(self, app: web.Application) -> AsyncIterator[None]:
        """An aiohttp cleanup context: while the app runs, close every connection whose
        credentials no longer give the principal it was opened with."""
        follower = asyncio.create_task(self._follow_credentials())
        yield
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)

    async def _follow_credentials(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(RECHECK_SECONDS):
                    await self._credentials_changed.wait()
            self._credentials_changed.clear()
            try:
                await self._recheck()
            except Exception:
                # Keep following: the next change or the next period checks again.
                log.exception("zws: checking the open connections' credentials failed")

    async def _recheck(self) -> None:
        checks = [
            (connection, await self._authenticate(connection.request))
            for connection in list(self._open)
        ]
        for connection, current in checks:
            if current != connection.principal:
                self._principal_changed(connection, current)

    def _end_for(self, connection: ZwsConnection, current: Principal | None) -> None:
        """Close a connection whose principal is now `current` (None: credentials gone)."""
        principal = connection.principal
        if current is None:
            reason = "session ended or credentials revoked; log in again"
        else:
            reason = f"role changed from {principal.role} to {current.role}; reconnect"
        path = connection.request.path
        log.info("zws %s: closing connection of %s: %s", path, principal.user, reason)
        self._open.discard(connection)
        error = ZwsProtocolError(WSCloseCode.POLICY_VIOLATION, reason)
        connection.ask_to_close(error.close_code, error.close_reason)

    def _principal_changed(self, connection: ZwsConnection, current: Principal | None) -> None:
        """End the connection for its principal's change, unless it is closing already."""
        if connection in self._open:
            self._end_for(connection, current)

    async def disconnect(self, matches: Callable[[Principal], bool], reason: str) -> int:
        """Close every connection whose principal matches, at once (changes of credentials
        close the affected connections by themselves).

        Returns how many were closed; they end with close code 1008 and `reason`.
        """
        error = ZwsProtocolError(WSCloseCode.POLICY_VIOLATION, reason)
        chosen = [c for c in self._open if matches(c.principal)]
        await _closed(chosen, error.close_code, error.close_reason)
        return len(chosen)

    async def close_all(self, app: web.Application | None = None) -> None:
        """Close every connection with 1001 (going away); an `on_shutdown` handler."""
        await _closed(list(self._open), WSCloseCode.GOING_AWAY, b"server shutting down")

    def _forget(self, connection: ZwsConnection) -> None:
        """The handler has stopped reading: its WebSocket is closed."""
        self._open.discard(connection)
        connection.ended.set()

    async def _admit(self, request: web.Request) -> Principal:
        # Origin first: a foreign page learns nothing, not even whether its cookie is valid.
        if not self._origin_allowed(request):
            origin = request.headers.get("Origin")
            log.info("zws refused %s: Origin %r not allowed", request.path, origin)
            raise _refusal(web.HTTPForbidden, Forbidden(f"Origin {origin!r} is not allowed"))
        principal = await self._authenticate(request)
        if principal is None:
            log.info("zws refused %s: not authenticated", request.path)
            raise _refusal(
                web.HTTPUnauthorized,
                Unauthorized("log in, or pass an API token as Bearer or ?token="),
            )
        request[PRINCIPAL] = principal  # for the access log line of the upgrade
        return principal

    async def _accept(
        self, request: web.Request, principal: Principal, max_message_bytes: int
    ) -> ZwsConnection:
        ws = web.WebSocketResponse(
            protocols=(SUBPROTOCOL,),
            heartbeat=HEARTBEAT_SECONDS,
            # aiohttp refuses an oversized frame from its header, before reading it, and
            # closes with 1009 itself; +1 for the flag byte, +1 because its bound is exclusive.
            max_msg_size=max_message_bytes + 2,
            # Small JSON messages gain little from deflate; without it no zip bomb either.
            compress=False,
        )
        ready = ws.can_prepare(request)
        if not ready.ok:
            raise _refusal(web.HTTPBadRequest, BadRequest(f"{request.path} expects a WebSocket"))
        if ready.protocol != SUBPROTOCOL:
            raise _refusal(
                web.HTTPBadRequest,
                BadRequest(f"the client must offer the WebSocket subprotocol {SUBPROTOCOL}"),
            )
        await ws.prepare(request)
        connection = ZwsConnection(ws, request, principal)
        self._open.add(connection)
        log.debug("zws %s connected: %s", request.path, principal.user)
        # Our routing id goes first, as ZWS 2.0 asks; clusterd has none, so it is empty.
        await connection.send([b""])
        return connection

    async def _refuse_peer(self, connection: ZwsConnection, error: ZwsProtocolError) -> None:
        log.warning(
            "zws %s: closing connection of %s (%d): %s",
            connection.request.path,
            connection.principal.user,
            error.close_code,
            error.reason,
        )
        await connection.close(error.close_code, error.close_reason)


ZWS_ENDPOINTS = web.AppKey("zws_endpoints", ZwsEndpoints)
"""Where `zws_extension` leaves the endpoints, e.g. for `disconnect` on logout."""


def add_zws_routes(
    app: web.Application,
    *,
    dispatcher: SupportsDispatch,
    authenticate: Authenticate,
    origin_allowed: OriginAllowed,
    hub: EventHub,
) -> ZwsEndpoints:
    """Mount `/zmq` and `/zmq/events` (also as `/zmq-events`) on `app`; their connections
    close on app shutdown."""
    endpoints = ZwsEndpoints(
        dispatcher=dispatcher, authenticate=authenticate, origin_allowed=origin_allowed, hub=hub
    )
    app.router.add_get(ROUTER_PATH, endpoints.router)
    app.router.add_get(EVENTS_PATH, endpoints.events)
    app.router.add_get(EVENTS_PATH_ONE_SEGMENT, endpoints.events)
    app.on_shutdown.append(endpoints.close_all)
    app.cleanup_ctx.append(endpoints.following_credentials)
    return endpoints


def zws_extension(hub: EventHub) -> Extension:
    """The browser link as a clusterd extension, on the app's dispatcher and authenticator."""

    def extend(app: web.Application) -> None:
        authenticator = app[AUTHENTICATOR]
        app[ZWS_ENDPOINTS] = add_zws_routes(
            app,
            dispatcher=app[DISPATCHER],
            authenticate=authenticator.authenticate,
            origin_allowed=authenticator.origin_allowed,
            hub=hub,
        )
        app[SERVICES].credentials.on_change(app[ZWS_ENDPOINTS].credentials_changed)

    return extend


async def _closed(connections: Collection[ZwsConnection], code: int, reason: bytes) -> None:
    """Have the connections' handlers close them, and wait until they have."""
    for connection in connections:
        connection.ask_to_close(code, reason)
    await asyncio.gather(*(connection.ended.wait() for connection in connections))


def _refusal(kind: type[web.HTTPException], error: ApiError) -> web.HTTPException:
    return kind(text=json.dumps(error.body()), content_type="application/json")
