"""Key names as libelektra defines them (doc/KEYNAMES.md).

A name is handled as a plain string in canonical escaped form, e.g. ``user:/app/port`` or
``/app`` (cascading). Internally a name is a namespace plus a tuple of unescaped parts; the
sort key ``(namespace rank, parts)`` orders names exactly like libelektra's memcmp over the
unescaped form (namespace byte first, then parts separated by NUL).
"""

from __future__ import annotations

import re
from functools import lru_cache

from elektraweb.kdb.errors import InvalidNameError

CASCADING = "cascading"
# Order of the namespace bytes in libelektra's unescaped names (0x01 .. 0x08).
NAMESPACES = ("cascading", "meta", "spec", "proc", "dir", "user", "system", "default")
NAMESPACE_RANK = {ns: rank for rank, ns in enumerate(NAMESPACES, start=1)}
# Namespaces that cascading lookup visits, most specific first.
CASCADE_ORDER = ("proc", "dir", "user", "system", "default")

_ARRAY_DIGITS_MAX = 9223372036854775807
_NON_CANONICAL_ARRAY = re.compile(r"#([1-9][0-9]+)")
_CANONICAL_ARRAY = re.compile(r"#(_*)([0-9]+)")

SortKey = tuple[int, tuple[str, ...]]


def _array_index_of_part(part: str) -> int | None:
    """Index of a canonical array part (``#0``, ``#_10``), else None."""
    match = _CANONICAL_ARRAY.fullmatch(part)
    if match is None:
        return None
    underscores, digits = match.groups()
    if len(underscores) != len(digits) - 1 or (len(digits) > 1 and digits[0] == "0"):
        return None
    index = int(digits)
    return index if index <= _ARRAY_DIGITS_MAX else None


def array_index(part: str) -> int | None:
    """The index an unescaped part denotes (``#_10`` → 10), or None if it is no array part."""
    return _array_index_of_part(part)


def array_part(index: int) -> str:
    """The canonical array part for an index: 10 → ``#_10``."""
    if index < 0 or index > _ARRAY_DIGITS_MAX:
        raise InvalidNameError(f"array index {index} is out of range 0..{_ARRAY_DIGITS_MAX}")
    digits = str(index)
    return "#" + "_" * (len(digits) - 1) + digits


def _unescape_part(raw: str, name: str) -> str | None:
    """Unescape one escaped part; None means the part is dropped (``.``)."""
    if raw == "%":
        return ""
    if raw in (".",):
        return None
    if raw in ("\\%", "\\.", "\\.."):
        return raw[1:]
    if raw.startswith("\\#"):
        digits = raw[2:]
        if not _NON_CANONICAL_ARRAY.fullmatch("#" + digits) or int(digits) > _ARRAY_DIGITS_MAX:
            raise InvalidNameError(
                f"invalid key name {name!r}: escape '\\#' is only allowed before a "
                f"non-canonical array part, not in {raw!r}"
            )
        return "#" + digits
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            nxt = raw[i + 1] if i + 1 < len(raw) else ""
            if nxt in ("\\", "/"):
                out.append(nxt)
                i += 2
                continue
            raise InvalidNameError(
                f"invalid key name {name!r}: illegal escape sequence '\\{nxt}' in part {raw!r}"
            )
        out.append(ch)
        i += 1
    part = "".join(out)
    match = _NON_CANONICAL_ARRAY.fullmatch(part)
    if match is not None and int(match.group(1)) <= _ARRAY_DIGITS_MAX:
        return array_part(int(match.group(1)))
    return part


def escape_part(part: str) -> str:
    """Escape one unescaped part for use in an escaped name."""
    if part == "":
        return "%"
    if part in ("%", ".", ".."):
        return "\\" + part
    if _NON_CANONICAL_ARRAY.fullmatch(part) and int(part[1:]) <= _ARRAY_DIGITS_MAX:
        return "\\" + part
    return part.replace("\\", "\\\\").replace("/", "\\/")


