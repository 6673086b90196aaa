"""Group commit on clusterd's real SQLite file: concurrent writes share one transaction (one
append to the WAL, one fsync), and each caller still gets its own result or error."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from elektraweb.cluster.store.database import Database

FULL = 2  # PRAGMA synchronous: the WAL is fsync'd at every commit


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "clusterd.sqlite3")
    database.connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT UNIQUE)")
    yield database
    database.close()


def note(text: str) -> Callable[[sqlite3.Connection], int | None]:
    def write(db: sqlite3.Connection) -> int | None:
        return db.execute("INSERT INTO notes (text) VALUES (?)", (text,)).lastrowid

    return write


def stored(database: Database) -> list[str]:
    rows = database.connection.execute("SELECT text FROM notes ORDER BY id")
    return [row[0] for row in rows]


def wal_frames(database: Database) -> int:
    """Frames appended to the WAL since the last call (which empties it)."""
    _busy, frames, _done = database.connection.execute("PRAGMA wal_checkpoint").fetchone()
    database.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return int(frames)


async def test_a_failing_write_is_rolled_back_alone(database: Database) -> None:
    def half_then_fail(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO notes (text) VALUES ('half')")
        db.execute("INSERT INTO notes (text) VALUES ('a0')")  # taken by the first write

    writes = [database.group_commit.run(note(f"a{n}")) for n in range(10)]
    writes.insert(5, database.group_commit.run(half_then_fail))
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    assert isinstance(outcomes[5], sqlite3.IntegrityError)
    assert all(isinstance(outcome, int) for n, outcome in enumerate(outcomes) if n != 5)
    assert stored(database) == [f"a{n}" for n in range(10)]  # nothing of the failed write


async def test_concurrent_writes_share_one_commit(database: Database) -> None:
    wal_frames(database)
    for n in range(50):
        await database.group_commit.run(note(f"one by one {n}"))
    alone = wal_frames(database)
    await asyncio.gather(*(database.group_commit.run(note(f"together {n}")) for n in range(50)))
    together = wal_frames(database)
    assert len(stored(database)) == 100
    # Each commit appends the changed pages to the WAL and fsyncs it: 50 commits at least 50
    # appends; one shared commit writes its few pages once.
    assert alone >= 50 and together * 10 < alone, (alone, together)


async def test_every_commit_is_synced_on_both_connections(database: Database) -> None:
    def synchronous(db: sqlite3.Connection) -> int:
        return int(db.execute("PRAGMA synchronous").fetchone()[0])

    assert synchronous(database.connection) == FULL
    assert await database.group_commit.run(synchronous) == FULL


async def test_a_closed_database_refuses_writes(tmp_path: Path) -> None:
    database = Database.open(tmp_path / "clusterd.sqlite3")
    database.close()
    with pytest.raises(RuntimeError, match="closed"):
        await database.group_commit.run(lambda db: None)
