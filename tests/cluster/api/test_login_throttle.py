"""The login throttle's counters on their own, with a clock the test moves."""

from __future__ import annotations

import pytest

from elektraweb.cluster.api import login_throttle
from elektraweb.cluster.api.login_throttle import LoginThrottle, ThrottleSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_counter_without_failures_for_a_while_starts_again() -> None:
    clock = Clock()
    throttle = LoginThrottle(ThrottleSettings(free_failures=2, forget_seconds=60), clock)
    throttle.failed("admin", "10.0.0.1")
    clock.now += 61
    assert throttle.failed("admin", "10.0.0.1") == []  # the first failure is forgotten
    [user, address] = throttle.failed("admin", "10.0.0.1")
    assert (user.kind, user.failures, address.kind) == ("user", 2, "address")
    assert throttle.retry_after("admin", None) == 1
    assert throttle.retry_after("someone", "10.0.0.1") == 1
    assert throttle.retry_after("someone", "10.0.0.2") is None


def test_lockouts_grow_to_the_maximum_and_a_success_clears_only_the_user() -> None:
    clock = Clock()
    throttle = LoginThrottle(ThrottleSettings(free_failures=1, max_backoff_seconds=5), clock)
    seconds = [throttle.failed("admin", "10.0.0.1")[0].seconds for _ in range(5)]
    assert seconds == [1, 2, 4, 5, 5]
    assert throttle.retry_after("admin", None) == 5
    throttle.succeeded("admin")
    assert throttle.retry_after("admin", None) is None
    assert throttle.retry_after("admin", "10.0.0.1") == 5
    clock.now += 5
    assert throttle.retry_after("admin", "10.0.0.1") is None


def test_memory_is_bounded_by_forgetting_the_least_recent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(login_throttle, "TRACKED_LIMIT", 4)
    throttle = LoginThrottle(ThrottleSettings(free_failures=0), Clock())
    for name in ("a", "b", "c"):
        throttle.failed(name, None)
    throttle.failed("d", "10.0.0.9")  # 5 counters: "a" goes
    assert throttle.retry_after("a", None) is None
    assert throttle.retry_after("b", None) == 1
