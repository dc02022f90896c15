"""Seeded defects for the cross-file rules (apiProperties.json against the definition)."""

from __future__ import annotations

from typing import Any

from tests.lint.harness import Files, Seed

POLICIES = "/properties/policyTemplateInstances"


def _add_policy(f: Files, template: str, parameters: dict[str, Any]) -> None:
    f.api_properties["properties"].setdefault("policyTemplateInstances", []).append(
        {"templateId": template, "title": "Seeded policy", "parameters": parameters}
    )


def _policy_on_missing_operation(f: Files) -> None:
    _add_policy(f, "setheader", {
        "x-ms-apimTemplateParameter.name": "X-Shop",
        "x-ms-apimTemplateParameter.value": "pets",
        "x-ms-apimTemplateParameter.existsAction": "override",
        "x-ms-apimTemplate-policySection": "Request",
        "x-ms-apimTemplate-operationName": ["ListPets", "listpets", "RemovePet"],
    })  # fmt: skip


def _script_on_missing_operation(f: Files) -> None:
    f.api_properties["properties"]["scriptOperations"] = ["CreatePet", "AdoptPet"]


def _unknown_connection_parameter(f: Files) -> None:
    _add_policy(f, "dynamichosturl", {
        "x-ms-apimTemplateParameter.urlTemplate": "https://@connectionParameters('region').petstore.example.com/v1",
    })  # fmt: skip
    _add_policy(f, "setheader", {
        "x-ms-apimTemplateParameter.name": "X-Api-Key",
        "x-ms-apimTemplateParameter.value": "@connectionParameters('API_KEY') @connectionParameters('shop', '')",
        "x-ms-apimTemplate-policySection": "Request",
    })  # fmt: skip


SEEDS = [
    Seed(
        "PolicyOperationNotFound",
        _policy_on_missing_operation,
        (
            f"{POLICIES}/0/parameters/x-ms-apimTemplate-operationName/1",
            f"{POLICIES}/0/parameters/x-ms-apimTemplate-operationName/2",
        ),
    ),
    Seed("ScriptOperationNotFound", _script_on_missing_operation, ("/properties/scriptOperations/1",)),
    Seed(
        "ConnectionParameterReferenceNotFound",
        _unknown_connection_parameter,
        (f"{POLICIES}/0/parameters/x-ms-apimTemplateParameter.urlTemplate",),
    ),
]
