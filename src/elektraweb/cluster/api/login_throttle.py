"""Login throttling: after a few failed logins for one user name, or from one client address,
further attempts are refused (429 with Retry-After) for a time that doubles with each failure.

Counters live in memory: a restart forgets them, which costs an attacker a restart of clusterd
per few guesses. Both counters apply to names that do not exist exactly as to those that do, so
the answers tell nothing about which users exist. A success clears the user's counter, never
the address's: else an attacker with one account could clear its address between guesses.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["user", "address"]
TRACKED_LIMIT = 100_000
"""Counters kept at most (the least recently failed go first), so a flood of names or
addresses cannot exhaust memory."""


@dataclass(frozen=True)
class ThrottleSettings:
    free_failures: int = 5
    """Failures allowed before the first lockout."""
    backoff_seconds: float = 1.0
    """The first lockout; each further failure doubles it."""
    max_backoff_seconds: float = 900.0
    forget_seconds: float = 3600.0
    """A counter without a failure for this long starts again from zero."""


@dataclass
class _Failures:
    count: int
    last: float
    locked_until: float


@dataclass(frozen=True)
class Lockout:
    """A counter that has just locked: what, after how many failures, for how long."""

    kind: Kind
    subject: str
    failures: int
    seconds: float


class LoginThrottle:
    def __init__(
        self, settings: ThrottleSettings, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._failures: OrderedDict[tuple[Kind, str], _Failures] = OrderedDict()

    def retry_after(self, user: str, address: str | None) -> int | None:
        """Whole seconds until an attempt for `user` from `address` is allowed; None: now."""
        now = self._clock()
        waits = [
            failures.locked_until - now
            for failures in map(self._current, self._keys(user, address))
            if failures is not None and failures.locked_until > now
        ]
        return math.ceil(max(waits)) if waits else None

    def failed(self, user: str, address: str | None) -> list[Lockout]:
        """Count a failed attempt; the lockouts it starts."""
        now = self._clock()
        lockouts = []
        for kind, subject in self._keys(user, address):
            failures = self._current((kind, subject)) or _Failures(0, now, now)
            failures.count += 1
            failures.last = now
            if failures.count >= self._settings.free_failures:
                doublings = failures.count - max(self._settings.free_failures, 1)
                seconds = min(
                    self._settings.backoff_seconds * 2.0 ** min(doublings, 64),
                    self._settings.max_backoff_seconds,
                )
                failures.locked_until = now + seconds
                lockouts.append(Lockout(kind, subject, failures.count, seconds))
            self._failures[kind, subject] = failures
            self._failures.move_to_end((kind, subject))
        while len(self._failures) > TRACKED_LIMIT:
            self._failures.popitem(last=False)
        return lockouts

    def succeeded(self, user: str) -> None:
        self._failures.pop(("user", user), None)

    def _current(self, key: tuple[Kind, str]) -> _Failures | None:
        failures = self._failures.get(key)
        if failures is not None and failures.last + self._settings.forget_seconds <= self._clock():
            del self._failures[key]
            return None
        return failures

    @staticmethod
    def _keys(user: str, address: str | None) -> list[tuple[Kind, str]]:
        keys: list[tuple[Kind, str]] = [("user", user)]
        if address is not None:
            keys.append(("address", address))
        return keys
