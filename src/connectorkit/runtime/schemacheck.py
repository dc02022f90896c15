"""Checking JSON values against a definition's Swagger schemas with JSON Schema Draft 4.

A webhook callback against ``x-ms-notification-content`` and a response against the operation's
declared schema (the console's Test page) are checked the same way: Draft 4 semantics, every
local ``$ref`` resolved in the definition, and the Swagger-isms Draft 4 cannot apply removed:
a boolean ``required`` (older definitions), a ``type`` Draft 4 has no name for (``file``), a
``$ref`` that is not a string. ``x-nullable: true`` admits null; ``x-ms-*`` keys are unknown
keywords and so ignored.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from jsonschema import Draft4Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from connectorkit.definition.swagger import Swagger

DRAFT4_TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})

__all__ = ["DRAFT4_TYPES", "Draft4Validator", "ValidationError", "draft4_validator", "pointer_of", "schema_errors"]


def draft4_validator(swagger: Swagger, pointer: str) -> Draft4Validator:
    """A validator for the schema at JSON pointer ``pointer`` of the definition.

    The validator's root is a cleaned copy of the whole definition whose ``$ref`` points at the
    schema: in Draft 4 a ``$ref`` makes its siblings ignored, and every local reference
    (``#/definitions/...``, ``#/responses/...``) then resolves in the document."""
    root = _cleaned(swagger.doc)
    root["$ref"] = quote("#" + pointer, safe="#/~")
    return Draft4Validator(root)


def schema_errors(validator: Draft4Validator, value: Any) -> list[ValidationError]:
    """Every way ``value`` departs from the schema, in document order. A schema jsonschema cannot
    apply raises (callers record that as a problem of its own)."""
    return sorted(validator.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])


def pointer_of(error: ValidationError) -> str:
    """The JSON pointer of the offending value."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)


def _cleaned(node: Any) -> Any:
    if isinstance(node, list):
        return [_cleaned(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "required" and not isinstance(value, list):
            continue
        if key == "$ref" and not isinstance(value, str):
            continue
        if key == "type" and isinstance(value, str) and value not in DRAFT4_TYPES:
            continue
        out[key] = _cleaned(value)
    if node.get("x-nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out
