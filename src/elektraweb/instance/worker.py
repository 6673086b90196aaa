"""The KDB worker: one thread that owns the KDB, so the event loop never waits for files.

Every operation and every change-feed scan runs here, one at a time. That serialises writes
(one writer at a time, as the KDB expects) and orders the daemon's own writes against the
changes the feed finds on disk.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class KDBWorker:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kdb")

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``function`` on the worker thread after everything submitted before it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )

    def shutdown(self) -> None:
        """Finish what was submitted (a write in progress completes), then stop the thread."""
        self._executor.shutdown(wait=True)
