"""Sessions and API tokens as the database keeps them, and the principals clusterd remembers
between requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from elektraweb.cluster.store.credentials import CHECKED_LIMIT, CHECKED_SECONDS, Credentials
from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.users import Users

from ..fakes import USER_PASSWORD

SESSION_SECONDS = 3600


class Clock:
    """Stands in for `time.time` in the credentials module."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def database(database: Database) -> Database:
    await Users(database).add("ada", USER_PASSWORD, "editor")
    return database


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr("elektraweb.cluster.store.credentials.time.time", clock)
    return clock


def test_a_session_ends_at_its_expiry_even_if_just_checked(
    database: Database, clock: Clock
) -> None:
    store = Credentials(database, session_seconds=SESSION_SECONDS)
    secret = store.open_session("ada")
    clock.now += SESSION_SECONDS - 1
    assert store.session(secret) is not None
    clock.now += 1
    assert store.session(secret) is None


def test_a_token_another_clusterd_revokes_is_refused_at_once_on_postgresql(
    database: Database, clock: Clock, database_location: Path | str
) -> None:
    """On PostgreSQL other replicas change these rows, so nothing is remembered; on the SQLite
    file only another program could, and what it changes is seen within the checked seconds."""
    store = Credentials(database, session_seconds=SESSION_SECONDS)
    token, secret = store.create_token("ada", "script", "editor")
    assert store.token_principal(secret) is not None
    other = Database.open(database_location)
    try:
        Credentials(other, session_seconds=SESSION_SECONDS).revoke_token(token.id)
    finally:
        other.close()
    if database.connection.dialect == "postgresql":
        assert store.token_principal(secret) is None
        return
    assert store.token_principal(secret) is not None  # still remembered, for a while
    clock.now += CHECKED_SECONDS
    assert store.token_principal(secret) is None


def test_revoking_a_token_just_checked_refuses_it_at_once(database: Database) -> None:
    store = Credentials(database, session_seconds=SESSION_SECONDS)
    token, secret = store.create_token("ada", "script", "editor")
    assert store.token_principal(secret) is not None
    store.revoke_token(token.id)
    assert store.token_principal(secret) is None


def test_more_secrets_than_are_remembered_all_keep_working(database: Database) -> None:
    store = Credentials(database, session_seconds=SESSION_SECONDS)
    sessions = [store.open_session("ada") for _ in range(CHECKED_LIMIT + 10)]
    for _ in range(2):
        assert all(store.session(secret) is not None for secret in sessions)
    assert store.session("not a session") is None
