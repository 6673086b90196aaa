"""A delete and its undo leave the file as it was (issue 12, item 9): a key or table put back
by a later write returns to where it stood, with the comment line above it, its trailing
comment and the comments inside a table, in TOML, INI, YAML and JSON. The writes chain
``write_document`` on the document each returned, as the database does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_splice import RENDER, section_files, splicing

from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, DocumentWriter, get_format
from elektraweb.kdb.storage.removed_lines import remember

MOUNTPOINT = "user:/app"
Edit = Callable[[KeySet], KeySet]

FILES = {
    "toml": """\
# app settings
title = "demo"

[server]
host = "0.0.0.0"
# the port the app listens on
port = 5432  # default postgres
workers = 4

[db]
# primary database
name = "orders"
user = "web"  # login

[log]
level = "info"
""",
    "ini": """\
; app settings
[server]
host = 0.0.0.0
; the port the app listens on
port = 5432
workers = 4

[db]
; primary database
name = orders
user = web

[log]
level = info
""",
    "yaml": """\
# app settings
server:
  host: 0.0.0.0
  # the port the app listens on
  port: 5432  # default postgres
  workers: 4
db:
  # primary database
  name: orders
  user: web  # login
log:
  level: info
""",
    "json": """\
{
    "server": {
        "host": "0.0.0.0",
        "port": 5432,
        "workers": 4
    },
    "db": {
        "name": "orders",
        "user": "web"
    },
    "log": {
        "level": "info"
    }
}
""",
}


def writer(format_name: str) -> DocumentWriter:
    fmt = get_format(format_name)
    assert isinstance(fmt, DocumentWriter)
    return fmt


def keys_of(format_name: str, text: str) -> KeySet:
    return get_format(format_name).read(text.encode(), MOUNTPOINT).keys


def without(keys: KeySet, name: str) -> KeySet:
    kept = KeySet(keys)
    kept.cut(name)
    return kept


def removing(name: str) -> Edit:
    return lambda keys: without(keys, name)


def adding(name: str, value: str) -> Edit:
    def add(keys: KeySet) -> KeySet:
        added = KeySet(keys)
        added.add(Key(name, value))
        return added

    return add


def written(fmt: DocumentWriter, keys: KeySet, document: Document) -> tuple[str, Document]:
    data, returned = fmt.write_document(keys, MOUNTPOINT, document)
    return data.decode(), returned


def writes(format_name: str, text: str, *edits: Edit) -> tuple[str, KeySet]:
    """``text`` after one write per edit, each on what the last wrote, as the database
    chains them; and the keys last written."""
    fmt = writer(format_name)
    document = get_format(format_name).read(text.encode(), MOUNTPOINT)
    keys = document.keys
    for edit in edits:
        keys = edit(keys)
        text, document = written(fmt, keys, document)
    return text, keys


@pytest.mark.parametrize("format_name", sorted(FILES))
@pytest.mark.parametrize("removed", ["user:/app/server/port", "user:/app/db"])
def test_a_removal_put_back_leaves_the_file_byte_for_byte(format_name: str, removed: str) -> None:
    text = FILES[format_name]
    original = keys_of(format_name, text)

    after_removal, _ = writes(format_name, text, removing(removed))
    restored, _ = writes(format_name, text, removing(removed), lambda _: original)

    assert ("5432" if removed.endswith("port") else "orders") not in after_removal
    assert restored == text


@pytest.mark.parametrize("format_name", ["toml", "ini", "yaml"])
def test_a_key_goes_back_in_place_after_other_edits_and_with_its_new_value(
    format_name: str,
) -> None:
    text = FILES[format_name]
    restored, _ = writes(
        format_name,
        text,
        removing("user:/app/server/port"),
        adding("user:/app/log/level", "debug"),
        adding("user:/app/server/port", "6543"),
    )

    assert restored == text.replace("5432", "6543").replace("info", "debug")


def test_lines_that_would_read_as_another_key_stay_out() -> None:
    """``user`` stood below ``name``, which a later write removed with the rest of its
    table: below the blank line before ``[log]`` the line would read as ``server/user``."""
    restored, keys = writes(
        "toml",
        FILES["toml"],
        removing("user:/app/db/user"),
        removing("user:/app/db"),
        adding("user:/app/db/user", "web"),
    )

    assert keys_of("toml", restored) == keys
    assert restored.endswith('[log]\nlevel = "info"\n\n[db]\nuser = "web"\n')


def test_only_the_keys_added_come_back() -> None:
    """Removed lines that held more than the write adds stay out: the table's keys return
    one by one as new keys, each where its table is."""
    text = FILES["toml"]
    restored, keys = writes(
        "toml",
        text,
        removing("user:/app/db"),
        lambda _: without(keys_of("toml", text), "user:/app/db/user"),
    )

    assert keys_of("toml", restored) == keys
    assert "# primary database" not in restored
    assert restored.endswith('[db]\nname = "orders"\n')


@pytest.mark.parametrize("format_name", sorted(RENDER))
@splicing
@given(data=st.data())
def test_any_removed_option_or_section_goes_back_byte_for_byte(
    format_name: str, data: st.DataObject
) -> None:
    """Generated files with random values (quotes, escapes, unusual line separators): an
    option or a whole section removed and written again gives back the very file."""
    text = RENDER[format_name](data.draw(section_files(), label="file"))
    original = keys_of(format_name, text)
    options = [key.name for key in original if key.value is not None and len(key.parts) == 3]
    removed = data.draw(st.sampled_from(options), label="option")
    if data.draw(st.booleans(), label="whole section"):
        removed = removed.rsplit("/", 1)[0]

    restored, _ = writes(format_name, text, removing(removed), lambda _: original)

    assert restored == text


def test_a_file_the_format_does_not_split_is_read_whole_to_put_lines_back() -> None:
    """Arrays of tables keep TOML from splitting the file: the lines go back all the same."""
    text = (
        '[[servers]]\nname = "a"\n\n[[servers]]\nname = "b"\n\n[log]\n# how much\n'
        'level = "info"  # or debug\nfile = "app.log"\n'
    )
    original = keys_of("toml", text)

    removed, _ = writes("toml", text, removing("user:/app/log/level"))
    restored, _ = writes("toml", text, removing("user:/app/log/level"), lambda _: original)

    assert "level" not in removed
    assert restored == text


@given(
    lines=st.lists(
        st.sampled_from(["a = 1\n", "b = 2\n", "\n", "# note\n", "[t]\n"]), min_size=1, max_size=30
    ),
    run=st.tuples(st.integers(0, 30), st.integers(1, 5)),
)
def test_a_removed_run_of_lines_has_a_place_that_gives_the_text_back(
    lines: list[str], run: tuple[int, int]
) -> None:
    start = min(run[0], len(lines) - 1)
    end = min(start + run[1], len(lines))
    old, new = "".join(lines), "".join(lines[:start] + lines[end:])

    [entry] = remember((), old, new, frozenset({"user:/app/k"}))

    assert len(entry.lines) == end - start
    new_lines = new.splitlines(keepends=True)
    assert any(
        "".join(new_lines[:at] + list(entry.lines) + new_lines[at:]) == old
        for at in entry.places(new_lines)
    )


def test_a_dotted_key_does_not_go_back_where_its_table_now_has_a_header() -> None:
    """``pool.size`` back in ``[db]`` would define ``db.pool`` twice, which TOML forbids:
    the key is added to the ``[db.pool]`` table written since instead."""
    text = '[db]\nname = "x"\npool.size = 5  # small\n\n[log]\nlevel = "info"\n'
    restored, keys = writes(
        "toml",
        text,
        removing("user:/app/db/pool/size"),
        adding("user:/app/db/pool/max", "9"),
        adding("user:/app/db/pool/size", "5"),
    )

    assert keys_of("toml", restored) == keys
    assert "pool.size" not in restored
