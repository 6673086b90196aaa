"""`kdb get`, `set`, `ls`, `find` and `file` against a real key database on disk."""

from __future__ import annotations

import pytest

from cli.kdb_runner import Kdb


def test_set_creates_then_changes_a_key(kdb: Kdb) -> None:
    out = kdb.ok("set", "user:/tests/greeting", "hello world")
    assert out == 'Create a new key user:/tests/greeting with string "hello world"\n'
    assert kdb.get("user:/tests/greeting") == "hello world"
    assert kdb.ok("set", "user:/tests/greeting", "bye") == 'Set string to "bye"\n'
    assert kdb.get("user:/tests/greeting") == "bye"


def test_set_quiet_prints_nothing(kdb: Kdb) -> None:
    assert kdb.ok("set", "-q", "user:/tests/q", "1") == ""
    assert kdb.get("user:/tests/q") == "1"


def test_set_empty_value(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/empty", "")
    assert kdb.ok("get", "user:/tests/empty") == "\n"


def test_values_may_start_with_a_dash_after_double_dash(kdb: Kdb) -> None:
    kdb.ok("set", "--", "user:/tests/neg", "-3")
    assert kdb.get("user:/tests/neg") == "-3"
    kdb.ok("set", "--", "user:/tests/opt", "--verbose")
    assert kdb.get("user:/tests/opt") == "--verbose"


def test_values_keep_spaces_newlines_and_unicode(kdb: Kdb) -> None:
    value = "  two\nlines – ünïcode  "
    kdb.ok("set", "user:/tests/text", value)
    assert kdb.ok("get", "user:/tests/text") == value + "\n"
    assert kdb.ok("get", "-n", "user:/tests/text") == value


def test_names_are_canonicalised(kdb: Kdb) -> None:
    out = kdb.ok("set", "user:/tests//a/./b/../c", "v")
    assert "user:/tests/a/c " in out
    assert kdb.get("user:/tests/a/c") == "v"
    kdb.ok("set", "user:/tests/array/#10", "ten")
    assert kdb.ok("ls", "user:/tests/array") == "user:/tests/array/#_10\n"


def test_get_of_a_missing_key_exits_11(kdb: Kdb) -> None:
    err = kdb.fails(11, "get", "user:/tests/missing")
    assert "Did not find key 'user:/tests/missing'" in err
    err = kdb.fails(11, "get", "/tests/missing")
    assert "Did not find key '/tests/missing'" in err


def test_cascading_get_prefers_user_over_system(kdb: Kdb) -> None:
    kdb.ok("set", "system:/tests/cascade", "from system")
    assert kdb.get("/tests/cascade") == "from system"
    kdb.ok("set", "user:/tests/cascade", "from user")
    assert kdb.get("/tests/cascade") == "from user"
    kdb.ok("rm", "user:/tests/cascade")
    assert kdb.get("/tests/cascade") == "from system"


def test_cascading_get_takes_the_spec_default(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/defaulted", "default", "42")
    assert kdb.get("/tests/defaulted") == "42"
    out = kdb.ok("get", "-v", "/tests/defaulted")
    assert "The key was not found in any other namespace, taking the default" in out
    assert out.endswith("42\n")


def test_get_verbose_explains_the_lookup(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/explained", "myKey")
    out = kdb.ok("get", "-v", "/tests/explained")
    lines = out.splitlines()
    assert lines[0].startswith("got ") and lines[0].endswith(" keys")
    assert any("user:/tests/explained" in line and "searching" in line for line in lines)
    assert "The resulting keyname is user:/tests/explained" in lines
    assert "The resulting value size is 6" in lines
    assert lines[-1] == "myKey"


def test_cascading_set_changes_the_key_it_resolves_to(kdb: Kdb) -> None:
    kdb.ok("set", "system:/tests/resolved", "old")
    out = kdb.ok("set", "/tests/resolved", "new")
    assert out == 'Set string to "new"\nUsing name system:/tests/resolved\n'
    assert kdb.get("system:/tests/resolved") == "new"
    kdb.fails(11, "get", "user:/tests/resolved")


def test_cascading_set_of_a_missing_key_exits_12(kdb: Kdb) -> None:
    err = kdb.fails(12, "set", "/tests/nowhere", "x")
    assert "ambiguous" in err
    kdb.fails(11, "get", "/tests/nowhere")


def test_set_that_fails_validation_exits_5_naming_key_and_value(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/valid/port", "8080")
    kdb.ok("meta-set", "user:/tests/valid/port", "check/range", "1-9999")
    err = kdb.fails(5, "set", "user:/tests/valid/port", "70000")
    assert "C03" in err
    assert "user:/tests/valid/port" in err
    assert "70000" in err
    assert kdb.get("user:/tests/valid/port") == "8080"


def test_spec_type_is_enforced_on_set(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/typed/count", "check/type", "long")
    kdb.ok("set", "user:/tests/typed/count", "12")
    err = kdb.fails(5, "set", "user:/tests/typed/count", "twelve")
    assert "user:/tests/typed/count" in err
    assert "twelve" in err
    assert kdb.get("/tests/typed/count") == "12"


def _fill_ls_example(kdb: Kdb) -> None:
    # The example of libelektra's kdb-ls(1).
    kdb.seed(
        "user:/tests/kdb-ls",
        {
            "test": "val1",
            "test/foo/bar": "val2",
            "test/fizz/buzz": "fizzbuzz",
            "tost": "val3",
            "tost/level": "lvl",
        },
    )


def test_ls_lists_the_subtree(kdb: Kdb) -> None:
    _fill_ls_example(kdb)
    assert kdb.ok("ls", "/tests/kdb-ls").splitlines() == [
        "user:/tests/kdb-ls/test",
        "user:/tests/kdb-ls/test/fizz/buzz",
        "user:/tests/kdb-ls/test/foo/bar",
        "user:/tests/kdb-ls/tost",
        "user:/tests/kdb-ls/tost/level",
    ]
    assert kdb.ok("ls", "user:/tests/kdb-ls/test").splitlines() == [
        "user:/tests/kdb-ls/test",
        "user:/tests/kdb-ls/test/fizz/buzz",
        "user:/tests/kdb-ls/test/foo/bar",
    ]


def test_ls_depth_limits_as_in_libelektra(kdb: Kdb) -> None:
    _fill_ls_example(kdb)
    next_level = ["user:/tests/kdb-ls/test", "user:/tests/kdb-ls/tost"]
    assert kdb.ok("ls", "/tests/kdb-ls/", "--max-depth=1").splitlines() == next_level
    assert kdb.ok("ls", "/tests/kdb-ls", "--max-depth=1") == ""
    assert kdb.ok("ls", "/tests/kdb-ls", "-m", "1", "-M", "2").splitlines() == next_level
    assert kdb.ok("ls", "-m", "2", "user:/tests/kdb-ls").splitlines() == [
        "user:/tests/kdb-ls/test/fizz/buzz",
        "user:/tests/kdb-ls/test/foo/bar",
        "user:/tests/kdb-ls/tost/level",
    ]


def test_ls_rejects_bad_depths(kdb: Kdb) -> None:
    assert "larger than the minimum" in kdb.fails(2, "ls", "user:/x", "-m", "2", "-M", "2")
    # A depth that is no number is a bad option value: 1, as libelektra's `ls -M x`.
    assert "'-1'" in kdb.fails(1, "ls", "user:/x", "--min-depth=-1")
    assert "--max-depth" in kdb.fails(1, "ls", "-M", "x", "user:/x")


def test_ls_null_separated(kdb: Kdb) -> None:
    kdb.seed("user:/tests/nul", {"a": "1", "b": "2"})
    out = kdb.run_bytes("ls", "-0", "user:/tests/nul").stdout
    assert out == b"user:/tests/nul/a\0user:/tests/nul/b\0"


def test_cascading_ls_spans_namespaces(kdb: Kdb) -> None:
    kdb.ok("set", "system:/tests/both/s", "1")
    kdb.ok("set", "user:/tests/both/u", "2")
    assert kdb.ok("ls", "/tests/both").splitlines() == [
        "user:/tests/both/u",
        "system:/tests/both/s",
    ]
    assert kdb.ok("ls", "user:/tests/both") == "user:/tests/both/u\n"


def test_ls_verbose_counts(kdb: Kdb) -> None:
    _fill_ls_example(kdb)
    out = kdb.ok("ls", "-v", "user:/tests/kdb-ls/tost")
    assert "size of requested keys: 2" in out


def test_find_matches_anywhere_in_the_name(kdb: Kdb) -> None:
    # The example of libelektra's kdb-find(1).
    names = ["tests", "tests/foo/bar", "tests/fizz/buzz", "tostfizz", "tust/level"]
    kdb.seed("user:/tests/find", dict.fromkeys(names, "x"))
    assert kdb.ok("find", "/tests/find/t[eo]").splitlines() == [
        "user:/tests/find/tests",
        "user:/tests/find/tests/fizz/buzz",
        "user:/tests/find/tests/foo/bar",
        "user:/tests/find/tostfizz",
    ]
    assert kdb.ok("find", "fizz").splitlines() == [
        "user:/tests/find/tests/fizz/buzz",
        "user:/tests/find/tostfizz",
    ]
    assert kdb.run_bytes("find", "-0", "tust").stdout == b"user:/tests/find/tust/level\0"
    assert kdb.ok("find", "nothing-matches-this") == ""


def test_find_takes_posix_extended_regexes_without_warnings(kdb: Kdb) -> None:
    kdb.seed("user:/tests/find", {"port1": "x", "port": "x", "host": "x"})
    found = kdb("find", "port[[:digit:]]$")  # Python's re took [[: for a nested set
    assert (found.code, found.out, found.err) == (0, "user:/tests/find/port1\n", "")
    assert kdb.ok("find", "/(host|port)$").splitlines() == [
        "user:/tests/find/host",
        "user:/tests/find/port",
    ]
    err = kdb.fails(2, "find", "(p)\\1")
    assert "back-reference" in err


def test_find_with_an_invalid_regex_exits_2(kdb: Kdb) -> None:
    err = kdb.fails(2, "find", "([unclosed")
    assert "'([unclosed'" in err


def test_file_names_the_default_storage(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/where", "1")
    path = kdb.ok("file", "user:/tests/where").strip()
    assert path.startswith(str(kdb.root))
    assert (kdb.root / path).is_file()
    assert kdb.ok("file", "-n", "user:/tests/where") == path
    assert kdb.ok("file", "-N", "user", "/tests/where").strip() == path
    # A cascading name has no file of its own (libelektra: exit 2).
    assert "namespace" in kdb.fails(2, "file", "/tests/where")
    system = kdb.ok("file", "-N", "system", "/tests/where").strip()
    assert system != path
    assert system.startswith(str(kdb.root))


def test_get_follows_override_and_fallback_links_outside_the_key(kdb: Kdb) -> None:
    # libelektra's doc/tutorials/cascading.md, step by step.
    name = "/tests/tutorial/cascading/#0/current/test"
    kdb.ok("set", f"system:{name}", "hello world")
    kdb.ok("set", f"user:{name}", "hello galaxy")
    kdb.ok("set", f"dir:{name}", "hello universe")
    assert kdb.get(name) == "hello universe"
    kdb.ok("set", "system:/tests/overrides/test", "hello override")
    kdb.ok("meta-set", f"spec:{name}", "override/#0", "/tests/overrides/test")
    assert kdb.get(name) == "hello override"
    kdb.ok("set", "user:/tests/overrides/test", "hello user")
    assert kdb.get(name) == "hello user"
    # The target's own spec key links on; a circle ends; an invalid target is skipped.
    kdb.ok("meta-set", "spec:/tests/overrides/test", "override/#0", "/tests/chain/x")
    kdb.ok("set", "system:/tests/chain/x", "chained")
    kdb.ok("meta-set", "spec:/tests/chain/x", "override/#0", name)
    kdb.ok("meta-set", "spec:/tests/chain/x", "override/#1", "not a name")
    assert kdb.get(name) == "chained"


def test_get_falls_back_to_a_key_outside_the_key(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/app/port", "fallback/#0", "/tests/defaults/port")
    kdb.ok("set", "system:/tests/defaults/port", "8080")
    assert kdb.get("/tests/app/port") == "8080"
    kdb.ok("set", "user:/tests/app/port", "9090")
    assert kdb.get("/tests/app/port") == "9090"


@pytest.mark.parametrize(
    "args",
    [
        ("set", "proc:/tests/p", "1"),
        ("meta-set", "proc:/tests/p", "description", "d"),
        ("cp", "user:/tests/src", "proc:/tests/p"),
        ("mv", "user:/tests/src", "proc:/tests/p"),
        ("import", "proc:/tests/p"),
        ("set", "default:/tests/p", "1"),
    ],
)
def test_writes_to_namespaces_never_stored_are_refused(kdb: Kdb, args: tuple[str, ...]) -> None:
    kdb.ok("set", "user:/tests/src", "s")
    err = kdb.fails(2, *args, stdin="kdbOpen 2\n$end\n")
    assert "never stored" in err
    assert "/tests/p" in err
    assert kdb.get("user:/tests/src") == "s"
    kdb.fails(11, "get", "/tests/p")


def test_a_name_with_an_empty_part_is_a_key_of_its_own(kdb: Kdb) -> None:
    kdb.ok("set", "user:/%/x", "below an empty part")
    kdb.ok("set", "user:/tests/%/y", "in the middle")
    assert kdb.get("user:/%/x") == "below an empty part"
    assert kdb.get("/%/x") == "below an empty part"
    assert kdb.ok("ls", "user:/").splitlines() == ["user:/%/x", "user:/tests/%/y"]
    kdb.ok("rm", "user:/%/x")
    kdb.fails(11, "get", "user:/%/x")
    # A name whose only part is empty stays refused: it would alias the root.
    assert "collide with the root" in kdb.fails(7, "set", "user:/%", "v")
