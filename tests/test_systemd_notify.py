"""Both daemons tell systemd they are ready (READY=1 on $NOTIFY_SOCKET) once they listen."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from elektraweb.wire.keys import ensure_keypair
from support.processes import ADMIN_PASSWORD, free_port_pair

BIN = Path(sys.prefix) / "bin"


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as manager:
        manager.bind(str(tmp_path / "notify"))
        manager.setblocking(False)
        yield manager


async def _ready_then_reachable(
    command: list[str], manager: socket.socket, address: re.Pattern[str], tmp_path: Path
) -> None:
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("KDB")},
        "NOTIFY_SOCKET": manager.getsockname(),
        "KDB_ROOT": str(tmp_path / "kdb"),
        "HOME": str(tmp_path),
        "CLUSTERD_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(60):
            message = await asyncio.get_running_loop().sock_recv(manager, 64)
            assert message == b"READY=1"
            # Ready means listening: the port takes a connection right away.
            line = (await process.stdout.readline()).decode()
            match = address.search(line)
            assert match, line
            _, writer = await asyncio.open_connection(match["host"], int(match["port"]))
            writer.close()
    finally:
        process.terminate()
        await process.wait()


async def test_clusterd_says_ready_once_it_listens(
    notify_socket: socket.socket, tmp_path: Path
) -> None:
    await _ready_then_reachable(
        [str(BIN / "clusterd"), "--http", "127.0.0.1:0", "--state", str(tmp_path / "state")],
        notify_socket,
        re.compile(r"listening on http://(?P<host>[\d.]+):(?P<port>\d+)"),
        tmp_path,
    )


async def test_elektrad_says_ready_once_it_listens(
    notify_socket: socket.socket, tmp_path: Path
) -> None:
    client = ensure_keypair(tmp_path / "client").public
    await _ready_then_reachable(
        [str(BIN / "elektrad"), "--listen", f"tcp://127.0.0.1:{free_port_pair()}",
         "--state", str(tmp_path / "state"), f"--allow-key={client}"],
        notify_socket,
        re.compile(r"listening on tcp://(?P<host>[\d.]+):(?P<port>\d+)"),
        tmp_path,
    )  # fmt: skip
