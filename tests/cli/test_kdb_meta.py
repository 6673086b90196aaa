"""`kdb meta-get`, `meta-set`, `meta-ls` and `meta-rm`."""

from __future__ import annotations

from cli.kdb_runner import Kdb


def test_meta_set_get_ls_rm(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/meta", "value")
    assert kdb.ok("meta-set", "user:/tests/meta", "description", "Hello World!") == ""
    kdb.ok("meta-set", "user:/tests/meta", "example", "42")
    assert kdb.ok("meta-get", "user:/tests/meta", "description") == "Hello World!\n"
    assert kdb.ok("meta-get", "-n", "user:/tests/meta", "example") == "42"
    assert kdb.ok("meta-ls", "user:/tests/meta").splitlines() == ["description", "example"]
    assert kdb.run_bytes("meta-ls", "-0", "user:/tests/meta").stdout == b"description\0example\0"
    kdb.ok("meta-rm", "user:/tests/meta", "example")
    assert kdb.ok("meta-ls", "user:/tests/meta") == "description\n"
    assert kdb.get("user:/tests/meta") == "value"


def test_meta_set_without_value_removes_the_metakey(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/meta", "value")
    kdb.ok("meta-set", "user:/tests/meta", "description", "gone soon")
    kdb.ok("meta-set", "user:/tests/meta", "description")
    kdb.fails(12, "meta-get", "user:/tests/meta", "description")


def test_meta_names_may_carry_the_meta_namespace(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/meta", "value")
    kdb.ok("meta-set", "user:/tests/meta", "meta:/order", "3")
    assert kdb.ok("meta-get", "user:/tests/meta", "order") == "3\n"


def test_meta_set_creates_a_missing_key_with_a_null_value(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/meta/new", "description", "made by meta-set")
    assert kdb.ok("ls", "spec:/tests/meta") == "spec:/tests/meta/new\n"
    assert kdb.ok("get", "spec:/tests/meta/new") == "\n"


def test_meta_values_with_spaces_and_newlines(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/meta", "value")
    kdb.ok("meta-set", "user:/tests/meta", "description", "line one\nline two ")
    assert kdb.ok("meta-get", "user:/tests/meta", "description") == "line one\nline two \n"


def test_meta_on_cascading_names_uses_the_resolved_key(kdb: Kdb) -> None:
    kdb.ok("set", "system:/tests/meta/c", "1")
    out = kdb.ok("meta-set", "-v", "/tests/meta/c", "description", "found it")
    assert "system:/tests/meta/c" in out
    assert kdb.ok("meta-get", "system:/tests/meta/c", "description") == "found it\n"
    assert kdb.ok("meta-get", "/tests/meta/c", "description") == "found it\n"
    assert kdb.ok("meta-ls", "/tests/meta/c") == "description\n"
    assert "ambiguous" in kdb.fails(12, "meta-set", "/tests/meta/none", "description", "x")


def test_missing_key_exits_11_missing_metakey_exits_12(kdb: Kdb) -> None:
    # meta-ls alone ends with 1 for a missing key, as libelektra's does.
    assert "'user:/tests/none' does not exist" in kdb.fails(
        11, "meta-get", "user:/tests/none", "description"
    )
    assert "'user:/tests/none' does not exist" in kdb.fails(1, "meta-ls", "user:/tests/none")
    kdb.fails(11, "meta-rm", "user:/tests/none", "description")
    kdb.ok("set", "user:/tests/bare", "1")
    err = kdb.fails(12, "meta-get", "user:/tests/bare", "description")
    assert "does not contain a metakey with the name 'description'" in err
    assert kdb.ok("meta-rm", "user:/tests/bare", "description") == ""


def test_meta_set_that_makes_the_value_invalid_exits_5(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/meta/port", "abc")
    err = kdb.fails(5, "meta-set", "user:/tests/meta/port", "check/type", "unsigned_short")
    assert "user:/tests/meta/port" in err
    assert "abc" in err
    kdb.fails(12, "meta-get", "user:/tests/meta/port", "check/type")
