"""Login throttling: after a few failed logins for one user name, or from one client address,
further attempts are refused (429 with Retry-After) for a time that doubles with each failure.

The counters live in clusterd's database (`store.login_failures`), so that every replica on one
PostgreSQL database counts the same failures (docs/security.md §6): behind a round-robin
balancer, N replicas must not give an attacker N times the guesses. A failure is one atomic
upsert, an attempt one read. A lockout is not stored but derived from a counter (its failures and
the time of the last), by the rules below, so the database holds data and this module the rules.
Times are wall-clock seconds, the only clock that replicas share.

Both counters apply to names that do not exist exactly as to those that do, so the answers tell
nothing about which users exist. A success clears the user's counter, never the address's: else
an attacker with one account could clear its address between guesses.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from elektraweb.cluster.store.login_failures import LoginFailures

Kind = Literal["user", "address"]
TRACKED_LIMIT = 100_000
"""Counters kept at most (the least recently failed go first), so a flood of names or
addresses cannot fill the database. Each clusterd trims the table after every
`TRACKED_LIMIT // 100` failures it counted, so it holds at most 1 % more per replica."""


@dataclass(frozen=True)
class ThrottleSettings:
    free_failures: int = 5
    """Failures allowed before the first lockout."""
    backoff_seconds: float = 1.0
    """The first lockout; each further failure doubles it."""
    max_backoff_seconds: float = 900.0
    forget_seconds: float = 3600.0
    """A counter without a failure for this long starts again from zero."""

    def lockout_seconds(self, failures: int) -> float | None:
        """How long a counter at `failures` locks after its last failure; None: not at all."""
        if failures < self.free_failures:
            return None
        doublings = failures - max(self.free_failures, 1)
        return min(self.backoff_seconds * 2.0 ** min(doublings, 64), self.max_backoff_seconds)


@dataclass(frozen=True)
class Lockout:
    """A counter that has just locked: what, after how many failures, for how long."""

    kind: Kind
    subject: str
    failures: int
    seconds: float


class LoginThrottle:
    def __init__(
        self,
        failures: LoginFailures,
        settings: ThrottleSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._failures = failures
        self._settings = settings
        self._clock = clock
        self._since_trim = 0

    def retry_after(self, user: str, address: str | None) -> int | None:
        """Whole seconds until an attempt for `user` from `address` is allowed; None: now."""
        now = self._clock()
        waits = []
        for failures, last in self._failures.recent(_keys(user, address), self._forgotten(now)):
            seconds = self._settings.lockout_seconds(failures)
            if seconds is not None and last + seconds > now:
                waits.append(last + seconds - now)
        return math.ceil(max(waits)) if waits else None

    def failed(self, user: str, address: str | None) -> list[Lockout]:
        """Count a failed attempt; the lockouts it starts."""
        now = self._clock()
        keys = _keys(user, address)
        counted = self._failures.count(keys, now, self._forgotten(now))
        lockouts = []
        for kind, subject in keys:
            failures = counted[kind, subject]
            seconds = self._settings.lockout_seconds(failures)
            if seconds is not None:
                lockouts.append(Lockout(kind, subject, failures, seconds))
        self._since_trim += 1
        if self._since_trim >= max(1, TRACKED_LIMIT // 100):
            self._since_trim = 0
            self._failures.trim(self._forgotten(now), TRACKED_LIMIT)
        return lockouts

    def succeeded(self, user: str) -> None:
        self._failures.clear(("user", user))

    def _forgotten(self, now: float) -> float:
        """Counters whose last failure is this old or older start again from zero."""
        return now - self._settings.forget_seconds


def _keys(user: str, address: str | None) -> list[tuple[Kind, str]]:
    keys: list[tuple[Kind, str]] = [("user", user)]
    if address is not None:
        keys.append(("address", address))
    return keys
