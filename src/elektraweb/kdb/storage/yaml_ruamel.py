"""ruamel.yaml set up for one file's layout (its indentation and spelling of null): a YAML
body loaded as a round-trip tree, dumped again, and read as keys."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarbool import ScalarBoolean

from elektraweb.kdb.errors import ResourceError
from elektraweb.kdb.key import Value
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage.tree import keys_from_tree, scalar_text
from elektraweb.kdb.storage.yaml_layout import Layout


class _Representer(RoundTripRepresenter):
    null = ""

    def represent_none(self, data: Any) -> Any:
        return self.represent_scalar("tag:yaml.org,2002:null", self.null)


_Representer.add_representer(type(None), _Representer.represent_none)


def _yaml(layout: Layout) -> YAML:
    yaml = YAML()
    yaml.Representer = _Representer
    yaml.preserve_quotes = True
    yaml.width = 1 << 30  # never fold long lines that were not folded
    yaml.indent(mapping=layout.mapping, sequence=layout.sequence, offset=layout.offset)
    yaml.representer.null = layout.null
    return yaml


def text_of(node: object) -> Value:
    """A loaded scalar's value as a key holds it (booleans as ``1``/``0``)."""
    if isinstance(node, ScalarBoolean):
        return "1" if node else "0"
    if isinstance(node, TaggedScalar):
        return str(node.value)
    return scalar_text(node)


def part_of(raw: object) -> str | None:
    """A mapping key as a name part; None for a key no name can hold."""
    if isinstance(raw, str):
        return str(raw)
    if isinstance(raw, int) and not isinstance(raw, bool | ScalarBoolean):
        return str(int(raw))
    return None


def dump(root: Any, layout: Layout) -> str:
    """ruamel.yaml's text of ``root`` (the body alone) in ``layout``'s indentation."""
    stream = io.StringIO()
    _yaml(layout).dump(root, stream)
    return stream.getvalue()


def keys_of(root: Any, mountpoint: str) -> KeySet:
    """The keys of a loaded tree."""
    return keys_from_tree(root, mountpoint, "YAML", text_of, part_of)


def read_body(body: str, mountpoint: str) -> KeySet:
    """The keys of a YAML text."""
    return keys_of(load(Layout.of(body)), mountpoint)


def load(layout: Layout) -> Any:
    """The round-trip tree of ``layout``'s body; a malformed body is a ResourceError that
    names the line in the whole file."""
    try:
        return _yaml(layout).load(layout.body)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = (
            f"line {mark.line + layout.body_line}, column {mark.column + 1}: "
            if mark is not None
            else ""
        )
        problem = error.problem or error.context or "malformed"
        if error.context == "expected a single document in the stream":
            problem = "a second document starts here, and a file holds one document"
        raise ResourceError(f"YAML: {where}{problem}") from None
    except YAMLError as error:
        raise ResourceError(f"YAML: {error}") from None
