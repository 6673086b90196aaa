"""INI storage through configupdater, which keeps comments, blank lines and order.

Mapping (as libelektra's ini plugin): a section ``[a/b]`` is the key ``a/b`` without value, its
option ``k = v`` the key ``a/b/k``; options before the first section sit directly below the
mountpoint. Section names nest with ``/``; option names are taken literally. A multi-line value
is written with indented continuation lines.
"""

from __future__ import annotations

import ast
import configparser
import re
from dataclasses import dataclass, field

from configupdater import ConfigUpdater, Option, Section

from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError, ResourceError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.storage import Document, decode_text, previous_state, splice
from elektraweb.kdb.storage.splice import Block, blocks_between

# configupdater needs a section before the first option; this one stands for the file's top.
_TOP = "elektraweb:top-level"
_HEADER = f"[{_TOP}]\n"
_CONTINUATION_INDENT = "    "
_FIRST_OPTION = re.compile(r"^[^\s#;\[][^=:\n]*?([ \t]*)[=:]", re.MULTILINE)

_Path = tuple[str, ...]
_Text = str | None  # ini values: no binary


class _Updater(ConfigUpdater):
    def optionxform(self, optionstr: str) -> str:
        return optionstr  # option names are case-sensitive key parts


def _spaced_delimiters(text: str) -> bool:
    """Whether the file writes ``k = v`` rather than ``k=v`` (its first option tells)."""
    first = _FIRST_OPTION.search(text)
    return first is None or bool(first.group(1))


def _parse(text: str, spaced: bool | None = None) -> ConfigUpdater:
    spaced = _spaced_delimiters(text) if spaced is None else spaced
    updater = _Updater(
        allow_no_value=True, empty_lines_in_values=False, space_around_delimiters=spaced
    )
    try:
        updater.read_string(_HEADER + text)
    except configparser.DuplicateSectionError as error:
        raise ResourceError(
            f"ini: line {_line(error.lineno)}: the section [{error.section}] appears twice"
        ) from None
    except configparser.DuplicateOptionError as error:
        raise ResourceError(
            f"ini: line {_line(error.lineno)}: the option {error.option!r} "
            f"appears twice in its section"
        ) from None
    except configparser.ParsingError as error:
        lineno, line = error.errors[0]  # configparser keeps the line as its repr()
        bad = ast.literal_eval(line).strip()
        raise ResourceError(f"ini: line {_line(lineno)}: cannot parse {bad!r}") from None
    except configparser.Error as error:
        raise ResourceError(f"ini: {error.message}") from None
    return updater


def _line(lineno: int | None) -> int:
    return (lineno or 1) - 1  # the top-level header added before parsing is line 1


def _section_path(section: Section) -> _Path:
    return () if section.name == _TOP else tuple(section.name.split("/"))


_Sections = dict[_Path, dict[str, _Text]]  # wanted sections (the top is ()) and their options


def _plan(keys: KeySet, mountpoint: str, options_in_file: set[_Path]) -> _Sections:
    """Sections (in key order, the top first) and their options; refuses what ini cannot hold.

    A key without value is a section, unless the file already has an option without value
    of that name."""
    namespace, base = names.split(mountpoint)
    sections: _Sections = {(): {}}
    for key in keys:
        parts = key.parts
        if key.namespace != namespace or parts[: len(base)] != base:
            raise ResourceError(
                f"key {key.name} is not below the mountpoint {mountpoint}", key=key.name
            )
        path = parts[len(base) :]
        value = key.value
        if isinstance(value, bytes):
            raise ResourceError(f"ini cannot hold the binary value of {key.name}", key=key.name)
        if not path:
            if value is not None:
                raise ResourceError(
                    f"ini cannot hold a value on the mountpoint {key.name}", key=key.name
                )
            continue
        if value is None and path not in options_in_file:
            _check_section(path, key.name)
            sections.setdefault(path, {})
            continue
        _check_option(path[-1], value, key.name)
        if path[:-1]:
            _check_section(path[:-1], key.name)
        sections.setdefault(path[:-1], {})[path[-1]] = value
    for path in sections:
        parent = sections.get(path[:-1])
        if path and parent is not None and path[-1] in parent:
            name = names.join(namespace, base + path)
            raise ResourceError(
                f"ini cannot hold the value of {name}, which has keys below it", key=name
            )
    return sections


