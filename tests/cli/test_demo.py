"""`elektra-web demo` end to end: it starts everything, registers it, and stops everything."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest

from elektraweb.demo.runner import CLUSTER_KEYS, INSTANCES, MEMBERS, instance_port
from support.processes import free_port

ELEKTRA_WEB = Path(sys.prefix) / "bin" / "elektra-web"
_LOGIN = re.compile(
    r"open (?P<url>http://\S+)/ and log in as (?P<user>\S+) with password (?P<pw>\S+)"
)


# Each instance's request port and its event port (+ 2) lie at fixed offsets from clusterd's.
INSTANCE_PORT_OFFSETS = tuple(
    instance_port(0, index) + events for index in range(len(INSTANCES)) for events in (0, 2)
)


def children_of(pid: int) -> set[int]:
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Demo:
    def __init__(
        self, process: asyncio.subprocess.Process, match: re.Match[str], directory: Path
    ) -> None:
        self.process, self.directory = process, directory
        self.url, self.user, self.password = match["url"], match["user"], match["pw"]


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    port = free_port(offsets=INSTANCE_PORT_OFFSETS)
    process = await asyncio.create_subprocess_exec(
        str(ELEKTRA_WEB), "demo", "--port", str(port), "--dir", str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        output = []
        async with asyncio.timeout(60):
            while line := (await process.stdout.readline()).decode():
                output.append(line)
                if match := _LOGIN.search(line):
                    break
            else:
                raise AssertionError(f"the demo ended without a login line: {output}")
        yield Demo(process, match, tmp_path)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                await process.wait()


async def test_the_demo_serves_three_instances_and_a_cluster(demo: Demo) -> None:
    async with aiohttp.ClientSession(
        demo.url,
        headers={"X-Requested-With": "test"},
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    ) as session:
        async with session.get("/") as page:
            assert page.status == 200
        login = {"user": demo.user, "password": demo.password}
        async with session.post("/api/login", json=login) as answer:
            assert answer.status == 200
        async with session.get("/api/instances") as answer:
            instances = await answer.json()
        assert [instance["name"] for instance in instances] == list(INSTANCES)
        async with session.get("/api/clusters") as answer:
            (cluster,) = await answer.json()
        members = {i["id"] for i in instances if i["name"] in MEMBERS}
        assert set(cluster["members"]) == members
        web_1 = instances[0]["id"]
        name = quote("system:/demo/web/server/name")
        async with session.get(f"/api/instances/{web_1}/kdb/{name}") as answer:
            found = await answer.json()
        assert (found["value"], found["meta"]["description"]) == (
            "web-1",
            "Name shown in the page footer",
        )
        port = quote("system:/demo/web/server/port")
        async with session.put(f"/api/instances/{web_1}/kdb/{port}", json="70000") as answer:
            refused = await answer.json()
        assert answer.status == 400
        assert refused["error"]["code"] == "validation"
        # Each instance lets the admin mount files of its own demo directory, and no others.
        async with session.get(f"/api/instances/{web_1}/mounts") as answer:
            (mount_dir,) = (await answer.json())["mount_dirs"]
        assert Path(mount_dir) == (demo.directory / "web-1" / "files").resolve()
        wanted = {"mountpoint": "system:/tried", "path": f"{mount_dir}/tried.ini"}
        async with session.post(f"/api/instances/{web_1}/mounts", json=wanted) as answer:
            assert answer.status == 200, await answer.text()


async def test_the_cluster_owns_its_keys_on_both_members(demo: Demo) -> None:
    async with aiohttp.ClientSession(
        demo.url,
        headers={"X-Requested-With": "test"},
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    ) as session:
        login = {"user": demo.user, "password": demo.password}
        async with session.post("/api/login", json=login) as answer:
            assert answer.status == 200
        async with session.get("/api/instances") as answer:
            ids = {i["name"]: i["id"] for i in await answer.json()}
        for key, value in CLUSTER_KEYS.items():
            for member in MEMBERS:
                path = f"/api/instances/{ids[member]}/kdb/{quote(key)}"
                # Members converge by themselves, also one whose link was still coming up.
                async with asyncio.timeout(20):
                    while True:
                        async with session.get(path) as got:
                            if (await got.json()).get("value") == value:
                                break
                        await asyncio.sleep(0.1)
            async with session.put(
                f"/api/instances/{ids[MEMBERS[0]]}/kdb/{quote(key)}", json=value
            ) as answer:
                assert answer.status == 423
        loner = next(name for name in INSTANCES if name not in MEMBERS)
        key = quote("system:/demo/web/server/workers")
        async with session.get(f"/api/instances/{ids[loner]}/kdb/{key}") as answer:
            assert (await answer.json())["value"] == "4"  # the sample's own value


async def test_sigterm_stops_every_process_of_the_demo(demo: Demo) -> None:
    children = children_of(demo.process.pid)
    assert len(children) == len(INSTANCES) + 1  # the elektrad and clusterd
    demo.process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(60):
        assert await demo.process.wait() == 0
    assert not [pid for pid in children if running(pid)]
