"""What the API and the console show about a connector: its operations, their parameters (with
body samples to start editing from, made by :mod:`connectorkit.runtime.samples`) and the
connection parameters a form asks for.

Everything here reads the definition; nothing calls a backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectorkit.definition.models import ConnectionParameter
from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import Operation, Parameter, Swagger
from connectorkit.runtime.request import find_operation
from connectorkit.runtime.samples import sample_body
from connectorkit.server.schemas import (
    AllowedValue,
    ConnectionField,
    DynamicSource,
    OperationDetail,
    OperationItem,
    ParameterItem,
)

_VISIBILITY_ORDER = {"important": 0, None: 1, "none": 1, "advanced": 2, "internal": 3}


def _text(value: Any) -> str | None:
    return str(value) if value is not None and value != "" else None


def operation_item(op: Operation) -> OperationItem:
    return OperationItem(
        operation_id=op.operation_id or f"{op.method.upper()} {op.path}",
        summary=_text(op.summary),
        description=_text(op.raw.get("description")),
        method=op.method.upper(),
        path=op.path,
        trigger=op.trigger_kind,
        visibility=_text(op.raw.get("x-ms-visibility")),
        deprecated=op.raw.get("deprecated") is True,
    )


def operations(package: ConnectorPackage) -> list[OperationItem]:
    """Every operation with an operationId, in definition order."""
    return [operation_item(op) for op in package.swagger.operations() if op.operation_id]


def describe_operation(package: ConnectorPackage, connector: str, operation_id: str) -> OperationDetail:
    """The operation and its parameters, required ones first, then by visibility (important,
    plain, advanced, internal), each group in definition order."""
    op = find_operation(package.swagger, operation_id)
    items = [parameter_item(package.swagger, param) for param in op.parameters]
    items.sort(key=lambda p: (not p.required, _VISIBILITY_ORDER.get(p.visibility, 1)))
    return OperationDetail(**operation_item(op).model_dump(), connector=connector, parameters=items)


def parameter_item(swagger: Swagger, param: Parameter) -> ParameterItem:
    raw = param.raw
    schema = swagger.deref(raw.get("schema"), "")[0] if param.location == "body" else raw
    schema = schema if isinstance(schema, dict) else {}
    enum = schema.get("enum") if isinstance(schema.get("enum"), list) else None
    return ParameterItem(
        name=param.name,
        location=param.location,
        type=_text(schema.get("type")) or ("object" if isinstance(schema.get("properties"), dict) else None),
        format=_text(schema.get("format")),
        required=param.required,
        visibility=_text(param.visibility),
        summary=_text(raw.get("x-ms-summary")),
        description=_text(raw.get("description")),
        default=schema.get("default"),
        enum=enum,
        dynamic=_dynamic(raw),
        body_sample=_body_sample(swagger, raw.get("schema")) if param.location == "body" else None,
    )


def _body_sample(swagger: Swagger, schema: Any) -> Any:
    """Where the console's body editor starts: every property a person may fill (the author's
    example where it is valid), without the internal ones request building fills from their
    defaults. The same generator the fidelity benchmark checks, so the start is a valid body."""
    return sample_body(swagger, schema, optional=True, examples=True, internal=False)


def _dynamic(raw: Mapping[str, Any]) -> DynamicSource | None:
    for key, kind in (("x-ms-dynamic-list", "list"), ("x-ms-dynamic-values", "values")):
        spec = raw.get(key)
        if isinstance(spec, dict):
            target = spec.get("operationId")
            parameters = spec.get("parameters")
            return DynamicSource(
                kind=kind,
                operation_id=target if isinstance(target, str) else None,
                parameters=parameters if isinstance(parameters, dict) else {},
            )
    return None


def connection_fields(declared: Mapping[str, ConnectionParameter]) -> list[ConnectionField]:
    """The declared connection parameters in tabIndex order (then declaration order)."""
    fields = []
    for index, (name, spec) in enumerate(declared.items()):
        ui = spec.uiDefinition
        constraints = ui.constraints if ui else None
        allowed = [AllowedValue(value=v.value, text=v.text or str(v.value)) for v in spec.allowedValues or []]
        if constraints is not None and constraints.allowedValues:
            allowed += [AllowedValue(value=v.value, text=v.text or str(v.value)) for v in constraints.allowedValues]
        field = ConnectionField(
            name=name,
            type=spec.type or "string",
            display_name=(ui.displayName if ui and ui.displayName else name),
            description=(ui.description if ui else None) or None,
            required=constraints is not None and str(constraints.required).lower() == "true",
            secret=spec.is_secret,
            hidden=constraints is not None and str(constraints.hidden).lower() == "true",
            oauth=spec.is_oauth,
            default=spec.defaultValue,
            allowed_values=allowed,
        )
        fields.append((_tab_index(constraints.tabIndex if constraints else None, index), field))
    return [field for _, field in sorted(fields, key=lambda pair: pair[0])]


def _tab_index(value: int | str | None, position: int) -> tuple[int, int]:
    try:
        return (int(value), position) if value is not None else (10_000, position)
    except ValueError:
        return (10_000, position)