def _check_section(path: _Path, name: str) -> None:
    header = "/".join(path)
    if (
        not header
        or header == _TOP
        or any("/" in part for part in path)
        or "\n" in header
        or "\r" in header
        or header != header.strip()
    ):
        raise ResourceError(
            f"ini cannot name the section {header!r} for {name} (section "
            "names are joined with '/', and cannot be empty, hold line breaks "
            "or start or end with whitespace)",
            key=name,
        )


def _check_option(option: str, value: _Text, name: str) -> None:
    if (
        not option
        or option != option.strip()
        or "\n" in option
        or "=" in option
        or ":" in option
        or option[0] in "#;["
    ):
        raise ResourceError(
            f"ini cannot hold the option name {option!r} of {name} (it "
            "cannot be empty, start with '#', ';' or '[', contain '=', ':' "
            "or line breaks, or start or end with whitespace)",
            key=name,
        )
    if value is None:
        return
    first, *rest = value.split("\n")
    if first != first.strip() or any(
        not line or line != line.strip() or line[0] in "#;" for line in rest
    ):
        raise ResourceError(
            f"ini cannot hold the value of {name}: lines cannot start or end "
            "with whitespace, and continuation lines cannot be empty or start "
            "with '#' or ';'",
            key=name,
        )


def _value_of(option: Option) -> _Text:
    """The option's value as configparser reads it: comment lines among the continuation
    lines (tox.ini, setup.cfg) are comments, not part of the value."""
    value = option.value
    if value is None or "\n" not in value:
        return value
    first, *rest = value.split("\n")
    return "\n".join([first, *(line for line in rest if not line.lstrip().startswith(("#", ";")))])


def _option_text(option: str, value: _Text) -> str:
    if value is None:
        return f"{option}\n"
    first, *rest = value.split("\n")
    head = f"{option} ={' ' if first else ''}{first}"
    return head + "".join(f"\n{_CONTINUATION_INDENT}{line}" for line in rest) + "\n"


def _set_value(option: Option, value: _Text) -> None:
    if value is None or "\n" not in value:
        option.value = value
        return
    first, *rest = value.split("\n")
    if first:
        option.set_values([first, *rest], indent=_CONTINUATION_INDENT, prepend_newline=False)
    else:
        option.set_values(rest, indent=_CONTINUATION_INDENT, prepend_newline=True)


def _render(sections: _Sections) -> str:
    out: list[str] = []
    for path, options in sections.items():
        if path:
            if out:
                out.append("\n")
            out.append(f"[{'/'.join(path)}]\n")
        out.extend(_option_text(name, value) for name, value in options.items())
    return "".join(out)


def _apply(updater: ConfigUpdater, sections: _Sections) -> bool:
    """Change the parsed file to hold ``sections``; True if anything changed."""
    changed = False
    existing: dict[_Path, Section] = {}
    for section in list(updater.iter_sections()):
        path = _section_path(section)
        if path and path not in sections:
            section.detach()
            changed = True
        else:
            existing[path] = section
    for path, section in existing.items():
        wanted = sections[path]
        for option in list(section.iter_options()):
            if option.raw_key not in wanted:
                option.detach()
                changed = True
    for path, options in sections.items():
        found = existing.get(path)
        if found is None:
            last_block = updater.last_block
            if (
                last_block is not None
                and str(last_block) != _HEADER
                and not str(last_block).endswith("\n\n")
            ):
                last_block.add_after.space()  # a blank line before the new section
            found = Section("/".join(path))
            updater.add_section(found)
            changed = True
        changed = _fill_section(found, options) or changed
    return changed


def _fill_section(section: Section, options: dict[str, _Text]) -> bool:
    """Set the section's options to the planned values, adding missing ones after the last
    option (not after the blank lines and comments that may follow it)."""
    changed = False
    current = {option.raw_key: option for option in section.iter_options()}
    last = next(reversed(current.values()), None)
    for name, value in options.items():
        option = current.get(name)
        if option is None:
            builder = last.add_after if last is not None else section.insert_at(0)
            builder.option(name, None if value is None else "")
            option = last = section[name]  # the builder does not hand out what it built
        elif _value_of(option) == value:
            continue  # keeps comment lines among its continuation lines
        _set_value(option, value)
        changed = True
    return changed