def _split_escaped(rest: str, name: str) -> list[str]:
    """Split at unescaped slashes; a trailing backslash is a dangling escape."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch == "\\":
            if i + 1 >= len(rest):
                raise InvalidNameError(f"invalid key name {name!r}: dangling escape '\\' at the end")
            current.append(rest[i : i + 2])
            i += 2
            continue
        if ch == "/":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


@lru_cache(maxsize=65536)
def split(name: str) -> tuple[str, tuple[str, ...]]:
    """Parse an escaped name into (namespace, unescaped parts); raises InvalidNameError."""
    if not isinstance(name, str) or name == "":
        raise InvalidNameError(f"invalid key name {name!r}: a key name cannot be empty")
    if "\x00" in name:
        raise InvalidNameError(f"invalid key name {name!r}: a key name cannot contain NUL")
    if name.startswith("/"):
        namespace, rest = CASCADING, name
    else:
        colon = name.find(":")
        if colon < 0:
            raise InvalidNameError(
                f"invalid key name {name!r}: it must start with '/' or a namespace such as 'user:/'"
            )
        namespace, rest = name[:colon], name[colon + 1 :]
        if namespace not in NAMESPACE_RANK or namespace == CASCADING:
            known = ", ".join(ns + ":/" for ns in NAMESPACES[1:])
            raise InvalidNameError(
                f"invalid key name {name!r}: unknown namespace {namespace!r} (known: {known})"
            )
        if not rest.startswith("/"):
            raise InvalidNameError(
                f"invalid key name {name!r}: the namespace must be followed by ':/'"
            )
    raw_parts = _split_escaped(rest[1:], name)
    first_real = next((raw for raw in raw_parts if raw not in ("", ".")), None)
    if first_real == "%":
        raise InvalidNameError(
            f"invalid key name {name!r}: the first part cannot be empty ('%'), "
            "it would collide with the root key"
        )
    parts: list[str] = []
    for raw in raw_parts:
        if raw == "":
            continue  # repeated or trailing slashes
        if raw == "..":
            if parts:
                parts.pop()
            continue
        part = _unescape_part(raw, name)
        if part is not None:
            parts.append(part)
    return namespace, tuple(parts)


def join(namespace: str, parts: tuple[str, ...] | list[str]) -> str:
    """Build the canonical escaped name from a namespace and unescaped parts."""
    prefix = "" if namespace == CASCADING else namespace + ":"
    if not parts:
        return prefix + "/"
    return prefix + "/" + "/".join(escape_part(p) for p in parts)


@lru_cache(maxsize=65536)
def canonical(name: str) -> str:
    """The canonical escaped form of a name; raises InvalidNameError for invalid names."""
    namespace, parts = split(name)
    return join(namespace, parts)


def sort_key(name: str) -> SortKey:
    """Key that orders names like libelektra (namespace, then part by part)."""
    namespace, parts = split(name)
    return NAMESPACE_RANK[namespace], parts


def namespace_of(name: str) -> str:
    return split(name)[0]


def parts_of(name: str) -> tuple[str, ...]:
    return split(name)[1]


def basename(name: str) -> str:
    """Last unescaped part; empty for a root key."""
    parts = split(name)[1]
    return parts[-1] if parts else ""


def parent(name: str) -> str:
    """The direct parent's name; a root key is its own parent."""
    namespace, parts = split(name)
    return join(namespace, parts[:-1])


def child(name: str, *parts: str) -> str:
    """The name below ``name`` with the given unescaped parts appended."""
    namespace, base = split(name)
    return join(namespace, base + tuple(parts))


def with_namespace(name: str, namespace: str) -> str:
    """The same parts in another namespace (``cascading`` for a ``/`` name)."""
    if namespace not in NAMESPACE_RANK:
        raise InvalidNameError(f"unknown namespace {namespace!r}")
    return join(namespace, split(name)[1])


def is_below(name: str, other: str) -> bool:
    """True if ``name`` is strictly below ``other`` (same namespace)."""
    ns_a, parts_a = split(name)
    ns_b, parts_b = split(other)
    return ns_a == ns_b and len(parts_a) > len(parts_b) and parts_a[: len(parts_b)] == parts_b


def is_below_or_same(name: str, other: str) -> bool:
    ns_a, parts_a = split(name)
    ns_b, parts_b = split(other)
    return ns_a == ns_b and parts_a[: len(parts_b)] == parts_b


def is_directly_below(name: str, other: str) -> bool:
    ns_a, parts_a = split(name)
    ns_b, parts_b = split(other)
    return ns_a == ns_b and len(parts_a) == len(parts_b) + 1 and parts_a[:-1] == parts_b


def relative_parts(name: str, base: str) -> tuple[str, ...]:
    """Unescaped parts of ``name`` below ``base`` (which must be the same or above it)."""
    if not is_below_or_same(name, base):
        raise InvalidNameError(f"key {name!r} is not below {base!r}")
    return split(name)[1][len(split(base)[1]) :]


def display_part(part: str) -> str:
    """How a part is shown to people: array parts as their number (``#_10`` → ``10``)."""
    index = array_index(part)
    return str(index) if index is not None else part
