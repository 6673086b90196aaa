"""What a key's specification means for the API: its cascading resolution (`kdbExplain`), a
critical key's reason, a cluster value checked against the members' specification before any
member is written, and the real count of keys below a key."""

from __future__ import annotations

from typing import Any

import pytest

from elektraweb.cluster.clusters.configuration import ConvergingClusterService
from elektraweb.cluster.services import ClusterServiceFactory
from support.inprocess import InProcessElektrad, InProcessNetwork

from ..conftest import Register
from ..fakes import Client

PORT_SPEC = {"check/type": "short", "check/range": "1-10000", "description": "listen port"}


@pytest.fixture
def cluster_service() -> ClusterServiceFactory:
    return ConvergingClusterService


@pytest.fixture
async def web1(register: Register, network: InProcessNetwork) -> tuple[int, InProcessElektrad]:
    """Instance web-1, whose spec types `/app/port` and marks `/app/secret` critical."""
    body = await register("web-1", 40001)
    daemon = network["tcp://127.0.0.1:40001"]
    await daemon.kdb_set("spec:/app/port", "", {**PORT_SPEC, "default": "80"})
    await daemon.kdb_set("spec:/app/secret", "", {"critical": "1"})
    await daemon.kdb_set("system:/app/port", "443", {})
    await daemon.kdb_set("user:/app/port", "8080", {})
    return body["id"], daemon


