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
from connectorkit.definition.swagger import Swagger
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
    """A lookup input: a literal, or the current value of the parameter a reference names. A
    reference such as ``body/appId`` reads into the body argument, or takes the argument given
    under that full name (inputs may be given either way)."""
    if isinstance(spec, dict):
        reference = spec.get("parameter", spec.get("parameterReference"))
        if isinstance(reference, str):
            if reference in arguments:
                return arguments[reference]
            name, _, inner = reference.partition("/")
            value = _walk(arguments[name], inner) if name in arguments else None
            if value is None:
                raise InputError(f"{where}: needs a value for '{reference}' first (-p {reference}=...)")
            return value
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


@dataclass(frozen=True)
class DynamicSchema:
    """A schema fetched for ``x-ms-dynamic-schema`` / ``x-ms-dynamic-properties``: where it is
    declared (``parameter body``, ``parameter body/item``, ``response 200``), the lookup
    operation, and the schema it answered (None with ``error`` set when the lookup failed)."""

    location: str
    operation_id: str
    schema: Any
    error: str | None = None

    @property
    def properties(self) -> list[str]:
        """Names of the properties the fetched schema declares (the inputs or outputs it adds)."""
        props = self.schema.get("properties") if isinstance(self.schema, dict) else None
        return sorted(props) if isinstance(props, dict) else []


def _dynamic_sites(swagger: Swagger, schema: Any, location: str, seen: set[int]) -> list[tuple[str, dict[str, Any]]]:
    """Every ``x-ms-dynamic-schema`` / ``-properties`` under ``schema`` with its location."""
    schema = swagger.deref(schema, "")[0]
    if not isinstance(schema, dict) or id(schema) in seen:
        return []
    seen.add(id(schema))
    sites: list[tuple[str, dict[str, Any]]] = []
    for key in ("x-ms-dynamic-properties", "x-ms-dynamic-schema"):
        spec = schema.get(key)
        if isinstance(spec, dict):
            sites.append((location, spec))
            break
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, child in properties.items():
            sites += _dynamic_sites(swagger, child, f"{location}/{name}", seen)
    sites += _dynamic_sites(swagger, schema.get("items"), location, seen)
    for part in schema.get("allOf") or []:
        sites += _dynamic_sites(swagger, part, location, seen)
    return sites


def dynamic_schemas(
    package: ConnectorPackage,
    operation_id: str,
    arguments: Mapping[str, Any],
    call: Callable[[str, dict[str, Any]], Any],
) -> list[DynamicSchema]:
    """Fetch every dynamic schema of ``operation_id`` (its parameters' and its responses'), as the
    designer does (runtime-semantics.md section 5.2): call the lookup operation with its inputs and
    take the schema at ``value-path`` / ``itemValuePath``, or the answer's root. A lookup that
    fails is reported in its entry, not raised, so one broken lookup hides no other."""
    op = find_operation(package.swagger, operation_id)
    swagger = package.swagger
    sites: list[tuple[str, dict[str, Any]]] = []
    seen: set[int] = set()
    for param in op.parameters:
        raw = param.raw
        for key in ("x-ms-dynamic-properties", "x-ms-dynamic-schema"):
            if isinstance(raw.get(key), dict):
                sites.append((f"parameter {param.name}", raw[key]))
                break
        schema = raw.get("schema")
        if schema is not None:
            sites += _dynamic_sites(swagger, schema, f"parameter {param.name}", seen)
    responses = op.raw.get("responses")
    for status, response in responses.items() if isinstance(responses, dict) else []:
        response = swagger.deref(response, "")[0]
        if isinstance(response, dict):
            sites += _dynamic_sites(swagger, response.get("schema"), f"response {status}", seen)
    found = []
    for location, spec in sites:
        target = spec.get("operationId")
        where = f"{op.operation_id} {location}"
        if not isinstance(target, str):
            found.append(DynamicSchema(location, "", None, "the dynamic extension names no operationId"))
            continue
        path = spec.get("itemValuePath", spec.get("value-path"))
        specs = spec.get("parameters") or {}
        try:
            args = {n: _resolve(v, arguments, where) for n, v in specs.items()} if isinstance(specs, dict) else {}
            answer = call(target, args)
        except InputError as failure:
            found.append(DynamicSchema(location, target, None, str(failure)))
            continue
        schema = _walk(answer, path if isinstance(path, str) else None)
        problem = None if isinstance(schema, dict) else f"{target} answered no schema at '{path or '(the root)'}'"
        found.append(DynamicSchema(location, target, schema if problem is None else None, problem))
    return found
