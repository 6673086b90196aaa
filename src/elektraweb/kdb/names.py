"""Key names as libelektra defines them (doc/KEYNAMES.md).

A name is handled as a plain string in canonical escaped form, e.g. ``user:/app/port`` or
``/app`` (cascading). Internally a name is a namespace plus a tuple of unescaped parts.
Names order like libelektra's memcmp over the unescaped form: namespace byte first, then the
parts separated by NUL; ``sort_key(name)`` is exactly that byte string.
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

ARRAY_INDEX_MAX = 2**63 - 1


def _numbers_up_to(limit: str) -> str:
    """Regex for the numbers with as many digits as ``limit`` (no leading zero), <= limit."""
    alternatives = [limit]
    for position, digit in enumerate(limit):
        lowest = "1" if position == 0 else "0"
        if digit > lowest:
            rest = len(limit) - position - 1
            alternatives.append(f"{limit[:position]}[{lowest}-{int(digit) - 1}][0-9]{{{rest}}}")
    return "(?:" + "|".join(alternatives) + ")"


def _array_part_regex() -> str:
    most_digits = len(str(ARRAY_INDEX_MAX))
    shorter = [f"_{{{n - 1}}}[1-9][0-9]{{{n - 1}}}" for n in range(2, most_digits)]
    longest = f"_{{{most_digits - 1}}}{_numbers_up_to(str(ARRAY_INDEX_MAX))}"
    return "#(?:" + "|".join(["[0-9]", *shorter, longest]) + ")"


# A canonical array part: '#', n underscores, n+1 digits without leading zero, <= 2^63-1.
ARRAY_PART_REGEX = _array_part_regex()
_ARRAY_PART = re.compile(ARRAY_PART_REGEX)
_NON_CANONICAL_ARRAY = re.compile(r"#([1-9][0-9]+)")
# Names that are canonical as written: no escapes, no empty, '.', '..', '%' or '#' parts.
# Most real names look like this, and skipping the general parser for them is what makes
# building a KeySet of 100k keys cheap.
_PLAIN_NAME = re.compile(
    r"(?:(spec|proc|dir|user|system|default|meta):)?/"
    r"((?:[^/\\%#.\x00][^/\\\x00]*)(?:/[^/\\%#.\x00][^/\\\x00]*)*)?"
)

SortKey = bytes


def array_index(part: str) -> int | None:
    """The index a canonical array part denotes (``#_10`` → 10), or None if it is none."""
    return int(part.lstrip("#_")) if _ARRAY_PART.fullmatch(part) else None


def array_part(index: int) -> str:
    """The canonical array part for an index: 10 → ``#_10``."""
    if index < 0 or index > ARRAY_INDEX_MAX:
        raise InvalidNameError(f"array index {index} is out of range 0..{ARRAY_INDEX_MAX}")
    digits = str(index)
    return "#" + "_" * (len(digits) - 1) + digits


def _non_canonical_array_index(part: str) -> int | None:
    """10 for ``#10`` (an array part written without its underscores), else None."""
    match = _NON_CANONICAL_ARRAY.fullmatch(part)
    if match is None:
        return None
    index = int(match.group(1))
    return index if index <= ARRAY_INDEX_MAX else None


def _invalid(name: str, reason: str) -> InvalidNameError:
    return InvalidNameError(f'invalid key name "{name}": {reason}')


def _unescape_part(raw: str, name: str) -> str:
    """Unescape one escaped part other than ``.``, ``..`` and empty ones."""
    if raw == "%":
        return ""
    if raw in ("\\%", "\\.", "\\.."):
        return raw[1:]
    if raw.startswith("\\#"):
        if _non_canonical_array_index(raw[1:]) is None:
            raise _invalid(
                name,
                f"'\\#' may only escape an array index written without underscores "
                f"(like '\\#10'), not '{raw}'",
            )
        return raw[1:]
    if "\\" in raw:
        out: list[str] = []
        i = 0
        while i < len(raw):
            ch = raw[i]
            if ch == "\\":
                escaped = raw[i + 1]  # _split_escaped guarantees a following character
                if escaped not in ("\\", "/"):
                    raise _invalid(name, f"illegal escape sequence '\\{escaped}' in part '{raw}'")
                out.append(escaped)
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)
    index = _non_canonical_array_index(raw)
    return array_part(index) if index is not None else raw


