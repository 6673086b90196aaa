"""The `kdb` command as a whole: help, unknown commands and options, argument counts."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from cli.kdb_runner import KDB_EXECUTABLE, Kdb
from elektraweb.cli.kdb import COMMAND_MODULES

ALL_COMMANDS = sorted(COMMAND_MODULES)


def test_help_lists_every_command_with_its_summary(kdb: Kdb) -> None:
    out = kdb.ok("--help")
    assert out.startswith("usage: kdb <command>")
    for name in ALL_COMMANDS:
        assert f"\n  {name} " in out
    assert "Get the value of a key" in out
    assert kdb.ok() == out
    assert kdb.ok("-H") == out


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_every_command_has_help(kdb: Kdb, name: str) -> None:
    out = kdb.ok(name, "--help")
    assert out.startswith(f"usage: kdb {name} [options]")
    assert "-H, -h, --help" in out


def test_help_of_a_command_tells_its_exit_codes(kdb: Kdb) -> None:
    out = kdb.ok("rm", "--help")
    assert "-r, --recursive" in out
    assert "11      no key to remove found" in out
    assert kdb.ok("help", "rm") == out
    assert kdb.ok("rm", "-H") == out


def test_version(kdb: Kdb) -> None:
    assert kdb.ok("--version").startswith("KDB_VERSION: ")
    assert kdb.ok("get", "-V").startswith("KDB_VERSION: ")


def test_unknown_command_exits_4(kdb: Kdb) -> None:
    err = kdb.fails(4, "frobnicate", "user:/x")
    assert "unknown command 'frobnicate'" in err


def test_unknown_option_exits_1(kdb: Kdb) -> None:
    err = kdb.fails(1, "get", "--frobnicate", "user:/x")
    assert "Invalid options passed" in err
    assert "--frobnicate" in err
    assert "usage: kdb get" in err


def test_option_that_needs_a_value_without_one_exits_1(kdb: Kdb) -> None:
    err = kdb.fails(1, "ls", "user:/x", "--max-depth")
    assert "--max-depth" in err


def test_value_starting_with_a_dash_needs_double_dash(kdb: Kdb) -> None:
    err = kdb.fails(1, "set", "user:/tests/x", "--dash")
    assert "'--'" in err
    # A negative number too, as libelektra's getopt sees an option in it.
    err = kdb.fails(1, "set", "user:/tests/n", "-5")
    assert "'-5'" in err and "'--'" in err
    assert "Did not find key" in kdb.fails(11, "get", "user:/tests/n")
    kdb.ok("set", "--", "user:/tests/n", "-5")
    assert kdb.get("user:/tests/n") == "-5"


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        (("get",), "1 argument needed, got 0"),
        (("get", "user:/a", "user:/b"), "1 argument needed, got 2"),
        (("set", "user:/a"), "2 arguments needed, got 1"),
        (("mv", "user:/a"), "2 arguments needed, got 1"),
        (("meta-set", "user:/a"), "2 to 3 arguments needed, got 1"),
        (("export",), "1 to 2 arguments needed, got 0"),
        (("mount", "app.ini"), "no arguments to list the mountpoints"),
    ],
)
def test_wrong_number_of_arguments_exits_2(kdb: Kdb, args: tuple[str, ...], needed: str) -> None:
    err = kdb.fails(2, *args)
    assert "Invalid arguments passed" in err
    assert needed in err


@pytest.mark.parametrize("name", ["app/port", "nowhere:/app", "user:/app\\"])
def test_invalid_key_name_exits_7_and_quotes_it(kdb: Kdb, name: str) -> None:
    err = kdb.fails(7, "get", name)
    assert "invalid key name" in err
    assert name in err


def test_a_reader_that_goes_away_ends_kdb_quietly(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/piped", "1")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [str(KDB_EXECUTABLE), "ls", "user:/"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=kdb.cwd,
            env=kdb.env,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == -signal.SIGPIPE
    assert done.stderr == b""
