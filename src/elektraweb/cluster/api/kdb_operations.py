"""webd's `kdb*` requests as daemon-link operations (docs/protocol.md §4): for each, the route
suffix, the operation, and how the request's path, query and body become its arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NotRequired, TypedDict

from elektraweb.cluster.api.errors import BadRequest
from elektraweb.cluster.api.routing import Call, QueryParam
from elektraweb.cluster.api.schema import (
    ANY,
    BOOLEAN,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    Schema,
    array,
    enum,
    obj,
)
from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError
from elektraweb.wire.replies import KeyToSetJSON, OperationArgs

FORMATS = ("dump", "ini", "json", "yaml", "toml")
META: Schema = {"type": "object", "additionalProperties": STRING}
KEY_STATE: Schema = obj(
    {"exists": BOOLEAN, "name": STRING, "path": STRING, "ls": array(STRING)},
    {
        "value": NULLABLE_STRING,
        "meta": META,
        "revision": STRING,
        "children": array(ANY),
        "count": INTEGER,
    },
    extra=True,
)
EXPLANATION: Schema = obj(
    {
        "key": STRING,
        "resolved": NULLABLE_STRING,
        "value": NULLABLE_STRING,
        "spec": obj({"key": NULLABLE_STRING, "meta": META}),
        "steps": array(
            obj(
                {
                    "name": STRING,
                    "found": BOOLEAN,
                    "stage": enum("spec", "override", "namespace", "fallback", "default"),
                },
                {"value": NULLABLE_STRING},
            )
        ),
    },
    {"member": INTEGER},
    extra=True,
)
TEXT_OR_JSON = ("text/plain", "application/json")


def _canonical(name: str) -> str:
    try:
        return names.canonical(name)
    except InvalidNameError as error:
        raise BadRequest(error.message, code="invalid-name", key=name) from None


def _key(call: Call) -> str:
    """The canonical key name from the path; an empty name means the cascading root."""
    return _canonical(call.params["key"] or "/")


def _writing(call: Call, args: OperationArgs) -> OperationArgs:
    """Add the optional compare-and-set revision (`?expect=REV`, `?expect=none`)."""
    expect = call.request.query.get("expect")
    if expect is not None:
        args["expect"] = None if expect == "none" else expect
    return args


PREVIEW = QueryParam(
    "preview",
    "true: answer what the write would change on each target (and why a target would refuse"
    " it) and change nothing.",
    BOOLEAN,
)
EXPECT = QueryParam(
    "expect",
    "Compare-and-set: the key's current revision (from a get), or `none` if the key must not"
    " exist; a mismatch answers 409 and writes nothing.",
)


@dataclass(frozen=True)
class KdbRoute:
    method: str
    resource: str
    op: str
    summary: str
    arguments: Callable[[Call], OperationArgs]
    write: bool
    parameter: str = "key"
    body: Schema | None = None
    body_types: tuple[str, ...] = ("application/json",)
    query: tuple[QueryParam, ...] = ()
    response: Schema | None = None


def _get(call: Call) -> OperationArgs:
    return {
        "key": _key(call),
        "depth": call.query_int("preload", 0, low=0, high=9),
        "ls_limit": call.query_int("ls", 10_000, low=0, high=10_000),
    }


def _explain(call: Call) -> OperationArgs:
    return {"key": _key(call)}


def _ls(call: Call) -> OperationArgs:
    args: OperationArgs = {
        "key": _key(call),
        "limit": call.query_int("limit", 1000, low=1, high=10000),
    }
    if "depth" in call.request.query:
        args["depth"] = call.query_int("depth", 0, low=0, high=1 << 16)
    if call.request.query.get("cursor"):
        args["cursor"] = call.request.query["cursor"]
    return args


def _find(call: Call) -> OperationArgs:
    args: OperationArgs = {
        "regex": call.params["regex"],
        "values": call.query_flag("values"),
        "limit": call.query_int("limit", 1000, low=1, high=10000),
    }
    if call.request.query.get("under"):
        args["under"] = _canonical(call.request.query["under"])
    return args


def _set(call: Call) -> OperationArgs:
    return _writing(call, {"key": _key(call), "value": call.body_text()})


def _rm(call: Call) -> OperationArgs:
    return _writing(call, {"key": _key(call), "recursive": True})


def _move_or_copy(call: Call) -> OperationArgs:
    return _writing(
        call,
        {
            "key": _key(call),
            "target": _canonical(call.body_text()),
            "recursive": True,
            "force": call.query_flag("force"),
        },
    )


def _meta_set(call: Call) -> OperationArgs:
    return _writing(
        call, {"key": _key(call), "name": call.text_field("key"), "value": call.text_field("value")}
    )


def _meta_rm(call: Call) -> OperationArgs:
    return _writing(call, {"key": _key(call), "name": call.text_field("key")})


class _MetaEntry(TypedDict):
    key: str
    value: NotRequired[str | None]


class _MetaBulkBody(TypedDict):
    meta: list[_MetaEntry]


class _SetAllBody(TypedDict):
    keys: list[KeyToSetJSON]


def _meta_bulk(call: Call) -> OperationArgs:
    entries = call.checked_body(_MetaBulkBody)["meta"]
    meta = {entry["key"]: entry.get("value") for entry in entries}
    return _writing(call, {"key": _key(call), "meta": meta})


def _set_all(call: Call) -> OperationArgs:
    return {"key": _key(call), "keys": call.checked_body(_SetAllBody)["keys"]}


def _format(call: Call) -> str:
    fmt = call.request.query.get("format", "dump")
    if fmt not in FORMATS:
        raise BadRequest(f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    return fmt


def _export(call: Call) -> OperationArgs:
    return {"key": _key(call), "format": _format(call)}


def _import(call: Call) -> OperationArgs:
    strategy = call.request.query.get("strategy", "preserve")
    if strategy not in ("replace", "overwrite", "preserve"):
        raise BadRequest(
            f"strategy {strategy!r} is not one of replace, overwrite, preserve", field="strategy"
        )
    return {
        "key": _key(call),
        "format": _format(call),
        "data": call.body_text(),
        "strategy": strategy,
    }


FORMAT = QueryParam("format", "Storage format (default dump).", enum(*FORMATS))


def _move_or_copy_route(operation_id: str, op: str, verb: str) -> KdbRoute:
    return KdbRoute(
        "POST",
        operation_id,
        op,
        f"{verb} a key and everything below it; the body is the target name",
        _move_or_copy,
        write=True,
        body=STRING,
        body_types=TEXT_OR_JSON,
        query=(
            EXPECT,
            QueryParam("force", "Overwrite existing target keys.", BOOLEAN),
            PREVIEW,
        ),
    )


KDB_ROUTES = (
    KdbRoute(
        "GET",
        "kdb",
        "get",
        "Get a key: value, metadata, the names below it (webd's shape)",
        _get,
        write=False,
        query=(
            QueryParam(
                "preload",
                "Levels of `children` to include (0-9).",
                {"type": "integer", "minimum": 0, "maximum": 9},
            ),
            QueryParam(
                "ls",
                "Most names in each `ls` (0-10000, default 10000); `count` always says how"
                " many keys are at and below the key.",
                {"type": "integer", "minimum": 0, "maximum": 10000},
            ),
        ),
        response=KEY_STATE,
    ),
    KdbRoute(
        "GET",
        "kdbExplain",
        "explain",
        "How the key's cascading name resolves (`kdb get -v`): the spec key and its metadata,"
        " each name tried by override, namespace, fallback and default, and the winner. A"
        " cluster answers with the explanation of its first member that answers (`member`).",
        _explain,
        write=False,
        response=EXPLANATION,
    ),
    KdbRoute(
        "PUT",
        "kdb",
        "set",
        "Set a key's value (text/plain, or a JSON string)",
        _set,
        write=True,
        body=STRING,
        body_types=TEXT_OR_JSON,
        query=(EXPECT, PREVIEW),
    ),
    KdbRoute(
        "DELETE",
        "kdb",
        "rm",
        "Remove a key and everything below it (`kdb rm -r`)",
        _rm,
        write=True,
        query=(EXPECT, PREVIEW),
    ),
    KdbRoute(
        "GET",
        "kdbLs",
        "ls",
        "List the names at and below a key, paged",
        _ls,
        write=False,
        query=(
            QueryParam("depth", "Levels below the key (default: all).", {"type": "integer"}),
            QueryParam("cursor", "`next` of the previous page."),
            QueryParam("limit", "Names per page (1-10000, default 1000).", {"type": "integer"}),
        ),
        response=obj({"keys": array(STRING), "next": NULLABLE_STRING}, extra=True),
    ),
    KdbRoute(
        "GET",
        "kdbFind",
        "find",
        "Find keys whose name (or value) matches a regular expression",
        _find,
        write=False,
        parameter="regex",
        query=(
            QueryParam("values", "Also search values (true/false).", BOOLEAN),
            QueryParam("under", "Search only at and below this key."),
            QueryParam(
                "limit", "Most names to return (1-10000, default 1000).", {"type": "integer"}
            ),
        ),
        response=obj({"keys": array(STRING), "truncated": BOOLEAN}, extra=True),
    ),
    _move_or_copy_route("kdbMv", "mv", "Move"),
    _move_or_copy_route("kdbCp", "cp", "Copy"),
    KdbRoute(
        "POST",
        "kdbMeta",
        "meta-set",
        "Set one metadata entry: {key, value}",
        _meta_set,
        write=True,
        body=obj({"key": STRING, "value": STRING}),
        query=(EXPECT, PREVIEW),
    ),
    KdbRoute(
        "DELETE",
        "kdbMeta",
        "meta-rm",
        "Remove one metadata entry: {key}",
        _meta_rm,
        write=True,
        body=obj({"key": STRING}),
        query=(EXPECT, PREVIEW),
    ),
    KdbRoute(
        "POST",
        "kdbMetaBulk",
        "meta-bulk",
        "Set several metadata entries at once: {meta: [{key, value}]}; a null value removes",
        _meta_bulk,
        write=True,
        body=obj({"meta": array(obj({"key": STRING}, {"value": NULLABLE_STRING}))}),
        query=(EXPECT, PREVIEW),
    ),
    KdbRoute(
        "PUT",
        "kdbAll",
        "set-all",
        "Replace the subtree at a key with exactly the given keys: {keys: [{name, value, meta}]}",
        _set_all,
        write=True,
        body=obj({"keys": array(obj({"name": STRING, "value": NULLABLE_STRING}, {"meta": META}))}),
        query=(PREVIEW,),
    ),
    KdbRoute(
        "GET",
        "kdbExport",
        "export",
        "Export the subtree at a key as the text of a file",
        _export,
        write=False,
        query=(FORMAT,),
        response=obj({"format": STRING, "data": STRING}, extra=True),
    ),
    KdbRoute(
        "POST",
        "kdbImport",
        "import",
        "Import a file's text (the body) into the subtree at a key",
        _import,
        write=True,
        body=STRING,
        body_types=TEXT_OR_JSON,
        query=(
            FORMAT,
            QueryParam(
                "strategy",
                "replace, overwrite or preserve (default).",
                enum("replace", "overwrite", "preserve"),
            ),
            PREVIEW,
        ),
    ),
)
