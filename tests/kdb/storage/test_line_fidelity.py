"""Issue 13 item 4: a set changes only the lines of the key it sets, in every format.

Each test generates a file from blocks of lines, each owned by one key (or by none: comments,
headers), with the constructs real files use: continuation lines and comments inside values
(INI), wrapped plain, folded and block scalars, tags, anchors and aliases (YAML), arrays of
tables, multi-line and escaped strings (TOML), any layout (JSON). It sets one random key and
checks that every other block is still in the file byte for byte, in order, and that the
format's reference library reads the new file with the new value and every other value as it
was. Examples per test: ``FIDELITY_EXAMPLES`` (default 40; raise it for a deeper search).
"""

from __future__ import annotations

import configparser
import json
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from storage_documents import texts, words

from elektraweb.kdb import names
from elektraweb.kdb.storage import DocumentWriter, StorageFormat, get_format

MOUNTPOINT = "user:/app"
EXAMPLES = int(os.environ.get("FIDELITY_EXAMPLES", "40"))
fidelity = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

Path = tuple[str, ...]


@dataclass
class Block:
    """Lines of the file; ``owner`` is the key whose value they hold (None: no key's)."""

    text: str
    owner: Path | None = None
    value: str | None = None  # the owner's value as Elektra reads it


@st.composite
def unique_words(draw: st.DrawFn, count: int) -> list[str]:
    return draw(st.lists(words, min_size=count, max_size=count, unique=True))


def check_set(
    fmt: StorageFormat,
    blocks: list[Block],
    data: st.DataObject,
    reference: Callable[[str], Any],
    lookup: Callable[[Any, Path], Any],
) -> None:
    original = "".join(block.text for block in blocks).encode()
    document = fmt.read(original, MOUNTPOINT)
    settable = [block for block in blocks if block.owner is not None]
    edited = data.draw(st.sampled_from(settable), label="edited")
    new_value = data.draw(texts.filter(lambda text: text != edited.value), label="new value")
    keys = document.keys.copy()
    key = keys.lookup(names.child(MOUNTPOINT, *edited.owner or ()))
    assert key is not None and key.value == edited.value
    key.value = new_value

    # Both ways a file is written: whole (``write``), and as the database does, splicing
    # the changed part into the file where the format can (``write_document``).
    written_whole = fmt.write(keys, MOUNTPOINT, document).decode()
    document = fmt.read(original, MOUNTPOINT)
    assert isinstance(fmt, DocumentWriter)
    spliced = fmt.write_document(keys, MOUNTPOINT, document)[0].decode()
    for written in (written_whole, spliced):
        position = 0
        for block in blocks:
            if block is edited:
                continue
            found = written.find(block.text, position)
            assert found >= 0, f"lost or changed: {block.text!r}\nin:\n{written}"
            position = found + len(block.text)
        parsed = reference(written)
        assert lookup(parsed, edited.owner or ()) == new_value
        for block in settable:
            if block is not edited:
                assert lookup(parsed, block.owner or ()) == block.value, block


def _nested(parsed: Any, path: Path) -> Any:
    for part in path:
        parsed = parsed[int(part[1:]) if part.startswith("#") else part]
    return parsed


# -- INI ------------------------------------------------------------------------------------


@st.composite
def ini_files(draw: st.DrawFn) -> list[Block]:
    blocks = [Block("; generated\n")]
    names_ = iter(draw(unique_words(12)))
    for section_index in range(draw(st.integers(1, 3))):
        section = next(names_)
        if section_index:
            blocks.append(Block("\n"))
        blocks.append(Block(f"[{section}]\n"))
        for _ in range(draw(st.integers(1, 3))):
            option = next(names_, None)
            if option is None:
                break
            kind = draw(st.sampled_from(["plain", "continued", "commented", "comment"]))
            first, second = draw(texts), draw(texts)
            if kind == "comment":
                blocks.append(Block(f"# {first}\n"))
            elif kind == "plain":
                blocks.append(Block(f"{option} = {first}\n", (section, option), first))
            elif kind == "continued":
                blocks.append(
                    Block(
                        f"{option} =\n    {first}\n    {second}\n",
                        (section, option),
                        f"\n{first}\n{second}",
                    )
                )
            else:  # a comment among the continuation lines, as in tox.ini and setup.cfg
                blocks.append(
                    Block(
                        f"{option} = {first}\n  # {second}\n  {second}\n",
                        (section, option),
                        f"{first}\n{second}",
                    )
                )
    if not any(block.owner for block in blocks):
        blocks.append(Block("placeholder = x\n", (section, "placeholder"), "x"))
    return blocks


def _configparser(text: str) -> configparser.ConfigParser:
    # configparser reads tox.ini and setup.cfg this way: no interpolation, names as written.
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


# -- YAML -----------------------------------------------------------------------------------


