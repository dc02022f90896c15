"""Edge cases of the Parameters, Arrays, Not supported, enum and Security rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.lint.harness import Files, _base, files_of, op, package_of

from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import Profile

P = "/paths/~1pets"


def findings(rule: str, mutate: Callable[[Files], None], profile: Profile = Profile.CUSTOM) -> list[tuple[str, str]]:
    """(pointer, message) of ``rule``'s findings on the mutated example."""
    files = files_of("example")
    mutate(files)
    package = package_of(files, _base("example"))
    found = lint_package(package, active_rules(profile, select=(rule,)), profile)
    return sorted((f.pointer or "", f.message) for f in found if f.rule == rule)


def pointers(rule: str, mutate: Callable[[Files], None], profile: Profile = Profile.CUSTOM) -> list[str]:
    return [pointer for pointer, _ in findings(rule, mutate, profile)]


def _add_get_parameter(param: dict[str, Any]) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        op(f, "/pets", "get")["parameters"].append(param)

    return mutate


def _status(f: Files) -> dict[str, Any]:
    status: dict[str, Any] = op(f, "/pets", "get")["parameters"][1]
    return status


# --------------------------------------------------------------------------- parameter references


@pytest.mark.parametrize(
    ("ref", "valid"),
    [
        ("#/parameters/limit", True),
        ("#/parameters/a~1b", True),
        ("#/parameters/a~0b", True),
        ("#/parameters/a~2b", False),
        ("#/parameters/a~", False),
        ("#/parameters/", False),
        ("#/parameters/limit/name", False),
        ("#/definitions/Pet", False),
        ("common.json#/parameters/limit", False),
    ],
)
def test_parameter_reference_validity(ref: str, valid: bool) -> None:
    found = pointers("ParameterReferenceNotValid", _add_get_parameter({"$ref": ref}))
    assert found == ([] if valid else [f"{P}/get/parameters/2/$ref"])


def test_parameter_reference_message_names_the_reference() -> None:
    [(_, message)] = findings("ParameterReferenceNotValid", _add_get_parameter({"$ref": "#/definitions/Pet"}))
    assert "'#/definitions/Pet'" in message


def test_parameter_reference_found_through_escapes() -> None:
    def mutate(f: Files) -> None:
        f.definition["parameters"]["page/size"] = dict(f.definition["parameters"]["limit"], name="pageSize")
        f.definition["parameters"]["page size"] = dict(f.definition["parameters"]["limit"], name="size")
        op(f, "/pets", "get")["parameters"] += [
            {"$ref": "#/parameters/page~1size"},
            {"$ref": "#/parameters/page%20size"},
        ]

    assert pointers("ParameterReferenceNotFound", mutate) == []


def test_parameter_reference_not_found_without_root_parameters() -> None:
    def mutate(f: Files) -> None:
        limit = f.definition.pop("parameters")["limit"]
        op(f, "/pets/arrivals", "get")["parameters"] = [limit]

    assert pointers("ParameterReferenceNotFound", mutate) == [f"{P}/get/parameters/0/$ref"]


def test_invalid_reference_is_not_also_reported_as_not_found() -> None:
    assert pointers("ParameterReferenceNotFound", _add_get_parameter({"$ref": "#/parameters/a/b"})) == []


# --------------------------------------------------------------------------- locations


def test_form_data_and_body_across_path_level() -> None:
    def mutate(f: Files) -> None:
        item = f.definition["paths"]["/pets/{petId}"]
        item["parameters"].append({"name": "body", "in": "body", "schema": {"type": "object"}})
        item["put"] = {
            "operationId": "ReplacePet",
            "consumes": ["multipart/form-data"],
            "parameters": [{"name": "note", "in": "formData", "type": "string"}],
            "responses": {"200": {"description": "Done."}},
        }
        item["patch"] = {"operationId": "PatchPet", "responses": {"200": {"description": "Done."}}}

    # PUT has its own list; PATCH has no formData; GET and DELETE inherit only the body
    assert pointers("ParameterListContainsFormDataAndBody", mutate) == ["/paths/~1pets~1{petId}/put/parameters"]


