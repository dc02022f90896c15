"""Edge cases of the apiProperties.json and cross-file rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.lint.harness import EXAMPLE, Files, _base, files_of, package_of

from connectorkit.definition.findings import Finding
from connectorkit.definition.package import ConnectorPackage
from connectorkit.lint.engine import lint_package
from connectorkit.lint.registry import REGISTRY, Profile

PARAMS = "/properties/connectionParameters"


def run(rule_id: str, mutate: Callable[[Files], None], profile: Profile = Profile.CUSTOM) -> list[Finding]:
    files = files_of("example")
    mutate(files)
    rule = REGISTRY.get(rule_id)
    assert rule is not None
    return lint_package(package_of(files, _base("example")), [rule], profile)


def props(f: Files) -> dict[str, Any]:
    value: dict[str, Any] = f.api_properties["properties"]
    return value


def policy(f: Files, template: str, **parameters: Any) -> None:
    props(f).setdefault("policyTemplateInstances", []).append({"templateId": template, "parameters": parameters})


def test_short_hex_brand_color_is_valid():
    assert run("BrandColorNotValid", lambda f: props(f).update(iconBrandColor="#abc")) == []


def test_no_api_properties_file_is_left_to_the_loader(tmp_path: Path):
    (tmp_path / "apiDefinition.swagger.json").write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    package = ConnectorPackage.load(tmp_path)
    rules = [r for r in REGISTRY if r.id in ("BrandColorNotValid", "PublisherMissing", "StackOwnerMissing")]
    assert lint_package(package, rules, Profile.CERTIFIED) == []


def test_misspelled_stack_owner_is_named():
    def mutate(f: Files) -> None:
        props(f).update(publisher="Petstore", stackowner="Petstore")

    [finding] = run("StackOwnerMissing", mutate, Profile.CERTIFIED)
    assert finding.pointer == "/properties/stackowner"
    assert "'stackowner' is spelled differently" in finding.message


def test_empty_publisher_is_reported_at_the_value():
    [finding] = run("PublisherMissing", lambda f: props(f).update(publisher=" "), Profile.CERTIFIED)
    assert finding.pointer == "/properties/publisher"


def test_sub_parameter_names_and_tenant_id():
    def mutate(f: Files) -> None:
        props(f)["connectionParameters"].update(
            {
                "token:clientId": {"type": "string"},
                "token:TenantId": {"type": "string", "metadata": {"sourceType": "AzureActiveDirectoryTenant"}},
                "custom:TenantId": {"type": "string"},
                "two:colons:here": {"type": "string"},
            }
        )

    found = [f.pointer for f in run("ConnectionParameterNameNotValid", mutate)]
    assert found == [f"{PARAMS}/custom:TenantId", f"{PARAMS}/two:colons:here"]
    assert run("TenantIdParameterNotValid", mutate) == []


def test_parameter_types_are_case_insensitive_and_boolean_constraints_are_tolerated():
    def mutate(f: Files) -> None:
        key = props(f)["connectionParameters"]["api_key"]
        key["uiDefinition"]["constraints"].update(required=True, hidden=False)
        props(f)["connectionParameters"]["token"] = {
            "type": "oAuthSetting",
            "oauthSettings": {"identityProvider": "DocuSign", "scopes": []},
        }

    assert run("ConnectionParameterTypeNotValid", mutate) == []
    assert run("ConnectionParameterNotWellFormed", mutate) == []
    assert run("OAuthIdentityProviderNotValid", mutate) == []


def test_missing_identity_provider():
    def mutate(f: Files) -> None:
        props(f)["connectionParameters"]["token"] = {"type": "oauthSetting", "oAuthSettings": {"scopes": []}}

    [finding] = run("OAuthIdentityProviderNotValid", mutate)
    assert finding.pointer == f"{PARAMS}/token/oAuthSettings"
    assert "missing" in finding.message


def test_aad_resource_uri_key_is_case_insensitive_and_needs_a_value():
    def settings(custom: dict[str, Any]) -> Callable[[Files], None]:
        def mutate(f: Files) -> None:
            props(f)["connectionParameters"]["token"] = {
                "type": "oauthSetting",
                "oAuthSettings": {"identityProvider": "aad", "customParameters": custom},
            }

        return mutate

    assert run("AadResourceUriMissing", settings({"ResourceUri": {"value": "https://graph.microsoft.com"}})) == []
    [finding] = run("AadResourceUriMissing", settings({"resourceUri": {"value": ""}}))
    assert finding.pointer == f"{PARAMS}/token/oAuthSettings/customParameters/resourceUri"


def test_redirect_urls():
    def settings(**values: Any) -> Callable[[Files], None]:
        def mutate(f: Files) -> None:
            props(f)["connectionParameters"]["token"] = {
                "type": "oauthSetting",
                "oAuthSettings": {"identityProvider": "oauth2", **values},
            }

        return mutate

    per_connector = "https://global.consent.azure-apim.net/redirect/petstore-5f3a2dd1faea314cd7-4e7247cbad6f0e7f"
    assert run("OAuthRedirectUrlNotValid", settings(redirectMode="GlobalPerConnector", redirectUrl=per_connector)) == []
    assert run("OAuthRedirectUrlNotValid", settings(redirectMode="Direct", redirectUrl="https://x.test/cb")) == []
    [finding] = run("OAuthRedirectUrlNotValid", settings(redirectMode="global"))
    assert finding.pointer.endswith("/redirectMode")


def test_template_ids_are_case_insensitive():
    def mutate(f: Files) -> None:
        policy(f, "dynamicHostUrl", **{"x-ms-apimTemplateParameter.urlTemplate": "https://petstore.example.com"})
        policy(f, "SetProperty", **{
            "x-ms-apimTemplateParameter.newPropertyParentPathTemplate": "@body()",
            "x-ms-apimTemplateParameter.newPropertySubPathTemplate": "source",
            "x-ms-apimTemplateParameter.propertyValuePathTemplate": "flow",
            "x-ms-apimTemplate-policySection": "Request",
        })  # fmt: skip

    for rule_id in ("PolicyTemplateNotValid", "PolicyTemplateParameterMissing", "PolicyTemplateSectionNotValid"):
        assert run(rule_id, mutate) == [], rule_id


def test_failure_section_is_for_setheader_only():
    def mutate(f: Files) -> None:
        policy(f, "setheader", **{"x-ms-apimTemplateParameter.name": "A", "x-ms-apimTemplateParameter.value": "b",
                                  "x-ms-apimTemplate-policySection": "Failure"})  # fmt: skip
        policy(f, "setproperty", **{
            "x-ms-apimTemplateParameter.newPropertyParentPathTemplate": "@body()",
            "x-ms-apimTemplateParameter.newPropertySubPathTemplate": "source",
            "x-ms-apimTemplateParameter.propertyValuePathTemplate": "flow",
            "x-ms-apimTemplate-policySection": "Failure",
        })  # fmt: skip

    found = [f.pointer for f in run("PolicyTemplateSectionNotValid", mutate)]
    assert found == ["/properties/policyTemplateInstances/1/parameters/x-ms-apimTemplate-policySection"]


def test_operation_name_must_be_a_list():
    def mutate(f: Files) -> None:
        policy(f, "updatenextlink", **{"x-ms-apimTemplateParameter.nextLinkPropertyName": "nextLink",
                                       "x-ms-apimTemplate-operationName": "ListPets"})  # fmt: skip

    [finding] = run("PolicyTemplateParameterNotValid", mutate)
    assert finding.pointer.endswith("/x-ms-apimTemplate-operationName")


def test_operation_name_case_near_miss_is_explained():
    def mutate(f: Files) -> None:
        policy(f, "updatenextlink", **{"x-ms-apimTemplateParameter.nextLinkPropertyName": "nextLink",
                                       "x-ms-apimTemplate-operationName": ["listPets"]})  # fmt: skip

    [finding] = run("PolicyOperationNotFound", mutate)
    assert "did you mean 'ListPets'" in finding.message


def test_connection_parameter_references_with_parameter_sets():
    def mutate(f: Files) -> None:
        del props(f)["connectionParameters"]
        props(f)["connectionParameterSets"] = {
            "values": [
                {"name": "key", "parameters": {"api_key": {"type": "securestring"}, "host": {"type": "string"}}},
                {"name": "oauth", "parameters": {"token": {"type": "oauthSetting"}, "host": {"type": "string"}}},
            ]
        }
        policy(
            f, "dynamichosturl", **{"x-ms-apimTemplateParameter.urlTemplate": "https://@connectionParameters('HOST')"}
        )
        policy(f, "setheader", **{"x-ms-apimTemplateParameter.name": "X-Key",
                                  "x-ms-apimTemplateParameter.value": "@connectionParameters('api_key')"})  # fmt: skip
        policy(f, "setheader", **{"x-ms-apimTemplateParameter.name": "X-Key2",
                                  "x-ms-apimTemplateParameter.value": "@ConnectionParameters(\"api_key\", \"\")"})  # fmt: skip
        policy(f, "setheader", **{"x-ms-apimTemplateParameter.name": "X-Region",
                                  "x-ms-apimTemplateParameter.value": "@connectionParameters('region')"})  # fmt: skip

    found = [(f.pointer, f.message) for f in run("ConnectionParameterReferenceNotFound", mutate)]
    value = "/parameters/x-ms-apimTemplateParameter.value"
    assert found == [
        (f"/properties/policyTemplateInstances/1{value}",
         "The policy refers to the connection parameter 'api_key', which is missing from connection parameter set 1."),
        (f"/properties/policyTemplateInstances/3{value}",
         "The policy refers to the connection parameter 'region', which is in no connection parameter set."),
    ]  # fmt: skip


def test_trigger_config_references_are_checked():
    def mutate(f: Files) -> None:
        policy(f, "pollingtrigger", **{
            "x-ms-apimTemplateParameter.triggerConfig": {"since": "@connectionParameters('start')"},
            "x-ms-apimTemplateParameter.triggerDataPath": "@triggerBody().value",
            "x-ms-apimTemplate-operationName": ["OnNewPets"],
        })  # fmt: skip

    [finding] = run("ConnectionParameterReferenceNotFound", mutate)
    assert finding.pointer.endswith("/x-ms-apimTemplateParameter.triggerConfig/since")


def test_corpus_connection_parameter_shapes_stay_clean():
    """Real shapes from certified connectors: token:TenantId, gateway settings, sets."""
    tenant = {
        "type": "string",
        "metadata": {"sourceType": "AzureActiveDirectoryTenant"},
        "uiDefinition": {"constraints": {"required": "false", "hidden": "true"}},
    }

    def mutate(f: Files) -> None:
        props(f)["connectionParameters"].update(
            {"token:TenantId": tenant, "gateway": {"type": "gatewaySetting", "gatewaySettings": {}}}
        )

    for rule_id in ("ConnectionParameterNotWellFormed", "TenantIdParameterNotValid", "ConnectionParameterTypeNotValid"):
        assert run(rule_id, mutate) == [], rule_id


def test_enumerated_policy_values_ignore_case():
    def mutate(f: Files) -> None:
        policy(f, "setheader", **{"x-ms-apimTemplateParameter.name": "A", "x-ms-apimTemplateParameter.value": "b",
                                  "x-ms-apimTemplateParameter.existsAction": "Override",
                                  "x-ms-apimTemplate-policySection": "request"})  # fmt: skip
        policy(f, "routerequesttoendpoint", **{"x-ms-apimTemplateParameter.newPath": "/pets",
                                               "x-ms-apimTemplateParameter.httpMethod": "get"})  # fmt: skip

    assert run("PolicyTemplateParameterNotValid", mutate) == []
    assert run("PolicyTemplateSectionNotValid", mutate) == []


def test_tab_index_may_be_a_numeric_string():
    def mutate(f: Files) -> None:
        props(f)["connectionParameters"]["api_key"]["uiDefinition"]["constraints"]["tabIndex"] = "2"

    assert run("ConnectionParameterNotWellFormed", mutate) == []
