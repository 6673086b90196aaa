"""Giving the heap a burst has freed back to the system (docs/clusters.md, Performance).

A fan-out to 1,000 members or a thousand catch-ups at once allocate and free megabytes of
small buffers in libzmq's and Python's C heaps. glibc keeps freed pages that lie between
pages still in use, so clusterd's resident memory would stay at the burst's peak for good;
`malloc_trim(0)` hands every whole free page back. Elsewhere (musl, macOS) it does nothing.

At its start clusterd also lays the heap out for many long-lived links (`keep_heap_lean`):
buffers of 16 KiB and more get pages of their own. libzmq keeps buffers of 16-18 KiB per
link (by their size: its pipes' message queues and each connection's receive buffer) of
which a quiet link touches a page or two. On the heap they land where a burst (1,000
registrations) left pages touched and freed, and all those pages stay resident while the
link lives, which no trim can undo; mapped apart, only the touched pages are. And the heap
grows by what is asked, without glibc's 128 KiB of padding each time (docs/benchmarks.md,
clusterd's heap).
"""

from __future__ import annotations

import ctypes
from typing import Any

MAPPED_BUFFER_BYTES = 16 * 1024
"""Allocations of this size and up are mapped apart (glibc's M_MMAP_THRESHOLD)."""

MAPPED_BUFFERS_MAX = 32_768
"""At most this many at once (M_MMAP_MAX): half the kernel's default limit of mappings per
process (vm.max_map_count, 65,530), the rest left to Python's arenas and the libraries."""

_M_TOP_PAD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -2, -3, -4  # glibc's malloc.h


def _libc_function(name: str, argtypes: list[Any]) -> Any:
    try:
        libc = ctypes.CDLL(None)  # the C library this process already runs on
    except OSError:
        return None
    function = getattr(libc, name, None)
    if function is not None:
        function.argtypes, function.restype = argtypes, ctypes.c_int
    return function


_TRIM = _libc_function("malloc_trim", [ctypes.c_size_t])
_MALLOPT = _libc_function("mallopt", [ctypes.c_int, ctypes.c_int])


def release_free_memory() -> bool:
    """Return the heap's free pages to the system; False where the C library cannot."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


def keep_heap_lean() -> bool:
    """Serve every allocation of `MAPPED_BUFFER_BYTES` and more by pages of its own, given
    back when it is freed, and grow the heap by no more than asked; False where the C library
    has no `mallopt` or refuses. For the whole process (every thread's heap): call it at
    start, before the first link opens."""
    if _MALLOPT is None:
        return False
    settings = ((_M_MMAP_MAX, MAPPED_BUFFERS_MAX), (_M_MMAP_THRESHOLD, MAPPED_BUFFER_BYTES),
                (_M_TOP_PAD, 0))  # fmt: skip
    return all(_MALLOPT(option, value) for option, value in settings)
