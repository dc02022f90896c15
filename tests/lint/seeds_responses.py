"""Seeded defects for the Response rules (responses, schema references, schema counts)."""

from __future__ import annotations

from tests.lint.harness import Files, Seed, op

P = "/paths/~1pets"
PID = "/paths/~1pets~1{petId}"
ARRIVALS = "/paths/~1pets~1arrivals"


def _drop_body_schema(f: Files) -> None:
    del op(f, "/pets", "post")["parameters"][0]["schema"]


def _query_with_schema(f: Files) -> None:
    op(f, "/pets", "get")["parameters"][1]["schema"] = {"type": "string"}


def _default_with_schema(f: Files) -> None:
    op(f, "/pets/{petId}", "delete")["responses"]["default"] = {
        "description": "An error.",
        "schema": {"type": "object"},
    }


def _response_code(code: str):
    def mutate(f: Files) -> None:
        op(f, "/pets/{petId}", "delete")["responses"][code] = {"description": "Done."}

    return mutate


def _response_ref(ref: str):
    def mutate(f: Files) -> None:
        op(f, "/pets/{petId}", "delete")["responses"]["404"] = {"$ref": ref}

    return mutate


def _schema_ref(ref: str):
    def mutate(f: Files) -> None:
        op(f, "/pets", "post")["responses"]["201"]["schema"] = {"$ref": ref}

    return mutate


def _alias_definition(f: Files) -> None:
    f.definition["definitions"]["Animal"] = {"$ref": "#/definitions/Pet"}


def _alias_loop(f: Files) -> None:
    f.definition["definitions"]["Animal"] = {"$ref": "#/definitions/Creature"}
    f.definition["definitions"]["Creature"] = {"$ref": "#/definitions/Animal"}


def _required_loop(f: Files) -> None:
    f.definition["definitions"]["Owner"] = {
        "type": "object",
        "required": ["pet"],
        "properties": {"pet": {"$ref": "#/definitions/Pet"}},
    }
    pet = f.definition["definitions"]["Pet"]
    pet["required"] = ["owner"]
    pet["properties"]["owner"] = {"$ref": "#/definitions/Owner"}


def _nested_file(f: Files) -> None:
    f.definition["definitions"]["Pet"]["properties"]["photo"] = {"type": "file"}


def _dictionary_editor(f: Files) -> None:
    f.definition["definitions"]["Pet"]["properties"]["tag"]["x-ms-editor"] = "dictionary"


def _duplicate_headers(f: Files) -> None:
    op(f, "/pets/{petId}", "get")["responses"]["200"]["headers"] = {
        "X-Rate-Limit": {"type": "integer"},
        "x-rate-limit": {"type": "integer"},
    }


def _xml_example(f: Files) -> None:
    op(f, "/pets/{petId}", "get")["responses"]["200"]["examples"] = {"application/xml": "<pet/>"}


def _trigger_without_schema(f: Files) -> None:
    del op(f, "/pets/arrivals", "get")["responses"]["200"]["schema"]


def _websocket(f: Files) -> None:
    f.definition["schemes"].append("wss")


def _wide_body(f: Files) -> None:
    properties = f.definition["definitions"]["NewPet"]["properties"]
    for index in range(520):
        properties[f"extra{index}"] = {"type": "string"}


def _many_schemas(f: Files) -> None:
    # 5 operations allow 5 x 16,384 schemas. Each "Wide" definition counts 511 schemas once its
    # two references are expanded (under the 512 per body), and 170 of them exceed the total.
    definitions = f.definition["definitions"]
    definitions["Base"] = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(254)}}
    for index in range(170):
        definitions[f"Wide{index}"] = {
            "type": "object",
            "properties": {"a": {"$ref": "#/definitions/Base"}, "b": {"$ref": "#/definitions/Base"}},
        }


SEEDS = [
    Seed("BodyParameterSchemaRequired", _drop_body_schema, (f"{P}/post/parameters/0",)),
    Seed("NonBodyParameterSchemaNotValid", _query_with_schema, (f"{P}/get/parameters/1/schema",)),
    Seed("DefaultResponseHasSchema", _default_with_schema, (f"{PID}/delete/responses/default",)),
    Seed("ResponseMustBeDefaultOrHttpStatusCode", _response_code("2XX"), (f"{PID}/delete/responses/2XX",)),
    Seed(
        "ResponseMustBeDefaultOrHttpStatusCode",
        _response_code("600"),
        (f"{PID}/delete/responses/600",),
        note="out-of-range",
    ),
    Seed("ResponseReferenceNotFound", _response_ref("#/responses/NotFound"), (f"{PID}/delete/responses/404/$ref",)),
    Seed("ResponseReferenceNotValid", _response_ref("#/definitions/Pet"), (f"{PID}/delete/responses/404/$ref",)),
    Seed(
        "ResponseReferenceNotValid",
        _response_ref("#responses/NotFound"),
        (f"{PID}/delete/responses/404/$ref",),
        note="malformed-pointer",
    ),
    Seed("SchemaReferenceNotFound", _schema_ref("#/definitions/Pets"), (f"{P}/post/responses/201/schema/$ref",)),
    Seed("SchemaReferenceNotValid", _schema_ref("#/parameters/limit"), (f"{P}/post/responses/201/schema/$ref",)),
    Seed(
        "SchemaReferenceNotValid",
        _schema_ref("pet.json#/Pet"),
        (f"{P}/post/responses/201/schema/$ref",),
        note="external",
    ),
    Seed("JsonPointerNotValid", _schema_ref("#definitions/Pet"), (f"{P}/post/responses/201/schema/$ref",)),
    Seed(
        "JsonPointerNotValid",
        _schema_ref("#/definitions/P~et"),
        (f"{P}/post/responses/201/schema/$ref",),
        note="bad-escape",
    ),
    Seed("SchemaRefLoopNotAllowed", _alias_definition, ("/definitions/Animal",)),
    Seed(
        "SchemaRefLoopNotAllowed",
        _alias_loop,
        ("/definitions/Animal", "/definitions/Creature"),
        note="loop",
    ),
    Seed("RequiredLoopInSchemaNotAllowed", _required_loop, ("/definitions/Pet",)),
    Seed("SchemaTypeFileNotValid", _nested_file, ("/definitions/Pet/properties/photo/type",)),
    Seed(
        "InvalidCustomEditorExtensionDictionaryValue",
        _dictionary_editor,
        ("/definitions/Pet/properties/tag/x-ms-editor",),
    ),
    Seed("ResponseHeadersAreNotUnique", _duplicate_headers, (f"{PID}/get/responses/200/headers/x-rate-limit",)),
    Seed(
        "ResponseExampleMustBeProducedByOperation",
        _xml_example,
        (f"{PID}/get/responses/200/examples/application~1xml",),
    ),
    Seed("SchemaDefinitionSetIncorrectly", _trigger_without_schema, (f"{ARRIVALS}/get",)),
    Seed("SchemeNotSupported", _websocket, ("/schemes/1",)),
    Seed("BodySchemaCountExceedsMaxAllowed", _wide_body, ("/definitions/NewPet",)),
    Seed("TotalSchemaCountExceedsMaxAllowed", _many_schemas, ("",)),
]
