"""Keys the KDB itself interprets, which no remote write may change (docs/security.md §1).

- ``system:/elektra`` and everything below it: the mount table (which file holds which keys)
  and the rest of the KDB's own configuration, in the bootstrap file.
- ``/elektra`` in the other persistent namespaces (``spec:``, ``dir:``, ``user:``): libelektra
  reserves the name in every namespace, and a spec for it would give the KDB's own keys
  defaults and checks.
- The metadata ``mountpoint`` of ``spec:`` keys: ``kdb spec-mount`` mounts the file it names.

Writing these remotely would let an editor choose which files the daemon reads and writes;
mounting is an operation of its own instead (``mount``/``umount``, for admins only).
Local tools (``kdb mount``, ``kdb set`` on the host) are not restricted by this module.
"""

from __future__ import annotations

from collections.abc import Mapping

from elektraweb.kdb import names
from elektraweb.kdb.mounts import PERSISTENT_NAMESPACES

PROTECTED_ROOTS = tuple(names.join(namespace, ("elektra",)) for namespace in PERSISTENT_NAMESPACES)
SPEC_MOUNT_META = "mountpoint"

Meta = Mapping[str, str] | None


def protected_root(name: str) -> str | None:
    """The protected root at or above the canonical key ``name``, or None."""
    for root in PROTECTED_ROOTS:
        if names.is_below_or_same(name, root):
            return root
    return None


def refusal(name: str, old_meta: Meta = None, new_meta: Meta = None) -> str | None:
    """Why a remote write that takes the key ``name`` from ``old_meta`` to ``new_meta``
    (None: absent) must be refused, or None when it may go ahead."""
    root = protected_root(name)
    if root is not None:
        return (
            f"key {name} is protected: {root} holds the KDB's own configuration "
            "(such as the mount table); mount and unmount files with the mount operations"
        )
    if names.namespace_of(name) == "spec":
        before = None if old_meta is None else old_meta.get(SPEC_MOUNT_META)
        after = None if new_meta is None else new_meta.get(SPEC_MOUNT_META)
        if before != after:
            return (
                f"metadata {SPEC_MOUNT_META!r} of {name} is protected: kdb spec-mount mounts "
                "the file it names; mount files with the mount operations"
            )
    return None
