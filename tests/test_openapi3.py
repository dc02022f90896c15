"""OpenAPI 3.0/3.1 to Swagger 2.0: the real specs of the shared set, and one test per mapping."""

from __future__ import annotations

import copy
import json
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_httpserver import HTTPServer

from connectorkit.authoring.budget import BudgetOptions, fit_budget
from connectorkit.authoring.bundle import bundle
from connectorkit.authoring.converted import Converted
from connectorkit.authoring.openapi3 import convert_openapi3
from connectorkit.authoring.report import Item, Kind, Report
from connectorkit.authoring.source import read_spec
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import On, Profile

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"
needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason=f"the shared spec set is not at {SPECS}")

OAI = "OAI__learn.openapis.org/examples"
SINGLE_FILE_SPECS = [
    f"{OAI}/v3.0/petstore.yaml",
    f"{OAI}/v3.0/petstore-expanded.yaml",
    f"{OAI}/v3.0/uspto.json",
    f"{OAI}/v3.0/api-with-examples.yaml",
    f"{OAI}/v3.0/callback-example.yaml",
    f"{OAI}/v3.0/link-example.yaml",
    f"{OAI}/v3.1/non-oauth-scopes.yaml",
    f"{OAI}/v3.1/tictactoe.yaml",
    "box__box-openapi/openapi/openapi-v2025.0.json",
    "twilio__twilio-oai/spec/yaml/twilio_messaging_v1.yaml",
    "discord__discord-api-spec/specs/openapi.json",
]
# Errors that later pipeline steps own: enrichment adds missing operationIds, budget.py fits
# the platform's schema and operation limits.
LATER_STEPS = {"OperationIdRequired", "BodySchemaCountExceedsMaxAllowed", "TotalOperationsCountExceedsMaxAllowed"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


# --------------------------------------------------------------------------- helpers


@cache
def _rules() -> list[Any]:
    import connectorkit.lint.rules  # noqa: F401  (registers the rules)

    rules: list[Any] = [r for r in active_rules(Profile.CUSTOM) if r.on not in (On.LOAD, On.DIFF)]
    return rules


def validator_errors(swagger: dict[str, Any], ignore: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Errors of the definition (not of the package files the lint also looks at)."""
    findings = lint_package(ConnectorPackage(definition=swagger), _rules())
    return [
        f"{f.rule} {f.pointer}: {f.message}"
        for f in findings
        if f.severity.value == "error" and f.file != "apiProperties.json" and f.rule not in ignore
    ]


def convert(doc: dict[str, Any], **options: Any) -> tuple[Converted, Report]:
    report = Report()
    return convert_openapi3(copy.deepcopy(doc), report, **options), report


def spec(paths: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A small OpenAPI 3.0 document with one GET operation unless ``paths`` are given."""
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Test", "version": "1.0"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "paths": paths
        if paths is not None
        else {"/items": {"get": {"operationId": "ListItems", "responses": {"200": {"description": "OK"}}}}},
    }
    doc.update(extra)
    return doc


def op(**fields: Any) -> dict[str, Any]:
    """An operation with an id and a 200 response, plus ``fields``."""
    return {"operationId": "Op", "responses": {"200": {"description": "OK"}}, **fields}


def with_schema(schema: Any, version: str = "3.0.3", **components: Any) -> dict[str, Any]:
    """A document whose one operation returns ``schema`` (kept as definition 'S')."""
    return spec(
        {
            "/s": {
                "get": op(
                    responses={
                        "200": {
                            "description": "OK",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/S"}}},
                        }
                    }
                )
            }
        },
        openapi=version,
        components={"schemas": {"S": schema, **components}},
    )


def schema_of(schema: Any, version: str = "3.0.3", **components: Any) -> tuple[dict[str, Any], Report, dict[str, Any]]:
    converted, report = convert(with_schema(schema, version, **components))
    return converted.swagger["definitions"]["S"], report, converted.swagger


def kinds(report: Report, kind: Kind) -> list[Item]:
    return report.of(kind)


def messages(report: Report, kind: Kind | None = None) -> str:
    return "\n".join(i.message for i in report.items if kind is None or i.kind is kind)


def deref(swagger: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        section, name = node["$ref"].split("/")[1:3]
        node = swagger[section][name]
    return node


def operation_parameters(swagger: dict[str, Any], path: str, method: str) -> list[dict[str, Any]]:
    item = swagger["paths"][path]
    params = [deref(swagger, p) for p in item.get("parameters", [])]
    params += [deref(swagger, p) for p in item[method].get("parameters", [])]
    return params


# --------------------------------------------------------------------------- the real specs


def _load(path: Path) -> dict[str, Any]:
    """The document at ``path``; YAML through libyaml when there is one (the tolerant reader
    of read_spec is tested elsewhere and takes seconds on Twilio)."""
    if path.suffix == ".json":
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    return loaded


@cache
def _converted_spec(name: str) -> tuple[dict[str, Any], Converted, Report]:
    document = _load(SPECS / name)
    report = Report()
    converted = convert_openapi3(copy.deepcopy(document), report, location=name)
    return document, converted, report


@needs_specs
@pytest.mark.parametrize("name", SINGLE_FILE_SPECS, ids=lambda n: n.rsplit("/", 1)[-1])
def test_real_spec_passes_the_validator(name: str) -> None:
    _, converted, _ = _converted_spec(name)
    assert validator_errors(converted.swagger, LATER_STEPS) == []
    assert converted.swagger["swagger"] == "2.0"
    assert list(converted.swagger)[:2] == ["swagger", "info"]


def _source_operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    found = []
    for path, item in doc["paths"].items():
        for method in METHODS:
            if isinstance(item.get(method), dict):
                found.append((path, method, item, item[method]))
    return found


def _resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for token in node["$ref"][2:].split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@needs_specs
@pytest.mark.parametrize("name", SINGLE_FILE_SPECS, ids=lambda n: n.rsplit("/", 1)[-1])
def test_real_spec_keeps_operations_and_parameter_names(name: str) -> None:
    source, converted, report = _converted_spec(name)
    swagger = converted.swagger
    dropped = messages(report, Kind.DROPPED)
    for path, method, item, operation in _source_operations(source):
        assert method in swagger["paths"][path], f"{method} {path} is missing"
        out = swagger["paths"][path][method]
        assert out.get("operationId") == operation.get("operationId")
        names = {p["name"] for p in operation_parameters(swagger, path, method)}
        for param in [*item.get("parameters", []), *operation.get("parameters", [])]:
            param = _resolve(source, param)
            if param["name"] in names:
                continue
            assert f"parameter '{param['name']}'" in dropped, f"{method} {path}: {param['name']} lost silently"


@needs_specs
def test_real_spec_sizes_and_reports() -> None:
    """Discord is the large one: converted whole (size budgets are budget.py's)."""
    _, converted, report = _converted_spec("discord__discord-api-spec/specs/openapi.json")
    size = len(json.dumps(converted.swagger))
    assert 500_000 < size < 1_200_000
    counts = report.counts()
    assert counts["approximated"] > 100  # type arrays, consts, oneOf
    assert all(item.source and item.source.startswith("#/") for item in report.items if item.kind is not Kind.NOTE)


@needs_specs
def test_webhook_only_spec_is_an_input_error() -> None:
    source = read_spec(str(SPECS / OAI / "v3.1/webhook-example.yaml"))
    with pytest.raises(
        InputError, match=r"webhook-example\.yaml: has no paths: nothing to make a connector from.*newPet"
    ):
        convert_openapi3(source.value, Report(), location=source.location)


@needs_specs
def test_digitalocean_tree_bundled_and_converted() -> None:
    bundle = pytest.importorskip("connectorkit.authoring.bundle")
    source = read_spec(str(SPECS / "digitalocean__openapi/specification/DigitalOcean-public.v2.yaml"))
    report = Report()
    document = bundle.bundle(source, report)
    converted = convert_openapi3(document, report, location=source.location)
    swagger = converted.swagger
    assert sum(1 for item in swagger["paths"].values() for m in item if m in METHODS) == 659
    assert swagger["host"] == "api.digitalocean.com"
    assert "bearer_auth" in converted.bearer_schemes
    assert validator_errors(swagger, LATER_STEPS) == []


@needs_specs
def test_tictactoe_details() -> None:
    _, converted, report = _converted_spec(f"{OAI}/v3.1/tictactoe.yaml")
    swagger = converted.swagger
    definitions = swagger["securityDefinitions"]
    assert definitions["basicHttpAuthentication"] == {"type": "basic", "description": "Basic HTTP Authentication"}
    assert definitions["bearerHttpAuthentication"]["name"] == "Authorization"
    assert converted.bearer_schemes == {"bearerHttpAuthentication"}
    assert definitions["app2AppOauth"]["flow"] == "application"
    assert definitions["user2AppOauth"]["flow"] == "accessCode"
    candidates = kinds(report, Kind.CANDIDATE)
    assert len(candidates) == 1 and "header parameter 'progressUrl'" in candidates[0].message
    assert "webhook 'markStatus' dropped" in messages(report, Kind.DROPPED)


# --------------------------------------------------------------------------- document level


def test_no_paths_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"api\.yaml: has no paths: nothing to make a connector from"):
        convert(spec({}), location="api.yaml")
    doc = spec({}, openapi="3.1.0", webhooks={"newPet": {"post": {}}})
    with pytest.raises(InputError, match="only webhooks: newPet"):
        convert(doc, location="api.yaml")


def test_info_tags_extensions_and_key_order() -> None:
    doc = spec(
        info={
            "title": "T",
            "version": "2",
            "summary": "short",
            "contact": {"name": "N", "email": "a@b.co"},
            "license": {"name": "MIT", "identifier": "MIT"},
            "x-logo": {"url": "https://x"},
        },
        tags=[{"name": "a", "description": "A"}],
        jsonSchemaDialect="https://json-schema.org/draft/2020-12/schema",
        openapi="3.1.0",
        externalDocs={"url": "https://docs.example.com"},
    )
    doc.update({"x-custom": 1, "weird": True})
    converted, report = convert(doc)
    swagger = converted.swagger
    assert list(swagger) == [
        "swagger",
        "info",
        "host",
        "basePath",
        "schemes",
        "paths",
        "tags",
        "externalDocs",
        "x-custom",
    ]
    assert swagger["info"] == {
        "title": "T",
        "description": "short",
        "version": "2",
        "contact": {"name": "N", "email": "a@b.co"},
        "license": {"name": "MIT", "url": "https://spdx.org/licenses/MIT.html"},
        "x-logo": {"url": "https://x"},
    }
    assert swagger["tags"] == [{"name": "a", "description": "A"}]
    text = messages(report)
    assert "top-level key 'weird' dropped" in text
    assert "jsonSchemaDialect" not in text
    assert "license identifier MIT" in text


def test_operation_ids_and_deprecated_kept_and_trace_dropped() -> None:
    doc = spec({"/a": {"get": op(operationId="not valid!", deprecated=True), "trace": op(operationId="T")}})
    converted, report = convert(doc)
    get = converted.swagger["paths"]["/a"]["get"]
    assert get["operationId"] == "not valid!"
    assert get["deprecated"] is True
    assert "trace" not in converted.swagger["paths"]["/a"]
    assert "TRACE /a dropped" in messages(report, Kind.DROPPED)


def test_path_item_summary_and_ref_followed() -> None:
    doc = spec(
        {
            "/a": {"$ref": "#/paths/~1b"},
            "/b": {"summary": "Shared", "description": "Both", "get": op(summary="Own")},
        }
    )
    converted, _ = convert(doc)
    assert converted.swagger["paths"]["/a"]["get"]["summary"] == "Own"
    assert converted.swagger["paths"]["/b"]["get"]["description"] == "Both"
    assert "summary" not in converted.swagger["paths"]["/b"]


def test_external_and_broken_refs_are_input_errors() -> None:
    doc = with_schema({"$ref": "other.yaml#/Pet"})
    with pytest.raises(InputError, match=r"api.yaml: #/components/schemas/S: .*outside this document"):
        convert(doc, location="api.yaml")
    with pytest.raises(InputError, match="cannot be resolved"):
        convert(with_schema({"$ref": "#/components/schemas/Missing"}), location="api.yaml")
    cyclic = spec(
        {"/a": {"get": op(parameters=[{"$ref": "#/components/parameters/A"}])}},
        components={
            "parameters": {"A": {"$ref": "#/components/parameters/B"}, "B": {"$ref": "#/components/parameters/A"}}
        },
    )
    with pytest.raises(InputError, match="cyclic \\$ref"):
        convert(cyclic, location="api.yaml")


# --------------------------------------------------------------------------- servers


def test_server_host_base_path_and_scheme_variable() -> None:
    doc = spec(
        servers=[
            {
                "url": "{scheme}://developer.example.gov/ds-api/",
                "variables": {"scheme": {"default": "https", "enum": ["https", "http"]}},
            },
            {"url": "https://backup.example.gov/ds-api"},
        ]
    )
    converted, report = convert(doc)
    swagger = converted.swagger
    assert (swagger["host"], swagger["basePath"], swagger["schemes"]) == (
        "developer.example.gov",
        "/ds-api",
        ["https", "http"],
    )
    assert converted.host_parameters == {} and converted.url_template is None
    assert converted.servers == ["{scheme}://developer.example.gov/ds-api/", "https://backup.example.gov/ds-api"]
    assert "also served at https://backup.example.gov/ds-api" in messages(report, Kind.NOTE)


def test_per_tenant_host_becomes_connection_parameters() -> None:
    doc = spec(
        servers=[
            {
                "url": "https://{tenant}.example.com:{port}/v1",
                "variables": {
                    "tenant": {"default": "demo", "description": "Your tenant"},
                    "port": {"default": "443", "enum": ["443", "8443"]},
                },
            }
        ]
    )
    converted, report = convert(doc)
    assert converted.swagger["host"] == "demo.example.com:443"
    assert converted.swagger["basePath"] == "/v1"
    assert (
        converted.url_template == "https://@connectionParameters('tenant').example.com:@connectionParameters('port')/v1"
    )
    assert converted.host_parameters == {
        "tenant": {"default": "demo", "description": "Your tenant"},
        "port": {"default": "443", "enum": ["443", "8443"]},
    }
    assert "connection parameter" in messages(report, Kind.NOTE)
    assert validator_errors(converted.swagger) == []


def test_path_variable_with_choices_is_reported() -> None:
    doc = spec(
        servers=[
            {
                "url": "https://api.example.com/{version}",
                "variables": {"version": {"default": "v2", "enum": ["v1", "v2"]}},
            }
        ]
    )
    converted, report = convert(doc)
    assert converted.swagger["basePath"] == "/v2"
    assert "server variable 'version' may be v1, v2" in messages(report, Kind.APPROXIMATED)


def test_relative_server_resolved_against_source_url() -> None:
    doc = spec(servers=[{"url": "/api/v3"}])
    converted, _ = convert(doc, source_url="https://petstore.example.org/openapi/spec.json")
    swagger = converted.swagger
    assert (swagger["host"], swagger["basePath"], swagger["schemes"]) == ("petstore.example.org", "/api/v3", ["https"])
    converted, report = convert(doc)
    assert "host" not in converted.swagger and converted.swagger["basePath"] == "/api/v3"
    assert "relative" in messages(report, Kind.NOTE)


def test_no_servers_uses_source_url_or_reports(httpserver: HTTPServer) -> None:
    doc = spec()
    del doc["servers"]
    httpserver.expect_request("/spec.json").respond_with_json(doc)
    source = read_spec(httpserver.url_for("/spec.json"))
    converted, report = convert(source.value, source_url=source.location)
    assert converted.swagger["host"] == f"{httpserver.host}:{httpserver.port}"
    assert converted.swagger["schemes"] == ["http"]
    assert "taken from where it was read" in messages(report, Kind.NOTE)
    converted, report = convert(doc)
    assert "host" not in converted.swagger
    assert "no host" in messages(report, Kind.NOTE)


def test_operation_servers_pick_the_most_common_and_report_others() -> None:
    ok = {"get": op(operationId="A")}
    doc = spec(
        {
            "/a": {"servers": [{"url": "https://api.example.com"}], **ok},
            "/b": {"servers": [{"url": "https://api.example.com"}], "get": op(operationId="B")},
            "/c": {"get": op(operationId="C", servers=[{"url": "https://upload.example.com/x"}])},
        },
        servers=[{"url": "https://root.example.com"}],
    )
    converted, report = convert(doc)
    assert converted.swagger["host"] == "api.example.com"
    approximations = messages(report, Kind.APPROXIMATED)
    assert "GET /c is served at https://upload.example.com/x" in approximations
    assert "GET /a" not in approximations
    assert "servers" not in converted.swagger["paths"]["/a"]


# --------------------------------------------------------------------------- parameters


def test_parameters_flattened_with_collection_formats() -> None:
    array = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
    params = [
        {"name": "multi", "in": "query", "schema": array},
        {"name": "csv", "in": "query", "style": "form", "explode": False, "schema": array},
        {"name": "ssv", "in": "query", "style": "spaceDelimited", "explode": False, "schema": array},
        {"name": "pipes", "in": "query", "style": "pipeDelimited", "explode": False, "schema": array},
        {"name": "ids", "in": "path", "required": False, "schema": array},
        {"name": "X-Limit", "in": "header", "schema": {"type": "integer", "minimum": 1, "maximum": 10, "default": 5}},
        {"name": "q", "in": "query", "required": True, "schema": {"type": "string", "title": "Query", "pattern": "^a"}},
    ]
    converted, _ = convert(spec({"/x/{ids}": {"get": op(parameters=params)}}))
    out = {p["name"]: p for p in converted.swagger["paths"]["/x/{ids}"]["get"]["parameters"]}
    assert out["multi"] == {
        "name": "multi",
        "in": "query",
        "type": "array",
        "items": {"type": "string", "enum": ["a", "b"]},
        "collectionFormat": "multi",
    }
    assert out["csv"]["collectionFormat"] == "csv"
    assert out["ssv"]["collectionFormat"] == "ssv"
    assert out["pipes"]["collectionFormat"] == "pipes"
    assert out["ids"]["required"] is True and out["ids"]["collectionFormat"] == "csv"
    assert {k: out["X-Limit"][k] for k in ("type", "minimum", "maximum", "default")} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 10,
        "default": 5,
    }
    assert out["q"]["x-ms-summary"] == "Query" and out["q"]["pattern"] == "^a" and out["q"]["required"] is True
    assert validator_errors(converted.swagger) == []


