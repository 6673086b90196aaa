"""webd's kdb* routes on one instance: what reaches the instance, what comes back, and how the
instance's refusals become HTTP statuses."""

from __future__ import annotations

from typing import Any

import pytest

from support.inprocess import InProcessElektrad, InProcessNetwork

from ..conftest import Register
from ..fakes import Client


@pytest.fixture
async def instance(register: Register, network: InProcessNetwork) -> tuple[str, InProcessElektrad]:
    """The URL prefix of a registered instance and its daemon, holding two keys."""
    body = await register("web-1", 40001)
    daemon = network["tcp://127.0.0.1:40001"]
    await daemon.kdb_set("user:/app/port", "8080", {"check/type": "long", "description": "port"})
    await daemon.kdb_set("user:/app/name", "web", {})
    return f"/api/instances/{body['id']}", daemon


async def test_get_answers_webds_shape_with_children(
    admin: Client, instance: tuple[str, InProcessElektrad]
) -> None:
    prefix, _ = instance
    answer = await admin.get(f"{prefix}/kdb/user:/app/port")
    assert answer.status == 200
    assert answer.body["exists"] is True
    assert answer.body["value"] == "8080"
    assert answer.body["meta"] == {"check/type": "long", "description": "port"}
    assert answer.body["path"] == "user:/app/port"

    tree = await admin.get(f"{prefix}/kdb/user:/app?preload=1")
    assert tree.body["ls"] == ["user:/app/name", "user:/app/port"]
    assert (await admin.get(f"{prefix}/kdb/user:/app?preload=10")).status == 400


async def test_set_takes_text_or_a_json_string(
    admin: Client, instance: tuple[str, InProcessElektrad]
) -> None:
    prefix, daemon = instance
    text = await admin.put(
        f"{prefix}/kdb/user:/app/name", data="a b", headers={"Content-Type": "text/plain"}
    )
    assert text.status == 200
    assert daemon.keys["user:/app/name"][0] == "a b"
    assert (await admin.put(f"{prefix}/kdb/user:/app/name", "c")).status == 200
    assert daemon.keys["user:/app/name"][0] == "c"
    empty = await admin.put(
        f"{prefix}/kdb/user:/app/empty", data="", headers={"Content-Type": "text/plain"}
    )
    assert empty.status == 200
    assert daemon.keys["user:/app/empty"][0] == ""
    not_a_string = await admin.put(f"{prefix}/kdb/user:/app/name", {"value": "x"})
    assert not_a_string.status == 400
    binary = await admin.put(
        f"{prefix}/kdb/user:/app/name", data=b"\x00", headers={"Content-Type": "image/png"}
    )
    assert binary.status == 415


async def test_key_names_are_canonicalised_and_invalid_ones_refused(
    admin: Client, instance: tuple[str, InProcessElektrad]
) -> None:
    prefix, daemon = instance
    assert (await admin.put(f"{prefix}/kdb/user:/app/list/%2310", "x")).status == 200
    assert "user:/app/list/#_10" in daemon.keys
    assert (await admin.put(f"{prefix}/kdb/user:/app/./x/../y", "v")).status == 200
    assert "user:/app/y" in daemon.keys

    invalid = await admin.put(f"{prefix}/kdb/nowhere:/x", "v")
    assert invalid.status == 400
    assert invalid.body["error"]["code"] == "invalid-name"
    assert "nowhere" in invalid.body["error"]["message"]


async def test_rm_mv_cp_meta_and_find(
    admin: Client, instance: tuple[str, InProcessElektrad]
) -> None:
    prefix, daemon = instance
    copied = await admin.post(f"{prefix}/kdbCp/user:/app", "user:/copy")
    assert copied.status == 200
    assert daemon.keys["user:/copy/port"] == daemon.keys["user:/app/port"]
    moved = await admin.post(
        f"{prefix}/kdbMv/user:/copy", data="user:/moved", headers={"Content-Type": "text/plain"}
    )
    assert moved.status == 200
    assert "user:/copy/port" not in daemon.keys
    assert "user:/moved/port" in daemon.keys

    meta = await admin.post(f"{prefix}/kdbMeta/user:/app/name", {"key": "order", "value": "1"})
    assert meta.status == 200
    assert daemon.keys["user:/app/name"][1] == {"order": "1"}
    bulk = await admin.post(
        f"{prefix}/kdbMetaBulk/user:/app/name",
        {"meta": [{"key": "a", "value": "x"}, {"key": "order", "value": None}]},
    )
    assert bulk.status == 200
    assert daemon.keys["user:/app/name"][1] == {"a": "x"}
    unmeta = await admin.delete(f"{prefix}/kdbMeta/user:/app/name", {"key": "a"})
    assert unmeta.status == 200
    assert daemon.keys["user:/app/name"][1] == {}

    found = await admin.get(f"{prefix}/kdbFind/mov.*port")
    assert found.body == {
        "keys": ["user:/moved/port"],
        "truncated": False,
        "budget_exceeded": False,
    }
    by_value = await admin.get(f"{prefix}/kdbFind/^web$?values=true")
    assert by_value.body["keys"] == ["user:/app/name", "user:/moved/name"]

    removed = await admin.delete(f"{prefix}/kdb/user:/moved")
    assert removed.body == {"removed": 2}
    assert not any(name.startswith("user:/moved") for name in daemon.keys)


