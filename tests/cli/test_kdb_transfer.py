"""`kdb export` and `kdb import`: round trips in every format, merge strategies, dump files."""

from __future__ import annotations

import pytest

from cli.kdb_runner import Kdb, dump

# The example of libelektra's dump plugin README (kdbOpen 2), as it was mounted at
# system:/elektra/mountpoints: names are relative to the parent, the first key is the parent.
DUMP_V2_EXAMPLE = (
    b"kdbOpen 2\n"
    b"$key binary 0 0\n\n\n"
    b"$meta 6 0\nbinary\n\n"
    b"$meta 7 27\ncomment\nBelow are the mount points.\n"
    b"$key string 4 18\ndbus\nserialized Backend\n"
    b"$key string 11 0\ndbus/config\n\n"
    b"$meta 7 71\ncomment\nThis is a configuration for a backend,\n"
    b"see subkeys for more information\n"
    b"$key string 12 0\nfstab/config\n\n"
    b"$copymeta 11 7\ndbus/config\ncomment\n"
    b"$end\n"
)

# A kdbOpen 1 file as libelektra's old dump plugin wrote it (doc/tutorials/import.md):
# full names in the old "system/..." spelling, sizes counting the C strings' NUL bytes.
DUMP_V1_EXAMPLE = (
    b"kdbOpen 1\n"
    b"ksNew 2\n"
    b"keyNew 19 0\nsystem/backup/key1\0\n"
    b"keyMeta 7 1\nbinary\0\0\n"
    b"keyEnd\n"
    b"keyNew 19 6\nsystem/backup/key2\0value\0\n"
    b"keyMeta 8 5\ncomment\0note\0\n"
    b"keyEnd\n"
    b"ksEnd\n"
)


APP = {
    "name": "elektra web",
    "server/port": "8080",
    "server/host": "127.0.0.1",
    "motd": "two\nlines",
}


def _fill(kdb: Kdb, base: str) -> None:
    kdb.seed(base, APP)


