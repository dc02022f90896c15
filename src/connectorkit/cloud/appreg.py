"""The app registration behind an OAuth connector, converged through Microsoft Graph.

What people do by hand in the Entra admin center (``cloud-apis.md`` section 0, steps 2-7):
register a single-tenant app with the Power Platform redirect URI and implicit grant, declare
Microsoft Graph permissions, create the service principal, grant admin consent, add a client
secret. :func:`converge` does it idempotently from a :class:`Desired` state:

- the app is found by ``appId`` or display name and created only when missing;
- collections (redirect URIs, required permissions, the delegated grant's scope, app role
  assignments) are read, merged and written back whole, so what someone added elsewhere stays,
  unless ``exact`` asks for exactly the desired set;
- permissions are given by name and resolved through Microsoft Graph's service principal, an
  unknown name being an input error that lists close matches;
- a client secret is added only when the app has no valid one, or when asked.

:func:`plan` computes the same differences without writing (``appreg show``), and
:func:`credential_report` the expiry of client secrets and certificates (``appreg secrets``).
:func:`add_secret` and :func:`remove_secret` are the two halves of a rotation.
"""

from __future__ import annotations

import calendar
import difflib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectorkit.cloud.graph import GRAPH_APP_ID, Graph, parse_graph_time
from connectorkit.errors import ConnectorkitError, InputError

GLOBAL_REDIRECT_URI = "https://global.consent.azure-apim.net/redirect"
"""The redirect URI of connectors whose ``redirectMode`` is ``Global`` (A.13)."""

PRESETS: dict[str, tuple[str, ...]] = {
    "teams-governance": (
        "email",
        "offline_access",
        "openid",
        "profile",
        "Directory.AccessAsUser.All",
        "Group.ReadWrite.All",
        "InformationProtectionPolicy.Read",
        "Mail.Send",
        "User.Read",
        "User.Read.All",
    ),
}
"""Named sets of Microsoft Graph delegated permissions (``--permissions teams-governance``)."""

DEFAULT_SECRET_EXPIRY = "24m"
MAX_SECRET_YEARS = 100
"""The longest ``--secret-expiry`` accepted: Graph sets no documented limit, a typo should not pass."""
AUDIENCE = "AzureADMyOrg"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Desired:
    """What the app registration should look like. ``name`` or ``app_id`` finds it."""

    name: str | None = None
    app_id: str | None = None
    redirect_uris: tuple[str, ...] = (GLOBAL_REDIRECT_URI,)
    access_tokens: bool = True
    id_tokens: bool = True
    delegated: tuple[str, ...] = ()
    application: tuple[str, ...] = ()
    consent: bool = True
    exact: bool = False

    @property
    def label(self) -> str:
        return self.name or self.app_id or "?"


@dataclass(frozen=True)
class Change:
    """One difference between what exists and what is asked: ``action`` is create, add, remove or set."""

    action: str
    target: str
    value: str

    def text(self) -> str:
        sign = {"create": "+", "add": "+", "remove": "-", "set": "~"}.get(self.action, "~")
        return f"{sign} {self.action} {self.target}: {self.value}"

    def as_json(self) -> dict[str, str]:
        return {"action": self.action, "target": self.target, "value": self.value}


@dataclass(frozen=True)
class NewSecret:
    """A client secret just added. ``value`` is shown once and never in ``repr``."""

    key_id: str
    display_name: str
    end: datetime
    value: str = field(repr=False)


@dataclass(frozen=True)
class CredentialStatus:
    """One client secret or certificate and how long it has left."""

    kind: str
    key_id: str
    display_name: str | None
    hint: str | None
    start: datetime | None
    end: datetime | None
    state: str
    """expired, expiring (within the warning window) or valid."""
    days_left: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "keyId": self.key_id,
            "displayName": self.display_name,
            "hint": f"{self.hint}***" if self.hint else None,
            "startDateTime": _iso(self.start),
            "endDateTime": _iso(self.end),
            "state": self.state,
            "daysLeft": self.days_left,
        }


