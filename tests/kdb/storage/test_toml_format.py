"""TOML: tables, arrays and arrays of tables as keys; comments and layout survive edits."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st
from storage_documents import MOUNTPOINT, changed_lines, documents, edited, strings

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.toml_format import FORMAT
from support.keys import existing_key

INVENTORY = b"""# Inventory service
title = "inventory"   # shown in the UI
version = 3

[server]
host = "0.0.0.0"
port = 8080
ports = [ 8080, 8443 ]   # both listeners
tls = { enabled = true, cert = '/etc/ssl/inv.pem' }

[database]
url = 'postgres://db.example.org/inv'
pool.size = 10
pool.timeout = 2.5

# Mirrors, most preferred first.
[[mirror]]
name = "eu"
weight = 2

[[mirror]]
name = "us"
weight = 1

[logging]
level = "info"
started = 2024-05-01T10:00:00Z
"""


@pytest.fixture
def inventory(tmp_path: Path) -> bytes:
    path = tmp_path / "inventory.toml"
    path.write_bytes(INVENTORY)
    return path.read_bytes()


def test_reads_tables_arrays_and_arrays_of_tables(inventory: bytes) -> None:
    keys = FORMAT.read(inventory, "user:/inv").keys
    values = {key.name.removeprefix("user:/inv/"): key.value for key in keys}
    assert values == {
        "database/pool/size": "10",
        "database/pool/timeout": "2.5",
        "database/url": "postgres://db.example.org/inv",
        "logging/level": "info",
        "logging/started": "2024-05-01T10:00:00+00:00",
        "mirror": None,
        "mirror/#0/name": "eu",
        "mirror/#0/weight": "2",
        "mirror/#1/name": "us",
        "mirror/#1/weight": "1",
        "server/host": "0.0.0.0",
        "server/port": "8080",
        "server/ports": None,
        "server/ports/#0": "8080",
        "server/ports/#1": "8443",
        "server/tls/cert": "/etc/ssl/inv.pem",
        "server/tls/enabled": "1",
        "title": "inventory",
        "version": "3",
    }
    assert existing_key(keys, "user:/inv/mirror").meta == {"array": "#1"}


def test_unchanged_keys_write_back_byte_identical(inventory: bytes) -> None:
    document = FORMAT.read(inventory, "user:/inv")
    assert FORMAT.write(document.keys.copy(), "user:/inv", document) == inventory


def test_edits_change_only_their_lines_keeping_types_and_string_kinds(inventory: bytes) -> None:
    document = FORMAT.read(inventory, "user:/inv")
    keys = document.keys.copy()
    existing_key(keys, "user:/inv/server/port").value = "9090"
    existing_key(keys, "user:/inv/server/tls/enabled").value = "0"
    existing_key(keys, "user:/inv/database/url").value = "postgres://replica/inv"
    existing_key(keys, "user:/inv/database/pool/timeout").value = "5"
    existing_key(keys, "user:/inv/mirror/#1/weight").value = "3"

    written = FORMAT.write(keys, "user:/inv", document)

    assert changed_lines(inventory, written) == (
        [
            "port = 8080",
            "tls = { enabled = true, cert = '/etc/ssl/inv.pem' }",
            "url = 'postgres://db.example.org/inv'",
            "pool.timeout = 2.5",
            "weight = 1",
        ],
        [
            "port = 9090",
            "tls = { enabled = false, cert = '/etc/ssl/inv.pem' }",
            "url = 'postgres://replica/inv'",
            "pool.timeout = 5.0",
            "weight = 3",
        ],
    )


def test_adding_and_removing_keys(inventory: bytes) -> None:
    document = FORMAT.read(inventory, "user:/inv")
    keys = document.keys.copy()
    keys.remove("user:/inv/version")
    keys.add(Key("user:/inv/server/ports/#2", "9443"))
    keys.add(Key("user:/inv/logging/file", "/var/log/inv.log"))
    keys.add(Key("user:/inv/mirror/#2/name", "ap"))

    written = FORMAT.write(keys, "user:/inv", document)

    assert changed_lines(inventory, written) == (
        ["version = 3", "ports = [ 8080, 8443 ]   # both listeners"],
        [
            'ports = [ 8080, 8443, "9443" ]   # both listeners',
            "[[mirror]]",
            'name = "ap"',
            'file = "/var/log/inv.log"',
        ],
    )
    assert tomllib.loads(written.decode())["mirror"][2] == {"name": "ap"}


def test_new_values_follow_type_metadata() -> None:
    keys = KeySet(
        [
            Key("user:/app/port", "8080", {"check/type": "unsigned_short"}),
            Key("user:/app/verbose", "enabled", {"check/type": "boolean"}),  # TOML has no "enabled"
            Key("user:/app/debug", "true", {"check/type": "boolean"}),
            Key("user:/app/name", "42"),
        ]
    )
    assert FORMAT.write(keys, MOUNTPOINT, None) == (
        b'debug = true\nname = "42"\nport = 8080\nverbose = "enabled"\n'
    )


def test_a_key_without_value_is_an_empty_table() -> None:
    keys = KeySet([Key("user:/app/section"), Key("user:/app/list/#0")])
    written = FORMAT.write(keys, MOUNTPOINT, None)
    assert tomllib.loads(written.decode()) == {"section": {}, "list": [{}]}
    assert FORMAT.read(written, MOUNTPOINT).keys == KeySet(
        [Key("user:/app/list", None, {"array": "#0"}), *keys]
    )


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([Key(MOUNTPOINT, "x")], "the document is a table, so the mountpoint user:/app cannot"),
        ([Key("user:/app/#0", "x")], "cannot hold an array"),
        (
            [Key("user:/app/a", "v"), Key("user:/app/a/b", "w")],
            "user:/app/a has a value and keys below it",
        ),
        ([Key("user:/app/blob", b"\x01")], "TOML cannot hold the binary value of user:/app/blob"),
    ],
)
def test_refuses_what_toml_cannot_hold(keys: list[Key], message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        FORMAT.write(KeySet(keys), MOUNTPOINT, None)


def test_an_array_of_tables_holds_only_tables(inventory: bytes) -> None:
    document = FORMAT.read(inventory, "user:/inv")
    keys = document.keys.copy()
    keys.cut("user:/inv/mirror/#1")
    keys.add(Key("user:/inv/mirror/#1", "plain"))
    with pytest.raises(ResourceError, match="array of tables"):
        FORMAT.write(keys, "user:/inv", document)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'a = 1\nb = "open\n', r"TOML: .*\(at line 2, column \d+\)"),
        (b"a = 1\na = 2\n", r"TOML: .*line 2"),
        (b'"#1" = "x"\n', "looks like an array index"),
    ],
)
def test_malformed_files_name_the_position(data: bytes, message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        FORMAT.read(data, MOUNTPOINT)


scalars = st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | strings


@settings(max_examples=60, deadline=None)
@given(documents(scalars), st.data())
def test_property_edits_read_back_and_unchanged_files_stay_identical(
    document: dict[str, object], data: st.DataObject
) -> None:
    text = tomlkit.dumps(document).encode()
    read = FORMAT.read(text, MOUNTPOINT)
    assert FORMAT.write(read.keys.copy(), MOUNTPOINT, read) == text
    keys = edited(read.keys, data)
    assert FORMAT.read(FORMAT.write(keys, MOUNTPOINT, read), MOUNTPOINT).keys == keys
