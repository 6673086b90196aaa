"""Several clusterd on one database (PostgreSQL, or a shared SQLite file alike): starting
together on an empty one, they make the first admin once; and what one writes, the others read."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from elektraweb.cluster.audit.log import AuditFilter
from elektraweb.cluster.config import Config
from elektraweb.cluster.http.server import Server
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.services import Services
from elektraweb.cluster.store.instances import InstanceFields
from elektraweb.kdb.key import Key
from elektraweb.wire import KeyPair
from support.inprocess import InProcessNetwork


def _replica(config: Config, name: str, location: Path | str, network: InProcessNetwork) -> Server:
    """A clusterd of its own (state dir, keypair) on the database at `location`."""
    url = location if isinstance(location, str) else f"sqlite:///{location}"
    return Server(
        replace(config, state_dir=config.state_dir / name, database_url=url),
        gateway=WireGateway(KeyPair.generate(), transport=network.transport),
    )


def _services(server: Server) -> Services:
    assert server.services is not None
    return server.services


async def test_replicas_starting_together_on_an_empty_database_make_one_admin(
    config: Config, database_location: Path | str, network: InProcessNetwork
) -> None:
    replicas = [_replica(config, name, database_location, network) for name in ("one", "two")]
    try:
        # Both find no users, then both hash a password (off the loop) and insert `admin`.
        await asyncio.gather(*(replica.start() for replica in replicas))
        one, two = (_services(replica) for replica in replicas)
        assert [user.name for user in two.users.users()] == ["admin"]
        made = [
            entry
            for entry in one.audit.entries(AuditFilter(user="clusterd"))
            if entry.action == "user.add"
        ]
        assert len(made) == 1
    finally:
        for replica in replicas:
            await replica.stop()


async def test_what_one_clusterd_writes_the_other_reads_at_once(
    config: Config, database_location: Path | str, network: InProcessNetwork
) -> None:
    """Nothing a clusterd caches hides another one's change: a cluster's desired state and
    members are read again once its version moved on."""
    one, two = (_replica(config, name, database_location, network) for name in ("one", "two"))
    await one.start()
    await two.start()
    try:
        first, second = _services(one), _services(two)
        cluster = first.registry.add_cluster("prod")
        first.cluster_keys.put(cluster.id, Key("system:/app/port", "8080"))
        assert second.cluster_keys.state(cluster.id)["system:/app/port"].value == "8080"
        before = second.registry.cluster_version(cluster.id)
        first.cluster_keys.put(cluster.id, Key("system:/app/port", "9090"))
        instance = first.registry.add_instance(
            InstanceFields("web", "tcp://127.0.0.1:40001", KeyPair.generate().public),
            cluster_id=cluster.id,
        )
        after = second.registry.cluster_version(cluster.id)
        assert before is not None and after is not None and after > before
        assert second.cluster_keys.state(cluster.id)["system:/app/port"].value == "9090"
        assert [member.id for member in second.registry.members(cluster.id)] == [instance.id]
    finally:
        await two.stop()
        await one.stop()
