"""Seeded defects for the structural rules (Swagger 2.0 object model, Properties section)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.lint.harness import Files, Seed, op

from connectorkit.lint.registry import Profile

P = "/paths/~1pets"
PID = "/paths/~1pets~1{petId}"
STATUS = f"{P}/get/parameters/1"  # the inline "status" query parameter of ListPets
# A small independent-publisher connector that is clean for certification.
IBAN = "independent-publisher-connectors/Abstract IBAN Validator"
IBAN_PARAMETER = "/paths/~1v1~1/get/parameters/0"


def _set(*path: str | int, value: Any) -> Callable[[Files], None]:
    """Set (or, with ``value=None``, delete) the value at ``path`` in the definition."""

    def mutate(f: Files) -> None:
        node: Any = f.definition
        for token in path[:-1]:
            node = node[token]
        if value is None:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate


def _status(key: str, value: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        op(f, "/pets", "get")["parameters"][1][key] = value

    return mutate


def _misspelled_key(f: Files) -> None:
    op(f, "/pets", "get")["descripton"] = "Lists the pets in the shop."


def _keyword_too_deep(f: Files) -> None:
    f.definition["paths"]["/pets"]["securityDefinitions"] = {}


def _annotated_ref(f: Files) -> None:
    op(f, "/pets", "get")["parameters"][0] = {"$ref": "#/parameters/limit", "description": "How many."}


def _annotated_schema_ref(f: Files) -> None:
    f.definition["definitions"]["Pet"]["properties"]["parent"] = {
        "$ref": "#/definitions/NewPet",
        "x-ms-summary": "Parent",
    }


def _body_type(f: Files) -> None:
    op(f, "/pets", "post")["parameters"][0]["type"] = "object"


def _tags(f: Files) -> None:
    f.definition["tags"] = [{"name": "pets"}, {"name": "pets", "description": "Pets of the shop."}]


def _dynamic_values_without_source(f: Files) -> None:
    op(f, "/pets", "get")["parameters"][1]["x-ms-dynamic-values"] = {"value-path": "status"}


def _dynamic_list_without_operation(f: Files) -> None:
    op(f, "/pets", "get")["parameters"][1]["x-ms-dynamic-list"] = {"itemValuePath": "status"}


def _iban_parameter(key: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        del f.definition["paths"]["/v1/"]["get"]["parameters"][0][key]

    return mutate


def _iban_internal_parameter(f: Files) -> None:
    """An internal parameter needs no title or help text, and neither does a body."""
    parameters = f.definition["paths"]["/v1/"]["get"]["parameters"]
    parameters.append({"name": "format", "in": "query", "type": "string", "default": "json",
                       "required": True, "x-ms-visibility": "internal"})  # fmt: skip
    parameters.append({"name": "lang", "in": "query", "type": "string"})


SEEDS = [
    Seed("ExtensionNameNotValid", _misspelled_key, (f"{P}/get/descripton",)),
    Seed("ExtensionNameNotValid", _keyword_too_deep, (f"{P}/securityDefinitions",), note="keyword-misplaced"),
    Seed("ExtensionNameNotValid", _status("title", "Status"), (f"{STATUS}/title",), note="schema-keyword"),
    Seed("AdditionalPropertyNotAllowed", _status("x-ms-visibilty", "advanced"), (f"{STATUS}/x-ms-visibilty",)),
    Seed(
        "AdditionalPropertyNotAllowed",
        _set("info", "x-ms-url-encoding", value="double"),
        ("/info/x-ms-url-encoding",),
        note="wrong-position",
    ),
    Seed("AdditionalPropertyNotAllowedAdjacentToRef", _annotated_ref, (f"{P}/get/parameters/0",)),
    Seed(
        "AdditionalPropertyNotAllowedAdjacentToRef",
        _annotated_schema_ref,
        ("/definitions/Pet/properties/parent",),
        note="schema",
    ),
    Seed("JsonTypeIncorrect", _status("required", "true"), (f"{STATUS}/required",)),
    Seed("JsonTypeIncorrect", _set("info", "version", value=1), ("/info/version",), note="number"),
    Seed(
        "JsonTypeIncorrect",
        _set("paths", "/pets", "get", "parameters", value={}),
        (f"{P}/get/parameters",),
        note="list",
    ),
    Seed("JsonValueNotInEnum", _status("x-ms-visibility", "hidden"), (f"{STATUS}/x-ms-visibility",)),
    Seed(
        "JsonValueNotInEnum",
        _set("definitions", "Pet", "properties", "id", "type", value="int"),
        ("/definitions/Pet/properties/id/type",),
        note="schema-type",
    ),
    Seed(
        "RequiredPropertyMissing",
        _set("paths", "/pets/{petId}", "delete", "responses", "204", "description", value=None),
        (f"{PID}/delete/responses/204",),
    ),
    Seed("RequiredPropertyMissing", _set("info", "version", value=None), ("/info",), note="info-version"),
    Seed(
        "RequiredPropertyMissing", _dynamic_list_without_operation, (f"{STATUS}/x-ms-dynamic-list",), note="extension"
    ),
    Seed(
        "RequiredPropertyMissing",
        _iban_parameter("x-ms-summary"),
        (IBAN_PARAMETER,),
        base=IBAN,
        profile=Profile.CERTIFIED,
        note="certification-summary",
    ),
    Seed(
        "RequiredPropertyMissing",
        _iban_parameter("description"),
        (IBAN_PARAMETER,),
        base=IBAN,
        profile=Profile.INDEPENDENT_PUBLISHER,
        note="certification-description",
    ),
    Seed(
        "RequiredPropertyMissing",
        _iban_internal_parameter,
        ("/paths/~1v1~1/get/parameters/2",) * 2,
        base=IBAN,
        profile=Profile.CERTIFIED,
        note="certification-internal-exempt",
    ),
    Seed(
        "RequiredPropertyMissing",
        _set("info", "contact", value=None),
        ("/info",),
        base=IBAN,
        profile=Profile.CERTIFIED,
        note="certification-contact",
    ),
    Seed("SpecificationVersionIncorrect", _set("swagger", value="3.0"), ("/swagger",)),
    Seed("SpecificationVersionIncorrect", _set("swagger", value=2.0), ("/swagger",), note="number"),
    Seed("OneOfPropertiesRequired", _dynamic_values_without_source, (f"{STATUS}/x-ms-dynamic-values",)),
    Seed("BodyParameterPropertyNotValid", _body_type, (f"{P}/post/parameters/0/type",)),
    Seed(
        "SecuritySchemePropertyNotValid",
        _set("securityDefinitions", "api_key", "flow", value="implicit"),
        ("/securityDefinitions/api_key/flow",),
    ),
    Seed(
        "SecuritySchemePropertyRequired",
        _set("securityDefinitions", "api_key", "in", value=None),
        ("/securityDefinitions/api_key",),
    ),
    Seed("SchemeNotValid", _set("schemes", value=["https", "ftp"]), ("/schemes/1",)),
    Seed("BasePathNotValid", _set("basePath", value="v1"), ("/basePath",)),
    Seed("HostNameNotValid", _set("host", value="https://petstore.example.com"), ("/host",)),
    Seed("HostNameNotValid", _set("host", value="petstore.example.com/v1"), ("/host",), note="path"),
    Seed("UrlNotValid", _set("info", "contact", "url", value="petstore.example.com/support"), ("/info/contact/url",)),
    Seed(
        "ContactEmailNotValid",
        _set("info", "contact", "email", value="api at petstore.example.com"),
        ("/info/contact/email",),
    ),
    Seed(
        "MimeTypeNotValid",
        _set("paths", "/pets", "get", "produces", value=["application/json", "json"]),
        (f"{P}/get/produces/1",),
    ),
    Seed("TagRedefined", _tags, ("/tags/1/name",)),
]
