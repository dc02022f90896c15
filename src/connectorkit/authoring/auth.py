"""From a definition's ``securityDefinitions`` to the connection parameters the platform expects.

The shapes follow Microsoft's published apiProperties files and the runtime notes: ``api_key``
for API keys, ``username``/``password`` for basic, a ``token`` oauthSetting for OAuth 2.0 sign-in
(``aad`` for Azure AD hosts, the generic ``oauth2`` provider otherwise). The platform has no
built-in client-credentials sign-in for custom connectors, so that flow becomes two connection
parameters, two header policies that hand them to the custom code, and a script that trades them
for a token on every call. No client secret is ever placed in a generated file.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectorkit.definition.models import CONSENT_REDIRECT_URL
from connectorkit.definition.swagger import SecurityScheme, Swagger
from connectorkit.errors import InputError

log = logging.getLogger(__name__)

AAD_LOGIN_HOSTS = frozenset(
    {
        "login.microsoftonline.com",
        "login.windows.net",
        "login.microsoft.com",
        "sts.windows.net",
        "login.microsoftonline.us",  # US Government (GCC High, DoD)
        "login-us.microsoftonline.com",
        "login.chinacloudapi.cn",  # operated by 21Vianet
        "login.partner.microsoftonline.cn",
        "login.microsoftonline.de",
    }
)
REDIRECT_MODES = ("Global", "GlobalPerConnector", "Direct")
CLIENT_ID_HEADER = "X-Connectorkit-Client-Id"
CLIENT_SECRET_HEADER = "X-Connectorkit-Client-Secret"
_SCRIPT_TEMPLATE = Path(__file__).with_name("templates") / "client_credentials.csx"


@dataclass
class AuthConfig:
    """Values the definition does not hold, from ``--auth-config`` and flags."""

    client_id: str | None = None
    resource_uri: str | None = None
    tenant_id: str | None = None
    login_uri: str | None = None
    scopes: list[str] | None = None
    redirect_mode: str = "Global"
    on_behalf_of: bool = False
    authorization_url: str | None = None  # for openIdConnect schemes, which name no URLs
    token_url: str | None = None

    @classmethod
    def from_file(cls, path: str | Path) -> AuthConfig:
        """Read Microsoft's sample-template keys (``oauth2.clientId`` …), flat or nested."""
        from connectorkit.definition.documents import read_document

        doc = read_document(Path(path))
        if not isinstance(doc.value, dict):
            raise InputError(f"{path}: expected a JSON object of auth settings")
        flat = _flatten(doc.value)

        def pick(*keys: str) -> Any:
            for key in keys:
                for candidate, value in flat.items():
                    if candidate.lower() == key.lower() and value not in (None, ""):
                        return value
            return None

        if pick("oauth2.clientSecret", "clientSecret", "oauth2.secret"):
            log.warning(
                "%s holds a client secret; connectorkit ignores it and never writes secrets into "
                "connector files (give it at deploy time instead)",
                path,
            )
        scopes = pick("oauth2.scopes", "scopes", "oauth2.scope", "scope")
        if isinstance(scopes, str):
            scopes = [s for s in scopes.replace(",", " ").split() if s]
        if scopes is not None and not (isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)):
            raise InputError(f"{path}: 'scopes' must be a list of strings or a space-separated string")
        config = cls(
            client_id=_str_or_none(pick("oauth2.clientId", "clientId"), path, "clientId"),
            resource_uri=_str_or_none(
                pick("oauth2.resourceUri", "resourceUri", "oauth2.resource"), path, "resourceUri"
            ),
            tenant_id=_str_or_none(pick("oauth2.tenantId", "tenantId"), path, "tenantId"),
            login_uri=_str_or_none(pick("oauth2.loginUri", "loginUri"), path, "loginUri"),
            scopes=scopes,
        )
        mode = pick("oauth2.redirectMode", "redirectMode")
        if mode is not None:
            config.redirect_mode = check_redirect_mode(str(mode), f"{path}: redirectMode")
        config.authorization_url = _str_or_none(
            pick("oauth2.authorizationUrl", "authorizationUrl"), path, "authorizationUrl"
        )
        config.token_url = _str_or_none(pick("oauth2.tokenUrl", "tokenUrl"), path, "tokenUrl")
        obo = pick("oauth2.enableOnbehalfOfLogin", "enableOnbehalfOfLogin")
        if obo is not None:
            config.on_behalf_of = str(obo).lower() == "true"
        return config

    def merged(self, **overrides: Any) -> AuthConfig:
        """This config with every override that is not ``None`` applied (flags beat the file)."""
        values = {k: v for k, v in overrides.items() if v is not None}
        return AuthConfig(**{**self.__dict__, **values})


