"""Bundling multi-file API descriptions into one document with only local $refs."""

from __future__ import annotations

import json
import re
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from connectorkit.authoring import bundle as bundle_module
from connectorkit.authoring.bundle import bundle
from connectorkit.authoring.report import Kind, Report
from connectorkit.authoring.source import read_spec
from connectorkit.definition.documents import parse_document
from connectorkit.definition.jsontext import decode, unescape_pointer_token
from connectorkit.errors import InputError, SourceError

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"
needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason=f"shared test specs not found at {SPECS}")
DIGITALOCEAN = SPECS / "digitalocean__openapi" / "specification" / "DigitalOcean-public.v2.yaml"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
EXAMPLE_SWAGGER = Path(__file__).resolve().parents[1] / "examples" / "petstore" / "swagger.json"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def run(path: Path | str, client: httpx.Client | None = None) -> tuple[dict[str, Any], Report]:
    report = Report()
    spec = read_spec(str(path), client=client)
    return bundle(spec, report, client=client), report


def refs(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("$ref"), str):
                found.append(item["$ref"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def at(document: Any, ref: str) -> Any:
    """The node a local $ref names, by plain traversal (no $ref followed on the way)."""
    assert ref.startswith("#"), ref
    node = document
    for token in ref[2:].split("/") if ref != "#" else []:
        token = unescape_pointer_token(token)
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def all_local_refs_resolve(document: Any) -> None:
    for ref in refs(document):
        at(document, ref)


OPENAPI_HEAD = """
openapi: 3.0.3
info: {title: t, version: "1"}
"""


def oas(body: str) -> str:
    """An OpenAPI 3.0 document: the usual head, then ``body`` (indented as the test writes it)."""
    return OPENAPI_HEAD.lstrip() + textwrap.dedent(body).lstrip()


# --------------------------------------------------------------------------- real trees


@needs_specs
def test_digitalocean_tree_bundles_fast_with_only_local_refs() -> None:
    start = time.perf_counter()
    document, report = run(DIGITALOCEAN)
    elapsed = time.perf_counter() - start
    assert elapsed < 15, f"bundling took {elapsed:.1f}s"
    found = refs(document)
    assert found and all(ref.startswith("#/") for ref in found)
    all_local_refs_resolve(document)
    operations = sum(1 for item in document["paths"].values() for method in item if method in METHODS)
    assert operations == 659
    # tag descriptions and code samples behind $ref were inlined
    assert isinstance(document["tags"][0]["description"], str)
    assert document["tags"][0]["description"].startswith("The DigitalOcean API")
    keys = document["paths"]["/v2/account/keys"]["get"]
    assert keys["operationId"] == "sshKeys_list"
    assert all("lang" in sample for sample in keys["x-codeSamples"])
    # responses, parameters and headers shared by many operations are written once
    assert keys["parameters"][0] == {"$ref": "#/components/parameters/per_page"}
    components = document["components"]
    assert components["parameters"]["per_page"]["name"] == "per_page"
    assert keys["responses"]["401"] == {"$ref": "#/components/responses/unauthorized"}
    assert components["responses"]["unauthorized"]["headers"]["ratelimit-limit"] == {
        "$ref": "#/components/headers/ratelimit-limit"
    }
    # an operation's own response, used once, stays in place
    assert keys["responses"]["200"]["description"].startswith("A JSON object with the key set to `ssh_keys`")
    assert set(components["headers"]) >= {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"}
    schemas = components["schemas"]
    assert "droplet" in schemas and "error" in schemas
    # one summary note, no item per file
    notes = report.of(Kind.NOTE)
    assert len(notes) == 1
    assert re.search(r"Bundled 2849 other files", notes[0].message)


@needs_specs
@pytest.mark.parametrize(
    "name",
    [
        "OAI__learn.openapis.org/examples/v3.0/petstore-expanded.yaml",
        "OAI__learn.openapis.org/examples/v3.0/uspto.json",
        "OAI__learn.openapis.org/examples/v3.1/tictactoe.yaml",
        "box__box-openapi/openapi/openapi-v2025.0.json",
        "discord__discord-api-spec/specs/openapi.json",
    ],
)
def test_single_file_specs_come_back_unchanged(name: str) -> None:
    spec = read_spec(str(SPECS / name))
    report = Report()
    document = bundle(spec, report)
    assert document == spec.value
    assert document is not spec.value
    assert report.items == []


def test_single_file_swagger_comes_back_unchanged() -> None:
    spec = read_spec(str(EXAMPLE_SWAGGER))
    report = Report()
    assert bundle(spec, report) == spec.value
    assert report.items == []


@needs_specs
def test_postman_collection_is_returned_as_it_is() -> None:
    spec = read_spec(str(SPECS / "postmanlabs__postman-collection-transformer/examples/v2.0.0/box.json"))
    assert bundle(spec, Report()) is spec.value


# --------------------------------------------------------------------------- file trees


def test_relative_refs_climb_up_and_fragments_name_parts_of_other_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "spec/openapi.yaml": oas("""
            paths:
              /pets:
                get:
                  $ref: resources/pets/pets_list.yml
            """),
            "spec/resources/pets/pets_list.yml": """
            operationId: pets_list
            parameters:
              - $ref: '../../shared/parameters.yml#/limit'
            responses:
              '200':
                $ref: responses/pets_all.yml
              default:
                $ref: '../../shared/responses/error.yml'
            """,
            "spec/resources/pets/responses/pets_all.yml": """
            description: All pets.
            content:
              application/json:
                schema:
                  type: array
                  items:
                    $ref: '../models/pet.yml'
            """,
            "spec/resources/pets/models/pet.yml": """
            type: object
            properties:
              id: {$ref: '../../../shared/attributes.yml#/id'}
              name: {type: string}
            """,
            "spec/shared/parameters.yml": """
            limit:
              name: limit
              in: query
              schema: {type: integer}
            """,
            "spec/shared/responses/error.yml": """
            description: Unexpected error.
            content:
              application/json:
                schema:
                  $ref: '../models/error.yml#/error'
            """,
            "spec/shared/models/error.yml": """
            error:
              type: object
              properties:
                message: {type: string}
            """,
            "spec/shared/attributes.yml": """
            id: {type: integer, format: int64}
            """,
        },
    )
    document, report = run(tmp_path / "spec" / "openapi.yaml")
    get = document["paths"]["/pets"]["get"]
    assert get["operationId"] == "pets_list"
    assert get["parameters"] == [{"name": "limit", "in": "query", "schema": {"type": "integer"}}]
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/pet"
    }
    assert get["responses"]["default"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/error"
    }
    schemas = document["components"]["schemas"]
    assert schemas["pet"]["properties"]["id"] == {"$ref": "#/components/schemas/id"}
    assert schemas["id"] == {"type": "integer", "format": "int64"}
    assert schemas["error"]["properties"]["message"] == {"type": "string"}
    assert all(ref.startswith("#/") for ref in refs(document))
    all_local_refs_resolve(document)
    (note,) = report.items
    assert note.kind is Kind.NOTE
    assert "7 other files" in note.message and "3 schemas" in note.message


