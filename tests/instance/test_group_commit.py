"""Many sets in flight at once: each is answered on its own, as if they ran one by one."""

from __future__ import annotations

import asyncio
import itertools

from elektraweb.wire.client import ZmqTransport
from elektraweb.wire.errors import ErrorCode, RemoteError

from .conftest import Daemon, next_event, subscribed

AREA = "system:/group"


async def test_a_refused_set_fails_alone(link: ZmqTransport) -> None:
    await link.request(
        "set", {"key": f"{AREA}/typed", "value": "1", "meta": {"check/type": "long"}}
    )
    requests = [{"key": f"{AREA}/k{i}", "value": str(i)} for i in range(40)]
    requests[7] = {"key": f"{AREA}/typed", "value": "not a number"}
    requests[13] = {"key": f"{AREA}/k13", "value": "x", "expect": "f" * 32}
    requests[21] = {"key": "bad name", "value": "x"}
    outcomes = await asyncio.gather(
        *(link.request("set", args) for args in requests), return_exceptions=True
    )
    codes = {i: o.code for i, o in enumerate(outcomes) if isinstance(o, RemoteError)}
    assert codes == {7: ErrorCode.VALIDATION, 13: ErrorCode.CONFLICT, 21: ErrorCode.INVALID_NAME}
    for i, outcome in enumerate(outcomes):
        if i not in codes:
            assert isinstance(outcome, dict) and outcome["created"] is True
            stored = await link.request("get", {"key": f"{AREA}/k{i}"})
            assert stored["value"] == str(i) and stored["revision"] == outcome["revision"]
    assert (await link.request("get", {"key": f"{AREA}/typed"}))["value"] == "1"


async def test_sets_of_one_key_in_flight_together_all_happen(
    link: ZmqTransport, shared_daemon: Daemon
) -> None:
    key = f"{AREA}/hot"
    async with shared_daemon.subscriber(key) as events:
        await subscribed(link, events, key)
        outcomes = await asyncio.gather(
            *(link.request("set", {"key": key, "value": str(i)}) for i in range(20))
        )
        assert sum(outcome["created"] for outcome in outcomes) == 1
        seen = [await next_event(events, key) for _ in range(20)]
    # Each set is one event, and each event's old value is the previous event's new one.
    for before, after in itertools.pairwise(seen):
        assert after.old == before.new
    final = await link.request("get", {"key": key})
    assert seen[-1].new is not None and final["value"] == seen[-1].new.value
