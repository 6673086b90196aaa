"""Changing keys together with what is below them: `kdb rm`, `mv` and `cp`."""

from __future__ import annotations

from elektraweb.cli.kdb_commands import subtree
from elektraweb.cli.kdb_commands.command import (
    NOT_FOUND,
    OK,
    Command,
    CommandError,
    Invocation,
    Option,
)
from elektraweb.kdb import cascade, names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.spec import strip_spec

# Namespaces whose keys live in files, so removing them lasts.
STORED = ("spec", *subtree.WRITABLE_NAMESPACES)
RECURSIVE = Option(("-r", "--recursive"), "Work on the key and everything below it.")


def run_rm(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    kdb = KDB()
    keys = kdb.get(name)
    recursive = invocation.flag("recursive")
    if recursive:
        # A cascading name removes its subtree in every namespace, as libelektra's ksCut.
        doomed = [key.name for key in subtree.below(keys, name) if key.namespace in STORED]
    else:
        # A cascading name removes the key it resolves to, as libelektra's lookup with POP.
        found = cascade.lookup(keys, name)
        doomed = [found.name] if found is not None and found.namespace in STORED else []
    if not doomed:
        if invocation.flag("force"):
            return OK
        raise CommandError(f"Did not find {'any' if recursive else 'the'} key", NOT_FOUND)
    keys.remove_all(doomed)
    kdb.set(keys, name)
    return OK


def _moving(keys: KeySet, source: str, recursive: bool, verb: str) -> list[Key]:
    """The keys a move or copy takes: the source's subtree, or just the source key.

    They come as stored, so metadata of the source's spec keys does not travel along.
    """
    below = list(strip_spec(keys).below(source))
    if not below:
        raise CommandError(f"No key to {verb} found below '{source}'", NOT_FOUND)
    if recursive:
        return below
    if below[0].name != source:
        raise CommandError(
            f"First key found {below[0].name} does not exactly match given key {source}, "
            f"aborting (use -r to {verb} the hierarchy)",
            NOT_FOUND,
        )
    return below[:1]


def run_mv(invocation: Invocation) -> int:
    what = "for destination and source when moving a key"
    source = subtree.namespaced(invocation.arguments[0], what)
    destination = subtree.namespaced(invocation.arguments[1], what)
    subtree.refuse_unstored(destination)
    root = names.common_parent(source, destination)
    if invocation.flag("verbose"):
        print(f"using common basename: {root}")
    kdb = KDB()
    keys = kdb.get(root)
    moving = _moving(keys, source, invocation.flag("recursive"), "move")
    # Remove first: the destination may lie below the source.
    for key in moving:
        keys.remove(key.name)
    for key in moving:
        keys.add(key.copy(subtree.renamed(key.name, source, destination)))
    kdb.set(keys, root)
    return OK


def run_cp(invocation: Invocation) -> int:
    what = "for destination and source when copying a key"
    source = subtree.namespaced(invocation.arguments[0], what)
    destination = subtree.namespaced(invocation.arguments[1], what)
    subtree.refuse_unstored(destination)
    root = names.common_parent(source, destination)
    kdb = KDB()
    keys = kdb.get(root)
    copies = [
        key.copy(subtree.renamed(key.name, source, destination))
        for key in _moving(keys, source, invocation.flag("recursive"), "copy")
    ]
    force = invocation.flag("force")
    for copy in copies:
        existing = keys.lookup(copy.name)
        if existing is None or force:
            keys.add(copy)
        elif existing.value != copy.value:
            raise CommandError(
                f"Copy will not be done, because {copy.name} already exists and has a "
                "different value, use -f to force copy",
                NOT_FOUND,
            )
    kdb.set(keys, root)
    return OK


COMMANDS = {
    "rm": Command(
        name="rm",
        summary="Remove key(s) from the key database.",
        arguments=("<key name>",),
        run=run_rm,
        options=(
            RECURSIVE,
            Option(("-f", "--force"), "Do not fail on a missing key."),
        ),
        details="A cascading name (starting with '/') removes the key it resolves to; with -r\n"
        "it removes the subtree in every namespace.",
        exits=((NOT_FOUND, "no key to remove found"),),
    ),
    "mv": Command(
        name="mv",
        summary="Move key(s) within the key database.",
        arguments=("<source>", "<destination>"),
        run=run_mv,
        options=(RECURSIVE, Option(("-v", "--verbose"), "Print the common parent key.")),
        details="Neither source nor destination can be cascading: give their namespaces.\n"
        "Without -r only the key itself moves; keys below it stay.",
        exits=((NOT_FOUND, "no key to move found"),),
    ),
    "cp": Command(
        name="cp",
        summary="Copy key(s) within the key database.",
        arguments=("<source>", "<destination>"),
        run=run_cp,
        options=(RECURSIVE, Option(("-f", "--force"), "Overwrite existing keys.")),
        details="Copies value and metadata. An existing destination key with the same value\n"
        "is kept; one with a different value stops the copy unless -f is given.",
        exits=((NOT_FOUND, "no key to copy found, or a destination key differs (use -f)"),),
    ),
}