def test_component_parameters_become_global_parameters() -> None:
    doc = spec(
        {
            "/a/{id}": {
                "parameters": [{"$ref": "#/components/parameters/Id"}],
                "get": op(parameters=[{"$ref": "#/components/parameters/Session"}]),
            }
        },
        components={
            "parameters": {
                "Id": {"name": "id", "in": "path", "required": True, "schema": {"$ref": "#/components/schemas/Id"}},
                "Session": {"name": "session", "in": "cookie", "schema": {"type": "string"}},
            },
            "schemas": {"Id": {"type": "string", "format": "uuid", "description": "The id"}},
        },
    )
    converted, report = convert(doc)
    swagger = converted.swagger
    assert swagger["parameters"] == {
        "Id": {
            "name": "id",
            "in": "path",
            "required": True,
            "type": "string",
            "format": "uuid",
            "description": "The id",
        }
    }
    assert swagger["paths"]["/a/{id}"]["parameters"] == [{"$ref": "#/parameters/Id"}]
    assert "parameters" not in swagger["paths"]["/a/{id}"]["get"]
    dropped = kinds(report, Kind.DROPPED)
    assert any(
        "cookie parameter 'session'" in i.message and i.source == "#/paths/~1a~1{id}/get/parameters/0" for i in dropped
    )
    assert validator_errors(swagger) == []


