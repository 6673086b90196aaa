"""JSON: objects and arrays as keys, edits that keep every other byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from storage_documents import MOUNTPOINT, changed_lines, documents, edited, strings

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.json_format import FORMAT
from support.keys import existing_key

SERVICE = b"""{
    "name": "inventory",
    "version": 3,
    "debug": false,
    "ratio": 0.75,
    "owner": null,
    "motto": "caf\\u00e9 \\"quoted\\"",
    "database": {
        "host": "db.example.org",
        "port": 5432,
        "replicas": ["db-1", "db-2"],
        "options": {}
    },
    "tags": [],
    "listeners": [
        {"address": "0.0.0.0", "port": 8080},
        {"address": "::1", "port": 8443, "tls": true}
    ]
}
"""


@pytest.fixture
def service(tmp_path: Path) -> bytes:
    path = tmp_path / "service.json"
    path.write_bytes(SERVICE)
    return path.read_bytes()


def test_reads_objects_arrays_and_scalars_as_keys(service: bytes) -> None:
    keys = FORMAT.read(service, "user:/svc").keys
    assert [(key.name, key.value) for key in keys] == [
        ("user:/svc/database/host", "db.example.org"),
        ("user:/svc/database/options", None),
        ("user:/svc/database/port", "5432"),
        ("user:/svc/database/replicas", None),
        ("user:/svc/database/replicas/#0", "db-1"),
        ("user:/svc/database/replicas/#1", "db-2"),
        ("user:/svc/debug", "0"),
        ("user:/svc/listeners", None),
        ("user:/svc/listeners/#0/address", "0.0.0.0"),
        ("user:/svc/listeners/#0/port", "8080"),
        ("user:/svc/listeners/#1/address", "::1"),
        ("user:/svc/listeners/#1/port", "8443"),
        ("user:/svc/listeners/#1/tls", "1"),
        ("user:/svc/motto", 'café "quoted"'),
        ("user:/svc/name", "inventory"),
        ("user:/svc/owner", None),
        ("user:/svc/ratio", "0.75"),
        ("user:/svc/tags", None),
        ("user:/svc/version", "3"),
    ]
    assert existing_key(keys, "user:/svc/listeners").meta == {"array": "#1"}
    assert existing_key(keys, "user:/svc/tags").meta == {"array": ""}


def test_unchanged_keys_write_back_byte_identical(service: bytes) -> None:
    document = FORMAT.read(service, "user:/svc")
    assert FORMAT.write(document.keys.copy(), "user:/svc", document) == service


def test_changing_values_changes_only_their_lines_and_keeps_types(service: bytes) -> None:
    document = FORMAT.read(service, "user:/svc")
    keys = document.keys.copy()
    existing_key(keys, "user:/svc/database/port").value = "6543"
    existing_key(keys, "user:/svc/debug").value = "true"
    existing_key(keys, "user:/svc/listeners/#1/tls").value = "0"

    written = FORMAT.write(keys, "user:/svc", document)

    assert changed_lines(service, written) == (
        [
            '    "debug": false,',
            '        "port": 5432,',
            '        {"address": "::1", "port": 8443, "tls": true}',
        ],
        [
            '    "debug": true,',
            '        "port": 6543,',
            '        {"address": "::1", "port": 8443, "tls": false}',
        ],
    )


def test_a_value_that_no_longer_parses_as_its_type_becomes_a_string(service: bytes) -> None:
    document = FORMAT.read(service, "user:/svc")
    keys = document.keys.copy()
    existing_key(keys, "user:/svc/version").value = "3.1-beta"
    existing_key(keys, "user:/svc/ratio").value = "1e3"
    written = json.loads(FORMAT.write(keys, "user:/svc", document))
    assert written["version"] == "3.1-beta"
    assert written["ratio"] == 1000.0


def test_adding_and_removing_keys_follows_the_siblings_layout(service: bytes) -> None:
    document = FORMAT.read(service, "user:/svc")
    keys = document.keys.copy()
    keys.add(Key("user:/svc/database/user", "inventory"))
    keys.add(Key("user:/svc/database/options/sslmode", "require"))
    keys.add(Key("user:/svc/database/replicas/#2", "db-3"))
    keys.remove("user:/svc/owner")

    written = FORMAT.write(keys, "user:/svc", document)

    assert changed_lines(service, written) == (
        ['    "owner": null,', '        "replicas": ["db-1", "db-2"],', '        "options": {}'],
        [
            '        "replicas": ["db-1", "db-2", "db-3"],',
            '        "options": {',
            '            "sslmode": "require"',
            "        },",
            '        "user": "inventory"',
        ],
    )
    assert FORMAT.read(written, "user:/svc").keys == KeySet(
        Key(key.name, key.value, {"array": "#2"} if key.name.endswith("replicas") else key.meta)
        for key in keys
        if key.name != "user:/svc/database/options"
    )


def test_compact_documents_stay_compact() -> None:
    data = b'{"a":1,"b":{"c":"x"}}'
    document = FORMAT.read(data, MOUNTPOINT)
    keys = document.keys.copy()
    keys.add(Key("user:/app/b/d", "y"))
    assert FORMAT.write(keys, MOUNTPOINT, document) == b'{"a":1,"b":{"c":"x","d":"y"}}'


def test_new_values_are_strings_unless_their_type_metadata_says_otherwise() -> None:
    keys = KeySet(
        [
            Key("user:/app/port", "8080", {"check/type": "unsigned_short"}),
            Key("user:/app/debug", "true", {"check/type": "boolean"}),
            Key("user:/app/verbose", "on", {"check/type": "boolean"}),  # JSON has no "on"
            Key("user:/app/ratio", "0.5", {"type": "double"}),
            Key("user:/app/zip", "01234"),
            Key("user:/app/broken", "eighty", {"check/type": "long"}),
        ]
    )
    assert json.loads(FORMAT.write(keys, MOUNTPOINT, None)) == {
        "broken": "eighty",
        "debug": True,
        "port": 8080,
        "ratio": 0.5,
        "verbose": "on",
        "zip": "01234",
    }


def test_fresh_file_is_indented_with_two_spaces() -> None:
    keys = KeySet([Key("user:/app/a/b", "1"), Key("user:/app/list/#0", "x")])
    assert FORMAT.write(keys, MOUNTPOINT, None) == (
        b'{\n  "a": {\n    "b": "1"\n  },\n  "list": [\n    "x"\n  ]\n}\n'
    )


def test_scalar_document_is_the_mountpoints_value() -> None:
    document = FORMAT.read(b'"just text"\n', MOUNTPOINT)
    assert list(document.keys) == [Key(MOUNTPOINT, "just text")]
    keys = KeySet([Key(MOUNTPOINT, "other")])
    assert FORMAT.write(keys, MOUNTPOINT, document) == b'"other"\n'


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            [Key("user:/app/a", "v"), Key("user:/app/a/b", "w")],
            "user:/app/a has a value and keys below it",
        ),
        (
            [Key("user:/app/l/#0", "x"), Key("user:/app/l/#2", "z")],
            "the array user:/app/l has no element #1",
        ),
        (
            [Key("user:/app/l/#0", "x"), Key("user:/app/l/name", "z")],
            "user:/app/l mixes array elements",
        ),
        ([Key("user:/app/blob", b"\x00")], "JSON cannot hold the binary value of user:/app/blob"),
        ([Key("user:/elsewhere", "x")], "user:/elsewhere is not below the mountpoint"),
    ],
)
def test_refuses_what_json_cannot_hold_naming_the_key(keys: list[Key], message: str) -> None:
    with pytest.raises(ResourceError, match=message) as caught:
        FORMAT.write(KeySet(keys), MOUNTPOINT, None)
    assert caught.value.key is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{\n  "a": 1,\n  "b" 2\n}', "JSON: line 3, column 7: Expecting ':' delimiter"),
        (b'{"a": 1, "a": 2}', "the member 'a' twice"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"#0": 1}', "'#0' below user:/app looks like an array index"),
        (b'{"a": "\xff"}', "byte 7 is not valid UTF-8"),
    ],
)
def test_malformed_files_name_the_position(data: bytes, message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        FORMAT.read(data, MOUNTPOINT)


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | strings
)


@settings(max_examples=80, deadline=None)
@given(documents(scalars), st.sampled_from([None, 0, 2, 4, "\t"]), st.booleans())
def test_property_unchanged_documents_write_back_byte_identical(
    document: dict[str, object], indent: int | str | None, ascii_only: bool
) -> None:
    data = json.dumps(document, indent=indent, ensure_ascii=ascii_only).encode()
    read = FORMAT.read(data, MOUNTPOINT)
    assert FORMAT.write(read.keys.copy(), MOUNTPOINT, read) == data


@settings(max_examples=60, deadline=None)
@given(documents(strings), st.sampled_from([None, 2]), st.data())
def test_property_edits_read_back(
    document: dict[str, object], indent: int | None, data: st.DataObject
) -> None:
    text = json.dumps(document, indent=indent).encode()
    read = FORMAT.read(text, MOUNTPOINT)
    keys = edited(read.keys, data)
    assert FORMAT.read(FORMAT.write(keys, MOUNTPOINT, read), MOUNTPOINT).keys == keys