@dataclass(frozen=True)
class Permissions:
    """Microsoft Graph's permissions in this tenant: the service principal id (the consent
    ``resourceId``) and name <-> id tables for delegated scopes and application roles."""

    graph_sp_id: str
    scopes: dict[str, str]
    roles: dict[str, str]

    @classmethod
    def of(cls, graph_sp: dict[str, Any]) -> Permissions:
        scopes = {
            str(s["value"]): str(s["id"])
            for s in graph_sp.get("oauth2PermissionScopes") or []
            if s.get("isEnabled", True) and s.get("value")
        }
        roles = {
            str(r["value"]): str(r["id"])
            for r in graph_sp.get("appRoles") or []
            if r.get("isEnabled", True) and r.get("value") and "Application" in (r.get("allowedMemberTypes") or [])
        }
        return cls(str(graph_sp["id"]), scopes, roles)

    def scope_name(self, scope_id: str) -> str:
        return next((name for name, value in self.scopes.items() if value == scope_id), scope_id)

    def role_name(self, role_id: str) -> str:
        return next((name for name, value in self.roles.items() if value == role_id), role_id)

    def check(self, desired: Desired) -> None:
        """Every asked name exists; otherwise an :class:`InputError` with close matches."""
        for names, table, option, kind in (
            (desired.delegated, self.scopes, "--permissions", "delegated"),
            (desired.application, self.roles, "--app-permissions", "application"),
        ):
            for name in names:
                if name not in table:
                    raise InputError(f"{option} {name}: {_unknown(name, table, kind)}")

    def wanted_access(self, desired: Desired) -> list[dict[str, str]]:
        """``resourceAccess`` entries for the asked permissions (A.7: ``Scope`` or ``Role``)."""
        return [{"id": self.scopes[n], "type": "Scope"} for n in desired.delegated] + [
            {"id": self.roles[n], "type": "Role"} for n in desired.application
        ]


def _unknown(name: str, table: dict[str, str], kind: str) -> str:
    lowered = {key.lower(): key for key in table}
    close = [lowered[m] for m in difflib.get_close_matches(name.lower(), list(lowered), n=4, cutoff=0.6)]
    if name.lower() in lowered and lowered[name.lower()] not in close:
        close.insert(0, lowered[name.lower()])
    hint = f" (close: {', '.join(close)})" if close else ""
    return f"not a Microsoft Graph {kind} permission{hint}"


@dataclass
class Current:
    """What exists now: the app (None when missing), its service principal, consent."""

    app: dict[str, Any] | None = None
    service_principal: dict[str, Any] | None = None
    grant: dict[str, Any] | None = None
    assignments: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Outcome:
    """What :func:`converge` did."""

    app: dict[str, Any]
    service_principal_id: str
    changes: list[Change]
    secret: NewSecret | None = None
    credentials: list[CredentialStatus] = field(default_factory=list)


# --- inputs -------------------------------------------------------------------------------------


def expand_permissions(values: Iterable[str]) -> tuple[str, ...]:
    """Names from repeated or comma-separated options, presets expanded, duplicates dropped."""
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip()
            for name in PRESETS.get(part, (part,)) if part else ():
                if name not in names:
                    names.append(name)
    return tuple(names)


