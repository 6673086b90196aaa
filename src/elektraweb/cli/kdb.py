"""The `kdb` command: parses the command line and hands it to one command.

Only the module of the command that runs is imported, so `kdb get` does not pay for
export formats or mounting code (startup time is part of the contract, see issue 2).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import NoReturn

from elektraweb.cli.kdb_commands.command import (
    BAD_ARGUMENTS,
    BAD_OPTIONS,
    INVALID_INPUT,
    KDB_ERROR,
    OK,
    UNKNOWN_COMMAND,
    Command,
    CommandError,
    Invocation,
)
from elektraweb.kdb.errors import InvalidNameError, KDBError

# Command name -> module below elektraweb.cli.kdb_commands that defines it.
COMMAND_MODULES = {
    "get": "keys",
    "set": "keys",
    "ls": "keys",
    "find": "keys",
    "file": "keys",
    "rm": "tree",
    "mv": "tree",
    "cp": "tree",
    "meta-get": "meta",
    "meta-set": "meta",
    "meta-ls": "meta",
    "meta-rm": "meta",
    "export": "transfer",
    "import": "transfer",
    "mount": "mounting",
    "umount": "mounting",
    "spec-mount": "mounting",
    "validate": "checks",
    "complete": "complete",
    "meta-show": "meta",
    "test": "selftest",
}

OVERVIEW = """\
usage: kdb <command> [options] [arguments]

Access the key database (KDB) of this host from the command line.

commands:
{commands}

Run 'kdb help <command>' or 'kdb <command> --help' for the arguments and options of a command.
Use '--' to end the options, e.g. to set a value that starts with '-':
  kdb set -- user:/tests/neg -3

The environment variable KDB_ROOT moves every namespace root below one directory.

return values:
  0       success
  1       invalid options
  2       invalid arguments (wrong number, a cascading name where a namespace is needed)
  4       unknown command
  5       KDB error (validation, conflict, I/O), with libelektra's error code
  7       invalid key name, unknown format (libelektra: an error thrown by the library)
  11-20   command-specific, see 'kdb <command> --help'
