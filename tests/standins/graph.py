"""A stand-in for the parts of Microsoft Graph v1.0 that ``connectorkit appreg`` calls.

One backend (:class:`GraphStandIn`) holds the tenant's state: application registrations, service
principals (the Microsoft Graph one included, with real permission ids), delegated grants and app
role assignments. Thin werkzeug handlers serve it on loopback with the documented shapes of
``cloud-apis.md`` section A: ``{"error": {"code", "message", "innerError"}}`` bodies, 201 on
creation, 204 on PATCH and removals, ``secretText`` returned only by ``addPassword``.

It can misbehave the way Graph does, so the client's handling can be tested:

- ``lag``: after an application is created, its first ``lag`` direct requests (GET/PATCH/
  addPassword by object id, ``POST /servicePrincipals`` for its appId) answer 404
  ``Request_ResourceNotFound`` or 400 ``NoBackingApplicationObject`` (replication lag, A.9);
- a second delegated grant for the same client and resource is 409
  ``Request_MultipleObjectsWithSameKeyValue`` (A.10);
- ``stale_grant_reads``: grant listings that miss a recent write, so a POST meets 409;
- ``deny``: operations named there answer 403 ``Authorization_RequestDenied`` (A.1, A.12);
- a missing or wrong bearer token is 401 ``InvalidAuthenticationToken``;
- ``issue_secrets``: planted ``secretText`` values, so tests can look for them everywhere.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_SP_ID = "7ea9e944-71ce-443d-811c-71e8047b557a"

DELEGATED_SCOPES = {
    "email": "64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0",
    "offline_access": "7427e0e9-2fba-42fe-b0c0-848c9e6a8182",
    "openid": "37f7f235-527c-4136-accd-4a02d197296e",
    "profile": "14dad69e-099b-42c9-810b-d002981feec1",
    "Directory.AccessAsUser.All": "0e263e50-5827-48a4-b97c-d940288653c7",
    "Group.Read.All": "5f8c59db-677d-491f-a6b8-5f174b11ec1d",
    "Group.ReadWrite.All": "4e46008b-f24c-477d-8fff-7bb4ec7aafe0",
    "InformationProtectionPolicy.Read": "4ad84827-5578-4e18-ad7a-86530b12f884",
    "Mail.Read": "570282fd-fa5c-430d-a7fd-fc8dc98a9dca",
    "Mail.Send": "e383f46e-2787-4529-855e-0e479a3ffac0",
    "Sites.Read.All": "205e70e5-aba6-4c52-a976-6d2d46c48043",
    "User.Read": "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
    "User.Read.All": "a154be20-db9c-4678-8ab7-66f6cc099a59",
    "User.ReadWrite.All": "204e0828-b5ca-4ad8-b9f3-f32a958e7cc4",
}
"""Microsoft Graph's delegated permission ids (the same in every tenant)."""

APP_ROLES = {
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
    "Group.ReadWrite.All": "62a82d76-70ea-41e2-9197-370581804d09",
    "Mail.Send": "b633e1c5-b582-4048-a93e-9f11b44c7e96",
    "Sites.Read.All": "332a536c-c7ef-4017-ab91-336970924f0d",
    "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
}
"""Microsoft Graph's application permission (app role) ids."""

APPLICATION_PROPERTIES = {"displayName", "signInAudience", "web", "requiredResourceAccess", "keyCredentials"}
UPDATABLE_PROPERTIES = APPLICATION_PROPERTIES - {"keyCredentials"}


