"""Solution-aware custom connectors: rows of the Dataverse ``connectors`` table (``cloud-apis.md`` C).

A connector that lives in a solution is a ``connector`` row in the environment's Dataverse org,
written through the Web API with ``MSCRM.SolutionUniqueName`` so that it lands in an unmanaged
solution (C.4, the option the docs recommend over ``AddSolutionComponent``). The org URL is the
environment's ``linkedEnvironmentMetadata.instanceUrl``; the token's scope is ``<org>/.default``
(C.5). The row's ``name`` carries the solution publisher's prefix (``cr5f3_contosoorders``), read
from the solution, so the connector is named as one made in that solution would be.

Columns hold JSON as text (``openapidefinition``, ``connectionparameters`` ...), the icon as base64
and the custom code as text (C.3; both encodings are the documented conventions, see Gaps 5). The
OAuth client secret goes into ``connectionparameters`` and every ``connectionparametersets``
entry, as on the Power Apps path; it is never logged or shown.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from connectorkit.cloud.http import CloudClient, CloudError, TokenProvider
from connectorkit.cloud.powerapps import SECRET_MISSING, inject_secret, oauth_settings, scrubbed
from connectorkit.definition.package import DEFINITION, ConnectorPackage
from connectorkit.errors import InputError

WEB_API = "api/data/v9.2"
CUSTOM_CONNECTOR = 1
"""``connectortype`` 1: CustomConnector."""
ODATA_HEADERS = {
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
    "Accept": "application/json",
}


@dataclass(frozen=True)
class DataverseDeployment:
    connector_id: str
    """The row's ``connectorid`` (a GUID), what ``pac connector update --connector-id`` takes."""
    name: str
    internal_id: str | None
    """``connectorinternalid``: the ``shared_...`` id the Power Apps API knows the connector by."""
    solution: str
    created: bool


class Dataverse:
    """The Web API of one org (``org_url`` like ``https://contoso.crm.dynamics.com``)."""

    def __init__(
        self,
        org_url: str,
        tokens: TokenProvider,
        *,
        client: httpx.Client | None = None,
        retries: int = 4,
        backoff: float = 1.0,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.client = CloudClient(
            client or httpx.Client(timeout=60.0),
            tokens,
            service="Dataverse",
            base_url=f"{self.org_url}/{WEB_API}",
            scope=f"{self.org_url}/.default",
            headers=ODATA_HEADERS,
            retries=retries,
            backoff=backoff,
        )

    def publisher_prefix(self, solution: str) -> str:
        """The customization prefix of the solution's publisher; an unknown solution is an
        :class:`InputError` naming ``--solution``."""
        params = {
            "$filter": f"uniquename eq '{_quoted(solution)}'",
            "$select": "solutionid,uniquename",
            "$expand": "publisherid($select=customizationprefix)",
        }
        answer = self.client.get_json(f"solutions?{urlencode(params, quote_via=quote, safe='')}") or {}
        rows = answer.get("value") or []
        if not rows:
            raise InputError(f"--solution {solution}: no solution with this unique name in {self.org_url}")
        prefix = (rows[0].get("publisherid") or {}).get("customizationprefix")
        if not isinstance(prefix, str) or not prefix:
            raise CloudError(f"Dataverse: solution {solution} has no publisher prefix")
        return prefix

    def find(self, name: str) -> str | None:
        params = {"$filter": f"name eq '{_quoted(name)}'", "$select": "connectorid,name"}
        answer = self.client.get_json(f"connectors?{urlencode(params, quote_via=quote, safe='')}") or {}
        rows = answer.get("value") or []
        return str(rows[0]["connectorid"]) if rows else None

    def deploy(
        self, package: ConnectorPackage, solution: str, *, name: str | None = None, secret: str | None = None
    ) -> DataverseDeployment:
        """Create the row named ``name`` (default ``<prefix>_<title>``) in ``solution``, or update
        it when a row of that name exists. Creating an OAuth connector needs ``secret``."""
        with scrubbed(secret):
            if not name:
                name = f"{self.publisher_prefix(solution)}_{_slug(package.swagger.title)}"
            existing = self.find(name)
            row = connector_row(package, secret=secret, create=existing is None)
            headers = {"MSCRM.SolutionUniqueName": solution, "Content-Type": "application/json; charset=utf-8"}
            if existing is None:
                row["name"] = name
                response = self.client.request("POST", "connectors", content=_json(row), headers=headers)
                ident = _entity_id(response.headers.get("OData-EntityId"))
            else:
                ident = existing
                self.client.request("PATCH", f"connectors({ident})", content=_json(row), headers=headers)
            read = self.client.get_json(f"connectors({ident})?$select=connectorinternalid,name") or {}
        return DataverseDeployment(ident, str(read.get("name") or name), read.get("connectorinternalid"), solution,
                                   existing is None)  # fmt: skip


def connector_row(package: ConnectorPackage, *, secret: str | None, create: bool) -> dict[str, Any]:
    """The ``connector`` columns of a package (C.3)."""
    props = json.loads(json.dumps(package.api_properties.get("properties") or {}))
    if create and secret is None and any(True for _ in oauth_settings(props)):
        raise InputError(SECRET_MISSING)
    inject_secret(props, secret, create=create)
    raw_info = package.definition.get("info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    row: dict[str, Any] = {
        "displayname": str(info.get("title") or ""),
        "description": info.get("description"),
        "connectortype": CUSTOM_CONNECTOR,
        "openapidefinition": json.dumps(package.definition),
        "connectionparameters": json.dumps(props.get("connectionParameters") or {}),
        "policytemplateinstances": json.dumps(props.get("policyTemplateInstances") or []),
        "scriptoperations": json.dumps(props.get("scriptOperations") or []),
    }
    if row["description"] is None:
        raise InputError(f"{package.name_of(DEFINITION)}: info.description is required for a connector")
    if props.get("connectionParameterSets") is not None:
        row["connectionparametersets"] = json.dumps(props["connectionParameterSets"])
    if props.get("iconBrandColor"):
        row["iconbrandcolor"] = props["iconBrandColor"]
    if package.icon is not None:
        row["iconblob"] = base64.b64encode(package.icon).decode()
    if package.script is not None:
        row["customcodeblobcontent"] = package.script
    return row


def _json(row: dict[str, Any]) -> bytes:
    return json.dumps(row).encode()


def _quoted(value: str) -> str:
    """An OData string literal's content: a quote is doubled."""
    return value.replace("'", "''")


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]", "", title.lower())
    if not slug:
        raise InputError("the connector's info.title has no letters or digits to name it by; pass --name")
    return slug


def _entity_id(header: str | None) -> str:
    match = re.search(r"\(([0-9a-fA-F-]{36})\)\s*$", header or "")
    if match is None:
        raise CloudError("Dataverse: the create answer has no OData-EntityId naming the new row")
    return match[1]
