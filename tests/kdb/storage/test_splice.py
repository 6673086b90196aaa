"""Incremental writes (issue 10 item 2): a write splices only the changed blocks of a file.

Random files of sections (INI sections, TOML tables, top-level YAML entries and JSON members)
get random sequences of sets, removals and additions, each written with ``write_document``
on the document the previous write returned, as the database chains them. After every step
the file reads back as exactly the keys written, as the same keys a whole-file write of the
same edit reads back as, and as the document ``write_document`` returned; an edit inside an
existing section is spliced (the returned document holds the very keys given, which only the
splice returns) and leaves every line outside that section as it was.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_documents import texts, words

from elektraweb.kdb import names
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, DocumentWriter, get_format

MOUNTPOINT = "user:/app"
EXAMPLES = int(os.environ.get("FIDELITY_EXAMPLES", "40"))
splicing = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

Sections = dict[str, dict[str, str]]


def ini_text(sections: Sections) -> str:
    return "; settings\n" + "".join(
        f"[{section}]\n# {section} options\n"
        + "".join(f"{option} = {value}\n" for option, value in options.items())
        + "\n"
        for section, options in sections.items()
    )


def toml_text(sections: Sections) -> str:
    return '# settings\ntitle = "app"\n\n' + "".join(
        f"[{section}]  # table\n"
        + "".join(f"{option} = {json.dumps(value)}\n" for option, value in options.items())
        + "\n"
        for section, options in sections.items()
    )


def yaml_text(sections: Sections) -> str:
    return "# settings\n" + "".join(
        f"{section}:\n"
        + "".join(f"  {option}: {value}  # {option}\n" for option, value in options.items())
        + "# end\n"
        for section, options in sections.items()
    )


def json_text(sections: Sections) -> str:
    return json.dumps(sections, indent=4) + "\n"


RENDER: dict[str, Callable[[Sections], str]] = {
    "ini": ini_text,
    "toml": toml_text,
    "yaml": yaml_text,
    "json": json_text,
}
# Keys the format reads besides the options: INI sections are keys, the TOML title.
EXTRA_KEYS: dict[str, Callable[[str], list[Key]]] = {
    "ini": lambda section: [Key(names.child(MOUNTPOINT, section))],
    "toml": lambda section: [],
    "yaml": lambda section: [],
    "json": lambda section: [],
}


@st.composite
def section_files(draw: st.DrawFn) -> Sections:
    parts = iter(draw(st.lists(words, min_size=24, max_size=24, unique=True)))
    return {
        next(parts): {next(parts): draw(texts) for _ in range(draw(st.integers(2, 4)))}
        for _ in range(draw(st.integers(2, 4)))
    }


def edit(format_name: str, keys: KeySet, data: st.DataObject) -> tuple[KeySet, str | None]:
    """One random edit of ``keys``; the section it stays inside (None: it does not)."""
    result = KeySet(keys)
    options = [key for key in keys if key.value is not None and len(key.parts) == 3]
    sections = sorted({key.parts[1] for key in options})
    kind = data.draw(st.sampled_from(["set", "remove", "add", "new section", "drop section"]))
    section = data.draw(st.sampled_from(sections), label="section") if sections else None
    inside = [key for key in options if key.parts[1] == section]
    new_part = data.draw(
        words.filter(
            lambda word: word not in sections and all(key.parts[2] != word for key in options)
        ),
        label="new part",
    )
    if kind == "set" and inside:
        changed = data.draw(st.sampled_from(inside)).copy()
        changed.value = data.draw(texts.filter(lambda text: text != changed.value))
        result.add(changed)
        return result, section
    if kind == "remove" and len(inside) > 1:
        result.remove(data.draw(st.sampled_from(inside)).name)
        return result, section
    if kind == "add" and section is not None:
        result.add(Key(names.child(MOUNTPOINT, section, new_part), data.draw(texts)))
        return result, section
    if kind == "drop section" and section is not None and len(sections) > 1:
        result.cut(names.child(MOUNTPOINT, section))
        return result, None
    result.extend(EXTRA_KEYS[format_name](new_part))
    result.add(Key(names.child(MOUNTPOINT, new_part, "option"), data.draw(texts)))
    return result, None


# Where a section's lines start, and where the lines after them start.
SECTION_START = {
    "ini": r"^\[{}\]$",
    "toml": r"^\[{}\]",
    "yaml": r"^{}:$",
    "json": r'^    "{}": {{$',
}
SECTION_END = {"ini": r"^\[", "toml": r"^\[", "yaml": r"^[^ #]", "json": r"^    }"}


def section_lines(text: str, format_name: str, section: str) -> tuple[str, str]:
    """The text before and after the lines of ``section``."""
    start = re.search(SECTION_START[format_name].format(section), text, re.MULTILINE)
    assert start is not None
    end = re.compile(SECTION_END[format_name], re.MULTILINE).search(text, start.end() + 1)
    return text[: start.start()], text[end.start() :] if end is not None else ""


@pytest.mark.parametrize("format_name", ["ini", "toml", "yaml", "json"])
@splicing
@given(data=st.data())
def test_random_edits_write_what_a_whole_file_write_means(
    format_name: str, data: st.DataObject
) -> None:
    fmt = get_format(format_name)
    assert isinstance(fmt, DocumentWriter)
    text = RENDER[format_name](data.draw(section_files(), label="file")).encode()
    document = fmt.read(text, MOUNTPOINT)
    for _ in range(data.draw(st.integers(1, 5), label="edits")):
        keys, section = edit(format_name, document.keys, data)
        whole = fmt.write(keys, MOUNTPOINT, Document(document.keys, document.state))
        written, returned = fmt.write_document(keys, MOUNTPOINT, document)

        assert fmt.read(written, MOUNTPOINT).keys == keys
        assert fmt.read(whole, MOUNTPOINT).keys == keys
        assert returned.keys == keys
        if section is not None:
            assert returned.keys is keys, "an edit inside a section was not spliced"
            old, new = text.decode(), written.decode()
            assert section_lines(new, format_name, section) == section_lines(
                old, format_name, section
            )
        text, document = written, returned


@pytest.mark.parametrize(
    ("format_name", "text", "key", "value"),
    [
        # A header that is no plain one: configparser may read it as part of a value.
        ("ini", "[a]\nx = 1\n  [b]\n[c]\ny = 2\n", "user:/app/c/y", "3"),
        # A header-like line inside a multi-line string.
        ("toml", '[a]\ns = """\n[b]\n"""\n[c]\ny = 2\n', "user:/app/c/y", "3"),
        # An alias: the entry is written through the whole document.
        ("yaml", "a: &base\n  x: 1\nb: *base\nc:\n  y: 2\n", "user:/app/c/y", "3"),
        # Removing a member's last key removes the member and its comma.
        ("json", '{"a": {"x": "1"}, "c": {"y": "2"}}', "user:/app/a/x", None),
    ],
)
def test_files_that_do_not_split_are_written_whole(
    format_name: str, text: str, key: str, value: str | None
) -> None:
    fmt = get_format(format_name)
    assert isinstance(fmt, DocumentWriter)
    document = fmt.read(text.encode(), MOUNTPOINT)
    keys = KeySet(document.keys)
    if value is None:
        keys.remove(key)
    else:
        keys.add(Key(key, value))

    written, returned = fmt.write_document(keys, MOUNTPOINT, document)

    assert fmt.read(written, MOUNTPOINT).keys == keys == returned.keys
    assert written == fmt.write(keys, MOUNTPOINT, fmt.read(text.encode(), MOUNTPOINT))


def test_a_value_that_reads_back_normalised_is_written_whole() -> None:
    """A boolean set to ``yes`` is written as ``true``: the document says what the file
    holds (``1``), so that the database keeps the word in the sidecar."""
    fmt = get_format("json")
    assert isinstance(fmt, DocumentWriter)
    document = fmt.read(b'{"a": {"on": true}, "b": {"x": "1"}}', MOUNTPOINT)
    keys = KeySet(document.keys)
    keys.add(Key("user:/app/a/on", "yes"))

    written, returned = fmt.write_document(keys, MOUNTPOINT, document)

    assert written == b'{"a": {"on": true}, "b": {"x": "1"}}'
    assert returned.keys.lookup("user:/app/a/on") == Key("user:/app/a/on", "1")
