"""Enrollment tokens in the real database (SQLite file and PostgreSQL): stored only as a hash,
spent exactly once even by hosts racing on separate connections, unspent when the registration
is refused, and the database of an older clusterd gains them on its next start."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from elektraweb.cluster.store.database import Database
from elektraweb.cluster.store.enrollment import EnrollmentTokens
from elektraweb.cluster.store.errors import RecordConflict, TokenRefused
from elektraweb.cluster.store.instances import InstanceFields
from elektraweb.cluster.store.registry import Registry
from elektraweb.wire.keys import KeyPair


def _tokens(location: Path | str) -> EnrollmentTokens:
    database = Database.open(location)
    return EnrollmentTokens(database, Registry(database))


def _host(port: int, name: str = "app") -> InstanceFields:
    return InstanceFields(name, f"tcp://127.0.0.1:{port}", KeyPair.generate().public)


def test_the_secret_is_never_stored(tmp_path: Path) -> None:
    path = tmp_path / "clusterd.sqlite3"
    _, secret = _tokens(path).create("admin", 60)
    stored = b"".join(file.read_bytes() for file in tmp_path.iterdir())
    assert secret.encode() not in stored
    assert secret.removeprefix("ewe_").encode() not in stored


def test_hosts_racing_on_separate_connections_spend_a_token_once(
    database_location: Path | str,
) -> None:
    _, secret = _tokens(database_location).create("admin", 60)
    stores = [_tokens(database_location) for _ in range(4)]
    start = threading.Barrier(len(stores))
    outcomes: list[str] = []

    def enroll(store: EnrollmentTokens, port: int) -> None:
        start.wait()
        try:
            store.enroll(secret, _host(port, f"app-{port}"))
            outcomes.append("enrolled")
        except TokenRefused as refused:
            outcomes.append(str(refused.code))

    threads = [
        threading.Thread(target=enroll, args=(store, 41000 + n)) for n, store in enumerate(stores)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["enrolled", "token-used", "token-used", "token-used"]
    assert len(Registry(Database.open(database_location)).instances(with_pending=True)) == 1


def test_a_refused_registration_leaves_the_token_unspent(database_location: Path | str) -> None:
    tokens = _tokens(database_location)
    token, secret = tokens.create("admin", 60)
    first = _host(41100)
    tokens.enroll(tokens.create("admin", 60)[1], first)
    with pytest.raises(RecordConflict):
        tokens.enroll(secret, InstanceFields("copy", "tcp://127.0.0.1:41101", first.public_key))
    assert tokens.token(token.id).used is None
    instance, spent = tokens.enroll(secret, _host(41102))
    assert (instance.state, spent.instance_id) == ("pending", instance.id)


def test_an_older_database_gains_enrollment_with_its_instances_accepted(tmp_path: Path) -> None:
    path = tmp_path / "clusterd.sqlite3"
    Database.open(path).close()
    # Back to the schema before enrollment (version 4), with one instance.
    with sqlite3.connect(path) as old:
        old.executescript(
            "DROP TABLE enrollment_tokens; ALTER TABLE instances DROP COLUMN state;"
            "ALTER TABLE clusters DROP COLUMN version; DROP TABLE login_failures;"
            "INSERT INTO instances (name, endpoint, endpoint_key, public_key)"
            " VALUES ('web', 'tcp://web:1', 'tcp://web:1', 'k');"
            "PRAGMA user_version = 4;"
        )
    database = Database.open(path)
    [web] = Registry(database).instances()
    assert (web.name, web.state) == ("web", "accepted")
    assert EnrollmentTokens(database, Registry(database)).tokens() == []
