"""OpenAPI 3.0/3.1 to Swagger 2.0, with every loss written into the report.

The input is one document whose ``$ref`` s are all local (``bundle.py`` has inlined other files).
The output is a Swagger 2.0 definition that Power Platform's validator accepts:

- ``servers`` become ``host``/``basePath``/``schemes``; a host with variables in it becomes a
  URL template and connection parameters (:attr:`Converted.url_template`,
  :attr:`Converted.host_parameters`) that the caller turns into a ``dynamichosturl`` policy.
- ``requestBody`` becomes one ``body`` parameter, or one ``formData`` parameter per property
  of a form; response ``content`` becomes the response ``schema``; media types feed
  ``consumes``/``produces``.
- ``components`` become ``definitions``, ``parameters`` and ``responses``; request bodies,
  headers, examples and path items are inlined where they are used.
- JSON Schema keywords Swagger 2.0 lacks are mapped where a mapping keeps the meaning
  (``nullable`` and ``["T", "null"]`` to ``x-nullable``, numeric ``exclusiveMinimum`` to
  ``minimum`` + ``exclusiveMinimum: true``, ``oneOf`` of constants to an ``enum``, ``oneOf`` of
  objects to one merged object) and reported where they are approximated or dropped.
- ``securitySchemes`` become ``securityDefinitions``; an HTTP bearer scheme becomes an API key
  in the ``Authorization`` header (:attr:`Converted.bearer_schemes`).
- ``callbacks`` that subscribe a URL are reported as webhook-trigger candidates.

Every report item names the place in the source (``source``) and in the result (``target``) as
JSON pointers.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from connectorkit.authoring.converted import Converted
from connectorkit.authoring.report import Kind, Report
from connectorkit.definition.jsontext import escape_pointer_token, pointer_join, unescape_pointer_token
from connectorkit.errors import InputError

log = logging.getLogger(__name__)

SWAGGER_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
OPENAPI_METHODS = (*SWAGGER_METHODS, "trace")
FORM_MEDIA = ("multipart/form-data", "application/x-www-form-urlencoded")
MULTIPART = "multipart/form-data"

# Keys of the conventional Swagger 2.0 root, in order.
ROOT_ORDER = (
    "swagger",
    "info",
    "host",
    "basePath",
    "schemes",
    "consumes",
    "produces",
    "paths",
    "definitions",
    "parameters",
    "responses",
    "securityDefinitions",
    "security",
    "tags",
    "externalDocs",
)
# Schema keywords Swagger 2.0 has with the same meaning.
SCHEMA_KEPT = (
    "title",
    "description",
    "format",
    "default",
    "multipleOf",
    "maximum",
    "minimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "readOnly",
)
# Schema keywords that say nothing about the data (identifiers, comments, dialects).
SCHEMA_SILENT = frozenset(
    {"$schema", "$id", "$anchor", "$dynamicAnchor", "$comment", "$defs", "definitions", "$vocabulary"}
)
# Schema keywords Swagger 2.0 cannot express, with what is lost.
SCHEMA_UNSUPPORTED = {
    "not": "a 'not' constraint",
    "if": "an 'if'/'then'/'else' condition",
    "then": "an 'if'/'then'/'else' condition",
    "else": "an 'if'/'then'/'else' condition",
    "dependentSchemas": "'dependentSchemas'",
    "dependentRequired": "'dependentRequired'",
    "dependencies": "'dependencies'",
    "unevaluatedProperties": "'unevaluatedProperties'",
    "unevaluatedItems": "'unevaluatedItems'",
    "contains": "a 'contains' constraint",
    "minContains": "'minContains'",
    "maxContains": "'maxContains'",
    "propertyNames": "'propertyNames'",
    "contentSchema": "'contentSchema'",
    "$dynamicRef": "a '$dynamicRef'",
    "$recursiveRef": "a '$recursiveRef'",
    "$recursiveAnchor": "a '$recursiveAnchor'",
    "deprecated": "the 'deprecated' flag",
    "writeOnly": "'writeOnly' (the property may also appear in responses)",
    "additionalItems": "'additionalItems'",
}
# Keys of a non-body parameter or items object taken over from a converted schema.
PRIMITIVE_KEPT = (
    "format",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
)
PRIMITIVE_TYPES = ("string", "number", "integer", "boolean", "array")
SCALAR_TYPES = frozenset({"string", "number", "integer", "boolean"})
# Header parameters OpenAPI says to ignore: the client sets them itself.
IGNORED_HEADERS = {"accept": "Accept", "content-type": "Content-Type", "authorization": "Authorization"}
# Top-level keys of an OpenAPI document that carry no meaning for the connector.
ROOT_SILENT = frozenset({"openapi", "jsonSchemaDialect", "$schema", "$id", "$self"})
OAUTH_FLOWS = (
    ("authorizationCode", "accessCode"),
    ("clientCredentials", "application"),
    ("implicit", "implicit"),
    ("password", "password"),
)
OAUTH_URLS = {
    "accessCode": ("authorizationUrl", "tokenUrl"),
    "application": ("tokenUrl",),
    "implicit": ("authorizationUrl",),
    "password": ("tokenUrl",),
}
_STATUS = re.compile(r"^[1-5]\d\d$")
_STATUS_RANGE = re.compile(r"^([1-5])XX$", re.IGNORECASE)
_VARIABLE = re.compile(r"\{([^{}]*)\}")
_HOST = re.compile(r"^[^{}/ :\\]+(?::\d+)?$")
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_CALLBACK_INPUT = re.compile(r"^\{\$request\.(query|header|path)\.([^}]+)\}|^\{\$request\.body#([^}]*)\}")
_JSON_MEDIA = re.compile(r"^application/(?:[\w.-]+\+)?json\b", re.IGNORECASE)
_BINARY_MEDIA = re.compile(r"^(?:application/octet-stream|application/pdf|application/zip|image/|audio/|video/)", re.I)
_REASONS = {"1": "Informational", "2": "Success", "3": "Redirection", "4": "Client error", "5": "Server error"}
_DETAIL_LIMIT = 8


def convert_openapi3(
    doc: dict[str, Any],
    report: Report,
    *,
    source_url: str | None = None,
    oidc_urls: tuple[str, str] | None = None,
    location: str | None = None,
) -> Converted:
    """The Swagger 2.0 definition for an OpenAPI 3.0/3.1 document with local ``$ref`` s only.

    ``source_url`` is where the document was fetched from (relative server URLs are resolved
    against it; without servers, the API is assumed to live there). ``oidc_urls`` are the
    (authorization, token) URLs that stand in for an ``openIdConnect`` scheme's discovery
    document. ``location`` names the document in error messages (the path or URL given by the
    user); it defaults to ``source_url``.
    """
    converter = _Converter(doc, report, source_url, oidc_urls, location)
    try:
        return converter.run()
    except RecursionError:
        raise InputError(f"{converter.where}: schemas nest too deeply to convert") from None


# --------------------------------------------------------------------------- small helpers


def _ptr(*tokens: str | int) -> str:
    """A JSON pointer (with the leading ``#``) from unescaped tokens."""
    pointer = "#"
    for token in tokens:
        pointer = pointer_join(pointer, token)
    return pointer


def _is_json_media(media: str) -> bool:
    return _JSON_MEDIA.match(media.strip()) is not None or media.split(";")[0].strip().lower().endswith("+json")


def _media_base(media: str) -> str:
    return media.split(";")[0].strip().lower()


def _choose_media(media_types: list[str]) -> str:
    """The JSON media type (``application/json``, then ``+json``), else the first."""
    for media in media_types:
        if _media_base(media) == "application/json":
            return media
    for media in media_types:
        if _is_json_media(media):
            return media
    return media_types[0]


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


def _common_type(values: Iterable[Any]) -> str | None:
    """The one JSON type of all ``values`` (integers widen to number), else None."""
    types = {_json_type(v) for v in values}
    if types == {"integer", "number"}:
        return "number"
    if len(types) == 1:
        return types.pop()
    return None


def _widest(types: set[str]) -> str | None:
    """A type every value of the given types can be written as, or None (any JSON value)."""
    if not types:
        return None
    if len(types) == 1:
        return next(iter(types))
    if types <= {"integer", "number"}:
        return "number"
    if types <= SCALAR_TYPES and "string" in types:
        return "string"
    return None


def _listing(names: Iterable[Any]) -> str:
    items = [str(n) for n in names]
    if len(items) > _DETAIL_LIMIT:
        return ", ".join(items[:_DETAIL_LIMIT]) + f" and {len(items) - _DETAIL_LIMIT} more"
    return ", ".join(items)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _drop_none(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


@dataclass
class _Shape:
    """The properties of an object schema, with the places they were declared."""

    properties: list[tuple[str, Any, str]] = field(default_factory=list)
    required: set[str] = field(default_factory=set)


@dataclass
class _Server:
    raw: str  # as written, with {variables}
    url: str  # resolved against the source URL, variables at their defaults
    variables: dict[str, Any]
    pointer: str


# --------------------------------------------------------------------------- the converter


class _Converter:
    def __init__(
        self,
        doc: dict[str, Any],
        report: Report,
        source_url: str | None,
        oidc_urls: tuple[str, str] | None,
        location: str | None,
    ) -> None:
        self.doc = doc
        self.report = report
        self.source_url = source_url
        self.oidc_urls = oidc_urls
        self.where = location or source_url or "the OpenAPI document"
        self.quiet = 0
        self.seen_items: set[tuple[str, str, str | None, str | None]] = set()
        self.converted = Converted(swagger={})
        # schemas
        self.definitions: dict[str, Any] = {}
        self.def_names: dict[str, str] = {}  # source pointer -> definition name
        self.pending: list[tuple[str, str]] = []  # (source pointer, definition name) to convert
        self.discriminators: list[tuple[str, dict[str, str], str]] = []  # (definition, mapping, source)
        self.variant_values: list[tuple[str, str]] = []  # (definition, discriminator value) of alternatives
        # components
        self.global_params: dict[str, dict[str, Any] | None] = {}
        self.global_responses: dict[str, tuple[dict[str, Any], list[str]]] = {}
        self.param_names: dict[str, str] = {}  # source pointer -> name under #/parameters
        self.response_names: dict[str, str] = {}  # source pointer -> name under #/responses
        # security
        self.security_kinds: dict[str, str] = {}  # scheme name -> swagger type
        self.dropped_schemes: set[str] = set()
        self.oidc_schemes: set[str] = set()
        self.extra_scopes: dict[str, list[str]] = {}
        self.base_url: str | None = None
        self.gathered: dict[str, tuple[Kind, str, str, list[str], list[str]]] = {}

    # -- reporting and errors

    def _add(self, kind: Kind, message: str, source: str | None, target: str | None) -> None:
        if self.quiet and kind is not Kind.CANDIDATE:
            return
        key = (kind.value, message, source, target)
        if key in self.seen_items:
            return
        self.seen_items.add(key)
        self.report.add(kind, message, source, target)

    def _approx(self, message: str, source: str | None, target: str | None = None) -> None:
        self._add(Kind.APPROXIMATED, message, source, target)

    def _drop(self, message: str, source: str | None, target: str | None = None) -> None:
        self._add(Kind.DROPPED, message, source, target)

    def _note(self, message: str, source: str | None, target: str | None = None) -> None:
        self._add(Kind.NOTE, message, source, target)

    def _gather(self, message: str, kind: Kind, source: str, target: str, details: list[str]) -> None:
        """A loss that repeats across the document: reported once, with every place counted;
        ``{details}`` in the message lists ``details`` of all places."""
        if self.quiet:
            return
        entry = self.gathered.setdefault(message, (kind, source, target, [], []))
        entry[3].append(source)
        entry[4].extend(d for d in details if d not in entry[4])

    def _report_gathered(self) -> None:
        for message, (kind, source, target, places, details) in self.gathered.items():
            text = message.replace("{details}", _listing(details))
            if len(places) > 1:
                text += f"; {len(places)} places, the first is named here"
            self._add(kind, text, source, target)

    def _error(self, pointer: str, problem: str) -> InputError:
        return InputError(f"{self.where}: {pointer}: {problem}")

    # -- references

    def _lookup(self, ref: Any, at: str) -> tuple[Any, str]:
        """The node a local ``$ref`` points to, and its normalised pointer."""
        if not isinstance(ref, str):
            raise self._error(at, "a $ref must be a string")
        if not ref.startswith("#"):
            raise self._error(at, f"$ref {ref!r} points outside this document (bundle the description first)")
        pointer = unquote(ref[1:])
        if pointer and not pointer.startswith("/"):
            raise self._error(at, f"$ref {ref!r} is not a JSON pointer (anchors are not supported)")
        node: Any = self.doc
        tokens = [unescape_pointer_token(t) for t in pointer.split("/")[1:]] if pointer else []
        for token in tokens:
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                raise self._error(at, f"$ref {ref!r} cannot be resolved")
        return node, _ptr(*tokens)

    def _follow(self, node: Any, at: str) -> tuple[Any, str]:
        """Follow a chain of ``$ref`` s (parameters, responses, bodies, headers, path items)."""
        seen: list[str] = []
        pointer = at
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise self._error(at, f"cyclic $ref: {' -> '.join([*seen, str(ref)])}")
            seen.append(ref)
            node, pointer = self._lookup(ref, pointer)
        return node, pointer

    def _is_alias(self, node: Any) -> bool:
        """A schema that is nothing but a ``$ref`` to another one."""
        return isinstance(node, dict) and "$ref" in node and not (set(node) - {"$ref"} - SCHEMA_SILENT)

    def _deref_schema(self, node: Any, at: str) -> tuple[Any, str, bool]:
        """Follow pure ``$ref`` schemas to a schema with content; True when a ref was followed."""
        followed = False
        seen: list[str] = []
        pointer = at
        while self._is_alias(node):
            ref = node["$ref"]
            if ref in seen:
                raise self._error(at, f"cyclic $ref: {' -> '.join([*seen, str(ref)])}")
            seen.append(ref)
            node, pointer = self._lookup(ref, pointer)
            followed = True
        return node, pointer, followed

    # -- schema definitions

    def _definition_ref(self, ref: Any, at: str) -> dict[str, Any]:
        """``{"$ref": "#/definitions/Name"}`` for a source schema ``$ref``."""
        node, pointer = self._lookup(ref, at)
        _, pointer, _ = self._deref_schema(node, pointer)
        name = self.def_names.get(pointer)
        if name is None:
            name = self._new_definition_name(pointer)
            self.def_names[pointer] = name
            self.pending.append((pointer, name))
            self.definitions[name] = {}  # reserved; filled by _flush_definitions
        return {"$ref": "#/definitions/" + escape_pointer_token(name)}

    def _new_definition_name(self, pointer: str) -> str:
        tokens = [unescape_pointer_token(t) for t in pointer.split("/")[1:]]
        meaningful = [
            t for t in tokens if t not in ("components", "schemas", "properties", "items", "content", "schema")
        ]
        base = _NAME_CHARS.sub("_", ".".join(meaningful[-2:]) or "Schema").strip("._-") or "Schema"
        name = base
        index = 2
        while name in self.definitions:
            name = f"{base}{index}"
            index += 1
        return name

    def _flush_definitions(self) -> None:
        while self.pending:
            pointer, name = self.pending.pop(0)
            node, _ = self._lookup(pointer, pointer)
            self.definitions[name] = self._schema(node, pointer, _ptr("definitions", name))

    def _definitions(self) -> None:
        schemas = self._components("schemas")
        names: dict[str, str] = {}
        for name in schemas:
            clean = _NAME_CHARS.sub("_", name) or "Schema"
            while clean in names.values() and names.get(name) != clean:
                clean += "_"
            names[name] = clean
            if clean != name:
                self._note(
                    f"schema '{name}' is named '{clean}' in definitions: a definition name is used in "
                    "JSON pointers and must be plain",
                    _ptr("components", "schemas", name),
                    _ptr("definitions", clean),
                )
        for name, schema in schemas.items():
            pointer = _ptr("components", "schemas", name)
            if self._is_alias(schema):
                continue  # refs to it lead straight to its target
            self.def_names[pointer] = names[name]
            self.definitions[names[name]] = {}
        for name, schema in schemas.items():
            pointer = _ptr("components", "schemas", name)
            if self._is_alias(schema):
                target = self._definition_ref(schema["$ref"], pointer)
                self._note(
                    f"schema '{name}' is only a reference to {target['$ref']}; references to it point "
                    "there directly (a definition may not be a bare $ref)",
                    pointer,
                    target["$ref"],
                )
                continue
            clean = names[name]
            self.definitions[clean] = self._schema(schema, pointer, _ptr("definitions", clean))
        self._flush_definitions()

    def _components(self, kind: str) -> dict[str, Any]:
        components = self.doc.get("components")
        if components is None:
            return {}
        if not isinstance(components, dict):
            raise self._error("#/components", "'components' must be an object")
        found = components.get(kind)
        if found is None:
            return {}
        if not isinstance(found, dict):
            raise self._error(_ptr("components", kind), f"'{kind}' must be an object")
        return found

    # -- extensions

    def _extension(self, value: Any) -> Any:
        """An ``x-`` extension's value, its references into ``components`` pointed at the Swagger
        2.0 sections (connector extensions such as ``x-ms-notification-content`` embed schemas)."""
        if isinstance(value, list):
            return [self._extension(v) for v in value]
        if not isinstance(value, dict):
            return copy.deepcopy(value)
        out = {k: self._extension(v) for k, v in value.items()}
        ref = value.get("$ref")
        if isinstance(ref, str):
            for section, names in (("parameters", self.param_names), ("responses", self.response_names)):
                prefix = f"#/components/{section}/"
                if ref.startswith(prefix) and "/" not in ref[len(prefix) :]:
                    out["$ref"] = f"#/{section}/{ref[len(prefix) :]}"
                    try:
                        _, pointer = self._follow(value, "#")
                    except InputError:
                        continue
                    if pointer in names:  # the name it has under Swagger's root section
                        out["$ref"] = f"#/{section}/" + escape_pointer_token(names[pointer])
            if ref.startswith("#/components/schemas/"):
                try:
                    out["$ref"] = self._definition_ref(ref, "#")["$ref"]
                except InputError:
                    log.debug("unresolvable $ref %s left as it is in an extension", ref)
        return out

    def _notification_content(self, value: Any, src: str, tgt: str) -> Any:
        """``x-ms-notification-content`` of a path item, with its schema converted."""
        if not isinstance(value, dict):
            return self._extension(value)
        out = {k: self._extension(v) for k, v in value.items() if k != "schema"}
        if "schema" in value:
            out["schema"] = self._schema(value["schema"], pointer_join(src, "schema"), pointer_join(tgt, "schema"))
        return out

    # -- schemas

    def _schema(self, node: Any, src: str, tgt: str) -> dict[str, Any]:
        """One schema in Swagger 2.0 terms; ``$ref`` s become ``#/definitions/...`` references."""
        if node is True or node == {}:
            return {}
        if node is False:
            self._drop("a 'false' schema (no value allowed) has no Swagger 2.0 form; any value is accepted", src, tgt)
            return {}
        if not isinstance(node, dict):
            raise self._error(src, "a schema must be an object")
        if "$ref" in node:
            return self._ref_schema(node, src, tgt)
        schema = dict(node)
        if "allOf" in schema:
            schema = self._merge_all_of(schema, src)
        if "oneOf" in schema or "anyOf" in schema:
            return self._union(schema, src, tgt)
        return self._plain_schema(schema, src, tgt)

    def _ref_schema(self, node: dict[str, Any], src: str, tgt: str) -> dict[str, Any]:
        ref = self._definition_ref(node["$ref"], src)
        siblings = {k: v for k, v in node.items() if k != "$ref" and k not in SCHEMA_SILENT}
        if not siblings:
            return ref
        rest = self._schema(siblings, src, tgt)
        if not rest:
            return ref
        rest_all_of = rest.pop("allOf", [])
        out = {"allOf": [ref, *rest_all_of]}
        out.update(rest)
        return out

    def _merge_all_of(self, schema: dict[str, Any], src: str) -> dict[str, Any]:
        """Merge inline ``allOf`` parts into the schema where no keyword conflicts; ``$ref``
        parts (and conflicting ones) stay in ``allOf``."""
        parts = schema.get("allOf")
        if not isinstance(parts, list):
            raise self._error(pointer_join(src, "allOf"), "'allOf' must be a list")
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        kept: list[Any] = []
        queue = list(parts)
        guard = 0
        while queue:
            part = queue.pop(0)
            guard += 1
            if guard > 1000 or not isinstance(part, dict) or "$ref" in part:
                kept.append(part)
                continue
            if not self._merge_into(merged, part):
                kept.append(part)
                continue
            inner = merged.pop("allOf", None)
            if isinstance(inner, list):
                queue[:0] = inner
        if kept:
            merged["allOf"] = kept
        return merged

    @staticmethod
    def _merge_into(merged: dict[str, Any], part: dict[str, Any]) -> bool:
        """Add ``part``'s keywords to ``merged`` if none conflicts; False (unchanged) otherwise."""
        for key, value in part.items():
            if key in ("properties", "required", "allOf", "description", "title", "example", "examples"):
                continue
            if key in merged and _canonical(merged[key]) != _canonical(value):
                return False
        own = _dict(merged.get("properties"))
        theirs = _dict(part.get("properties"))
        for name, value in theirs.items():
            if name in own and _canonical(own[name]) != _canonical(value):
                return False
        for key, value in part.items():
            if key == "properties" and theirs:
                merged["properties"] = {**own, **theirs}
            elif key == "required" and isinstance(value, list):
                existing = _list(merged.get("required"))
                merged["required"] = [*existing, *[r for r in value if r not in existing]]
            elif key == "allOf":
                merged["allOf"] = [*_list(merged.get("allOf")), *_list(value)]
            elif key not in merged:
                merged[key] = value
        return True

    def _plain_schema(self, schema: dict[str, Any], src: str, tgt: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        nullable = schema.get("nullable") is True
        types = schema.get("type")
        if isinstance(types, list):
            names = [t for t in types if isinstance(t, str)]
            if "null" in names:
                nullable = True
            non_null = [t for t in dict.fromkeys(names) if t != "null"]
            if len(non_null) == 1:
                out["type"] = non_null[0]
            elif non_null:
                widest = _widest(set(non_null))
                if widest is not None:
                    out["type"] = widest
                self._approx(
                    f"a value of type {' or '.join(non_null)} became "
                    + (f"type {widest}" if widest else "an untyped value")
                    + ": Swagger 2.0 allows one type per schema",
                    pointer_join(src, "type"),
                    tgt,
                )
        elif isinstance(types, str):
            if types == "null":
                nullable = True
            else:
                out["type"] = types
        for key in SCHEMA_KEPT:
            if key in schema and not (key == "default" and schema[key] is None):
                out[key] = schema[key]
        self._bounds(schema, out, src, tgt)
        if "const" in schema:
            value = schema["const"]
            if value is None:
                nullable = True
            else:
                out["enum"] = [value]
                if "type" not in out and _json_type(value) is not None:
                    out["type"] = _json_type(value)
                self._approx(
                    f"the constant {json.dumps(value)[:60]} became a one-value enum", pointer_join(src, "const"), tgt
                )
        if isinstance(schema.get("enum"), list):
            if None in schema["enum"]:
                nullable = True
            values = list({_canonical(v): v for v in _drop_none(schema["enum"])}.values())
            if "enum" in out:  # a const as well: the values both allow
                allowed = {_canonical(v) for v in values}
                out["enum"] = [e for e in out["enum"] if _canonical(e) in allowed]
            elif values:
                out["enum"] = values
        example = self._schema_example(schema)
        if example is not None:
            out["example"] = example
        self._composite_keywords(schema, out, src, tgt)
        self._content_keywords(schema, out, src, tgt)
        if isinstance(schema.get("discriminator"), dict):
            self._discriminator(schema, out, src, tgt)
        for key, value in schema.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
            elif key in SCHEMA_UNSUPPORTED:
                self._unsupported(key, schema, src, tgt)
            elif key in ("xml", "externalDocs") and isinstance(value, dict):
                out[key] = self._extension(value)
        known = {
            *SCHEMA_KEPT,
            *SCHEMA_SILENT,
            *SCHEMA_UNSUPPORTED,
            "type",
            "nullable",
            "const",
            "enum",
            "example",
            "examples",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "properties",
            "additionalProperties",
            "patternProperties",
            "items",
            "prefixItems",
            "required",
            "allOf",
            "discriminator",
            "xml",
            "externalDocs",
            "contentEncoding",
            "contentMediaType",
        }
        unknown = [k for k in schema if k not in known and not k.startswith("x-")]
        if unknown:
            self._drop(
                f"schema keyword(s) {_listing(repr(k) for k in unknown)} dropped: not part of Swagger 2.0",
                src,
                tgt,
            )
        if out.get("type") == "array" and "items" not in out:
            out["items"] = {}
            self._add(
                Kind.ENRICHED,
                "an array schema without 'items' got 'items: {}' (entries of any type): the platform needs 'items'",
                src,
                tgt,
            )
        if nullable:
            out["x-nullable"] = True
        return out

    def _schema_example(self, schema: dict[str, Any]) -> Any:
        if schema.get("example") is not None:
            return copy.deepcopy(schema["example"])
        examples = schema.get("examples")
        if isinstance(examples, list):
            for value in examples:
                if value is not None:
                    return copy.deepcopy(value)
        return None

    def _bounds(self, schema: dict[str, Any], out: dict[str, Any], src: str, tgt: str) -> None:
        """``minimum``/``maximum`` with ``exclusiveMinimum``/``exclusiveMaximum`` as booleans."""
        for low, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            value = schema.get(exclusive)
            if isinstance(value, bool):
                if value and low in out:
                    out[exclusive] = True
                elif value:
                    self._drop(
                        f"'{exclusive}: true' without '{low}' says nothing and was dropped",
                        pointer_join(src, exclusive),
                        tgt,
                    )
            elif isinstance(value, int | float):
                bound = out.get(low)
                stricter = (
                    bound is None
                    or not isinstance(bound, int | float)
                    or (value >= bound if low == "minimum" else value <= bound)
                )
                if stricter:
                    out[low] = value
                    out[exclusive] = True

    def _composite_keywords(self, schema: dict[str, Any], out: dict[str, Any], src: str, tgt: str) -> None:
        """``properties``, ``additionalProperties``, ``items``, ``required`` and kept ``allOf``."""
        if isinstance(schema.get("allOf"), list):
            out["allOf"] = [
                self._schema(
                    part, pointer_join(pointer_join(src, "allOf"), i), pointer_join(pointer_join(tgt, "allOf"), i)
                )
                for i, part in enumerate(schema["allOf"])
            ]
        properties = schema.get("properties")
        if isinstance(properties, dict):
            converted: dict[str, Any] = {}
            for name, prop in properties.items():
                if prop is False:
                    self._drop(
                        f"property '{name}' is declared as never allowed ('false'); Swagger 2.0 cannot say so",
                        pointer_join(pointer_join(src, "properties"), name),
                        tgt,
                    )
                    continue
                converted[name] = self._schema(
                    prop,
                    pointer_join(pointer_join(src, "properties"), name),
                    pointer_join(pointer_join(tgt, "properties"), name),
                )
            out["properties"] = converted
        additional = schema.get("additionalProperties")
        if isinstance(additional, bool):
            out["additionalProperties"] = additional
        elif isinstance(additional, dict):
            out["additionalProperties"] = self._schema(
                additional, pointer_join(src, "additionalProperties"), pointer_join(tgt, "additionalProperties")
            )
        patterns = schema.get("patternProperties")
        if isinstance(patterns, dict) and patterns:
            if "additionalProperties" not in out:
                values = list(patterns.values())
                first = values[0]
                same = all(_canonical(v) == _canonical(first) for v in values)
                out["additionalProperties"] = (
                    self._schema(first, pointer_join(pointer_join(src, "patternProperties"), next(iter(patterns))), tgt)
                    if same
                    else {}
                )
            self._approx(
                f"'patternProperties' ({_listing(patterns)}) became 'additionalProperties': Swagger 2.0 cannot "
                "restrict property names",
                pointer_join(src, "patternProperties"),
                tgt,
            )
        self._items(schema, out, src, tgt)
        self._required(schema, out, src, tgt)

    def _items(self, schema: dict[str, Any], out: dict[str, Any], src: str, tgt: str) -> None:
        items = schema.get("items")
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            candidates = [*prefix, *([items] if isinstance(items, dict) else [])]
            distinct = {_canonical(c): c for c in candidates}
            if len(distinct) == 1:
                out["items"] = self._schema(
                    candidates[0], pointer_join(pointer_join(src, "prefixItems"), 0), tgt + "/items"
                )
            else:
                self.quiet += 1
                try:
                    out["items"] = self._union(
                        {"oneOf": list(distinct.values())}, pointer_join(src, "prefixItems"), tgt + "/items"
                    )
                finally:
                    self.quiet -= 1
            self._approx(
                "'prefixItems' (a fixed sequence of entry schemas) became one 'items' schema for every entry",
                pointer_join(src, "prefixItems"),
                tgt,
            )
            return
        if isinstance(items, dict | bool):
            out["items"] = self._schema(items, pointer_join(src, "items"), pointer_join(tgt, "items"))
        elif isinstance(items, list):  # a draft-4 tuple
            distinct = {_canonical(c): c for c in items}
            if len(distinct) == 1:
                out["items"] = self._schema(items[0], pointer_join(pointer_join(src, "items"), 0), tgt + "/items")
            else:
                out["items"] = {}
            self._approx("a list of 'items' schemas became one schema for every entry", pointer_join(src, "items"), tgt)

    def _required(self, schema: dict[str, Any], out: dict[str, Any], src: str, tgt: str) -> None:
        required = schema.get("required")
        if not isinstance(required, list):
            return
        names = [r for r in dict.fromkeys(required) if isinstance(r, str)]
        if not names:
            return
        declared = self._declared_properties(schema, src)
        if declared is not None:
            missing = [n for n in names if n not in declared]
            if missing:
                names = [n for n in names if n in declared]
                self._approx(
                    f"required name(s) {_listing(repr(n) for n in missing)} are not among the schema's "
                    "properties and were removed from 'required' (the platform requires each to be defined)",
                    pointer_join(src, "required"),
                    tgt,
                )
        props = out.get("properties", {})
        read_only = [n for n in names if isinstance(props.get(n), dict) and props[n].get("readOnly") is True]
        if read_only:
            names = [n for n in names if n not in read_only]
            self._approx(
                f"read-only propert{'y' if len(read_only) == 1 else 'ies'} {_listing(repr(n) for n in read_only)} "
                "no longer required: Swagger 2.0 does not allow read-only properties in 'required' "
                "(OpenAPI requires them in responses only)",
                pointer_join(src, "required"),
                tgt,
            )
        if names:
            out["required"] = names

    def _declared_properties(self, schema: dict[str, Any], src: str) -> set[str] | None:
        """Names of the properties a schema declares, its own and those of its ``allOf`` parts;
        None when they cannot be listed."""
        found: set[str] = set()
        stack: list[tuple[Any, str]] = [(schema, src)]
        seen: set[int] = set()
        while stack:
            node, at = stack.pop()
            if isinstance(node, dict) and "$ref" in node:
                try:
                    node, at = self._lookup(node["$ref"], at)
                except InputError:
                    return None
            if not isinstance(node, dict) or id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node.get("properties"), dict):
                found.update(node["properties"])
            for key in ("allOf",):
                parts = node.get(key)
                if isinstance(parts, list):
                    stack.extend((p, at) for p in parts)
            if "oneOf" in node or "anyOf" in node:
                for key in ("oneOf", "anyOf"):
                    parts = node.get(key)
                    if isinstance(parts, list):
                        stack.extend((p, at) for p in parts)
        return found

    def _content_keywords(self, schema: dict[str, Any], out: dict[str, Any], src: str, tgt: str) -> None:
        encoding = schema.get("contentEncoding")
        media = schema.get("contentMediaType")
        if isinstance(encoding, str):
            if encoding.lower() == "base64" and out.get("format") in (None, "byte"):
                out["format"] = "byte"
            elif encoding.lower() in ("binary", "8bit") and out.get("format") in (None, "binary"):
                out["format"] = "binary"
            else:
                self._drop(f"'contentEncoding: {encoding}' dropped", pointer_join(src, "contentEncoding"), tgt)
        if isinstance(media, str):
            if encoding is None and out.get("type") in (None, "string") and "format" not in out:
                out["format"] = "binary"
                out.setdefault("type", "string")
                self._approx(
                    f"'contentMediaType: {media}' became 'format: binary' (the media type itself is lost)",
                    pointer_join(src, "contentMediaType"),
                    tgt,
                )
            else:
                self._drop(f"'contentMediaType: {media}' dropped", pointer_join(src, "contentMediaType"), tgt)

    def _unsupported(self, key: str, schema: dict[str, Any], src: str, tgt: str) -> None:
        if key in ("then", "else") and "if" in schema:
            return  # reported once, for 'if'
        if key in ("minContains", "maxContains") and "contains" in schema:
            return
        if key == "writeOnly" and schema[key] is not True:
            return
        if key == "deprecated" and schema[key] is not True:
            return
        self._drop(f"{SCHEMA_UNSUPPORTED[key]} dropped: Swagger 2.0 has no such keyword", pointer_join(src, key), tgt)

    # -- discriminators

    def _discriminator(self, schema: dict[str, Any], out: dict[str, Any], src: str, tgt: str) -> None:
        disc = schema["discriminator"]
        at = pointer_join(src, "discriminator")
        name = disc.get("propertyName")
        if not isinstance(name, str):
            self._drop("a discriminator without 'propertyName' dropped", at, tgt)
            return
        if not self._is_string_property(schema, name, src):
            self._drop(
                f"discriminator '{name}' dropped: Swagger 2.0 needs it to be a string property of the schema",
                at,
                tgt,
            )
            return
        out["discriminator"] = name
        required = out.get("required", [])
        if name not in required and name not in self._required_names(schema, src):
            out["required"] = [*required, name]  # OpenAPI expects it in every payload too
        mapping = disc.get("mapping")
        if isinstance(mapping, dict) and mapping and tgt.startswith("#/definitions/"):
            definition = unescape_pointer_token(tgt.split("/")[2])
            if tgt.count("/") == 2:
                targets: dict[str, str] = {}
                for value, ref in mapping.items():
                    if not isinstance(ref, str):
                        continue
                    reference = ref if ref.startswith("#") else f"#/components/schemas/{ref}"
                    try:
                        pointer = self._definition_ref(reference, pointer_join(at, "mapping"))["$ref"]
                    except InputError:
                        self._drop(f"discriminator mapping '{value}' -> {ref!r} cannot be resolved", at, tgt)
                        continue
                    targets[str(value)] = unescape_pointer_token(pointer.split("/")[-1])
                self.discriminators.append((definition, targets, at))

    def _all_of_parts(self, schema: dict[str, Any], src: str) -> Iterator[tuple[dict[str, Any], str]]:
        """``schema`` and every part it is built from through ``allOf``, ``$ref``s followed, each
        once (unresolvable references skipped)."""
        stack: list[tuple[Any, str]] = [(schema, src)]
        seen: set[int] = set()
        while stack:
            node, at = stack.pop()
            if isinstance(node, dict) and "$ref" in node:
                try:
                    node, at = self._lookup(node["$ref"], at)
                except InputError:
                    continue
            if not isinstance(node, dict) or id(node) in seen:
                continue
            seen.add(id(node))
            yield node, at
            if isinstance(node.get("allOf"), list):
                stack.extend((p, at) for p in node["allOf"])

    def _required_names(self, schema: dict[str, Any], src: str) -> set[str]:
        names: set[str] = set()
        for node, _ in self._all_of_parts(schema, src):
            if isinstance(node.get("required"), list):
                names.update(r for r in node["required"] if isinstance(r, str))
        return names

    def _is_string_property(self, schema: dict[str, Any], name: str, src: str) -> bool:
        for node, at in self._all_of_parts(schema, src):
            props = node.get("properties")
            if isinstance(props, dict) and name in props:
                prop, _, _ = self._deref_schema(props[name], at)
                return isinstance(prop, dict) and self._string_typed(prop)
        return False

    @staticmethod
    def _string_typed(prop: dict[str, Any]) -> bool:
        kind = prop.get("type")
        if isinstance(kind, list):
            kind = [t for t in kind if t != "null"]
            kind = kind[0] if len(kind) == 1 else None
        if kind == "string":
            return True
        if kind is None:
            values = prop.get("enum") if isinstance(prop.get("enum"), list) else None
            if "const" in prop:
                values = [prop["const"]]
            return bool(values) and all(isinstance(v, str) for v in values or [])
        return False

    def _apply_discriminator_values(self) -> None:
        """``x-ms-discriminator-value`` on subtypes that extend their base through ``allOf``."""
        for name, value in self.variant_values:
            definition = self.definitions.get(name)
            if isinstance(definition, dict) and value != name:
                definition.setdefault("x-ms-discriminator-value", value)
        for base, mapping, source in self.discriminators:
            base_ref = "#/definitions/" + escape_pointer_token(base)
            for value, name in mapping.items():
                if name == base:
                    continue  # the base type itself
                definition = self.definitions.get(name)
                extends = isinstance(definition, dict) and any(
                    isinstance(p, dict) and p.get("$ref") == base_ref for p in definition.get("allOf", [])
                )
                if not extends or not isinstance(definition, dict):
                    self._drop(
                        f"discriminator mapping '{value}' -> '{name}' not carried over: '{name}' does not "
                        f"extend '{base}' through allOf, so Swagger 2.0 cannot tie it to the discriminator",
                        source,
                        _ptr("definitions", base),
                    )
                    continue
                if value != name:
                    definition["x-ms-discriminator-value"] = value

    # -- oneOf / anyOf

    def _union(self, schema: dict[str, Any], src: str, tgt: str) -> dict[str, Any]:
        keyword = "oneOf" if "oneOf" in schema else "anyOf"
        variants = schema[keyword]
        at = pointer_join(src, keyword)
        if not isinstance(variants, list):
            raise self._error(at, f"'{keyword}' must be a list")
        base = {k: v for k, v in schema.items() if k not in (keyword, "discriminator")}
        if keyword == "oneOf" and "anyOf" in base:
            base.pop("anyOf")
            self._drop("'anyOf' next to 'oneOf' dropped; only the 'oneOf' alternatives were used", src, tgt)
        resolved = [self._deref_schema(v, pointer_join(at, i))[0] for i, v in enumerate(variants)]
        nulls = [i for i, v in enumerate(resolved) if self._is_null_schema(v)]
        rest = [(i, variants[i], resolved[i]) for i in range(len(variants)) if i not in nulls]
        if nulls:
            base["nullable"] = True
        if not rest:
            return self._schema(base, src, tgt)
        constants = self._constants(rest)
        if len(rest) == 1 and constants is None:
            _, variant, _ = rest[0]
            return self._schema(self._with_variant(base, variant, keyword), src, tgt)
        if self._constraint_only(base, [r for _, _, r in rest]):
            self._approx(
                f"'{keyword}' of {len(rest)} alternative constraints (such as which properties are required) "
                "dropped: Swagger 2.0 cannot choose between them",
                at,
                tgt,
            )
            return self._schema(base, src, tgt)
        if constants is not None:
            return self._constant_union(base, constants, keyword, at, src, tgt)
        shapes = [self._object_shape(v, pointer_join(at, i)) for i, v, _ in rest]
        if all(s is not None for s in shapes) and self._object_base(base):
            return self._object_union(schema, base, [s for s in shapes if s is not None], keyword, at, src, tgt)
        if isinstance(schema.get("discriminator"), dict):
            self._drop(
                "discriminator dropped: the alternatives are not all objects", pointer_join(src, "discriminator"), tgt
            )
        kinds = [self._variant_type(r) for _, _, r in rest]
        if all(k == "array" for k in kinds):
            return self._array_union(base, rest, keyword, at, src, tgt)
        known = {k for k in kinds if k is not None}
        widest = _widest(known) if None not in kinds and known <= SCALAR_TYPES else None
        out = self._schema({k: v for k, v in base.items() if k not in ("type", "properties", "required")}, src, tgt)
        described = " or ".join(k or "any value" for k in dict.fromkeys(kinds))
        if widest is not None:
            out = {"type": widest, **{k: v for k, v in out.items() if k != "type"}}
            formats = {r.get("format") for _, _, r in rest}
            if len(formats) == 1 and None not in formats:
                out["format"] = formats.pop()
            self._approx(
                f"'{keyword}' of {len(rest)} alternatives ({described}) became type {widest}: Swagger 2.0 has no "
                "alternatives",
                at,
                tgt,
            )
        else:
            if isinstance(base.get("type"), str) and base["type"] != "null":
                out["type"] = base["type"]
            self._approx(
                f"'{keyword}' of {len(rest)} alternatives ({described}) became "
                + (f"type {out['type']}" if "type" in out else "an untyped value (any JSON)")
                + ": Swagger 2.0 has no alternatives",
                at,
                tgt,
            )
        return out

    def _with_variant(self, base: dict[str, Any], variant: Any, keyword: str) -> dict[str, Any]:
        """The schema ``base`` restricted to its one alternative."""
        if not base:
            return variant if isinstance(variant, dict) else {}
        if isinstance(variant, dict) and "$ref" not in variant:
            meta = {k: v for k, v in base.items() if k in ("description", "title", "nullable", "example", "default")}
            if set(base) <= set(meta) | {"type"} and base.get("type") in (None, variant.get("type")):
                return {**variant, **meta}
        return {**base, "allOf": [*_list(base.get("allOf")), variant]}

    @staticmethod
    def _is_null_schema(node: Any) -> bool:
        if not isinstance(node, dict):
            return False
        if node.get("type") == "null" or node.get("type") == ["null"]:
            return True
        if "const" in node and node["const"] is None and "type" not in node:
            return True
        return node.get("enum") == [None] and "type" not in node

    @staticmethod
    def _constraint_only(base: dict[str, Any], variants: list[Any]) -> bool:
        if not isinstance(base.get("properties"), dict) and base.get("type") != "object":
            return False
        allowed = {"required", "not", "description", "title", "minProperties", "maxProperties"}
        return all(isinstance(v, dict) and v and set(v) <= allowed for v in variants)

    @staticmethod
    def _constants(rest: list[tuple[int, Any, Any]]) -> list[tuple[Any, str | None]] | None:
        """(value, title) of each alternative when every one is a constant (or an enum)."""
        found: list[tuple[Any, str | None]] = []
        for _, _, variant in rest:
            if not isinstance(variant, dict):
                return None
            keys = {k for k in variant if not k.startswith("x-")} - {
                "title",
                "description",
                "type",
                "format",
                "deprecated",
            }
            title = variant.get("title") if isinstance(variant.get("title"), str) else None
            if keys == {"const"} and variant["const"] is not None:
                found.append((variant["const"], title))
            elif keys == {"enum"} and isinstance(variant["enum"], list) and variant["enum"]:
                values = _drop_none(variant["enum"])
                found.extend((v, title if len(values) == 1 else None) for v in values)
            else:
                return None
        if not found or _common_type(v for v, _ in found) not in SCALAR_TYPES:
            return None
        return found

    def _constant_union(
        self,
        base: dict[str, Any],
        constants: list[tuple[Any, str | None]],
        keyword: str,
        at: str,
        src: str,
        tgt: str,
    ) -> dict[str, Any]:
        values = list({_canonical(v): v for v, _ in constants}.values())
        merged = {k: v for k, v in base.items() if k not in ("enum", "const")}
        merged["enum"] = values
        value_type = _common_type(values)
        if not isinstance(merged.get("type"), str) or merged.get("type") == "null":
            merged["type"] = value_type
        out = self._schema(merged, src, tgt)
        titles = [t for _, t in constants]
        if len(constants) == len(values) and all(titles):
            out["x-ms-enum-values"] = [{"value": v, "displayName": t} for (v, t) in constants]
        self._approx(
            f"'{keyword}' of {len(values)} constant values became an enum"
            + (" with display names from their titles" if "x-ms-enum-values" in out else "")
            + " (descriptions of the single values are lost)",
            at,
            tgt,
        )
        return out

    def _variant_type(self, variant: Any, depth: int = 0) -> str | None:
        """The one JSON type a schema allows (alternatives widened), or None."""
        if not isinstance(variant, dict) or depth > 10:
            return None
        if "$ref" in variant or "allOf" in variant:
            variant = self._flat_source(variant, "#")[0]
        alternatives = variant.get("oneOf", variant.get("anyOf"))
        if isinstance(alternatives, list) and "type" not in variant:
            kinds = {
                self._variant_type(self._deref_schema(a, "#")[0], depth + 1)
                for a in alternatives
                if not self._is_null_schema(self._deref_schema(a, "#")[0])
            }
            return None if None in kinds else _widest({k for k in kinds if k is not None})
        kind = variant.get("type")
        if isinstance(kind, list):
            names = [t for t in kind if t != "null"]
            return _widest(set(names)) if names else None
        if isinstance(kind, str):
            return kind
        if "const" in variant:
            return _json_type(variant["const"])
        if isinstance(variant.get("enum"), list):
            return _common_type(_drop_none(variant["enum"]))
        if "properties" in variant:
            return "object"
        if "items" in variant:
            return "array"
        return None

    @staticmethod
    def _object_base(base: dict[str, Any]) -> bool:
        kind = base.get("type")
        if isinstance(kind, list):
            kind = [t for t in kind if t != "null"]
            kind = kind[0] if len(kind) == 1 else None if not kind else "mixed"
        return kind in (None, "object")

    def _object_shape(self, node: Any, at: str, depth: int = 0) -> _Shape | None:
        """Properties and required names of an object schema (refs followed, ``allOf`` and nested
        alternatives merged); None when it is not an object."""
        if depth > 20:
            return None
        if isinstance(node, dict) and "$ref" in node:
            target, pointer = self._lookup(node["$ref"], at)
            siblings = set(node) - {"$ref", "description", "title", "nullable"} - SCHEMA_SILENT
            if siblings:
                return None
            return self._object_shape(target, pointer, depth + 1)
        if not isinstance(node, dict):
            return None
        kind = node.get("type")
        if isinstance(kind, list):
            names = [t for t in kind if t != "null"]
            kind = names[0] if len(names) == 1 else ("mixed" if names else None)
        if kind not in (None, "object"):
            return None
        shape = _Shape()
        properties = node.get("properties")
        if isinstance(properties, dict):
            for name, prop in properties.items():
                shape.properties.append((name, prop, pointer_join(pointer_join(at, "properties"), name)))
        if isinstance(node.get("required"), list):
            shape.required.update(r for r in node["required"] if isinstance(r, str))
        has_parts = False
        for i, part in enumerate(node.get("allOf", []) if isinstance(node.get("allOf"), list) else []):
            sub = self._object_shape(part, pointer_join(pointer_join(at, "allOf"), i), depth + 1)
            if sub is None:
                return None
            has_parts = True
            known = {n for n, _, _ in shape.properties}
            shape.properties.extend(p for p in sub.properties if p[0] not in known)
            shape.required |= sub.required
        for keyword in ("oneOf", "anyOf"):
            alternatives = node.get(keyword)
            if not isinstance(alternatives, list):
                continue
            subs = [
                self._object_shape(alt, pointer_join(pointer_join(at, keyword), i), depth + 1)
                for i, alt in enumerate(alternatives)
                if not self._is_null_schema(self._deref_schema(alt, at)[0])
            ]
            if not subs or any(s is None for s in subs):
                return None
            has_parts = True
            known = {n for n, _, _ in shape.properties}
            for sub in subs:
                assert sub is not None
                for prop in sub.properties:
                    if prop[0] not in known:
                        shape.properties.append(prop)
                        known.add(prop[0])
            shape.required |= set.intersection(*[s.required for s in subs if s is not None])
        if kind is None and not shape.properties and not has_parts and "additionalProperties" not in node:
            return None
        return shape

    def _object_union(
        self,
        schema: dict[str, Any],
        base: dict[str, Any],
        shapes: list[_Shape],
        keyword: str,
        at: str,
        src: str,
        tgt: str,
    ) -> dict[str, Any]:
        base_shape = self._object_shape({k: v for k, v in base.items() if k != "nullable"}, src) or _Shape()
        collected: dict[str, list[tuple[Any, str]]] = {}
        for name, prop, pointer in base_shape.properties:
            collected.setdefault(name, []).append((prop, pointer))
        for shape in shapes:
            for name, prop, pointer in shape.properties:
                if name in {n for n, _, _ in base_shape.properties}:
                    continue
                collected.setdefault(name, []).append((prop, pointer))
        required = set.intersection(*[s.required for s in shapes]) | base_shape.required
        out: dict[str, Any] = {"type": "object"}
        for key in ("title", "description"):
            if isinstance(base.get(key), str):
                out[key] = base[key]
        props: dict[str, Any] = {}
        for name, found in collected.items():
            # schemas that differ only in their documentation count as one
            distinct = list({self._shape_key(p): (p, ptr) for p, ptr in found}.values())
            prop_tgt = pointer_join(pointer_join(tgt, "properties"), name)
            if len(distinct) == 1:
                props[name] = self._schema(distinct[0][0], distinct[0][1], prop_tgt)
            else:
                self.quiet += 1
                try:
                    props[name] = self._union({"oneOf": [p for p, _ in distinct]}, distinct[0][1], prop_tgt)
                finally:
                    self.quiet -= 1
        out["properties"] = props
        discriminator = schema.get("discriminator")
        disc_name = discriminator.get("propertyName") if isinstance(discriminator, dict) else None
        if isinstance(disc_name, str):
            sources = collected.get(disc_name, [])
            if sources and all(self._string_typed(self._flat_source(p, ptr)[0]) for p, ptr in sources):
                out["discriminator"] = disc_name
                required.add(disc_name)
                prop = props[disc_name]
                if prop.get("type") != "string" and set(prop) != {"$ref"}:
                    # the platform needs the discriminator to be a plain string property
                    prop = {k: v for k, v in prop.items() if k in ("description", "title", "enum")}
                    prop["type"] = "string"
                    props[disc_name] = prop
                values = self._discriminator_values(_dict(discriminator), _list(schema.get(keyword)), at)
                if values and "enum" not in prop and "$ref" not in prop:
                    prop["enum"] = values
                self._variant_discriminator_values(_dict(discriminator), _list(schema.get(keyword)), at)
            else:
                self._drop(
                    f"discriminator '{disc_name}' dropped: it is not a string property of every alternative",
                    pointer_join(src, "discriminator"),
                    tgt,
                )
        names = [n for n in props if n in required]
        read_only = [n for n in names if props[n].get("readOnly") is True]
        names = [n for n in names if n not in read_only]
        if names:
            out["required"] = names
        for key, value in base.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
        if base.get("nullable") is True:
            out["x-nullable"] = True
        self._approx(
            f"'{keyword}' of {len(shapes)} object schemas became one object with the properties of all of them"
            + (f", discriminated by '{out['discriminator']}'" if "discriminator" in out else "")
            + "; a property is required only where every alternative requires it",
            at,
            tgt,
        )
        return out

    def _variant_discriminator_values(self, discriminator: dict[str, Any], variants: list[Any], at: str) -> None:
        """Remember ``x-ms-discriminator-value`` for alternatives that are definitions with one
        mapped value of their own (a definition several values map to gets none)."""
        refs = {unquote(v["$ref"]) for v in variants if isinstance(v, dict) and isinstance(v.get("$ref"), str)}
        by_target: dict[str, list[str]] = {}
        for value, ref in _dict(discriminator.get("mapping")).items():
            if isinstance(ref, str):
                target = unquote(ref if ref.startswith("#") else f"#/components/schemas/{ref}")
                by_target.setdefault(target, []).append(str(value))
        for target, values in by_target.items():
            if target not in refs or len(values) != 1:
                continue
            name = self._definition_ref(target, at)["$ref"].split("/")[-1]
            self.variant_values.append((unescape_pointer_token(name), values[0]))

    @staticmethod
    def _shape_key(schema: Any) -> str:
        """A schema's canonical text without its documentation keywords (at any depth)."""

        documentation = ("description", "title", "example", "examples")

        def strip(node: Any, names: bool = False) -> Any:
            if isinstance(node, dict):
                if names:  # property names, not keywords
                    return {k: strip(v) for k, v in node.items()}
                return {k: strip(v, k == "properties") for k, v in node.items() if k not in documentation}
            if isinstance(node, list):
                return [strip(v) for v in node]
            return node

        return _canonical(strip(schema))

    def _discriminator_values(self, discriminator: dict[str, Any], variants: list[Any], at: str) -> list[str]:
        """Every value the discriminator can take: mapping keys, then names of unmapped variants."""
        mapping = _dict(discriminator.get("mapping"))
        values = [str(k) for k in mapping]
        mapped_targets = set()
        for ref in mapping.values():
            if isinstance(ref, str):
                mapped_targets.add(unquote(ref if ref.startswith("#") else f"#/components/schemas/{ref}"))
        for variant in variants:
            ref = variant.get("$ref") if isinstance(variant, dict) else None
            if not isinstance(ref, str):
                return []  # an inline alternative has no implicit value
            if unquote(ref) not in mapped_targets:
                values.append(unescape_pointer_token(ref.split("/")[-1]))
        return list(dict.fromkeys(values))

    def _array_union(
        self, base: dict[str, Any], rest: list[tuple[int, Any, Any]], keyword: str, at: str, src: str, tgt: str
    ) -> dict[str, Any]:
        items = [r.get("items", {}) for _, _, r in rest]
        distinct = list({_canonical(i): i for i in items}.values())
        merged = {k: v for k, v in base.items() if k not in ("type", "items")}
        merged["type"] = "array"
        merged["items"] = {}  # replaced below
        out = self._schema(merged, src, tgt)
        if len(distinct) == 1:
            out["items"] = self._schema(
                distinct[0], pointer_join(pointer_join(at, rest[0][0]), "items"), tgt + "/items"
            )
        else:
            self.quiet += 1
            try:
                out["items"] = self._union({"oneOf": distinct}, pointer_join(at, rest[0][0]), tgt + "/items")
            finally:
                self.quiet -= 1
        self._approx(
            f"'{keyword}' of {len(rest)} array schemas became one array whose entries may be any of their entry types",
            at,
            tgt,
        )
        return out

    # -- flattening schemas into parameters, headers and form fields

    def _flat_source(self, node: Any, at: str, depth: int = 0) -> tuple[dict[str, Any], str, bool]:
        """A source schema with ``$ref`` s followed and ``allOf`` parts merged in (first wins);
        True when a shared component schema was followed."""
        target, pointer, followed = self._deref_schema(node, at)
        if depth > 20:
            return {}, pointer, followed
        if isinstance(target, dict) and "$ref" in target:  # a $ref with siblings
            inner, inner_ptr, _ = self._flat_source({"$ref": target["$ref"]}, pointer, depth + 1)
            merged = {**inner, **{k: v for k, v in target.items() if k != "$ref"}}
            return merged, inner_ptr, True
        if not isinstance(target, dict):
            return {}, pointer, followed
        shared = followed and pointer.startswith("#/components/schemas/")
        if isinstance(target.get("allOf"), list) and depth < 20:
            merged = {k: v for k, v in target.items() if k != "allOf"}
            for i, part in enumerate(target["allOf"]):
                flat, _, _ = self._flat_source(part, pointer_join(pointer_join(pointer, "allOf"), i), depth + 1)
                for key, value in flat.items():
                    if key == "properties" and isinstance(value, dict):
                        merged["properties"] = {**value, **merged.get("properties", {})}
                    elif key == "required" and isinstance(value, list):
                        merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                    else:
                        merged.setdefault(key, value)
            return merged, pointer, shared
        return target, pointer, shared

    def _primitive(
        self, node: Any, src: str, tgt: str, *, what: str, location: str | None, depth: int = 0
    ) -> dict[str, Any]:
        """The ``type``/``format``/``items``/``enum``/... of a non-body parameter, header or
        items object, from a schema."""
        flat, flat_src, shared = self._flat_source(node, src)
        if shared:
            self.quiet += 1
        try:
            schema = self._schema(flat, flat_src, tgt)
        finally:
            if shared:
                self.quiet -= 1
        out: dict[str, Any] = {}
        kind = schema.get("type")
        if kind == "file" and location == "formData":
            out["type"] = "file"
        elif kind in PRIMITIVE_TYPES:
            out["type"] = kind
        else:
            out["type"] = "string"
            if kind == "object" or "properties" in schema:
                self._approx(f"{what} holds an object; it is sent as text (type string)", src, tgt)
            elif (schema and set(schema) - {"description", "title", "example", "x-nullable"}) or {
                "oneOf",
                "anyOf",
            } & set(flat):
                self._approx(f"{what} has no single type; it is sent as text (type string)", src, tgt)
            else:
                self._note(f"{what} has no type; it is sent as text (type string)", src, tgt)
        for key in PRIMITIVE_KEPT:
            if key in schema:
                out[key] = copy.deepcopy(schema[key])
        if out["type"] in ("string", "file") and kind != out["type"]:
            # keywords of another type no longer fit the value sent as text
            for key in (
                "maximum",
                "minimum",
                "exclusiveMaximum",
                "exclusiveMinimum",
                "multipleOf",
                "maxItems",
                "minItems",
                "uniqueItems",
            ):
                out.pop(key, None)
            for key in ("enum", "default"):
                if key in out and not all(isinstance(v, str) for v in _as_list(out[key])):
                    out.pop(key)
            if kind == "object" or out["type"] == "file":
                out.pop("format", None)
        if out["type"] == "array":
            items = flat.get("items")
            if isinstance(flat.get("prefixItems"), list) and flat["prefixItems"]:
                items = flat["prefixItems"][0]
            if depth >= 5 or not isinstance(items, dict):
                out["items"] = {"type": "string"}
                if not isinstance(items, dict) and depth < 5:
                    self._note(f"{what} is an array of unspecified entries; they are sent as text", src, tgt)
            else:
                out["items"] = self._primitive(
                    items,
                    pointer_join(flat_src, "items"),
                    pointer_join(tgt, "items"),
                    what=f"an entry of {what}",
                    location=None,
                    depth=depth + 1,
                )
        for key in ("description", "title", "x-nullable", "example"):
            if key in schema:
                out[f"_{key}"] = schema[key]
        for key, value in schema.items():
            if key.startswith("x-") and key != "x-nullable":
                if key.startswith("x-ms-") and (depth or location is None):
                    continue  # items and headers take no connector extensions of a schema
                out[key] = value
        return out

    # -- parameters

    def _component_parameters(self) -> None:
        for name, param in self._components("parameters").items():
            pointer = _ptr("components", "parameters", name)
            resolved, resolved_ptr = self._follow(param, pointer)
            if resolved_ptr != pointer and resolved_ptr.startswith("#/components/parameters/"):
                continue  # an alias: refs resolve to its target
            clean = self._section_name(name, self.global_params, "parameter", "parameters")
            converted = self._parameter(resolved, resolved_ptr, _ptr("parameters", clean))
            self.global_params[clean] = converted
            self.param_names[pointer] = clean

    def _section_name(self, name: str, taken: dict[str, Any], kind: str, section: str) -> str:
        """The name of a shared parameter or response under Swagger's root ``parameters`` or
        ``responses``: plain characters only (it is written in ``$ref`` pointers), and unique."""
        clean = _NAME_CHARS.sub("_", name) or kind.capitalize()
        while clean in taken:
            clean += "_"
        if clean != name:
            self._note(
                f"{kind} '{name}' is named '{clean}' in {section}: a shared {kind}'s name is used in JSON "
                "pointers and must be plain and unique",
                _ptr("components", section, name),
                _ptr(section, clean),
            )
        return clean

    def _parameter(self, param: Any, src: str, tgt: str) -> dict[str, Any] | None:
        """A non-body Swagger parameter, or None when Swagger 2.0 has no place for it."""
        if not isinstance(param, dict):
            raise self._error(src, "a parameter must be an object")
        name = param.get("name")
        location = param.get("in")
        if not isinstance(name, str) or not isinstance(location, str):
            raise self._error(src, "a parameter needs a 'name' and an 'in'")
        if location == "cookie":
            self._drop(
                f"cookie parameter '{name}' dropped: Swagger 2.0 and the platform cannot send cookies",
                src,
                None,
            )
            return None
        if location not in ("query", "header", "path"):
            raise self._error(pointer_join(src, "in"), f"unknown parameter location {location!r}")
        if location == "header" and name.lower() in IGNORED_HEADERS:
            self._note(
                f"header parameter '{name}' kept, though OpenAPI says to ignore an "
                f"'{IGNORED_HEADERS[name.lower()]}' parameter (the media type or the security scheme sets it)"
                + (
                    "; the connector wizard refuses an Authorization parameter, so the security scheme "
                    "(or a policy) should send it"
                    if name.lower() == "authorization"
                    else ""
                ),
                src,
                tgt,
            )
        out: dict[str, Any] = {"name": name, "in": location}
        if isinstance(param.get("description"), str):
            out["description"] = param["description"]
        if location == "path" or param.get("required") is True:
            out["required"] = True
        what = f"{location} parameter '{name}'"
        if isinstance(param.get("content"), dict) and param["content"]:
            media = next(iter(param["content"]))
            out["type"] = "string"
            self._approx(
                f"{what} is described by its '{media}' content; it is sent as text (type string)",
                pointer_join(src, "content"),
                tgt,
            )
            example = self._media_example(param["content"][media])
            if example is not None:
                out["x-example"] = example
        else:
            schema = param.get("schema", {})
            fields = self._primitive(schema, pointer_join(src, "schema"), tgt, what=what, location=location)
            self._apply_primitive(out, fields)
            if out["type"] == "array":
                self._collection_format(param, out, location, src, tgt)
            elif "style" in param and param["style"] not in ("form", "simple"):
                self._approx(
                    f"{what} has style '{param['style']}'; Swagger 2.0 sends a plain value",
                    pointer_join(src, "style"),
                    tgt,
                )
        if location == "query" and param.get("allowEmptyValue") is True:
            out["allowEmptyValue"] = True
        if param.get("allowReserved") is True:
            self._drop(
                f"{what}: 'allowReserved' dropped (reserved characters are percent-encoded)",
                pointer_join(src, "allowReserved"),
                tgt,
            )
        if param.get("deprecated") is True:
            out["x-deprecated"] = True
            self._approx(
                f"{what} is deprecated; Swagger 2.0 parameters cannot say so (kept as x-deprecated)",
                pointer_join(src, "deprecated"),
                tgt,
            )
        example = param.get("example")
        if example is None and isinstance(param.get("examples"), dict):
            example = self._first_example(param["examples"], pointer_join(src, "examples"))
        if example is not None:
            out["x-example"] = copy.deepcopy(example)
        for key, value in param.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
        return out

    @staticmethod
    def _apply_primitive(out: dict[str, Any], fields: dict[str, Any]) -> None:
        description = fields.pop("_description", None)
        title = fields.pop("_title", None)
        nullable = fields.pop("_x-nullable", None)
        example = fields.pop("_example", None)
        if "description" not in out and isinstance(description, str):
            out["description"] = description
        for key, value in fields.items():
            out[key] = value
        if isinstance(title, str) and title and "x-ms-summary" not in out:
            out["x-ms-summary"] = title
        if nullable:
            out["x-nullable"] = True
        if example is not None:
            out["x-example"] = example
        items = out.get("items")
        while isinstance(items, dict):
            for key in ("_description", "_title", "_x-nullable", "_example"):
                items.pop(key, None)
            items = items.get("items")

    def _collection_format(self, param: dict[str, Any], out: dict[str, Any], location: str, src: str, tgt: str) -> None:
        style = param.get("style") or ("form" if location == "query" else "simple")
        explode = param.get("explode")
        if explode is None:
            explode = style == "form"
        what = f"{location} parameter '{param.get('name')}'"
        if style == "form" and location == "query":
            out["collectionFormat"] = "multi" if explode else "csv"
        elif style == "spaceDelimited":
            out["collectionFormat"] = "ssv"
        elif style == "pipeDelimited":
            out["collectionFormat"] = "pipes"
        elif style == "simple":
            out["collectionFormat"] = "csv"
        else:
            out["collectionFormat"] = "csv"
            self._approx(
                f"{what} has style '{style}'{' (exploded)' if explode else ''}; it is sent comma-separated (csv)",
                pointer_join(src, "style"),
                tgt,
            )
            return
        if explode and style in ("spaceDelimited", "pipeDelimited", "simple") and param.get("explode") is True:
            self._approx(
                f"{what} is exploded with style '{style}'; it is sent as one {out['collectionFormat']} value",
                pointer_join(src, "explode"),
                tgt,
            )

    def _first_example(self, examples: dict[str, Any], at: str) -> Any:
        for name, example in examples.items():
            try:
                resolved, _ = self._follow(example, pointer_join(at, name))
            except InputError:
                continue
            if isinstance(resolved, dict) and resolved.get("value") is not None:
                return copy.deepcopy(resolved["value"])
        return None

    def _media_example(self, media: Any) -> Any:
        if not isinstance(media, dict):
            return None
        if media.get("example") is not None:
            return copy.deepcopy(media["example"])
        if isinstance(media.get("examples"), dict):
            return self._first_example(media["examples"], "#")
        return None

    def _parameter_list(
        self, params: Any, src: str, tgt: str, what: str
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """Swagger parameters for a list of OpenAPI ones, with (name, in) of each converted one."""
        if params is None:
            return [], []
        if not isinstance(params, list):
            raise self._error(src, "'parameters' must be a list")
        out: list[dict[str, Any]] = []
        keys: list[tuple[str, str]] = []
        for i, param in enumerate(params):
            at = pointer_join(src, i)
            here = pointer_join(tgt, len(out))
            if isinstance(param, dict) and "$ref" in param:
                resolved, pointer = self._follow(param, at)
                name = self.param_names.get(pointer)
                if name is not None and self.global_params.get(name) is not None:
                    global_param = self.global_params[name]
                    assert global_param is not None
                    out.append({"$ref": "#/parameters/" + escape_pointer_token(name)})
                    keys.append((global_param["name"], global_param["in"]))
                    continue
                if name is not None:
                    self._report_dropped_reference(resolved, at, here, what)
                    continue
                converted = self._parameter(resolved, pointer, here)
            else:
                converted = self._parameter(param, at, here)
            if converted is None:
                continue
            out.append(converted)
            keys.append((converted["name"], converted["in"]))
        return out, keys

    def _report_dropped_reference(self, resolved: Any, at: str, here: str, what: str) -> None:
        name = resolved.get("name") if isinstance(resolved, dict) else None
        self._drop(
            f"cookie parameter '{name}' of {what} dropped: Swagger 2.0 and the platform cannot send cookies", at, here
        )

    # -- request bodies

    def _request_body(
        self, body: Any, src: str, op_tgt: str, method: str, taken: set[str], first_index: int, name: str = "body"
    ) -> tuple[list[dict[str, Any]], list[str]]:
        resolved, pointer = self._follow(body, src)
        if not isinstance(resolved, dict):
            raise self._error(src, "a requestBody must be an object")
        content = resolved.get("content")
        if not isinstance(content, dict) or not content:
            self._drop("a request body without content dropped", src, op_tgt)
            return [], []
        if method == "get":
            self._drop(
                "the request body of a GET operation dropped: the platform does not send a body with GET",
                src,
                op_tgt,
            )
            return [], []
        media_types = [str(m) for m in content]
        chosen = _choose_media(media_types)
        others = [m for m in media_types if m != chosen]
        media_src = pointer_join(pointer_join(pointer, "content"), chosen)
        media = content[chosen] if isinstance(content[chosen], dict) else {}
        if _media_base(chosen) in FORM_MEDIA:
            params = self._form_parameters(resolved, media, chosen, media_src, op_tgt, taken, first_index, name)
        else:
            params = [self._body_parameter(resolved, media, chosen, media_src, op_tgt, taken, first_index, name)]
        if others:
            self._drop(
                f"request media type(s) {_listing(others)} dropped: a Swagger 2.0 operation has one request "
                f"body; the connector sends {chosen}",
                pointer_join(pointer, "content"),
                op_tgt,
            )
        return params, [chosen]

    def _body_parameter(
        self,
        body: dict[str, Any],
        media: dict[str, Any],
        media_type: str,
        src: str,
        op_tgt: str,
        taken: set[str],
        index: int,
        name: str = "body",
    ) -> dict[str, Any]:
        if name in taken:
            for candidate in ("requestBody", "body_", "payload"):
                if candidate not in taken:
                    name = candidate
                    break
            self._note(
                f"the request body parameter is named '{name}': another parameter is already named 'body'",
                src,
                op_tgt,
            )
        tgt = pointer_join(pointer_join(op_tgt, "parameters"), index)
        out: dict[str, Any] = {"name": name, "in": "body"}
        if body.get("required") is True:
            out["required"] = True
        if isinstance(body.get("description"), str):
            out["description"] = body["description"]
        out["x-ms-summary"] = "Body"
        if "schema" in media:
            schema = self._schema(media["schema"], pointer_join(src, "schema"), pointer_join(tgt, "schema"))
        elif _is_json_media(media_type):
            schema = {}
        elif _media_base(media_type).startswith("text/"):
            schema = {"type": "string"}
        else:
            schema = {"type": "string", "format": "binary"}
        example = self._media_example(media)
        if example is not None and "example" not in schema and "$ref" not in schema:
            schema["example"] = example
        out["schema"] = schema
        if isinstance(media.get("encoding"), dict) and media["encoding"]:
            self._drop("'encoding' of a non-form body dropped", pointer_join(src, "encoding"), tgt)
        for key, value in body.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
        return out

    def _form_parameters(
        self,
        body: dict[str, Any],
        media: dict[str, Any],
        media_type: str,
        src: str,
        op_tgt: str,
        taken: set[str],
        first_index: int,
        name: str = "body",
    ) -> list[dict[str, Any]]:
        multipart = _media_base(media_type) == MULTIPART
        schema_src = pointer_join(src, "schema")
        flat, flat_src, _ = self._flat_source(media.get("schema", {}), schema_src)
        shape = self._object_shape(flat, flat_src)
        if shape is None or not shape.properties:
            self._approx(
                f"the {media_type} body declares no form fields; it stays one body parameter with its schema",
                schema_src,
                op_tgt,
            )
            return [self._body_parameter(body, media, media_type, src, op_tgt, taken, first_index, name)]
        params: list[dict[str, Any]] = []
        for name, prop, prop_src in shape.properties:
            tgt = pointer_join(pointer_join(op_tgt, "parameters"), first_index + len(params))
            param: dict[str, Any] = {"name": name, "in": "formData"}
            if name in shape.required:
                param["required"] = True
            what = f"form field '{name}'"
            fields = self._primitive(prop, prop_src, tgt, what=what, location="formData")
            binary = self._is_binary(prop, prop_src)
            if binary and multipart:
                fields = {k: v for k, v in fields.items() if k.startswith("_") or k.startswith("x-")}
                fields["type"] = "file"
                if self._variant_type(self._flat_source(prop, prop_src)[0]) == "array":
                    self._approx(f"{what} holds several files; Swagger 2.0 sends one file per field", prop_src, tgt)
            elif binary:
                fields.pop("format", None)
                self._approx(
                    f"{what} is binary but the body is {media_type}, which carries text only; it is sent as text",
                    prop_src,
                    tgt,
                )
            self._apply_primitive(param, fields)
            if param.get("type") == "array":
                encoding = media.get("encoding", {}).get(name) if isinstance(media.get("encoding"), dict) else None
                style = encoding if isinstance(encoding, dict) else {}
                explode = style.get("explode", True)
                param["collectionFormat"] = "multi" if explode else "csv"
            params.append(param)
        encoding = media.get("encoding")
        if isinstance(encoding, dict) and any(
            isinstance(e, dict) and set(e) - {"style", "explode"} for e in encoding.values()
        ):
            self._drop(
                "per-field 'encoding' (content types and headers of form parts) dropped: Swagger 2.0 cannot "
                "describe it",
                pointer_join(src, "encoding"),
                op_tgt,
            )
        additional = flat.get("additionalProperties")
        if additional not in (None, False):
            self._drop(
                "form fields beyond the declared properties (additionalProperties) dropped: each form field "
                "must be a named parameter",
                pointer_join(schema_src, "additionalProperties"),
                op_tgt,
            )
        if isinstance(body.get("description"), str) and body["description"]:
            self._drop(
                "the form body's description dropped: form fields are separate parameters",
                pointer_join(src, "description"),
                op_tgt,
            )
        return params

    def _is_binary(self, prop: Any, at: str) -> bool:
        flat, _, _ = self._flat_source(prop, at)
        if self._variant_type(flat) == "array" and isinstance(flat.get("items"), dict):
            flat, _, _ = self._flat_source(flat["items"], at)
        if flat.get("format") == "binary" or str(flat.get("contentEncoding", "")).lower() == "binary":
            return True
        return "contentMediaType" in flat and "contentEncoding" not in flat

    # -- responses

    def _component_responses(self) -> None:
        for name, response in self._components("responses").items():
            pointer = _ptr("components", "responses", name)
            resolved, resolved_ptr = self._follow(response, pointer)
            if resolved_ptr != pointer and resolved_ptr.startswith("#/components/responses/"):
                continue  # an alias: refs resolve to its target
            clean = self._section_name(name, self.global_responses, "response", "responses")
            converted, media = self._response(resolved, resolved_ptr, _ptr("responses", clean), name)
            self.global_responses[clean] = (converted, media)
            self.response_names[pointer] = clean

    def _response(self, response: Any, src: str, tgt: str, code: str) -> tuple[dict[str, Any], list[str]]:
        if not isinstance(response, dict):
            raise self._error(src, "a response must be an object")
        description = response.get("description")
        out: dict[str, Any] = {"description": description if isinstance(description, str) and description else ""}
        if not out["description"]:
            out["description"] = _REASONS.get(code[:1], "Response") if code != "default" else "Default response"
        media_types: list[str] = []
        content = response.get("content")
        if isinstance(content, dict) and content:
            media_types = [str(m) for m in content]
            chosen = _choose_media(media_types)
            media = content[chosen] if isinstance(content[chosen], dict) else {}
            media_src = pointer_join(pointer_join(src, "content"), chosen)
            if "schema" in media:
                out["schema"] = self._schema(
                    media["schema"], pointer_join(media_src, "schema"), pointer_join(tgt, "schema")
                )
            example = self._media_example(media)
            if example is not None:
                out["examples"] = {chosen: example}
            differing = [
                m
                for m in media_types
                if m != chosen
                and isinstance(content[m], dict)
                and "schema" in content[m]
                and _canonical(content[m]["schema"]) != _canonical(media.get("schema"))
            ]
            if differing:
                self._approx(
                    f"response schemas of {_listing(differing)} dropped: Swagger 2.0 has one schema per "
                    f"response; the schema of {chosen} is used",
                    pointer_join(src, "content"),
                    tgt,
                )
        headers = response.get("headers")
        if isinstance(headers, dict) and headers:
            converted: dict[str, Any] = {}
            for name, header in headers.items():
                header_src = pointer_join(pointer_join(src, "headers"), name)
                header_tgt = pointer_join(pointer_join(tgt, "headers"), name)
                resolved, resolved_ptr = self._follow(header, header_src)
                item = self._header(resolved, resolved_ptr, header_tgt, name)
                if item is not None:
                    converted[name] = item
            if converted:
                out["headers"] = converted
        if isinstance(response.get("links"), dict) and response["links"]:
            self._drop(
                f"response links ({_listing(response['links'])}) dropped: Swagger 2.0 has no links",
                pointer_join(src, "links"),
                tgt,
            )
        for key, value in response.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
        return out, media_types

    def _header(self, header: Any, src: str, tgt: str, name: str) -> dict[str, Any] | None:
        if not isinstance(header, dict):
            raise self._error(src, "a header must be an object")
        out: dict[str, Any] = {}
        if isinstance(header.get("description"), str):
            out["description"] = header["description"]
        what = f"response header '{name}'"
        if isinstance(header.get("content"), dict) and header["content"]:
            out["type"] = "string"
            self._approx(f"{what} is described by its content; it is typed as text", pointer_join(src, "content"), tgt)
        else:
            fields = self._primitive(
                header.get("schema", {}), pointer_join(src, "schema"), tgt, what=what, location=None
            )
            self._apply_primitive(out, fields)
            out.pop("x-ms-summary", None)
            out.pop("x-example", None)
            if out.get("type") == "array":
                out["collectionFormat"] = "csv"
        for key, value in header.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
        return out

    def _responses(self, responses: Any, src: str, tgt: str, what: str) -> tuple[dict[str, Any], list[str]]:
        out: dict[str, Any] = {}
        media: list[str] = []
        if not isinstance(responses, dict):
            if responses is not None:
                raise self._error(src, "'responses' must be an object")
            responses = {}
        codes = [str(c) for c in responses]
        explicit_2xx = any(_STATUS.match(c) and c.startswith("2") for c in codes)
        for raw_code, response in responses.items():
            code = str(raw_code)
            at = pointer_join(src, code)
            if code.startswith("x-"):
                out[code] = self._extension(response)
                continue
            target_code = code
            if _STATUS_RANGE.match(code):
                digit = code[0]
                if digit == "2" and not explicit_2xx and "200" not in out:
                    target_code = "200"
                    self._approx(
                        f"the {code} response of {what} became a 200 response: Swagger 2.0 has no status ranges",
                        at,
                        pointer_join(tgt, "200"),
                    )
                else:
                    self._gather(
                        f"{code.upper()} responses dropped ({{details}}): Swagger 2.0 has no status code ranges",
                        Kind.DROPPED,
                        at,
                        tgt,
                        [what],
                    )
                    continue
            elif code != "default" and not _STATUS.match(code):
                self._drop(f"response '{code}' of {what} dropped: not an HTTP status code", at, tgt)
                continue
            here = pointer_join(tgt, target_code)
            if isinstance(response, dict) and "$ref" in response:
                resolved, pointer = self._follow(response, at)
                name = self.response_names.get(pointer)
                if name is not None:
                    out[target_code] = {"$ref": "#/responses/" + escape_pointer_token(name)}
                    media.extend(self.global_responses[name][1])
                    continue
                converted, found = self._response(resolved, pointer, here, target_code)
            else:
                converted, found = self._response(response, at, here, target_code)
            out[target_code] = converted
            media.extend(found)
        if not any(not c.startswith("x-") for c in out):
            out["default"] = {"description": "Default response"}
            self._add(
                Kind.ENRICHED,
                f"{what} declares no response Swagger 2.0 can hold; a default response was added",
                src,
                tgt,
            )
        return out, list(dict.fromkeys(media))

    # -- servers

    def _server_list(self, servers: Any, at: str) -> list[_Server]:
        if servers is None:
            return []
        if not isinstance(servers, list):
            raise self._error(at, "'servers' must be a list")
        found: list[_Server] = []
        for i, server in enumerate(servers):
            here = pointer_join(at, i)
            if not isinstance(server, dict) or not isinstance(server.get("url"), str):
                raise self._error(here, "a server needs a 'url' string")
            variables = _dict(server.get("variables"))
            raw = server["url"].strip()
            expanded = self._expand(raw, variables)
            url = urljoin(self.source_url, expanded) if self.source_url else expanded
            found.append(_Server(raw, url.rstrip("/") or url, variables, here))
        return found

    def _expand(self, raw: str, variables: dict[str, Any]) -> str:
        """A server URL with every variable at its default."""
        return _VARIABLE.sub(lambda match: self._variable_default(variables, match.group(1)), raw)

    @staticmethod
    def _variable_default(variables: dict[str, Any], name: str) -> str:
        variable = variables.get(name)
        if isinstance(variable, dict) and variable.get("default") is not None:
            return str(variable["default"])
        return name

    def _choose_server(self) -> tuple[_Server | None, dict[tuple[str, str], _Server]]:
        """The root server (the one most operations use) and each operation's own first server."""
        root = self._server_list(self.doc.get("servers"), "#/servers")
        per_operation: dict[tuple[str, str], _Server] = {}
        for path, item, item_src in self._path_items():
            path_servers = self._server_list(item.get("servers"), pointer_join(item_src, "servers"))
            for method in OPENAPI_METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                own = self._server_list(op.get("servers"), pointer_join(pointer_join(item_src, method), "servers"))
                applicable = own or path_servers or root
                if applicable:
                    per_operation[(path, method)] = applicable[0]
        candidates = [*root, *per_operation.values()]
        if not candidates:
            return None, per_operation
        counts = Counter(s.url for s in per_operation.values())
        server = max(candidates, key=lambda s: counts.get(s.url, 0))  # the first of the most used
        every = [server.raw]
        for candidate in candidates:
            if candidate.raw not in every:
                every.append(candidate.raw)
        self.converted.servers = [urljoin(self.source_url, u) if self.source_url else u for u in every]
        if len(root) > 1:
            others = [s.raw for s in root if s.url != server.url]
            if others:
                self._note(
                    f"the API is also served at {_listing(others)}; the connector uses {server.raw}",
                    "#/servers",
                    "#/host",
                )
        return server, per_operation

    def _apply_server(self, server: _Server | None, out: dict[str, Any]) -> None:
        if server is None:
            if self.source_url and urlsplit(self.source_url).hostname:
                parts = urlsplit(self.source_url)
                out["host"] = parts.netloc
                out["schemes"] = [parts.scheme]
                self._note(
                    f"the description names no server; the host is taken from where it was read ({parts.netloc})",
                    None,
                    "#/host",
                )
                self.converted.servers = [f"{parts.scheme}://{parts.netloc}/"]
            else:
                self._note(
                    "the description names no server, so the definition has no host: set 'host' (and "
                    "'basePath') before using the connector",
                    None,
                    "#/host",
                )
            return
        self.base_url = server.url
        parts = urlsplit(server.url)
        scheme = parts.scheme.lower()
        raw_parts = re.match(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)", server.raw)
        raw_scheme = raw_parts.group(1) if raw_parts else None
        raw_host = raw_parts.group(2) if raw_parts else None
        raw_path = raw_parts.group(3) if raw_parts else ""
        if not parts.netloc:
            self._note(
                f"the server URL {server.raw!r} is relative and the description was not read from a URL, so the "
                "definition has no host: set 'host' before using the connector",
                server.pointer,
                "#/host",
            )
        else:
            host = parts.netloc.rsplit("@", 1)[-1]
            if _HOST.match(host):
                out["host"] = host
            else:
                self._note(
                    f"the server host {host!r} is not a valid host name; 'host' left out", server.pointer, "#/host"
                )
        base_path = (parts.path or "").rstrip("/")
        if base_path:
            out["basePath"] = base_path if base_path.startswith("/") else "/" + base_path
        schemes: list[str] = []
        if scheme in ("http", "https"):
            schemes.append(scheme)
        elif scheme in ("ws", "wss"):
            schemes.append("https" if scheme == "wss" else "http")
            self._approx(
                f"server scheme {scheme} became {schemes[0]}: connectors speak HTTP only", server.pointer, "#/schemes"
            )
        elif scheme:
            self._drop(f"server scheme {scheme!r} dropped: connectors speak HTTP only", server.pointer, "#/schemes")
        if raw_scheme and _VARIABLE.search(raw_scheme):
            for variable in _VARIABLE.findall(raw_scheme):
                spec = server.variables.get(variable, {})
                for value in spec.get("enum", []) if isinstance(spec, dict) else []:
                    if str(value).lower() in ("http", "https") and str(value).lower() not in schemes:
                        schemes.append(str(value).lower())
        if schemes:
            out["schemes"] = schemes
        host_vars = _VARIABLE.findall(raw_host or "")
        if host_vars:
            self._per_tenant(server, raw_scheme, raw_host or "", raw_path, scheme)
        else:
            for variable in _VARIABLE.findall(raw_path or ""):
                spec = server.variables.get(variable, {})
                choices = spec.get("enum") if isinstance(spec, dict) else None
                if isinstance(choices, list) and len(choices) > 1:
                    self._approx(
                        f"server variable '{variable}' may be {_listing(choices)}; the connector uses its default "
                        f"{self._variable_default(server.variables, variable)!r}",
                        pointer_join(pointer_join(server.pointer, "variables"), variable),
                        "#/basePath",
                    )

    def _per_tenant(self, server: _Server, raw_scheme: str | None, raw_host: str, raw_path: str, scheme: str) -> None:
        variables: dict[str, Any] = {}
        for variable in [*_VARIABLE.findall(raw_host), *_VARIABLE.findall(raw_path)]:
            spec = server.variables.get(variable)
            entry: dict[str, Any] = {}
            if isinstance(spec, dict):
                if spec.get("default") is not None:
                    entry["default"] = str(spec["default"])
                if isinstance(spec.get("enum"), list) and spec["enum"]:
                    entry["enum"] = [str(v) for v in spec["enum"]]
                if isinstance(spec.get("description"), str):
                    entry["description"] = spec["description"]
            variables[variable] = entry
        template_scheme = scheme or (raw_scheme or "https")

        def parameter(match: re.Match[str]) -> str:
            return f"@connectionParameters('{match.group(1)}')"

        template = f"{template_scheme}://{_VARIABLE.sub(parameter, raw_host)}{_VARIABLE.sub(parameter, raw_path)}"
        self.converted.host_parameters = variables
        self.converted.url_template = template.rstrip("/")
        self._note(
            f"the host depends on server variable(s) {_listing(variables)}: each becomes a connection "
            f"parameter and the address is built from {self.converted.url_template}",
            server.pointer,
            "#/host",
        )

    # -- paths and operations

    def _path_items(self) -> list[tuple[str, dict[str, Any], str]]:
        paths = self.doc.get("paths")
        found: list[tuple[str, dict[str, Any], str]] = []
        if not isinstance(paths, dict):
            return found
        for path, item in paths.items():
            if str(path).startswith("x-"):
                continue
            at = _ptr("paths", str(path))
            resolved, _ = self._follow(item, at)
            if not isinstance(resolved, dict):
                raise self._error(at, "a path item must be an object")
            if isinstance(item, dict) and "$ref" in item and len(item) > 1:
                resolved = {**resolved, **{k: v for k, v in item.items() if k != "$ref"}}
            found.append((str(path), resolved, at))
        return found

    def _check_paths(self) -> None:
        paths = self.doc.get("paths")
        operations = 0
        if isinstance(paths, dict):
            for _, item, _ in self._path_items():
                operations += sum(1 for m in OPENAPI_METHODS if isinstance(item.get(m), dict))
        if operations:
            return
        webhooks = self.doc.get("webhooks")
        if isinstance(webhooks, dict) and webhooks:
            raise InputError(
                f"{self.where}: has no paths: nothing to make a connector from (it describes only webhooks: "
                f"{_listing(webhooks)}, which the API calls, not operations a connector can call)"
            )
        raise InputError(f"{self.where}: has no paths: nothing to make a connector from")

    def _paths(self, per_operation: dict[tuple[str, str], _Server], root: _Server | None) -> dict[str, Any]:
        paths: dict[str, Any] = {}
        raw_paths = self.doc.get("paths", {})
        for key, value in raw_paths.items():
            if str(key).startswith("x-"):
                paths[str(key)] = self._extension(value)
        for path, item, item_src in self._path_items():
            tgt = _ptr("paths", path)
            out: dict[str, Any] = {}
            path_params, path_keys = self._parameter_list(
                item.get("parameters"), pointer_join(item_src, "parameters"), pointer_join(tgt, "parameters"), path
            )
            for method in OPENAPI_METHODS:
                op = item.get(method)
                if op is None:
                    continue
                op_src = pointer_join(item_src, method)
                if not isinstance(op, dict):
                    raise self._error(op_src, "an operation must be an object")
                if method == "trace":
                    self._drop(f"TRACE {path} dropped: Swagger 2.0 has no TRACE operations", op_src, tgt)
                    continue
                server = per_operation.get((path, method))
                if server is not None and root is not None and server.url != root.url:
                    self._approx(
                        f"{method.upper()} {path} is served at {server.raw} in the source; the connector sends "
                        f"it to {root.raw} like the other operations",
                        server.pointer,
                        pointer_join(tgt, method),
                    )
                out[method] = self._operation(path, method, op, item, op_src, pointer_join(tgt, method), path_keys)
            if path_params:
                out["parameters"] = path_params
            for key in ("summary", "description"):
                if isinstance(item.get(key), str) and item[key]:
                    for method in SWAGGER_METHODS:
                        if method in out and not out[method].get(key):
                            out[method][key] = item[key]
            for key, value in item.items():
                if key == "x-ms-notification-content":
                    out[key] = self._notification_content(value, pointer_join(item_src, key), pointer_join(tgt, key))
                elif key.startswith("x-"):
                    out[key] = self._extension(value)
            unknown = [
                k
                for k in item
                if k not in (*OPENAPI_METHODS, "parameters", "summary", "description", "servers", "$ref")
                and not k.startswith("x-")
            ]
            if unknown:
                self._drop(f"path item key(s) {_listing(unknown)} dropped: not part of Swagger 2.0", item_src, tgt)
            paths[path] = out
        return paths

    def _operation(
        self,
        path: str,
        method: str,
        op: dict[str, Any],
        item: dict[str, Any],
        src: str,
        tgt: str,
        path_keys: list[tuple[str, str]],
    ) -> dict[str, Any]:
        what = f"{method.upper()} {path}"
        out: dict[str, Any] = {}
        for key in ("tags", "summary", "description", "externalDocs", "operationId"):
            if key in op:
                out[key] = copy.deepcopy(op[key])
        params, keys = self._parameter_list(
            op.get("parameters"), pointer_join(src, "parameters"), pointer_join(tgt, "parameters"), what
        )
        consumes: list[str] = []
        if op.get("requestBody") is not None:
            taken = {name for name, _ in [*keys, *path_keys]}
            named = op.get("x-codegen-request-body-name")  # openapi-generator's body parameter name
            body_params, consumes = self._request_body(
                op["requestBody"],
                pointer_join(src, "requestBody"),
                tgt,
                method,
                taken,
                len(params),
                named if isinstance(named, str) and named else "body",
            )
            params.extend(body_params)
        responses, produces = self._responses(
            op.get("responses"), pointer_join(src, "responses"), pointer_join(tgt, "responses"), what
        )
        if consumes:
            out["consumes"] = consumes
        if produces:
            out["produces"] = produces
        if params:
            out["parameters"] = params
        out["responses"] = responses
        if op.get("deprecated") is True:
            out["deprecated"] = True
        if "security" in op:
            security = self._requirements(op["security"], pointer_join(src, "security"), pointer_join(tgt, "security"))
            if security is not None:
                out["security"] = security
        callbacks = op.get("callbacks")
        if isinstance(callbacks, dict) and callbacks:
            self._callbacks(callbacks, op, method, path, pointer_join(src, "callbacks"), tgt)
        for key, value in op.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
        known = {
            "tags",
            "summary",
            "description",
            "externalDocs",
            "operationId",
            "parameters",
            "requestBody",
            "responses",
            "callbacks",
            "deprecated",
            "security",
            "servers",
        }
        unknown = [k for k in op if k not in known and not k.startswith("x-")]
        if unknown:
            self._drop(f"operation key(s) {_listing(unknown)} of {what} dropped: not part of Swagger 2.0", src, tgt)
        return out

    # -- callbacks and webhooks

    def _callbacks(
        self, callbacks: dict[str, Any], op: dict[str, Any], method: str, path: str, src: str, tgt: str
    ) -> None:
        what = f"{method.upper()} {path}"
        for name, callback in callbacks.items():
            at = pointer_join(src, name)
            resolved, pointer = self._follow(callback, at)
            self._drop(
                f"callback '{name}' of {what} dropped: Swagger 2.0 cannot describe requests the API makes",
                at,
                tgt,
            )
            if not isinstance(resolved, dict):
                continue
            for expression, item in resolved.items():
                if str(expression).startswith("x-"):
                    continue
                match = _CALLBACK_INPUT.match(str(expression).strip())
                if match is None:
                    continue
                holder = self._callback_input(match, op)
                if holder is None:
                    continue
                path_item, item_ptr = self._follow(item, pointer_join(pointer, str(expression)))
                if not isinstance(path_item, dict):
                    continue
                for cb_method in OPENAPI_METHODS:
                    cb_op = path_item.get(cb_method)
                    if not isinstance(cb_op, dict) or cb_op.get("requestBody") is None:
                        continue
                    body, _ = self._follow(
                        cb_op["requestBody"], pointer_join(pointer_join(item_ptr, cb_method), "requestBody")
                    )
                    content = body.get("content") if isinstance(body, dict) else None
                    media = _choose_media(list(content)) if isinstance(content, dict) and content else None
                    self._add(
                        Kind.CANDIDATE,
                        f"{what} subscribes a callback URL ({holder}) and callback '{name}' describes what the "
                        f"API then sends ({cb_method.upper()}"
                        + (f" {media}" if media else "")
                        + "): it could become a webhook trigger with x-ms-trigger: single on this operation, "
                        f"x-ms-notification-url: true (and x-ms-visibility: internal) on {holder}, and "
                        "x-ms-notification-content from the callback's request body",
                        pointer_join(pointer_join(at, str(expression)), cb_method),
                        tgt,
                    )
                    break

    def _callback_input(self, match: re.Match[str], op: dict[str, Any]) -> str | None:
        """Which input of the operation carries the callback URL, for a runtime expression."""
        location, name, body_pointer = match.group(1), match.group(2), match.group(3)
        if location is not None:
            for param in op.get("parameters", []) if isinstance(op.get("parameters"), list) else []:
                try:
                    resolved, _ = self._follow(param, "#")
                except InputError:
                    continue
                if (
                    isinstance(resolved, dict)
                    and resolved.get("in") == location
                    and str(resolved.get("name", "")).lower() == str(name).lower()
                ):
                    return f"{location} parameter '{resolved.get('name')}'"
            return None
        if body_pointer is not None and op.get("requestBody") is not None:
            field_path = "/".join(unescape_pointer_token(t) for t in body_pointer.split("/") if t)
            return f"body property '{field_path}'" if field_path else "the request body"
        return None

    def _webhooks(self) -> None:
        webhooks = self.doc.get("webhooks")
        if not isinstance(webhooks, dict):
            return
        for name in webhooks:
            self._drop(
                f"webhook '{name}' dropped: Swagger 2.0 describes only requests sent to the API; a connector "
                "trigger also needs an operation that subscribes to it",
                _ptr("webhooks", name),
                None,
            )

    # -- security

    def _security_definitions(self) -> dict[str, Any]:
        schemes = self._components("securitySchemes")
        used = self._used_schemes()
        out: dict[str, Any] = {}
        for name, scheme in schemes.items():
            at = _ptr("components", "securitySchemes", name)
            resolved, pointer = self._follow(scheme, at)
            if not isinstance(resolved, dict):
                raise self._error(at, "a security scheme must be an object")
            tgt = _ptr("securityDefinitions", name)
            converted = self._security_scheme(name, resolved, pointer, tgt, used, len(schemes))
            if converted is None:
                self.dropped_schemes.add(name)
            else:
                out[name] = converted
                self.security_kinds[name] = converted["type"]
        return out

    def _used_schemes(self) -> set[str]:
        used: set[str] = set()

        def collect(requirements: Any) -> None:
            if isinstance(requirements, list):
                for requirement in requirements:
                    if isinstance(requirement, dict):
                        used.update(requirement)

        collect(self.doc.get("security"))
        for _, item, _ in self._path_items():
            for method in OPENAPI_METHODS:
                if isinstance(item.get(method), dict):
                    collect(item[method].get("security"))
        return used

    def _security_scheme(
        self, name: str, scheme: dict[str, Any], src: str, tgt: str, used: set[str], count: int
    ) -> dict[str, Any] | None:
        kind = scheme.get("type")
        description = scheme.get("description") if isinstance(scheme.get("description"), str) else None
        out: dict[str, Any]
        if kind == "apiKey":
            location = scheme.get("in")
            if location == "cookie":
                self._drop(
                    f"security scheme '{name}' (API key in a cookie) dropped: the platform cannot send cookies",
                    src,
                    tgt,
                )
                return None
            if location not in ("header", "query") or not isinstance(scheme.get("name"), str):
                raise self._error(src, f"API key scheme '{name}' needs a 'name' and 'in' (header, query or cookie)")
            out = {"type": "apiKey", "in": location, "name": scheme["name"]}
        elif kind == "http":
            http = str(scheme.get("scheme", "")).strip().lower()
            if http == "basic":
                out = {"type": "basic"}
            elif http == "bearer":
                out = {"type": "apiKey", "in": "header", "name": "Authorization"}
                self.converted.bearer_schemes.add(name)
                self._approx(
                    f"HTTP bearer scheme '{name}' became an API key in the Authorization header; the connector "
                    "must send it as 'Bearer <key>'",
                    src,
                    tgt,
                )
            else:
                self._drop(
                    f"security scheme '{name}' (HTTP {scheme.get('scheme')}) dropped: Swagger 2.0 knows basic only",
                    src,
                    tgt,
                )
                return None
        elif kind == "oauth2":
            converted = self._oauth2(name, scheme, src, tgt)
            if converted is None:
                return None
            out = converted
        elif kind == "openIdConnect":
            discovery = scheme.get("openIdConnectUrl")
            if self.oidc_urls is None:
                if name in used or count == 1:
                    raise self._error(
                        src,
                        f"security scheme '{name}' is OpenID Connect (openIdConnectUrl {discovery}); give its "
                        "authorization and token URLs with --authorization-url and --token-url",
                    )
                self._drop(f"unused OpenID Connect scheme '{name}' dropped", src, tgt)
                return None
            authorization, token = self.oidc_urls
            out = {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": authorization,
                "tokenUrl": token,
                "scopes": {},
            }
            self.oidc_schemes.add(name)
            self._approx(
                f"OpenID Connect scheme '{name}' ({discovery}) became OAuth 2.0 authorization code with the "
                "authorization and token URLs given; its scopes are those the operations ask for",
                src,
                tgt,
            )
        elif kind == "mutualTLS":
            self._drop(
                f"security scheme '{name}' (mutual TLS) dropped: connectors cannot present client certificates",
                src,
                tgt,
            )
            return None
        else:
            raise self._error(pointer_join(src, "type"), f"unknown security scheme type {kind!r}")
        if description:
            out["description"] = description
        for key, value in scheme.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
        return out

    def _oauth2(self, name: str, scheme: dict[str, Any], src: str, tgt: str) -> dict[str, Any] | None:
        flows = scheme.get("flows")
        if not isinstance(flows, dict) or not flows:
            raise self._error(pointer_join(src, "flows"), f"OAuth 2.0 scheme '{name}' has no flows")
        chosen = next(((oas, swagger) for oas, swagger in OAUTH_FLOWS if isinstance(flows.get(oas), dict)), None)
        if chosen is None:
            raise self._error(pointer_join(src, "flows"), f"OAuth 2.0 scheme '{name}' has no flow Swagger 2.0 knows")
        oas_flow, swagger_flow = chosen
        flow = flows[oas_flow]
        flow_src = pointer_join(pointer_join(src, "flows"), oas_flow)
        out: dict[str, Any] = {"type": "oauth2", "flow": swagger_flow}
        for key in OAUTH_URLS[swagger_flow]:
            url = flow.get(key)
            if not isinstance(url, str):
                raise self._error(flow_src, f"OAuth 2.0 flow '{oas_flow}' of '{name}' needs a '{key}'")
            out[key] = self._absolute(url, pointer_join(flow_src, key), tgt)
        scopes = flow.get("scopes")
        out["scopes"] = {str(k): str(v) for k, v in scopes.items()} if isinstance(scopes, dict) else {}
        others = [f for f in flows if f != oas_flow]
        if others:
            self._drop(
                f"OAuth 2.0 flow(s) {_listing(others)} of '{name}' dropped: a Swagger 2.0 scheme has one flow; "
                f"'{oas_flow}' was kept",
                pointer_join(src, "flows"),
                tgt,
            )
        if isinstance(flow.get("refreshUrl"), str):
            self._drop(
                f"refreshUrl of '{name}' dropped: Swagger 2.0 has none (the platform refreshes tokens at the token URL)",
                pointer_join(flow_src, "refreshUrl"),
                tgt,
            )
        return out

    def _absolute(self, url: str, src: str, tgt: str) -> str:
        if urlsplit(url).scheme:
            return url
        base = self.base_url or self.source_url
        if base:
            resolved = urljoin(base, url)
            self._note(f"relative URL {url!r} resolved to {resolved}", src, tgt)
            return resolved
        return url

    def _requirements(self, requirements: Any, src: str, tgt: str) -> list[dict[str, list[str]]] | None:
        if not isinstance(requirements, list):
            raise self._error(src, "'security' must be a list")
        out: list[dict[str, list[str]]] = []
        lost = 0
        for i, requirement in enumerate(requirements):
            at = pointer_join(src, i)
            if not isinstance(requirement, dict):
                raise self._error(at, "a security requirement must be an object")
            converted: dict[str, list[str]] = {}
            usable = True
            for name, scopes in requirement.items():
                scope_list = [str(s) for s in scopes] if isinstance(scopes, list) else []
                kind = self.security_kinds.get(name)
                if kind is None:
                    usable = False
                    if name not in self.dropped_schemes:
                        self._drop(f"security requirement '{name}' dropped: no such security scheme", at, tgt)
                    continue
                if kind != "oauth2" and scope_list:
                    self._gather(
                        f"scopes of '{name}' dropped ({{details}}): Swagger 2.0 allows scopes for OAuth 2.0 only",
                        Kind.APPROXIMATED,
                        pointer_join(at, name),
                        tgt,
                        scope_list,
                    )
                    scope_list = []
                if kind == "oauth2":
                    self.extra_scopes.setdefault(name, [])
                    self.extra_scopes[name].extend(s for s in scope_list if s not in self.extra_scopes[name])
                converted[name] = scope_list
            if usable:
                out.append(converted)
            else:
                lost += 1
        if lost and not out and requirements:
            self._drop("no security requirement is left here; the definition's default applies", src, tgt)
            return None
        return out

    def _complete_scopes(self, definitions: dict[str, Any]) -> None:
        for name, scopes in self.extra_scopes.items():
            scheme = definitions.get(name)
            if not isinstance(scheme, dict):
                continue
            declared = scheme.setdefault("scopes", {})
            missing = [s for s in scopes if s not in declared]
            for scope in missing:
                declared[scope] = scope
            if missing and name not in self.oidc_schemes:
                self._add(
                    Kind.ENRICHED,
                    f"scope(s) {_listing(missing)} used by operations were added to '{name}' (Swagger 2.0 requires "
                    "every scope used to be declared)",
                    _ptr("components", "securitySchemes", name),
                    _ptr("securityDefinitions", name),
                )

    # -- document level

    def _info(self) -> dict[str, Any]:
        info = self.doc.get("info")
        if not isinstance(info, dict):
            raise self._error("#/info", "an 'info' object is required")
        out: dict[str, Any] = {}
        for key in ("title", "description", "termsOfService"):
            if key in info:
                out[key] = info[key]
        if not isinstance(out.get("title"), str) or not out["title"].strip():
            out["title"] = "API"
            self._add(Kind.ENRICHED, "info.title is missing; 'API' was put in its place", "#/info", "#/info/title")
        out["version"] = str(info.get("version", ""))
        if isinstance(info.get("summary"), str) and info["summary"]:
            if "description" not in out:
                out["description"] = info["summary"]
            else:
                self._drop("info.summary dropped: Swagger 2.0 has a description only", "#/info/summary", "#/info")
        if isinstance(info.get("contact"), dict):
            out["contact"] = {
                k: v for k, v in info["contact"].items() if k in ("name", "url", "email") or k.startswith("x-")
            }
        if isinstance(info.get("license"), dict):
            license_ = info["license"]
            converted = {k: v for k, v in license_.items() if k in ("name", "url") or k.startswith("x-")}
            if isinstance(license_.get("identifier"), str) and "url" not in converted:
                converted["url"] = f"https://spdx.org/licenses/{license_['identifier']}.html"
                self._approx(
                    f"license identifier {license_['identifier']} became the URL of its SPDX page",
                    "#/info/license/identifier",
                    "#/info/license/url",
                )
            out["license"] = converted
        for key, value in info.items():
            if key.startswith("x-"):
                out[key] = self._extension(value)
        order = ("title", "description", "version", "termsOfService", "contact", "license")
        return {k: out[k] for k in (*order, *[k for k in out if k not in order]) if k in out}

    def _tags(self) -> list[dict[str, Any]] | None:
        tags = self.doc.get("tags")
        if tags is None:
            return None
        if not isinstance(tags, list):
            raise self._error("#/tags", "'tags' must be a list")
        out: list[dict[str, Any]] = []
        for i, tag in enumerate(tags):
            if not isinstance(tag, dict) or not isinstance(tag.get("name"), str):
                raise self._error(pointer_join("#/tags", i), "a tag needs a 'name'")
            out.append(
                {
                    k: copy.deepcopy(v)
                    for k, v in tag.items()
                    if k in ("name", "description", "externalDocs") or k.startswith("x-")
                }
            )
            dropped = [k for k in tag if k in ("summary", "parent", "kind")]
            if dropped:
                self._drop(f"tag key(s) {_listing(dropped)} dropped", pointer_join("#/tags", i), None)
        return out

    def _root_leftovers(self) -> None:
        known = {
            "info",
            "servers",
            "paths",
            "components",
            "security",
            "tags",
            "externalDocs",
            "webhooks",
            *ROOT_SILENT,
        }
        for key in self.doc:
            if key not in known and not str(key).startswith("x-"):
                self._drop(f"top-level key '{key}' dropped: not part of Swagger 2.0", _ptr(str(key)), None)

    def _hoist_media(self, paths: dict[str, Any], root: dict[str, Any]) -> None:
        """Move ``consumes``/``produces`` shared by every operation to the root."""
        operations = [
            op for item in paths.values() if isinstance(item, dict) for m, op in item.items() if m in SWAGGER_METHODS
        ]
        for key in ("consumes", "produces"):
            values = [op.get(key) for op in operations]
            if operations and all(v is not None for v in values) and len({_canonical(v) for v in values}) == 1:
                root[key] = values[0]
                for op in operations:
                    op.pop(key)

    # -- the run

    def run(self) -> Converted:
        if not isinstance(self.doc, dict):
            raise InputError(f"{self.where}: not an OpenAPI document (the top level is not an object)")
        self._check_paths()
        self._definitions()
        self._component_parameters()
        self._component_responses()
        server, per_operation = self._choose_server()
        root: dict[str, Any] = {"swagger": "2.0", "info": self._info()}
        self._apply_server(server, root)
        security_definitions = self._security_definitions()
        paths = self._paths(per_operation, server)
        self._flush_definitions()
        self._apply_discriminator_values()
        root["paths"] = paths
        self._hoist_media(paths, root)
        if self.definitions:
            root["definitions"] = self.definitions
        parameters = {k: v for k, v in self.global_params.items() if v is not None}
        if parameters:
            root["parameters"] = parameters
        if self.global_responses:
            root["responses"] = {k: v for k, (v, _) in self.global_responses.items()}
        if "security" in self.doc:
            security = self._requirements(self.doc["security"], "#/security", "#/security")
            if security is not None:
                root["security"] = security
        if security_definitions:
            self._complete_scopes(security_definitions)
            root["securityDefinitions"] = security_definitions
        tags = self._tags()
        if tags is not None:
            root["tags"] = tags
        if isinstance(self.doc.get("externalDocs"), dict):
            root["externalDocs"] = copy.deepcopy(self.doc["externalDocs"])
        for key, value in self.doc.items():
            if str(key).startswith("x-"):
                root[str(key)] = self._extension(value)
        self._webhooks()
        self._root_leftovers()
        self._report_gathered()
        ordered = {k: root[k] for k in ROOT_ORDER if k in root}
        ordered.update({k: v for k, v in root.items() if k not in ordered})
        self.converted.swagger = ordered
        log.debug("converted %s: %d definitions", self.where, len(self.definitions))
        return self.converted


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _dict(value: Any) -> dict[str, Any]:
    """``value`` if it is an object, else an empty one."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []
