from pathlib import Path

import pytest

from elektraweb.kdb import KDB, Key
from elektraweb.kdb.errors import MountError
from elektraweb.kdb.mounts import Mountpoint, MountTable, Paths
from support.keys import existing_key


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.from_environ(
        {"KDB_ROOT": str(tmp_path / "root"), "HOME": str(tmp_path / "home")}, cwd=tmp_path / "cwd"
    )


def test_namespace_roots_without_kdb_root(tmp_path: Path) -> None:
    paths = Paths.from_environ({"HOME": str(tmp_path / "home")}, cwd=tmp_path / "work")
    assert paths.resolve("app.toml", "system") == Path("/etc/kdb/app.toml")
    assert paths.resolve("app.toml", "user") == tmp_path / "home/.config/app.toml"
    assert paths.resolve("app.toml", "dir") == tmp_path / "work/.dir/app.toml"
    assert paths.resolve("app.toml", "spec") == Path("/usr/share/elektra/specification/app.toml")


def test_absolute_paths_follow_libelektras_resolver(tmp_path: Path) -> None:
    paths = Paths.from_environ({"HOME": str(tmp_path / "home")}, cwd=tmp_path / "work")
    assert paths.resolve("/srv/app.ini", "system") == Path("/srv/app.ini")
    assert paths.resolve("/srv/app.ini", "spec") == Path("/srv/app.ini")
    assert paths.resolve("/srv/app.ini", "user") == tmp_path / "home/srv/app.ini"
    assert paths.resolve("/srv/app.ini", "dir") == tmp_path / "work/srv/app.ini"


def test_kdb_root_moves_every_namespace_root_but_not_absolute_paths(tmp_path: Path) -> None:
    paths = Paths.from_environ({"KDB_ROOT": str(tmp_path), "HOME": "/nonexistent"}, cwd=Path("/"))
    for namespace in ("system", "user", "dir", "spec"):
        assert paths.resolve("a/b.json", namespace) == tmp_path / namespace / "a/b.json"
    assert paths.resolve("/srv/app.ini", "system") == Path("/srv/app.ini")
    assert paths.resolve("../escape.ini", "user") == tmp_path / "escape.ini"


def test_every_key_belongs_to_the_deepest_mount_above_it(paths: Paths) -> None:
    table = MountTable([Mountpoint("user:/app", "app.json", "json")], paths)
    assert table.mount_of("user:/app/port").file == paths.user / "app.json"
    assert table.mount_of("user:/app").file == paths.user / "app.json"
    assert table.mount_of("user:/apple").file == paths.user / "default.ecf"
    assert table.mount_of("system:/app").file == paths.system / "default.ecf"
    assert table.mount_of("system:/elektra/mountpoints").file == paths.system / "elektra.ecf"
    with pytest.raises(MountError, match="memory only"):
        table.mount_of("proc:/app")


def test_a_cascading_mountpoint_mounts_spec_dir_user_and_system(paths: Paths) -> None:
    table = MountTable([Mountpoint("/app", "app.toml", "toml")], paths)
    mounted = {m.name: m.file for m in table.mounts if not m.builtin}
    assert mounted == {
        "spec:/app": paths.spec / "app.toml",
        "dir:/app": paths.dir / "app.toml",
        "user:/app": paths.user / "app.toml",
        "system:/app": paths.system / "app.toml",
    }
    assert [(r.mount.name, r.start) for r in table.regions("/app/server")] == [
        ("spec:/app", "spec:/app/server"),
        ("dir:/app", "dir:/app/server"),
        ("user:/app", "user:/app/server"),
        ("system:/app", "system:/app/server"),
    ]
    assert [(r.mount.name, r.start) for r in table.regions("user:/")] == [
        ("user:/", "user:/"),
        ("user:/app", "user:/app"),
    ]


def test_an_absolute_cascading_mount_keeps_one_file_for_system_only(paths: Paths) -> None:
    table = MountTable([Mountpoint("/app", "/srv/app.toml", "toml")], paths)
    mounted = {m.name: m.file for m in table.mounts if not m.builtin}
    assert mounted["system:/app"] == Path("/srv/app.toml")
    assert "spec:/app" not in mounted


@pytest.mark.parametrize(
    ("mountpoint", "reason"),
    [
        ("user:/", "root of a namespace"),
        ("/", "root of a namespace"),
        ("system:/elektra/x", "reserved"),
        ("/elektra", "reserved"),
        ("proc:/app", "memory only"),
        ("default:/app", "memory only"),
        ("meta:/app", "never stored"),
    ],
)
def test_mountpoints_that_cannot_be_mounted(paths: Paths, mountpoint: str, reason: str) -> None:
    with pytest.raises(MountError, match=reason):
        MountTable([], paths).adding(Mountpoint(mountpoint, "x.json", "json"))


def test_unknown_format_is_refused(paths: Paths) -> None:
    with pytest.raises(MountError, match="unknown storage format 'xml'"):
        MountTable([], paths).adding(Mountpoint("user:/app", "x.xml", "xml"))


def test_mount_list_and_umount_are_kept_in_the_bootstrap_file(paths: Paths) -> None:
    kdb = KDB(paths)
    assert kdb.mounts() == []
    kdb.mount("app.json", "user:/app")
    assert kdb.mounts() == [Mountpoint("user:/app", "app.json", "json")]
    assert (paths.system / "elektra.ecf").exists()
    other = KDB(paths)  # another process would see the same table
    assert other.mounts() == [Mountpoint("user:/app", "app.json", "json")]
    assert other.file_of("user:/app/port") == paths.user / "app.json"
    keys = other.get("system:/elektra/mountpoints")
    assert existing_key(keys, "system:/elektra/mountpoints/user:\\/app/path").value == "app.json"
    other.umount("user:/app")
    assert kdb.mounts() == []
    assert kdb.file_of("user:/app/port") == paths.user / "default.ecf"


