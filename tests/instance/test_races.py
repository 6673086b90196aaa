"""Compare-and-set under contention: of two writers with the same expectation, one wins."""

from __future__ import annotations

import asyncio
from pathlib import Path

from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.keys import KeyPair

from .conftest import Daemon

ROUNDS = 20


async def test_two_clients_racing_on_one_key(tmp_path: Path) -> None:
    alice, bob = KeyPair.generate(), KeyPair.generate()
    daemon = Daemon(tmp_path, alice, allow=(alice.public, bob.public)).start()
    try:
        async with daemon.transport(alice) as first, daemon.transport(bob) as second:
            key = "system:/race/counter"
            await first.request("set", {"key": key, "value": "start"})
            for round_ in range(ROUNDS):
                seen = (await first.request("get", {"key": key}))["revision"]
                outcomes = await asyncio.gather(
                    first.request("set", {"key": key, "value": f"alice {round_}", "expect": seen}),
                    second.request("set", {"key": key, "value": f"bob {round_}", "expect": seen}),
                    return_exceptions=True,
                )
                winners = [o for o in outcomes if isinstance(o, dict)]
                losers = [o for o in outcomes if isinstance(o, RemoteError)]
                assert len(winners) == 1 and len(losers) == 1, outcomes
                assert losers[0].code is ErrorCode.CONFLICT
                assert losers[0].key == key
                current = await first.request("get", {"key": key})
                assert current["revision"] == winners[0]["revision"]
    finally:
        daemon.kill()
