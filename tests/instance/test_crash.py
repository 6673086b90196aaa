"""SIGKILL at random moments of a write stream loses no acknowledged write and tears no file."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from elektraweb.kdb.database import KDB
from elektraweb.kdb.mounts import Paths
from elektraweb.wire.client import ZmqTransport
from elektraweb.wire.keys import KeyPair
from elektraweb.wire.transport import LinkError

from .conftest import Daemon

KILLS = 10
WRITERS = 8
FORMATS = {
    "dump": "crash.ecf",
    "ini": "crash.ini",
    "json": "crash.json",
    "yaml": "crash.yaml",
    "toml": "crash.toml",
}


class Round:
    """One round's writers: `enough` is set once `kill_after` writes have been acknowledged,
    so the kill comes after work got done however slow the machine is."""

    def __init__(self, number: int, kill_after: int) -> None:
        self.number, self.left = number, kill_after
        self.enough = asyncio.Event()
        self.killed = False

    def acknowledged(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.enough.set()


async def write_until_killed(
    link: ZmqTransport, round_: Round, writer: int, acknowledged: dict[str, str]
) -> None:
    formats = list(FORMATS)
    for serial in range(100_000):
        fmt = formats[(writer + serial) % len(formats)]
        key = f"system:/crash/{fmt}/r{round_.number}/w{writer}/k{serial}"
        value = f"{round_.number}.{writer}.{serial}"
        try:
            await link.request("set", {"key": key, "value": value})
        except LinkError:
            if round_.killed:
                return
            continue  # unanswered in time on a loaded machine: not acknowledged, go on
        acknowledged[key] = value
        round_.acknowledged()


async def test_sigkill_during_writes_loses_nothing_acknowledged(
    tmp_path: Path, client_keys: KeyPair
) -> None:
    rng = random.Random(20240601)
    daemon = Daemon(tmp_path, client_keys)
    for fmt, file in FORMATS.items():
        done = daemon.kdb("mount", file, f"system:/crash/{fmt}", fmt)
        assert done.returncode == 0, done.stderr
    acknowledged: dict[str, str] = {}
    try:
        for number in range(KILLS):
            daemon.start()
            round_ = Round(number, rng.randint(WRITERS, 8 * WRITERS))
            async with daemon.transport(timeout=1.0, retries=0) as link:
                writers = [
                    asyncio.create_task(write_until_killed(link, round_, w, acknowledged))
                    for w in range(WRITERS)
                ]
                async with asyncio.timeout(120):
                    await round_.enough.wait()
                # Killed while the other writers' sets are anywhere in flight.
                await asyncio.sleep(rng.uniform(0, 0.02))
                round_.killed = True
                daemon.kill()
                await asyncio.gather(*writers)
        # Every file parses (the KDB reads them all) and holds every acknowledged write.
        stored = KDB(Paths.from_environ(daemon.env, cwd=daemon.base)).get("system:/crash")
        missing = {
            k: v
            for k, v in acknowledged.items()
            if (key := stored.lookup(k)) is None or key.value != v
        }
        assert not missing
        daemon.start()
        async with daemon.transport() as link:
            sample = rng.sample(sorted(acknowledged), 20)
            for name in sample:
                assert (await link.request("get", {"key": name}))["value"] == acknowledged[name]
    finally:
        daemon.kill()
