"""What a write would change, answered instead of making it (`?preview=true`, docs/api.md
§Preview): one entry per target (an instance; for a cluster, its desired state and then each
member), each listing the keys that would change or the reason it would refuse."""

from __future__ import annotations

from collections.abc import Iterable
from typing import NotRequired, TypedDict

from elektraweb.cluster.api.errors import ApiError
from elektraweb.cluster.api.schema import ANY, BOOLEAN, INTEGER, STRING, array, nullable, obj
from elektraweb.wire.json_value import EncodableObject
from elektraweb.wire.replies import ChangeJSON, KeyStateJSON, ValueDigestJSON


class PreviewChange(TypedDict):
    key: str
    before: str | ValueDigestJSON | None
    after: str | ValueDigestJSON | None
    meta_before: dict[str, str] | None
    """None: the key does not exist (before) or would not exist (after)."""
    meta_after: dict[str, str] | None


class TargetPreview(TypedDict):
    instance: NotRequired[int]
    cluster: NotRequired[int]
    changes: list[PreviewChange]
    refused: EncodableObject | None
    truncated: NotRequired[bool]


META_OR_NULL = nullable({"type": "object", "additionalProperties": STRING})
CHANGE_SCHEMA = obj(
    {
        "key": STRING,
        "before": ANY,
        "after": ANY,
        "meta_before": META_OR_NULL,
        "meta_after": META_OR_NULL,
    }
)
PREVIEW_SCHEMA = obj(
    {
        "preview": BOOLEAN,
        "targets": array(
            obj(
                {"changes": array(CHANGE_SCHEMA), "refused": ANY},
                {"instance": INTEGER, "cluster": INTEGER, "truncated": BOOLEAN},
            )
        ),
    }
)


def _value(state: KeyStateJSON | None) -> str | ValueDigestJSON | None:
    if state is None:
        return None
    if "value_digest" in state:
        return state["value_digest"]
    return state.get("value")


def preview_changes(reported: Iterable[ChangeJSON]) -> list[PreviewChange]:
    """Reported changes in the preview's shape, leaving out keys that stay as they are (a
    write reports its own key even then)."""
    return [
        {
            "key": change["key"],
            "before": _value(old),
            "after": _value(new),
            "meta_before": None if old is None else old["meta"],
            "meta_after": None if new is None else new["meta"],
        }
        for change in reported
        if (old := change["old"]) != (new := change["new"])
    ]


def accepted(
    where: TargetPreview, reported: Iterable[ChangeJSON], truncated: bool = False
) -> TargetPreview:
    """`where` (`{"instance": id}` or `{"cluster": id}`) with what the write would change."""
    where = {**where, "changes": preview_changes(reported), "refused": None}
    if truncated:
        where["truncated"] = True
    return where


def refused(where: TargetPreview, error: ApiError) -> TargetPreview:
    """`where` with the refusal the write would meet; it would change nothing there."""
    return {**where, "changes": [], "refused": error.body()["error"]}


def instance_at(instance_id: int) -> TargetPreview:
    return {"instance": instance_id, "changes": [], "refused": None}


def cluster_at(cluster_id: int) -> TargetPreview:
    return {"cluster": cluster_id, "changes": [], "refused": None}
