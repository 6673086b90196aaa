"""`kdb mount`, `kdb umount` and `kdb file` with real configuration files."""

from __future__ import annotations

from cli.kdb_runner import Kdb


def test_mount_list_set_file_umount(kdb: Kdb) -> None:
    assert kdb.ok("mount") == ""
    assert kdb.ok("mount", "app.ini", "user:/tests/app", "ini") == ""
    assert kdb.ok("mount") == "app.ini on user:/tests/app with format ini\n"
    kdb.ok("set", "user:/tests/app/server/port", "8080")
    file = kdb.root / "user" / "app.ini"
    assert kdb.ok("file", "user:/tests/app/server/port") == f"{file}\n"
    assert "8080" in file.read_text()
    kdb.ok("umount", "user:/tests/app")
    assert kdb.ok("mount") == ""
    kdb.fails(11, "get", "user:/tests/app/server/port")
    assert "8080" in file.read_text()


def test_mounted_file_edited_by_hand_keeps_its_comments(kdb: Kdb) -> None:
    file = kdb.root / "user" / "hand.toml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("# the server\n[server]\nport = 8080  # default\n")
    kdb.ok("mount", "hand.toml", "user:/tests/hand")
    assert kdb.ok("mount") == "hand.toml on user:/tests/hand with format toml\n"
    assert kdb.get("user:/tests/hand/server/port") == "8080"
    kdb.ok("set", "user:/tests/hand/server/port", "9090")
    text = file.read_text()
    assert "# the server" in text
    assert "9090" in text
    assert "8080" not in text


def test_format_falls_back_to_dump(kdb: Kdb) -> None:
    kdb.ok("mount", "app.conf", "system:/tests/conf")
    kdb.ok("set", "system:/tests/conf/key", "v")
    assert (kdb.root / "system" / "app.conf").read_bytes().startswith(b"kdbOpen 2\n")


def test_mount_listing_columns(kdb: Kdb) -> None:
    kdb.ok("mount", "a.json", "user:/tests/a", "json")
    kdb.ok("mount", "b.yaml", "system:/tests/b")
    assert kdb.ok("mount").splitlines() == [
        "a.json on user:/tests/a with format json",
        "b.yaml on system:/tests/b with format yaml",
    ]
    assert kdb.ok("mount", "-23").splitlines() == ["a.json", "b.yaml"]
    assert kdb.run_bytes("mount", "-0", "-13").stdout == b"user:/tests/a\0system:/tests/b\0"


def test_cascading_mount_resolves_per_namespace(kdb: Kdb) -> None:
    kdb.ok("mount", "casc.json", "/tests/casc", "json")
    user_file = kdb.ok("file", "user:/tests/casc/key").strip()
    system_file = kdb.ok("file", "system:/tests/casc/key").strip()
    assert user_file == str(kdb.root / "user" / "casc.json")
    assert system_file == str(kdb.root / "system" / "casc.json")
    kdb.ok("set", "system:/tests/casc/key", "from system")
    assert kdb.get("/tests/casc/key") == "from system"


def test_mount_errors(kdb: Kdb) -> None:
    kdb.ok("mount", "app.ini", "user:/tests/app", "ini")
    assert "C01200" in kdb.fails(5, "mount", "app.ini", "user:/tests/other", "ini")
    assert "C01200" in kdb.fails(5, "mount", "other.ini", "user:/tests/app", "ini")
    assert "unknown plugin 'xml'" in kdb.fails(2, "mount", "a.xml", "user:/tests/x", "xml")
    assert "invalid key name" in kdb.fails(7, "mount", "a.ini", "no-namespace", "ini")
    assert "user:/tests/nothing" in kdb.fails(5, "umount", "user:/tests/nothing")
    assert kdb.ok("mount") == "app.ini on user:/tests/app with format ini\n"


def test_mount_refuses_a_file_it_cannot_read_and_records_nothing(kdb: Kdb) -> None:
    file = kdb.root / "user" / "multi.yaml"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("a: 1\n---\nb: 2\n")
    err = kdb.fails(5, "mount", "multi.yaml", "user:/tests/multi")
    assert str(file) in err
    assert "line 2" in err and "second document" in err
    assert kdb.ok("mount") == ""
    assert file.read_text() == "a: 1\n---\nb: 2\n"


def test_setting_an_ini_key_keeps_a_value_with_comment_lines(kdb: Kdb) -> None:
    file = kdb.root / "user" / "tox.ini"
    file.parent.mkdir(parents=True, exist_ok=True)
    original = (
        "[flake8]\nputty-ignore =\n  # E402 module level import\n"
        "  docs/conf.py : E402\nmax-line = 100\n[coverbase]\nbasepython = python2.7\n"
    )
    file.write_text(original)
    kdb.ok("mount", "tox.ini", "user:/tests/tox")
    kdb.ok("set", "user:/tests/tox/coverbase/basepython", "python3")
    assert file.read_text() == original.replace("python2.7", "python3")
    assert kdb.get("user:/tests/tox/flake8/putty-ignore") == "\ndocs/conf.py : E402"