@pytest.mark.parametrize(
    ("request_args", "status", "code"),
    [
        (("PUT", "/kdb/user:/app/port", "eighty"), 400, "validation"),
        (("DELETE", "/kdb/user:/nothing", None), 404, "not-found"),
        (("POST", "/kdbCp/user:/app/port", "user:/app/name"), 409, "conflict"),
        (("PUT", "/kdb/user:/app/port?expect=0000", "81"), 409, "conflict"),
        (("PUT", "/kdb/user:/app/new?expect=none", "1"), 200, None),
        (("PUT", "/kdb/user:/app/locked", "1"), 423, "locked"),
        (("GET", "/kdbFind/[", None), 400, "bad-request"),
    ],
)
async def test_instance_refusals_map_to_statuses(
    admin: Client,
    instance: tuple[str, InProcessElektrad],
    request_args: tuple[str, str, Any],
    status: int,
    code: str | None,
) -> None:
    prefix, daemon = instance
    await daemon.lock("user:/app/locked")
    method, path, body = request_args
    answer = await admin.request(method, prefix + path, body)
    assert answer.status == status, answer.body
    if code is not None:
        assert answer.body["error"]["code"] == code
        assert answer.body["error"]["instance"] == int(prefix.rsplit("/", 1)[1])


async def test_validation_errors_carry_elektras_code_and_the_key(
    admin: Client, instance: tuple[str, InProcessElektrad]
) -> None:
    prefix, _ = instance
    answer = await admin.put(f"{prefix}/kdb/user:/app/port", "eighty")
    error = answer.body["error"]
    assert error["elektra"] == "C03200"  # elektrad's type check: a semantic validation error
    assert error["key"] == "user:/app/port"
    assert "eighty" in error["message"]


async def test_unreachable_and_silent_instances(
    admin: Client, instance: tuple[str, InProcessElektrad]
) -> None:
    prefix, daemon = instance
    daemon.faults.silent = True
    timeout = await admin.get(f"{prefix}/kdb/user:/app")
    assert timeout.status == 504
    assert timeout.body["error"]["code"] == "timeout"
    daemon.faults.silent, daemon.faults.unreachable = False, True
    down = await admin.put(f"{prefix}/kdb/user:/app/port", "1")
    assert down.status == 502
    assert down.body["error"]["code"] == "unreachable"


async def test_another_instance_is_served_while_one_is_down(
    admin: Client, register: Register, network: InProcessNetwork
) -> None:
    down = await register("down", 40001)
    up = await register("up", 40002)
    network["tcp://127.0.0.1:40001"].faults.unreachable = True
    assert (await admin.get(f"/api/instances/{down['id']}/kdb/user:/")).status == 502
    assert (await admin.get(f"/api/instances/{up['id']}/kdb/user:/")).status == 200


async def test_unknown_instance_and_route(admin: Client) -> None:
    assert (await admin.get("/api/instances/99/kdb/user:/x")).status == 404
    assert (await admin.get("/api/instances/abc/kdb/user:/x")).status == 404
    unknown = await admin.get("/api/nothing")
    assert unknown.status == 404
    assert unknown.body["error"]["code"] == "not-found"
    wrong_method = await admin.request("PATCH", "/api/instances")
    assert wrong_method.status == 405
    assert wrong_method.body["error"]["code"] == "method-not-allowed"


async def test_version_of_an_instance(
    admin: Client, instance: tuple[str, InProcessElektrad]
) -> None:
    prefix, daemon = instance
    answer = await admin.get(f"{prefix}/version")
    assert answer.body["instance"] == daemon.public_key
    assert answer.body["protocol"] == 1


async def test_cluster_configuration_without_a_cluster_service_is_501(admin: Client) -> None:
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body
    answer = await admin.put(f"/api/clusters/{cluster['id']}/kdb/user:/app/port", "1")
    assert answer.status == 501
    assert (await admin.get("/api/clusters/99/kdb/user:/app")).status == 404
