"""Breaking changes between two versions of a connector (Microsoft's ``ValidateChange``).

Operations are matched by ``operationId``, as Microsoft's change detector does. Each rule compares
one aspect of matched operations and reports with Microsoft's observed message where one is known
(validator-rules.md section 8.1). Where only the documentation says a change is breaking (section
8.2), the message is connectorkit's own. Every finding carries Microsoft's logical ValuePath
(``operation/<id>/parameter/<name>/schema/<prop>/type``) and points into the file where the
change can be seen: the new definition, or the old one for things that were removed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.jsontext import pointer_join
from connectorkit.definition.package import DEFINITION, PROPERTIES, ConnectorPackage
from connectorkit.definition.swagger import Operation, Parameter, Swagger
from connectorkit.lint.registry import REGISTRY, Category, Check, Hit, On, Rule, rule

OLD = "old"
NEW = "new"
CHANGE_SOURCE = "https://learn.microsoft.com/en-us/connectors/custom-connectors/certification-updates"
VERSIONING = "https://learn.microsoft.com/en-us/connectors/custom-connectors/operational-versioning"


@dataclass
class Change:
    """What a diff rule sees: both packages and their operations matched by id."""

    old: ConnectorPackage
    new: ConnectorPackage

    def __post_init__(self) -> None:
        self.old_swagger = self.old.swagger
        self.new_swagger = self.new.swagger
        self.old_ops = _by_id(self.old_swagger)
        self.new_ops = _by_id(self.new_swagger)
        self.fields: dict[str, list[tuple[dict[str, _Field], dict[str, _Field]]]] = {}

    def matched(self) -> Iterator[tuple[str, Operation, Operation]]:
        for op_id, old_op in self.old_ops.items():
            new_op = self.new_ops.get(op_id)
            if new_op is not None:
                yield op_id, old_op, new_op


def _by_id(swagger: Swagger) -> dict[str, Operation]:
    ops: dict[str, Operation] = {}
    for op in swagger.operations():
        if op.operation_id:
            ops.setdefault(op.operation_id, op)
    return ops


def _change_hit(side: str, pointer: str, value_path: str) -> Hit:
    # The logical path rides in ``args`` so the engine can put it on the finding.
    return Hit(pointer, (value_path,), file=f"{side}:{DEFINITION}")


def _breaking(rule_id: str, message: str, *, fix: str, documented: bool = True) -> Callable[[Check], Check]:
    return rule(
        rule_id,
        category=Category.BREAKING,
        severity=Severity.ERROR,
        message=message,
        on=On.DIFF,
        fix=fix,
        source=CHANGE_SOURCE if documented else VERSIONING,
        microsoft=False,
    )


def _visible(raw: dict[str, Any]) -> bool:
    return str(raw.get("x-ms-visibility", "")).lower() != "internal"


def _deref(swagger: Swagger, node: Any, pointer: str) -> tuple[Any, str]:
    return swagger.deref(node, pointer)


# --------------------------------------------------------------------------- operations


@_breaking(
    "OperationDeleted",
    "The operation has been deleted. This change breaks existing flows.",
    fix="Keep the operation (mark it deprecated and hide it with x-ms-visibility: internal only after notice), "
    "or add the new version beside it with the same x-ms-api-annotation family and a higher revision.",
)
def operation_deleted(change: Change) -> Iterator[Hit]:
    """Flows call actions by operationId, so removing or renaming an operationId breaks every flow
    that uses it."""
    for op_id, op in change.old_ops.items():
        if op_id not in change.new_ops:
            yield _change_hit(OLD, op.pointer, f"operation/{op_id}")


@_breaking(
    "OperationHidden",
    "The operation has been hidden. This change breaks the designer for existing flows.",
    fix="Keep the operation visible; deprecate it first and hide it in a later release.",
)
def operation_hidden(change: Change) -> Iterator[Hit]:
    """An operation that becomes ``x-ms-visibility: internal`` disappears from the designer while
    flows still use it."""
    for op_id, old_op, new_op in change.matched():
        if _visible(old_op.raw) and not _visible(new_op.raw):
            yield _change_hit(NEW, new_op.pointer + "/x-ms-visibility", f"operation/{op_id}/x-ms-visibility")


@_breaking(
    "PathTemplateChanged",
    "The path template has been changed for the operation.",
    fix="Keep the old path; add a new operation (new operationId, same family, higher revision) for the new one.",
)
def path_template_changed(change: Change) -> Iterator[Hit]:
    """Existing flows keep calling the old URL shape; moving an operation to another path
    template changes what they send."""
    for op_id, old_op, new_op in change.matched():
        if _shape(old_op.path) != _shape(new_op.path):
            yield _change_hit(NEW, new_op.pointer, f"operation/{op_id}")


def _shape(path: str) -> tuple[str, ...]:
    return tuple("{}" if seg.startswith("{") and seg.endswith("}") else seg for seg in path.split("/"))


@_breaking(
    "OperationMethodChanged",
    "The HTTP method has been changed for the operation.",
    fix="Keep the old method; add a new operation for the new one.",
    documented=False,
)
def method_changed(change: Change) -> Iterator[Hit]:
    """Moving an operationId to another HTTP method changes the request existing flows make."""
    for op_id, old_op, new_op in change.matched():
        if old_op.method != new_op.method:
            yield _change_hit(NEW, new_op.pointer, f"operation/{op_id}")


# --------------------------------------------------------------------------- parameters


def _params(op: Operation) -> dict[str, Parameter]:
    return {p.name: p for p in op.parameters}


@_breaking(
    "RequiredParameterAdded",
    "The required parameter has been added.",
    fix="Make the new parameter optional, or give it a default and x-ms-visibility: internal.",
)
def required_parameter_added(change: Change) -> Iterator[Hit]:
    """Existing flows do not send a parameter that did not exist when they were built, so a new
    required parameter makes their requests invalid (unless the platform fills it from a default)."""
    for op_id, old_op, new_op in change.matched():
        old = _params(old_op)
        for name, param in _params(new_op).items():
            if name not in old and param.required and "default" not in param.raw:
                yield _change_hit(NEW, param.pointer, f"operation/{op_id}/parameter/{name}")


@_breaking(
    "ParameterDeleted",
    "The parameter has been removed. Existing flows will continue to send it.",
    fix="Keep the parameter; if the backend ignores it now, hide it with x-ms-visibility: internal.",
    documented=False,
)
def parameter_deleted(change: Change) -> Iterator[Hit]:
    """Removing a parameter is breaking per Microsoft's versioning guidance: flows that set it
    keep sending a value the connector no longer declares."""
    for op_id, old_op, new_op in change.matched():
        new = _params(new_op)
        for name, param in _params(old_op).items():
            if name not in new:
                yield _change_hit(OLD, param.pointer, f"operation/{op_id}/parameter/{name}")


@_breaking(
    "ParameterLocationChanged",
    "The location has been changed for the parameter. Existing flows will continue to send the parameter in the "
    "old location.",
    fix="Keep the parameter where it was; add a new operation if the API moved it.",
)
def parameter_location_changed(change: Change) -> Iterator[Hit]:
    """A parameter that moves from query to header (or anywhere else) is sent where the API no
    longer looks by every existing flow."""
    for op_id, old_op, new_op in change.matched():
        new = _params(new_op)
        for name, param in _params(old_op).items():
            moved = new.get(name)
            if moved is not None and moved.location != param.location:
                yield _change_hit(NEW, moved.pointer + "/in", f"operation/{op_id}/parameter/{name}")


@_breaking(
    "ParameterBecameRequired",
    "The optional parameter has become required. Existing flows may not send it.",
    fix="Keep the parameter optional, or give it a default value.",
    documented=False,
)
def parameter_became_required(change: Change) -> Iterator[Hit]:
    """Flows built while a parameter was optional may leave it out; making it required breaks
    them. (Making a required parameter optional is safe.)"""
    for op_id, old_op, new_op in change.matched():
        new = _params(new_op)
        for name, param in _params(old_op).items():
            now = new.get(name)
            if now is not None and not param.required and now.required and "default" not in now.raw:
                yield _change_hit(NEW, now.pointer + "/required", f"operation/{op_id}/parameter/{name}")


@_breaking(
    "ParameterHidden",
    "The parameter has been hidden. Existing flows that set it will no longer show it.",
    fix="Keep the parameter visible, or give it a default so hidden is harmless.",
    documented=False,
)
def parameter_hidden(change: Change) -> Iterator[Hit]:
    """A parameter that becomes ``x-ms-visibility: internal`` vanishes from the designer; flows
    that set it can no longer change it, and a required one without default cannot be filled."""
    for op_id, old_op, new_op in change.matched():
        new = _params(new_op)
        for name, param in _params(old_op).items():
            now = new.get(name)
            if now is not None and _visible(param.raw) and not _visible(now.raw) and "default" not in now.raw:
                yield _change_hit(NEW, now.pointer, f"operation/{op_id}/parameter/{name}/x-ms-visibility")


# --------------------------------------------------------------------------- schemas (inputs and outputs)


@dataclass(frozen=True)
class _Field:
    raw: dict[str, Any]
    pointer: str
    value_path: str
    required: bool


def _fields(swagger: Swagger, node: Any, pointer: str, value_path: str, required: bool,
            seen: frozenset[str] = frozenset()) -> Iterator[_Field]:  # fmt: skip
    """Every field of a schema (properties and array items), ``$ref`` followed once per branch."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        if node["$ref"] in seen:
            return
        seen = seen | {node["$ref"]}
    target, where = _deref(swagger, node, pointer)
    if not isinstance(target, dict):
        return
    yield _Field(target, where, value_path, required)
    props = target.get("properties")
    if isinstance(props, dict):
        needed = target.get("required")
        needed = needed if isinstance(needed, list) else []
        for name, child in props.items():
            yield from _fields(swagger, child, pointer_join(where + "/properties", name), f"{value_path}/{name}",
                               name in needed, seen)  # fmt: skip
    items = target.get("items")
    if isinstance(items, dict):
        yield from _fields(swagger, items, where + "/items", f"{value_path}/items", False, seen)
    all_of = target.get("allOf")
    if isinstance(all_of, list):
        for index, part in enumerate(all_of):
            for found in _fields(swagger, part, f"{where}/allOf/{index}", value_path, required, seen):
                if found.value_path != value_path:
                    yield found


