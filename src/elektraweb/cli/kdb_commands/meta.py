"""Metadata of one key: `kdb meta-get`, `meta-set`, `meta-ls` and `meta-rm`."""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands import subtree
from elektraweb.cli.kdb_commands.command import (
    BAD_OPTIONS,
    COMMAND_SPECIFIC,
    NO_NEWLINE,
    NOT_FOUND,
    NULL,
    OK,
    QUIET,
    Command,
    CommandError,
    Invocation,
    Option,
)
from elektraweb.kdb import cascade, names
from elektraweb.kdb.database import KDB
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet


def _meta_name(argument: str) -> str:
    return argument.removeprefix("meta:/")


def _existing(keys: KeySet, name: str) -> Key:
    key = cascade.lookup(keys, name)
    if key is None:
        raise CommandError(f"Key '{name}' does not exist", NOT_FOUND)
    return key


def run_meta_get(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    meta_name = _meta_name(invocation.arguments[1])
    key = _existing(KDB().get(subtree.cascading(name)), name)
    if meta_name not in key.meta:
        raise CommandError(
            f"Key '{key.name}' does not contain a metakey with the name '{meta_name}'",
            COMMAND_SPECIFIC,
        )
    end = "" if invocation.flag("no_newline") else "\n"
    sys.stdout.write(key.meta[meta_name] + end)
    return OK


def run_meta_set(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    meta_name = _meta_name(invocation.arguments[1])
    meta_value = invocation.argument(2)
    subtree.refuse_unstored(name)
    parent = subtree.cascading(name)
    kdb = KDB()
    keys = kdb.get(parent)
    key = cascade.lookup(keys, name)
    if subtree.is_cascading(name):
        if key is None or key.namespace not in subtree.WRITABLE_NAMESPACES:
            raise CommandError(subtree.AMBIGUOUS_WRITE, COMMAND_SPECIFIC)
        if not invocation.flag("quiet"):
            print(f"Using name {key.name}")
    elif key is None:
        # libelektra creates a missing (non-cascading) key with a null value.
        key = Key(name)
        keys.add(key)
        if invocation.flag("verbose"):
            print(f"Creating key {name}")
    if meta_value is None:
        if not invocation.flag("quiet"):
            print(f"Only two arguments, thus deleting metaname {meta_name}")
        key.meta.pop(meta_name, None)
    else:
        key.meta[meta_name] = meta_value
    kdb.set(keys, parent)
    return OK


def run_meta_ls(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    key = cascade.lookup(KDB().get(subtree.cascading(name)), name)
    if key is None:
        # libelektra's meta-ls ends with 1 here, unlike meta-get and meta-rm (11).
        raise CommandError(f"Key '{name}' does not exist", BAD_OPTIONS)
    if invocation.flag("verbose"):
        print(f"Got key {key.name}")
    end = "\0" if invocation.flag("null") else "\n"
    for meta_name in sorted(key.meta):
        sys.stdout.write(meta_name + end)
    return OK


def run_meta_show(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    key = _existing(KDB().get(subtree.cascading(name)), name)
    for meta_name in sorted(key.meta):
        print(f"{meta_name}: {key.meta[meta_name]}")
    return OK


def run_meta_rm(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    parent = subtree.cascading(name)
    kdb = KDB()
    keys = kdb.get(parent)
    key = _existing(keys, name)
    if key.meta.pop(_meta_name(invocation.arguments[1]), None) is not None:
        kdb.set(keys, parent)
    return OK


_KEY_MISSING = (NOT_FOUND, "the key does not exist")

COMMANDS = {
    "meta-get": Command(
        name="meta-get",
        summary="Get the value of a metakey.",
        arguments=("<key name>", "<metaname>"),
        run=run_meta_get,
        options=(NO_NEWLINE,),
        details="A cascading key name is looked up like 'kdb get' does; use the spec:\n"
        "namespace for metadata stored there.",
        exits=(_KEY_MISSING, (COMMAND_SPECIFIC, "the key has no such metakey")),
    ),
    "meta-set": Command(
        name="meta-set",
        summary="Set the value of a metakey; without a value, remove the metakey.",
        arguments=("<key name>", "<metaname>", "[<metavalue>]"),
        run=run_meta_set,
        options=(Option(("-v", "--verbose"), "Say which key is created."), QUIET),
        details="A missing key with a namespace is created with a null value. A cascading\n"
        "name must resolve to an existing key, whose name is printed.",
        exits=((COMMAND_SPECIFIC, "a cascading name that resolves to no key"),),
    ),
    "meta-ls": Command(
        name="meta-ls",
        summary="Print the names of all metakeys of a key.",
        arguments=("<key name>",),
        run=run_meta_ls,
        options=(NULL, Option(("-v", "--verbose"), "Say which key was found.")),
        details="A missing key ends with exit code 1, as in libelektra.",
    ),
    "meta-show": Command(
        name="meta-show",
        summary="Print every metakey of a key with its value, as 'name: value'.",
        arguments=("<key name>",),
        run=run_meta_show,
        exits=(_KEY_MISSING,),
    ),
    "meta-rm": Command(
        name="meta-rm",
        summary="Remove a metakey of a key.",
        arguments=("<key name>", "<metaname>"),
        run=run_meta_rm,
        exits=(_KEY_MISSING,),
    ),
}
