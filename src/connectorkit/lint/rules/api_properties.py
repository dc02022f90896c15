"""Rules on ``apiProperties.json``: brand colour, publisher, connection parameters, OAuth
settings and policy templates.

The file has no published validator rule list; the checks follow Microsoft's 2020 JSON schema
(``schemas/paconn-apiProperties.schema.json``, stale in places), the Power Apps solution
checker's ``connector-validate-*`` rules, the certification guidance and what the 150 corpus
connectors accepted by Microsoft actually contain. A connector without ``apiProperties.json``
gets none of these findings: the loader already reports the missing file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import pointer_join
from connectorkit.definition.package import PROPERTIES, ConnectorPackage
from connectorkit.lint.engine import Context
from connectorkit.lint.registry import CERTIFICATION, Category, Hit, On, Profile, hit, rule

CHECKER_SOURCE = (
    "https://github.com/microsoft/terraform-provider-power-platform/blob/d7d202d8a10f9b6842a528b12d5664cf398b8054/"
    "internal/services/managed_environment/tests/get_rulesset.json"
)
SCHEMA_SOURCE = (
    "https://github.com/microsoft/PowerPlatformConnectors/blob/8bff86eac6d04e939faee0de15298e911b118c21/"
    "schemas/paconn-apiProperties.schema.json"
)
SUBMISSION_SOURCE = "https://learn.microsoft.com/en-us/connectors/custom-connectors/certification-submission"
CONNECTION_PARAMETERS_SOURCE = "https://learn.microsoft.com/en-us/connectors/custom-connectors/connection-parameters"
POLICY_SOURCE = "https://learn.microsoft.com/en-us/connectors/custom-connectors/policy-templates"

_PROPS = "/properties"
_PARAMS = "/properties/connectionParameters"
_SETS = "/properties/connectionParameterSets/values"
_POLICIES = "/properties/policyTemplateInstances"

INDEPENDENT_PUBLISHER_COLOR = "#da3b01"
BANNED_COLORS = {"#ffffff": "white", "#007ee5": "the default blue"}
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


# --------------------------------------------------------------------------- shared views


def properties_of(ctx: Context) -> dict[str, Any] | None:
    """The ``properties`` object of apiProperties.json, ``{}`` when it is not an object, and
    ``None`` when the connector has no apiProperties.json at all (loaded from a folder without
    one, or a lone definition file)."""
    return ctx.memo("api_properties.properties", lambda: _properties(ctx.package))


def _properties(package: ConnectorPackage) -> dict[str, Any] | None:
    if PROPERTIES not in package.documents and package.path is not None:
        return None
    root = package.api_properties
    if not isinstance(root, dict):
        return {}
    props = root.get("properties")
    return props if isinstance(props, dict) else {}


def color_of(ctx: Context) -> str | None:
    """``iconBrandColor`` as ``#rrggbb`` (lower case) when it is a valid hex colour."""
    props = properties_of(ctx)
    value = props.get("iconBrandColor") if props else None
    if not isinstance(value, str) or not _HEX_COLOR.fullmatch(value.strip()):
        return None
    value = value.strip().lower()
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value


@dataclass(frozen=True)
class ConnectionParameter:
    """One connection parameter as written: under ``connectionParameters`` (``set_index`` None)
    or under one of the ``connectionParameterSets`` (multi-auth)."""

    name: str
    raw: Any
    pointer: str
    set_index: int | None = None

    @property
    def type(self) -> str | None:
        value = self.raw.get("type") if isinstance(self.raw, dict) else None
        return value if isinstance(value, str) else None

    @property
    def oauth_settings(self) -> tuple[Any, str] | None:
        """The OAuth settings object and its pointer (the key is matched case-insensitively:
        real files hold ``oauthSettings``)."""
        if not isinstance(self.raw, dict):
            return None
        for key, value in self.raw.items():
            if key.lower() == "oauthsettings":
                return value, pointer_join(self.pointer, key)
        return None


def connection_parameters(ctx: Context) -> list[ConnectionParameter]:
    """Every connection parameter of the connector, of ``connectionParameters`` and of each
    parameter set."""
    return ctx.memo("api_properties.connection_parameters", lambda: _connection_parameters(properties_of(ctx)))


