"""JSON Schema, the small subset clusterd's routes use: declared once per route, it documents
the request and response in the OpenAPI document and checks every request body.

Supported keywords: type (a name or a list), properties, required, additionalProperties (bool
or schema), items, enum, minLength, minimum, maximum, description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

from elektraweb.cluster.api.errors import BadRequest


class Schema(TypedDict, total=False):
    """One schema: the keywords above, nothing else."""

    type: str | list[str]
    properties: dict[str, Schema]
    required: list[str]
    additionalProperties: bool | Schema
    items: Schema
    enum: list[str]
    minLength: int
    minimum: int | float
    maximum: int | float
    description: str
    anyOf: list[Schema]


STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"type": ["string", "null"]}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
ANY: Schema = {}


def obj(
    required: dict[str, Schema],
    optional: dict[str, Schema] | None = None,
    *,
    extra: bool | Schema = False,
) -> Schema:
    """An object schema with the given required and optional members."""
    properties = {**required, **(optional or {})}
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": extra}
    if required:
        schema["required"] = list(required)
    return schema


def nullable(schema: Schema) -> Schema:
    """`schema`, or null."""
    kind = schema["type"]
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def _is(value: object, type_name: str) -> bool:
    if isinstance(value, bool) and type_name in ("integer", "number"):
        return False
    return isinstance(value, _TYPES[type_name])


def problem(value: object, schema: Schema, where: str) -> str | None:
    """What is wrong with `value` (naming the member as `where`), or None if it fits."""
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_is(value, name) for name in names):
            return f"{where} must be {' or '.join(names)}, not {type(value).__name__}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where} must be one of {', '.join(map(str, schema['enum']))}, not {value!r}"
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        return f"{where} must have at least {schema['minLength']} characters"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where} must be at least {schema['minimum']}, not {value}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where} must be at most {schema['maximum']}, not {value}"
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found = problem(item, schema["items"], f"{where}[{index}]")
            if found:
                return found
    if isinstance(value, Mapping):
        return _object_problem(value, schema, where)
    return None


def _object_problem(value: Mapping[str, object], schema: Schema, where: str) -> str | None:
    for name in schema.get("required", ()):
        if name not in value:
            return f"{where} lacks the member {name!r}"
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, member in value.items():
        if name in properties:
            member_schema = properties[name]
        elif extra is False:
            known = ", ".join(properties) or "none"
            return f"{where} has the unknown member {name!r} (known: {known})"
        elif isinstance(extra, dict):
            member_schema = extra
        else:
            continue
        found = problem(member, member_schema, f"{where}.{name}")
        if found:
            return found
    return None


def check(value: object, schema: Schema, where: str = "body") -> None:
    """Raise BadRequest (naming the member) unless `value` fits `schema`."""
    found = problem(value, schema, where)
    if found:
        raise BadRequest(found)
