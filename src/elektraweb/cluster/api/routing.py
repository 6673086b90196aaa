"""Routes: one declaration per API operation, matched by the dispatcher, registered with aiohttp
and described in the OpenAPI document. Paths use aiohttp's syntax (``{id}``, ``{key:.*}``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from elektraweb.cluster.api.errors import BadRequest, MethodNotAllowed, NotFound, Unauthorized
from elektraweb.cluster.api.messages import ApiRequest, ApiResponse
from elektraweb.cluster.api.schema import Schema
from elektraweb.cluster.principals import Principal, Role
from elektraweb.cluster.services import Services

Handler = Callable[["Call"], Awaitable[ApiResponse]]

_PARAMETER = re.compile(r"\{(\w+)(?::([^{}]+))?\}")


@dataclass(frozen=True)
class QueryParam:
    name: str
    description: str
    schema: Schema = field(default_factory=lambda: Schema(type="string"))


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    role: Role | None
    """Least role allowed; None: no authentication (only login)."""
    summary: str
    tag: str
    body: Schema | None = None
    body_types: tuple[str, ...] = ("application/json",)
    query: tuple[QueryParam, ...] = ()
    status: int = 200
    response: Schema | None = None
    errors: tuple[int, ...] = ()
    """Error statuses the operation answers besides 401/403 (implied by `role`)."""

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        regex, position = "", 0
        for match in _PARAMETER.finditer(self.path):
            regex += re.escape(self.path[position : match.start()])
            regex += f"(?P<{match[1]}>{match[2] or '[^/]+'})"
            position = match.end()
        return re.compile(regex + re.escape(self.path[position:]))

    @cached_property
    def template(self) -> str:
        """The path as an OpenAPI (and aiohttp canonical) template: ``{key:.*}`` → ``{key}``."""
        return _PARAMETER.sub(lambda match: "{" + match[1] + "}", self.path)

    @property
    def parameters(self) -> list[str]:
        return [match[1] for match in _PARAMETER.finditer(self.path)]


class Router:
    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = tuple(routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for `method` and `path` and its path parameters; 404 or 405 otherwise."""
        allowed: list[str] = []
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if route.method == method:
                return route, found.groupdict()
            allowed.append(route.method)
        if allowed:
            raise MethodNotAllowed(
                f"{method} is not allowed on {path}; allowed: {', '.join(allowed)}",
                allowed=allowed,
            )
        raise NotFound(f"no API route {path}")


@dataclass
class Call:
    """A request matched to its route, with what the handler needs to answer it."""

    request: ApiRequest
    route: Route
    params: dict[str, str]
    services: Services
    routes: Sequence[Route]

    @property
    def principal(self) -> Principal:
        if self.request.principal is None:
            raise Unauthorized("log in or send an API token")
        return self.request.principal

    @property
    def body(self) -> Any:
        """The request body, already checked against the route's schema."""
        return self.request.body

    def id_param(self, name: str) -> int:
        text = self.params[name]
        if not text.isdigit():
            raise NotFound(f"{name} {text!r} is not a numeric id")
        return int(text)

    def query_int(self, name: str, default: int, *, low: int, high: int) -> int:
        text = self.request.query.get(name)
        if text is None or text == "":
            return default
        try:
            number = int(text)
        except ValueError:
            raise BadRequest(f"query parameter {name}={text!r} is not a number") from None
        if not low <= number <= high:
            raise BadRequest(f"query parameter {name}={number} is not within {low}..{high}")
        return number

    def query_flag(self, name: str) -> bool:
        text = self.request.query.get(name, "").lower()
        if text in ("", "0", "false", "no"):
            return False
        if text in ("1", "true", "yes"):
            return True
        raise BadRequest(f"query parameter {name}={text!r} must be true or false")
