"""Finding keys by a regular expression, as ``find`` does on an instance and on a cluster.

The pattern is a POSIX extended regex matched by RE2 (:mod:`elektraweb.kdb.posixre`), so each
match is linear in the text. A search over many keys is still bounded: it stops at a result
limit and at a time budget, and says so (``truncated``, ``budget_exceeded``) instead of
holding the thread that runs it for as long as the key database is large.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from elektraweb.kdb.posixre import PosixRegex, PosixRegexError, compile_ere

T = TypeVar("T")

SWITCH_INTERVAL_SECONDS = 0.0005
"""How long another thread waits for the GIL while a search holds it (Python's default: 5 ms)."""

DEFAULT_LIMIT = 1000
"""Results when the client asks for no ``limit``."""


@dataclass(frozen=True)
class SearchLimits:
    """How far one search may go; a daemon's operator may change these."""

    budget_seconds: float = 0.5
    """Time one search may take before it stops and answers what it found so far."""
    max_results: int = 10_000
    """The largest ``limit`` a client may ask for."""
    max_pattern_chars: int = 4096
    """Longest pattern accepted (RE2 also refuses automata over 8 MiB)."""

    def __post_init__(self) -> None:
        if not 0 < self.budget_seconds <= 3600:
            raise ValueError(f"search budget {self.budget_seconds} s is not within (0, 3600]")
        if self.max_results < 1:
            raise ValueError(f"search result limit {self.max_results} must be at least 1")
        if self.max_pattern_chars < 1:
            raise ValueError(f"longest pattern {self.max_pattern_chars} must be at least 1")

    @property
    def default_limit(self) -> int:
        return min(DEFAULT_LIMIT, self.max_results)


DEFAULT_SEARCH_LIMITS = SearchLimits()


@dataclass(frozen=True)
class SearchResult:
    keys: list[str]
    truncated: bool
    """More keys may match: the result limit or the time budget stopped the search."""
    budget_exceeded: bool

    def reply(self) -> dict[str, Any]:
        return {
            "keys": self.keys,
            "truncated": self.truncated,
            "budget_exceeded": self.budget_exceeded,
        }


def compile_pattern(pattern: str, limits: SearchLimits) -> PosixRegex:
    """The compiled search pattern; PosixRegexError says what is wrong with it."""
    if len(pattern) > limits.max_pattern_chars:
        raise PosixRegexError(
            f"pattern has {len(pattern)} characters, more than {limits.max_pattern_chars}"
        )
    return compile_ere(pattern)


def search_keys(
    candidates: Iterable[tuple[str, str | None]],
    regex: PosixRegex,
    *,
    in_values: bool,
    limit: int,
    budget_seconds: float,
    clock: Callable[[], float] = time.monotonic,
) -> SearchResult:
    """Names among ``candidates`` (name, text value or None) whose name, or with
    ``in_values`` whose value, the regex matches; in the order given."""
    found: list[str] = []
    deadline = clock() + budget_seconds
    for name, value in candidates:
        if clock() >= deadline:
            return SearchResult(found, truncated=True, budget_exceeded=True)
        if regex.search(name) or (in_values and value is not None and regex.search(value)):
            if len(found) == limit:
                return SearchResult(found, truncated=True, budget_exceeded=False)
            found.append(name)
    return SearchResult(found, truncated=False, budget_exceeded=False)


class SearchThread:
    """The one thread a daemon searches on, one search at a time.

    Between RE2 calls a search holds the GIL; with one search running, the event loop and
    the KDB worker get most of it, however many searches clients send at once (the others
    wait their turn without using any CPU). Making one sets the process's switch interval to
    `SWITCH_INTERVAL_SECONDS`, so that they also get it soon."""

    def __init__(self) -> None:
        # While a search holds the GIL, a thread woken by I/O (the event loop) waits for it up
        # to the switch interval: 5 ms by default, paid at every wake-up of every request.
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")

    async def run(self, search: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, search)

    def shutdown(self) -> None:
        """Drop searches that wait; the one running finishes within its budget."""
        self._pool.shutdown(wait=True, cancel_futures=True)