def _input_fields(swagger: Swagger, op_id: str, op: Operation) -> dict[str, _Field]:
    out: dict[str, _Field] = {}
    for param in op.parameters:
        base = f"operation/{op_id}/parameter/{param.name}"
        if param.location == "body":
            for found in _fields(swagger, param.raw.get("schema"), param.pointer + "/schema", base + "/schema",
                                 param.required):  # fmt: skip
                out.setdefault(found.value_path, found)
        else:
            out.setdefault(base, _Field(param.raw, param.pointer, base, param.required))
    return out


def _output_fields(swagger: Swagger, op_id: str, op: Operation) -> dict[str, _Field]:
    out: dict[str, _Field] = {}
    for code, response in op.responses.items():
        if not str(code).startswith("2"):
            continue
        target, where = _deref(swagger, response, pointer_join(op.pointer + "/responses", str(code)))
        if isinstance(target, dict):
            base = f"operation/{op_id}/responses/{code}/schema"
            for found in _fields(swagger, target.get("schema"), where + "/schema", base, False):
                out.setdefault(found.value_path, found)
    content = op.path_item.get("x-ms-notification-content")
    if op.is_trigger and isinstance(content, dict):
        base = f"operation/{op_id}/responses/x-ms-notification-content/schema"
        pointer = op.pointer.rsplit("/", 1)[0] + "/x-ms-notification-content/schema"
        for found in _fields(swagger, content.get("schema"), pointer, base, False):
            out.setdefault(found.value_path, found)
    return out