def test_shared_parameter_and_response_names_are_made_plain_and_unique() -> None:
    doc = spec(
        {
            "/a": {
                "get": op(
                    parameters=[{"$ref": "#/components/parameters/a b"}, {"$ref": "#/components/parameters/a_b"}],
                    responses={"404": {"$ref": "#/components/responses/Not Found"}},
                    **{"x-ms-dynamic": {"$ref": "#/components/parameters/a b"}},
                )
            }
        },
        components={
            "parameters": {
                "a_b": {"name": "second", "in": "query", "schema": {"type": "string"}},
                "a b": {"name": "first", "in": "query", "schema": {"type": "string"}},
            },
            "responses": {"Not Found": {"description": "Not found"}},
        },
    )
    converted, report = convert(doc)
    swagger = converted.swagger
    assert swagger["parameters"] == {
        "a_b": {"name": "second", "in": "query", "type": "string"},
        "a_b_": {"name": "first", "in": "query", "type": "string"},
    }
    get = swagger["paths"]["/a"]["get"]
    assert get["parameters"] == [{"$ref": "#/parameters/a_b_"}, {"$ref": "#/parameters/a_b"}]
    assert get["x-ms-dynamic"] == {"$ref": "#/parameters/a_b_"}
    assert get["responses"]["404"] == {"$ref": "#/responses/Not_Found"}
    assert swagger["responses"] == {"Not_Found": {"description": "Not found"}}
    notes = kinds(report, Kind.NOTE)
    assert any(
        "parameter 'a b' is named 'a_b_'" in i.message and i.source == "#/components/parameters/a b" for i in notes
    )
    assert any("response 'Not Found' is named 'Not_Found'" in i.message for i in notes)
    assert validator_errors(swagger) == []


