"""`elektra-web demo` end to end: it starts everything, registers it, and stops everything."""

from __future__ import annotations

import asyncio
import contextlib
import os
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
        self,
        process: asyncio.subprocess.Process,
        match: re.Match[str],
        directory: Path,
        port: int,
    ) -> None:
        self.process, self.directory, self.port = process, directory, port
        self.url, self.user, self.password = match["url"], match["user"], match["pw"]

    async def next_line(self, pattern: str) -> re.Match[str]:
        """The demo's next output line that matches `pattern`."""
        assert self.process.stdout is not None
        async with asyncio.timeout(60):
            while line := (await self.process.stdout.readline()).decode():
                if match := re.search(pattern, line):
                    return match
        raise AssertionError(f"the demo ended before saying {pattern!r}")

    def session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            self.url,
            headers={"X-Requested-With": "test"},
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )


@contextlib.asynccontextmanager
async def running_demo(*options: str) -> AsyncIterator[tuple[Demo, list[str]]]:
    """`elektra-web demo` with `options`, up to its login line; yields it and its output."""
    process = await asyncio.create_subprocess_exec(
        str(ELEKTRA_WEB), "demo", *options, stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    port = int(options[options.index("--port") + 1])
    try:
        output: list[str] = []
        async with asyncio.timeout(60):
            # Up to the last line of the start output, which says where the files are.
            while "files and logs in" not in "".join(output[-1:]):
                line = (await process.stdout.readline()).decode()
                if not line:
                    raise AssertionError(f"the demo ended before it was ready: {output}")
                output.append(line)
        (login,) = filter(None, map(_LOGIN.search, output))
        yield Demo(process, login, Path(), port), output
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(60):
                await process.wait()


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    port = free_port(offsets=INSTANCE_PORT_OFFSETS)
    async with running_demo("--port", str(port), "--dir", str(tmp_path)) as (started, _):
        started.directory = tmp_path
        yield started


async def test_the_demo_serves_three_instances_and_a_cluster(demo: Demo) -> None:
    async with demo.session() as session:
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
    async with demo.session() as session:
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


async def _logged_in(demo: Demo, session: aiohttp.ClientSession) -> dict[str, int]:
    """Logs `session` in; returns the instance ids by name."""
    login = {"user": demo.user, "password": demo.password}
    async with session.post("/api/login", json=login) as answer:
        assert answer.status == 200
    async with session.get("/api/instances") as answer:
        return {i["name"]: i["id"] for i in await answer.json()}


async def _until_online(session: aiohttp.ClientSession, instance: int, online: bool) -> None:
    async with asyncio.timeout(30):
        while True:
            async with session.get(f"/api/instances/{instance}") as answer:
                if (await answer.json())["status"]["online"] is online:
                    return
            await asyncio.sleep(0.05)


def _elektrad_of(demo: Demo, name: str) -> int:
    (pid,) = (
        pid
        for pid in children_of(demo.process.pid)
        if f"{demo.directory / name / 'state'}".encode()
        in Path(f"/proc/{pid}/cmdline").read_bytes()
    )
    return pid


async def test_a_killed_elektrad_shows_offline_and_the_demo_restarts_it_with_backoff(
    demo: Demo,
) -> None:
    async with demo.session() as session:
        ids = await _logged_in(demo, session)
        await _until_online(session, ids["web-1"], True)
        killed = _elektrad_of(demo, "web-1")
        # A file where web-1's state directory was makes its first restart fail, so the demo
        # has to back off, and clusterd has to show web-1 offline meanwhile, however slow
        # this machine is; both are in place before the kill.
        state = demo.directory / "web-1" / "state"
        state.rename(state.with_name("state-aside"))
        state.write_text("not a directory\n")
        os.kill(killed, signal.SIGKILL)
        first = await demo.next_line(r"web-1 exited with code (\S+); restarting in (\S+) s")
        assert (first[1], first[2]) == (str(-signal.SIGKILL), "1")
        await _until_online(session, ids["web-1"], False)
        second = await demo.next_line(r"web-1 exited with code (\S+); restarting in (\S+) s")
        assert second[2] == "2"
        state.unlink()
        state.with_name("state-aside").rename(state)
        await demo.next_line(r"web-1 is running again")
        await _until_online(session, ids["web-1"], True)
        assert _elektrad_of(demo, "web-1") != killed
        assert demo.process.returncode is None
        name = quote("system:/demo/web/server/name")
        async with session.get(f"/api/instances/{ids['web-1']}/kdb/{name}") as answer:
            assert (await answer.json())["value"] == "web-1"


async def test_a_change_survives_a_restart_of_the_whole_demo(tmp_path: Path) -> None:
    port = free_port(offsets=INSTANCE_PORT_OFFSETS)
    options = ("--port", str(port), "--dir", str(tmp_path))
    key = quote("system:/demo/web/server/name")
    async with running_demo(*options) as (first, output):
        first.directory = tmp_path
        assert any(f"{tmp_path} (kept" in line for line in output)
        async with first.session() as session:
            ids = await _logged_in(first, session)
            path = f"/api/instances/{ids['web-1']}/kdb/{key}"
            async with session.put(path, json="renamed-before-the-restart") as answer:
                assert answer.status == 200
        first.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            assert await first.process.wait() == 0
    assert (tmp_path / "web-1" / "kdb").is_dir()
    async with running_demo(*options) as (second, _), second.session() as session:
        ids = await _logged_in(second, session)
        async with session.get(f"/api/instances/{ids['web-1']}/kdb/{key}") as answer:
            assert (await answer.json())["value"] == "renamed-before-the-restart"


async def test_a_temporary_demo_directory_is_removed_when_the_demo_stops() -> None:
    port = free_port(offsets=INSTANCE_PORT_OFFSETS)
    async with running_demo("--port", str(port), "--temporary") as (demo, output):
        (where,) = (
            re.search(r"files and logs in (\S+) \(temporary", line)
            for line in output
            if "files and logs in" in line
        )
        assert where is not None
        directory = Path(where[1])
        assert (directory / "web-1" / "kdb").is_dir()
        demo.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            assert await demo.process.wait() == 0
    assert not directory.exists()
