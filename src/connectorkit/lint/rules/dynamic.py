"""Swagger Validator rules on design-time calls between operations.

``x-ms-dynamic-values``, ``x-ms-dynamic-list``, ``x-ms-dynamic-schema``, ``x-ms-dynamic-properties``
and ``x-ms-dynamic-tree`` make the designer call another operation of the same connector to fill
a dropdown, a folder picker or a schema. ``x-ms-capabilities``, ``x-ms-notification``,
``x-ms-operation-context`` and ``x-ms-api-annotation`` name operations too. The rules here check
that the invoked operation exists, that the call supplies what it needs in the right types, that
references to the caller's own inputs resolve, and that the invoked operation's response has
the array and properties the call reads.

The extensions can sit on parameters, inside body, response and notification schemas, and under
``definitions`` (reached through ``$ref`` from any number of operations). One walk of the
document, shared by every rule of this module through ``ctx.memo``, finds them all, and a usage
index says which operations a shared schema belongs to, so a reference is resolved against each
operation that uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import escape_pointer_token, pointer_join, unescape_pointer_token
from connectorkit.definition.package import DEFINITION
from connectorkit.definition.swagger import HTTP_METHODS, Operation, Parameter, Swagger
from connectorkit.lint.engine import Context, ParameterNode, SchemaNode
from connectorkit.lint.registry import Hit, On, hit, svr
from connectorkit.lint.values import json_type as _json_type

VALUES = "x-ms-dynamic-values"
LIST = "x-ms-dynamic-list"
SCHEMA = "x-ms-dynamic-schema"
PROPERTIES = "x-ms-dynamic-properties"
TREE = "x-ms-dynamic-tree"
DYNAMIC_KEYS = (VALUES, LIST, SCHEMA, PROPERTIES, TREE)
_DEFINITIONS = "#/definitions/"

FOUND, MISSING, UNKNOWN = "found", "missing", "unknown"


# --------------------------------------------------------------------------- where extensions are


@dataclass(frozen=True, slots=True)
class Owner:
    """The top-level part of the document an extension is written in.

    ``kind`` is ``op`` (an operation's parameters, or its responses when ``output``),
    ``path-param``, ``root-param``, ``root-response``, ``notification`` (a path item's
    ``x-ms-notification-content``) or ``definition``.
    """

    kind: str
    name: str = ""  # the path, or the name of a root parameter, response or definition
    slot: str = ""  # the method of an operation, or the index of a path-level parameter
    output: bool = False


@dataclass(slots=True)
class Occurrence:
    """One dynamic extension as written: its value, and the parameter or schema holding it."""

    key: str
    value: Any
    pointer: str
    holder: dict[str, Any]
    holder_pointer: str
    on_parameter: bool
    owner: Owner


@dataclass(frozen=True, slots=True)
class Use:
    """An operation a piece of the document belongs to; ``output`` for responses and payloads."""

    op: Operation
    output: bool


@dataclass
class _Walk:
    occurrences: list[Occurrence] = field(default_factory=list)
    refs: dict[Owner, set[str]] = field(default_factory=dict)


_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
_DYNAMIC = frozenset(DYNAMIC_KEYS)


def _note(walk: _Walk, raw: dict[str, Any], pointer: str, owner: Owner, on_parameter: bool, refs: set[str]) -> None:
    """Record the dynamic extensions on ``raw`` and the definition it references."""
    for key in DYNAMIC_KEYS:
        if key in raw:
            walk.occurrences.append(Occurrence(key, raw[key], f"{pointer}/{key}", raw, pointer, on_parameter, owner))
    ref = raw.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFINITIONS):
        refs.add(unescape_pointer_token(ref[len(_DEFINITIONS) :].split("/", 1)[0]))


# A location during the schema walk, built without string work: (parent location, key, name or
# index), or the starting pointer itself.
_Where = tuple[Any, str, Any] | str


def _pointer(where: _Where) -> str:
    tokens: list[str] = []
    while isinstance(where, tuple):
        where, key, name = where
        tokens.append(key if name is None else f"{key}/{escape_pointer_token(str(name))}")
    return where + "".join(f"/{t}" for t in reversed(tokens))


def _scan_schema(walk: _Walk, node: Any, pointer: str, owner: Owner) -> None:
    """Every schema object below ``node`` (as the engine walks them, ``$ref``s not followed)."""
    refs = walk.refs.setdefault(owner, set())
    stack: list[tuple[Any, _Where]] = [(node, pointer)]
    dynamic = _DYNAMIC
    while stack:
        raw, where = stack.pop()
        if not isinstance(raw, dict):
            continue
        for key, child in raw.items():
            if key == "properties":
                if isinstance(child, dict):
                    stack.extend((value, (where, key, name)) for name, value in child.items())
            elif key in _SCHEMA_LISTS or key == "items":
                if isinstance(child, list):
                    stack.extend((value, (where, key, i)) for i, value in enumerate(child))
                elif key == "items":
                    stack.append((child, (where, key, None)))
            elif key == "additionalProperties":
                stack.append((child, (where, key, None)))
            elif key == "$ref":
                if isinstance(child, str) and child.startswith(_DEFINITIONS):
                    refs.add(unescape_pointer_token(child[len(_DEFINITIONS) :].split("/", 1)[0]))
            elif key in dynamic:
                at = _pointer(where)
                walk.occurrences.append(Occurrence(key, child, f"{at}/{key}", raw, at, False, owner))


def _scan_parameter(walk: _Walk, raw: Any, pointer: str, owner: Owner) -> None:
    if isinstance(raw, dict):
        _note(walk, raw, pointer, owner, True, walk.refs.setdefault(owner, set()))
        if "schema" in raw:
            _scan_schema(walk, raw["schema"], pointer + "/schema", owner)


def _scan_responses(walk: _Walk, responses: Any, pointer: str, owner: Owner) -> None:
    if isinstance(responses, dict):
        for code, raw in responses.items():
            if isinstance(raw, dict) and "schema" in raw:
                _scan_schema(walk, raw["schema"], f"{pointer_join(pointer, code)}/schema", owner)


def _build_walk(doc: dict[str, Any]) -> _Walk:
    walk = _Walk()
    params = doc.get("parameters")
    if isinstance(params, dict):
        for name, raw in params.items():
            _scan_parameter(walk, raw, pointer_join("/parameters", name), Owner("root-param", str(name)))
    responses = doc.get("responses")
    if isinstance(responses, dict):
        for name, raw in responses.items():
            _scan_responses(walk, {name: raw}, "/responses", Owner("root-response", str(name), output=True))
    definitions = doc.get("definitions")
    if isinstance(definitions, dict):
        for name, raw in definitions.items():
            _scan_schema(walk, raw, pointer_join("/definitions", name), Owner("definition", str(name)))
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return walk
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        item_pointer = pointer_join("/paths", path)
        shared = item.get("parameters")
        if isinstance(shared, list):
            for index, raw in enumerate(shared):
                _scan_parameter(walk, raw, f"{item_pointer}/parameters/{index}", Owner("path-param", path, str(index)))
        content = item.get("x-ms-notification-content")
        if isinstance(content, dict) and "schema" in content:
            _scan_schema(walk, content["schema"], item_pointer + "/x-ms-notification-content/schema",
                         Owner("notification", path, output=True))  # fmt: skip
        for method in HTTP_METHODS:
            raw_op = item.get(method)
            if not isinstance(raw_op, dict):
                continue
            op_pointer = f"{item_pointer}/{method}"
            op_params = raw_op.get("parameters")
            if isinstance(op_params, list):
                owner = Owner("op", path, method)
                for index, raw in enumerate(op_params):
                    _scan_parameter(walk, raw, f"{op_pointer}/parameters/{index}", owner)
            _scan_responses(walk, raw_op.get("responses"), op_pointer + "/responses", Owner("op", path, method, True))
    return walk


def _may_hold_dynamic(ctx: Context) -> bool:
    """False when the definition was read from a text without any dynamic extension in it.

    Most connectors use none, and a substring search of the text is far cheaper than walking
    every schema. The text only counts while it is still the source of the very dict being
    checked; otherwise (a package built in memory) the walk decides.
    """
    document = ctx.package.documents.get(DEFINITION)
    if document is None or document.value is not ctx.doc:
        return True
    return "x-ms-dynamic-" in document.source.text


def _walk(ctx: Context) -> _Walk:
    return ctx.memo("dynamic.walk", lambda: _build_walk(ctx.doc) if _may_hold_dynamic(ctx) else _Walk())


class _Usage:
    """Which operations use each owner; a definition is used by every operation reaching it."""

    def __init__(self, ctx: Context, walk: _Walk) -> None:
        self.ctx = ctx
        self.walk = walk
        self._cache: dict[Owner, list[Use]] = {}
        self._definitions: dict[str, list[Use]] | None = None
        self._by_path: dict[str, list[Operation]] = {}
        for op in ctx.operations:
            self._by_path.setdefault(op.path, []).append(op)

    def of(self, owner: Owner) -> list[Use]:
        if owner.kind == "definition":
            return self._definition_uses().get(owner.name, [])
        cached = self._cache.get(owner)
        if cached is None:
            cached = self._cache[owner] = self._direct(owner)
        return cached

    def _direct(self, owner: Owner) -> list[Use]:
        ops = self._by_path.get(owner.name, []) if owner.kind in ("op", "path-param", "notification") else []
        if owner.kind == "op":
            return [Use(op, owner.output) for op in ops if op.method == owner.slot]
        if owner.kind == "path-param":
            where = f"{pointer_join('/paths', owner.name)}/parameters/{owner.slot}"
            return [Use(op, False) for op in ops if any(p.pointer == where for p in op.parameters)]
        if owner.kind == "notification":
            triggers = [op for op in ops if op.is_trigger] or ops
            return [Use(op, True) for op in triggers]
        if owner.kind == "root-param":
            where = pointer_join("/parameters", owner.name)
            return [Use(op, False) for op in self.ctx.operations if any(p.pointer == where for p in op.parameters)]
        if owner.kind == "root-response":
            ref = "#" + pointer_join("/responses", owner.name)
            return [
                Use(op, True)
                for op in self.ctx.operations
                if any(isinstance(r, dict) and r.get("$ref") == ref for r in op.responses.values())
            ]
        return []

    def _definition_uses(self) -> dict[str, list[Use]]:
        if self._definitions is not None:
            return self._definitions
        graph = {o.name: refs for o, refs in self.walk.refs.items() if o.kind == "definition"}
        reach: dict[str, set[str]] = {}

        def reached(start: str) -> set[str]:
            found = reach.get(start)
            if found is None:
                found = {start}
                todo = [start]
                while todo:
                    for target in graph.get(todo.pop(), ()):
                        if target not in found:
                            found.add(target)
                            todo.append(target)
                reach[start] = found
            return found

        uses: dict[str, dict[tuple[str, bool], Use]] = {}
        for owner, refs in self.walk.refs.items():
            if owner.kind == "definition" or not refs:
                continue
            owner_uses = self.of(owner)
            for name in {d for ref in refs for d in reached(ref)}:
                bucket = uses.setdefault(name, {})
                for use in owner_uses:
                    bucket.setdefault((use.op.pointer, use.output), use)
        self._definitions = {name: list(bucket.values()) for name, bucket in uses.items()}
        return self._definitions


# --------------------------------------------------------------------------- schemas


class _Schemas:
    """Reads schemas through ``$ref`` and ``allOf``, with cycle protection and per-run caches."""

    def __init__(self, swagger: Swagger) -> None:
        self.swagger = swagger
        self._properties: dict[int, dict[str, Any]] = {}
        self._required: dict[int, set[str]] = {}

    def deref(self, node: Any) -> dict[str, Any] | None:
        target, _ = self.swagger.deref(node, "")
        return target if isinstance(target, dict) else None

    def _parts(self, schema: dict[str, Any]) -> list[dict[str, Any]]:
        """``schema`` and, depth first, every schema it includes through ``allOf``."""
        out: list[dict[str, Any]] = []
        seen: set[int] = set()
        todo = [schema]
        while todo:
            current = todo.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            out.append(current)
            all_of = current.get("allOf")
            if isinstance(all_of, list):
                for part in reversed(all_of):
                    resolved = self.deref(part)
                    if resolved is not None:
                        todo.append(resolved)
        return out

    def properties(self, schema: dict[str, Any]) -> dict[str, Any]:
        cached = self._properties.get(id(schema))
        if cached is None:
            cached = {}
            for part in reversed(self._parts(schema)):
                props = part.get("properties")
                if isinstance(props, dict):
                    cached.update(props)
            self._properties[id(schema)] = cached
        return cached

    def required(self, schema: dict[str, Any]) -> set[str]:
        cached = self._required.get(id(schema))
        if cached is None:
            cached = set()
            for part in self._parts(schema):
                names = part.get("required")
                if isinstance(names, list):
                    cached.update(str(n) for n in names)
            self._required[id(schema)] = cached
        return cached

    def type_of(self, node: Any) -> str | None:
        schema = self.deref(node)
        if schema is None:
            return None
        for part in self._parts(schema):
            value = part.get("type")
            if isinstance(value, list):
                value = next((v for v in value if v != "null"), None)
            if isinstance(value, str) and value:
                return value
        if self.properties(schema):
            return "object"
        if "items" in schema:
            return "array"
        return None

    @staticmethod
    def is_dynamic(schema: dict[str, Any]) -> bool:
        return SCHEMA in schema or PROPERTIES in schema

    def child(self, node: Any, name: str) -> tuple[str, Any]:
        """The property ``name`` of the object schema ``node``: FOUND, MISSING or UNKNOWN (open or
        dynamic schemas, whose properties are not all written down)."""
        schema = self.deref(node)
        if schema is None or self.is_dynamic(schema):
            return UNKNOWN, None
        props = self.properties(schema)
        if name in props:
            return FOUND, props[name]
        folded = name.lower()  # the designer matches property names regardless of case
        for key, value in props.items():
            if str(key).lower() == folded:
                return FOUND, value
        parts = self._parts(schema)
        if any(p.get("additionalProperties") not in (None, False) for p in parts):
            return UNKNOWN, None
        kind = self.type_of(schema)
        if not props and kind in (None, "object"):
            return UNKNOWN, None
        return MISSING, None

    def walk(self, node: Any, path: str) -> tuple[str, Any]:
        """Follow a ``/``-separated property path (the designer also accepts dots)."""
        status, found = self._walk(node, [s for s in path.split("/") if s])
        if status == MISSING and "." in path:
            dotted = [t for s in path.split("/") for t in s.split(".") if t]
            again = self._walk(node, dotted)
            if again[0] != MISSING:
                return again
        return status, found

    def _walk(self, node: Any, segments: list[str]) -> tuple[str, Any]:
        current = node
        for segment in segments:
            status, current = self.child(current, segment)
            if status != FOUND:
                return status, None
        return FOUND, current

    def items(self, node: Any) -> Any:
        schema = self.deref(node)
        return schema.get("items") if schema is not None else None

    def success_schema(self, op: Operation) -> Any:
        """The schema of the operation's first successful (2xx) response that has one."""
        for code in sorted(str(c) for c in op.responses):
            if not code.startswith("2"):
                continue
            response = self.deref(op.responses.get(code))
            if response is not None and isinstance(response.get("schema"), dict):
                return response["schema"]
        return None


def _schemas(ctx: Context) -> _Schemas:
    return ctx.memo("dynamic.schemas", lambda: _Schemas(ctx.swagger))


# --------------------------------------------------------------------------- parameter references


@dataclass(frozen=True, slots=True)
class Value:
    """What a parameter name or reference designates in an operation (a parameter, or a property
    inside one), with what the checks need to know about it."""

    type: str | None
    required: bool
    has_default: bool
    internal: bool


def _internal(raw: Any) -> bool:
    return isinstance(raw, dict) and str(raw.get("x-ms-visibility", "")).lower() == "internal"


class _Operations:
    """Parameters of operations by name, and property paths into their bodies."""

    def __init__(self, schemas: _Schemas) -> None:
        self.schemas = schemas
        self._by_name: dict[str, dict[str, Parameter]] = {}

    def parameters(self, op: Operation) -> dict[str, Parameter]:
        cached = self._by_name.get(op.pointer)
        if cached is None:
            cached = {}
            for param in op.parameters:
                if param.location != "body":
                    cached.setdefault(param.name, param)
            for param in op.parameters:
                cached.setdefault(param.name, param)
            self._by_name[op.pointer] = cached
        return cached

    def body(self, op: Operation) -> Parameter | None:
        return next((p for p in op.parameters if p.location == "body"), None)

    def parameter_value(self, param: Parameter) -> Value:
        raw = param.raw
        kind = self.schemas.type_of(raw.get("schema")) if param.location == "body" else raw.get("type")
        return Value(str(kind) if kind else None, param.required, "default" in raw, _internal(raw))

    def property_value(self, param: Parameter, segments: list[str]) -> Value | None:
        """The property at ``segments`` inside body parameter ``param``, or ``None``."""
        node = self.schemas.deref(param.raw.get("schema"))
        required = param.required
        internal = _internal(param.raw)
        raw_child: Any = None
        for segment in segments:
            if node is None:
                return None
            internal = internal or _internal(node)
            props = self.schemas.properties(node)
            if segment not in props:
                return None
            required = required and segment in self.schemas.required(node)
            raw_child = props[segment]
            internal = internal or _internal(raw_child)
            node = self.schemas.deref(raw_child)
        if node is None or not segments:
            return None
        internal = internal or _internal(node)
        has_default = "default" in node or (isinstance(raw_child, dict) and "default" in raw_child)
        return Value(self.schemas.type_of(node), required, has_default, internal)

    def filled(self, op: Operation, key: str, legacy: bool = False) -> tuple[Parameter, list[str]] | None:
        """The parameter of ``op`` that a key of a call's ``parameters`` fills, and the property path
        inside it: a parameter name, or ``<parameter>/<property path>`` into a body. Legacy calls
        (``x-ms-dynamic-values``/``-schema``) may also name a body property by its path alone."""
        params = self.parameters(op)
        if key in params:
            return params[key], []
        head, _, rest = key.partition("/")
        param = params.get(head)
        if rest and param is not None and param.location == "body":
            return param, [s for s in rest.split("/") if s]
        body = self.body(op)
        if legacy and body is not None:
            return body, [s for s in key.split("/") if s]
        return None

    def target(self, op: Operation, key: str, legacy: bool = False) -> Value | None:
        """What a key of a call's ``parameters`` designates in the invoked operation ``op``."""
        found = self.filled(op, key, legacy)
        if found is None:
            return None
        param, path = found
        return self.property_value(param, path) if path else self.parameter_value(param)

    def reference(self, op: Operation, ref: str) -> Value | None:
        """A ``parameterReference``: a parameter name, or ``<parameter>/<property path>``."""
        return self.target(op, ref)

    def legacy(self, op: Operation, ref: str) -> tuple[Value | None, Value | None]:
        """A ``{"parameter": …}`` reference of ``x-ms-dynamic-values``/``-schema``: what it names
        as a parameter, and what it names as a property path into the body (either may be None)."""
        params = self.parameters(op)
        as_parameter = self.parameter_value(params[ref]) if ref in params else None
        as_property: Value | None = None
        body = self.body(op)
        if body is not None:
            segments = [s for s in ref.split("/") if s]
            as_property = self.property_value(body, segments)
            if as_property is None and len(segments) > 1 and segments[0] == body.name:
                as_property = self.property_value(body, segments[1:])
        return as_parameter, as_property


# --------------------------------------------------------------------------- calls


@dataclass(slots=True)
class Entry:
    """One entry of a call's ``parameters``: the target input it fills and where its value comes
    from: a ``literal``, a ``reference`` to the caller's inputs, or the ``selected`` item."""

    key: str
    pointer: str
    form: str
    literal: Any = None
    reference: str | None = None
    legacy: bool = False
    selected_key: str | None = None


@dataclass(slots=True)
class Call:
    """A design-time call of another operation, by ``operationId``."""

    kind: str  # the extension, with the sub-object for trees and capabilities (``x-ms-dynamic-tree/open``)
    raw: dict[str, Any]
    pointer: str
    occurrence: Occurrence | None = None
    caller: Operation | None = None  # for extensions written on an operation
    entries: list[Entry] = field(default_factory=list)
    target: Operation | None = None

    @property
    def operation_id(self) -> Any:
        return self.raw.get("operationId")

    @property
    def base(self) -> str:
        return self.kind.split("/", 1)[0]

    @property
    def legacy_keys(self) -> bool:
        """Legacy extensions may name a target body property by its bare path."""
        return self.base in (VALUES, SCHEMA)


def _entries(raw: dict[str, Any], pointer: str) -> list[Entry]:
    params = raw.get("parameters")
    if not isinstance(params, dict):
        return []
    base = pointer + "/parameters"
    out = []
    for key, value in params.items():
        where = pointer_join(base, key)
        key = str(key)
        if isinstance(value, dict) and isinstance(value.get("parameter"), str):
            out.append(Entry(key, where, "reference", reference=value["parameter"], legacy=True))
        elif isinstance(value, dict) and isinstance(value.get("parameterReference"), str):
            out.append(Entry(key, where, "reference", reference=value["parameterReference"]))
        elif isinstance(value, dict) and ("selectedItemValuePath" in value or "value-property" in value):
            selected = "selectedItemValuePath" if "selectedItemValuePath" in value else "value-property"
            out.append(Entry(key, where, "selected", selected_key=selected))
        elif isinstance(value, dict) and "value" in value:
            out.append(Entry(key, where, "literal", literal=value["value"]))
        elif isinstance(value, dict) and ("parameter" in value or "parameterReference" in value):
            out.append(Entry(key, where, "other"))
        else:
            out.append(Entry(key, where, "literal", literal=value))
    return out


def _same_api(ctx: Context, api: Any) -> bool:
    """Whether ``x-ms-api-annotation.replacement.api`` names this connector (by title or folder)."""
    if not isinstance(api, str) or not api:
        return False

    def norm(text: str) -> str:
        return re.sub(r"[^a-z0-9]", "", text.lower())

    names = {norm(ctx.swagger.title)}
    if ctx.package.path is not None:
        names.add(norm(ctx.package.path.name))
    return norm(api) in names - {""}


def _build_calls(ctx: Context) -> list[Call]:
    calls: list[Call] = []
    for occ in _walk(ctx).occurrences:
        if not isinstance(occ.value, dict):
            continue
        if occ.key == TREE:
            for part in ("open", "browse"):
                sub = occ.value.get(part)
                if isinstance(sub, dict):
                    where = f"{occ.pointer}/{part}"
                    calls.append(Call(f"{TREE}/{part}", sub, where, occ, entries=_entries(sub, where)))
        else:
            calls.append(Call(occ.key, occ.value, occ.pointer, occ, entries=_entries(occ.value, occ.pointer)))
    capabilities = ctx.doc.get("x-ms-capabilities")
    if isinstance(capabilities, dict):
        test = capabilities.get("testConnection")
        if isinstance(test, dict):
            where = "/x-ms-capabilities/testConnection"
            calls.append(Call("x-ms-capabilities/testConnection", test, where, entries=_entries(test, where)))
        picker = capabilities.get("file-picker")
        if isinstance(picker, dict):
            for part in ("open", "browse"):
                sub = picker.get(part)
                if isinstance(sub, dict):
                    where = f"/x-ms-capabilities/file-picker/{part}"
                    calls.append(
                        Call(f"x-ms-capabilities/file-picker/{part}", sub, where, entries=_entries(sub, where))
                    )
    for op in ctx.operations:
        raw = op.raw
        notification = raw.get("x-ms-notification")
        if isinstance(notification, dict):
            calls.append(Call("x-ms-notification", notification, op.pointer + "/x-ms-notification", caller=op))
        context = raw.get("x-ms-operation-context")
        simulate = context.get("simulate") if isinstance(context, dict) else None
        if isinstance(simulate, dict):
            where = op.pointer + "/x-ms-operation-context/simulate"
            calls.append(Call("x-ms-operation-context/simulate", simulate, where, caller=op,
                              entries=_entries(simulate, where)))  # fmt: skip
        annotation = raw.get("x-ms-api-annotation")
        replacement = annotation.get("replacement") if isinstance(annotation, dict) else None
        if isinstance(replacement, dict) and _same_api(ctx, replacement.get("api")):
            where = op.pointer + "/x-ms-api-annotation/replacement"
            calls.append(Call("x-ms-api-annotation/replacement", replacement, where, caller=op))
    by_id = ctx.operations_by_id
    for call in calls:
        if isinstance(call.operation_id, str):
            call.target = by_id.get(call.operation_id)
    return calls


def _calls(ctx: Context) -> list[Call]:
    return ctx.memo("dynamic.calls", lambda: _build_calls(ctx))


def _usage(ctx: Context) -> _Usage:
    return ctx.memo("dynamic.usage", lambda: _Usage(ctx, _walk(ctx)))


def _operations(ctx: Context) -> _Operations:
    return ctx.memo("dynamic.operations", lambda: _Operations(_schemas(ctx)))


def _callers(ctx: Context, call: Call) -> list[Operation]:
    """The operations whose inputs the call's references read.

    Lists, values and trees fill an input, so only uses as an input count; a dynamic schema on a
    response or payload is filled from the inputs of the operation it describes.
    """
    if call.caller is not None:
        return [call.caller]
    if call.occurrence is None:
        return []
    dynamic_schema = call.base in (SCHEMA, PROPERTIES)
    return [u.op for u in _usage(ctx).of(call.occurrence.owner) if dynamic_schema or not u.output]


# --------------------------------------------------------------------------- type helpers


_JSON_TYPES = frozenset({"string", "integer", "number", "boolean", "array", "object"})


def _static_fits(target: str, value: Any) -> bool:
    given = _json_type(value)
    if target == given or given == "null" or target not in _JSON_TYPES:
        return True
    if target == "number" and given == "integer":
        return True
    return target == "integer" and isinstance(value, float) and value.is_integer()


def _types_fit(target: str | None, source: str | None) -> bool:
    if target is None or source is None or target == source:
        return True
    return {target, source} <= {"integer", "number"}


def _name(op: Operation) -> str:
    return op.operation_id or f"{op.method.upper()} {op.path}"


def _unique(hits: Iterable[Hit]) -> Iterator[Hit]:
    """One hit per pointer: an extension in a shared schema is checked once per operation using
    it, and the first operation it fails in is the one named."""
    seen: set[str] = set()
    for found in hits:
        if found.pointer not in seen:
            seen.add(found.pointer)
            yield found


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference entry of a call resolved in one calling operation.

    A legacy ``{"parameter": …}`` reference may name a parameter, a body property or both;
    a ``parameterReference`` resolves to ``as_parameter`` only (parameter or property path).
    """

    call: Call
    entry: Entry
    caller: Operation
    as_parameter: Value | None
    as_property: Value | None

    @property
    def source(self) -> Value | None:
        return self.as_parameter or self.as_property


def _build_references(ctx: Context) -> list[Reference]:
    ops = _operations(ctx)
    out: list[Reference] = []
    for call in _calls(ctx):
        refs = [e for e in call.entries if e.form == "reference" and e.reference is not None]
        if not refs:
            continue
        for caller in _callers(ctx, call):
            for entry in refs:
                assert entry.reference is not None
                if entry.legacy:
                    as_parameter, as_property = ops.legacy(caller, entry.reference)
                else:
                    as_parameter, as_property = ops.reference(caller, entry.reference), None
                out.append(Reference(call, entry, caller, as_parameter, as_property))
    return out


def _references(ctx: Context) -> list[Reference]:
    """Every reference entry of every call, resolved in each operation it is read from."""
    return ctx.memo("dynamic.references", lambda: _build_references(ctx))


# --------------------------------------------------------------------------- operationId references


@svr("OperationIdNotFound", on=On.DOCUMENT, severity=Severity.ERROR)
def operation_id_not_found(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """An extension names an ``operationId`` that no operation of this definition has.

    Dynamic values, lists, schemas, properties and trees, the file picker, test connection,
    ``x-ms-notification``, ``x-ms-operation-context`` and an in-connector
    ``x-ms-api-annotation`` replacement all call or point at another operation of the same
    connector by its ``operationId``; a name that matches none leaves the dropdown, picker or
    trigger without anything to call. Names are compared exactly, as the platform does.
    """
    for call in _calls(ctx):
        if isinstance(call.operation_id, str) and call.target is None:
            yield hit(call.pointer + "/operationId")


# --------------------------------------------------------------------------- the call's parameters


@svr("OperationParameterNameNotFound", on=On.DOCUMENT, severity=Severity.ERROR)
def parameter_name_not_found(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A dynamic call names a parameter that the operation does not have.

    Each key of a call's ``parameters`` must be an input of the invoked operation (a parameter
    name, or ``<body parameter>/<property path>``), and each reference (``{"parameter": …}`` or
    ``{"parameterReference": …}``) must name an input of the operation being edited; otherwise
    the designer has nothing to send or nothing to read. The message names the operation in
    which the name is missing.
    """
    ops = _operations(ctx)
    for call in _calls(ctx):
        if call.target is None:
            continue
        for entry in call.entries:
            if ops.target(call.target, entry.key, call.legacy_keys) is None:
                yield hit(entry.pointer, _name(call.target))
    yield from _unique(hit(r.entry.pointer, _name(r.caller)) for r in _references(ctx) if r.source is None)


@svr("OperationMissingRequiredProperty", on=On.DOCUMENT, severity=Severity.ERROR)
def missing_required_property(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A dynamic call leaves out a parameter that the invoked operation requires.

    The designer sends only what the call's ``parameters`` list, plus defaults. A required
    parameter of the invoked operation with no ``default`` that the call does not fill makes
    the lookup request invalid, so the dropdown or schema never loads.
    """
    ops = _operations(ctx)
    for call in _calls(ctx):
        target = call.target
        if target is None or call.kind in ("x-ms-notification", "x-ms-api-annotation/replacement"):
            continue
        given = set()
        for entry in call.entries:
            filled = ops.filled(target, entry.key, call.legacy_keys)
            if filled is not None:
                given.add(filled[0].name)
        for name, param in ops.parameters(target).items():
            if param.required and "default" not in param.raw and name not in given:
                yield hit(call.pointer, name)


@svr("OperationParameterStaticTypeMismatch", on=On.DOCUMENT, severity=Severity.WARNING)
def static_type_mismatch(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A dynamic call gives a fixed value whose JSON type differs from the parameter's type.

    The value is sent as written, so a string where the invoked operation expects a boolean or
    a number where it expects an array reaches the service in the wrong shape. Integers are
    accepted for numbers, and ``null`` for anything.
    """
    ops = _operations(ctx)
    for call in _calls(ctx):
        if call.target is None:
            continue
        for entry in call.entries:
            if entry.form != "literal":
                continue
            target = ops.target(call.target, entry.key, call.legacy_keys)
            if target is not None and target.type and not _static_fits(target.type, entry.literal):
                yield hit(entry.pointer, target.type, _json_type(entry.literal))


@svr("OperationParameterTypeMismatch", on=On.DOCUMENT, severity=Severity.WARNING)
def type_mismatch(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A dynamic call passes one of the caller's inputs to a parameter of a different type.

    The value the user picked or typed is forwarded as it is, so the invoked operation receives
    a value of the wrong type. Integers and numbers are treated as compatible.
    """
    ops = _operations(ctx)

    def found() -> Iterator[Hit]:
        for ref in _references(ctx):
            if ref.call.target is None or ref.source is None:
                continue
            target = ops.target(ref.call.target, ref.entry.key, ref.call.legacy_keys)
            if target is not None and not _types_fit(target.type, ref.source.type):
                yield hit(ref.entry.pointer, target.type, _name(ref.caller), ref.source.type)

    yield from _unique(found())


@svr("OperationParameterRequiredMismatch", on=On.DOCUMENT, severity=Severity.WARNING)
def required_mismatch(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A required parameter of the invoked operation is fed from an optional input of the caller.

    Until the user fills the optional input, the lookup request lacks a required value and
    fails, so the dropdown stays empty. Make the caller's input required, give it a default,
    or make the target parameter optional.
    """
    ops = _operations(ctx)

    def found() -> Iterator[Hit]:
        for ref in _references(ctx):
            source = ref.source
            if ref.call.target is None or source is None or source.required or source.has_default:
                continue
            target = ops.target(ref.call.target, ref.entry.key, ref.call.legacy_keys)
            if target is not None and target.required and not target.has_default:
                yield hit(ref.entry.pointer, _name(ref.caller))

    yield from _unique(found())


@svr("SourcePropertyInternal", on=On.DOCUMENT, severity=Severity.WARNING)
def source_property_internal(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A dynamic call reads a caller input that is ``internal`` (or lies inside an internal one).

    Internal inputs are hidden from the user, so the value the lookup depends on can never be
    chosen in the designer; the call only ever sees the default. Make the input visible, or
    pass the value as a static ``value`` instead of a reference.
    """

    def found() -> Iterator[Hit]:
        for ref in _references(ctx):
            if ref.source is not None and ref.source.internal:
                yield hit(ref.entry.pointer, ref.entry.reference, _name(ref.caller))

    yield from _unique(found())


@svr("SelectedItemValuePathNotAllowedInThisPosition", on=On.DOCUMENT, severity=Severity.ERROR)
def selected_item_value_path(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``selectedItemValuePath`` passes a value of the item selected in a folder tree, so it only
    has a meaning in the ``browse`` call of ``x-ms-dynamic-tree``.

    Anywhere else (the tree's ``open`` call, dynamic values, lists, schemas or properties) there
    is no selected item, and the parameter would be sent empty.
    """
    for call in _calls(ctx):
        if call.kind == f"{TREE}/browse":
            continue
        for entry in call.entries:
            if entry.selected_key == "selectedItemValuePath":
                yield hit(entry.pointer)


# --------------------------------------------------------------------------- ambiguous and body references


def _has_sibling(call: Call, sibling: str) -> bool:
    return call.occurrence is not None and isinstance(call.occurrence.holder.get(sibling), dict)


def _required_sibling(ctx: Context, base: str, sibling: str, ambiguous: bool) -> Iterator[Hit]:
    def found() -> Iterator[Hit]:
        for ref in _references(ctx):
            if ref.call.base != base or not ref.entry.legacy or ref.as_property is None:
                continue
            if (ref.as_parameter is not None) is ambiguous and not _has_sibling(ref.call, sibling):
                yield hit(ref.call.pointer)

    yield from _unique(found())


@svr("DynamicListExtensionRequiredForAmbiguousReferences", on=On.DOCUMENT, severity=Severity.ERROR)
def list_required_for_ambiguous(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``x-ms-dynamic-values`` passes ``{"parameter": "x"}`` where ``x`` is both a parameter of the
    operation and a property of its body, and there is no ``x-ms-dynamic-list`` to say which.

    ``x-ms-dynamic-values`` references by bare name, so the designer cannot tell the two apart.
    ``x-ms-dynamic-list`` uses unambiguous paths (``parameterReference: "body/x"``).
    """
    yield from _required_sibling(ctx, VALUES, LIST, ambiguous=True)


@svr("DynamicListExtensionRequiredForNonParameterReferences", on=On.DOCUMENT, severity=Severity.ERROR)
def list_required_for_properties(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``x-ms-dynamic-values`` passes a property of the body (not a parameter) to the lookup, and
    there is no ``x-ms-dynamic-list``.

    ``x-ms-dynamic-values`` can only reference whole parameters by name; reading a value inside
    a parameter needs the path syntax of ``x-ms-dynamic-list``
    (``{"parameterReference": "body/property"}``), defined next to it.
    """
    yield from _required_sibling(ctx, VALUES, LIST, ambiguous=False)


@svr("DynamicPropertiesExtensionRequiredForAmbiguousReferences", on=On.DOCUMENT, severity=Severity.ERROR)
def properties_required_for_ambiguous(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``x-ms-dynamic-schema`` passes ``{"parameter": "x"}`` where ``x`` is both a parameter of the
    operation and a property of its body, and there is no ``x-ms-dynamic-properties`` to say which.

    Bare names are ambiguous in that case; ``x-ms-dynamic-properties`` references inputs by
    unambiguous paths (``parameterReference: "body/x"``).
    """
    yield from _required_sibling(ctx, SCHEMA, PROPERTIES, ambiguous=True)


@svr("DynamicPropertiesExtensionRequiredForNonParameterReferences", on=On.DOCUMENT, severity=Severity.ERROR)
def properties_required_for_properties(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``x-ms-dynamic-schema`` passes a property of the body (not a parameter) to the lookup, and
    there is no ``x-ms-dynamic-properties``.

    ``x-ms-dynamic-schema`` can only reference whole parameters by name; reading a value inside
    a parameter needs the path syntax of ``x-ms-dynamic-properties``, defined next to it.
    """
    yield from _required_sibling(ctx, SCHEMA, PROPERTIES, ambiguous=False)


@svr("OperationParameterNameIsAmbiguous", on=On.DOCUMENT, severity=Severity.WARNING)
def parameter_name_is_ambiguous(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A ``{"parameter": "x"}`` reference matches both a parameter named ``x`` and the body
    property ``x``.

    Where ``x-ms-dynamic-list`` or ``x-ms-dynamic-properties`` stands next to the legacy
    extension, newer designers follow its unambiguous path, but clients that still read
    ``x-ms-dynamic-values``/``x-ms-dynamic-schema`` may pick the other input. (Without the newer
    extension, the ``…ExtensionRequiredForAmbiguousReferences`` rules report the reference.)
    Renaming one of the two removes the doubt.
    """
    siblings = {VALUES: LIST, SCHEMA: PROPERTIES}

    def found() -> Iterator[Hit]:
        for ref in _references(ctx):
            if not ref.entry.legacy or ref.as_parameter is None or ref.as_property is None:
                continue
            sibling = siblings.get(ref.call.base)
            if sibling is None or _has_sibling(ref.call, sibling):  # else: ...RequiredForAmbiguousReferences
                yield hit(ref.entry.pointer)

    yield from _unique(found())


# --------------------------------------------------------------------------- the invoked operation's response

# (the call's key naming the array, the keys naming a property of each item) per extension
_ARRAY_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    VALUES: ("value-collection", ("value-path", "value-title")),
    LIST: ("itemsPath", ("itemValuePath", "itemTitlePath")),
    f"{TREE}/open": ("itemsPath", ("itemValuePath", "itemTitlePath", "itemFullTitlePath")),
    f"{TREE}/browse": ("itemsPath", ("itemValuePath", "itemTitlePath", "itemFullTitlePath")),
}
# the call's key naming a property of the whole response
_ROOT_PATHS = {SCHEMA: "value-path", PROPERTIES: "itemValuePath"}


def _array(ctx: Context, call: Call) -> tuple[str, Any]:
    """(status, items schema) of the array the call reads from its target's response."""
    assert call.target is not None
    schemas = _schemas(ctx)
    root = schemas.success_schema(call.target)
    if root is None:
        return UNKNOWN, None
    key, _ = _ARRAY_PATHS[call.kind]
    path = call.raw.get(key)
    status, node = schemas.walk(root, path) if isinstance(path, str) else (FOUND, root)
    if status != FOUND:
        return status, None
    resolved = schemas.deref(node)
    if resolved is None or schemas.is_dynamic(resolved):
        return UNKNOWN, None
    kind = schemas.type_of(resolved)
    if kind == "array":
        return FOUND, schemas.items(resolved)
    return (UNKNOWN, None) if kind is None else (MISSING, None)


@svr("InvokedOperationShouldProduceArray", on=On.DOCUMENT, severity=Severity.WARNING)
def invoked_operation_should_produce_array(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A dropdown or tree reads an array from the invoked operation's response at a path where
    its successful response schema has none.

    Dynamic values read ``value-collection`` (lists and trees ``itemsPath``), or the response
    itself when that is not given, and offer one choice per element. If the schema shows no
    array there, the path or the schema is wrong and the dropdown stays empty. Responses whose
    schema is open or dynamic are not judged.
    """
    for call in _calls(ctx):
        if call.target is None or call.kind not in _ARRAY_PATHS:
            continue
        key, _ = _ARRAY_PATHS[call.kind]
        status, _items = _array(ctx, call)
        if status == MISSING:
            path = call.raw.get(key)
            where = f"{call.pointer}/{key}" if key in call.raw else call.pointer
            yield hit(where, path if isinstance(path, str) else "", _name(call.target))


@svr("InvokedOperationShouldProduceProperty", on=On.DOCUMENT, severity=Severity.WARNING)
def invoked_operation_should_produce_property(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A dynamic call reads a property that the invoked operation's successful response schema
    does not define.

    The value and title of each choice (``value-path``/``value-title``, ``itemValuePath``/
    ``itemTitlePath``) are read from each array element, and a dynamic schema from
    ``value-path``/``itemValuePath`` of the response. A path the schema does not have yields
    empty choices or no schema. Open and dynamic schemas are not judged.
    """
    schemas = _schemas(ctx)
    for call in _calls(ctx):
        if call.target is None:
            continue
        checks: list[tuple[str, Any]] = []
        if call.kind in _ARRAY_PATHS:
            status, items = _array(ctx, call)
            if status == FOUND and items is not None:
                checks = [(key, items) for key in _ARRAY_PATHS[call.kind][1]]
        elif call.kind in _ROOT_PATHS:
            root = schemas.success_schema(call.target)
            if root is not None:
                checks = [(_ROOT_PATHS[call.kind], root)]
        for key, base in checks:
            path = call.raw.get(key)
            if isinstance(path, str) and path and schemas.walk(base, path)[0] == MISSING:
                yield hit(f"{call.pointer}/{key}", path, _name(call.target))


# --------------------------------------------------------------------------- schema-local rules


@svr("DynamicExtensionDefinitionNotAllowedInParameter", on=On.PARAMETER, severity=Severity.ERROR,
     keys=DYNAMIC_KEYS)  # fmt: skip
def dynamic_extension_on_body_parameter(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """A body parameter carries a dynamic extension itself instead of in its ``schema``.

    The designer builds the body's inputs from its schema, so dynamic values, lists, schemas,
    properties and trees belong on the schema object (or on one of its properties); written on
    the body parameter they are rejected on import. (Microsoft's JSON schema for connectors
    still lets ``x-ms-dynamic-values`` and ``x-ms-dynamic-list`` through there; the validator
    does not.)
    """
    if node.location != "body":
        return
    for key in DYNAMIC_KEYS:
        if key in node.raw:
            yield hit(f"{node.pointer}/{key}")


def _properties_ending(path: Any) -> bool:
    return isinstance(path, str) and path.rstrip("/").rsplit("/", 1)[-1] == "properties"


@svr("DynamicPropertiesExtensionRequiredForPropertiesValuePath", on=On.SCHEMA, severity=Severity.ERROR,
     keys=(SCHEMA,))  # fmt: skip
def properties_required_for_value_path(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """``x-ms-dynamic-schema`` takes the ``properties`` map of a schema (``value-path`` ends in
    ``properties``) and there is no ``x-ms-dynamic-properties``.

    The newer ``x-ms-dynamic-properties`` expects a path to a whole schema object, which is
    what newer designers read; define it next to the legacy extension, pointing at the schema
    (the same path without the ``properties`` ending).
    """
    dynamic = node.raw.get(SCHEMA)
    if isinstance(dynamic, dict) and _properties_ending(dynamic.get("value-path")) and PROPERTIES not in node.raw:
        yield hit(f"{node.pointer}/{SCHEMA}/value-path")


@svr("DynamicPropertiesItemValuePathMismatch", on=On.SCHEMA, severity=Severity.ERROR, keys=(PROPERTIES,))
def properties_item_value_path_mismatch(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """``x-ms-dynamic-properties`` reads the schema from a different place than the
    ``x-ms-dynamic-schema`` next to it.

    Both describe the same dynamic schema for old and new designers, so ``itemValuePath`` must
    be the ``value-path`` of ``x-ms-dynamic-schema`` without its ``properties`` ending (the
    former points at the schema object, the latter at its properties); otherwise the two
    designers show different fields. (Extensions calling different operations are not compared.)
    """
    legacy = node.raw.get(SCHEMA)
    newer = node.raw.get(PROPERTIES)
    if not isinstance(legacy, dict) or not isinstance(newer, dict):
        return
    if legacy.get("operationId") != newer.get("operationId"):
        return
    value_path = legacy.get("value-path")
    segments = [s for s in value_path.split("/") if s] if isinstance(value_path, str) else []
    if segments and segments[-1] == "properties":
        segments.pop()
    expected = "/".join(segments)
    item_path = newer.get("itemValuePath")
    actual = item_path.strip("/") if isinstance(item_path, str) else ""
    if actual != expected:
        where = f"{node.pointer}/{PROPERTIES}" + ("/itemValuePath" if "itemValuePath" in newer else "")
        yield hit(where, expected)


@svr("DynamicTreeExtensionMissing", on=On.DOCUMENT, severity=Severity.ERROR)
def dynamic_tree_missing(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """``x-ms-dynamic-values`` asks for the file picker (``capability: file-picker``) but the
    input has no ``x-ms-dynamic-tree``.

    Newer designers draw folder pickers from ``x-ms-dynamic-tree`` (``open``/``browse`` calls
    and settings); the legacy capability alone gives them nothing to browse with.
    """
    for occ in _walk(ctx).occurrences:
        picker = occ.key == VALUES and isinstance(occ.value, dict) and occ.value.get("capability") == "file-picker"
        if picker and TREE not in occ.holder:
            yield hit(occ.pointer)


# --------------------------------------------------------------------------- fetch and subscribe


def _trigger_inputs(ctx: Context, op: Operation) -> dict[str, tuple[Any, str, str]]:
    """Inputs a trigger shows by name: non-body parameters and top-level body properties, as
    (type, visibility, pointer)."""
    schemas = _schemas(ctx)
    out: dict[str, tuple[Any, str, str]] = {}
    for param in op.parameters:
        if param.location == "body":
            body = schemas.deref(param.raw.get("schema"))
            if body is None:
                continue
            for name, raw in schemas.properties(body).items():
                resolved = schemas.deref(raw)
                if resolved is None or resolved.get("x-ms-notification-url") is True:
                    continue
                visibility = (
                    raw.get("x-ms-visibility", resolved.get("x-ms-visibility")) if isinstance(raw, dict) else None
                )
                out.setdefault(str(name), (schemas.type_of(resolved), str(visibility or "").lower(), ""))
        else:
            visibility = str(param.raw.get("x-ms-visibility") or "").lower()
            out[param.name] = (param.raw.get("type"), visibility, param.pointer)
    return out


@svr("ParamtersWithSameNameMustHaveSameTypeAndVisibility", on=On.OPERATION, severity=Severity.ERROR,
     keys=("x-ms-notification",))  # fmt: skip
def fetch_and_subscribe_parameters(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A polling trigger and the webhook operation it names in ``x-ms-notification`` have a
    parameter of the same name with a different type or visibility.

    The designer shows one set of trigger inputs and passes them to both the fetch (polling)
    and the subscribe (webhook) operation, so an input both have must be the same input: same
    type, same ``x-ms-visibility``.
    """
    notification = op.raw.get("x-ms-notification")
    target_id = notification.get("operationId") if isinstance(notification, dict) else None
    target = ctx.operations_by_id.get(target_id) if isinstance(target_id, str) else None
    if target is None or target.pointer == op.pointer:
        return
    subscribe = _trigger_inputs(ctx, target)
    for name, (kind, visibility, where) in _trigger_inputs(ctx, op).items():
        other = subscribe.get(name)
        if other is None or not where:
            continue
        if (kind and other[0] and kind != other[0]) or visibility != other[1]:
            yield hit(where)
