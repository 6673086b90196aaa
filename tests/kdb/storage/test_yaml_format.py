"""YAML: comments, anchors, aliases and merge keys survive reads and edits."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from storage_documents import MOUNTPOINT, changed_lines, documents, edited, strings

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.yaml_format import FORMAT
from support.keys import existing_key

DEPLOYMENT = b"""# Deployment settings for the inventory service.
%YAML 1.2
---
defaults: &defaults
  timeout: 30   # seconds
  retries: 3
  verbose: true

services:
  web:
    <<: *defaults
    port: 8080
    hosts:
      - alpha.example.org   # primary
      - beta.example.org
    motd: 'Welcome, operator'
  worker:
    settings: *defaults
    queue: "jobs"
    owner: ~
    script: |
      echo start
      run --fast
...
"""


@pytest.fixture
def deployment(tmp_path: Path) -> bytes:
    path = tmp_path / "deployment.yaml"
    path.write_bytes(DEPLOYMENT)
    return path.read_bytes()


def test_aliases_and_merge_keys_show_their_values_on_every_path(deployment: bytes) -> None:
    keys = FORMAT.read(deployment, MOUNTPOINT).keys
    values = {key.name.removeprefix("user:/app/"): key.value for key in keys}
    assert values == {
        "defaults/retries": "3",
        "defaults/timeout": "30",
        "defaults/verbose": "1",
        "services/web/hosts": None,
        "services/web/hosts/#0": "alpha.example.org",
        "services/web/hosts/#1": "beta.example.org",
        "services/web/motd": "Welcome, operator",
        "services/web/port": "8080",
        "services/web/retries": "3",
        "services/web/timeout": "30",
        "services/web/verbose": "1",
        "services/worker/owner": None,
        "services/worker/queue": "jobs",
        "services/worker/script": "echo start\nrun --fast\n",
        "services/worker/settings/retries": "3",
        "services/worker/settings/timeout": "30",
        "services/worker/settings/verbose": "1",
    }
    assert existing_key(keys, "user:/app/services/web/hosts").meta == {"array": "#1"}


def test_unchanged_keys_write_back_byte_identical(deployment: bytes) -> None:
    document = FORMAT.read(deployment, MOUNTPOINT)
    assert FORMAT.write(document.keys.copy(), MOUNTPOINT, document) == deployment


def test_an_edit_changes_only_its_line_and_keeps_comments_and_quotes(deployment: bytes) -> None:
    document = FORMAT.read(deployment, MOUNTPOINT)
    keys = document.keys.copy()
    existing_key(keys, "user:/app/services/web/port").value = "9090"
    existing_key(keys, "user:/app/services/web/motd").value = "Hello"
    existing_key(keys, "user:/app/services/web/hosts/#0").value = "gamma.example.org"

    written = FORMAT.write(keys, MOUNTPOINT, document)

    assert changed_lines(deployment, written) == (
        [
            "    port: 8080",
            "      - alpha.example.org   # primary",
            "    motd: 'Welcome, operator'",
        ],
        ["    port: 9090", "      - gamma.example.org   # primary", "    motd: 'Hello'"],
    )


def test_adding_and_removing_keys(deployment: bytes) -> None:
    document = FORMAT.read(deployment, MOUNTPOINT)
    keys = document.keys.copy()
    keys.remove("user:/app/services/worker/queue")
    keys.add(Key("user:/app/services/worker/threads", "4", {"check/type": "short"}))
    keys.add(Key("user:/app/services/web/hosts/#2", "gamma.example.org"))

    written = FORMAT.write(keys, MOUNTPOINT, document)

    assert changed_lines(deployment, written) == (
        ['    queue: "jobs"'],
        ["      - gamma.example.org", "    threads: 4"],
    )


def test_changing_an_anchor_leaves_the_paths_that_share_it_as_they_were(deployment: bytes) -> None:
    document = FORMAT.read(deployment, MOUNTPOINT)
    keys = document.keys.copy()
    existing_key(keys, "user:/app/defaults/timeout").value = "45"

    written = FORMAT.write(keys, MOUNTPOINT, document)

    assert FORMAT.read(written, MOUNTPOINT).keys == keys
    assert b"timeout: 45   # seconds" in written


def test_changing_every_path_of_an_anchor_keeps_the_alias(deployment: bytes) -> None:
    document = FORMAT.read(deployment, MOUNTPOINT)
    keys = document.keys.copy()
    for path in ("defaults", "services/web", "services/worker/settings"):
        existing_key(keys, f"user:/app/{path}/retries").value = "5"

    written = FORMAT.write(keys, MOUNTPOINT, document)

    assert changed_lines(deployment, written) == (["  retries: 3"], ["  retries: 5"])


def test_a_merged_key_cannot_be_removed_on_its_own(deployment: bytes) -> None:
    document = FORMAT.read(deployment, MOUNTPOINT)
    keys = document.keys.copy()
    keys.remove("user:/app/services/web/retries")
    with pytest.raises(ResourceError, match="comes from a merge key"):
        FORMAT.write(keys, MOUNTPOINT, document)


def test_values_keep_their_yaml_types_and_new_ones_follow_type_metadata() -> None:
    data = b"enabled: true\nlimit: 10\nratio: 0.5\nname: x\nday: 2024-05-01\n"
    document = FORMAT.read(data, MOUNTPOINT)
    keys = document.keys.copy()
    existing_key(keys, "user:/app/enabled").value = "off"
    existing_key(keys, "user:/app/limit").value = "12"
    existing_key(keys, "user:/app/ratio").value = "not a number"
    existing_key(keys, "user:/app/name").value = "true"
    existing_key(keys, "user:/app/day").value = "2024-06-30"
    keys.add(Key("user:/app/flag", "true", {"check/type": "boolean"}))
    keys.add(Key("user:/app/word", "yes", {"check/type": "boolean"}))  # a string in YAML 1.2
    keys.add(Key("user:/app/plain", "123"))

    assert FORMAT.write(keys, MOUNTPOINT, document) == (
        b"enabled: false\nlimit: 12\nratio: not a number\nname: 'true'\nday: 2024-06-30\n"
        b"flag: true\nplain: '123'\nword: yes\n"
    )


def test_binary_values_and_nulls() -> None:
    document = FORMAT.read(b"blob: !!binary aGk=\nnothing: null\n", MOUNTPOINT)
    assert list(document.keys) == [Key("user:/app/blob", b"hi"), Key("user:/app/nothing")]
    keys = document.keys.copy()
    keys.add(Key("user:/app/more"))
    assert FORMAT.write(keys, MOUNTPOINT, document).endswith(b"nothing: null\nmore: null\n")


def test_sequence_indentation_is_detected() -> None:
    data = b"list:\n- a\n- b\nmap:\n    key: value\n"
    document = FORMAT.read(data, MOUNTPOINT)
    keys = document.keys.copy()
    keys.add(Key("user:/app/map/other", "x"))
    assert FORMAT.write(keys, MOUNTPOINT, document) == data + b"    other: x\n"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            [Key("user:/app/a", "v"), Key("user:/app/a/b", "w")],
            "user:/app/a has a value and keys below it",
        ),
        ([Key("user:/app/l/#1", "x")], "the array user:/app/l has no element #0"),
    ],
)
def test_refuses_what_yaml_cannot_hold(keys: list[Key], message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        FORMAT.write(KeySet(keys), MOUNTPOINT, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"# comment\na: 1\nb: [1, 2\nc: 3\n", r"YAML: line 4, column 2"),
        (b"a: 1\na: 2\n", "found duplicate key"),
        (b"[1, 2]: x\n", "is not a string"),
        (b"a: 1\n---\nb: 2\n", "YAML: line 2, column 1: a second document starts here"),
    ],
)
def test_malformed_files_name_the_problem(data: bytes, message: str) -> None:
    with pytest.raises(ResourceError, match=message):
        FORMAT.read(data, MOUNTPOINT)


def dumped(document: dict[str, object], mapping: int, offset: int, flow: bool) -> bytes:
    """The document as ruamel.yaml writes it, provided ruamel.yaml can read that back (its
    flow style emitter writes some plain scalars it cannot parse)."""
    yaml = YAML()
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    yaml.default_flow_style = flow
    stream = io.StringIO()
    yaml.dump(document, stream)
    try:
        YAML().load(stream.getvalue())
    except YAMLError:
        reject()
    return stream.getvalue().encode()


scalars = st.none() | st.booleans() | st.integers() | strings


@settings(max_examples=60, deadline=None)
@given(
    documents(scalars), st.sampled_from([2, 4]), st.sampled_from([0, 2]), st.booleans(), st.data()
)
def test_property_edits_read_back_and_unchanged_files_stay_identical(
    document: dict[str, object], mapping: int, offset: int, flow: bool, data: st.DataObject
) -> None:
    text = dumped(document, mapping, offset, flow)
    read = FORMAT.read(text, MOUNTPOINT)
    assert FORMAT.write(read.keys.copy(), MOUNTPOINT, read) == text
    keys = edited(read.keys, data)
    assert FORMAT.read(FORMAT.write(keys, MOUNTPOINT, read), MOUNTPOINT).keys == keys


def set_one(text: bytes, name: str, value: str) -> tuple[KeySet, bytes]:
    """The keys of ``text`` with ``name`` (below the mountpoint) set to ``value``, and the
    file the format writes for them."""
    read = FORMAT.read(text, MOUNTPOINT)
    keys = read.keys.copy()
    keys.lookup(f"{MOUNTPOINT}/{name}").value = value  # type: ignore[union-attr]
    return keys, FORMAT.write(keys, MOUNTPOINT, read)


def test_value_starting_with_a_question_mark_in_a_flow_mapping_reads_back() -> None:
    keys, written = set_one(b"server: {name: web}\n", "server/name", "?0")
    assert FORMAT.read(written, MOUNTPOINT).keys == keys


def test_an_edit_leaves_a_wrapped_plain_scalar_of_another_key_wrapped() -> None:
    text = (
        b"title: a long title that is wrapped before the last word of the export\n"
        b"  schema\nversion: 1   # bump on change\n"
    )
    _, written = set_one(text, "version", "2")
    assert changed_lines(text, written) == (
        ["version: 1   # bump on change"],
        ["version: 2   # bump on change"],
    )


def test_aliases_that_still_agree_keep_sharing_an_anchor() -> None:
    keys, written = set_one(b"base: &b\n  x: 1\none: *b\ntwo: *b\n", "base/x", "5")
    assert FORMAT.read(written, MOUNTPOINT).keys == keys
    assert written == b"base:\n  x: 5\none: &b_2\n  x: 1\ntwo: *b_2\n"


def test_the_anchor_of_a_diverged_copy_is_a_name_the_file_does_not_use() -> None:
    text = b"base: &b\n  x: 1\nold: &b_2\n  y: 2\none: *b\ntwo: *b\nthree: *b_2\n"
    keys, written = set_one(text, "base/x", "5")
    assert FORMAT.read(written, MOUNTPOINT).keys == keys
    assert b"one: &b_3\n  x: 1\ntwo: *b_3\nthree: *b_2\n" in written


@pytest.mark.parametrize(
    "text",
    [
        # A complex key (`? "\n"`) whose value is a sequence of a mapping: the `: - '':` line
        # and the less indented `- []` after `'0':` once passed for a 4-space mapping and a
        # -2 dash offset, in which ruamel.yaml writes text it cannot read.
        b"? \"\\n\"\n: - '':\n    '0':\n  - []\n",
        b"? \"\\n\"\n: - '':\n      '':\n  - []\n",
        b"'':\n- \n- '':\n    '':\n- []\n",
    ],
)
def test_adding_a_key_next_to_sequences_of_mappings_keeps_the_file_readable(text: bytes) -> None:
    read = FORMAT.read(text, MOUNTPOINT)
    keys = read.keys.copy()
    keys.add(Key(f"{MOUNTPOINT}/added by hand", ""))

    written = FORMAT.write(keys, MOUNTPOINT, read)

    assert written == text + b"added by hand: ''\n"
    assert FORMAT.read(written, MOUNTPOINT).keys == keys


@pytest.mark.parametrize(
    ("text", "added"),
    [
        (b"outer:\n  - inner:\n      x: 1\n", b"  - new\n"),
        (b"outer:\n    - inner:\n        x: 1\n", b"    - new\n"),
        (b"outer:\n- inner:\n    x: 1\n", b"- new\n"),
    ],
)
def test_indentation_comes_from_the_key_lines_of_the_file(text: bytes, added: bytes) -> None:
    read = FORMAT.read(text, MOUNTPOINT)
    keys = read.keys.copy()
    keys.add(Key(f"{MOUNTPOINT}/outer/#1", "new"))

    assert FORMAT.write(keys, MOUNTPOINT, read) == text + added
