"""clusterd hands memory a burst freed back to the system (clusters/heap_trim.py)."""

from __future__ import annotations

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
