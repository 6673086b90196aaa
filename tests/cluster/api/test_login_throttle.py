"""The login throttle's counters on their own, in a real database of each kind (a SQLite file,
a PostgreSQL database), with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from elektraweb.cluster.api import login_throttle
from elektraweb.cluster.api.login_throttle import LoginThrottle, ThrottleSettings
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.login_failures import LoginFailures


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def database(database_location: Path | str) -> Iterator[Database]:
    opened = Database.open(database_location)
    yield opened
    opened.close()


def throttle_on(database: Database, settings: ThrottleSettings, clock: Clock) -> LoginThrottle:
    return LoginThrottle(LoginFailures(database), settings, clock)


def test_a_counter_without_failures_for_a_while_starts_again(database: Database) -> None:
    clock = Clock()
    throttle = throttle_on(database, ThrottleSettings(free_failures=2, forget_seconds=60), clock)
    throttle.failed("admin", "10.0.0.1")
    clock.now += 61
    assert throttle.failed("admin", "10.0.0.1") == []  # the first failure is forgotten
    [user, address] = throttle.failed("admin", "10.0.0.1")
    assert (user.kind, user.failures, address.kind) == ("user", 2, "address")
    assert throttle.retry_after("admin", None) == 1
    assert throttle.retry_after("someone", "10.0.0.1") == 1
    assert throttle.retry_after("someone", "10.0.0.2") is None


def test_lockouts_grow_to_the_maximum_and_a_success_clears_only_the_user(
    database: Database,
) -> None:
    clock = Clock()
    settings = ThrottleSettings(free_failures=1, max_backoff_seconds=5)
    throttle = throttle_on(database, settings, clock)
    seconds = [throttle.failed("admin", "10.0.0.1")[0].seconds for _ in range(5)]
    assert seconds == [1, 2, 4, 5, 5]
    assert throttle.retry_after("admin", None) == 5
    throttle.succeeded("admin")
    assert throttle.retry_after("admin", None) is None
    assert throttle.retry_after("admin", "10.0.0.1") == 5
    clock.now += 5
    assert throttle.retry_after("admin", "10.0.0.1") is None


def test_two_throttles_on_one_database_count_the_same_failures(database: Database) -> None:
    """What two replicas do: each counts its share, both lock."""
    clock, settings = Clock(), ThrottleSettings(free_failures=4)
    one, other = throttle_on(database, settings, clock), throttle_on(database, settings, clock)
    for throttle in (one, other, one):
        assert throttle.failed("admin", None) == []
    [lockout] = other.failed("admin", None)
    assert (lockout.failures, lockout.seconds) == (4, 1)
    assert one.retry_after("admin", None) == other.retry_after("admin", None) == 1


def test_the_counters_are_bounded_forgotten_ones_first_then_the_least_recent(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(login_throttle, "TRACKED_LIMIT", 4)  # every failure trims
    clock = Clock()
    throttle = throttle_on(database, ThrottleSettings(free_failures=0, forget_seconds=60), clock)
    throttle.failed("old", "10.0.0.1")
    clock.now += 61
    for name in ("a", "b", "c"):
        throttle.failed(name, None)  # the first of them drops both forgotten counters
        clock.now += 0.25
    throttle.failed("d", "10.0.0.9")  # 5 counters: "a" goes
    assert throttle.retry_after("a", None) is None
    assert throttle.retry_after("b", None) == 1
    rows = database.connection.execute(
        "SELECT kind, subject FROM login_failures ORDER BY kind, subject"
    ).fetchall()
    assert [(row["kind"], row["subject"]) for row in rows] == [
        ("address", "10.0.0.9"),
        ("user", "b"),
        ("user", "c"),
        ("user", "d"),
    ]
