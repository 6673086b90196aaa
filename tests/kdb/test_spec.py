"""Specifications: spec:/ metadata applied to matching keys, default:/ keys, and stripping."""

from __future__ import annotations

from elektraweb.kdb import Key, KeySet
from elektraweb.kdb.spec import Specification, apply_spec, strip_spec


def described(spec_name: str, *key_names: str) -> list[str]:
    """The names among ``key_names`` that get metadata from the spec key ``spec_name``."""
    ks = KeySet([Key(spec_name, None, {"description": "d"})])
    ks.extend(Key(name, "v") for name in key_names)
    apply_spec(ks)
    return [name for name in key_names if ks.lookup(name).meta.get("description") == "d"]  # type: ignore[union-attr]


def test_spec_metadata_reaches_the_same_name_in_every_value_namespace() -> None:
    key_names = ("proc:/a", "dir:/a", "user:/a", "system:/a", "default:/a", "user:/a/b", "user:/b")
    assert described("spec:/a", *key_names) == [
        "proc:/a",
        "dir:/a",
        "user:/a",
        "system:/a",
        "default:/a",
    ]


def test_spec_and_meta_keys_are_not_described() -> None:
    ks = KeySet([Key("spec:/_", None, {"description": "d"}), Key("spec:/x"), Key("meta:/x")])
    apply_spec(ks)
    assert ks.lookup("spec:/x").meta == {}  # type: ignore[union-attr]
    assert ks.lookup("meta:/x").meta == {}  # type: ignore[union-attr]


def test_underscore_matches_one_part_that_is_no_array_element() -> None:
    assert described(
        "spec:/app/_/port", "user:/app/a/port", "user:/app/#a/port", "user:/app/#10x/port",
        "user:/app/#0/port", "user:/app/#_10/port", "user:/app/port", "user:/app/a/b/port",
    ) == ["user:/app/a/port", "user:/app/#a/port", "user:/app/#10x/port"]  # fmt: skip


def test_hash_matches_array_elements_only() -> None:
    assert described(
        "spec:/servers/#", "user:/servers/#0", "user:/servers/#_10", "user:/servers/#__100",
        "user:/servers/x", "user:/servers/\\#10", "user:/servers/#0/deeper",
    ) == ["user:/servers/#0", "user:/servers/#_10", "user:/servers/#__100"]  # fmt: skip


def test_globs_match_within_one_part() -> None:
    assert described("spec:/log*", "user:/logfile", "user:/log", "user:/log/x", "user:/blog") == [
        "user:/logfile",
        "user:/log",
    ]
    assert described("spec:/*", "user:/a", "user:/#0", "user:/a/b") == ["user:/a", "user:/#0"]
    assert described("spec:/v?", "user:/v1", "user:/v", "user:/v12") == ["user:/v1"]
    assert described("spec:/[ab]x", "user:/ax", "user:/bx", "user:/cx") == ["user:/ax", "user:/bx"]
    assert described("spec:/[!a]x", "user:/ax", "user:/bx") == ["user:/bx"]
    assert described("spec:/[]]", "user:/]", "user:/a") == ["user:/]"]
    assert described("spec:/[x", "user:/[x", "user:/x") == ["user:/[x"]


def test_a_keys_own_metadata_wins_and_the_most_specific_spec_key_wins() -> None:
    ks = KeySet(
        [
            Key("spec:/app/_", None, {"description": "any", "check/type": "string"}),
            Key("spec:/app/port", None, {"description": "the port", "check/range": "1-65535"}),
            Key("user:/app/port", "80"),
            Key("user:/app/host", "h", {"description": "mine"}),
        ]
    )
    apply_spec(ks)
    assert ks.lookup("user:/app/port").meta == {  # type: ignore[union-attr]
        "description": "the port",
        "check/type": "string",
        "check/range": "1-65535",
    }
    assert ks.lookup("user:/app/host").meta == {"description": "mine", "check/type": "string"}  # type: ignore[union-attr]
    assert Specification(ks).spec_key_for("user:/app/port").name == "spec:/app/port"  # type: ignore[union-attr]
    assert Specification(ks).spec_key_for("/app/other").name == "spec:/app/_"  # type: ignore[union-attr]
    assert Specification(ks).spec_key_for("/other") is None


def test_defaults_become_default_keys_where_no_value_exists() -> None:
    ks = KeySet(
        [
            Key("spec:/app/port", None, {"default": "8080", "check/type": "unsigned_short"}),
            Key("spec:/app/host", None, {"default": "localhost"}),
            Key("spec:/app/_/name", None, {"default": "never"}),
            Key("spec:/app/log*", None, {"default": "never"}),
            Key("system:/app/host", "example.org"),
        ]
    )
    apply_spec(ks)
    default = ks.lookup("default:/app/port")
    assert default is not None
    assert (default.value, default.meta["check/type"]) == ("8080", "unsigned_short")
    assert ks.lookup("default:/app/host") is None
    assert [key.name for key in ks.below("default:/")] == ["default:/app/port"]
    before = [(key.name, key.value, dict(key.meta)) for key in ks]
    apply_spec(ks)
    assert [(key.name, key.value, dict(key.meta)) for key in ks] == before


def test_array_defaults_follow_the_array_size() -> None:
    spec_host = Key("spec:/app/servers/#/host", None, {"default": "localhost"})
    ks = KeySet([spec_host, Key("user:/app/servers", None, {"array": "#2"})])
    ks.add(Key("user:/app/servers/#1/host", "one"))
    apply_spec(ks)
    assert [key.name for key in ks.below("default:/")] == [
        "default:/app/servers/#0/host",
        "default:/app/servers/#2/host",
    ]
    # Without `array` on a value key, the spec key of the array says how big it is.
    ks = KeySet([spec_host, Key("spec:/app/servers", None, {"array": "#0"})])
    apply_spec(ks)
    assert [key.name for key in ks.below("default:/")] == ["default:/app/servers/#0/host"]
    # Without any `array`, the array is empty.
    ks = KeySet([spec_host])
    apply_spec(ks)
    assert ks.below("default:/").names() == []


def test_nested_arrays_are_instantiated() -> None:
    ks = KeySet(
        [
            Key("spec:/a/#/b/#", None, {"default": "x"}),
            Key("user:/a", None, {"array": "#1"}),
            Key("user:/a/#1/b", None, {"array": "#0"}),
        ]
    )
    apply_spec(ks)
    assert ks.below("default:/").names() == ["default:/a/#1/b/#0"]


def test_strip_spec_keeps_what_the_key_says_itself() -> None:
    ks = KeySet(
        [
            Key("spec:/app/port", None, {"default": "80", "check/type": "unsigned_short"}),
            Key("spec:/app/_", None, {"description": "any"}),
            Key("spec:/app/timeout", None, {"default": "5"}),
            Key("user:/app/port", "8080", {"check/type": "short", "comment": "mine"}),
            Key("system:/app/host", "h"),
        ]
    )
    original = [(key.name, key.value, dict(key.meta)) for key in ks]
    apply_spec(ks)
    stored = strip_spec(ks)
    assert [(key.name, key.value, dict(key.meta)) for key in stored] == original
    assert ks.lookup("default:/app/timeout") is not None  # the input is left alone
    assert ks.lookup("system:/app/host").meta == {"description": "any"}  # type: ignore[union-attr]
