"""Swagger Validator rules on responses, schema references and schema sizes (section "Response").

Reference rules split the work so that one defect gives one finding: a ``$ref`` whose JSON
pointer is malformed is ``JsonPointerNotValid``; a well-formed one that points outside
``#/definitions/`` (or ``#/responses/``) is ``…ReferenceNotValid``; a well-formed one that points
nowhere is ``…ReferenceNotFound``. Parameter references belong to the Parameters rules.

Schema counts expand ``$ref``s, as Microsoft's service does (a definition that merely references
large definitions is reported, see PowerPlatformConnectors issue #1088). Each definition is
counted once and memoised; a reference back into a definition that is being counted (a
recursive schema) counts as one schema and is not expanded again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import escape_pointer_token, pointer_join
from connectorkit.definition.swagger import HTTP_METHODS, Operation, Swagger
from connectorkit.lint.engine import Context, ParameterNode, ResponseNode, SchemaNode
from connectorkit.lint.registry import Hit, On, hit, svr

MAX_BODY_SCHEMAS = 512
MAX_SCHEMAS_PER_OPERATION = 16_384
WEBSOCKET_SCHEMES = ("ws", "wss")
DEFINITIONS_PREFIX = "#/definitions/"
RESPONSES_PREFIX = "#/responses/"
_STATUS_CODE = re.compile(r"[1-5][0-9][0-9]")
_BAD_TILDE = re.compile(r"~(?![01])")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_MAX_REF_DEPTH = 256  # deeper $ref chains are not expanded further when counting


def _op_name(op: Operation) -> str:
    return op.operation_id or f"{op.method.upper()} {op.path}"


# --------------------------------------------------------------------------- references


def pointer_is_valid(ref: str) -> bool:
    """Whether a local ``$ref`` (``#…``) is a well-formed JSON pointer in URI fragment form.

    RFC 6901: the fragment is empty or starts with ``/``; ``~`` is only valid as ``~0`` or
    ``~1``; and as a URI fragment, ``%`` must start a two-digit hex escape. References that do
    not start with ``#`` are URIs to other documents, not local pointers.
    """
    if not ref.startswith("#"):
        return True
    fragment = ref[1:]
    if fragment and not fragment.startswith("/"):
        return False
    if _BAD_PERCENT.search(fragment):
        return False
    return not _BAD_TILDE.search(unquote(fragment))


def resolve(swagger: Swagger, ref: str) -> Any:
    """The node a local ``$ref`` points to (URI-fragment escapes decoded), or ``None``."""
    if "%" in ref and ref.startswith("#"):
        ref = "#" + unquote(ref[1:])
    return swagger.resolve(ref)


def _resolved(ctx: Context, ref: str) -> Any:
    cache: dict[str, Any] = ctx.memo("responses.resolved", dict)
    if ref not in cache:
        cache[ref] = resolve(ctx.swagger, ref)
    return cache[ref]


def _definition_name(ref: str) -> str | None:
    """``X`` for ``#/definitions/X`` (or a pointer below it), else ``None``."""
    if not ref.startswith(DEFINITIONS_PREFIX):
        return None
    token = ref[len(DEFINITIONS_PREFIX) :].split("/", 1)[0]
    token = unquote(token) if "%" in token else token
    return token.replace("~1", "/").replace("~0", "~")


@svr("JsonPointerNotValid", on=On.SCHEMA, severity=Severity.ERROR, keys=("$ref",))
def json_pointer_not_valid(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A schema's ``$ref`` is not a well-formed JSON pointer, so it cannot be followed at all.

    Local references are URI fragments holding an RFC 6901 pointer: ``#/definitions/Name``.
    ``#definitions/Name`` (no slash after ``#``), a ``~`` not written as ``~0`` or ``~1``, or a
    ``%`` that does not start a hex escape make the pointer unreadable. (Response references
    with a malformed pointer are reported by ResponseReferenceNotValid.)
    """
    ref = node.raw.get("$ref")
    if isinstance(ref, str) and not pointer_is_valid(ref):
        yield hit(node.pointer + "/$ref")


@svr("SchemaReferenceNotValid", on=On.SCHEMA, severity=Severity.ERROR, keys=("$ref",))
def schema_reference_not_valid(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A schema may only reference a definition of the same document, ``#/definitions/Name``.

    The platform reads one self-contained file: references to other files or URLs, and
    references to other sections (``#/parameters/…``), cannot be resolved into a schema.
    """
    ref = node.raw.get("$ref")
    if isinstance(ref, str) and pointer_is_valid(ref) and not ref.startswith(DEFINITIONS_PREFIX):
        yield hit(node.pointer + "/$ref", ref)


@svr("SchemaReferenceNotFound", on=On.SCHEMA, severity=Severity.ERROR, keys=("$ref",))
def schema_reference_not_found(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A schema references a definition that the document does not have (often a typo or a
    definition that was renamed or removed), so the schema cannot be built."""
    ref = node.raw.get("$ref")
    if (
        isinstance(ref, str)
        and ref.startswith(DEFINITIONS_PREFIX)
        and pointer_is_valid(ref)
        and _resolved(ctx, ref) is None
    ):
        yield hit(node.pointer + "/$ref", ref)


@svr("SchemaRefLoopNotAllowed", on=On.SCHEMA, severity=Severity.ERROR, keys=("$ref",))
def schema_ref_loop(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """A definition may not be only a ``$ref`` to another definition.

    Such aliases add nothing, and chains of them can loop (A is B, B is A), leaving no schema at
    all. Reference the target definition directly where the alias is used.
    """
    if node.role != "definition" or node.parent is not None:
        return
    ref = node.raw.get("$ref")
    if isinstance(ref, str) and _definition_name(ref) is not None and isinstance(_resolved(ctx, ref), dict):
        yield hit(node.pointer)


@svr("ResponseReferenceNotValid", on=On.RESPONSE, severity=Severity.ERROR, keys=("$ref",))
def response_reference_not_valid(ctx: Context, node: ResponseNode) -> Iterator[Hit]:
    """A response may only reference a shared response of the same document,
    ``#/responses/Name``, written as a well-formed JSON pointer."""
    ref = node.raw.get("$ref")
    if isinstance(ref, str) and (not ref.startswith(RESPONSES_PREFIX) or not pointer_is_valid(ref)):
        yield hit(node.pointer + "/$ref", ref)


@svr("ResponseReferenceNotFound", on=On.RESPONSE, severity=Severity.ERROR, keys=("$ref",))
def response_reference_not_found(ctx: Context, node: ResponseNode) -> Iterator[Hit]:
    """A response references a shared response (``#/responses/Name``) that the document does
    not define, so the operation's response cannot be built."""
    ref = node.raw.get("$ref")
    if (
        isinstance(ref, str)
        and ref.startswith(RESPONSES_PREFIX)
        and pointer_is_valid(ref)
        and _resolved(ctx, ref) is None
    ):
        yield hit(node.pointer + "/$ref", ref)


# --------------------------------------------------------------------------- responses


@svr("ResponseMustBeDefaultOrHttpStatusCode", on=On.RESPONSE, severity=Severity.ERROR)
def response_code_not_valid(ctx: Context, node: ResponseNode) -> Iterator[Hit]:
    """An operation's responses are keyed by HTTP status code (100 to 599) or ``default``.

    Other keys, such as ``2XX``, ``ok`` or ``20``, cannot be matched to a response, so the
    platform rejects them. Vendor extensions (``x-…``) are allowed.
    """
    if node.operation is None:
        return
    code = node.code
    if code == "default" or code.startswith("x-") or _STATUS_CODE.fullmatch(code):
        return
    yield hit(node.pointer)


@svr("DefaultResponseHasSchema", on=On.RESPONSE, severity=Severity.WARNING, keys=("schema", "$ref"))
def default_response_has_schema(ctx: Context, node: ResponseNode) -> Iterator[Hit]:
    """The ``default`` response describes unexpected outcomes (usually errors); the designer
    builds an operation's outputs from its expected responses, so a schema belongs on those.

    The certification pipeline reports this as an error for new submissions (PRs #3810, #3841,
    #4181), but many certified connectors were accepted with it and the maker portal imports
    it, so it is a warning here.
    """
    if node.operation is None or node.code != "default":
        return
    target = node.raw
    ref = node.raw.get("$ref")
    if isinstance(ref, str):
        target = _resolved(ctx, ref)
    if isinstance(target, dict) and "schema" in target:
        yield hit(node.pointer)


@svr("ResponseHeadersAreNotUnique", on=On.RESPONSE, severity=Severity.ERROR, keys=("headers",))
def response_headers_not_unique(ctx: Context, node: ResponseNode) -> Iterator[Hit]:
    """HTTP header names are case-insensitive, so two response headers whose names differ only
    in case (``X-Total`` and ``x-total``) describe the same header twice."""
    headers = node.raw.get("headers")
    if not isinstance(headers, dict) or len(headers) < 2:
        return
    seen: set[str] = set()
    for name in headers:
        folded = str(name).lower()
        if folded in seen:
            yield hit(pointer_join(node.pointer + "/headers", name))
        seen.add(folded)


def _media_type(value: Any) -> str:
    return str(value).split(";", 1)[0].strip().lower()


def _produced(media: str, produces: list[str]) -> bool:
    for entry in produces:
        if entry in ("*/*", media):
            return True
        if entry.endswith("/*") and media.startswith(entry[:-1]):
            return True
    return False


@svr("ResponseExampleMustBeProducedByOperation", on=On.RESPONSE, severity=Severity.ERROR, keys=("examples",))
def response_example_not_produced(ctx: Context, node: ResponseNode) -> Iterator[Hit]:
    """Response ``examples`` are keyed by MIME type, and each must be a type the operation
    ``produces``; an example in a type the operation never returns cannot be right.

    The operation's own ``produces`` wins over the document's; when neither is given, the
    platform's default, ``application/json``, applies.
    """
    op = node.operation
    examples = node.raw.get("examples")
    if op is None or not isinstance(examples, dict):
        return
    declared = op.raw.get("produces") if "produces" in op.raw else ctx.doc.get("produces")
    if not isinstance(declared, list):
        declared = ["application/json"]
    produces = [_media_type(entry) for entry in declared]
    for key in examples:
        if not _produced(_media_type(key), produces):
            yield hit(pointer_join(node.pointer + "/examples", key), key, _op_name(op))


def _has_schema(ctx: Context, response: Any) -> bool:
    if isinstance(response, dict) and isinstance(response.get("$ref"), str):
        response = _resolved(ctx, response["$ref"])
    return isinstance(response, dict) and isinstance(response.get("schema"), dict)


@svr("SchemaDefinitionSetIncorrectly", on=On.OPERATION, severity=Severity.WARNING, keys=("x-ms-trigger",))
def trigger_output_schema_missing(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A trigger's outputs are what a flow uses next, and the designer builds them from the
    schema of the 200 or 201 response or, for a webhook, of ``x-ms-notification-content``.

    Without one the trigger shows no dynamic content. A webhook trigger that has no
    ``x-ms-notification-content`` at all is left to OperationMustHaveNotificationContentExtension.
    """
    if not op.is_trigger:
        return
    responses = op.responses
    if any(_has_schema(ctx, responses.get(code)) for code in ("200", "201")):
        return
    content = op.path_item.get("x-ms-notification-content")
    if content is None and op.trigger_kind == "webhook":
        return
    if _has_schema(ctx, content):
        return
    yield hit(op.pointer, _op_name(op))


# --------------------------------------------------------------------------- parameters


@svr("BodyParameterSchemaRequired", on=On.PARAMETER, severity=Severity.ERROR, keys=("in",))
def body_parameter_schema_required(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """A body parameter's shape is given by its ``schema``; without one the designer has no
    inputs to show and the platform rejects the definition."""
    if node.location == "body" and not node.is_ref and "schema" not in node.raw:
        yield hit(node.pointer)


@svr("NonBodyParameterSchemaNotValid", on=On.PARAMETER, severity=Severity.ERROR, keys=("schema",))
def non_body_parameter_schema(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """Only a body parameter has a ``schema``: path, query, header and form parameters are
    described by ``type``, ``format`` and ``items`` themselves."""
    if node.location != "body" and not node.is_ref:
        yield hit(node.pointer + "/schema")


# --------------------------------------------------------------------------- schemas


def _is_file(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    return kind == "file" or (isinstance(kind, list) and "file" in kind)


@svr("SchemaTypeFileNotValid", on=On.SCHEMA, severity=Severity.ERROR, keys=("type", "$ref"))
def schema_type_file(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """``type: file`` stands for raw file content: it is valid for a ``formData`` parameter and
    as the whole response body, but not inside an object, an array or a request body schema.

    A definition of type file is allowed as long as it is only used as a whole response; a
    ``$ref`` to it anywhere else is reported where it is used.
    """
    ref = node.raw.get("$ref")
    if ref is None and not _is_file(node.raw):
        return
    if node.role == "response" and node.parent is None:
        return
    if isinstance(ref, str):
        if _is_file(_resolved(ctx, ref)):
            yield hit(node.pointer + "/$ref")
        return
    if node.role == "definition" and node.parent is None:
        return
    if _is_file(node.raw):
        yield hit(node.pointer + "/type")


@svr("InvalidCustomEditorExtensionDictionaryValue", on=On.SCHEMA, severity=Severity.ERROR, keys=("x-ms-editor",))
def editor_dictionary(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """The dictionary editor lets users enter key/value pairs, which only fits an object whose
    keys are free: ``type: object`` with ``additionalProperties`` set to ``true`` or a schema."""
    if str(node.raw.get("x-ms-editor")).lower() != "dictionary":
        return
    additional = node.raw.get("additionalProperties")
    if node.raw.get("type") == "object" and (additional is True or isinstance(additional, dict)):
        return
    yield hit(node.pointer + "/x-ms-editor")


# --------------------------------------------------------------------------- schema counts


@dataclass(frozen=True, slots=True)
class _Root:
    """A schema written where it starts: a definition, a body, a response or a webhook payload.

    ``at`` is the path of keys to it; the pointer is only built for roots that are reported.
    """

    at: tuple[str | int, ...]
    schema: dict[str, Any]
    definition: bool = False

    @property
    def pointer(self) -> str:
        return "".join("/" + escape_pointer_token(str(token)) for token in self.at)

    @property
    def is_ref(self) -> bool:
        return "$ref" in self.schema


_CHILD_KEYS = frozenset(("properties", "items", "allOf", "additionalProperties"))


@dataclass
class _Counter:
    """Schema counts with ``$ref``s expanded, memoised per reference."""

    swagger: Swagger
    by_ref: dict[str, int] = field(default_factory=dict)
    open: set[str] = field(default_factory=set)

    def count(self, schema: Any) -> int:
        if not isinstance(schema, dict):
            return 0
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self.count_ref(ref)
        if _CHILD_KEYS.isdisjoint(schema):
            return 1
        count = self.count
        total = 1
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for child in properties.values():
                total += count(child)
        items = schema.get("items")
        if isinstance(items, dict):
            total += count(items)
        elif isinstance(items, list):
            for child in items:
                total += count(child)
        all_of = schema.get("allOf")
        if isinstance(all_of, list):
            for child in all_of:
                total += count(child)
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            total += count(additional)
        return total

    def count_root(self, root: _Root) -> int:
        if root.definition:
            # through its reference, so that a recursive definition stops at itself
            return self.count_ref("#" + root.pointer)
        return self.count(root.schema)

    def count_ref(self, ref: str) -> int:
        known = self.by_ref.get(ref)
        if known is not None:
            return known
        if ref in self.open or len(self.open) >= _MAX_REF_DEPTH:
            return 1  # a recursive reference: counted once, not expanded again
        target = resolve(self.swagger, ref)
        if not isinstance(target, dict):
            return 1
        self.open.add(ref)
        try:
            total = self.count(target)
        finally:
            self.open.discard(ref)
        self.by_ref[ref] = total
        return total


def _body_schema(param: Any) -> dict[str, Any] | None:
    if isinstance(param, dict) and param.get("in") == "body":
        schema = param.get("schema")
        if isinstance(schema, dict):
            return schema
    return None


def _add_parameters(roots: list[_Root], params: Any, at: tuple[str | int, ...]) -> None:
    if isinstance(params, list):
        for index, param in enumerate(params):
            schema = _body_schema(param)
            if schema is not None:
                roots.append(_Root((*at, index, "schema"), schema))


def _add_responses(roots: list[_Root], responses: Any, at: tuple[str | int, ...]) -> None:
    if isinstance(responses, dict):
        for code, response in responses.items():
            if isinstance(response, dict):
                schema = response.get("schema")
                if isinstance(schema, dict):
                    roots.append(_Root((*at, code, "schema"), schema))


def schema_roots(doc: dict[str, Any]) -> list[_Root]:
    """Every schema of the document where it starts, in document order of the sections."""
    roots: list[_Root] = []
    definitions = doc.get("definitions")
    if isinstance(definitions, dict):
        for name, schema in definitions.items():
            if isinstance(schema, dict):
                roots.append(_Root(("definitions", name), schema, definition=True))
    parameters = doc.get("parameters")
    if isinstance(parameters, dict):
        for name, param in parameters.items():
            schema = _body_schema(param)
            if schema is not None:
                roots.append(_Root(("parameters", name, "schema"), schema))
    _add_responses(roots, doc.get("responses"), ("responses",))
    paths = doc.get("paths")
    if isinstance(paths, dict):
        for path, item in paths.items():
            if not isinstance(item, dict):
                continue
            _add_parameters(roots, item.get("parameters"), ("paths", path, "parameters"))
            content = item.get("x-ms-notification-content")
            if isinstance(content, dict) and isinstance(content.get("schema"), dict):
                roots.append(_Root(("paths", path, "x-ms-notification-content", "schema"), content["schema"]))
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    _add_parameters(roots, op.get("parameters"), ("paths", path, method, "parameters"))
                    _add_responses(roots, op.get("responses"), ("paths", path, method, "responses"))
    return roots


def schema_counts(ctx: Context) -> list[tuple[_Root, int]]:
    """Each schema root with its expanded schema count, computed once per run."""

    def build() -> list[tuple[_Root, int]]:
        counter = _Counter(ctx.swagger)
        return [(root, counter.count_root(root)) for root in schema_roots(ctx.doc)]

    counts: list[tuple[_Root, int]] = ctx.memo("responses.schema_counts", build)
    return counts


@svr("BodySchemaCountExceedsMaxAllowed", on=On.DOCUMENT, severity=Severity.ERROR)
def body_schema_count(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A single body may hold at most 512 schemas, counting every property, array item and
    ``allOf`` part, with ``$ref``s expanded; the platform refuses to save larger ones.

    Definitions are counted too (the maker portal reports them as ``definitions/Name``). A body
    that is only a ``$ref`` is reported at the definition it references. Recursive references
    count once.
    """
    for root, count in schema_counts(ctx):
        if count > MAX_BODY_SCHEMAS and not root.is_ref:
            yield hit(root.pointer, MAX_BODY_SCHEMAS)


@svr("TotalSchemaCountExceedsMaxAllowed", on=On.DOCUMENT, severity=Severity.ERROR)
def total_schema_count(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A definition's schemas are limited in total, to 16,384 schemas per operation
    (Custom Connector FAQ), so a file cannot carry far more schema than its operations
    can use.

    Every schema counts where it is written, and again, expanded, wherever a ``$ref`` uses it;
    unused definitions count too. The limit applied is the number of operations in the file (at
    least one) times 16,384. Read with the FAQ's maximum of 256 operations it would be
    4,194,304, which no file reaches without first breaking the per-body or per-operation limit.
    """
    limit = max(len(ctx.operations), 1) * MAX_SCHEMAS_PER_OPERATION
    total = sum(count for _, count in schema_counts(ctx))
    if total > limit:
        yield hit("", limit)


# --------------------------------------------------------------------------- required loops


def _required_refs(schema: Any, out: set[str], depth: int = 0) -> None:
    """Definitions that any valid instance of ``schema`` must contain an instance of."""
    if not isinstance(schema, dict) or depth > 64:
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = _definition_name(ref)
        if name is not None and "/" not in ref[len(DEFINITIONS_PREFIX) :]:
            out.add(name)
        return
    all_of = schema.get("allOf")
    if isinstance(all_of, list):
        for part in all_of:
            _required_refs(part, out, depth + 1)
    required = schema.get("required")
    properties = schema.get("properties")
    if isinstance(required, list) and isinstance(properties, dict):
        for name in required:
            if isinstance(name, str) and name in properties:
                _required_refs(properties[name], out, depth + 1)
    min_items = schema.get("minItems")
    if isinstance(min_items, int) and not isinstance(min_items, bool) and min_items > 0:
        items = schema.get("items")
        if isinstance(items, dict):
            _required_refs(items, out, depth + 1)


def _cyclic_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(component)
    return found


@svr("RequiredLoopInSchemaNotAllowed", on=On.DOCUMENT, severity=Severity.ERROR, keys=("definitions",))
def required_loop(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Definitions that require each other in a loop (A has a required property of type B, and
    B one of type A) describe an object that can never be finished: every valid A must contain a
    B, which must contain an A, without end.

    The loop is followed through required properties, ``allOf`` parts and arrays that must not
    be empty (``minItems`` of at least 1). Make one link of the loop optional. The finding is at
    the first definition of the loop in the document.
    """
    definitions = ctx.doc.get("definitions")
    if not isinstance(definitions, dict):
        return
    graph: dict[str, set[str]] = {}
    for name, schema in definitions.items():
        targets: set[str] = set()
        # an alias ({"$ref": ...} alone) is SchemaRefLoopNotAllowed's finding, not a required loop
        if isinstance(schema, dict) and "$ref" not in schema:
            _required_refs(schema, targets)
        graph[str(name)] = targets
    order = {name: position for position, name in enumerate(graph)}
    for component in _cyclic_components(graph):
        first = min(component, key=order.__getitem__)
        yield hit(pointer_join("/definitions", first))


# --------------------------------------------------------------------------- document


@svr("SchemeNotSupported", on=On.DOCUMENT, severity=Severity.ERROR, keys=("schemes",))
def websocket_scheme(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Connectors call their API over HTTP or HTTPS request by request; WebSocket (``ws``,
    ``wss``) connections are not supported."""
    schemes = ctx.doc.get("schemes")
    if isinstance(schemes, list):
        for index, scheme in enumerate(schemes):
            if isinstance(scheme, str) and scheme.lower() in WEBSOCKET_SCHEMES:
                yield hit(f"/schemes/{index}")
