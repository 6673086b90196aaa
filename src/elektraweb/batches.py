"""Work done in batches for many waiting callers (elektrad's group of sets, clusterd's group
commit): each caller still gets its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


def settle(settled: Iterable[tuple[asyncio.Future[Any], Any]]) -> None:
    """Hand each future its outcome: an exception is raised to its caller, anything else is
    its result. A caller that stopped waiting (a cancelled future) is skipped."""
    for future, outcome in settled:
        if future.cancelled():
            continue
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
