"""KeySet: order, lookup, below, cut, children, and keeping order through changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from elektraweb.kdb import Key, KeySet, names


def keyset(*key_names: str) -> KeySet:
    return KeySet(Key(name, name) for name in key_names)


def test_keys_iterate_in_libelektras_order() -> None:
    ks = keyset(
        "user:/key.1", "system:/a", "user:/key/sub", "user:/key", "/a", "user:/#_10", "user:/#9"
    )
    assert ks.names() == [
        "/a",
        "user:/#9",
        "user:/#_10",
        "user:/key",
        "user:/key/sub",
        "user:/key.1",
        "system:/a",
    ]


def test_lookup_accepts_any_spelling_of_a_name() -> None:
    ks = keyset("user:/app/#_10", "user:/a\\/b")
    assert ks.lookup("user:/app/#10") is ks.lookup("user:/app/#_10") is not None
    assert ks.lookup("user://app/x/../#_10/") is not None
    assert "user:/a\\/b" in ks
    assert ks.lookup("user:/missing") is None
    assert ks.lookup("not a name") is None
    assert "not a name" not in ks


def test_adding_a_key_of_the_same_name_replaces_it() -> None:
    ks = keyset("user:/a", "user:/b")
    ks.names()
    ks.add(Key("user:/a", "new"))
    assert len(ks) == 2
    assert [key.value for key in ks] == ["new", "user:/b"]


def test_order_stays_right_through_adds_replacements_and_removals() -> None:
    ks = keyset("user:/b", "user:/d")
    assert ks.names() == ["user:/b", "user:/d"]
    ks.add(Key("user:/c"))
    ks.add(Key("user:/a"))
    ks.add(Key("user:/c", "replaced before ordering"))
    assert ks.remove("user:/d") is not None
    assert ks.remove("user:/nothing") is None
    assert ks.names() == ["user:/a", "user:/b", "user:/c"]
    assert ks.lookup("user:/c").value == "replaced before ordering"  # type: ignore[union-attr]
    ks.add(Key("user:/a", "replaced after ordering"))
    assert [key.value for key in ks] == [
        "replaced after ordering",
        "user:/b",
        "replaced before ordering",
    ]


def test_below_holds_the_key_and_its_subtree_only() -> None:
    ks = keyset(
        "user:/a", "user:/a/b", "user:/a/b/c", "user:/a.b", "user:/ab", "system:/a/b", "user:/"
    )
    assert ks.below("user:/a").names() == ["user:/a", "user:/a/b", "user:/a/b/c"]
    assert ks.below("user:/a/x").names() == []
    assert ks.below("user:/").names() == [
        "user:/",
        "user:/a",
        "user:/a/b",
        "user:/a/b/c",
        "user:/a.b",
        "user:/ab",
    ]
    assert len(ks) == 7  # below copies nothing out


def test_cut_removes_the_subtree() -> None:
    ks = keyset("user:/a", "user:/a/b", "user:/ab", "system:/a/b")
    taken = ks.cut("user:/a")
    assert taken.names() == ["user:/a", "user:/a/b"]
    assert ks.names() == ["user:/ab", "system:/a/b"]
    assert ks.lookup("user:/a/b") is None
    ks.add(Key("user:/a/c"))
    assert ks.names() == ["user:/a/c", "user:/ab", "system:/a/b"]


def test_children_lists_each_level_once_including_implicit_ones() -> None:
    ks = keyset("user:/a", "user:/a/b/c/d", "user:/a/b/e", "user:/a/f", "user:/a.x/y")
    assert ks.children("user:/a") == ["user:/a/b", "user:/a/f"]
    assert ks.children("user:/a", depth=2) == [
        "user:/a/b",
        "user:/a/b/c",
        "user:/a/b/e",
        "user:/a/f",
    ]
    assert ks.children("user:/a", depth=None) == [
        "user:/a/b",
        "user:/a/b/c",
        "user:/a/b/c/d",
        "user:/a/b/e",
        "user:/a/f",
    ]
    assert ks.children("user:/") == ["user:/a", "user:/a.x"]
    assert ks.children("user:/", depth=0) == []
    assert ks.children("system:/") == []


def test_copy_and_equality() -> None:
    ks = keyset("user:/a", "user:/b")
    duplicate = ks.copy()
    assert duplicate == ks
    duplicate.lookup("user:/a").value = "changed"  # type: ignore[union-attr]
    assert duplicate != ks
    assert ks.lookup("user:/a").value == "user:/a"  # type: ignore[union-attr]


part = st.text(alphabet="ab/#_%.\\0", max_size=3)
name_lists = st.lists(
    st.builds(
        names.join,
        st.sampled_from(names.NAMESPACES),
        st.lists(part, max_size=3).filter(lambda ps: ps != [""]),
    ),
    max_size=25,
)


@given(name_lists, name_lists)
def test_keyset_order_and_views_agree_with_the_name_functions(
    first: list[str], then: list[str]
) -> None:
    ks = keyset(*first)
    ks.names()
    for name in then:
        ks.add(Key(name))
    everything = sorted(set(first) | set(then), key=names.sort_key)
    assert ks.names() == everything
    for base in everything[:5]:
        expected = [n for n in everything if names.is_below_or_same(n, base)]
        assert ks.below(base).names() == expected
        depth = len(names.parts_of(base)) + 1
        children = {
            names.join(names.namespace_of(n), names.parts_of(n)[:depth])
            for n in expected
            if n != base and names.parts_of(n)[:depth] != ("",)
        }
        assert ks.children(base) == sorted(children, key=names.sort_key)


def test_a_list_added_to_an_empty_keyset_is_listed_in_order() -> None:
    """A fresh KeySet takes a list in bulk; one that was iterated before (a copy of an
    empty get) must still list what it is given."""
    fresh, listed = KeySet(), KeySet().copy()
    assert list(listed) == []
    for keys in (fresh, listed):
        keys.extend([Key("user:/b", "2"), Key("user:/a", "1"), Key("user:/b", "3")])
        assert [(key.name, key.value) for key in keys] == [("user:/a", "1"), ("user:/b", "3")]
        assert keys.lookup("user:/b") == Key("user:/b", "3")
