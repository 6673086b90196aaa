from pathlib import Path

import pytest

from elektraweb.kdb import KDB, Key, KeySet
from elektraweb.kdb.errors import KDBError, MountError, ResourceError, ValidationError
from elektraweb.kdb.mounts import Paths
from elektraweb.kdb.sidecar import sidecar_path
from elektraweb.kdb.storage import EXTENSIONS, FORMATS, get_format
from support.keys import existing_key


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    return Paths.from_environ(
        {"KDB_ROOT": str(tmp_path / "root"), "HOME": str(tmp_path / "home")}, cwd=tmp_path / "cwd"
    )


@pytest.fixture
def kdb(paths: Paths) -> KDB:
    kdb = KDB(paths)
    kdb.mount("app.ecf", "user:/app", "dump")
    return kdb


def store(kdb: KDB, parent: str, *keys: Key) -> list[Path]:
    ks = kdb.get(parent)
    ks.extend(keys)
    return kdb.set(ks, parent)


def values(ks: KeySet, below: str) -> dict[str, object]:
    return {key.name: key.value for key in ks.below(below)}


@pytest.mark.parametrize("fmt", FORMATS)
def test_keys_round_trip_through_every_format(paths: Paths, fmt: str) -> None:
    kdb = KDB(paths)
    kdb.mount(f"app.{EXTENSIONS[fmt]}", "user:/app", fmt)
    written = store(
        kdb,
        "user:/app",
        Key("user:/app/server/port", "8080"),
        Key("user:/app/server/host", "example.org"),
        Key("user:/app/name", "a name with spaces"),
    )
    assert written == [paths.user / f"app.{EXTENSIONS[fmt]}"]
    again = KDB(paths).get("user:/app")
    assert existing_key(again, "user:/app/server/port").value == "8080"
    assert existing_key(again, "user:/app/server/host").value == "example.org"
    assert existing_key(again, "user:/app/name").value == "a name with spaces"


@pytest.mark.parametrize("fmt", FORMATS)
def test_metadata_a_format_cannot_hold_lives_in_a_sidecar(paths: Paths, fmt: str) -> None:
    kdb = KDB(paths)
    kdb.mount(f"app.{EXTENSIONS[fmt]}", "user:/app", fmt)
    meta = {"check/type": "unsigned_short", "description": "the port", "x/custom": "1"}
    store(kdb, "user:/app", Key("user:/app/port", "8080", meta))
    file = paths.user / f"app.{EXTENSIONS[fmt]}"
    # dump and ni hold any metadata; the other formats have no place for these names
    assert sidecar_path(file).exists() == (fmt not in ("dump", "ni"))
    port = existing_key(KDB(paths).get("user:/app"), "user:/app/port")
    assert (port.value, port.meta) == ("8080", meta)

    ks = kdb.get("user:/app")
    existing_key(ks, "user:/app/port").meta.clear()
    kdb.set(ks, "user:/app")
    assert not sidecar_path(file).exists()
    assert existing_key(KDB(paths).get("user:/app"), "user:/app/port").meta == {}


def test_an_edit_through_the_kdb_keeps_the_rest_of_the_file(paths: Paths) -> None:
    file = paths.user / "app.toml"
    file.parent.mkdir(parents=True)
    original = b'# the app\nname = "demo"  # shown in the title\n\n[server]\nport = 80\n'
    file.write_bytes(original)
    kdb = KDB(paths)
    kdb.mount("app.toml", "user:/app")
    ks = kdb.get("user:/app")
    existing_key(ks, "user:/app/server/port").value = "8080"
    kdb.set(ks, "user:/app")
    assert file.read_bytes() == original.replace(b"port = 80", b"port = 8080")


