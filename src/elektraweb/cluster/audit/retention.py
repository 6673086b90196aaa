"""Retention: the one way entries leave the audit log (docs/security.md §9).

The entries older than a given id or time are written as JSON lines to a new file in clusterd's
state directory (`Config.audit_export_dir`, named by clusterd, never by the caller), made
durable, and only then dropped, in the same transaction that records the retention as an entry
of its own, which stays. A crash before the drop leaves the entries in place (and maybe a file
that a later retention exports again); never a dropped entry that no file holds.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from elektraweb.cluster.api.errors import BadRequest, Conflict
from elektraweb.cluster.audit.log import AuditEntry, AuditLog
from elektraweb.kdb.files import fsync_directory


def utc_time(text: str, field: str) -> str:
    """An ISO 8601 time with its zone (the request's `field`) as the audit log writes times
    (UTC, milliseconds)."""
    try:
        time = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{field} {text!r} is not an ISO 8601 time", field=field) from None
    if time.tzinfo is None:
        raise BadRequest(f"{field} {text!r} has no time zone (add Z or +00:00)", field=field)
    return time.astimezone(UTC).isoformat(timespec="milliseconds")


def _through_id(audit: AuditLog, before_id: int | None, before_time: str | None) -> int:
    if (before_id is None) == (before_time is None):
        raise BadRequest("give exactly one of before_id and before_time", field="before_id")
    if before_id is not None:
        return before_id - 1
    assert before_time is not None
    last = audit.last_id_before(utc_time(before_time, "before_time"))
    if last is None:
        raise BadRequest(f"no audit entry is older than {before_time}", field="before_time")
    return last


def _export(audit: AuditLog, through_id: int, directory: Path) -> tuple[str, int, str]:
    """Write the entries to a new file, durably; its name, entry count and SHA-256."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"audit-through-{through_id}-{stamp}.jsonl"
    staged = directory / f".{name}.tmp"
    digest, count = hashlib.sha256(), 0
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            for entry in audit.retainable(through_id):
                line = (json.dumps(entry.to_json()) + "\n").encode()
                out.write(line)
                digest.update(line)
                count += 1
            out.flush()
            os.fsync(out.fileno())
        if count == 0:
            raise BadRequest(f"no audit entries up to id {through_id} to export", field="before_id")
        os.rename(staged, directory / name)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    fsync_directory(directory)
    return name, count, digest.hexdigest()


def retain(
    audit: AuditLog,
    directory: Path,
    *,
    user: str,
    before_id: int | None = None,
    before_time: str | None = None,
) -> AuditEntry:
    """Export the entries older than `before_id` (or recorded before `before_time`) to a
    file in `directory`, then drop them; returns the retention's own entry. Refuses (409)
    while one of them is still pending."""
    through_id = _through_id(audit, before_id, before_time)
    pending = audit.oldest_pending(through_id)
    if pending is not None:
        raise Conflict(
            f"audit entry {pending} is still pending (its outcome is not known yet): retain"
            " only entries before it, or once it is resolved",
            field="before_id",
        )
    name, count, sha256 = _export(audit, through_id, directory)
    return audit.drop_exported(user, through_id, {"file": name, "entries": count, "sha256": sha256})
