"""Giving the heap a burst has freed back to the system (docs/clusters.md, Performance).

A fan-out to 1,000 members or a thousand catch-ups at once allocate and free megabytes of
small buffers in libzmq's and Python's C heaps. glibc keeps freed pages that lie between
pages still in use, so clusterd's resident memory would stay at the burst's peak for good;
`malloc_trim(0)` hands every whole free page back. Elsewhere (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the C library this process already runs on
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Return the heap's free pages to the system; False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