def check_redirect_mode(mode: str, where: str) -> str:
    for known in REDIRECT_MODES:
        if mode.lower() == known.lower():
            return known
    raise InputError(f"{where}: unknown redirect mode {mode!r}; expected one of {', '.join(REDIRECT_MODES)}")


def _str_or_none(value: Any, path: str | Path, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{path}: '{key}' must be a string")
    return value


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, child in value.items():
        name = f"{prefix}{key}"
        if isinstance(child, dict):
            out.update(_flatten(child, name + "."))
        else:
            out[name] = child
    return out


@dataclass
class AuthModel:
    """What a connector needs for its sign-in, ready to be written into apiProperties."""

    kind: str  # none, apiKey, basic, aad, oauth2, clientCredentials
    scheme: str | None = None
    connection_parameters: dict[str, Any] = field(default_factory=dict)
    policies: list[dict[str, Any]] = field(default_factory=list)
    script: str | None = None
    script_operations: list[str] | None = None
    drop_scheme: bool = False
    notes: list[str] = field(default_factory=list)


def _ui(display: str, description: str, tooltip: str, **constraints: Any) -> dict[str, Any]:
    return {
        "displayName": display,
        "description": description,
        "tooltip": tooltip,
        "constraints": constraints,
    }


def choose_scheme(swagger: Swagger) -> tuple[SecurityScheme | None, list[str]]:
    """The scheme the connector signs in with: the first one the global ``security`` requires."""
    schemes = swagger.security_schemes()
    if not schemes:
        return None, []
    by_name = {s.name: s for s in schemes}
    chosen = schemes[0]
    security = swagger.doc.get("security")
    if isinstance(security, list):
        for requirement in security:
            if isinstance(requirement, dict):
                hit = next((by_name[n] for n in requirement if n in by_name), None)
                if hit is not None:
                    chosen = hit
                    break
    others = [s.name for s in schemes if s.name != chosen.name]
    return chosen, others


def build_auth(swagger: Swagger, config: AuthConfig, *, title: str, where: str) -> AuthModel:
    """The auth model for ``swagger``; ``where`` names the definition in error messages."""
    scheme, others = choose_scheme(swagger)
    if scheme is None:
        return AuthModel(kind="none", notes=["no securityDefinitions: the connector needs no sign-in"])
    kind = scheme.type.lower()
    pointer = f"{where}#{scheme.pointer}"
    if kind == "apikey":
        model = _api_key(scheme, pointer)
    elif kind == "basic":
        model = _basic(scheme)
    elif kind == "oauth2":
        model = _oauth2(scheme, config, title, pointer)
    else:
        raise InputError(f"{pointer}: unknown security type {scheme.type!r}; expected apiKey, basic or oauth2")
    if others:
        model.notes.append(
            f"securityDefinitions also lists {', '.join(others)}; the connector signs in with "
            f"'{scheme.name}' only (several sign-in kinds need connectionParameterSets)"
        )
    return model


def _api_key(scheme: SecurityScheme, pointer: str) -> AuthModel:
    location = (scheme.location or "").lower()
    if location not in ("header", "query"):
        raise InputError(
            f"{pointer}: apiKey 'in' is {scheme.location!r}; the platform sends keys in 'header' or 'query'"
        )
    if not scheme.parameter_name:
        raise InputError(f"{pointer}: apiKey has no 'name' (the {location} that carries the key)")
    params = {
        "api_key": {
            "type": "securestring",
            "uiDefinition": _ui(
                "API Key",
                "The API Key for this api",
                "Provide your API Key",
                tabIndex=2,
                clearText=False,
                required="true",
            ),
        }
    }
    return AuthModel(
        kind="apiKey",
        scheme=scheme.name,
        connection_parameters=params,
        notes=[f"API key sent in the {location} '{scheme.parameter_name}'"],
    )


def _basic(scheme: SecurityScheme) -> AuthModel:
    params = {
        "username": {
            "type": "securestring",
            "uiDefinition": _ui(
                "Username",
                "The username for this api",
                "Provide the username",
                tabIndex=2,
                clearText=True,
                required="true",
            ),
        },
        "password": {
            "type": "securestring",
            "uiDefinition": _ui(
                "Password",
                "The password for this api",
                "Provide the password",
                tabIndex=3,
                clearText=False,
                required="true",
            ),
        },
    }
    return AuthModel(
        kind="basic", scheme=scheme.name, connection_parameters=params, notes=["HTTP basic authentication"]
    )


def is_aad_url(url: str | None) -> bool:
    if not url:
        return False
    return (urlsplit(url).hostname or "").lower() in AAD_LOGIN_HOSTS


def _oauth2(scheme: SecurityScheme, config: AuthConfig, title: str, pointer: str) -> AuthModel:
    flow = (scheme.flow or "").strip()
    if flow == "accessCode":
        if not scheme.authorization_url or not scheme.token_url:
            raise InputError(f"{pointer}: oauth2 accessCode flow needs both authorizationUrl and tokenUrl")
        if is_aad_url(scheme.authorization_url):
            return _aad(scheme, config, title, pointer)
        return _generic_oauth2(scheme, config, title)
    if flow == "application":
        return _client_credentials(scheme, config, pointer)
    if flow in ("implicit", "password"):
        raise InputError(
            f"{pointer}: oauth2 flow {flow!r} is not supported by Power Platform custom connectors; "
            "use accessCode (user sign-in) or application (client credentials)"
        )
    raise InputError(
        f"{pointer}: unknown oauth2 flow {scheme.flow!r}; expected accessCode, application, implicit or password"
    )


def _client_id(config: AuthConfig, notes: list[str]) -> str | None:
    if not config.client_id:
        notes.append(
            "no client id given: set oauth2.clientId in --auth-config or pass --client-id "
            "(connectorkit appreg can register the app)"
        )
    return config.client_id


def _sign_in_ui(title: str) -> dict[str, Any]:
    return {
        "displayName": f"Login with {title}",
        "description": f"Login with {title}",
        "tooltip": f"Provide {title} credentials",
        "constraints": {"required": "true"},
    }


def _generic_oauth2(scheme: SecurityScheme, config: AuthConfig, title: str) -> AuthModel:
    notes = [f"OAuth 2.0 authorization code sign-in at {scheme.authorization_url}"]
    scopes = config.scopes if config.scopes is not None else scheme.scopes
    token: dict[str, Any] = {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "oauth2",
            "clientId": _client_id(config, notes),
            "scopes": scopes,
            "redirectMode": config.redirect_mode,
            "redirectUrl": CONSENT_REDIRECT_URL,
            "properties": {"IsFirstParty": "False"},
            "customParameters": {
                "authorizationUrl": {"value": scheme.authorization_url},
                "tokenUrl": {"value": scheme.token_url},
                "refreshUrl": {"value": scheme.token_url},
            },
        },
        "uiDefinition": _sign_in_ui(title),
    }
    return AuthModel(kind="oauth2", scheme=scheme.name, connection_parameters={"token": token}, notes=notes)


