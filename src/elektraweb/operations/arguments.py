"""Typed reading of an operation's arguments; every refusal names the operation and member."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError
from elektraweb.kdb.key import lone_surrogate
from elektraweb.kdb.mounts import PERSISTENT_NAMESPACES
from elektraweb.kdb.posixre import PosixRegex, PosixRegexError
from elektraweb.kdb.search import SearchLimits, compile_pattern
from elektraweb.wire.errors import ErrorCode, RemoteError, bad_request


class _Absent:
    """Marker for an `expect` member that was left out (no compare-and-set)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
Expect = str | None | _Absent


class Args:
    """The ``args`` object of one request, checked member by member.

    Members not in ``allowed`` are refused at once, so a misspelt option never passes silently.
    """

    def __init__(self, op: str, raw: Mapping[str, Any], allowed: frozenset[str]) -> None:
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise bad_request(f"{op}: unknown argument {unknown[0]!r}")
        self.op = op
        self._raw = raw

    def __contains__(self, name: str) -> bool:
        return name in self._raw

    def _required(self, name: str) -> Any:
        if name not in self._raw:
            raise bad_request(f"{self.op}: argument {name!r} is missing")
        return self._raw[name]

    def _wrong(self, name: str, wanted: str) -> RemoteError:
        value = repr(self._raw[name])
        shown = value if len(value) <= 60 else value[:57] + "..."
        return bad_request(f"{self.op}: argument {name!r} must be {wanted}, got {shown}")

    def key(self, name: str = "key") -> str:
        """A key name, canonicalised (``invalid-name`` if it is not one)."""
        raw = self._required(name)
        if not isinstance(raw, str):
            raise self._wrong(name, "a key name")
        return canonical_name(raw)

    def stored_key(self, name: str = "key") -> str:
        """A key name in a namespace kept in files (spec, dir, user, system): what writes,
        export and import work on."""
        key = self.key(name)
        namespace = names.namespace_of(key)
        if namespace not in PERSISTENT_NAMESPACES:
            where = "a cascading name" if namespace == names.CASCADING else f"in {namespace}:/"
            raise RemoteError(
                ErrorCode.BAD_REQUEST,
                f"{self.op}: key {key} is {where}; {self.op} needs one of "
                + ", ".join(ns + ":/" for ns in PERSISTENT_NAMESPACES),
                key=key,
            )
        return key

    def optional_key(self, name: str) -> str | None:
        if self._raw.get(name) is None:
            return None
        return self.key(name)

    def text(self, name: str, default: str | None = None) -> str:
        if name not in self._raw and default is not None:
            return default
        raw = self._required(name)
        if not isinstance(raw, str):
            raise self._wrong(name, "a string")
        return storable_text(f"{self.op}: argument {name!r}", raw)

    def value(self, name: str = "value") -> str | None:
        """A key value: a string or null; required."""
        raw = self._required(name)
        if raw is not None and not isinstance(raw, str):
            raise self._wrong(name, "a string or null")
        return raw if raw is None else storable_text(f"{self.op}: argument {name!r}", raw)

    def choice(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
        choice = self.text(name, default)
        if choice not in choices:
            raise bad_request(
                f"{self.op}: argument {name!r} must be one of {', '.join(choices)}, got {choice!r}"
            )
        return choice

    def flag(self, name: str) -> bool:
        raw = self._raw.get(name, False)
        if not isinstance(raw, bool):
            raise self._wrong(name, "true or false")
        return raw

    def count(self, name: str, default: int, low: int, high: int) -> int:
        """An integer in [low, high]; ``default`` when left out."""
        raw = self._raw.get(name, default)
        if type(raw) is not int or not low <= raw <= high:
            raise self._wrong(name, f"an integer from {low} to {high}")
        return raw

    def optional_count(self, name: str, low: int, high: int) -> int | None:
        """An integer in [low, high], or None when left out or null."""
        if self._raw.get(name) is None:
            return None
        return self.count(name, low, low, high)

    def meta(
        self, name: str = "meta", *, removals: bool = False, required: bool = False
    ) -> dict[str, str | None]:
        """Metadata name → string (→ null, meaning remove, where ``removals`` allows it)."""
        raw = self._required(name) if required else self._raw.get(name, {})
        wanted = "an object of metadata name to string" + (" or null" if removals else "")
        if not isinstance(raw, dict):
            raise self._wrong(name, wanted)
        for meta_name, meta_value in raw.items():
            if not (isinstance(meta_value, str) or (removals and meta_value is None)):
                raise bad_request(
                    f"{self.op}: argument {name!r} must be {wanted}; "
                    f"entry {meta_name!r} is {meta_value!r}"
                )
            check_meta_name(meta_name)
            if meta_value is not None:
                storable_text(f"{self.op}: argument {name!r} entry {meta_name!r}", meta_value)
        return dict(raw)

    def key_list(self, name: str) -> list[str]:
        raw = self._required(name)
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise self._wrong(name, "a list of key names")
        return [canonical_name(item) for item in raw]

    def expect(self) -> Expect:
        """The compare-and-set revision: ABSENT (no check), None (key must not exist) or str."""
        if "expect" not in self._raw:
            return ABSENT
        raw = self._raw["expect"]
        if raw is not None and not isinstance(raw, str):
            raise self._wrong("expect", "a revision string or null")
        return raw

    def cluster(self) -> str | None:
        raw = self._raw.get("cluster")
        if raw is not None and (not isinstance(raw, str) or not raw):
            raise self._wrong("cluster", "a cluster id")
        return raw

    def reason(self) -> str | None:
        """Why the write is made (docs/validation.md, Critical keys); None if not given."""
        raw = self._raw.get("reason")
        if raw is not None and (not isinstance(raw, str) or not raw.strip()):
            raise self._wrong("reason", "a text that is not blank")
        return raw

    def regex(self, name: str, limits: SearchLimits) -> PosixRegex:
        """A POSIX extended regex (matched by RE2, docs/protocol.md ``find``)."""
        source = self.text(name)
        try:
            return compile_pattern(source, limits)
        except PosixRegexError as error:
            raise bad_request(f"{self.op}: argument {name!r} is no valid regex: {error}") from None

    def raw(self, name: str) -> Any:
        """The member exactly as sent, for shapes the caller checks itself."""
        return self._required(name)


def storable_text(where: str, text: str) -> str:
    """``text`` if a file can hold it; ``bad-request`` naming ``where`` otherwise."""
    found = lone_surrogate(text)
    if found is not None:
        raise bad_request(f"{where} holds a lone surrogate {found}, which has no UTF-8 form")
    return text


def canonical_name(name: str) -> str:
    """The canonical form of ``name``; ``invalid-name`` naming it otherwise."""
    try:
        return names.canonical(name)
    except InvalidNameError as error:
        raise RemoteError(ErrorCode.INVALID_NAME, error.message, key=name) from None


def check_meta_name(name: str) -> str:
    """A metadata name (``check/type``, without ``meta:/``); ``bad-request`` otherwise."""
    try:
        valid = bool(name) and names.canonical("meta:/" + name) == "meta:/" + name
    except InvalidNameError:
        valid = False
    if not valid:
        raise bad_request(f"{name!r} is no metadata name (such as 'check/type' or 'description')")
    return name
