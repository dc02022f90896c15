"""Swagger Validator rules on operations and their paths (section "Operations")."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import pointer_join
from connectorkit.definition.swagger import Operation, Swagger
from connectorkit.lint.engine import Context, ParameterNode, PathItemNode
from connectorkit.lint.registry import Hit, On, hit, svr

MAX_OPERATIONS = 256
SUMMARY_LIMIT = 120
NEXT_LINK_NAMES = ("nextLink", "@odata.nextLink")
_TEMPLATE_VARIABLE = re.compile(r"\{([^{}/]*)\}")


def _op_name(op: Operation) -> str:
    return op.operation_id or f"{op.method.upper()} {op.path}"


# --------------------------------------------------------------------------- operation ids


@svr("OperationIdRequired", on=On.OPERATION, severity=Severity.ERROR)
def operation_id_required(ctx: Context, op: Operation) -> Iterator[Hit]:
    """Every operation needs an ``operationId``: flows and apps call actions by it."""
    if not isinstance(op.raw.get("operationId"), str) or not op.raw.get("operationId"):
        yield hit(op.pointer)


@svr("OperationIdNotUnique", on=On.DOCUMENT, severity=Severity.ERROR)
def operation_id_not_unique(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Two operations share an ``operationId``, so a flow could not tell which one it calls."""
    seen: dict[str, Operation] = {}
    for op in ctx.operations:
        key = op.operation_id
        if key is None:
            continue
        if key in seen:
            yield hit(op.pointer + "/operationId", key)
        else:
            seen[key] = op


@svr("OperationIdSanitized", on=On.OPERATION, severity=Severity.WARNING, keys=("operationId",))
def operation_id_sanitized(ctx: Context, op: Operation) -> Iterator[Hit]:
    """The ``operationId`` holds characters other than letters, digits and underscores.

    The platform derives identifiers from the operationId by dropping such characters, so the
    name a flow shows differs from the one written.
    """
    value = op.raw.get("operationId")
    if isinstance(value, str) and value:
        sanitized = re.sub(r"[^A-Za-z0-9_]", "", value)
        if sanitized != value:
            yield hit(op.pointer + "/operationId", sanitized)


# --------------------------------------------------------------------------- responses