FieldsOf = Callable[[Swagger, str, Operation], dict[str, _Field]]


def _fields_of(change: Change, fields: FieldsOf) -> list[tuple[dict[str, _Field], dict[str, _Field]]]:
    """(old, new) fields of every matched operation, computed once per diff for each rule to share."""
    key = fields.__name__
    if key not in change.fields:
        change.fields[key] = [
            (fields(change.old_swagger, op_id, old_op), fields(change.new_swagger, op_id, new_op))
            for op_id, old_op, new_op in change.matched()
        ]
    return change.fields[key]


def _matched_fields(change: Change, fields: FieldsOf) -> Iterator[tuple[_Field, _Field | None]]:
    for old, new in _fields_of(change, fields):
        for path, before in old.items():
            yield before, new.get(path)


def _type(raw: dict[str, Any]) -> Any:
    return raw.get("type")


def _type_changes(change: Change, fields: FieldsOf) -> Iterator[Hit]:
    for before, after in _matched_fields(change, fields):
        if after is not None and _type(before.raw) is not None and _type(before.raw) != _type(after.raw):
            yield _change_hit(NEW, after.pointer, after.value_path + "/type")


def _format_changes(change: Change, fields: FieldsOf) -> Iterator[Hit]:
    for before, after in _matched_fields(change, fields):
        same_type = after is not None and _type(before.raw) == _type(after.raw)
        if after is not None and same_type and before.raw.get("format") != after.raw.get("format"):
            yield _change_hit(NEW, after.pointer, after.value_path + "/format")


