"""Edge cases of the Response rules (rules/responses.py): references, counts, loops, triggers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.lint.harness import Files, _base, files_of, findings_for, op, package_of

from connectorkit.lint.engine import Context
from connectorkit.lint.registry import REGISTRY, Profile
from connectorkit.lint.rules.responses import pointer_is_valid, schema_counts

PID = "/paths/~1pets~1{petId}"
ARRIVALS = "/paths/~1pets~1arrivals"


def fired(rule: str, mutate: Callable[[Files], None], profile: Profile = Profile.CUSTOM) -> list[str]:
    """Pointers where ``rule`` fires on the example after ``mutate``."""
    files = files_of("example")
    mutate(files)
    return sorted(p for (r, p), n in findings_for(files, "example", profile).items() for _ in range(n) if r == rule)


def defs(f: Files) -> dict[str, Any]:
    value: dict[str, Any] = f.definition["definitions"]
    return value


def counts(mutate: Callable[[Files], None]) -> dict[str, int]:
    files = files_of("example")
    mutate(files)
    package = package_of(files, _base("example"))
    return {root.pointer: count for root, count in schema_counts(Context(package))}


# --------------------------------------------------------------------------- pointers


@pytest.mark.parametrize(
    ("ref", "valid"),
    [
        ("#/definitions/Pet", True),
        ("#/definitions/a~1b~0c", True),
        ("#/definitions/My%20Pet", True),
        ("#", True),
        ("pet.json#/Pet", True),  # another document: a valid URI, not a local pointer
        ("#definitions/Pet", False),
        ("#/definitions/P~et", False),
        ("#/definitions/P~2et", False),
        ("#/definitions/50%", False),
        ("#/definitions/%zz", False),
    ],
)
def test_pointer_syntax(ref: str, valid: bool) -> None:
    assert pointer_is_valid(ref) is valid


def test_percent_encoded_reference_resolves() -> None:
    def mutate(f: Files) -> None:
        defs(f)["My Pet"] = {"type": "object"}
        op(f, "/pets", "post")["responses"]["201"]["schema"] = {"$ref": "#/definitions/My%20Pet"}

    assert fired("SchemaReferenceNotFound", mutate) == []
    assert fired("JsonPointerNotValid", mutate) == []


def test_reference_into_a_definition_is_valid() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "post")["responses"]["201"]["schema"] = {"$ref": "#/definitions/Pet/properties/name"}

    assert fired("SchemaReferenceNotFound", mutate) == []
    assert fired("SchemaReferenceNotValid", mutate) == []


def test_a_malformed_reference_gives_one_finding() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "post")["responses"]["201"]["schema"] = {"$ref": "#definitions/Pet"}

    assert fired("JsonPointerNotValid", mutate) == ["/paths/~1pets/post/responses/201/schema/$ref"]
    assert fired("SchemaReferenceNotValid", mutate) == []
    assert fired("SchemaReferenceNotFound", mutate) == []


def test_shared_response_reference_resolves() -> None:
    def mutate(f: Files) -> None:
        f.definition["responses"] = {"NotFound": {"description": "No such pet."}}
        op(f, "/pets/{petId}", "delete")["responses"]["404"] = {"$ref": "#/responses/NotFound"}

    assert fired("ResponseReferenceNotFound", mutate) == []
    assert fired("ResponseReferenceNotValid", mutate) == []


def test_message_names_the_reference() -> None:
    rule = REGISTRY.get("SchemaReferenceNotFound")
    assert rule is not None
    assert rule.format(("#/definitions/Pets",)) == (
        "The schema reference '#/definitions/Pets' could not be found in the swagger document."
    )


# --------------------------------------------------------------------------- responses


def test_extension_and_shared_response_names_are_not_status_codes() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets/{petId}", "delete")["responses"]["x-note"] = {"description": "An extension."}
        f.definition["responses"] = {"NotFound": {"description": "No such pet."}}

    assert fired("ResponseMustBeDefaultOrHttpStatusCode", mutate) == []


@pytest.mark.parametrize("code", ["20", "2000", "099", "default "])
def test_malformed_status_codes_fire(code: str) -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets/{petId}", "delete")["responses"][code] = {"description": "Odd."}

    assert len(fired("ResponseMustBeDefaultOrHttpStatusCode", mutate)) == 1


def test_default_response_schema_through_a_reference() -> None:
    def mutate(f: Files) -> None:
        f.definition["responses"] = {"Error": {"description": "An error.", "schema": {"type": "object"}}}
        op(f, "/pets/{petId}", "delete")["responses"]["default"] = {"$ref": "#/responses/Error"}

    assert fired("DefaultResponseHasSchema", mutate) == [f"{PID}/delete/responses/default"]


def test_default_response_without_schema_is_fine() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets/{petId}", "delete")["responses"]["default"] = {"description": "An error."}

    assert fired("DefaultResponseHasSchema", mutate) == []


def test_distinct_headers_are_fine() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets/{petId}", "get")["responses"]["200"]["headers"] = {
            "X-Rate-Limit": {"type": "integer"},
            "X-Rate-Remaining": {"type": "integer"},
        }

    assert fired("ResponseHeadersAreNotUnique", mutate) == []


@pytest.mark.parametrize(
    ("produces", "example", "expected"),
    [
        (["application/json; charset=utf-8"], "application/json", 0),
        (["*/*"], "text/plain", 0),
        (["text/*"], "text/csv", 0),
        (["text/*"], "application/json", 1),
        (None, "application/json", 0),  # no produces anywhere: the JSON default
        (None, "text/plain", 1),
    ],
)
def test_examples_against_produces(produces: list[str] | None, example: str, expected: int) -> None:
    def mutate(f: Files) -> None:
        del f.definition["produces"]
        get = op(f, "/pets/{petId}", "get")
        if produces is not None:
            get["produces"] = produces
        get["responses"]["200"]["examples"] = {example: {}}

    assert len(fired("ResponseExampleMustBeProducedByOperation", mutate)) == expected


def test_operation_produces_wins_over_the_document() -> None:
    def mutate(f: Files) -> None:
        get = op(f, "/pets/{petId}", "get")
        get["produces"] = ["application/xml"]
        get["responses"]["200"]["examples"] = {"application/json": {}}

    assert fired("ResponseExampleMustBeProducedByOperation", mutate) == [
        f"{PID}/get/responses/200/examples/application~1json"
    ]


# --------------------------------------------------------------------------- triggers


def _webhook(f: Files, content: dict[str, Any] | None) -> None:
    item: dict[str, Any] = {
        "post": {
            "operationId": "OnPetAdded",
            "x-ms-trigger": "single",
            "parameters": [
                {
                    "name": "body",
                    "in": "body",
                    "required": True,
                    "schema": {
                        "type": "object",
                        "required": ["url"],
                        "properties": {
                            "url": {"type": "string", "x-ms-notification-url": True, "x-ms-visibility": "internal"}
                        },
                    },
                }
            ],
            "responses": {"201": {"description": "Subscribed."}},
        }
    }
    if content is not None:
        item["x-ms-notification-content"] = content
    f.definition["paths"]["/hooks"] = item


def test_webhook_with_notification_schema_is_fine() -> None:
    def mutate(f: Files) -> None:
        _webhook(f, {"description": "A pet.", "schema": {"$ref": "#/definitions/Pet"}})

    assert fired("SchemaDefinitionSetIncorrectly", mutate) == []


def test_webhook_notification_without_schema_fires() -> None:
    def mutate(f: Files) -> None:
        _webhook(f, {"description": "A pet."})

    assert fired("SchemaDefinitionSetIncorrectly", mutate) == ["/paths/~1hooks/post"]


def test_webhook_without_notification_content_is_left_to_the_webhook_rule() -> None:
    assert fired("SchemaDefinitionSetIncorrectly", lambda f: _webhook(f, None)) == []


def test_trigger_schema_through_a_shared_response() -> None:
    def mutate(f: Files) -> None:
        f.definition["responses"] = {"Pets": {"description": "Pets.", "schema": {"type": "array", "items": {}}}}
        op(f, "/pets/arrivals", "get")["responses"] = {"200": {"$ref": "#/responses/Pets"}}

    assert fired("SchemaDefinitionSetIncorrectly", mutate) == []


def test_actions_need_no_output_schema() -> None:
    def mutate(f: Files) -> None:
        del op(f, "/pets/{petId}", "get")["responses"]["200"]["schema"]

    assert fired("SchemaDefinitionSetIncorrectly", mutate) == []


# --------------------------------------------------------------------------- schemas


def test_file_at_the_response_root_is_fine() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets/{petId}", "get")["responses"]["200"]["schema"] = {"type": "file"}

    assert fired("SchemaTypeFileNotValid", mutate) == []


def test_file_definition_used_as_a_response_is_fine_but_not_as_a_property() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Photo"] = {"type": "file"}
        op(f, "/pets/{petId}", "get")["responses"]["200"]["schema"] = {"$ref": "#/definitions/Photo"}
        defs(f)["Pet"]["properties"]["photo"] = {"$ref": "#/definitions/Photo"}

    assert fired("SchemaTypeFileNotValid", mutate) == ["/definitions/Pet/properties/photo/$ref"]


def test_file_as_request_body_fires() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "post")["parameters"][0]["schema"] = {"type": "file"}

    assert fired("SchemaTypeFileNotValid", mutate) == ["/paths/~1pets/post/parameters/0/schema/type"]


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object", "additionalProperties": True}, 0),
        ({"type": "object", "additionalProperties": {"type": "string"}}, 0),
        ({"type": "object", "additionalProperties": False}, 1),
        ({"type": "object"}, 1),
        ({"type": "array", "items": {"type": "string"}}, 1),
    ],
)
def test_dictionary_editor(schema: dict[str, Any], expected: int) -> None:
    def mutate(f: Files) -> None:
        defs(f)["Pet"]["properties"]["labels"] = {**schema, "x-ms-editor": "dictionary"}

    assert len(fired("InvalidCustomEditorExtensionDictionaryValue", mutate)) == expected


# --------------------------------------------------------------------------- required loops


def _pair(link_a: dict[str, Any], required_a: bool) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        defs(f)["A"] = {"type": "object", "properties": {"b": link_a}, "required": ["b"] if required_a else []}
        defs(f)["B"] = {"type": "object", "properties": {"a": {"$ref": "#/definitions/A"}}, "required": ["a"]}

    return mutate


def test_required_loop_through_non_empty_array() -> None:
    link = {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/B"}}
    assert fired("RequiredLoopInSchemaNotAllowed", _pair(link, True)) == ["/definitions/A"]


def test_required_array_may_be_empty() -> None:
    link = {"type": "array", "items": {"$ref": "#/definitions/B"}}
    assert fired("RequiredLoopInSchemaNotAllowed", _pair(link, True)) == []


def test_optional_link_breaks_the_loop() -> None:
    assert fired("RequiredLoopInSchemaNotAllowed", _pair({"$ref": "#/definitions/B"}, False)) == []


def test_required_loop_through_all_of_and_inline_object() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Base"] = {
            "type": "object",
            "required": ["meta"],
            "properties": {
                "meta": {
                    "type": "object",
                    "required": ["owner"],
                    "properties": {"owner": {"$ref": "#/definitions/Dog"}},
                }
            },
        }
        defs(f)["Dog"] = {"allOf": [{"$ref": "#/definitions/Base"}]}

    assert fired("RequiredLoopInSchemaNotAllowed", mutate) == ["/definitions/Base"]


def test_required_self_reference() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Node"] = {
            "type": "object",
            "required": ["next"],
            "properties": {"next": {"$ref": "#/definitions/Node"}},
        }

    assert fired("RequiredLoopInSchemaNotAllowed", mutate) == ["/definitions/Node"]


def test_optional_recursion_is_fine() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Node"] = {"type": "object", "properties": {"next": {"$ref": "#/definitions/Node"}}}

    assert fired("RequiredLoopInSchemaNotAllowed", mutate) == []


# --------------------------------------------------------------------------- schema counts


def test_counts_expand_references() -> None:
    result = counts(lambda f: None)
    pet = result["/definitions/Pet"]
    assert pet == 5  # the object and its four properties
    assert result["/paths/~1pets/get/responses/200/schema"] == 1 + pet
    assert result["/paths/~1pets/post/responses/201/schema"] == pet


def test_recursive_definition_counts_itself_once() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Tree"] = {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/definitions/Tree"}},
            },
        }

    # the object, name, children, and the recursive reference counted once
    assert counts(mutate)["/definitions/Tree"] == 4


def test_mutually_recursive_definitions_terminate() -> None:
    def mutate(f: Files) -> None:
        defs(f)["A"] = {"type": "object", "properties": {"b": {"$ref": "#/definitions/B"}}}
        defs(f)["B"] = {"type": "object", "properties": {"a": {"$ref": "#/definitions/A"}}}

    result = counts(mutate)
    assert result["/definitions/A"] == 3
    assert fired("BodySchemaCountExceedsMaxAllowed", mutate) == []


def test_large_inline_body_is_reported_where_it_is_written() -> None:
    def mutate(f: Files) -> None:
        properties = {f"p{i}": {"type": "string"} for i in range(600)}
        op(f, "/pets/{petId}", "get")["responses"]["200"]["schema"] = {"type": "object", "properties": properties}

    assert fired("BodySchemaCountExceedsMaxAllowed", mutate) == [f"{PID}/get/responses/200/schema"]


def test_body_made_large_by_references() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Wide"] = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(300)}}
        op(f, "/pets/{petId}", "get")["responses"]["200"]["schema"] = {
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/Wide"}, "b": {"$ref": "#/definitions/Wide"}},
        }

    assert fired("BodySchemaCountExceedsMaxAllowed", mutate) == [f"{PID}/get/responses/200/schema"]


def test_exponential_references_are_counted_without_expanding_them() -> None:
    def mutate(f: Files) -> None:
        defs(f)["L0"] = {"type": "string"}
        for level in range(1, 40):
            below = {"$ref": f"#/definitions/L{level - 1}"}
            defs(f)[f"L{level}"] = {"type": "object", "properties": {"a": below, "b": below}}

    result = counts(mutate)
    assert result["/definitions/L39"] == 2**40 - 1
    assert fired("TotalSchemaCountExceedsMaxAllowed", mutate) == [""]
