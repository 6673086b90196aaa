"""What every operation works with: the host's KDB, the lock table and the daemon's identity."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elektraweb.instance.arguments import Args
from elektraweb.instance.locks import LockTable
from elektraweb.kdb.database import KDB
from elektraweb.kdb.key import Key
from elektraweb.kdb.search import DEFAULT_SEARCH_LIMITS, SearchLimits


@dataclass(frozen=True, slots=True)
class Change:
    """One key as a write left it: ``old`` None for a created key, ``new`` None for a removed."""

    key: str
    old: Key | None
    new: Key | None


@dataclass(slots=True)
class Outcome:
    """An operation's result (the reply's ``result``) and the keys it changed."""

    result: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    off_worker: Callable[[], dict[str, Any]] | None = None
    """Work that needs no KDB, such as a find's matching: it runs after the worker is done
    with the operation (on the search thread), and its return value is the result."""


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
class Operation:
    """A protocol operation: its name, the argument members it accepts, and its function
    (which runs on the KDB worker thread, one operation at a time)."""

    name: str
    run: Callable[[Host, Args], Outcome]
    members: frozenset[str]