def escape_part(part: str) -> str:
    """Escape one unescaped part for use in an escaped name."""
    if part == "":
        return "%"
    if "\x00" in part:
        raise InvalidNameError(f"a key name part cannot contain NUL: {part!r}")
    if part in ("%", ".", ".."):
        return "\\" + part
    if part[0] == "#" and _non_canonical_array_index(part) is not None:
        return "\\" + part
    return part.replace("\\", "\\\\").replace("/", "\\/")


def _split_escaped(rest: str, name: str) -> list[str]:
    """Split at unescaped slashes, keeping escape sequences intact."""
    if "\\" not in rest:
        return rest.split("/")
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch == "\\":
            if i + 1 >= len(rest):
                raise _invalid(name, "it ends with a dangling escape '\\'")
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


def _parse_namespace(name: str) -> tuple[str, str]:
    if name.startswith("/"):
        return CASCADING, name
    colon = name.find(":")
    if colon < 0:
        raise _invalid(name, "it must start with '/' or a namespace such as 'user:/'")
    namespace, rest = name[:colon], name[colon + 1 :]
    if namespace not in NAMESPACE_RANK or namespace == CASCADING:
        known = ", ".join(ns + ":/" for ns in NAMESPACES[1:])
        raise _invalid(name, f"unknown namespace '{namespace}' (known: {known})")
    if not rest.startswith("/"):
        raise _invalid(name, f"the namespace must be followed by ':/', as in '{namespace}:/'")
    return namespace, rest


@lru_cache(maxsize=8192)
def _parse_general(name: str) -> tuple[str, str, tuple[str, ...]]:
    if name == "":
        raise _invalid(name, "a key name cannot be empty")
    if "\x00" in name:
        raise _invalid(name, "a key name cannot contain NUL")
    namespace, rest = _parse_namespace(name)
    parts: list[str] = []
    for raw in _split_escaped(rest[1:], name):
        if raw in ("", "."):
            continue  # repeated or trailing slashes, '.'
        if raw == "..":
            if parts:  # never above the namespace root
                parts.pop()
            continue
        parts.append(_unescape_part(raw, name))
    if parts == [""]:
        raise _invalid(
            name, "a name whose only part is empty ('%') would collide with the root key"
        )
    return join(namespace, parts), namespace, tuple(parts)


def parse(name: str) -> tuple[str, str, tuple[str, ...]]:
    """Parse an escaped name into (canonical name, namespace, unescaped parts).

    Raises InvalidNameError, quoting the name and saying what is wrong.
    """
    if not isinstance(name, str):
        raise InvalidNameError(f"a key name must be a string, not {type(name).__name__}")
    match = _PLAIN_NAME.fullmatch(name)
    if match is not None:
        namespace, rest = match.groups()
        return name, namespace or CASCADING, tuple(rest.split("/")) if rest else ()
    return _parse_general(name)


def split(name: str) -> tuple[str, tuple[str, ...]]:
    """Parse an escaped name into (namespace, unescaped parts); raises InvalidNameError."""
    _, namespace, parts = parse(name)
    return namespace, parts


def join(namespace: str, parts: tuple[str, ...] | list[str]) -> str:
    """Build the canonical escaped name from a namespace and unescaped parts."""
    prefix = "/" if namespace == CASCADING else namespace + ":/"
    if len(parts) == 1 and parts[0] == "":
        raise InvalidNameError(
            f'invalid key name "{prefix}%": a name whose only part is empty would collide '
            "with the root key"
        )
    return prefix + "/".join([escape_part(p) for p in parts])


