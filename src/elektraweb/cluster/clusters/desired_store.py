"""A cluster's desired state as the operations' key store: clusterd answers a cluster's reads
and plans its writes with elektrad's very rules (``elektraweb.operations``), against the keys
the cluster sets, never against a member.

A cluster write acts on the cluster's keys only: `rm -r`, `set-all` and `import replace` of a
subtree remove the cluster's keys in it, never keys a member has on its own; a moved or copied
subtree is the cluster's keys in it. The operation's changes are then stored, published and
applied to the members by ``configuration``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from elektraweb.cluster.api.errors import ApiError, BadRequest
from elektraweb.cluster.instances.gateway import INSTANCE_ERROR_STATUS
from elektraweb.cluster.store.cluster_keys import DesiredState
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.search import SearchLimits
from elektraweb.operations.catalog import KEY_OPERATIONS, run_key_operation
from elektraweb.operations.result import OperationResult
from elektraweb.wire.errors import RemoteError


class DesiredStore:
    """``KeyStore`` over a cluster's desired state. ``store`` keeps the written keys in
    memory only: the caller commits the operation's changes to the database."""

    def __init__(self, state: DesiredState, search: SearchLimits) -> None:
        self._state = state
        self._search = search

    @property
    def search(self) -> SearchLimits:
        return self._search

    def view(self, parent: str) -> KeySet:
        return self._state.keyset

    def admit(self, touched: Iterable[str], subtrees: Iterable[str], cluster: str | None) -> None:
        """Nothing to refuse: a cluster owns its keys (each member checks its locks when the
        change reaches it)."""

    def store(self, parent: str, keys: KeySet) -> KeySet:
        return keys


def run_on_cluster(store: DesiredStore, op: str, args: Mapping[str, Any]) -> OperationResult:
    """Run the key operation ``op`` on a cluster's desired state; its refusals as the API
    errors an instance's refusal becomes (same code, same status)."""
    if op not in KEY_OPERATIONS:
        raise BadRequest(f"operation {op!r} is not available on a cluster")
    try:
        return run_key_operation(store, op, args)
    except RemoteError as error:
        raise api_error_of(error) from None


def api_error_of(error: RemoteError) -> ApiError:
    """The API error of an operation's refusal."""
    details = {
        name: value
        for name, value in (("key", error.key), ("elektra", error.elektra))
        if value is not None
    }
    return ApiError(
        error.message,
        code=str(error.code),
        status=INSTANCE_ERROR_STATUS.get(error.code, 500),
        **details,
    )
