"""The OpenAPI document describes exactly the routes the running server has, and every GET it
documents answers as documented."""

from __future__ import annotations

import re
from typing import Any

from elektraweb.cluster.api.schema import problem

from ..conftest import ClientFactory, Register
from ..fakes import Client


async def test_every_documented_operation_is_routed_and_nothing_else(
    admin: Client, clients: ClientFactory
) -> None:
    """The REST app hands every /api/ path to the dispatcher: each documented operation
    reaches its route (unauthenticated, an operation that needs a role answers 401, not
    404 or 405), and an undocumented method or path is refused as such."""
    anonymous = await clients()
    document = (await admin.get("/api/openapi.json")).body
    assert document["openapi"] == "3.1.0"
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            answer = await anonymous.request(method.upper(), _PARAMETER.sub("1", template))
            if operation.get("security") != []:
                assert answer.status == 401, (method, template, answer.body)
            assert answer.status not in (404, 405), (method, template, answer.body)
        undocumented = next(m for m in ("PATCH", "PUT", "DELETE") if m.lower() not in operations)
        answer = await anonymous.request(undocumented, _PARAMETER.sub("1", template))
        assert answer.status == 405, (undocumented, template, answer.body)
        assert answer.body["error"]["code"] == "method-not-allowed"
    missing = await anonymous.get("/api/no/such/route")
    assert missing.status == 404 and missing.body["error"]["code"] == "not-found"
    operation_ids = [op["operationId"] for ops in document["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))


_PARAMETER = re.compile(r"\{\w+\}")


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
