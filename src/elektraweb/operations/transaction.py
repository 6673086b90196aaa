"""One write: read the keys under a parent, change them, check the rules, store them at once.

Every write but elektrad's group-committed ``set`` goes through a Transaction, so
compare-and-set, the store's owner rules (elektrad's cluster locks), protected keys,
``restrict/*`` and the reported changes are handled in one place for both stores.
"""

from __future__ import annotations

from elektraweb.kdb import names
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.protected import refusal
from elektraweb.kdb.spec import CRITICAL, Specification
from elektraweb.kdb.types import FALSE_WORDS
from elektraweb.operations.arguments import ABSENT, Expect
from elektraweb.operations.representation import key_revision
from elektraweb.operations.store import KeyChange, KeyStore
from elektraweb.wire.errors import ErrorCode, RemoteError


class Transaction:
    """Changes to the keys at and below ``parent``, stored by :meth:`commit` all at once."""

    def __init__(
        self, store: KeyStore, parent: str, *, cluster: str | None, reason: str | None = None
    ) -> None:
        self._store = store
        self._parent = parent
        self._cluster = cluster
        self._reason = reason
        # A set of its own over the store's shared keys: keys are put and removed, never
        # changed in place, so copying each one (a 100k-key subtree) would buy nothing.
        self._keys = KeySet(store.view(parent))
        self._before: dict[str, Key | None] = {}
        self._subtrees: list[str] = []

    def lookup(self, name: str) -> Key | None:
        return self._keys.lookup(name)

    def below(self, name: str) -> list[Key]:
        """The key ``name`` (if it exists) and every key below it, in order."""
        return list(self._keys.below(name))

    def expect(self, name: str, expected: Expect) -> None:
        """Compare-and-set: refuse with ``conflict`` unless ``name`` has revision ``expected``."""
        check_expected(self._keys, name, expected)

    def touch_subtree(self, name: str) -> None:
        """Declare that the write covers the whole subtree at ``name`` (for lock checks)."""
        self._subtrees.append(name)

    def put(self, key: Key) -> None:
        """Create or replace ``key``; the transaction owns it from now on."""
        self._remember(key.name)
        self._keys.add(key)

    def remove(self, name: str) -> None:
        self._remember(name)
        self._keys.remove(name)

    def _remember(self, name: str) -> None:
        if name not in self._before:
            old = self._keys.lookup(name)
            self._before[name] = None if old is None else old.copy()

    def changes(self) -> list[KeyChange]:
        """Keys whose content differs from before, in key order."""
        result: list[KeyChange] = []
        for name in sorted(self._before, key=names.sort_key):
            old, new = self._before[name], self._keys.lookup(name)
            if old is None and new is None:
                continue
            if old is not None and new is not None and old.same_content(new):
                continue
            result.append(KeyChange(name, old, new))
        return result

    def commit(self) -> list[KeyChange]:
        """Check the owner's rules and the keys' own, store every change atomically, and
        return the changes as stored (read back: elektrad adds metadata from the
        specification; a preview stores nothing and returns them as they would be made)."""
        self._store.admit(self._before, self._subtrees, self._cluster)
        pending = self.changes()
        critical = CriticalKeys(self._keys, cluster=self._cluster, reason=self._reason)
        for change in pending:
            check_protected(change)
            check_restrictions(change)
            critical.check(change)
        if not pending:
            return []
        self._keys = self._store.store(self._parent, self._keys)
        return self.changes()


def _flagged(key: Key | None, meta: str) -> bool:
    """As the KDB's validation reads ``restrict/*``: set to anything but a false word."""
    flag = None if key is None else key.meta.get(meta)
    return flag is not None and flag.casefold() not in FALSE_WORDS


def _restricted(key: Key | None, what: str) -> bool:
    return _flagged(key, f"restrict/{what}")


class CriticalKeys:
    """Refuses (``reason-required``) a change to a critical key that gives no reason. A key
    read carries its specification's metadata; one being created is looked up in the
    specification of ``keys`` (built once, on the first creation). A cluster's writes were
    checked by clusterd before it fanned them out."""

    def __init__(self, keys: KeySet, *, cluster: str | None, reason: str | None) -> None:
        self._keys = keys
        self._exempt = cluster is not None or reason is not None
        self._specification: Specification | None = None

    def check(self, change: KeyChange) -> None:
        if self._exempt or not self._critical(change):
            return
        raise RemoteError(
            ErrorCode.REASON_REQUIRED,
            f"{change.key} is critical (its specification sets {CRITICAL}): give a reason"
            " for the change",
            key=change.key,
        )

    def _critical(self, change: KeyChange) -> bool:
        if _flagged(change.old, CRITICAL) or _flagged(change.new, CRITICAL):
            return True
        if change.old is not None or change.new is None:
            return False
        if self._specification is None:
            self._specification = Specification(self._keys)
        return _flagged(Key(change.key, None, self._specification.meta_for(change.new)), CRITICAL)


def check_expected(keys: KeySet, name: str, expected: Expect) -> None:
    """Refuse with ``conflict`` unless the key ``name`` in ``keys`` has revision ``expected``
    (None: does not exist; ABSENT: no check)."""
    if expected is ABSENT:
        return
    current = key_revision(keys.lookup(name))
    if current != expected:
        state = "does not exist" if current is None else f"has revision {current}"
        wanted = "not to exist" if expected is None else f"revision {expected}"
        raise RemoteError(
            ErrorCode.CONFLICT,
            f"key {name} {state}, but the write expected {wanted}: it changed since it was read",
            key=name,
            elektra="C02000",
        )


def check_protected(change: KeyChange) -> None:
    """Refuse with ``protected`` a change to what the KDB itself interprets (the mount table
    and the rest of ``kdb.protected``): mounts are the mount operations' business."""
    old_meta = None if change.old is None else change.old.meta
    new_meta = None if change.new is None else change.new.meta
    reason = refusal(change.key, old_meta, new_meta)
    if reason is not None:
        raise RemoteError(ErrorCode.PROTECTED, reason, key=change.key)


def check_restrictions(change: KeyChange) -> None:
    """Refuse with ``forbidden`` what ``restrict/remove`` or ``restrict/write`` rule out."""
    if change.new is None and _restricted(change.old, "remove"):
        raise RemoteError(
            ErrorCode.FORBIDDEN,
            f"key {change.key} has restrict/remove: it must not be removed",
            key=change.key,
        )
    if (
        change.new is not None
        and change.old is not None
        and change.old.value != change.new.value
        and _restricted(change.old, "write")
    ):
        raise RemoteError(
            ErrorCode.FORBIDDEN,
            f"key {change.key} has restrict/write: its value must not be changed",
            key=change.key,
        )
