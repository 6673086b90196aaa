"""Checking that the storage below a key keeps what is written: `kdb test`.

As libelektra's test suite: each case writes one key below the given name with one KDB,
reads it back with a fresh one and compares; at the end the original keys are restored.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

from elektraweb.cli.kdb_commands import subtree
from elektraweb.cli.kdb_commands.command import (
    BAD_ARGUMENTS,
    NOT_FOUND,
    OK,
    Command,
    CommandError,
    Invocation,
)
from elektraweb.kdb import names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.errors import KDBError
from elektraweb.kdb.key import Key

_STRINGS = ("", "value", "value with spaces", " padded ", "line\nbreak", "x" * 10_000)
_UMLAUTS = ("äöüÄÖÜß", "€ ¸¬½¼³²¹ł¶øæßðđ«»¢“”µ─·", "日本語", "emoji 🦄")
_BINARY = (b"", b"\x00", b"\x00\x01\x02binary\xff", bytes(range(256)))
_NAMES = (
    "keyname",
    "deep/below/keyname",
    "keyname with spaces",
    'ascii !"§$%&()=?`}][{',
    "utf8 ¸¬½¼³²¹ł€",
    *(chr(code) for code in range(1, 128) if chr(code) not in "./\\"),
)
_META = {"description": "a test key", "check/type": "string", "umlauts": "äöü€"}


def _cases(root: str) -> dict[str, Callable[[], Iterator[Key]]]:
    return {
        "basic": lambda: iter([Key(root, "basic value")]),
        "string": lambda: (Key(names.child(root, "string"), text) for text in _STRINGS),
        "umlauts": lambda: (Key(names.child(root, "umlauts"), text) for text in _UMLAUTS),
        "binary": lambda: (Key(names.child(root, "binary"), data) for data in _BINARY),
        "naming": lambda: (Key(names.child(root, *part.split("/")), "v") for part in _NAMES),
        "meta": lambda: iter([Key(names.child(root, "meta"), "with metadata", _META)]),
    }


def run_test(invocation: Invocation) -> int:
    root = subtree.namespaced(invocation.arguments[0], "for the keys to test with")
    cases = _cases(root)
    chosen = invocation.arguments[1:] or list(cases)
    for name in chosen:
        if name not in cases:
            raise CommandError(
                f"Invalid arguments passed: test name {name} does not exist in: {' '.join(cases)}",
                BAD_ARGUMENTS,
            )
    original = KDB().get(root).below(root)
    errors = total = 0
    try:
        for name in chosen:
            print(f"Doing {name} tests")
            for key in cases[name]():
                total += 1
                problem = _round_trip(root, key)
                if problem:
                    errors += 1
                    failure = f"{name.capitalize()} test failed for {key.name}: {problem}"
                    print(failure, file=sys.stderr)
    finally:
        print(f"We got {errors} errors in {total} test cases.", file=sys.stderr)
        print("Test suite is now finished.\nNow restoring the original keyset.")
        restore = KDB()
        restore.get(root)
        restore.set(original, root)
    return OK if not errors else NOT_FOUND


def _round_trip(root: str, key: Key) -> str | None:
    """Store ``key`` alone below ``root``, read it back; what differs, if anything."""
    writer = KDB()
    keys = writer.get(root)
    keys.cut(root)
    keys.add(key)
    try:
        writer.set(keys, root)
        found = KDB().get(root).lookup(key.name)
    except KDBError as error:
        return str(error)
    if found is None:
        return "not found after writing it"
    if found.value != key.value:
        return f"read back {found.value!r}, wrote {key.value!r}"
    lost = {name: value for name, value in key.meta.items() if found.meta.get(name) != value}
    return f"metadata {lost} not read back" if lost else None


COMMANDS = {
    "test": Command(
        name="test",
        summary="Check that the storage below a key keeps what is written to it.",
        arguments=("<key name>", "[<test name>...]"),
        run=run_test,
        details="Tests: basic string umlauts binary naming meta (default: all). Each case\n"
        "writes one key below KEY NAME, reads it back with a fresh KDB and compares.\n"
        "The keys below KEY NAME are restored at the end; failures go to stderr.",
        exits=((NOT_FOUND, "some test case failed"),),
    ),
}
