"""INI: sections and options as keys; comments, spacing and order survive edits."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from storage_documents import changed_lines

from elektraweb.kdb import names
from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.ini import FORMAT
from support.keys import existing_key

INVENTORY = b"""; Inventory service configuration
; managed by elektra-web

name=inventory
debug=false

[server]
# where to listen
host=0.0.0.0
port=8080
banner=Welcome to the
    inventory service

[database]
url=postgres://db.example.org/inv
skip-name-resolve

[database/pool]
size=10

[empty]
"""
MOUNTPOINT = "user:/inv"


@pytest.fixture
def inventory(tmp_path: Path) -> bytes:
    path = tmp_path / "inventory.ini"
    path.write_bytes(INVENTORY)
    return path.read_bytes()


def test_sections_are_keys_and_options_are_keys_below_them(inventory: bytes) -> None:
    keys = FORMAT.read(inventory, MOUNTPOINT).keys
    assert [(key.name, key.value) for key in keys] == [
        ("user:/inv/database", None),
        ("user:/inv/database/pool", None),
        ("user:/inv/database/pool/size", "10"),
        ("user:/inv/database/skip-name-resolve", None),
        ("user:/inv/database/url", "postgres://db.example.org/inv"),
        ("user:/inv/debug", "false"),
        ("user:/inv/empty", None),
        ("user:/inv/name", "inventory"),
        ("user:/inv/server", None),
        ("user:/inv/server/banner", "Welcome to the\ninventory service"),
        ("user:/inv/server/host", "0.0.0.0"),
        ("user:/inv/server/port", "8080"),
    ]


def test_unchanged_keys_write_back_byte_identical(inventory: bytes) -> None:
    document = FORMAT.read(inventory, MOUNTPOINT)
    assert FORMAT.write(document.keys.copy(), MOUNTPOINT, document) == inventory


def test_an_edit_changes_only_its_lines_in_the_files_style(inventory: bytes) -> None:
    document = FORMAT.read(inventory, MOUNTPOINT)
    keys = document.keys.copy()
    existing_key(keys, "user:/inv/server/port").value = "9090"
    existing_key(keys, "user:/inv/server/banner").value = "Hello\nthere"

    written = FORMAT.write(keys, MOUNTPOINT, document)

    assert changed_lines(inventory, written) == (
        ["port=8080", "banner=Welcome to the", "    inventory service"],
        ["port=9090", "banner=Hello", "    there"],
    )


def test_adding_and_removing_options_and_sections(inventory: bytes) -> None:
    document = FORMAT.read(inventory, MOUNTPOINT)
    keys = document.keys.copy()
    keys.remove("user:/inv/debug")
    keys.add(Key("user:/inv/owner", "ops"))
    keys.add(Key("user:/inv/server/timeout", "30"))
    keys.add(Key("user:/inv/empty/x", "1"))
    keys.add(Key("user:/inv/logging"))
    keys.add(Key("user:/inv/logging/level", "info"))
    keys.cut("user:/inv/database/pool")

    written = FORMAT.write(keys, MOUNTPOINT, document)

    assert (
        written
        == INVENTORY.replace(b"debug=false", b"owner=ops")
        .replace(b"    inventory service\n", b"    inventory service\ntimeout=30\n")
        .replace(b"[database/pool]\nsize=10\n\n", b"")
        + b"x=1\n\n[logging]\nlevel=info\n"
    )
    assert FORMAT.read(written, MOUNTPOINT).keys == keys


def test_fresh_file_puts_top_level_options_first() -> None:
    keys = KeySet(
        [
            Key("user:/inv/a/b/c", "deep"),
            Key("user:/inv/top", "1"),
            Key("user:/inv/text", "line one\nline two"),
        ]
    )
    assert FORMAT.write(keys, MOUNTPOINT, None) == (
        b"text = line one\n    line two\ntop = 1\n\n[a/b]\nc = deep\n"
    )


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (Key(MOUNTPOINT, "x"), "ini cannot hold a value on the mountpoint"),
        (Key("user:/inv/blob", b"\x00"), "ini cannot hold the binary value"),
        (Key("user:/inv/a=b", "x"), "ini cannot hold the option name 'a=b'"),
        (Key("user:/inv/#0", "x"), "ini cannot hold the option name '#0'"),
        (Key("user:/inv/s/ padded", "x"), "ini cannot hold the option name ' padded'"),
        (Key("user:/inv/s\\/x/k", "x"), "ini cannot name the section 's/x'"),
        (Key("user:/inv/k", " leading space"), "ini cannot hold the value of user:/inv/k"),
        (Key("user:/inv/k", "a\n\nb"), "ini cannot hold the value of user:/inv/k"),
    ],
)
def test_refuses_what_ini_cannot_hold(key: Key, message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        FORMAT.write(KeySet([key]), MOUNTPOINT, None)


def test_refuses_a_value_on_a_key_with_keys_below_it() -> None:
    keys = KeySet([Key("user:/inv/a", "x"), Key("user:/inv/a/b", "y")])
    with pytest.raises(ResourceError, match="value of user:/inv/a, which has keys below it"):
        FORMAT.write(keys, MOUNTPOINT, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a = 1\n[s]\nb = 2\nb = 3\n", "ini: line 4: the option 'b' appears twice"),
        (b"[s]\n[s]\n", "ini: line 2: the section \\[s\\] appears twice"),
        (b"[s]\n= value\n", "ini: line 2: cannot parse '= value'"),
        (b"[a]\nb = 1\n[a/b]\n", "the key user:/inv/a/b is defined twice"),
    ],
)
def test_malformed_files_name_the_line(data: bytes, message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        FORMAT.read(data, MOUNTPOINT)


words = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=6,
).filter(lambda w: w == w.strip())
option_names = words.filter(lambda w: w[0] not in "#;[" and "=" not in w and ":" not in w)
section_paths = st.lists(words.filter(lambda w: "/" not in w), min_size=1, max_size=2)
value_lines = words.filter(lambda w: w[0] not in "#;") | st.just("a b")
values = st.lists(value_lines, min_size=1, max_size=3).map("\n".join) | st.just("")


@st.composite
def ini_key_sets(draw: st.DrawFn) -> KeySet:
    keys = KeySet()
    sections: list[tuple[str, ...]] = [(), *map(tuple, draw(st.lists(section_paths, max_size=3)))]
    for path in sections:
        if path:
            keys.add(Key(names.child(MOUNTPOINT, *path)))
        for option in draw(st.lists(option_names, max_size=3)):
            keys.add(Key(names.child(MOUNTPOINT, *path, option), draw(values)))
    if any(key.value is not None and keys.children(key.name) for key in keys):
        # An option named like a section below it: ini cannot hold that (tested above).
        return KeySet()
    return keys


@settings(max_examples=80, deadline=None)
@given(ini_key_sets())
def test_property_written_keys_read_back_the_same(keys: KeySet) -> None:
    assert FORMAT.read(FORMAT.write(keys, MOUNTPOINT, None), MOUNTPOINT).keys == keys


@settings(max_examples=60, deadline=None)
@given(ini_key_sets(), st.sampled_from(["=", " = ", ": "]), st.data())
def test_property_edits_read_back_and_unchanged_files_stay_identical(
    keys: KeySet, delimiter: str, data: st.DataObject
) -> None:
    text = FORMAT.write(keys, MOUNTPOINT, None).replace(b" = ", delimiter.encode())
    read = FORMAT.read(b"# generated\n" + text, MOUNTPOINT)
    assert read.keys == keys
    assert FORMAT.write(read.keys.copy(), MOUNTPOINT, read) == b"# generated\n" + text
    edited = read.keys.copy()
    leaves = [key for key in edited if key.value is not None]
    if leaves:
        data.draw(st.sampled_from(leaves)).value = data.draw(values)
    assert FORMAT.read(FORMAT.write(edited, MOUNTPOINT, read), MOUNTPOINT).keys == edited


SETUP_CFG = b"""[flake8]
putty-ignore =
  # E402 module level import
  docs/conf.py : E402
  ; tests may shadow builtins
  tests/*.py : A001
max-line = 100
[coverbase]
basepython = python2.7
"""


def test_comment_lines_inside_a_value_are_comments_as_configparser_reads_them() -> None:
    import configparser

    reference = configparser.ConfigParser(interpolation=None)
    reference.read_string(SETUP_CFG.decode())
    read = FORMAT.read(SETUP_CFG, MOUNTPOINT)
    value = read.keys.lookup(f"{MOUNTPOINT}/flake8/putty-ignore").value  # type: ignore[union-attr]
    assert value == reference["flake8"]["putty-ignore"]
    assert value == "\ndocs/conf.py : E402\ntests/*.py : A001"
    keys = read.keys.copy()
    keys.lookup(f"{MOUNTPOINT}/coverbase/basepython").value = "python3"  # type: ignore[union-attr]
    written = FORMAT.write(keys, MOUNTPOINT, read)
    assert changed_lines(SETUP_CFG, written) == (
        ["basepython = python2.7"],
        ["basepython = python3"],
    )
