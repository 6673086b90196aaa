"""Issue 10 item 1: every put clusterd answers with 200 is in the host's file and in the audit
log, also when many are in flight at once (they share commits) and when both daemons are
SIGKILLed right after the answer. Real processes; files and the audit database are read
straight from disk, not through the daemons."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

from elektraweb.cluster.config import DATABASE_FILE
from elektraweb.kdb.database import KDB
from elektraweb.kdb.mounts import Paths
from support.processes import Clusterd

from .stack import Stack

AREA = "user:/durable"
WRONG_REVISION = "f" * 32


def path(stack: Stack, key: str) -> str:
    return f"/api/instances/{stack.instance}/kdb/{key}"


async def put(stack: Stack, key: str, value: str, query: str = "") -> int:
    status, _body = await stack.admin("PUT", path(stack, key) + query, value)
    return status


def host_values(stack: Stack) -> dict[str, str]:
    """The keys below AREA as the host's files hold them now."""
    env = {"KDB_ROOT": str(stack.host.kdb_root), "HOME": str(stack.host.home)}
    keys = KDB(Paths.from_environ(env, cwd=stack.host.base)).get(AREA)
    return {key.name: key.value for key in keys if isinstance(key.value, str)}


def audit_entries(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    """The audit log's `set` entries of keys below AREA, by key, as its file holds them."""
    connection = sqlite3.connect(stack.clusterd.state / DATABASE_FILE)
    try:
        rows = connection.execute(
            "SELECT key, pending, result FROM audit WHERE action = 'set' AND key LIKE ?",
            (AREA + "/%",),
        ).fetchall()
    finally:
        connection.close()
    found: dict[str, list[dict[str, Any]]] = {}
    for key, pending, result in rows:
        found.setdefault(key, []).append({"pending": bool(pending), **json.loads(result)})
    return found


def assert_recorded(audit: dict[str, list[dict[str, Any]]], key: str, value: str) -> None:
    """`key` = `value` was recorded once, concluded (not pending) and applied."""
    [entry] = [e for e in audit.get(key, []) if e["args"]["value"] == value]
    assert not entry["pending"] and entry["outcome"] == "applied" and entry["ok"], entry


async def test_concurrent_puts_all_land_in_the_file_and_in_the_audit_log(stack: Stack) -> None:
    puts = {f"{AREA}/k{n}": f"v{n}" for n in range(40)}
    statuses = await asyncio.gather(*(put(stack, key, value) for key, value in puts.items()))
    assert statuses == [200] * len(puts)
    stored, audit = host_values(stack), audit_entries(stack)
    for key, value in puts.items():
        assert stored[key] == value
        assert_recorded(audit, key, value)


async def test_a_refused_put_among_concurrent_ones_fails_alone(stack: Stack) -> None:
    refused = {7, 13, 29}
    puts = {f"{AREA}/r{n}": f"v{n}" for n in range(40)}
    statuses = await asyncio.gather(
        *(
            # Compare-and-set against a revision the new key cannot have: a conflict that
            # elektrad finds inside the group the put shares with the others.
            put(stack, key, value, f"?expect={WRONG_REVISION}" if n in refused else "")
            for n, (key, value) in enumerate(puts.items())
        )
    )
    assert {n for n, status in enumerate(statuses) if status != 200} == refused
    assert {statuses[n] for n in refused} == {409}
    stored, audit = host_values(stack), audit_entries(stack)
    for n, (key, value) in enumerate(puts.items()):
        if n in refused:
            assert key not in stored
            [entry] = audit[key]
            assert not entry["pending"] and entry["outcome"] == "refused", entry
        else:
            assert stored[key] == value
            assert_recorded(audit, key, value)


ROUNDS = 4
PUTS_PER_ROUND = 24


async def test_a_put_answered_200_survives_sigkill_of_both_daemons(stack: Stack) -> None:
    acknowledged: dict[str, str] = {}
    unanswered = 0
    try:
        for round_ in range(ROUNDS):
            if round_ > 0:
                await stack.host.start()
                stack.clusterd = await Clusterd(stack.clusterd.state).start()
            unanswered += await _kill_while_putting(stack, round_, acknowledged)
            # Read from disk as the kills left it, before either daemon starts again.
            stored, audit = host_values(stack), audit_entries(stack)
            for key, value in acknowledged.items():
                assert stored.get(key) == value, f"{key} was answered 200 but is not on the host"
                assert_recorded(audit, key, value)
    finally:
        await stack.clusterd.stop()  # one restarted here is not the fixture's to stop
    assert acknowledged, "no put was answered before the kill"
    assert unanswered > 0, "every put was answered before the kill: nothing was in flight"


async def _kill_while_putting(stack: Stack, round_: int, acknowledged: dict[str, str]) -> int:
    """Send PUTS_PER_ROUND puts at once and SIGKILL both daemons the moment the first answer
    is in; add the puts answered 200 to `acknowledged` and return how many were not."""
    puts = {f"{AREA}/c{round_}-{n}": f"round {round_} put {n}" for n in range(PUTS_PER_ROUND)}
    tasks = {
        asyncio.ensure_future(put(stack, key, value)): (key, value) for key, value in puts.items()
    }
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    await asyncio.gather(stack.clusterd.kill(), stack.host.kill())
    for task in tasks:
        task.cancel()  # an answer already in is kept; one still owed is not coming
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    unanswered = 0
    for (key, value), outcome in zip(tasks.values(), outcomes, strict=True):
        if outcome == 200:
            acknowledged[key] = value
        else:  # no answer, or an error from clusterd after the host went away
            unanswered += 1
    return unanswered