def test_bundled_shared_responses_and_parameters_become_root_sections(tmp_path: Path) -> None:
    files = {
        "openapi.yaml": """
            openapi: 3.0.3
            info: {title: Shared, version: '1'}
            servers: [{url: 'https://api.example.com'}]
            paths:
              /pets:
                get: {$ref: 'ops/pets.yml'}
              /toys:
                get: {$ref: 'ops/toys.yml'}
              /cats:
                get: {$ref: 'ops/cats.yml'}
            """,
        "ops/pets.yml": """
            operationId: ListPets
            parameters:
              - $ref: '../shared/parameters.yml#/per_page'
              - $ref: '../shared/parameters.yml#/session'
            responses:
              '200': {$ref: '../shared/responses.yml#/csv'}
              '401': {$ref: '../shared/responses.yml#/unauthorized'}
            """,
        "ops/toys.yml": """
            operationId: ListToys
            parameters:
              - $ref: '../shared/parameters.yml#/per_page'
              - $ref: '../shared/parameters.yml#/session'
            responses:
              '200': {$ref: '../shared/responses.yml#/csv'}
              '401': {$ref: '../shared/responses.yml#/unauthorized'}
            """,
        "ops/cats.yml": """
            operationId: ListCats
            responses:
              '200': {description: All cats.}
              '404': {$ref: '../shared/responses.yml#/gone'}
              '429': {$ref: '../shared/responses.yml#/gone'}
            """,
        "shared/parameters.yml": """
            per_page: {name: per_page, in: query, schema: {type: integer}}
            session: {name: session, in: cookie, schema: {type: string}}
            """,
        "shared/responses.yml": """
            csv:
              description: A table.
              content:
                text/csv: {schema: {type: string}}
            unauthorized:
              description: Who are you?
              headers:
                ratelimit-limit: {$ref: 'headers.yml#/limit'}
              content:
                application/json: {schema: {$ref: 'error.yml'}}
            gone:
              description: Gone.
            """,
        "shared/headers.yml": "limit: {description: Calls per hour., schema: {type: integer}}\n",
        "shared/error.yml": "type: object\nproperties:\n  message: {type: string}\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    report = Report()
    document = bundle(read_spec(str(tmp_path / "openapi.yaml")), report)
    swagger = convert_openapi3(document, report).swagger
    assert swagger["parameters"] == {"per_page": {"name": "per_page", "in": "query", "type": "integer"}}
    assert swagger["responses"] == {
        "csv": {"description": "A table.", "schema": {"type": "string"}},
        "unauthorized": {
            "description": "Who are you?",
            "schema": {"$ref": "#/definitions/error"},
            "headers": {"ratelimit-limit": {"description": "Calls per hour.", "type": "integer"}},
        },
        "gone": {"description": "Gone."},
    }
    for path in ("/pets", "/toys"):
        get = swagger["paths"][path]["get"]
        assert get["parameters"] == [{"$ref": "#/parameters/per_page"}]  # the cookie is dropped at each use
        assert get["responses"] == {"200": {"$ref": "#/responses/csv"}, "401": {"$ref": "#/responses/unauthorized"}}
        assert get["produces"] == ["text/csv", "application/json"]
        assert any(
            "cookie parameter 'session'" in i.message and i.source == f"#/paths/~1{path[1:]}/get/parameters/1"
            for i in kinds(report, Kind.DROPPED)
        )
    assert swagger["paths"]["/cats"]["get"]["responses"]["404"] == {"$ref": "#/responses/gone"}
    assert validator_errors(swagger) == []
    # the budget keeps what the operations left use, through their references
    fit_budget(swagger, report, BudgetOptions(include_paths=("/cats",)))
    assert swagger["responses"] == {"gone": {"description": "Gone."}}
    assert "parameters" not in swagger and "definitions" not in swagger
    assert validator_errors(swagger) == []


def test_cookie_content_deprecated_and_ignored_header_parameters() -> None:
    params = [
        {"name": "sid", "in": "cookie", "schema": {"type": "string"}},
        {"name": "filter", "in": "query", "content": {"application/json": {"schema": {"type": "object"}}}},
        {"name": "old", "in": "query", "deprecated": True, "example": "x", "schema": {"type": "string"}},
        {"name": "Accept", "in": "header", "schema": {"type": "string"}},
        {
            "name": "obj",
            "in": "query",
            "style": "deepObject",
            "schema": {"type": "object", "properties": {"a": {"type": "string"}}},
        },
    ]
    converted, report = convert(spec({"/a": {"get": op(parameters=params)}}))
    out = {p["name"]: p for p in converted.swagger["paths"]["/a"]["get"]["parameters"]}
    assert set(out) == {"filter", "old", "Accept", "obj"}
    assert out["filter"]["type"] == "string"
    assert out["old"]["x-deprecated"] is True and out["old"]["x-example"] == "x"
    assert out["obj"]["type"] == "string"
    dropped = messages(report, Kind.DROPPED)
    assert "cookie parameter 'sid' dropped" in dropped
    assert "header parameter 'Accept' kept" in messages(report, Kind.NOTE)
    approximated = messages(report, Kind.APPROXIMATED)
    assert "query parameter 'filter' is described by its 'application/json' content" in approximated
    assert "query parameter 'obj' holds an object" in approximated
    assert "deprecated" in approximated
    assert validator_errors(converted.swagger) == []


# --------------------------------------------------------------------------- request bodies


def test_json_request_body_becomes_a_body_parameter() -> None:
    body = {
        "required": True,
        "description": "The pet",
        "content": {
            "application/xml": {"schema": {"type": "object"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/Pet"}},
        },
    }
    doc = spec(
        {"/pets": {"post": op(requestBody=body)}},
        components={"schemas": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}}},
    )
    converted, report = convert(doc)
    post = converted.swagger["paths"]["/pets"]["post"]
    assert post["parameters"] == [
        {
            "name": "body",
            "in": "body",
            "required": True,
            "description": "The pet",
            "x-ms-summary": "Body",
            "schema": {"$ref": "#/definitions/Pet"},
        }
    ]
    assert converted.swagger["consumes"] == ["application/json"]
    assert "request media type(s) application/xml dropped" in messages(report, Kind.DROPPED)


def test_vendor_json_media_type_is_preferred_over_others() -> None:
    body = {
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/vnd.api+json": {"schema": {"type": "object"}},
        }
    }
    converted, _ = convert(spec({"/a": {"post": op(requestBody=body)}}))
    assert converted.swagger["consumes"] == ["application/vnd.api+json"]