@dataclass
class _Original:
    data: bytes
    parsed: list[ConfigUpdater] = field(default_factory=list)


# A line that starts like a section header; the split below takes only plain ones.
_HEADER_LIKE = re.compile(r"^[ \t]*\[[^\n]*", re.MULTILINE)
_PLAIN_HEADER = re.compile(r"\[([^\]\n]+)\][ \t]*")


class _SectionBlocks:
    """An ini text split into its sections (``splice.BlockSyntax``): a section's block runs
    from its header to the next header and holds the section's key and options. Options
    before the first section belong to no block. A file with a header line that is indented
    (configparser may read it as a continuation line) or has more after its ``]`` is not
    split."""

    depth: int | None = 1

    def __init__(self, mountpoint: str) -> None:
        self.mountpoint = mountpoint
        self.spaced = True

    def blocks(self, text: str) -> list[Block] | None:
        self.spaced = _spaced_delimiters(text)  # new options as the whole file has them
        return _sections(text)

    def read_block(self, text: str) -> KeySet:
        return _keys_of(_parse(text), self.mountpoint)

    def write_block(self, text: str, keys: KeySet) -> str | None:
        written = _edit(_parse(text, self.spaced), keys, self.mountpoint)
        if written is None:
            return text
        return written if splice.keeps_header(_sections(text), _sections(written)) else None


def _sections(text: str) -> list[Block] | None:
    """The sections of ``text`` as blocks; None if a header line is not plain."""
    starts: list[tuple[int, tuple[str, ...]]] = []
    for line in _HEADER_LIKE.finditer(text):
        header = _PLAIN_HEADER.fullmatch(line.group())
        if header is None:
            return None
        starts.append((line.start(), tuple(header.group(1).split("/"))))
    return blocks_between(starts, len(text))


def _keys_of(updater: ConfigUpdater, mountpoint: str) -> KeySet:
    keys: dict[str, Key] = {}

    def add(key: Key) -> None:
        if key.name in keys:
            raise ResourceError(
                f"ini: the key {key.name} is defined twice (as a section and as an option)",
                key=key.name,
            )
        keys[key.name] = key

    for section in updater.iter_sections():
        path = _section_path(section)
        try:
            section_name = names.child(mountpoint, *path)
        except InvalidNameError as error:
            raise ResourceError(f"ini: section [{section.name}]: {error.message}") from None
        if path:
            add(Key(section_name))
        for option in section.iter_options():
            add(Key(names.child(section_name, option.raw_key), _value_of(option)))
    return KeySet(keys.values())


def _edit(updater: ConfigUpdater, keys: KeySet, mountpoint: str) -> str | None:
    """The parsed text changed to hold ``keys``; None if it already does."""
    options_in_file = {
        (*_section_path(section), option.raw_key)
        for section in updater.iter_sections()
        for option in section.iter_options()
    }
    if not _apply(updater, _plan(keys, mountpoint, options_in_file)):
        return None
    return str(updater)[len(_HEADER) :]


class IniFormat:
    """INI files; comments stay in the file, all metadata goes to the database's sidecar."""

    name = "ini"
    native_meta: frozenset[str] = frozenset()
    typed_values = False

    def read(self, data: bytes, mountpoint: str) -> Document:
        updater = _parse(decode_text(data, "ini"))
        return Document(_keys_of(updater, mountpoint), _Original(data, [updater]))

    def write(self, keys: KeySet, mountpoint: str, previous: Document | None) -> bytes:
        original = previous_state(previous, _Original, "ini")
        if original is None:
            return _render(_plan(keys, mountpoint, set())).encode()
        updater = (
            original.parsed.pop() if original.parsed else _parse(decode_text(original.data, "ini"))
        )
        written = _edit(updater, keys, mountpoint)
        return original.data if written is None else written.encode()

    def write_document(
        self, keys: KeySet, mountpoint: str, previous: Document | None
    ) -> tuple[bytes, Document]:
        """``write``, splicing the changed sections into the file (``storage.splice``)."""
        return splice.write_from_bytes(
            self, keys, mountpoint, previous, _SectionBlocks(mountpoint), _Original, "ini"
        )


FORMAT = IniFormat()
