"""Swagger Validator rules on operations (part 2) and on webhooks.

Covers the operation rules about parameters lists, ``consumes`` and form data, response schemas,
operation versioning (``x-ms-api-annotation`` families, revisions, status, replacement), webhook
triggers (``x-ms-notification``, ``x-ms-notification-content``) and the notification URL
property (``x-ms-notification-url``).

Indexes that need the whole document (operation families, what a webhook body reaches, schema
counts) are built once per run with ``ctx.memo``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import escape_pointer_token, pointer_join
from connectorkit.definition.swagger import HTTP_METHODS, Operation, Parameter, Swagger
from connectorkit.lint.engine import Context, ParameterNode, PathItemNode, SchemaNode
from connectorkit.lint.registry import Hit, On, hit, svr

MAX_SCHEMAS_PER_OPERATION = 16_384
MULTIPART = "multipart/form-data"
URL_ENCODED = "application/x-www-form-urlencoded"
FORM_TYPES = (MULTIPART, URL_ENCODED)
# Connector string guidance: "There should be no slash ('/') in the name" (the operation summary).
RESTRICTED_SUMMARY_CHARACTERS = "/"
ANNOTATION = "x-ms-api-annotation"
NOTIFICATION = "x-ms-notification"
NOTIFICATION_CONTENT = "x-ms-notification-content"
NOTIFICATION_URL = "x-ms-notification-url"
_SUBSCHEMA_KEYS = frozenset({"items", "allOf", "anyOf", "oneOf", "additionalProperties"})
_TEMPLATE_VARIABLE = re.compile(r"\{[^{}/]*\}")
_MEMO = "operations_more."


def _op_name(op: Operation) -> str:
    return op.operation_id or f"{op.method.upper()} {op.path}"


def _written_pointer(pointer: str, index: int) -> str:
    return f"{pointer}/{index}"


# --------------------------------------------------------------------------- parameters lists


def _duplicates(swagger: Swagger, raw: Any, pointer: str) -> Iterator[tuple[int, int, Parameter]]:
    """(earlier index, later index, later parameter) for entries sharing a name and a location."""
    seen: dict[tuple[str, str], int] = {}
    if not isinstance(raw, list):
        return
    for index, entry in enumerate(raw):
        target, _ = swagger.deref(entry, f"{pointer}/{index}")
        if not isinstance(target, dict) or "$ref" in target or "name" not in target or "in" not in target:
            continue
        key = (str(target.get("name")), str(target.get("in")))
        if key in seen:
            yield seen[key], index, Parameter(target, f"{pointer}/{index}")
        else:
            seen[key] = index


def _same_entry(swagger: Swagger, first: Any, second: Any) -> bool:
    """The two entries of a parameters list are the very same parameter (equal objects or targets)."""
    if first == second:
        return True
    return bool(swagger.deref(first, "")[0] == swagger.deref(second, "")[0])


@svr("OperationParametersAreNotUnique", on=On.OPERATION, severity=Severity.ERROR, keys=("parameters",))
def operation_parameters_not_unique(ctx: Context, op: Operation) -> Iterator[Hit]:
    """The operation's ``parameters`` list holds the same parameter twice (the same ``$ref`` or
    two identical objects).

    Swagger requires the items of a parameters list to be unique; a repeated entry is a copy and
    paste slip that the platform rejects. Remove the second entry.
    """
    raw = op.raw.get("parameters")
    if not isinstance(raw, list):
        return
    pointer = op.pointer + "/parameters"
    for first, second, _ in _duplicates(ctx.swagger, raw, pointer):
        if _same_entry(ctx.swagger, raw[first], raw[second]):
            yield hit(_written_pointer(pointer, second), _op_name(op))


@svr("OperationParametersContainDuplicateParameter", on=On.OPERATION, severity=Severity.ERROR, keys=("parameters",))
def operation_parameters_duplicate(ctx: Context, op: Operation) -> Iterator[Hit]:
    """Two different parameters of the operation share a name and a location (``in``).

    A parameter is identified by its name and location, so the request could carry only one of
    them and the platform cannot tell which definition applies. (A path-level parameter that the
    operation redefines is an override, not a duplicate.)
    """
    raw = op.raw.get("parameters")
    if not isinstance(raw, list):
        return
    pointer = op.pointer + "/parameters"
    for first, second, param in _duplicates(ctx.swagger, raw, pointer):
        if not _same_entry(ctx.swagger, raw[first], raw[second]):
            yield hit(_written_pointer(pointer, second), _op_name(op), param.name, param.location)


@svr("PathParametersContainDuplicateParameter", on=On.PATH_ITEM, severity=Severity.ERROR, keys=("parameters",))
def path_parameters_duplicate(ctx: Context, node: PathItemNode) -> Iterator[Hit]:
    """The parameters shared by all operations of a path list two parameters with the same name
    and location; only one can be sent, so the definition is ambiguous."""
    pointer = node.pointer + "/parameters"
    for _, second, param in _duplicates(ctx.swagger, node.raw.get("parameters"), pointer):
        yield hit(_written_pointer(pointer, second), node.path, param.name, param.location)


@svr("PathParametersContainMultipleBodyParameters", on=On.PATH_ITEM, severity=Severity.ERROR, keys=("parameters",))
def path_parameters_multiple_bodies(ctx: Context, node: PathItemNode) -> Iterator[Hit]:
    """A request has one body, so the parameters shared by a path's operations may hold at most
    one ``in: body`` parameter."""
    pointer = node.pointer + "/parameters"
    raw = node.raw.get("parameters")
    if not isinstance(raw, list):
        return
    bodies = 0
    for index, entry in enumerate(raw):
        target, _ = ctx.swagger.deref(entry, "")
        if isinstance(target, dict) and target.get("in") == "body":
            bodies += 1
            if bodies == 2:
                yield hit(_written_pointer(pointer, index), node.path)


@svr("InvalidFormDataParameterName", on=On.PARAMETER, severity=Severity.ERROR, keys=("in",))
def invalid_form_data_name(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """Form field names travel in ``Content-Disposition`` headers and form-encoded bodies, which
    carry US-ASCII only, so a form data parameter name must not contain other characters."""
    if node.location == "formData" and not node.name.isascii():
        yield hit(node.pointer + "/name", node.name)


# --------------------------------------------------------------------------- consumes and form data


def _consumes(ctx: Context, op: Operation) -> tuple[list[str] | None, str]:
    """The effective ``consumes`` (operation level, else root) in lower case without media type
    parameters (``None`` when neither level has a list), and where to report about it: the
    operation's own ``consumes``, else the operation."""
    if "consumes" in op.raw:
        raw, pointer = op.raw.get("consumes"), op.pointer + "/consumes"
    else:
        raw, pointer = ctx.doc.get("consumes"), op.pointer
    if not isinstance(raw, list):
        return None, op.pointer
    return [str(m).split(";", 1)[0].strip().lower() for m in raw], pointer


