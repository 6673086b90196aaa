"""Validation of keys and of changes, with libelektra's error codes and messages."""

from __future__ import annotations

import pytest

from elektraweb.kdb import Key, KeySet
from elektraweb.kdb.errors import ValidationError
from elektraweb.kdb.validation import validate_change, validate_key


def refused(value: str, meta: dict[str, str], name: str = "user:/app/x") -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_key(Key(name, value, meta))
    return caught.value


def test_the_message_names_key_value_and_reason() -> None:
    error = refused("70000", {"check/range": "1-65535"}, "user:/app/port")
    assert error.message == (
        'Validation of key "user:/app/port" with value "70000" failed: not in range 1-65535'
    )
    assert error.code == "C03200"
    assert error.key == "user:/app/port"
    assert str(error).startswith("C03200: Validation of key")


def test_types_are_checked_and_booleans_keep_their_spelling() -> None:
    assert validate_key(Key("user:/a", "8080", {"check/type": "unsigned_short"})) == "8080"
    assert validate_key(Key("user:/a", "Enabled", {"check/type": "boolean"})) == "Enabled"
    assert validate_key(Key("user:/a", "off", {"type": "boolean"})) == "off"
    error = refused("-1", {"check/type": "unsigned_short"})
    assert error.code == "C03200"
    assert 'with value "-1" failed: not a unsigned_short' in error.message
    assert "unknown type 'integer'" in refused("1", {"check/type": "integer"}).message


def test_keys_without_a_text_value_are_not_checked() -> None:
    assert validate_key(Key("user:/a", None, {"check/type": "short"})) is None
    assert validate_key(Key("user:/a", b"\x00", {"check/type": "short"})) == b"\x00"


def test_enums() -> None:
    meta = {
        "check/enum": "#_10",
        "check/enum/#0": "small",
        "check/enum/#1": "middle",
        "check/enum/#_10": "huge",
    }
    assert validate_key(Key("user:/a", "huge", meta)) == "huge"
    error = refused("large", meta)
    assert error.code == "C03200"
    assert error.message.endswith('not one of the allowed values: "small", "middle", "huge"')
    typed = {**meta, "check/type": "enum"}
    assert validate_key(Key("user:/a", "small", typed)) == "small"
    assert "none (check/enum/# is empty)" in refused("x", {"check/type": "enum"}).message


def test_enum_entries_end_at_the_index_check_enum_names_else_at_the_first_gap() -> None:
    # libelektra's type plugin: check/enum = #N is the last index; without it the list
    # ends at the first missing index.
    meta = {"check/enum/#0": "a", "check/enum/#1": "b", "check/enum/#3": "d"}
    assert validate_key(Key("user:/a", "b", meta)) == "b"
    assert refused("d", meta).message.endswith('not one of the allowed values: "a", "b"')
    bounded = {**meta, "check/enum": "#0"}
    assert validate_key(Key("user:/a", "a", bounded)) == "a"
    assert refused("b", bounded).message.endswith('not one of the allowed values: "a"')
    assert validate_key(Key("user:/a", "d", {**meta, "check/enum": "#3"})) == "d"


def test_multi_value_enums() -> None:
    meta = {"check/enum/#0": "a", "check/enum/#1": "b", "check/enum/delimiter": "_"}
    assert validate_key(Key("user:/x", "a_b_a", meta)) == "a_b_a"
    assert "several separated by '_'" in refused("a_c", meta).message
    old_style = {"check/enum/#0": "a", "check/enum/#1": "b", "check/enum/multi": ","}
    assert validate_key(Key("user:/x", "b,a", old_style)) == "b,a"
    bad = refused("a", {"check/enum/#0": "a", "check/enum/delimiter": "__"})
    assert bad.code == "C03100"


@pytest.mark.parametrize(
    ("check_range", "inside", "outside"),
    [
        ("1-999", ["1", "500", "999"], ["0", "1000", "-5"]),
        ("-5-5,10", ["-5", "0", "5", "10"], ["-6", "6", "9", "11"]),
        ("-10--5", ["-10", "-7"], ["-4", "0"]),
        ("9-1", ["1", "9"], ["10"]),
        (" 1 - 3 , 7 ", ["2", "7"], ["5"]),
        ("42", ["42"], ["41"]),
    ],
)
def test_integer_ranges(check_range: str, inside: list[str], outside: list[str]) -> None:
    meta = {"check/range": check_range}
    for value in inside:
        assert validate_key(Key("user:/a", value, meta)) == value
    for value in outside:
        assert refused(value, meta).message.endswith(f"not in range {check_range}")


def test_float_ranges_for_float_types() -> None:
    meta = {"check/range": "0.5-1.5,-1e3", "check/type": "double"}
    assert validate_key(Key("user:/a", "1.25", meta)) == "1.25"
    assert validate_key(Key("user:/a", "-1000", meta)) == "-1000"
    assert refused("1.6", meta).code == "C03200"


