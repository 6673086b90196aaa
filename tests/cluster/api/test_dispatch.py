"""The dispatcher alone, as the WebSocket transport uses it: the same rules as REST."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from elektraweb.cluster.api.dispatch import Dispatcher
from elektraweb.cluster.api.messages import ApiRequest, ApiResponse
from elektraweb.cluster.api.routing import Call, Route
from elektraweb.cluster.api.schema import ANY, obj
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.principals import Principal


def sent(response: ApiResponse) -> Any:
    """The body as a transport sends it."""
    return json.loads(json.dumps(response.body))


ADMIN = Principal("admin", "admin", "token")
VIEWER = Principal("viewer", "viewer", "token")


def test_targets_are_decoded_like_http_paths() -> None:
    request = ApiRequest.from_target(
        "get", "/api/instances/3/kdb/user:%2Fapp%2F%23_10?preload=2&x=", None, VIEWER
    )
    assert request.method == "GET"
    assert request.path == "/api/instances/3/kdb/user:/app/#_10"
    assert request.query == {"preload": "2", "x": ""}


async def test_roles_authentication_and_bodies_are_checked_for_every_transport(
    server: Server,
) -> None:
    assert server.services is not None
    dispatcher = Dispatcher(server.services)
    anonymous = await dispatcher.dispatch(ApiRequest("GET", "/api/instances", None, None))
    assert anonymous.status == 401

    refused = await dispatcher.dispatch(ApiRequest("POST", "/api/clusters", {"name": "c"}, VIEWER))
    assert refused.status == 403
    assert sent(refused)["error"]["needed"] == "admin"

    malformed = await dispatcher.dispatch(ApiRequest("POST", "/api/clusters", {"nme": "c"}, ADMIN))
    assert malformed.status == 400
    assert "'name'" in sent(malformed)["error"]["message"]

    created = await dispatcher.dispatch(ApiRequest("POST", "/api/clusters", {"name": "c"}, ADMIN))
    assert created.status == 201
    listed = await dispatcher.dispatch(ApiRequest("GET", "/api/clusters", None, VIEWER))
    assert listed.body == [created.body]

    wrong = await dispatcher.dispatch(ApiRequest("PATCH", "/api/clusters", None, ADMIN))
    assert wrong.status == 405
    assert set(sent(wrong)["error"]["allowed"]) == {"GET", "POST"}


async def test_a_handler_bug_is_a_500_without_details(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(call: Call) -> ApiResponse:
        raise RuntimeError("secret detail")

    route = Route("GET", "/api/broken", broken, "viewer", "broken", "test")
    assert server.services is not None
    dispatcher = Dispatcher(server.services, [route])
    with caplog.at_level(logging.ERROR):
        answer = await dispatcher.dispatch(ApiRequest("GET", "/api/broken", None, VIEWER))
    assert answer.status == 500
    assert "secret detail" not in str(answer.body)
    assert "secret detail" in caplog.text  # for the operator


async def test_a_body_its_handler_cannot_read_is_a_400_naming_the_field(server: Server) -> None:
    """A route whose schema is looser than its handler expects answers 400 naming the field
    the handler needed, not a 500."""

    async def greet(call: Call) -> ApiResponse:
        return ApiResponse(200, {"hello": call.text_field("name")})

    route = Route(
        "POST", "/api/greet", greet, "viewer", "greet", "test", body=obj({}, {"name": ANY})
    )
    assert server.services is not None
    dispatcher = Dispatcher(server.services, [route])
    greeted = await dispatcher.dispatch(ApiRequest("POST", "/api/greet", {"name": "ann"}, VIEWER))
    assert sent(greeted) == {"hello": "ann"}
    for body in ({"name": 3}, {}):
        refused = await dispatcher.dispatch(ApiRequest("POST", "/api/greet", body, VIEWER))
        assert refused.status == 400
        assert "'name'" in sent(refused)["error"]["message"]