@_breaking(
    "InputTypeChanged",
    "The type has been changed for the input field. Existing flows will continue to send the field with the old type.",
    fix="Keep the old type; add a new field or a new operation for the new one.",
)
def input_type_changed(change: Change) -> Iterator[Hit]:
    """Flows send values of the type the field had when they were built."""
    yield from _type_changes(change, _input_fields)


@_breaking(
    "InputFormatChanged",
    "The type format has been changed for the input field. Existing flows will continue to send the field with the "
    "old format.",
    fix="Keep the old format.",
    documented=False,
)
def input_format_changed(change: Change) -> Iterator[Hit]:
    """A changed ``format`` (say ``date`` to ``date-time``) changes what existing flows send."""
    yield from _format_changes(change, _input_fields)


@_breaking(
    "InputEnumAdded",
    "The list of enum values has been added to the input field. Existing flows may use values outside of this list.",
    fix="Leave the field open, or list every value existing flows may send.",
)
def input_enum_added(change: Change) -> Iterator[Hit]:
    """A field that gains an ``enum`` rejects values existing flows were free to send."""
    for before, after in _matched_fields(change, _input_fields):
        if after is not None and "enum" not in before.raw and isinstance(after.raw.get("enum"), list):
            yield _change_hit(NEW, after.pointer + "/enum", after.value_path + "/enum")


@_breaking(
    "InputEnumValueRemoved",
    "An enum value has been removed from the input field. Existing flows may have this value chosen and will "
    "continue to send it.",
    fix="Keep the value in the enum (the backend may map it to its replacement).",
)
def input_enum_value_removed(change: Change) -> Iterator[Hit]:
    """Flows keep sending the value chosen when they were built."""
    for before, after in _matched_fields(change, _input_fields):
        if after is None:
            continue
        old_enum, new_enum = before.raw.get("enum"), after.raw.get("enum")
        if isinstance(old_enum, list) and isinstance(new_enum, list) and any(v not in new_enum for v in old_enum):
            yield _change_hit(NEW, after.pointer + "/enum", after.value_path + "/enum")


@_breaking(
    "RequiredInputFieldAdded",
    "The required input field has been added. Existing flows will not send this new field.",
    fix="Make the new field optional.",
)
def required_input_field_added(change: Change) -> Iterator[Hit]:
    """A body property newly listed in ``required`` (new, or optional before) is missing from
    every existing flow's request."""
    for old, new in _fields_of(change, _input_fields):
        for path, found in new.items():
            before = old.get(path)
            newly = before is None or not before.required
            if newly and "/schema/" in path and found.required and "default" not in found.raw:
                yield _change_hit(NEW, found.pointer, path)


