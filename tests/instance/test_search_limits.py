"""elektrad's --search-budget and --search-limit: a find stops and says so, a larger limit is
refused naming the bound."""

from __future__ import annotations

from pathlib import Path

from elektraweb.wire.errors import ErrorCode, RemoteError
from elektraweb.wire.keys import KeyPair

from .conftest import Daemon


async def test_a_find_stops_at_the_configured_budget_and_limit(
    tmp_path: Path, client_keys: KeyPair
) -> None:
    # A budget of a nanosecond is spent before the second key: the find stops there.
    options = ("--search-budget", "0.000000001", "--search-limit", "5")
    daemon = Daemon(tmp_path, client_keys, options=options).start()
    try:
        async with daemon.transport() as link:
            for i in range(10):
                await link.request("set", {"key": f"user:/many/k{i}", "value": "v"})
            found = await link.request("find", {"regex": "k", "under": "user:/many"})
            assert (found["truncated"], found["budget_exceeded"]) == (True, True)
            assert len(found["keys"]) < 10
            try:
                await link.request("find", {"regex": "k", "limit": 6})
            except RemoteError as error:
                assert error.code is ErrorCode.BAD_REQUEST
                assert "from 1 to 5" in error.message
            else:
                raise AssertionError("a limit above --search-limit was accepted")
    finally:
        daemon.kill()
