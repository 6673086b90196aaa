"""Real clusterd replicas as an operator deploys them (docs/deploy.md, Adding a replica): each
with a state dir of its own holding the first one's keypair, all on one PostgreSQL database for
their data and their coordination."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from support.processes import Clusterd, copy_identity


@asynccontextmanager
async def running_replicas(
    base: Path, dsn: str, names: Sequence[str]
) -> AsyncIterator[dict[str, Clusterd]]:
    """Start the replicas one after the other (the first makes the admin); stop them all."""
    started: dict[str, Clusterd] = {}
    for name in names:
        state = base / name
        if started:
            copy_identity(started[names[0]].state, state)
        started[name] = Clusterd(state, database_url=dsn, options=["--replica-id", name])
    try:
        for replica in started.values():
            await replica.start()
        yield started
    finally:
        for replica in started.values():
            await replica.stop()


@pytest.fixture
async def replicas(tmp_path: Path, postgres_dsn: str) -> AsyncIterator[dict[str, Clusterd]]:
    """Three replicas, a, b and c."""
    async with running_replicas(tmp_path, postgres_dsn, ("a", "b", "c")) as started:
        yield started


@pytest.fixture
async def pair(tmp_path: Path, postgres_dsn: str) -> AsyncIterator[dict[str, Clusterd]]:
    """Two replicas, a and b."""
    async with running_replicas(tmp_path, postgres_dsn, ("a", "b")) as started:
        yield started
