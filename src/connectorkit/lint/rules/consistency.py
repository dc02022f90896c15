"""Cross-file rules: names one file uses that another file must define.

Policies in ``apiProperties.json`` name operations of the definition and refer to connection
parameters; ``scriptOperations`` names the operations routed through ``script.csx``. A name
that leads nowhere is silently ignored by the platform, so the policy or the script never runs
where the author meant it to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import pointer_join
from connectorkit.definition.package import PROPERTIES, ConnectorPackage
from connectorkit.lint.engine import Context
from connectorkit.lint.registry import Category, Hit, On, hit, rule
from connectorkit.lint.rules.api_properties import (
    OPERATION_NAME,
    POLICY_SOURCE,
    connection_parameters,
    policy_instances,
    properties_of,
)

_CONNECTION_PARAMETER = re.compile(
    r"""@connectionParameters\(\s*(['"])(?P<name>.*?)\1\s*(?P<default>,\s*(['"]).*?\4\s*)?\)""", re.IGNORECASE
)

_POLICY_OPERATION = "The policy names the operation '{0}', which the definition does not have."
_SCRIPT_OPERATION = "'scriptOperations' names the operation '{0}', which the definition does not have."


@rule(
    "PolicyOperationNotFound",
    category=Category.CONSISTENCY,
    severity=Severity.WARNING,
    message=_POLICY_OPERATION,
    on=On.PACKAGE,
    fix="Use the operationId of an operation in apiDefinition.swagger.json, or remove the entry.",
    source=POLICY_SOURCE,
    microsoft=False,
)
def policy_operation_not_found(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """``x-ms-apimTemplate-operationName`` limits a policy to the listed operations. A name
    that is no operationId of the definition (a typo, or an operation renamed or removed) makes
    the policy silently skip the operation it was written for.

    A warning: the platform imports the connector and ignores the stale name.
    """
    for policy in policy_instances(ctx):
        names = policy.parameters.get(OPERATION_NAME)
        if not isinstance(names, list):
            continue
        for index, name in enumerate(names):
            if isinstance(name, str) and (message := _missing_operation(ctx, name, _POLICY_OPERATION)) is not None:
                yield hit(
                    f"{policy.pointer}/parameters/{OPERATION_NAME}/{index}", name, file=PROPERTIES, message=message
                )


@rule(
    "ScriptOperationNotFound",
    category=Category.CONSISTENCY,
    severity=Severity.WARNING,
    message=_SCRIPT_OPERATION,
    on=On.PACKAGE,
    fix="Use the operationId of an operation in apiDefinition.swagger.json, or remove the entry.",
    source="https://learn.microsoft.com/en-us/connectors/custom-connectors/paconn-cli",
    microsoft=False,
)
def script_operation_not_found(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """``properties.scriptOperations`` lists the operations whose requests go through
    ``script.csx``. A name that is no operationId of the definition routes nothing, and the
    operation it was meant for runs without its code."""
    props = properties_of(ctx)
    names = props.get("scriptOperations") if props else None
    if not isinstance(names, list):
        return
    for index, name in enumerate(names):
        if isinstance(name, str) and (message := _missing_operation(ctx, name, _SCRIPT_OPERATION)) is not None:
            yield hit(f"/properties/scriptOperations/{index}", name, file=PROPERTIES, message=message)


def _missing_operation(ctx: Context, name: str, template: str) -> str | None:
    """``None`` when ``name`` is an operationId, else the message (naming a case-only near miss)."""
    if name in ctx.operations_by_id:
        return None
    folded = ctx.memo("consistency.operations_by_fold", lambda: {k.lower(): k for k in ctx.operations_by_id})
    near = folded.get(name.lower())
    message = template.format(name)
    if near is not None:
        message = f"{message[:-1]}; did you mean '{near}'? Operation ids are matched exactly."
    return message


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield value, pointer
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _strings(child, pointer_join(pointer, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, f"{pointer}/{index}")


@rule(
    "ConnectionParameterReferenceNotFound",
    category=Category.CONSISTENCY,
    severity=Severity.ERROR,
    message="The policy refers to the connection parameter '{0}', which {1}.",
    on=On.PACKAGE,
    fix="Use the name of a connection parameter from apiProperties.json, or give a default: "
    "@connectionParameters('name', 'default').",
    source=POLICY_SOURCE,
    microsoft=False,
)
def connection_parameter_reference_not_found(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """``@connectionParameters('name')`` in a policy reads a value of the user's connection. A
    name no connection parameter has yields nothing, so the header, host or query value the
    policy builds is wrong on every call.

    With ``connectionParameterSets`` the user picks one set, so the name must be in every set
    (or in the shared ``connectionParameters``). A reference with a default,
    ``@connectionParameters('name', 'default')``, is allowed to miss.
    """
    params = connection_parameters(ctx)
    if not policy_instances(ctx):
        return
    shared = {p.name.lower() for p in params if p.set_index is None}
    sets: dict[int, set[str]] = {}
    for p in params:
        if p.set_index is not None:
            sets.setdefault(p.set_index, set()).add(p.name.lower())
    props = properties_of(ctx) or {}
    set_list = props.get("connectionParameterSets", {})
    set_count = len(set_list.get("values") or []) if isinstance(set_list, dict) else 0
    for policy in policy_instances(ctx):
        for text, pointer in _strings(policy.raw.get("parameters"), policy.pointer + "/parameters"):
            if "@" not in text:
                continue
            for match in _CONNECTION_PARAMETER.finditer(text):
                name = match.group("name")
                if match.group("default") is not None or name.lower() in shared:
                    continue
                missing = [i for i in range(set_count) if name.lower() not in sets.get(i, set())]
                if not set_count:
                    yield hit(pointer, name, "is not defined", file=PROPERTIES)
                elif missing:
                    where = (
                        "is in no connection parameter set"
                        if len(missing) == set_count
                        else ("is missing from connection parameter set " + ", ".join(str(i) for i in missing))
                    )
                    yield hit(pointer, name, where, file=PROPERTIES)