def _connection_parameters(props: dict[str, Any] | None) -> list[ConnectionParameter]:
    if not props:
        return []
    found: list[ConnectionParameter] = []
    params = props.get("connectionParameters")
    if isinstance(params, dict):
        found += [ConnectionParameter(n, raw, pointer_join(_PARAMS, n)) for n, raw in params.items()]
    sets = props.get("connectionParameterSets")
    values = sets.get("values") if isinstance(sets, dict) else None
    if isinstance(values, list):
        for index, entry in enumerate(values):
            set_params = entry.get("parameters") if isinstance(entry, dict) else None
            if isinstance(set_params, dict):
                base = f"{_SETS}/{index}/parameters"
                found += [ConnectionParameter(n, raw, pointer_join(base, n), index) for n, raw in set_params.items()]
    return found


@dataclass(frozen=True)
class PolicyInstance:
    """One entry of ``policyTemplateInstances``."""

    index: int
    raw: dict[str, Any]
    pointer: str

    @property
    def template(self) -> str | None:
        """The template id case-folded (the platform accepts several spellings of each)."""
        value = self.raw.get("templateId")
        return value.lower() if isinstance(value, str) and value else None

    @property
    def parameters(self) -> dict[str, Any]:
        value = self.raw.get("parameters")
        return value if isinstance(value, dict) else {}


def policy_instances(ctx: Context) -> list[PolicyInstance]:
    return ctx.memo("api_properties.policies", lambda: _policy_instances(properties_of(ctx)))


def _policy_instances(props: dict[str, Any] | None) -> list[PolicyInstance]:
    instances = props.get("policyTemplateInstances") if props else None
    if not isinstance(instances, list):
        return []
    return [
        PolicyInstance(index, raw, f"{_POLICIES}/{index}")
        for index, raw in enumerate(instances)
        if isinstance(raw, dict)
    ]


def _custom_parameter(settings: dict[str, Any], name: str) -> tuple[str, Any] | None:
    """A ``customParameters`` entry by name, case-insensitively (``ResourceUri`` is seen too)."""
    custom = settings.get("customParameters")
    if not isinstance(custom, dict):
        return None
    lowered = name.lower()
    return next(((key, value) for key, value in custom.items() if key.lower() == lowered), None)


def _oauth_settings(ctx: Context) -> Iterator[tuple[ConnectionParameter, dict[str, Any], str]]:
    """(parameter, oAuthSettings, pointer) for every OAuth connection parameter."""
    for param in connection_parameters(ctx):
        if (param.type or "").lower() != "oauthsetting":
            continue
        found = param.oauth_settings
        if found is not None and isinstance(found[0], dict):
            yield param, found[0], found[1]


def _identity_provider(settings: dict[str, Any]) -> str:
    value = settings.get("identityProvider")
    return value.lower() if isinstance(value, str) else ""


# --------------------------------------------------------------------------- brand colour


