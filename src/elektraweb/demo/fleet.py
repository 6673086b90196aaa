"""`elektra-web fleet`: many simulated hosts in one process, for load tests and benchmarks.

Each simulated instance is elektrad's real service (its operations, validation, locks and
events) behind a CURVE ROUTER and PUB of its own, with a keypair of its own, on a KDB of its
own. The KDBs live below a tmpfs (`/dev/shm`) where there is one, so in memory, and are removed
when the fleet stops. To hold thousands in one process the instances share what elektrad has
one of per process: the ZeroMQ context with its ZAP allow-list, the KDB worker thread and the
event loop. Requests are not logged one per line (a fan-out to 1,000 members would write
1,000 lines): `--log-level INFO` turns that on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import zmq
import zmq.asyncio

from elektraweb import daemon_log
from elektraweb.cluster.http.connections import raise_descriptor_limit
from elektraweb.instance.changefeed import ChangeFeed
from elektraweb.instance.config import announced_events, read_allowed_keys
from elektraweb.instance.context import Host
from elektraweb.instance.events import EXTERNAL, EventStream
from elektraweb.instance.locks import LockTable
from elektraweb.instance.service import InstanceService
from elektraweb.instance.worker import KDBWorker
from elektraweb.kdb.database import KDB
from elektraweb.kdb.mounts import Paths
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.limits import allow_many_sockets
from elektraweb.wire.server import WireServer
from elektraweb.wire.zap import ZapAllowList

log = logging.getLogger("elektraweb.fleet")

MEMORY_DIR = Path("/dev/shm")
STOP_GRACE = 5.0


@dataclass(frozen=True, slots=True)
class FleetInstance:
    """What registering a simulated instance takes (`POST /api/instances`), and where it
    publishes its events (its `version` answer says so too)."""

    name: str
    endpoint: str
    events: str
    public_key: str


class SimulatedInstance:
    """One host: elektrad's service on the KDB below `base`, on the fleet's shared parts."""

    def __init__(
        self,
        name: str,
        base: Path,
        *,
        worker: KDBWorker,
        context: zmq.asyncio.Context,
        address: str,
    ) -> None:
        self.name = name
        self._keypair = KeyPair.generate()
        for directory in ("kdb/system", "kdb/user", "home", "state"):
            (base / directory).mkdir(parents=True)
        paths = Paths.from_environ(
            {"KDB_ROOT": str(base / "kdb"), "HOME": str(base / "home")}, cwd=base
        )
        self._host = Host(KDB(paths), LockTable(base / "state"), self._keypair.public, name)
        self._worker = worker
        self._context = context
        self._address = address

    async def start(self) -> FleetInstance:
        events = EventStream(asyncio.get_running_loop())
        feed = ChangeFeed(self._host.kdb, lambda changes: events.submit(changes, EXTERNAL))
        await self._worker.run(feed.prime)
        self._service = InstanceService(self._host, self._worker, feed, events)
        self._wire = WireServer(
            self._service,
            keypair=self._keypair,
            allowed_keys=(),  # the fleet's one ZAP handler decides
            listen=f"tcp://{self._address}:*",
            events=f"tcp://{self._address}:*",
            context=self._context,
        )
        await self._wire.start()
        assert self._wire.events_endpoint is not None
        self._service.announced_events = announced_events(
            self._wire.endpoint, self._wire.events_endpoint
        )
        self._events = events
        self._publisher = asyncio.get_running_loop().create_task(events.run(self._wire.publish))
        return FleetInstance(
            self.name, self._wire.endpoint, self._wire.events_endpoint, self._keypair.public
        )

    async def stop(self) -> None:
        await self._wire.stop(grace=STOP_GRACE)
        self._service.close()
        self._events.close()
        await self._publisher


class Fleet:
    """`count` simulated instances named `fleet-1` ... on `address`, admitting the CURVE
    clients `allowed_keys` (clusterd's public key), with their KDBs below `directory`."""

    def __init__(
        self, count: int, allowed_keys: Sequence[str], directory: Path, address: str = "127.0.0.1"
    ) -> None:
        if count < 1:
            raise ValueError(f"--count {count}: a fleet has at least one instance")
        self._count = count
        self._allowed_keys = tuple(allowed_keys)
        self._directory = directory
        self._address = address
        self._instances: list[SimulatedInstance] = []

    async def start(self) -> list[FleetInstance]:
        raise_descriptor_limit()  # per instance: 2 listening sockets, their connections
        self._context = zmq.asyncio.Context()
        allow_many_sockets(self._context, 2 * self._count + 64)
        self._zap = ZapAllowList(self._context, self._allowed_keys)
        self._zap.start()
        self._worker = KDBWorker()
        started: list[FleetInstance] = []
        for number in range(1, self._count + 1):
            instance = SimulatedInstance(
                f"fleet-{number}",
                self._directory / f"fleet-{number}",
                worker=self._worker,
                context=self._context,
                address=self._address,
            )
            started.append(await instance.start())
            self._instances.append(instance)
        return started

    async def stop(self) -> None:
        await asyncio.gather(*(instance.stop() for instance in self._instances))
        self._instances.clear()
        await asyncio.to_thread(self._worker.shutdown)
        await self._zap.stop()
        await asyncio.to_thread(self._context.term)


def _fleet_directory() -> Path:
    memory = MEMORY_DIR if MEMORY_DIR.is_dir() and os.access(MEMORY_DIR, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="elektra-fleet-", dir=memory))


def _write_instances(out: Path, instances: list[FleetInstance]) -> None:
    # Renamed into place: a script waiting for the file never reads half of it.
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps([asdict(instance) for instance in instances], indent=1) + "\n")
    partial.replace(out)


async def serve(
    count: int,
    allow_keys: Sequence[str],
    out: Path,
    *,
    say: Callable[[str], None] = print,
) -> None:
    """Run a fleet until SIGTERM or SIGINT; its instances are written to `out` (JSON) first."""
    directory = _fleet_directory()
    fleet = Fleet(count, read_allowed_keys(allow_keys), directory)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        instances = await fleet.start()
        _write_instances(out, instances)
        ports = sorted(int(i.endpoint.rpartition(":")[2]) for i in instances)
        say(
            f"fleet: {count} instances listening on 127.0.0.1, ports {ports[0]}-{ports[-1]};"
            f" endpoints and public keys in {out}"
        )
        await stopping.wait()
        say("fleet: stopping")
    finally:
        await fleet.stop()
        shutil.rmtree(directory, ignore_errors=True)


def run(count: int, allow_keys: Sequence[str], out: Path, *, log_level: str = "WARNING") -> int:
    """`elektra-web fleet`: the exit code."""
    daemon_log.configure(log_level)
    try:
        asyncio.run(serve(count, allow_keys, out, say=lambda line: print(line, flush=True)))
    except (OSError, ValueError, zmq.ZMQError) as error:
        log.error("fleet cannot start: %s", error)
        return 1
    return 0
