"""Three real clusterd replicas (conftest: a state dir each, one keypair, one PostgreSQL database)
and real elektrad processes: whichever replica holds an instance's lease follows it, a
subscriber on any replica hears its changes, and when the holder is SIGKILLed another replica
takes the instance over while the subscriber keeps hearing them; no acknowledged cluster write
is lost when a replica is SIGKILLed mid-write."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import psycopg

from elektraweb.cluster.replicas.leases import DEFAULT_SHARDS
from support.processes import Api, Clusterd, Elektrad
from support.zws import next_event, subscribe_events

REPLICAS = ("a", "b", "c")
SETTLE_DEADLINE = 20.0
PROBES = 20
WRITES_PER_REPLICA = 30
KILL_AFTER_ACKNOWLEDGED = 12
CONVERGE_DEADLINE = 60.0
"""Changes made on the host until one is heard: a new subscription misses what the daemon
publishes before it is connected (ZeroMQ's slow joiner)."""


async def holder(dsn: str, instance_id: int) -> str:
    """The replica holding the instance's lease now, as the table says ("" for none)."""
    async with await psycopg.AsyncConnection.connect(dsn) as connection:
        row = await (
            await connection.execute(
                "SELECT holder FROM replica_leases WHERE shard = %s"
                " AND expires > clock_timestamp()",
                (instance_id % DEFAULT_SHARDS,),
            )
        ).fetchone()
    return "" if row is None else str(row[0])


async def leases_settled(dsn: str, replicas: set[str]) -> None:
    """Wait until every shard is held by a live lease of one of `replicas`, each holding some."""
    async with asyncio.timeout(SETTLE_DEADLINE):
        while True:
            async with await psycopg.AsyncConnection.connect(dsn) as connection:
                rows = await (
                    await connection.execute(
                        "SELECT holder FROM replica_leases WHERE expires > clock_timestamp()"
                    )
                ).fetchall()
            holders = [row[0] for row in rows]
            if len(holders) == DEFAULT_SHARDS and set(holders) == replicas:
                return
            await asyncio.sleep(0.25)


async def heard_from_host(
    host: Elektrad, ws: aiohttp.ClientWebSocketResponse, instance_id: int, round_: str
) -> dict[str, Any]:
    """Change a key on the host behind every daemon's back until the subscriber hears it."""
    key = "system:/app/probe"
    for attempt in range(PROBES):
        value = f"{round_}-{attempt}"
        await host.kdb("set", key, value)
        try:
            while True:
                topic, event = await next_event(ws, timeout=1.0)
                if topic == f"instance/{instance_id}/{key}" and event["new"]["value"] == value:
                    return dict(event)
        except TimeoutError:
            continue
    raise AssertionError(f"no change of {key} reached the subscriber ({round_})")


def following(replica: Clusterd) -> bool:
    """Whether the replica follows instance 1 now, as its log tells."""
    lines = [line for line in replica.log().splitlines() if "following instance 1's" in line]
    return bool(lines) and "no longer" not in lines[-1]


async def test_the_lease_holder_follows_and_a_survivor_takes_over_after_sigkill(
    tmp_path: Path, postgres_dsn: str, replicas: dict[str, Clusterd]
) -> None:
    host = Elektrad(tmp_path / "web", replicas["a"].public_key, "web")
    await host.start()
    try:
        await leases_settled(postgres_dsn, set(REPLICAS))
        # The first instance of a fresh registry gets id 1: add it through a replica that does
        # not hold shard 1, so the holder learns of it from another replica's events.
        first_holder = await holder(postgres_dsn, 1)
        assert first_holder in REPLICAS
        adding, listening = (name for name in REPLICAS if name != first_holder)
        status, instance = await replicas[adding].api(
            "POST",
            "/api/instances",
            {"name": "web", "endpoint": host.endpoint, "public_key": host.public_key},
        )
        assert (status, instance["id"]) == (201, 1), instance
        ws = await subscribe_events(replicas[listening].api.session, "instance/1/")
        try:
            event = await heard_from_host(host, ws, 1, "before")
            assert event["origin"] == "external"
            assert [following(replica) for replica in replicas.values()] == [
                name == first_holder for name in REPLICAS
            ]

            await replicas[first_holder].kill()
            await leases_settled(postgres_dsn, set(REPLICAS) - {first_holder})
            next_holder = await holder(postgres_dsn, 1)
            assert next_holder in set(REPLICAS) - {first_holder}

            event = await heard_from_host(host, ws, 1, "after")
            assert (event["instance"], event["origin"]) == (1, "external")
            assert [following(replicas[name]) for name in REPLICAS if name != first_holder] == [
                name == next_holder for name in REPLICAS if name != first_holder
            ]
        finally:
            await ws.close()
    finally:
        await host.stop()


async def write_cluster_keys(
    replica: Clusterd,
    cluster_id: int,
    name: str,
    acknowledged: dict[str, str],
    progress: asyncio.Event,
) -> None:
    """Write keys one after the other through `replica` (a client of its own, which the kill
    does not close first) until it fails; only a 200 counts as acknowledged."""
    api = Api(replica.url)
    try:
        status, _ = await api(
            "POST", "/api/login", {"user": "admin", "password": replica.admin_password}
        )
        assert status == 200
        for number in range(WRITES_PER_REPLICA):
            key, value = f"system:/app/{name}{number}", f"{name}-{number}"
            try:
                status, body = await api(
                    "PUT", f"/api/clusters/{cluster_id}/kdb/{quote(key)}", value
                )
            except aiohttp.ClientError:
                return  # the replica died under this write: it was never acknowledged
            assert status == 200, body
            assert [member["status"] for member in body["members"].values()] == ["applied"] * 2
            acknowledged[key] = value
            progress.set()
    finally:
        await api.close()


async def host_keys(host: Elektrad) -> dict[str, str]:
    exported = json.loads(await host.kdb("export", "system:/app", "json") or "{}")
    return {f"system:/app/{name}": value for name, value in exported.items()}


async def test_no_acknowledged_cluster_write_is_lost_when_a_replica_is_killed_mid_write(
    tmp_path: Path, postgres_dsn: str, replicas: dict[str, Clusterd]
) -> None:
    hosts = [Elektrad(tmp_path / name, replicas["a"].public_key, name) for name in ("web1", "web2")]
    await asyncio.gather(*(host.start() for host in hosts))
    try:
        await leases_settled(postgres_dsn, set(REPLICAS))
        api = replicas["c"].api
        status, cluster = await api("POST", "/api/clusters", {"name": "shop"})
        assert status == 201, cluster
        for host in hosts:
            status, instance = await api(
                "POST",
                "/api/instances",
                {"name": host.name, "endpoint": host.endpoint, "public_key": host.public_key},
            )
            assert status == 201, instance
            status, joined = await api(
                "POST", f"/api/clusters/{cluster['id']}/instances", {"instance": instance["id"]}
            )
            assert status == 201, joined
        victim = await holder(postgres_dsn, 1)  # the replica following the first member
        assert victim in REPLICAS

        acknowledged: dict[str, str] = {}
        progress = asyncio.Event()
        writers = [
            asyncio.create_task(
                write_cluster_keys(replica, cluster["id"], name, acknowledged, progress)
            )
            for name, replica in replicas.items()
        ]
        async with asyncio.timeout(CONVERGE_DEADLINE):
            while len(acknowledged) < KILL_AFTER_ACKNOWLEDGED:
                assert not any(writer.done() for writer in writers)
                progress.clear()
                waiting = asyncio.create_task(progress.wait())
                await asyncio.wait([waiting, *writers], return_when=asyncio.FIRST_COMPLETED)
                waiting.cancel()
        await replicas[victim].kill()
        await asyncio.gather(*writers)
        survivors = [name for name in REPLICAS if name != victim]
        # Every survivor wrote all its keys; the victim's writes stopped at the kill.
        written = {
            name: sum(key.startswith(f"system:/app/{name}") for key in acknowledged)
            for name in REPLICAS
        }
        assert written == {
            name: written[victim] if name == victim else WRITES_PER_REPLICA for name in REPLICAS
        }
        assert written[victim] < WRITES_PER_REPLICA

        for name in survivors:  # the desired state, read through any replica, has them all
            for key, value in acknowledged.items():
                status, found = await replicas[name].api(
                    "GET", f"/api/clusters/{cluster['id']}/kdb/{quote(key)}"
                )
                assert (status, found["value"]) == (200, value), key
        async with asyncio.timeout(CONVERGE_DEADLINE):  # and every member has them
            for host in hosts:
                while not acknowledged.items() <= (await host_keys(host)).items():
                    await asyncio.sleep(0.5)
    finally:
        await asyncio.gather(*(host.stop() for host in hosts))