def test_request_bodies_component_inlined_and_name_clash() -> None:
    doc = spec(
        {
            "/a": {
                "post": op(
                    parameters=[{"name": "body", "in": "query", "schema": {"type": "string"}}],
                    requestBody={"$ref": "#/components/requestBodies/B"},
                )
            }
        },
        components={"requestBodies": {"B": {"content": {"application/octet-stream": {}}}}},
    )
    converted, report = convert(doc)
    params = converted.swagger["paths"]["/a"]["post"]["parameters"]
    assert params[1] == {
        "name": "requestBody",
        "in": "body",
        "x-ms-summary": "Body",
        "schema": {"type": "string", "format": "binary"},
    }
    assert "named 'requestBody'" in messages(report, Kind.NOTE)


def test_form_bodies_become_form_data_parameters() -> None:
    multipart = {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "The file"},
                        "meta": {"type": "object", "properties": {"a": {"type": "string"}}},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "raw": {"type": "string", "contentEncoding": "binary"},
                    },
                },
                "encoding": {"file": {"contentType": "image/png"}},
            }
        }
    }
    urlencoded = {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "raw": {"type": "string", "format": "binary"}},
                }
            }
        }
    }
    doc = spec(
        {
            "/upload": {"post": op(operationId="Up", requestBody=multipart)},
            "/form": {"post": op(operationId="Form", requestBody=urlencoded)},
        }
    )
    converted, report = convert(doc)
    upload = converted.swagger["paths"]["/upload"]["post"]
    fields = {p["name"]: p for p in upload["parameters"]}
    assert fields["file"] == {
        "name": "file",
        "in": "formData",
        "required": True,
        "description": "The file",
        "type": "file",
    }
    assert fields["meta"]["type"] == "string"
    assert fields["tags"]["type"] == "array" and fields["tags"]["collectionFormat"] == "multi"
    assert fields["raw"] == {"name": "raw", "in": "formData", "type": "file"}
    assert upload["consumes"] == ["multipart/form-data"]
    form = {p["name"]: p for p in converted.swagger["paths"]["/form"]["post"]["parameters"]}
    assert form["raw"] == {"name": "raw", "in": "formData", "type": "string"}
    text = messages(report)
    assert "form field 'meta' holds an object" in text
    assert "form field 'raw' is binary" in text
    assert "per-field 'encoding'" in text
    assert validator_errors(converted.swagger) == []


def test_form_body_without_fields_stays_a_body() -> None:
    schema = {"type": "object", "x-ms-dynamic-schema": {"operationId": "GetSchema", "value-path": "schema"}}
    body = {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    converted, report = convert(spec({"/a": {"post": op(requestBody=body)}}))
    post = converted.swagger["paths"]["/a"]["post"]
    assert post["parameters"] == [
        {"name": "body", "in": "body", "required": True, "x-ms-summary": "Body", "schema": schema}
    ]
    assert converted.swagger["consumes"] == ["multipart/form-data"]
    assert "declares no form fields" in messages(report, Kind.APPROXIMATED)


def test_body_parameter_name_from_openapi_generator_extension() -> None:
    body = {"content": {"application/json": {"schema": {"type": "object"}}}}
    converted, _ = convert(spec({"/a": {"post": op(requestBody=body, **{"x-codegen-request-body-name": "req"})}}))
    assert converted.swagger["paths"]["/a"]["post"]["parameters"][0]["name"] == "req"


def test_get_with_body_drops_the_body() -> None:
    converted, report = convert(
        spec({"/a": {"get": op(requestBody={"content": {"application/json": {"schema": {"type": "object"}}}})}})
    )
    assert "parameters" not in converted.swagger["paths"]["/a"]["get"]
    assert "request body of a GET operation dropped" in messages(report, Kind.DROPPED)


# --------------------------------------------------------------------------- responses


def test_responses_schema_headers_examples_and_produces() -> None:
    responses = {
        "200": {
            "description": "OK",
            "headers": {"X-Rate": {"$ref": "#/components/headers/Rate"}},
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": {"type": "string"}},
                    "examples": {"one": {"value": ["a"]}},
                },
                "text/csv": {"schema": {"type": "string"}},
            },
            "links": {"next": {"operationId": "Op"}},
        },
        "2XX": {"description": "Other success"},
        "4XX": {"description": "Client error"},
        "default": {"$ref": "#/components/responses/Error"},
    }
    doc = spec(
        {"/a": {"get": op(responses=responses)}},
        components={
            "headers": {"Rate": {"description": "Calls left", "schema": {"type": "integer"}}},
            "responses": {
                "Error": {
                    "description": "Error",
                    "content": {"application/problem+json": {"schema": {"type": "object"}}},
                }
            },
        },
    )
    converted, report = convert(doc)
    swagger = converted.swagger
    get = swagger["paths"]["/a"]["get"]
    ok = get["responses"]["200"]
    assert ok["schema"] == {"type": "array", "items": {"type": "string"}}
    assert ok["headers"] == {"X-Rate": {"description": "Calls left", "type": "integer"}}
    assert ok["examples"] == {"application/json": ["a"]}
    assert set(get["responses"]) == {"200", "default"}
    assert get["responses"]["default"] == {"$ref": "#/responses/Error"}
    assert swagger["responses"]["Error"]["schema"] == {"type": "object"}
    assert swagger["produces"] == ["application/json", "text/csv", "application/problem+json"]
    text = messages(report)
    assert "response schemas of text/csv dropped" in text
    assert "response links (next) dropped" in text
    assert "4XX responses dropped (GET /a)" in text
    assert "2XX responses dropped (GET /a)" in text
    assert validator_errors(swagger) == []


def test_success_range_becomes_200_when_no_success_code_is_given() -> None:
    responses = {
        "2XX": {"description": "Done", "content": {"application/json": {"schema": {"type": "object"}}}},
        "5XX": {"description": "Down"},
    }
    doc = spec(
        {
            "/a": {"get": op(responses=responses)},
            "/b": {"get": op(operationId="B", responses={"5XX": {"description": "Down"}})},
        }
    )
    converted, report = convert(doc)
    assert converted.swagger["paths"]["/a"]["get"]["responses"] == {
        "200": {"description": "Done", "schema": {"type": "object"}}
    }
    assert "the 2XX response of GET /a became a 200 response" in messages(report, Kind.APPROXIMATED)
    dropped = [i for i in kinds(report, Kind.DROPPED) if "5XX" in i.message]
    assert len(dropped) == 1
    assert "(GET /a, GET /b)" in dropped[0].message and "2 places" in dropped[0].message
    assert dropped[0].source == "#/paths/~1a/get/responses/5XX"


