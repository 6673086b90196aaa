"""The coordination tables of clusterd's replicas in PostgreSQL, made idempotently by whichever
replica starts first. They are the replicas' own, beside (not part of) the stores' schema."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import TupleRow

_SCHEMA_LOCK = 0x656B7772_6570  # any constant: serialises concurrent first starts
"""The advisory lock held while the tables are made: `CREATE TABLE IF NOT EXISTS` run by two
sessions at once can still clash on the catalog."""

_TABLES = (
    """CREATE TABLE IF NOT EXISTS replica_heartbeats (
        replica text PRIMARY KEY,
        expires timestamptz NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS replica_leases (
        shard integer PRIMARY KEY,
        holder text,
        expires timestamptz NOT NULL DEFAULT 'epoch'
    )""",
    "CREATE INDEX IF NOT EXISTS replica_leases_holder ON replica_leases (holder)",
    """CREATE TABLE IF NOT EXISTS replica_event_payloads (
        id bigserial PRIMARY KEY,
        message text NOT NULL,
        created timestamptz NOT NULL DEFAULT clock_timestamp()
    )""",
)


async def ensure_tables(connection: AsyncConnection[TupleRow]) -> None:
    """Make the tables unless they exist; each part of a replica calls it as it starts."""
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        for statement in _TABLES:
            await connection.execute(statement)
