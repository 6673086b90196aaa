"""Benchmark clusterd's database: one statement on the event loop's thread, SQLite file against
PostgreSQL over loopback, the figure behind running the stores synchronously (docs/storage.md).

    .venv/bin/python bench/store.py                # 2000 of each
    .venv/bin/python bench/store.py --count 200    # a quick run

Both backends in one run, each through `Database` as clusterd opens it: a SQLite file in a
temporary directory, and a throwaway PostgreSQL server (Debian's, initdb in a temporary
directory, as the tests start it) on 127.0.0.1, fsync and synchronous_commit on.

- read: a point read by primary key (a session check that missed the cache), p50 and p99.
- write: one row inserted in its own transaction and committed (fsync'd), p50 and p99.
- grouped: --count audit-sized writes queued at once through the group commit, per write.

Prints a table and writes bench/results/store.json.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clusterd import finish, percentiles_ms

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from elektraweb.cluster.store.connection import Connection  # noqa: E402
from elektraweb.cluster.store.database import Database  # noqa: E402
from support.postgres import start_server  # noqa: E402

RESULTS = HERE / "results" / "store.json"


def timed(count: int, call: Callable[[int], object]) -> list[float]:
    took = []
    for serial in range(count):
        started = time.perf_counter()
        call(serial)
        took.append(time.perf_counter() - started)
    return took


def measure(database: Database, count: int) -> dict[str, Any]:
    db = database.connection
    db.execute("INSERT INTO users (name, password_hash, role) VALUES ('ada', 'x', 'admin')")

    def read(_: int) -> None:
        db.execute("SELECT name, role FROM users WHERE name = ?", ("ada",)).fetchone()

    def write(serial: int) -> None:
        with database.transaction() as tx:
            tx.execute(
                'INSERT INTO sessions (token_hash, "user", expires) VALUES (?, ?, ?)',
                (f"bench-{serial}", "ada", 0.0),
            )

    def audit_write(serial: int) -> Callable[[Connection], None]:
        def insert(tx: Connection) -> None:
            tx.execute(
                'INSERT INTO sessions (token_hash, "user", expires) VALUES (?, ?, ?)',
                (f"grouped-{serial}", "ada", 0.0),
            )

        return insert

    async def grouped() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(database.group_commit.run(audit_write(n)) for n in range(count)))
        return (time.perf_counter() - started) / count

    row: dict[str, Any] = {}
    for name, call in (("read", read), ("write", write)):
        p50, p99 = percentiles_ms(timed(count, call))
        row[f"{name}_p50_ms"], row[f"{name}_p99_ms"] = p50, p99
    row["grouped_per_write_ms"] = asyncio.run(grouped()) * 1e3
    return row


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as directory:
        database = Database.open(Path(directory) / "clusterd.sqlite3")
        try:
            rows["sqlite"] = await asyncio.to_thread(measure, database, args.count)
        finally:
            database.close()
    server = start_server()
    postgres = next(server)
    try:
        database = Database.open(postgres.create_database("bench"))
        try:
            rows["postgresql"] = await asyncio.to_thread(measure, database, args.count)
        finally:
            database.close()
    finally:
        server.close()  # stops and deletes the throwaway server
    return {"count": args.count, "backends": rows}


def print_report(report: dict[str, Any]) -> None:
    print(f"{'backend':<12}{'read p50':>10}{'read p99':>10}{'write p50':>11}{'write p99':>11}"
          f"{'grouped/write':>15}   (ms, {report['count']} each)")  # fmt: skip
    for name, row in report["backends"].items():
        print(f"{name:<12}{row['read_p50_ms']:>10.3f}{row['read_p99_ms']:>10.3f}"
              f"{row['write_p50_ms']:>11.3f}{row['write_p99_ms']:>11.3f}"
              f"{row['grouped_per_write_ms']:>15.3f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="statements of each kind")
    args = parser.parse_args()
    return finish(lambda: run(args), print_report, RESULTS)


if __name__ == "__main__":
    sys.exit(main())
