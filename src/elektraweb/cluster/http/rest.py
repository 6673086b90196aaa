"""The aiohttp application: REST as a thin adapter over the dispatcher, plus the web client.

Other transports plug in as extensions: a callable that receives the application before it
starts and finds what it needs under the typed keys `DISPATCHER`, `AUTHENTICATOR`, `SERVICES`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiohttp import web

from elektraweb.cluster.api.dispatch import Dispatcher
from elektraweb.cluster.api.errors import (
    ApiError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
    from_store,
)
from elektraweb.cluster.api.messages import ApiRequest, ApiResponse
from elektraweb.cluster.http import json_input
from elektraweb.cluster.http.auth import SESSION_COOKIE, Authenticator
from elektraweb.cluster.http.connections import guard_of
from elektraweb.cluster.principals import Principal
from elektraweb.cluster.services import SERVICES, Extension, Services
from elektraweb.cluster.store.errors import StoreError
from elektraweb.wire.json_value import JSON

DISPATCHER = web.AppKey("dispatcher", Dispatcher)
AUTHENTICATOR = web.AppKey("authenticator", Authenticator)
PRINCIPAL = web.RequestKey("principal", Principal)
"""Where the REST adapter (and the WebSocket transport) leave the request's principal for the
access log."""

API_PREFIX = "/api/"

_Middleware = Callable[[web.Request], Awaitable[web.StreamResponse]]

access_log = logging.getLogger("elektraweb.cluster.access")


_BODY_TYPES = ("application/json", "text/plain")


async def _read_body(request: web.Request) -> JSON:
    content_type = request.content_type
    if content_type in _BODY_TYPES:
        json_input.check_charset(request.charset)
        data = await request.read()
        if content_type == "text/plain":
            return json_input.decode_utf8(data, "body")
        return json_input.loads(data, "body") if data.strip() else None
    raise UnsupportedMediaType(
        f"Content-Type {content_type} is not supported; send application/json or text/plain"
    )


def _write(request: web.Request, response: ApiResponse, session_seconds: int) -> web.Response:
    if response.status == 204:
        written = web.Response(status=204)
    else:
        written = web.json_response(response.body, status=response.status)
    if response.headers:
        written.headers.update(response.headers)
    if response.session_token is None and not response.end_session:
        return written
    cookie: dict[str, Any] = {
        "path": "/",
        "httponly": True,
        "samesite": "Strict",
        "secure": request.secure,
    }
    if response.session_token is not None:
        written.set_cookie(
            SESSION_COOKIE, response.session_token, max_age=session_seconds, **cookie
        )
    else:
        written.del_cookie(SESSION_COOKIE, **cookie)
    return written


class RestAdapter:
    """One aiohttp handler for every API route: request in, dispatcher, status and JSON out."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        auth: Authenticator,
        session_seconds: int,
        body_timeout: float,
    ) -> None:
        self._dispatcher = dispatcher
        self._auth = auth
        self._session_seconds = session_seconds
        self._body_timeout = body_timeout

    async def handle(self, request: web.Request) -> web.StreamResponse:
        principal = await self._auth.authenticate(request)
        if principal is not None:
            request[PRINCIPAL] = principal
        if not self._auth.csrf_safe(request, principal):
            raise Forbidden(
                "cross-site request refused: a cookie-authenticated write needs an Origin of"
                " this server or an X-Requested-With header",
                code="csrf",
            )
        try:
            if request.body_exists or request.content_type in _BODY_TYPES:
                async with asyncio.timeout(self._body_timeout):
                    body = await _read_body(request)
            else:  # nothing to wait for (most gets): no deadline to set
                body = None
        except TimeoutError:
            # The rest of the body would never come: answer, and do not keep the connection.
            refused = RequestTimeout(f"request body not received within {self._body_timeout:g} s")
            written = web.json_response(refused.body(), status=refused.status)
            written.force_close()
            return written
        api_request = ApiRequest(
            request.method,
            request.path,
            body,
            principal,
            dict(request.query),
            request.remote,
        )
        response = await self._dispatcher.dispatch(api_request)
        return _write(request, response, self._session_seconds)