def test_the_same_mountpoint_or_file_cannot_be_mounted_twice(paths: Paths) -> None:
    kdb = KDB(paths)
    kdb.mount("app.json", "/app")
    with pytest.raises(MountError, match="user:/app is already mounted"):
        kdb.mount("other.json", "user:/app")
    with pytest.raises(MountError, match=r"app\.json at user:/other: that file is already mounted"):
        kdb.mount("app.json", "user:/other")
    with pytest.raises(MountError, match=r"default\.ecf at user:/third: .* mounted at user:/$"):
        kdb.mount("default.ecf", "user:/third", "dump")
    with pytest.raises(MountError, match="nothing is mounted there"):
        kdb.umount("user:/app")  # mounted as /app, not as user:/app
    assert kdb.mounts() == [Mountpoint("/app", "app.json", "json")]


def test_keys_go_to_their_mounts_and_everything_else_to_the_default_storage(
    paths: Paths,
) -> None:
    kdb = KDB(paths)
    kdb.mount("app.json", "user:/app")
    keys = kdb.get("/")
    keys.add(Key("user:/app/port", "8080"))
    keys.add(Key("user:/other/port", "80"))
    keys.add(Key("system:/global", "1"))
    written = kdb.set(keys, "/")
    assert sorted(written) == sorted(
        [paths.user / "app.json", paths.user / "default.ecf", paths.system / "default.ecf"]
    )
    assert b"8080" in (paths.user / "app.json").read_bytes()
    assert b"8080" not in (paths.user / "default.ecf").read_bytes()
    assert existing_key(KDB(paths).get("user:/other"), "user:/other/port").value == "80"


def test_umount_keeps_the_file_and_its_keys_leave_the_kdb(paths: Paths) -> None:
    kdb = KDB(paths)
    kdb.mount("app.json", "user:/app")
    keys = kdb.get("user:/app")
    keys.add(Key("user:/app/port", "8080"))
    kdb.set(keys, "user:/app")
    kdb.umount("user:/app")
    assert (paths.user / "app.json").exists()
    assert kdb.get("user:/app").lookup("user:/app/port") is None
    kdb.mount("app.json", "user:/app")
    assert existing_key(kdb.get("user:/app"), "user:/app/port").value == "8080"


def test_relative_mounts_resolve_per_namespace_under_home_and_cwd(tmp_path: Path) -> None:
    paths = Paths.from_environ({"HOME": str(tmp_path / "home")}, cwd=tmp_path / "cwd")
    # Without KDB_ROOT the system root is /etc/kdb; only user and dir files are touched here.
    paths = Paths(tmp_path / "etc", paths.user, paths.dir, tmp_path / "spec", paths.home, paths.cwd)
    kdb = KDB(paths)
    kdb.mount("app.json", "/app")
    keys = kdb.get("/app")
    keys.add(Key("user:/app/a", "u"))
    keys.add(Key("dir:/app/a", "d"))
    kdb.set(keys, "/app")
    assert b'"u"' in (tmp_path / "home/.config/app.json").read_bytes()
    assert b'"d"' in (tmp_path / "cwd/.dir/app.json").read_bytes()


def test_an_absolute_system_file_is_that_file_even_with_kdb_root(
    paths: Paths, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "srv" / "app.json"
    kdb = KDB(paths)
    kdb.mount(str(elsewhere), "system:/app")
    keys = kdb.get("system:/app")
    keys.add(Key("system:/app/port", "80"))
    assert kdb.set(keys, "system:/app") == [elsewhere]
    assert kdb.file_of("system:/app/port") == elsewhere
    with pytest.raises(MountError, match="give a namespace"):
        kdb.file_of("/app/port")


def test_plugins_and_left_out_namespaces_are_kept_in_the_mount_table(paths: Paths) -> None:
    kdb = KDB(paths)
    kdb.mount("spec.dump", "spec:/site", "dump")
    kdb.mount("site.dump", "/site", "dump", ("validation",), replace=True)
    expected = Mountpoint("/site", "site.dump", "dump", ("validation",), ("dir", "user", "system"))
    assert KDB(paths).mounts() == [expected, Mountpoint("spec:/site", "spec.dump", "dump")]
    assert kdb.file_of("spec:/site/x") == paths.spec / "spec.dump"
    assert kdb.file_of("user:/site/x") == paths.user / "site.dump"
    # replace: mounting again swaps the entry instead of refusing it
    kdb.mount("other.dump", "/site", "dump", replace=True)
    assert kdb.file_of("system:/site/x") == paths.system / "other.dump"
    with pytest.raises(MountError, match="already mounted"):
        kdb.mount("third.dump", "/site", "dump")


def test_a_broken_namespace_list_in_the_mount_table_is_refused(paths: Paths) -> None:
    kdb = KDB(paths)
    kdb.mount("site.dump", "/site", "dump")
    keys = kdb.get("system:/elektra/mountpoints")
    keys.add(Key("system:/elektra/mountpoints/\\/site/only", "user proc"))
    with pytest.raises(MountError, match="bad 'only'"):
        kdb.set(keys, "system:/elektra/mountpoints")
