"""Routes: one declaration per API operation, matched by the dispatcher, registered with aiohttp
and described in the OpenAPI document. Paths use aiohttp's syntax (``{id}``, ``{key:.*}``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar, cast

from elektraweb.cluster.api.errors import BadRequest, MethodNotAllowed, NotFound, Unauthorized
from elektraweb.cluster.api.messages import ApiRequest, ApiResponse
from elektraweb.cluster.api.schema import Schema
from elektraweb.cluster.principals import Principal, Role
from elektraweb.cluster.services import Services
from elektraweb.wire.json_value import JSON, JSONObject

Handler = Callable[["Call"], Awaitable[ApiResponse]]
Shape = TypeVar("Shape")

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


def _first_segment(path: str) -> str:
    """The segment after `/api/` (`instances` of `/api/instances/1/kdb/a`)."""
    return path.split("/", 3)[2] if path.startswith("/api/") else ""


class Router:
    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = tuple(routes)
        # The routes a request may match, in order: those of its method and its first segment
        # (a literal in every route). Trying all ~80 patterns in turn cost a get ~25 matches.
        self._candidates: dict[tuple[str, str], tuple[Route, ...]] = {}
        for route in self.routes:
            segment = _first_segment(route.path)
            if "{" in segment:
                raise ValueError(f"route {route.path}: its first segment must be literal")
            key = (route.method, segment)
            self._candidates[key] = (*self._candidates.get(key, ()), route)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for `method` and `path` and its path parameters; 404 or 405 otherwise."""
        for route in self._candidates.get((method, _first_segment(path)), ()):
            found = route.pattern.fullmatch(path)
            if found is not None:
                return route, found.groupdict()
        allowed = [route.method for route in self.routes if route.pattern.fullmatch(path)]
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
    def body(self) -> JSON:
        """The request body, already checked against the route's schema."""
        return self.request.body

    # The schema already guarantees the shapes below; these accessors narrow the type for the
    # handler and, should a route's schema and its handler ever disagree, answer 400 naming
    # the field rather than fail with a 500.

    def body_object(self) -> JSONObject:
        """The body, which the route's schema makes a JSON object."""
        if not isinstance(self.body, Mapping):
            raise BadRequest("the request body must be a JSON object")
        return self.body

    def member(self, name: str, default: JSON = None) -> JSON:
        """Member `name` of the body object, or `default` when absent."""
        return self.body_object().get(name, default)

    def text_field(self, name: str, default: str | None = None) -> str:
        """String member `name`; required unless a `default` is given."""
        value = self.member(name, default)
        if not isinstance(value, str):
            raise BadRequest(f"body field {name!r} must be a string")
        return value

    def optional_text_field(self, name: str) -> str | None:
        value = self.member(name)
        if value is not None and not isinstance(value, str):
            raise BadRequest(f"body field {name!r} must be a string")
        return value

    def optional_int_field(self, name: str) -> int | None:
        value = self.member(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise BadRequest(f"body field {name!r} must be an integer")
        return value

    def int_field(self, name: str) -> int:
        value = self.optional_int_field(name)
        if value is None:
            raise BadRequest(f"body field {name!r} is required")
        return value

    def flag_field(self, name: str, default: bool) -> bool:
        value = self.member(name, default)
        if not isinstance(value, bool):
            raise BadRequest(f"body field {name!r} must be true or false")
        return value

    def body_text(self) -> str:
        """The body, which the route's schema makes a string (JSON or text/plain)."""
        if not isinstance(self.body, str):
            raise BadRequest("the request body must be a string")
        return self.body

    def checked_body(self, shape: type[Shape]) -> Shape:
        """The body as `shape`: the TypedDict spelling out the route's schema, for nested
        shapes the field accessors cannot narrow; the schema check has made it so."""
        return cast(Shape, self.body_object())

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
