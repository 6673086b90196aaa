"""Nickel INI storage (libelektra's ``ni`` plugin): a key per section, metadata as entries.

::

    ;Ni1
    key = value          ; before any section: the value of "key"
    []                   ; the mountpoint itself
    mountpoint = app.dump
    [links/_]            ; its metadata, one "name = value" per line
    check/validation = https?://.*

Names are relative to the mountpoint. ``;`` starts a comment; values may be quoted
("..."), use C escapes plus ``\\;`` ``\\[`` ``\\]`` ``\\=``, and continue on the next line
after a trailing ``\\`` (an unquoted part then ends with one space). Nickel's deeper
sections (``[[sub]]``) are not supported, as in libelektra's plugin.
"""

from __future__ import annotations

import re

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import ALL_METADATA, Document, decode_text
from elektraweb.kdb.storage.relative import absolute, relative

_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")
_ESCAPED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x7f": "\\x7f"}
_NEEDS_QUOTES = re.compile(r'^\s|\s$|[;"\\\[\]=\x00-\x1f\x7f]')


_C_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        seq = match.group(1)
        if seq[0] == "x" and len(seq) > 1:
            return chr(int(seq[1:], 16))
        if seq[0] in "01234567":
            return chr(int(seq, 8) % 256)
        return _C_ESCAPES.get(seq, seq)  # \; \[ \] \= \" \\ and others: the character

    return _ESCAPE.sub(one, text)


def _text(raw: str) -> tuple[str, bool]:
    """A name or value: quoted strings concatenated, the rest stripped; comments cut.
    Also whether the line ends with a continuation backslash."""
    out: list[str] = []
    plain = ""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and i + 1 < len(raw):
            plain += raw[i : i + 2]
            i += 2
            continue
        if ch == ";":
            break
        if ch == '"':
            end = i + 1
            while end < len(raw) and raw[end] != '"':
                end += 2 if raw[end] == "\\" else 1
            out.append(_unescape(plain.strip()))
            out.append(_unescape(raw[i + 1 : end]))
            plain = ""
            i = end + 1
            continue
        plain += ch
        i += 1
    continued = plain.rstrip().endswith("\\") and not plain.rstrip().endswith("\\\\")
    if continued:
        plain = plain.rstrip()[:-1]
        out.append(_unescape(plain.strip()) + (" " if plain.strip() else ""))
    else:
        out.append(_unescape(plain.strip()))
    return "".join(out), continued


def _quoted(text: str) -> str:
    if not _NEEDS_QUOTES.search(text):
        return text
    escaped = "".join(_ESCAPED.get(ch) or (f"\\x{ord(ch):02x}" if ch < " " else ch) for ch in text)
    return f'"{escaped}"'


class NiFormat:
    name = "ni"
    native_meta = ALL_METADATA
    typed_values = False

    def read(self, data: bytes, mountpoint: str) -> Document:
        keys = KeySet()
        section: Key | None = None
        # Only LF ends a line (CR before it is dropped): other line breaks may be in values.
        lines = [line.removesuffix("\r") for line in decode_text(data, "ni").split("\n")]
        number = 0
        while number < len(lines):
            line = lines[number]
            number += 1
            stripped = line.strip()
            if stripped.startswith("["):
                if stripped.startswith("[["):
                    raise ResourceError(f"ni line {number}: nested sections are not supported")
                close = _separator(stripped, "]")
                if close == len(stripped):
                    raise ResourceError(f"ni line {number}: section without ']': {line!r}")
                name = absolute(mountpoint, _text(stripped[1:close])[0], number, "ni")
                section = keys.lookup(name)
                if section is None:
                    section = Key(name, "")
                    keys.add(section)
                continue
            if "=" not in stripped or stripped.startswith(";"):
                continue  # as Nickel: a line without '=' is a comment
            at = _separator(stripped)
            entry = _text(stripped[:at])[0]
            value, continued = _text(stripped[at + 1 :])
            while continued and number < len(lines):
                more, continued = _text(lines[number].strip())
                value += more
                number += 1
            if section is None:
                name = absolute(mountpoint, entry, number, "ni")
                existing = keys.lookup(name)
                if existing is None:
                    keys.add(Key(name, value))
                else:
                    existing.value = value
            else:
                section.meta[entry] = value
        return Document(keys)

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        out = [";Ni1\n"]
        for key in keys:
            if isinstance(key.value, bytes):
                raise ResourceError(f"ni cannot hold the binary value of {key.name}", key=key.name)
            if key.text:
                entry = _quoted(relative(key.name, mountpoint)) or '""'
                out.append(f"{entry} = {_quoted(key.text)}\n")
        for key in keys:
            out.append(f"\n[{_quoted(relative(key.name, mountpoint))}]\n")
            out.extend(f"{_quoted(name)} = {_quoted(value)}\n" for name, value in key.meta.items())
        return "".join(out).encode()


def _separator(line: str, separator: str = "=") -> int:
    """Where the first unescaped, unquoted ``separator`` is (the end if there is none)."""
    quoted = False
    i = 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == '"':
            quoted = not quoted
        elif line[i] == separator and not quoted:
            return i
        i += 1
    return len(line)


FORMAT = NiFormat()
