"""Puts `tests/` on the import path, so every test module can import the shared `support`
package, whichever directory pytest starts from."""

import os
import sys
from pathlib import Path

_TESTS = str(Path(__file__).parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

# The throwaway PostgreSQL server (tests/support/postgres.py): started once per session, on
# first use only, so test runs that never touch PostgreSQL never start it.
import itertools  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from support.postgres import PostgresServer, start_server  # noqa: E402

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    yield from start_server()


@pytest.fixture
def postgres_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """A DSN of an empty database of its own for one test, dropped after it."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    yield postgres_server.create_database(name)
    postgres_server.drop_database(name)
