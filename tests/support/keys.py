"""The key a test expects in a key set, typed as present."""

from elektraweb.kdb import Key, KeySet


def existing_key(keys: KeySet, name: str) -> Key:
    """`keys.lookup(name)`, failing the test with the missing name instead of returning None."""
    key = keys.lookup(name)
    assert key is not None, f"{name} is not in the key set"
    return key
