"""Real clusterd and elektrad processes for the attack tests, with an admin, an editor and a
viewer logged in, and files an attacker would like to reach outside the allowed directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.processes import Api, Clusterd, Elektrad

SECRET_TEXT = "[root]\npassword = hunter2\n"


@dataclass
class Stack:
    clusterd: Clusterd
    host: Elektrad
    instance: int
    editor: Api
    viewer: Api
    allowed: Path  # the host's --mount-dir
    secret: Path  # a file outside it, standing in for /etc/shadow

    @property
    def admin(self) -> Api:
        return self.clusterd.api

    async def login(self, name: str, role: str) -> Api:
        password = f"{name}-password-1234"
        status, body = await self.admin("POST", "/api/users", {
            "name": name, "password": password, "role": role,
        })  # fmt: skip
        assert status == 201, body
        api = Api(self.clusterd.url)
        status, body = await api("POST", "/api/login", {"user": name, "password": password})
        assert status == 200, body
        return api

    async def register(self, host: Elektrad) -> int:
        """Register a started elektrad; its instance id."""
        status, body = await self.admin("POST", "/api/instances", {
            "name": host.name, "endpoint": host.endpoint, "public_key": host.public_key,
        })  # fmt: skip
        assert status == 201, body
        return int(body["id"])

    async def mounts(self) -> list[dict[str, Any]]:
        status, body = await self.viewer("GET", f"/api/instances/{self.instance}/mounts")
        assert status == 200, body
        return list(body["mounts"])


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    clusterd = Clusterd(tmp_path / "clusterd")
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    host = Elektrad(tmp_path / "web", clusterd.public_key, "web", mount_dirs=[allowed])
    secret = tmp_path / "secret.ini"
    secret.write_text(SECRET_TEXT)
    apis: list[Api] = []
    try:
        await host.start()
        await clusterd.start()
        stack = Stack(clusterd, host, 0, clusterd.api, clusterd.api, allowed, secret)
        stack.instance = await stack.register(host)
        stack.editor = await stack.login("eddie", "editor")
        stack.viewer = await stack.login("vera", "viewer")
        apis += [stack.editor, stack.viewer]
        yield stack
    finally:
        for api in apis:
            await api.close()
        await clusterd.stop()
        await host.stop()
