"""Edge cases of the certification rules: what they accept, message texts, profiles."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.lint.harness import Files, _base, files_of, op, package_of

from connectorkit.definition.findings import Finding
from connectorkit.definition.package import ConnectorPackage
from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import REGISTRY, Profile

CERT = Profile.CERTIFIED


def run(mutate: Callable[[Files], None], rule: str, profile: Profile = CERT) -> list[Finding]:
    files = files_of("example")
    mutate(files)
    rules = [r for r in active_rules(profile) if r.id == rule]
    return lint_package(package_of(files, _base("example")), rules, profile)


def pointers(mutate: Callable[[Files], None], rule: str, profile: Profile = CERT) -> list[str]:
    return [f.pointer or "" for f in run(mutate, rule, profile)]


def set_info(key: str, value: object) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.definition["info"][key] = value

    return mutate


def set_op(path: str, method: str, key: str, value: object) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        op(f, path, method)[key] = value

    return mutate


def _host(value: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.definition["host"] = value

    return mutate


def metadata(*entries: dict[str, str]) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.definition["x-ms-connector-metadata"] = list(entries)

    return mutate


MINE = [
    r.id for r in REGISTRY if r.check.__module__ == "connectorkit.lint.rules.certification"
]  # every rule of this module


def test_rules_do_not_run_for_custom_connectors() -> None:
    assert MINE
    custom = {r.id for r in active_rules(Profile.CUSTOM)}
    assert not custom & set(MINE)
    assert "TitleContainsIndependentPublisher" not in {r.id for r in active_rules(CERT)}


def test_microsoft_messages() -> None:
    (title,) = run(set_info("title", "A" * 31), "FieldLengthExceeded")
    assert title.message == "The 'title' value goes over the character limit '30'"
    (words,) = run(set_info("title", "Pets api"), "ValueContainsRestrictedWords")
    assert words.message == "The value 'title' contains at least one of the restricted words: 'api, connector'."
    (desc,) = run(set_info("description", "Too short."), "FieldLengthNotInRange")
    assert desc.message == "The 'description' value must be between '30' and '500' characters."


@pytest.mark.parametrize("title", ["Asite (Canada)", "Petstore 2", "Café"])
def test_title_ending_accepted(title: str) -> None:
    assert pointers(set_info("title", title), "ValueMustEndWithAlphanumeric") == []


@pytest.mark.parametrize("title", ["Petstore\n", "Petstore!", "Pets -"])
def test_title_ending_rejected(title: str) -> None:
    assert pointers(set_info("title", title), "ValueMustEndWithAlphanumeric") == ["/info/title"]


@pytest.mark.parametrize("title", ["Rapid Pets", "Capital Connectors Inc", "Petstore"])
def test_restricted_words_are_whole_words(title: str) -> None:
    assert pointers(set_info("title", title), "ValueContainsRestrictedWords") == []


def test_description_bounds_are_inclusive() -> None:
    assert pointers(set_info("description", "x" * 30), "FieldLengthNotInRange") == []
    assert pointers(set_info("description", "x" * 500), "FieldLengthNotInRange") == []
    assert pointers(set_info("description", "x" * 501), "FieldLengthNotInRange") == ["/info/description"]
    # blank is RequiredValueEmpty's
    assert pointers(set_info("description", ""), "FieldLengthNotInRange") == []
    assert pointers(set_info("description", ""), "RequiredValueEmpty") == ["/info/description"]


def test_metadata_names_and_keys_in_any_case() -> None:
    mutate = metadata(
        {"PropertyName": "Website", "PropertyValue": "https://example.com"},
        {"propertyName": "Privacy Policy", "propertyValue": "https://example.com/privacy"},
        {"propertyName": "categories", "propertyValue": "Productivity;Data;"},
    )
    assert pointers(mutate, "ConnectorMetadataPropertiesMissing") == []
    assert pointers(mutate, "InvalidConnectorCategory") == []
    assert pointers(mutate, "TooManyConnectorCategories") == []


def test_metadata_each_missing_name_reported() -> None:
    (only,) = run(
        metadata({"propertyName": "Website", "propertyValue": "https://example.com"}),
        "ConnectorMetadataPropertiesMissing",
    )[:1]
    assert only.message == "The connector metadata property 'Privacy policy' is required."
    found = run(metadata(), "ConnectorMetadataPropertiesMissing")
    assert [f.message.split("'")[1] for f in found] == ["Website", "Privacy policy", "Categories"]


def test_no_metadata_is_left_to_required_property_missing() -> None:
    assert pointers(lambda f: None, "ConnectorMetadataPropertiesMissing") == []


def test_category_case_matters() -> None:
    mutate = metadata({"propertyName": "Categories", "propertyValue": "productivity"})
    assert pointers(mutate, "InvalidConnectorCategory") == ["/x-ms-connector-metadata/0/propertyValue"]


@pytest.mark.parametrize("value", ["GetItems", "GetItems_V2", "Get-Items", "OData"])
def test_operation_id_accepted(value: str) -> None:
    assert pointers(set_op("/pets", "get", "operationId", value), "OperationIdNotPascalCase") == []


@pytest.mark.parametrize("value", ["getItems", "Get_Items", "GET_ITEMS", "Items_List_V1"])
def test_operation_id_rejected(value: str) -> None:
    assert pointers(set_op("/pets", "get", "operationId", value), "OperationIdNotPascalCase") == [
        "/paths/~1pets/get/operationId"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Lists pets.",
        "Lists pets!",
        "Pets",
        "Lists pets. (deprecated)",
        "Lists pets (see the 'status' parameter.)",
        'Lists the "available" pets."',
    ],
)
def test_description_endings_accepted(text: str) -> None:
    assert pointers(set_op("/pets", "get", "description", text), "DescriptionWithoutPeriod") == []


def test_internal_operations_are_exempt() -> None:
    def mutate(f: Files) -> None:
        get = op(f, "/pets", "get")
        get["x-ms-visibility"] = "internal"
        del get["summary"]
        get["description"] = "lists pets"

    for rule in ("OperationSummaryMissing", "DescriptionWithoutPeriod"):
        assert pointers(mutate, rule) == []


def test_summary_length_split_with_operation_summary_too_long() -> None:
    assert pointers(set_op("/pets", "get", "summary", "List pets " * 13), "SummaryTooLongForCertification") == []

    def long_label(f: Files) -> None:
        f.definition["parameters"]["limit"]["x-ms-summary"] = "Limit " * 15

    assert pointers(long_label, "SummaryTooLongForCertification") == ["/parameters/limit/x-ms-summary"]


@pytest.mark.parametrize(
    "host",
    ["developer-api.govee.com", "peltarionforwardtest.azurewebsites.net", "api.contest.io", "petstore.example.com"],
)
def test_production_hosts_accepted(host: str) -> None:
    assert pointers(_host(host), "HostNotProduction") == []


@pytest.mark.parametrize("host", ["localhost:4433", "sm.uat.ortitletech.com", "test-fr-vp-01.example.com", "[::1]:443"])
def test_non_production_hosts_rejected(host: str) -> None:
    assert pointers(_host(host), "HostNotProduction") == ["/host"]


@pytest.mark.parametrize(
    "text", ["Translate text into 日本語.", "Café résumé naïve.", "Returns the Δ between two values."]
)
def test_english_heuristic_accepts_latin_text(text: str) -> None:
    assert pointers(set_op("/pets", "get", "description", text), "ValueMustBeInEnglish") == []


def test_product_names() -> None:
    flow = set_op("/pets", "get", "description", "Lists pets for use in a Microsoft  Flow.")
    (found,) = run(flow, "ProductNameInText")
    assert "'Microsoft Flow'" in found.message
    assert (
        pointers(set_op("/pets", "get", "description", "Lists the pets of the power user."), "ProductNameInText") == []
    )


def test_internal_required_exemptions() -> None:
    def with_default(f: Files) -> None:
        status = op(f, "/pets", "get")["parameters"][1]
        status.update({"x-ms-visibility": "internal", "required": True, "default": "available"})

    def body(f: Files) -> None:
        op(f, "/pets", "post")["parameters"][0]["x-ms-visibility"] = "internal"

    def callback(f: Files) -> None:
        op(f, "/pets", "get")["parameters"].append(
            {
                "name": "callback",
                "in": "query",
                "type": "string",
                "required": True,
                "x-ms-visibility": "internal",
                "x-ms-notification-url": True,
            }
        )

    for mutate in (with_default, body, callback):
        assert pointers(mutate, "InternalRequiredWithoutDefault") == []


def test_definition_size_from_the_file(tmp_path: Path) -> None:
    package = _base("example")
    package.save(tmp_path / "pets")
    loaded = ConnectorPackage.load(tmp_path / "pets")
    rules = [r for r in active_rules(CERT) if r.id == "DefinitionTooLarge"]
    assert lint_package(loaded, rules, CERT) == []
    big = tmp_path / "big"
    package.save(big)
    definition = big / "apiDefinition.swagger.json"
    definition.write_bytes(definition.read_bytes().rstrip()[:-1] + b"," + b'"x-pad": "' + b"x" * 1_048_576 + b'"}')
    (found,) = lint_package(ConnectorPackage.load(big), rules, CERT)
    assert found.rule == "DefinitionTooLarge"
