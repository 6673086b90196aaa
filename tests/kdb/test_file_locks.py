"""Cooperative locks: a lock another process holds is a conflict once the timeout passes."""

import subprocess
import sys
from pathlib import Path

import pytest

from elektraweb.kdb import file_locks
from elektraweb.kdb.errors import ConflictError

HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_lock_held_by_another_process_is_a_conflict_after_the_timeout(tmp_path: Path) -> None:
    target = tmp_path / "app.toml"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(file_locks.lock_path(target))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(ConflictError) as caught, file_locks.locked([target], timeout=0.2):
            pass
        assert caught.value.code == "C02000"
        assert str(target) in caught.value.message
    finally:
        holder.communicate("")
    with file_locks.locked([target], timeout=0.2):
        assert file_locks.lock_path(target).exists()
