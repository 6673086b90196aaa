"""`GET /api/compare`: the keys at and below one key on two targets (instances or clusters),
side by side: only in a, only in b, and different in value or metadata (docs/api.md, Compare).

Each side is read with one `export` in dump format, which keeps every value and metadata entry,
and one of the same path in `spec:/`: metadata a key has only because its specification says
so is not the key's own (an instance reports it, a cluster's desired state has none), and is
left out of the comparison. Two round trips per side, whatever the subtree's size.
"""

from __future__ import annotations

import asyncio
import base64

from elektraweb.cluster.api import schema
from elektraweb.cluster.api.errors import BadRequest
from elektraweb.cluster.api.kdb_operations import META
from elektraweb.cluster.api.messages import ApiResponse
from elektraweb.cluster.api.routing import Call, QueryParam, Route
from elektraweb.cluster.api.targets import Target, cluster_target, instance_target
from elektraweb.kdb import names
from elektraweb.kdb.errors import InvalidNameError
from elektraweb.kdb.key import Key
from elektraweb.kdb.keyset import KeySet
from elektraweb.kdb.spec import SPEC, strip_spec
from elektraweb.kdb.storage import get_format
from elektraweb.wire.json_value import EncodableObject
from elektraweb.wire.replies import KeyStateJSON

MAX_KEYS = 10_000
"""Most keys compared per side: beyond it the answer would be too large to read anyway."""

STATE = schema.obj({"value": schema.NULLABLE_STRING, "meta": META})
SIDE = schema.obj({"kind": schema.enum("instance", "cluster"), "id": schema.INTEGER})
COMPARISON = schema.obj(
    {
        "key": schema.STRING,
        "a": SIDE,
        "b": SIDE,
        "only_a": schema.array(schema.obj({"name": schema.STRING, "a": STATE})),
        "only_b": schema.array(schema.obj({"name": schema.STRING, "b": STATE})),
        "different": schema.array(schema.obj({"name": schema.STRING, "a": STATE, "b": STATE})),
        "same": schema.INTEGER,
    }
)


def _target(call: Call, side: str) -> Target:
    text = call.request.query.get(side, "")
    kind, _, number = text.partition(":")
    if kind not in ("instance", "cluster") or not number.isdigit():
        raise BadRequest(
            f"query parameter {side}={text!r} must be instance:ID or cluster:ID", field=side
        )
    if kind == "instance":
        return instance_target(call.services, int(number))
    return cluster_target(call.services, int(number))


def _root(call: Call) -> str:
    text = call.request.query.get("key", "")
    try:
        root = names.canonical(text)
    except InvalidNameError as error:
        raise BadRequest(error.message, code="invalid-name", key=text, field="key") from None
    if names.namespace_of(root) in (names.CASCADING, "meta", "default"):
        raise BadRequest(
            f"key {root!r} must name a namespace such as system:/ or user:/", key=root, field="key"
        )
    return root


def _state(key: Key) -> KeyStateJSON:
    value = key.value
    if isinstance(value, bytes):
        value = base64.b64encode(value).decode("ascii")
    return {"value": value, "meta": dict(key.meta)}


async def _exported(target: Target, root: str) -> KeySet:
    exported = await target.call("export", {"key": root, "format": "dump"})
    return get_format("dump").read(exported.get("data", "").encode(), root).keys


async def _keys(target: Target, root: str) -> dict[str, KeyStateJSON]:
    parsed = await _exported(target, root)
    if names.namespace_of(root) != SPEC:
        spec = await _exported(target, names.with_namespace(root, SPEC))
        parsed = strip_spec(KeySet([*parsed, *spec])).below(root)
    if len(parsed) > MAX_KEYS:
        raise BadRequest(
            f"{target.kind} {target.id} holds {len(parsed)} keys below {root}; compare at most"
            f" {MAX_KEYS}: choose a key further down",
            key=root,
        )
    return {key.name: _state(key) for key in parsed}


async def compare(call: Call) -> ApiResponse:
    a, b, root = _target(call, "a"), _target(call, "b"), _root(call)
    keys_a, keys_b = await asyncio.gather(_keys(a, root), _keys(b, root))
    only_a: list[EncodableObject] = []
    only_b: list[EncodableObject] = []
    different: list[EncodableObject] = []
    same = 0
    for name in sorted(keys_a.keys() | keys_b.keys(), key=names.sort_key):
        if name not in keys_b:
            only_a.append({"name": name, "a": keys_a[name]})
        elif name not in keys_a:
            only_b.append({"name": name, "b": keys_b[name]})
        elif keys_a[name] != keys_b[name]:
            different.append({"name": name, "a": keys_a[name], "b": keys_b[name]})
        else:
            same += 1
    return ApiResponse(
        200,
        {
            "key": root,
            "a": {"kind": a.kind, "id": a.id},
            "b": {"kind": b.kind, "id": b.id},
            "only_a": only_a,
            "only_b": only_b,
            "different": different,
            "same": same,
        },
    )


ROUTES = (
    Route(
        "GET",
        "/api/compare",
        compare,
        "viewer",
        "Compare the keys at and below `key` on two targets: only in a, only in b, and those"
        " whose value or metadata differ. Copying a value across is an ordinary set.",
        "compare",
        query=(
            QueryParam("a", "`instance:ID` or `cluster:ID`."),
            QueryParam("b", "`instance:ID` or `cluster:ID`."),
            QueryParam("key", "The subtree to compare, in a namespace (`system:/app`)."),
        ),
        response=COMPARISON,
        errors=(400, 404, 413, 500, 501, 502, 504),
    ),
)
