"""What elektrad's own operations work with: the host's KDB, the lock table and the daemon's
identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from elektraweb.instance.locks import LockTable
from elektraweb.kdb.database import KDB
from elektraweb.kdb.search import DEFAULT_SEARCH_LIMITS, SearchLimits
from elektraweb.operations.arguments import Args
from elektraweb.operations.result import OperationResult


@dataclass(frozen=True, slots=True)
class Host:
    """The instance as operations see it. Only the KDB worker thread touches ``kdb``."""

    kdb: KDB
    locks: LockTable
    public_key: str
    hostname: str
    mount_dirs: tuple[Path, ...] = ()  # real paths; remote mounts stay inside (mount_ops)
    search: SearchLimits = DEFAULT_SEARCH_LIMITS
    preview: bool = False
    """Writes make every check, then store nothing: they report what they would change."""


@dataclass(frozen=True, slots=True)
class HostOperation:
    """An operation only elektrad serves, because it needs the host (its version, mounts
    and locks): its name, the argument members it accepts, and its function (which runs on
    the KDB worker thread, one operation at a time)."""

    name: str
    run: Callable[[Host, Args], OperationResult]
    members: frozenset[str]
