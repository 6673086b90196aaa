"""libelektra's key database (KDB) in Python: names, keys, key sets, storage and the database."""

from elektraweb.kdb import names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet

__all__ = ["KDB", "Key", "KeySet", "names"]
