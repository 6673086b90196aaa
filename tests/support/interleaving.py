"""Two clusterd replicas' transactions interleaved at the worst moment, on either backend: the
first is paused right after the statement that checks its rule, until the second has either
finished or is seen waiting for the first (docs/architecture.md, The rule on check-then-write).

Each replica is a `Database` of its own on the same SQLite file or PostgreSQL database, as two
clusterd processes have. On PostgreSQL "waiting" is a lock of the second's session that is not
granted (`pg_locks`, asked on a third connection); on SQLite, whose transactions take the write
lock as they begin, it is the second beginning its transaction (it then waits for the first's
commit, or begins after it: either way it runs after the first).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from elektraweb.cluster.store.connection import Connection, Cursor, Parameters
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.errors import StoreError

Won = TypeVar("Won")
Refused = TypeVar("Refused", bound=Exception)

WAIT_STEPS = 400
"""How often the paused transaction looks whether the other has caught up (every 25 ms)."""


class PausingAfter:
    """A `Connection` that calls `pause` once, right after the first statement (or run of one
    statement, `executemany`) containing `marker` ran (None: never); and `began` whenever it
    begins a transaction."""

    def __init__(
        self,
        inner: Connection,
        marker: str | None,
        pause: Callable[[], None],
        began: Callable[[], None] = lambda: None,
    ) -> None:
        self.inner, self._marker, self._pause, self._began = inner, marker, pause, began
        self.dialect = inner.dialect
        self._paused = False

    def execute(self, sql: str, parameters: Parameters = ()) -> Cursor:
        cursor = self.inner.execute(sql, parameters)
        self._ran(sql)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> None:
        self.inner.executemany(sql, rows)
        self._ran(sql)

    def _ran(self, sql: str) -> None:
        if self._marker is not None and self._marker in sql and not self._paused:
            self._paused = True
            self._pause()

    def begin(self) -> None:
        self._began()
        self.inner.begin()

    @property
    def in_transaction(self) -> bool:
        return self.inner.in_transaction

    def close(self) -> None:
        self.inner.close()


@dataclass
class Step:
    """What one replica does: `act` on `database`, having checked its rule once a statement
    containing `marker` ran (where `interleave` pauses the first step; the second's is not
    used). `outcome` is what `act` returned or the exception it raised."""

    database: Database
    marker: str
    act: Callable[[], object]
    outcome: object = None

    def run(self) -> None:
        try:
            self.outcome = self.act()
        except StoreError as refused:
            self.outcome = refused
        except Exception as failed:  # a broken constraint, say: the test names it
            self.outcome = failed


def _waiting_for_a_lock(monitor: Database) -> bool:
    row = monitor.connection.execute(
        "SELECT count(*) AS waiting FROM pg_locks WHERE NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ).fetchone()
    return row is not None and row["waiting"] > 0


def interleave(steps: Sequence[Step], location: Path | str) -> None:
    """Run the first of the two `steps` up to its check, then the second, then let the first
    go on once the second has finished or waits for it; both outcomes are in the steps
    afterwards. `location` opens the monitor that sees PostgreSQL's waiting locks."""
    first, second = steps
    first_checked, second_done_or_waiting = threading.Event(), threading.Event()
    on_postgresql = first.database.connection.dialect == "postgresql"
    monitor = Database.open(location) if on_postgresql else None

    def hold() -> None:
        first_checked.set()
        for _ in range(WAIT_STEPS):
            if second_done_or_waiting.is_set() or (
                monitor is not None and _waiting_for_a_lock(monitor)
            ):
                return
            threading.Event().wait(0.025)
        raise AssertionError("the second replica neither finished nor waited for the first")

    def run_second() -> None:
        try:
            second.run()
        finally:
            second_done_or_waiting.set()

    connections = first.database.connection, second.database.connection
    first.database.connection = PausingAfter(connections[0], first.marker, hold)
    began = (lambda: None) if on_postgresql else second_done_or_waiting.set
    second.database.connection = PausingAfter(connections[1], None, lambda: None, began)
    try:
        threads = [threading.Thread(target=first.run)]
        threads[0].start()
        if not first_checked.wait(10):
            threads[0].join()
            raise AssertionError(f"the first replica never ran its check: {first.outcome!r}")
        threads.append(threading.Thread(target=run_second))
        threads[1].start()
        for thread in threads:
            thread.join()
    finally:
        first.database.connection, second.database.connection = connections
        if monitor is not None:
            monitor.close()


def one_won(steps: Sequence[Step], won: type[Won], refused: type[Refused]) -> tuple[Won, Refused]:
    """The outcome of the one step that won (a `won`) and of the one refused (a `refused`),
    whichever ran first; fails naming both outcomes otherwise."""
    outcomes = [step.outcome for step in steps]
    winners = [outcome for outcome in outcomes if isinstance(outcome, won)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, refused)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    return winners[0], losers[0]
