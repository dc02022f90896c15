"""Swagger Validator rules on parameters, arrays, enums and keywords the platform does not support.

Sections "Parameters", "Arrays" and "Not supported" of Microsoft's rule table, and the enum
rules of "Operations". Several of these keywords (``enum``, ``items``, ``collectionFormat``,
``x-ms-enum-values``…) can sit on a schema, a non-body parameter, a response header or an
``items`` object below them. The engine visits schemas and parameters as separate nodes and
does not visit headers or nested ``items`` at all, so the rules about such keywords read one
index, :func:`typed_objects`, built once per connector, and run on the document node.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import unquote

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import pointer_join, unescape_pointer_token
from connectorkit.definition.swagger import Operation, Swagger
from connectorkit.lint.engine import (
    ARRAY_WITHOUT_ITEMS,
    Context,
    ParameterNode,
    PathItemNode,
    ResponseNode,
    SchemaNode,
    Site,
)
from connectorkit.lint.registry import CERTIFICATION, Hit, On, hit, svr
from connectorkit.lint.rules.security import requirements
from connectorkit.lint.values import json_type as _json_type

PARAMETER_REF_PREFIX = "#/parameters/"
COLLECTION_FORMATS = ("csv", "ssv", "tsv", "pipes", "multi")
MULTI_LOCATIONS = ("query", "formData")
UNSUPPORTED_KEYWORDS = ("uniqueItems", "anyOf", "oneOf", "not")
_DECLARED_TYPES = ("string", "integer", "number", "boolean", "array", "object")
_ARRAY_WITHOUT_ITEMS = ARRAY_WITHOUT_ITEMS


# --------------------------------------------------------------------------- the typed-object index


def typed_objects(ctx: Context) -> dict[str, list[Site]]:
    """Objects holding ``enum``, ``x-ms-enum-values``, ``collectionFormat``, ``required``, an
    unsupported keyword, or ``type: array`` without ``items``, by that key: the engine's site
    index (schemas where written, non-body parameters, headers and their ``items``)."""
    return ctx.site_index


def _value_key(value: Any) -> tuple[Any, ...]:
    """Equality of JSON values: ``1`` equals ``1.0``, but ``true`` is not ``1`` and ``"1"`` is not ``1``."""
    if isinstance(value, bool):
        return ("boolean", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if value is None:
        return ("null",)
    return ("json", json.dumps(value, sort_keys=True))


def _duplicates(values: list[Any]) -> Iterator[int]:
    """Indexes of the values that repeat an earlier one."""
    seen: set[tuple[Any, ...]] = set()
    for index, value in enumerate(values):
        key = _value_key(value)
        if key in seen:
            yield index
        else:
            seen.add(key)


def _fits(value: Any, declared: str, nullable: bool) -> bool:
    actual = _json_type(value)
    if actual == declared or (actual == "null" and nullable):
        return True
    if declared == "number":
        return actual == "integer"
    if declared == "integer":
        return isinstance(value, float) and value.is_integer()
    return False


# --------------------------------------------------------------------------- parameters


@svr("FileParameterMustBeInFormData", on=On.PARAMETER, severity=Severity.ERROR, keys=("type",))
def file_parameter_in_form_data(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """A query string, a header or a path cannot carry file content: a file is uploaded as a part
    of a ``multipart/form-data`` request, so ``type: file`` is only valid on ``in: formData``.

    (A body parameter describes its content with a ``schema`` instead; a ``type`` key on it is
    reported by ``BodyParameterPropertyNotValid``.)
    """
    if node.raw.get("type") == "file" and node.location not in ("formData", "body"):
        yield hit(node.pointer)


@svr("ParameterListContainsFormDataAndBody", on=On.OPERATION, severity=Severity.ERROR)
def form_data_and_body(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A request has one body: either a ``body`` parameter describes it, or ``formData`` parameters
    make it up as a form, never both.

    Path-level parameters count too, since the operation inherits them.
    """
    locations = {param.location for param in op.parameters}
    if "body" in locations and "formData" in locations:
        if isinstance(op.raw.get("parameters"), list):
            yield hit(op.pointer + "/parameters")
        else:
            yield hit(op.pointer.rsplit("/", 1)[0] + "/parameters")


