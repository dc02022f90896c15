"""Dynamic values: the choices a parameter offers, fetched by calling another operation.

``x-ms-dynamic-list`` is preferred over ``x-ms-dynamic-values`` when both are present (the
platform's newer form). Parameters of the called operation come from literal values or from the
current arguments (``{"parameter": "x"}`` / ``{"parameterReference": "x"}``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.runtime.request import find_operation


@dataclass(frozen=True)
class Choice:
    value: Any
    title: str


def _walk(value: Any, path: str | None) -> Any:
    if not path:
        return value
    for step in path.replace(".", "/").split("/"):
        if not step:
            continue
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _resolve(spec: Any, arguments: Mapping[str, Any], where: str) -> Any:
    if isinstance(spec, dict):
        reference = spec.get("parameter", spec.get("parameterReference"))
        if isinstance(reference, str):
            name = reference.split("/", 1)[0] if reference not in arguments else reference
            if name not in arguments:
                raise InputError(f"{where}: needs a value for '{reference}' first (-p {reference}=...)")
            return arguments[name]
        if "value" in spec:
            return spec["value"]
    return spec


def dynamic_choices(
    package: ConnectorPackage,
    operation_id: str,
    parameter: str,
    arguments: Mapping[str, Any],
    call: Callable[[str, dict[str, Any]], Any],
) -> list[Choice]:
    """The choices of ``parameter`` of ``operation_id``; ``call(operation, args)`` returns the
    JSON the referenced operation answered."""
    op = find_operation(package.swagger, operation_id)
    param = next((p.raw for p in op.parameters if p.name == parameter), None)
    if param is None:
        names = ", ".join(p.name for p in op.parameters)
        raise InputError(f"{op.operation_id} has no parameter {parameter!r} (it has: {names})")
    where = f"{op.operation_id}.{parameter}"
    listed = param.get("x-ms-dynamic-list")
    values = param.get("x-ms-dynamic-values")
    if isinstance(listed, dict):
        target, specs = listed.get("operationId"), listed.get("parameters") or {}
        collection, value_path, title_path = (
            listed.get("itemsPath"),
            listed.get("itemValuePath"),
            listed.get("itemTitlePath"),
        )
    elif isinstance(values, dict):
        target, specs = values.get("operationId"), values.get("parameters") or {}
        collection, value_path, title_path = (
            values.get("value-collection"),
            values.get("value-path"),
            values.get("value-title"),
        )
    else:
        raise InputError(f"{where}: has no x-ms-dynamic-values or x-ms-dynamic-list")
    if not isinstance(target, str):
        raise InputError(f"{where}: the dynamic extension names no operationId")
    args = {name: _resolve(spec, arguments, where) for name, spec in specs.items()} if isinstance(specs, dict) else {}
    answer = call(target, args)
    items = _walk(answer, collection if isinstance(collection, str) else None)
    if not isinstance(items, list):
        raise InputError(f"{where}: {target} answered no list at '{collection or '(the root)'}'")
    choices = []
    for item in items:
        value = _walk(item, value_path) if isinstance(value_path, str) else item
        title = _walk(item, title_path) if isinstance(title_path, str) else None
        choices.append(Choice(value, str(title if title is not None else value)))
    return choices