def test_same_target_is_hoisted_once_and_inlined_copies_are_independent(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                post:
                  requestBody: {$ref: 'common.yaml#/body'}
                  responses:
                    '200': {$ref: 'common.yaml#/ok'}
              /b:
                post:
                  requestBody: {$ref: './common.yaml#/body'}
                  responses:
                    '200': {$ref: './common.yaml#/ok'}
            """),
            "common.yaml": """
            ok:
              description: OK
              content:
                application/json:
                  schema: {$ref: 'thing.yaml'}
            body:
              content:
                application/json:
                  schema: {$ref: 'thing.yaml'}
            """,
            "thing.yaml": "type: object\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    first = document["paths"]["/a"]["post"]
    second = document["paths"]["/b"]["post"]
    # a request body is copied in place; the copies share nothing
    assert first["requestBody"] == second["requestBody"]
    assert first["requestBody"] is not second["requestBody"]
    assert first["requestBody"]["content"] is not second["requestBody"]["content"]
    # a response is hoisted once
    assert first["responses"]["200"] == second["responses"]["200"] == {"$ref": "#/components/responses/ok"}
    assert document["components"]["responses"] == {
        "ok": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/thing"}}}}
    }
    assert list(document["components"]["schemas"]) == ["thing"]


def test_recursive_external_schema_becomes_a_self_referring_component(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /tree:
                get:
                  responses:
                    '200':
                      description: a tree
                      content:
                        application/json:
                          schema: {$ref: 'models/node.yaml'}
            """),
            "models/node.yaml": """
            type: object
            properties:
              value: {type: string}
              children:
                type: array
                items: {$ref: 'node.yaml'}
              parent: {$ref: '#'}
              sibling: {$ref: 'other.yaml#/Other'}
            """,
            "models/other.yaml": """
            Other:
              type: object
              properties:
                back: {$ref: 'node.yaml'}
                self: {$ref: '#/Other'}
            """,
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    schemas = document["components"]["schemas"]
    assert set(schemas) == {"node", "Other"}
    node = schemas["node"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/components/schemas/node"}
    assert node["properties"]["parent"] == {"$ref": "#/components/schemas/node"}
    assert node["properties"]["sibling"] == {"$ref": "#/components/schemas/Other"}
    assert schemas["Other"]["properties"] == {
        "back": {"$ref": "#/components/schemas/node"},
        "self": {"$ref": "#/components/schemas/Other"},
    }


def test_cycle_of_inlined_refs_is_an_input_error_naming_the_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                $ref: 'a.yaml'
            """),
            "a.yaml": """
            get:
              $ref: 'b.yaml#/op'
            """,
            "b.yaml": """
            op:
              description: loops
              x-more:
                $ref: 'a.yaml'
            """,
        },
    )
    with pytest.raises(InputError) as caught:
        run(tmp_path / "openapi.yaml")
    message = str(caught.value)
    assert "cyclic $ref" in message
    assert re.search(r"b\.yaml:4:\d+: cyclic \$ref: .*a\.yaml -> .*b\.yaml#/op -> .*a\.yaml$", message), message
    assert "\n" not in message


def test_cycle_of_schemas_that_are_only_references_is_an_input_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  responses:
                    '200':
                      description: x
                      content:
                        application/json:
                          schema: {$ref: 'a.yaml'}
            """),
            "a.yaml": "$ref: 'b.yaml'\n",
            "b.yaml": "$ref: 'a.yaml'\n",
        },
    )
    with pytest.raises(InputError, match=r"cyclic \$ref: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        run(tmp_path / "openapi.yaml")


def test_missing_file_is_an_input_error_with_file_line_and_column(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  $ref: 'ops/get.yaml'
            """),
            "ops/get.yaml": """
            responses:
              '200':
                $ref: '../responses/missing.yaml'
            """,
        },
    )
    with pytest.raises(InputError) as caught:
        run(tmp_path / "openapi.yaml")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'ops' / 'get.yaml'}:3:11: cannot resolve $ref '../responses/missing.yaml'")
    assert message.endswith(f"{tmp_path / 'responses' / 'missing.yaml'}: file not found")


def test_missing_fragment_is_an_input_error_with_file_line_and_column(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  parameters:
                    - $ref: 'params.yaml#/limit'
                    - $ref: 'params.yaml#/nope/deeper'
            """),
            "params.yaml": """
            limit: {name: limit, in: query, schema: {type: integer}}
            """,
        },
    )
    with pytest.raises(InputError) as caught:
        run(tmp_path / "openapi.yaml")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'openapi.yaml'}:8:17: cannot resolve $ref 'params.yaml#/nope/deeper'")
    assert "has no /nope/deeper" in message


