"""Typed models of ``apiProperties.json`` and paconn's ``settings.json``.

Every model keeps keys it does not declare (``extra="allow"``), so reading a real file into a
model and dumping it back never drops what the author wrote. Field order follows the order
Microsoft's own files use, which is the order a generated file is written in.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

CONSENT_REDIRECT_URL = "https://global.consent.azure-apim.net/redirect"


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def dump(self) -> dict[str, Any]:
        """The JSON shape, with only the keys that were set (explicit nulls kept)."""
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


class AllowedValue(_Model):
    value: Any = None
    text: str | None = None


class UiConstraints(_Model):
    # Documented as strings ("true"); real files also use JSON booleans and numbers.
    tabIndex: int | str | None = None
    clearText: bool | str | None = None
    required: str | bool | None = None
    hidden: str | bool | None = None
    allowedValues: list[AllowedValue] | None = None
    capability: list[str] | None = None
    dependencies: dict[str, Any] | None = None


class UiDefinition(_Model):
    displayName: str | None = None
    description: str | None = None
    tooltip: str | None = None
    constraints: UiConstraints | None = None


class CustomParameter(_Model):
    value: Any = None


class OAuthSettings(_Model):
    identityProvider: str | None = None
    clientId: str | None = None
    scopes: list[str] | None = None
    redirectMode: str | None = None
    redirectUrl: str | None = None
    properties: dict[str, Any] | None = None
    customParameters: dict[str, CustomParameter] | None = None


class ConnectionParameter(_Model):
    type: str | None = None
    defaultValue: Any = None
    allowedValues: list[AllowedValue] | None = None
    metadata: dict[str, Any] | None = None
    oAuthSettings: OAuthSettings | None = Field(
        default=None,
        validation_alias=AliasChoices("oAuthSettings", "oauthSettings", "OAuthSettings"),
        serialization_alias="oAuthSettings",
    )
    uiDefinition: UiDefinition | None = None

    @property
    def is_secret(self) -> bool:
        return (self.type or "").lower() == "securestring"

    @property
    def is_oauth(self) -> bool:
        return (self.type or "").lower() == "oauthsetting"


class ConnectionParameterSet(_Model):
    name: str | None = None
    uiDefinition: UiDefinition | None = None
    metadata: dict[str, Any] | None = None
    parameters: dict[str, ConnectionParameter] | None = None


class ConnectionParameterSets(_Model):
    uiDefinition: UiDefinition | None = None
    values: list[ConnectionParameterSet] | None = None


class PolicyTemplateInstance(_Model):
    templateId: str
    title: str | None = None
    type: str | None = None
    parameters: dict[str, Any] | None = None

    @property
    def template(self) -> str:
        """The template id case-folded: the platform accepts several spellings of each."""
        return self.templateId.lower()

    @property
    def operations(self) -> list[str]:
        """Operation ids the policy is limited to; empty means every operation."""
        names = (self.parameters or {}).get("x-ms-apimTemplate-operationName") or []
        return [str(n) for n in names] if isinstance(names, list) else [str(names)]


class Properties(_Model):
    connectionParameters: dict[str, ConnectionParameter] | None = None
    connectionParameterSets: ConnectionParameterSets | None = None
    iconBrandColor: str | None = None
    capabilities: list[str] | None = None
    policyTemplateInstances: list[PolicyTemplateInstance] | None = None
    scriptOperations: list[str] | None = None
    publisher: str | None = None
    stackOwner: str | None = Field(
        default=None,
        validation_alias=AliasChoices("stackOwner", "stackowner"),
        serialization_alias="stackOwner",
    )


class ApiProperties(_Model):
    """The whole ``apiProperties.json`` file: ``{"properties": {...}}``."""

    properties: Properties = Field(default_factory=Properties)


class Settings(_Model):
    """paconn's ``settings.json``: where the files are and which environment to deploy to."""

    connectorId: str | None = None
    environment: str | None = None
    apiProperties: str | None = None
    apiDefinition: str | None = None
    icon: str | None = None
    script: str | None = None
    powerAppsUrl: str | None = None
    powerAppsApiVersion: str | None = None
