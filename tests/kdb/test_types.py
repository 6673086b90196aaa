"""check/type: CORBA types as libelektra's type plugin checks them."""

from __future__ import annotations

import pytest

from elektraweb.kdb.types import TypeMismatch, check_type, type_of

ACCEPTED = [
    ("short", ["0", "-32768", "32767", "-1"]),
    ("unsigned_short", ["0", "65535", "8080"]),
    ("long", ["-2147483648", "2147483647"]),
    ("unsigned_long", ["4294967295"]),
    ("long_long", ["-9223372036854775808", "9223372036854775807"]),
    ("unsigned_long_long", ["18446744073709551615"]),
    ("float", ["1", "-1.5", ".5", "1e10", "3.4e38", "inf", "-Infinity", "nan", "1."]),
    ("double", ["1e308", "-2.5E-3"]),
    ("long_double", ["0.1"]),
    ("char", ["a", " ", "#"]),
    ("octet", ["x"]),
    ("wchar", ["a", "ä", "€"]),
    ("string", ["", "anything at all"]),
    ("wstring", ["ä", "text"]),
    ("any", ["", "x"]),
]
REFUSED = [
    ("short", ["32768", "-32769", "", "1.0", "+1", "01", "-0", " 1", "1 ", "0x10", "１"]),
    ("unsigned_short", ["65536", "-1", "", "abc"]),
    ("long", ["2147483648"]),
    ("unsigned_long", ["4294967296", "-0"]),
    ("long_long", ["9223372036854775808"]),
    ("unsigned_long_long", ["18446744073709551616"]),
    ("float", ["", "abc", "1e39", "1,5", "1_000", " 1"]),
    ("double", ["1e309", "--1"]),
    ("char", ["", "ab", "ä"]),
    ("wchar", ["", "ab"]),
    ("wstring", [""]),
    ("no_such_type", ["x"]),
]


@pytest.mark.parametrize(("type_name", "value"), [(t, v) for t, vs in ACCEPTED for v in vs])
def test_values_of_the_type_are_accepted_unchanged(type_name: str, value: str) -> None:
    assert check_type(type_name, value, {}) == value


@pytest.mark.parametrize(("type_name", "value"), [(t, v) for t, vs in REFUSED for v in vs])
def test_values_not_of_the_type_are_refused(type_name: str, value: str) -> None:
    with pytest.raises(TypeMismatch):
        check_type(type_name, value, {})


def test_refusals_say_what_was_expected() -> None:
    with pytest.raises(TypeMismatch, match=r"not a unsigned_short \(an integer in 0\.\.65535"):
        check_type("unsigned_short", "70000", {})
    with pytest.raises(TypeMismatch, match="unknown type 'int'"):
        check_type("int", "1", {})


@pytest.mark.parametrize(
    "word", ["1", "yes", "on", "true", "enabled", "enable", "TRUE", "Yes", "ON"]
)
def test_true_words_normalise_to_1(word: str) -> None:
    assert check_type("boolean", word, {}) == "1"


@pytest.mark.parametrize("word", ["0", "no", "off", "false", "disabled", "disable", "FALSE", "Off"])
def test_false_words_normalise_to_0(word: str) -> None:
    assert check_type("boolean", word, {}) == "0"


@pytest.mark.parametrize("word", ["", "2", "y", "truee", "nope", " true"])
def test_other_words_are_no_booleans(word: str) -> None:
    with pytest.raises(TypeMismatch, match="not a boolean"):
        check_type("boolean", word, {})


def test_a_key_can_choose_its_own_boolean_words() -> None:
    meta = {"check/boolean/true": "ja", "check/boolean/false": "nein"}
    assert [check_type("boolean", word, meta) for word in ("JA", "nein", "1", "0")] == [
        "1",
        "0",
        "1",
        "0",
    ]
    with pytest.raises(TypeMismatch):
        check_type("boolean", "yes", meta)
    with pytest.raises(TypeMismatch, match="must be set together"):
        check_type("boolean", "1", {"check/boolean/true": "ja"})


def test_the_type_comes_from_check_type_then_type() -> None:
    assert type_of({"check/type": "short", "type": "long"}) == "short"
    assert type_of({"type": "long"}) == "long"
    assert type_of({"check/type": ""}) is None
    assert type_of({}) is None