def test_missing_fragment_in_json_file_is_located_in_that_file(tmp_path: Path) -> None:
    (tmp_path / "openapi.json").write_text(
        json.dumps({"openapi": "3.0.0", "info": {}, "paths": {"/a": {"$ref": "paths.json#/a"}}}, indent=2)
    )
    (tmp_path / "paths.json").write_text('{\n  "a": {\n    "get": {"$ref": "#/missing"}\n  }\n}\n')
    with pytest.raises(InputError, match=r"paths\.json:3:21: cannot resolve \$ref '#/missing'"):
        run(tmp_path / "openapi.json")


def test_broken_internal_ref_of_the_root_is_an_input_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  responses:
                    '200': {$ref: '#/components/responses/Nope'}
            """)
        },
    )
    with pytest.raises(InputError, match=r"openapi\.yaml:7:\d+: cannot resolve \$ref '#/components/responses/Nope'"):
        run(tmp_path / "openapi.yaml")


def test_syntax_error_in_a_referenced_file_names_that_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": OPENAPI_HEAD + "paths:\n  /a: {$ref: 'bad.yaml'}\n",
            "bad.yaml": "get:\n  description: [unclosed\n",
        },
    )
    with pytest.raises(SourceError) as caught:
        run(tmp_path / "openapi.yaml")
    assert caught.value.file.endswith("bad.yaml")


def test_name_collisions_get_numeric_suffixes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  responses:
                    '200':
                      description: x
                      content:
                        application/json:
                          schema:
                            oneOf:
                              - $ref: 'a/error.yaml'
                              - $ref: 'b/error.yaml'
                              - $ref: 'c/models.yaml#/error'
                              - $ref: 'a/error.yaml'
                              - $ref: '#/components/schemas/error'
            components:
              schemas:
                error: {type: string}
            """),
            "a/error.yaml": "type: object\n",
            "b/error.yaml": "type: array\n",
            "c/models.yaml": "error: {type: integer}\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    one_of = document["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"]
    assert [item["$ref"] for item in one_of] == [
        "#/components/schemas/error_2",
        "#/components/schemas/error_3",
        "#/components/schemas/error_4",
        "#/components/schemas/error_2",
        "#/components/schemas/error",
    ]
    schemas = document["components"]["schemas"]
    assert schemas == {
        "error": {"type": "string"},
        "error_2": {"type": "object"},
        "error_3": {"type": "array"},
        "error_4": {"type": "integer"},
    }


def test_names_skip_structural_pointer_tokens(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  parameters:
                    - name: job
                      in: query
                      schema: {$ref: 'parameters.yaml#/job_name/schema'}
                    - name: all
                      in: query
                      schema: {$ref: 'whole.yaml#/allOf/0'}
            """),
            "parameters.yaml": "job_name: {schema: {type: string}}\n",
            "whole.yaml": "allOf: [{type: string}]\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    assert list(document["components"]["schemas"]) == ["job_name", "whole"]


def test_root_schema_that_is_only_a_ref_keeps_its_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /pets:
                get:
                  responses:
                    '200':
                      description: x
                      content:
                        application/json:
                          schema: {$ref: 'models/pet.yaml'}
            components:
              schemas:
                First: {type: string}
                Pet:
                  $ref: 'models/pet.yaml'
                Last: {$ref: '#/components/schemas/Pet'}
            """),
            "models/pet.yaml": "type: object\nproperties:\n  name: {type: string}\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    schemas = document["components"]["schemas"]
    assert list(schemas) == ["First", "Pet", "Last"]
    assert schemas["Pet"] == {"type": "object", "properties": {"name": {"type": "string"}}}
    schema = document["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Pet"}


