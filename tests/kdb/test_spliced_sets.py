"""Sets through the KDB on ini, JSON, YAML and TOML files, which splice only the changed
sections into the file (``storage.splice``): after every set, a KDB that reads the files
afresh (data file and sidecar) finds exactly the keys that were set, including metadata and
values the format cannot hold (kept in the sidecar); a one-key set in a big file changes only
that key's line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from elektraweb.kdb import KDB, Key, KeySet
from elektraweb.kdb.mounts import Paths
from elektraweb.kdb.storage import EXTENSIONS

SECTIONS = 5
PER_SECTION = 6

edits = st.lists(
    st.tuples(
        st.sampled_from(["set", "remove", "add", "meta", "word over number"]),
        st.integers(0, SECTIONS * PER_SECTION - 1),
        st.from_regex(r"[a-z][a-z ]{0,8}[a-z]", fullmatch=True),
    ),
    min_size=1,
    max_size=8,
)


def name_of(index: int, prefix: str = "k") -> str:
    return f"user:/app/s{index // PER_SECTION}/{prefix}{index}"


def snapshot(keys: KeySet) -> list[tuple[str, object, dict[str, str]]]:
    return [(key.name, key.value, dict(key.meta)) for key in keys.below("user:/app")]


@pytest.mark.parametrize("format_name", ["ini", "json", "yaml", "toml"])
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(changes=edits)
# The first key of [s0] removed and added back without value but with a comment: TOML and
# INI give it a table (section) of its own, which a value then turns back into a scalar.
@example(
    changes=[("set", 0, "aa")] * 3 + [("remove", 0, "aa"), ("meta", 0, "aa"), ("set", 0, "aa")]
)
def test_sets_read_back_from_the_files_as_they_were_set(
    tmp_path_factory: pytest.TempPathFactory,
    format_name: str,
    changes: list[tuple[str, int, str]],
) -> None:
    base = tmp_path_factory.mktemp(format_name)
    paths = Paths.from_environ({"KDB_ROOT": str(base), "HOME": str(base)}, cwd=base)
    kdb = KDB(paths)
    kdb.mount(f"app.{EXTENSIONS[format_name]}", "user:/app", format_name)
    keys = kdb.get("user:/app")
    keys.extend(
        Key(name_of(i), str(i) if i % 3 == 0 else f"v{i}") for i in range(SECTIONS * PER_SECTION)
    )
    kdb.set(keys, "user:/app")
    kdb = KDB(paths)  # holds what the file holds (INI sections are keys of their own)
    for action, index, text in changes:
        keys = kdb.get("user:/app")
        name = name_of(index)
        old = keys.lookup(name)
        if action == "remove":
            keys.remove(name)
        elif action == "add":
            keys.add(Key(name_of(index, "new"), text))
        elif action == "meta":  # no format here holds it: the sidecar does
            keys.add(Key(name, None if old is None else old.value, {"comment/#0": text}))
        elif action == "word over number":  # a string where a number was: typed as text
            keys.add(Key(name, text))
        else:
            keys.add(Key(name, text, {} if old is None else old.meta))
        wanted = snapshot(keys)

        kdb.set(keys, "user:/app")

        assert snapshot(KDB(paths).get("user:/app")) == wanted
        assert snapshot(kdb.get("user:/app")) == wanted


@pytest.mark.parametrize(
    ("format_name", "text"),
    [
        (
            "toml",
            "[s0]  # first\nk1 = 'v1'  # one\n\n[s0.k0]\n# only a comment\n\n"
            "[s1]  # second\nk2 = 'v2'\n",
        ),
        ("ini", "[s0]\n# first\nk1 = v1\n\n[s0/k0]\n# only a comment\n\n[s1]\n# second\nk2 = v2\n"),
    ],
    ids=["toml", "ini"],
)
def test_a_table_with_only_a_comment_becomes_a_scalar_again(
    tmp_path: Path,
    format_name: str,
    text: str,
) -> None:
    """The table's header goes and the value joins its parent's table, which the file
    declares once; the other keys and their comments stay."""
    paths = Paths.from_environ({"KDB_ROOT": str(tmp_path), "HOME": str(tmp_path)}, cwd=tmp_path)
    kdb = KDB(paths)
    kdb.mount(f"app.{EXTENSIONS[format_name]}", "user:/app", format_name)
    file = kdb.file_of("user:/app")
    file.parent.mkdir(parents=True)
    file.write_text(text)
    keys = kdb.get("user:/app")
    assert keys.lookup("user:/app/s0/k0") == Key("user:/app/s0/k0", None)
    keys.add(Key("user:/app/s0/k0", "aa"))

    kdb.set(keys, "user:/app")

    assert snapshot(KDB(paths).get("user:/app")) == snapshot(keys)
    written = file.read_text()
    assert [line for line in written.split("\n") if "#" in line and "only" not in line] == [
        line for line in text.split("\n") if "#" in line and "only" not in line
    ]
    assert written.count("[s0]") == 1


def test_a_set_of_one_key_in_a_big_file_leaves_the_other_sections_as_they_were(
    tmp_path: Path,
) -> None:
    """Comments, quoting and spacing of all 200 tables stay; the changed line is the only one
    that differs."""
    paths = Paths.from_environ({"KDB_ROOT": str(tmp_path), "HOME": str(tmp_path)}, cwd=tmp_path)
    kdb = KDB(paths)
    kdb.mount("app.toml", "user:/app", "toml")
    file = kdb.file_of("user:/app")
    lines = ["# settings"]
    for section in range(200):
        lines += [
            f"[s{section}]  # table {section}",
            *(f"k{i} = 'v{i}'   # {i}" for i in range(section * 10, section * 10 + 10)),
            "",
        ]
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("\n".join(lines))
    keys = kdb.get("user:/app")
    keys.add(Key("user:/app/s150/k1505", "changed"))

    kdb.set(keys, "user:/app")

    after = file.read_text().split("\n")
    assert [(old, new) for old, new in zip(lines, after, strict=True) if old != new] == [
        ("k1505 = 'v1505'   # 1505", "k1505 = 'changed'   # 1505")
    ]
