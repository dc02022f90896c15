"""Seeded defects for the dynamic-call rules (dynamic values, lists, schemas, properties, trees).

Most seeds add one design-time call to the Petstore example and get one thing wrong:

* a dropdown on the shared ``petId`` path parameter that lists pets (``ListPets``);
* extensions on the ``NewPet`` definition, which is the body of ``CreatePet``.
"""

from __future__ import annotations

from typing import Any

from tests.lint.harness import Files, Seed, op

PET_ID = "/paths/~1pets~1{petId}/parameters/0"
NEW_PET = "/definitions/NewPet"
TAG = f"{NEW_PET}/properties/tag"
DOCUSIGN = "certified-connectors/DocuSign"


def _pet_id(f: Files) -> dict[str, Any]:
    param: dict[str, Any] = f.definition["paths"]["/pets/{petId}"]["parameters"][0]
    return param


def _new_pet(f: Files) -> dict[str, Any]:
    schema: dict[str, Any] = f.definition["definitions"]["NewPet"]
    return schema


def _tag(f: Files) -> dict[str, Any]:
    schema: dict[str, Any] = _new_pet(f)["properties"]["tag"]
    return schema


def _pet_dropdown(**changes: Any) -> Any:
    """Give ``petId`` a list of pets to pick from, with ``changes`` to the extension."""

    def mutate(f: Files) -> None:
        values: dict[str, Any] = {"operationId": "ListPets", "value-path": "id", "value-title": "name"}
        values.update(changes)
        _pet_id(f)["x-ms-dynamic-values"] = values

    return mutate


def _query_name(f: Files) -> None:
    """A query parameter ``name`` on CreatePet: ``name`` is now also a body property's name."""
    op(f, "/pets", "post")["parameters"].append(
        {"name": "name", "in": "query", "type": "string", "x-ms-summary": "Name", "description": "A name."}
    )


def _tag_values(reference: str, *, ambiguous: bool, with_list: bool = False) -> Any:
    """Dynamic values on the body property ``tag`` that pass ``reference`` to ListPets."""

    def mutate(f: Files) -> None:
        if ambiguous:
            _query_name(f)
        _tag(f)["x-ms-dynamic-values"] = {
            "operationId": "ListPets",
            "value-path": "tag",
            "value-title": "name",
            "parameters": {"status": {"parameter": reference}},
        }
        if with_list:
            _tag(f)["x-ms-dynamic-list"] = {
                "operationId": "ListPets",
                "itemValuePath": "tag",
                "itemTitlePath": "name",
                "parameters": {"status": {"parameterReference": f"body/{reference}"}},
            }

    return mutate


def _body_schema(reference: str, *, ambiguous: bool) -> Any:
    """A dynamic schema on NewPet, read from ListPets with ``reference`` as its status."""

    def mutate(f: Files) -> None:
        if ambiguous:
            _query_name(f)
        _new_pet(f)["x-ms-dynamic-schema"] = {
            "operationId": "ListPets",
            "parameters": {"status": {"parameter": reference}},
        }

    return mutate


def _schema_needs_pet_id(f: Files) -> None:
    _new_pet(f)["x-ms-dynamic-schema"] = {"operationId": "GetPet", "parameters": {}}


def _list_from_name(f: Files) -> None:
    _tag(f)["x-ms-dynamic-list"] = {
        "operationId": "ListPets",
        "itemValuePath": "tag",
        "itemTitlePath": "name",
        "parameters": {"limit": {"parameterReference": "body/name"}},
    }


def _properties_from_optional(f: Files) -> None:
    _new_pet(f)["properties"]["parentId"] = {"type": "integer", "x-ms-summary": "Parent", "description": "The parent."}
    _new_pet(f)["x-ms-dynamic-properties"] = {
        "operationId": "GetPet",
        "parameters": {"petId": {"parameterReference": "body/parentId"}},
    }


def _properties_from_internal(f: Files) -> None:
    _tag(f)["x-ms-visibility"] = "internal"
    _new_pet(f)["x-ms-dynamic-properties"] = {
        "operationId": "ListPets",
        "parameters": {"status": {"parameterReference": "body/tag"}},
    }


def _list_with_selected_item(f: Files) -> None:
    _pet_id(f)["x-ms-dynamic-list"] = {
        "operationId": "ListPets",
        "itemValuePath": "id",
        "itemTitlePath": "name",
        "parameters": {"status": {"selectedItemValuePath": "status"}},
    }


def _values_on_body_parameter(f: Files) -> None:
    op(f, "/pets", "post")["parameters"][0]["x-ms-dynamic-values"] = {
        "operationId": "ListPets",
        "value-path": "name",
        "value-title": "name",
    }


def _schema_of_properties(f: Files) -> None:
    _new_pet(f)["x-ms-dynamic-schema"] = {
        "operationId": "DeletePet",
        "parameters": {"petId": 1},
        "value-path": "schema/properties",
    }


