"""Reads answered on elektrad's event loop (an idle KDB worker) keep the order of writes."""

from __future__ import annotations

import asyncio

from elektraweb.wire.client import ZmqTransport

from .conftest import Daemon

ROUNDS = 50
BULK = 5_000  # keys of one import: a write that keeps the KDB worker busy for a while


async def test_a_get_sent_after_a_sets_reply_sees_the_set(
    link: ZmqTransport, shared_daemon: Daemon
) -> None:
    key = "user:/order/after-set"
    # Another client reads: the set's reply reached the writer, then the reader asks.
    async with shared_daemon.transport() as reader:
        for round_ in range(ROUNDS):
            written = await link.request("set", {"key": key, "value": f"v{round_}"})
            seen = await reader.request("get", {"key": key})
            assert (seen["value"], seen["revision"]) == (f"v{round_}", written["revision"])


async def test_a_get_sent_during_a_long_write_waits_for_it(link: ZmqTransport) -> None:
    area = "user:/order/during-import"
    data = "".join(f"k{index:05d} = new\n" for index in range(BULK))
    await link.request("set", {"key": f"{area}/k{BULK - 1:05d}", "value": "old"})
    # Sent back to back on one link: the get reaches elektrad while the import runs.
    imported = asyncio.create_task(
        link.request(
            "import", {"key": area, "format": "ini", "data": data, "strategy": "overwrite"}
        )
    )
    await asyncio.sleep(0)  # the import's frames leave first
    seen = await link.request("get", {"key": f"{area}/k{BULK - 1:05d}"})
    assert seen["value"] == "new", "a get was answered from before the write it came after"
    assert (await imported)["written"] == BULK