def is_valid(name: str) -> bool:
    """Whether ``name`` is a valid key name (``canonical`` would accept it)."""
    try:
        parse(name)
    except InvalidNameError:
        return False
    return True


def canonical(name: str) -> str:
    """The canonical escaped form of a name; raises InvalidNameError for invalid names."""
    return parse(name)[0]


def unescaped(namespace: str, parts: tuple[str, ...]) -> SortKey:
    """libelektra's unescaped name without its terminator: the byte string names sort by."""
    # surrogatepass keeps code point order and accepts names decoded with surrogateescape.
    return bytes((NAMESPACE_RANK[namespace], 0)) + "\x00".join(parts).encode(
        "utf-8", "surrogatepass"
    )


def sort_key(name: str) -> SortKey:
    """Key that orders names like libelektra (namespace, then part by part)."""
    _, namespace, parts = parse(name)
    return unescaped(namespace, parts)


def namespace_of(name: str) -> str:
    return parse(name)[1]


def parts_of(name: str) -> tuple[str, ...]:
    return parse(name)[2]


def basename(name: str) -> str:
    """Last unescaped part; empty for a root key."""
    parts = parse(name)[2]
    return parts[-1] if parts else ""


def parent(name: str) -> str:
    """The direct parent's name; a root key is its own parent."""
    _, namespace, parts = parse(name)
    return join(namespace, parts[:-1])


def child(name: str, *parts: str) -> str:
    """The name below ``name`` with the given unescaped parts appended."""
    _, namespace, base = parse(name)
    return join(namespace, base + parts)


def with_namespace(name: str, namespace: str) -> str:
    """The same parts in another namespace (``cascading`` for a ``/`` name)."""
    if namespace not in NAMESPACE_RANK:
        raise InvalidNameError(f"unknown namespace '{namespace}'")
    return join(namespace, parse(name)[2])


def prefix_below(name: str) -> str:
    """What every canonical name below the canonical ``name`` starts with."""
    is_root = name == "/" or (name.endswith(":/") and name.find(":") == len(name) - 2)
    return name if is_root else name + "/"


def is_below(name: str, other: str) -> bool:
    """True if ``name`` is strictly below ``other`` (same namespace)."""
    _, ns_a, parts_a = parse(name)
    _, ns_b, parts_b = parse(other)
    return ns_a == ns_b and len(parts_a) > len(parts_b) and parts_a[: len(parts_b)] == parts_b


def is_below_or_same(name: str, other: str) -> bool:
    _, ns_a, parts_a = parse(name)
    _, ns_b, parts_b = parse(other)
    return ns_a == ns_b and parts_a[: len(parts_b)] == parts_b


def is_directly_below(name: str, other: str) -> bool:
    _, ns_a, parts_a = parse(name)
    _, ns_b, parts_b = parse(other)
    return ns_a == ns_b and len(parts_a) == len(parts_b) + 1 and parts_a[:-1] == parts_b


def common_parent(name: str, other: str) -> str:
    """The deepest name both are at or below; the cascading root ``/`` across namespaces."""
    _, ns_a, parts_a = parse(name)
    _, ns_b, parts_b = parse(other)
    if ns_a != ns_b:
        return "/"
    shared = 0
    for part_a, part_b in zip(parts_a, parts_b, strict=False):
        if part_a != part_b:
            break
        shared += 1
    if parts_a[:shared] == ("",):
        shared = 0  # a lone empty part is no name (see join): the root is the one above
    return join(ns_a, parts_a[:shared])


def relative_parts(name: str, base: str) -> tuple[str, ...]:
    """Unescaped parts of ``name`` below ``base`` (which must be the same or above it)."""
    if not is_below_or_same(name, base):
        raise InvalidNameError(f'key "{name}" is not below "{base}"')
    return parts_of(name)[len(parts_of(base)) :]


def display_part(part: str) -> str:
    """How a part is shown to people: array parts as their number (``#_10`` → ``10``)."""
    index = array_index(part)
    return str(index) if index is not None else part