class GraphError(Exception):
    """An error answer: status, Graph code, message (and optional details)."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise GraphError(400, "Request_BadRequest", f"Invalid value specified for property '{name}'.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def graph_service_principal() -> dict[str, Any]:
    """The Microsoft Graph service principal as ``GET /servicePrincipals`` shows it (A.7)."""
    scopes = [
        {
            "adminConsentDescription": f"Allows the app to use {name} on behalf of the signed-in user.",
            "adminConsentDisplayName": name,
            "id": scope_id,
            "isEnabled": True,
            "type": "User" if name in ("email", "offline_access", "openid", "profile", "User.Read") else "Admin",
            "userConsentDescription": f"Allows the app to use {name} on your behalf.",
            "userConsentDisplayName": name,
            "value": name,
        }
        for name, scope_id in DELEGATED_SCOPES.items()
    ]
    roles = [
        {
            "allowedMemberTypes": ["Application"],
            "description": f"Allows the app to use {name} without a signed-in user.",
            "displayName": name,
            "id": role_id,
            "isEnabled": True,
            "origin": "Application",
            "value": name,
        }
        for name, role_id in APP_ROLES.items()
    ]
    return {
        "id": GRAPH_SP_ID,
        "appId": GRAPH_APP_ID,
        "displayName": "Microsoft Graph",
        "servicePrincipalType": "Application",
        "accountEnabled": True,
        "appRoles": roles,
        "oauth2PermissionScopes": scopes,
    }


FILTER_TERM = re.compile(r"\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*")


def parse_filter(text: str) -> dict[str, str]:
    """``a eq 'x' and b eq 'y'`` as ``{"a": "x", "b": "y"}``; anything else is unsupported here."""
    wanted: dict[str, str] = {}
    for term in re.split(r"\s+and\s+", text.strip()):
        match = FILTER_TERM.fullmatch(term)
        if not match:
            raise GraphError(400, "Request_UnsupportedQuery", f"Unsupported or invalid query filter clause: {term}")
        wanted[match.group(1)] = match.group(2).replace("''", "'")
    return wanted


@dataclass
class Call:
    """One request the stand-in answered (bodies of requests carry no secrets)."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class GraphStandIn:
    """The state of one tenant as Graph shows it, and its answers to requests."""

    token: str = "graph-test-token"
    lag: int = 0
    deny: dict[str, str] = field(default_factory=dict)
    """operation name -> message; those operations answer 403 Authorization_RequestDenied."""
    issue_secrets: list[str] = field(default_factory=list)
    page_size: int = 100
    stale_grant_reads: int = 0
    """The next N grant listings answer as if recent writes had not replicated (an empty list)."""
    publisher_domain: str = "contoso.onmicrosoft.com"
    applications: dict[str, dict[str, Any]] = field(default_factory=dict)
    service_principals: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)
    role_assignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    """Every secretText handed out, so tests can scan outputs for all of them."""
    lagging: dict[str, int] = field(default_factory=dict)
    """appId -> direct requests still answered as if the app had not replicated yet."""

    def __post_init__(self) -> None:
        graph = graph_service_principal()
        self.service_principals[graph["id"]] = graph

    # --- state helpers for tests --------------------------------------------------------------

    def add_application(self, display_name: str, **properties: Any) -> dict[str, Any]:
        """An application created 'elsewhere' (the portal), replicated already."""
        app = self._new_application({"displayName": display_name, **properties})
        self.applications[app["id"]] = app
        return app

    def add_password(self, app: dict[str, Any], *, end: datetime, name: str = "portal") -> dict[str, Any]:
        """A password credential that exists already (e.g. an expired one); its text is discarded."""
        secret = self._secret_text()
        credential = {
            "customKeyIdentifier": None,
            "displayName": name,
            "endDateTime": _iso(end),
            "hint": secret[:3],
            "keyId": str(uuid.uuid4()),
            "secretText": None,
            "startDateTime": _iso(min(end, datetime.now(UTC)) - timedelta(days=365)),
        }
        app["passwordCredentials"].append(credential)
        return credential

    def find_app(self, display_name: str) -> list[dict[str, Any]]:
        return [a for a in self.applications.values() if a["displayName"] == display_name]

    def sp_for(self, app_id: str) -> dict[str, Any] | None:
        return next((sp for sp in self.service_principals.values() if sp["appId"] == app_id), None)

    def writes(self) -> list[tuple[str, str]]:
        """(method, path) of every successful write, in order."""
        return [(c.method, c.path) for c in self.calls if c.method != "GET" and c.status < 300]

    # --- HTTP ---------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        body: Any = None
        try:
            if request.headers.get("Authorization") != f"Bearer {self.token}":
                empty = not request.headers.get("Authorization")
                raise GraphError(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token is empty." if empty else "Access token validation failure. Invalid audience.",
                )
            if request.method in ("POST", "PATCH"):
                try:
                    body = json.loads(request.get_data() or b"null")
                except ValueError:
                    raise GraphError(400, "BadRequest", "Unable to read JSON request payload.") from None
                if not isinstance(body, dict):
                    raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
            status, answer = self._route(request, body)
        except GraphError as exc:
            status = exc.status
            error: dict[str, Any] = {
                "code": exc.code,
                "message": exc.message,
                "innerError": {
                    "date": _now(),
                    "request-id": str(uuid.uuid4()),
                    "client-request-id": str(uuid.uuid4()),
                },
            }
            if exc.details:
                error["details"] = exc.details
            answer = {"error": error}
        path = request.path.removeprefix("/v1.0")
        self.calls.append(Call(request.method, path, dict(request.args), body, status))
        if answer is None:
            return Response(status=status)
        return Response(json.dumps(answer), status=status, content_type="application/json")

    def _check(self, operation: str) -> None:
        if operation in self.deny:
            raise GraphError(403, "Authorization_RequestDenied", self.deny[operation])

    def _route(self, request: Request, body: Any) -> tuple[int, Any]:
        path = request.path.removeprefix("/v1.0").rstrip("/")
        method = request.method
        parts = path.strip("/").split("/")
        collection = parts[0] if parts else ""
        if collection == "applications":
            return self._applications(request, method, parts[1:], body)
        if collection == "servicePrincipals":
            return self._service_principals(request, method, parts[1:], body)
        if collection == "oauth2PermissionGrants":
            return self._grants(request, method, parts[1:], body)
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{collection}'.")

    # --- /applications ------------------------------------------------------------------------

    def _applications(self, request: Request, method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                self._check("applications.list")
                return 200, self._list(request, "applications", self.applications.values())
            if method == "POST":
                self._check("applications.create")
                return 201, self._create_application(body)
            raise GraphError(405, "Request_BadRequest", f"{method} is not supported on applications.")
        app = self._application(rest[0])
        action = rest[1] if len(rest) > 1 else None
        if action is None and method == "GET":
            self._check("applications.get")
            self._replicated(app)
            return 200, self._select(request, app, "applications/$entity")
        if action is None and method == "PATCH":
            self._check("applications.update")
            self._replicated(app)
            self._update_application(app, body)
            return 204, None
        if action == "addPassword" and method == "POST":
            self._check("applications.addPassword")
            self._replicated(app)
            return 200, self._add_password(app, body)
        if action == "removePassword" and method == "POST":
            self._check("applications.removePassword")
            self._replicated(app)
            self._remove_password(app, body)
            return 204, None
        raise GraphError(400, "Request_BadRequest", f"Unsupported request {method} {request.path}.")

    def _application(self, key: str) -> dict[str, Any]:
        match = re.fullmatch(r"\(appId='([^']*)'\)", key)
        if match:
            found = next((a for a in self.applications.values() if a["appId"] == match.group(1)), None)
        else:
            found = self.applications.get(key)
        if found is None:
            raise GraphError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of its queried reference-property objects are not present.",
            )
        return found

    def _replicated(self, app: dict[str, Any]) -> None:
        left = self.lagging.get(app["appId"], 0)
        if left > 0:
            self.lagging[app["appId"]] = left - 1
            raise GraphError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{app['id']}' does not exist or one of its queried reference-property objects are not present.",
            )

    def _new_application(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = set(body) - APPLICATION_PROPERTIES
        if unknown:
            name = sorted(unknown)[0]
            if name == "passwordCredentials":
                raise GraphError(
                    400, "Request_BadRequest", "Property 'passwordCredentials' is not supported on create."
                )
            raise GraphError(400, "Request_BadRequest", f"Property '{name}' does not exist on type 'application'.")
        if not isinstance(body.get("displayName"), str) or not body["displayName"].strip():
            raise GraphError(400, "Request_BadRequest", "Property 'displayName' is required.")
        app: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "appId": str(uuid.uuid4()),
            "displayName": body["displayName"],
            "createdDateTime": _now(),
            "publisherDomain": self.publisher_domain,
            "signInAudience": "AzureADMyOrg",
            "keyCredentials": [],
            "passwordCredentials": [],
            "requiredResourceAccess": [],
            "web": {
                "homePageUrl": None,
                "logoutUrl": None,
                "redirectUris": [],
                "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False},
            },
        }
        self._apply(app, {k: v for k, v in body.items() if k != "displayName"})
        return app

    def _create_application(self, body: dict[str, Any]) -> dict[str, Any]:
        app = self._new_application(body)
        self.applications[app["id"]] = app
        if self.lag:
            self.lagging[app["appId"]] = self.lag
        return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity", **app}

    def _update_application(self, app: dict[str, Any], body: dict[str, Any]) -> None:
        if "passwordCredentials" in body:
            raise GraphError(400, "Request_BadRequest", "Using PATCH to set passwordCredential is not supported.")
        unknown = set(body) - UPDATABLE_PROPERTIES
        if unknown:
            raise GraphError(
                400, "Request_BadRequest", f"Property '{sorted(unknown)[0]}' does not exist on type 'application'."
            )
        self._apply(app, body)

    def _apply(self, app: dict[str, Any], body: dict[str, Any]) -> None:
        """Set properties; collections are replaced whole, as Graph does (A.3)."""
        if "displayName" in body:
            app["displayName"] = body["displayName"]
        if "signInAudience" in body:
            if body["signInAudience"] not in (
                "AzureADMyOrg",
                "AzureADMultipleOrgs",
                "AzureADandPersonalMicrosoftAccount",
            ):
                raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'signInAudience'.")
            app["signInAudience"] = body["signInAudience"]
        web = body.get("web")
        if web is not None:
            if not isinstance(web, dict):
                raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'web'.")
            if "redirectUris" in web:
                uris = web["redirectUris"]
                if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
                    raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'redirectUris'.")
                if len(set(uris)) != len(uris):
                    raise GraphError(400, "Request_BadRequest", "Duplicate value in property 'redirectUris'.")
                app["web"]["redirectUris"] = list(uris)
            if "implicitGrantSettings" in web:
                flags = web["implicitGrantSettings"]
                for name in ("enableAccessTokenIssuance", "enableIdTokenIssuance"):
                    if name in flags:
                        app["web"]["implicitGrantSettings"][name] = bool(flags[name])
        if "requiredResourceAccess" in body:
            app["requiredResourceAccess"] = self._resource_access(body["requiredResourceAccess"])
        if "keyCredentials" in body:
            app["keyCredentials"] = copy.deepcopy(body["keyCredentials"])

    @staticmethod
    def _resource_access(value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise GraphError(
                400, "Request_BadRequest", "Invalid value specified for property 'requiredResourceAccess'."
            )
        for entry in value:
            if not isinstance(entry, dict) or not isinstance(entry.get("resourceAccess"), list):
                raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'resourceAccess'.")
            for access in entry["resourceAccess"]:
                if access.get("type") not in ("Scope", "Role"):
                    raise GraphError(
                        400,
                        "Request_BadRequest",
                        "Invalid value specified for property 'type' of resource 'ResourceAccess'.",
                    )
                uuid.UUID(str(access.get("id")))
        return copy.deepcopy(value)

    def _secret_text(self) -> str:
        text = self.issue_secrets.pop(0) if self.issue_secrets else secrets.token_urlsafe(30)
        self.issued.append(text)
        return text

    def _add_password(self, app: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        given = body.get("passwordCredential") or {}
        start = _parse_time(given["startDateTime"], "startDateTime") if "startDateTime" in given else datetime.now(UTC)
        end = (
            _parse_time(given["endDateTime"], "endDateTime") if "endDateTime" in given else start + timedelta(days=730)
        )
        if end <= start:
            raise GraphError(400, "Request_BadRequest", "endDateTime must be after startDateTime.")
        text = self._secret_text()
        credential = {
            "customKeyIdentifier": None,
            "displayName": given.get("displayName"),
            "endDateTime": _iso(end),
            "hint": text[:3],
            "keyId": str(uuid.uuid4()),
            "secretText": None,
            "startDateTime": _iso(start),
        }
        app["passwordCredentials"].append(credential)
        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.passwordCredential",
            **credential,
            "secretText": text,
        }

    @staticmethod
    def _remove_password(app: dict[str, Any], body: dict[str, Any]) -> None:
        key_id = body.get("keyId")
        kept = [c for c in app["passwordCredentials"] if c["keyId"] != key_id]
        if len(kept) == len(app["passwordCredentials"]):
            raise GraphError(400, "Request_BadRequest", f"No password credential found with keyId '{key_id}'.")
        app["passwordCredentials"] = kept

    # --- /servicePrincipals -------------------------------------------------------------------

    def _service_principals(self, request: Request, method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        if not rest:
            if method == "GET":
                self._check("servicePrincipals.list")
                return 200, self._list(request, "servicePrincipals", self.service_principals.values())
            if method == "POST":
                self._check("servicePrincipals.create")
                return 201, self._create_service_principal(body)
            raise GraphError(405, "Request_BadRequest", f"{method} is not supported on servicePrincipals.")
        sp = self.service_principals.get(rest[0])
        if sp is None:
            raise GraphError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{rest[0]}' does not exist or one of its queried reference-property objects are not present.",
            )
        if len(rest) == 1 and method == "GET":
            self._check("servicePrincipals.get")
            return 200, self._select(request, sp, "servicePrincipals/$entity")
        if len(rest) >= 2 and rest[1] == "appRoleAssignedTo":
            return self._assignments(request, method, sp, rest[2:], body)
        raise GraphError(400, "Request_BadRequest", f"Unsupported request {method} {request.path}.")

    def _create_service_principal(self, body: dict[str, Any]) -> dict[str, Any]:
        app_id = body.get("appId")
        app = next((a for a in self.applications.values() if a["appId"] == app_id), None)
        if app is None or self.lagging.get(str(app_id), 0) > 0:
            if app is not None:
                self.lagging[str(app_id)] -= 1
            raise GraphError(
                400,
                "Request_BadRequest",
                f"The appId '{app_id}' of the service principal does not reference a valid application object.",
                [{"code": "NoBackingApplicationObject", "target": "appId"}],
            )
        if self.sp_for(str(app_id)) is not None:
            raise GraphError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                "The service principal cannot be created, updated, or restored because the service principal "
                "name is already in use.",
            )
        sp = {
            "id": str(uuid.uuid4()),
            "appId": app_id,
            "displayName": app["displayName"],
            "servicePrincipalType": "Application",
            "accountEnabled": True,
            "appRoles": [],
            "oauth2PermissionScopes": [],
        }
        self.service_principals[sp["id"]] = sp
        return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals/$entity", **sp}

    def _assignments(
        self, request: Request, method: str, resource: dict[str, Any], rest: list[str], body: Any
    ) -> tuple[int, Any]:
        if not rest and method == "GET":
            self._check("appRoleAssignedTo.list")
            mine = [a for a in self.role_assignments.values() if a["resourceId"] == resource["id"]]
            return 200, self._list(request, "appRoleAssignments", mine)
        if not rest and method == "POST":
            self._check("appRoleAssignedTo.create")
            return 201, self._assign(resource, body)
        if len(rest) == 1 and method == "DELETE":
            self._check("appRoleAssignedTo.delete")
            if self.role_assignments.pop(rest[0], None) is None:
                raise GraphError(404, "Request_ResourceNotFound", f"Resource '{rest[0]}' does not exist.")
            return 204, None
        raise GraphError(400, "Request_BadRequest", f"Unsupported request {method} {request.path}.")

    def _assign(self, resource: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        principal = self.service_principals.get(str(body.get("principalId")))
        if principal is None:
            raise GraphError(404, "Request_ResourceNotFound", f"Resource '{body.get('principalId')}' does not exist.")
        if body.get("resourceId") != resource["id"]:
            raise GraphError(400, "Request_BadRequest", "resourceId must be the service principal in the URL.")
        if not any(role["id"] == body.get("appRoleId") for role in resource["appRoles"]):
            raise GraphError(
                400, "Request_BadRequest", "Permission being assigned was not found on application."
            )  # fmt: skip
        for existing in self.role_assignments.values():
            if (existing["principalId"], existing["resourceId"], existing["appRoleId"]) == (
                principal["id"],
                resource["id"],
                body["appRoleId"],
            ):
                raise GraphError(400, "Request_BadRequest", "Permission being assigned already exists on the object")
        assignment = {
            "id": secrets.token_urlsafe(32),
            "appRoleId": body["appRoleId"],
            "createdDateTime": _now(),
            "deletedDateTime": None,
            "principalDisplayName": principal["displayName"],
            "principalId": principal["id"],
            "principalType": "ServicePrincipal",
            "resourceDisplayName": resource["displayName"],
            "resourceId": resource["id"],
        }
        self.role_assignments[assignment["id"]] = assignment
        return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#appRoleAssignments/$entity", **assignment}

    # --- /oauth2PermissionGrants --------------------------------------------------------------

    def _grants(self, request: Request, method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        if not rest and method == "GET":
            self._check("oauth2PermissionGrants.list")
            if self.stale_grant_reads > 0:
                self.stale_grant_reads -= 1
                return 200, self._list(request, "oauth2PermissionGrants", [])
            return 200, self._list(request, "oauth2PermissionGrants", self.grants.values())
        if not rest and method == "POST":
            self._check("oauth2PermissionGrants.create")
            return 201, self._create_grant(body)
        if len(rest) == 1:
            grant = self.grants.get(rest[0])
            if grant is None:
                raise GraphError(404, "Request_ResourceNotFound", f"Resource '{rest[0]}' does not exist.")
            if method == "PATCH":
                self._check("oauth2PermissionGrants.update")
                if set(body) - {"scope"} or not isinstance(body.get("scope"), str):
                    raise GraphError(400, "Request_BadRequest", "Only 'scope' can be updated.")
                grant["scope"] = self._scope(body["scope"])
                return 204, None
            if method == "DELETE":
                self._check("oauth2PermissionGrants.delete")
                del self.grants[rest[0]]
                return 204, None
        raise GraphError(400, "Request_BadRequest", f"Unsupported request {method} {request.path}.")

    @staticmethod
    def _scope(scope: str) -> str:
        if len(scope) > 3850:
            raise GraphError(400, "Request_BadRequest", "The scope exceeds 3850 characters.")
        return scope

    def _create_grant(self, body: dict[str, Any]) -> dict[str, Any]:
        for name in ("clientId", "resourceId"):
            if body.get(name) not in self.service_principals:
                raise GraphError(
                    400, "Request_BadRequest", f"Invalid value specified for property '{name}' of resource 'OAuth2PermissionGrant'."
                )  # fmt: skip
        if body.get("consentType") not in ("AllPrincipals", "Principal"):
            raise GraphError(400, "Request_BadRequest", "Invalid value specified for property 'consentType'.")
        principal = body.get("principalId") if body["consentType"] == "Principal" else None
        key = (body["clientId"], body["resourceId"], body["consentType"], principal)
        for grant in self.grants.values():
            if (grant["clientId"], grant["resourceId"], grant["consentType"], grant["principalId"]) == key:
                raise GraphError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    "Permission entry already exists.",
                )
        grant = {
            "id": secrets.token_urlsafe(32),
            "clientId": body["clientId"],
            "consentType": body["consentType"],
            "principalId": principal,
            "resourceId": body["resourceId"],
            "scope": self._scope(str(body.get("scope", ""))),
        }
        self.grants[grant["id"]] = grant
        return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#oauth2PermissionGrants/$entity", **grant}

    # --- query options ------------------------------------------------------------------------

    def _select(self, request: Request, item: dict[str, Any], context: str) -> dict[str, Any]:
        chosen = request.args.get("$select")
        shown = copy.deepcopy(item)
        if chosen:
            names = {name.strip() for name in chosen.split(",")}
            shown = {k: v for k, v in shown.items() if k in names or k == "id"}
        return {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{context}", **shown}

    def _list(self, request: Request, context: str, items: Any) -> dict[str, Any]:
        found = list(items)
        text = request.args.get("$filter")
        if text:
            wanted = parse_filter(text)
            found = [item for item in found if all(str(item.get(k)) == v for k, v in wanted.items())]
        start = int(request.args.get("$skiptoken", "0") or 0)
        page = found[start : start + self.page_size]
        answer: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{context}",
            "value": [{k: v for k, v in self._select(request, item, context).items() if k != "@odata.context"} for item in page],
        }  # fmt: skip
        if start + self.page_size < len(found):
            query = {k: v for k, v in request.args.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(start + self.page_size)
            answer["@odata.nextLink"] = f"{request.base_url}?{urlencode(query)}"
        return answer


@contextmanager
def serve_graph(standin: GraphStandIn) -> Iterator[str]:
    """Serve ``standin`` on loopback; yields the base URL to use as ``--graph-url`` (no ``/v1.0``)."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(re.compile(r"^/v1\.0/.*")).respond_with_handler(standin.handle)
    server.start()
    try:
        yield server.url_for("").rstrip("/")
    finally:
        server.clear()
        if server.is_running():
            server.stop()