@st.composite
def yaml_files(draw: st.DrawFn) -> list[Block]:
    blocks = [Block("# generated\n")]
    anchors: list[str] = []
    for name in draw(unique_words(draw(st.integers(2, 8)))):
        kind = draw(
            st.sampled_from(
                [
                    "plain",
                    "wrapped",
                    "literal",
                    "folded",
                    "quoted",
                    "tagged",
                    "nested",
                    "anchor",
                    "alias",
                    "comment",
                ]
            )
        )
        first, second = draw(texts), draw(texts)
        if kind == "plain":
            blocks.append(Block(f"{name}: {first}\n", (name,), first))
        elif kind == "wrapped":  # a plain scalar wrapped over two lines reads as one line
            blocks.append(Block(f"{name}: {first}\n  {second}\n", (name,), f"{first} {second}"))
        elif kind == "literal":
            blocks.append(
                Block(f"{name}: |\n  {first}\n  {second}\n", (name,), f"{first}\n{second}\n")
            )
        elif kind == "folded":
            blocks.append(
                Block(f"{name}: >\n  {first}\n  {second}\n", (name,), f"{first} {second}\n")
            )
        elif kind == "quoted":  # a unicode escape
            blocks.append(Block(f'{name}: "{first}\\u00e9"\n', (name,), f"{first}\u00e9"))
        elif kind == "tagged":
            blocks.append(Block(f"{name}: !!str {first}\n", (name,), first))
        elif kind == "nested":
            blocks.append(Block(f"{name}:\n"))
            blocks.append(Block(f"  inner: {first}   # why\n", (name, "inner"), first))
            blocks.append(Block(f"  list:\n    - {second}\n", (name, "list", "#0"), second))
        elif kind == "anchor":
            # Keys below an anchor are shared with its aliases: not picked for the edit.
            anchors.append(name)
            blocks.append(Block(f"{name}: &{name}\n  shared: {first}\n"))
        elif kind == "alias" and anchors:
            blocks.append(Block(f"{name}: *{draw(st.sampled_from(anchors))}\n"))
        else:
            blocks.append(Block(f"# {first}\n"))
    if not any(block.owner for block in blocks):
        blocks.append(Block("zz: x\n", ("zz",), "x"))
    return blocks


# -- TOML -----------------------------------------------------------------------------------


@st.composite
def toml_files(draw: st.DrawFn) -> list[Block]:
    blocks = [Block("# generated\n")]
    words_ = iter(draw(unique_words(14)))
    for _ in range(draw(st.integers(1, 3))):  # top-level keys come before any table
        blocks.append(_toml_pair(draw, next(words_), ()))
    table = next(words_)
    blocks.append(Block(f"\n[{table}]\n"))
    blocks.append(_toml_pair(draw, next(words_), (table,)))
    array = next(words_)
    for index in range(draw(st.integers(1, 3))):
        blocks.append(Block(f"\n[[{array}]]\n"))
        blocks.append(
            _toml_pair(draw, next(words_) if index == 0 else "name", (array, f"#{index}"))
        )
    return blocks


def _toml_pair(draw: st.DrawFn, name: str, where: Path) -> Block:
    kind = draw(st.sampled_from(["basic", "literal", "escaped", "multiline", "commented"]))
    first, second = draw(texts), draw(texts)
    if kind == "basic":
        return Block(f'{name} = "{first}"\n', (*where, name), first)
    if kind == "literal":
        return Block(f"{name} = '{first}'\n", (*where, name), first)
    if kind == "escaped":
        return Block(f'{name} = "{first}\\u00e9"\n', (*where, name), f"{first}\u00e9")
    if kind == "multiline":
        return Block(f'{name} = """\n{first}\n{second}"""\n', (*where, name), f"{first}\n{second}")
    return Block(f'{name} = "{first}"  # {second}\n', (*where, name), first)


# -- JSON -----------------------------------------------------------------------------------


@st.composite
def json_files(draw: st.DrawFn) -> list[Block]:
    indent = draw(st.sampled_from(["  ", "    ", "\t"]))
    members = draw(unique_words(draw(st.integers(1, 6))))
    blocks = [Block("{\n")]
    for index, name in enumerate(members):
        comma = "," if index < len(members) - 1 else ""
        kind = draw(st.sampled_from(["string", "escaped", "nested", "array"]))
        first, second = draw(texts), draw(texts)
        if kind == "string":
            blocks.append(Block(f'{indent}"{name}": "{first}"{comma}\n', (name,), first))
        elif kind == "escaped":
            blocks.append(
                Block(f'{indent}"{name}": "{first}\\u00e9"{comma}\n', (name,), f"{first}\u00e9")
            )
        elif kind == "nested":
            blocks.append(Block(f'{indent}"{name}": {{\n'))
            blocks.append(Block(f'{indent}{indent}"inner": "{first}"\n', (name, "inner"), first))
            blocks.append(Block(f"{indent}}}{comma}\n"))
        else:
            blocks.append(Block(f'{indent}"{name}": ["{first}", "{second}"]{comma}\n'))
    blocks.append(Block("}\n"))
    if not any(block.owner for block in blocks):
        blocks[-2:-1] = [
            Block(blocks[-2].text.rstrip("\n") + ",\n"),
            Block(f'{indent}"zz": "x"\n', ("zz",), "x"),
        ]
    return blocks


def _ini_option(parsed: configparser.ConfigParser, path: Path) -> str:
    return parsed[path[0]][path[1]]


# Per format: generated files, the reference library's reader, and how to find a key in what
# it read.
CASES: dict[
    str, tuple[st.SearchStrategy[list[Block]], Callable[[str], Any], Callable[[Any, Path], Any]]
] = {
    "ini": (ini_files(), _configparser, _ini_option),
    "yaml": (yaml_files(), yaml.safe_load, _nested),
    "toml": (toml_files(), tomllib.loads, _nested),
    "json": (json_files(), json.loads, _nested),
}


@pytest.mark.parametrize("format_name", CASES)
@fidelity
@given(data=st.data())
def test_a_set_changes_only_the_lines_of_its_key(format_name: str, data: st.DataObject) -> None:
    files, reference, lookup = CASES[format_name]
    check_set(get_format(format_name), data.draw(files, label="file"), data, reference, lookup)