def _properties_elsewhere(f: Files) -> None:
    _schema_of_properties(f)
    _new_pet(f)["x-ms-dynamic-properties"] = {
        "operationId": "DeletePet",
        "parameters": {"petId": {"value": 1}},
        "itemValuePath": "definition",
    }


def _file_picker_without_tree(f: Files) -> None:
    _pet_id(f)["x-ms-dynamic-values"] = {"capability": "file-picker", "value-path": "id", "value-title": "name"}


def _fetch_and_subscribe_differ(f: Files) -> None:
    polling = op(f, "/trigger/accounts/{accountId}/envelopes", "get")
    polling["x-ms-notification"] = {"operationId": "CreateHookEnvelope"}
    polling["parameters"][0]["x-ms-visibility"] = "advanced"


SEEDS = [
    Seed("OperationIdNotFound", _pet_dropdown(operationId="ListPetz"), (f"{PET_ID}/x-ms-dynamic-values/operationId",)),
    Seed(
        "OperationParameterNameNotFound",
        _pet_dropdown(parameters={"kind": "dog"}),
        (f"{PET_ID}/x-ms-dynamic-values/parameters/kind",),
        note="target",
    ),
    Seed(
        "OperationParameterNameNotFound",
        _pet_dropdown(parameters={"status": {"parameter": "state"}}),
        (f"{PET_ID}/x-ms-dynamic-values/parameters/status",),
        note="reference",
    ),
    Seed("OperationMissingRequiredProperty", _schema_needs_pet_id, (f"{NEW_PET}/x-ms-dynamic-schema",)),
    Seed(
        "OperationParameterStaticTypeMismatch",
        _pet_dropdown(parameters={"limit": "ten"}),
        (f"{PET_ID}/x-ms-dynamic-values/parameters/limit",),
    ),
    Seed("OperationParameterTypeMismatch", _list_from_name, (f"{TAG}/x-ms-dynamic-list/parameters/limit",)),
    Seed(
        "OperationParameterRequiredMismatch",
        _properties_from_optional,
        (f"{NEW_PET}/x-ms-dynamic-properties/parameters/petId",),
    ),
    Seed(
        "SourcePropertyInternal", _properties_from_internal, (f"{NEW_PET}/x-ms-dynamic-properties/parameters/status",)
    ),
    Seed(
        "SelectedItemValuePathNotAllowedInThisPosition",
        _list_with_selected_item,
        (f"{PET_ID}/x-ms-dynamic-list/parameters/status",),
    ),
    Seed(
        "DynamicListExtensionRequiredForAmbiguousReferences",
        _tag_values("name", ambiguous=True),
        (f"{TAG}/x-ms-dynamic-values",),
    ),
    Seed(
        "DynamicListExtensionRequiredForNonParameterReferences",
        _tag_values("name", ambiguous=False),
        (f"{TAG}/x-ms-dynamic-values",),
    ),
    Seed(
        "DynamicPropertiesExtensionRequiredForAmbiguousReferences",
        _body_schema("name", ambiguous=True),
        (f"{NEW_PET}/x-ms-dynamic-schema",),
    ),
    Seed(
        "DynamicPropertiesExtensionRequiredForNonParameterReferences",
        _body_schema("name", ambiguous=False),
        (f"{NEW_PET}/x-ms-dynamic-schema",),
    ),
    Seed(
        "OperationParameterNameIsAmbiguous",
        _tag_values("name", ambiguous=True, with_list=True),
        (f"{TAG}/x-ms-dynamic-values/parameters/status",),
    ),
    Seed(
        "InvokedOperationShouldProduceArray",
        _pet_dropdown(**{"value-collection": "value"}),
        (f"{PET_ID}/x-ms-dynamic-values/value-collection",),
    ),
    Seed(
        "InvokedOperationShouldProduceProperty",
        _pet_dropdown(**{"value-path": "identifier"}),
        (f"{PET_ID}/x-ms-dynamic-values/value-path",),
    ),
    Seed(
        "DynamicExtensionDefinitionNotAllowedInParameter",
        _values_on_body_parameter,
        ("/paths/~1pets/post/parameters/0/x-ms-dynamic-values",),
    ),
    Seed(
        "DynamicPropertiesExtensionRequiredForPropertiesValuePath",
        _schema_of_properties,
        (f"{NEW_PET}/x-ms-dynamic-schema/value-path",),
    ),
    Seed(
        "DynamicPropertiesItemValuePathMismatch",
        _properties_elsewhere,
        (f"{NEW_PET}/x-ms-dynamic-properties/itemValuePath",),
    ),
    Seed("DynamicTreeExtensionMissing", _file_picker_without_tree, (f"{PET_ID}/x-ms-dynamic-values",)),
    Seed(
        "ParamtersWithSameNameMustHaveSameTypeAndVisibility",
        _fetch_and_subscribe_differ,
        ("/paths/~1trigger~1accounts~1{accountId}~1envelopes/get/parameters/0",),
        base=DOCUSIGN,
    ),
]
