"""`kdb rm`, `mv` and `cp`, single keys and whole subtrees."""

from __future__ import annotations

from cli.kdb_runner import Kdb


def _fill(kdb: Kdb, base: str) -> None:
    kdb.seed(
        base, {"": "root", "a": "1", "a/deep": "2", "b": "3"}, {"a": {"description": "the a key"}}
    )


def test_rm_removes_one_key_and_keeps_its_children(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/rm")
    assert kdb.ok("rm", "user:/tests/rm/a") == ""
    kdb.fails(11, "get", "user:/tests/rm/a")
    assert kdb.get("user:/tests/rm/a/deep") == "2"


def test_rm_recursive_removes_the_subtree_only(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/rm")
    kdb.ok("set", "user:/tests/rmx", "sibling with a common prefix")
    kdb.ok("rm", "-r", "user:/tests/rm")
    assert kdb.ok("ls", "user:/tests/rm") == ""
    assert kdb.get("user:/tests/rmx") == "sibling with a common prefix"


def test_rm_of_a_missing_key_exits_11_unless_forced(kdb: Kdb) -> None:
    assert kdb.fails(11, "rm", "user:/tests/none") == "Did not find the key\n"
    assert kdb.fails(11, "rm", "-r", "user:/tests/none") == "Did not find any key\n"
    assert kdb.ok("rm", "-f", "user:/tests/none") == ""
    assert kdb.ok("rm", "-rf", "user:/tests/none") == ""


def test_cascading_rm_removes_the_key_the_name_resolves_to(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/cascading", "mine")
    kdb.ok("set", "system:/tests/cascading", "everyone's")
    kdb.ok("rm", "/tests/cascading")
    assert kdb.get("/tests/cascading") == "everyone's"
    kdb.ok("rm", "/tests/cascading")
    assert kdb.fails(11, "rm", "/tests/cascading") == "Did not find the key\n"
    assert kdb.ok("rm", "-f", "/tests/cascading") == ""


def test_cascading_rm_recursive_empties_every_namespace(kdb: Kdb) -> None:
    for namespace in ("user", "system", "dir"):
        kdb.ok("set", f"{namespace}:/tests/everywhere/leaf", namespace)
    kdb.ok("meta-set", "spec:/tests/everywhere/leaf", "description", "a leaf")
    kdb.ok("set", "user:/tests/elsewhere", "kept")
    kdb.ok("rm", "-r", "/tests/everywhere/")
    assert kdb.ok("ls", "/tests/everywhere") == ""
    assert kdb.get("/tests/elsewhere") == "kept"
    assert kdb.fails(11, "rm", "-r", "/tests/everywhere") == "Did not find any key\n"


def test_mv_moves_one_key_with_its_metadata(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/mv")
    kdb.ok("mv", "user:/tests/mv/a", "user:/tests/moved")
    assert kdb.get("user:/tests/moved") == "1"
    assert kdb.ok("meta-get", "user:/tests/moved", "description") == "the a key\n"
    kdb.fails(11, "get", "user:/tests/mv/a")
    assert kdb.get("user:/tests/mv/a/deep") == "2"


def test_mv_recursive_moves_the_subtree(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/mv")
    kdb.ok("mv", "-r", "user:/tests/mv", "user:/tests/elsewhere")
    assert kdb.ok("ls", "user:/tests/mv") == ""
    assert kdb.ok("ls", "user:/tests/elsewhere").splitlines() == [
        "user:/tests/elsewhere",
        "user:/tests/elsewhere/a",
        "user:/tests/elsewhere/a/deep",
        "user:/tests/elsewhere/b",
    ]
    assert kdb.get("user:/tests/elsewhere/a/deep") == "2"


def test_mv_leaves_the_metadata_of_the_spec_behind(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/spec/port", "check/type", "unsigned_short")
    kdb.ok("set", "user:/tests/spec/port", "8080")
    kdb.ok("mv", "user:/tests/spec/port", "user:/tests/free/port")
    kdb.fails(12, "meta-get", "user:/tests/free/port", "check/type")
    kdb.ok("set", "user:/tests/free/port", "no number")


def test_mv_recursive_below_itself(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/mv")
    kdb.ok("mv", "-r", "user:/tests/mv", "user:/tests/mv/inner")
    assert kdb.get("user:/tests/mv/inner") == "root"
    assert kdb.get("user:/tests/mv/inner/a/deep") == "2"
    kdb.fails(11, "get", "user:/tests/mv/b")


def test_mv_across_namespaces(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/ns/key", "travels")
    kdb.ok("mv", "user:/tests/ns/key", "system:/tests/ns/key")
    assert kdb.get("system:/tests/ns/key") == "travels"
    kdb.fails(11, "get", "user:/tests/ns/key")


def test_mv_errors(kdb: Kdb) -> None:
    assert "No key to move found below" in kdb.fails(11, "mv", "user:/tests/no", "user:/tests/x")
    kdb.ok("set", "user:/tests/parentless/child", "1")
    err = kdb.fails(11, "mv", "user:/tests/parentless", "user:/tests/x")
    assert "use -r" in err
    # Cascading arguments are invalid arguments (2), as in libelektra.
    assert "namespace" in kdb.fails(2, "mv", "/tests/parentless/child", "user:/tests/x")
    assert "namespace" in kdb.fails(2, "cp", "user:/tests/parentless/child", "/tests/x")


def test_cp_copies_one_key_and_keeps_the_source(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/cp")
    kdb.ok("cp", "user:/tests/cp/a", "user:/tests/copy")
    assert kdb.get("user:/tests/copy") == "1"
    assert kdb.get("user:/tests/cp/a") == "1"
    assert kdb.ok("meta-get", "user:/tests/copy", "description") == "the a key\n"
    assert kdb.ok("ls", "user:/tests/copy") == "user:/tests/copy\n"


def test_cp_recursive_copies_the_subtree(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/cp")
    kdb.ok("cp", "-r", "user:/tests/cp", "system:/tests/copied")
    assert kdb.ok("ls", "system:/tests/copied").splitlines() == [
        "system:/tests/copied",
        "system:/tests/copied/a",
        "system:/tests/copied/a/deep",
        "system:/tests/copied/b",
    ]
    assert kdb.ok("ls", "user:/tests/cp").count("\n") == 4


def test_cp_refuses_to_overwrite_a_different_value_without_force(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/cp")
    kdb.ok("set", "user:/tests/target/a", "another value")
    err = kdb.fails(11, "cp", "-r", "user:/tests/cp", "user:/tests/target")
    assert "user:/tests/target/a already exists and has a different value" in err
    kdb.fails(11, "get", "user:/tests/target/b")
    kdb.ok("cp", "-rf", "user:/tests/cp", "user:/tests/target")
    assert kdb.get("user:/tests/target/a") == "1"
    assert kdb.get("user:/tests/target/b") == "3"


def test_cp_over_an_equal_value_is_fine(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/cp")
    kdb.ok("set", "user:/tests/same/a", "1")
    kdb.ok("cp", "-r", "user:/tests/cp", "user:/tests/same")
    assert kdb.get("user:/tests/same/a/deep") == "2"


def test_cp_of_a_missing_key_exits_11(kdb: Kdb) -> None:
    assert "No key to copy found below" in kdb.fails(11, "cp", "user:/tests/no", "user:/tests/x")
