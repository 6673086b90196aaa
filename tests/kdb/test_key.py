"""Key: canonical name, value, metadata, copies and revisions."""

from __future__ import annotations

import pytest

from elektraweb.kdb import Key
from elektraweb.kdb.errors import InvalidNameError


def test_a_key_holds_its_canonical_name_and_parsed_parts() -> None:
    key = Key("user://app/./servers/#10/", "x")
    assert key.name == "user:/app/servers/#_10"
    assert key.namespace == "user"
    assert key.parts == ("app", "servers", "#_10")
    assert key.basename == "#_10"


def test_renaming_a_key_parses_the_new_name() -> None:
    key = Key("user:/a")
    key.name = "system:/b\\/c"
    assert (key.name, key.namespace, key.parts, key.basename) == (
        "system:/b\\/c",
        "system",
        ("b/c",),
        "b/c",
    )
    with pytest.raises(InvalidNameError, match='"nowhere"'):
        key.name = "nowhere"


def test_metadata_names_lose_the_meta_prefix_and_values_become_text() -> None:
    key = Key("user:/a", "1", {"meta:/check/type": "short", "order": 3})  # type: ignore[dict-item]
    assert key.meta == {"check/type": "short", "order": "3"}


def test_text_and_binary_values() -> None:
    assert Key("user:/a").text == ""
    assert Key("user:/a", "héllo").text == "héllo"
    binary = Key("user:/a", b"\xffok")
    assert binary.is_binary
    assert binary.text == "\ufffdok"


def test_a_copy_is_independent_and_can_take_another_name() -> None:
    key = Key("user:/a", "1", {"m": "x"})
    same = key.copy()
    assert same == key and same is not key
    same.meta["m"] = "y"
    assert key.meta["m"] == "x"
    moved = key.copy("system:/b")
    assert (moved.name, moved.value, moved.meta, moved.parts) == (
        "system:/b",
        "1",
        {"m": "x"},
        ("b",),
    )


def test_equality_compares_name_value_and_metadata() -> None:
    assert Key("user:/a", "1", {"m": "x"}) == Key("user:/a", "1", {"m": "x"})
    assert Key("user:/a", "1") != Key("user:/a", "2")
    assert Key("user:/a", "1") != Key("user:/b", "1")
    assert Key("user:/a", "1") != Key("user:/a", "1", {"m": "x"})
    assert Key("user:/a", "1") != Key("user:/a", b"1")


def test_the_revision_changes_with_value_and_metadata_only() -> None:
    key = Key("user:/a", "1", {"m": "x"})
    assert key.revision() == key.copy("user:/b").revision()
    assert key.revision() != Key("user:/a", "2", {"m": "x"}).revision()
    assert key.revision() != Key("user:/a", "1", {"m": "y"}).revision()
    assert key.revision() != Key("user:/a", b"1", {"m": "x"}).revision()
    assert Key("user:/a", "\udcff").revision()  # undecodable file names still hash
