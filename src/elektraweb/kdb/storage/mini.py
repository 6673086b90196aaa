"""mINI storage (libelektra's ``mini`` plugin): ``name=value`` lines, no sections.

Names are relative to the mountpoint (``mi/mi/mr=beaker``). ``#`` and ``;`` start a comment
line; in values, ``\\`` escapes ``=``, ``#``, ``;`` and itself. Metadata has no place here,
so the KDB keeps it in a sidecar.
"""

from __future__ import annotations

import re

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text
from elektraweb.kdb.storage.relative import absolute, relative

_SPECIAL = re.compile(r"([\\=#;])")
_UNESCAPE = re.compile(r"\\(.)")
_SEPARATOR = re.compile(r"(?<!\\)=")


class MiniFormat:
    name = "mini"
    native_meta: frozenset[str] = frozenset()

    def read(self, data: bytes, mountpoint: str) -> Document:
        keys = KeySet()
        for number, line in enumerate(decode_text(data, "mini").splitlines(), start=1):
            stripped = line.strip()
            if not stripped or stripped[0] in "#;":
                continue
            parts = _SEPARATOR.split(line, maxsplit=1)
            if len(parts) != 2:
                raise ResourceError(f"mini line {number}: no '=' between name and value: {line!r}")
            name = absolute(mountpoint, parts[0].strip(), number, "mini")
            keys.add(Key(name, _UNESCAPE.sub(r"\1", parts[1].strip())))
        return Document(keys)

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        lines = []
        for key in keys:
            if isinstance(key.value, bytes):
                raise ResourceError(f"mini cannot hold the binary value of {key.name}")
            value = _SPECIAL.sub(r"\\\1", key.text)
            lines.append(f"{relative(key.name, mountpoint)}={value}")
        return "".join(line + "\n" for line in lines).encode()


FORMAT = MiniFormat()