@svr("OperationMustHaveResponse", on=On.OPERATION, severity=Severity.ERROR)
def operation_must_have_response(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation must describe at least one response."""
    responses = op.raw.get("responses")
    if not isinstance(responses, dict) or not responses:
        yield hit(op.pointer)


@svr("OperationShouldHaveSuccessfulResponse", on=On.OPERATION, severity=Severity.WARNING, keys=("responses",))
def operation_should_have_successful_response(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation should describe at least one 2xx response: that is what the designer shows."""
    responses = op.responses
    if responses and not any(str(code).startswith("2") for code in responses):
        yield hit(op.pointer + "/responses", _op_name(op))


# --------------------------------------------------------------------------- parameters


@svr("OperationParametersContainMultipleBodyParameters", on=On.OPERATION, severity=Severity.ERROR)
def multiple_body_parameters(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation can send at most one body, so at most one parameter may be ``in: body``."""
    bodies = [p for p in op.parameters if p.location == "body"]
    if len(bodies) > 1:
        yield hit(bodies[1].pointer, _op_name(op))


@svr("BodyOrFormDataParameterInFetchOperationNotAllowed", on=On.OPERATION, severity=Severity.ERROR)
def body_in_get(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A GET request carries no body, so it cannot have body or form data parameters."""
    if op.method != "get":
        return
    for param in op.parameters:
        if param.location in ("body", "formData"):
            yield hit(param.pointer)


@svr("ConnectionIdParameterNotAllowed", on=On.PARAMETER, severity=Severity.ERROR, keys=("name",))
def connection_id_parameter(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """``connectionId`` is the platform's own parameter; a connector cannot declare one."""
    if node.name.lower() == "connectionid":
        yield hit(node.pointer + "/name")


@svr("PathParameterMustBeRequired", on=On.PARAMETER, severity=Severity.ERROR, keys=("in",))
def path_parameter_required(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """A value in the URL path cannot be left out, so a path parameter must say ``required: true``."""
    if node.location == "path" and node.raw.get("required") is not True:
        yield hit(node.pointer)


def _template_names(path: str) -> list[str]:
    return [m.group(1) for m in _TEMPLATE_VARIABLE.finditer(path)]


@svr("PathParameterNotDefinedInTemplate", on=On.OPERATION, severity=Severity.ERROR)
def path_parameter_not_in_template(ctx: Context, op: Operation) -> Iterator[Hit]:
    """A parameter says ``in: path`` but the path template has no ``{name}`` for it."""
    names = set(_template_names(op.path))
    for param in op.parameters:
        if param.location == "path" and param.name not in names:
            yield hit(param.pointer, param.name)


@svr("OperationMissingPathParameter", on=On.OPERATION, severity=Severity.ERROR)
def operation_missing_path_parameter(ctx: Context, op: Operation) -> Iterator[Hit]:
    """The path template has a ``{name}`` that no path parameter of the operation fills."""
    declared = {p.name for p in op.parameters if p.location == "path"}
    for name in _template_names(op.path):
        if name and name not in declared:
            yield hit(op.pointer, _op_name(op), name)


# --------------------------------------------------------------------------- paths


def _route_shape(path: str) -> tuple[str, ...]:
    # A trailing slash makes a different route: certified connectors (Oneflow, Easyvista) have
    # both '/contracts/{id}' and '/contracts/{id}/'.
    return tuple("{}" if _TEMPLATE_VARIABLE.fullmatch(seg) else seg.lower() for seg in path.split("/"))


@svr("DuplicateOperationPath", on=On.DOCUMENT, severity=Severity.ERROR)
def duplicate_operation_path(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Two operations with the same verb differ only in the names of their path variables, so
    the platform cannot tell which one a request is for."""
    seen: dict[tuple[str, tuple[str, ...]], Operation] = {}
    for op in ctx.operations:
        key = (op.method, _route_shape(op.path))
        first = seen.get(key)
        if first is None:
            seen[key] = op
        elif first.path != op.path:
            yield hit(op.pointer, _op_name(first), _op_name(op), first.path, op.path)


@svr("PathRedefined", on=On.DOCUMENT, severity=Severity.ERROR)
def path_redefined(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Paths are matched without regard to case, so two paths differing only in case collide."""
    seen: dict[str, str] = {}
    for path in swagger.paths:
        folded = path.lower()
        if folded in seen:
            yield hit(pointer_join("/paths", path), path)
        else:
            seen[folded] = path


@svr("TotalOperationsCountExceedsMaxAllowed", on=On.DOCUMENT, severity=Severity.ERROR)
def too_many_operations(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A connector may define at most 256 operations."""
    if len(ctx.operations) > MAX_OPERATIONS:
        yield hit("/paths", MAX_OPERATIONS)


@svr("OperationPathMustStartWithSlash", on=On.PATH_ITEM, severity=Severity.ERROR)
def path_must_start_with_slash(ctx: Context, node: PathItemNode) -> Iterator[Hit]:
    """Paths are appended to the base path, so each must begin with ``/``."""
    if not node.path.startswith("/"):
        yield hit(node.pointer)


@svr("OperationPathContainsUnsupportedCharacters", on=On.PATH_ITEM, severity=Severity.ERROR)
def path_wildcard(ctx: Context, node: PathItemNode) -> Iterator[Hit]:
    """The platform routes on exact path templates; a ``*`` wildcard cannot be routed."""
    if "*" in node.path:
        yield hit(node.pointer)


@svr("OperationPathMayNotContainQueryOrFragment", on=On.PATH_ITEM, severity=Severity.ERROR)
def path_query_or_fragment(ctx: Context, node: PathItemNode) -> Iterator[Hit]:
    """A path key holds ``?`` or ``#``: query parameters must be declared as parameters instead."""
    if "?" in node.path or "#" in node.path:
        yield hit(node.pointer)


def _template_is_valid(path: str) -> bool:
    depth = 0
    for char in path:
        if char == "{":
            depth += 1
            if depth > 1:
                return False
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
        elif char == "/" and depth:
            return False
    return depth == 0


@svr("OperationPathTemplateNotValid", on=On.PATH_ITEM, severity=Severity.ERROR)
def path_template_not_valid(ctx: Context, node: PathItemNode) -> Iterator[Hit]:
    """Every ``{`` in a path must close with ``}`` within the same path segment."""
    if not _template_is_valid(node.path):
        yield hit(node.pointer)


@svr("OperationPathVariablesContainDefaults", on=On.PATH_ITEM, severity=Severity.ERROR)
def path_variable_defaults(ctx: Context, node: PathItemNode) -> Iterator[Hit]:
    """A path variable such as ``{id=1}`` tries to give a default; use the parameter's ``default``."""
    if any("=" in name for name in _template_names(node.path)):
        yield hit(node.pointer)


# --------------------------------------------------------------------------- extensions


@svr("InvalidNextLinkNameValue", on=On.OPERATION, severity=Severity.WARNING, keys=("x-ms-pageable",))
def invalid_next_link_name(ctx: Context, op: Operation) -> Iterator[Hit]:
    """Paging follows ``nextLink`` or ``@odata.nextLink`` only; other names are not followed.

    Some certified connectors use other spellings (``nextlink``), so this is a warning.
    """
    pageable: Any = op.raw.get("x-ms-pageable")
    name = pageable.get("nextLinkName") if isinstance(pageable, dict) else None
    if isinstance(name, str) and name not in NEXT_LINK_NAMES:
        yield hit(op.pointer + "/x-ms-pageable/nextLinkName", _op_name(op))


@svr("OperationSummaryTooLong", on=On.OPERATION, severity=Severity.WARNING, keys=("summary",))
def summary_too_long(ctx: Context, op: Operation) -> Iterator[Hit]:
    """Long summaries are cut off in the designer; keep them under 120 characters."""
    summary = op.raw.get("summary")
    if isinstance(summary, str) and len(summary) >= SUMMARY_LIMIT:
        yield hit(op.pointer + "/summary", SUMMARY_LIMIT)
