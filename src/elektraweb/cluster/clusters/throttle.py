"""At most one call per key and interval, with leading and trailing edge (docs/clusters.md,
Sync states).

A cluster's status is recomputed over all its members; each member's sync asks for it, so
N members catching up at once would cost N x N. The throttle runs the first request at
once, folds every request within the interval into one run at its end, and so never
loses the last state: a run always follows the last request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DEFAULT_INTERVAL_SECONDS = 0.1


class Throttle:
    """Calls `run(key)` for `request(key)`, at most once per `interval` seconds per key.
    Must be used on the event loop, which runs the trailing calls."""

    def __init__(
        self, run: Callable[[int], None], interval: float = DEFAULT_INTERVAL_SECONDS
    ) -> None:
        self._run = run
        self._interval = interval
        self._last: dict[int, float] = {}
        self._trailing: dict[int, asyncio.TimerHandle] = {}

    def request(self, key: int) -> None:
        if key in self._trailing:
            return  # the scheduled run reads the state as it is then
        since = time.monotonic() - self._last.get(key, -self._interval)
        if since >= self._interval:
            self._fire(key)
            return
        loop = asyncio.get_running_loop()
        self._trailing[key] = loop.call_later(self._interval - since, self._fire_trailing, key)

    def _fire_trailing(self, key: int) -> None:
        del self._trailing[key]
        self._fire(key)

    def _fire(self, key: int) -> None:
        self._last[key] = time.monotonic()
        self._run(key)

    def close(self) -> None:
        """Drop the runs not yet due."""
        for handle in self._trailing.values():
            handle.cancel()
        self._trailing.clear()
