"""Structural Swagger 2.0 validity: which keys may appear where, with which JSON types and values.

This is what the Swagger 2.0 JSON schema (and Microsoft's connector edition of it,
``schemas/apiDefinition.swagger.schema.json`` in ``microsoft/PowerPlatformConnectors``) checks,
reported under the rule ids of Microsoft's Swagger Validator.

The object model is one table, :data:`SPECS`: for every kind of object (root, info, contact,
license, path item, operation, each parameter kind, items, response, header, schema, security
scheme, tag, externalDocs, xml, and the connector extensions' own objects) the fixed keys with
their JSON types and allowed values, the required keys, and which ``x-ms-*`` extensions may
appear there. The 2020 schema is stale: extensions the platform has added since (``x-ms-openai-*``,
``x-ms-keywords``, ``x-ms-editor`` …) are allowed where real connectors put them.

One pass over the definition (:func:`analyse`, run once per connector through ``ctx.memo``) walks the
document with the table and sorts every problem under its rule; the rules below only hand out
their share. The engine's node walk does not reach info, contact, tags, headers, ``items`` or the
extensions' objects, so a single document-level pass is both simpler and cheaper here than a
rule per node kind.

Keys other rules own are left to them: ``$ref`` on a path item (PathItemRefNotSuppored),
``schema`` on a non-body parameter (NonBodyParameterSchemaNotValid), ``allowEmptyValue`` outside
query/formData (AllowEmptyValueOnlyValidForQueryFormData), ``anyOf``/``oneOf``/``not``
(SwaggerKeywordNotSupported), response codes (ResponseMustBeDefaultOrHttpStatusCode), a missing
body ``schema`` (BodyParameterSchemaRequired), missing operation ``responses``
(OperationMustHaveResponse), ``format`` values (UnrecognizedTypeFormat), ``collectionFormat``
values (CollectionFormatValueNotSupported), ``ws``/``wss`` schemes (SchemeNotSupported), ``type:
file`` outside formData (FileParameterMustBeInFormData), a ``null`` security requirement
(SecurityRequirementMustHaveValue) and dynamic-schema extensions on a body parameter
(DynamicExtensionDefinitionNotAllowedInParameter).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import escape_pointer_token
from connectorkit.definition.swagger import HTTP_METHODS, Swagger
from connectorkit.lint.engine import Context
from connectorkit.lint.registry import Hit, On, catalogue, hit, svr

# --------------------------------------------------------------------------- the object model

_JSON_TYPES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    list: "array",
    dict: "object",
    type(None): "null",
}
_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def json_type(value: Any) -> str:
    """The JSON type of a parsed value; a float without a fraction counts as an integer."""
    name = _JSON_TYPES.get(type(value), "unknown")
    if name == "number" and value.is_integer():
        return "integer"
    return name


def _accepts(types: tuple[str, ...]) -> frozenset[type]:
    """Python types of values that have one of the JSON ``types`` (exact: ``bool`` is not an int)."""
    return frozenset(t for name in types for t in _PYTHON_TYPES[name])


STRING = ("string",)
ARRAY = ("array",)
OBJECT = ("object",)
ANY: tuple[str, ...] = ()

ONE = "one"  # the value is one object of the child kind
LIST = "list"  # an array of objects of the child kind
MAP = "map"  # an object whose values are objects of the child kind


@dataclass(frozen=True, slots=True)
class Field:
    """One fixed key of an object: its JSON types, allowed values, and what it holds."""

    types: tuple[str, ...] = ANY
    enum: tuple[str, ...] | None = None
    enum_folded: bool = False  # compare the enum without regard to case
    tolerated: tuple[str, ...] = ()  # values outside the enum that another rule reports
    items: tuple[str, ...] = ANY  # JSON types of array items
    child: str | None = None  # kind of the nested object(s), see SPECS and _Walk.visit
    mode: str = ONE
    check: str | None = None  # name of a value check of _Walk
    accepted: frozenset[type] = frozenset()  # derived: Python types of the allowed JSON types
    items_accepted: frozenset[type] = frozenset()  # derived: the same for array items
    walk: bool = False  # derived: the value needs a look beyond its type

    def __post_init__(self) -> None:
        object.__setattr__(self, "accepted", _accepts(self.types))
        object.__setattr__(self, "items_accepted", _accepts(self.items))
        needs = self.enum is not None or bool(self.items) or self.child is not None or self.check is not None
        object.__setattr__(self, "walk", needs)


@dataclass(frozen=True)
class Spec:
    """One kind of object of the Swagger 2.0 (+ connector) object model."""

    name: str
    fields: Mapping[str, Field]
    required: tuple[str, ...] = ()
    one_of: tuple[str, ...] = ()
    closed: bool = True  # unknown keys are reported (extension objects stay open)
    reference: bool = False  # may be a {"$ref": …} object instead
    # keys that another rule reports at this position: key -> that rule's id, or None when the
    # rule lives in another module
    elsewhere: Mapping[str, str | None] = field(default_factory=dict)
    unknown_rule: str | None = None  # rule for unknown plain keys (default ExtensionNameNotValid)
    extensions: frozenset[str] = frozenset()  # derived: the x-ms-* keys allowed here
    plain: frozenset[str] = frozenset()  # derived: the fixed keys that are not extensions

    def __post_init__(self) -> None:
        object.__setattr__(self, "extensions", frozenset(k for k in self.fields if k.startswith("x-ms-")))
        object.__setattr__(self, "plain", frozenset(k for k in self.fields if not k.startswith("x-")))


def _f(*types: str, **kw: Any) -> Field:
    return Field(types=types, **kw)


def _obj(child: str) -> Field:
    return Field(types=OBJECT, child=child)


def _list(child: str) -> Field:
    return Field(types=ARRAY, child=child, mode=LIST)


def _map(child: str) -> Field:
    return Field(types=OBJECT, child=child, mode=MAP)


VISIBILITY = ("important", "advanced", "internal")
PARAMETER_LOCATIONS = ("body", "query", "header", "path", "formData")
PRIMITIVE_TYPES = ("string", "number", "integer", "boolean", "array")
SCHEMA_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string", "file")
HTTP_SCHEMES = ("http", "https")
WEBSOCKET_SCHEMES = ("ws", "wss")
ANNOTATION_STATUS = ("Preview", "Production")

# -- extensions: their values, and their own objects (open: only required keys and types checked)

X_SUMMARY = _f("string")
# "" means "no visibility" to the platform (91 occurrences in accepted connectors)
X_VISIBILITY = Field(types=STRING, enum=VISIBILITY, enum_folded=True, tolerated=("",))
X_TEST_VALUE = Field()
X_LOCALIZE_DEFAULT = _f("boolean")
X_ENUM_VALUES = Field(types=ARRAY, items=OBJECT)
X_DYNAMIC_VALUES = _obj("x-ms-dynamic-values")
X_DYNAMIC_LIST = _obj("x-ms-dynamic-list")
X_DYNAMIC_TREE = _obj("x-ms-dynamic-tree")
X_TRIGGER_VALUE = _f("object")
X_PARAMETER_LOCATION = Field(types=STRING, enum=("client", "method"))
X_URL_ENCODING = Field(types=STRING, enum=("double", "single"), enum_folded=True)
X_ENUM = _obj("x-ms-enum")

_EXTENSION_SPECS = [
    Spec("x-ms-dynamic-values", {
        "operationId": _f("string"), "builtInOperation": _f("string"), "capability": _f("string"),
        "parameters": _f("object"), "value-collection": _f("string"), "value-title": _f("string"),
        "value-path": _f("string"),
    }, one_of=("operationId", "builtInOperation", "capability"), closed=False),
    Spec("x-ms-dynamic-list", {
        "operationId": _f("string"), "parameters": _f("object"), "itemsPath": _f("string"),
        "itemTitlePath": _f("string"), "itemValuePath": _f("string"),
    }, required=("operationId",), closed=False),
    Spec("x-ms-dynamic-schema", {
        "operationId": _f("string"), "parameters": _f("object"), "value-path": _f("string", "null"),
    }, required=("operationId",), closed=False),
    Spec("x-ms-dynamic-properties", {
        "operationId": _f("string"), "parameters": _f("object"), "itemValuePath": _f("string"),
    }, required=("operationId",), closed=False),
    Spec("x-ms-dynamic-tree", {"settings": _f("object"), "open": _f("object"), "browse": _f("object")},
         closed=False),
    Spec("x-ms-notification", {"operationId": _f("string")}, required=("operationId",), closed=False),
    Spec("x-ms-operation-context", {"simulate": _obj("x-ms-operation-context/simulate")},
         required=("simulate",), closed=False),
    Spec("x-ms-operation-context/simulate", {"operationId": _f("string"), "parameters": _f("object")},
         required=("operationId",), closed=False),
    Spec("x-ms-pageable", {"nextLinkName": _f("string")}, required=("nextLinkName",), closed=False),
    Spec("x-ms-trigger-metadata", {
        "kind": Field(types=STRING, enum=("query",)), "mode": Field(types=STRING, enum=("polling",)),
    }, required=("kind", "mode"), closed=False),
    Spec("x-ms-api-annotation<info>", {
        "status": Field(types=STRING, enum=ANNOTATION_STATUS, enum_folded=True),
    }, closed=False),
    Spec("x-ms-api-annotation<operation>", {
        "family": _f("string"), "revision": _f("integer"),
        "status": Field(types=STRING, enum=ANNOTATION_STATUS, enum_folded=True),
        "replacement": _f("object"),
    }, closed=False),
    Spec("x-ms-capabilities<api>", {
        "file-picker": _obj("x-ms-capabilities/file-picker"), "testConnection": _obj("x-ms-capabilities/call"),
    }, closed=False),
    Spec("x-ms-capabilities/file-picker", {
        "open": _obj("x-ms-capabilities/call"), "browse": _obj("x-ms-capabilities/call"),
        "value-title": _f("string"), "value-collection": _f("string"),
        "value-folder-property": _f("string"), "value-media-property": _f("string"),
    }, required=("open",), closed=False),
    Spec("x-ms-capabilities/call", {"operationId": _f("string"), "parameters": _f("object")},
         required=("operationId",), closed=False),
    Spec("x-ms-capabilities<operation>", {"chunkTransfer": _f("boolean")}, closed=False),
    Spec("x-ms-docs", {"url": Field(types=STRING, check="url"), "description": _f("string")},
         required=("url", "description"), closed=False),
    Spec("x-ms-enum", {"name": _f("string"), "modelAsString": _f("boolean")}, closed=False),
    Spec("x-ms-notification-content", {"description": _f("string"), "schema": _obj("schema")}, closed=False),
]  # fmt: skip

# -- Swagger 2.0 objects

_NUMERIC_KEYWORDS: dict[str, Field] = {
    "default": Field(),
    "maximum": _f("number"),
    "exclusiveMaximum": _f("boolean"),
    "minimum": _f("number"),
    "exclusiveMinimum": _f("boolean"),
    "maxLength": _f("integer"),
    "minLength": _f("integer"),
    "pattern": _f("string"),
    "maxItems": _f("integer"),
    "minItems": _f("integer"),
    "uniqueItems": _f("boolean"),
    "enum": _f("array"),
    "multipleOf": _f("number"),
}

_PRIMITIVE: dict[str, Field] = {
    "type": Field(types=STRING, enum=PRIMITIVE_TYPES),
    "format": _f("string"),
    "items": _obj("items"),
    "collectionFormat": _f("string"),
    **_NUMERIC_KEYWORDS,
}

_PARAMETER_COMMON: dict[str, Field] = {
    "name": _f("string"),
    "in": Field(types=STRING, enum=PARAMETER_LOCATIONS),
    "description": _f("string"),
    "required": _f("boolean"),
    "x-ms-summary": X_SUMMARY,
    "x-ms-visibility": X_VISIBILITY,
    "x-ms-test-value": X_TEST_VALUE,
    "x-ms-dynamic-values": X_DYNAMIC_VALUES,
    "x-ms-dynamic-list": X_DYNAMIC_LIST,
}

_NON_BODY_EXTENSIONS: dict[str, Field] = {
    "x-ms-enum-values": X_ENUM_VALUES,
    "x-ms-localizeDefaultValue": X_LOCALIZE_DEFAULT,
    "x-ms-parameter-location": X_PARAMETER_LOCATION,
    "x-ms-trigger-value": X_TRIGGER_VALUE,
    # the input that receives a webhook's callback URL ("Parameters/input fields" in the docs)
    "x-ms-notification-url": _f("boolean"),
    # AutoRest's enum naming: ignored by the platform, harmless on parameters as on schemas
    "x-ms-enum": X_ENUM,
}

# Swagger keywords of non-body parameters: a body parameter describes its value with ``schema``.
BODY_MISPLACED = frozenset({"type", "format", "items", "collectionFormat", "allowEmptyValue", *_NUMERIC_KEYWORDS})
# JSON Schema keywords Swagger 2.0 leaves out (SwaggerKeywordNotSupported reports them).
_NOT_SWAGGER: dict[str, str | None] = {"anyOf": None, "oneOf": None, "not": None}
# Keys other modules report on non-body parameters (NonBodyParameterSchemaNotValid).
_NON_BODY_ELSEWHERE: dict[str, str | None] = {"schema": None, **_NOT_SWAGGER}


def _non_body(location: str, extra: Mapping[str, Field], *, empty_value: bool = False) -> Spec:
    fields = {**_PARAMETER_COMMON, **_PRIMITIVE, **_NON_BODY_EXTENSIONS, **extra}
    if location == "formData":
        fields["type"] = Field(types=STRING, enum=(*PRIMITIVE_TYPES, "file"))
    else:  # FileParameterMustBeInFormData reports "file" here
        fields["type"] = Field(types=STRING, enum=PRIMITIVE_TYPES, tolerated=("file",))
    elsewhere = dict(_NON_BODY_ELSEWHERE)
    if empty_value:
        fields["allowEmptyValue"] = _f("boolean")
    else:
        elsewhere["allowEmptyValue"] = None
    return Spec(f"parameter<{location}>", fields, required=("name", "in", "type"), elsewhere=elsewhere)


_SCHEMA_FIELDS: dict[str, Field] = {
    "$ref": _f("string"),
    "format": _f("string"),
    "title": _f("string"),
    "description": _f("string"),
    **_NUMERIC_KEYWORDS,
    "maxProperties": _f("integer"),
    "minProperties": _f("integer"),
    "required": Field(types=ARRAY, items=STRING),
    "additionalProperties": Field(types=("object", "boolean"), child="schema"),
    "type": Field(types=("string", "array"), enum=SCHEMA_TYPES, items=STRING),
    "items": Field(types=("object", "array"), child="schema"),
    "allOf": _list("schema"),
    "properties": _map("schema"),
    "discriminator": _f("string"),
    "readOnly": _f("boolean"),
    "xml": _obj("xml"),
    "externalDocs": _obj("externalDocs"),
    "example": Field(),
    # capability metadata such as filterFunctions (the FilterFunctions* rules check it)
    "x-ms-capabilities": _f("object"),
    "x-ms-summary": X_SUMMARY,
    "x-ms-visibility": X_VISIBILITY,
    "x-ms-test-value": X_TEST_VALUE,
    "x-ms-dynamic-values": X_DYNAMIC_VALUES,
    "x-ms-dynamic-list": X_DYNAMIC_LIST,
    "x-ms-dynamic-tree": X_DYNAMIC_TREE,
    "x-ms-dynamic-schema": _obj("x-ms-dynamic-schema"),
    "x-ms-dynamic-properties": _obj("x-ms-dynamic-properties"),
    "x-ms-enum": X_ENUM,
    "x-ms-enum-values": X_ENUM_VALUES,
    "x-ms-localizeDefaultValue": X_LOCALIZE_DEFAULT,
    "x-ms-notification-url": _f("boolean"),
    "x-ms-media-kind": Field(types=STRING, enum=("image", "audio")),
    # in use by certified connectors though not in the 2020 schema (section 7 of the catalogue)
    "x-ms-editor": _f("string"),
    "x-ms-editor-options": _f("object"),
}

_OPERATION_FIELDS: dict[str, Field] = {
    "tags": Field(types=ARRAY, items=STRING),
    "summary": _f("string"),
    "description": _f("string"),
    "externalDocs": _obj("externalDocs"),
    "operationId": _f("string"),
    "produces": Field(types=ARRAY, items=STRING, check="mime-types"),
    "consumes": Field(types=ARRAY, items=STRING, check="mime-types"),
    "parameters": _list("parameter"),
    "responses": Field(types=OBJECT, child="responses"),
    "schemes": Field(types=ARRAY, items=STRING, check="schemes"),
    "deprecated": _f("boolean"),
    "security": _list("security-requirement"),
    "x-ms-api-annotation": _obj("x-ms-api-annotation<operation>"),
    "x-ms-capabilities": _obj("x-ms-capabilities<operation>"),
    "x-ms-no-generic-test": _f("boolean"),
    "x-ms-operation-context": _obj("x-ms-operation-context"),
    "x-ms-pageable": _obj("x-ms-pageable"),
    "x-ms-safe-operation": _f("boolean"),
    "x-ms-summary": X_SUMMARY,
    "x-ms-trigger": Field(types=STRING, enum=("batch", "single"), enum_folded=True),
    "x-ms-trigger-hint": _f("string"),
    "x-ms-trigger-metadata": _obj("x-ms-trigger-metadata"),
    "x-ms-notification": _obj("x-ms-notification"),
    "x-ms-visibility": X_VISIBILITY,
    # Copilot / AI plugin metadata, newer than the 2020 schema
    "x-ms-openai-data": _f("object"),
    "x-ms-require-user-confirmation": _f("boolean"),
}

_HEADER_FIELDS: dict[str, Field] = {
    **{k: v for k, v in _PRIMITIVE.items()},
    "description": _f("string"),
    "x-ms-summary": X_SUMMARY,
    "x-ms-visibility": X_VISIBILITY,
}

_SECURITY_COMMON: dict[str, Field] = {
    "type": Field(types=STRING, enum=("basic", "apiKey", "oauth2")),
    "description": _f("string"),
}
OAUTH_FLOWS = ("implicit", "password", "application", "accessCode")
_OAUTH_URLS = {
    "implicit": ("authorizationUrl",),
    "password": ("tokenUrl",),
    "application": ("tokenUrl",),
    "accessCode": ("authorizationUrl", "tokenUrl"),
}

SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in [
        Spec("root", {
            "swagger": Field(),  # SpecificationVersionIncorrect
            "info": _obj("info"),
            "host": Field(types=STRING, check="host"),
            "basePath": Field(types=STRING, check="base-path"),
            "schemes": Field(types=ARRAY, items=STRING, check="schemes"),
            "consumes": Field(types=ARRAY, items=STRING, check="mime-types"),
            "produces": Field(types=ARRAY, items=STRING, check="mime-types"),
            "paths": Field(types=OBJECT, child="paths"),
            "definitions": _map("schema"),
            "parameters": _map("parameter"),
            "responses": _map("response"),
            "security": _list("security-requirement"),
            "securityDefinitions": _map("security-scheme"),
            "tags": Field(types=ARRAY, child="tag", mode=LIST, check="tags"),
            "externalDocs": _obj("externalDocs"),
            "x-ms-capabilities": _obj("x-ms-capabilities<api>"),
            "x-ms-connector-metadata": Field(types=ARRAY, child="connector-metadata", mode=LIST,
                                             check="connector-metadata"),
            "x-ms-docs": _list("x-ms-docs"),
            "x-ms-openai-manifest": _f("object"),
            "x-ms-openai-data": _f("object"),
        }, required=("swagger", "info", "paths")),
        Spec("info", {
            "title": _f("string"),
            "version": _f("string"),
            "description": _f("string"),
            "termsOfService": _f("string"),
            "contact": _obj("contact"),
            "license": _obj("license"),
            "x-ms-deployment-version": _f("string"),
            "x-ms-api-annotation": _obj("x-ms-api-annotation<info>"),
            "x-ms-keywords": Field(types=ARRAY, items=STRING),
            "x-ms-openai-published-to-copilots": Field(),  # an object or a list of objects in use
        }, required=("title", "version")),
        Spec("contact", {
            "name": _f("string"),
            "url": Field(types=STRING, check="url"),
            "email": Field(types=STRING, check="email"),
        }),
        Spec("license", {"name": _f("string"), "url": Field(types=STRING, check="url")}, required=("name",)),
        Spec("path-item", {
            **{method: _obj("operation") for method in HTTP_METHODS},
            "parameters": _list("parameter"),
            "x-ms-notification-content": _obj("x-ms-notification-content"),
        }, elsewhere={"$ref": None}),
        Spec("operation", _OPERATION_FIELDS),
        Spec("parameter<body>", {
            **_PARAMETER_COMMON,
            "in": Field(types=STRING, enum=PARAMETER_LOCATIONS),
            "schema": _obj("schema"),
        }, required=("name", "in"), elsewhere={
            **dict.fromkeys(BODY_MISPLACED, "BodyParameterPropertyNotValid"),
            "allowEmptyValue": None,  # AllowEmptyValueOnlyValidForQueryFormData
            **_NOT_SWAGGER,
            "uniqueItems": None,  # SwaggerKeywordNotSupported
            # DynamicExtensionDefinitionNotAllowedInParameter: these belong in the body's schema
            "x-ms-dynamic-schema": None,
            "x-ms-dynamic-properties": None,
            "x-ms-dynamic-tree": None,
        }),
        _non_body("query", {"x-ms-dynamic-tree": X_DYNAMIC_TREE, "x-ms-url-encoding": X_URL_ENCODING},
                  empty_value=True),
        _non_body("header", {}),
        _non_body("path", {"x-ms-dynamic-tree": X_DYNAMIC_TREE, "x-ms-url-encoding": X_URL_ENCODING,
                           "x-ms-skip-url-encoding": _f("boolean")}),
        _non_body("formData", {}, empty_value=True),
        Spec("items", dict(_PRIMITIVE), elsewhere=_NOT_SWAGGER),
        Spec("response", {
            "description": _f("string"),
            "schema": _obj("schema"),
            "headers": _map("header"),
            "examples": _f("object"),
            "x-ms-summary": X_SUMMARY,
        }, required=("description",), reference=True),
        Spec("header", _HEADER_FIELDS, required=("type",), elsewhere=_NOT_SWAGGER),
        Spec("schema", _SCHEMA_FIELDS, reference=True,
             elsewhere=_NOT_SWAGGER),
        Spec("security-scheme<basic>", _SECURITY_COMMON, unknown_rule="SecuritySchemePropertyNotValid"),
        Spec("security-scheme<apiKey>", {
            **_SECURITY_COMMON, "name": _f("string"), "in": Field(types=STRING, enum=("header", "query")),
        }, unknown_rule="SecuritySchemePropertyNotValid"),
        *[
            Spec(f"security-scheme<oauth2/{flow}>", {
                **_SECURITY_COMMON,
                "flow": Field(types=STRING, enum=OAUTH_FLOWS),
                "scopes": _f("object"),
                **{url: Field(types=STRING, check="url") for url in urls},
            }, unknown_rule="SecuritySchemePropertyNotValid")
            for flow, urls in _OAUTH_URLS.items()
        ],
        Spec("security-scheme<oauth2>", {
            **_SECURITY_COMMON,
            "flow": Field(types=STRING, enum=OAUTH_FLOWS),
            "scopes": _f("object"),
            "authorizationUrl": Field(types=STRING, check="url"),
            "tokenUrl": Field(types=STRING, check="url"),
        }, unknown_rule="SecuritySchemePropertyNotValid"),
        Spec("tag", {"name": _f("string"), "description": _f("string"), "externalDocs": _obj("externalDocs")},
             required=("name",)),
        Spec("externalDocs", {"description": _f("string"), "url": Field(types=STRING, check="url")},
             required=("url",)),
        Spec("xml", {
            "name": _f("string"), "namespace": _f("string"), "prefix": _f("string"),
            "attribute": _f("boolean"), "wrapped": _f("boolean"),
        }),
        *_EXTENSION_SPECS,
    ]
}  # fmt: skip

# Every x-ms-* key the model knows, for near-miss suggestions.
KNOWN_EXTENSIONS = frozenset(key for spec in SPECS.values() for key in spec.extensions) | frozenset(
    {"x-ms-capabilities", "x-ms-connector-metadata", "x-ms-docs", "x-ms-openai-manifest", "x-ms-openai-data"}
)

# --------------------------------------------------------------------------- value checks

_HOST = re.compile(r"^[^{}/ :\\]+(?::\d+)?$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")  # fmt: skip
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_MIME = re.compile(
    rf"^\s*(?:\*/\*|{_TOKEN}/(?:\*|{_TOKEN}))\s*(?:;\s*{_TOKEN}\s*=\s*(?:{_TOKEN}|\"[^\"]*\")\s*)*;?\s*$"
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
METADATA_URLS = ("website", "privacy policy")
METADATA_KEYS = ("propertyName", "propertyValue")


def url_is_valid(value: str) -> bool:
    """An absolute URL: a scheme, and for http(s) a host; no whitespace."""
    if not _SCHEME.match(value) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.hostname)
    return True


def email_is_valid(value: str) -> bool:
    return value.isascii() and _EMAIL.match(value) is not None


def mime_type_is_valid(value: str) -> bool:
    return _MIME.match(value) is not None


# --------------------------------------------------------------------------- the walk


def _type_ok(value: Any, accepted: frozenset[type], types: tuple[str, ...]) -> bool:
    kind = type(value)
    if kind in accepted:
        return True
    return kind is float and "integer" in types and value.is_integer()


def _message(rule_id: str, *args: Any) -> str:
    return catalogue()[rule_id]["message"].format(*args)


@lru_cache(maxsize=1024)
def near(key: str, candidates: frozenset[str], cutoff: float) -> str | None:
    """The name among ``candidates`` that ``key`` most likely misspells, if any."""
    folded = key.lower()
    pool = sorted(candidates)
    for name in pool:
        if name.lower() == folded:
            return name
    close = difflib.get_close_matches(key, pool, n=1, cutoff=cutoff)
    if close:
        return close[0]
    # "x-ms-summary title", "x-ms-summary:": a known name with text run into it
    for name in sorted(pool, key=len, reverse=True):
        if folded.startswith(name.lower()) and folded[len(name) : len(name) + 1] in (" ", ":", "=", "\t"):
            return name
    return None


@dataclass
class Problems:
    """What the structural pass found, by rule id."""

    hits: dict[str, list[Hit]] = field(default_factory=dict)

    def add(self, rule_id: str, found: Hit) -> None:
        self.hits.setdefault(rule_id, []).append(found)

    def of(self, rule_id: str) -> list[Hit]:
        return self.hits.get(rule_id, [])


class _Walk:
    """One pass over the document with the object model.

    The position is kept as a stack of pointer tokens and only written out as a JSON pointer
    for the few places that have a problem.
    """

    def __init__(self, certification: bool) -> None:
        self.certification = certification
        self.hidden = False  # inside an operation users never see (certification strings)
        self.path: list[str] = []
        self.found = Problems()
        self.checks: dict[str, Callable[[Any], None]] = {
            "host": self._host,
            "base-path": self._base_path,
            "schemes": self._schemes,
            "mime-types": self._mime_types,
            "url": self._url,
            "email": self._email,
            "tags": self._tags,
            "connector-metadata": self._connector_metadata,
        }

    # -- reporting

    def here(self, *more: str | int) -> str:
        return "".join("/" + escape_pointer_token(str(t)) for t in (*self.path, *more))

    def add(self, rule_id: str, pointer: str, *args: Any, message: str | None = None) -> None:
        self.found.add(rule_id, hit(pointer, *args, message=message))

    def wrong_type(self, value: Any, expected: tuple[str, ...], *more: str | int) -> None:
        self.add("JsonTypeIncorrect", self.here(*more), " or ".join(expected), json_type(value))

    # -- generic

    def visit(self, kind: str, value: Any) -> None:
        if type(value) is not dict:
            self.wrong_type(value, OBJECT)
            return
        special = _SPECIAL.get(kind)
        if special is not None:
            special(self, value)
        else:
            self.object(SPECS[kind], value)

    def object(self, spec: Spec, raw: dict[str, Any]) -> None:
        if spec.reference and "$ref" in raw:
            self.reference(raw)
            return
        fields = spec.fields
        path = self.path
        for key, value in raw.items():
            found = fields.get(key)
            if found is None:
                self.unknown(spec, raw, key)
                continue
            if (
                found.accepted
                and type(value) not in found.accepted
                and not _type_ok(value, found.accepted, found.types)
            ):
                self.wrong_type(value, found.types, key)
                continue
            if found.walk:
                path.append(key)
                self.value(found, value)
                path.pop()
        for key in spec.required:
            if key not in raw:
                self.add("RequiredPropertyMissing", self.here(), key)
        if spec.one_of and not any(key in raw for key in spec.one_of):
            self.add("OneOfPropertiesRequired", self.here(), ", ".join(spec.one_of))

    def value(self, spec: Field, value: Any) -> None:
        """Look into the value of a field: enum, array items, value checks, nested objects."""
        if spec.enum is not None:
            if type(value) is list:
                for index, item in enumerate(value):
                    if type(item) is str and not _in_enum(item, spec):
                        self.add("JsonValueNotInEnum", self.here(index), ", ".join(spec.enum))
            elif type(value) is str and value not in spec.enum and not _in_enum(value, spec):
                self.add("JsonValueNotInEnum", self.here(), ", ".join(spec.enum))
        if spec.items and type(value) is list:
            for index, item in enumerate(value):
                if not _type_ok(item, spec.items_accepted, spec.items):
                    self.wrong_type(item, spec.items, index)
        if spec.check is not None:
            self.checks[spec.check](value)
        child = spec.child
        if child is None:
            return
        path = self.path
        if spec.mode == MAP:
            if type(value) is dict:
                for name, item in value.items():
                    path.append(name)
                    self.visit(child, item)
                    path.pop()
        elif type(value) is list:  # a LIST, or a schema's "items" written as a list
            for index, item in enumerate(value):
                path.append(str(index))
                self.visit(child, item)
                path.pop()
        elif type(value) is dict:
            self.visit(child, value)

    def unknown(self, spec: Spec, raw: dict[str, Any], key: str) -> None:
        if key in spec.elsewhere:
            rule_id = spec.elsewhere[key]
            if rule_id is not None:
                self.add(rule_id, self.here(key), key)
            return
        if key.startswith("x-"):
            if key.startswith("x-ms-") and spec.closed:
                self.extension_not_allowed(spec, key)
            return
        if not spec.closed:
            return
        if spec.unknown_rule == "SecuritySchemePropertyNotValid":
            self.add(spec.unknown_rule, self.here(key), key, raw.get("type"))
            return
        suggestion = near(key, spec.plain, 0.8)
        message = None
        if suggestion is not None:
            message = f"{_message('ExtensionNameNotValid', key)} Did you mean '{suggestion}'?"
        self.add("ExtensionNameNotValid", self.here(key), key, message=message)

    def extension_not_allowed(self, spec: Spec, key: str) -> None:
        message = None
        if key not in KNOWN_EXTENSIONS:
            suggestion = near(key, spec.extensions, 0.85) or near(key, KNOWN_EXTENSIONS, 0.85)
            if suggestion is not None:
                message = f"{_message('AdditionalPropertyNotAllowed', key)} Did you mean '{suggestion}'?"
        self.add("AdditionalPropertyNotAllowed", self.here(key), key, message=message)

    def reference(self, raw: dict[str, Any]) -> None:
        ref = raw["$ref"]
        if type(ref) is not str:
            self.wrong_type(ref, STRING, "$ref")
        if len(raw) > 1:
            self.add("AdditionalPropertyNotAllowedAdjacentToRef", self.here())

    # -- objects needing more than the table

    def paths(self, raw: dict[str, Any]) -> None:
        path = self.path
        for name, item in raw.items():
            if name.startswith("x-"):
                if name.startswith("x-ms-"):
                    self.extension_not_allowed(_PATHS, name)
                continue
            path.append(name)
            self.visit("path-item", item)
            path.pop()

    def path_item(self, raw: dict[str, Any]) -> None:
        operations = [raw[m] for m in HTTP_METHODS if type(raw.get(m)) is dict]
        self.hidden = bool(operations) and all(_internal(op) for op in operations)
        self.object(SPECS["path-item"], raw)
        self.hidden = False

    def operation(self, raw: dict[str, Any]) -> None:
        hidden, self.hidden = self.hidden, _internal(raw)
        self.object(SPECS["operation"], raw)
        self.hidden = hidden

    def responses(self, raw: dict[str, Any]) -> None:
        path = self.path
        for code, response in raw.items():
            if code.startswith("x-"):
                if code.startswith("x-ms-"):
                    self.extension_not_allowed(_RESPONSES, code)
                continue
            path.append(code)
            self.visit("response", response)
            path.pop()

    def parameter(self, raw: dict[str, Any]) -> None:
        if "$ref" in raw:
            self.reference(raw)
            return
        location = raw.get("in")
        spec = _PARAMETER_SPECS.get(location) if type(location) is str else None
        if spec is None:
            if location is None:
                self.add("RequiredPropertyMissing", self.here(), "in")
            elif type(location) is not str:
                self.wrong_type(location, STRING, "in")
            else:
                self.add("JsonValueNotInEnum", self.here("in"), ", ".join(PARAMETER_LOCATIONS))
            if "name" not in raw:
                self.add("RequiredPropertyMissing", self.here(), "name")
            return
        self.object(spec, raw)
        if self.certification and location != "body" and not self.hidden and not _internal(raw):
            # observed in certification runs: every input users see needs a title and a help text
            for key in ("x-ms-summary", "description"):
                if key not in raw:
                    self.add("RequiredPropertyMissing", self.here(), key)

    def security_scheme(self, raw: dict[str, Any]) -> None:
        kind = raw.get("type")
        if kind is None:
            self.add("RequiredPropertyMissing", self.here(), "type")
            return
        if type(kind) is not str:
            self.wrong_type(kind, STRING, "type")
            return
        if kind == "oauth2":
            flow = raw.get("flow")
            spec = SPECS.get(f"security-scheme<oauth2/{flow}>") if type(flow) is str else None
            self.object(spec or SPECS["security-scheme<oauth2>"], raw)
            if flow is None:
                self.add("SecuritySchemePropertyRequired", self.here(), "flow", kind)
            for url in _OAUTH_URLS.get(flow, ()) if type(flow) is str else ():
                if url not in raw:
                    self.add("SecuritySchemePropertyRequired", self.here(), url, kind)
            return
        spec = SPECS.get(f"security-scheme<{kind}>")
        if spec is None:
            self.add("JsonValueNotInEnum", self.here("type"), "basic, apiKey, oauth2")
            return
        self.object(spec, raw)
        if kind == "apiKey":
            for key in ("name", "in"):
                if key not in raw:
                    self.add("SecuritySchemePropertyRequired", self.here(), key, kind)

    def security_requirement(self, raw: dict[str, Any]) -> None:
        for name, scopes in raw.items():
            if scopes is None:  # SecurityRequirementMustHaveValue
                continue
            if type(scopes) is not list:
                self.wrong_type(scopes, ARRAY, name)
                continue
            for index, scope in enumerate(scopes):
                if type(scope) is not str:
                    self.wrong_type(scope, STRING, name, index)

    def metadata_entry(self, raw: dict[str, Any]) -> None:
        # read without regard to case, as the platform does ("PropertyName" is accepted)
        folded = {key.lower(): key for key in raw}
        for name in METADATA_KEYS:
            key = folded.get(name.lower())
            if key is None:
                self.add("RequiredPropertyMissing", self.here(), name)
            elif type(raw[key]) is not str:
                self.wrong_type(raw[key], STRING, key)

    # -- value checks (the path ends at the value)

    def _host(self, value: Any) -> None:
        if type(value) is str and not _HOST.match(value):
            self.add("HostNameNotValid", self.here())

    def _base_path(self, value: Any) -> None:
        if type(value) is str and not value.startswith("/"):
            self.add("BasePathNotValid", self.here())

    def _schemes(self, value: Any) -> None:
        if type(value) is not list:
            return
        for index, scheme in enumerate(value):
            if type(scheme) is str and scheme not in HTTP_SCHEMES and scheme not in WEBSOCKET_SCHEMES:
                self.add("SchemeNotValid", self.here(index), ", ".join(HTTP_SCHEMES))

    def _mime_types(self, value: Any) -> None:
        if type(value) is not list:
            return
        for index, mime in enumerate(value):
            if type(mime) is str and not mime_type_is_valid(mime):
                self.add("MimeTypeNotValid", self.here(index), mime)

    def _url(self, value: Any) -> None:
        if type(value) is str and not url_is_valid(value):
            key = self.path[-1]
            message = None if key == "url" else _message("UrlNotValid").replace("'url'", f"'{key}'")
            self.add("UrlNotValid", self.here(), message=message)

    def _email(self, value: Any) -> None:
        if type(value) is str and not email_is_valid(value):
            self.add("ContactEmailNotValid", self.here())

    def _tags(self, value: Any) -> None:
        if type(value) is not list:
            return
        seen: set[str] = set()
        for index, tag in enumerate(value):
            name = tag.get("name") if type(tag) is dict else None
            if type(name) is not str:
                continue
            if name in seen:
                self.add("TagRedefined", self.here(index, "name"), name)
            seen.add(name)

    def _connector_metadata(self, value: Any) -> None:
        # the Website and Privacy policy links are a certification requirement
        if not self.certification or type(value) is not list:
            return
        for index, entry in enumerate(value):
            if type(entry) is not dict:
                continue
            keys = {key.lower(): key for key in entry}
            name = entry.get(keys.get("propertyname", ""))
            value_key = keys.get("propertyvalue", "propertyValue")
            url = entry.get(value_key)
            if (
                type(name) is str
                and name.strip().lower() in METADATA_URLS
                and type(url) is str
                and not url_is_valid(url.strip())
            ):
                message = f"The '{name}' value must be a valid absolute URL."
                self.add("UrlNotValid", self.here(index, value_key), message=message)

    # -- the document

    def document(self, doc: dict[str, Any]) -> Problems:
        self.object(SPECS["root"], doc)
        if self.certification:
            info = doc.get("info")
            if type(info) is dict and "contact" not in info:
                self.add("RequiredPropertyMissing", "/info", "contact")
            if "x-ms-connector-metadata" not in doc:
                self.add("RequiredPropertyMissing", "", "x-ms-connector-metadata")
        return self.found


def _internal(raw: dict[str, Any]) -> bool:
    """Hidden from users: the designer shows neither the operation nor its inputs."""
    return raw.get("x-ms-visibility") == "internal"


def _in_enum(value: str, spec: Field) -> bool:
    if spec.enum is None or value in spec.enum or value in spec.tolerated:
        return True
    if spec.enum_folded:
        return value.lower() in (e.lower() for e in spec.enum)
    return False


_PATHS = Spec("paths", {})
_RESPONSES = Spec("responses", {})
_PARAMETER_SPECS = {location: SPECS[f"parameter<{location}>"] for location in PARAMETER_LOCATIONS}
_SPECIAL: dict[str, Callable[[_Walk, dict[str, Any]], None]] = {
    "paths": _Walk.paths,
    "path-item": _Walk.path_item,
    "operation": _Walk.operation,
    "responses": _Walk.responses,
    "parameter": _Walk.parameter,
    "security-scheme": _Walk.security_scheme,
    "security-requirement": _Walk.security_requirement,
    "connector-metadata": _Walk.metadata_entry,
}


def analyse(doc: dict[str, Any], certification: bool = False) -> Problems:
    """Check ``doc`` against the object model; the problems found, by rule id."""
    return _Walk(certification).document(doc)


def _problems(ctx: Context) -> Problems:
    return ctx.memo("structure.problems", lambda: analyse(ctx.doc, ctx.certification))


# --------------------------------------------------------------------------- the rules


@svr("ExtensionNameNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def extension_name_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A key that Swagger 2.0 does not define at this position is not an extension either,
    because its name does not begin with ``x-``. Microsoft's validator rejects the definition.

    The usual causes are a misspelled keyword (``descripton``, ``operationID``), a keyword put
    one level too deep or too high (``securityDefinitions`` inside a path), or a property of
    another file (``scriptOperations`` belongs in apiProperties.json). When a valid key is close,
    the message names it.
    """
    yield from _problems(ctx).of("ExtensionNameNotValid")


