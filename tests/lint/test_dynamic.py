"""Edge cases of the dynamic-call rules: where calls come from, how names and paths resolve."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.lint.harness import Files, _base, files_of, op, package_of

from connectorkit.definition.documents import parse_document
from connectorkit.definition.package import DEFINITION
from connectorkit.lint.engine import Context, active_rules, lint_package
from connectorkit.lint.registry import Profile
from connectorkit.lint.rules import dynamic

PET_ID = "/paths/~1pets~1{petId}/parameters/0"


def findings(rule: str, mutate: Callable[[Files], None]) -> list[tuple[str, str]]:
    """(pointer, message) of ``rule``'s findings on the mutated example."""
    files = files_of("example")
    mutate(files)
    package = package_of(files, _base("example"))
    found = lint_package(package, active_rules(Profile.CUSTOM, select=(rule,)), Profile.CUSTOM)
    return sorted((f.pointer or "", f.message) for f in found if f.rule == rule)


def pointers(rule: str, mutate: Callable[[Files], None]) -> list[str]:
    return [pointer for pointer, _ in findings(rule, mutate)]


def _pet_id(f: Files) -> dict[str, Any]:
    param: dict[str, Any] = f.definition["paths"]["/pets/{petId}"]["parameters"][0]
    return param


def _dropdown(**values: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        _pet_id(f)["x-ms-dynamic-values"] = {
            "operationId": "ListPets",
            "value-path": "id",
            "value-title": "name",
        } | values

    return mutate


# --------------------------------------------------------------------------- operationId references


def test_operation_ids_are_checked_wherever_an_extension_names_one() -> None:
    def mutate(f: Files) -> None:
        f.definition["x-ms-capabilities"] = {"testConnection": {"operationId": "Ping"}}
        trigger = op(f, "/pets/arrivals", "get")
        trigger["x-ms-notification"] = {"operationId": "Subscribe"}
        trigger["x-ms-operation-context"] = {"simulate": {"operationId": "ListPets"}}
        op(f, "/pets", "get")["x-ms-operation-context"] = {"simulate": {"operationId": "Simulate"}}
        _pet_id(f)["x-ms-dynamic-tree"] = {
            "settings": {"canSelectParentNodes": True},
            "open": {"operationId": "ListPets", "itemValuePath": "id", "itemTitlePath": "name"},
            "browse": {"operationId": "Browse", "itemValuePath": "id", "itemTitlePath": "name"},
        }

    assert pointers("OperationIdNotFound", mutate) == sorted(
        [
            "/x-ms-capabilities/testConnection/operationId",
            "/paths/~1pets~1arrivals/get/x-ms-notification/operationId",
            "/paths/~1pets/get/x-ms-operation-context/simulate/operationId",
            f"{PET_ID}/x-ms-dynamic-tree/browse/operationId",
        ]
    )


def test_replacement_is_only_checked_within_this_connector() -> None:
    def replaced_by(api: str) -> Callable[[Files], None]:
        def mutate(f: Files) -> None:
            get = op(f, "/pets", "get")
            get["deprecated"] = True
            get["x-ms-api-annotation"] = {"replacement": {"api": api, "operationId": "ListPetsV2"}}

        return mutate

    here = "/paths/~1pets/get/x-ms-api-annotation/replacement/operationId"
    assert pointers("OperationIdNotFound", replaced_by("petstore")) == [here]
    assert pointers("OperationIdNotFound", replaced_by("office365")) == []


def test_dynamic_values_without_an_operation_are_not_an_unknown_operation() -> None:
    mutate = _dropdown(operationId=None)

    def builtin(f: Files) -> None:
        mutate(f)
        values = _pet_id(f)["x-ms-dynamic-values"]
        del values["operationId"]
        values["builtInOperation"] = "AadGraph.GetUsers"

    assert pointers("OperationIdNotFound", builtin) == []


# --------------------------------------------------------------------------- parameters of the call


def test_missing_required_parameters_are_named_one_by_one() -> None:
    def mutate(f: Files) -> None:
        get = op(f, "/pets", "get")
        get["parameters"][1]["required"] = True
        get["parameters"].append({"name": "shop", "in": "header", "type": "string", "required": True})
        get["parameters"].append({"name": "v", "in": "query", "type": "string", "required": True, "default": "1"})
        _dropdown()(f)

    found = findings("OperationMissingRequiredProperty", mutate)
    assert found == [
        (f"{PET_ID}/x-ms-dynamic-values", "The target operation requires parameter 'shop'."),
        (f"{PET_ID}/x-ms-dynamic-values", "The target operation requires parameter 'status'."),
    ]


def test_legacy_keys_may_name_a_body_property_of_the_target() -> None:
    def mutate(f: Files) -> None:
        f.definition["definitions"]["Pet"]["x-ms-dynamic-schema"] = {
            "operationId": "CreatePet",
            "parameters": {"name": "rex"},
        }

    assert pointers("OperationParameterNameNotFound", mutate) == []
    assert pointers("OperationMissingRequiredProperty", mutate) == []


def test_new_style_keys_need_the_body_parameter_in_the_path() -> None:
    def key(name: str) -> Callable[[Files], None]:
        def mutate(f: Files) -> None:
            _pet_id(f)["x-ms-dynamic-list"] = {
                "operationId": "CreatePet",
                "parameters": {name: {"value": "rex"}},
            }

        return mutate

    assert pointers("OperationParameterNameNotFound", key("body/name")) == []
    assert pointers("OperationParameterNameNotFound", key("name")) == [f"{PET_ID}/x-ms-dynamic-list/parameters/name"]


def test_static_values_are_compared_by_json_type() -> None:
    def limit(value: Any) -> Callable[[Files], None]:
        return _dropdown(parameters={"limit": value})

    assert pointers("OperationParameterStaticTypeMismatch", limit(5)) == []
    assert pointers("OperationParameterStaticTypeMismatch", limit(5.0)) == []
    assert pointers("OperationParameterStaticTypeMismatch", limit(None)) == []
    assert findings("OperationParameterStaticTypeMismatch", limit(True)) == [
        (
            f"{PET_ID}/x-ms-dynamic-values/parameters/limit",
            "The parameter has type 'integer', but a static value is provided of type 'boolean'.",
        )
    ]


def test_a_shared_definition_is_resolved_in_every_operation_using_it() -> None:
    """NewPet is the body of CreatePet and, after the mutation, of UpdatePet too; only UpdatePet
    has a ``shop`` parameter, so the reference fails in CreatePet (reported once, by name)."""

    def mutate(f: Files) -> None:
        f.definition["paths"]["/pets/{petId}"]["put"] = {
            "operationId": "UpdatePet",
            "parameters": [
                {"name": "shop", "in": "query", "type": "string"},
                {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/NewPet"}},
            ],
            "responses": {"200": {"description": "Done."}},
        }
        f.definition["definitions"]["NewPet"]["properties"]["tag"]["x-ms-dynamic-values"] = {
            "operationId": "ListPets",
            "value-path": "tag",
            "value-title": "tag",
            "parameters": {"status": {"parameter": "shop"}},
        }

    found = findings("OperationParameterNameNotFound", mutate)
    assert found == [
        (
            "/definitions/NewPet/properties/tag/x-ms-dynamic-values/parameters/status",
            "The parameter could not be found in operation 'CreatePet' in the swagger document.",
        )
    ]


def test_references_in_unused_definitions_and_in_outputs_are_not_resolved() -> None:
    def mutate(f: Files) -> None:
        f.definition["definitions"]["Unused"] = {
            "type": "object",
            "properties": {"a": {"type": "string", "x-ms-dynamic-values": {
                "operationId": "ListPets", "value-path": "id", "parameters": {"status": {"parameter": "nope"}}}}},
        }  # fmt: skip
        f.definition["definitions"]["Pet"]["properties"]["tag"]["x-ms-dynamic-values"] = {
            "operationId": "ListPets",
            "value-path": "tag",
            "parameters": {"status": {"parameter": "nope"}},
        }

    assert pointers("OperationParameterNameNotFound", mutate) == []


def test_a_dynamic_schema_on_a_response_reads_the_operations_inputs() -> None:
    def reference(name: str) -> Callable[[Files], None]:
        def mutate(f: Files) -> None:
            response = op(f, "/pets/{petId}", "get")["responses"]["200"]
            response["schema"] = {
                "type": "object",
                "x-ms-dynamic-schema": {"operationId": "ListPets", "parameters": {"status": {"parameter": name}}},
            }

        return mutate

    where = "/paths/~1pets~1{petId}/get/responses/200/schema/x-ms-dynamic-schema/parameters/status"
    assert pointers("OperationParameterNameNotFound", reference("petId")) == []
    assert pointers("OperationParameterNameNotFound", reference("kind")) == [where]
    assert findings("OperationParameterTypeMismatch", reference("petId")) == [
        (where, "The parameter has type 'string', but operation 'GetPet' is providing a parameter of type 'integer'.")
    ]


def test_source_visibility_is_inherited_from_the_body() -> None:
    def mutate(f: Files) -> None:
        post = op(f, "/pets", "post")
        post["parameters"][0]["x-ms-visibility"] = "internal"
        f.definition["definitions"]["NewPet"]["properties"]["tag"]["x-ms-dynamic-list"] = {
            "operationId": "ListPets",
            "itemValuePath": "tag",
            "parameters": {"status": {"parameterReference": "body/name"}},
        }

    assert findings("SourcePropertyInternal", mutate) == [
        (
            "/definitions/NewPet/properties/tag/x-ms-dynamic-list/parameters/status",
            "The parameter reference 'body/name' in the source operation 'CreatePet' is internal or one of its "
            "parent(s) are internal. Either make the property visible or update the parameter reference to a "
            "static value.",
        )
    ]


def test_selected_item_value_path_belongs_to_tree_browse_only() -> None:
    def tree(part: str) -> Callable[[Files], None]:
        def mutate(f: Files) -> None:
            call = {
                "operationId": "ListPets",
                "itemValuePath": "id",
                "itemTitlePath": "name",
                "parameters": {"status": {"selectedItemValuePath": "status"}},
            }
            plain = {"operationId": "ListPets", "itemValuePath": "id", "itemTitlePath": "name"}
            _pet_id(f)["x-ms-dynamic-tree"] = {
                "settings": {"canSelectParentNodes": True, "canSelectLeafNodes": True},
                "open": call if part == "open" else plain,
                "browse": call if part == "browse" else plain,
            }

        return mutate

    assert pointers("SelectedItemValuePathNotAllowedInThisPosition", tree("browse")) == []
    assert pointers("SelectedItemValuePathNotAllowedInThisPosition", tree("open")) == [
        f"{PET_ID}/x-ms-dynamic-tree/open/parameters/status"
    ]


# --------------------------------------------------------------------------- the invoked operation's response


def test_response_paths_follow_refs_allof_and_ignore_case() -> None:
    def mutate(f: Files) -> None:
        definitions = f.definition["definitions"]
        definitions["Page"] = {
            "allOf": [{"$ref": "#/definitions/Paged"}],
            "properties": {"Value": {"type": "array", "items": {"$ref": "#/definitions/Pet"}}},
        }
        definitions["Paged"] = {"type": "object", "properties": {"next": {"$ref": "#/definitions/Page"}}}
        op(f, "/pets", "get")["responses"]["200"]["schema"] = {"$ref": "#/definitions/Page"}
        _dropdown(**{"value-collection": "next/next/value", "value-title": "NAME"})(f)

    assert pointers("InvokedOperationShouldProduceArray", mutate) == []
    assert pointers("InvokedOperationShouldProduceProperty", mutate) == []


def test_recursive_schemas_terminate() -> None:
    def mutate(f: Files) -> None:
        pet = f.definition["definitions"]["Pet"]
        pet["properties"]["parent"] = {"$ref": "#/definitions/Pet"}
        pet["allOf"] = [{"$ref": "#/definitions/Pet"}]
        _dropdown(**{"value-path": "parent/parent/parent/id", "value-title": "parent/nickname"})(f)

    assert pointers("InvokedOperationShouldProduceProperty", mutate) == [f"{PET_ID}/x-ms-dynamic-values/value-title"]


def test_open_or_missing_response_schemas_are_not_judged() -> None:
    def open_schema(f: Files) -> None:
        op(f, "/pets", "get")["responses"]["200"]["schema"] = {"type": "object"}
        _dropdown(**{"value-collection": "value"})(f)

    def no_schema(f: Files) -> None:
        del op(f, "/pets", "get")["responses"]["200"]["schema"]
        _dropdown(**{"value-collection": "value"})(f)

    for mutate in (open_schema, no_schema):
        assert pointers("InvokedOperationShouldProduceArray", mutate) == []
        assert pointers("InvokedOperationShouldProduceProperty", mutate) == []


def test_a_collection_that_is_not_an_array() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "get")["responses"]["200"]["schema"] = {
            "type": "object",
            "properties": {"value": {"type": "string"}},
        }
        _dropdown(**{"value-collection": "value"})(f)

    assert findings("InvokedOperationShouldProduceArray", mutate) == [
        (
            f"{PET_ID}/x-ms-dynamic-values/value-collection",
            "The dynamic operation expects an array on the specified path 'value' which should be defined in the "
            "successful response of the invoked operation 'ListPets'.",
        )
    ]


# --------------------------------------------------------------------------- schema-local rules


def test_item_value_path_is_value_path_without_properties() -> None:
    def paths(value_path: str | None, item_value_path: str | None) -> Callable[[Files], None]:
        def mutate(f: Files) -> None:
            new_pet = f.definition["definitions"]["NewPet"]
            legacy: dict[str, Any] = {"operationId": "ListPets"}
            newer: dict[str, Any] = {"operationId": "ListPets"}
            if value_path is not None:
                legacy["value-path"] = value_path
            if item_value_path is not None:
                newer["itemValuePath"] = item_value_path
            new_pet["x-ms-dynamic-schema"] = legacy
            new_pet["x-ms-dynamic-properties"] = newer

        return mutate

    rule = "DynamicPropertiesItemValuePathMismatch"
    assert pointers(rule, paths("schema/properties", "schema")) == []
    assert pointers(rule, paths("schema", "schema")) == []
    assert pointers(rule, paths("properties", None)) == []
    assert pointers(rule, paths(None, None)) == []
    assert findings(rule, paths("schema/properties", None)) == [
        (
            "/definitions/NewPet/x-ms-dynamic-properties",
            "The 'x-ms-dynamic-properties' extension should have the same item value path as 'x-ms-dynamic-schema' "
            "extension without 'properties' ending. The expected path is 'schema'.",
        )
    ]


def test_dynamic_extensions_on_non_body_parameters_are_fine() -> None:
    assert pointers("DynamicExtensionDefinitionNotAllowedInParameter", _dropdown()) == []


# --------------------------------------------------------------------------- the text shortcut


def _context(text: str) -> Context:
    base = files_of("example")
    base.raw_definition = text.encode()
    package = package_of(base, _base("example"))
    return Context(package)


def test_definitions_without_dynamic_extensions_are_not_walked() -> None:
    files = files_of("example")
    plain = json.dumps(files.definition)
    assert not dynamic._may_hold_dynamic(_context(plain))
    assert dynamic._walk(_context(plain)).occurrences == []
    _dropdown()(files)
    context = _context(json.dumps(files.definition))
    assert dynamic._may_hold_dynamic(context)
    assert [o.pointer for o in dynamic._walk(context).occurrences] == [f"{PET_ID}/x-ms-dynamic-values"]


def test_the_text_only_counts_while_it_is_the_source_of_the_definition() -> None:
    context = _context(json.dumps(files_of("example").definition))
    document = context.package.documents[DEFINITION]
    context.package.documents[DEFINITION] = parse_document(b"{}", DEFINITION)
    assert dynamic._may_hold_dynamic(context)
    context.package.documents[DEFINITION] = document
    assert not dynamic._may_hold_dynamic(context)
