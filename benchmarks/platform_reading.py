"""The platform reading of a connector definition: the backend the platform calls, for a mock.

``benchmarks/fidelity.py`` judges connectorkit's requests with a Prism mock of each corpus
definition. Read literally, a definition describes a few requests the platform never makes and
leaves out ones it does make, so a mock of the literal text rejects what the real backend gets.
:func:`platform_reading` rewrites exactly two things, both taken from how the runtime sends the
request (/work/shared/reference/runtime-semantics.md), and nothing else: parameters, types,
``required``, schemas and security stay as declared.

1. **A body with no ``consumes``.** An operation that sends a body while neither it nor the
   document lists ``consumes`` (an empty list counts as none) is sent as JSON: an ``in: body``
   object is "JSON-serialized" (§1.6), and ``application/json`` is the media type the runtime
   picks (§1.6 "Emulator Content-Type choice"), which connectorkit's request builder uses too
   (``runtime/request.py`` ``_Builder._body``). Prism refuses every body of an operation with no
   media type, so the reading declares ``consumes: ["application/json"]`` on that operation.
   Form fields with no ``consumes`` get the type §1.6 names for them: ``multipart/form-data``
   with a ``type: file`` field, else ``application/x-www-form-urlencoded``.
2. **A ``pollingtrigger`` operation's path without ``/trigger``.** The policy calls the backend at
   the operation's path minus its leading ``/trigger`` segment (§4.3 and §9 gap 2: inferred from
   every corpus connector; connectorkit's ``PolicyOptions.strip_trigger_prefix``, applied by
   ``runtime/policies.py`` ``_polling_trigger`` with :func:`strip_trigger_prefix`). The reading
   declares the stripped path with a copy of the same operation (path-level parameters folded
   in), so Prism judges the poll's parameters. A stripped path the definition already declares
   for that method is left alone: the declared operation there is the backend's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from connectorkit.definition.swagger import Operation, Swagger
from connectorkit.runtime.policies import strip_trigger_prefix

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


CONSUMES = "consumes declared"
STRIPPED = "stripped trigger path declared"
ALREADY = "stripped trigger path already declared"


@dataclass(frozen=True)
class Change:
    """One rewrite: its kind (:data:`CONSUMES`, :data:`STRIPPED`, or :data:`ALREADY` for a
    stripped path left to the operation the definition declares there) and what it touched."""

    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass
class Reading:
    """The rewritten definition (a deep copy; the input is never changed) and its changes."""

    definition: dict[str, Any]
    changes: list[Change] = field(default_factory=list)


def platform_reading(
    definition: dict[str, Any],
    polling_operations: Collection[str] = (),
    strip: Callable[[str], str] = strip_trigger_prefix,
) -> Reading:
    """``definition`` as the platform reads it (see the module docstring). ``polling_operations``
    are the operationIds a ``pollingtrigger`` instance names; ``strip`` is the path rewrite the
    runtime applies to them."""
    out = Reading(copy.deepcopy(definition))
    swagger = Swagger(out.definition)
    operations = list(swagger.operations())
    for op in operations:
        _declare_body_type(swagger, op, out.changes)
    for op in operations:
        if op.operation_id is not None and op.operation_id in polling_operations:
            _declare_stripped_path(swagger, op, strip(op.path), out.changes)
    return out


def _label(op: Operation) -> str:
    return f"{op.method.upper()} {op.path} ({op.operation_id or 'no operationId'})"


def _declare_body_type(swagger: Swagger, op: Operation, changes: list[Change]) -> None:
    """``consumes`` for an operation that sends a body and lists no media type, own or inherited."""
    listed = op.raw["consumes"] if "consumes" in op.raw else swagger.doc.get("consumes")
    if isinstance(listed, list) and any(isinstance(m, str) and m.strip() for m in listed):
        return
    locations = {p.location for p in op.parameters}
    if "body" in locations:
        media = JSON
    elif "formData" in locations:
        has_file = any(p.location == "formData" and p.raw.get("type") == "file" for p in op.parameters)
        media = MULTIPART if has_file else FORM
    else:
        return
    op.raw["consumes"] = [media]
    changes.append(Change(CONSUMES, f"{media} for {_label(op)}"))


def _declare_stripped_path(swagger: Swagger, op: Operation, stripped: str, changes: list[Change]) -> None:
    """The operation also at ``stripped``, unless that is its own path or already declared."""
    if stripped == op.path:
        return
    paths = swagger.doc["paths"]
    item = paths.get(stripped)
    if isinstance(item, dict) and op.method in item:
        changes.append(Change(ALREADY, f"{op.method.upper()} {stripped} judges the poll of {_label(op)}"))
        return
    twin = copy.deepcopy(op.raw)
    if op.path_item.get("parameters"):
        twin["parameters"] = [copy.deepcopy(p.raw) for p in op.parameters]
    if not isinstance(item, dict):
        item = paths[stripped] = {}
    item[op.method] = twin
    changes.append(Change(STRIPPED, f"{op.method.upper()} {stripped} for {_label(op)}"))


__all__ = ["ALREADY", "CONSUMES", "STRIPPED", "Change", "Reading", "platform_reading"]
