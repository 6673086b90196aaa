"""Whether some process holds a file open for writing, asked of the kernel through a lease.

Linux grants a read lease (``F_SETLEASE``, ``F_RDLCK``) only while no process has the file
open for writing, so trying to take one and letting it go at once answers the question for
every process on the host, without walking ``/proc``. The change feed uses it not to read a
file an editor has truncated and not filled again: that writer's close is seen by the watch
and brings another look.

The lease is held for two system calls. A writer that opens the file in between waits until
it is given back, and the kernel tells the holder with a signal: ``SIGURG`` here, whose
default is to be ignored, not ``SIGIO``, whose default ends the process.
"""

from __future__ import annotations

import errno
import fcntl
import os
import signal
from pathlib import Path


def held_open_for_writing(path: Path) -> bool:
    """True while a process has ``path`` open for writing. False when it has not, when the
    file does not exist, and when the kernel will not say (leases are only for the file's
    owner or a process with ``CAP_LEASE``, and not on every filesystem)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETSIG, signal.SIGURG)
        try:
            fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
        except OSError as error:
            return error.errno == errno.EAGAIN
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)
