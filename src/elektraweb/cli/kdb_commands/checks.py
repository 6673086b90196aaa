"""Checking stored values against their metadata: `kdb validate`."""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands import subtree
from elektraweb.cli.kdb_commands.command import (
    NOT_FOUND,
    OK,
    Command,
    CommandError,
    Invocation,
    Option,
)
from elektraweb.kdb import names, validation
from elektraweb.kdb.database import KDB
from elektraweb.kdb.keyset import KeySet


def run_validate(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    keys = KDB().get(name)
    problems = validation.find_problems(KeySet(subtree.below(keys, name)))
    for problem in problems:
        print(f"error {problem.code}: {problem.message}", file=sys.stderr)
    if problems:
        raise CommandError(
            f"{len(problems)} key{'' if len(problems) == 1 else 's'} below {name} "
            "failed validation",
            NOT_FOUND,
        )
    if invocation.flag("verbose"):
        print(f"all keys below {name} are valid")
    return OK


COMMANDS = {
    "validate": Command(
        name="validate",
        summary="Check the stored values below a key against their metadata and spec.",
        arguments=("<key name>",),
        run=run_validate,
        options=(Option(("-v", "--verbose"), "Say so when every key is valid."),),
        details="Reads every key at and below the name (in every namespace for a cascading\n"
        "name) and checks it as a write would: check/type, check/range, check/enum,\n"
        "check/validation, ... Values written with 'kdb set -f' or by an editor may fail.\n"
        "Each failing key is printed with its error code.",
        exits=((NOT_FOUND, "some key failed validation"),),
    ),
}