def redirect_uris(extra: Iterable[str], *, include_global: bool = True) -> tuple[str, ...]:
    """The global redirect URI and ``--redirect-uri`` extras, each an absolute https URL."""
    uris = [GLOBAL_REDIRECT_URI] if include_global else []
    for uri in extra:
        uri = uri.strip()
        if not re.match(r"^https://[^/\s]+", uri) and not re.match(r"^http://localhost(:\d+)?(/|$)", uri):
            raise InputError(f"--redirect-uri {uri!r}: must be an https URL (or http://localhost)")
        if uri not in uris:
            uris.append(uri)
    return tuple(uris)


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """``24m``, ``2y``, ``90d`` from now, or a date ``2027-06-30``: when a new secret expires.

    Microsoft Graph documents no upper bound (a tenant policy may set one, ``cloud-apis.md`` A.4),
    so the lifetime is capped at :data:`MAX_SECRET_YEARS`: beyond that a typo (``99999y``) is far
    likelier than intent, and huge counts would overflow the date arithmetic."""
    now = now or datetime.now(UTC)
    value = text.strip()
    match = re.fullmatch(r"(\d+)\s*([dmy])", value.lower())
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if count <= 0:
            raise InputError(f"--secret-expiry {text}: must be in the future")
        limit = {"d": MAX_SECRET_YEARS * 366, "m": MAX_SECRET_YEARS * 12, "y": MAX_SECRET_YEARS}[unit]
        if count > limit:
            raise InputError(f"--secret-expiry {text}: at most {MAX_SECRET_YEARS} years")
        moment = now + timedelta(days=count) if unit == "d" else _add_months(now, count * (12 if unit == "y" else 1))
    else:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"--secret-expiry {text}: expected e.g. 24m, 2y, 90d or a date like 2027-06-30") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if moment <= now:
            raise InputError(f"--secret-expiry {text}: must be in the future")
    if moment > _add_months(now, MAX_SECRET_YEARS * 12):
        raise InputError(f"--secret-expiry {text}: at most {MAX_SECRET_YEARS} years")
    return moment


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


# --- reading ------------------------------------------------------------------------------------


def find_app(graph: Graph, name: str | None, app_id: str | None) -> dict[str, Any] | None:
    """The app with ``app_id`` (client id), else the one named ``name``; None when missing.
    Two apps with one display name are ambiguous: the user must pick with ``--app-id``."""
    if app_id:
        if not GUID.match(app_id):
            raise InputError(f"--app-id {app_id}: not an application (client) id")
        return graph.application_by_app_id(app_id)
    if not name:
        raise InputError("give the app registration's display name or --app-id")
    found = graph.applications_named(name)
    if len(found) > 1:
        ids = ", ".join(str(app.get("appId")) for app in found)
        raise ConnectorkitError(f"{len(found)} app registrations are named {name!r} ({ids}); pick one with --app-id")
    return found[0] if found else None


def read_current(graph: Graph, desired: Desired, permissions: Permissions) -> Current:
    app = find_app(graph, desired.name, desired.app_id)
    if app is None:
        return Current()
    current = Current(app=app, service_principal=graph.service_principal(str(app["appId"])))
    if current.service_principal is not None and desired.consent:
        sp_id = str(current.service_principal["id"])
        grants = graph.delegated_grants(sp_id, permissions.graph_sp_id)
        current.grant = grants[0] if grants else None
        current.assignments = graph.role_assignments(permissions.graph_sp_id, sp_id)
    return current