@svr("AdditionalPropertyNotAllowed", on=On.DOCUMENT, severity=Severity.WARNING)
def additional_property_not_allowed(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """An ``x-ms-*`` extension is not one the platform reads at this position, so it does nothing.

    Microsoft reserves the ``x-ms-`` prefix: each of its extensions is read only where it is
    documented (``x-ms-url-encoding`` on path parameters, ``x-ms-visibility`` on operations,
    parameters and schemas …). Anywhere else, or misspelled (``x-ms-visibilty``,
    ``x-ms-summmary``), it is silently ignored, and the designer shows the default instead of
    what was meant. The message suggests the extension a misspelling most likely stands for.
    Certified connectors carry such keys, so this is a warning.
    """
    yield from _problems(ctx).of("AdditionalPropertyNotAllowed")


@svr("AdditionalPropertyNotAllowedAdjacentToRef", on=On.DOCUMENT, severity=Severity.WARNING)
def adjacent_to_ref(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """An object holding ``$ref`` is replaced by the object it points to, so any other key next
    to ``$ref`` (a ``description``, an ``x-ms-summary``) is ignored.

    Put the keys on the referenced definition, or drop the reference and describe the object in
    place. Many certified connectors annotate references this way, so this is a warning.
    """
    yield from _problems(ctx).of("AdditionalPropertyNotAllowedAdjacentToRef")


@svr("JsonTypeIncorrect", on=On.DOCUMENT, severity=Severity.ERROR)
def json_type_incorrect(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A keyword's value has the wrong JSON type, e.g. ``"required": "true"`` (a string, not a
    boolean) or a parameter list written as an object. The platform reads the definition with a
    strict schema and rejects it."""
    yield from _problems(ctx).of("JsonTypeIncorrect")


@svr("JsonValueNotInEnum", on=On.DOCUMENT, severity=Severity.ERROR)
def json_value_not_in_enum(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A keyword takes one of a fixed set of values, and this value is not one of them: a
    parameter ``in``, a parameter or schema ``type``, a security scheme ``type``, ``in`` or
    ``flow``, ``x-ms-visibility``, ``x-ms-trigger``, ``x-ms-url-encoding`` …

    Extension values are compared without regard to case, and an empty ``x-ms-visibility`` is
    accepted as "no visibility", as the platform does for certified connectors.
    """
    yield from _problems(ctx).of("JsonValueNotInEnum")


@svr("RequiredPropertyMissing", on=On.DOCUMENT, severity=Severity.ERROR)
def required_property_missing(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A key the object must have is absent, such as ``info.title``, a parameter's ``name`` or a
    response's ``description``; for certification also ``info.contact``, the root
    ``x-ms-connector-metadata``, and the ``x-ms-summary`` and ``description`` of every input
    users see.

    Swagger 2.0 requires ``swagger``, ``info`` and ``paths``, ``info.title`` and
    ``info.version``, a parameter's ``name``, ``in`` and (outside the body) ``type``, a
    response's ``description`` and a header's ``type``; the connector extensions require their
    ``operationId`` and the like. For certification (``--profile certified`` or
    ``independent-publisher``) Microsoft also requires ``info.contact``, the root ``x-ms-connector-metadata``, and an ``x-ms-summary`` and a
    ``description`` on every input users see, so the designer shows a title and a help text for
    each. As in Microsoft's runs, inputs users never see are exempt: body parameters (users fill
    in the properties of their schema), ``internal`` parameters and the parameters of
    ``internal`` operations.
    """
    yield from _problems(ctx).of("RequiredPropertyMissing")


@svr("OneOfPropertiesRequired", on=On.DOCUMENT, severity=Severity.ERROR)
def one_of_properties_required(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``x-ms-dynamic-values`` must say where its values come from: an ``operationId`` of this
    connector, a ``builtInOperation`` or a ``capability``. Without one of them the designer has
    nothing to call."""
    yield from _problems(ctx).of("OneOfPropertiesRequired")


@svr("BodyParameterPropertyNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def body_parameter_property_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A body parameter describes its value with ``schema``; keywords of the other parameter
    kinds (``type``, ``format``, ``items``, ``enum``, ``default`` …) are not valid on it and are
    not read. Move them into the schema."""
    yield from _problems(ctx).of("BodyParameterPropertyNotValid")


@svr("SecuritySchemePropertyNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def security_scheme_property_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Each kind of security scheme has its own keys: ``name`` and ``in`` for apiKey, ``flow``,
    ``scopes`` and the URLs its flow needs for oauth2, none for basic. A key of another kind or
    flow (``flow`` on an apiKey, ``tokenUrl`` on an implicit flow) is not valid."""
    yield from _problems(ctx).of("SecuritySchemePropertyNotValid")


@svr("SecuritySchemePropertyRequired", on=On.DOCUMENT, severity=Severity.ERROR)
def security_scheme_property_required(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A security scheme lacks a key its kind needs to sign in: ``name`` and ``in`` for apiKey;
    ``flow`` for oauth2, with ``authorizationUrl`` for the implicit and accessCode flows and
    ``tokenUrl`` for the password, application and accessCode flows."""
    yield from _problems(ctx).of("SecuritySchemePropertyRequired")


@svr("SchemeNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def scheme_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``schemes`` names the protocols the API is called with; a connector calls its API over
    ``http`` or ``https`` only (written in lower case)."""
    yield from _problems(ctx).of("SchemeNotValid")


@svr("BasePathNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def base_path_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``basePath`` is appended to the host to form every request URL, so it must begin with
    ``/``; a value such as ``api/v1`` or ``example.com/api`` cannot be joined to the host."""
    yield from _problems(ctx).of("BasePathNotValid")


@svr("HostNameNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def host_name_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``host`` is a bare host name with an optional port (``api.contoso.com:8443``). A scheme,
    a path, a space or a ``{placeholder}`` cannot be part of it: the scheme goes in ``schemes``,
    the path in ``basePath``, and a per-connection host in a policy."""
    yield from _problems(ctx).of("HostNameNotValid")


@svr("UrlNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def url_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A URL of the definition is not an absolute URL: the contact, license and externalDocs
    ``url``, ``x-ms-docs`` entries, the OAuth ``authorizationUrl`` and ``tokenUrl``, and for
    certification the ``Website`` and ``Privacy policy`` values of ``x-ms-connector-metadata``.
    Users follow these links from the connector's documentation page."""
    yield from _problems(ctx).of("UrlNotValid")


@svr("ContactEmailNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def contact_email_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``info.contact.email`` is where users and Microsoft reach the connector's support team; it
    must be a plain ASCII e-mail address (``support@contoso.com``)."""
    yield from _problems(ctx).of("ContactEmailNotValid")


@svr("MimeTypeNotValid", on=On.DOCUMENT, severity=Severity.ERROR)
def mime_type_not_valid(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """An entry of ``consumes`` or ``produces`` is not a MIME type of the form ``type/subtype``
    (with optional parameters), so the platform cannot set or match a Content-Type with it."""
    yield from _problems(ctx).of("MimeTypeNotValid")


@svr("TagRedefined", on=On.DOCUMENT, severity=Severity.ERROR)
def tag_redefined(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The root ``tags`` list declares the same tag name twice. Swagger 2.0 requires tag names
    to be unique, since operations refer to a tag by its name alone."""
    yield from _problems(ctx).of("TagRedefined")


@svr("SpecificationVersionIncorrect", on=On.DOCUMENT, severity=Severity.ERROR, keys=("swagger",))
def specification_version_incorrect(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Custom connectors are described in Swagger 2.0 only: ``swagger`` must be the string
    ``"2.0"``. An OpenAPI 3 document (``openapi: 3.0.x``) must be converted first, and a number
    ``2.0`` is not the string the platform checks for."""
    value = ctx.doc.get("swagger")
    if value != "2.0":
        yield hit("/swagger")
