"""`elektra-web fleet` as a process: its simulated instances, registered in a real clusterd
process and made one cluster, take a cluster write and converge like real elektrad."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from elektraweb.demo import processes
from support.processes import Api, Clusterd

COUNT = 20
KEY = "system:/fleet/port"


async def cluster_of_fleet(api: Api, instances: list[dict[str, str]]) -> tuple[int, list[int]]:
    """Register every instance and make one cluster of all; the cluster's and members' ids."""
    status, cluster = await api("POST", "/api/clusters", {"name": "fleet"})
    assert status == 201, cluster
    members = []
    for instance in instances:
        status, body = await api("POST", "/api/instances", {
            "name": instance["name"],
            "endpoint": instance["endpoint"],
            "public_key": instance["public_key"],
        })  # fmt: skip
        assert status == 201, body
        members.append(int(body["id"]))
        status, body = await api(
            "POST", f"/api/clusters/{cluster['id']}/instances", {"instance": body["id"]}
        )
        assert status == 201, body
    return int(cluster["id"]), members


async def until_in_sync(api: Api, cluster: int) -> dict[str, Any]:
    """The cluster's sync state once it is in sync (the test's timeout bounds the wait)."""
    while True:
        status, body = await api("GET", f"/api/clusters/{cluster}")
        assert status == 200, body
        if body["sync"]["state"] == "in-sync":
            return dict(body["sync"])
        await asyncio.sleep(0.1)


async def test_a_cluster_write_reaches_every_simulated_instance(tmp_path: Path) -> None:
    clusterd = Clusterd(tmp_path / "clusterd")
    out = tmp_path / "fleet.json"
    fleet = processes.fleet(
        count=COUNT, allow_key=clusterd.public_key, out=out, log_path=tmp_path / "fleet.log"
    )
    try:
        ready = await fleet.start()
        assert int(ready["count"]) == COUNT and ready["out"] == str(out)
        instances = json.loads(out.read_text())
        assert len({instance["public_key"] for instance in instances}) == COUNT
        await clusterd.start()
        cluster, members = await cluster_of_fleet(clusterd.api, instances)

        status, body = await clusterd.api("PUT", f"/api/clusters/{cluster}/kdb/{KEY}", "8080")
        assert status == 200, body
        sync = await asyncio.wait_for(until_in_sync(clusterd.api, cluster), 60)
        assert sorted(map(int, sync["members"])) == members
        for member in members:  # read back from each simulated instance itself
            status, body = await clusterd.api("GET", f"/api/instances/{member}/kdb/{KEY}")
            assert status == 200, body
            assert body["value"] == "8080", (member, body)
    finally:
        await clusterd.stop()
        assert await fleet.stop() == 0, (tmp_path / "fleet.log").read_text()