def _resource_from_scopes(scopes: list[str]) -> str | None:
    for scope in scopes:
        if "://" in scope:
            base, _, permission = scope.rpartition("/")
            if base and "://" in base and permission:
                return base
    return None


def _aad(scheme: SecurityScheme, config: AuthConfig, title: str, pointer: str) -> AuthModel:
    url = urlsplit(scheme.authorization_url or "")
    notes = [f"Azure AD sign-in ({url.hostname})"]
    scopes = config.scopes if config.scopes is not None else scheme.scopes
    query = parse_qs(url.query)
    resource = config.resource_uri or next(iter(query.get("resource", [])), None) or _resource_from_scopes(scopes)
    if not resource:
        raise InputError(
            f"{pointer}: Azure AD sign-in needs the resource (application ID URI) of the API: "
            "set oauth2.resourceUri in --auth-config or pass --resource-uri"
        )
    segments = [s for s in url.path.split("/") if s]
    tenant = config.tenant_id or (segments[0] if segments and segments[0] != "oauth2" else None) or "common"
    login = config.login_uri or f"{url.scheme or 'https'}://{url.hostname}"
    custom: dict[str, Any] = {
        "loginUri": {"value": login},
        "tenantId": {"value": tenant},
        "resourceUri": {"value": resource},
        "enableOnbehalfOfLogin": {"value": "true" if config.on_behalf_of else "false"},
    }
    token: dict[str, Any] = {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "aad",
            "clientId": _client_id(config, notes),
            "scopes": scopes,
            "redirectMode": config.redirect_mode,
            "redirectUrl": CONSENT_REDIRECT_URL,
            "properties": {
                "IsFirstParty": "False",
                "AzureActiveDirectoryResourceId": resource,
                "IsOnbehalfofLoginSupported": config.on_behalf_of,
            },
            "customParameters": custom,
        },
        "uiDefinition": _sign_in_ui(title),
    }
    tenant_param = {
        "type": "string",
        "metadata": {"sourceType": "AzureActiveDirectoryTenant"},
        "uiDefinition": {"constraints": {"required": "false", "hidden": "true"}},
    }
    notes.append(f"resource {resource}, tenant {tenant}")
    return AuthModel(
        kind="aad",
        scheme=scheme.name,
        connection_parameters={"token": token, "token:TenantId": tenant_param},
        notes=notes,
    )


