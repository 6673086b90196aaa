"""Where an instance publishes its events: elektrad says so in `version`, the gateway tells it
in the instance's status, and a subscriber finds the events there (also when elektrad
publishes on every interface, at a port that is not its request port + 2)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.store.instances import Instance
from elektraweb.demo import processes
from elektraweb.wire import EventSubscriber, KeyPair
from elektraweb.wire.replies import OperationArgs
from support.processes import QUICK_LINK, free_port


@pytest.fixture
def clusterd_keys() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture
async def instance(tmp_path: Path, clusterd_keys: KeyPair) -> AsyncIterator[Instance]:
    """An elektrad taking requests on 127.0.0.1 and publishing on every interface, at a port
    of its own, registered as clusterd knows it: by its request endpoint only."""
    request_port = free_port(offsets=(7,))
    event_port = request_port + 7
    env = {name: value for name, value in os.environ.items() if not name.startswith("KDB")}
    env.update(KDB_ROOT=str(tmp_path / "kdb"), HOME=str(tmp_path))
    command = [
        sys.executable, "-m", "elektraweb.cli.elektrad",
        "--listen", f"tcp://127.0.0.1:{request_port}",
        "--events", f"tcp://*:{event_port}",
        "--state", str(tmp_path / "state"),
        f"--allow-key={clusterd_keys.public}",
    ]  # fmt: skip
    daemon = processes.Daemon(
        "elektrad",
        command,
        ready=processes.ELEKTRAD_READY,
        log_path=tmp_path / "elektrad.log",
        env=env,
    )
    public_key = (await daemon.start())["key"]
    yield Instance(1, "web-1", f"tcp://localhost:{request_port}", public_key)
    await daemon.stop()


async def test_the_status_names_the_event_endpoint_the_daemon_announces(
    instance: Instance, clusterd_keys: KeyPair
) -> None:
    gateway = WireGateway(clusterd_keys, options=QUICK_LINK)
    try:
        version = await gateway.identify(instance.endpoint, instance.public_key, timeout=5.0)
        event_port = version["events"]["port"]
        assert version["events"] == {"port": event_port}  # every interface: no host of its own
        assert event_port != int(instance.endpoint.rpartition(":")[2]) + 2

        await gateway.connect(instance)
        async with asyncio.timeout(15):
            while (events := gateway.status(instance)["events"]) is None:
                await asyncio.sleep(0.05)
        # The host is the one clusterd reaches the instance by.
        assert events == f"tcp://localhost:{event_port}"

        subscriber = EventSubscriber(
            events, server_key=instance.public_key, keypair=clusterd_keys, prefixes=["user:/"]
        )
        await subscriber.start()
        try:
            async with asyncio.timeout(15):
                # A joining subscriber misses what is published before it is connected.
                for attempt in range(1000):
                    probe: OperationArgs = {"key": "user:/probe", "value": str(attempt)}
                    await gateway.call(instance, "set", probe)
                    try:
                        async with asyncio.timeout(0.2):
                            event = await subscriber.receive()
                    except TimeoutError:
                        continue
                    assert event.key == "user:/probe"
                    break
        finally:
            await subscriber.close()
    finally:
        await gateway.close()