def test_form_data_and_body_reported_on_the_path_list_when_the_operation_has_none() -> None:
    def mutate(f: Files) -> None:
        item = f.definition["paths"]["/pets/{petId}"]
        item["parameters"] += [
            {"name": "body", "in": "body", "schema": {"type": "object"}},
            {"name": "note", "in": "formData", "type": "string"},
        ]
        del item["get"]

    assert pointers("ParameterListContainsFormDataAndBody", mutate) == ["/paths/~1pets~1{petId}/parameters"]


@pytest.mark.parametrize(("location", "fires"), [("formData", False), ("query", True), ("header", True)])
def test_file_parameter_locations(location: str, fires: bool) -> None:
    found = pointers("FileParameterMustBeInFormData", _add_get_parameter({"name": "f", "in": location, "type": "file"}))
    assert found == ([f"{P}/get/parameters/2"] if fires else [])


def test_path_parameter_encoding_only_under_certification() -> None:
    def keep(f: Files) -> None:
        del f.definition["paths"]["/pets/{petId}"]["parameters"][0]["x-ms-url-encoding"]

    pointer = "/paths/~1pets~1{petId}/parameters/0"
    assert pointers("PathParameterMissingEncoding", keep) == []
    assert pointers("PathParameterMissingEncoding", keep, Profile.CERTIFIED) == [pointer]
    assert pointers("PathParameterMissingEncoding", keep, Profile.INDEPENDENT_PUBLISHER) == [pointer]

    def encode(f: Files) -> None:
        f.definition["paths"]["/pets/{petId}"]["parameters"][0]["x-ms-url-encoding"] = "single"

    assert pointers("PathParameterMissingEncoding", encode, Profile.CERTIFIED) == []


def test_encoding_on_a_path_parameter_is_not_a_query_encoding() -> None:
    def mutate(f: Files) -> None:
        f.definition["paths"]["/pets/{petId}"]["parameters"][0]["x-ms-url-encoding"] = "double"

    assert pointers("QueryParameterEncodingNotSupported", mutate) == []


def test_response_ref_in_an_operation_is_not_a_loop() -> None:
    def mutate(f: Files) -> None:
        f.definition["responses"] = {"NotFound": {"description": "No pet has this identifier."}}
        op(f, "/pets/{petId}", "get")["responses"]["404"] = {"$ref": "#/responses/NotFound"}

    assert pointers("ResponseRefLoopNotAllowed", mutate) == []


# --------------------------------------------------------------------------- collectionFormat


@pytest.mark.parametrize(
    ("param", "pointer"),
    [
        ({"in": "query", "collectionFormat": "multi"}, None),
        ({"in": "formData", "collectionFormat": "multi"}, None),
        ({"in": "query", "collectionFormat": "pipes"}, None),
        ({"in": "query", "collectionFormat": "commas"}, "/collectionFormat"),
        ({"in": "path", "collectionFormat": "multi"}, "/collectionFormat"),
        (
            {"in": "query", "items": {"type": "array", "items": {"type": "string"}, "collectionFormat": "multi"}},
            "/items/collectionFormat",
        ),
    ],
)
def test_collection_formats(param: dict[str, Any], pointer: str | None) -> None:
    raw = {"name": "tags", "type": "array", "items": {"type": "string"}, **param}
    found = findings("CollectionFormatValueNotSupported", _add_get_parameter(raw))
    assert [p for p, _ in found] == ([] if pointer is None else [f"{P}/get/parameters/2{pointer}"])


def test_collection_format_in_a_response_header() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "get")["responses"]["200"]["headers"] = {
            "X-Ids": {"type": "array", "items": {"type": "string"}, "collectionFormat": "multi"}
        }

    [(pointer, message)] = findings("CollectionFormatValueNotSupported", mutate)
    assert pointer == f"{P}/get/responses/200/headers/X-Ids/collectionFormat"
    assert "'multi'" in message


