"""Three clusterd replicas on one PostgreSQL behind a round-robin balancer, real Chromium: one
replica is SIGKILLed (the one the page's event socket went to) while cluster writes go on. No
acknowledged write is lost, both members converge, and the page reconnects through the balancer
and keeps showing live changes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from support.postgres import PostgresServer

from .conftest import SCREENSHOTS, _open
from .round_robin import RoundRobin, running_round_robin
from .stack import ADMIN_PASSWORD, Stack
from .ui import WebUI

KEY = "system:/demo/cache/ttl_seconds"
WRITES = 40
KILL_AFTER = 10
LIVE_DEADLINE_MS = 20_000


@dataclass
class ReplicaStack:
    stack: Stack
    balancer: RoundRobin
    replicas: dict[str, subprocess.Popen[str]]
    """Each replica's process by its URL."""


@pytest.fixture(scope="module")
def replica_stack(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer
) -> Iterator[ReplicaStack]:
    dsn = postgres_server.create_database("web_replicas")
    stack = Stack(tmp_path_factory.mktemp("replicas"))
    try:
        with running_round_robin() as balancer:
            replicas: dict[str, subprocess.Popen[str]] = {}
            for name in ("a", "b", "c"):
                options = ["--database", dsn, "--replica-id", name, "--allow-origin", balancer.url]
                process = stack.start_clusterd(*options, name=f"clusterd-{name}")
                replicas[stack.url] = process
            balancer.backends.extend(replicas)
            client = stack.admin()
            for name in ("web-1", "web-2"):
                stack.add_instance(name)
            for name in ("web-1", "web-2"):
                stack.register(stack.instances[name], client)
            stack.url = balancer.url  # from here on, everyone goes through the balancer
            yield ReplicaStack(stack, balancer, replicas)
    finally:
        stack.stop()
        postgres_server.drop_database("web_replicas")


@pytest.fixture
def balanced_page(browser: Browser, replica_stack: ReplicaStack) -> Iterator[Page]:
    yield from _open(browser, replica_stack.stack)


def test_the_page_keeps_its_live_updates_when_its_replica_is_killed_during_cluster_writes(
    balanced_page: Page, replica_stack: ReplicaStack
) -> None:
    stack, balancer = replica_stack.stack, replica_stack.balancer
    admin = stack.admin()
    answer = admin.request("POST", "/api/clusters", {"name": "shop"})
    assert answer.status == 201, answer.body
    cluster = answer.body["id"]
    for name in ("web-1", "web-2"):
        joined = admin.request(
            "POST", f"/api/clusters/{cluster}/instances", {"instance": stack.instances[name].id}
        )
        assert joined.status == 201, joined.body

    ui = WebUI(balanced_page, stack, SCREENSHOTS)
    ui.log_in("admin", ADMIN_PASSWORD)
    ui.open_instance("web-1")
    ui.reveal(KEY)
    value = ui.row(KEY).locator(".key-value")
    events_replica = [backend for path, backend in balancer.sockets if path == "/zmq/events"][-1]

    acknowledged: list[str] = []
    enough = threading.Event()

    def write() -> None:
        writer = stack.admin()
        for number in range(WRITES):
            answer = writer.request(
                "PUT", f"/api/clusters/{cluster}/kdb/{quote(KEY)}", str(1000 + number)
            )
            if answer.status == 200:
                acknowledged.append(str(1000 + number))
            if len(acknowledged) == KILL_AFTER:
                enough.set()
        enough.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert enough.wait(60)
        expect(value).to_have_text(re.compile(r"^10\d\d$"))  # the page follows the writes
        process = replica_stack.replicas[events_replica]
        os.kill(process.pid, signal.SIGKILL)  # writes go on meanwhile
        written_before_kill = len(acknowledged)
        process.wait()  # the balancer skips it from now on: it refuses connections
    finally:
        writer.join(120)

    assert written_before_kill < WRITES  # the kill came in the middle of the writes
    last = acknowledged[-1]
    assert last == str(1000 + WRITES - 1)
    expect(value).to_have_text(last, timeout=LIVE_DEADLINE_MS)
    expect(balanced_page.locator(".connection")).to_have_attribute("data-state", "open")
    reconnected = [backend for path, backend in balancer.sockets if path == "/zmq/events"][-1]
    assert reconnected != events_replica
    for name in ("web-1", "web-2"):
        assert stack.instances[name].kdb("get", KEY).stdout.strip() == last
    answer = admin.request("GET", f"/api/clusters/{cluster}/kdb/{quote(KEY)}")
    assert (answer.status, answer.body["value"]) == (200, last)