def test_range_problems() -> None:
    assert "not a number" in refused("abc", {"check/range": "1-9"}).message
    assert "not a number" in refused("1.5", {"check/range": "1-9"}).message
    assert "not a number" in refused("1_0", {"check/range": "1-99"}).message
    assert "not a number" in refused(" 5", {"check/range": "1-9"}).message
    assert refused("nan", {"check/range": "1-9", "check/type": "float"}).message.endswith(
        "not in range 1-9"
    )
    bad = refused("5", {"check/range": "1-x"})
    assert bad.code == "C03100"
    assert "check/range '1-x' is not a list of integer ranges" in bad.message


def test_regular_expressions_search_like_libelektra() -> None:
    assert validate_key(Key("user:/a", "abc123", {"check/validation": "[0-9]+"})) == "abc123"
    error = refused("abc", {"check/validation": "^[[:digit:]]+$"})
    assert error.code == "C03100"
    assert error.message.endswith('failed: it does not match "^[[:digit:]]+$"')


def test_the_validation_message_replaces_the_reason() -> None:
    meta = {"check/validation": "^[0-9]+$", "check/validation/message": "Not a number"}
    assert refused("x", meta).message.endswith("failed: Not a number")


def test_validation_match_modes_case_and_inversion() -> None:
    line = {"check/validation": "[0-9]+", "check/validation/match": "line"}
    assert validate_key(Key("user:/a", "x\n42", line)) == "x\n42"
    refused("4x2", line)
    word = {"check/validation": "[0-9]+", "check/validation/match": "WORD"}
    assert validate_key(Key("user:/a", "port 80 open", word)) == "port 80 open"
    refused("port 8o", word)
    assert validate_key(
        Key("user:/a", "ABC", {"check/validation": "^abc$", "check/validation/ignorecase": "1"})
    )
    inverted = {"check/validation": "secret", "check/validation/invert": ""}
    assert validate_key(Key("user:/a", "public", inverted)) == "public"
    assert "(check/validation/invert)" in refused("top secret", inverted).message


def test_an_invalid_regex_is_a_syntactic_error() -> None:
    error = refused("x", {"check/validation": "(unclosed"})
    assert error.code == "C03100"
    assert "check/validation: invalid regular expression '(unclosed'" in error.message


def test_checks_apply_to_the_normalised_value() -> None:
    meta = {"check/type": "boolean", "check/range": "1"}
    assert validate_key(Key("user:/a", "yes", meta)) == "yes"
    assert "not in range 1" in refused("No", meta).message
    enum = {"check/type": "boolean", "check/enum/#0": "1"}
    assert validate_key(Key("user:/a", "ON", enum)) == "ON"


def keys(*items: Key) -> KeySet:
    return KeySet(items)


def test_a_change_is_validated_against_own_and_spec_metadata() -> None:
    spec = Key("spec:/app/port", None, {"check/type": "unsigned_short"})
    old = keys(spec, Key("user:/app/port", "80"))
    new = keys(spec, Key("user:/app/port", "70000"))
    with pytest.raises(ValidationError, match='"user:/app/port" with value "70000"'):
        validate_change(old, new)
    new = keys(spec, Key("user:/app/port", "70000", {"check/type": "string"}))
    assert validate_change(old, new).lookup("user:/app/port").value == "70000"  # type: ignore[union-attr]


def test_the_spec_can_come_from_elsewhere() -> None:
    spec = keys(Key("spec:/app/_", None, {"check/type": "boolean"}))
    old = keys()
    new = keys(Key("system:/app/debug", "on"))
    result = validate_change(old, new, spec)
    assert result.lookup("system:/app/debug").value == "on"  # type: ignore[union-attr]
    assert result.names() == ["system:/app/debug"]


def test_only_added_and_changed_keys_are_checked() -> None:
    invalid_but_old = Key("user:/old", "x", {"check/type": "short"})
    old = keys(invalid_but_old.copy())
    new = keys(invalid_but_old.copy(), Key("user:/new", "5", {"check/type": "short"}))
    assert validate_change(old, new).names() == ["user:/new", "user:/old"]
    changed_meta = keys(Key("user:/old", "x", {"check/type": "long"}))
    with pytest.raises(ValidationError, match="not a long"):
        validate_change(old, changed_meta)


def test_spec_and_default_keys_are_not_validated() -> None:
    old = keys()
    new = keys(
        Key("spec:/app/port", "", {"check/type": "unsigned_short"}),
        Key("default:/app/port", "bad", {"check/type": "unsigned_short"}),
    )
    assert len(validate_change(old, new)) == 2


def test_restrict_write_refuses_value_changes_but_not_removal_or_meta() -> None:
    locked = Key("user:/app/a", "1", {"restrict/write": "1"})
    old = keys(locked)
    with pytest.raises(ValidationError) as caught:
        validate_change(old, keys(Key("user:/app/a", "2", {"restrict/write": "1"})))
    assert caught.value.code == "C03200"
    assert caught.value.message.endswith("its value may not be changed (restrict/write)")
    # Dropping the flag together with a new value is still a change of a locked value.
    with pytest.raises(ValidationError):
        validate_change(old, keys(Key("user:/app/a", "2")))
    assert len(validate_change(old, keys(Key("user:/app/a", "1")))) == 1  # unlocking
    assert len(validate_change(old, keys())) == 0  # removal
    unlocked = keys(Key("user:/app/a", "2", {"restrict/write": "false"}))
    assert (
        len(validate_change(keys(Key("user:/app/a", "1", {"restrict/write": "0"})), unlocked)) == 1
    )