@pytest.mark.parametrize("declared", ["own", "spec"])
def test_keys_put_back_after_a_removal_keep_their_type_in_the_file(
    paths: Paths, declared: str
) -> None:
    """An undone delete writes the keys anew: a number stays a number, whether its own
    metadata or its specification's says so (the specification's is not stored with it)."""
    file = paths.system / "app.toml"
    file.parent.mkdir(parents=True)
    original = b'# the app\nname = "demo"\n\n[db]\nport = 5432\nssl = true\n'
    file.write_bytes(original)
    kdb = KDB(paths)
    kdb.mount("spec.ecf", "spec:/app", "dump")
    kdb.mount("app.toml", "system:/app")
    types = {"port": "unsigned_short", "ssl": "boolean"}
    if declared == "spec":
        for name, kind in types.items():
            store(kdb, "spec:/app", Key(f"spec:/app/db/{name}", None, {"check/type": kind}))
    else:
        ks = kdb.get("system:/app")
        for name, kind in types.items():
            existing_key(ks, f"system:/app/db/{name}").meta["check/type"] = kind
        kdb.set(ks, "system:/app")
    ks = kdb.get("system:/app")
    removed = [key.copy() for key in ks.below("system:/app/db")]
    ks.cut("system:/app/db")
    kdb.set(ks, "system:/app")
    assert b"5432" not in file.read_bytes()

    ks = kdb.get("system:/app")
    ks.extend(removed)
    kdb.set(ks, "system:/app")
    assert file.read_bytes() == original
    assert existing_key(KDB(paths).get("system:/app"), "system:/app/db/port").value == "5432"


def test_get_hands_out_copies(kdb: KDB) -> None:
    store(kdb, "user:/app", Key("user:/app/a", "1"))
    first = kdb.get("user:/app")
    existing_key(first, "user:/app/a").value = "changed"
    first.add(Key("user:/app/b", "2"))
    assert values(kdb.get("user:/app"), "user:/app") == {"user:/app/a": "1"}


