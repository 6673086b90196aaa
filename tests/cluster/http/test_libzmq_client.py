"""Both sockets of a real clusterd process, driven by libzmq's own `ws://` transport: Debian's
`python3-zmq` (libzmq 4.3.4) under /usr/bin/python3, an independent ZWS 2.0 implementation."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from support.processes import Clusterd

SYSTEM_PYTHON = "/usr/bin/python3"
CLIENT = Path(__file__).parents[2] / "support" / "libzmq_client.py"


def require_system_pyzmq() -> None:
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import zmq"], capture_output=True)
    if found.returncode != 0:
        pytest.fail("Debian's python3-zmq is not installed: run `make install`")


async def run_client(clusterd: Clusterd) -> tuple[int | None, bytes, bytes]:
    """Run the libzmq client against `clusterd` with a new token: exit code, stdout, stderr."""
    status, token = await clusterd.api("POST", "/api/tokens", {"name": "libzmq"})
    assert status == 201, token
    base = clusterd.url.replace("http://", "ws://", 1)
    process = await asyncio.create_subprocess_exec(
        SYSTEM_PYTHON, str(CLIENT), base, token["token"],
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        output, errors = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode, output, errors


async def test_libzmq_dealer_gets_replies_and_sub_receives_the_event(tmp_path: Path) -> None:
    require_system_pyzmq()
    clusterd = Clusterd(tmp_path / "clusterd")
    try:
        returncode, output, errors = await run_client(await clusterd.start())
    finally:
        await clusterd.stop()
    assert returncode == 0, errors.decode()
    *replies, event = [json.loads(line) for line in output.decode().splitlines()]
    assert replies, "the event came before any reply"
    created = {}
    for number, line in enumerate(replies, start=1):
        assert line["id"] == str(number)
        assert line["reply"]["status"] == 201, line
        cluster = line["reply"]["body"]
        assert cluster["name"] == f"libzmq-{number}"
        created[cluster["id"]] = cluster["name"]
    topic_id = int(event["topic"].removeprefix("registry/cluster/"))
    assert event["event"]["action"] == "added"
    assert event["event"]["cluster"]["name"] == created[topic_id]
