"""Key names relative to a mountpoint, written ``a/b`` as line-based formats (ni, mini) do."""

from __future__ import annotations

from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError, ResourceError


def absolute(mountpoint: str, relative: str, line: int, format_name: str) -> str:
    """The full name of ``relative`` (``a/b``, ``/a/b`` or empty for the mountpoint)."""
    text = relative.lstrip("/")  # a trailing '/' may be escaped: canonical() knows
    try:
        return names.canonical(f"{mountpoint}/{text}") if text else names.canonical(mountpoint)
    except InvalidNameError as error:
        raise ResourceError(f"{format_name} line {line}: {error.message}") from None


def relative(name: str, mountpoint: str) -> str:
    """``name`` relative to ``mountpoint``, its parts escaped; empty for the mountpoint."""
    return "/".join(names.escape_part(part) for part in names.relative_parts(name, mountpoint))
