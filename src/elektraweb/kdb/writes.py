"""A set's writes: the change a desired state makes to each mounted file, rendered and
validated, and the commit of all of them together under their locks."""

from __future__ import annotations

from elektraweb.kdb import file_locks
from elektraweb.kdb.backend import Backend, StagedWrite
from elektraweb.kdb.errors import INTERFACE, KDBError
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.mounts import MountTable, Region
from elektraweb.kdb.spec import Specification
from elektraweb.kdb.validation import validate_change


def file_change(
    backend: Backend | None,
    table: MountTable,
    region: Region,
    stored: KeySet,
    specification: Specification | None,
    own_checks: bool,
    types: Specification,
) -> StagedWrite | None:
    """The change ``stored`` makes to ``region``'s file (read by ``backend``, None if it
    was not read), validated against ``specification`` unless that is None, new values
    typed as ``types`` declares; None if there is no change."""
    mount = region.mount
    if backend is None or not backend.holds(region.start):
        raise KDBError(
            f"cannot set keys of {mount.name}: {mount.file} was not read by a get of "
            "this KDB; call get first",
            key=mount.name,
            code=INTERFACE,
        )
    submounts = table.submounts(mount)
    current = backend.owned(submounts).below(region.start)
    incoming = stored.below(region.start)
    for name in submounts:
        incoming.cut(name)
    before = KeySet()
    after = KeySet()
    for key in incoming.held():  # keys lent by a get are compared, not copied
        old = current.lookup(key.name)
        if old is key:  # shared with this KDB through a view or a get: unchanged
            continue
        if old is None or not old.same_content(key):
            after.add(key)
            if old is not None:
                before.add(old)
    kept = {key.name for key in incoming.held()}
    removed = {key.name for key in current if key.name not in kept}
    if not len(after) and not removed:
        return None
    before.extend(key for key in current if key.name in removed)
    # Only what changes is validated, so an old invalid value elsewhere never blocks.
    if specification is not None:
        after = validate_change(before, after, specification, own_checks=own_checks)
    # The file's other keys are shared with the current state, not copied.
    desired = KeySet(backend.keys)
    desired.remove_all(removed)
    desired.extend(key.copy() for key in after)
    return backend.prepare(desired, _declared_types(after, types))


def commit(changes: list[StagedWrite], bootstrap: Backend, lock_timeout: float) -> None:
    """Write ``changes`` under their files' locks, the mount table's file (read by
    ``bootstrap``) locked shared: all staged first, then all renamed; a ConflictError
    (nothing written) if any of them, or the mount table, changed on disk since it was
    read."""
    if not changes:
        return
    written = [change.backend for change in changes]
    # The mount table must still be the one the keys were split by: a mount made since
    # would hide keys written to the file that held them before.
    checked = written if bootstrap in written else [*written, bootstrap]
    with file_locks.locked(
        (backend.file for backend in written), lock_timeout, shared=[bootstrap.file]
    ):
        for backend in checked:
            backend.check_unchanged_on_disk()
        try:
            for change in changes:
                change.stage()
        except BaseException:
            for change in changes:
                change.discard()
            raise
        # From here on only renames remain: the window in which a failure leaves some
        # files new and others old is as short as it can be without a journal.
        try:
            for change in changes:
                change.commit()
        finally:
            for change in changes:
                change.discard()


def _declared_types(keys: KeySet, specification: Specification) -> dict[str, str]:
    """The type each key declares, by its own metadata or its specification's: what a new
    value is written as where the format has types (a restored ``port = 5432`` stays a
    number), although the specification's metadata is not stored with the key."""
    declared: dict[str, str] = {}
    for key in keys:
        spec_meta = specification.meta_for(key) if specification else {}
        for meta in (key.meta, spec_meta):
            found = meta.get("check/type") or meta.get("type")
            if found:
                declared[key.name] = found
                break
    return declared
