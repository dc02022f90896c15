"""Connector enrichment: operationIds, summaries, descriptions, labels, info and metadata."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from connectorkit.authoring import enrich as enrich_module
from connectorkit.authoring.enrich import (
    EnrichOptions,
    clean_summary,
    comparable,
    describe_operation,
    enrich,
    operation_id_for,
    pascal_case_id,
    title_case,
)
from connectorkit.authoring.report import Kind, Report
from connectorkit.definition.findings import Finding
from connectorkit.definition.package import ConnectorPackage
from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import On, Profile
from connectorkit.lint.rules.certification import CATEGORIES, DESCRIPTION_WORDS

from conftest import CORPUS, EXAMPLE, needs_corpus

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"
needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason=f"test specs not found at {SPECS}")
has_converter = importlib.util.find_spec("connectorkit.authoring.openapi3") is not None

# what enrichment is there to fix, under the certification profile
TARGET_RULES = {
    "OperationSummaryMissing",
    "OperationDescriptionMissing",
    "DescriptionWithoutPeriod",
    "OperationIdNotPascalCase",
    "OperationIdSanitized",
    "OperationIdNotUnique",
    "SummaryEqualsDescription",
    "SummaryEndsWithPunctuation",
    "SummaryTooLongForCertification",
    "RestrictedCharactersInSummary",
    "PathParameterMissingEncoding",
    "FieldLengthExceeded",
    "FieldLengthNotInRange",
    "ValueContainsRestrictedWords",
    "ValueMustEndWithAlphanumeric",
}
CERTIFICATION = EnrichOptions(certification=True)


def lint(swagger: dict[str, Any], profile: Profile = Profile.CUSTOM) -> list[Finding]:
    rules = [r for r in active_rules(profile) if r.on not in (On.LOAD, On.DIFF)]
    found = lint_package(ConnectorPackage(definition=swagger), rules, profile)
    return [f for f in found if f.file in (None, "apiDefinition.swagger.json")]


def target_findings(swagger: dict[str, Any]) -> list[tuple[str, str | None]]:
    out = []
    for finding in lint(swagger, Profile.CERTIFIED):
        if finding.rule in TARGET_RULES or (
            finding.rule == "RequiredPropertyMissing"
            and any(key in finding.message for key in ("'x-ms-summary'", "'description'"))
        ):
            out.append((finding.rule, finding.pointer))
    return out


def errors(swagger: dict[str, Any]) -> set[tuple[str, str | None]]:
    return {(f.rule, f.pointer) for f in lint(swagger) if f.severity.value == "error"}


def strip_strings(node: Any, keys: tuple[str, ...] = ("summary", "description", "x-ms-summary")) -> None:
    """Delete the strings enrichment makes, everywhere (but keep response descriptions)."""
    if isinstance(node, dict):
        for key in keys:
            if isinstance(node.get(key), str) and not ("schema" in node and key == "description"):
                del node[key]
        for value in node.values():
            strip_strings(value, keys)
    elif isinstance(node, list):
        for value in node:
            strip_strings(value, keys)


def run(swagger: dict[str, Any], options: EnrichOptions = EnrichOptions()) -> Report:
    report = Report()
    enrich(swagger, report, options)
    for item in report.items:
        if item.kind is Kind.ENRICHED:
            assert item.source == item.target
            assert item.target is not None and item.target.startswith("#")
    return report


def targets(report: Report) -> list[str | None]:
    return [item.target for item in report.of(Kind.ENRICHED)]


def minimal(paths: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "Widgets", "version": "1.0", "description": "Manage the widgets of a widget factory."},
        "host": "api.widgets.com",
        "basePath": "/",
        "schemes": ["https"],
        "paths": paths,
    }
    doc.update(top)
    return doc


OK = {"200": {"description": "OK"}}


@pytest.fixture
def petstore() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return value


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("user_id", "User ID"),
        ("createdAt", "Created At"),
        ("userID", "User ID"),
        ("html_url", "HTML URL"),
        ("ids", "IDs"),
        ("page[size]", "Page Size"),
        ("$filter", "Filter"),
        ("ipv4Address", "IPv4 Address"),
        ("api-version", "API Version"),
    ],
)
def test_title_case(name: str, label: str) -> None:
    assert title_case(name) == label


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("get", "/users", "ListUsers"),
        ("get", "/users/{id}", "GetUser"),
        ("get", "/users/{id}/posts", "ListUserPosts"),
        ("post", "/users", "CreateUser"),
        ("put", "/users/{id}", "UpdateUser"),
        ("delete", "/users/{id}", "DeleteUser"),
        ("get", "/v2/account", "GetAccount"),
        ("get", "/api/status", "GetStatus"),
        ("post", "/messages/send", "SendMessages"),
        ("post", "/droplets/{id}/reboot", "RebootDroplet"),
        ("get", "/categories/{id}", "GetCategory"),
        ("get", "/", "GetRoot"),
        ("get", "/{id}", "GetItem"),
        ("head", "/files/{id}", "CheckFile"),
        ("get", "/files({id})", "GetFile"),
    ],
)
def test_operation_id_for(method: str, path: str, expected: str) -> None:
    assert operation_id_for(method, path) == expected


def test_operation_id_for_put_next_to_patch() -> None:
    assert operation_id_for("put", "/users/{id}", replace=True) == "ReplaceUser"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("get-user.by_id", "GetUserById"),
        ("getUser", "GetUser"),
        ("get_user", "GetUser"),
        ("Get_User_V2", "GetUser_V2"),
        ("list pets", "ListPets"),
        ("_foo", "Foo"),
        ("get_items_v2", "GetItems_V2"),
        ("--", ""),
    ],
)
def test_pascal_case_id(value: str, expected: str) -> None:
    assert pascal_case_id(value) == expected


def test_tables_agree_with_the_validator() -> None:
    assert set(enrich_module._CATEGORY_WORDS) <= set(CATEGORIES)
    assert set(enrich_module._PRODUCT_REPLACEMENTS) == set(DESCRIPTION_WORDS)


def test_clean_summary() -> None:
    assert clean_summary("Create/update a user.") == "Create or update a user"
    assert clean_summary("Read and/or write") == "Read or write"
    assert clean_summary("Items in /root folder ") == "Items in root folder"
    assert clean_summary("List  users\n now!") == "List users now"
    long = "Get the user. " + "Returns every property of the user with its groups and roles " * 3
    assert clean_summary(long) == "Get the user"
    words = "Create or update the configuration of the widget factory production line for the current site"
    short = clean_summary(words)
    assert len(short) <= 80 and words.startswith(short) and not short.endswith(" the")
    assert clean_summary("Get the thing (with a very long parenthetical remark that goes on and on and on and on)") == (
        "Get the thing"
    )


def test_describe_operation() -> None:
    assert describe_operation("List pets", "get", "/pets") == "Lists pets."
    assert describe_operation("Search items", "get", "/s") == "Searches items."
    assert describe_operation("Apply a policy", "post", "/p") == "Applies a policy."
    assert describe_operation("Create or update user", "put", "/u") == "Creates or updates user."
    assert describe_operation("User posts", "get", "/users/{id}/posts") == "User posts (GET /users/{id}/posts)."
    for summary in ("List pets", "User posts"):
        assert comparable(describe_operation(summary, "get", "/x")) != comparable(summary)


# --------------------------------------------------------------------------- operationIds


def test_missing_operation_ids_are_made_from_method_and_path() -> None:
    doc = minimal(
        {
            "/users": {"get": {"responses": OK}, "post": {"responses": OK}},
            "/users/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": True, "type": "string"}],
                "get": {"responses": OK},
            },
        }
    )
    report = run(doc)
    assert doc["paths"]["/users"]["get"]["operationId"] == "ListUsers"
    assert doc["paths"]["/users"]["post"]["operationId"] == "CreateUser"
    assert doc["paths"]["/users/{id}"]["get"]["operationId"] == "GetUser"
    assert "#/paths/~1users~1{id}/get/operationId" in targets(report)
    # strings made up go first, as Microsoft writes them
    assert list(doc["paths"]["/users"]["get"])[:3] == ["summary", "description", "operationId"]


def test_invalid_and_lower_case_operation_ids() -> None:
    doc = minimal(
        {
            "/a": {"get": {"operationId": "get-user.by_id", "responses": OK}},
            "/b": {"get": {"operationId": "getThing", "responses": OK}},
            "/c": {"get": {"operationId": "2fa-verify", "responses": OK}},
            "/d": {"get": {"operationId": "GoodOne_V2", "responses": OK}},
        }
    )
    report = run(doc)
    ids = [doc["paths"][p]["get"]["operationId"] for p in ("/a", "/b", "/c", "/d")]
    assert ids == ["GetUserById", "GetThing", "Get2faVerify", "GoodOne_V2"]
    messages = " ".join(item.message for item in report.of(Kind.ENRICHED))
    assert "'get-user.by_id'" in messages and "'getThing' is not PascalCase" in messages
    assert "#/paths/~1d/get/operationId" not in targets(report)


def test_lower_case_ids_kept_without_pascal_case_option() -> None:
    doc = minimal({"/b": {"get": {"operationId": "getThing", "responses": OK}}})
    report = run(doc, EnrichOptions(pascal_case_ids=False))
    assert doc["paths"]["/b"]["get"]["operationId"] == "getThing"
    assert "#/paths/~1b/get/operationId" not in targets(report)


def test_operation_ids_made_unique() -> None:
    doc = minimal(
        {
            "/users": {"get": {"operationId": "ListUsers", "responses": OK}},
            "/v2/users": {"get": {"responses": OK}},
            "/x": {"get": {"operationId": "Same", "responses": OK}},
            "/y": {"get": {"operationId": "Same", "responses": OK}},
            "/z": {"get": {"operationId": "same", "responses": OK}},
        }
    )
    run(doc)
    ids = [doc["paths"][p]["get"]["operationId"] for p in doc["paths"]]
    assert ids == ["ListUsers", "ListUsers2", "Same", "Same2", "Same3"]
    assert not any(rule == "OperationIdNotUnique" for rule, _ in errors(doc))


def test_references_follow_renamed_operation_ids() -> None:
    doc = minimal(
        {
            "/lists": {"get": {"operationId": "get-lists", "x-ms-visibility": "internal", "responses": OK}},
            "/items": {
                "get": {
                    "operationId": "ListItems",
                    "parameters": [
                        {
                            "name": "list",
                            "in": "query",
                            "type": "string",
                            "x-ms-dynamic-values": {"operationId": "get-lists", "value-path": "id"},
                        }
                    ],
                    "responses": OK,
                }
            },
        }
    )
    report = run(doc)
    dynamic = doc["paths"]["/items"]["get"]["parameters"][0]["x-ms-dynamic-values"]
    assert dynamic["operationId"] == "GetLists"
    assert "#/paths/~1items/get/parameters/0/x-ms-dynamic-values/operationId" in targets(report)
    assert not errors(doc)


# --------------------------------------------------------------------------- summaries and descriptions


def test_summary_and_description_made_up() -> None:
    doc = minimal({"/users/{id}/posts": {"get": {"operationId": "ListUserPosts", "responses": OK}}})
    doc["paths"]["/users/{id}/posts"]["parameters"] = [{"name": "id", "in": "path", "required": True, "type": "string"}]
    report = run(doc)
    op = doc["paths"]["/users/{id}/posts"]["get"]
    assert op["summary"] == "List user posts"
    assert op["description"] == "Lists user posts."
    assert {"#/paths/~1users~1{id}~1posts/get/summary", "#/paths/~1users~1{id}~1posts/get/description"} <= set(
        targets(report)
    )


def test_long_summary_moves_to_description() -> None:
    text = (
        "Returns the complete list of widgets that belong to the factory, including archived ones, "
        "sorted by the date on which they were created"
    )
    doc = minimal({"/w": {"get": {"operationId": "ListWidgets", "summary": text, "responses": OK}}})
    run(doc)
    op = doc["paths"]["/w"]["get"]
    assert len(op["summary"]) <= 80 and text.startswith(op["summary"])
    assert op["description"] == text + "."


def test_summary_cleaned_and_description_fixed() -> None:
    doc = minimal(
        {
            "/a": {
                "get": {
                    "operationId": "A",
                    "summary": "Read/write things.",
                    "description": "Reads things",
                    "responses": OK,
                }
            },
            "/b": {
                "get": {"operationId": "B", "summary": "Get widgets", "description": "Get widgets.", "responses": OK}
            },
            "/c": {"get": {"operationId": "C", "summary": "Widgets", "description": "widgets", "responses": OK}},
            "/d": {"get": {"operationId": "D", "summary": "Gets it", "description": "Single", "responses": OK}},
        }
    )
    report = run(doc)
    paths = doc["paths"]
    assert paths["/a"]["get"]["summary"] == "Read or write things"
    assert paths["/a"]["get"]["description"] == "Reads things."
    assert paths["/b"]["get"]["description"] == "Gets widgets."
    assert paths["/c"]["get"]["description"] == "Widgets (GET /c)."
    assert paths["/d"]["get"]["description"] == "Single"  # one word needs no period
    assert "#/paths/~1d/get/description" not in targets(report)


def test_deprecated_operations_are_marked() -> None:
    doc = minimal(
        {
            "/old": {
                "get": {
                    "operationId": "Old",
                    "summary": "List old",
                    "description": "List old",
                    "deprecated": True,
                    "responses": OK,
                }
            }
        }
    )
    run(doc)
    op = doc["paths"]["/old"]["get"]
    assert op["summary"] == "List old (deprecated)"
    assert op["description"] == "Lists old (deprecated)."


# --------------------------------------------------------------------------- parameters and properties


def test_parameters_get_labels_encoding_and_visibility() -> None:
    doc = minimal(
        {
            "/users/{user_id}": {
                "get": {
                    "operationId": "GetUser",
                    "summary": "Get user",
                    "description": "Gets a user.",
                    "parameters": [
                        {"name": "user_id", "in": "path", "required": True, "type": "string"},
                        {"name": "expand", "in": "query", "type": "string", "enum": ["groups", "roles"]},
                        {"name": "X-Request-Id", "in": "header", "type": "string"},
                        {"name": "fields", "in": "query", "type": "string", "required": True},
                        {
                            "name": "secret",
                            "in": "query",
                            "type": "string",
                            "x-ms-visibility": "internal",
                            "default": "x",
                        },
                        {
                            "name": "mode",
                            "in": "query",
                            "type": "string",
                            "x-ms-summary": "Mode",
                            "description": "mode",
                        },
                    ],
                    "responses": OK,
                }
            }
        }
    )
    report = run(doc, EnrichOptions(hide_optional=True))
    user, expand, header, fields, secret, mode = doc["paths"]["/users/{user_id}"]["get"]["parameters"]
    assert (user["x-ms-summary"], user["description"], user["x-ms-url-encoding"]) == (
        "User ID",
        "The user ID.",
        "single",
    )
    assert "x-ms-visibility" not in user and "x-ms-visibility" not in fields
    assert expand["x-ms-visibility"] == "advanced" and header["x-ms-visibility"] == "advanced"
    assert expand["description"] == "The expand. One of: groups, roles."
    assert header["x-ms-summary"] == "Request ID"
    assert "x-ms-summary" not in secret  # internal: never shown
    assert mode["description"] == "The mode."  # no longer the summary again
    pointer = "#/paths/~1users~1{user_id}/get/parameters/0/x-ms-url-encoding"
    assert pointer in targets(report)


def test_visibility_left_alone_by_default_and_for_notification_pairs() -> None:
    param = {"name": "since", "in": "query", "type": "string"}
    doc = minimal(
        {
            "/poll": {
                "get": {
                    "operationId": "OnItem",
                    "x-ms-trigger": "batch",
                    "x-ms-notification": {"operationId": "Subscribe"},
                    "parameters": [dict(param)],
                    "responses": OK,
                }
            },
            "/hooks": {"post": {"operationId": "Subscribe", "parameters": [dict(param)], "responses": OK}},
            "/other": {"get": {"operationId": "Other", "parameters": [dict(param)], "responses": OK}},
        }
    )
    plain = copy.deepcopy(doc)
    run(plain)
    assert all("x-ms-visibility" not in p["parameters"][0] for item in plain["paths"].values() for p in item.values())
    run(doc, EnrichOptions(hide_optional=True))
    assert "x-ms-visibility" not in doc["paths"]["/poll"]["get"]["parameters"][0]
    assert "x-ms-visibility" not in doc["paths"]["/hooks"]["post"]["parameters"][0]
    assert doc["paths"]["/other"]["get"]["parameters"][0]["x-ms-visibility"] == "advanced"


def test_schema_properties_get_labels() -> None:
    doc = minimal(
        {
            "/w": {
                "get": {
                    "operationId": "ListWidgets",
                    "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/Widget"}}},
                }
            }
        },
        definitions={
            "Widget": {
                "type": "object",
                "properties": {
                    "created_at": {"type": "string"},
                    "size": {"type": "integer", "title": "Widget size"},
                    "owner": {"$ref": "#/definitions/Owner"},
                    "parts": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"partId": {"type": "string"}}},
                    },
                },
            },
            "Owner": {"type": "object", "properties": {"name": {"type": "string", "x-ms-summary": "Owner"}}},
        },
    )
    custom = copy.deepcopy(doc)
    report = run(custom)
    widget = custom["definitions"]["Widget"]["properties"]
    assert widget["created_at"]["x-ms-summary"] == "Created At" and "description" not in widget["created_at"]
    assert widget["size"]["x-ms-summary"] == "Widget Size"
    assert widget["owner"] == {"$ref": "#/definitions/Owner"}
    assert widget["parts"]["items"]["properties"]["partId"]["x-ms-summary"] == "Part ID"
    assert custom["definitions"]["Owner"]["properties"]["name"] == {"type": "string", "x-ms-summary": "Owner"}
    assert "#/definitions/Widget/properties" in targets(report)
    assert not errors(custom)
    run(doc, CERTIFICATION)
    widget = doc["definitions"]["Widget"]["properties"]
    assert widget["created_at"]["description"] == "The created at."
    assert doc["definitions"]["Owner"]["properties"]["name"]["description"] == "The owner."


def test_long_parameter_label_and_title_case_titles() -> None:
    long = "The identifier of the widget whose parts should be listed, as shown on the widget's label"
    doc = minimal(
        {
            "/w": {
                "get": {
                    "operationId": "ListParts",
                    "parameters": [
                        {"name": "widget", "in": "query", "type": "string", "x-ms-summary": long},
                        {"name": "size", "in": "query", "type": "string", "title": "size of the part in cm"},
                    ],
                    "responses": OK,
                }
            }
        }
    )
    run(doc)
    widget, size = doc["paths"]["/w"]["get"]["parameters"]
    assert len(widget["x-ms-summary"]) <= 80 and long.startswith(widget["x-ms-summary"])
    assert widget["description"] == long + "."
    assert size["x-ms-summary"] == "Size of the Part in Cm"


def test_enrichment_is_idempotent(petstore: dict[str, Any]) -> None:
    strip_strings(petstore, ("summary", "description", "x-ms-summary", "operationId"))
    options = EnrichOptions(certification=True, hide_optional=True)
    run(petstore, options)
    again = copy.deepcopy(petstore)
    report = run(again, options)
    assert report.of(Kind.ENRICHED) == [] and again == petstore


def test_response_descriptions() -> None:
    doc = minimal(
        {"/w": {"get": {"operationId": "W", "responses": {"200": {"schema": {"type": "string"}}, "default": {}}}}},
        responses={"Error": {"schema": {"type": "object"}}},
    )
    assert any(rule == "RequiredPropertyMissing" for rule, _ in errors(doc))
    run(doc)
    responses = doc["paths"]["/w"]["get"]["responses"]
    assert responses["200"]["description"] == "OK" and responses["default"]["description"] == "Default response"
    assert doc["responses"]["Error"]["description"] == "Status Error"
    assert not errors(doc)


# --------------------------------------------------------------------------- info and metadata


def test_info_left_alone_without_certification() -> None:
    doc = minimal({"/w": {"get": {"operationId": "W", "responses": OK}}})
    doc["info"]["title"] = "The Widget Factory Production Line API"
    run(doc)
    assert doc["info"]["title"] == "The Widget Factory Production Line API"
    assert "x-ms-connector-metadata" not in doc


def test_missing_info_title_and_version() -> None:
    doc = minimal({"/w": {"get": {"operationId": "W", "responses": OK}}})
    doc["info"] = {}
    report = run(doc)
    assert doc["info"]["title"] == "Widgets" and doc["info"]["version"] == "1.0.0"
    assert {"#/info/title", "#/info/version"} <= set(targets(report))
    del doc["info"]
    run(doc)
    assert list(doc)[:2] == ["swagger", "info"]


def test_certification_title_and_description() -> None:
    doc = minimal({"/w": {"get": {"operationId": "ListWidgets", "responses": OK}}})
    doc["info"]["title"] = "The Widget Factory Production Line API"
    doc["info"]["description"] = "Widgets."
    report = run(doc, CERTIFICATION)
    title, description = doc["info"]["title"], doc["info"]["description"]
    assert title == "The Widget Factory Production"
    assert description.startswith("Widgets. Connect to the Widget Factory Production service to list widgets")
    assert 30 <= len(description) <= 500
    assert {"#/info/title", "#/info/description"} <= set(targets(report))

    doc["info"]["title"] = "Widget Connector"
    doc["info"]["description"] = "Use widgets from Power Automate and Logic Apps. " + "More about widgets here. " * 30
    run(doc, CERTIFICATION)
    assert doc["info"]["title"] == "Widget"
    description = doc["info"]["description"]
    assert description.startswith("Use widgets from flows and workflows.") and len(description) <= 500
    assert description.endswith(".")


def test_connector_metadata_skeleton() -> None:
    doc = minimal(
        {"/w": {"get": {"operationId": "W", "responses": OK}}},
        tags=[{"name": "Messages"}, {"name": "Files"}, {"name": "Folders"}],
    )
    doc["info"]["contact"] = {"name": "Support", "url": "https://widgets.example.com/support"}
    doc["info"]["termsOfService"] = "https://widgets.example.com/terms"
    report = run(doc, CERTIFICATION)
    entries = {e["propertyName"]: e["propertyValue"] for e in doc["x-ms-connector-metadata"]}
    assert entries == {
        "Website": "https://widgets.example.com/support",
        "Categories": "Content and Files;Communication",
    }
    notes = [item.message for item in report.of(Kind.NOTE)]
    assert any("Privacy policy" in note for note in notes)
    findings = {f.rule for f in lint(doc, Profile.CERTIFIED)}
    assert "InvalidConnectorCategory" not in findings and "UrlNotValid" not in findings

    doc["info"]["termsOfService"] = "https://widgets.example.com/privacy"
    del doc["x-ms-connector-metadata"]
    run(doc, CERTIFICATION)
    entries = {e["propertyName"]: e["propertyValue"] for e in doc["x-ms-connector-metadata"]}
    assert entries["Privacy policy"] == "https://widgets.example.com/privacy"


def test_existing_metadata_is_completed_not_replaced(petstore: dict[str, Any]) -> None:
    before = copy.deepcopy(petstore["x-ms-connector-metadata"])
    run(petstore, CERTIFICATION)
    assert petstore["x-ms-connector-metadata"] == before


# --------------------------------------------------------------------------- against the validator


def test_example_is_left_as_it_is(petstore: dict[str, Any]) -> None:
    """The bundled example already has everything enrichment would add."""
    before = copy.deepcopy(petstore)
    report = run(petstore, EnrichOptions(certification=True, hide_optional=False))
    assert report.items == []
    assert petstore == before


def test_stripped_example_passes_certification_rules(petstore: dict[str, Any]) -> None:
    strip_strings(petstore, ("summary", "description", "x-ms-summary", "x-ms-url-encoding", "operationId"))
    del petstore["x-ms-connector-metadata"]
    petstore["info"]["title"] = "Petstore API for pet shops and their customers"
    assert target_findings(petstore)
    run(petstore, EnrichOptions(certification=True, hide_optional=True))
    assert target_findings(petstore) == []
    assert not errors(petstore)
    assert {f.rule for f in lint(petstore, Profile.CERTIFIED) if f.severity.value == "error"} == {
        "ConnectorMetadataPropertiesMissing"  # the privacy policy only the user knows
    }


CORPUS_SAMPLE = 24


def corpus_definitions() -> list[Path]:
    folders = sorted(p.parent for p in CORPUS.glob("*/*/apiDefinition.swagger.json"))
    step = max(1, len(folders) // CORPUS_SAMPLE)
    return folders[::step][:CORPUS_SAMPLE]


@needs_corpus
@pytest.mark.parametrize("stripped", [False, True], ids=["as-is", "stripped"])
def test_corpus_connectors(stripped: bool) -> None:
    checked = 0
    for folder in corpus_definitions():
        try:
            swagger = ConnectorPackage.load(folder).definition
        except Exception:  # a corpus file the reader rejects is not this test's business
            continue
        if stripped:
            strip_strings(swagger.get("paths"))
            strip_strings(swagger.get("parameters"))
        before = errors(swagger)
        run(swagger, CERTIFICATION)
        assert target_findings(swagger) == [], folder.name
        assert errors(swagger) <= before, folder.name
        checked += 1
    assert checked >= CORPUS_SAMPLE // 2


@needs_specs
@pytest.mark.skipif(not has_converter, reason="the OpenAPI 3 converter (openapi3.py) is not there yet")
@pytest.mark.parametrize("name", ["petstore-expanded.yaml", "uspto.json", "link-example.yaml"])
def test_converted_specs(name: str) -> None:
    from connectorkit.authoring.openapi3 import convert_openapi3
    from connectorkit.authoring.source import read_spec

    spec = read_spec(str(SPECS / "OAI__learn.openapis.org" / "examples" / "v3.0" / name))
    swagger = convert_openapi3(spec.value, Report(), source_url=None).swagger
    before = errors(swagger)
    run(swagger, CERTIFICATION)
    assert target_findings(swagger) == []
    assert errors(swagger) <= before
