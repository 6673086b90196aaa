"""The dump format: libelektra's own files (versions 1 and 2), binary values, metadata."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elektraweb.kdb import names
from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document
from elektraweb.kdb.storage.dump import FORMAT
from support.keys import existing_key

# src/plugins/dump/dump/v2/demo.dump of libelektra, mounted at system:/elektra/mountpoints.
DEMO_V2 = (
    b"kdbOpen 2\n"
    b"$key binary 0 0\n\n\n"
    b"$meta 6 0\nbinary\n\n"
    b"$meta 10 27\ncomment/#0\nBelow are the mount points.\n"
    b"$key string 4 18\ndbus\nserialized Backend\n"
    b"$key string 11 0\ndbus/config\n\n"
    b"$meta 10 71\ncomment/#0\nThis is a configuration for a backend,\n"
    b"see subkeys for more information\n"
    b"$key string 12 0\nfstab/config\n\n"
    b"$copymeta 11 10\ndbus/config\ncomment/#0\n"
    b"$end\n"
)
# src/plugins/dump/dump/v2/meta_data.dump: no $end, metadata copied from the root key.
META_DATA_V2 = (
    b"kdbOpen 2\n$key string 0 4\n\nroot\n$meta 4 9\nmeta\nmetavalue\n"
    b"$key string 3 0\nkey\n\n$copymeta 0 4\n\nmeta\n"
)
# Version 1 as libelektra 0.8 wrote it: full names, sizes and payloads with NUL terminators.
META_DATA_V1 = (
    b"kdbOpen 1\nksNew 2\n"
    b"keyNew 18 5\nuser/tests/script\x00root\x00\n"
    b"keyMeta 5 10\nmeta\x00metavalue\x00\n"
    b"keyEnd\n"
    b"keyNew 22 1\nuser/tests/script/key\x00\x00\n"
    b"keyCopyMeta 18 5\nuser/tests/script\x00meta\x00\n"
    b"keyEnd\nksEnd\n"
)
# doc/help/kdb-import.md (libelektra 0.8): binary keys, the last one with a value.
BACKUP_V1 = (
    b"kdbOpen 1\nksNew 3\n"
    b"keyNew 19 0\nsystem/backup/key1\x00\nkeyMeta 7 1\nbinary\x00\x00\nkeyEnd\n"
    b"keyNew 19 0\nsystem/backup/key2\x00\nkeyMeta 7 1\nbinary\x00\x00\nkeyEnd\n"
    b"keyNew 19 3\nsystem/backup/key3\x00\x01\x00\xff\nkeyMeta 7 1\nbinary\x00\x00\nkeyEnd\n"
    b"ksEnd\n"
)
MOUNTPOINTS = "system:/elektra/mountpoints"


def stored(tmp_path: Path, data: bytes, name: str = "config.dump") -> bytes:
    """Put ``data`` in a real file and read it back, as the database does."""
    path = tmp_path / name
    path.write_bytes(data)
    return path.read_bytes()


def test_reads_libelektras_demo_file(tmp_path: Path) -> None:
    document = FORMAT.read(stored(tmp_path, DEMO_V2), MOUNTPOINTS)

    comment = "This is a configuration for a backend,\nsee subkeys for more information"
    assert list(document.keys) == [
        Key(MOUNTPOINTS, None, {"binary": "", "comment/#0": "Below are the mount points."}),
        Key(f"{MOUNTPOINTS}/dbus", "serialized Backend"),
        Key(f"{MOUNTPOINTS}/dbus/config", "", {"comment/#0": comment}),
        Key(f"{MOUNTPOINTS}/fstab/config", "", {"comment/#0": comment}),
    ]


def test_unchanged_keys_write_back_byte_identical(tmp_path: Path) -> None:
    for data in (DEMO_V2, META_DATA_V2, META_DATA_V1, BACKUP_V1):
        mountpoint = {DEMO_V2: MOUNTPOINTS, BACKUP_V1: "system:/backup"}.get(
            data, "user:/tests/script"
        )
        document = FORMAT.read(stored(tmp_path, data), mountpoint)
        assert FORMAT.write(document.keys.copy(), mountpoint, document) == data


def test_an_edit_keeps_shared_metadata_and_changes_only_that_key(tmp_path: Path) -> None:
    document = FORMAT.read(stored(tmp_path, DEMO_V2), MOUNTPOINTS)
    keys = document.keys.copy()
    existing_key(keys, f"{MOUNTPOINTS}/dbus").value = "changed"

    written = FORMAT.write(keys, MOUNTPOINTS, document)

    assert written == DEMO_V2.replace(
        b"$key string 4 18\ndbus\nserialized Backend", b"$key string 4 7\ndbus\nchanged"
    )
    assert FORMAT.read(written, MOUNTPOINTS).keys == keys


def test_reads_version_1_with_copied_metadata_and_writes_version_2(tmp_path: Path) -> None:
    document = FORMAT.read(stored(tmp_path, META_DATA_V1), "user:/tests/script")
    assert list(document.keys) == [
        Key("user:/tests/script", "root", {"meta": "metavalue"}),
        Key("user:/tests/script/key", "", {"meta": "metavalue"}),
    ]
    keys = document.keys.copy()
    keys.add(Key("user:/tests/script/new", "value"))

    written = FORMAT.write(keys, "user:/tests/script", document)

    assert written.startswith(b"kdbOpen 2\n")
    assert b"$copymeta 0 4\n\nmeta\n" in written  # the sharing survives the upgrade
    assert FORMAT.read(written, "user:/tests/script").keys == keys


def test_version_1_binary_keys_and_values(tmp_path: Path) -> None:
    keys = FORMAT.read(stored(tmp_path, BACKUP_V1), "system:/backup").keys
    assert keys.lookup("system:/backup/key1") == Key("system:/backup/key1", None, {"binary": ""})
    assert existing_key(keys, "system:/backup/key3").value == b"\x01\x00\xff"


def test_version_2_file_without_end_marker(tmp_path: Path) -> None:
    keys = FORMAT.read(stored(tmp_path, META_DATA_V2), "user:/tests/script").keys
    assert keys.lookup("user:/tests/script/key") == Key(
        "user:/tests/script/key", "", {"meta": "metavalue"}
    )


def test_binary_values_and_metadata_with_any_bytes_round_trip(tmp_path: Path) -> None:
    keys = KeySet(
        [
            Key("user:/app", "root value"),
            Key("user:/app/blob", b"\x00\n$key binary 1 1\n\xff"),
            Key("user:/app/empty blob", b""),
            Key("user:/app/none"),
            Key(
                "user:/app/text", "line 1\nline 2\n$end\n", {"description": "multi\nline", "x": ""}
            ),
            Key("user:/app/sla\\/sh/#_10", "escaped part and array index"),
        ]
    )
    written = stored(tmp_path, FORMAT.write(keys, "user:/app", None))
    read = FORMAT.read(written, "user:/app").keys
    assert read == keys
    empty, none = read.lookup("user:/app/empty blob"), read.lookup("user:/app/none")
    assert empty is not None and empty.value == b""
    assert none is not None and none.value is None


def test_an_empty_binary_value_has_a_record_type_of_its_own(tmp_path: Path) -> None:
    # libelektra's "binary" of size 0 is no value; b"" must not read back as that.
    keys = KeySet([Key("user:/app/empty", b""), Key("user:/app/none")])
    written = FORMAT.write(keys, "user:/app", None)
    assert b"$key binary-empty 5 0\nempty\n\n$key binary 4 0\nnone\n\n" in written
    assert FORMAT.read(
        stored(tmp_path, b"kdbOpen 2\n$key binary 1 0\na\n\n"), "user:/app"
    ).keys == KeySet([Key("user:/app/a")])


def test_writes_names_relative_to_the_mountpoint_and_metadata_sorted() -> None:
    keys = KeySet([Key("user:/app/a", "1", {"z": "last", "check/type": "long"})])
    assert FORMAT.write(keys, "user:/app", None) == (
        b"kdbOpen 2\n$key string 1 1\na\n1\n"
        b"$meta 10 4\ncheck/type\nlong\n$meta 1 4\nz\nlast\n$end\n"
    )


def test_namespace_root_mountpoint() -> None:
    keys = KeySet([Key("system:/", "root"), Key("system:/dbus/config", "x")])
    written = FORMAT.write(keys, "system:/", None)
    assert b"$key string 11 1\ndbus/config\nx\n" in written
    assert FORMAT.read(written, "system:/").keys == keys


def test_keeps_all_metadata_natively() -> None:
    assert "check/type" in FORMAT.native_meta
    assert "anything/at/all" in FORMAT.native_meta


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"kdbOpen 3\n", "line 1: expected 'kdbOpen 1' or 'kdbOpen 2'"),
        (b"[section]\nkey = value\n", "line 1: expected 'kdbOpen 1' or 'kdbOpen 2'"),
        (b"kdbOpen 2\n$key string 1\na\n", "line 2: expected '$key <type> <name size>"),
        (b"kdbOpen 2\n$key string x 1\na\nb\n", "line 2: expected '$key"),
        (b"kdbOpen 2\n$key string 1 5\na\nb\n", "line 4: expected a line break after 5 bytes"),
        (b"kdbOpen 2\n$key text 1 1\na\nb\n", "line 2: unknown key type"),
        (b"kdbOpen 2\n$key binary-empty 1 1\na\nb\n", "line 2: a binary-empty key with a value"),
        (b"kdbOpen 2\n$key string 1 1\na\nb\n$oops\n", "line 5: unknown command"),
        (b"kdbOpen 2\n$meta 1 1\na\nb\n", "line 2: $meta before the first $key"),
        (b"kdbOpen 2\n$key string 1 2\na\n\xff\xfe\n", "line 2: the value is not valid UTF-8"),
        (b"kdbOpen 2\n$key string 4 1\n../x\nb\n", "not below user:/app"),
        (b"kdbOpen 2\n$key string 1 0\na\n\n$copymeta 1 1\nb\nc\n", "copied from user:/app/b"),
        (b"kdbOpen 1\nksNew 1\nkeyNew 9 1\nuser/xyz\x00\x00\nkeyEnd\n", "not below user:/app"),
    ],
)
def test_malformed_files_name_line_and_problem(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(ResourceError, match="dump: ") as caught:
        FORMAT.read(stored(tmp_path, data), "user:/app")
    assert message in caught.value.message


def test_refuses_keys_outside_the_mountpoint() -> None:
    with pytest.raises(ResourceError, match="user:/other is not below the mountpoint user:/app"):
        FORMAT.write(KeySet([Key("user:/other", "x")]), "user:/app", None)


def test_empty_file_has_no_keys() -> None:
    assert len(FORMAT.read(b"", "user:/app").keys) == 0


# Names: any parts (escapes, '%', '#', '.', newlines), below a fixed mountpoint.
parts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8)
values = st.one_of(
    st.none(), st.text(st.characters(codec="utf-8"), max_size=20), st.binary(max_size=20)
)
meta = st.dictionaries(
    st.text(st.sampled_from("ab/#0_ \n"), min_size=1, max_size=6),
    st.text(st.characters(codec="utf-8"), max_size=10),
    max_size=3,
)


@st.composite
def key_sets(draw: st.DrawFn) -> KeySet:
    keys = KeySet()
    for path in draw(st.lists(st.lists(parts, min_size=1, max_size=3), max_size=8)):
        name = names.join("user", ("app", *path))
        keys.add(Key(name, draw(values), draw(meta)))
    return keys


@settings(max_examples=60, deadline=None)
@given(key_sets())
def test_property_write_then_read_gives_the_same_keys(keys: KeySet) -> None:
    written = FORMAT.write(keys, "user:/app", None)
    assert FORMAT.read(written, "user:/app").keys == keys


@settings(max_examples=60, deadline=None)
@given(key_sets())
def test_property_read_then_write_unchanged_is_byte_identical(keys: KeySet) -> None:
    data = FORMAT.write(keys, "user:/app", None)
    document = FORMAT.read(data, "user:/app")
    assert FORMAT.write(document.keys.copy(), "user:/app", document) == data


def test_document_state_is_not_shared_between_formats() -> None:
    with pytest.raises(TypeError):
        FORMAT.write(KeySet(), "user:/app", Document(KeySet(), object()))
