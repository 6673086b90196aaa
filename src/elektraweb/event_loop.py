"""The event loop both daemons run on: uvloop's (libuv), not asyncio's default selector loop.

Per request the daemons do little but move bytes between sockets and hand them to callbacks,
the part uvloop does in C; docs/benchmarks.md has what it gives (REST against etcd).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a new uvloop event loop, as `asyncio.run` does."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