def test_operation_without_responses_gets_a_default() -> None:
    converted, report = convert(spec({"/a": {"get": {"operationId": "A"}}}, openapi="3.1.0"))
    assert converted.swagger["paths"]["/a"]["get"]["responses"] == {"default": {"description": "Default response"}}
    assert kinds(report, Kind.ENRICHED)


# --------------------------------------------------------------------------- schemas


def test_nullable_and_type_arrays_become_x_nullable() -> None:
    s30, _, _ = schema_of({"type": "object", "properties": {"a": {"type": "string", "nullable": True}}})
    assert s30["properties"]["a"] == {"type": "string", "x-nullable": True}
    s31, report, _ = schema_of(
        {
            "type": "object",
            "properties": {
                "a": {"type": ["string", "null"]},
                "b": {"type": ["integer", "number"]},
                "c": {"type": ["string", "object"]},
                "d": {"type": ["array", "null"], "items": {"type": "integer"}},
                "e": {"enum": ["x", None], "type": ["string", "null"]},
            },
        },
        "3.1.0",
    )
    props = s31["properties"]
    assert props["a"] == {"type": "string", "x-nullable": True}
    assert props["b"] == {"type": "number"}
    assert "type" not in props["c"]
    assert props["d"] == {"type": "array", "items": {"type": "integer"}, "x-nullable": True}
    assert props["e"] == {"type": "string", "enum": ["x"], "x-nullable": True}
    text = messages(report, Kind.APPROXIMATED)
    assert "integer or number became type number" in text
    assert "string or object became an untyped value" in text


def test_const_becomes_a_one_value_enum() -> None:
    s, report, _ = schema_of({"type": "object", "properties": {"kind": {"const": "cat"}}}, "3.1.0")
    assert s["properties"]["kind"] == {"enum": ["cat"], "type": "string"}
    assert 'the constant "cat" became a one-value enum' in messages(report, Kind.APPROXIMATED)


def test_numeric_exclusive_bounds_and_examples() -> None:
    s, _, swagger = schema_of(
        {
            "type": "object",
            "properties": {
                "a": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "examples": [5, 6]},
                "b": {"type": "integer", "minimum": 5, "exclusiveMinimum": 1},
                "c": {"type": "integer", "minimum": 1, "exclusiveMinimum": True, "example": 2},
            },
        },
        "3.1.0",
    )
    props = s["properties"]
    assert props["a"] == {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 10,
        "exclusiveMaximum": True,
        "example": 5,
    }
    assert props["b"] == {"type": "integer", "minimum": 5}
    assert props["c"] == {"type": "integer", "minimum": 1, "exclusiveMinimum": True, "example": 2}
    assert validator_errors(swagger) == []


def test_unsupported_keywords_are_dropped_with_a_report() -> None:
    s, report, swagger = schema_of(
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "not": {"enum": ["x"]}},
                "b": {"type": "string", "writeOnly": True},
                "c": {"type": "object", "if": {"required": ["x"]}, "then": {"required": ["y"]}},
                "d": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
                "e": {"type": "string", "contentEncoding": "base64"},
                "f": {"type": "string", "contentMediaType": "image/png"},
                "g": {"type": "object", "patternProperties": {"^x-": {"type": "string"}}},
                "h": {"type": "string", "$comment": "silent", "frobnicate": 1},
            },
        },
        "3.1.0",
    )
    props = s["properties"]
    assert props["a"] == {"type": "string"}
    assert props["b"] == {"type": "string"}
    assert props["d"]["items"] == {"type": "string"} or "type" in props["d"]["items"]
    assert props["e"] == {"type": "string", "format": "byte"}
    assert props["f"] == {"type": "string", "format": "binary"}
    assert props["g"]["additionalProperties"] == {"type": "string"}
    text = messages(report)
    for expected in (
        "'not' constraint dropped",
        "'writeOnly'",
        "'if'/'then'/'else' condition dropped",
        "'prefixItems'",
        "contentMediaType",
        "patternProperties",
        "'frobnicate'",
    ):
        assert expected in text, expected
    assert "$comment" not in text
    assert validator_errors(swagger) == []


def test_read_only_required_properties_are_no_longer_required() -> None:
    s, report, swagger = schema_of(
        {
            "type": "object",
            "required": ["id", "name", "ghost"],
            "properties": {"id": {"type": "string", "readOnly": True}, "name": {"type": "string"}},
        }
    )
    assert s["required"] == ["name"]
    assert s["properties"]["id"]["readOnly"] is True
    text = messages(report, Kind.APPROXIMATED)
    assert "read-only property 'id' no longer required" in text
    assert "'ghost' are not among the schema's properties" in text
    assert validator_errors(swagger) == []


def test_ref_with_siblings_is_wrapped_in_all_of() -> None:
    s, _, swagger = schema_of(
        {
            "type": "object",
            "properties": {"pet": {"$ref": "#/components/schemas/Pet", "description": "The pet", "nullable": True}},
        },
        Pet={"type": "object", "properties": {"name": {"type": "string"}}},
    )
    assert s["properties"]["pet"] == {
        "allOf": [{"$ref": "#/definitions/Pet"}],
        "description": "The pet",
        "x-nullable": True,
    }
    assert validator_errors(swagger) == []


def test_alias_definitions_and_refs_to_inner_schemas() -> None:
    s, _, swagger = schema_of(
        {
            "type": "object",
            "properties": {
                "a": {"$ref": "#/components/schemas/Alias"},
                "b": {"$ref": "#/components/schemas/Pet/properties/name"},
            },
        },
        Alias={"$ref": "#/components/schemas/Pet"},
        Pet={"type": "object", "properties": {"name": {"type": "string", "maxLength": 9}}},
    )
    assert s["properties"]["a"] == {"$ref": "#/definitions/Pet"}
    assert "Alias" not in swagger["definitions"]
    inner = s["properties"]["b"]["$ref"].split("/")[-1]
    assert swagger["definitions"][inner] == {"type": "string", "maxLength": 9}
    assert validator_errors(swagger) == []