# --------------------------------------------------------------------------- arrays and keywords


def test_array_without_items_in_headers_and_nested_items() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "get")["responses"]["200"]["headers"] = {"X-Ids": {"type": "array"}}
        op(f, "/pets", "get")["parameters"].append(
            {"name": "grid", "in": "query", "type": "array", "items": {"type": "array"}}
        )
        f.definition["definitions"]["Pet"]["properties"]["photos"] = {"type": "array", "description": "Photos."}

    assert pointers("ArrayHasNoItems", mutate) == [
        "/definitions/Pet/properties/photos",
        f"{P}/get/parameters/2/items",
        f"{P}/get/responses/200/headers/X-Ids",
    ]


def test_array_behind_a_reference_is_not_checked_at_the_reference() -> None:
    def mutate(f: Files) -> None:
        f.definition["definitions"]["Pets"] = {"type": "array", "items": {"$ref": "#/definitions/Pet"}}
        op(f, "/pets", "get")["responses"]["200"]["schema"] = {"$ref": "#/definitions/Pets"}

    assert pointers("ArrayHasNoItems", mutate) == []


def test_keywords_as_property_names_are_not_keywords() -> None:
    def mutate(f: Files) -> None:
        props = f.definition["definitions"]["Pet"]["properties"]
        props["not"] = {"type": "boolean", "description": "Negated."}
        props["uniqueItems"] = {"type": "boolean", "description": "Unique."}

    assert pointers("SwaggerKeywordNotSupported", mutate) == []


def test_unsupported_keywords() -> None:
    def mutate(f: Files) -> None:
        f.definition["definitions"]["Pet"]["properties"]["tag"]["anyOf"] = [{"type": "string"}]
        _status(f)["uniqueItems"] = True
        f.definition["definitions"]["NewPet"]["properties"]["tag"]["uniqueItems"] = False

    found = findings("SwaggerKeywordNotSupported", mutate)
    assert found == [
        ("/definitions/Pet/properties/tag/anyOf", "The 'anyOf' keyword is not supported."),
        (f"{P}/get/parameters/1/uniqueItems", "The 'uniqueItems' keyword is not supported."),
    ]


def test_schemes_empty_at_the_root() -> None:
    def mutate(f: Files) -> None:
        f.definition["schemes"] = []

    assert pointers("SchemesArrayEmpty", mutate) == ["/schemes"]


def test_required_array_in_a_body_schema() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "post")["parameters"][0]["schema"] = {"type": "object", "required": [], "properties": {}}

    assert pointers("RequiredPropertyArrayEmpty", mutate) == [f"{P}/post/parameters/0/schema/required"]


# --------------------------------------------------------------------------- duplicates and enums


def test_duplicates_compare_as_json() -> None:
    def mutate(f: Files) -> None:
        f.definition["definitions"]["Pet"]["properties"]["flags"] = {
            "type": "number",
            "description": "Flags.",
            "enum": [1, True, "1", 1.0, None, None],
        }
        f.definition["definitions"]["NewPet"]["required"] = ["name", "tag", "name"]
        op(f, "/pets", "get")["tags"] = ["Pets", "pets", "Pets"]

    assert pointers("ArrayDuplicateValue", mutate) == [
        "/definitions/NewPet/required/2",
        "/definitions/Pet/properties/flags/enum/3",
        "/definitions/Pet/properties/flags/enum/5",
        f"{P}/get/tags/2",
    ]


