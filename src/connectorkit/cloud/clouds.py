"""Microsoft's clouds and their endpoints, in one table.

Each national cloud has its own sign-in authority, Microsoft Graph, Power Apps resource provider
(RP), Flow RP and Dataverse domain. ``--cloud`` picks a row; every base URL can also be replaced
(``--graph-url``, ``CONNECTORKIT_GRAPH_URL`` and so on), which is how a proxy or the tests' local
stand-ins are reached.

Sources: the Power Apps RP hosts, Power Apps scopes and authorities per cloud are those of
Microsoft's own Power Platform Terraform provider (``internal/constants/constants.go``); Graph's
national endpoints are those of Microsoft Graph's "national cloud deployments" page (GCC uses the
global Graph, GCC High and DoD their own); the Flow RP hosts follow the Power Automate US
Government and China pages. The commercial values are those paconn uses
(``../shared/reference/cloud-apis.md`` section B).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from connectorkit.errors import InputError


@dataclass(frozen=True)
class Cloud:
    """Base URLs of one cloud (no trailing slash), and the Power Apps token audience."""

    name: str
    title: str
    login: str
    """The authority host: ``<login>/<tenant>`` is the authority."""
    graph: str
    powerapps: str
    """The Power Apps RP (``/providers/Microsoft.PowerApps/...``)."""
    flow: str
    """The Flow RP (``/providers/Microsoft.ProcessSimple/environments``)."""
    powerapps_resource: str
    """The audience of Power Apps RP tokens; the scope is ``<resource>/.default``."""
    dataverse_domain: str
    """The domain Dataverse orgs of this cloud live under (the org URL itself comes from the
    environment's ``linkedEnvironmentMetadata.instanceUrl``)."""

    @property
    def graph_scope(self) -> str:
        return f"{self.graph}/.default"

    @property
    def powerapps_scope(self) -> str:
        return f"{self.powerapps_resource}/.default"

    def authority(self, tenant: str) -> str:
        return f"{self.login}/{tenant}"


CLOUDS: dict[str, Cloud] = {
    cloud.name: cloud
    for cloud in (
        Cloud(
            "public",
            "Commercial",
            login="https://login.microsoftonline.com",
            graph="https://graph.microsoft.com",
            powerapps="https://api.powerapps.com",
            flow="https://api.flow.microsoft.com",
            powerapps_resource="https://service.powerapps.com",
            dataverse_domain="dynamics.com",
        ),
        Cloud(
            "gcc",
            "US Government (GCC)",
            login="https://login.microsoftonline.com",
            graph="https://graph.microsoft.com",
            powerapps="https://gov.api.powerapps.us",
            flow="https://gov.api.flow.microsoft.us",
            powerapps_resource="https://service.powerapps.us",
            dataverse_domain="dynamics.com",
        ),
        Cloud(
            "gcchigh",
            "US Government (GCC High)",
            login="https://login.microsoftonline.us",
            graph="https://graph.microsoft.us",
            powerapps="https://high.api.powerapps.us",
            flow="https://high.api.flow.microsoft.us",
            powerapps_resource="https://high.service.apps.appsplatform.us",
            dataverse_domain="microsoftdynamics.us",
        ),
        Cloud(
            "dod",
            "US Government (DoD)",
            login="https://login.microsoftonline.us",
            graph="https://dod-graph.microsoft.us",
            powerapps="https://api.apps.appsplatform.us",
            flow="https://api.flow.appsplatform.us",
            powerapps_resource="https://service.apps.appsplatform.us",
            dataverse_domain="appsplatform.us",
        ),
        Cloud(
            "china",
            "China (21Vianet)",
            login="https://login.chinacloudapi.cn",
            graph="https://microsoftgraph.chinacloudapi.cn",
            powerapps="https://api.powerapps.cn",
            flow="https://api.powerautomate.cn",
            powerapps_resource="https://service.powerapps.cn",
            dataverse_domain="dynamics.cn",
        ),
    )
}

ALIASES = {"usgov": "gcc", "usgovhigh": "gcchigh", "usgovdod": "dod", "commercial": "public", "global": "public"}
"""pac's ``--cloud`` names (Public, UsGov, UsGovHigh, UsGovDod, China) are accepted too."""

OVERRIDABLE = ("login", "graph", "powerapps", "flow", "powerapps_resource")
ENV_PREFIX = "CONNECTORKIT_"


def env_variable(field: str) -> str:
    """``CONNECTORKIT_GRAPH_URL`` for ``graph``; the Power Apps audience is
    ``CONNECTORKIT_POWERAPPS_RESOURCE``."""
    return f"{ENV_PREFIX}{field.upper()}" + ("" if field.endswith("resource") else "_URL")


def option_name(field: str) -> str:
    """``--graph-url`` for ``graph``; ``--powerapps-resource`` for the audience."""
    return "--" + field.replace("_", "-") + ("" if field.endswith("resource") else "-url")


def resolve_cloud(
    name: str | None = None,
    overrides: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Cloud:
    """The cloud called ``name`` (default ``CONNECTORKIT_CLOUD`` or public) with base URLs
    replaced: an explicit override first, then its environment variable.

    An unknown cloud or a base URL that is not an absolute http(s) URL is an :class:`InputError`
    naming the option."""
    environ = os.environ if environ is None else environ
    wanted = (name or environ.get(f"{ENV_PREFIX}CLOUD") or "public").strip().lower()
    wanted = ALIASES.get(wanted, wanted)
    if wanted not in CLOUDS:
        raise InputError(f"--cloud {name or wanted}: unknown cloud (choose from {', '.join(CLOUDS)})")
    cloud = CLOUDS[wanted]
    changes: dict[str, str] = {}
    given = dict(overrides or {})
    for field in OVERRIDABLE:
        value = given.get(field) or environ.get(env_variable(field))
        if not value:
            continue
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            option = option_name(field) if given.get(field) else env_variable(field)
            raise InputError(f"{option}: {value!r} is not an absolute http(s) URL")
        changes[field] = value
    unknown = set(given) - {f.name for f in fields(Cloud)}
    if unknown:
        raise InputError(f"unknown endpoint override(s): {', '.join(sorted(unknown))}")
    return replace(cloud, **changes) if changes else cloud