def test_swagger_2_hoists_into_definitions_after_paths(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "swagger.yaml": """
            swagger: '2.0'
            info: {title: t, version: '1'}
            host: example.com
            paths:
              /pets:
                get:
                  parameters:
                    - $ref: 'parameters.yaml#/limit'
                  responses:
                    '200':
                      description: ok
                      schema: {$ref: 'pet.yaml'}
                      examples:
                        application/json: {$ref: 'example.yaml'}
            securityDefinitions: {}
            """,
            "parameters.yaml": "limit: {name: limit, in: query, type: integer}\n",
            "pet.yaml": "type: object\nproperties:\n  tag: {$ref: 'tag.yaml'}\n",
            "tag.yaml": "type: string\n",
            "example.yaml": "name: Rex\n",
        },
    )
    document, _ = run(tmp_path / "swagger.yaml")
    assert list(document) == ["swagger", "info", "host", "paths", "definitions", "securityDefinitions"]
    assert document["definitions"] == {
        "pet": {"type": "object", "properties": {"tag": {"$ref": "#/definitions/tag"}}},
        "tag": {"type": "string"},
    }
    get = document["paths"]["/pets"]["get"]
    assert get["parameters"] == [{"name": "limit", "in": "query", "type": "integer"}]
    assert get["responses"]["200"]["schema"] == {"$ref": "#/definitions/pet"}
    assert get["responses"]["200"]["examples"] == {"application/json": {"name": "Rex"}}


def test_components_behind_a_ref_still_receive_hoisted_schemas(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  responses:
                    '200': {$ref: '#/components/responses/Ok'}
            components:
              $ref: 'components.yaml'
            """),
            "components.yaml": """
            responses:
              Ok:
                description: ok
                content:
                  application/json:
                    schema: {$ref: '#/schemas/Thing'}
            schemas:
              Thing:
                type: object
                properties:
                  part: {$ref: 'part.yaml'}
            """,
            "part.yaml": "type: string\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    components = document["components"]
    assert components["responses"]["Ok"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Thing"
    }
    assert components["schemas"]["Thing"]["properties"]["part"] == {"$ref": "#/components/schemas/part"}
    assert components["schemas"]["part"] == {"type": "string"}
    all_local_refs_resolve(document)


# --------------------------------------------------------------------------- shared responses, parameters, headers

SHARED_FILES = {
    "shared/responses/error.yml": """
    description: Something went wrong.
    headers:
      ratelimit-limit: {$ref: '../headers.yml#/ratelimit-limit'}
    content:
      application/json:
        schema: {$ref: '../models/error.yml'}
    """,
    "shared/headers.yml": """
    ratelimit-limit:
      description: Calls per hour.
      schema: {type: integer}
    """,
    "shared/parameters.yml": """
    per_page: {name: per_page, in: query, schema: {type: integer}}
    page: {name: page, in: query, schema: {type: integer}}
    """,
    "shared/models/error.yml": "type: object\nproperties:\n  message: {type: string}\n",
}


def test_responses_parameters_and_headers_used_twice_are_hoisted_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "spec/openapi.yaml": oas("""
            paths:
              /pets:
                parameters:
                  - $ref: 'shared/parameters.yml#/page'
                get: {$ref: 'resources/pets_list.yml'}
              /toys:
                get: {$ref: 'resources/toys_list.yml'}
            """),
            "spec/resources/pets_list.yml": """
            parameters:
              - $ref: '../shared/parameters.yml#/per_page'
            responses:
              '200':
                $ref: 'responses/pets_all.yml'
              default:
                $ref: '../shared/responses/error.yml'
            """,
            "spec/resources/toys_list.yml": """
            parameters:
              - $ref: '../shared/parameters.yml#/per_page'
              - name: colour
                in: query
                schema: {type: string}
            responses:
              '200':
                description: All toys.
                headers:
                  ratelimit-limit: {$ref: '../shared/headers.yml#/ratelimit-limit'}
              '500':
                $ref: '../shared/responses/error.yml'
            """,
            "spec/resources/responses/pets_all.yml": "description: All pets.\n",
            **{f"spec/{name}": text for name, text in SHARED_FILES.items()},
        },
    )
    document, report = run(tmp_path / "spec" / "openapi.yaml")
    pets = document["paths"]["/pets"]
    toys = document["paths"]["/toys"]["get"]
    # used twice: one component, and a local reference in each place
    assert pets["get"]["responses"]["default"] == toys["responses"]["500"] == {"$ref": "#/components/responses/error"}
    assert pets["get"]["parameters"] == [{"$ref": "#/components/parameters/per_page"}]
    assert toys["parameters"][0] == {"$ref": "#/components/parameters/per_page"}
    assert toys["parameters"][1]["name"] == "colour"
    rate = {"$ref": "#/components/headers/ratelimit-limit"}
    assert toys["responses"]["200"]["headers"] == {"ratelimit-limit": rate}
    components = document["components"]
    assert components["responses"] == {
        "error": {
            "description": "Something went wrong.",
            "headers": {"ratelimit-limit": rate},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}},
        }
    }
    assert components["parameters"] == {"per_page": {"name": "per_page", "in": "query", "schema": {"type": "integer"}}}
    assert components["headers"] == {
        "ratelimit-limit": {"description": "Calls per hour.", "schema": {"type": "integer"}}
    }
    # used once: copied back into its place
    assert pets["parameters"] == [{"name": "page", "in": "query", "schema": {"type": "integer"}}]
    assert pets["get"]["responses"]["200"] == {"description": "All pets."}
    all_local_refs_resolve(document)
    (note,) = report.items
    assert (
        "1 schema added to components/schemas, 1 response added to components/responses, "
        "1 parameter added to components/parameters, 1 header added to components/headers, "
        "4 other references copied in place" in note.message
    )


def test_a_shared_response_that_only_refers_to_another_file_counts_as_its_target(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  responses:
                    '404': {$ref: 'responses/missing.yml'}
                    default: {$ref: 'responses/error.yml'}
              /b:
                get:
                  responses:
                    default: {$ref: 'responses/error.yml'}
            components:
              responses:
                NotFound: {description: Not found.}
            """),
            "responses/missing.yml": "$ref: '../openapi.yaml#/components/responses/NotFound'\n",
            "responses/error.yml": "$ref: 'problem.yml#/Problem'\n",
            "responses/problem.yml": "Problem: {description: A problem.}\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    a = document["paths"]["/a"]["get"]["responses"]
    assert a["404"] == {"$ref": "#/components/responses/NotFound"}
    assert a["default"] == {"$ref": "#/components/responses/Problem"}
    assert document["components"]["responses"] == {
        "NotFound": {"description": "Not found."},
        "Problem": {"description": "A problem."},
    }


