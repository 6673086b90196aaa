"""libelektra plugin names a mount may list, and what each one is here.

libelektra assembles a backend from plugins named at mount time (``kdb mount app.dump /app
dump validation``): one storage plugin, plus checks that run only where they are mounted.
Here the storage is a format (``elektraweb.kdb.storage``) and every check is always on, so
the other names are recorded with the mount, for tools that read the mount table, and change
nothing else (docs/elektra-differences.md).
"""

from __future__ import annotations

from elektraweb.kdb.errors import MountError
from elektraweb.kdb.storage import FORMATS

# Plugin name -> where its work is done here.
CHECKS = {
    "validation": "check/validation (elektraweb.kdb.validation)",
    "range": "check/range (elektraweb.kdb.validation)",
    "type": "check/type (elektraweb.kdb.types)",
    "enum": "check/enum (elektraweb.kdb.validation)",
    "network": "check/ipaddr and check/port (elektraweb.kdb.validation)",
    "ipaddr": "check/ipaddr (elektraweb.kdb.validation)",
    "error": "trigger/error (elektraweb.kdb.validation)",
    "spec": "spec:/ keys (elektraweb.kdb.spec)",
    "sync": "every write is fsynced (elektraweb.kdb.files)",
}


def split_plugins(listed: list[str], mountpoint: str) -> tuple[str | None, tuple[str, ...]]:
    """The storage format among ``listed`` plugin names (None if there is none) and the
    check plugins, in the given order. MountError names an unknown plugin or a second
    storage format."""
    storage: str | None = None
    checks: list[str] = []
    for name in listed:
        if name in FORMATS:
            if storage is not None and storage != name:
                raise MountError(
                    f"cannot mount {mountpoint}: two storage formats given, "
                    f"'{storage}' and '{name}'",
                    key=mountpoint,
                )
            storage = name
        elif name in CHECKS:
            if name not in checks:
                checks.append(name)
        else:
            raise MountError(
                f"cannot mount {mountpoint}: unknown plugin '{name}' (storage formats: "
                f"{', '.join(FORMATS)}; checks: {', '.join(CHECKS)})",
                key=mountpoint,
            )
    return storage, tuple(checks)
