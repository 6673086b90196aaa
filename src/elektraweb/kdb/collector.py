"""Holding back Python's cyclic garbage collector while many lasting objects are built."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Hold back the collector while a file's keys are built.

    Building a key allocates objects that all survive, and every 700 allocations the
    collector runs; in a process that already holds many objects (a daemon, a second big
    file) its full passes over all of them cost more than the building itself. What the
    building leaves as cyclic garbage is collected at the next run after it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
