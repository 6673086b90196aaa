"""Fixtures that run a folder's tests against both of clusterd's backends, a SQLite file and a
PostgreSQL database (`database_location`, tests/cluster/conftest.py): a conftest imports them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from elektraweb.cluster.config import Config
from elektraweb.cluster.store.database import Database


@pytest.fixture(name="config")
def config_on_backend(config: Config, database_location: Path | str) -> Config:
    """The running clusterd of these tests keeps its tables in `database_location`."""
    url = database_location if isinstance(database_location, str) else None
    return replace(config, database_url=url)


@pytest.fixture(name="database")
def database_on_backend(database_location: Path | str) -> Iterator[Database]:
    database = Database.open(database_location)
    yield database
    database.close()
