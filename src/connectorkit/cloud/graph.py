"""The Microsoft Graph v1.0 operations an app registration needs, one method each.

Thin on purpose: each method is one documented request (``cloud-apis.md`` A.2-A.11) over a
:class:`~connectorkit.cloud.http.CloudClient`; the procedure that decides what to call lives in
:mod:`connectorkit.cloud.appreg`. What this layer adds is what every caller needs:

- replication lag: requests that address an object created moments ago are retried when Graph
  answers 404 ``Request_ResourceNotFound`` or 400 ``NoBackingApplicationObject`` (A.9);
- list paging through ``@odata.nextLink``;
- a 403 ``Authorization_RequestDenied`` names the permission or directory role the operation
  needs (A.1), because "Insufficient privileges" alone leaves the user guessing which.

``addPassword`` answers carry ``secretText``; nothing here logs a body, and the value is handed
straight back to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import httpx

from connectorkit.cloud.clouds import Cloud
from connectorkit.cloud.http import CloudClient, CloudError, TokenProvider
from connectorkit.errors import ConnectorkitError

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph's appId, the same in every tenant (its service principal's id is not)."""

APP_FIELDS = "id,appId,displayName,signInAudience,web,requiredResourceAccess,passwordCredentials,keyCredentials"
SP_FIELDS = "id,appId,displayName"

WRITE_APPS = "Application.ReadWrite.All, or Application.ReadWrite.OwnedBy (app-only) for an app this identity owns"
NEEDS: dict[str, str] = {
    "read applications": "Application.Read.All (or Application.ReadWrite.All)",
    "create the app registration": "Application.ReadWrite.All (delegated: a user allowed to register apps, "
    "e.g. Application Developer) or Application.ReadWrite.OwnedBy (app-only)",
    "update the app registration": WRITE_APPS,
    "add a client secret": WRITE_APPS,
    "remove a client secret": WRITE_APPS,
    "read service principals": "Application.Read.All",
    "create the service principal": "Application.ReadWrite.All (or Application.ReadWrite.OwnedBy app-only)",
    "read delegated grants": "DelegatedPermissionGrant.ReadWrite.All (or Directory.Read.All)",
    "grant admin consent to delegated permissions": "DelegatedPermissionGrant.ReadWrite.All (delegated: the user "
    "also needs Cloud Application Administrator, Application Developer, Directory Writers, User Administrator "
    "or Privileged Role Administrator)",
    "read app role assignments": "Application.Read.All",
    "grant admin consent to application permissions": "AppRoleAssignment.ReadWrite.All and Application.Read.All "
    "(delegated: the user also needs Privileged Role Administrator)",
    "remove an app role assignment": "AppRoleAssignment.ReadWrite.All (delegated: Privileged Role Administrator)",
}
"""What the caller needs for each operation, from Microsoft's permission tables (A.1)."""


def odata_string(value: str) -> str:
    """A string literal for ``$filter``: quoted, with quotes doubled as OData requires."""
    return "'" + value.replace("'", "''") + "'"


def replication_lag(response: httpx.Response) -> bool:
    """True for Graph's answers to an object that exists but has not replicated yet (A.9, A.12)."""
    if response.status_code == 404:
        return True
    if response.status_code != 400:
        return False
    text = response.text
    return "NoBackingApplicationObject" in text or "does not reference a valid application object" in text


