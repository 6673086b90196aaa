"""Who sends an HTTP request (session cookie, bearer token, ``?token=``) and whether a browser
request may act with its cookie (Origin check against cross-site request forgery).

CSRF: the session cookie is SameSite=Strict, and a state-changing request that authenticates
with it must also show it comes from clusterd's own pages: an `Origin` header equal to
clusterd's own origin (or one of `Config.allowed_origins`), or, when the browser sent no Origin,
an `X-Requested-With` header, which a cross-site form cannot set. Token requests carry no
ambient credentials and need neither.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import hdrs, web

from elektraweb.cluster.principals import Principal
from elektraweb.cluster.store.credentials import Credentials

SESSION_COOKIE = "clusterd_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Authenticator:
    def __init__(self, credentials: Credentials, allowed_origins: Iterable[str] = ()) -> None:
        self._credentials = credentials
        self._allowed_origins = frozenset(origin.rstrip("/") for origin in allowed_origins)

    async def authenticate(self, request: web.BaseRequest) -> Principal | None:
        """The principal of `request`, or None. A presented token that is wrong makes the
        request unauthenticated even if a valid cookie comes along."""
        authorization = request.headers.get(hdrs.AUTHORIZATION)
        if authorization is not None:
            scheme, _, secret = authorization.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                return None
            return self._credentials.token_principal(secret.strip())
        query_token = request.query.get("token")
        if query_token is not None:
            return self._credentials.token_principal(query_token)
        session = request.cookies.get(SESSION_COOKIE)
        if session:
            return self._credentials.session(session)
        return None

    def origin_allowed(self, request: web.BaseRequest) -> bool:
        """False if the request carries an Origin that is neither clusterd's own nor allowed.
        Browsers always send Origin on WebSocket upgrades; the WebSocket transport checks it."""
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None:
            return True
        origin = origin.rstrip("/")
        return origin == f"{request.scheme}://{request.host}" or origin in self._allowed_origins

    def csrf_safe(self, request: web.BaseRequest, principal: Principal | None) -> bool:
        """True unless a cookie-authenticated, state-changing request lacks proof of origin."""
        if request.method in SAFE_METHODS:
            return True
        if principal is None or principal.via != "session":
            # Still refuse a foreign Origin: it cannot be a legitimate login from our pages.
            return self.origin_allowed(request)
        if hdrs.ORIGIN in request.headers:
            return self.origin_allowed(request)
        return "X-Requested-With" in request.headers
