"""Edge cases of the structural rules (rules/structure.py): the object model and its messages."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connectorkit.lint.rules.structure import (
    SPECS,
    analyse,
    email_is_valid,
    json_type,
    mime_type_is_valid,
    url_is_valid,
)


def _doc() -> dict[str, Any]:
    """A small, structurally clean definition to mutate."""
    return copy.deepcopy(
        {
            "swagger": "2.0",
            "info": {"title": "Shop", "version": "1.0", "contact": {"email": "help@shop.example.com"}},
            "host": "api.shop.example.com",
            "basePath": "/",
            "schemes": ["https"],
            "paths": {
                "/items/{id}": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "type": "string",
                         "x-ms-summary": "Item ID", "description": "The item."},
                    ],
                    "get": {
                        "operationId": "GetItem",
                        "parameters": [
                            {"name": "fields", "in": "query", "type": "string",
                             "x-ms-summary": "Fields", "description": "Fields to return."},
                        ],
                        "responses": {"200": {"description": "The item.", "schema": {"$ref": "#/definitions/Item"}}},
                    },
                    "post": {
                        "operationId": "UpdateItem",
                        "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Item"}}],
                        "responses": {"200": {"description": "Done."}},
                    },
                }
            },
            "definitions": {"Item": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "securityDefinitions": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
            "x-ms-connector-metadata": [
                {"propertyName": "Website", "propertyValue": "https://shop.example.com"},
                {"propertyName": "Privacy policy", "propertyValue": "https://shop.example.com/privacy"},
                {"propertyName": "Categories", "propertyValue": "Commerce"},
            ],
        }
    )  # fmt: skip


def found(doc: dict[str, Any], rule: str, certification: bool = False) -> list[tuple[str, tuple[Any, ...]]]:
    return [(h.pointer, h.args) for h in analyse(doc, certification).of(rule)]


def messages(doc: dict[str, Any], rule: str) -> list[str | None]:
    return [h.message for h in analyse(doc).of(rule)]


OP = "/paths/~1items~1{id}/get"


def get(doc: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = doc["paths"]["/items/{id}"]["get"]
    return value


# --------------------------------------------------------------------------- the clean base


def test_clean_document_has_no_problems() -> None:
    assert analyse(_doc(), certification=True).hits == {}


def test_every_spec_field_names_a_known_child() -> None:
    for spec in SPECS.values():
        for name, field in spec.fields.items():
            if field.child is not None:
                assert field.child in SPECS or field.child in {
                    "paths", "path-item", "operation", "responses", "parameter", "security-scheme",
                    "security-requirement", "connector-metadata",
                }, (spec.name, name)  # fmt: skip


# --------------------------------------------------------------------------- unknown keys


def test_misspelled_keyword_suggests_the_keyword() -> None:
    doc = _doc()
    get(doc)["Description"] = "Reads an item."
    assert found(doc, "ExtensionNameNotValid") == [(f"{OP}/Description", ("Description",))]
    assert messages(doc, "ExtensionNameNotValid") == [
        "The property 'Description' is not valid. If this property is an extension, its name must begin with "
        "\"x-\". Did you mean 'description'?"
    ]


def test_plain_vendor_extensions_are_free() -> None:
    doc = _doc()
    get(doc)["x-internal-note"] = {"anything": [1, 2]}
    doc["info"]["x-logo"] = "logo.png"
    assert analyse(doc).hits == {}


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("x-ms-visibilty", "x-ms-visibility"),
        ("x-ms-summmary", "x-ms-summary"),
        ("x-ms-summary title", "x-ms-summary"),
        ("x-ms-summary:", "x-ms-summary"),
        ("x-ms-enum-value", "x-ms-enum-values"),
        ("x-ms-api-annotations", "x-ms-api-annotation"),
    ],
)
def test_misspelled_extension_suggests_the_extension(key: str, suggestion: str) -> None:
    doc = _doc()
    doc["definitions"]["Item"]["properties"]["name"][key] = "Name"
    pointer = f"/definitions/Item/properties/name/{key.replace('~', '~0').replace('/', '~1')}"
    assert found(doc, "AdditionalPropertyNotAllowed") == [(pointer, (key,))]
    assert messages(doc, "AdditionalPropertyNotAllowed") == [
        f"The property '{key}' is not allowed and must be removed. Did you mean '{suggestion}'?"
    ]


def test_known_extension_in_the_wrong_place_has_no_suggestion() -> None:
    doc = _doc()
    get(doc)["parameters"][0]["x-ms-url-encoding"] = "double"  # query: allowed (QueryParameterEncodingNotSupported)
    doc["paths"]["/items/{id}"]["post"]["parameters"][0]["x-ms-url-encoding"] = "single"  # body: not read
    assert found(doc, "AdditionalPropertyNotAllowed") == [
        ("/paths/~1items~1{id}/post/parameters/0/x-ms-url-encoding", ("x-ms-url-encoding",))
    ]
    assert messages(doc, "AdditionalPropertyNotAllowed") == [None]


def test_extensions_newer_than_the_2020_schema_are_allowed() -> None:
    doc = _doc()
    doc["x-ms-openai-manifest"] = {"humanName": "Shop"}
    doc["info"]["x-ms-keywords"] = ["shop", "items"]
    doc["info"]["x-ms-openai-published-to-copilots"] = {"AICopilot-enabled": True}
    get(doc)["x-ms-openai-data"] = {"openai-enabled": True}
    get(doc)["x-ms-require-user-confirmation"] = True
    doc["definitions"]["Item"]["x-ms-editor"] = "dictionary"
    doc["definitions"]["Item"]["properties"]["name"]["x-ms-capabilities"] = {"filterFunctions": ["eq"]}
    assert analyse(doc).hits == {}


def test_keys_other_rules_report_are_left_to_them() -> None:
    doc = _doc()
    doc["definitions"]["Item"]["anyOf"] = [{"type": "object"}]  # SwaggerKeywordNotSupported
    get(doc)["parameters"][0]["schema"] = {"type": "string"}  # NonBodyParameterSchemaNotValid
    doc["paths"]["/items/{id}"]["$ref"] = "#/x"  # PathItemRefNotSuppored
    get(doc)["responses"]["2XX"] = {"description": "Any success."}  # ResponseMustBeDefaultOrHttpStatusCode
    get(doc)["parameters"].append({"name": "f", "in": "query", "type": "file"})  # FileParameterMustBeInFormData
    body = doc["paths"]["/items/{id}"]["post"]["parameters"][0]
    body["x-ms-dynamic-schema"] = {"operationId": "GetItem"}  # DynamicExtensionDefinitionNotAllowedInParameter
    body["uniqueItems"] = True  # SwaggerKeywordNotSupported
    assert analyse(doc).hits == {}


def test_body_parameter_keywords_of_other_parameters() -> None:
    doc = _doc()
    body = doc["paths"]["/items/{id}"]["post"]["parameters"][0]
    body.update({"type": "object", "enum": ["a"], "allowEmptyValue": True})
    assert sorted(p for p, _ in found(doc, "BodyParameterPropertyNotValid")) == [
        "/paths/~1items~1{id}/post/parameters/0/enum",
        "/paths/~1items~1{id}/post/parameters/0/type",
    ]
    assert found(doc, "ExtensionNameNotValid") == []


# --------------------------------------------------------------------------- types and values


def test_types() -> None:
    doc = _doc()
    param = get(doc)["parameters"][0]
    param.update({"required": "true", "maxLength": True, "minLength": 2.0, "maximum": 10})
    assert found(doc, "JsonTypeIncorrect") == [
        (f"{OP}/parameters/0/required", ("boolean", "string")),
        (f"{OP}/parameters/0/maxLength", ("integer", "boolean")),
    ]


def test_objects_written_as_something_else() -> None:
    doc = _doc()
    doc["info"]["contact"] = "help@shop.example.com"
    get(doc)["parameters"] = [{"name": "a", "in": "query", "type": "string"}, "b"]
    assert found(doc, "JsonTypeIncorrect") == [
        ("/info/contact", ("object", "string")),
        (f"{OP}/parameters/1", ("object", "string")),
    ]


def test_enums() -> None:
    doc = _doc()
    param = get(doc)["parameters"][0]
    param.update({"x-ms-visibility": "Advanced", "type": "int"})
    doc["definitions"]["Item"]["properties"]["name"]["x-ms-visibility"] = ""
    doc["definitions"]["Item"]["properties"]["tags"] = {"type": ["array", "nothing"], "items": {"type": "string"}}
    assert found(doc, "JsonValueNotInEnum") == [
        (f"{OP}/parameters/0/type", ("string, number, integer, boolean, array",)),
        ("/definitions/Item/properties/tags/type/1", ("array, boolean, integer, null, number, object, string, file",)),
    ]


def test_unknown_parameter_location() -> None:
    doc = _doc()
    get(doc)["parameters"][0]["in"] = "cookie"
    assert found(doc, "JsonValueNotInEnum") == [(f"{OP}/parameters/0/in", ("body, query, header, path, formData",))]


def test_json_type_names() -> None:
    assert [json_type(v) for v in ("a", True, 1, 1.0, 1.5, [], {}, None)] == [
        "string", "boolean", "integer", "integer", "number", "array", "object", "null",
    ]  # fmt: skip


# --------------------------------------------------------------------------- required keys


def test_structural_required_keys() -> None:
    doc = _doc()
    del doc["info"]["title"]
    del get(doc)["responses"]["200"]["description"]
    get(doc)["parameters"].append({"name": "page", "in": "query"})
    assert found(doc, "RequiredPropertyMissing") == [
        ("/info", ("title",)),
        (f"{OP}/parameters/1", ("type",)),
        (f"{OP}/responses/200", ("description",)),
    ]


def test_extension_objects() -> None:
    doc = _doc()
    param = get(doc)["parameters"][0]
    param["x-ms-dynamic-values"] = {"builtInOperation": "AadGraph.GetUsers"}
    doc["definitions"]["Item"]["x-ms-dynamic-schema"] = {"parameters": {}}
    assert found(doc, "OneOfPropertiesRequired") == []
    assert found(doc, "RequiredPropertyMissing") == [("/definitions/Item/x-ms-dynamic-schema", ("operationId",))]
    param["x-ms-dynamic-values"] = {"value-collection": "value"}
    assert found(doc, "OneOfPropertiesRequired") == [
        (f"{OP}/parameters/0/x-ms-dynamic-values", ("operationId, builtInOperation, capability",))
    ]


def test_certification_strings_apply_to_inputs_users_see() -> None:
    doc = _doc()
    item = doc["paths"]["/items/{id}"]
    del item["parameters"][0]["x-ms-summary"]  # path level: shared by a visible operation
    del get(doc)["parameters"][0]["description"]
    item["delete"] = {
        "operationId": "DeleteItem",
        "x-ms-visibility": "internal",
        "parameters": [{"name": "force", "in": "query", "type": "boolean"}],
        "responses": {"204": {"description": "Deleted."}},
    }
    get(doc)["parameters"].append({"name": "trace", "in": "header", "type": "string", "x-ms-visibility": "internal"})
    assert found(doc, "RequiredPropertyMissing") == []
    assert found(doc, "RequiredPropertyMissing", certification=True) == [
        ("/paths/~1items~1{id}/parameters/0", ("x-ms-summary",)),
        (f"{OP}/parameters/0", ("description",)),
    ]


def test_certification_document_keys() -> None:
    doc = _doc()
    del doc["info"]["contact"]
    del doc["x-ms-connector-metadata"]
    assert found(doc, "RequiredPropertyMissing") == []
    assert found(doc, "RequiredPropertyMissing", certification=True) == [
        ("/info", ("contact",)),
        ("", ("x-ms-connector-metadata",)),
    ]


def test_connector_metadata_keys_are_read_without_case() -> None:
    doc = _doc()
    doc["x-ms-connector-metadata"] = [{"PropertyName": "Website", "PropertyValue": "shop.example.com"}]
    assert found(doc, "RequiredPropertyMissing", certification=True) == []
    assert found(doc, "UrlNotValid", certification=True) == [("/x-ms-connector-metadata/0/PropertyValue", ())]
    assert found(doc, "UrlNotValid") == []


# --------------------------------------------------------------------------- security schemes


@pytest.mark.parametrize(
    ("scheme", "rule", "expected"),
    [
        ({"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://login.example.com/a"},
         "SecuritySchemePropertyRequired", [("/securityDefinitions/s", ("tokenUrl", "oauth2"))]),
        ({"type": "oauth2", "authorizationUrl": "https://login.example.com/a"},
         "SecuritySchemePropertyRequired", [("/securityDefinitions/s", ("flow", "oauth2"))]),
        ({"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://login.example.com/a",
          "tokenUrl": "https://login.example.com/t"},
         "SecuritySchemePropertyNotValid", [("/securityDefinitions/s/tokenUrl", ("tokenUrl", "oauth2"))]),
        ({"type": "oauth2", "flow": "code", "authorizationUrl": "https://login.example.com/a"},
         "JsonValueNotInEnum", [("/securityDefinitions/s/flow", ("implicit, password, application, accessCode",))]),
        ({"type": "basic", "name": "user"}, "SecuritySchemePropertyNotValid",
         [("/securityDefinitions/s/name", ("name", "basic"))]),
        ({"type": "token"}, "JsonValueNotInEnum", [("/securityDefinitions/s/type", ("basic, apiKey, oauth2",))]),
        ({"in": "header", "name": "X-Key"}, "RequiredPropertyMissing", [("/securityDefinitions/s", ("type",))]),
        ({"type": "oauth2", "flow": "password", "tokenUrl": "/token"}, "UrlNotValid",
         [("/securityDefinitions/s/tokenUrl", ())]),
    ],
)  # fmt: skip
def test_security_schemes(scheme: dict[str, Any], rule: str, expected: list[Any]) -> None:
    doc = _doc()
    doc["securityDefinitions"] = {"s": scheme}
    assert found(doc, rule) == expected


def test_url_message_names_the_key() -> None:
    doc = _doc()
    doc["securityDefinitions"] = {"s": {"type": "oauth2", "flow": "password", "tokenUrl": "/token"}}
    assert messages(doc, "UrlNotValid") == ["The 'tokenUrl' property must be a valid absolute URL."]


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("https://contoso.com/support", True),
        ("http://localhost:8080", True),
        ("mailto:support@contoso.com", True),
        ("contoso.com", False),
        ("Www.contoso.com", False),
        ("https://", False),
        ("https://contoso.com/a b", False),
        ("https://contoso.com:port", False),
    ],
)
def test_url_is_valid(value: str, valid: bool) -> None:
    assert url_is_valid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("support@contoso.com", True),
        ("first.last+tag@sub.contoso.co.uk", True),
        ("support@contoso", False),
        ("support at contoso.com", False),
        ("süpport@contoso.com", False),
        ("support@@contoso.com", False),
    ],
)
def test_email_is_valid(value: str, valid: bool) -> None:
    assert email_is_valid(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("application/json", True),
        ("text/plain; charset=utf-8", True),
        ("application/vnd.api+json", True),
        ("*/*", True),
        ("image/*", True),
        ("json", False),
        ("application/json, text/plain", False),
        ("application /json", False),
    ],
)
def test_mime_type_is_valid(value: str, valid: bool) -> None:
    assert mime_type_is_valid(value) is valid


def test_host_base_path_schemes_and_tags() -> None:
    doc = _doc()
    doc.update(
        host="api.shop.example.com:8443",
        basePath="api",
        schemes=["https", "wss", "HTTP"],
        tags=[{"name": "a"}, {"name": "b"}, {"name": "a"}],
    )
    assert found(doc, "HostNameNotValid") == []
    assert found(doc, "BasePathNotValid") == [("/basePath", ())]
    assert found(doc, "SchemeNotValid") == [("/schemes/2", ("http, https",))]  # wss: SchemeNotSupported
    assert found(doc, "TagRedefined") == [("/tags/2/name", ("a",))]
    doc["host"] = "{tenant}.shop.example.com"
    assert found(doc, "HostNameNotValid") == [("/host", ())]


def test_references_with_siblings() -> None:
    doc = _doc()
    get(doc)["responses"]["200"]["schema"]["description"] = "The item."
    get(doc)["responses"]["404"] = {"$ref": "#/responses/NotFound", "description": "Missing."}
    assert found(doc, "AdditionalPropertyNotAllowedAdjacentToRef") == [
        (f"{OP}/responses/200/schema", ()),
        (f"{OP}/responses/404", ()),
    ]
    # the siblings of a reference are not checked further
    assert found(doc, "RequiredPropertyMissing") == []


def test_extension_values_ignore_case_but_only_visibility_may_be_empty() -> None:
    doc = _doc()
    get(doc)["x-ms-trigger"] = "Single"
    get(doc)["x-ms-visibility"] = ""
    doc["paths"]["/items/{id}"]["post"]["x-ms-trigger"] = ""
    assert found(doc, "JsonValueNotInEnum") == [("/paths/~1items~1{id}/post/x-ms-trigger", ("batch, single",))]
