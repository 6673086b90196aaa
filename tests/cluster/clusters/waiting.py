"""Waiting for the cluster service's background work, which tests see finish rather than time."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from typing import Any

from elektraweb.cluster.events.hub import Publication, Subscription

from ..fakes import Client


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Wait until `check()` (or, for a coroutine function, what it returns when awaited) is
    truthy and return it."""
    async with asyncio.timeout(timeout):
        while True:
            result = check()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result
            await asyncio.sleep(0.01)


def data_of(publication: Publication) -> Any:
    """The publication's data as a subscriber on `/zmq/events` receives it."""
    return json.loads(publication.payload)


async def next_event(subscription: Subscription, timeout: float = 5.0) -> Publication:
    async with asyncio.timeout(timeout):
        return await anext(subscription)


async def audited_unlocks(admin: Client, instance_id: int) -> list[dict[str, Any]]:
    """The audit log's `unlock` entries of the instance, oldest first: the locks clusterd
    released on its own (recorded once the member answered the unlock)."""
    entries: list[dict[str, Any]] = (await admin.get(f"/api/audit?instance={instance_id}")).body
    return [entry for entry in reversed(entries) if entry["action"] == "unlock"]
