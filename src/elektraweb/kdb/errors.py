"""Errors of the key database, carrying libelektra's error codes."""

from __future__ import annotations

RESOURCE = "C01100"
INSTALLATION = "C01200"
INTERNAL = "C01310"
INTERFACE = "C01320"
PLUGIN_MISBEHAVIOR = "C01330"
CONFLICT = "C02000"
VALIDATION_SYNTACTIC = "C03100"
VALIDATION_SEMANTIC = "C03200"


class KDBError(Exception):
    """Any failure of the KDB; `code` is libelektra's code, `key` the key it is about."""

    code: str = INTERNAL

    def __init__(self, message: str, *, key: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidNameError(KDBError, ValueError):
    """A key name that is not valid; the message quotes it and says why."""

    code = INTERFACE


class NotFoundError(KDBError, LookupError):
    """A key that does not exist."""

    code = INTERFACE


class ResourceError(KDBError):
    """A file that cannot be read, written or parsed."""

    code = RESOURCE


class ConflictError(KDBError):
    """A file changed on disk since the last get."""

    code = CONFLICT


class ValidationError(KDBError):
    """A value or operation that the key's metadata does not allow."""

    code = VALIDATION_SEMANTIC


class MountError(KDBError):
    """A mountpoint that cannot be created or removed."""

    code = INSTALLATION
