"""The transport-neutral request and response of clusterd's API, and who makes the request.

REST and the ZWS 2.0 WebSocket both turn what they receive into an `ApiRequest`, hand it to
the one `Dispatcher` and write the `ApiResponse` back in their own framing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, unquote, urlsplit

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def role_allows(role: Role, needed: Role) -> bool:
    """True if `role` may do what `needed` may (viewer < editor < admin)."""
    return _RANK[role] >= _RANK[needed]


def lesser_role(a: Role, b: Role) -> Role:
    return a if _RANK[a] <= _RANK[b] else b


@dataclass(frozen=True)
class Principal:
    """An authenticated user and the role this request runs with."""

    user: str
    role: Role
    via: Literal["session", "token"]
    credential_id: int | None = None
    """Row id of the session or API token that authenticated the request (for logout)."""


@dataclass
class ApiRequest:
    """One API call. `path` is the decoded REST path including `/api`, e.g.
    ``/api/instances/3/kdb/user:/app/port``; `body` is the parsed JSON (or the text of a
    text/plain body, or None); `principal` is None only for unauthenticated callers."""

    method: str
    path: str
    body: Any
    principal: Principal | None
    query: dict[str, str] = field(default_factory=dict)
    remote: str | None = None
    """The client's address, as the transport saw it (a reverse proxy's, behind one)."""

    @classmethod
    def from_target(
        cls, method: str, target: str, body: Any, principal: Principal | None
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
    body: Any
    session_token: str | None = None
    """A new session the transport must set as cookie (login); REST only."""
    end_session: bool = False
    """The transport must clear the session cookie (logout)."""
    headers: dict[str, str] = field(default_factory=dict)
    """HTTP headers for REST, e.g. Retry-After."""