def _form_parameters(op: Operation) -> list[Parameter]:
    return [p for p in op.parameters if p.location == "formData"]


@svr("ConsumesMissing", on=On.OPERATION, severity=Severity.ERROR)
def consumes_missing(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation with form data parameters must say in ``consumes`` how the form is encoded
    (``multipart/form-data`` or ``application/x-www-form-urlencoded``).

    A JSON body needs no ``consumes``: it is sent as ``application/json`` by default, and 23
    certified connectors of the corpus rely on that. A form has no such default.
    """
    if not _form_parameters(op):
        return
    consumes, _ = _consumes(ctx, op)
    if not consumes:
        yield hit(op.pointer, _op_name(op))


@svr("MimeTypeNotCompatibleWithRequestContentSchemaType", on=On.OPERATION, severity=Severity.WARNING)
def mime_type_not_compatible(ctx: Context, op: Operation) -> Iterator[Hit]:
    """Form data parameters are sent as a form, so ``consumes`` must offer a form encoding
    (``multipart/form-data`` or ``application/x-www-form-urlencoded``); with only other MIME
    types the fields cannot be encoded as declared.

    Microsoft does not publish its full compatibility matrix. A body parameter sent with a form
    MIME type is accepted (certified connectors do it), so only form data is checked, and as a
    warning.
    """
    if not _form_parameters(op):
        return
    consumes, pointer = _consumes(ctx, op)
    if consumes and not any(m in FORM_TYPES for m in consumes):
        yield hit(pointer, "formData", _op_name(op))


def _is_binary(raw: dict[str, Any]) -> bool:
    kind = raw.get("type")
    return kind == "file" or (kind == "string" and raw.get("format") == "binary")


@svr("StringBinaryNotSupportedForFormUrlEncoded", on=On.OPERATION, severity=Severity.ERROR)
def string_binary_form_url_encoded(ctx: Context, op: Operation) -> Iterator[Hit]:
    """``application/x-www-form-urlencoded`` carries text fields only; a file or binary string
    can be sent as a form only with ``multipart/form-data``.

    When ``consumes`` also offers ``multipart/form-data`` the platform sends multipart, so only
    operations whose sole form encoding is URL-encoding are reported.
    """
    consumes, _ = _consumes(ctx, op)
    if not consumes or URL_ENCODED not in consumes or MULTIPART in consumes:
        return
    for param in op.parameters:
        if param.location == "formData" and _is_binary(param.raw):
            yield hit(param.pointer, _op_name(op))
        elif param.location == "body":
            schema, _ = ctx.swagger.deref(param.raw.get("schema"), "")
            if isinstance(schema, dict) and _is_binary(schema):
                yield hit(param.pointer, _op_name(op))


# --------------------------------------------------------------------------- responses and summary


@svr("OperationHasManyResponsesWithSchema", on=On.OPERATION, severity=Severity.WARNING, keys=("responses",))
def many_responses_with_schema(ctx: Context, op: Operation) -> Iterator[Hit]:
    """The designer builds an action's outputs from one successful response's schema, so schemas
    on further 2xx responses (say both ``200`` and ``201``) are ignored and only mislead.

    Schemas on error responses are not outputs and are not counted: 650 operations of certified
    connectors document their error bodies. (A schema on ``default`` is
    ``DefaultResponseHasSchema``'s concern.)
    """
    count = 0
    for code, response in op.responses.items():
        if not str(code).startswith("2"):
            continue
        target, _ = ctx.swagger.deref(response, "")
        if isinstance(target, dict) and isinstance(target.get("schema"), dict):
            count += 1
            if count == 2:
                yield hit(op.pointer + "/responses", _op_name(op))
                return


@svr("RestrictedCharactersInSummary", on=On.OPERATION, severity=Severity.WARNING, keys=("summary",))
def restricted_characters_in_summary(ctx: Context, op: Operation) -> Iterator[Hit]:
    """The summary is the operation's name in the designer, and Microsoft's connector string
    guidance says there should be no slash (``/``) in it.

    Microsoft's validator does not publish its full set of restricted characters; the slash is
    the one its guidance names (no certified connector of the corpus has one in a summary).
    """
    summary = op.raw.get("summary")
    if isinstance(summary, str) and any(c in summary for c in RESTRICTED_SUMMARY_CHARACTERS):
        yield hit(op.pointer + "/summary", ", ".join(RESTRICTED_SUMMARY_CHARACTERS))


# --------------------------------------------------------------------------- paths


_Segment = tuple[bool, str, str]  # (is a whole-segment variable, lower-cased text, text as written)


def _segments(path: str) -> tuple[_Segment, ...]:
    return tuple((bool(_TEMPLATE_VARIABLE.fullmatch(s)), s.lower(), s) for s in path.strip("/").split("/"))


def _can_hold(param: Parameter | None, value: str) -> bool:
    """Whether a value of the path parameter could be the text ``value`` (by its type and enum)."""
    if param is None:
        return True
    enum = param.raw.get("enum")
    if isinstance(enum, list) and enum and value not in {str(e) for e in enum}:
        return False
    kind = param.raw.get("type")
    if kind == "integer":
        return re.fullmatch(r"[+-]?[0-9]+", value) is not None
    if kind == "number":
        return re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", value) is not None
    if kind == "boolean":
        return value.lower() in ("true", "false")
    return True


def _shadowed(mine: tuple[_Segment, ...], other: tuple[_Segment, ...], params: dict[str, Parameter]) -> bool:
    """``mine`` has a variable where ``other`` has a fixed segment the variable could take, and
    the paths agree everywhere else."""
    shadow = False
    for (var_a, text_a, written_a), (var_b, text_b, written_b) in zip(mine, other, strict=True):
        if var_a and not var_b:
            if not _can_hold(params.get(written_a[1:-1]), written_b):
                return False
            shadow = True
        elif not var_a and not var_b and text_a != text_b:
            return False
    return shadow


@svr("PartialDuplicateOperationPath", on=On.DOCUMENT, severity=Severity.WARNING)
def partial_duplicate_operation_path(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Two operations with the same verb have paths that differ only where one has a variable and
    the other a fixed segment (``/items/{id}`` and ``/items/latest``): a value equal to the fixed
    segment is routed to the other operation.

    It is reported on the operation with the variable, whose input can be misrouted. A variable
    whose parameter cannot take the fixed text (an integer ``{id}`` against ``latest``, or an
    ``enum`` without it) cannot be misrouted and is not reported.
    """
    groups: dict[tuple[str, int], list[tuple[Operation, tuple[_Segment, ...]]]] = {}
    for op in ctx.operations:
        shape = _segments(op.path)
        groups.setdefault((op.method, len(shape)), []).append((op, shape))
    for members in groups.values():
        if len(members) < 2:
            continue
        for op, shape in members:
            if not any(segment[0] for segment in shape):
                continue
            params = {p.name: p for p in op.parameters if p.location == "path"}
            similar = [o.path for o, s in members if o.path != op.path and _shadowed(shape, s, params)]
            if similar:
                yield hit(op.pointer, _op_name(op), op.path, ", ".join(f"'{p}'" for p in similar))


# --------------------------------------------------------------------------- schema count


def _schema_count(swagger: Swagger, schema: dict[str, Any], memo: dict[str, int], stack: set[str]) -> int:
    """Schema objects in ``schema`` with ``$ref``s expanded; a reference back into the current
    chain counts once instead of being expanded again."""
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in stack:
            return 1
        known = memo.get(ref)
        if known is not None:
            return known
        target = swagger.resolve(ref)
        stack.add(ref)
        count = _schema_count(swagger, target, memo, stack) if isinstance(target, dict) else 0
        stack.discard(ref)
        memo[ref] = count
        return count
    count = 1
    for key, value in schema.items():
        if key == "properties":
            if isinstance(value, dict):
                for child in value.values():
                    if isinstance(child, dict):
                        count += _schema_count(swagger, child, memo, stack)
        elif key in _SUBSCHEMA_KEYS:
            if isinstance(value, dict):
                count += _schema_count(swagger, value, memo, stack)
            elif isinstance(value, list) and key != "additionalProperties":
                for child in value:
                    if isinstance(child, dict):
                        count += _schema_count(swagger, child, memo, stack)
    return count


def _count(swagger: Swagger, schema: Any, memo: dict[str, int]) -> int:
    return _schema_count(swagger, schema, memo, set()) if isinstance(schema, dict) else 0


@svr("OperationSchemaCountExceedsMaxAllowed", on=On.OPERATION, severity=Severity.ERROR)
def operation_schema_count(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation may describe at most 16,384 schemas (parameters, body and responses, with
    ``$ref``s expanded): the platform's limit on schemas per operation."""
    memo: dict[str, int] = ctx.memo(_MEMO + "schema_counts", dict)
    total = 0
    for param in op.parameters:
        if param.location == "body":
            total += _count(ctx.swagger, param.raw.get("schema"), memo)
        else:
            total += 1 + _count(ctx.swagger, param.raw.get("items"), memo)
    for response in op.responses.values():
        target, _ = ctx.swagger.deref(response, "")
        if isinstance(target, dict):
            total += _count(ctx.swagger, target.get("schema"), memo)
    if total > MAX_SCHEMAS_PER_OPERATION:
        yield hit(op.pointer, MAX_SCHEMAS_PER_OPERATION)


# --------------------------------------------------------------------------- versioning


def _annotation(raw: dict[str, Any]) -> dict[str, Any] | None:
    value = raw.get(ANNOTATION)
    return value if isinstance(value, dict) else None


def _status(annotation: dict[str, Any] | None) -> str | None:
    if annotation is None or not isinstance(annotation.get("status"), str):
        return None
    return str(annotation["status"]).lower()


@dataclass
class _Member:
    op: Operation
    annotation: dict[str, Any] | None
    revision: Any  # the written revision, None when not given

    @property
    def pointer(self) -> str:
        return self.op.pointer + "/" + ANNOTATION if self.annotation is not None else self.op.pointer

    @property
    def active(self) -> bool:
        return self.op.raw.get("deprecated") is not True


@dataclass
class _Family:
    name: str
    members: list[_Member] = field(default_factory=list)

    @property
    def empty(self) -> list[_Member]:
        return [m for m in self.members if m.revision is None]


def _families(ctx: Context) -> dict[str, _Family]:
    """Operation families: each ``x-ms-api-annotation.family`` (default: the operationId) with its
    operations, plus the unannotated operation whose operationId names a family (its first
    revision)."""
    families: dict[str, _Family] = {}
    plain: list[Operation] = []
    for op in ctx.operations:
        annotation = _annotation(op.raw)
        if annotation is None:
            plain.append(op)
            continue
        name = annotation.get("family")
        name = str(name) if isinstance(name, str) and name else op.operation_id
        if name is None:
            continue
        family = families.setdefault(name, _Family(name))
        family.members.append(_Member(op, annotation, annotation.get("revision")))
    for op in plain:
        if op.operation_id is not None and op.operation_id in families:
            families[op.operation_id].members.insert(0, _Member(op, None, None))
    return families


def _families_memo(ctx: Context) -> dict[str, _Family]:
    return ctx.memo(_MEMO + "families", lambda: _families(ctx))


def _order(member: _Member) -> int:
    revision = member.revision
    return int(revision) if isinstance(revision, int) and not isinstance(revision, bool) else 1


@svr("OperationFamilyHasDuplicateRevisions", on=On.DOCUMENT, severity=Severity.ERROR)
def family_duplicate_revisions(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Two operations of one family (``x-ms-api-annotation.family``) give the same ``revision``,
    so the designer cannot tell which one is newer. Each revision of a family must be unique."""
    for family in _families_memo(ctx).values():
        seen: set[Any] = set()
        for member in family.members:
            if member.revision is None or member.annotation is None:
                continue
            key = repr(member.revision)
            if key in seen:
                yield hit(member.pointer + "/revision", family.name)
                break
            seen.add(key)


@svr("OperationFamilyHasManyEmptyRevisions", on=On.DOCUMENT, severity=Severity.ERROR)
def family_many_empty_revisions(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Only one operation of a family may leave out ``revision`` (it counts as the first); with
    several the order of the family's versions is undefined.

    An operation without ``x-ms-api-annotation`` whose operationId names a family is that
    family's unrevised first member.
    """
    for family in _families_memo(ctx).values():
        empty = family.empty
        if len(empty) > 1:
            yield hit(empty[1].pointer, family.name)


@svr("OperationRevisionEmpty", on=On.OPERATION, severity=Severity.WARNING, keys=(ANNOTATION,))
def operation_revision_empty(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation joins another operation's family (``family`` names a different operationId)
    but gives no ``revision``, so its place among the family's versions is unknown.

    When several members lack a revision, ``OperationFamilyHasManyEmptyRevisions`` reports the
    family instead.
    """
    annotation = _annotation(op.raw)
    if annotation is None or annotation.get("revision") is not None:
        return
    name = annotation.get("family")
    if not isinstance(name, str) or not name or name == op.operation_id:
        return
    family = _families_memo(ctx).get(name)
    if family is not None and len(family.empty) <= 1:
        yield hit(op.pointer + "/" + ANNOTATION, _op_name(op))


@svr("OperationFamilyHasManyActiveOperations", on=On.DOCUMENT, severity=Severity.WARNING)
def family_many_active(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """An operation family keeps at most two operations that are not ``deprecated``: the current
    version and the one before. Older versions should be marked ``deprecated: true`` so the
    designer stops offering them.

    Reported at the oldest active member, the first one to deprecate.
    """
    for family in _families_memo(ctx).values():
        active = [m for m in family.members if m.active]
        if len(active) > 2:
            oldest = min(active, key=_order)
            yield hit(oldest.pointer, family.name)


@svr("OperationFamilyHasManyActiveProductionOperations", on=On.DOCUMENT, severity=Severity.WARNING)
def family_many_active_production(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Only the newest version of an operation family should be active in ``Production`` status;
    previous production revisions should be deprecated.

    An operation's status is its own ``x-ms-api-annotation.status``, else the connector's
    (``info.x-ms-api-annotation.status``), else ``Preview``. Reported at the oldest such member.
    """
    connector = _status(_annotation(swagger.info)) or "preview"
    for family in _families_memo(ctx).values():
        production = [m for m in family.members if m.active and (_status(m.annotation) or connector) == "production"]
        if len(production) > 1:
            oldest = min(production, key=_order)
            yield hit(oldest.pointer, family.name)


@svr("OperationIdShouldEndWithRevision", on=On.OPERATION, severity=Severity.WARNING, keys=(ANNOTATION,))
def operation_id_should_end_with_revision(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A later revision of an operation (``revision`` 2 or more) should carry it in its
    operationId, by the versioning convention ``GetItems_V2``, so flows and code can tell the
    versions apart.

    ``V2`` and ``_v2`` endings are accepted too (certified connectors use them).
    """
    annotation = _annotation(op.raw)
    revision = annotation.get("revision") if annotation is not None else None
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 2 or op.operation_id is None:
        return
    if not op.operation_id.lower().endswith(f"v{revision}"):
        yield hit(op.pointer + "/operationId", op.operation_id, f"_V{revision}")


@svr("OperationStatusAheadOfConnector", on=On.OPERATION, severity=Severity.ERROR, keys=(ANNOTATION,))
def operation_status_ahead_of_connector(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation cannot be in ``Production`` while the whole connector says it is in
    ``Preview`` (``info.x-ms-api-annotation.status``).

    Only an explicit connector status is compared: certified connectors without one have
    production operations and were accepted.
    """
    if _status(_annotation(op.raw)) != "production":
        return
    if _status(_annotation(ctx.swagger.info)) == "preview":
        yield hit(op.pointer + "/" + ANNOTATION + "/status", _op_name(op))


def _replacement(op: Operation) -> tuple[Any, str] | None:
    annotation = _annotation(op.raw)
    if annotation is None or annotation.get("replacement") is None:
        return None
    return annotation["replacement"], op.pointer + "/" + ANNOTATION + "/replacement"


@svr(
    "ApiAnnotationExtensionReplacementInfoForNonDeprecatedOperations",
    on=On.OPERATION,
    severity=Severity.ERROR,
    keys=(ANNOTATION,),
)
def replacement_for_non_deprecated(ctx: Context, op: Operation) -> Iterator[Hit]:
    """``x-ms-api-annotation.replacement`` points users of a deprecated operation to its
    successor; on an operation that is not ``deprecated: true`` it has no meaning."""
    found = _replacement(op)
    if found is not None and op.raw.get("deprecated") is not True:
        yield hit(found[1], _op_name(op))


def _missing(value: Any, key: str) -> bool:
    return not isinstance(value, dict) or value.get(key) in (None, "")


@svr(
    "ApiAnnotationExtensionReplacementInfoMissingApiProperty",
    on=On.OPERATION,
    severity=Severity.ERROR,
    keys=(ANNOTATION,),
)
def replacement_missing_api(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A ``replacement`` must name both the connector (``api``) and the ``operationId`` of the
    successor; without ``api`` the designer cannot find it."""
    found = _replacement(op)
    if found is not None and _missing(found[0], "api"):
        yield hit(found[1], _op_name(op))


@svr(
    "ApiAnnotationExtensionReplacementInfoMissingOperationIdProperty",
    on=On.OPERATION,
    severity=Severity.ERROR,
    keys=(ANNOTATION,),
)
def replacement_missing_operation_id(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A ``replacement`` must name both the connector (``api``) and the ``operationId`` of the
    successor; without ``operationId`` the designer cannot find it."""
    found = _replacement(op)
    if found is not None and _missing(found[0], "operationId"):
        yield hit(found[1], _op_name(op))


# --------------------------------------------------------------------------- webhooks


def _urls_under(swagger: Swagger, schema: Any, base: str, parts: list[str], out: list[str],
               memo: dict[str, list[str]], stack: set[str]) -> None:  # fmt: skip
    """Append to ``out`` the pointers of ``x-ms-notification-url`` properties in ``schema``
    (written at ``base`` + ``parts``), following ``$ref``s; what a reference holds is memoised."""
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in stack:
            return
        found = memo.get(ref)
        if found is None:
            target, where = swagger.deref(schema, "")
            found = []
            stack.add(ref)
            _urls_under(swagger, target, where, [], found, memo, stack)
            stack.discard(ref)
            memo[ref] = found
        out.extend(found)
        return
    if schema.get(NOTIFICATION_URL) is True:
        out.append(base + "".join("/" + escape_pointer_token(part) for part in parts))
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            if isinstance(child, dict):
                parts += ("properties", name)
                _urls_under(swagger, child, base, parts, out, memo, stack)
                del parts[-2:]
    items = schema.get("items")
    if isinstance(items, dict):
        parts.append("items")
        _urls_under(swagger, items, base, parts, out, memo, stack)
        parts.pop()
    all_of = schema.get("allOf")
    if isinstance(all_of, list):
        for index, child in enumerate(all_of):
            parts += ("allOf", str(index))
            _urls_under(swagger, child, base, parts, out, memo, stack)
            del parts[-2:]


def _notification_urls(ctx: Context, op: Operation) -> set[str]:
    """Pointers of the inputs of ``op`` marked ``x-ms-notification-url: true``: parameters, or
    properties of the body schema (``$ref``s followed). An operation with any is a webhook."""
    cache: dict[str, set[str]] = ctx.memo(_MEMO + "notification_urls", dict)
    found = cache.get(op.pointer)
    if found is None:
        found = set()
        for param in op.parameters:
            if param.raw.get(NOTIFICATION_URL) is True:
                found.add(param.pointer)
            if param.location == "body":
                pointers: list[str] = []
                memo: dict[str, list[str]] = ctx.memo(_MEMO + "notification_urls_by_ref", dict)
                _urls_under(ctx.swagger, param.raw.get("schema"), param.pointer + "/schema", [], pointers, memo, set())
                found.update(pointers)
        cache[op.pointer] = found
    return found


def _has_notification_content(op: Operation) -> bool:
    return isinstance(op.path_item.get(NOTIFICATION_CONTENT), dict) or isinstance(
        op.raw.get(NOTIFICATION_CONTENT), dict
    )


@svr("OperationMustHaveNotificationContentExtension", on=On.OPERATION, severity=Severity.ERROR)
def must_have_notification_content(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A webhook operation (one with an input marked ``x-ms-notification-url``) must describe what
    the service posts to the callback with ``x-ms-notification-content`` on its path item;
    without it the trigger has no outputs."""
    urls = _notification_urls(ctx, op)
    if urls and not _has_notification_content(op):
        yield hit(op.pointer, _op_name(op), len(urls))


@svr(
    "WebhookOperationsMissingNotificationUrlProperty", on=On.OPERATION, severity=Severity.ERROR, keys=("x-ms-trigger",)
)
def webhook_missing_notification_url(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A trigger whose path declares ``x-ms-notification-content`` is a webhook, and the platform
    must be able to hand the service its callback URL: some input has to be marked
    ``x-ms-notification-url: true``."""
    if op.is_trigger and _has_notification_content(op) and not _notification_urls(ctx, op):
        yield hit(op.pointer, _op_name(op))


@svr("NotificationExtensionSupportedForTriggerOnly", on=On.OPERATION, severity=Severity.ERROR, keys=(NOTIFICATION,))
def notification_for_trigger_only(ctx: Context, op: Operation) -> Iterator[Hit]:
    """``x-ms-notification`` links a trigger to the webhook operation that registers it, so it
    belongs on triggers (``x-ms-trigger``) only."""
    if not op.is_trigger:
        yield hit(op.pointer + "/" + NOTIFICATION)


@svr(
    "NotificationExtensionNotSupportedInWebhookOperation",
    on=On.OPERATION,
    severity=Severity.ERROR,
    keys=(NOTIFICATION,),
)
def notification_in_webhook(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A webhook operation registers its own callback (``x-ms-notification-url``), so it cannot
    also point to another webhook operation with ``x-ms-notification``."""
    if _notification_urls(ctx, op):
        yield hit(op.pointer + "/" + NOTIFICATION)


@svr("NotificationOperationMustBeWebhook", on=On.OPERATION, severity=Severity.ERROR, keys=(NOTIFICATION,))
def notification_operation_must_be_webhook(ctx: Context, op: Operation) -> Iterator[Hit]:
    """``x-ms-notification.operationId`` must name a webhook operation, one with an input marked
    ``x-ms-notification-url``: that is the operation that registers the callback.

    A name that matches no operation is ``OperationIdNotFound``'s business.
    """
    value = op.raw.get(NOTIFICATION)
    if not isinstance(value, dict) or not isinstance(value.get("operationId"), str):
        return
    target = ctx.operations_by_id.get(value["operationId"])
    if target is not None and not _notification_urls(ctx, target):
        yield hit(op.pointer + "/" + NOTIFICATION + "/operationId")


# --------------------------------------------------------------------------- notification URL property


@dataclass
class _UrlIndex:
    """Where ``x-ms-notification-url`` properties are reached from input bodies and from outputs.

    ``chains`` maps the pointer of each property reached from a body parameter to one
    (required all the way, internal somewhere) pair per way it is reached.
    """

    chains: dict[str, list[tuple[bool, bool]]] = field(default_factory=dict)
    outputs: set[str] = field(default_factory=set)


def _walk_inputs(swagger: Swagger, schema: Any, pointer: str, required: bool, internal: bool,
                 seen: frozenset[str], index: _UrlIndex) -> None:  # fmt: skip
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in seen:
            return
        seen = seen | {ref}
        schema, pointer = swagger.deref(schema, pointer)
    if not isinstance(schema, dict):
        return
    internal = internal or schema.get("x-ms-visibility") == "internal"
    if schema.get(NOTIFICATION_URL) is True:
        index.chains.setdefault(pointer, []).append((required, internal))
    properties = schema.get("properties")
    if isinstance(properties, dict):
        needed = schema.get("required")
        names = set(needed) if isinstance(needed, list) else set()
        for name, child in properties.items():
            child_pointer = pointer_join(pointer + "/properties", name)
            _walk_inputs(swagger, child, child_pointer, required and name in names, internal, seen, index)
    items = schema.get("items")
    if isinstance(items, dict):
        _walk_inputs(swagger, items, pointer + "/items", required, internal, seen, index)
    all_of = schema.get("allOf")
    if isinstance(all_of, list):
        for position, child in enumerate(all_of):
            _walk_inputs(swagger, child, f"{pointer}/allOf/{position}", required, internal, seen, index)


def _walk_outputs(swagger: Swagger, schema: Any, pointer: str, seen: set[str], index: _UrlIndex) -> None:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in seen:
            return
        seen.add(ref)
        schema, pointer = swagger.deref(schema, pointer)
    if not isinstance(schema, dict):
        return
    if schema.get(NOTIFICATION_URL) is True:
        index.outputs.add(pointer)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            _walk_outputs(swagger, child, pointer_join(pointer + "/properties", name), seen, index)
    for key in ("items", "additionalProperties"):
        child = schema.get(key)
        if isinstance(child, dict):
            _walk_outputs(swagger, child, f"{pointer}/{key}", seen, index)
    all_of = schema.get("allOf")
    if isinstance(all_of, list):
        for position, child in enumerate(all_of):
            _walk_outputs(swagger, child, f"{pointer}/allOf/{position}", seen, index)


def _body_parameters(swagger: Swagger) -> Iterator[tuple[dict[str, Any], str]]:
    """Body parameter objects where they are written: root ``parameters``, path items, operations."""
    root = swagger.doc.get("parameters")
    if isinstance(root, dict):
        for name, raw in root.items():
            if isinstance(raw, dict) and raw.get("in") == "body":
                yield raw, pointer_join("/parameters", name)
    for path, item in swagger.paths.items():
        if not isinstance(item, dict):
            continue
        item_pointer = pointer_join("/paths", path)
        lists = [(item.get("parameters"), item_pointer + "/parameters")]
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                lists.append((op.get("parameters"), pointer_join(item_pointer, method) + "/parameters"))
        for params, pointer in lists:
            if isinstance(params, list):
                for position, raw in enumerate(params):
                    if isinstance(raw, dict) and raw.get("in") == "body":
                        yield raw, f"{pointer}/{position}"


def _output_schemas(swagger: Swagger) -> Iterator[tuple[Any, str]]:
    responses = swagger.doc.get("responses")
    if isinstance(responses, dict):
        for code, raw in responses.items():
            if isinstance(raw, dict):
                yield raw.get("schema"), pointer_join("/responses", code) + "/schema"
    for path, item in swagger.paths.items():
        if not isinstance(item, dict):
            continue
        item_pointer = pointer_join("/paths", path)
        content = item.get(NOTIFICATION_CONTENT)
        if isinstance(content, dict):
            yield content.get("schema"), item_pointer + "/" + NOTIFICATION_CONTENT + "/schema"
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict) and isinstance(op.get("responses"), dict):
                for code, raw in op["responses"].items():
                    if isinstance(raw, dict):
                        responses_pointer = pointer_join(item_pointer, method) + "/responses"
                        yield raw.get("schema"), pointer_join(responses_pointer, code) + "/schema"


def _build_url_index(swagger: Swagger) -> _UrlIndex:
    index = _UrlIndex()
    for raw, pointer in _body_parameters(swagger):
        internal = raw.get("x-ms-visibility") == "internal"
        _walk_inputs(swagger, raw.get("schema"), pointer + "/schema", True, internal, frozenset(), index)
    seen: set[str] = set()
    for schema, pointer in _output_schemas(swagger):
        _walk_outputs(swagger, schema, pointer, seen, index)
    return index


def _url_index(ctx: Context) -> _UrlIndex:
    return ctx.memo(_MEMO + "url_index", lambda: _build_url_index(ctx.swagger))


def _is_notification_url(node: SchemaNode) -> bool:
    return node.raw.get(NOTIFICATION_URL) is True


@svr("NotificationUrlNotAllowedInThisPosition", on=On.SCHEMA, severity=Severity.ERROR, keys=(NOTIFICATION_URL,))
def notification_url_position(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """``x-ms-notification-url`` marks the input the platform fills with the trigger's callback
    URL, so it belongs in a request body; in a response or notification schema nothing fills it."""
    if not _is_notification_url(node):
        return
    if node.role in ("response", "notification"):
        yield hit(node.pointer + "/" + NOTIFICATION_URL)
    elif node.role == "definition":
        index = _url_index(ctx)
        if node.pointer in index.outputs and node.pointer not in index.chains:
            yield hit(node.pointer + "/" + NOTIFICATION_URL)


@svr("NotificationUrlNotInternal", on=On.SCHEMA, severity=Severity.ERROR, keys=(NOTIFICATION_URL,))
def notification_url_not_internal(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """The platform fills the notification URL itself, so users must not see it: the property or
    one of its parents (up to the body parameter) must be ``x-ms-visibility: internal``."""
    if not _is_notification_url(node) or node.raw.get("x-ms-visibility") == "internal":
        return
    chains = _url_index(ctx).chains.get(node.pointer, [])
    if any(not internal for _, internal in chains):
        yield hit(node.pointer)


@svr("NotificationUrlNotRequired", on=On.SCHEMA, severity=Severity.ERROR, keys=(NOTIFICATION_URL,))
def notification_url_not_required(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """The callback URL must always be sent, so the notification URL property must be listed in
    ``required`` by its parent schema, and each parent by its own, up to the body schema.

    The body parameter's own ``required`` is not checked: 45 certified webhook bodies leave it
    out and were accepted.
    """
    if not _is_notification_url(node):
        return
    chains = _url_index(ctx).chains.get(node.pointer, [])
    if any(not required for required, _ in chains):
        yield hit(node.pointer)


@svr("NotificationUrlNotString", on=On.SCHEMA, severity=Severity.ERROR, keys=(NOTIFICATION_URL,))
def notification_url_not_string(ctx: Context, node: SchemaNode) -> Iterator[Hit]:
    """The platform puts the callback URL, a string, into the notification URL property, so the
    property must be ``type: string``.

    A property without ``type`` is accepted (a certified connector has one).
    """
    if _is_notification_url(node) and "type" in node.raw and node.raw.get("type") != "string":
        yield hit(node.pointer + "/type")
