"""libelektra's documented `kdb` behaviour (doc/help/kdb-*.md, doc/tutorials), in our words.

Each test states one documented behaviour: the command, its exit code and its output.
"""

from __future__ import annotations

from cli.kdb_runner import Kdb

NOT_A_URL = {
    "check/validation": "https?://.*\\..*",
    "check/validation/match": "LINE",
    "check/validation/message": "no web address",
}


def test_get_verbose_traces_the_lookup_as_libelektra_does(kdb: Kdb) -> None:
    kdb.ok("mount", "shop.ecf", "user:/tests/shop", "dump")
    kdb.ok("set", "user:/tests/shop/owner", "Ada")
    kdb.ok("set", "user:/tests/shop/till", "3")
    out = kdb.ok("get", "-v", "/tests/shop/owner")
    assert out == (
        "got 2 keys\n"
        "searching spec:/tests/shop/owner, found: <nothing>, options: KDB_O_CALLBACK\n"
        "    searching proc:/tests/shop/owner, found: <nothing>\n"
        "    searching dir:/tests/shop/owner, found: <nothing>\n"
        "    searching user:/tests/shop/owner, found: user:/tests/shop/owner\n"
        "The resulting keyname is user:/tests/shop/owner\n"
        "The resulting value size is 4\n"
        "Ada\n"
    )


