"""Benchmark clusterd replicas: what keeping their leases costs the database, per renewal
round (lane ``leases``), and the REST get rate through three replicas against one (lane
``rest``, bench/replica_rate.py).

    .venv/bin/python bench/replicas.py --database postgresql://user:pw@127.0.0.1/db
    .venv/bin/python bench/replicas.py --database URL --instances 100 --rounds 5  # quick
    .venv/bin/python bench/replicas.py --lane rest                   # 10 s per row
    .venv/bin/python bench/replicas.py --lane rest --seconds 3       # a quick run
    .venv/bin/python bench/replicas.py --lane rest --replica-cpu 0.2 # each replica 0.2 core

The rest lane starts its own throwaway PostgreSQL, the replicas and one elektrad, and needs
wrk, a benchmark tool only that `make install` leaves out (apt-get install wrk); it writes
bench/results/replicas.json. Leases lane:

One replica holding the leases of --instances instances renews them, --rounds times, three
ways: a lease row per instance renewed by one statement each (what "leases per instance" costs
done naively: a round trip per instance), a lease row per instance renewed by one statement,
and clusterd's way, 64 shard leases renewed by one statement (`cluster.replicas.leases`). Each
round trip is timed, and the WAL the round writes (pg_current_wal_lsn before and after) is what
the database pays every second per replica. Its own tables (bench_*), dropped afterwards.
Prints a table and writes bench/results/replicas-leases.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import replica_rate
from clusterd import finish, percentiles_ms
from errors import BenchError
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from elektraweb.cluster.replicas.leases import DEFAULT_SHARDS

RESULTS = Path(__file__).resolve().parent / "results"
_RENEW_ONE = (
    "UPDATE bench_leases SET expires = clock_timestamp() + interval '3 seconds'"
    " WHERE holder = 'me' AND id = %s"
)
_RENEW_ALL = (
    "UPDATE {table} SET expires = clock_timestamp() + interval '3 seconds'"
    " WHERE holder = 'me' RETURNING id"
)


async def _table(connection: AsyncConnection[TupleRow], name: str, rows: int) -> None:
    await connection.execute(f"DROP TABLE IF EXISTS {name}")
    await connection.execute(
        f"CREATE TABLE {name} (id integer PRIMARY KEY, holder text, expires timestamptz)"
    )
    await connection.execute(f"CREATE INDEX ON {name} (holder)")
    await connection.execute(
        f"INSERT INTO {name} SELECT n, 'me', clock_timestamp() FROM generate_series(0, %s) n",
        (rows - 1,),
    )


async def _wal(connection: AsyncConnection[TupleRow]) -> int:
    row = await (await connection.execute("SELECT pg_current_wal_lsn() - '0/0'")).fetchone()
    assert row is not None
    return int(row[0])


async def _measure(
    connection: AsyncConnection[TupleRow], name: str, statements: list[tuple[str, Any]], rounds: int
) -> dict[str, Any]:
    round_seconds, wal_bytes = [], []
    for _ in range(rounds):
        wal_before = await _wal(connection)
        started = time.perf_counter()
        for statement, parameters in statements:
            await connection.execute(statement, parameters)
        round_seconds.append(time.perf_counter() - started)
        wal_bytes.append(await _wal(connection) - wal_before)
    p50, p99 = percentiles_ms(round_seconds)
    return {
        "way": name,
        "round_trips": len(statements),
        "p50_ms": p50,
        "p99_ms": p99,
        "wal_bytes": sorted(wal_bytes)[len(wal_bytes) // 2],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    connection = await AsyncConnection.connect(args.database, autocommit=True)
    try:
        await _table(connection, "bench_leases", args.instances)
        await _table(connection, "bench_shard_leases", DEFAULT_SHARDS)
        each = [(_RENEW_ONE, (instance,)) for instance in range(args.instances)]
        ways = [
            await _measure(connection, "a lease per instance, a statement each", each, args.rounds),
            await _measure(
                connection,
                "a lease per instance, one statement",
                [(_RENEW_ALL.format(table="bench_leases"), None)],
                args.rounds,
            ),
            await _measure(
                connection,
                f"{DEFAULT_SHARDS} shard leases, one statement (clusterd)",
                [(_RENEW_ALL.format(table="bench_shard_leases"), None)],
                args.rounds,
            ),
        ]
    finally:
        await connection.execute("DROP TABLE IF EXISTS bench_leases, bench_shard_leases")
        await connection.close()
    return {"instances": args.instances, "rounds": args.rounds, "ways": ways}


def print_report(report: dict[str, Any]) -> None:
    print(f"renewing the leases of {report['instances']} instances, one replica, once a second")
    print(f"{'way':52}{'round trips':>12}{'p50 ms':>9}{'p99 ms':>9}{'WAL bytes':>11}")
    for way in report["ways"]:
        print(
            f"{way['way']:52}{way['round_trips']:>12}{way['p50_ms']:>9.2f}{way['p99_ms']:>9.2f}"
            f"{way['wal_bytes']:>11}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lane", choices=("leases", "rest"), default="leases")
    parser.add_argument("--database", help="leases: a PostgreSQL URL to measure on")
    parser.add_argument("--instances", type=int, default=1000, help="leases: instances")
    parser.add_argument("--rounds", type=int, default=30, help="leases: renewal rounds per way")
    parser.add_argument("--seconds", type=float, default=10.0, help="rest: per row (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="rest: in all (default 64)")
    parser.add_argument(
        "--replica-cpu", type=float, metavar="SHARE",
        help="rest: cap each replica at SHARE of one core (a cgroup each; root): replicas on "
             "machines of their own, in miniature",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, help="where to write the JSON")
    args = parser.parse_args()
    if args.lane == "rest":
        output = args.output or RESULTS / "replicas.json"
        try:
            return finish(lambda: replica_rate.run(args), replica_rate.print_report, output)
        except BenchError as error:
            print(error, file=sys.stderr)
            return 1
    if args.database is None:
        parser.error("the leases lane needs --database URL")
    output = args.output or RESULTS / "replicas-leases.json"
    return finish(lambda: run(args), print_report, output)


if __name__ == "__main__":
    sys.exit(main())
