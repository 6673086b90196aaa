"""``check/type``: the CORBA types of libelektra's type plugin (src/plugins/type/README.md).

Integers must be written canonically, as libelektra converts them back and compares (``05``,
``+5`` and ``-0`` are refused). Booleans accept the usual words in any case and normalise to
``1``/``0`` for the checks that follow; ``check/boolean/true`` and ``check/boolean/false``
replace the words for a key (``1`` and ``0`` stay valid). What is stored keeps the spelling
(see ``elektraweb.kdb.validation``); ``boolean_in_spelling_of`` turns a canonical ``1``/``0``
into the spelling of the value it replaces.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

TRUE_WORDS = ("1", "yes", "on", "true", "enabled", "enable")
FALSE_WORDS = ("0", "no", "off", "false", "disabled", "disable")

_SIGNED = re.compile(r"0|-?[1-9][0-9]*")
_UNSIGNED = re.compile(r"0|[1-9][0-9]*")
_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)",
    re.IGNORECASE,
)
_FLOAT_MAX = 3.4028234663852886e38

INTEGER_LIMITS = {
    "short": (-(2**15), 2**15 - 1),
    "unsigned_short": (0, 2**16 - 1),
    "long": (-(2**31), 2**31 - 1),
    "unsigned_long": (0, 2**32 - 1),
    "long_long": (-(2**63), 2**63 - 1),
    "unsigned_long_long": (0, 2**64 - 1),
}
FLOAT_TYPES = frozenset({"float", "double", "long_double"})


class TypeMismatch(ValueError):
    """A value that is not of its key's type; the message says why."""


def type_of(meta: Mapping[str, str]) -> str | None:
    """The key's type: ``check/type``, else libelektra's older ``type``; None if unset."""
    return meta.get("check/type") or meta.get("type") or None


def _integer(type_name: str, value: str) -> str:
    low, high = INTEGER_LIMITS[type_name]
    syntax = _UNSIGNED if low == 0 else _SIGNED
    if not syntax.fullmatch(value) or not low <= int(value) <= high:
        raise TypeMismatch(
            f"not a {type_name} (an integer in {low}..{high}, without '+' or leading zeros)"
        )
    return value


def _floating(type_name: str, value: str) -> str:
    if not _FLOAT.fullmatch(value):
        raise TypeMismatch(f"not a {type_name}")
    number = float(value)
    overflow = math.isinf(number) and "inf" not in value.lower()
    if overflow or (type_name == "float" and math.isfinite(number) and abs(number) > _FLOAT_MAX):
        raise TypeMismatch(f"not a {type_name}: too large")
    return value


def _boolean_words(meta: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The true and the false words of a key, index for index a pair (``yes``/``no``)."""
    true_word, false_word = meta.get("check/boolean/true"), meta.get("check/boolean/false")
    if (true_word is None) != (false_word is None):
        raise TypeMismatch("check/boolean/true and check/boolean/false must be set together")
    if true_word is not None and false_word is not None:
        return ("1", true_word), ("0", false_word)
    return TRUE_WORDS, FALSE_WORDS


def _boolean_truth(value: str, meta: Mapping[str, str]) -> tuple[bool, int]:
    """Whether ``value`` is a true or a false word, and which pair of words it belongs to."""
    trues, falses = _boolean_words(meta)
    folded = value.casefold()
    for truth, words in ((True, trues), (False, falses)):
        for index, word in enumerate(words):
            if word.casefold() == folded:
                return truth, index
    allowed = "/".join(trues) + " or " + "/".join(falses)
    raise TypeMismatch(f"not a boolean ({allowed})")


def _boolean(value: str, meta: Mapping[str, str]) -> str:
    return "1" if _boolean_truth(value, meta)[0] else "0"


def _in_case_of(word: str, model: str) -> str:
    if model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def boolean_in_spelling_of(value: str, previous: str, meta: Mapping[str, str]) -> str:
    """``value`` (a valid boolean) as ``previous`` spells booleans, if ``value`` is the
    canonical ``1``/``0`` and ``previous`` a boolean word: ``1`` replacing ``Off`` is ``On``.

    A client that shows a switch may only know the canonical value; the file keeps the
    spelling its author chose. Any other ``value`` is returned as given.
    """
    if value not in ("1", "0"):
        return value
    try:
        _, pair = _boolean_truth(previous, meta)
    except TypeMismatch:
        return value
    if pair == 0:  # previous is 1/0 itself
        return value
    trues, falses = _boolean_words(meta)
    return _in_case_of((trues if value == "1" else falses)[pair], previous)


def _exactly_one_byte(value: str) -> bool:
    return len(value.encode("utf-8", "surrogatepass")) == 1


_SIMPLE_CHECKS: dict[str, tuple[Callable[[str], bool], str]] = {
    "any": (lambda value: True, ""),
    "string": (lambda value: True, ""),
    "enum": (lambda value: True, ""),  # the allowed values are checked with check/enum/#
    "wstring": (lambda value: value != "", "not a wstring (it must not be empty)"),
    "char": (_exactly_one_byte, "not a char (exactly one byte)"),
    "octet": (_exactly_one_byte, "not an octet (exactly one byte)"),
    "wchar": (lambda value: len(value) == 1, "not a wchar (exactly one character)"),
}

KNOWN_TYPES = frozenset(_SIMPLE_CHECKS) | frozenset(INTEGER_LIMITS) | FLOAT_TYPES | {"boolean"}


def check_type(type_name: str, value: str, meta: Mapping[str, str]) -> str:
    """The value, normalised for its type; raises TypeMismatch saying why it does not fit.

    Unknown type names are a mismatch too, as in libelektra.
    """
    if type_name in INTEGER_LIMITS:
        return _integer(type_name, value)
    if type_name in FLOAT_TYPES:
        return _floating(type_name, value)
    if type_name == "boolean":
        return _boolean(value, meta)
    if type_name in _SIMPLE_CHECKS:
        check, problem = _SIMPLE_CHECKS[type_name]
        if not check(value):
            raise TypeMismatch(problem)
        return value
    known = ", ".join(sorted(KNOWN_TYPES))
    raise TypeMismatch(f"unknown type '{type_name}' (known: {known})")
