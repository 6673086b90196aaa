"""``set`` as a group commit: sets queued together share one write of their file.

Every set in a group is checked on its own (the rules of ``operations.writes.SetRequest``:
arguments, compare-and-set, locks, restrictions) against the keys as the sets before it in the
group left them, and answered on its own. The accepted ones are stored with one KDB set, one
fsync per file instead of one per request. If that KDB set fails (a value its checks refuse, a
file changed on disk), each accepted set is retried alone, so a failure is reported to the
request that caused it and to no other.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from elektraweb.instance.context import Host
from elektraweb.instance.kdb_store import KDBStore
from elektraweb.instance.operations import reported
from elektraweb.kdb import names
from elektraweb.kdb.errors import KDBError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.operations.arguments import Args
from elektraweb.operations.catalog import KEY_OPERATIONS
from elektraweb.operations.errors import remote_error
from elektraweb.operations.result import OperationResult
from elektraweb.operations.writes import SetRequest
from elektraweb.wire.errors import RemoteError
from elektraweb.wire.messages import Request

Result = OperationResult | RemoteError


@dataclass(frozen=True, slots=True)
class _Queued:
    index: int  # position in the batch, where its result goes
    request: Request
    set: SetRequest


def set_batch(host: Host, requests: list[Request]) -> list[Result]:
    """Execute queued ``set`` requests together; one result (or error) per request."""
    results: list[Result | None] = [None] * len(requests)
    queued: list[_Queued] = []
    members = KEY_OPERATIONS["set"].members
    for index, request in enumerate(requests):
        try:
            queued.append(
                _Queued(index, request, SetRequest.parse(Args("set", request.args, members)))
            )
        except RemoteError as error:
            results[index] = error
    store = KDBStore(host)
    for group in _groups(host, queued, results):
        _commit(store, group, results)
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]


def _groups(host: Host, queued: list[_Queued], results: list[Result | None]) -> list[list[_Queued]]:
    """Sets by the file that stores their key; a key set twice goes to a later group, so
    each set sees the one before it as the key's old state."""
    groups: list[dict[str, list[_Queued]]] = []
    for item in queued:
        try:
            file = str(host.kdb.file_of(item.set.name))
        except KDBError as error:
            results[item.index] = remote_error(error, item.set.name)
            continue
        for round_ in groups:
            group = round_.setdefault(file, [])
            if all(other.set.name != item.set.name for other in group):
                group.append(item)
                break
        else:
            groups.append({file: [item]})
    return [group for round_ in groups for group in round_.values() if group]


def _commit(store: KDBStore, group: list[_Queued], results: list[Result | None]) -> None:
    parent = functools.reduce(names.common_parent, (item.set.name for item in group))
    accepted: list[tuple[_Queued, Key | None]] = []
    try:
        keys = KeySet(store.view(parent))  # its own set; keys are replaced, never changed
        for item in group:
            try:
                accepted.append((item, item.set.apply(store, keys)))
            except RemoteError as error:
                results[item.index] = error
        if not accepted:
            return
        stored = store.store(parent, keys)
    except KDBError as error:
        if len(group) == 1:
            results[group[0].index] = remote_error(error, group[0].set.name)
            return
        for item in group:
            if results[item.index] is None:
                _commit(store, [item], results)
        return
    for item, old in accepted:
        results[item.index] = reported(item.set.result(old, stored), item.request)
