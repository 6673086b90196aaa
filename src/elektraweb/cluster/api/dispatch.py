"""The one dispatcher behind both transports: REST (`app.py`) and ZWS 2.0 WebSocket requests.

It matches the route, checks authentication and role, checks the body against the route's
schema, runs the handler and turns every refusal into ``{"error": {"code", "message", ...}}``
with its status. Transports only translate their framing to `ApiRequest` and back.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from elektraweb.cluster.api import access as routes_access
from elektraweb.cluster.api import audit as routes_audit
from elektraweb.cluster.api import clusters as routes_clusters
from elektraweb.cluster.api import compare as routes_compare
from elektraweb.cluster.api import drafts as routes_drafts
from elektraweb.cluster.api import enrollment as routes_enrollment
from elektraweb.cluster.api import history as routes_history
from elektraweb.cluster.api import instances as routes_instances
from elektraweb.cluster.api import kdb as routes_kdb
from elektraweb.cluster.api import meta as routes_meta
from elektraweb.cluster.api import mounts as routes_mounts
from elektraweb.cluster.api import releases as routes_releases
from elektraweb.cluster.api.errors import ApiError, Forbidden, Unauthorized, from_store
from elektraweb.cluster.api.messages import ApiRequest, ApiResponse
from elektraweb.cluster.api.routing import Call, Route, Router
from elektraweb.cluster.api.schema import check
from elektraweb.cluster.http import json_input
from elektraweb.cluster.instances.gateway import GATEWAY_ERRORS, api_error
from elektraweb.cluster.principals import Principal, Role, role_allows
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.errors import StoreError

__all__ = ["ROUTES", "ApiRequest", "ApiResponse", "Dispatcher", "Principal", "Role"]

log = logging.getLogger(__name__)

ROUTES: tuple[Route, ...] = (
    *routes_meta.ROUTES,
    *routes_access.ROUTES,
    *routes_instances.ROUTES,
    *routes_enrollment.ROUTES,
    *routes_kdb.INSTANCE_ROUTES,
    *routes_mounts.ROUTES,
    *routes_clusters.ROUTES,
    *routes_kdb.CLUSTER_ROUTES,
    *routes_compare.ROUTES,
    *routes_audit.ROUTES,
    *routes_history.ROUTES,
    *routes_drafts.ROUTES,
    *routes_releases.ROUTES,
)
"""Every API route; the REST app registers these and the OpenAPI document describes them."""


class Dispatcher:
    def __init__(self, services: Services, routes: Sequence[Route] = ROUTES) -> None:
        self.services = services
        self.router = Router(routes)

    @property
    def routes(self) -> tuple[Route, ...]:
        return self.router.routes

    async def dispatch(self, request: ApiRequest) -> ApiResponse:
        """Answer one request; never raises for anything the request or a target did."""
        try:
            _refuse_unencodable(request)
            route, params = self.router.match(request.method, request.path)
            _authorize(route, request.principal)
            if route.body is not None:
                check(request.body, route.body)
            call = Call(request, route, params, self.services, self.routes)
            return await route.handler(call)
        except ApiError as error:
            return ApiResponse(error.status, error.body(), headers=error.headers)
        except GATEWAY_ERRORS as error:
            problem = api_error(error)
            return ApiResponse(problem.status, problem.body())
        except StoreError as error:
            problem = from_store(error)
            return ApiResponse(problem.status, problem.body())
        except Exception:
            log.exception("%s %s failed", request.method, request.path)
            return ApiResponse(
                500, {"error": {"code": "internal", "message": "clusterd failed; see its log"}}
            )


def _refuse_unencodable(request: ApiRequest) -> None:
    # Before routing: an error message or an audit entry must never carry such a string.
    json_input.refuse_lone_surrogates(request.method, "method")
    json_input.refuse_lone_surrogates(request.path, "path")
    json_input.refuse_lone_surrogates(request.query, "query")
    json_input.refuse_lone_surrogates(request.body, "body")


def _authorize(route: Route, principal: Principal | None) -> None:
    needed = route.role
    if needed is None:
        return
    if principal is None:
        raise Unauthorized(
            "authentication required: log in (session cookie) or send an API token"
            " (Authorization: Bearer)"
        )
    if not role_allows(principal.role, needed):
        raise Forbidden(
            f"{route.method} {route.template} needs role {needed};"
            f" {principal.user} has role {principal.role}",
            needed=needed,
        )
