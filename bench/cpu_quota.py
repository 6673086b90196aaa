"""Processes on machines of their own, in miniature: each confined to a share of one core by a
cgroup (v1 ``cpu`` controller, cfs quota) of its own.

Three replicas on a 2-core machine that also runs elektrad, PostgreSQL and wrk share the same two
cores, so adding replicas cannot add capacity there (docs/benchmarks.md). Capping each replica at
the same share, well below what the machine has left, measures what the aim is about instead:
whether replicas share a bottleneck (the database, elektrad, a lock), or whether each one's
capacity adds up. The same holds for a cluster write's ten members, each of which is a host of
its own where it runs (bench/clusterd.py ``--cpu-share``). Needs root and a writable
``/sys/fs/cgroup/cpu``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from errors import BenchError

CPU_CONTROLLER = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 10_000


class CpuQuotas:
    """One cgroup per confined process, each allowed `share` of one core; `release` moves
    what is left back to the root group and removes the groups."""

    def __init__(self, share: float, option: str) -> None:
        """``option``: the command line's name for ``share``, for the errors."""
        if not 0 < share <= 1:
            raise BenchError(f"{option} must be above 0 and at most 1, not {share}")
        if not os.access(CPU_CONTROLLER / "cgroup.procs", os.W_OK):
            raise BenchError(
                f"{option} needs root and the cgroup v1 cpu controller at {CPU_CONTROLLER}"
            )
        self.share = share
        self.groups: list[Path] = []

    def confine(self, pid: int, name: str) -> None:
        group = CPU_CONTROLLER / f"elektraweb-bench-{os.getpid()}-{name}"
        group.mkdir()
        self.groups.append(group)
        # A short period spreads the share evenly: with the default 100 ms, a replica would
        # spend its share in a burst and then stall every request for the rest of the period.
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(int(PERIOD_US * self.share)))
        (group / "cgroup.procs").write_text(str(pid))  # all its threads go with it

    def release(self) -> None:
        for group in self.groups:
            for pid in (group / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                    (CPU_CONTROLLER / "cgroup.procs").write_text(pid)
            group.rmdir()
        self.groups.clear()
