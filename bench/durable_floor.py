"""The storage floor of a durable put: what one put through clusterd waits for the disk.

    .venv/bin/python bench/durable_floor.py              # 300 rounds in a temporary directory
    .venv/bin/python bench/durable_floor.py --rounds 50 --directory /var/tmp

Every put through clusterd is durable before its 200 (issue 10): the host's file is replaced
atomically (a new file written and fsync'd, renamed over the old one, the directory fsync'd)
and the audit log commits twice (the intent before the write reaches the host, the outcome
after), each a SQLite commit with synchronous = FULL in WAL mode. This measures those three
steps with the system calls alone, nothing of ours around them, one at a time as a single
connection's puts are, on the file system of ``--directory``. Their sum is the least a put
waits for storage however little CPU the daemons spend; with one connection no other put
shares its fsyncs. bench/peer.py (`--floor`) measures it next to etcd's put, whose one
fdatasync of its write-ahead log is all etcd waits for, and prints the highest ratio to etcd
that this durability leaves. Prints the table and writes bench/results/durable-floor.json.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clusterd import finish

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "durable-floor.json"
CONTENT = b"[bench]\n" + b"".join(b"k%d = %d\n" % (index, index) for index in range(64))


def replace_file(directory: Path) -> Callable[[int], None]:
    """One atomic, durable replacement of a small file, as the host's file gets per put."""
    target = directory / "app.ini"
    target.write_bytes(CONTENT)

    def step(round_: int) -> None:
        temp = directory / f".app.ini.{round_}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, CONTENT.replace(b"k0 = 0", b"k0 = %d" % round_))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, target)
        folder = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    return step


def commit_row(directory: Path) -> Callable[[int], None]:
    """One SQLite commit of a small row (WAL, synchronous = FULL), as each audit entry is."""
    database = sqlite3.connect(directory / "audit.sqlite3", isolation_level=None)
    database.execute("PRAGMA journal_mode = WAL")
    database.execute("PRAGMA synchronous = FULL")
    database.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, entry TEXT NOT NULL)")

    def step(round_: int) -> None:
        database.execute("BEGIN IMMEDIATE")
        database.execute("INSERT INTO audit (entry) VALUES (?)", (f'{{"round": {round_}}}',))
        database.execute("COMMIT")

    return step


def timed_us(step: Callable[[int], None], rounds: int) -> float:
    """The median time of ``rounds`` calls of ``step``, in microseconds."""
    times = []
    for round_ in range(rounds):
        started = time.perf_counter()
        step(round_)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def measure(directory: Path, rounds: int) -> dict[str, float]:
    """The floor's parts and their sum for one put (median µs), measured in ``directory``."""
    replace_us = timed_us(replace_file(directory), rounds)
    commit_us = timed_us(commit_row(directory), rounds)
    return {"replace_us": replace_us, "commit_us": commit_us, "put_us": replace_us + 2 * commit_us}


def describe(floor: dict[str, float]) -> str:
    return (
        f"durable put floor, one at a time: replace the file {floor['replace_us']:,.0f} us"
        f" + 2 audit commits of {floor['commit_us']:,.0f} us = {floor['put_us']:,.0f} us"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=300, help="per step (default 300)")
    parser.add_argument(
        "--directory", type=Path, default=None, help="where (default: a temporary directory)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()

    async def run() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="bench-floor-", dir=args.directory) as temp:
            return {"rounds": args.rounds, **measure(Path(temp), args.rounds)}

    return finish(run, lambda report: print(describe(report)), args.output)


if __name__ == "__main__":
    sys.exit(main())
