"""Routes about the API itself: its version and its OpenAPI document."""

from __future__ import annotations

from elektraweb.cluster.api import openapi
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import INTEGER, STRING, obj

TAG = "api"


async def version(call: Call) -> ApiResponse:
    return ApiResponse(200, {"api": openapi.API_VERSION, "clusterd": openapi.package_version()})


async def openapi_document(call: Call) -> ApiResponse:
    return ApiResponse(200, openapi.document(call.routes))


ROUTES = (
    Route(
        "GET",
        "/api/version",
        version,
        "viewer",
        "The API version (webd's `api` member)",
        TAG,
        response=obj({"api": INTEGER, "clusterd": STRING}, extra=True),
    ),
    Route(
        "GET",
        "/api/openapi.json",
        openapi_document,
        "viewer",
        "This API as OpenAPI 3.1",
        TAG,
        response=obj({"openapi": STRING, "paths": obj({}, extra=True)}, extra=True),
    ),
)
