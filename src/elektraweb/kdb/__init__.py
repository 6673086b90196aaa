"""libelektra's key database (KDB) in Python: names, keys, key sets, storage and the database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from elektraweb.kdb import names
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet

if TYPE_CHECKING:
    from elektraweb.kdb.database import KDB

__all__ = ["KDB", "Key", "KeySet", "names"]


def __getattr__(name: str) -> Any:
    # The database pulls in files, mounts and locking; `kdb` commands and the protocol layer
    # that only need names and keys should not pay for importing it.
    if name == "KDB":
        from elektraweb.kdb.database import KDB

        return KDB
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