def test_all_of_merged_when_safe_and_kept_otherwise() -> None:
    s, _, swagger = schema_of(
        {
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}},
                {"properties": {"name": {"type": "string"}}, "required": ["name"]},
            ]
        },
        Base={"type": "object", "properties": {"kind": {"type": "string"}}},
    )
    assert s["allOf"] == [{"$ref": "#/definitions/Base"}]
    assert s["type"] == "object"
    assert set(s["properties"]) == {"id", "name"}
    assert s["required"] == ["id", "name"]
    conflict, _, _ = schema_of(
        {
            "allOf": [
                {"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "object", "properties": {"a": {"type": "integer"}}},
            ]
        }
    )
    assert len(conflict["allOf"]) == 1 and conflict["properties"]["a"] == {"type": "string"}
    assert validator_errors(swagger) == []


def test_one_of_objects_merged_into_one_object() -> None:
    s, report, swagger = schema_of(
        {
            "oneOf": [
                {"$ref": "#/components/schemas/Cat"},
                {
                    "type": "object",
                    "required": ["name", "bark"],
                    "properties": {"name": {"type": "string"}, "bark": {"type": "boolean"}},
                },
                {"type": "null"},
            ],
            "description": "A pet",
        },
        Cat={
            "type": "object",
            "required": ["name", "purrs"],
            "properties": {"name": {"type": "string"}, "purrs": {"type": "boolean"}},
        },
    )
    assert s == {
        "type": "object",
        "description": "A pet",
        "properties": {"name": {"type": "string"}, "purrs": {"type": "boolean"}, "bark": {"type": "boolean"}},
        "required": ["name"],
        "x-nullable": True,
    }
    items = kinds(report, Kind.APPROXIMATED)
    assert any(
        "'oneOf' of 2 object schemas became one object" in i.message and i.source == "#/components/schemas/S/oneOf"
        for i in items
    )
    assert validator_errors(swagger) == []


def test_one_of_with_discriminator_and_mapping() -> None:
    s, report, swagger = schema_of(
        {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "petType", "mapping": {"cat": "#/components/schemas/Cat"}},
        },
        Cat={
            "type": "object",
            "required": ["petType"],
            "properties": {"petType": {"type": "string"}, "purrs": {"type": "boolean"}},
        },
        Dog={
            "type": "object",
            "required": ["petType"],
            "properties": {"petType": {"type": "string"}, "barks": {"type": "boolean"}},
        },
    )
    assert s["discriminator"] == "petType"
    assert s["required"] == ["petType"]
    assert s["properties"]["petType"] == {"type": "string", "enum": ["cat", "Dog"]}
    assert swagger["definitions"]["Cat"]["x-ms-discriminator-value"] == "cat"
    assert "x-ms-discriminator-value" not in swagger["definitions"]["Dog"]
    assert "discriminated by 'petType'" in messages(report, Kind.APPROXIMATED)
    assert validator_errors(swagger) == []


def test_discriminator_on_a_base_schema_with_all_of_subtypes() -> None:
    _, report, swagger = schema_of(
        {
            "type": "object",
            "properties": {"petType": {"type": "string"}},
            "discriminator": {"propertyName": "petType", "mapping": {"dog": "Dog"}},
        },
        Dog={
            "allOf": [
                {"$ref": "#/components/schemas/S"},
                {"type": "object", "properties": {"barks": {"type": "boolean"}}},
            ]
        },
    )
    base = swagger["definitions"]["S"]
    assert base["discriminator"] == "petType" and base["required"] == ["petType"]
    assert swagger["definitions"]["Dog"]["x-ms-discriminator-value"] == "dog"
    assert validator_errors(swagger) == []
    _, report, swagger = schema_of(
        {"type": "object", "properties": {"n": {"type": "integer"}}, "discriminator": {"propertyName": "n"}}
    )
    assert "discriminator" not in swagger["definitions"]["S"]
    assert "discriminator 'n' dropped" in messages(report, Kind.DROPPED)


def test_one_of_constants_become_an_enum_with_display_names() -> None:
    s, report, swagger = schema_of(
        {
            "type": "integer",
            "format": "int32",
            "oneOf": [{"title": "LOW", "const": 1}, {"title": "HIGH", "const": 2, "description": "d"}],
        },
        "3.1.0",
    )
    assert s == {
        "type": "integer",
        "format": "int32",
        "enum": [1, 2],
        "x-ms-enum-values": [{"value": 1, "displayName": "LOW"}, {"value": 2, "displayName": "HIGH"}],
    }
    assert "'oneOf' of 2 constant values became an enum" in messages(report, Kind.APPROXIMATED)
    assert validator_errors(swagger) == []


def test_one_of_scalars_widen_and_mixed_become_untyped() -> None:
    s, report, swagger = schema_of(
        {
            "type": "object",
            "properties": {
                "n": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
                "s": {"anyOf": [{"type": "string"}, {"type": "integer"}], "description": "id"},
                "x": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "arr": {
                    "oneOf": [
                        {"type": "array", "items": {"type": "string"}},
                        {"type": "array", "items": {"type": "integer"}},
                    ]
                },
                "only": {"oneOf": [{"$ref": "#/components/schemas/P"}]},
            },
        },
        P={"type": "string"},
    )
    props = s["properties"]
    assert props["n"] == {"type": "number"}
    assert props["s"] == {"type": "string", "description": "id"}
    assert props["x"] == {}
    assert props["arr"] == {"type": "array", "items": {"type": "string"}}
    assert props["only"] == {"$ref": "#/definitions/P"}
    text = messages(report, Kind.APPROXIMATED)
    assert "'oneOf' of 2 alternatives (integer or number) became type number" in text
    assert "'anyOf' of 2 alternatives (string or integer) became type string" in text
    assert "(string or array) became an untyped value" in text
    assert "'oneOf' of 2 array schemas" in text
    assert "'oneOf' of 1" not in text
    assert validator_errors(swagger) == []