def test_get_verbose_of_a_default_stops_at_the_spec_key(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/shop/currency", "default", "EUR")
    out = kdb.ok("get", "-v", "/tests/shop/currency")
    assert out.splitlines()[1:] == [
        "searching spec:/tests/shop/currency, found: spec:/tests/shop/currency, "
        "options: KDB_O_CALLBACK",
        "The key was not found in any other namespace, taking the default",
        "The resulting keyname is default:/tests/shop/currency",
        "The resulting value size is 4",
        "EUR",
    ]


def test_ls_verbose_counts_the_keys_of_the_mount_point(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/shelf/a", "1")
    kdb.ok("set", "user:/tests/shelf/b", "2")
    out = kdb.ok("ls", "-v", "/tests/shelf/")
    assert out.splitlines()[:2] == [
        "size of all keys in mount point: 2",
        "size of requested keys: 2",
    ]


def test_set_force_skips_the_spec_and_validate_finds_it(kdb: Kdb) -> None:
    kdb.ok("mount", "stock.ecf", "/tests/stock", "range", "dump")
    kdb.ok("set", "user:/tests/stock/apples", "5")
    kdb.ok("meta-set", "spec:/tests/stock/_", "check/range", "1-10")
    assert kdb.ok("validate", "/tests/stock") == ""
    assert "C03200" in kdb.fails(5, "set", "user:/tests/stock/pears", "11")
    out = kdb.ok("set", "-f", "user:/tests/stock/pears", "11")
    assert out == 'Create a new key user:/tests/stock/pears with string "11"\n'
    err = kdb.fails(11, "validate", "/tests/stock")
    assert "error C03200" in err and "user:/tests/stock/pears" in err
    assert "apples" not in err
    kdb.ok("rm", "-r", "/tests/stock/")
    kdb.ok("umount", "/tests/stock")


def test_mount_takes_plugins_after_or_before_the_format(kdb: Kdb) -> None:
    kdb.ok("mount", "checked.dump", "/tests/checked", "dump", "validation")
    kdb.ok("mount", "ranged.ecf", "user:/tests/ranged", "range", "dump")
    listing = kdb.ok("mount")
    assert "checked.dump on /tests/checked with format dump" in listing
    assert "ranged.ecf on user:/tests/ranged with format dump" in listing
    kdb.ok("umount", "/tests/checked")
    kdb.ok("umount", "user:/tests/ranged")
    assert kdb.ok("mount") == ""


def test_mount_refuses_unknown_plugins_and_two_formats(kdb: Kdb) -> None:
    err = kdb.fails(2, "mount", "x.dump", "/tests/x", "dump", "xerces")
    assert "unknown plugin 'xerces'" in err
    err = kdb.fails(2, "mount", "x.dump", "/tests/x", "dump", "ini")
    assert "two storage formats" in err
    assert kdb.ok("mount") == ""


def test_spec_mount_mounts_what_the_specification_names(kdb: Kdb) -> None:
    kdb.ok("mount", "site.dump", "spec:/tests/site", "dump")
    spec = "[]\nmountpoint = site.dump\ninfos/plugins = dump validation\n\n[links/_]\n"
    spec += "".join(f"{name} = {value}\n" for name, value in NOT_A_URL.items())
    kdb.ok("import", "spec:/tests/site", "ni", stdin=spec)
    assert kdb.ok("meta-ls", "spec:/tests/site") == "infos/plugins\nmountpoint\n"
    kdb.ok("spec-mount", "/tests/site")
    for namespace in ("user", "system", "dir"):
        assert kdb.ok("file", f"{namespace}:/tests/site").strip().endswith("/site.dump")
    err = kdb.fails(5, "set", "user:/tests/site/links/home", "not a link")
    assert "Validation Syntactic" in err and "no web address" in err and "C03100" in err
    kdb.ok("set", "user:/tests/site/links/home", "https://example.org")
    kdb.ok("spec-mount", "/tests/site")  # a second spec-mount replaces the first
    kdb.ok("umount", "/tests/site")
    kdb.ok("umount", "spec:/tests/site")
    assert kdb.ok("mount") == ""


def test_spec_mount_needs_a_specification(kdb: Kdb) -> None:
    assert "mountpoint" in kdb.fails(11, "spec-mount", "/tests/nothing")
    assert "cascading" in kdb.fails(2, "spec-mount", "user:/tests/nothing")


def test_trigger_error_fails_the_write_with_its_code(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/trap/door", "trigger/error", "C03200")
    assert "C03200" in kdb.fails(5, "set", "user:/tests/trap/door", "open")
    err = kdb.fails(11, "get", "/tests/trap/door")
    assert err == "Did not find key '/tests/trap/door'\n"


def test_cascading_meta_set_uses_the_existing_key(kdb: Kdb) -> None:
    err = kdb.fails(12, "meta-set", "/tests/lamp", "colour", "red")
    assert err == "Aborting: A cascading write to a non-existent key is ambiguous.\n"
    err = kdb.fails(12, "set", "/tests/lamp", "on")
    assert err == "Aborting: A cascading write to a non-existent key is ambiguous.\n"
    kdb.ok("set", "system:/tests/lamp", "on")
    assert kdb.ok("meta-set", "/tests/lamp", "colour", "red") == "Using name system:/tests/lamp\n"
    assert kdb.ok("meta-get", "system:/tests/lamp", "colour") == "red\n"
    out = kdb.ok("meta-set", "system:/tests/lamp", "colour")
    assert out == "Only two arguments, thus deleting metaname colour\n"


def test_mini_exports_name_value_lines(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/flat", "top")
    kdb.ok("set", "user:/tests/flat/deep/er", "a=b;c")
    out = kdb.ok("export", "user:/tests/flat", "mini")
    assert out == "=top\ndeep/er=a\\=b\\;c\n"
    kdb.ok("import", "user:/tests/copy", "mini", stdin=out + "# a comment\nnew = one\n")
    assert kdb.get("user:/tests/copy/deep/er") == "a=b;c"
    assert kdb.get("user:/tests/copy/new") == "one"


def test_mini_mount_keeps_values(kdb: Kdb) -> None:
    kdb.ok("mount", "flat.ini", "user:/tests/mini", "mini")
    kdb.ok("set", "user:/tests/mini/key", "value")
    path = kdb.ok("file", "user:/tests/mini").strip()
    with open(path, "a", encoding="utf-8") as file:
        file.write("level1/level2 = 👾\n")
    assert kdb.get("user:/tests/mini/level1/level2") == "👾"


def test_ni_round_trips_values_and_metadata(kdb: Kdb) -> None:
    kdb.ok("mount", "meta.ini", "spec:/tests/ni", "ni")
    kdb.ok("meta-set", "spec:/tests/ni/key", "check/type", "char")
    kdb.ok("set", "spec:/tests/ni/key", "a value; with = signs")
    assert kdb.ok("meta-ls", "spec:/tests/ni/key") == "check/type\n"
    assert kdb.get("spec:/tests/ni/key") == "a value; with = signs"
    exported = kdb.ok("export", "spec:/tests/ni", "ni")
    kdb.ok("import", "spec:/tests/copy", "ni", stdin=exported)
    assert kdb.get("spec:/tests/copy/key") == "a value; with = signs"
    assert kdb.ok("meta-get", "spec:/tests/copy/key", "check/type") == "char\n"


def test_ni_reads_continued_and_quoted_values(kdb: Kdb) -> None:
    text = ';Ni1\n[]\ndescription = two \\\n  words ; comment\n[x]\nquoted = " padded "\n'
    kdb.ok("import", "spec:/tests/nick", "ni", stdin=text)
    assert kdb.ok("meta-get", "spec:/tests/nick", "description") == "two words\n"
    assert kdb.ok("meta-get", "spec:/tests/nick/x", "quoted") == " padded \n"
    err = kdb.fails(5, "import", "spec:/tests/nick", "ni", stdin="[a]\n[[b]]\n")
    assert "nested sections" in err


def test_ipaddr_and_port_checks_refuse_bad_values(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/net/host", "check/ipaddr", "ipv4")
    kdb.ok("meta-set", "spec:/tests/net/port", "check/port", "")
    err = kdb.fails(5, "set", "user:/tests/net/host", "::1")
    assert "Validation Semantic" in err and "C03200" in err and "not an IPv4 address" in err
    assert "C03200" in kdb.fails(5, "set", "user:/tests/net/host", "127.0.0.1337")
    kdb.ok("set", "user:/tests/net/host", "127.0.0.1")
    assert "not within 0 - 65535" in kdb.fails(5, "set", "user:/tests/net/port", "70000")
    assert "no-such-service" in kdb.fails(5, "set", "user:/tests/net/port", "no-such-service")
    kdb.ok("set", "user:/tests/net/port", "8080")
    assert kdb.get("/tests/net/port") == "8080"


def test_meta_show_prints_names_with_values(kdb: Kdb) -> None:
    kdb.ok("set", "user:/tests/shown", "x")
    kdb.ok("meta-set", "user:/tests/shown", "unit", "cm")
    kdb.ok("meta-set", "user:/tests/shown", "description", "a length")
    assert kdb.ok("meta-show", "/tests/shown") == "description: a length\nunit: cm\n"
    assert "does not exist" in kdb.fails(11, "meta-show", "/tests/unshown")


def _tree_for_completion(kdb: Kdb) -> None:
    for name in ("alpha", "beta/gamma", "beta/delta/epsilon/zeta", "#1"):
        kdb.ok("set", f"user:/tests/tree/{name}", "v")


def test_complete_offers_namespaces(kdb: Kdb) -> None:
    assert kdb.ok("complete", "us", "--max-depth=1") == "user:/\n"
    assert kdb.ok("complete", "sys", "--max-depth=1") == "system:/\n"
    roots = kdb.ok("complete", "--max-depth=1").split()
    assert roots == ["spec:/", "proc:/", "dir:/", "user:/", "system:/"]


def test_complete_marks_nodes_and_leaves(kdb: Kdb) -> None:
    _tree_for_completion(kdb)
    assert kdb.ok("complete", "/tests/tree", "--max-depth=1") == "user:/tests/tree/\n"
    assert kdb.ok("complete", "/tests/tree/", "--max-depth=1").splitlines() == [
        "user:/tests/tree/#1",
        "user:/tests/tree/alpha",
        "user:/tests/tree/beta/",
    ]
    assert kdb.ok("complete", "user:/tests/tree/b", "--max-depth=1") == "user:/tests/tree/beta/\n"


def test_complete_between_depths(kdb: Kdb) -> None:
    _tree_for_completion(kdb)
    out = kdb.ok("complete", "/tests/tree/", "--min-depth=2", "--max-depth=3")
    assert out.splitlines() == ["user:/tests/tree/beta/delta/epsilon/"]
    assert "larger" in kdb.fails(2, "complete", "/tests/tree", "-m", "2", "-M", "2")


def test_kdb_test_checks_a_mount_and_restores_its_keys(kdb: Kdb) -> None:
    kdb.ok("mount", "suite.ini", "user:/tests/suite", "mini")
    kdb.ok("set", "user:/tests/suite/kept", "as before")
    out = kdb.ok("test", "user:/tests/suite", "binary", "naming")
    assert out.splitlines() == [
        "Doing binary tests",
        "Doing naming tests",
        "Test suite is now finished.",
        "Now restoring the original keyset.",
    ]
    assert kdb.ok("ls", "user:/tests/suite") == "user:/tests/suite/kept\n"
    assert kdb.get("user:/tests/suite/kept") == "as before"


def test_kdb_test_reports_what_the_database_refused(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/strict/string", "check/type", "long")
    err = kdb.fails(11, "test", "user:/tests/strict", "string", "umlauts")
    assert "String test failed for user:/tests/strict/string" in err
    assert "C03200" in err
    assert "Umlauts test failed" not in err
    assert err.endswith("We got 6 errors in 10 test cases.\n")
    assert "does not exist" in kdb.fails(2, "test", "user:/tests/strict", "speed")


def test_kdb_test_of_a_dump_mount_keeps_every_binary_value_even_an_empty_one(kdb: Kdb) -> None:
    kdb.ok("mount", "suite.ecf", "user:/tests/dump", "dump")
    assert kdb.ok("test", "user:/tests/dump", "binary").startswith("Doing binary tests\n")
