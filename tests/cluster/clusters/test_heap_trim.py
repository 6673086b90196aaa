"""clusterd hands memory a burst freed back to the system (clusters/heap_trim.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from elektraweb.cluster.clusters.heap_trim import release_free_memory

BLOCKS, KEEP_EVERY = 40_000, 16  # 3 kB each: C heap, not Python's small-object arenas


def resident_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def test_pages_left_free_between_live_blocks_go_back_to_the_system() -> None:
    blocks = [bytes(3000) for _ in range(BLOCKS)]
    kept = blocks[::KEEP_EVERY]  # one live block every 48 kB pins the heap's top
    freed_kb = 3 * (BLOCKS - len(kept))
    del blocks
    before = resident_kb()

    assert release_free_memory()

    assert before - resident_kb() > freed_kb // 2
    assert len(kept) == BLOCKS // KEEP_EVERY


# In a process of its own: the settings are process-wide. A burst of request-sized buffers
# freed between small live objects, then a thousand links' worth of 16 kB buffers of which
# one page is touched (libzmq's, per link), then a trim: what stays resident.
QUEUES, QUEUE_BYTES = 2_000, 16_400
_BURST_THEN_QUEUES = f"""
import ctypes, sys
from pathlib import Path
from elektraweb.cluster.clusters.heap_trim import keep_heap_lean, release_free_memory

def resident_kb():
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0])

if sys.argv[1] == "mapped":
    assert keep_heap_lean()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
before = resident_kb()
bodies, live = [], []
for _ in range(1_000):
    bodies.append(bytes(65_536))
    live.append(bytes(600))
del bodies
queues = [libc.malloc({QUEUE_BYTES}) for _ in range({QUEUES})]
for queue in queues:
    ctypes.memset(queue, 1, 64)
release_free_memory()
print(resident_kb() - before)
"""


def kept_after_burst_kb(layout: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", _BURST_THEN_QUEUES, layout],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return int(run.stdout)


def test_a_lean_heap_keeps_only_the_touched_pages_of_buffers_allocated_after_a_burst() -> None:
    queues_kb = QUEUES * QUEUE_BYTES // 1024

    # On the heap the queues fill the pages the burst touched and freed: they stay resident.
    assert kept_after_burst_kb("heap") > queues_kb * 3 // 4
    # Mapped apart: one page each.
    assert kept_after_burst_kb("mapped") < queues_kb // 2