def _csharp_string(value: str) -> str:
    """A C# verbatim string literal holding ``value``."""
    return '@"' + value.replace('"', '""') + '"'


def client_credentials_script(token_url: str, scopes: list[str]) -> str:
    template = _SCRIPT_TEMPLATE.read_text(encoding="utf-8")
    replacements = {
        "{{TOKEN_URL}}": _csharp_string(token_url),
        "{{SCOPE}}": _csharp_string(" ".join(scopes)),
        "{{CLIENT_ID_HEADER}}": _csharp_string(CLIENT_ID_HEADER),
        "{{CLIENT_SECRET_HEADER}}": _csharp_string(CLIENT_SECRET_HEADER),
    }
    for marker, value in replacements.items():
        template = template.replace(marker, value)
    return template


def _client_credentials(scheme: SecurityScheme, config: AuthConfig, pointer: str) -> AuthModel:
    if not scheme.token_url:
        raise InputError(f"{pointer}: oauth2 application flow needs a tokenUrl")
    scopes = config.scopes if config.scopes is not None else scheme.scopes
    client_id: dict[str, Any] = {
        "type": "string",
        "uiDefinition": _ui(
            "Client ID", "The client (application) ID", "Provide the client ID", tabIndex=1, required="true"
        ),
    }
    if config.client_id:
        client_id["defaultValue"] = config.client_id
    params = {
        "client_id": client_id,
        "client_secret": {
            "type": "securestring",
            "uiDefinition": _ui(
                "Client secret",
                "The client secret of the application",
                "Provide the client secret",
                tabIndex=2,
                clearText=False,
                required="true",
            ),
        },
    }
    policies = [
        {
            "templateId": "setheader",
            "title": "Hand the client ID to the token script",
            "parameters": {
                "x-ms-apimTemplateParameter.name": CLIENT_ID_HEADER,
                "x-ms-apimTemplateParameter.value": "@connectionParameters('client_id')",
                "x-ms-apimTemplateParameter.existsAction": "override",
                "x-ms-apimTemplate-policySection": "Request",
            },
        },
        {
            "templateId": "setheader",
            "title": "Hand the client secret to the token script",
            "parameters": {
                "x-ms-apimTemplateParameter.name": CLIENT_SECRET_HEADER,
                "x-ms-apimTemplateParameter.value": "@connectionParameters('client_secret')",
                "x-ms-apimTemplateParameter.existsAction": "override",
                "x-ms-apimTemplate-policySection": "Request",
            },
        },
    ]
    return AuthModel(
        kind="clientCredentials",
        scheme=scheme.name,
        connection_parameters=params,
        policies=policies,
        script=client_credentials_script(scheme.token_url, scopes),
        script_operations=[],
        drop_scheme=True,
        notes=[
            f"OAuth 2.0 client credentials at {scheme.token_url}: script.csx fetches the token on each call",
            f"securityDefinitions '{scheme.name}' removed: the platform has no built-in client-credentials sign-in",
        ],
    )


