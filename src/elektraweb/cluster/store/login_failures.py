"""The login throttle's counters (`login_failures`): failed logins per user name and per client
address, and the time of the last, in the database that every clusterd replica shares. The
rules that make lockouts of them are `cluster.api.login_throttle`'s."""

from __future__ import annotations

from collections.abc import Sequence

from elektraweb.cluster.store.database import Database

Counter = tuple[str, str]
"""What a counter counts: its kind (`user`, `address`) and subject (the name, the address)."""


def _parameters(counters: Sequence[Counter]) -> list[str]:
    return [part for counter in counters for part in counter]


class LoginFailures:
    def __init__(self, database: Database) -> None:
        self._db = database

    def recent(self, counters: Sequence[Counter], since: float) -> list[tuple[int, float]]:
        """Failures and time of the last failure of each of `counters` that failed after
        `since`."""
        rows = self._db.connection.execute(
            "SELECT failures, last_failure FROM login_failures WHERE last_failure > ? AND ("
            + " OR ".join(["(kind = ? AND subject = ?)"] * len(counters))
            + ")",
            (since, *_parameters(counters)),
        )
        return [(int(row["failures"]), float(row["last_failure"])) for row in rows]

    def count(self, counters: Sequence[Counter], now: float, since: float) -> dict[Counter, int]:
        """Count a failure at `now` on each of `counters` (one that did not fail after `since`
        starts again from one) in one statement, atomic against every other clusterd's; the
        failures each has now."""
        rows = self._db.connection.execute(
            "INSERT INTO login_failures (kind, subject, failures, last_failure) VALUES "
            + ", ".join(["(?, ?, 1, ?)"] * len(counters))
            + " ON CONFLICT (kind, subject) DO UPDATE SET failures = CASE"
            " WHEN login_failures.last_failure <= ? THEN 1"
            " ELSE login_failures.failures + 1 END,"
            " last_failure = excluded.last_failure"
            " RETURNING kind, subject, failures",
            (*(part for counter in counters for part in (*counter, now)), since),
        )
        return {(row["kind"], row["subject"]): int(row["failures"]) for row in rows}

    def clear(self, counter: Counter) -> None:
        self._db.connection.execute(
            "DELETE FROM login_failures WHERE kind = ? AND subject = ?", counter
        )

    def trim(self, since: float, limit: int) -> None:
        """Drop the counters without a failure after `since`, then the least recently failed
        beyond `limit`."""
        with self._db.transaction() as db:
            db.execute("DELETE FROM login_failures WHERE last_failure <= ?", (since,))
            row = db.execute("SELECT count(*) AS counters FROM login_failures").fetchone()
            excess = 0 if row is None else int(row["counters"]) - limit
            if excess > 0:
                db.execute(
                    "DELETE FROM login_failures WHERE (kind, subject) IN (SELECT kind, subject"
                    " FROM login_failures ORDER BY last_failure, kind, subject LIMIT ?)",
                    (excess,),
                )