def _principal_name(request: web.Request) -> str:
    principal = request.get(PRINCIPAL)
    return principal.user if principal is not None else "-"


def _is_api_path(path: str) -> bool:
    """The API's and the sockets' paths (`/api/...`, `/zmq...`): never the web client's."""
    return path == "/api" or path.startswith(("/api/", "/zmq"))


def _refusal(request: web.Request, error: Exception) -> web.Response | None:
    """The API's JSON answer to `error` raised by a handler, or None to let aiohttp answer it
    (an exception of no refusal, or aiohttp's own refusal of a path outside the API)."""
    problem: ApiError
    if isinstance(error, ApiError):
        problem = error
    elif isinstance(error, StoreError):  # authenticating, before the dispatcher took the request
        problem = from_store(error)
    elif isinstance(error, web.HTTPException):
        if not _is_api_path(request.path) or error.status < 400:
            return None
        if error.status == 413:
            problem = PayloadTooLarge(
                f"request body is larger than {request.app[SERVICES].config.max_body_bytes} bytes"
            )
        else:
            problem = ApiError(error.reason, status=error.status, code="http-error")
    else:
        return None
    return web.json_response(problem.body(), status=problem.status)


@web.middleware
async def serve_request(request: web.Request, handler: _Middleware) -> web.StreamResponse:
    """Every request, around its handler: the connection's head deadline stopped while it is
    handled (`connections`); API and socket paths answered with the API's JSON error shape,
    also when aiohttp itself refuses; one INFO line: user, method, path (never the query: it
    may hold a token), status and duration. One middleware, not three: each layer costs every
    request a coroutine (docs/benchmarks.md, REST against etcd)."""
    started = time.perf_counter()
    guard = guard_of(request)
    if guard is not None:
        guard.request_started()
    status = 500
    try:
        if _is_api_path(request.path) and isinstance(
            request.match_info.route.resource, web.StaticResource
        ):
            # The web client's files are served at "/", so they would answer unknown API paths.
            refused = NotFound(f"no API route {request.path}")
            response: web.StreamResponse = web.json_response(refused.body(), status=refused.status)
        else:
            try:
                response = await handler(request)
            except (ApiError, StoreError, web.HTTPException) as error:
                answer = _refusal(request, error)
                if answer is None:
                    status = error.status if isinstance(error, web.HTTPException) else status
                    raise
                response = answer
        status = response.status
        return response
    finally:
        access_log.info(
            "%s %s %s %d %.1fms",
            _principal_name(request),
            request.method,
            request.path,
            status,
            (time.perf_counter() - started) * 1000,
        )
        if guard is not None:
            guard.request_finished()


def _add_web_client(app: web.Application, services: Services) -> None:
    root = services.config.web_root
    index = root / "index.html"
    if not index.is_file():
        return

    async def serve_index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(index)

    app.router.add_get("/", serve_index)
    app.router.add_static("/", root)


def create_app(services: Services, extensions: Iterable[Extension] = ()) -> web.Application:
    """The clusterd application: API routes, then extensions (e.g. the WebSocket transport),
    then the web client's static files (registered last: they match every other path)."""
    app = web.Application(
        middlewares=[serve_request],
        client_max_size=services.config.max_body_bytes,
    )
    dispatcher = Dispatcher(services)
    auth = Authenticator(services.credentials, services.config.allowed_origins)
    app[SERVICES] = services
    app[DISPATCHER] = dispatcher
    app[AUTHENTICATOR] = auth
    adapter = RestAdapter(
        dispatcher,
        auth,
        services.config.session_seconds,
        services.config.connections.body_timeout,
    )
    # One aiohttp route for the whole API: the dispatcher matches routes (and answers 404 and
    # 405) itself, and aiohttp trying each of ~70 path patterns in turn cost a fifth of
    # clusterd's CPU per request (docs/benchmarks.md, REST against etcd).
    app.router.add_route("*", f"{API_PREFIX}{{path:.*}}", adapter.handle)
    for extend in extensions:
        extend(app)
    _add_web_client(app, services)
    return app