@_breaking(
    "OutputFieldDeleted",
    "The output field has been deleted. Existing flows may be broken if they are using this field and actual "
    "payload has been changed.",
    fix="Keep the field in the response schema.",
)
def output_field_deleted(change: Change) -> Iterator[Hit]:
    """Later steps of a flow reference response fields by name; removing one breaks them."""
    for before, after in _matched_fields(change, _output_fields):
        if after is None and before.value_path.rsplit("/", 1)[-1] not in ("schema", "items"):
            yield _change_hit(OLD, before.pointer, before.value_path)


@_breaking(
    "OutputTypeChanged",
    "The type has been changed for the output field. Existing flows may be broken if they are using this field and "
    "actual payload has been changed.",
    fix="Keep the old type; add a new field for the new one.",
)
def output_type_changed(change: Change) -> Iterator[Hit]:
    """Flows use response fields with the type they had; a new type breaks expressions on them."""
    yield from _type_changes(change, _output_fields)


@_breaking(
    "OutputFormatChanged",
    "The type format has been changed for the output field. Existing flows may be broken if they are using this "
    "field and actual payload has been changed.",
    fix="Keep the old format.",
)
def output_format_changed(change: Change) -> Iterator[Hit]:
    """A changed, added or removed ``format`` changes how flows read the field (dates, numbers)."""
    yield from _format_changes(change, _output_fields)


# --------------------------------------------------------------------------- authentication


def _auth_kinds(package: ConnectorPackage) -> tuple[set[str], set[str]]:
    kinds = {f"{s.type}:{s.flow or ''}".lower() for s in package.swagger.security_schemes()}
    providers: set[str] = set()
    params = package.api_properties.get("properties", {}) if isinstance(package.api_properties, dict) else {}
    conn = params.get("connectionParameters") if isinstance(params, dict) else None
    if isinstance(conn, dict):
        for value in conn.values():
            settings = value.get("oAuthSettings") or value.get("oauthSettings") if isinstance(value, dict) else None
            if isinstance(settings, dict) and settings.get("identityProvider"):
                providers.add(str(settings["identityProvider"]).lower())
    return kinds, providers


@_breaking(
    "AuthenticationTypeChanged",
    "Changing the authentication type of your connector in an update isn't allowed.",
    fix="Keep the authentication type; publish a new connector for a new sign-in kind.",
)
def authentication_changed(change: Change) -> Iterator[Hit]:
    """Existing connections were created with the old sign-in and cannot be migrated to another kind."""
    old_kinds, old_providers = _auth_kinds(change.old)
    new_kinds, new_providers = _auth_kinds(change.new)
    if old_kinds != new_kinds:
        yield _change_hit(NEW, "/securityDefinitions", "securityDefinitions")
    elif old_providers and new_providers and old_providers != new_providers:
        yield Hit("/properties/connectionParameters", ("connectionParameters",), file=f"{NEW}:{PROPERTIES}")


# --------------------------------------------------------------------------- running


def breaking_rules() -> list[Rule]:
    return [r for r in REGISTRY if r.on is On.DIFF]


def diff_packages(old: ConnectorPackage, new: ConnectorPackage, rules: list[Rule] | None = None) -> list[Finding]:
    """Breaking changes from ``old`` to ``new``, located in the file where each can be seen."""
    change = Change(old, new)
    findings: list[Finding] = []
    for r in rules if rules is not None else breaking_rules():
        for found in r.check(change):
            side, _, canonical = found.file.partition(":")
            package = old if side == OLD else new
            document = package.documents.get(canonical)
            line = column = None
            display = package.name_of(canonical)
            if document is not None:
                display = document.file
                line, column = document.locate(found.pointer)
            elif package.path is not None:
                display = str(package.path / display)
            findings.append(
                Finding(
                    rule=r.id,
                    severity=r.severity,
                    message=r.message,
                    file=display,
                    line=line,
                    column=column,
                    pointer=found.pointer,
                    value_path=str(found.args[0]) if found.args else None,
                )
            )
    findings.sort(key=lambda f: (f.file or "", f.line or 0, f.column or 0, f.rule))
    return findings
