"""mINI storage (libelektra's ``mini`` plugin): ``name=value`` lines, no sections.

Names are relative to the mountpoint (``mi/mi/mr=beaker``). ``#`` and ``;`` start a comment
line; in names and values, ``\\`` escapes ``=``, ``#``, ``;`` and itself, and ``\\n`` is a
line break. Space around names and values is dropped, as libelektra does. Metadata, and values
that do not read back, are kept in the sidecar by the KDB.
"""

from __future__ import annotations

import re

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text
from elektraweb.kdb.storage.relative import absolute, relative

_SPECIAL = re.compile(r"[\\=#;\n]")
_UNESCAPE = re.compile(r"\\(.)")


def _escape(match: re.Match[str]) -> str:
    return "\\n" if match.group() == "\n" else "\\" + match.group()


def _unescape(match: re.Match[str]) -> str:
    return "\n" if match.group(1) == "n" else match.group(1)


def _separator(line: str) -> int | None:
    """Where the first unescaped '=' is."""
    escaped = False
    for at, char in enumerate(line):
        if char == "=" and not escaped:
            return at
        escaped = char == "\\" and not escaped
    return None


class MiniFormat:
    name = "mini"
    native_meta: frozenset[str] = frozenset()
    typed_values = False

    def read(self, data: bytes, mountpoint: str) -> Document:
        keys = KeySet()
        for number, line in enumerate(decode_text(data, "mini").split("\n"), start=1):
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            at = _separator(line)
            if at is None:
                raise ResourceError(f"mini line {number}: no '=' between name and value: {line!r}")
            raw_name = _UNESCAPE.sub(_unescape, line[:at].strip())
            name = absolute(mountpoint, raw_name, number, "mini")
            keys.add(Key(name, _UNESCAPE.sub(_unescape, line[at + 1 :].strip())))
        return Document(keys)

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        lines = []
        for key in keys:
            if isinstance(key.value, bytes):
                reason = f"mini cannot hold the binary value of {key.name}"
                raise ResourceError(reason, key=key.name)
            name = _SPECIAL.sub(_escape, relative(key.name, mountpoint))
            lines.append(f"{name}={_SPECIAL.sub(_escape, key.text)}")
        return "".join(line + "\n" for line in lines).encode()


FORMAT = MiniFormat()