def credential_report(
    app: dict[str, Any], *, warn_days: int = 30, now: datetime | None = None
) -> list[CredentialStatus]:
    """Every client secret and certificate of ``app``, soonest expiry first."""
    now = now or datetime.now(UTC)
    report: list[CredentialStatus] = []
    for kind, key in (("secret", "passwordCredentials"), ("certificate", "keyCredentials")):
        for credential in app.get(key) or []:
            end = parse_graph_time(credential.get("endDateTime"))
            days = None if end is None else int((end - now).total_seconds() // 86400)
            if end is not None and end <= now:
                state = "expired"
            elif end is not None and end - now <= timedelta(days=warn_days):
                state = "expiring"
            else:
                state = "valid"
            report.append(
                CredentialStatus(
                    kind=kind,
                    key_id=str(credential.get("keyId")),
                    display_name=credential.get("displayName"),
                    hint=credential.get("hint") if kind == "secret" else None,
                    start=parse_graph_time(credential.get("startDateTime")),
                    end=end,
                    state=state,
                    days_left=days,
                )
            )
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(report, key=lambda c: c.end or far)


def has_valid_secret(app: dict[str, Any], now: datetime | None = None) -> bool:
    return any(c.kind == "secret" and c.state != "expired" for c in credential_report(app, warn_days=0, now=now))


# --- merging (pure) -----------------------------------------------------------------------------


def merge_uris(existing: Sequence[str], wanted: Sequence[str], exact: bool) -> list[str]:
    """The union, existing order first; with ``exact`` just ``wanted``."""
    if exact:
        return list(dict.fromkeys(wanted))
    return list(dict.fromkeys([*existing, *wanted]))


def merge_access(existing: list[dict[str, Any]], wanted: list[dict[str, str]], exact: bool) -> list[dict[str, Any]]:
    """``requiredResourceAccess`` with the wanted Microsoft Graph entries added. Other resources
    and other Graph permissions stay, unless ``exact`` (then only the wanted Graph permissions)."""
    merged: list[dict[str, Any]] = []
    graph_seen = False
    for entry in existing:
        if entry.get("resourceAppId") != GRAPH_APP_ID:
            if not exact:
                merged.append(entry)
            continue
        graph_seen = True
        kept = [] if exact else list(entry.get("resourceAccess") or [])
        keys = {(a.get("id"), a.get("type")) for a in kept}
        kept += [a for a in wanted if (a["id"], a["type"]) not in keys]
        if kept:
            merged.append({"resourceAppId": GRAPH_APP_ID, "resourceAccess": kept})
    if not graph_seen and wanted:
        merged.append({"resourceAppId": GRAPH_APP_ID, "resourceAccess": list(wanted)})
    return merged


def merge_scope(existing: str, wanted: Sequence[str], exact: bool) -> str:
    """A grant's space-separated scope with the wanted names added."""
    have = [] if exact else existing.split()
    return " ".join(dict.fromkeys([*have, *wanted]))


def _graph_access(app: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (str(a.get("id")), str(a.get("type")))
        for entry in app.get("requiredResourceAccess") or []
        if entry.get("resourceAppId") == GRAPH_APP_ID
        for a in entry.get("resourceAccess") or []
    }


def app_changes(app: dict[str, Any], desired: Desired, permissions: Permissions) -> tuple[dict[str, Any], list[Change]]:
    """The PATCH body that brings an existing ``app`` to ``desired`` (empty when it is there),
    and the changes it makes."""
    body: dict[str, Any] = {}
    changes: list[Change] = []
    web = app.get("web") or {}
    uris = list(web.get("redirectUris") or [])
    merged = merge_uris(uris, desired.redirect_uris, desired.exact)
    web_patch: dict[str, Any] = {}
    if merged != uris:
        web_patch["redirectUris"] = merged
        changes += [Change("add", "redirect URI", u) for u in merged if u not in uris]
        changes += [Change("remove", "redirect URI", u) for u in uris if u not in merged]
    flags = web.get("implicitGrantSettings") or {}
    wanted_flags = {"enableAccessTokenIssuance": desired.access_tokens, "enableIdTokenIssuance": desired.id_tokens}
    if any(bool(flags.get(k)) != v for k, v in wanted_flags.items()):
        web_patch["implicitGrantSettings"] = wanted_flags
        changes += [
            Change("set", "implicit grant", f"{k}={str(v).lower()}")
            for k, v in wanted_flags.items()
            if bool(flags.get(k)) != v
        ]
    if web_patch:
        body["web"] = web_patch
    existing = list(app.get("requiredResourceAccess") or [])
    access = merge_access(existing, permissions.wanted_access(desired), desired.exact)
    if access != existing:
        body["requiredResourceAccess"] = access
        before, after = _graph_access(app), _graph_access({"requiredResourceAccess": access})
        changes += [_permission_change("add", key, permissions) for key in sorted(after - before)]
        changes += [_permission_change("remove", key, permissions) for key in sorted(before - after)]
        dropped = {e.get("resourceAppId") for e in existing} - {e.get("resourceAppId") for e in access}
        changes += [Change("remove", "permissions of resource", str(r)) for r in sorted(map(str, dropped))]
    if app.get("signInAudience") not in (None, AUDIENCE):
        changes.append(
            Change("keep", "sign-in audience", f"{app.get('signInAudience')} (asked {AUDIENCE}; not changed)")
        )
    return body, changes


def _permission_change(action: str, key: tuple[str, str], permissions: Permissions) -> Change:
    permission_id, kind = key
    if kind == "Scope":
        return Change(action, "delegated permission", permissions.scope_name(permission_id))
    return Change(action, "application permission", permissions.role_name(permission_id))


def creation_body(desired: Desired, permissions: Permissions) -> dict[str, Any]:
    """``POST /applications`` (A.2): single tenant, web redirect URIs, implicit grant, permissions."""
    if not desired.name:
        raise InputError("--app-id names no existing app: give a display name to create one")
    body: dict[str, Any] = {
        "displayName": desired.name,
        "signInAudience": AUDIENCE,
        "web": {
            "redirectUris": list(desired.redirect_uris),
            "implicitGrantSettings": {
                "enableAccessTokenIssuance": desired.access_tokens,
                "enableIdTokenIssuance": desired.id_tokens,
            },
        },
    }
    wanted = permissions.wanted_access(desired)
    if wanted:
        body["requiredResourceAccess"] = [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": wanted}]
    return body


def consent_changes(current: Current, desired: Desired, permissions: Permissions) -> list[Change]:
    if not desired.consent:
        return []
    changes: list[Change] = []
    have = (current.grant or {}).get("scope", "").split() if desired.delegated else []
    scope = merge_scope(" ".join(have), desired.delegated, desired.exact).split()
    changes += [Change("add", "delegated consent", n) for n in scope if n not in have]
    changes += [Change("remove", "delegated consent", n) for n in have if n not in scope]
    granted = {str(a.get("appRoleId")) for a in current.assignments}
    wanted = {permissions.roles[n] for n in desired.application}
    changes += [Change("add", "application consent", permissions.role_name(r)) for r in sorted(wanted - granted)]
    if desired.exact:
        changes += [Change("remove", "application consent", permissions.role_name(r)) for r in sorted(granted - wanted)]
    return changes


def plan(current: Current, desired: Desired, permissions: Permissions, *, new_secret: bool = False) -> list[Change]:
    """Every change :func:`converge` would make, without making it."""
    changes: list[Change] = []
    if current.app is None:
        changes.append(Change("create", "application", desired.label))
        app: dict[str, Any] = {}
    else:
        app = current.app
    changes += app_changes(app, desired, permissions)[1] if current.app is not None else _creation_changes(desired)
    if current.service_principal is None:
        changes.append(Change("create", "service principal", desired.label))
    changes += consent_changes(current, desired, permissions)
    if new_secret or current.app is None or not has_valid_secret(app):
        changes.append(Change("add", "client secret", "a new one" if new_secret else "none is valid"))
    return changes


def _creation_changes(desired: Desired) -> list[Change]:
    changes = [Change("add", "redirect URI", u) for u in desired.redirect_uris]
    changes += [Change("add", "delegated permission", n) for n in desired.delegated]
    changes += [Change("add", "application permission", n) for n in desired.application]
    return changes


# --- writing ------------------------------------------------------------------------------------


def converge(
    graph: Graph,
    desired: Desired,
    *,
    expiry: datetime,
    new_secret: bool = False,
    secret_name: str | None = None,
    can_deliver_secret: bool = True,
    progress: Progress = lambda _message: None,
) -> Outcome:
    """Bring the app registration to ``desired``; safe to run again (A.2-A.11).

    ``can_deliver_secret`` False makes a run that would add a secret stop before changing
    anything: a secret nobody receives is useless and cannot be read back."""
    permissions = Permissions.of(graph.graph_service_principal())
    permissions.check(desired)
    progress(f"resolved {len(desired.delegated) + len(desired.application)} Microsoft Graph permission(s)")
    current = read_current(graph, desired, permissions)
    if desired.app_id and current.app is None:
        raise InputError(f"--app-id {desired.app_id}: no app registration has this client id")
    needs_secret = new_secret or current.app is None or not has_valid_secret(current.app)
    if needs_secret and not can_deliver_secret:
        raise InputError(
            "a new client secret would be created: say where it goes (--secret-file, --secret-stdout-only or --show-secret)"
        )
    changes: list[Change] = []
    app = _ensure_app(graph, current, desired, permissions, changes, progress)
    sp = current.service_principal
    if sp is None:
        sp = graph.create_service_principal(str(app["appId"]))
        changes.append(Change("create", "service principal", str(sp["id"])))
        progress("created the service principal")
    if desired.consent:
        _consent(graph, current, desired, permissions, str(sp["id"]), changes, progress)
    outcome = Outcome(app=app, service_principal_id=str(sp["id"]), changes=changes)
    if needs_secret:
        name = secret_name or f"connectorkit {datetime.now(UTC):%Y-%m-%d}"
        outcome.secret = _new_secret(graph, app, expiry, name)
        changes.append(Change("add", "client secret", f"{outcome.secret.key_id} (expires {_iso(expiry)})"))
        progress("added a client secret")
    else:
        outcome.credentials = [c for c in credential_report(app) if c.kind == "secret" and c.state != "expired"]
    return outcome


def _ensure_app(
    graph: Graph,
    current: Current,
    desired: Desired,
    permissions: Permissions,
    changes: list[Change],
    progress: Progress,
) -> dict[str, Any]:
    if current.app is None:
        app = graph.create_application(creation_body(desired, permissions))
        changes.append(Change("create", "application", f"{desired.name} ({app['appId']})"))
        changes += _creation_changes(desired)
        progress(f"created the app registration {desired.name!r} (appId {app['appId']})")
        return app
    app = current.app
    body, found = app_changes(app, desired, permissions)
    if body:
        graph.update_application(str(app["id"]), body)
        progress(f"updated the app registration ({len(found)} change(s))")
    else:
        progress("the app registration is up to date")
    for change in found:
        if change.action == "keep":
            progress(f"{change.target} left as {change.value}")
        else:
            changes.append(change)
    return app


def _consent(
    graph: Graph,
    current: Current,
    desired: Desired,
    permissions: Permissions,
    sp_id: str,
    changes: list[Change],
    progress: Progress,
) -> None:
    """Tenant-wide consent: one AllPrincipals grant for delegated names (GET, then PATCH or POST;
    a 409 means it appeared meanwhile), one assignment per application role."""
    found = consent_changes(current, desired, permissions)
    if desired.delegated:
        grant = current.grant
        existing = grant.get("scope", "") if grant else ""
        scope = merge_scope(existing, desired.delegated, desired.exact)
        if grant is None:
            created = graph.create_grant(sp_id, permissions.graph_sp_id, scope)
            if created is None:
                grant = _only(graph.delegated_grants(sp_id, permissions.graph_sp_id))
                scope = merge_scope(grant.get("scope", ""), desired.delegated, desired.exact)
        if grant is not None and scope != grant.get("scope", ""):
            graph.update_grant(str(grant["id"]), scope)
    granted = {str(a.get("appRoleId")): a for a in current.assignments}
    for name in desired.application:
        if permissions.roles[name] not in granted:
            graph.assign_role(permissions.graph_sp_id, sp_id, permissions.roles[name])
    if desired.exact:
        wanted = {permissions.roles[n] for n in desired.application}
        for role_id, assignment in granted.items():
            if role_id not in wanted:
                graph.remove_role_assignment(permissions.graph_sp_id, str(assignment["id"]))
    changes += found
    progress("admin consent is granted" if found else "admin consent is up to date")


def _only(grants: list[dict[str, Any]]) -> dict[str, Any]:
    if not grants:
        raise ConnectorkitError("Graph: the delegated grant exists (409) but cannot be read back; run again shortly")
    return grants[0]


def _new_secret(graph: Graph, app: dict[str, Any], expiry: datetime, name: str) -> NewSecret:
    key_id, value = add_secret(graph, app, expiry, display_name=name)
    return NewSecret(key_id=key_id, display_name=name, end=expiry, value=value)


def add_secret(
    graph: Graph, app: dict[str, Any], expiry: datetime, *, display_name: str | None = None
) -> tuple[str, str]:
    """Add a client secret to ``app`` (A.4): ``(keyId, secretText)``. The text exists only in
    this answer; the caller must deliver it and must not log it."""
    name = display_name or f"connectorkit {datetime.now(UTC):%Y-%m-%d}"
    credential = graph.add_password(str(app["id"]), name, expiry)
    value = credential.get("secretText")
    if not isinstance(value, str) or not value:
        raise ConnectorkitError("Graph: addPassword answered without secretText")
    return str(credential["keyId"]), value


def remove_secret(graph: Graph, app: dict[str, Any], key_id: str) -> None:
    """Remove the client secret ``key_id`` from ``app`` (A.6), the last step of a rotation."""
    graph.remove_password(str(app["id"]), key_id)


def check_secret_file(path: Path) -> None:
    """Fail before a secret exists when it could not be written to ``path``."""
    if path.is_dir():
        raise InputError(f"--secret-file {path}: is a folder")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"--secret-file {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"--secret-file {path}: folder {folder} is not writable")


def write_secret_file(path: Path, value: str) -> None:
    """Write ``value`` (no newline) to ``path`` with mode 0600, atomically: it is created under a
    temporary name readable by the owner only, flushed, then renamed over ``path``, so no reader
    ever sees a partial secret or a moment with wider permissions."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(value)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- reporting ----------------------------------------------------------------------------------


def summary(
    current: Current, permissions: Permissions, *, warn_days: int = 30, now: datetime | None = None
) -> dict[str, Any] | None:
    """What exists, in names rather than ids (``appreg show``); no secret values, only hints."""
    app = current.app
    if app is None:
        return None
    web = app.get("web") or {}
    flags = web.get("implicitGrantSettings") or {}
    access = _graph_access(app)
    others = [
        {"resourceAppId": e.get("resourceAppId"), "permissions": len(e.get("resourceAccess") or [])}
        for e in app.get("requiredResourceAccess") or []
        if e.get("resourceAppId") != GRAPH_APP_ID
    ]
    return {
        "id": app.get("id"),
        "appId": app.get("appId"),
        "displayName": app.get("displayName"),
        "signInAudience": app.get("signInAudience"),
        "redirectUris": list(web.get("redirectUris") or []),
        "implicitGrant": {
            "accessTokens": bool(flags.get("enableAccessTokenIssuance")),
            "idTokens": bool(flags.get("enableIdTokenIssuance")),
        },
        "permissions": {
            "delegated": sorted(permissions.scope_name(i) for i, t in access if t == "Scope"),
            "application": sorted(permissions.role_name(i) for i, t in access if t == "Role"),
            "otherResources": others,
        },
        "servicePrincipal": (current.service_principal or {}).get("id"),
        "consent": {
            "delegated": ((current.grant or {}).get("scope") or "").split(),
            "application": sorted(permissions.role_name(str(a.get("appRoleId"))) for a in current.assignments),
        },
        "credentials": [c.as_json() for c in credential_report(app, warn_days=warn_days, now=now)],
    }


def inspect(graph: Graph, desired: Desired, *, new_secret: bool = False) -> tuple[dict[str, Any] | None, list[Change]]:
    """What exists and what :func:`converge` would change (read-only)."""
    permissions = Permissions.of(graph.graph_service_principal())
    permissions.check(desired)
    current = read_current(graph, desired, permissions)
    if desired.app_id and current.app is None:
        raise InputError(f"--app-id {desired.app_id}: no app registration has this client id")
    return summary(current, permissions), plan(current, desired, permissions, new_secret=new_secret)


def secrets_of(graph: Graph, app: str, *, warn_days: int = 30) -> tuple[dict[str, Any], list[CredentialStatus]]:
    """The app named or with client id ``app`` and its credentials (``appreg secrets``)."""
    found = find_app(graph, None if GUID.match(app) else app, app if GUID.match(app) else None)
    if found is None:
        raise InputError(f"{app}: no app registration with this name or client id")
    return found, credential_report(found, warn_days=warn_days)
