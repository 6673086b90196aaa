"""What JSON, YAML and TOML share: typing rules, naming, and keys that read back as written."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from storage_documents import MOUNTPOINT, documents, expected_keys, strings

from elektraweb.kdb import names
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import StorageFormat, get_format
from elektraweb.kdb.storage.tree import child_name, typed_scalar

TREE_FORMATS = ["json", "toml", "yaml"]


@pytest.mark.parametrize(
    ("text", "previous", "meta", "written"),
    [
        ("off", True, {}, False),  # a boolean stays a boolean
        ("Enabled", False, {}, True),
        ("maybe", True, {}, "maybe"),  # ... unless the text is no boolean
        ("42", 7, {}, 42),  # an integer stays an integer
        ("4.2", 7, {}, "4.2"),
        ("5", 0.5, {}, 5.0),  # a float stays a float
        ("inf", 0.5, {}, "inf"),  # not in formats without infinity
        ("1e999", 0.5, {}, "1e999"),
        ("2024-06-30", date(2024, 1, 1), {}, date(2024, 6, 30)),
        ("2024-06-30T12:00:00", datetime(2024, 1, 1), {}, datetime(2024, 6, 30, 12)),
        ("soon", date(2024, 1, 1), {}, "soon"),
        ("true", "false", {}, "true"),  # a string stays a string
        ("8080", None, {"check/type": "unsigned_short"}, 8080),  # new: typed by metadata
        ("true", None, {"type": "boolean"}, True),
        ("0", None, {"check/type": "boolean"}, False),
        ("yes", None, {"type": "boolean"}, "yes"),  # ... keeping a spelling of its own
        ("Off", None, {"check/type": "boolean"}, "Off"),
        ("0.25", None, {"check/type": "double"}, 0.25),
        ("8080", None, {}, "8080"),  # new without metadata: a string
        ("eighty", None, {"check/type": "long"}, "eighty"),
    ],
)
def test_typing_rules(text: str, previous: object, meta: dict[str, str], written: object) -> None:
    result = typed_scalar(text, previous, Key("user:/app/k", text, meta), allow_non_finite=False)
    assert result == written
    assert type(result) is type(written)


def test_non_finite_floats_where_the_format_has_them() -> None:
    assert typed_scalar("-inf", 1.5, None, allow_non_finite=True) == float("-inf")


@pytest.mark.parametrize(
    ("parent", "part", "name"),
    [
        ("user:/app", "port", "user:/app/port"),
        ("user:/", "app", "user:/app"),
        ("/", "app", "/app"),
        ("user:/app", "a/b", "user:/app/a\\/b"),
        ("user:/app/a\\/", "x", "user:/app/a\\//x"),
        ("user:/app", "", "user:/app/%"),
        ("user:/app", "#10", "user:/app/\\#10"),
    ],
)
def test_child_names_escape_parts(parent: str, part: str, name: str) -> None:
    assert child_name(parent, part) == name


@pytest.mark.parametrize("storage", [get_format(name) for name in TREE_FORMATS], ids=TREE_FORMATS)
@settings(max_examples=80, deadline=None)
@given(document=documents(st.none() | strings))
def test_property_written_keys_read_back_the_same_and_in_order(
    storage: StorageFormat, document: dict[str, object]
) -> None:
    """Also in libelektra's order: a read hands its KeySet the keys in order instead of
    having it sort them, and ``below``, ``cut`` and listings search that order."""
    keys = expected_keys(document)
    read = storage.read(storage.write(keys, MOUNTPOINT, None), MOUNTPOINT).keys
    assert read == keys
    listed = [key.name for key in read]
    assert listed == sorted(listed, key=lambda name: Key(name).sort_key)
    for key in read:
        assert read.below(key.name).names()[0] == key.name


@settings(max_examples=80, deadline=None)
@given(
    document=documents(st.none() | strings),
    mountpoint=st.sampled_from([MOUNTPOINT, "user:/", "system:/a\\/b/%"]),
)
def test_property_read_keys_are_named_as_their_names_parse(
    document: dict[str, object], mountpoint: str
) -> None:
    """Reading names keys part by part instead of parsing each name: the parts, namespace
    and order must be those the names parse to, or lookups and listings would miss keys."""
    import json

    from elektraweb.kdb.errors import InvalidNameError, ResourceError

    try:
        keys = get_format("json").read(json.dumps(document).encode(), mountpoint).keys
    except (InvalidNameError, ResourceError):
        return  # a member named '' right at a namespace's root: refused as before
    for key in keys:
        parsed = Key(key.name)
        assert (key.namespace, key.parts, key.sort_key) == (
            parsed.namespace,
            parsed.parts,
            parsed.sort_key,
        )
    assert [key.name for key in keys] == sorted(
        (key.name for key in keys), key=lambda name: Key(name).sort_key
    )


def _snapshot(keys: KeySet) -> list[tuple[str, object, dict[str, str]]]:
    return [(key.name, key.value, dict(key.meta)) for key in keys]


def _answer(keys: KeySet, operation: str, name: str) -> object:
    """What a caller sees of ``operation`` on ``keys`` at ``name`` (and what it leaves)."""
    if operation == "lookup":
        found = keys.lookup(name)
        return None if found is None else (found.name, found.value, dict(found.meta))
    if operation == "contains":
        return name in keys
    if operation == "below":
        return _snapshot(keys.below(name))
    if operation == "children":
        return keys.children(name, None)
    if operation == "cut":
        return _snapshot(keys.cut(name))
    if operation == "remove":
        removed = keys.remove(name)
        return None if removed is None else removed.name
    if operation == "add":
        keys.add(Key(name, "added"))
        return None
    if operation == "change":  # through a lookup: the set must show it afterwards
        found = keys.lookup(name)
        if found is not None:
            found.value = "changed"
        return None
    return keys.names()


OPERATIONS = ["lookup", "contains", "below", "children", "cut", "remove", "add", "change", "names"]


@settings(max_examples=120, deadline=None)
@given(document=documents(st.none() | strings), data=st.data())
def test_property_a_json_read_deferred_behaves_as_its_keys_built(
    document: dict[str, object], data: st.DataObject
) -> None:
    """A JSON read builds its keys only when they are first looked into (``KeySet.deferred``):
    whatever a caller does first, and then, it sees what the keys built at once show."""
    import json

    built = expected_keys(document)
    deferred = get_format("json").read(json.dumps(document).encode(), MOUNTPOINT).keys
    assert len(deferred) == len(built)
    known = built.names()
    # Names of keys, of the levels above them (a mapping has no key of its own), and of none.
    candidates = sorted(
        {
            *known,
            *(names.parent(name) for name in known),
            MOUNTPOINT,
            "user:/",
            "system:/app",
            f"{MOUNTPOINT}/missing/#0",
            "/app",
        }
    )
    if data.draw(st.booleans(), label="first a part"):
        place = data.draw(st.sampled_from(candidates), label="part")
        built, deferred = built.below(place), deferred.below(place)
        assert len(deferred) == len(built)
    for _ in range(data.draw(st.integers(1, 6), label="steps")):
        operation = data.draw(st.sampled_from(OPERATIONS), label="operation")
        name = data.draw(st.sampled_from(candidates), label="name")
        assert _answer(deferred, operation, name) == _answer(built, operation, name)
        assert len(deferred) == len(built)
    assert _snapshot(deferred) == _snapshot(built)


def test_a_json_read_refuses_a_member_named_like_an_array_index_however_spelled() -> None:
    """A read that builds no key still checks every member name: ``#0`` written with a JSON
    escape, deep in the document, is refused as when written plainly."""
    from elektraweb.kdb.errors import ResourceError

    data = b'{"a": {"b": {"ok": "1", "\\u00230": "x"}}}'
    with pytest.raises(ResourceError, match="'#0' below user:/app/a/b looks like an array index"):
        get_format("json").read(data, MOUNTPOINT)
    plain = get_format("json").read(b'{"a": {"#note": "x", "c": "#0"}}', MOUNTPOINT).keys
    assert plain.names() == [f"{MOUNTPOINT}/a/#note", f"{MOUNTPOINT}/a/c"]
