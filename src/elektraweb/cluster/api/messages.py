"""The transport-neutral request and response of clusterd's API.

REST and the ZWS 2.0 WebSocket both turn what they receive into an `ApiRequest`, hand it to
the one `Dispatcher` and write the `ApiResponse` back in their own framing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from elektraweb.cluster.principals import Principal
from elektraweb.wire.json_value import JSON, Encodable


@dataclass
class ApiRequest:
    """One API call. `path` is the decoded REST path including `/api`, e.g.
    ``/api/instances/3/kdb/user:/app/port``; `body` is the parsed JSON (or the text of a
    text/plain body, or None); `principal` is None only for unauthenticated callers."""

    method: str
    path: str
    body: JSON
    principal: Principal | None
    query: dict[str, str] = field(default_factory=dict)
    remote: str | None = None
    """The client's address, as the transport saw it (a reverse proxy's, behind one)."""

    @classmethod
    def from_target(
        cls, method: str, target: str, body: JSON, principal: Principal | None
    ) -> ApiRequest:
        """Build a request from a URL target as written in HTTP: a percent-encoded path with an
        optional query (``/api/instances/3/kdb/user:%2Fapp%23_10?preload=1``). The WebSocket
        transport receives its paths in this form."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return cls(method.upper(), unquote(parts.path), body, principal, query)


@dataclass
class ApiResponse:
    """Status and JSON-able body; errors carry ``{"error": {"code", "message", ...}}``."""

    status: int
    body: Encodable
    session_token: str | None = None
    """A new session the transport must set as cookie (login); REST only."""
    end_session: bool = False
    """The transport must clear the session cookie (logout)."""
    headers: dict[str, str] = field(default_factory=dict)
    """HTTP headers for REST, e.g. Retry-After."""
