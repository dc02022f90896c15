"""Seeded defects for the apiProperties.json rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.lint.harness import Files, Seed

from connectorkit.lint.registry import Profile

PROPS = "/properties"
PARAMS = "/properties/connectionParameters"
POLICIES = "/properties/policyTemplateInstances"
CLEAN_CERTIFIED = "certified-connectors/1Me Corporate"
CLEAN_INDEPENDENT = "independent-publisher-connectors/Abstract IBAN Validator"


def _props(f: Files) -> dict[str, Any]:
    value: dict[str, Any] = f.api_properties["properties"]
    return value


def _set(key: str, value: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        _props(f)[key] = value

    return mutate


def _drop(key: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        del _props(f)[key]

    return mutate


def _api_key(f: Files) -> dict[str, Any]:
    value: dict[str, Any] = _props(f)["connectionParameters"]["api_key"]
    return value


def _add_parameter(name: str, value: dict[str, Any]) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        _props(f)["connectionParameters"][name] = value

    return mutate


def _oauth(**settings: Any) -> Callable[[Files], None]:
    """Add a 'token' OAuth parameter with the given oAuthSettings."""
    base: dict[str, Any] = {
        "identityProvider": "oauth2",
        "clientId": "petstore-client",
        "scopes": [],
        "redirectMode": "Global",
        "redirectUrl": "https://global.consent.azure-apim.net/redirect",
        "properties": {"IsFirstParty": "False"},
        "customParameters": {
            "authorizationUrl": {"value": "https://petstore.example.com/oauth/authorize"},
            "tokenUrl": {"value": "https://petstore.example.com/oauth/token"},
            "refreshUrl": {"value": "https://petstore.example.com/oauth/token"},
        },
    }
    base.update(settings)
    return _add_parameter("token", {"type": "oauthSetting", "oAuthSettings": base})


def _policy(template: str, **parameters: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        _props(f).setdefault("policyTemplateInstances", []).append(
            {"templateId": template, "title": "Seeded policy", "parameters": parameters}
        )

    return mutate


def _bad_parameter_type(f: Files) -> None:
    _api_key(f)["type"] = "password"


def _bad_constraint(f: Files) -> None:
    _api_key(f)["uiDefinition"]["constraints"]["required"] = "yes"


_SETHEADER = {
    "x-ms-apimTemplateParameter.name": "X-Shop",
    "x-ms-apimTemplateParameter.value": "pets",
    "x-ms-apimTemplateParameter.existsAction": "override",
    "x-ms-apimTemplate-policySection": "Request",
}

SEEDS = [
    Seed("BrandColorNotValid", _set("iconBrandColor", "orange"), (f"{PROPS}/iconBrandColor",)),
    Seed("BrandColorNotValid", _drop("iconBrandColor"), (PROPS,), note="missing"),
    Seed(
        "BrandColorNotAllowed",
        _set("iconBrandColor", "#FFFFFF"),
        (f"{PROPS}/iconBrandColor",),
        base=CLEAN_CERTIFIED,
        profile=Profile.CERTIFIED,
    ),
    Seed(
        "IndependentPublisherBrandColor",
        _set("iconBrandColor", "#1f344a"),
        (f"{PROPS}/iconBrandColor",),
        base=CLEAN_INDEPENDENT,
        profile=Profile.INDEPENDENT_PUBLISHER,
    ),
    Seed("PublisherMissing", _drop("publisher"), (PROPS,), base=CLEAN_CERTIFIED, profile=Profile.CERTIFIED),
    Seed("StackOwnerMissing", _drop("stackOwner"), (PROPS,), base=CLEAN_CERTIFIED, profile=Profile.CERTIFIED),
    Seed("ApiPropertiesKeyUnknown", _set("stackowner", "Petstore Inc."), (f"{PROPS}/stackowner",)),
    Seed(
        "ConnectionParameterNameNotValid",
        _add_parameter("shop-name", {"type": "string"}),
        (f"{PARAMS}/shop-name",),
    ),
    Seed("ConnectionParameterTypeNotValid", _bad_parameter_type, (f"{PARAMS}/api_key/type",)),
    Seed(
        "ConnectionParameterNotWellFormed",
        _bad_constraint,
        (f"{PARAMS}/api_key/uiDefinition/constraints/required",),
    ),
    Seed(
        "ConnectionParameterNotWellFormed",
        _add_parameter("token", {"type": "oauthSetting"}),
        (f"{PARAMS}/token",),
        note="no-settings",
    ),
    Seed(
        "TenantIdParameterNotValid",
        _add_parameter("token:TenantId", {"type": "string", "uiDefinition": {"constraints": {"hidden": "true"}}}),
        (f"{PARAMS}/token:TenantId",),
    ),
    Seed(
        "OAuthIdentityProviderNotValid",
        _oauth(identityProvider="petstoreid"),
        (f"{PARAMS}/token/oAuthSettings/identityProvider",),
    ),
    Seed(
        "AadResourceUriMissing",
        _oauth(identityProvider="aad", customParameters={"loginUri": {"value": "https://login.windows.net"}}),
        (f"{PARAMS}/token/oAuthSettings/customParameters",),
    ),
    Seed(
        "AadCertificateRequiresFirstParty",
        _oauth(
            identityProvider="aadcertificate",
            customParameters={"resourceUri": {"value": "https://petstore.example.com"}},
        ),
        (f"{PARAMS}/token/oAuthSettings/properties/IsFirstParty",),
    ),
    Seed(
        "OAuthRedirectUrlNotValid",
        _oauth(redirectUrl="https://petstore.example.com/callback"),
        (f"{PARAMS}/token/oAuthSettings/redirectUrl",),
    ),
    Seed(
        "PolicyTemplateNotValid",
        _policy("sethost", **{"x-ms-apimTemplateParameter.urlTemplate": "https://x"}),
        (f"{POLICIES}/0/templateId",),
    ),
    Seed(
        "PolicyTemplateParameterMissing",
        _policy("SetHeader", **{"x-ms-apimTemplateParameter.name": "X-Shop"}),
        (f"{POLICIES}/0/parameters",),
    ),
    Seed(
        "PolicyTemplateSectionNotValid",
        _policy(
            "dynamichosturl",
            **{
                "x-ms-apimTemplateParameter.urlTemplate": "https://petstore.example.com/v2",
                "x-ms-apimTemplate-policySection": "Response",
            },
        ),
        (f"{POLICIES}/0/parameters/x-ms-apimTemplate-policySection",),
    ),
    Seed(
        "PolicyTemplateParameterNotValid",
        _policy("setheader", **{**_SETHEADER, "x-ms-apimTemplateParameter.existsAction": "replace"}),
        (f"{POLICIES}/0/parameters/x-ms-apimTemplateParameter.existsAction",),
    ),
]