"""

# libelektra's names for its error codes (doc/decisions/error_codes.md).
ERROR_KINDS = {
    "C01100": "Resource",
    "C01200": "Installation",
    "C01310": "Internal",
    "C01320": "Interface",
    "C01330": "Plugin Misbehavior",
    "C02000": "Conflicting State",
    "C03100": "Validation Syntactic",
    "C03200": "Validation Semantic",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        hint = ""
        if "unrecognized arguments" in message:
            hint = "\n(put '--' before arguments that start with '-')"
        raise CommandError(
            f"Invalid options passed: {message}{hint}\nusage: {self.usage}", BAD_OPTIONS
        )


def main(argv: list[str] | None = None) -> int:
    # Like libelektra's kdb (and every C tool), end quietly when the reader of our output
    # goes away (`kdb ls / | head`) instead of reporting a BrokenPipeError.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = sys.argv[1:] if argv is None else argv
    try:
        return _run(args)
    except CommandError as error:
        sys.stderr.write(error.message.rstrip("\n") + "\n")
        return error.exit_code


def _run(args: list[str]) -> int:
    if args[:1] == ["help"] and len(args) == 2:
        args = [args[1], "--help"]  # libelektra's `kdb help <command>`
    if not args or args[0] in ("-H", "-h", "--help", "help"):
        sys.stdout.write(_overview())
        return OK
    if args[0] in ("-V", "--version"):
        sys.stdout.write(_version())
        return OK
    name, rest = args[0], args[1:]
    module_name = COMMAND_MODULES.get(name)
    if module_name is None:
        raise CommandError(
            f"kdb: unknown command '{name}'. Run 'kdb --help' for the list of commands.",
            UNKNOWN_COMMAND,
        )
    command = _load(name, module_name)
    invocation = _parse(command, rest)
    if invocation is None:
        return OK
    return _execute(command, invocation)


def _load(name: str, module_name: str) -> Command:
    module = importlib.import_module(f"elektraweb.cli.kdb_commands.{module_name}")
    command: Command = module.COMMANDS[name]
    return command


def _parse(command: Command, args: list[str]) -> Invocation | None:
    """Parse options and arguments; None when help or the version was printed."""
    parser = _Parser(
        prog=f"kdb {command.name}",
        usage=command.usage,
        description=f"{command.summary}\n\n{command.details}".rstrip(),
        epilog=_exit_codes(command),
        formatter_class=_help_formatter,
        add_help=False,
        allow_abbrev=False,
    )
    parser.add_argument("-H", "-h", "--help", action="store_true", help="Show this help.")
    parser.add_argument("-V", "--version", action="store_true", help="Print version info.")
    for option in command.options:
        if option.metavar is None:
            parser.add_argument(
                *option.flags, dest=option.dest, action="store_true", help=option.help
            )
        else:
            parser.add_argument(
                *option.flags, dest=option.dest, metavar=option.metavar, help=option.help
            )
    parser.add_argument("arguments", nargs="*", help=argparse.SUPPRESS)
    # Split at '--' ourselves: argparse's intermixed parsing mishandles what follows it.
    after: list[str] = []
    if "--" in args:
        at = args.index("--")
        args, after = args[:at], args[at + 1 :]
    options = parser.parse_intermixed_args(args)
    options.arguments.extend(after)
    if options.help:
        sys.stdout.write(parser.format_help())
        return None
    if options.version:
        sys.stdout.write(_version())
        return None
    arguments: list[str] = options.arguments
    _refuse_dashed(arguments[: len(arguments) - len(after)], command)
    if not command.min_arguments <= len(arguments) <= command.max_arguments:
        raise CommandError(
            f"Invalid arguments passed: {_expected(command)}, got {len(arguments)}\n"
            f"usage: {command.usage}",
            BAD_ARGUMENTS,
        )
    return Invocation(arguments, options)


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    # argparse asks shutil for the terminal's width whenever an argument is added, and
    # importing shutil (with bz2 and lzma) costs every `kdb` start; os tells the same.
    return argparse.RawDescriptionHelpFormatter(prog, width=_terminal_columns() - 2)


def _terminal_columns() -> int:
    """The width of the terminal, as ``shutil.get_terminal_size`` finds it (80 if none)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _refuse_dashed(arguments: list[str], command: Command) -> None:
    """As libelektra's getopt: an argument starting with '-' before '--' is an option, so an
    unknown one such as the value '-5' is refused (argparse would take it as a number)."""
    dashed = next((word for word in arguments if word.startswith("-") and word != "-"), None)
    if dashed is not None:
        raise CommandError(
            f"Invalid options passed: unknown option '{dashed}'\n"
            f"(put '--' before arguments that start with '-', e.g. kdb {command.name} -- ...)\n"
            f"usage: {command.usage}",
            BAD_OPTIONS,
        )


def _exit_codes(command: Command) -> str:
    lines = ["return values:", "  0       success", "  1-10    see 'kdb --help'"]
    lines.extend(f"  {code:<6}  {meaning}" for code, meaning in command.exits)
    return "\n".join(lines)


def _expected(command: Command) -> str:
    low, high = command.min_arguments, command.max_arguments
    count = str(low) if low == high else f"{low} to {high}"
    if high == sys.maxsize:
        count = f"at least {low}"
    return f"{count} argument{'' if high == 1 else 's'} needed"


def _execute(command: Command, invocation: Invocation) -> int:
    try:
        return command.run(invocation)
    except InvalidNameError as error:
        raise CommandError(error.message, INVALID_INPUT) from error
    except KDBError as error:
        kind = ERROR_KINDS.get(error.code, "Error")
        raise CommandError(
            f"Sorry, kdb {command.name} failed with error {error.code}:\n{kind}: {error.message}",
            KDB_ERROR,
        ) from error


def _overview() -> str:
    lines = []
    for name, module_name in COMMAND_MODULES.items():
        lines.append(f"  {name:<10}  {_load(name, module_name).summary}")
    return OVERVIEW.format(commands="\n".join(lines))


def _version() -> str:
    from importlib.metadata import version

    return f"KDB_VERSION: {version('elektraweb')}\n"
