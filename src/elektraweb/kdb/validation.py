"""Validation of keys against their metadata, with libelektra's error codes.

Checked, in this order, on text values (keys without a value and binary keys are only
subject to ``restrict/*``):

- ``check/type`` (or the older ``type``): see ``elektraweb.kdb.types``; booleans keep their
  spelling, and a canonical ``1``/``0`` replacing a boolean word takes that word's spelling;
- ``check/enum/#0`` .. ``#n``: the value must be one of them; with a one-character
  ``check/enum/delimiter`` (or the older ``check/enum/multi``) a list of them;
- ``check/range``: ``1-999``, ``-5-5,10``, ranges and single values separated by ``,``;
  floats for float types, integers otherwise;
- ``check/ipaddr`` (empty, ``ipv4`` or ``ipv6``): an IP address; ``check/port``: a port
  number up to 65535 or a service name of /etc/services (both C03200, as libelektra);
- ``trigger/error``: the write fails with that error code (libelektra's error plugin);
- ``check/validation``: a POSIX extended regex (``elektraweb.kdb.posixre``). As in
  libelektra it is searched anywhere in the value unless anchored with ``^...$`` or
  ``check/validation/match`` is ``LINE`` (some line matches as a whole) or ``WORD`` (some
  word does); ``check/validation/ignorecase`` and ``check/validation/invert`` are honoured
  when present; ``check/validation/message`` replaces the reason in the error.
- ``restrict/write`` (the value may not change; removal stays allowed) and
  ``restrict/remove`` (the key may not be removed), unless their value is a false word.

Error codes follow the libelektra plugin that does the check: the type plugin reports type
and enum mismatches as C03200 (semantic), the range plugin out-of-range values as C03200,
the validation plugin a regex mismatch as C03100 (syntactic); malformed metadata (a range or
regex that does not parse, a bad enum delimiter) is C03100. ``restrict/*`` is C03200.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from elektraweb.kdb import names
from elektraweb.kdb.errors import VALIDATION_SEMANTIC, VALIDATION_SYNTACTIC, ValidationError
from elektraweb.kdb.key import Key, Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.posixre import PosixRegex, PosixRegexError, compile_ere
from elektraweb.kdb.spec import Specification
from elektraweb.kdb.types import (
    FALSE_WORDS,
    FLOAT_TYPES,
    TypeMismatch,
    boolean_in_spelling_of,
    check_type,
    type_of,
)

# Namespaces whose keys hold values that get stored and therefore validated.
VALIDATED = frozenset(names.CASCADE_ORDER) - {"default"}

_HIGHEST_PORT = 65535
_ERROR_CODE = re.compile(r"C[0-9]{5}")
_INTEGER = r"[0-9]+"
_FLOAT = r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_RANGE_ITEM = {
    kind: re.compile(f"(-?{number})(?:-(-?{number}))?")
    for kind, number in (("integer", _INTEGER), ("float", _FLOAT))
}
_NUMBER = {
    "integer": re.compile(f"[+-]?{_INTEGER}"),
    "float": re.compile(f"[+-]?(?:{_FLOAT}|inf|infinity|nan)", re.IGNORECASE),
}


class _Failure(Exception):
    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def _error(name: str, value: Value, reason: str, code: str) -> ValidationError:
    shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else value or ""
    return ValidationError(
        f'Validation of key "{name}" with value "{shown}" failed: {reason}', key=name, code=code
    )


def _enum_values(meta: Mapping[str, str]) -> list[str]:
    """The allowed values, as libelektra's type plugin reads them: ``check/enum/#0`` up to
    the last index that ``check/enum`` names (``#3``), skipping missing ones; without it, up
    to the first missing one. Empty values allow nothing."""
    entries = {
        index: allowed
        for name, allowed in meta.items()
        if name.startswith("check/enum/#")
        and (index := names.array_index(name[len("check/enum/") :])) is not None
    }
    last = names.array_index(meta.get("check/enum", ""))
    if last is None:  # the entries before the first gap
        last = next(index for index in range(len(entries) + 1) if index not in entries) - 1
    return [entries[index] for index in sorted(entries) if index <= last and entries[index]]


def _check_enum(value: str, meta: Mapping[str, str], type_name: str | None) -> None:
    allowed_values = _enum_values(meta)
    if not allowed_values and type_name != "enum":
        return
    delimiter = meta.get("check/enum/delimiter", meta.get("check/enum/multi"))
    if delimiter is not None and len(delimiter) != 1:
        raise _Failure(
            f"check/enum/delimiter must be one character, not '{delimiter}'", VALIDATION_SYNTACTIC
        )
    chosen = value.split(delimiter) if delimiter else [value]
    if not allowed_values or any(choice not in allowed_values for choice in chosen):
        listed = ", ".join(f'"{v}"' for v in allowed_values) or "none (check/enum/# is empty)"
        several = f" (several separated by '{delimiter}')" if delimiter else ""
        raise _Failure(f"not one of the allowed values{several}: {listed}", VALIDATION_SEMANTIC)


def _check_range(value: str, meta: Mapping[str, str], type_name: str | None) -> None:
    text = meta.get("check/range")
    if text is None:
        return
    kind = "float" if (type_name or "").replace(" ", "_") in FLOAT_TYPES else "integer"
    convert = float if kind == "float" else int
    bounds: list[tuple[float, float]] = []
    for item in text.split(","):
        match = _RANGE_ITEM[kind].fullmatch(re.sub(r"\s+", "", item))
        if match is None:
            raise _Failure(
                f"check/range '{text}' is not a list of {kind} ranges like '1-9,-5--1,20'",
                VALIDATION_SYNTACTIC,
            )
        low, high = convert(match.group(1)), convert(match.group(2) or match.group(1))
        bounds.append((min(low, high), max(low, high)))
    if not _NUMBER[kind].fullmatch(value):
        raise _Failure(f"not a number, so not in range {text}", VALIDATION_SEMANTIC)
    number = convert(value)
    if not any(low <= number <= high for low, high in bounds):
        raise _Failure(f"not in range {text}", VALIDATION_SEMANTIC)


@lru_cache(maxsize=256)
def _compiled_regex(pattern: str, ignorecase: bool, mode: str) -> PosixRegex:
    return compile_ere(
        pattern, ignorecase=ignorecase, newline=mode == "LINE", anchored=mode in ("LINE", "WORD")
    )


def _check_regex(value: str, meta: Mapping[str, str]) -> None:
    pattern = meta.get("check/validation")
    if pattern is None:
        return
    mode = meta.get("check/validation/match", "ANY").upper()
    try:
        regex = _compiled_regex(pattern, "check/validation/ignorecase" in meta, mode)
    except PosixRegexError as error:
        raise _Failure(f"check/validation: {error}", VALIDATION_SYNTACTIC) from None
    if mode == "WORD":
        matched = any(regex.search(word) for word in re.split(r"[ \t\n]+", value) if word)
    else:
        matched = regex.search(value)
    inverted = "check/validation/invert" in meta
    if matched == inverted:
        reason = meta.get("check/validation/message") or (
            f'it matches "{pattern}" (check/validation/invert)'
            if inverted
            else f'it does not match "{pattern}"'
        )
        raise _Failure(reason, VALIDATION_SYNTACTIC)


def _check_network(value: str, meta: Mapping[str, str]) -> None:
    # libelektra's ipaddr and network plugins; both report a bad value as semantic.
    family = meta.get("check/ipaddr")
    if family is not None:
        versions = {"": (4, 6), "ipv4": (4,), "ipv6": (6,)}.get(family.lower())
        if versions is None:
            reason = f"check/ipaddr must be empty, ipv4 or ipv6, not '{family}'"
            raise _Failure(reason, VALIDATION_SYNTACTIC)
        import ipaddress  # here: most checks need neither it nor socket (kdb start-up)

        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            address = None
        if address is None or address.version not in versions:
            kind = " or ".join(f"IPv{v}" for v in versions)
            raise _Failure(f"it is not an {kind} address (check/ipaddr)", VALIDATION_SEMANTIC)
    if "check/port" in meta:
        if value.isdigit():
            if int(value) > _HIGHEST_PORT:
                reason = f"port {value} is not within 0 - {_HIGHEST_PORT} (check/port)"
                raise _Failure(reason, VALIDATION_SEMANTIC)
            return
        import socket

        try:
            socket.getservbyname(value)
        except OSError:
            reason = f"no port number and no service with name {value} (check/port)"
            raise _Failure(reason, VALIDATION_SEMANTIC) from None


def _check_trigger(meta: Mapping[str, str]) -> None:
    # libelektra's error plugin: a write of a key with trigger/error fails with that code,
    # so that scripts and tutorials can show how a failed write looks.
    code = meta.get("trigger/error")
    if code is None:
        return
    if not _ERROR_CODE.fullmatch(code):
        reason = f"trigger/error '{code}' is not an error code like C03200"
        raise _Failure(reason, VALIDATION_SYNTACTIC)
    raise _Failure(f"trigger/error requests error {code}", code)


def validate_key(key: Key, meta: Mapping[str, str] | None = None) -> Value:
    """The key's value as given, if ``meta`` allows it.

    The checks see the value normalised for its type (a boolean as ``1``/``0``, so that
    ``yes`` passes ``check/range: 1``), but what is stored keeps its spelling, as the file
    libelektra's type plugin writes does (it restores the original word on set).

    ``meta`` defaults to the key's own metadata. Raises ValidationError (C03100/C03200)
    naming the key, the value and what is wrong. ``restrict/*`` is not checked here, as it
    concerns changes: see ``validate_change``.
    """
    meta = key.meta if meta is None else meta
    value = key.value
    if not isinstance(value, str):
        return value
    type_name = type_of(meta)
    try:
        _check_trigger(meta)
        if type_name is not None:
            value = check_type(type_name, value, meta)  # normalised for the checks only
        _check_enum(value, meta, type_name)
        _check_range(value, meta, type_name)
        _check_regex(value, meta)
        _check_network(value, meta)
    except TypeMismatch as mismatch:
        raise _error(key.name, key.value, str(mismatch), VALIDATION_SEMANTIC) from None
    except _Failure as failure:
        raise _error(key.name, key.value, failure.reason, failure.code) from None
    return key.value


def _restricted(flag: str | None) -> bool:
    return flag is not None and flag.casefold() not in FALSE_WORDS


def validate_change(
    old: KeySet,
    new: KeySet,
    spec: KeySet | Specification | None = None,
    *,
    own_checks: bool = True,
) -> KeySet:
    """Check every added, changed and removed key of ``old`` → ``new``; the normalised result.

    Keys of proc, dir, user and system are checked against their effective metadata: their
    own, plus what the ``spec:/`` keys of ``spec`` (default: of ``new``) say; a caller
    that checks several changes against one specification passes it built. Unchanged keys
    are not checked again, so an old invalid value elsewhere never blocks a change. A new key
    may not be created when its spec says ``restrict/write``. The result holds every key of
    ``new``; those whose value was normalised are copies. Raises ValidationError for the
    first key that fails. With ``own_checks=False`` only what the specification says (where
    the key does not say otherwise itself) is checked.
    """
    if isinstance(spec, Specification):
        specification = spec
    else:
        specification = Specification(new if spec is None else spec)
    result = KeySet()
    for key in new:
        before = old.lookup(key.name)
        if key.namespace not in VALIDATED or (before is not None and before.same_content(key)):
            result.add(key)
            continue
        spec_meta = specification.meta_for(key)
        if before is None:
            write_flag = spec_meta.get("restrict/write")
        elif before.value != key.value:
            write_flag = before.meta.get("restrict/write", spec_meta.get("restrict/write"))
        else:
            write_flag = None
        if _restricted(write_flag):
            reason = "its value may not be changed (restrict/write)"
            raise _error(key.name, key.value, reason, VALIDATION_SEMANTIC)
        if not own_checks:
            effective = {name: v for name, v in spec_meta.items() if name not in key.meta}
        elif spec_meta:
            effective = {**spec_meta, **key.meta}
        else:
            effective = key.meta
        value = validate_key(key, effective)
        if (
            isinstance(value, str)
            and before is not None
            and isinstance(before.value, str)
            and type_of(effective) == "boolean"
        ):
            value = boolean_in_spelling_of(value, before.value, effective)
        if value != key.value:
            key = key.copy()
            key.value = value
        result.add(key)
    for key in old:
        if key.namespace not in VALIDATED or key.name in new:
            continue
        remove_flag = key.meta.get("restrict/remove")
        if remove_flag is None:
            remove_flag = specification.meta_for(key).get("restrict/remove")
        if _restricted(remove_flag):
            reason = "it may not be removed (restrict/remove)"
            raise _error(key.name, key.value, reason, VALIDATION_SEMANTIC)
    return result


def find_problems(ks: KeySet) -> list[ValidationError]:
    """Stored values that their (already applied) metadata does not allow.

    A get reports these instead of refusing to load: a file edited by hand may hold a value
    that no set would have accepted, and the operator needs to see it to fix it.
    """
    problems: list[ValidationError] = []
    for key in ks:
        if key.namespace not in VALIDATED or not any(m.startswith("check/") for m in key.meta):
            continue
        try:
            validate_key(key)
        except ValidationError as problem:
            problems.append(problem)
    return problems