def test_a_repeated_get_of_unchanged_files_does_not_parse_them_again(
    kdb: KDB, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store(kdb, "user:/app", Key("user:/app/a", "1"))
    dump = get_format("dump")
    parsed: list[int] = []
    real_read = dump.read

    def counting_read(data: bytes, mountpoint: str):  # type: ignore[no-untyped-def]
        parsed.append(len(data))
        return real_read(data, mountpoint)

    monkeypatch.setattr(dump, "read", counting_read)
    for _ in range(3):
        assert values(kdb.get("/"), "user:/app") == {"user:/app/a": "1"}
    assert parsed == []
    (paths.user / "app.ecf").write_bytes((paths.user / "app.ecf").read_bytes())
    kdb.get("user:/app")
    assert parsed == [], "same content, only the stat changed: no parse needed"


def test_a_file_changed_by_someone_else_is_read_again(kdb: KDB, paths: Paths) -> None:
    store(kdb, "user:/app", Key("user:/app/a", "1"))
    assert values(kdb.get("user:/app"), "user:/app") == {"user:/app/a": "1"}
    store(KDB(paths), "user:/app", Key("user:/app/a", "2"))
    assert values(kdb.get("user:/app"), "user:/app") == {"user:/app/a": "2"}


def test_only_files_whose_keys_changed_are_written(kdb: KDB, paths: Paths) -> None:
    kdb.mount("other.ecf", "user:/other", "dump")
    store(kdb, "user:/", Key("user:/app/a", "1"), Key("user:/other/b", "2"))
    before = (paths.user / "other.ecf").stat()
    written = store(kdb, "user:/", Key("user:/app/a", "changed"))
    assert written == [paths.user / "app.ecf"]
    after = (paths.user / "other.ecf").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert kdb.set(kdb.get("/"), "/") == []


def test_set_removes_keys_missing_below_the_parent_and_keeps_the_rest(kdb: KDB) -> None:
    store(
        kdb,
        "user:/app",
        Key("user:/app/server/port", "80"),
        Key("user:/app/server/host", "h"),
        Key("user:/app/name", "n"),
    )
    ks = kdb.get("user:/app/server")
    ks.remove("user:/app/server/host")
    kdb.set(ks, "user:/app/server")
    assert values(kdb.get("user:/app"), "user:/app") == {
        "user:/app/name": "n",
        "user:/app/server/port": "80",
    }


def test_set_needs_a_get_of_the_files_it_writes(paths: Paths) -> None:
    kdb = KDB(paths)
    with pytest.raises(KDBError, match="call get before set"):
        kdb.set(KeySet([Key("user:/a", "1")]), "user:/")
    kdb.get("system:/")
    with pytest.raises(KDBError, match="call get first"):
        kdb.set(KeySet([Key("user:/a", "1")]), "user:/")


def test_proc_keys_stay_in_memory_and_default_keys_are_never_stored(kdb: KDB, paths: Paths) -> None:
    written = store(kdb, "/", Key("proc:/app/a", "p"), Key("default:/app/a", "d"))
    assert written == []
    assert existing_key(kdb.get("/app"), "proc:/app/a").value == "p"
    assert KDB(paths).get("/app").lookup("proc:/app/a") is None


def test_a_key_without_namespace_cannot_be_stored(kdb: KDB) -> None:
    with pytest.raises(KDBError, match="/app/a: give the key a namespace"):
        store(kdb, "/", Key("/app/a", "1"))


def test_a_malformed_file_is_an_error_naming_it(kdb: KDB, paths: Paths) -> None:
    (paths.user / "bad.json").parent.mkdir(parents=True, exist_ok=True)
    (paths.user / "bad.json").write_bytes(b"{ not json")
    with pytest.raises(MountError, match=r"bad\.json as json .*line 1"):
        kdb.mount("bad.json", "user:/bad")
    assert "user:/bad" not in [mountpoint.name for mountpoint in kdb.mounts()]
    (paths.user / "bad.json").write_bytes(b"{}")
    kdb.mount("bad.json", "user:/bad")
    (paths.user / "bad.json").write_bytes(b"{ not json")  # broken after mounting
    with pytest.raises(ResourceError, match=r"bad\.json"):
        kdb.get("user:/bad")
    assert kdb.get("user:/app") is not None  # the other mounts still work


def test_spec_metadata_is_applied_on_get_and_not_stored_with_the_key(
    kdb: KDB, paths: Paths
) -> None:
    store(kdb, "spec:/app", Key("spec:/app/port", None, {"check/type": "unsigned_short"}))
    store(kdb, "user:/app", Key("user:/app/port", "8080"))
    port = existing_key(kdb.get("user:/app"), "user:/app/port")
    assert port.meta["check/type"] == "unsigned_short"
    assert b"unsigned_short" not in (paths.user / "app.ecf").read_bytes()
    assert not sidecar_path(paths.user / "app.ecf").exists()


def test_spec_metadata_of_a_spec_changed_in_the_same_set_is_not_stored(
    kdb: KDB, paths: Paths
) -> None:
    store(kdb, "spec:/app", Key("spec:/app/port", None, {"check/type": "short"}))
    store(kdb, "user:/app", Key("user:/app/port", "5", {"description": "own"}))
    # One get of both, the spec key changed, one set: the key still carries the old
    # spec's metadata from the get, which must not land in its file.
    ks = kdb.get("/app")
    ks.add(Key("spec:/app/port", None, {"check/type": "string"}))
    kdb.set(ks, "/app")
    assert b"short" not in (paths.user / "app.ecf").read_bytes()
    ks = kdb.get("/app")
    existing_key(ks, "user:/app/port").value = "hello"  # a string now, no longer a short
    kdb.set(ks, "/app")
    port = existing_key(kdb.get("/app"), "user:/app/port")
    assert port.value == "hello"
    assert port.meta == {"check/type": "string", "description": "own"}
    # Removing the spec key's metadata altogether leaves the key with its own only.
    ks = kdb.get("/app")
    ks.add(Key("spec:/app/port"))
    kdb.set(ks, "/app")
    assert existing_key(kdb.get("/app"), "user:/app/port").meta == {"description": "own"}
    assert b"check/type" not in (paths.user / "app.ecf").read_bytes()


def test_a_cascading_get_reads_every_namespace(kdb: KDB, paths: Paths) -> None:
    kdb.mount("app.json", "system:/app")
    store(kdb, "/", Key("user:/app/a", "u"), Key("system:/app/a", "s"), Key("dir:/app/a", "d"))
    ks = KDB(paths).get("/app")
    assert {k.name for k in ks} >= {"user:/app/a", "system:/app/a", "dir:/app/a"}


def test_an_invalid_value_is_refused_and_nothing_is_written(kdb: KDB, paths: Paths) -> None:
    store(kdb, "spec:/app", Key("spec:/app/port", None, {"check/type": "unsigned_short"}))
    store(kdb, "user:/app", Key("user:/app/port", "8080"))
    before = (paths.user / "app.ecf").read_bytes()
    ks = kdb.get("/app")
    existing_key(ks, "user:/app/port").value = "-1"
    ks.add(Key("user:/app/other", "fine"))
    with pytest.raises(ValidationError) as caught:
        kdb.set(ks, "/app")
    assert caught.value.code == "C03200"
    assert "user:/app/port" in caught.value.message and '"-1"' in caught.value.message
    assert (paths.user / "app.ecf").read_bytes() == before


@pytest.mark.parametrize("fmt", ["ini", "toml", "yaml", "json", "dump"])
def test_a_boolean_is_stored_in_its_own_spelling(paths: Paths, fmt: str) -> None:
    kdb = KDB(paths)
    kdb.mount(f"app.{EXTENSIONS[fmt]}", "user:/app", fmt)
    file = paths.user / f"app.{EXTENSIONS[fmt]}"
    store(kdb, "spec:/app", Key("spec:/app/_", None, {"check/type": "boolean"}))
    store(kdb, "user:/app", Key("user:/app/debug", "no"), Key("user:/app/verbose", "Off"))
    assert b"no" in file.read_bytes() and b"Off" in file.read_bytes()
    assert values(KDB(paths).get("user:/app"), "user:/app") == {
        "user:/app/debug": "no",
        "user:/app/verbose": "Off",
    }
    # A client that sends the canonical value gets the spelling the file used.
    store(kdb, "user:/app", Key("user:/app/debug", "1"), Key("user:/app/verbose", "1"))
    assert b"yes" in file.read_bytes() and b"On" in file.read_bytes()
    assert b"no" not in file.read_bytes() and b"Off" not in file.read_bytes()
    assert values(KDB(paths).get("user:/app"), "user:/app") == {
        "user:/app/debug": "yes",
        "user:/app/verbose": "On",
    }


def test_a_native_json_boolean_stays_one_and_the_word_that_replaced_it_is_kept(
    paths: Paths,
) -> None:
    kdb = KDB(paths)
    kdb.mount("app.json", "user:/app", "json")
    store(kdb, "spec:/app", Key("spec:/app/debug", None, {"check/type": "boolean"}))
    paths.user.mkdir(parents=True, exist_ok=True)
    (paths.user / "app.json").write_text('{"debug": true}\n')
    store(kdb, "user:/app", Key("user:/app/debug", "no"))
    assert b'"debug": false' in (paths.user / "app.json").read_bytes()
    # JSON spells false only as false: the sidecar keeps the word, as any value JSON cannot.
    assert sidecar_path(paths.user / "app.json").exists()
    assert existing_key(KDB(paths).get("user:/app"), "user:/app/debug").value == "no"
    store(kdb, "user:/app", Key("user:/app/debug", "1"))  # a switch sends 1: yes/no it is
    assert b'"debug": true' in (paths.user / "app.json").read_bytes()
    assert existing_key(KDB(paths).get("user:/app"), "user:/app/debug").value == "yes"


def test_a_key_with_restrict_remove_cannot_be_removed(kdb: KDB) -> None:
    store(kdb, "user:/app", Key("user:/app/keep", "1", {"restrict/remove": "1"}))
    ks = kdb.get("user:/app")
    ks.remove("user:/app/keep")
    with pytest.raises(ValidationError, match="may not be removed"):
        kdb.set(ks, "user:/app")


@pytest.mark.parametrize("fmt", FORMATS)
def test_values_a_format_cannot_place_survive_in_the_sidecar(paths: Paths, fmt: str) -> None:
    kdb = KDB(paths)
    kdb.mount(f"app.{EXTENSIONS[fmt]}", "user:/app", fmt)
    keys = [
        Key("user:/app/server", "the server section has a value too"),
        Key("user:/app/server/port", "80"),
        Key("user:/app/blob", b"\x00\xffbinary"),
        Key("user:/app/empty", ""),
    ]
    store(kdb, "user:/app", *keys)
    again = KDB(paths).get("user:/app")
    assert [again.lookup(key.name) for key in keys] == keys


def test_spec_patterns_describe_keys_below_a_namespaced_parent(paths: Paths) -> None:
    kdb = KDB(paths)
    kdb.mount("app.ecf", "/app", "dump")  # spec:/app too
    store(
        kdb,
        "spec:/app",
        Key("spec:/app/_/port", None, {"check/type": "unsigned_short"}),
        Key("spec:/app/#/name", None, {"description": "an element's name"}),
        Key("spec:/other/x", None, {"description": "not about the app"}),
    )
    store(
        kdb,
        "user:/app",
        Key("user:/app/server/port", "80"),
        Key("user:/app/#0/name", "first"),
    )
    ks = kdb.get("user:/app/server")
    assert existing_key(ks, "user:/app/server/port").meta == {"check/type": "unsigned_short"}
    assert ks.lookup("spec:/other/x") is None
    assert existing_key(kdb.get("user:/app/#0"), "user:/app/#0/name").meta == {
        "description": "an element's name"
    }
    existing_key(ks, "user:/app/server/port").value = "70000"
    with pytest.raises(ValidationError, match="user:/app/server/port"):
        kdb.set(ks, "user:/app/server")


def test_own_checks_off_stores_what_its_own_metadata_refuses_but_not_what_spec_does(
    kdb: KDB, paths: Paths
) -> None:
    own = Key("user:/app/port", "70000", {"check/type": "unsigned_short"})
    with pytest.raises(ValidationError):
        store(kdb, "user:/app", own)
    ks = kdb.get("user:/app")
    ks.add(own)
    kdb.set(ks, "user:/app", own_checks=False)
    assert kdb.get("user:/app").lookup("user:/app/port") == own
    store(kdb, "spec:/app", Key("spec:/app/level", None, {"check/range": "1-3"}))
    ks = kdb.get("/app")
    ks.add(Key("user:/app/level", "9"))
    with pytest.raises(ValidationError, match="user:/app/level"):
        kdb.set(ks, "/app", own_checks=False)
    assert b"level" not in (paths.user / "app.ecf").read_bytes()


def test_an_empty_binary_value_is_stored_in_a_dump_file_and_read_back(
    kdb: KDB, paths: Paths
) -> None:
    # Used to fail with ResourceError "dump did not keep all of user:/app/blob".
    store(kdb, "user:/app", Key("user:/app/blob", b""), Key("user:/app/none"))
    again = KDB(paths).get("user:/app")
    assert existing_key(again, "user:/app/blob").value == b""
    assert existing_key(again, "user:/app/none").value is None


def test_an_incremental_dump_write_keeps_an_empty_binary_value(kdb: KDB, paths: Paths) -> None:
    store(kdb, "user:/app", Key("user:/app/a", "1"), Key("user:/app/b/c", "2"))
    view = KeySet(kdb.view("user:/app/b"))
    view.add(Key("user:/app/b/c", b""))
    kdb.set(view, "user:/app/b")
    again = KDB(paths).get("user:/app")
    assert values(again, "user:/app") == {"user:/app/a": "1", "user:/app/b/c": b""}
