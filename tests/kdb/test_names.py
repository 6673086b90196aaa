"""Key names: every rule of libelektra's doc/KEYNAMES.md, plus properties that must hold."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError

# KEYNAMES.md §2.1 and libelektra's tests/ctest/test_keyname.c.
CANONICAL = [
    ("/elektra/./version", "/elektra/version"),
    ("/elektra/../version", "/version"),
    ("/elektra/.././version", "/version"),
    ("/elektra///version", "/elektra/version"),
    ("/elektra//../version", "/version"),
    ("/elektra/./../version", "/version"),
    ("/elektra/../../", "/"),
    ("user:/elektra/../../", "user:/"),
    ("/elektra/version/", "/elektra/version"),
    ("/", "/"),
    ("/////////", "/"),
    ("user://///////", "user:/"),
    ("user://abc////def/ghi/", "user:/abc/def/ghi"),
    ("///.////.", "/"),
    ("/./a", "/a"),
    ("/..", "/"),
    ("user:/..", "user:/"),
    ("/abc/../..", "/"),
    ("system:/a/b/../../../../c", "system:/c"),
    ("/abc/.../ghi", "/abc/.../ghi"),
    ("/abc/.def/ghi", "/abc/.def/ghi"),
    ("/abc/%/def", "/abc/%/def"),
    ("/abc/d%ef/ghi", "/abc/d%ef/ghi"),
    ("/abc/%def/ghi", "/abc/%def/ghi"),
    ("/abc/def/ghi/%", "/abc/def/ghi/%"),
    ("/%/a", "/%/a"),
    ("/abc/\\%/def", "/abc/\\%/def"),
    ("/abc/\\./ghi", "/abc/\\./ghi"),
    ("/abc/\\../ghi", "/abc/\\../ghi"),
    ("/abc\\/def/ghi", "/abc\\/def/ghi"),
    ("/abc/de\\\\f/ghi", "/abc/de\\\\f/ghi"),
    ("/abc/def/ghi\\/", "/abc/def/ghi\\/"),
    ("/\\\\", "/\\\\"),
    ("/\\//", "/\\/"),
    ("/abc/@def/ghi", "/abc/@def/ghi"),
    ("/abc/#/def", "/abc/#/def"),
    ("/abc/#0/ghi", "/abc/#0/ghi"),
    ("/abc/#5/ghi", "/abc/#5/ghi"),
    ("/elektra/#10", "/elektra/#_10"),
    ("/elektra/#1234", "/elektra/#___1234"),
    ("/abc/#10000/ghi", "/abc/#____10000/ghi"),
    ("/abc/#9223372036854775807", "/abc/#__________________9223372036854775807"),
    ("/abc/#_10/ghi", "/abc/#_10/ghi"),
    ("/abc/#__100", "/abc/#__100"),
    ("/abc/\\#10/ghi", "/abc/\\#10/ghi"),
    ("/abc/\\#9223372036854775807", "/abc/\\#9223372036854775807"),
    # Parts that look like array parts but are none stay as written.
    ("/abc/#01/ghi", "/abc/#01/ghi"),
    ("/abc/#__10/ghi", "/abc/#__10/ghi"),
    ("/abc/#_100/ghi", "/abc/#_100/ghi"),
    ("/abc/#10a", "/abc/#10a"),
    ("/abc/#9223372036854775808", "/abc/#9223372036854775808"),
    ("user:/abc/def/ghi", "user:/abc/def/ghi"),
    ("meta:/check/type", "meta:/check/type"),
    ("default:/a", "default:/a"),
    ("/user:/x", "/user:/x"),
]


@pytest.mark.parametrize(("name", "expected"), CANONICAL)
def test_canonical_form(name: str, expected: str) -> None:
    assert names.canonical(name) == expected


UNESCAPED_PARTS = [
    ("/elektra\\/version/info/back\\\\slash", ("elektra/version", "info", "back\\slash")),
    ("/abc/%/def", ("abc", "", "def")),
    ("/abc/\\%/def", ("abc", "%", "def")),
    ("/abc/\\./x", ("abc", ".", "x")),
    ("/abc/\\../x", ("abc", "..", "x")),
    ("/abc/\\#10", ("abc", "#10")),
    ("/abc/#10", ("abc", "#_10")),
    ("/\\\\\\\\%", ("\\\\%",)),
    ("system:/", ()),
]


@pytest.mark.parametrize(("name", "parts"), UNESCAPED_PARTS)
def test_unescaping_removes_exactly_the_escapes(name: str, parts: tuple[str, ...]) -> None:
    assert names.parts_of(name) == parts


INVALID = [
    ("", "cannot be empty"),
    ("user", "must start with '/' or a namespace"),
    ("user/", "must start with '/' or a namespace"),
    ("abc", "must start with '/' or a namespace"),
    ("user:", "must be followed by ':/'"),
    ("user:abc:/", "must be followed by ':/'"),
    ("abc:/", "unknown namespace 'abc'"),
    ("cascading:/a", "unknown namespace 'cascading'"),
    ("/\\", "dangling escape"),
    ("/\\\\\\", "dangling escape"),
    ("/%", "collide with the root key"),
    ("user:/%", "collide with the root key"),
    ("//%", "collide with the root key"),
    ("/x/../%", "collide with the root key"),
    ("/abc/\\def/ghi", "illegal escape sequence '\\d'"),
    ("/abc/d\\.ef/ghi", "illegal escape sequence '\\.'"),
    ("/abc/\\.def/ghi", "illegal escape sequence '\\.'"),
    ("/abc/d\\%ef/ghi", "illegal escape sequence '\\%'"),
    ("/abc/d\\#ef/ghi", "illegal escape sequence '\\#'"),
    ("/abc/\\#def/ghi", "'\\#' may only escape"),
    ("/abc/\\#0/ghi", "'\\#' may only escape"),
    ("/abc/\\#01/ghi", "'\\#' may only escape"),
    ("/abc/\\#_10/ghi", "'\\#' may only escape"),
    ("/abc/\\#92233720368547758071", "'\\#' may only escape"),
    ("/a\x00b", "cannot contain NUL"),
]


@pytest.mark.parametrize(("name", "problem"), INVALID)
def test_invalid_names_are_refused_quoting_the_name(name: str, problem: str) -> None:
    with pytest.raises(InvalidNameError) as caught:
        names.canonical(name)
    message = str(caught.value)
    assert f'"{name}"' in message
    assert problem in message


def test_a_name_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidNameError, match="must be a string"):
        names.canonical(42)  # type: ignore[arg-type]


def test_namespaces_sort_in_libelektras_order() -> None:
    shuffled = ["default:/a", "/a", "system:/a", "user:/a", "dir:/a", "proc:/a", "spec:/a"]
    shuffled.append("meta:/a")
    assert sorted(shuffled, key=names.sort_key) == [
        "/a",
        "meta:/a",
        "spec:/a",
        "proc:/a",
        "dir:/a",
        "user:/a",
        "system:/a",
        "default:/a",
    ]


@pytest.mark.parametrize(
    "ordered",
    [
        ["/key", "/key/sub", "/key.1"],  # KEYNAMES.md footnote 3
        ["/#9", "/#_10", "/#_99", "/#__100"],
        ["user:/", "user:/%/a", "user:/a", "user:/a/%", "user:/a/b", "user:/a b", "user:/ab"],
        ["user:/z", "system:/a/b/c"],  # namespace first, parts second
    ],
)
def test_names_sort_part_by_part(ordered: list[str]) -> None:
    assert sorted(reversed(ordered), key=names.sort_key) == ordered


RELATIONS = [
    # (key 1, key 2, below, directly below) - KEYNAMES.md §1.1.1
    ("/elektra/version/info", "/elektra/version", True, True),
    ("/elektra/version/info", "/elektra", True, False),
    ("/elektra", "/elektra/version/info", False, False),
    ("/elektra/version/info", "/elektra/version/info", False, False),
    ("/elektra/version/info", "/elektra/data", False, False),
    ("/elektra/data", "/elektra/version", False, False),
    ("user:/a/b", "user:/", True, False),
    ("user:/a", "user:/", True, True),
    ("user:/a/b", "system:/a", False, False),
    ("/ab/c", "/a", False, False),
]


@pytest.mark.parametrize(("name", "other", "below", "directly"), RELATIONS)
def test_hierarchy(name: str, other: str, below: bool, directly: bool) -> None:
    assert names.is_below(name, other) is below
    assert names.is_directly_below(name, other) is directly
    assert names.is_below_or_same(name, other) is (below or name == other)


def test_basename_parent_and_child() -> None:
    assert names.basename("user:/a/b\\/c") == "b/c"
    assert names.basename("user:/") == ""
    assert names.parent("user:/a/b\\/c") == "user:/a"
    assert names.parent("user:/a") == "user:/"
    assert names.parent("user:/") == "user:/"
    assert names.child("user:/a", "b/c", "", "#10") == "user:/a/b\\/c/%/\\#10"
    assert names.with_namespace("user:/a/#_10", "cascading") == "/a/#_10"
    assert names.relative_parts("user:/a/b/c", "user:/a") == ("b", "c")
    with pytest.raises(InvalidNameError, match="is not below"):
        names.relative_parts("user:/x", "user:/a")


@pytest.mark.parametrize(
    ("name", "other", "parent"),
    [
        ("user:/a/b/c", "user:/a/b/d", "user:/a/b"),
        ("user:/a/b", "user:/a/b/c", "user:/a/b"),
        ("user:/a", "user:/a", "user:/a"),
        ("user:/a/b", "user:/ab", "user:/"),
        ("user:/a\\/b/x", "user:/a\\/b/y", "user:/a\\/b"),
        ("user:/%/a", "user:/%/b", "user:/"),
        ("/a/b", "/a/c", "/a"),
        ("user:/a", "system:/a", "/"),
    ],
)
def test_common_parent_is_the_deepest_name_above_both(name: str, other: str, parent: str) -> None:
    assert names.common_parent(name, other) == names.common_parent(other, name) == parent


def test_a_root_with_one_empty_part_cannot_be_built() -> None:
    with pytest.raises(InvalidNameError, match="collide with the root key"):
        names.child("user:/", "")


def test_array_parts() -> None:
    assert [names.array_part(i) for i in (0, 9, 10, 99, 100)] == [
        "#0",
        "#9",
        "#_10",
        "#_99",
        "#__100",
    ]
    assert names.array_index("#__100") == 100
    for not_an_index in (
        "#10",
        "#01",
        "#__10",
        "#abc",
        "#",
        "a",
        "#__________________9223372036854775808",
    ):
        assert names.array_index(not_an_index) is None
    with pytest.raises(InvalidNameError):
        names.array_part(-1)
    assert names.display_part("#_10") == "10"
    assert names.display_part("x") == "x"


# Arbitrary parts: any text without NUL, biased towards the characters that need escaping.
parts = st.text(
    alphabet=st.one_of(
        st.sampled_from("/\\%.#_0123456789"),
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    ),
    max_size=8,
)
part_lists = st.lists(parts, max_size=5).filter(lambda ps: ps != [""])
namespaces = st.sampled_from(names.NAMESPACES)
# Escaped names built from pieces, so that dots, escapes and slashes meet in odd places.
raw_names = st.builds(
    lambda ns, pieces: ("/" if ns == names.CASCADING else ns + ":/") + "/".join(pieces),
    namespaces,
    st.lists(
        st.one_of(
            st.sampled_from(
                [".", "..", "", "%", "\\%", "\\.", "\\..", "#10", "\\#10", "#_10", "a"]
            ),
            parts.map(names.escape_part),
        ),
        max_size=6,
    ),
)


@given(raw_names)
def test_canonical_is_idempotent(name: str) -> None:
    try:
        once = names.canonical(name)
    except InvalidNameError:
        return
    assert names.canonical(once) == once
    assert names.join(*names.split(name)) == once


@given(namespaces, part_lists)
def test_join_and_split_round_trip(namespace: str, unescaped: list[str]) -> None:
    name = names.join(namespace, unescaped)
    assert names.split(name) == (namespace, tuple(unescaped))
    assert names.canonical(name) == name


@given(parts.filter(lambda p: p != ""))
def test_any_part_survives_escaping(part: str) -> None:
    name = names.child("user:/a", part)
    assert names.basename(name) == part
    assert names.parts_of(name) == ("a", part)


@given(st.lists(st.tuples(namespaces, part_lists), min_size=2, max_size=6))
def test_sort_order_is_libelektras_unescaped_byte_order(
    entries: list[tuple[str, list[str]]],
) -> None:
    built = [names.join(ns, ps) for ns, ps in entries]

    def unescaped_bytes(name: str) -> tuple[int, bytes]:
        namespace, unescaped = names.split(name)
        joined = "\x00".join(unescaped).encode("utf-8")
        return names.NAMESPACE_RANK[namespace], joined

    assert sorted(built, key=names.sort_key) == sorted(built, key=unescaped_bytes)


@given(st.integers(min_value=0, max_value=names.ARRAY_INDEX_MAX))
def test_every_index_has_one_canonical_array_part(index: int) -> None:
    part = names.array_part(index)
    assert names.array_index(part) == index
    assert names.canonical(f"/a/#{index}") == f"/a/{part}"


@given(st.integers(min_value=names.ARRAY_INDEX_MAX + 1, max_value=10**20))
def test_indices_beyond_the_maximum_are_no_array_parts(index: int) -> None:
    digits = str(index)
    assert names.array_index("#" + "_" * (len(digits) - 1) + digits) is None
    assert names.parts_of(f"/a/#{index}") == ("a", f"#{index}")