def test_a_cycle_of_shared_references_is_an_input_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  parameters:
                    - $ref: 'a.yml'
                  responses: {'204': {description: none}}
            """),
            "a.yml": "$ref: 'b.yml'\n",
            "b.yml": "$ref: 'a.yml'\n",
        },
    )
    with pytest.raises(InputError) as caught:
        run(tmp_path / "openapi.yaml")
    assert re.search(r"b\.yml:1:\d+: cyclic \$ref: .*a\.yml -> .*b\.yml -> .*a\.yml$", str(caught.value))


def test_root_entries_that_only_refer_to_another_file_keep_their_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get: {$ref: 'ops/a.yml'}
            components:
              parameters:
                PerPage: {$ref: 'shared/parameters.yml#/per_page'}
              responses:
                Error: {$ref: 'shared/responses/error.yml'}
              headers:
                Rate: {$ref: 'shared/headers.yml#/ratelimit-limit'}
            """),
            "ops/a.yml": """
            parameters:
              - $ref: '../shared/parameters.yml#/per_page'
            responses:
              default: {$ref: '../shared/responses/error.yml'}
            """,
            **SHARED_FILES,
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    get = document["paths"]["/a"]["get"]
    assert get["parameters"] == [{"$ref": "#/components/parameters/PerPage"}]
    assert get["responses"]["default"] == {"$ref": "#/components/responses/Error"}
    components = document["components"]
    assert components["parameters"] == {"PerPage": {"name": "per_page", "in": "query", "schema": {"type": "integer"}}}
    assert components["responses"]["Error"]["headers"] == {"ratelimit-limit": {"$ref": "#/components/headers/Rate"}}
    assert list(components["headers"]) == ["Rate"]


def test_entries_of_a_components_file_are_referred_to_by_their_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get: {$ref: 'ops.yml#/a'}
              /b:
                get: {$ref: 'ops.yml#/b'}
            components:
              $ref: 'components.yml'
            """),
            "ops.yml": """
            a:
              responses: {'200': {$ref: 'components.yml#/responses/Ok'}}
            b:
              responses: {'200': {$ref: 'components.yml#/responses/Ok'}}
            """,
            "components.yml": "responses:\n  Ok: {description: ok}\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    assert document["paths"]["/a"]["get"]["responses"]["200"] == {"$ref": "#/components/responses/Ok"}
    assert document["paths"]["/b"]["get"]["responses"]["200"] == {"$ref": "#/components/responses/Ok"}
    assert document["components"] == {"responses": {"Ok": {"description": "ok"}}}


def test_parameters_and_responses_outside_operations_are_copied_in_place(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  x-extra:
                    parameters: [{$ref: 'p.yml'}]
                    responses: {'200': {$ref: 'r.yml'}}
                  responses: {'204': {description: none}}
              /b:
                get:
                  x-extra:
                    parameters: [{$ref: 'p.yml'}]
                    responses: {'200': {$ref: 'r.yml'}}
                  responses: {'204': {description: none}}
            """),
            "p.yml": "name: q\nin: query\n",
            "r.yml": "description: ok\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    assert "components" not in document
    extra = document["paths"]["/b"]["get"]["x-extra"]
    assert extra == {"parameters": [{"name": "q", "in": "query"}], "responses": {"200": {"description": "ok"}}}


