"""A real site for attack tests: clusterd and one elektrad as processes on loopback, the
instance registered and the only member of one cluster, and a viewer logged in; and the
stack of the protected-key and mount tests (stack.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.fuzz import LoopThread
from support.processes import Api, Clusterd, Elektrad

from .stack import stack

__all__ = ["stack"]

VIEWER_PASSWORD = "viewer-password-for-tests"


@dataclass
class Site:
    clusterd: Clusterd
    host: Elektrad
    viewer: Api
    instance: int
    cluster: int

    @property
    def admin(self) -> Api:
        return self.clusterd.api


async def _created(api: Api, path: str, body: object) -> int:
    status, answer = await api("POST", path, body)
    assert status == 201, answer
    return int(answer.get("id", 0)) if isinstance(answer, dict) else 0


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    clusterd = Clusterd(tmp_path / "clusterd")
    host = Elektrad(tmp_path / "host", clusterd.public_key, "host")
    viewer: Api | None = None
    try:
        await asyncio.gather(host.start(), clusterd.start())
        admin = clusterd.api
        instance = await _created(
            admin,
            "/api/instances",
            {"name": "host", "endpoint": host.endpoint, "public_key": host.public_key},
        )
        cluster = await _created(admin, "/api/clusters", {"name": "prod"})
        await _created(admin, f"/api/clusters/{cluster}/instances", {"instance": instance})
        await _created(
            admin, "/api/users", {"name": "vera", "password": VIEWER_PASSWORD, "role": "viewer"}
        )
        viewer = Api(clusterd.url)
        status, _ = await viewer(
            "POST", "/api/login", {"user": "vera", "password": VIEWER_PASSWORD}
        )
        assert status == 200
        yield Site(clusterd, host, viewer, instance, cluster)
    finally:
        if viewer is not None:
            await viewer.close()
        await host.stop()
        await clusterd.stop()


@dataclass
class FuzzSite:
    """clusterd with one elektrad, instance 1, in cluster 1, for the fuzz tests' synchronous
    test functions: drive it with ``loop.run``."""

    loop: LoopThread
    clusterd: Clusterd


@pytest.fixture(scope="module")
def fuzz_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzSite]:
    base = tmp_path_factory.mktemp("fuzz")
    loop = LoopThread()
    clusterd = Clusterd(base / "clusterd")
    host = Elektrad(base / "host", clusterd.public_key, "host")

    async def start() -> None:
        await asyncio.gather(host.start(), clusterd.start())
        api = clusterd.api
        new = {"name": "host", "endpoint": host.endpoint, "public_key": host.public_key}
        assert await _created(api, "/api/instances", new) == 1
        assert await _created(api, "/api/clusters", {"name": "prod"}) == 1
        await _created(api, "/api/clusters/1/instances", {"instance": 1})

    async def stop() -> None:
        await host.stop()
        await clusterd.stop()  # asserts a clean exit

    try:
        loop.run(start())
        yield FuzzSite(loop, clusterd)
        status, _ = loop.run(clusterd.api("GET", "/api/instances"))
        assert status == 200, "clusterd stopped answering after the fuzzing"
        assert "Traceback" not in clusterd.log()
    finally:
        loop.run(stop())
        loop.close()