def test_one_of_required_alternatives_are_dropped_from_an_object() -> None:
    s, report, _ = schema_of(
        {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
        }
    )
    assert s == {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    assert "alternative constraints" in messages(report, Kind.APPROXIMATED)


def test_array_without_items_gets_items() -> None:
    s, report, swagger = schema_of({"type": "array"})
    assert s == {"type": "array", "items": {}}
    assert kinds(report, Kind.ENRICHED)
    assert validator_errors(swagger) == []


# --------------------------------------------------------------------------- security


def _secured(schemes: dict[str, Any], security: list[Any], version: str = "3.0.3") -> dict[str, Any]:
    return spec(components={"securitySchemes": schemes}, security=security, openapi=version)


def test_api_key_basic_and_bearer_schemes() -> None:
    schemes = {
        "key": {"type": "apiKey", "in": "header", "name": "X-Key", "description": "Key"},
        "query": {"type": "apiKey", "in": "query", "name": "k"},
        "cookie": {"type": "apiKey", "in": "cookie", "name": "c"},
        "basic": {"type": "http", "scheme": "Basic"},
        "bearer": {"type": "http", "scheme": "Bearer", "bearerFormat": "JWT"},
        "digest": {"type": "http", "scheme": "digest"},
    }
    converted, report = convert(_secured(schemes, [{"key": []}, {"cookie": []}, {"bearer": ["read"]}]))
    swagger = converted.swagger
    assert swagger["securityDefinitions"] == {
        "key": {"type": "apiKey", "in": "header", "name": "X-Key", "description": "Key"},
        "query": {"type": "apiKey", "in": "query", "name": "k"},
        "basic": {"type": "basic"},
        "bearer": {"type": "apiKey", "in": "header", "name": "Authorization"},
    }
    assert converted.bearer_schemes == {"bearer"}
    assert swagger["security"] == [{"key": []}, {"bearer": []}]
    text = messages(report)
    assert "API key in a cookie" in text
    assert "HTTP digest" in text
    assert "scopes of 'bearer' dropped (read)" in text
    assert validator_errors(swagger) == []


def test_oauth2_prefers_authorization_code_and_reports_the_rest() -> None:
    flows = {
        "implicit": {"authorizationUrl": "https://a.example.com/auth", "scopes": {"read": "Read"}},
        "authorizationCode": {
            "authorizationUrl": "https://a.example.com/auth",
            "tokenUrl": "/token",
            "refreshUrl": "https://a.example.com/refresh",
            "scopes": {"read": "Read"},
        },
    }
    converted, report = convert(_secured({"oauth": {"type": "oauth2", "flows": flows}}, [{"oauth": ["read", "extra"]}]))
    definition = converted.swagger["securityDefinitions"]["oauth"]
    assert definition == {
        "type": "oauth2",
        "flow": "accessCode",
        "authorizationUrl": "https://a.example.com/auth",
        "tokenUrl": "https://api.example.com/token",
        "scopes": {"read": "Read", "extra": "extra"},
    }
    text = messages(report)
    assert "flow(s) implicit of 'oauth' dropped" in text
    assert "refreshUrl of 'oauth' dropped" in text
    assert "scope(s) extra" in text
    assert validator_errors(converted.swagger) == []
    only_client = {
        "cc": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://a.example.com/t", "scopes": {}}}}
    }
    converted, _ = convert(_secured(only_client, [{"cc": []}]))
    assert converted.swagger["securityDefinitions"]["cc"] == {
        "type": "oauth2",
        "flow": "application",
        "tokenUrl": "https://a.example.com/t",
        "scopes": {},
    }


def test_open_id_connect_needs_urls() -> None:
    schemes = {
        "oidc": {"type": "openIdConnect", "openIdConnectUrl": "https://id.example.com/.well-known/openid-configuration"}
    }
    doc = _secured(schemes, [{"oidc": ["openid", "profile"]}])
    with pytest.raises(
        InputError, match=r"api\.yaml: .*oidc.*well-known/openid-configuration.*--authorization-url and --token-url"
    ):
        convert(doc, location="api.yaml")
    converted, report = convert(doc, oidc_urls=("https://id.example.com/authorize", "https://id.example.com/token"))
    assert converted.swagger["securityDefinitions"]["oidc"] == {
        "type": "oauth2",
        "flow": "accessCode",
        "authorizationUrl": "https://id.example.com/authorize",
        "tokenUrl": "https://id.example.com/token",
        "scopes": {"openid": "openid", "profile": "profile"},
    }
    assert converted.swagger["security"] == [{"oidc": ["openid", "profile"]}]
    assert "OpenID Connect scheme 'oidc'" in messages(report, Kind.APPROXIMATED)
    assert validator_errors(converted.swagger) == []


def test_unused_open_id_connect_scheme_is_dropped_when_others_exist() -> None:
    schemes = {
        "oidc": {
            "type": "openIdConnect",
            "openIdConnectUrl": "https://id.example.com/.well-known/openid-configuration",
        },
        "key": {"type": "apiKey", "in": "header", "name": "X-Key"},
    }
    converted, report = convert(_secured(schemes, [{"key": []}]))
    assert set(converted.swagger["securityDefinitions"]) == {"key"}
    assert "unused OpenID Connect scheme 'oidc' dropped" in messages(report, Kind.DROPPED)


def test_operation_security_overrides() -> None:
    schemes = {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
    doc = _secured(schemes, [{"key": []}])
    doc["paths"]["/items"]["get"]["security"] = []
    converted, _ = convert(doc)
    assert converted.swagger["paths"]["/items"]["get"]["security"] == []


# --------------------------------------------------------------------------- callbacks, links, webhooks


def test_subscription_callback_becomes_a_candidate() -> None:
    callback = {
        "onEvent": {
            "{$request.body#/callbackUrl}": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {"type": "object", "properties": {"event": {"type": "string"}}}
                            }
                        }
                    },
                    "responses": {"200": {"description": "OK"}},
                }
            }
        },
        "other": {"https://fixed.example.com/hook": {"post": {"responses": {"200": {"description": "OK"}}}}},
    }
    body = {
        "content": {
            "application/json": {
                "schema": {"type": "object", "properties": {"callbackUrl": {"type": "string", "format": "uri"}}}
            }
        }
    }
    converted, report = convert(
        spec({"/subscriptions": {"post": op(operationId="Subscribe", requestBody=body, callbacks=callback)}})
    )
    candidates = kinds(report, Kind.CANDIDATE)
    assert len(candidates) == 1
    candidate = candidates[0]
    assert "body property 'callbackUrl'" in candidate.message
    assert "x-ms-trigger" in candidate.message and "x-ms-notification-content" in candidate.message
    assert candidate.source == "#/paths/~1subscriptions/post/callbacks/onEvent/{$request.body#~1callbackUrl}/post"
    assert candidate.target == "#/paths/~1subscriptions/post"
    dropped = messages(report, Kind.DROPPED)
    assert "callback 'onEvent' of POST /subscriptions dropped" in dropped
    assert "callback 'other'" in dropped
    assert "callbacks" not in converted.swagger["paths"]["/subscriptions"]["post"]


def test_callback_on_an_unknown_input_is_no_candidate() -> None:
    callback = {
        "cb": {
            "{$request.query.nowhere}": {
                "post": {
                    "requestBody": {"content": {"application/json": {}}},
                    "responses": {"200": {"description": "OK"}},
                }
            }
        }
    }
    _, report = convert(spec({"/a": {"post": op(callbacks=callback)}}))
    assert not kinds(report, Kind.CANDIDATE)


def test_connector_extensions_are_kept_with_their_references_rewritten() -> None:
    notification = {"description": "New item", "schema": {"$ref": "#/components/schemas/Item"}}
    doc = spec(
        {
            "/hooks": {
                "x-ms-notification-content": notification,
                "post": op(**{"x-ms-trigger": "single", "x-ms-dynamic": {"$ref": "#/components/parameters/P"}}),
            }
        },
        components={
            "schemas": {"Item": {"type": "object", "properties": {"id": {"type": "string", "nullable": True}}}},
            "parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "string"}}},
        },
    )
    converted, _ = convert(doc)
    item = converted.swagger["paths"]["/hooks"]
    assert item["x-ms-notification-content"] == {"description": "New item", "schema": {"$ref": "#/definitions/Item"}}
    assert item["post"]["x-ms-trigger"] == "single"
    assert item["post"]["x-ms-dynamic"] == {"$ref": "#/parameters/P"}
    assert converted.swagger["definitions"]["Item"]["properties"]["id"] == {"type": "string", "x-nullable": True}


def test_webhooks_next_to_paths_are_reported() -> None:
    doc = spec(openapi="3.1.0", webhooks={"petAdded": {"post": {"responses": {"200": {"description": "OK"}}}}})
    converted, report = convert(doc)
    assert "webhooks" not in converted.swagger
    assert any(i.source == "#/webhooks/petAdded" for i in kinds(report, Kind.DROPPED))