def _reference_valid(ref: str) -> bool:
    """``#/parameters/<name>``: one non-empty pointer token with only ``~0``/``~1`` escapes."""
    if not ref.startswith(PARAMETER_REF_PREFIX):
        return False
    token = ref[len(PARAMETER_REF_PREFIX) :]
    if not token or "/" in token:
        return False
    return all(part[:1] in ("0", "1") for part in token.split("~")[1:])


@svr("ParameterReferenceNotValid", on=On.PARAMETER, severity=Severity.ERROR, keys=("$ref",))
def parameter_reference_not_valid(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """The platform resolves a parameter ``$ref`` only within the document and only to an entry
    of the root ``parameters`` object, so a reference into another file or another section
    leaves the operation without the parameter.

    The reference must be a local JSON pointer of the form ``#/parameters/<name>`` (with ``~0``
    for ``~`` and ``~1`` for ``/`` in the name). Root-level definitions that are themselves
    references are reported by ``ParameterRefLoopNotAllowed``.
    """
    ref = node.raw.get("$ref")
    if node.where != "root" and isinstance(ref, str) and not _reference_valid(ref):
        yield hit(node.pointer + "/$ref", ref)


@svr("ParameterReferenceNotFound", on=On.PARAMETER, severity=Severity.ERROR, keys=("$ref",))
def parameter_reference_not_found(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """A parameter references ``#/parameters/<name>``, but the root ``parameters`` object has no
    such entry, so the operation lacks a parameter it means to have."""
    ref = node.raw.get("$ref")
    if node.where == "root" or not isinstance(ref, str) or not _reference_valid(ref):
        return
    defined = ctx.doc.get("parameters")
    if not isinstance(defined, dict):
        defined = {}
    token = unescape_pointer_token(ref[len(PARAMETER_REF_PREFIX) :])
    if not isinstance(defined.get(token), dict) and not isinstance(defined.get(unquote(token)), dict):
        yield hit(node.pointer + "/$ref", ref)


@svr("ParameterRefLoopNotAllowed", on=On.PARAMETER, severity=Severity.ERROR, keys=("$ref",))
def parameter_ref_loop(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """The platform does not follow chains of references between definitions (and such chains can
    loop), so a definition under the root ``parameters`` must be a parameter, not a ``$ref``."""
    if node.where == "root":
        yield hit(node.pointer + "/$ref")


@svr("ResponseRefLoopNotAllowed", on=On.RESPONSE, severity=Severity.ERROR, keys=("$ref",))
def response_ref_loop(ctx: Context, node: ResponseNode) -> Iterator[Hit]:
    """The platform does not follow chains of references between definitions (and such chains can
    loop), so a definition under the root ``responses`` must be a response, not a ``$ref``."""
    if node.operation is None and node.pointer.startswith("/responses/"):
        yield hit(node.pointer + "/$ref")


@svr(
    "PathParameterMissingEncoding",
    on=On.PARAMETER,
    severity=Severity.WARNING,
    keys=("in",),
    profiles=CERTIFICATION,
    fix='Add "x-ms-url-encoding": "single" to the path parameter ("double" if the backend decodes twice).',
)
def path_parameter_missing_encoding(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """A path value such as ``a/b`` changes the URL's segments unless it is encoded the way the
    backend expects, so certification wants each path parameter to state its encoding with
    ``x-ms-url-encoding``.

    Without the extension the platform encodes once (``single``), which is usually right, so the
    rule only runs under the certification profiles, and as a warning: a third of the certified
    connectors still leave it out.
    """
    if node.location == "path" and "x-ms-url-encoding" not in node.raw:
        yield hit(node.pointer, node.name)


@svr(
    "QueryParameterEncodingNotSupported",
    on=On.PARAMETER,
    severity=Severity.WARNING,
    keys=("x-ms-url-encoding",),
    fix="Remove x-ms-url-encoding from the query parameter.",
)
def query_parameter_encoding(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """The platform always encodes query values once and ignores ``x-ms-url-encoding`` on a query
    parameter, so a ``double`` there does not do what it says.

    Certified connectors carry ``single`` on query parameters harmlessly, so this is a warning.
    """
    if node.location == "query":
        yield hit(node.pointer + "/x-ms-url-encoding", node.name)


# --------------------------------------------------------------------------- not supported


@svr("PathItemRefNotSuppored", on=On.PATH_ITEM, severity=Severity.ERROR, keys=("$ref",))
def path_item_ref(ctx: Context, node: PathItemNode) -> Iterator[Hit]:
    """A path item cannot be a ``$ref`` to a path item defined elsewhere: the platform reads each
    path's operations where they are written, so the referenced operations would be lost."""
    yield hit(node.pointer + "/$ref")


@svr("CollectionFormatValueNotSupported", on=On.DOCUMENT, severity=Severity.ERROR)
def collection_format_not_supported(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``collectionFormat`` tells the platform how to write an array into the request; with an
    unknown format, or ``multi`` where a value cannot repeat, it has no way to do so.

    Swagger 2.0 knows ``csv`` (the default), ``ssv``, ``tsv`` and ``pipes``, and ``multi`` (one
    ``name=value`` pair per item) for query and form parameters only: not for path or header
    parameters, response headers or nested ``items``.
    """
    for entry in typed_objects(ctx).get("collectionFormat", ()):
        value = entry.raw.get("collectionFormat")
        if not isinstance(value, str):
            continue
        if value not in COLLECTION_FORMATS or (
            value == "multi" and (entry.kind != "parameter" or entry.location not in MULTI_LOCATIONS)
        ):
            yield hit(entry.pointer + "/collectionFormat", value)


@svr(
    "SwaggerKeywordNotSupported",
    on=On.DOCUMENT,
    severity=Severity.WARNING,
    fix="Remove the keyword; state the constraint in the description, or split anyOf/oneOf alternatives into separate properties or operations.",
)
def keyword_not_supported(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The designer and the runtime do not enforce ``uniqueItems`` (Microsoft's example) nor the
    JSON Schema keywords that Swagger 2.0 leaves out (``anyOf``, ``oneOf``, ``not``), so a
    connector that relies on them does not behave as written.

    Certified connectors carry ``uniqueItems``, so this is a warning. ``uniqueItems: false``
    asks for nothing (it is the default), so it is not reported.
    """
    index = typed_objects(ctx)
    for keyword in UNSUPPORTED_KEYWORDS:
        for entry in index.get(keyword, ()):
            if keyword != "uniqueItems" or entry.raw[keyword] is not False:
                yield hit(pointer_join(entry.pointer, keyword), keyword)


# --------------------------------------------------------------------------- arrays


@svr(
    "ArrayHasNoItems",
    on=On.DOCUMENT,
    severity=Severity.ERROR,
    fix="Add items with the schema (for a parameter or header, the type) of the array's entries.",
)
def array_has_no_items(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Without ``items`` the designer cannot offer fields for the entries of an input array, nor
    dynamic content for those of an output array, so every ``type: array`` schema, parameter,
    header or ``items`` object must say what its entries are.

    Swagger 2.0 requires ``items`` on array parameters and headers.
    """
    for entry in typed_objects(ctx).get(_ARRAY_WITHOUT_ITEMS, ()):
        yield hit(entry.pointer)


@svr("RequiredPropertyArrayEmpty", on=On.SCHEMA, severity=Severity.ERROR, keys=("required",))
def required_array_empty(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A schema's ``required`` list must name at least one property; JSON Schema does not allow
    an empty list. When no property is required, leave ``required`` out."""
    if node.raw.get("required") == []:
        yield hit(node.pointer + "/required")


def _empty_schemes(ctx: Context) -> Iterator[str]:
    if ctx.doc.get("schemes") == []:
        yield "/schemes"
    for op in ctx.operations:
        if op.raw.get("schemes") == []:
            yield op.pointer + "/schemes"


@svr(
    "SchemesArrayEmpty",
    on=On.DOCUMENT,
    severity=Severity.ERROR,
    fix='List the transfer protocol, usually ["https"], or remove schemes from the operation to inherit the root\'s.',
)
def schemes_array_empty(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``schemes`` says how to reach the host (``https`` or ``http``); an empty list names no
    transfer protocol at all. Leave ``schemes`` out of an operation to inherit the root's."""
    for pointer in _empty_schemes(ctx):
        yield hit(pointer)


# --------------------------------------------------------------------------- enums and unique arrays


def _string_lists(ctx: Context) -> Iterator[tuple[list[Any], str]]:
    """The arrays of names that Swagger 2.0 requires to be unique, outside schemas."""
    doc = ctx.doc
    for key in ("schemes", "consumes", "produces"):
        value = doc.get(key)
        if isinstance(value, list):
            yield value, f"/{key}"
    for op in ctx.operations:
        for key in ("schemes", "consumes", "produces", "tags"):
            value = op.raw.get(key)
            if isinstance(value, list):
                yield value, f"{op.pointer}/{key}"
    for entry in requirements(ctx):
        if isinstance(entry.value, list):
            yield entry.value, entry.pointer


def _unique_arrays(ctx: Context) -> Iterable[tuple[list[Any], str]]:
    yield from _string_lists(ctx)
    index = typed_objects(ctx)
    for entry in index.get("enum", ()):
        values = entry.raw.get("enum")
        if isinstance(values, list):
            yield values, entry.pointer + "/enum"
    for entry in index.get("required", ()):
        names = entry.raw.get("required")
        if entry.kind == "schema" and isinstance(names, list):
            yield names, entry.pointer + "/required"


@svr("ArrayDuplicateValue", on=On.DOCUMENT, severity=Severity.ERROR)
def array_duplicate_value(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A repeated value in a list of choices or names shows up twice in the designer or hides a
    typo, so Swagger 2.0 requires such lists to hold each value once.

    This covers ``enum``, ``required``, ``schemes``, ``consumes``, ``produces``, an operation's
    ``tags`` and a security requirement's scopes. Root ``tags`` are checked by ``TagRedefined``.
    """
    for values, pointer in _unique_arrays(ctx):
        if len(values) > 1:
            for index in _duplicates(values):
                yield hit(f"{pointer}/{index}")


@svr("InvalidEnumValue", on=On.DOCUMENT, severity=Severity.WARNING)
def invalid_enum_value(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The designer offers the ``enum`` values as choices, so a value of another type than the
    declared ``type`` (``"1"`` in an integer enum, ``"true"`` in a boolean one) is a choice that
    sends a value the field cannot take.

    Some certified connectors list ``"true"``/``"false"`` strings for booleans, so this is a
    warning.
    """
    for entry in typed_objects(ctx).get("enum", ()):
        declared = entry.raw.get("type")
        values = entry.raw.get("enum")
        if declared not in _DECLARED_TYPES or not isinstance(values, list):
            continue
        nullable = entry.raw.get("x-nullable") is True
        for index, value in enumerate(values):
            if not _fits(value, str(declared), nullable):
                yield hit(f"{entry.pointer}/enum/{index}", _json_type(value), declared)


def _enum_values(entry: Site) -> Iterator[tuple[int, dict[str, Any]]]:
    values = entry.raw.get("x-ms-enum-values")
    if isinstance(values, list):
        for index, item in enumerate(values):
            if isinstance(item, dict) and "value" in item:
                yield index, item


@svr("DuplicateEnumValuesInExtension", on=On.DOCUMENT, severity=Severity.ERROR)
def duplicate_enum_values_in_extension(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``x-ms-enum-values`` maps each enum value to the name the designer shows for it, so a value
    may appear only once: with two entries, it would have two display names."""
    for entry in typed_objects(ctx).get("x-ms-enum-values", ()):
        seen: set[tuple[Any, ...]] = set()
        for index, item in _enum_values(entry):
            key = _value_key(item["value"])
            if key in seen:
                yield hit(f"{entry.pointer}/x-ms-enum-values/{index}")
            seen.add(key)


@svr("InvalidEnumValuesExtensionValue", on=On.DOCUMENT, severity=Severity.ERROR)
def invalid_enum_values_extension_value(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``x-ms-enum-values`` only gives display names to the values of the sibling ``enum``, so an
    entry whose value is not in the enum (or with no ``enum`` beside it) offers a choice the
    parameter or property does not accept.

    Values compare as JSON: ``"1"`` does not match ``1``.
    """
    for entry in typed_objects(ctx).get("x-ms-enum-values", ()):
        enum = entry.raw.get("enum")
        allowed = {_value_key(value) for value in enum} if isinstance(enum, list) else set()
        for index, item in _enum_values(entry):
            if _value_key(item["value"]) not in allowed:
                yield hit(f"{entry.pointer}/x-ms-enum-values/{index}/value")
