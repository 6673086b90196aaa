"""`GET /api/compare` between two real (in-process) instances: only in a, only in b, different
in value or metadata; bad sides and keys are refused naming the parameter."""

from __future__ import annotations

from typing import Any

from elektraweb.cluster.api.dispatch import ROUTES
from elektraweb.cluster.api.openapi import document
from support.inprocess import InProcessNetwork

from ..conftest import Register
from ..fakes import Client


async def test_compare_sorts_keys_into_only_a_only_b_and_different(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    a, b = (await register("web-1", 40001))["id"], (await register("web-2", 40002))["id"]
    one, two = network["tcp://127.0.0.1:40001"], network["tcp://127.0.0.1:40002"]
    await one.kdb_set("spec:/app/port", "", {"check/type": "short"})
    for daemon in (one, two):
        await daemon.kdb_set("system:/app/name", "web", {})
    await one.kdb_set("system:/app/port", "80", {})
    await two.kdb_set("system:/app/port", "80", {"description": "the port"})
    await one.kdb_set("system:/app/only/here", "1", {})
    await two.kdb_set("system:/app/only/there", "2", {})

    answer = await admin.get(f"/api/compare?a=instance:{a}&b=instance:{b}&key=system:/app")
    assert answer.status == 200, answer.body
    body = answer.body
    assert body["a"] == {"kind": "instance", "id": a}
    assert body["only_a"] == [{"name": "system:/app/only/here", "a": {"value": "1", "meta": {}}}]
    assert body["only_b"] == [{"name": "system:/app/only/there", "b": {"value": "2", "meta": {}}}]
    # The spec's check/type on web-1 is no difference of the key's own.
    assert body["different"] == [
        {
            "name": "system:/app/port",
            "a": {"value": "80", "meta": {}},
            "b": {"value": "80", "meta": {"description": "the port"}},
        }
    ]
    assert body["same"] == 1


async def test_compare_refuses_bad_sides_and_keys(admin: Client, register: Register) -> None:
    a = (await register("web-1", 40001))["id"]
    bad_side = await admin.get(f"/api/compare?a=instance:{a}&b=host:2&key=system:/")
    assert bad_side.status == 400 and bad_side.body["error"]["field"] == "b"
    cascading = await admin.get(f"/api/compare?a=instance:{a}&b=instance:{a}&key=/app")
    assert cascading.status == 400 and cascading.body["error"]["field"] == "key"
    missing = await admin.get(f"/api/compare?a=instance:{a}&b=instance:99&key=system:/")
    assert missing.status == 404


def test_openapi_describes_compare_explain_and_the_reason() -> None:
    paths: Any = document(ROUTES)["paths"]
    compare = paths["/api/compare"]["get"]
    assert [p["name"] for p in compare["parameters"]] == ["a", "b", "key"]
    assert compare["description"] == "Needs role viewer or higher."
    assert (
        "steps"
        in paths["/api/clusters/{id}/kdbExplain/{key}"]["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]["properties"]
    )
    put = paths["/api/instances/{id}/kdb/{key}"]["put"]
    assert "reason" in [p["name"] for p in put["parameters"]]
    assert put["description"] == "Needs role editor or higher."
