"""The audit log routes: who changed what, newest first, filtered; and its retention."""

from __future__ import annotations

from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, QueryParam, Route
from elektraweb.cluster.api.schema import (
    ANY,
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    Schema,
    array,
    obj,
)
from elektraweb.cluster.audit.log import DEFAULT_LIMIT, MAX_LIMIT, AuditFilter
from elektraweb.cluster.audit.retention import retain

WHO_WHAT_WHERE: dict[str, Schema] = {
    "id": INTEGER,
    "time": STRING,
    "user": STRING,
    "action": STRING,
    "target": obj({"type": STRING, "id": NULLABLE_STRING}),
    "key": NULLABLE_STRING,
}
"""The members every entry of the audit log has, as the audit log and the history show it."""
ENTRY = obj(
    {
        **WHO_WHAT_WHERE,
        "before": ANY,
        "after": ANY,
        "result": ANY,
        "pending": BOOLEAN,
    }
)
RETENTION = obj({}, {"before_id": INTEGER, "before_time": STRING})
PAGING = (
    QueryParam("before", "Only entries with a smaller id (paging).", INTEGER),
    QueryParam("limit", f"At most this many entries (1-{MAX_LIMIT}).", INTEGER),
)
"""The query parameters that page through entries of the audit log, newest first."""


def _optional_id(call: Call, name: str) -> int | None:
    if not call.request.query.get(name):
        return None
    return call.query_int(name, 0, low=0, high=1 << 62)


async def audit_entries(call: Call) -> ApiResponse:
    query = call.request.query
    where = AuditFilter(
        instance=_optional_id(call, "instance"),
        cluster=_optional_id(call, "cluster"),
        user=query.get("user") or None,
        key=query.get("key") or None,
        before_id=_optional_id(call, "before"),
        limit=call.query_int("limit", DEFAULT_LIMIT, low=1, high=MAX_LIMIT),
    )
    entries = call.services.audit.entries(where)
    return ApiResponse(200, [entry.to_json() for entry in entries])


async def audit_retention(call: Call) -> ApiResponse:
    entry = retain(
        call.services.audit,
        call.services.config.audit_export_dir,
        user=call.principal.user,
        before_id=call.optional_int_field("before_id"),
        before_time=call.optional_text_field("before_time"),
    )
    return ApiResponse(200, entry.to_json())


ROUTES = (
    Route(
        "GET",
        "/api/audit",
        audit_entries,
        "viewer",
        "The audit log, newest first",
        "audit",
        query=(
            QueryParam("instance", "Only changes of this instance id.", INTEGER),
            QueryParam("cluster", "Only changes of this cluster id.", INTEGER),
            QueryParam("user", "Only changes made by this user."),
            QueryParam("key", "Only changes of this key and the keys below it."),
            *PAGING,
        ),
        response=array(ENTRY),
        errors=(400,),
    ),
    Route(
        "POST",
        "/api/audit/retention",
        audit_retention,
        "admin",
        "Export the entries older than an id or a time to a file in clusterd's state directory,"
        " then drop them; answers the retention's own entry",
        "audit",
        body=RETENTION,
        response=ENTRY,
        errors=(400, 409),
    ),
)
