"""Swagger Validator rules on schema properties ("Properties") and on the validation keywords of
schemas and simple-typed values ("Metadata": lengths, ranges, counts, patterns).

Most keywords checked here (``default``, ``enum``, ``format``, ``minLength``, ``pattern`` …) may be
written on four kinds of object: a schema, a non-body parameter, the ``items`` of an array
parameter or header, and a response header. The engine walks schemas and parameters but not
parameter ``items`` or headers, and a rule subscribes to one kind of node, so the rules that apply
to all four read one shared index instead: every such object holding one of the keywords, built
once per connector (``ctx.memo``) by :func:`_sites` and looked up by keyword. Rules that only make
sense on schemas (``required`` lists, ``discriminator``, ``readOnly``) subscribe to schema nodes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import unescape_pointer_token
from connectorkit.definition.swagger import Swagger
from connectorkit.lint.engine import Context, ParameterNode, SchemaNode, Site
from connectorkit.lint.registry import CERTIFICATION, Hit, On, Profile, hit, svr
from connectorkit.lint.values import json_type as _json_type

# --------------------------------------------------------------------------- the keyword index

SCHEMA = "schema"  # a schema object (definitions, body, response, notification)
PARAMETER = "parameter"  # a non-body parameter
ITEMS = "items"  # the items of an array parameter or header (at any depth)
HEADER = "header"  # a response header

#: The keywords the index records. A site is listed under each of these keys it holds.
KEYWORDS = frozenset(
    {
        "default",
        "enum",
        "format",
        "multipleOf",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "pattern",
        "x-ms-enum-values",
    }
)


Index = dict[str, list[Site]]


def _definition_name(pointer: str) -> str | None:
    """The name of the definition a pointer lies in (``/definitions/<name>/…``)."""
    if not pointer.startswith("/definitions/"):
        return None
    return unescape_pointer_token(pointer.split("/", 3)[2])


def _input_definitions(ctx: Context) -> frozenset[str]:
    """Definitions the client sends: reachable through ``$ref`` from a body parameter's schema."""

    def build() -> frozenset[str]:
        doc = ctx.doc
        definitions = doc.get("definitions")
        definitions = definitions if isinstance(definitions, dict) else {}
        found: set[str] = set()
        stack: list[Any] = []
        for params in _all_parameter_lists(doc):
            for param in params:
                if isinstance(param, dict) and param.get("in") == "body":
                    stack.append(param.get("schema"))
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    if ref.startswith("#/definitions/"):
                        name = unescape_pointer_token(ref[len("#/definitions/") :])
                        if name not in found and name in definitions:
                            found.add(name)
                            stack.append(definitions[name])
                    continue
                for key in ("properties", "additionalProperties"):
                    child = node.get(key)
                    if key == "properties" and isinstance(child, dict):
                        stack.extend(child.values())
                    elif isinstance(child, dict):
                        stack.append(child)
                for key in ("items", "allOf"):
                    child = node.get(key)
                    if isinstance(child, (dict, list)):
                        stack.append(child)
        return frozenset(found)

    return ctx.memo("schemas.input_definitions", build)


def _all_parameter_lists(doc: dict[str, Any]) -> Iterator[list[Any]]:
    return Swagger(doc).parameter_lists()


def _sites(ctx: Context) -> Index:
    """Every object holding one of :data:`KEYWORDS`, by keyword: the engine's site index."""
    return ctx.site_index


def _site_is_input(ctx: Context, site: Site) -> bool:
    if site.input:
        return True
    if site.role != "definition":
        return False
    name = _definition_name(site.pointer)
    return name is not None and name in _input_definitions(ctx)


def _with(ctx: Context, keyword: str) -> list[Site]:
    return _sites(ctx).get(keyword, [])


def _number(value: Any) -> float | None:
    """``value`` as a number when it is a JSON number (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return float(value)


def _is_input_schema(ctx: Context, node: SchemaNode) -> bool:
    if node.role == "body":
        return True
    if node.role == "definition":
        name = _definition_name(node.pointer)
        return name is not None and name in _input_definitions(ctx)
    return False


def _schema_properties(swagger: Swagger, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The properties a schema defines, its own and those of its ``allOf`` parts (``$ref``s
    followed). ``None`` when they cannot be known offline (dynamic schema, broken reference)."""
    found: dict[str, Any] = {}
    seen: set[int] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node.get("$ref"), str):
            target = swagger.resolve(node["$ref"])
            if target is None:
                return None
            stack.append(target)
            continue
        if "x-ms-dynamic-schema" in node or "x-ms-dynamic-properties" in node:
            return None
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, value in properties.items():
                found.setdefault(name, value)
        all_of = node.get("allOf")
        if isinstance(all_of, list):
            stack.extend(reversed(all_of))
    return found