def parse_graph_time(value: Any) -> datetime | None:
    """Graph's ISO 8601 timestamps (seven fractional digits, ``Z``) as aware datetimes."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python accepts at most six fractional digits
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Graph:
    """Microsoft Graph v1.0 for one tenant, through ``client``."""

    def __init__(self, client: CloudClient) -> None:
        self.client = client

    @classmethod
    def connect(
        cls,
        cloud: Cloud,
        tokens: TokenProvider,
        http: httpx.Client,
        *,
        retries: int = 5,
        backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Graph:
        """Graph of ``cloud`` with tokens for its ``.default`` scope. Five retries doubling from two
        seconds span about a minute, which covers the replication lag seen in practice (A.9)."""
        client = CloudClient(
            http, tokens, service="Graph", base_url=f"{cloud.graph}/v1.0", scope=cloud.graph_scope,
            retries=retries, backoff=backoff, sleep=sleep,
        )  # fmt: skip
        return cls(client)

    # --- plumbing -----------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        lag: bool = False,
        ok: Iterable[int] = (),
    ) -> httpx.Response:
        try:
            return self.client.request(
                method, path, json=body, params=params, ok=ok, retry_when=replication_lag if lag else None
            )
        except CloudError as exc:
            if exc.status == 403 and operation in NEEDS:
                raise CloudError(
                    f"{exc} — to {operation} the caller needs {NEEDS[operation]}", status=exc.status, code=exc.code
                ) from None
            raise

    def _json(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        response = self._call(operation, method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ConnectorkitError(f"Graph: the answer to {method} {path} is not JSON") from None

    def _list(self, operation: str, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a collection, following ``@odata.nextLink`` (which carries the query)."""
        items: list[dict[str, Any]] = []
        page = self._json(operation, "GET", path, params=params)
        for _ in range(1000):
            items.extend(page.get("value") or [])
            link = page.get("@odata.nextLink")
            if not link:
                return items
            page = self._json(operation, "GET", link)
        raise ConnectorkitError(f"Graph: {path} keeps answering further pages; giving up")

    # --- applications (A.2-A.6) ---------------------------------------------------------------

    def applications_named(self, display_name: str) -> list[dict[str, Any]]:
        params = {"$filter": f"displayName eq {odata_string(display_name)}", "$select": APP_FIELDS}
        return self._list("read applications", "applications", params)

    def application_by_app_id(self, app_id: str) -> dict[str, Any] | None:
        params = {"$filter": f"appId eq {odata_string(app_id)}", "$select": APP_FIELDS}
        found = self._list("read applications", "applications", params)
        return found[0] if found else None

    def get_application(self, object_id: str) -> dict[str, Any]:
        value: dict[str, Any] = self._json(
            "read applications", "GET", f"applications/{object_id}", params={"$select": APP_FIELDS}, lag=True
        )
        return value

    def create_application(self, body: dict[str, Any]) -> dict[str, Any]:
        value: dict[str, Any] = self._json("create the app registration", "POST", "applications", body=body)
        return value

    def update_application(self, object_id: str, changes: dict[str, Any]) -> None:
        """PATCH replaces each collection given whole: callers send the merged value (A.3)."""
        self._call("update the app registration", "PATCH", f"applications/{object_id}", body=changes, lag=True)

    def add_password(self, object_id: str, display_name: str, end: datetime) -> dict[str, Any]:
        """The new passwordCredential, ``secretText`` included: the only time Graph returns it (A.4)."""
        body = {
            "passwordCredential": {
                "displayName": display_name,
                "endDateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        }
        value: dict[str, Any] = self._json(
            "add a client secret", "POST", f"applications/{object_id}/addPassword", body=body, lag=True
        )
        return value

    def remove_password(self, object_id: str, key_id: str) -> None:
        self._call(
            "remove a client secret", "POST", f"applications/{object_id}/removePassword", body={"keyId": key_id},
            lag=True,
        )  # fmt: skip

    # --- service principals (A.7, A.9) --------------------------------------------------------

    def service_principal(self, app_id: str, select: str = SP_FIELDS) -> dict[str, Any] | None:
        params = {"$filter": f"appId eq {odata_string(app_id)}", "$select": select}
        found = self._list("read service principals", "servicePrincipals", params)
        return found[0] if found else None

    def graph_service_principal(self) -> dict[str, Any]:
        """Microsoft Graph's own service principal, with the permissions it offers (A.7)."""
        found = self.service_principal(GRAPH_APP_ID, "id,appId,displayName,oauth2PermissionScopes,appRoles")
        if found is None:
            raise ConnectorkitError(f"Graph: this tenant has no service principal for Microsoft Graph ({GRAPH_APP_ID})")
        return found

    def create_service_principal(self, app_id: str) -> dict[str, Any]:
        """Create the app's service principal; one that appeared meanwhile (409) is read back."""
        response = self._call(
            "create the service principal", "POST", "servicePrincipals", body={"appId": app_id}, lag=True, ok=(409,)
        )
        if response.status_code == 409:
            existing = self.service_principal(app_id)
            if existing is None:
                raise ConnectorkitError(f"Graph: a service principal for {app_id} exists but cannot be read")
            return existing
        value: dict[str, Any] = response.json()
        return value

    # --- consent (A.10, A.11) -----------------------------------------------------------------

    def delegated_grants(self, client_id: str, resource_id: str) -> list[dict[str, Any]]:
        """The tenant-wide (AllPrincipals) grants of ``client_id`` on ``resource_id``."""
        query = (
            f"clientId eq {odata_string(client_id)} and consentType eq 'AllPrincipals' "
            f"and resourceId eq {odata_string(resource_id)}"
        )
        return self._list("read delegated grants", "oauth2PermissionGrants", {"$filter": query})

    def create_grant(self, client_id: str, resource_id: str, scope: str) -> dict[str, Any] | None:
        """A new AllPrincipals grant, or None when one exists already (409: read it and PATCH)."""
        body = {"clientId": client_id, "consentType": "AllPrincipals", "resourceId": resource_id, "scope": scope}
        response = self._call(
            "grant admin consent to delegated permissions", "POST", "oauth2PermissionGrants", body=body, ok=(409,)
        )
        if response.status_code == 409:
            return None
        value: dict[str, Any] = response.json()
        return value

    def update_grant(self, grant_id: str, scope: str) -> None:
        self._call(
            "grant admin consent to delegated permissions", "PATCH", f"oauth2PermissionGrants/{grant_id}",
            body={"scope": scope},
        )  # fmt: skip

    def role_assignments(self, resource_id: str, principal_id: str) -> list[dict[str, Any]]:
        """The app roles of ``resource_id`` granted to ``principal_id``."""
        every = self._list("read app role assignments", f"servicePrincipals/{resource_id}/appRoleAssignedTo")
        return [item for item in every if item.get("principalId") == principal_id]

    def assign_role(self, resource_id: str, principal_id: str, role_id: str) -> dict[str, Any]:
        body = {"principalId": principal_id, "resourceId": resource_id, "appRoleId": role_id}
        value: dict[str, Any] = self._json(
            "grant admin consent to application permissions", "POST",
            f"servicePrincipals/{resource_id}/appRoleAssignedTo", body=body,
        )  # fmt: skip
        return value

    def remove_role_assignment(self, resource_id: str, assignment_id: str) -> None:
        self._call(
            "remove an app role assignment", "DELETE", f"servicePrincipals/{resource_id}/appRoleAssignedTo/{assignment_id}"
        )  # fmt: skip
