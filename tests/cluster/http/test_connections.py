"""Connection guards: counted log lines, asyncio's accept errors, and reads in small parts."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket

import pytest

from elektraweb.cluster.http.connections import (
    DESCRIPTORS_KEPT,
    READ_BYTES,
    ConnectionLimits,
    ConnectionSettings,
    CountedLog,
    count_accept_errors,
)

from ..conftest import ClientFactory, Register

LOGGER = "elektraweb.cluster.http.connections"


async def test_accept_errors_are_one_line_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(count_accept_errors(CountedLog(interval=0.2)))
    caplog.set_level(logging.WARNING)
    try:
        with socket.socket() as listener:
            # What asyncio's accept loop reports each time accept() finds no descriptor left.
            exhausted = OSError(errno.EMFILE, "Too many open files")
            for _ in range(1000):
                loop.call_exception_handler(
                    {
                        "message": "socket.accept() out of system resource",
                        "exception": exhausted,
                        "socket": listener,
                    }
                )
            lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
            assert lines == ["accept() failed: [Errno 24] Too many open files"]
            async with asyncio.timeout(10):
                while len(lines) < 2:
                    await asyncio.sleep(0.05)
                    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
            assert lines[1].endswith("999 more times in the last 0.2 s")
            assert not any(r.exc_info for r in caplog.records)
        # Anything else still reaches asyncio's own handler.
        loop.call_exception_handler({"message": "something else"})
        assert "something else" in caplog.text
    finally:
        loop.set_exception_handler(previous)


def test_the_global_cap_stays_below_the_open_files_limit() -> None:
    assert (
        ConnectionLimits(ConnectionSettings(), 20_000).max_connections == 20_000 - DESCRIPTORS_KEPT
    )
    assert ConnectionLimits(ConnectionSettings(), 1024).max_connections == 768
    asked_too_much = ConnectionSettings(max_connections=1_000_000)
    assert ConnectionLimits(asked_too_much, 4096).max_connections == 4096 - DESCRIPTORS_KEPT
    assert ConnectionLimits(ConnectionSettings(max_connections=10), 4096).max_connections == 10


async def test_a_body_many_socket_reads_long_arrives_whole(
    clients: ClientFactory, register: Register
) -> None:
    # Each connection reads at most READ_BYTES at once; a value of 40 reads, every line
    # numbered, would come back changed if a part were lost, repeated or reordered.
    value = "".join(f"{line:06d} configuration line\n" for line in range(40 * READ_BYTES // 26))
    instance = await register("web-1", 40001)
    admin = await clients("admin")
    key = f"/api/instances/{instance['id']}/kdb/user:/app/large"
    assert (await admin.put(key, value)).status == 200
    assert (await admin.get(key)).body["value"] == value
