"""ni and mini: libelektra's line formats for specifications and flat configuration."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elektraweb.kdb import names
from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.mini import FORMAT as MINI
from elektraweb.kdb.storage.ni import FORMAT as NI
from support.keys import existing_key

MOUNTPOINT = "spec:/app"
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
parts = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=6)


def _keys(entries: dict[tuple[str, ...], tuple[str, dict[str, str]]]) -> KeySet:
    return KeySet(
        Key(names.child(MOUNTPOINT, *path), value, meta) for path, (value, meta) in entries.items()
    )


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.lists(parts, max_size=3).map(tuple),
        st.tuples(texts, st.dictionaries(parts, texts, max_size=3)),
        max_size=5,
    )
)
def test_ni_reads_back_every_value_and_metadata_it_writes(
    entries: dict[tuple[str, ...], tuple[str, dict[str, str]]],
) -> None:
    keys = _keys(entries)
    back = NI.read(NI.write(keys, MOUNTPOINT, None), MOUNTPOINT).keys
    assert [(k.name, k.text, k.meta) for k in back] == [(k.name, k.text, k.meta) for k in keys]


# mini drops space around names and values, as libelektra's plugin (the sidecar keeps them).
@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.lists(parts.filter(lambda p: p == p.strip()), max_size=3).map(tuple),
        texts.filter(lambda text: text == text.strip()),
        max_size=5,
    )
)
def test_mini_reads_back_every_value_it_writes(entries: dict[tuple[str, ...], str]) -> None:
    keys = _keys({path: (value, {}) for path, value in entries.items()})
    back = MINI.read(MINI.write(keys, MOUNTPOINT, None), MOUNTPOINT).keys
    assert [(k.name, k.text) for k in back] == [(k.name, k.text) for k in keys]


def test_ni_reads_a_hand_written_specification() -> None:
    text = b""";Ni1
; the application's specification
port = 8080
[]
mountpoint = app.dump
[port]
check/type = unsigned_short
description = "the port; \\"quoted\\"" ; trailing comment
[links/_]
check/validation = https?://.* \\
   \\.org
"""
    keys = NI.read(text, MOUNTPOINT).keys
    assert [k.name for k in keys] == ["spec:/app", "spec:/app/links/_", "spec:/app/port"]
    assert existing_key(keys, "spec:/app").meta == {"mountpoint": "app.dump"}
    port = existing_key(keys, "spec:/app/port")
    assert port.text == "8080"
    assert port.meta == {"check/type": "unsigned_short", "description": 'the port; "quoted"'}
    assert existing_key(keys, "spec:/app/links/_").meta["check/validation"] == "https?://.* .org"


@pytest.mark.parametrize(
    ("fmt", "data", "problem"),
    [
        (NI, b"[a]\n[[b]]\n", "nested sections"),
        (NI, b'["unclosed]\n', "section without ']'"),
        (MINI, b"a=1\njust words\n", "mini line 2: no '='"),
        (NI, b"\xff", "not valid UTF-8"),
    ],
)
def test_malformed_files_name_the_line(fmt: object, data: bytes, problem: str) -> None:
    with pytest.raises(ResourceError, match=problem):
        fmt.read(data, MOUNTPOINT)  # type: ignore[attr-defined]


def test_binary_values_are_refused_by_name_for_the_sidecar() -> None:
    keys = KeySet([Key("spec:/app/blob", b"\x00\x01")])
    for fmt in (NI, MINI):
        with pytest.raises(ResourceError) as refused:
            fmt.write(keys, MOUNTPOINT, None)
        assert refused.value.key == "spec:/app/blob"
