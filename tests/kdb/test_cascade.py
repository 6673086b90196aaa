"""Cascading lookup: namespace order, spec override/fallback/default, and the trace for -v."""

from __future__ import annotations

from elektraweb.kdb import Key, KeySet
from elektraweb.kdb.cascade import Tried, explain, lookup


def values(*keys: Key) -> KeySet:
    return KeySet(keys)


def found(ks: KeySet, name: str) -> str | None:
    key = lookup(ks, name)
    return None if key is None else key.name


def test_namespaces_are_tried_from_proc_to_default() -> None:
    order = ["proc:/a", "dir:/a", "user:/a", "system:/a", "default:/a"]
    ks = values(*(Key(name, name) for name in order))
    for name in order:
        assert found(ks, "/a") == name
        ks.remove(name)
    assert found(ks, "/a") is None


def test_a_stored_cascading_key_is_the_last_resort() -> None:
    ks = values(Key("/a", "cascading"))
    assert found(ks, "/a") == "/a"
    ks.add(Key("default:/a", "d"))
    assert found(ks, "/a") == "default:/a"


def test_names_with_a_namespace_are_plain_lookups() -> None:
    ks = values(Key("system:/a", "s"))
    assert found(ks, "system:/a") == "system:/a"
    assert found(ks, "user:/a") is None
    assert explain(ks, "user://a/") == [Tried("user:/a", False, "namespace")]


def test_explain_lists_every_name_tried() -> None:
    ks = values(Key("user:/app/port", "1"), Key("system:/app/port", "2"))
    assert explain(ks, "/app/port") == [
        Tried("spec:/app/port", False, "spec"),
        Tried("proc:/app/port", False, "namespace"),
        Tried("dir:/app/port", False, "namespace"),
        Tried("user:/app/port", True, "namespace"),
    ]
    assert explain(KeySet(), "/x") == [
        Tried("spec:/x", False, "spec"),
        Tried("proc:/x", False, "namespace"),
        Tried("dir:/x", False, "namespace"),
        Tried("user:/x", False, "namespace"),
        Tried("system:/x", False, "namespace"),
        Tried("default:/x", False, "default"),
        Tried("/x", False, "default"),
    ]


def test_override_keys_come_first_in_their_order() -> None:
    spec = Key("spec:/app/port", None, {"override/#0": "/env/port", "override/#1": "user:/port"})
    ks = values(spec, Key("user:/app/port", "own"), Key("user:/port", "second override"))
    assert found(ks, "/app/port") == "user:/port"
    ks.add(Key("system:/env/port", "first override"))
    assert found(ks, "/app/port") == "system:/env/port"
    # The override's own lookup (its spec key, then its namespaces) is part of the override step.
    assert explain(ks, "/app/port")[:3] == [
        Tried("spec:/app/port", True, "spec"),
        Tried("spec:/env/port", False, "override"),
        Tried("proc:/env/port", False, "override"),
    ]


def test_an_override_list_ends_at_the_first_gap() -> None:
    spec = Key("spec:/a", None, {"override/#0": "user:/x", "override/#2": "user:/y"})
    ks = values(spec, Key("user:/y", "after the gap"), Key("system:/a", "own"))
    assert found(ks, "/a") == "system:/a"


def test_fallback_keys_come_after_the_namespaces_and_before_defaults() -> None:
    spec = Key("spec:/app/port", None, {"fallback/#0": "/old/port", "default": "80"})
    ks = values(spec, Key("system:/old/port", "legacy"))
    assert found(ks, "/app/port") == "system:/old/port"
    ks.add(Key("system:/app/port", "own"))
    assert found(ks, "/app/port") == "system:/app/port"
    ks.remove("system:/old/port")
    ks.remove("system:/app/port")
    assert found(ks, "/app/port") == "default:/app/port"


def test_the_spec_default_is_returned_without_changing_the_keyset() -> None:
    ks = values(Key("spec:/app/port", None, {"default": "80", "check/type": "unsigned_short"}))
    key = lookup(ks, "/app/port")
    assert key is not None
    assert (key.name, key.value, key.meta["check/type"]) == (
        "default:/app/port",
        "80",
        "unsigned_short",
    )
    assert ks.lookup("default:/app/port") is None
    ks.add(Key("default:/app/port", "from the keyset"))
    assert lookup(ks, "/app/port").value == "from the keyset"  # type: ignore[union-attr]


def test_links_do_not_use_their_targets_defaults() -> None:
    ks = values(
        Key("spec:/a", None, {"override/#0": "/b"}),
        Key("spec:/b", None, {"default": "b's default"}),
        Key("user:/a", "a"),
    )
    assert found(ks, "/a") == "user:/a"


def test_namespace_list_restricts_and_orders_the_namespaces() -> None:
    spec = Key("spec:/a", None, {"namespace/#0": "system", "namespace/#1": "user:/"})
    ks = values(spec, Key("user:/a", "u"), Key("system:/a", "s"), Key("dir:/a", "d"))
    assert found(ks, "/a") == "system:/a"
    ks.remove("system:/a")
    assert found(ks, "/a") == "user:/a"
    ks.remove("user:/a")
    assert found(ks, "/a") is None


def test_links_that_lead_in_a_circle_end() -> None:
    ks = values(
        Key("spec:/a", None, {"override/#0": "/b"}),
        Key("spec:/b", None, {"override/#0": "/a", "fallback/#0": "/a"}),
    )
    assert found(ks, "/a") is None
    ks.add(Key("system:/b", "b"))
    assert found(ks, "/a") == "system:/b"


def test_a_link_that_is_no_valid_name_is_skipped() -> None:
    ks = values(Key("spec:/a", None, {"override/#0": "not a name"}), Key("user:/a", "a"))
    assert found(ks, "/a") == "user:/a"
    assert Tried("not a name", False, "override") in explain(ks, "/a")


def test_a_wildcard_spec_key_steers_the_lookup() -> None:
    ks = values(
        Key("spec:/app/_/port", None, {"fallback/#0": "/defaults/port"}),
        Key("system:/defaults/port", "9000"),
    )
    assert found(ks, "/app/web/port") == "system:/defaults/port"
    assert explain(ks, "/app/web/port")[0] == Tried("spec:/app/_/port", True, "spec")
    assert explain(ks, "/app/web/port")[-1] == Tried("system:/defaults/port", True, "fallback")


def test_defaults_come_only_from_specs_that_create_default_keys() -> None:
    ks = values(
        Key("spec:/app/_/port", None, {"default": "any-part"}),
        Key("spec:/app/list", None, {"array": "#1"}),
        Key("spec:/app/list/#", None, {"default": "element"}),
        Key("spec:/app/exact", None, {"default": "exact"}),
    )
    # A `_` pattern describes keys but creates no default (docs/validation.md).
    assert found(ks, "/app/x/port") is None
    # A `#` pattern gives defaults up to the array size (#1: elements #0 and #1) only.
    assert lookup(ks, "/app/list/#0") == Key(
        "default:/app/list/#0", "element", {"default": "element"}
    )
    assert found(ks, "/app/list/#1") == "default:/app/list/#1"
    assert found(ks, "/app/list/#2") is None
    assert lookup(ks, "/app/exact") == Key("default:/app/exact", "exact", {"default": "exact"})
    # A stored array size wins over the spec's.
    ks.add(Key("user:/app/list", None, {"array": "#2"}))
    assert found(ks, "/app/list/#2") == "default:/app/list/#2"
