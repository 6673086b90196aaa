"""Who makes a request: the roles, and the principal (a user with the role it acts in).

The store keeps them, the transports authenticate them, the dispatcher checks them: none of
those layers owns the concept, so it lives beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
_RANK = {role: rank for rank, role in enumerate(ROLES)}


def role_allows(role: Role, needed: Role) -> bool:
    """True if `role` may do what `needed` may (viewer < editor < admin)."""
    return _RANK[role] >= _RANK[needed]


def lesser_role(a: Role, b: Role) -> Role:
    return a if _RANK[a] <= _RANK[b] else b


@dataclass(frozen=True)
class Principal:
    """An authenticated user and the role this request runs with."""

    user: str
    role: Role
    via: Literal["session", "token"]
    credential_id: int | None = None
    """Row id of the session or API token that authenticated the request (for logout)."""