def test_restrict_write_from_the_spec_also_refuses_creating_the_key() -> None:
    spec = Key("spec:/app/version", None, {"restrict/write": "1"})
    with pytest.raises(ValidationError, match="restrict/write"):
        validate_change(keys(spec), keys(spec, Key("user:/app/version", "2")))
    created_locked = Key("user:/app/mine", "1", {"restrict/write": "1"})
    assert len(validate_change(keys(), keys(created_locked))) == 1


def test_restrict_remove_refuses_removal() -> None:
    old = keys(Key("user:/app/a", "1", {"restrict/remove": "1"}), Key("user:/app/b", "1"))
    with pytest.raises(ValidationError) as caught:
        validate_change(old, keys(Key("user:/app/b", "1")))
    assert caught.value.message == (
        'Validation of key "user:/app/a" with value "1" failed: '
        "it may not be removed (restrict/remove)"
    )
    spec = Key("spec:/app/b", None, {"restrict/remove": "yes"})
    with pytest.raises(ValidationError, match='"user:/app/b"'):
        validate_change(keys(spec, Key("user:/app/b", "1")), keys(spec))
    assert len(validate_change(old, keys(*old, Key("user:/app/c", "new")))) == 3


@pytest.mark.parametrize(
    ("value", "family", "accepted"),
    [
        ("127.0.0.1", "", True),
        ("::1", "", True),
        ("::1", "ipv4", False),
        ("127.0.0.1", "ipv6", False),
        ("133.133.133.1337", "ipv4", False),
        ("localhost", "", False),
    ],
)
def test_ipaddr_accepts_addresses_of_the_family(value: str, family: str, accepted: bool) -> None:
    meta = {"check/ipaddr": family}
    if accepted:
        assert validate_key(Key("user:/a", value, meta)) == value
    else:
        assert refused(value, meta).code == "C03200"


def test_port_is_a_number_up_to_65535_or_a_service() -> None:
    assert validate_key(Key("user:/a", "65535", {"check/port": ""})) == "65535"
    assert "not within 0 - 65535" in refused("65536", {"check/port": ""}).message
    assert refused("no-such-service", {"check/port": ""}).code == "C03200"
    assert refused("1.2.3.4", {"check/ipaddr": "ipv5"}).code == "C03100"


def test_trigger_error_fails_with_the_requested_code() -> None:
    assert refused("x", {"trigger/error": "C01310"}).code == "C01310"
    assert "not an error code" in refused("x", {"trigger/error": "boom"}).message


BOOLEAN = {"check/type": "boolean"}


def stored_after(before: str, sent: str, meta: dict[str, str]) -> object:
    """The value a change of user:/app/debug from ``before`` to ``sent`` stores."""
    old = keys(Key("user:/app/debug", before, meta))
    new = keys(Key("user:/app/debug", sent, meta))
    return validate_change(old, new).lookup("user:/app/debug").value  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "word",
    [
        "1",
        "0",
        "yes",
        "no",
        "on",
        "off",
        "true",
        "false",
        "enabled",
        "disabled",
        "enable",
        "disable",
        "YES",
        "Off",
        "tRuE",
    ],
)
def test_every_boolean_word_is_accepted_and_stored_as_spelled(word: str) -> None:
    assert stored_after("1", word, BOOLEAN) == word


@pytest.mark.parametrize("word", ["", "2", "y", "nope", " true", "ja"])
def test_what_is_no_boolean_is_still_refused(word: str) -> None:
    error = refused(word, BOOLEAN)
    assert error.code == "C03200"
    assert "not a boolean (1/yes/on/true/enabled/enable or 0/no/off" in error.message


@pytest.mark.parametrize(
    ("stored", "sent", "written"),
    [
        ("no", "1", "yes"),
        ("Off", "1", "On"),
        ("ENABLED", "0", "DISABLED"),
        ("true", "0", "false"),
        ("yes", "1", "yes"),
        ("1", "0", "0"),  # the file spells booleans canonically itself
        ("maybe", "1", "1"),  # an invalid old value has no spelling to keep
        ("no", "on", "on"),  # a word sent is the spelling chosen
    ],
)
def test_a_canonical_boolean_takes_the_spelling_of_the_value_it_replaces(
    stored: str, sent: str, written: str
) -> None:
    assert stored_after(stored, sent, BOOLEAN) == written


def test_a_canonical_boolean_takes_the_spelling_of_the_key_s_own_words() -> None:
    meta = {"check/type": "boolean", "check/boolean/true": "ja", "check/boolean/false": "nein"}
    assert stored_after("Nein", "1", meta) == "Ja"
