"""``set``, alone or as a group commit: sets queued together share one write of their file.

Every set in a group is checked on its own (arguments, compare-and-set, locks, restrictions)
against the keys as the sets before it in the group left them, and answered on its own. The
accepted ones are stored with one KDB set, one fsync per file instead of one per request.
If that KDB set fails (a value its checks refuse, a file changed on disk), each accepted set
is retried alone, so a failure is reported to the request that caused it and to no other.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from elektraweb.instance.arguments import Args, Expect
from elektraweb.instance.context import Change, Host, Operation, Outcome
from elektraweb.instance.errors import remote_error
from elektraweb.instance.events import with_changes
from elektraweb.instance.locks import LockedError
from elektraweb.instance.representation import key_from_wire, key_revision
from elektraweb.instance.transaction import (
    CriticalKeys,
    check_expected,
    check_protected,
    check_restrictions,
    locked_error,
)
from elektraweb.kdb import names
from elektraweb.kdb.errors import KDBError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.wire.messages import RemoteError, Request
from elektraweb.wire.metadata import patched

MEMBERS = frozenset({"key", "value", "meta", "expect", "cluster", "reason"})
Result = Outcome | RemoteError


@dataclass(frozen=True, slots=True)
class _Set:
    index: int  # position in the batch, where its result goes
    name: str
    value: str | None
    patch: dict[str, str | None]
    expect: Expect
    cluster: str | None
    reason: str | None

    @classmethod
    def parse(cls, index: int, args: Args) -> _Set:
        return cls(index, args.stored_key(), args.value(), args.meta(removals=True),
                   args.expect(), args.cluster(), args.reason())

    def apply(self, host: Host, keys: KeySet) -> Key | None:
        """Check this set against ``keys`` and put its key there; returns the old key."""
        check_expected(keys, self.name, self.expect)
        try:
            host.locks.check([self.name], cluster=self.cluster)
        except LockedError as error:
            raise locked_error(error) from None
        old = keys.lookup(self.name)
        new = key_from_wire(self.name, self.value, patched({} if old is None else old.meta,
                                                           self.patch))
        change = Change(self.name, old, new)
        check_protected(change)
        check_restrictions(change)
        CriticalKeys(keys, cluster=self.cluster, reason=self.reason).check(change)
        keys.add(new)
        return old


def set_key(host: Host, args: Args) -> Outcome:
    results: list[Result | None] = [None]
    _commit(host, [_Set.parse(0, args)], results)
    result = results[0]
    if isinstance(result, RemoteError):
        raise result
    assert result is not None
    return result


def set_batch(host: Host, requests: list[Request]) -> list[Result]:
    """Execute queued ``set`` requests together; one result (or error) per request."""
    results: list[Result | None] = [None] * len(requests)
    sets: list[_Set] = []
    for index, request in enumerate(requests):
        try:
            sets.append(_Set.parse(index, Args("set", request.args, MEMBERS)))
        except RemoteError as error:
            results[index] = error
    for group in _groups(host, sets, results):
        _commit(host, group, results)
    assert all(result is not None for result in results)
    return results  # type: ignore[return-value]


def _groups(host: Host, sets: list[_Set], results: list[Result | None]) -> list[list[_Set]]:
    """Sets by the file that stores their key; a key set twice goes to a later group, so
    each set sees the one before it as the key's old state."""
    groups: list[dict[str, list[_Set]]] = []
    for item in sets:
        try:
            file = str(host.kdb.file_of(item.name))
        except KDBError as error:
            results[item.index] = remote_error(error, item.name)
            continue
        for round_ in groups:
            group = round_.setdefault(file, [])
            if all(other.name != item.name for other in group):
                group.append(item)
                break
        else:
            groups.append({file: [item]})
    return [group for round_ in groups for group in round_.values() if group]


def _commit(host: Host, group: list[_Set], results: list[Result | None]) -> None:
    parent = functools.reduce(names.common_parent, (item.name for item in group))
    accepted: list[tuple[_Set, Key | None]] = []
    try:
        keys = KeySet(host.kdb.view(parent))  # its own set; keys are replaced, never changed
        for item in group:
            try:
                accepted.append((item, item.apply(host, keys)))
            except RemoteError as error:
                results[item.index] = error
        if not accepted:
            return
        host.kdb.set(keys, parent, dry_run=host.preview)
        stored = keys if host.preview else host.kdb.view(parent)
    except KDBError as error:
        if len(group) == 1:
            results[group[0].index] = remote_error(error, group[0].name)
            return
        for item in group:
            if results[item.index] is None:
                _commit(host, [item], results)
        return
    for item, old in accepted:
        new = stored.lookup(item.name)
        changed = new is None or old is None or not old.same_content(new)
        changes = [Change(item.name, old, new)] if changed else []
        result = {"key": item.name, "revision": key_revision(new), "created": old is None}
        results[item.index] = Outcome(with_changes(result, changes, item.name, new), changes)


OPERATIONS = (Operation("set", set_key, MEMBERS),)
