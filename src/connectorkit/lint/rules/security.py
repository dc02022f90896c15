"""Swagger Validator rules on security requirements (section "Security").

A security requirement (``security`` at the root or on an operation) is an object that maps
the name of a scheme in ``securityDefinitions`` to a list of OAuth scopes. The platform signs
requests from the scheme and the connection; the requirement has to name that scheme exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import pointer_join
from connectorkit.definition.swagger import Swagger
from connectorkit.lint.engine import Context
from connectorkit.lint.registry import Hit, On, hit, svr


@dataclass(frozen=True, slots=True)
class Requirement:
    """One ``name: [scopes]`` entry of a security requirement, where it is written."""

    name: str
    value: Any
    pointer: str  # the pointer of the entry (``/security/0/oauth2_auth``)


def requirements(ctx: Context) -> list[Requirement]:
    """Every entry of every security requirement: the root's, then each operation's."""
    return ctx.memo("security.requirements", lambda: _collect(ctx))


def _collect(ctx: Context) -> list[Requirement]:
    found: list[Requirement] = []

    def scan(security: Any, pointer: str) -> None:
        if not isinstance(security, list):
            return
        for index, requirement in enumerate(security):
            if isinstance(requirement, dict):
                base = f"{pointer}/{index}"
                for name, value in requirement.items():
                    found.append(Requirement(str(name), value, pointer_join(base, name)))

    scan(ctx.doc.get("security"), "/security")
    for op in ctx.operations:
        scan(op.raw.get("security"), op.pointer + "/security")
    return found


def _schemes(ctx: Context) -> dict[str, Any]:
    defs = ctx.doc.get("securityDefinitions")
    return defs if isinstance(defs, dict) else {}


def _scheme_type(scheme: Any) -> str | None:
    return str(scheme.get("type")) if isinstance(scheme, dict) and "type" in scheme else None


@svr("SecurityRequirementMustBeDefined", on=On.DOCUMENT, severity=Severity.ERROR)
def requirement_must_be_defined(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A security requirement tells the platform which scheme authenticates the request, so a
    name that matches no entry of ``securityDefinitions`` points at nothing and cannot be honoured.

    Names are case-sensitive: ``API Key`` (the wizard's label) does not name ``api_key``.
    """
    schemes = _schemes(ctx)
    for entry in requirements(ctx):
        if entry.name not in schemes:
            yield hit(entry.pointer, entry.name)


@svr("SecurityRequirementMustHaveValue", on=On.DOCUMENT, severity=Severity.ERROR)
def requirement_must_have_value(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Swagger 2.0 defines a security requirement's value as the list of scopes the request needs,
    so a ``null`` value says nothing; write ``[]`` when no scopes are needed."""
    for entry in requirements(ctx):
        if entry.value is None:
            yield hit(entry.pointer, entry.name)


@svr("SecurityRequirementMustHaveEmptyValue", on=On.DOCUMENT, severity=Severity.ERROR)
def requirement_must_have_empty_value(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Only OAuth 2.0 schemes have scopes, so a requirement on a basic or API key scheme must be ``[]``.

    Scopes listed for such a scheme mean nothing to the platform; they usually show that the
    wrong scheme is named or that connection parameters were written into the requirement.
    """
    schemes = _schemes(ctx)
    for entry in requirements(ctx):
        if entry.name not in schemes or not isinstance(entry.value, list) or not entry.value:
            continue
        kind = _scheme_type(schemes[entry.name])
        if kind is not None and kind != "oauth2":
            yield hit(entry.pointer, entry.name)


def _scope_defined(scope: str, scopes: dict[str, Any]) -> bool:
    if scope in scopes:
        return True
    parts = scope.split()
    return len(parts) > 1 and all(part in scopes for part in parts)


@svr("OAuthSecurityRequirementValueMustBeScopeName", on=On.DOCUMENT, severity=Severity.ERROR)
def oauth_scope_must_be_defined(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The scopes a connection consents to come from the OAuth scheme's ``scopes``, so a
    requirement can only ask for scopes declared there.

    A value holding several space-separated scopes is accepted when each of them is declared.
    """
    schemes = _schemes(ctx)
    for entry in requirements(ctx):
        scheme = schemes.get(entry.name)
        if _scheme_type(scheme) != "oauth2" or not isinstance(entry.value, list):
            continue
        declared = scheme.get("scopes") if isinstance(scheme, dict) else None
        scopes = declared if isinstance(declared, dict) else {}
        for index, scope in enumerate(entry.value):
            if isinstance(scope, str) and not _scope_defined(scope, scopes):
                yield hit(f"{entry.pointer}/{index}", entry.name, scope)