def test_export_defaults_to_dump_and_round_trips_with_metadata(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/app")
    kdb.ok("meta-set", "user:/tests/app/server/port", "check/type", "unsigned_short")
    kdb.ok("meta-set", "user:/tests/app/server/port", "description", "where we listen")
    exported = kdb.run_bytes("export", "user:/tests/app").stdout
    assert exported.startswith(b"kdbOpen 2\n")
    assert exported == kdb.run_bytes("export", "user:/tests/app", "dump").stdout
    kdb.ok("rm", "-r", "user:/tests/app")
    assert kdb.ok("ls", "user:/tests/app") == ""
    kdb.ok("import", "user:/tests/app", stdin=exported.decode())
    assert kdb.run_bytes("export", "user:/tests/app").stdout == exported
    assert kdb.ok("meta-get", "user:/tests/app/server/port", "description") == "where we listen\n"


def test_export_leaves_out_metadata_that_comes_from_the_spec(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/app/server/port", "check/type", "unsigned_short")
    _fill(kdb, "user:/tests/app")
    exported = kdb.ok("export", "user:/tests/app")
    assert "check/type" not in exported
    assert kdb.ok("meta-get", "/tests/app/server/port", "check/type") == "unsigned_short\n"
    kdb.ok("import", "user:/tests/app", stdin=exported)


def test_export_is_relative_so_import_can_relocate(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/app")
    exported = kdb.ok("export", "user:/tests/app")
    kdb.ok("import", "system:/tests/relocated", stdin=exported)
    assert kdb.get("system:/tests/relocated/server/port") == "8080"
    assert kdb.get("system:/tests/relocated/motd") == "two\nlines"


@pytest.mark.parametrize("storage", ["ini", "json", "yaml", "toml"])
def test_round_trip_through_each_format(kdb: Kdb, storage: str) -> None:
    _fill(kdb, "user:/tests/app")
    exported = kdb.ok("export", "user:/tests/app", storage)
    assert "8080" in exported
    kdb.ok("import", "user:/tests/copy", storage, stdin=exported)
    assert kdb.ok("export", "user:/tests/copy", storage) == exported
    for name in ("server/port", "motd"):
        assert kdb.get(f"user:/tests/copy/{name}") == APP[name]


def test_import_of_libelektras_dump_v2_example(kdb: Kdb) -> None:
    kdb.ok("import", "user:/tests/mountpoints", "dump", stdin=DUMP_V2_EXAMPLE.decode())
    assert kdb.get("user:/tests/mountpoints/dbus") == "serialized Backend"
    assert kdb.get("user:/tests/mountpoints/dbus/config") == ""
    comment = "This is a configuration for a backend,\nsee subkeys for more information\n"
    assert kdb.ok("meta-get", "user:/tests/mountpoints/dbus/config", "comment") == comment
    assert kdb.ok("meta-get", "user:/tests/mountpoints/fstab/config", "comment") == comment
    assert (
        kdb.ok("meta-get", "user:/tests/mountpoints", "comment") == "Below are the mount points.\n"
    )


def test_import_of_libelektras_dump_v1_file(kdb: Kdb) -> None:
    done = kdb.run_bytes("import", "system:/backup", stdin=DUMP_V1_EXAMPLE)
    assert done.returncode == 0, done.stderr.decode()
    assert kdb.ok("ls", "system:/backup").splitlines() == [
        "system:/backup/key1",
        "system:/backup/key2",
    ]
    assert kdb.get("system:/backup/key2") == "value"
    assert kdb.ok("meta-get", "system:/backup/key2", "comment") == "note\n"


def test_get_prints_binary_values_as_hex(kdb: Kdb) -> None:
    dump = b"kdbOpen 2\n$key binary 3 3\nbin\nab\x01\n$end\n"
    assert kdb.run_bytes("import", "user:/tests/raw", stdin=dump).returncode == 0
    assert kdb.get("user:/tests/raw/bin") == "\\x61\\x62\\x1"


def test_import_aborts_on_conflicts_by_default(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/app")
    exported = kdb.ok("export", "user:/tests/app")
    kdb.ok("set", "user:/tests/app/server/port", "9090")
    kdb.ok("set", "user:/tests/app/extra", "mine")
    err = kdb.fails(12, "import", "user:/tests/app", stdin=exported)
    assert "user:/tests/app/server/port" in err
    assert kdb.get("user:/tests/app/server/port") == "9090"
    kdb.fails(12, "import", "-s", "abort", "user:/tests/app", stdin=exported)


def test_import_without_conflicts_merges(kdb: Kdb) -> None:
    _fill(kdb, "user:/tests/app")
    exported = kdb.ok("export", "user:/tests/app")
    kdb.ok("rm", "user:/tests/app/motd")
    kdb.ok("set", "user:/tests/app/extra", "mine")
    kdb.ok("import", "user:/tests/app", stdin=exported)
    assert kdb.get("user:/tests/app/motd") == "two\nlines"
    assert kdb.get("user:/tests/app/extra") == "mine"


@pytest.mark.parametrize(
    ("strategy", "port", "extra_kept"),
    [("ours", "9090", True), ("theirs", "8080", True), ("cut", "8080", False)],
)
def test_import_strategies(kdb: Kdb, strategy: str, port: str, extra_kept: bool) -> None:
    _fill(kdb, "user:/tests/app")
    exported = kdb.ok("export", "user:/tests/app")
    kdb.ok("set", "user:/tests/app/server/port", "9090")
    kdb.ok("set", "user:/tests/app/extra", "mine")
    kdb.ok("import", "--strategy", strategy, "user:/tests/app", stdin=exported)
    assert kdb.get("user:/tests/app/server/port") == port
    assert kdb.get("user:/tests/app/name") == "elektra web"
    if extra_kept:
        assert kdb.get("user:/tests/app/extra") == "mine"
    else:
        kdb.fails(11, "get", "user:/tests/app/extra")


def test_import_errors(kdb: Kdb) -> None:
    assert "'sideways' is not a valid strategy" in kdb.fails(
        2, "import", "-s", "sideways", "user:/tests/app", stdin=""
    )
    # libelektra: 7 for an unknown format, 2 for a cascading name to import into.
    assert "unknown format 'xml'" in kdb.fails(7, "import", "user:/tests/app", "xml", stdin="")
    assert "unknown format 'xml'" in kdb.fails(7, "export", "user:/tests/app", "xml")
    assert "namespace" in kdb.fails(2, "import", "/tests/app", stdin="")
    assert "namespace" in kdb.fails(12, "export", "/tests/app")
    kdb.fails(5, "import", "user:/tests/app", "dump", stdin="this is not a dump file\n")
    kdb.fails(5, "import", "user:/tests/app", "json", stdin="{not json")
    assert kdb.ok("ls", "user:/tests/app") == ""


def test_import_that_fails_validation_exits_5_and_changes_nothing(kdb: Kdb) -> None:
    kdb.ok("meta-set", "spec:/tests/checked/port", "check/range", "1-9999")
    kdb.ok("set", "user:/tests/checked/port", "8080")
    err = kdb.fails(
        5, "import", "-s", "theirs", "user:/tests/checked", "json", stdin='{"port": "70000"}'
    )
    assert "70000" in err
    assert kdb.get("user:/tests/checked/port") == "8080"


def test_export_without_elektra(kdb: Kdb) -> None:
    kdb.ok("mount", "app.ini", "user:/tests/mounted", "ini")
    assert "system:/elektra" in kdb.ok("ls", "system:/")
    full = kdb.run_bytes("export", "system:/").stdout
    assert b"elektra/mountpoints" in full
    assert b"elektra/mountpoints" not in kdb.run_bytes("export", "-E", "system:/").stdout


def test_import_takes_keys_whose_own_checks_fail_and_reports_them(kdb: Kdb) -> None:
    # What libelektra exports may carry types we do not know or values our checks refuse.
    meta = {
        "odd": {"check/type": "kdb_int"},
        "big": {"check/type": "unsigned_short"},
        "fine": {"check/type": "short"},
    }
    done = kdb(
        "import",
        "user:/tests/foreign",
        stdin=dump({"odd": "abc", "big": "70000", "fine": "5"}, meta).decode(),
    )
    assert done.code == 0, done.err
    assert "Warning C03200" in done.err
    assert "user:/tests/foreign/odd" in done.err and "kdb_int" in done.err
    assert "user:/tests/foreign/big" in done.err and "70000" in done.err
    assert "foreign/fine" not in done.err
    assert kdb.get("user:/tests/foreign/big") == "70000"
    assert kdb.ok("meta-get", "user:/tests/foreign/odd", "check/type") == "kdb_int\n"
    # `get` reports the same problem.
    assert "Warning C03200" in kdb("get", "user:/tests/foreign/big").err
