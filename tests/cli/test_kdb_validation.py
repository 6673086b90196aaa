"""`kdb get` and `kdb set` against metadata: warnings for bad stored values, spec patterns."""

from __future__ import annotations

from cli.kdb_runner import Kdb


def test_value_edited_by_hand_past_its_type_is_shown_with_a_warning(kdb: Kdb) -> None:
    kdb.ok("mount", "server.ini", "user:/tests/server", "ini")
    kdb.ok("set", "user:/tests/server/port", "8080")
    kdb.ok("meta-set", "user:/tests/server/port", "check/type", "unsigned_short")
    file = kdb.root / "user" / "server.ini"
    file.write_text(file.read_text().replace("8080", "99999"))

    result = kdb("get", "user:/tests/server/port")

    assert result.code == 0
    assert result.out == "99999\n"
    assert "C03200" in result.err
    assert 'key "user:/tests/server/port" with value "99999"' in result.err


def test_valid_value_gets_no_warning(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/port", "8080")
    kdb.ok("meta-set", "user:/tests/port", "check/type", "unsigned_short")
    result = kdb("get", "user:/tests/port")
    assert (result.code, result.out, result.err) == (0, "8080\n", "")


def test_array_spec_validates_an_element_set_by_its_own_name(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/nodes/#", "check/type", "unsigned_short")
    kdb.ok("set", "user:/tests/nodes/#0", "5")
    for name in ("user:/tests/nodes/#0", "/tests/nodes/#0"):
        err = kdb.fails(5, "set", name, "not-a-number")
        assert 'key "user:/tests/nodes/#0" with value "not-a-number"' in err
    assert kdb.get("user:/tests/nodes/#0") == "5"


def test_a_changed_spec_type_applies_at_once_and_is_never_stored(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/sw/k", "check/type", "short")
    kdb.ok("set", "system:/tests/sw/k", "5")
    assert "C03200" in kdb.fails(5, "set", "system:/tests/sw/k", "hello")
    kdb.ok("meta-set", "spec:/tests/sw/k", "check/type", "string")
    kdb.ok("set", "system:/tests/sw/k", "hello")
    assert kdb.get("system:/tests/sw/k") == "hello"
    assert kdb.ok("meta-get", "system:/tests/sw/k", "check/type") == "string\n"
    assert "short" not in kdb.ok("export", "system:/tests/sw")


def test_get_gives_no_default_where_the_spec_creates_none(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/d/_/port", "default", "1")
    kdb.ok("meta-set", "spec:/tests/d/list", "array", "#0")
    kdb.ok("meta-set", "spec:/tests/d/list/#", "default", "e")
    assert "Did not find key" in kdb.fails(11, "get", "/tests/d/x/port")
    assert kdb.get("/tests/d/list/#0") == "e"
    assert "Did not find key" in kdb.fails(11, "get", "/tests/d/list/#1")


def test_kdb_set_of_a_boolean_word_leaves_that_spelling_in_an_ini_file(kdb: Kdb) -> None:
    kdb.ok("mount", "switches.ini", "user:/tests/sw", "ini")
    kdb.ok("meta-set", "spec:/tests/sw/_", "check/type", "boolean")
    file = kdb.root / "user" / "switches.ini"
    for name, word in (("debug", "no"), ("color", "off"), ("verbose", "yes")):
        kdb.ok("set", f"user:/tests/sw/{name}", word)
        assert kdb.get(f"user:/tests/sw/{name}") == word
    assert file.read_text() == "debug = no\ncolor = off\nverbose = yes\n"
    kdb.ok("set", "user:/tests/sw/debug", "1")  # what a switch sends: the file's spelling wins
    assert kdb.get("user:/tests/sw/debug") == "yes"
    assert "debug = yes\n" in file.read_text()
    err = kdb.fails(5, "set", "user:/tests/sw/debug", "nope")
    assert 'key "user:/tests/sw/debug" with value "nope" failed: not a boolean' in err
    assert kdb.get("user:/tests/sw/debug") == "yes"
