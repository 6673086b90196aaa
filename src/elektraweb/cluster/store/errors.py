"""What the store refuses: a record that is not there, one that clashes with another, a field
with an unusable value.

The store knows nothing of HTTP: `api.errors.from_store` gives each refusal its status. The
`subject` members (``user``, ``instance``, ``field`` ...) name what the refusal is about and
become members of the API's error object.
"""

from __future__ import annotations


class StoreError(Exception):
    """A refusal; `code` refines the kind (e.g. ``duplicate-user``) where a client needs it."""

    def __init__(self, message: str, *, code: str | None = None, **subject: str | int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subject = subject


class RecordNotFound(StoreError):
    """No user, token, instance or cluster with that name or id."""


class RecordConflict(StoreError):
    """The change clashes with what is stored (a duplicate, the last admin, a membership)."""


class TokenRefused(StoreError):
    """A one-time token (enrollment) that is unknown, expired or already used; `code` says
    which."""


class InvalidField(StoreError):
    """A field's value is unusable; `field` names it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, field=field)
        self.field = field


class DatabaseLost(StoreError):
    """The connection to the database broke under the statement, or cannot be made again:
    whether the statement ran is unknown, and the next one tries a new connection."""