@rule(
    "BrandColorNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The brand color is invalid. Update the brand color with a valid hexadecimal color.",
    on=On.PACKAGE,
    fix='Set "iconBrandColor" to an HTML hex colour such as "#1f344a".',
    source=CHECKER_SOURCE,
)
def brand_color_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The brand colour is the background of the connector's icon wherever it is shown, so
    ``properties.iconBrandColor`` is required and must be an HTML hex colour.

    This is the solution checker's ``connector-validate-hexadecimalbrandcolor``; the 2020 schema
    requires the key but has no pattern for it. ``#rrggbb`` is what every real connector uses;
    the short ``#rgb`` form is accepted too.
    """
    props = properties_of(ctx)
    if props is None:
        return
    value = props.get("iconBrandColor")
    if value is None:
        yield hit(_PROPS, file=PROPERTIES, message="The 'iconBrandColor' property is required in 'properties'.")
    elif not isinstance(value, str) or not _HEX_COLOR.fullmatch(value.strip()):
        yield hit(f"{_PROPS}/iconBrandColor", file=PROPERTIES)


@rule(
    "BrandColorNotAllowed",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="Invalid brand color: '{0}' is {1}. Ensure brand color is a valid hexadecimal color and should not be "
    "white (#ffffff) or default (#007ee5).",
    on=On.PACKAGE,
    fix="Use your brand's own colour, the one the icon's background has.",
    profiles=frozenset({Profile.CERTIFIED}),
    source=CHECKER_SOURCE,
)
def brand_color_not_allowed(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """A certified connector's brand colour may not be white (``#ffffff``) or the default blue
    (``#007ee5``): both make the icon indistinguishable from the platform's own.

    This is the solution checker's ``connector-validate-brandcolor`` and an item of the
    certification pull-request checklist.
    """
    color = color_of(ctx)
    if color in BANNED_COLORS:
        yield hit(f"{_PROPS}/iconBrandColor", color, BANNED_COLORS[color], file=PROPERTIES)


@rule(
    "IndependentPublisherBrandColor",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="An independent publisher connector must set 'iconBrandColor' to '#da3b01', not '{0}'.",
    on=On.PACKAGE,
    fix='Set "iconBrandColor": "#da3b01".',
    profiles=frozenset({Profile.INDEPENDENT_PUBLISHER}),
    source="https://github.com/microsoft/PowerPlatformConnectors/blob/8bff86eac6d04e939faee0de15298e911b118c21/README.md",
)
def independent_publisher_brand_color(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Independent publisher connectors all get the same generic icon, whose colour is
    ``#da3b01``; the repository's README requires exactly that value."""
    props = properties_of(ctx)
    if props is None:
        return
    value = props.get("iconBrandColor")
    if isinstance(value, str) and _HEX_COLOR.fullmatch(value.strip()) and color_of(ctx) != INDEPENDENT_PUBLISHER_COLOR:
        yield hit(f"{_PROPS}/iconBrandColor", value, file=PROPERTIES)


# --------------------------------------------------------------------------- publisher


def _missing_text(props: dict[str, Any], key: str) -> Hit | None:
    value = props.get(key)
    if value is None:
        return hit(_PROPS, key, file=PROPERTIES)
    if not isinstance(value, str) or not value.strip():
        return hit(f"{_PROPS}/{key}", key, file=PROPERTIES, message=f"The '{key}' value must be a non-empty name.")
    return None


@rule(
    "PublisherMissing",
    category=Category.API_PROPERTIES,
    severity=Severity.WARNING,
    message="The '{0}' property is required for certification.",
    on=On.PACKAGE,
    fix='Add "publisher": "<your company or your full name>" to "properties".',
    profiles=CERTIFICATION,
    source=SUBMISSION_SOURCE,
)
def publisher_missing(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Certification needs ``properties.publisher``: the company (verified publishers) or the
    person (independent publishers) who publishes the connector, shown to every user.

    A warning rather than an error because connectors certified before the requirement, still in
    the public repository, lack it; reviewers ask for it on every new submission.
    """
    props = properties_of(ctx)
    if props is not None and (found := _missing_text(props, "publisher")) is not None:
        yield found


@rule(
    "StackOwnerMissing",
    category=Category.API_PROPERTIES,
    severity=Severity.WARNING,
    message="The '{0}' property is required for certification.",
    on=On.PACKAGE,
    fix='Add "stackOwner": "<owner of the back-end service>" to "properties" (spelled exactly so).',
    profiles=CERTIFICATION,
    source=SUBMISSION_SOURCE,
)
def stack_owner_missing(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Certification needs ``properties.stackOwner``: the company that owns the service behind
    the connector (the publisher itself unless it builds on someone else's API).

    The key is case-sensitive: a file with ``stackowner`` fails Microsoft's schema. A warning for
    the same reason as PublisherMissing: older certified connectors lack it.
    """
    props = properties_of(ctx)
    if props is None:
        return
    found = _missing_text(props, "stackOwner")
    if found is not None and found.pointer == _PROPS:
        misspelled = next((k for k in props if k.lower() == "stackowner" and k != "stackOwner"), None)
        if misspelled is not None:
            found = hit(
                pointer_join(_PROPS, misspelled),
                file=PROPERTIES,
                message=f"The 'stackOwner' property is required for certification; '{misspelled}' is spelled "
                "differently and is not read.",
            )
    if found is not None:
        yield found


_KNOWN_PROPERTY_KEYS = frozenset(
    {
        "iconBrandColor",
        "publisher",
        "stackOwner",
        "capabilities",
        "connectionParameters",
        "connectionParameterSets",
        "policyTemplateInstances",
        "scriptOperations",
        "script",
        "scriptDefinitionUrl",
        "$schema",
    }
)
_KNOWN_BY_FOLD = {key.lower(): key for key in _KNOWN_PROPERTY_KEYS}


@rule(
    "ApiPropertiesKeyUnknown",
    category=Category.API_PROPERTIES,
    severity=Severity.WARNING,
    message="'properties' has a key '{0}' that the platform does not read.",
    on=On.PACKAGE,
    fix="Remove the key, or move it where it belongs (connection parameters go under 'connectionParameters').",
    source=SCHEMA_SOURCE,
    microsoft=False,
)
def api_properties_key_unknown(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """``properties`` holds a key the platform does not know, so what it says is silently lost:
    typically a misspelling (``stackowner``) or a connection parameter written one level too
    high (``token:clientId``).

    Microsoft's schema allows only its listed keys; ``connectionParameterSets``,
    ``scriptOperations`` and ``script`` are accepted as well because the platform reads them.
    """
    props = properties_of(ctx)
    if not props:
        return
    for key in props:
        if key in _KNOWN_PROPERTY_KEYS:
            continue
        near = _KNOWN_BY_FOLD.get(key.lower())
        message = (
            f"'properties' has a key '{key}' that the platform does not read; did you mean '{near}'?" if near else None
        )
        yield hit(pointer_join(_PROPS, key), key, file=PROPERTIES, message=message)


# --------------------------------------------------------------------------- connection parameters

_PLAIN_NAME = re.compile(r"[0-9a-zA-Z_]+")
_SUB_NAME = re.compile(r"[0-9a-zA-Z_]+:(?!TenantId$)[0-9a-zA-Z_]+")
TENANT_ID = "token:TenantId"
PRIMITIVE_TYPES = frozenset({"string", "securestring", "int", "bool"})
SPECIAL_TYPES = frozenset({"oauthsetting", "gatewaysetting"})


def _name_valid(name: str) -> bool:
    return name == TENANT_ID or bool(_PLAIN_NAME.fullmatch(name) or _SUB_NAME.fullmatch(name))


@rule(
    "ConnectionParameterNameNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The connection parameter name '{0}' is not valid: use letters, digits and underscores, optionally "
    "'prefix:name' (such as 'token:clientId').",
    on=On.PACKAGE,
    fix="Rename the parameter (for example 'api_key') and update the policies that refer to it.",
    source=SCHEMA_SOURCE,
    microsoft=False,
)
def connection_parameter_name_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Connection parameter names are identifiers that policies refer to with
    ``@connectionParameters('name')``; the schema allows only ``[0-9a-zA-Z_]+``, a
    ``prefix:name`` sub-parameter, or the special ``token:TenantId``."""
    for param in connection_parameters(ctx):
        if not _name_valid(param.name):
            yield hit(param.pointer, param.name, file=PROPERTIES)


@rule(
    "ConnectionParameterTypeNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The connection parameter '{0}' has type '{1}'; the type must be one of string, securestring, int, "
    "bool, oauthSetting or gatewaySetting.",
    on=On.PACKAGE,
    fix="Set 'type' to securestring for secrets, string for plain values, oauthSetting for OAuth sign-in.",
    source=SCHEMA_SOURCE,
    microsoft=False,
)
def connection_parameter_type_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The ``type`` decides how the platform asks for and stores a connection value (a
    ``securestring`` is never shown again, an ``oauthSetting`` starts a sign-in), so every
    connection parameter needs one of the known types.

    Types are compared case-insensitively: a certified connector uses ``oAuthSetting``.
    """
    for param in connection_parameters(ctx):
        if not isinstance(param.raw, dict):
            continue
        value = param.raw.get("type")
        if value is None:
            yield hit(param.pointer, param.name, "(none)", file=PROPERTIES)
        elif not isinstance(value, str) or value.lower() not in PRIMITIVE_TYPES | SPECIAL_TYPES:
            yield hit(pointer_join(param.pointer, "type"), param.name, value, file=PROPERTIES)


_TRUTH_STRINGS = frozenset({"true", "false"})


def _malformed(param: ConnectionParameter) -> Iterator[tuple[str, str]]:
    """(pointer, problem) for each shape problem of one connection parameter."""
    raw = param.raw
    if not isinstance(raw, dict):
        yield param.pointer, "the parameter must be an object"
        return
    kind = (param.type or "").lower()
    if kind == "oauthsetting":
        settings = param.oauth_settings
        if settings is None:
            yield param.pointer, "an oauthSetting parameter needs an 'oAuthSettings' object"
        elif not isinstance(settings[0], dict):
            yield settings[1], "'oAuthSettings' must be an object"
    default = raw.get("defaultValue")
    if isinstance(default, dict | list):
        yield pointer_join(param.pointer, "defaultValue"), "'defaultValue' must be a single value"
    allowed = raw.get("allowedValues")
    if allowed is not None:
        if not isinstance(allowed, list):
            yield pointer_join(param.pointer, "allowedValues"), "'allowedValues' must be an array"
        else:
            for index, entry in enumerate(allowed):
                if not isinstance(entry, dict) or "value" not in entry:
                    yield f"{param.pointer}/allowedValues/{index}", "each allowed value needs a 'value'"
    ui = raw.get("uiDefinition")
    if ui is None:
        return
    ui_pointer = pointer_join(param.pointer, "uiDefinition")
    if not isinstance(ui, dict):
        yield ui_pointer, "'uiDefinition' must be an object"
        return
    for key in ("displayName", "description", "tooltip"):
        if key in ui and not isinstance(ui[key], str):
            yield pointer_join(ui_pointer, key), f"'{key}' must be a string"
    constraints = ui.get("constraints")
    if constraints is None:
        return
    c_pointer = ui_pointer + "/constraints"
    if not isinstance(constraints, dict):
        yield c_pointer, "'constraints' must be an object"
        return
    for key in ("required", "hidden", "clearText"):
        value = constraints.get(key)
        if value is None or isinstance(value, bool):
            continue
        if not isinstance(value, str) or value.lower() not in _TRUTH_STRINGS:
            yield pointer_join(c_pointer, key), f'\'{key}\' must be "true" or "false"'
    tab = constraints.get("tabIndex")
    if tab is not None and (isinstance(tab, bool) or not isinstance(tab, int | str) or not str(tab).isdigit()):
        yield c_pointer + "/tabIndex", "'tabIndex' must be an integer"
    ui_allowed = constraints.get("allowedValues")
    if ui_allowed is not None:
        if not isinstance(ui_allowed, list):
            yield c_pointer + "/allowedValues", "'allowedValues' must be an array"
        else:
            for index, entry in enumerate(ui_allowed):
                if not isinstance(entry, dict) or "value" not in entry:
                    yield f"{c_pointer}/allowedValues/{index}", "each allowed value needs a 'value'"


@rule(
    "ConnectionParameterNotWellFormed",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The connectionparameter is not well formed: {0}.",
    on=On.PACKAGE,
    fix="Ensure the property is updated with appropriate value.",
    source=CHECKER_SOURCE,
)
def connection_parameter_not_well_formed(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The platform builds the connection dialog from each parameter's ``uiDefinition`` and
    stores the values by type; a parameter whose parts have the wrong shape cannot be shown or
    filled in. This is the solution checker's ``connector-validate-connectionparameters``.

    The schema wants ``constraints.required`` and ``hidden`` as the strings ``"true"`` /
    ``"false"``; JSON booleans are accepted here because many certified connectors use them.
    """
    for param in connection_parameters(ctx):
        for pointer, problem in _malformed(param):
            yield hit(pointer, problem, file=PROPERTIES)


@rule(
    "TenantIdParameterNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="'token:TenantId' must be a string parameter with \"metadata\": "
    '{{"sourceType": "AzureActiveDirectoryTenant"}}: {0}.',
    on=On.PACKAGE,
    fix='Write it as {"type": "string", "metadata": {"sourceType": "AzureActiveDirectoryTenant"}, '
    '"uiDefinition": {"constraints": {"required": "false", "hidden": "true"}}}.',
    source=SCHEMA_SOURCE,
    microsoft=False,
)
def tenant_id_parameter_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """``token:TenantId`` is not asked from the user: the platform fills it with the signed-in
    user's Azure AD tenant, but only when the parameter says so with
    ``metadata.sourceType: AzureActiveDirectoryTenant``. Otherwise the value stays empty or the
    user is prompted for a tenant id."""
    for param in connection_parameters(ctx):
        if param.name != TENANT_ID or not isinstance(param.raw, dict):
            continue
        if param.type != "string":
            yield hit(pointer_join(param.pointer, "type"), "its type is not 'string'", file=PROPERTIES)
        metadata = param.raw.get("metadata")
        source = metadata.get("sourceType") if isinstance(metadata, dict) else None
        if source != "AzureActiveDirectoryTenant":
            where = pointer_join(param.pointer, "metadata") if metadata is not None else param.pointer
            yield hit(where, "the metadata does not name the AzureActiveDirectoryTenant source", file=PROPERTIES)


# --------------------------------------------------------------------------- OAuth

SCHEMA_IDENTITY_PROVIDERS = frozenset({"oauth2", "oauth2generic", "aad", "aadcertificate", "facebook"})
# Built-in providers of the custom-connector wizard and those seen in certified connectors.
BUILT_IN_IDENTITY_PROVIDERS = frozenset(
    {"docusign", "dropbox", "github", "google", "instagram", "microsoftaccount", "salesforce", "slack"}
)
KNOWN_IDENTITY_PROVIDERS = SCHEMA_IDENTITY_PROVIDERS | BUILT_IN_IDENTITY_PROVIDERS


@rule(
    "OAuthIdentityProviderNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="Invalid OAuth2 Identity Provider: {0}.",
    on=On.PACKAGE,
    fix="Ensure the identity provider is from the list of supported oauth2 providers "
    "(oauth2, oauth2generic, aad, aadcertificate or a built-in one such as facebook).",
    source=CHECKER_SOURCE,
)
def oauth_identity_provider_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The identity provider picks the sign-in protocol the platform runs for an OAuth
    connection; an unknown or missing one leaves the connection impossible to create. This is
    the solution checker's ``connector-validate-connectionparam-oauth2idp``.

    Besides the schema's five values (``oauth2``, ``oauth2generic``, ``aad``,
    ``aadcertificate``, ``facebook``) the platform has further built-in providers (certified
    connectors use ``DocuSign``); those are accepted, compared case-insensitively.
    """
    for _param, settings, pointer in _oauth_settings(ctx):
        value = settings.get("identityProvider")
        if value is None:
            yield hit(pointer, "'identityProvider' is missing", file=PROPERTIES)
        elif not isinstance(value, str) or value.lower() not in KNOWN_IDENTITY_PROVIDERS:
            yield hit(pointer + "/identityProvider", f"'{value}' is not a supported provider", file=PROPERTIES)


@rule(
    "AadResourceUriMissing",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The Azure AD sign-in of '{0}' has no 'resourceUri' custom parameter.",
    on=On.PACKAGE,
    fix='Add "customParameters": {"resourceUri": {"value": "<application ID URI of the API>"}}.',
    source=SCHEMA_SOURCE,
    microsoft=False,
)
def aad_resource_uri_missing(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """An Azure AD token is issued for one resource (the API's application ID URI); with the
    ``aad`` and ``aadcertificate`` identity providers the platform takes it from
    ``customParameters.resourceUri``, which the schema requires. Without it no usable token is
    obtained."""
    for param, settings, pointer in _oauth_settings(ctx):
        if _identity_provider(settings) not in ("aad", "aadcertificate"):
            continue
        found = _custom_parameter(settings, "resourceUri")
        if found is None:
            custom = settings.get("customParameters")
            yield hit(pointer + "/customParameters" if custom is not None else pointer, param.name, file=PROPERTIES)
            continue
        key, entry = found
        value = entry.get("value") if isinstance(entry, dict) else None
        if not isinstance(value, str) or not value.strip():
            yield hit(pointer_join(pointer + "/customParameters", key), param.name, file=PROPERTIES)


@rule(
    "AadCertificateRequiresFirstParty",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The identity provider 'aadcertificate' of '{0}' is only supported for first-party Azure AD apps; "
    "'properties.IsFirstParty' must be \"True\".",
    on=On.PACKAGE,
    fix='Use the \'aad\' identity provider, or declare "properties": {"IsFirstParty": "True"} for a Microsoft '
    "first-party app.",
    source=SCHEMA_SOURCE,
    microsoft=False,
)
def aad_certificate_requires_first_party(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Certificate-based Azure AD sign-in (``aadcertificate``) works only for Microsoft's own
    first-party applications; the schema requires ``properties.IsFirstParty: "True"`` with it.
    A third-party connector must use ``aad``."""
    for param, settings, pointer in _oauth_settings(ctx):
        if _identity_provider(settings) != "aadcertificate":
            continue
        extra = settings.get("properties")
        flag = extra.get("IsFirstParty") if isinstance(extra, dict) else None
        if str(flag).lower() != "true":
            where = pointer + "/properties" if isinstance(extra, dict) else pointer
            if isinstance(extra, dict) and "IsFirstParty" in extra:
                where += "/IsFirstParty"
            yield hit(where, param.name, file=PROPERTIES)


_CONSENT_URL = re.compile(
    r"https://global(?:-test)?\.consent\.azure-apim\.(?:net|us|cn)/redirect(?:/[A-Za-z0-9._-]+)?/?"
)
REDIRECT_MODES = frozenset({"Global", "GlobalPerConnector", "Direct"})


@rule(
    "OAuthRedirectUrlNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.WARNING,
    message="The OAuth settings of '{0}' have {1}.",
    on=On.PACKAGE,
    fix='Use "redirectMode": "Global" (or "GlobalPerConnector") with "redirectUrl": '
    '"https://global.consent.azure-apim.net/redirect", and register that URL with the OAuth app.',
    source=CONNECTION_PARAMETERS_SOURCE,
    microsoft=False,
)
def oauth_redirect_url_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """The OAuth sign-in returns to the platform's consent service,
    ``https://global.consent.azure-apim.net/redirect`` (followed by a per-connector id in
    ``GlobalPerConnector`` mode); certification requires the OAuth app to allow exactly that URL.
    Any other redirect URL is not where the platform listens, so the sign-in cannot complete.

    ``redirectMode`` must be ``Global``, ``GlobalPerConnector`` or ``Direct``.
    """
    for param, settings, pointer in _oauth_settings(ctx):
        mode = settings.get("redirectMode")
        if mode is not None and mode not in REDIRECT_MODES:
            yield hit(pointer + "/redirectMode", param.name, f"an unknown redirectMode '{mode}'", file=PROPERTIES)
        url = settings.get("redirectUrl")
        if url is None or mode == "Direct":
            continue
        if not isinstance(url, str) or not _CONSENT_URL.fullmatch(url.strip()):
            yield hit(
                pointer + "/redirectUrl",
                param.name,
                f"the redirect URL '{url}', not the platform's consent service",
                file=PROPERTIES,
            )


# --------------------------------------------------------------------------- policy templates

OPERATION_NAME = "x-ms-apimTemplate-operationName"
POLICY_SECTION = "x-ms-apimTemplate-policySection"
_P = "x-ms-apimTemplateParameter."


@dataclass(frozen=True)
class Template:
    """What a policy template takes: required parameters, allowed policy sections, and the
    allowed values of its enumerated parameters."""

    required: tuple[str, ...]
    sections: frozenset[str] = frozenset()
    choices: tuple[tuple[str, frozenset[str]], ...] = ()


_REQ_RESP = frozenset({"Request", "Response"})
_EXISTS = (f"{_P}existsAction", frozenset({"override", "skip", "append"}))

# From Microsoft's schema (13 templates) plus the three the platform runs without the schema
# knowing them (setconnectionstatustounauthenticated, moveproperties, dynamicsubdomain).
TEMPLATES: dict[str, Template] = {
    "convertarraytoobject": Template(
        (f"{_P}propertyParentPath", f"{_P}keyWithinCollectionPath", f"{_P}newPropertyPath"),
        _REQ_RESP,
        ((f"{_P}retainKey", frozenset({"true", "false"})),),
    ),
    "convertobjecttoarray": Template((f"{_P}propertyParentPath", f"{_P}newPropertyPath"), _REQ_RESP),
    "dynamichosturl": Template((f"{_P}urlTemplate",), frozenset({"Request"})),
    "dynamicsubdomain": Template((f"{_P}urlTemplate",), frozenset({"Request"})),
    "encodepropertyvalue": Template((f"{_P}propertyParentPath", f"{_P}newPropertyPath"), _REQ_RESP),
    "moveproperties": Template((), _REQ_RESP),
    "pollingtrigger": Template((f"{_P}triggerConfig", f"{_P}triggerDataPath")),
    "routerequesttoendpoint": Template(
        (f"{_P}newPath",),
        frozenset({"Request"}),
        (
            (
                f"{_P}httpMethod",
                frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "@Request.OriginalHTTPMethod"}),
            ),
        ),
    ),
    "setconnectionstatustounauthenticated": Template((f"{_P}statusCode",), frozenset({"Response"})),
    "setheader": Template((f"{_P}name", f"{_P}value"), frozenset({"Request", "Response", "Failure"}), (_EXISTS,)),
    "setproperty": Template(
        (f"{_P}newPropertyParentPathTemplate", f"{_P}newPropertySubPathTemplate", f"{_P}propertyValuePathTemplate"),
        _REQ_RESP,
    ),
    "setqueryparameter": Template((f"{_P}name", f"{_P}value"), frozenset({"Request"}), (_EXISTS,)),
    "setvaluefromurl": Template(
        (f"{_P}parameterTemplate", f"{_P}parameterValueUrl", f"{_P}parameterValuePathTemplate"),
        _REQ_RESP,
        ((f"{_P}httpMethod", frozenset({"GET", "POST", "PUT"})),),
    ),
    "stringreplace": Template(
        (f"{_P}propertyParentPath", f"{_P}sourceString", f"{_P}replacementString", f"{_P}newPropertyPath"),
        _REQ_RESP,
    ),
    "stringtoarray": Template(
        (f"{_P}propertyParentPath", f"{_P}delimiterList", f"{_P}childPropertyName", f"{_P}newPropertyPath"),
        _REQ_RESP,
    ),
    "updatenextlink": Template((f"{_P}nextLinkPropertyName",), frozenset({"Response"})),
}


@rule(
    "PolicyTemplateNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The policy template '{0}' does not exist.",
    on=On.PACKAGE,
    fix="Use one of the platform's templates: " + ", ".join(sorted(TEMPLATES)) + ".",
    source=POLICY_SOURCE,
    microsoft=False,
)
def policy_template_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Each policy instance runs one of the platform's fixed templates, named by
    ``templateId``; an unknown id cannot run. Ids are compared case-insensitively
    (``SetProperty``, ``setQueryParameter`` and ``dynamicHostUrl`` are all in use)."""
    props = properties_of(ctx)
    instances = props.get("policyTemplateInstances") if props else None
    if instances is not None and not isinstance(instances, list):
        yield hit(_POLICIES, file=PROPERTIES, message="'policyTemplateInstances' must be an array.")
        return
    for index, raw in enumerate(instances or []):
        pointer = f"{_POLICIES}/{index}"
        if not isinstance(raw, dict):
            yield hit(pointer, file=PROPERTIES, message="A policy template instance must be an object.")
            continue
        value = raw.get("templateId")
        if value is None:
            yield hit(pointer, file=PROPERTIES, message="The policy template instance has no 'templateId'.")
        elif not isinstance(value, str) or value.lower() not in TEMPLATES:
            yield hit(pointer + "/templateId", value, file=PROPERTIES)


@rule(
    "PolicyTemplateParameterMissing",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The policy template '{0}' needs the parameter '{1}'.",
    on=On.PACKAGE,
    fix="Add the parameter under the instance's 'parameters'.",
    source=SCHEMA_SOURCE,
    microsoft=False,
)
def policy_template_parameter_missing(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Every policy template has parameters it cannot run without (a header's name and value, a
    host URL template, a new path); Microsoft's schema lists them per template."""
    for policy in policy_instances(ctx):
        template = TEMPLATES.get(policy.template or "")
        if template is None:
            continue
        params = policy.raw.get("parameters")
        if not isinstance(params, dict):
            if template.required:
                yield hit(policy.pointer, policy.raw.get("templateId"), "parameters", file=PROPERTIES)
            continue
        for name in template.required:
            if params.get(name) is None:
                yield hit(policy.pointer + "/parameters", policy.raw.get("templateId"), name, file=PROPERTIES)


@rule(
    "PolicyTemplateSectionNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The policy template '{0}' cannot run in the '{1}' section; allowed: {2}.",
    on=On.PACKAGE,
    fix="Set 'x-ms-apimTemplate-policySection' to one of the allowed sections, or remove it.",
    source=POLICY_SOURCE,
    microsoft=False,
)
def policy_template_section_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """``x-ms-apimTemplate-policySection`` says when a policy runs: ``Request`` (before the
    call), ``Response`` (after it) or, for ``setheader`` only, ``Failure``. A template placed in
    a section it does not support never runs there (a host URL cannot change after the call).
    Microsoft's schema spells the values ``Request`` / ``Response`` / ``Failure``; other
    capitalisations are accepted here."""
    for policy in policy_instances(ctx):
        template = TEMPLATES.get(policy.template or "")
        if template is None or POLICY_SECTION not in policy.parameters:
            continue
        section = policy.parameters[POLICY_SECTION]
        if not isinstance(section, str) or section.lower() not in {s.lower() for s in template.sections}:
            allowed = ", ".join(sorted(template.sections)) or "none (the template has no section)"
            yield hit(
                f"{policy.pointer}/parameters/{POLICY_SECTION}",
                policy.raw.get("templateId"),
                section,
                allowed,
                file=PROPERTIES,
            )


@rule(
    "PolicyTemplateParameterNotValid",
    category=Category.API_PROPERTIES,
    severity=Severity.ERROR,
    message="The policy parameter '{0}' has the value '{1}'; allowed: {2}.",
    on=On.PACKAGE,
    fix="Use one of the allowed values.",
    source=SCHEMA_SOURCE,
    microsoft=False,
)
def policy_template_parameter_not_valid(ctx: Context, package: ConnectorPackage) -> Iterator[Hit]:
    """Some policy parameters take a fixed set of values (``existsAction`` override / skip /
    append, ``httpMethod``, ``retainKey``), and ``x-ms-apimTemplate-operationName`` is a list of
    operation ids; any other value is not understood by the template. Values are compared
    case-insensitively."""
    for policy in policy_instances(ctx):
        params = policy.parameters
        operations = params.get(OPERATION_NAME)
        if operations is not None and (
            not isinstance(operations, list) or not all(isinstance(o, str) for o in operations)
        ):
            yield hit(
                f"{policy.pointer}/parameters/{OPERATION_NAME}",
                OPERATION_NAME,
                operations,
                "a list of operation ids",
                file=PROPERTIES,
            )
        template = TEMPLATES.get(policy.template or "")
        if template is None:
            continue
        for name, allowed in template.choices:
            value = params.get(name)
            if value is not None and (not isinstance(value, str) or value.lower() not in {a.lower() for a in allowed}):
                yield hit(
                    f"{policy.pointer}/parameters/{name}", name, value, ", ".join(sorted(allowed)), file=PROPERTIES
                )