def bearer_policy() -> dict[str, Any]:
    """Sends the API key as ``Authorization: Bearer <key>`` (HTTP bearer schemes)."""
    return {
        "templateId": "setheader",
        "title": "Send the key as a bearer token",
        "parameters": {
            "x-ms-apimTemplateParameter.name": "Authorization",
            "x-ms-apimTemplateParameter.value": "Bearer @connectionParameters('api_key')",
            "x-ms-apimTemplateParameter.existsAction": "override",
            "x-ms-apimTemplate-policySection": "Request",
        },
    }


def host_connection(converted: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Connection parameters and the dynamichosturl policy for a per-tenant host.

    ``converted`` is a :class:`~connectorkit.authoring.converted.Converted` whose server URL has
    variables in it; each becomes a string parameter (with its default and allowed values) and
    the policy builds the host from them on every call.
    """
    if not converted.host_parameters or not converted.url_template:
        return {}, None
    params: dict[str, Any] = {}
    template = str(converted.url_template)
    for index, (name, spec) in enumerate(converted.host_parameters.items()):
        spec = spec if isinstance(spec, dict) else {}
        label = re.sub(r"(?<=[a-z])(?=[A-Z])|[_-]+", " ", name).strip().title()
        param: dict[str, Any] = {
            "type": "string",
            "uiDefinition": _ui(
                label,
                str(spec.get("description") or f"The {label.lower()} of your service's address"),
                f"Provide the {label.lower()}",
                tabIndex=10 + index,
                required="true",
            ),
        }
        if spec.get("default") is not None:
            param["defaultValue"] = str(spec["default"])
        choices = spec.get("enum")
        if isinstance(choices, list) and choices:
            param["allowedValues"] = [{"value": str(v)} for v in choices]
        clean = _parameter_name(name)
        params[clean] = param
        template = template.replace(f"@connectionParameters('{name}')", f"@connectionParameters('{clean}')")
    policy = {
        "templateId": "dynamichosturl",
        "title": "Address of your service",
        "parameters": {"x-ms-apimTemplateParameter.urlTemplate": template},
    }
    return params, policy


def _parameter_name(name: str) -> str:
    """Connection parameter names allow letters, digits and underscores only."""
    cleaned = re.sub(r"[^0-9A-Za-z_]", "_", name)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"p_{cleaned}"
