"""Dynamic schemas and properties (runtime-semantics.md section 5.2): where they are declared,
which lookup is called with which inputs, and what is reported when a lookup fails."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.runtime.dynamic import dynamic_choices, dynamic_schemas

DEFINITION: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Tables", "version": "1.0"},
    "host": "api.example.com",
    "basePath": "/",
    "schemes": ["https"],
    "paths": {
        "/tables/{table}/schema": {
            "get": {
                "operationId": "GetSchema",
                "parameters": [{"name": "table", "in": "path", "required": True, "type": "string"}],
                "responses": {"200": {"description": "ok", "schema": {"type": "object"}}},
            }
        },
        "/tables/{table}/rows": {
            "post": {
                "operationId": "AddRow",
                "parameters": [
                    {"name": "table", "in": "path", "required": True, "type": "string"},
                    {
                        "name": "body",
                        "in": "body",
                        "schema": {
                            "type": "object",
                            "properties": {
                                "meta": {"$ref": "#/definitions/Meta"},
                                "row": {
                                    "type": "object",
                                    "x-ms-dynamic-properties": {
                                        "operationId": "GetSchema",
                                        "itemValuePath": "schema",
                                        "parameters": {"table": {"parameterReference": "table"}},
                                    },
                                },
                            },
                        },
                    },
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "schema": {
                            "x-ms-dynamic-schema": {
                                "operationId": "GetSchema",
                                "value-path": "schema",
                                "parameters": {"table": {"parameter": "table"}},
                            }
                        },
                    }
                },
            }
        },
    },
    "definitions": {
        "Meta": {
            "type": "object",
            "x-ms-dynamic-schema": {
                "operationId": "GetSchema",
                "parameters": {"table": {"value": "meta"}},
                "value-path": "schema",
            },
        }
    },
}

SCHEMAS = {
    "orders": {"schema": {"type": "object", "properties": {"id": {"type": "integer"}, "total": {"type": "number"}}}},
    "meta": {"schema": {"type": "object", "properties": {"owner": {"type": "string"}}}},
}


def _package(definition: dict[str, Any] | None = None) -> ConnectorPackage:
    return ConnectorPackage.from_files({"apiDefinition.swagger.json": _json(definition or DEFINITION)})


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


def test_every_declared_dynamic_schema_is_fetched_with_its_inputs() -> None:
    calls: list[tuple[str, dict[str, Any]]] = []

    def lookup(operation: str, args: dict[str, Any]) -> Any:
        calls.append((operation, args))
        return SCHEMAS[args["table"]]

    found = {s.location: s for s in dynamic_schemas(_package(), "AddRow", {"table": "orders"}, lookup)}
    assert set(found) == {"parameter body/meta", "parameter body/row", "response 200"}
    assert found["parameter body/row"].properties == ["id", "total"]
    assert found["parameter body/meta"].properties == ["owner"]
    assert found["response 200"].schema == SCHEMAS["orders"]["schema"]
    assert ("GetSchema", {"table": "meta"}) in calls
    assert all(s.error is None for s in found.values())


def test_a_failed_lookup_is_reported_and_hides_no_other() -> None:
    def lookup(operation: str, args: dict[str, Any]) -> Any:
        if args["table"] == "meta":
            return {"nothing": True}
        return SCHEMAS["orders"]

    found = {s.location: s for s in dynamic_schemas(_package(), "AddRow", {"table": "orders"}, lookup)}
    assert found["parameter body/meta"].schema is None
    assert "answered no schema at 'schema'" in (found["parameter body/meta"].error or "")
    assert found["parameter body/row"].error is None


def test_a_missing_referenced_input_names_it() -> None:
    found = dynamic_schemas(_package(), "AddRow", {}, lambda op, args: SCHEMAS[args["table"]])
    errors = {s.location: s.error for s in found}
    assert "needs a value for 'table'" in (errors["parameter body/row"] or "")
    assert errors["parameter body/meta"] is None  # a literal input needs nothing


def test_an_operation_without_dynamic_schemas_reports_none() -> None:
    assert dynamic_schemas(_package(), "GetSchema", {"table": "x"}, lambda op, args: {}) == []


def test_references_read_into_the_body() -> None:
    definition = copy.deepcopy(DEFINITION)
    row = definition["paths"]["/tables/{table}/rows"]["post"]["parameters"][1]["schema"]["properties"]["row"]
    row["x-ms-dynamic-properties"]["parameters"] = {"table": {"parameterReference": "body/meta/owner"}}
    seen: list[dict[str, Any]] = []

    def lookup(operation: str, args: dict[str, Any]) -> Any:
        seen.append(args)
        return SCHEMAS["orders"]

    dynamic_schemas(_package(definition), "AddRow", {"table": "t", "body": {"meta": {"owner": "orders"}}}, lookup)
    assert {"table": "orders"} in seen


def test_dynamic_values_reference_into_the_body() -> None:
    definition = copy.deepcopy(DEFINITION)
    definition["paths"]["/tables/{table}/schema"]["get"]["parameters"][0]["x-ms-dynamic-list"] = {
        "operationId": "GetSchema",
        "itemsPath": "items",
        "itemValuePath": "id",
        "parameters": {"table": {"parameterReference": "body/name"}},
    }
    with pytest.raises(InputError, match="needs a value for 'body/name'"):
        dynamic_choices(_package(definition), "GetSchema", "table", {}, lambda op, args: {})
    choices = dynamic_choices(
        _package(definition), "GetSchema", "table", {"body": {"name": "x"}},
        lambda op, args: {"items": [{"id": args["table"]}]},
    )  # fmt: skip
    assert [c.value for c in choices] == ["x"]