def test_swagger_2_hoists_into_root_parameters_and_responses_and_inlines_headers(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "swagger.yaml": """
            swagger: '2.0'
            info: {title: t, version: '1'}
            paths:
              /pets:
                get:
                  parameters:
                    - $ref: 'parameters.yaml#/limit'
                    - $ref: 'parameters.yaml#/filter'
                  responses:
                    '200': {$ref: 'responses.yaml#/ok'}
                    default: {$ref: 'responses.yaml#/error'}
              /toys:
                post:
                  parameters:
                    - $ref: 'parameters.yaml#/limit'
                    - $ref: 'parameters.yaml#/body'
                  responses:
                    default: {$ref: 'responses.yaml#/error'}
              /cats:
                post:
                  parameters:
                    - $ref: 'parameters.yaml#/body'
                  responses:
                    '200': {$ref: 'responses.yaml#/ok'}
            securityDefinitions: {}
            x-other: 1
            """,
            "parameters.yaml": """
            limit: {name: limit, in: query, type: integer}
            filter: {name: filter, in: query, type: string}
            body: {name: body, in: body, schema: {$ref: 'pet.yaml'}}
            """,
            "responses.yaml": """
            ok:
              description: ok
              headers:
                X-Rate: {$ref: 'headers.yaml#/rate'}
            error:
              description: error
              headers:
                X-Rate: {$ref: 'headers.yaml#/rate'}
              schema: {$ref: 'pet.yaml'}
            """,
            "headers.yaml": "rate: {type: integer, description: Calls left}\n",
            "pet.yaml": "type: object\n",
        },
    )
    document, report = run(tmp_path / "swagger.yaml")
    assert list(document) == [
        "swagger",
        "info",
        "paths",
        "definitions",
        "parameters",
        "responses",
        "securityDefinitions",
        "x-other",
    ]
    rate = {"type": "integer", "description": "Calls left"}
    assert document["parameters"] == {
        "limit": {"name": "limit", "in": "query", "type": "integer"},
        "body": {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/pet"}},
    }
    assert document["responses"] == {
        "ok": {"description": "ok", "headers": {"X-Rate": rate}},
        "error": {"description": "error", "headers": {"X-Rate": rate}, "schema": {"$ref": "#/definitions/pet"}},
    }
    pets = document["paths"]["/pets"]["get"]
    assert pets["parameters"] == [
        {"$ref": "#/parameters/limit"},
        {"name": "filter", "in": "query", "type": "string"},
    ]
    assert pets["responses"] == {"200": {"$ref": "#/responses/ok"}, "default": {"$ref": "#/responses/error"}}
    assert document["paths"]["/toys"]["post"]["parameters"][1] == {"$ref": "#/parameters/body"}
    all_local_refs_resolve(document)
    assert "added to responses" in report.items[0].message and "added to parameters" in report.items[0].message


def test_refs_from_other_files_into_the_root_become_local(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "api/openapi.yaml": oas("""
            paths:
              /a: {$ref: 'paths/a.yaml'}
            components:
              schemas:
                Pet: {type: object}
              parameters:
                Limit: {name: limit, in: query, schema: {type: integer}}
            """),
            "api/paths/a.yaml": """
            get:
              parameters:
                - $ref: '../openapi.yaml#/components/parameters/Limit'
              responses:
                '200':
                  description: ok
                  content:
                    application/json:
                      schema: {$ref: '../openapi.yaml#/components/schemas/Pet'}
            """,
        },
    )
    document, _ = run(tmp_path / "api" / "openapi.yaml")
    get = document["paths"]["/a"]["get"]
    assert get["parameters"] == [{"$ref": "#/components/parameters/Limit"}]
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Pet"}
    assert list(document["components"]["schemas"]) == ["Pet"]


def test_internal_pointer_through_an_external_ref_is_followed_there(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  parameters:
                    - name: q
                      in: query
                      schema: {$ref: 'models.yaml#/Query'}
                    - name: r
                      in: query
                      schema:
                        $ref: '#/paths/~1a/get/parameters/0/schema/properties/text'
            """),
            "models.yaml": "Query:\n  type: object\n  properties:\n    text: {type: string}\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    parameters = document["paths"]["/a"]["get"]["parameters"]
    assert parameters[0]["schema"] == {"$ref": "#/components/schemas/Query"}
    assert parameters[1]["schema"] == {"$ref": "#/components/schemas/text"}
    assert document["components"]["schemas"]["text"] == {"type": "string"}
    all_local_refs_resolve(document)


def test_internal_pointer_through_an_internal_ref_is_pointed_at_the_target(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas(
                """
            paths:
              /a:
                get:
                  parameters:
                    - name: q
                      in: query
                      schema: {$ref: '#/components/schemas/Alias/properties/text'}
                  responses:
                    '200': {$ref: '#/components/responses/Ok'}
            components:
              schemas:
                Alias: {$ref: '#/components/schemas/Query'}
                Query:
                  type: object
                  properties:
                    text: {type: string}
              responses:
                Ok: {description: ok}
            """
            )
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    get = document["paths"]["/a"]["get"]
    assert get["parameters"][0]["schema"] == {"$ref": "#/components/schemas/Query/properties/text"}
    assert get["responses"]["200"] == {"$ref": "#/components/responses/Ok"}
    assert document["components"]["schemas"]["Alias"] == {"$ref": "#/components/schemas/Query"}


def test_discriminator_mapping_to_other_files_is_hoisted(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                post:
                  requestBody:
                    content:
                      application/json:
                        schema: {$ref: 'models/action.yaml'}
                  responses: {'204': {description: done}}
            components:
              schemas:
                Local: {type: object}
            """),
            "models/action.yaml": """
            oneOf:
              - $ref: 'attach.yaml'
              - $ref: '#/detach'
            discriminator:
              propertyName: type
              mapping:
                attach: attach.yaml
                detach: '#/detach'
                local: Local
            detach: {type: object}
            """,
            "models/attach.yaml": "type: object\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    action = document["components"]["schemas"]["action"]
    assert action["oneOf"] == [{"$ref": "#/components/schemas/attach"}, {"$ref": "#/components/schemas/detach"}]
    assert action["discriminator"]["mapping"] == {
        "attach": "#/components/schemas/attach",
        "detach": "#/components/schemas/detach",
        "local": "Local",
    }


