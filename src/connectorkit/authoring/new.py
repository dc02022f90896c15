"""``connectorkit new``: an API description in, a complete connector package out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectorkit.authoring.auth import AuthConfig, AuthModel, bearer_policy, build_auth, host_connection
from connectorkit.authoring.branding import check_brand_color, check_icon, default_brand_color, generate_icon
from connectorkit.authoring.convert import ConvertOptions, convert
from connectorkit.authoring.report import Report
from connectorkit.authoring.source import Spec, SpecFormat
from connectorkit.definition.package import DEFINITION, ICON, PROPERTIES, SCRIPT, ConnectorPackage
from connectorkit.definition.swagger import Swagger
from connectorkit.errors import InputError

POWERAPPS_URL = "https://api.powerapps.com"
POWERAPPS_API_VERSION = "2016-11-01"
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_BAD_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass
class NewOptions:
    name: str
    auth: AuthConfig = field(default_factory=AuthConfig)
    icon: Path | None = None
    no_icon: bool = False  # independent publishers must not ship an icon
    brand_color: str | None = None
    publisher: str | None = None
    stack_owner: str | None = None
    environment: str | None = None
    conversion: ConvertOptions = field(default_factory=ConvertOptions)


@dataclass
class NewResult:
    package: ConnectorPackage
    source_format: SpecFormat
    auth: AuthModel
    operations: int
    triggers: int
    icon_generated: bool
    icon_shipped: bool = True
    report: Report = field(default_factory=Report)


def check_name(name: str) -> str:
    stripped = name.strip()
    if not stripped or stripped in (".", "..") or _BAD_NAME.search(stripped):
        raise InputError(f"NAME {name!r}: not usable as a folder name (no slashes, colons or control characters)")
    return stripped


def _drop_scheme(definition: dict[str, Any], scheme: str) -> None:
    defs = definition.get("securityDefinitions")
    if isinstance(defs, dict):
        defs.pop(scheme, None)
        if not defs:
            del definition["securityDefinitions"]

    def strip(requirements: Any) -> Any:
        if not isinstance(requirements, list):
            return requirements
        kept = [r for r in requirements if not (isinstance(r, dict) and scheme in r)]
        return kept

    if "security" in definition:
        definition["security"] = strip(definition["security"])
        if not definition["security"]:
            del definition["security"]
    for op in Swagger(definition).operations():
        if "security" in op.raw:
            op.raw["security"] = strip(op.raw["security"])


def _readme(title: str, description: str, publisher: str | None, swagger: Swagger, auth: AuthModel) -> str:
    lines = [f"# {title}", "", description.strip() or f"Connector for the {title} API.", ""]
    lines += [f"## Publisher: {publisher or '<your company>'}", ""]
    lines += ["## Prerequisites", "", f"An account with access to the {title} API.", ""]
    lines += ["## Supported Operations", ""]
    for op in swagger.operations():
        heading = op.summary or op.operation_id or f"{op.method.upper()} {op.path}"
        lines += [f"### {heading}", ""]
        text = op.raw.get("description") or op.summary or ""
        if text:
            lines += [str(text).strip(), ""]
    lines += ["## Obtaining Credentials", ""]
    lines += [_credentials_text(auth), ""]
    lines += ["## Known Issues and Limitations", "", "None known.", ""]
    lines += [
        "## Deployment Instructions",
        "",
        "Deploy the connector with the Power Platform connectors CLI:",
        "`paconn create --api-def apiDefinition.swagger.json --api-prop apiProperties.json --icon icon.png`.",
        "",
    ]
    return "\n".join(lines)


def _credentials_text(auth: AuthModel) -> str:
    return {
        "none": "No credentials are needed.",
        "apiKey": "Create an API key in your account and enter it when you create a connection.",
        "basic": "Enter your user name and password when you create a connection.",
        "aad": "Sign in with your Microsoft Entra ID (Azure AD) work account when you create a connection.",
        "oauth2": "Sign in with your account when you create a connection.",
        "clientCredentials": "Register an application with the API's identity provider and enter its client ID "
        "and client secret when you create a connection.",
    }.get(auth.kind, "")


def create_connector(spec: Spec, options: NewOptions) -> NewResult:
    """Build the connector package in memory; nothing touches the disk here."""
    name = check_name(options.name)
    conversion = options.conversion
    if conversion.oidc_urls is None and options.auth.authorization_url and options.auth.token_url:
        conversion.oidc_urls = (options.auth.authorization_url, options.auth.token_url)
    converted, report = convert(spec, conversion)
    definition = converted.swagger
    swagger = Swagger(definition)
    title = swagger.title or name
    auth = build_auth(swagger, options.auth, title=title, where=spec.location)
    if auth.drop_scheme and auth.scheme:
        _drop_scheme(definition, auth.scheme)
    if auth.scheme is not None and auth.scheme in converted.bearer_schemes:
        auth.policies.append(bearer_policy())
        auth.notes.append("HTTP bearer token: the key is sent as 'Authorization: Bearer <key>'")
    host_params, host_policy = host_connection(converted)
    if host_params:
        auth.connection_parameters.update(host_params)
        if host_policy is not None:
            auth.policies.insert(0, host_policy)
        auth.notes.append(f"per-tenant host: {', '.join(host_params)} chosen on the connection")

    color = check_brand_color(options.brand_color) if options.brand_color else default_brand_color(name)
    icon: bytes | None
    if options.no_icon:
        if options.icon is not None:
            raise InputError("--icon and --no-icon cannot be used together")
        icon = None
        generated = False
    elif options.icon is not None:
        icon = check_icon(options.icon)
        generated = False
    else:
        icon = generate_icon(title, color)
        generated = True

    operations = list(swagger.operations())
    triggers = sum(1 for op in operations if op.is_trigger)
    capabilities = ["actions"] + (["triggers"] if triggers else [])
    properties: dict[str, Any] = {
        "connectionParameters": auth.connection_parameters,
        "iconBrandColor": color,
        "capabilities": capabilities,
    }
    if auth.policies:
        properties["policyTemplateInstances"] = auth.policies
    if auth.script is not None:
        properties["scriptOperations"] = auth.script_operations or []
    if options.publisher:
        properties["publisher"] = options.publisher
    if options.stack_owner:
        properties["stackOwner"] = options.stack_owner

    settings: dict[str, Any] = {}
    if options.environment:
        env = options.environment.strip().lower()
        if not _GUID.match(env):
            raise InputError(f"--environment {options.environment!r}: expected an environment GUID")
        settings["environment"] = env
    settings.update({"apiProperties": PROPERTIES, "apiDefinition": DEFINITION})
    if icon is not None:
        settings["icon"] = ICON
    if auth.script is not None:
        settings["script"] = SCRIPT
    settings.update({"powerAppsUrl": POWERAPPS_URL, "powerAppsApiVersion": POWERAPPS_API_VERSION})

    description = str(swagger.info.get("description") or "")
    package = ConnectorPackage(
        definition=definition,
        api_properties={"properties": properties},
        settings=settings,
        icon=icon,
        script=auth.script,
        readme=_readme(title, description, options.publisher, swagger, auth),
        minify_definition=converted.minify,
    )
    package.properties  # noqa: B018 - the typed view must accept what we generate
    return NewResult(
        package, spec.format, auth, len(operations) - triggers, triggers, generated, icon is not None, report
    )
