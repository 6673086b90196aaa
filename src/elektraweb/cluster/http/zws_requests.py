"""`/zmq`'s requests: each message `[envelope..., JSON request]` is dispatched as clusterd's REST
requests are and answered with `[envelope..., JSON reply]`.

The envelope is echoed untouched: a request id from a DEALER, plus the empty delimiter a REQ
puts in front. Requests run concurrently, so replies come in any order; at most
`MAX_REQUESTS_IN_FLIGHT` per connection, beyond which it stops reading. A connection that is
closing stops waiting for a free slot and drops the replies still to come (`ZwsConnection`):
the requests themselves run to their end, as a REST request whose client went away does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiohttp import WSCloseCode, web

from elektraweb.cluster.api.errors import ApiError, BadRequest
from elektraweb.cluster.api.messages import ApiRequest, ApiResponse
from elektraweb.cluster.http import json_input
from elektraweb.cluster.http.zws import MessageAssembler, ZwsProtocolError
from elektraweb.cluster.http.zws_connection import ZwsConnection
from elektraweb.cluster.principals import Principal
from elektraweb.wire.json_value import JSON, Encodable

log = logging.getLogger(__name__)

MAX_REQUESTS_IN_FLIGHT = 64
"""Per connection; beyond it the connection stops reading until a reply has gone out."""

_REQUEST_MEMBERS = frozenset({"method", "path", "body", "query"})


class SupportsDispatch(Protocol):
    """What `/zmq` needs from clusterd's dispatcher: the one entry point REST uses too."""

    async def dispatch(self, request: ApiRequest) -> ApiResponse: ...


Authenticate = Callable[[web.Request], Awaitable[Principal | None]]
PrincipalChanged = Callable[[ZwsConnection, Principal | None], None]
"""Called when a request finds the connection's principal changed (None: credentials gone)."""


class ZwsRequests:
    """Answers the requests of `/zmq` connections."""

    def __init__(
        self,
        dispatcher: SupportsDispatch,
        authenticate: Authenticate,
        principal_changed: PrincipalChanged,
    ) -> None:
        self._dispatcher = dispatcher
        self._authenticate = authenticate
        self._principal_changed = principal_changed

    async def serve(self, connection: ZwsConnection) -> None:
        """Answer the connection's requests, each as one of its tasks, until it ends; raises
        ZwsProtocolError when the peer breaks the protocol."""
        send_lock = asyncio.Lock()
        slots = asyncio.Semaphore(MAX_REQUESTS_IN_FLIGHT)
        async for message in connection.messages(MessageAssembler()):
            envelope, fields = _split_request(message)
            if not await connection.unless_closing(slots.acquire()):
                continue  # closing: `messages` makes the close; this request is dropped
            answer = connection.spawn(self._answer(connection, send_lock, envelope, fields))
            answer.add_done_callback(lambda _: slots.release())

    async def _answer(
        self,
        connection: ZwsConnection,
        send_lock: asyncio.Lock,
        envelope: Sequence[bytes],
        fields: dict[str, JSON],
    ) -> None:
        request, principal = connection.request, connection.principal
        started = time.perf_counter()
        method, path = fields.get("method"), fields.get("path")
        # Authorised against the current state, not the one of the upgrade.
        current = await self._authenticate(request)
        try:
            api_request = _api_request(fields, current)
            api_request.remote = request.remote
            method, path = api_request.method, api_request.path
            response = await self._dispatcher.dispatch(api_request)
            status, reply = response.status, _reply(response.status, response.body)
        except ApiError as error:
            status, reply = error.status, _reply(error.status, error.body())
        except Exception:
            log.exception("zws request %s %s by %s failed", method, path, principal.user)
            failure = ApiError("internal error; the server log has the details")
            status, reply = failure.status, _reply(failure.status, failure.body())
        log.info(
            "zws %s %s %s %d %.1fms",
            principal.user,
            method,
            path,
            status,
            (time.perf_counter() - started) * 1000,
        )
        async with send_lock:
            await connection.send([*envelope, reply])
        if current != principal:
            self._principal_changed(connection, current)


def _split_request(message: list[bytes]) -> tuple[list[bytes], dict[str, JSON]]:
    """`[envelope..., JSON]` → envelope and the decoded request object."""
    if len(message) < 2:
        raise ZwsProtocolError(
            WSCloseCode.PROTOCOL_ERROR, "a request is [request-id, JSON request]; got one frame"
        )
    try:
        fields = json_input.loads(message[-1], "request")
    except BadRequest as error:
        raise ZwsProtocolError(WSCloseCode.INVALID_TEXT, error.message) from error
    if not isinstance(fields, dict):
        raise ZwsProtocolError(
            WSCloseCode.INVALID_TEXT,
            f"request must be a JSON object, got {type(fields).__name__}",
        )
    return message[:-1], fields


def _api_request(fields: dict[str, JSON], principal: Principal | None) -> ApiRequest:
    """Check the request object's members; each mistake is a 400 that names the member."""
    json_input.refuse_lone_surrogates(fields, "request")
    unknown = sorted(set(fields) - _REQUEST_MEMBERS)
    if unknown:
        raise BadRequest(f"unknown request member(s) {', '.join(map(repr, unknown))}")
    method, path = fields.get("method"), fields.get("path")
    if not isinstance(method, str) or not method:
        raise BadRequest(f"request member 'method' must be a non-empty string, got {method!r}")
    if not isinstance(path, str) or not path.startswith("/"):
        raise BadRequest(f"request member 'path' must be a string starting with /, got {path!r}")
    query = fields.get("query") or {}
    if not isinstance(query, dict) or not all(isinstance(v, str) for v in query.values()):
        raise BadRequest(f"request member 'query' must map names to strings, got {query!r}")
    api_request = ApiRequest.from_target(method, path, fields.get("body"), principal)
    api_request.query.update(query)
    return api_request


def _reply(status: int, body: Encodable) -> bytes:
    reply = {"status": status, "body": body}
    return json.dumps(reply, separators=(",", ":"), ensure_ascii=False).encode()
