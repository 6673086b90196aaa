"""The results of elektrad's operations (docs/protocol.md §4), typed as the JSON they are.

One `OperationReply` holds every member any operation answers with (the names do not clash
between operations), so code above the seam reads replies with checked names and types without
a type per operation; `OperationArgs` does the same for the arguments. Neither is checked when
received: elektrad checks the arguments member by member (`operations.arguments`).
"""

from __future__ import annotations

from typing import NotRequired, TypedDict, cast

from elektraweb.wire.errors import ErrorCode, RemoteError


class KeyToSetJSON(TypedDict):
    """One key of `set-all`."""

    name: str
    value: str | None
    meta: NotRequired[dict[str, str]]


class OperationArgs(TypedDict, total=False):
    """An operation's arguments, as docs/protocol.md §3 and §4 list them; which members an
    operation takes depends on the operation."""

    # every operation on keys; `expect` of a restore: each key's revision
    key: str
    expect: str | dict[str, str | None] | None
    preview: bool
    reason: str
    cluster: str
    # get, ls, find
    depth: int | None
    ls_limit: int
    cursor: str | None
    limit: int
    regex: str
    values: bool
    under: str | None
    # writes
    value: str | None
    meta: dict[str, str | None]
    name: str
    target: str
    recursive: bool
    force: bool
    keys: list[str] | list[KeyToSetJSON]
    removals: list[str]
    # export, import
    format: str
    data: str
    strategy: str
    # mount, umount
    mountpoint: str
    path: str


class ValueDigestJSON(TypedDict):
    """A value too large to report: its UTF-8 size and SHA-256."""

    size: int
    sha256: str


class KeyStateJSON(TypedDict):
    value: NotRequired[str | None]
    meta: dict[str, str]
    # In place of `value` when the value is too large to send (docs/protocol.md §4, Changes).
    value_digest: NotRequired[ValueDigestJSON]


class ChangeJSON(TypedDict):
    """One key a write changed: its state before and after (null where it did not exist)."""

    key: str
    old: KeyStateJSON | None
    new: KeyStateJSON | None


class MountJSON(TypedDict):
    mountpoint: str
    file: str
    format: str
    # `umount` answers without `files`; only `mounts` and `version` say whether it is `managed`.
    files: NotRequired[list[str]]
    managed: NotRequired[bool]


class ProblemJSON(TypedDict):
    key: str
    message: str
    elektra: str


class SpecJSON(TypedDict):
    """The spec key that steers a cascading lookup (null if none) and the metadata the
    specification gives the name."""

    key: str | None
    meta: dict[str, str]


class StepJSON(TypedDict):
    """One name a cascading lookup tried: the step, whether a key was there, its value."""

    name: str
    found: bool
    stage: str
    value: NotRequired[str | None]


class OperationReply(TypedDict, total=False):
    """What an operation answers; which members are present depends on the operation."""

    # version, ping
    protocol: int
    elektra: dict[str, str | int]
    instance: str
    hostname: str
    mounts: list[MountJSON]
    mount_dirs: list[str]
    events: dict[str, str | int]
    locks: dict[str, int]
    time: float
    # get
    exists: bool
    name: str
    path: str
    ls: list[str]
    ls_truncated: bool
    value: str | None
    meta: dict[str, str]
    revision: str | None
    children: list[OperationReply]
    resolved: str | None
    problems: list[ProblemJSON]
    count: int
    # explain
    spec: SpecJSON
    steps: list[StepJSON]
    # ls, find, lock, unlock
    keys: list[str]
    next: str | None
    truncated: bool
    budget_exceeded: bool
    cluster: str
    # writes
    key: str
    created: bool
    removed: int
    target: str
    moved: int
    copied: int
    written: int
    changes: list[ChangeJSON]
    changes_truncated: bool
    preview: bool
    restored: int
    # export (and mount, umount)
    format: str
    data: str
    # mount, umount
    mountpoint: str
    file: str
    files: list[str]


def as_reply(op: str, result: object) -> OperationReply:
    """A decoded result as the reply it is; an error reply (`internal`) if it is no object."""
    if not isinstance(result, dict):
        raise RemoteError(ErrorCode.INTERNAL, f"{op} answered {result!r}, not an object")
    return cast(OperationReply, result)