async def test_explain_shows_the_cascading_resolution(
    admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    instance, daemon = web1
    answer = await admin.get(f"/api/instances/{instance}/kdbExplain/system:/app/port")
    assert answer.status == 200, answer.body
    body = answer.body
    assert body["key"] == "/app/port"
    assert body["resolved"] == "user:/app/port"
    assert body["value"] == "8080"
    assert body["spec"]["key"] == "spec:/app/port"
    assert body["spec"]["meta"]["check/type"] == "short"
    assert body["steps"][0] == {"name": "spec:/app/port", "found": True, "stage": "spec"}
    winner = [step for step in body["steps"] if step["found"] and step["stage"] != "spec"]
    assert winner == [
        {"name": "user:/app/port", "found": True, "stage": "namespace", "value": "8080"}
    ]

    await daemon.kdb_set("user:/app/port", None)
    await daemon.kdb_set("system:/app/port", None)
    fallen = (await admin.get(f"/api/instances/{instance}/kdbExplain//app/port")).body
    assert fallen["resolved"] == "default:/app/port"
    assert fallen["value"] == "80"
    assert fallen["steps"][-1]["stage"] == "default"


async def test_a_critical_key_needs_a_reason_which_the_audit_keeps(
    admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    instance, daemon = web1
    url = f"/api/instances/{instance}/kdb/system:/app/secret"
    refused = await admin.put(url, "s3cret")
    assert refused.status == 400
    assert refused.body["error"]["code"] == "reason-required"
    assert refused.body["error"]["key"] == "system:/app/secret"
    assert "system:/app/secret" in refused.body["error"]["message"]
    assert "system:/app/secret" not in daemon.keys
    blank = await admin.put(f"{url}?reason=%20%20", "s3cret")
    assert blank.status == 400

    assert (await admin.put(f"{url}?reason=rotate%20after%20leak", "s3cret")).status == 200
    assert daemon.keys["system:/app/secret"][0] == "s3cret"
    entry = (await admin.get(f"/api/audit?instance={instance}&key=system:/app/secret")).body[0]
    assert entry["result"]["args"]["reason"] == "rotate after leak"
    removed = await admin.delete(url)
    assert removed.status == 400 and removed.body["error"]["code"] == "reason-required"
    # A subtree holding a critical key: the key below is named, and nothing is removed.
    subtree = await admin.delete(f"/api/instances/{instance}/kdb/system:/app")
    assert subtree.status == 400 and subtree.body["error"]["key"] == "system:/app/secret"
    assert daemon.keys["system:/app/port"][0] == "443"
    # A key the spec does not mark needs none.
    assert (await admin.put(f"/api/instances/{instance}/kdb/system:/app/port", "81")).status == 200


async def test_a_cluster_value_is_checked_against_the_members_spec_before_any_is_written(
    admin: Client,
    web1: tuple[int, InProcessElektrad],
    register: Register,
    network: InProcessNetwork,
) -> None:
    first, daemon = web1
    await register("web-2", 40002)
    second = network["tcp://127.0.0.1:40002"]
    cluster = (await admin.post("/api/clusters", {"name": "prod"})).body["id"]
    for member in (first, 2):
        joined = await admin.post(f"/api/clusters/{cluster}/instances", {"instance": member})
        assert joined.status == 201, joined.body

    # The preview meets the same refusal, as the cluster's own, and previews no member.
    previewed = await admin.put(
        f"/api/clusters/{cluster}/kdb/system:/app/port?preview=true", "70000"
    )
    assert previewed.status == 200, previewed.body
    [target] = previewed.body["targets"]
    assert target["cluster"] == cluster and target["changes"] == []
    assert target["refused"]["code"] == "validation"
    assert target["refused"]["key"] == "system:/app/port"
    assert target["refused"]["value"] == "70000"
    allowed = await admin.put(f"/api/clusters/{cluster}/kdb/system:/app/port?preview=true", "900")
    assert [t.get("instance") for t in allowed.body["targets"]] == [None, first, 2]
    assert all(t["refused"] is None for t in allowed.body["targets"]), allowed.body

    refused = await admin.put(f"/api/clusters/{cluster}/kdb/system:/app/port", "70000")
    assert refused.status == 400
    assert refused.body["error"]["key"] == "system:/app/port"
    assert refused.body["error"]["value"] == "70000"
    assert "70000" in refused.body["error"]["message"]
    assert daemon.keys["system:/app/port"][0] == "443"
    assert "system:/app/port" not in second.keys
    assert not (await admin.get(f"/api/clusters/{cluster}/kdb/system:/app/port")).body["exists"]

    explained = (await admin.get(f"/api/clusters/{cluster}/kdbExplain/system:/app/port")).body
    assert explained["spec"]["meta"]["check/range"] == "1-10000"
    assert explained["member"] == first

    assert (await admin.put(f"/api/clusters/{cluster}/kdb/system:/app/port", "900")).status == 200
    assert daemon.keys["system:/app/port"][0] == "900"
    assert second.keys["system:/app/port"][0] == "900"


async def test_a_node_reports_its_real_count_without_listing_every_name(
    admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    instance, daemon = web1
    many = 10_001  # beyond the 10000 names an `ls` holds at most
    values = {f"user:/big/many/k{index:05}": "x" for index in range(many)}
    await daemon.kdb_set_many({**values, "user:/big/two/a": "a", "user:/big/two/b": "b"})

    url = f"/api/instances/{instance}/kdb/user:/big"
    full = (await admin.get(url)).body
    assert full["count"] == many + 2 and len(full["ls"]) == 10_000 and full["ls_truncated"]
    node: dict[str, Any] = (await admin.get(f"{url}?preload=1&ls=0")).body
    assert node["count"] == many + 2 and node["ls"] == [] and node["ls_truncated"] is True
    assert [child["count"] for child in node["children"]] == [many, 2]
    assert all(child["ls"] == [] for child in node["children"])


async def test_a_write_too_large_for_the_audit_log_is_audited_by_its_digest(
    admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    instance, daemon = web1
    # Over the row limit (4 x 64 KiB) in all, though no value is over the value limit.
    keys = [{"name": f"user:/big/k{index:04}", "value": "v" * 200} for index in range(2000)]
    written = await admin.put(f"/api/instances/{instance}/kdbAll/user:/big", {"keys": keys})
    assert written.status == 200, written.body
    assert daemon.keys["user:/big/k1999"][0] == "v" * 200
    entry = (await admin.get(f"/api/audit?instance={instance}&key=user:/big")).body[0]
    assert entry["pending"] is False and entry["result"]["outcome"] == "applied"
    assert set(entry["result"]["args"]) == {"size", "sha256"}


@pytest.fixture
async def prod(admin: Client, web1: tuple[int, InProcessElektrad]) -> int:
    """The id of cluster `prod`, with web-1 as its one member."""
    cluster: int = (await admin.post("/api/clusters", {"name": "prod"})).body["id"]
    joined = await admin.post(f"/api/clusters/{cluster}/instances", {"instance": web1[0]})
    assert joined.status == 201, joined.body
    return cluster


async def test_a_cluster_write_of_a_subtree_needs_a_reason_for_any_critical_key_in_it(
    admin: Client, web1: tuple[int, InProcessElektrad], prod: int
) -> None:
    daemon, cluster = web1[1], prod
    prefix = f"/api/clusters/{cluster}"
    secret = "system:/app/secret"
    assert (await admin.put(f"{prefix}/kdb/{secret}?reason=first", "s3cret")).status == 200
    assert (await admin.put(f"{prefix}/kdb/system:/app/port", "900")).status == 200

    # The write's own key is not critical, a key below it is: each write names that key
    # and changes nothing, on the cluster or its member.
    refusals = [
        await admin.delete(f"{prefix}/kdb/system:/app"),
        await admin.post(f"{prefix}/kdbMv/system:/app", "system:/old"),
        await admin.post(f"{prefix}/kdbImport/system:/app?strategy=replace&format=ini", "a = 1\n"),
        await admin.put(f"{prefix}/kdbAll/system:/app", {"keys": []}),
    ]
    for refused in refusals:
        assert refused.status == 400, refused.body
        assert refused.body["error"]["code"] == "reason-required", refused.body
        assert refused.body["error"]["key"] == secret
    # A key the write would create is looked up in the specification.
    created = await admin.post(f"{prefix}/kdbCp/system:/app/port", "system:/app/secret/x")
    assert created.status == 200, created.body  # spec:/app/secret describes secret only
    copied = await admin.post(f"{prefix}/kdbCp/system:/app", "system:/copy/app")
    assert copied.status == 200, copied.body  # its specification describes /copy/app nothing
    assert (await admin.get(f"{prefix}/kdb/{secret}")).body["value"] == "s3cret"
    assert daemon.keys[secret][0] == "s3cret"
    audited = (await admin.get(f"/api/audit?cluster={cluster}&key=system:/app")).body
    assert {entry["action"] for entry in audited} == {"set", "cp"}  # no refused write

    removed = await admin.delete(f"{prefix}/kdb/system:/app?reason=retire%20the%20app")
    assert removed.status == 200, removed.body
    assert secret not in daemon.keys
    entry = (await admin.get(f"/api/audit?cluster={cluster}&key=system:/app")).body[0]
    assert entry["action"] == "rm" and entry["result"]["args"]["reason"] == "retire the app"


async def test_an_instance_preview_of_a_critical_key_takes_the_reason_as_the_write_does(
    admin: Client, web1: tuple[int, InProcessElektrad]
) -> None:
    instance, daemon = web1
    url = f"/api/instances/{instance}/kdb/system:/app/secret"
    # Without a reason the preview shows the refusal the write answers, word for word.
    unexplained = await admin.put(f"{url}?preview=true", "s3cret")
    assert unexplained.status == 200, unexplained.body
    [target] = unexplained.body["targets"]
    refused = await admin.put(url, "s3cret")
    assert refused.status == 400, refused.body
    assert target == {"instance": instance, "changes": [], "refused": refused.body["error"]}

    # With one, the preview shows the change the write then makes.
    previewed = await admin.put(f"{url}?preview=true&reason=rotate", "s3cret")
    assert previewed.status == 200, previewed.body
    [target] = previewed.body["targets"]
    assert target["refused"] is None, target
    assert [(c["key"], c["before"], c["after"]) for c in target["changes"]] == [
        ("system:/app/secret", None, "s3cret")
    ]
    assert "system:/app/secret" not in daemon.keys
    assert (await admin.put(f"{url}?reason=rotate", "s3cret")).status == 200
    assert daemon.keys["system:/app/secret"][0] == "s3cret"
    subtree = f"/api/instances/{instance}/kdb/system:/app"
    removal = await admin.delete(f"{subtree}?preview=true&reason=retire")
    [target] = removal.body["targets"]
    assert target["refused"] is None, target
    assert {c["key"] for c in target["changes"]} == {"system:/app/port", "system:/app/secret"}

    # A reason the write refuses, the preview refuses alike.
    too_long = "x" * 501
    for answer in (
        await admin.put(f"{url}?preview=true&reason={too_long}", "n3w"),
        await admin.put(f"{url}?reason={too_long}", "n3w"),
    ):
        assert answer.status == 400, answer.body
        assert answer.body["error"]["field"] == "reason", answer.body
    assert daemon.keys["system:/app/secret"][0] == "s3cret"


async def test_a_cluster_preview_of_a_critical_key_is_accepted_as_the_write_with_its_reason(
    admin: Client, web1: tuple[int, InProcessElektrad], prod: int
) -> None:
    url = f"/api/clusters/{prod}/kdb/system:/app/secret"
    member, daemon = web1
    previewed = await admin.put(f"{url}?preview=true&reason=rotate", "s3cret")
    assert previewed.status == 200, previewed.body
    desired, previewed_member = previewed.body["targets"]
    assert (desired["cluster"], previewed_member["instance"]) == (prod, member)
    for target in (desired, previewed_member):
        assert target["refused"] is None, target
        assert [(c["key"], c["after"]) for c in target["changes"]] == [
            ("system:/app/secret", "s3cret")
        ]
    assert "system:/app/secret" not in daemon.keys
    too_long = await admin.put(f"{url}?preview=true&reason={'x' * 501}", "s3cret")
    assert too_long.status == 400 and too_long.body["error"]["field"] == "reason", too_long.body
    assert (await admin.put(f"{url}?reason=rotate", "s3cret")).status == 200
    assert daemon.keys["system:/app/secret"][0] == "s3cret"
