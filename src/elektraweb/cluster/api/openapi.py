"""The OpenAPI 3.1 document of clusterd's API, generated from the route table."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from importlib import metadata

from elektraweb.cluster.api.routing import Route
from elektraweb.cluster.api.schema import STRING, Schema, obj
from elektraweb.cluster.http.auth import SESSION_COOKIE

API_VERSION = 1

ERROR: Schema = obj(
    {"error": obj({"code": STRING, "message": STRING}, extra=True)},
)

_STATUS_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    204: "Done, no content",
    400: "Bad request: malformed body, invalid key name, or a value the key's checks refuse",
    401: "Not authenticated: log in or send an API token",
    403: "The role may not do this, or the request failed the CSRF check",
    404: "No such instance, cluster, user, token or key",
    409: "Conflict: duplicate, already a member, or changed since read",
    413: "Request or answer too large",
    423: "The key is locked by the instance's cluster",
    429: "Too many failed logins: wait the Retry-After seconds",
    500: "The instance or clusterd failed",
    501: "Cluster configuration is not available in this clusterd",
    502: "The instance is unreachable",
    504: "The instance did not answer in time",
}


@functools.cache
def package_version() -> str:
    """The installed package's version; read once (it does not change while clusterd runs,
    and reading the package metadata takes longer than answering a request)."""
    try:
        return metadata.version("elektraweb")
    except metadata.PackageNotFoundError:
        return "0"


def _operation_id(route: Route) -> str:
    return re.sub(r"\W+", "_", f"{route.method} {route.template}").strip("_").lower()


def _parameters(route: Route) -> list[dict[str, object]]:
    parameters: list[dict[str, object]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            # Key names contain slashes; clients send them as they are (or percent-encoded).
            **({"description": "May contain `/`."} if name in ("key", "regex") else {}),
        }
        for name in route.parameters
    ]
    parameters += [
        {
            "name": param.name,
            "in": "query",
            "description": param.description,
            "schema": param.schema,
        }
        for param in route.query
    ]
    return parameters


def _responses(route: Route) -> dict[str, object]:
    success: dict[str, object] = {"description": _STATUS_DESCRIPTIONS.get(route.status, "OK")}
    if route.status != 204:
        success["content"] = {"application/json": {"schema": route.response or {}}}
    statuses = set(route.errors) | ({401, 403} if route.role is not None else set())
    if route.body is not None:
        statuses.add(400)
    responses: dict[str, object] = {str(route.status): success}
    for status in sorted(statuses):
        responses[str(status)] = {
            "description": _STATUS_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": ERROR}},
        }
    return responses


def _operation(route: Route) -> dict[str, object]:
    operation: dict[str, object] = {
        "operationId": _operation_id(route),
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": _parameters(route),
        "responses": _responses(route),
    }
    if route.role is None:
        operation["security"] = []
    else:
        operation["description"] = f"Needs role {route.role} or higher."
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {content: {"schema": route.body} for content in route.body_types},
        }
    return operation


def document(routes: Sequence[Route]) -> dict[str, object]:
    """The OpenAPI 3.1 document describing exactly `routes`."""
    paths: dict[str, dict[str, object]] = {}
    for route in routes:
        paths.setdefault(route.template, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "clusterd",
            "version": package_version(),
            "description": "Configuration of many hosts (libelektra's KDB), one instance or a"
            " whole cluster at a time. See docs/api.md.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "bearer": {"type": "http", "scheme": "bearer"},
                "queryToken": {"type": "apiKey", "in": "query", "name": "token"},
            },
            "schemas": {"Error": ERROR},
        },
        "security": [{"session": []}, {"bearer": []}, {"queryToken": []}],
    }
