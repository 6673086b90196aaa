"""The real gateway against real elektrad processes (and a silent CURVE peer) on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from elektraweb.cluster.instances.gateway import (
    InstanceError,
    InstanceTimeout,
    InstanceUnreachable,
    LinkStatusJSON,
)
from elektraweb.cluster.instances.wire_gateway import WireGateway
from elektraweb.cluster.store.instances import Instance
from elektraweb.wire import KeyPair
from support.processes import QUICK_LINK, Elektrad, free_port_pair


def registered(elektrad: Elektrad, instance_id: int = 1) -> Instance:
    """The registry's record of `elektrad`, as clusterd hands it to the gateway."""
    return Instance(instance_id, "web-1", elektrad.endpoint, elektrad.public_key)


@pytest.fixture
def clusterd_keys() -> KeyPair:
    return KeyPair.generate()


@pytest.fixture
async def elektrad(tmp_path: Path, clusterd_keys: KeyPair) -> AsyncIterator[Elektrad]:
    daemon = Elektrad(tmp_path, clusterd_keys.public)
    await daemon.start()
    yield daemon
    await daemon.stop()


@pytest.fixture
async def gateway(clusterd_keys: KeyPair) -> AsyncIterator[WireGateway]:
    gateway = WireGateway(clusterd_keys, options=QUICK_LINK)
    yield gateway
    await gateway.close()


async def status_until(
    gateway: WireGateway,
    instance: Instance,
    condition: Callable[[LinkStatusJSON], object],
    timeout: float = 15.0,
) -> LinkStatusJSON:
    """Wait (on the gateway's status notifications) until the instance's status satisfies
    `condition`, and return that status."""
    changed = asyncio.Event()
    gateway.add_listener(lambda changed_instance, status: changed.set())
    async with asyncio.timeout(timeout):
        while True:
            changed.clear()
            status = gateway.status(instance)
            if condition(status):
                return status
            await changed.wait()


async def test_identify_proves_the_daemon_holds_the_key(
    gateway: WireGateway, elektrad: Elektrad
) -> None:
    version = await gateway.identify(elektrad.endpoint, elektrad.public_key, timeout=5.0)
    assert version["instance"] == elektrad.public_key
    assert version["protocol"] == 1
    assert version["hostname"] == socket.gethostname()


async def test_identify_with_a_wrong_key_is_refused(
    gateway: WireGateway, elektrad: Elektrad
) -> None:
    with pytest.raises(InstanceUnreachable, match="handshake"):
        await gateway.identify(elektrad.endpoint, KeyPair.generate().public, timeout=1.0)


async def test_a_clusterd_key_the_daemon_does_not_allow_gets_nowhere(elektrad: Elektrad) -> None:
    stranger = WireGateway(KeyPair.generate(), options=QUICK_LINK)
    try:
        with pytest.raises(InstanceUnreachable, match="refused our CURVE key"):
            await stranger.identify(elektrad.endpoint, elektrad.public_key, timeout=1.0)
    finally:
        await stranger.close()


async def test_calls_reach_the_instance_and_its_errors_keep_their_code(
    gateway: WireGateway, elektrad: Elektrad
) -> None:
    instance = registered(elektrad)
    written = await gateway.call(instance, "set", {"key": "user:/app/port", "value": "8080"})
    assert written["key"] == "user:/app/port"
    found = await gateway.call(instance, "get", {"key": "user:/app/port"})
    assert (found["exists"], found["value"]) == (True, "8080")
    with pytest.raises(InstanceError) as refused:
        await gateway.call(instance, "rm", {"key": "user:/app/missing"})
    assert (refused.value.code, refused.value.status) == ("not-found", 404)
    assert "user:/app/missing" in refused.value.message


async def test_nobody_listening_is_unreachable_then_fails_at_once(gateway: WireGateway) -> None:
    nowhere = Instance(7, "gone", f"tcp://127.0.0.1:{free_port_pair()}", KeyPair.generate().public)
    with pytest.raises(InstanceUnreachable, match="cannot connect"):
        await gateway.call(nowhere, "get", {"key": "user:/app"}, timeout=0.5)
    # Known to be down for longer than a call may wait: the next call does not wait again.
    with pytest.raises(InstanceUnreachable, match="offline since"):
        await gateway.call(nowhere, "get", {"key": "user:/app"}, timeout=0.5)
    assert gateway.status(nowhere)["online"] is False


async def test_a_peer_that_never_answers_times_out(
    gateway: WireGateway, clusterd_keys: KeyPair
) -> None:
    server_keys = KeyPair.generate()
    silent = zmq.asyncio.Context.instance().socket(zmq.ROUTER)
    server_keys.configure_server(silent)
    silent.linger = 0
    port = silent.bind_to_random_port("tcp://127.0.0.1")
    try:
        instance = Instance(8, "wedged", f"tcp://127.0.0.1:{port}", server_keys.public)
        with pytest.raises(InstanceTimeout, match="no reply to get"):
            await gateway.call(instance, "get", {"key": "user:/app"}, timeout=0.6)
    finally:
        silent.close()


async def test_status_follows_the_daemon_going_down_and_coming_back(
    gateway: WireGateway, elektrad: Elektrad
) -> None:
    instance = registered(elektrad)
    assert gateway.status(instance)["last_error"] == "not connected yet"
    assert gateway.offline_since(instance) is None  # not opened: a call opens it
    await gateway.connect(instance)
    online = await status_until(gateway, instance, lambda s: s["online"] and s["hostname"])
    assert online["protocol"] == 1
    assert online["offline_since"] is None
    assert gateway.offline_since(instance) is None
    assert isinstance(online["mounts"], list)

    await elektrad.kill()
    offline = await status_until(gateway, instance, lambda s: not s["online"])
    assert offline["offline_since"] is not None
    # What a fan-out asks of each member: the same moment, without the rest of the status.
    assert gateway.offline_since(instance) == offline["offline_since"]
    reason = offline["last_error"] or ""
    assert "lost" in reason or "connect" in reason

    await elektrad.start()
    back = await status_until(gateway, instance, lambda s: s["online"])
    assert back["last_error"] is None
    assert gateway.offline_since(instance) is None
    found = await gateway.call(instance, "get", {"key": "user:/"})
    assert found["path"] == "user:/"


async def test_forgetting_an_instance_closes_its_link(
    gateway: WireGateway, elektrad: Elektrad
) -> None:
    instance = registered(elektrad)
    await gateway.connect(instance)
    await status_until(gateway, instance, lambda s: s["online"])
    await gateway.forget(instance)
    assert gateway.status(instance) == {
        "online": False,
        "offline_since": None,
        "last_error": "not connected yet",
        "last_seen": None,
        "protocol": None,
        "elektra": None,
        "hostname": None,
        "mounts": None,
        "events": None,
    }


async def test_a_moved_instance_gets_a_new_link(gateway: WireGateway, elektrad: Elektrad) -> None:
    before = Instance(1, "web-1", f"tcp://127.0.0.1:{free_port_pair()}", elektrad.public_key)
    await gateway.connect(before)
    moved = registered(elektrad, 1)
    assert (await gateway.call(moved, "get", {"key": "user:/"}))["path"] == "user:/"
    assert gateway.status(moved)["online"] is True
    assert gateway.status(before)["last_error"] == "not connected yet"
