"""The OpenAPI document describes exactly the routes the running server has, and every GET it
documents answers as documented."""

from __future__ import annotations

from typing import Any

from elektraweb.cluster.api.schema import problem
from elektraweb.cluster.http.server import Server

from ..conftest import Register
from ..fakes import Client


async def test_document_and_registered_routes_are_the_same(server: Server, admin: Client) -> None:
    document = (await admin.get("/api/openapi.json")).body
    assert document["openapi"] == "3.1.0"
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert server.app is not None
    registered = {
        (route.method, route.resource.canonical)
        for route in server.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/")
    }
    assert documented == registered
    operation_ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))


def _fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


async def test_every_documented_get_answers_as_documented(
    admin: Client, register: Register
) -> None:
    instance = await register("web-1", 40001)
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    await admin.put(f"/api/instances/{instance['id']}/kdb/user:/app/port", "8080")
    document = (await admin.get("/api/openapi.json")).body
    checked = 0
    for template, operations in document["paths"].items():
        if "get" not in operations:
            continue
        operation = operations["get"]
        prefix_id = str(cluster["id"] if template.startswith("/api/clusters") else instance["id"])
        path = _fill(
            template, {"id": prefix_id, "key": "user:/app", "regex": "app", "name": "admin"}
        )
        answer = await admin.get(path)
        responses: dict[str, Any] = operation["responses"]
        assert str(answer.status) in responses, (path, answer.status, answer.body)
        schema = responses[str(answer.status)]["content"]["application/json"]["schema"]
        assert problem(answer.body, schema, "answer") is None, (path, answer.body)
        checked += 1
    assert checked >= 15