def test_sibling_keys_of_an_inlined_ref_are_dropped_with_a_report_item(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  parameters:
                    - $ref: 'params.yaml#/limit'
                      description: overriding text
                  responses:
                    '200':
                      description: ok
                      content:
                        application/json:
                          schema:
                            $ref: 'thing.yaml'
                            description: kept next to a schema reference
            """),
            "params.yaml": "limit: {name: limit, in: query, description: original, schema: {type: integer}}\n",
            "thing.yaml": "type: object\n",
        },
    )
    document, report = run(tmp_path / "openapi.yaml")
    get = document["paths"]["/a"]["get"]
    assert get["parameters"][0]["description"] == "original"
    schema = get["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/thing", "description": "kept next to a schema reference"}
    (dropped,) = report.of(Kind.DROPPED)
    assert "'description'" in dropped.message
    assert dropped.source == "#/paths/~1a/get/parameters/0"


def test_openapi_31_summary_and_description_override_the_target(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": """
            openapi: 3.1.0
            info: {title: t, version: "1"}
            paths:
              /a:
                get:
                  parameters:
                    - $ref: 'params.yaml#/limit'
                      description: overriding text
                  responses: {'204': {description: none}}
              /b:
                get:
                  parameters:
                    - $ref: 'params.yaml#/limit'
                  responses: {'204': {description: none}}
              /c:
                get:
                  parameters:
                    - $ref: 'params.yaml#/limit'
                  responses: {'204': {description: none}}
            """,
            "params.yaml": "limit: {name: limit, in: query, description: original, schema: {type: integer}}\n",
        },
    )
    document, report = run(tmp_path / "openapi.yaml")
    # an overriding reference is its own parameter, copied in place; the others share one
    assert document["paths"]["/a"]["get"]["parameters"][0]["description"] == "overriding text"
    assert document["paths"]["/b"]["get"]["parameters"][0] == {"$ref": "#/components/parameters/limit"}
    assert document["paths"]["/c"]["get"]["parameters"][0] == {"$ref": "#/components/parameters/limit"}
    assert document["components"]["parameters"]["limit"]["description"] == "original"
    assert report.of(Kind.DROPPED) == []


def test_openapi_31_override_of_a_reference_chain_copies_the_end_of_the_chain(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": """
            openapi: 3.1.0
            info: {title: t, version: "1"}
            paths:
              /a:
                get:
                  parameters:
                    - $ref: 'alias.yaml'
                      description: overriding text
                  responses: {'204': {description: none}}
            """,
            "alias.yaml": "$ref: 'params.yaml#/limit'\n",
            "params.yaml": "limit: {name: limit, in: query, description: original, schema: {type: integer}}\n",
        },
    )
    document, _ = run(tmp_path / "openapi.yaml")
    assert document["paths"]["/a"]["get"]["parameters"] == [
        {"name": "limit", "in": "query", "description": "overriding text", "schema": {"type": "integer"}}
    ]
    assert "components" not in document


def test_non_pointer_fragments_are_resolved_and_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": """
            openapi: 3.1.0
            info: {title: t, version: "1"}
            paths:
              /a:
                get:
                  parameters:
                    - $ref: 'params.yaml#limit'
                  responses:
                    '200':
                      description: ok
                      content:
                        application/json:
                          schema: {$ref: 'models.yaml#pet'}
            """,
            "params.yaml": "limit: {name: limit, in: query, schema: {type: integer}}\n",
            "models.yaml": "$defs:\n  Pet:\n    $anchor: pet\n    type: object\n",
        },
    )
    document, report = run(tmp_path / "openapi.yaml")
    get = document["paths"]["/a"]["get"]
    assert get["parameters"][0]["name"] == "limit"
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Pet"}
    assert document["components"]["schemas"]["Pet"] == {"$anchor": "pet", "type": "object"}
    (guess,) = report.of(Kind.APPROXIMATED)
    assert "'limit'" in guess.message and "'/limit'" in guess.message
    assert any("$anchor" in item.message for item in report.of(Kind.NOTE))


def test_unresolvable_ref_inside_example_data_is_kept_as_data(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": oas("""
            paths:
              /a:
                get:
                  responses:
                    '200':
                      description: ok
                      content:
                        application/json:
                          schema: {type: object}
                          example: {$ref: 'example.yaml'}
                          examples:
                            schema-doc:
                              value: {$ref: '#/definitions/NotInThisDocument'}
            """),
            "example.yaml": "name: Rex\n",
        },
    )
    document, report = run(tmp_path / "openapi.yaml")
    media = document["paths"]["/a"]["get"]["responses"]["200"]["content"]["application/json"]
    assert media["example"] == {"name": "Rex"}
    assert media["examples"]["schema-doc"]["value"] == {"$ref": "#/definitions/NotInThisDocument"}
    assert any("kept as literal data" in item.message for item in report.of(Kind.NOTE))


def test_the_fallback_yaml_reader_gives_the_same_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path,
        {
            "openapi.yaml": OPENAPI_HEAD + "paths:\n  /a: {$ref: 'a.yaml'}\n",
            "a.yaml": "get:\n  responses:\n    default:\n      description: at 2020-01-01T10:00:00Z\n"
            "      content: {application/json: {schema: {$ref: 'm.yaml'}}}\n",
            "m.yaml": "type: object\nexample: {on: yes, when: 2020-01-01, n: 0o17}\n",
        },
    )
    fast, _ = run(tmp_path / "openapi.yaml")
    monkeypatch.setattr(bundle_module, "_FAST_YAML", None)
    slow, _ = run(tmp_path / "openapi.yaml")
    assert fast == slow
    assert fast["components"]["schemas"]["m"]["example"] == {"on": "yes", "when": "2020-01-01", "n": 15}


def test_fast_yaml_reader_matches_the_document_reader() -> None:
    if bundle_module._FAST_YAML is None:
        pytest.skip("PyYAML with libyaml is not installed")
    text = textwrap.dedent(
        """
        a: [012, 0o12, 0x1F, 1_000, 1e5, 1., .5, +1, -0, yes, on, No, 2020-01-01, 2020-01-01T10:00:00Z,
            2020-01-01 10:00:00.5+02:00, '1:20', 1:20, =, .inf, -.Inf, NaN, 0b101, ~, Null, tRue, 12e, 0777,
            2019-11-09T11:50:28.889080521Z, !!str 12, '', ""]
        b: &x {k: 1, z: 0}
        c: {<<: *x, z: 2}
        d: 1
        d: 2
        5: int key
        true: bool key
        null: null key
        """
    ).encode()
    _, load = bundle_module._FAST_YAML
    fast = bundle_module._plain(load(decode(text, "x.yaml")[0]), "x.yaml", "", set())
    assert fast == parse_document(text, "x.yaml").value


# --------------------------------------------------------------------------- URLs


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http:
        yield http


def test_url_refs_are_fetched_with_the_client_and_resolve_relative_to_their_url(
    tmp_path: Path, httpserver: HTTPServer, client: httpx.Client
) -> None:
    pet_url = httpserver.url_for("/schemas/v1/pet.yaml")
    httpserver.expect_request("/schemas/v1/pet.yaml").respond_with_data(
        "type: object\nproperties:\n  id: {$ref: '../common/id.yaml'}\n  self: {$ref: 'pet.yaml'}\n"
    )
    httpserver.expect_request("/schemas/common/id.yaml").respond_with_data('{"type": "integer"}')
    httpserver.expect_request("/responses/ok.json").respond_with_data(
        json.dumps(
            {"description": "ok", "content": {"application/json": {"schema": {"$ref": "../schemas/v1/pet.yaml"}}}}
        )
    )
    write(
        tmp_path,
        {
            "openapi.yaml": oas(f"""
            paths:
              /pets:
                get:
                  responses:
                    '200': {{$ref: '{httpserver.url_for("/responses/ok.json")}'}}
                    '201':
                      description: created
                      content:
                        application/json:
                          schema: {{$ref: '{pet_url}'}}
            """)
        },
    )
    document, _ = run(tmp_path / "openapi.yaml", client)
    responses = document["paths"]["/pets"]["get"]["responses"]
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/pet"}
    assert responses["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/pet"}
    assert document["components"]["schemas"] == {
        "pet": {
            "type": "object",
            "properties": {"id": {"$ref": "#/components/schemas/id"}, "self": {"$ref": "#/components/schemas/pet"}},
        },
        "id": {"type": "integer"},
    }
    # each URL fetched once
    assert len(httpserver.log) == 3


def test_without_a_client_one_is_made_and_closed(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/thing.yaml").respond_with_data("type: string\n")
    url = httpserver.url_for("/thing.yaml")
    write(
        tmp_path,
        {
            "openapi.yaml": oas(
                f"""
            paths:
              /a:
                get:
                  parameters:
                    - {{name: q, in: query, schema: {{$ref: '{url}'}}}}
                  responses: {{'204': {{description: none}}}}
            """
            )
        },
    )
    spec = read_spec(str(tmp_path / "openapi.yaml"))
    document = bundle(spec, Report())
    assert document["components"]["schemas"] == {"thing": {"type": "string"}}


def test_a_root_fetched_from_a_url_resolves_relative_refs_there(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request("/api/openapi.yaml").respond_with_data(
        textwrap.dedent(OPENAPI_HEAD) + "paths:\n  /a: {$ref: 'paths/a.yaml'}\n"
    )
    httpserver.expect_request("/api/paths/a.yaml").respond_with_data(
        "get:\n  responses:\n    '204': {description: none}\n"
    )
    document, report = run(httpserver.url_for("/api/openapi.yaml"), client)
    assert document["paths"]["/a"] == {"get": {"responses": {"204": {"description": "none"}}}}
    assert "1 other file" in report.items[0].message


def test_a_remote_document_cannot_refer_to_local_files(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request("/openapi.yaml").respond_with_data(
        textwrap.dedent(OPENAPI_HEAD) + "paths:\n  /a: {$ref: 'file:///etc/hostname'}\n"
    )
    with pytest.raises(InputError, match=r"openapi\.yaml:5:\d+: .*cannot refer to a local file"):
        run(httpserver.url_for("/openapi.yaml"), client)


def test_http_error_for_a_url_ref_names_the_referrer_and_the_status(
    tmp_path: Path, httpserver: HTTPServer, client: httpx.Client
) -> None:
    httpserver.expect_request("/gone.yaml").respond_with_data("nope", status=404)
    write(tmp_path, {"openapi.yaml": OPENAPI_HEAD + f"paths:\n  /a: {{$ref: '{httpserver.url_for('/gone.yaml')}'}}\n"})
    with pytest.raises(InputError) as caught:
        run(tmp_path / "openapi.yaml", client)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'openapi.yaml'}:4:")
    assert "HTTP 404" in message and "gone.yaml" in message