@pytest.mark.parametrize(
    ("declared", "values", "bad"),
    [
        ("number", [1, 2.5], []),
        ("integer", [1, 2.0], []),
        ("integer", [1, 2.5, "3"], [("1", "number"), ("2", "string")]),
        ("boolean", [True, "false"], [("1", "string")]),
        ("string", ["a", None], [("1", "null")]),
        ("object", [{"a": 1}, [1]], [("1", "array")]),
    ],
)
def test_enum_value_types(declared: str, values: list[Any], bad: list[tuple[str, str]]) -> None:
    def mutate(f: Files) -> None:
        f.definition["definitions"]["Pet"]["properties"]["kind"] = {
            "type": declared,
            "description": "Kind.",
            "enum": values,
        }

    found = findings("InvalidEnumValue", mutate)
    base = "/definitions/Pet/properties/kind/enum/"
    assert found == [
        (
            base + index,
            f"The type of the enum value is '{actual}' but it should be '{declared}' as specified in the schema.",
        )
        for index, actual in bad
    ]


def test_nullable_enum_accepts_null() -> None:
    def mutate(f: Files) -> None:
        _status(f)["enum"].append(None)
        _status(f)["x-nullable"] = True

    assert pointers("InvalidEnumValue", mutate) == []


def test_enum_values_extension_compares_as_json() -> None:
    def mutate(f: Files) -> None:
        f.definition["definitions"]["Pet"]["properties"]["size"] = {
            "type": "integer",
            "description": "Size.",
            "enum": [1, 2],
            "x-ms-enum-values": [{"value": 1, "displayName": "Small"}, {"value": "2", "displayName": "Large"}],
        }

    assert pointers("InvalidEnumValuesExtensionValue", mutate) == [
        "/definitions/Pet/properties/size/x-ms-enum-values/1/value"
    ]


def test_enum_values_extension_without_enum() -> None:
    def mutate(f: Files) -> None:
        status = _status(f)
        del status["enum"]
        status["x-ms-enum-values"] = [{"value": "sold", "displayName": "Sold"}, {"displayName": "No value"}]

    assert pointers("InvalidEnumValuesExtensionValue", mutate) == [f"{P}/get/parameters/1/x-ms-enum-values/0/value"]
    assert pointers("DuplicateEnumValuesInExtension", mutate) == []


# --------------------------------------------------------------------------- security


def _oauth(f: Files, requirement: list[Any]) -> None:
    f.definition["securityDefinitions"]["oauth"] = {
        "type": "oauth2",
        "flow": "accessCode",
        "authorizationUrl": "https://petstore.example.com/authorize",
        "tokenUrl": "https://petstore.example.com/token",
        "scopes": {"pets.read": "Read pets.", "pets.write": "Change pets.", "offline_access offline": "Refresh."},
    }
    op(f, "/pets", "get")["security"] = [{"oauth": requirement}]


def test_oauth_scopes_may_be_space_separated() -> None:
    def mutate(f: Files) -> None:
        _oauth(f, ["pets.read pets.write", "offline_access offline", "pets.read pets.admin", "pets.delete"])

    found = findings("OAuthSecurityRequirementValueMustBeScopeName", mutate)
    assert [p for p, _ in found] == [f"{P}/get/security/0/oauth/2", f"{P}/get/security/0/oauth/3"]
    assert "scope name 'pets.delete'" in found[1][1]


def test_oauth_requirement_may_list_scopes() -> None:
    def mutate(f: Files) -> None:
        _oauth(f, ["pets.read"])

    assert pointers("SecurityRequirementMustHaveEmptyValue", mutate) == []
    assert pointers("SecurityRequirementMustBeDefined", mutate) == []


def test_undefined_requirement_is_reported_once() -> None:
    def mutate(f: Files) -> None:
        f.definition["security"] = [{"API Key": ["read"]}]

    assert pointers("SecurityRequirementMustBeDefined", mutate) == ["/security/0/API Key"]
    assert pointers("SecurityRequirementMustHaveEmptyValue", mutate) == []
    assert pointers("OAuthSecurityRequirementValueMustBeScopeName", mutate) == []


def test_no_security_definitions_at_all() -> None:
    def mutate(f: Files) -> None:
        del f.definition["securityDefinitions"]

    assert pointers("SecurityRequirementMustBeDefined", mutate) == ["/security/0/api_key"]
