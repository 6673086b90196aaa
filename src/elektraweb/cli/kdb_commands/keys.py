"""Reading and writing single keys: `kdb get`, `set`, `ls`, `find` and `file`."""

from __future__ import annotations

import sys

from elektraweb.cli.kdb_commands import subtree
from elektraweb.cli.kdb_commands.command import (
    BAD_ARGUMENTS,
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
from elektraweb.kdb import cascade, names, validation
from elektraweb.kdb.database import KDB
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.posixre import PosixRegexError, compile_ere

_UNLIMITED_DEPTH = sys.maxsize


def run_get(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    verbose = invocation.flag("verbose")
    keys = KDB().get("/" if invocation.flag("all") else name)
    if verbose:
        print(f"got {len(keys)} keys")
    if verbose and subtree.is_cascading(name):
        for tried, found in cascade.explain(keys, name):
            # As libelektra's trace: the names a spec key sends us to are indented.
            indent = "" if tried.startswith("spec:/") else "    "
            print(f"{indent}searching {tried}, found: {tried if found else '<nothing>'}")
    key = cascade.lookup(keys, name)
    if key is None:
        raise CommandError(f"Did not find key '{name}'", NOT_FOUND)
    if verbose:
        _explain_result(key)
    _warn_if_invalid(key)
    end = "" if invocation.flag("no_newline") else "\n"
    sys.stdout.write(_printable(key) + end)
    return OK


def _warn_if_invalid(key: Key) -> None:
    # A value written behind the KDB's back may break its own metadata: show it, still print
    # it (as libelektra's kdb get does with warnings), so the operator can see what to fix.
    problems = validation.find_problems(KeySet([key]))
    for problem in problems:
        print(f"Warning {problem.code}: {problem.message}", file=sys.stderr)


def _explain_result(key: Key) -> None:
    if key.namespace == "default":
        print("The key was not found in any other namespace, taking the default")
    print(f"The resulting keyname is {key.name}")
    print(f"The resulting value size is {_value_size(key)}")
    if key.value is None:
        print("The key is null.")
    elif isinstance(key.value, bytes):
        print("The key is binary.")


def _value_size(key: Key) -> int:
    if key.value is None:
        return 0
    if isinstance(key.value, bytes):
        return len(key.value)
    # libelektra counts the C string's terminating NUL in the value size.
    return len(key.value.encode()) + 1


def _printable(key: Key) -> str:
    if isinstance(key.value, bytes):
        return "".join(f"\\x{byte:x}" for byte in key.value)
    return key.text


def run_set(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    value = invocation.arguments[1]
    parent = subtree.cascading(name)
    kdb = KDB()
    keys = kdb.get(parent)
    if subtree.is_cascading(name):
        key = cascade.lookup(keys, name)
        if key is None or key.namespace not in subtree.WRITABLE_NAMESPACES:
            raise CommandError(
                "Aborting: A cascading write to a non-existent key is ambiguous. "
                f"Give the namespace, e.g. 'user:{name}'.",
                COMMAND_SPECIFIC,
            )
        report = [f'Set string to "{value}"', f"Using name {key.name}"]
    else:
        existing = keys.lookup(name)
        if existing is None:
            key = Key(name)
            keys.add(key)
            report = [f'Create a new key {name} with string "{value}"']
        else:
            key = existing
            report = [f'Set string to "{value}"']
    key.value = value
    kdb.set(keys, parent)
    if not invocation.flag("quiet"):
        print("\n".join(report))
    return OK


def run_ls(invocation: Invocation) -> int:
    argument = invocation.arguments[0]
    root = names.canonical(argument)
    min_depth = _depth(invocation, "min_depth", 0)
    max_depth = _depth(invocation, "max_depth", _UNLIMITED_DEPTH)
    if max_depth <= min_depth:
        raise CommandError(
            f"Invalid arguments passed: the maximum depth ({max_depth}) has to be larger "
            f"than the minimum depth ({min_depth})",
            BAD_ARGUMENTS,
        )
    keys = KDB().get(root)
    selected = subtree.below(keys, root)
    if invocation.flag("verbose"):
        print(f"size of all keys in mountpoint: {len(keys)}")
        print(f"size of requested keys: {len(selected)}")
    # As in libelektra: a trailing '/' (or the root of a namespace) lists from the next level.
    offset = 1 if not names.parts_of(root) or _ends_with_separator(argument) else 0
    root_depth = len(names.parts_of(root))
    end = "\0" if invocation.flag("null") else "\n"
    for key in selected:
        depth = len(key.parts) - root_depth
        if min_depth + offset <= depth < max_depth + offset:
            sys.stdout.write(key.name + end)
    return OK


def _depth(invocation: Invocation, option: str, default: int) -> int:
    raw = invocation.value(option)
    if raw is None:
        return default
    if not raw.isdigit():
        flag = "--" + option.replace("_", "-")
        raise CommandError(
            f"Invalid arguments passed: {flag} needs a number of levels (0 or more), not '{raw}'",
            BAD_ARGUMENTS,
        )
    return int(raw)


def _ends_with_separator(argument: str) -> bool:
    return argument.endswith("/") and not argument.endswith("\\/")


def run_find(invocation: Invocation) -> int:
    pattern = invocation.arguments[0]
    try:
        regex = compile_ere(pattern)
    except PosixRegexError as error:
        raise CommandError(f"Invalid arguments passed: {error}", BAD_ARGUMENTS) from error
    end = "\0" if invocation.flag("null") else "\n"
    for key in KDB().get("/"):
        if regex.search(key.name):
            sys.stdout.write(key.name + end)
    return OK


def run_file(invocation: Invocation) -> int:
    name = names.canonical(invocation.arguments[0])
    if subtree.is_cascading(name):
        namespace = invocation.value("namespace") or "user"
        name = names.with_namespace(name, namespace)
    end = "" if invocation.flag("no_newline") else "\n"
    sys.stdout.write(f"{KDB().file_of(name)}{end}")
    return OK


COMMANDS = {
    "get": Command(
        name="get",
        summary="Get the value of a key stored in the key database.",
        arguments=("<key name>",),
        run=run_get,
        options=(
            Option(("-a", "--all"), "Consider all of the keys (for override/fallback links)."),
            NO_NEWLINE,
            Option(("-v", "--verbose"), "Explain the cascading lookup: every name tried."),
        ),
        details="A name starting with '/' is looked up cascading: proc, dir, user, system,\n"
        "then default, steered by the spec keys' override/# and fallback/#.",
        exits=((NOT_FOUND, "no key found"),),
    ),
    "set": Command(
        name="set",
        summary="Set the value of a key.",
        arguments=("<key name>", "<value>"),
        run=run_set,
        options=(QUIET,),
        details="Creates the key if it does not exist. A cascading name (starting with '/')\n"
        "sets the key it resolves to; to create a key, give its namespace.\n"
        "Use '--' before a value that starts with '-':  kdb set -- user:/tests/neg -3",
        exits=((COMMAND_SPECIFIC, "a cascading name that resolves to no key"),),
    ),
    "ls": Command(
        name="ls",
        summary="List the names of keys below a key.",
        arguments=("<key name>",),
        run=run_ls,
        options=(
            Option(
                ("-m", "--min-depth"),
                "Minimum depth relative to the key (default 0).",
                metavar="DEPTH",
            ),
            Option(
                ("-M", "--max-depth"),
                "Maximum depth relative to the key, exclusive "
                "(default unlimited; 1 with a trailing '/' shows the next level).",
                metavar="DEPTH",
            ),
            NULL,
            Option(("-v", "--verbose"), "Print how many keys were read and selected."),
        ),
        details="A cascading name (starting with '/') lists that path in every namespace.",
    ),
    "find": Command(
        name="find",
        summary="Find keys whose name contains a match of a POSIX extended regular expression.",
        arguments=("<regex>",),
        run=run_find,
        options=(NULL,),
    ),
    "file": Command(
        name="file",
        summary="Print the file a key is stored in.",
        arguments=("<key name>",),
        run=run_file,
        options=(
            NO_NEWLINE,
            Option(
                ("-N", "--namespace"),
                "Namespace for a cascading name (default user).",
                metavar="NS",
            ),
        ),
    ),
}