def _schema_required(swagger: Swagger, schema: dict[str, Any]) -> set[str]:
    """Names listed in ``required`` by a schema or its ``allOf`` parts (``$ref``s followed)."""
    names: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node.get("$ref"), str):
            stack.append(swagger.resolve(node["$ref"]))
            continue
        listed = node.get("required")
        if isinstance(listed, list):
            names.update(n for n in listed if isinstance(n, str))
        all_of = node.get("allOf")
        if isinstance(all_of, list):
            stack.extend(all_of)
    return names


# --------------------------------------------------------------------------- required


@svr("RequiredPropertyDefinitionMissing", on=On.SCHEMA, severity=Severity.ERROR, keys=("required",))
def required_property_definition_missing(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A name in the schema's ``required`` list is not one of its properties: the designer builds
    input forms and output tokens from ``properties``, so a required name defined nowhere cannot
    be filled in on a request, and on a response it promises a value nothing describes. Usually
    it is a typo, or a property renamed in one place only.

    Properties inherited through ``allOf`` count. Schemas whose properties come from
    ``x-ms-dynamic-schema`` are not checked, nor are non-object schemas (see
    ``RequiredPropertyNotOnObject``)."""
    required = node.raw.get("required")
    if not isinstance(required, list) or "$ref" in node.raw or node.raw.get("type", "object") != "object":
        return  # a non-object schema is RequiredPropertyNotOnObject
    defined = _schema_properties(ctx.swagger, node.raw)
    if defined is None:
        return
    for index, name in enumerate(required):
        if isinstance(name, str) and name not in defined:
            yield hit(f"{node.pointer}/required/{index}", name)


@svr("RequiredPropertyNotOnObject", on=On.SCHEMA, severity=Severity.WARNING, keys=("required",))
def required_property_not_on_object(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A ``required`` list only means something on an object schema; on a string, an array or a
    number it is ignored, so the properties it names are not treated as required. It is usually
    meant for the object one level down (the ``items`` of an array, say).

    The import succeeds, so this is a warning."""
    schema_type = node.raw.get("type")
    if isinstance(node.raw.get("required"), list) and isinstance(schema_type, str) and schema_type != "object":
        yield hit(node.pointer + "/required")


@svr("RequiredReadOnlyPropertyNotAllowedAsInput", on=On.SCHEMA, severity=Severity.ERROR, keys=("readOnly",))
def required_read_only_input(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A property of a request body is both ``readOnly`` and required: ``readOnly`` properties are
    set by the service and are not offered as inputs, yet a required property must be sent, so no
    request can satisfy both.

    Definitions count as request schemas when a body parameter refers to them, directly or
    through other definitions."""
    if node.raw.get("readOnly") is True and node.required_by_parent and _is_input_schema(ctx, node):
        yield hit(node.pointer)


# --------------------------------------------------------------------------- values


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _matches_type(value: Any, declared: str) -> bool:
    if isinstance(value, bool):
        return declared == "boolean"
    if declared == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _JSON_TYPES[declared])


@svr("DefaultValueMustMatchType", on=On.DOCUMENT, severity=Severity.WARNING)
def default_value_must_match_type(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The ``default`` is not of the declared ``type`` (``"10"`` for an integer, ``"true"`` for a
    boolean): the designer puts the default into the field as written, so flows send a string
    where the API expects a number or a boolean, and strict APIs reject it.

    Several certified connectors quote numeric and boolean defaults and the platform accepts
    them, so this is a warning. A ``null`` default (no default) is not reported."""
    for site in _with(ctx, "default"):
        declared = site.raw.get("type")
        value = site.raw["default"]
        if not isinstance(declared, str) or declared not in _JSON_TYPES or value is None:
            continue
        if not _matches_type(value, declared):
            yield hit(site.pointer + "/default", _json_type(value), declared)


@svr("EnumMustContainAtLeastOneElement", on=On.DOCUMENT, severity=Severity.ERROR)
def enum_must_not_be_empty(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """An empty ``enum`` allows no value at all, so the field could never be filled in."""
    for site in _with(ctx, "enum"):
        if site.raw["enum"] == []:
            yield hit(site.pointer + "/enum")


@svr("MultipleOfMustBeGreaterThanZero", on=On.DOCUMENT, severity=Severity.ERROR)
def multiple_of_positive(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``multipleOf`` must be a positive number: JSON Schema defines no multiple of zero or of a
    negative number, and the definition is rejected."""
    for site in _with(ctx, "multipleOf"):
        value = _number(site.raw["multipleOf"])
        if value is not None and value <= 0:
            yield hit(site.pointer + "/multipleOf")


# --------------------------------------------------------------------------- internal values


def _internal_optional_with_default(ctx: Context) -> Iterator[Site]:
    for site in _with(ctx, "default"):
        visibility = site.raw.get("x-ms-visibility")
        if site.required or not isinstance(visibility, str) or visibility.lower() != "internal":
            continue
        parameter = site.kind == PARAMETER and "x-ms-trigger-value" not in site.raw
        if (parameter or (site.kind == SCHEMA and site.name is not None)) and _site_is_input(ctx, site):
            yield site


@svr("InternalPropertyWithDefaultOptional", on=On.DOCUMENT, severity=Severity.WARNING,
     profiles=frozenset({Profile.CUSTOM}))  # fmt: skip
def internal_with_default_optional(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """An internal input (``x-ms-visibility: internal``) has a ``default`` but is not required. Users
    never see internal fields, so the default is their only value, but the designer only
    guarantees to send the defaults of required fields: an optional internal one may be left out
    of the request. Mark it required, or drop the default if leaving it out is intended.

    For certification the same finding is the error ``PropertyMustBeRequired``. Polling-trigger
    state parameters (``x-ms-trigger-value``) are filled in by the trigger and are not reported."""
    for site in _internal_optional_with_default(ctx):
        yield hit(site.pointer)


@svr("PropertyMustBeRequired", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION)
def property_must_be_required(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """For certification, an internal input with a ``default`` must be required: optional internal
    fields are ignored by the designer, so the default would never be sent and the operation
    would not behave as the definition says.

    No certified or independent-publisher connector of the corpus has one. Outside certification
    the same finding is the warning ``InternalPropertyWithDefaultOptional``; polling-trigger state
    parameters (``x-ms-trigger-value``) are not reported."""
    for site in _internal_optional_with_default(ctx):
        yield hit(site.pointer)


# --------------------------------------------------------------------------- formats


#: Formats the connector platform knows, by type (Swagger 2.0 plus the connector schema's list).
KNOWN_FORMATS: dict[str, frozenset[str]] = {
    "integer": frozenset({"int32", "int64"}),
    "number": frozenset({"float", "double"}),
    "string": frozenset(
        {"byte", "binary", "date", "date-time", "password", "date-no-tz", "email", "html", "uri", "uuid"}
    ),
    "boolean": frozenset(),
    "array": frozenset(),
    "object": frozenset(),
    "file": frozenset({"binary"}),
}


@svr("UnrecognizedTypeFormat", on=On.DOCUMENT, severity=Severity.WARNING)
def unrecognized_type_format(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The ``format`` is not one the platform knows for the ``type`` (``string/guid``,
    ``number/int32``, an empty format), so it is ignored: the value is handled as a plain value of
    its type and the date picker, number handling or validation the author expected does not
    happen.

    Certified connectors use many such formats (``guid``, ``decimal``, ``duration``…), so this is
    a warning. Known formats: ``int32``/``int64`` for integers, ``float``/``double`` for numbers,
    and ``byte``, ``binary``, ``date``, ``date-time``, ``date-no-tz``, ``password``, ``email``,
    ``html``, ``uri``, ``uuid`` for strings."""
    for site in _with(ctx, "format"):
        declared = site.raw.get("type")
        value = site.raw["format"]
        if not isinstance(declared, str) or declared not in KNOWN_FORMATS or not isinstance(value, str):
            continue
        if value not in KNOWN_FORMATS[declared]:
            yield hit(site.pointer + "/format", f"{declared}/{value}")


def _binary_allowed(site: Site) -> bool:
    if site.kind == PARAMETER:
        return site.role == "formData"
    return site.kind == SCHEMA and site.top


@svr("InvalidStringBinaryProperty", on=On.DOCUMENT, severity=Severity.WARNING)
def invalid_string_binary_property(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Raw bytes (``type: string, format: binary``) can only be a whole request or response body, or
    a ``formData`` part: a JSON property, an array item or a query, header or path value cannot
    carry unencoded bytes. Use ``format: byte`` (base64) there.

    Root schemas of bodies, responses and definitions are allowed. A few certified connectors nest
    binary properties anyway, so this is a warning."""
    for site in _with(ctx, "format"):
        if site.raw.get("type") == "string" and site.raw["format"] == "binary" and not _binary_allowed(site):
            yield hit(site.pointer)


# --------------------------------------------------------------------------- x-ms-enum-values


@svr("MissingEnumValuesDisplayName", on=On.DOCUMENT, severity=Severity.ERROR)
def missing_enum_values_display_name(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Each entry of ``x-ms-enum-values`` must give the ``displayName`` the designer shows for its
    value: naming the values is the whole point of the extension, and an entry without a name
    is rejected."""
    for site in _with(ctx, "x-ms-enum-values"):
        entries = site.raw["x-ms-enum-values"]
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and "displayName" not in entry:
                yield hit(f"{site.pointer}/x-ms-enum-values/{index}")


# --------------------------------------------------------------------------- filterFunctions


def _filter_functions(node: SchemaNode) -> tuple[list[Any], str] | None:
    capabilities = node.raw.get("x-ms-capabilities")
    if not isinstance(capabilities, dict):
        return None
    functions = capabilities.get("filterFunctions")
    if not isinstance(functions, list):
        return None
    return functions, node.pointer + "/x-ms-capabilities/filterFunctions"


@svr("FilterFunctionsPropertyEmpty", on=On.SCHEMA, severity=Severity.ERROR, keys=("x-ms-capabilities",))
def filter_functions_empty(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """``x-ms-capabilities.filterFunctions`` on a response property lists the filter functions
    (``eq``, ``startswith``…) that Power Apps may delegate to the service for that column; an
    empty list declares a filterable column with nothing to filter by. Remove it or list the
    functions."""
    found = _filter_functions(node)
    if found is not None and not found[0]:
        yield hit(found[1])


@svr("FilterFunctionsPropertyHasDuplicates", on=On.SCHEMA, severity=Severity.ERROR, keys=("x-ms-capabilities",))
def filter_functions_duplicates(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A filter function is listed twice in ``x-ms-capabilities.filterFunctions``; the list is a
    set of capabilities, so each function may appear once."""
    found = _filter_functions(node)
    if found is None:
        return
    seen: set[str] = set()
    for index, value in enumerate(found[0]):
        if not isinstance(value, str):
            continue
        if value in seen:
            yield hit(f"{found[1]}/{index}")
        seen.add(value)


@svr("FilterFunctionsPropertyInInputSchema", on=On.SCHEMA, severity=Severity.ERROR, keys=("x-ms-capabilities",))
def filter_functions_in_input(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """``filterFunctions`` describes how the columns of returned data can be filtered, so it
    belongs in a response schema; in a request body (or a definition a body parameter uses) it
    has no meaning."""
    found = _filter_functions(node)
    if found is not None and _is_input_schema(ctx, node):
        yield hit(found[1])


# --------------------------------------------------------------------------- parameters


@svr("AllowEmptyValueOnlyValidForQueryFormData", on=On.PARAMETER, severity=Severity.ERROR,
     keys=("allowEmptyValue",))  # fmt: skip
def allow_empty_value_location(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """``allowEmptyValue`` lets a query or form field be sent with an empty value (``?a=``). Path
    and header values have no such form and a body is described by its schema, so Swagger 2.0
    allows the keyword on ``query`` and ``formData`` parameters only."""
    if node.location not in ("query", "formData"):
        yield hit(node.pointer + "/allowEmptyValue")


# --------------------------------------------------------------------------- discriminator


@svr("DiscriminatorMustBeARequiredStringProperty", on=On.SCHEMA, severity=Severity.ERROR,
     keys=("discriminator",))  # fmt: skip
def discriminator_required_string(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """The ``discriminator`` names the property whose value says which subtype an object is, so
    that property must exist, be a string and be required: without it the type of a payload
    cannot be told. Properties and ``required`` entries inherited through ``allOf`` count."""
    name = node.raw.get("discriminator")
    if not isinstance(name, str) or "$ref" in node.raw:
        return
    properties = _schema_properties(ctx.swagger, node.raw)
    if properties is None:
        return
    prop = properties.get(name)
    if isinstance(prop, dict) and isinstance(prop.get("$ref"), str):
        prop = ctx.swagger.deref(prop, "")[0]
    if (
        not isinstance(prop, dict)
        or prop.get("type") != "string"
        or name not in _schema_required(ctx.swagger, node.raw)
    ):
        yield hit(node.pointer + "/discriminator")


# --------------------------------------------------------------------------- ranges and counts


@svr("ExclusiveMaximumRequiresMaximum", on=On.DOCUMENT, severity=Severity.ERROR)
def exclusive_maximum_requires_maximum(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``exclusiveMaximum`` only says whether ``maximum`` itself is allowed; without a
    ``maximum`` it has nothing to qualify, and JSON Schema makes it depend on ``maximum``."""
    for site in _with(ctx, "exclusiveMaximum"):
        if "maximum" not in site.raw:
            yield hit(site.pointer + "/exclusiveMaximum")


@svr("ExclusiveMinimumRequiresMinimum", on=On.DOCUMENT, severity=Severity.ERROR)
def exclusive_minimum_requires_minimum(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``exclusiveMinimum`` only says whether ``minimum`` itself is allowed; without a
    ``minimum`` it has nothing to qualify, and JSON Schema makes it depend on ``minimum``."""
    for site in _with(ctx, "exclusiveMinimum"):
        if "minimum" not in site.raw:
            yield hit(site.pointer + "/exclusiveMinimum")


def _negative(ctx: Context, keyword: str) -> Iterator[Hit]:
    for site in _with(ctx, keyword):
        value = _number(site.raw[keyword])
        if value is not None and value < 0:
            yield hit(f"{site.pointer}/{keyword}")


@svr("MaxItemsMustBeGreaterThanOrEqualToZero", on=On.DOCUMENT, severity=Severity.ERROR)
def max_items_non_negative(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``maxItems`` is a count of array items, so JSON Schema requires a non-negative integer and a
    negative one makes the definition invalid."""
    yield from _negative(ctx, "maxItems")


@svr("MinItemsMustBeGreaterThanOrEqualToZero", on=On.DOCUMENT, severity=Severity.ERROR)
def min_items_non_negative(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``minItems`` is a count of array items, so JSON Schema requires a non-negative integer and a
    negative one makes the definition invalid."""
    yield from _negative(ctx, "minItems")


@svr("MaxLengthMustBeGreaterThanOrEqualToZero", on=On.DOCUMENT, severity=Severity.ERROR)
def max_length_non_negative(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``maxLength`` is a number of characters, so JSON Schema requires a non-negative integer and a
    negative one makes the definition invalid."""
    yield from _negative(ctx, "maxLength")


@svr("MinLengthMustBeGreaterThanOrEqualToZero", on=On.DOCUMENT, severity=Severity.ERROR)
def min_length_non_negative(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``minLength`` is a number of characters, so JSON Schema requires a non-negative integer and a
    negative one makes the definition invalid."""
    yield from _negative(ctx, "minLength")


@svr("MaxPropertiesMustBeGreaterThanOrEqualToZero", on=On.DOCUMENT, severity=Severity.ERROR)
def max_properties_non_negative(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``maxProperties`` is a count of object properties, so JSON Schema requires a non-negative
    integer and a negative one makes the definition invalid."""
    yield from _negative(ctx, "maxProperties")


@svr("MinPropertiesMustBeGreaterThanOrEqualToZero", on=On.DOCUMENT, severity=Severity.ERROR)
def min_properties_non_negative(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``minProperties`` is a count of object properties, so JSON Schema requires a non-negative
    integer and a negative one makes the definition invalid."""
    yield from _negative(ctx, "minProperties")


def _inverted(ctx: Context, low: str, high: str) -> Iterator[Hit]:
    for site in _with(ctx, low):
        lower = _number(site.raw[low])
        upper = _number(site.raw.get(high))
        if lower is not None and upper is not None and lower > upper:
            yield hit(f"{site.pointer}/{low}")


@svr("MinimumShouldBeLessThanOrEqualToMaximum", on=On.DOCUMENT, severity=Severity.WARNING)
def minimum_not_above_maximum(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``minimum`` is above ``maximum``, so no number satisfies both: the bounds are probably
    swapped.

    The designer does not enforce the bounds, so requests still go out; a warning."""
    yield from _inverted(ctx, "minimum", "maximum")


@svr("MinItemsShouldBeLessThanOrEqualToMaxItems", on=On.DOCUMENT, severity=Severity.WARNING)
def min_items_not_above_max_items(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``minItems`` is above ``maxItems``, so no array satisfies both: the bounds are probably
    swapped.

    The designer does not enforce the bounds, so requests still go out; a warning."""
    yield from _inverted(ctx, "minItems", "maxItems")


@svr("MinLengthShouldBeLessThanOrEqualToMaxLength", on=On.DOCUMENT, severity=Severity.WARNING)
def min_length_not_above_max_length(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``minLength`` is above ``maxLength``, so no string satisfies both: the bounds are probably
    swapped.

    The designer does not enforce the bounds, so requests still go out; a warning."""
    yield from _inverted(ctx, "minLength", "maxLength")


# --------------------------------------------------------------------------- pattern

# Python's ``re`` rejects some patterns that ECMA-262 (and .NET) accept; these are rewritten
# before compiling, and only errors that every dialect shares are reported.
_NAMED_GROUP = re.compile(r"\(\?<(?![=!])")
_NAMED_BACKREF = re.compile(r"\\k<([A-Za-z_][A-Za-z0-9_]*)>")
_UNICODE_PROPERTY = re.compile(r"\\[pP]\{[^}]*\}")
_UNICODE_CODEPOINT = re.compile(r"\\u\{[0-9A-Fa-f]+\}")
_CONTROL_ESCAPE = re.compile(r"\\c[A-Za-z]")
_PYTHON_ESCAPES = frozenset("AbBdDsSwWZafnrtvx0123456789uUN")
_SHARED_ERRORS = (
    "nothing to repeat",
    "multiple repeat",
    "missing ), unterminated subpattern",
    "unbalanced parenthesis",
    "unterminated character set",
    "min repeat greater than max repeat",
    "bad escape (end of pattern)",
    "bad character range",
)
_CLASS_ESCAPE_RANGE = re.compile(r"\\[dDsSwW]-|-\\[dDsSwW]")


def _portable(pattern: str) -> str:
    """``pattern`` with ECMA-262/.NET syntax Python lacks rewritten to an equivalent for compiling."""
    pattern = _NAMED_GROUP.sub("(?P<", pattern)
    pattern = _NAMED_BACKREF.sub(r"(?P=\1)", pattern)
    pattern = _UNICODE_PROPERTY.sub(r"\\w", pattern)
    pattern = _UNICODE_CODEPOINT.sub("x", pattern)
    pattern = _CONTROL_ESCAPE.sub("x", pattern)
    pattern = pattern.replace("[^]", "[\\s\\S]").replace("[]", "(?!)")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            # An escaped letter Python does not know is an identity escape in ECMA-262 (\e, \z…).
            out.append(nxt if nxt.isascii() and nxt.isalpha() and nxt not in _PYTHON_ESCAPES else char + nxt)
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def pattern_error(pattern: str) -> str | None:
    """Why ``pattern`` is not a regular expression in any dialect the platform may use, or
    ``None`` when it is (or when only Python would reject it)."""
    try:
        re.compile(_portable(pattern))
    except re.error as exc:
        message = str(exc.msg)
        if not message.startswith(_SHARED_ERRORS):
            return None
        if message.startswith("bad character range") and _CLASS_ESCAPE_RANGE.search(pattern):
            return None  # [\w-.] is a literal '-' in ECMA-262
        return message
    except (RecursionError, OverflowError, ValueError):
        return None
    return None


@svr("PatternShouldBeValidRegularExpression", on=On.DOCUMENT, severity=Severity.WARNING)
def pattern_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The ``pattern`` is not a valid regular expression (an unclosed group or class, a quantifier
    with nothing to repeat, a reversed range…), so clients that validate input against it fail
    or skip the check.

    Patterns are ECMA-262 regular expressions and the platform runs on .NET; connectorkit reports
    only errors that ECMA-262, .NET and Python share. The import is not blocked, so this is a
    warning."""
    for site in _with(ctx, "pattern"):
        value = site.raw["pattern"]
        if isinstance(value, str) and pattern_error(value) is not None:
            yield hit(site.pointer + "/pattern")
