"""Real elektrad processes on loopback, each with its own KDB_ROOT and state dir."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from elektraweb.wire.client import ClientOptions, ZmqTransport
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.messages import MAX_MESSAGE_BYTES, AnyEvent, Event, SubtreeEvent
from elektraweb.wire.subscriber import EventSubscriber

BIN = Path(sys.prefix) / "bin"
ELEKTRAD = BIN / "elektrad"
KDB = BIN / "kdb"
_START_LINE = re.compile(
    r"elektrad listening on (?P<listen>\S+), events on (?P<events>\S+), public key (?P<key>\S{40})"
)
START_TIMEOUT = 20.0


class Daemon:
    """One elektrad subprocess. ``start()`` waits for its start line; logs go to ``log_file``."""

    def __init__(
        self,
        base: Path,
        client: KeyPair,
        *,
        allow: tuple[str, ...] = (),
        options: tuple[str, ...] = (),
    ) -> None:
        self.base = base
        self.options = options
        self.root = base / "kdb"
        self.state = base / "state"
        self.home = base / "home"
        for directory in (self.root, self.home):
            directory.mkdir(parents=True, exist_ok=True)
        self.allowed = allow or (client.public,)
        self.client = client
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KDB")}
        self.env.update(KDB_ROOT=str(self.root), HOME=str(self.home))
        self.log_file = base / "elektrad.log"
        self.process: subprocess.Popen[str] | None = None
        self.endpoint = self.events = self.public_key = ""

    def start(self) -> Daemon:
        allow = [arg for key in self.allowed for arg in ("--allow-key", key)]
        command = [
            str(ELEKTRAD),
            "--listen",
            "tcp://127.0.0.1:0",
            "--events",
            "tcp://127.0.0.1:0",
            "--state",
            str(self.state),
            *allow,
            *self.options,
        ]
        log = self.log_file.open("a")
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, env=self.env, cwd=self.base, text=True
        )
        log.close()
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            match = _START_LINE.search(line)
            if match:
                self.endpoint, self.events = match["listen"], match["events"]
                self.public_key = match["key"]
                return self
        self.kill()
        raise AssertionError(f"elektrad did not start: {line!r}\n{self.log()}")

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def terminate(self, timeout: float = 30.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._close()
        return code

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def transport(self, keypair: KeyPair | None = None, **options: float) -> ZmqTransport:
        """A client (not started) for this daemon; no pings, short deadlines."""
        settings = ClientOptions(
            timeout=options.get("timeout", 5.0),
            retries=int(options.get("retries", 2)),
            ping_interval=None,
            max_message_bytes=int(options.get("max_message_bytes", MAX_MESSAGE_BYTES)),
        )
        return ZmqTransport(
            self.endpoint,
            server_key=self.public_key,
            keypair=keypair or self.client,
            options=settings,
        )

    def subscriber(self, *prefixes: str) -> EventSubscriber:
        return EventSubscriber(
            self.events, server_key=self.public_key, keypair=self.client, prefixes=prefixes
        )

    def kdb(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the `kdb` command on this daemon's key database, as a local admin would."""
        return subprocess.run(
            [str(KDB), *args],
            env=self.env,
            cwd=self.base,
            capture_output=True,
            text=True,
            input=stdin,
            timeout=60,
            check=False,
        )


@pytest.fixture(scope="session")
def client_keys() -> KeyPair:
    return KeyPair.generate()


@contextlib.contextmanager
def running(base: Path, client: KeyPair) -> Iterator[Daemon]:
    daemon = Daemon(base, client).start()
    try:
        yield daemon
    finally:
        daemon.kill()


@pytest.fixture(scope="module")
def shared_daemon(
    tmp_path_factory: pytest.TempPathFactory, client_keys: KeyPair
) -> Iterator[Daemon]:
    """One daemon for a whole test module; tests use their own subtrees of it."""
    with running(tmp_path_factory.mktemp("elektrad"), client_keys) as daemon:
        yield daemon


@pytest.fixture
def daemon(tmp_path: Path, client_keys: KeyPair) -> Iterator[Daemon]:
    with running(tmp_path, client_keys) as started:
        yield started


@pytest.fixture
async def link(shared_daemon: Daemon) -> AsyncIterator[ZmqTransport]:
    async with shared_daemon.transport() as transport:
        yield transport


# Generous: a loaded CI machine may be slow; the daemon aims at well under a second.
EVENT_TIMEOUT = 15.0


async def next_event(events: EventSubscriber, key: str) -> Event:
    """The next event about the key ``key`` (others are skipped)."""
    event = await _next_of(events, Event, key)
    assert isinstance(event, Event)
    return event


async def next_subtree_event(events: EventSubscriber, subtree: str) -> SubtreeEvent:
    """The next event about many keys at or below ``subtree`` (others are skipped)."""
    event = await _next_of(events, SubtreeEvent, subtree)
    assert isinstance(event, SubtreeEvent)
    return event


async def _next_of(events: EventSubscriber, kind: type[AnyEvent], key: str) -> AnyEvent:
    async with asyncio.timeout(EVENT_TIMEOUT):
        while True:
            event = await events.receive()
            if isinstance(event, kind) and event.key == key:
                return event


async def subscribed(link: ZmqTransport, events: EventSubscriber, area: str) -> None:
    """Wait until the subscription is live (ZeroMQ drops events for a joining subscriber)."""
    probe = f"{area}/probe"
    async with asyncio.timeout(EVENT_TIMEOUT):
        for attempt in range(1000):
            await link.request("set", {"key": probe, "value": str(attempt)})
            try:
                async with asyncio.timeout(0.2):
                    while (await events.receive()).key != probe:
                        pass
                return
            except TimeoutError:
                continue
