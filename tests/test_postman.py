"""Postman collections to Swagger 2.0: real collections, and small ones for each rule."""

from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path
from typing import Any

import pytest

import connectorkit.lint.rules  # noqa: F401  (registers the rules)
from connectorkit.authoring.postman import (
    check_postman_version,
    convert_postman,
    infer_schema,
    merge_schemas,
    pascal_case,
)
from connectorkit.authoring.report import Kind, Report
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import On, Profile

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"
needs_specs = pytest.mark.skipif(not SPECS.is_dir(), reason=f"shared test specs not found at {SPECS}")

COLLECTIONS = [
    "Brightspace__Postman-Collections/Test Data Setup/Test Data Setup.postman_collection.json",
    "transferwise__public-api-postman-collection/all-endpoints/TW-API.postman_collection.json",
    "transferwise__public-api-postman-collection/cards-api/Cards API.postman_collection.json",
    "postmanlabs__postman-collection-transformer/examples/v2.0.0/box.json",
]
V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
V20 = "https://schema.getpostman.com/json/collection/v2.0.0/collection.json"
RULES = [r for r in active_rules(Profile.CUSTOM) if r.on not in (On.LOAD, On.DIFF)]


def validator_errors(swagger: dict[str, Any]) -> list[str]:
    package = ConnectorPackage(definition=swagger, api_properties={"properties": {"iconBrandColor": "#1F6FB2"}})
    return [f"{f.rule} {f.pointer}: {f.message}" for f in lint_package(package, RULES) if f.severity.value == "error"]


def collection(*items: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"info": {"name": "Test API", "schema": V21}, "item": list(items), **top}


def request(name: str, method: str, url: Any, **extra: Any) -> dict[str, Any]:
    item_keys = {k: extra.pop(k) for k in ("response", "event") if k in extra}
    return {"name": name, "request": {"method": method, "url": url, **extra}, **item_keys}


def convert(doc: dict[str, Any]) -> tuple[dict[str, Any], Report, Any]:
    report = Report()
    converted = convert_postman(doc, report)
    swagger = converted.swagger
    assert validator_errors(swagger) == []
    return swagger, report, converted


def op_at(swagger: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = swagger["paths"][path][method]
    return operation


def names(operation: dict[str, Any], where: str | None = None) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if where is None or p["in"] == where]


def messages(report: Report, kind: Kind | None = None) -> list[str]:
    return [i.message for i in report.items if kind is None or i.kind is kind]


# --------------------------------------------------------------------------- real collections


def _requests(items: list[Any], pointer: str) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for index, item in enumerate(items):
        here = f"{pointer}/{index}"
        if isinstance(item.get("item"), list):
            out.extend(_requests(item["item"], f"{here}/item"))
        else:
            out.append((here, item))
    return out


def _expected_path(item: dict[str, Any]) -> tuple[str, list[str], list[str]]:
    """Method, the path's static shape ('{}' for a parameter) and the query names, read simply."""
    url = item["request"]["url"]
    raw = url if isinstance(url, str) else url["raw"]
    raw = re.sub(r"^[a-z]+://", "", raw.split("?")[0])
    segments = [s.strip() for s in raw.split("/")[1:] if s.strip()]
    shape = []
    for seg in segments:
        if re.fullmatch(r":\w+|<[^>]+>|\{[\w.-]+\}|\d{4,}", seg):
            shape.append("{}")
        else:
            shape.append(re.sub(r"\{\{[^}]*\}\}", "{}", seg))
    query = [] if isinstance(url, str) else [q["key"] for q in url.get("query", []) if not q.get("disabled")]
    if isinstance(url, str) and "?" in url:
        query = [q.split("=")[0] for q in url.split("?", 1)[1].split("&")]
    return item["request"]["method"].lower(), shape, query


def _shape(base: str, path: str) -> list[str]:
    full = (base.rstrip("/") + path).strip("/")
    return [re.sub(r"\{[^}]*\}", "{}", s) for s in full.split("/") if s]


@needs_specs
@pytest.mark.parametrize("name", COLLECTIONS, ids=lambda n: n.split("/")[-1])
def test_real_collection_converts_cleanly(name: str) -> None:
    doc = json.loads((SPECS / name).read_text(encoding="utf-8"))
    swagger, report, _ = convert(doc)
    assert swagger["swagger"] == "2.0"
    base = swagger["basePath"]
    operations = {(m, tuple(_shape(base, p))): op for p, item in swagger["paths"].items() for m, op in item.items()}
    assert operations
    dropped_sources = [i.source or "" for i in report.items if i.kind is Kind.DROPPED]
    sources = [i.source or "" for i in report.items]
    for pointer, item in _requests(doc["item"], "#/item"):
        method, shape, query = _expected_path(item)
        accounted = any(s == pointer or s.startswith(pointer + "/request/url") for s in dropped_sources)
        reported = any(s == pointer or s.startswith(pointer + "/") for s in sources)
        operation = operations.get((method, tuple(shape)))
        if operation is None:
            assert reported, f"{pointer} {method} {shape}: no operation and no report line"
            continue
        if not accounted:
            present = set(names(operation))
            assert {q.strip() for q in query if q.strip()} <= present, f"{pointer}: query {query} not in {present}"


@needs_specs
def test_brightspace_host_auth_and_tags() -> None:
    doc = json.loads((SPECS / COLLECTIONS[0]).read_text(encoding="utf-8"))
    swagger, report, converted = convert(doc)
    assert swagger["host"] == "devcop.brightspace.com"
    assert swagger["basePath"] == "/d2l/api"
    assert swagger["schemes"] == ["https"]
    assert swagger["security"] == [{"bearer": []}]
    assert converted.bearer_schemes == {"bearer"}
    roles = op_at(swagger, "/lp/{lpversion}/roles/", "get")
    assert roles["parameters"][0]["default"] == "1.30"
    assert op_at(swagger, "/lp/versions/", "get")["tags"] == ["API Setup Calls"]
    scripts = [m for m in messages(report, Kind.DROPPED) if "test script" in m]
    assert len(scripts) == 1
    order = ["swagger", "info", "host", "basePath", "schemes", "paths", "securityDefinitions", "security", "tags"]
    assert list(swagger) == order


@needs_specs
def test_transferwise_unknown_host_and_mixed_auth() -> None:
    doc = json.loads((SPECS / COLLECTIONS[1]).read_text(encoding="utf-8"))
    swagger, report, _ = convert(doc)
    assert "host" not in swagger
    assert any("{{host}}" in m and "left out" in m for m in messages(report))
    assert set(swagger["securityDefinitions"]) == {"basic", "bearer"}
    assert "security" not in swagger
    assert op_at(swagger, "/v1/borderless-accounts", "get")["security"] == [{"bearer": []}]
    assert any("several kinds of authentication" in m for m in messages(report))
    statement = op_at(swagger, "/v1/borderless-accounts/{accountId}/statement.json", "get")
    assert names(statement) == ["accountId", "currency", "intervalStart", "intervalEnd"]
    validators = op_at(swagger, "/v1/validators/canadian-account-number", "get")
    assert names(validators, "query") == ["accountNumber", "institutionNumber", "transitNumber"]


@needs_specs
def test_box_v20_string_urls_and_literal_ids() -> None:
    doc = json.loads((SPECS / COLLECTIONS[3]).read_text(encoding="utf-8"))
    swagger, report, converted = convert(doc)
    assert swagger["host"] == "api.box.com"
    assert "https://upload.box.com" in converted.servers
    assert op_at(swagger, "/2.0/collaborations", "get")["parameters"][0]["default"] == "pending"
    assert "/2.0/collaborations/{collaborationId}" in swagger["paths"]
    assert any("upload.box.com" in m for m in messages(report, Kind.DROPPED))
    files = op_at(swagger, "/2.0/files/{fileId}/comments", "get")
    assert "parameters" in files and all(p["in"] != "formData" for p in files["parameters"])


# --------------------------------------------------------------------------- inference


def test_infer_scalars_and_nested_objects() -> None:
    schema = infer_schema({"a": 1, "b": 1.5, "c": "x", "d": True, "e": {"f": [1, 2]}, "g": "2024-01-02T03:04:05Z"})
    assert schema == {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "number"},
            "c": {"type": "string"},
            "d": {"type": "boolean"},
            "e": {"type": "object", "properties": {"f": {"type": "array", "items": {"type": "integer"}}}},
            "g": {"type": "string", "format": "date-time"},
        },
    }


def test_infer_arrays_merge_item_shapes() -> None:
    schema = infer_schema([{"a": 1}, {"b": "x"}, {"a": 2.5, "c": None}])
    assert schema == {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "string"}, "c": {"x-nullable": True}},
        },
    }


def test_infer_empty_array_null_and_empty_object() -> None:
    assert infer_schema([]) == {"type": "array", "items": {}}
    assert infer_schema(None) == {"x-nullable": True}
    assert infer_schema({}) == {"type": "object"}
    assert infer_schema([1, 2.0]) == {"type": "array", "items": {"type": "number"}}
    assert infer_schema([None, "x"]) == {"type": "array", "items": {"type": "string", "x-nullable": True}}


def test_merge_conflicts_and_nullability() -> None:
    assert merge_schemas({"type": "string"}, {"type": "object"}) == {}
    assert merge_schemas({"type": "integer"}, {"x-nullable": True}) == {"type": "integer", "x-nullable": True}
    assert merge_schemas({"type": "array", "items": {}}, {"type": "array", "items": {"type": "string"}}) == {
        "type": "array",
        "items": {"type": "string"},
    }
    assert merge_schemas({"type": "string", "format": "date-time"}, {"type": "string"}) == {"type": "string"}


def test_pascal_case() -> None:
    assert pascal_case("List authorisation rules") == "ListAuthorisationRules"
    assert pascal_case("Get a Group's Collaborations") == "GetAGroupsCollaborations"
    assert pascal_case("POST /accounts SEK") == "PostAccountsSEK"
    assert pascal_case("2. Create card") == "CreateCard"
    assert pascal_case("42") == "Operation42"
    assert pascal_case("Crée un élément") == "CreeUnElement"


# --------------------------------------------------------------------------- URLs, hosts, paths


def test_variables_resolve_host_and_base_path() -> None:
    doc = collection(
        request("List users", "GET", "{{baseUrl}}/users"),
        request("Get user", "GET", "{{baseUrl}}/users/:id"),
        variable=[
            {"key": "baseUrl", "value": "{{scheme}}://api.example.com/v2"},
            {"key": "scheme", "value": "http"},
        ],
    )
    swagger, _, converted = convert(doc)
    assert swagger["host"] == "api.example.com"
    assert swagger["schemes"] == ["http"]
    assert swagger["basePath"] == "/v2"
    assert set(swagger["paths"]) == {"/users", "/users/{id}"}
    assert converted.servers == ["http://api.example.com/v2"]


def test_base_path_is_whole_segments_and_keeps_one_segment() -> None:
    doc = collection(
        request("A", "GET", "https://api.example.com/api/v1/items"),
        request("B", "GET", "https://api.example.com/api/v1x/things"),
    )
    swagger, _, _ = convert(doc)
    assert swagger["basePath"] == "/api"
    assert set(swagger["paths"]) == {"/v1/items", "/v1x/things"}
    single, _, _ = convert(collection(request("Only", "GET", "https://api.example.com/v1/items")))
    assert single["basePath"] == "/v1"
    assert list(single["paths"]) == ["/items"]


def test_http_and_https_on_one_host_share_it() -> None:
    doc = collection(
        request("A", "GET", "https://api.example.com/a"),
        request("B", "GET", "http://api.example.com/b"),
        request("C", "GET", "https://api.example.com/c"),
    )
    swagger, report, _ = convert(doc)
    assert swagger["schemes"] == ["https", "http"]
    assert set(swagger["paths"]) == {"/a", "/b", "/c"}
    assert messages(report) == []


def test_unknown_host_variable_is_left_out_with_report() -> None:
    swagger, report, converted = convert(collection(request("Ping", "GET", "{{baseUrl}}/ping")))
    assert "host" not in swagger
    item = next(i for i in report.items if "left out" in i.message)
    assert item.kind is Kind.APPROXIMATED and item.target == "#/host" and "{{baseUrl}}" in item.message
    assert converted.url_template is None


def test_per_tenant_host_becomes_url_template() -> None:
    doc = collection(request("Ping", "GET", "https://{{tenant}}.example.com/api/ping"))
    swagger, report, converted = convert(doc)
    assert "host" not in swagger
    assert converted.url_template == "https://@connectionParameters('tenant').example.com/api"
    assert converted.host_parameters == {"tenant": {"description": "The tenant of the service's address"}}
    assert list(swagger["paths"]) == ["/ping"]
    assert any("each connection chooses it" in m for m in messages(report))


def test_requests_on_other_hosts_are_dropped() -> None:
    doc = collection(
        request("A", "GET", "https://api.example.com/a"),
        request("B", "GET", "https://api.example.com/b"),
        request("C", "GET", "https://other.example.com/c"),
    )
    swagger, report, converted = convert(doc)
    assert swagger["host"] == "api.example.com"
    assert "/c" not in swagger["paths"]
    item = next(i for i in report.items if "other.example.com" in i.message)
    assert item.kind is Kind.DROPPED and item.source == "#/item/2/request/url"
    assert converted.servers == ["https://api.example.com", "https://other.example.com"]


def test_path_variables_of_every_kind() -> None:
    url = {
        "raw": "https://api.example.com/v1/orgs/:org/{{team}}/<member>/{item}/files/{{name}}.{{ext}}",
        "host": ["api", "example", "com"],
        "protocol": "https",
        "path": ["v1", "orgs", ":org", "{{team}}", "<member>", "{item}", "files", "{{name}}.{{ext}}"],
        "variable": [{"key": "org", "value": "contoso", "description": "The organisation"}],
    }
    health = request("Health", "GET", "https://api.example.com/v1/health")
    doc = collection(request("Get file", "GET", url), health, variable=[{"key": "team", "value": "blue"}])
    swagger, _, _ = convert(doc)
    path = "/orgs/{org}/{team}/{member}/{item}/files/{name}.{ext}"
    operation = op_at(swagger, path, "get")
    params = {p["name"]: p for p in operation["parameters"]}
    assert list(params) == ["org", "team", "member", "item", "name", "ext"]
    for param in params.values():
        assert param["in"] == "path" and param["required"] is True and param["type"] == "string"
        assert param["x-ms-url-encoding"] == "single"
    assert params["org"]["description"] == "The organisation"
    assert "default" not in params["org"]
    assert params["team"]["default"] == "blue"
    assert "default" not in params["name"]


def test_literal_ids_become_named_path_parameters() -> None:
    doc = collection(
        request(
            "Get", "GET", "https://api.example.com/v1/categories/12345/entries/1e2b3c4d-0000-4000-8000-123456789abc"
        ),
        request("Other", "DELETE", "https://api.example.com/v1/categories/98765"),
        request("Health", "GET", "https://api.example.com/v1/health"),
    )
    swagger, report, _ = convert(doc)
    assert "/categories/{categoryId}/entries/{entryId}" in swagger["paths"]
    assert "delete" in swagger["paths"]["/categories/{categoryId}"]
    assert any("ID written into the path" in m for m in messages(report, Kind.APPROXIMATED))


def test_variable_holding_several_segments_is_written_in() -> None:
    doc = collection(
        request("Get", "GET", "https://api.example.com/{{prefix}}/items"),
        variable=[{"key": "prefix", "value": "api/v3"}],
    )
    swagger, report, _ = convert(doc)
    assert swagger["basePath"] == "/api/v3"
    assert list(swagger["paths"]) == ["/items"]
    assert any("hold several path segments" in m for m in messages(report))


def test_v20_string_urls_and_string_requests() -> None:
    doc = {
        "info": {"name": "Old", "schema": V20},
        "item": [
            {"name": "Search", "request": {"method": "GET", "url": "https://api.example.com/v1/search?q=cats&limit=5"}},
            {"name": "Plain", "request": "https://api.example.com/v1/plain"},
            {
                "name": "With headers",
                "request": {
                    "method": "POST",
                    "url": "https://api.example.com/v1/things",
                    "header": "X-Trace: abc\nContent-Type: application/json",
                    "body": {"mode": "raw", "raw": '{"a": 1}'},
                },
            },
        ],
    }
    swagger, _, _ = convert(doc)
    search = op_at(swagger, "/search", "get")
    assert [(p["name"], p["in"], p.get("default")) for p in search["parameters"]] == [
        ("q", "query", "cats"),
        ("limit", "query", "5"),
    ]
    assert "get" in swagger["paths"]["/plain"]
    things = op_at(swagger, "/things", "post")
    assert names(things, "header") == ["X-Trace"]
    assert things["consumes"] == ["application/json"]


def test_duplicates_keep_the_first_and_merge_what_they_add() -> None:
    doc = collection(
        request("Create A", "POST", "https://api.example.com/items", body={"mode": "raw", "raw": '{"a": 1}'}),
        request(
            "Create B",
            "POST",
            {"raw": "https://api.example.com/items?dry=1", "query": [{"key": "dry", "value": "1"}]},
            body={"mode": "raw", "raw": '{"b": "x"}'},
        ),
    )
    swagger, report, _ = convert(doc)
    operation = op_at(swagger, "/items", "post")
    assert operation["operationId"] == "CreateA"
    assert names(operation) == ["body", "dry"]
    schema = operation["parameters"][0]["schema"]
    assert set(schema["properties"]) == {"a", "b"}
    assert schema["example"] == {"a": 1}
    item = next(i for i in report.items if "second POST" in i.message)
    assert item.kind is Kind.DROPPED and item.source == "#/item/1" and item.target == "#/paths/~1items/post"


def test_path_parameter_names_are_shared_per_template() -> None:
    doc = collection(
        request("Get", "GET", "https://api.example.com/users/:id"),
        request("Delete", "DELETE", "https://api.example.com/users/{{userId}}"),
        request("Get again", "GET", "https://api.example.com/users/:other"),
        request("Health", "GET", "https://api.example.com/health"),
    )
    swagger, report, _ = convert(doc)
    assert list(swagger["paths"]) == ["/users/{id}", "/health"]
    assert set(swagger["paths"]["/users/{id}"]) == {"get", "delete"}
    assert any("renamed userId -> id" in m for m in messages(report, Kind.NOTE))
    assert any("second GET" in m for m in messages(report, Kind.DROPPED))


def test_unsupported_method_and_missing_url_are_reported() -> None:
    doc = collection(
        request("Purge", "PURGE", "https://api.example.com/cache"),
        {"name": "No URL", "request": {"method": "GET"}},
        request("Ok", "GET", "https://api.example.com/ok"),
    )
    swagger, report, _ = convert(doc)
    assert list(swagger["paths"]) == ["/ok"]
    dropped = messages(report, Kind.DROPPED)
    assert any("PURGE" in m for m in dropped) and any("no URL" in m for m in dropped)


# --------------------------------------------------------------------------- operations


def test_operation_ids_summaries_descriptions_and_tags() -> None:
    long_name = "Retrieve " + "every single thing " * 6 + "now."
    doc = collection(
        {
            "name": "Things",
            "description": "Things and more.",
            "item": [
                request("Get thing.", "GET", "https://api.example.com/a", description="Gets **one** thing."),
                request("Get thing", "GET", "https://api.example.com/b"),
                request(long_name, "GET", "https://api.example.com/c"),
            ],
        }
    )
    swagger, report, _ = convert(doc)
    first, second = op_at(swagger, "/a", "get"), op_at(swagger, "/b", "get")
    assert first["operationId"] == "GetThing" and second["operationId"] == "GetThing2"
    assert first["summary"] == "Get thing" and first["description"] == "Gets **one** thing."
    assert first["tags"] == ["Things"]
    assert swagger["tags"] == [{"name": "Things", "description": "Things and more."}]
    assert any("GetThing2" in m for m in messages(report, Kind.NOTE))
    third = op_at(swagger, "/c", "get")
    assert len(third["summary"]) <= 80 and not third["summary"].endswith((" ", "."))
    assert third["description"] == long_name
    assert any("longer than 80" in m for m in messages(report, Kind.APPROXIMATED))


def test_query_and_header_entries() -> None:
    url = {
        "raw": "https://api.example.com/search",
        "host": ["api", "example", "com"],
        "path": ["search"],
        "query": [
            {"key": "q", "value": "{{term}}", "description": "What to look for"},
            {"key": "page", "value": "{{page}}"},
            {"key": "debug", "value": "1", "disabled": True},
            {"key": "id", "value": "<id>"},
        ],
    }
    headers = [
        {"key": "Accept", "value": "application/xml"},
        {"key": "X-Tenant", "value": "acme"},
        {"key": "X-Off", "value": "1", "disabled": True},
        {"key": "Content-Length", "value": "10"},
    ]
    doc = collection(request("Search", "GET", url, header=headers), variable=[{"key": "term", "value": "cats"}])
    swagger, report, _ = convert(doc)
    operation = op_at(swagger, "/search", "get")
    params = {p["name"]: p for p in operation["parameters"]}
    assert list(params) == ["q", "page", "id", "X-Tenant"]
    assert params["q"]["default"] == "cats" and params["q"]["description"] == "What to look for"
    assert "default" not in params["page"] and "default" not in params["id"]
    assert params["X-Tenant"] == {"name": "X-Tenant", "in": "header", "required": False, "type": "string"} | {
        "default": "acme"
    }
    assert operation["produces"] == ["application/xml"]
    notes = messages(report, Kind.NOTE)
    assert any("debug" in m for m in notes) and any("X-Off" in m for m in notes)
    assert any("Content-Length" in m for m in messages(report, Kind.DROPPED))


# --------------------------------------------------------------------------- bodies


def test_raw_json_with_placeholders() -> None:
    raw = '{\n  "id": {{userId}},\n  "role": {{role}},\n  "name": "{{name}}",\n  "ref": <ref>,\n  "code": 00042\n}'
    doc = collection(
        request("Create", "POST", "https://api.example.com/users", body={"mode": "raw", "raw": raw}),
        variable=[{"key": "role", "value": "3"}, {"key": "name", "value": "Ada"}],
    )
    swagger, report, _ = convert(doc)
    body = op_at(swagger, "/users", "post")["parameters"][0]
    assert body["in"] == "body" and body["required"] is True
    props = body["schema"]["properties"]
    assert props["id"] == {"x-nullable": True}
    assert props["role"] == {"type": "integer"}
    assert props["name"] == {"type": "string"}
    assert props["ref"] == {"x-nullable": True}
    assert props["code"] == {"type": "string"}
    assert body["schema"]["example"] == {"id": None, "role": 3, "name": "Ada", "ref": None, "code": "00042"}
    assert op_at(swagger, "/users", "post")["consumes"] == ["application/json"]
    item = next(i for i in report.items if "placeholders" in i.message)
    assert item.kind is Kind.APPROXIMATED and "{{userId}}" in item.message and "<ref>" in item.message
    assert item.target == "#/paths/~1users/post/parameters/0"


def test_raw_json_with_comments_and_trailing_text() -> None:
    doc = collection(
        request("A", "POST", "https://api.example.com/a", body={"mode": "raw", "raw": '{"a": 1, // note\n}'}),
        request("B", "POST", "https://api.example.com/b", body={"mode": "raw", "raw": '{"b": [1]}\n}'}),
    )
    swagger, _, _ = convert(doc)
    assert op_at(swagger, "/a", "post")["parameters"][0]["schema"]["properties"] == {"a": {"type": "integer"}}
    b_schema = op_at(swagger, "/b", "post")["parameters"][0]["schema"]
    assert b_schema["properties"]["b"] == {"type": "array", "items": {"type": "integer"}}


def test_raw_non_json_and_broken_json() -> None:
    xml = {"mode": "raw", "raw": "<a>1</a>", "options": {"raw": {"language": "xml"}}}
    broken = {"mode": "raw", "raw": '{"a": nope}', "options": {"raw": {"language": "json"}}}
    doc = collection(
        request("Xml", "POST", "https://api.example.com/x", body=xml),
        request("Broken", "POST", "https://api.example.com/y", body=broken),
        request("Text", "PUT", "https://api.example.com/z", body={"mode": "raw", "raw": "hello"}),
    )
    swagger, report, _ = convert(doc)
    x = op_at(swagger, "/x", "post")
    assert x["parameters"][0]["schema"] == {"type": "string"} and x["consumes"] == ["application/xml"]
    y = op_at(swagger, "/y", "post")
    assert y["parameters"][0]["schema"] == {"type": "string"} and y["consumes"] == ["application/json"]
    assert any("cannot be read" in m for m in messages(report, Kind.APPROXIMATED))
    assert op_at(swagger, "/z", "put")["consumes"] == ["text/plain"]


def test_formdata_file_and_urlencoded() -> None:
    form = {
        "mode": "formdata",
        "formdata": [
            {"key": "file", "type": "file", "src": "/tmp/a.png", "description": "The picture"},
            {"key": "title", "value": "Holiday", "type": "text"},
            {"key": "skip", "value": "x", "type": "text", "disabled": True},
        ],
    }
    encoded = {"mode": "urlencoded", "urlencoded": [{"key": "grant_type", "value": "client_credentials"}]}
    doc = collection(
        request("Upload", "POST", "https://api.example.com/upload", body=form),
        request("Token", "POST", "https://api.example.com/token", body=encoded),
    )
    swagger, report, _ = convert(doc)
    upload = op_at(swagger, "/upload", "post")
    assert upload["consumes"] == ["multipart/form-data"]
    assert upload["parameters"][0] == {
        "name": "file",
        "in": "formData",
        "description": "The picture",
        "required": False,
        "type": "file",
    }
    assert upload["parameters"][1]["default"] == "Holiday"
    assert names(upload) == ["file", "title"]
    assert any("skip" in m for m in messages(report, Kind.NOTE))
    token = op_at(swagger, "/token", "post")
    assert token["consumes"] == ["application/x-www-form-urlencoded"]
    assert token["parameters"][0]["in"] == "formData" and token["parameters"][0]["type"] == "string"


def test_graphql_body_and_get_with_body() -> None:
    graphql = {"mode": "graphql", "graphql": {"query": "{ me { id } }", "variables": ""}}
    doc = collection(
        request("Query", "POST", "https://api.example.com/graphql", body=graphql),
        request("Get", "GET", "https://api.example.com/items", body={"mode": "raw", "raw": '{"a": 1}'}),
    )
    swagger, report, _ = convert(doc)
    query = op_at(swagger, "/graphql", "post")
    schema = query["parameters"][0]["schema"]
    assert schema["properties"]["query"]["default"] == "{ me { id } }"
    assert query["consumes"] == ["application/json"]
    assert any("GraphQL" in m for m in messages(report, Kind.APPROXIMATED))
    assert "parameters" not in op_at(swagger, "/items", "get")
    assert any("body with GET" in m for m in messages(report, Kind.DROPPED))


# --------------------------------------------------------------------------- responses


def test_saved_examples_become_responses() -> None:
    responses = [
        {
            "name": "Found it",
            "code": 200,
            "status": "OK",
            "header": [{"key": "Content-Type", "value": "application/json; charset=utf-8"}],
            "body": '{"id": 1, "tags": []}',
        },
        {"name": "Another", "code": 200, "body": '{"id": 2, "tags": ["x"], "extra": null}', "header": []},
        {"name": "Missing", "code": 404, "_postman_previewlanguage": "text", "body": "not here"},
        {"name": "Empty", "code": 204},
    ]
    doc = collection(
        request("Get", "GET", "https://api.example.com/items/:id", response=responses),
        request("Health", "GET", "https://api.example.com/health"),
    )
    swagger, _, _ = convert(doc)
    operation = op_at(swagger, "/items/{id}", "get")
    assert list(operation["responses"]) == ["200", "204", "404"]
    ok = operation["responses"]["200"]
    assert ok["description"] == "Found it"
    assert ok["schema"]["properties"] == {
        "id": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "extra": {"x-nullable": True},
    }
    assert ok["examples"] == {"application/json": {"id": 1, "tags": []}}
    assert operation["responses"]["404"] == {"description": "Missing", "schema": {"type": "string"}}
    assert operation["responses"]["204"] == {"description": "Empty"}
    assert operation["produces"] == ["application/json", "text/plain"]


def test_no_saved_examples_gives_200() -> None:
    swagger, _, _ = convert(collection(request("Get", "GET", "https://api.example.com/a")))
    assert op_at(swagger, "/a", "get")["responses"] == {"200": {"description": "OK"}}


# --------------------------------------------------------------------------- auth


def test_auth_inheritance_and_overrides() -> None:
    bearer = {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]}
    basic = {"type": "basic", "basic": [{"key": "username", "value": "u"}, {"key": "password", "value": "p"}]}
    apikey = {"type": "apikey", "apikey": [{"key": "key", "value": "api_key"}, {"key": "in", "value": "query"}]}
    doc = collection(
        request("Inherits", "GET", "https://api.example.com/a"),
        {
            "name": "Folder",
            "auth": basic,
            "item": [
                request("From folder", "GET", "https://api.example.com/b"),
                request("Own", "GET", "https://api.example.com/c", auth=apikey),
                request("None", "GET", "https://api.example.com/d", auth={"type": "noauth"}),
                {"name": "Inner", "item": [request("Deep", "GET", "https://api.example.com/e")]},
            ],
        },
        auth=bearer,
    )
    swagger, report, converted = convert(doc)
    assert swagger["securityDefinitions"] == {
        "bearer": {"type": "apiKey", "in": "header", "name": "Authorization"},
        "basic": {"type": "basic"},
        "api_key": {"type": "apiKey", "in": "query", "name": "api_key"},
    }
    assert converted.bearer_schemes == {"bearer"}
    security = {p: op_at(swagger, p, "get")["security"] for p in ("/a", "/b", "/c", "/d", "/e")}
    assert security == {
        "/a": [{"bearer": []}],
        "/b": [{"basic": []}],
        "/c": [{"api_key": []}],
        "/d": [],
        "/e": [{"basic": []}],
    }
    assert "security" not in swagger
    assert any("several kinds of authentication" in m for m in messages(report, Kind.APPROXIMATED))
    assert messages(report, Kind.DROPPED) == []


def test_oauth2_flows() -> None:
    code = {
        "type": "oauth2",
        "oauth2": [
            {"key": "authUrl", "value": "https://login.example.com/authorize"},
            {"key": "accessTokenUrl", "value": "{{tokenUrl}}"},
            {"key": "grant_type", "value": "authorization_code"},
            {"key": "scope", "value": "read write"},
        ],
    }
    doc = collection(
        request("A", "GET", "https://api.example.com/a"),
        auth=code,
        variable=[{"key": "tokenUrl", "value": "https://login.example.com/token"}],
    )
    swagger, _, converted = convert(doc)
    assert swagger["securityDefinitions"]["oauth2"] == {
        "type": "oauth2",
        "flow": "accessCode",
        "authorizationUrl": "https://login.example.com/authorize",
        "tokenUrl": "https://login.example.com/token",
        "scopes": {"read": "read", "write": "write"},
    }
    assert swagger["security"] == [{"oauth2": ["read", "write"]}]
    assert converted.bearer_schemes == set()

    client = {
        "type": "oauth2",
        "oauth2": {"accessTokenUrl": "https://login.example.com/token", "grant_type": "client_credentials"},
    }
    swagger, _, _ = convert(collection(request("A", "GET", "https://api.example.com/a"), auth=client))
    assert swagger["securityDefinitions"]["oauth2"]["flow"] == "application"

    no_urls = {"type": "oauth2", "oauth2": [{"key": "accessToken", "value": "abc"}]}
    swagger, report, converted = convert(collection(request("A", "GET", "https://api.example.com/a"), auth=no_urls))
    assert converted.bearer_schemes == {"bearer"}
    assert any("bearer token scheme" in m for m in messages(report, Kind.APPROXIMATED))


def test_unsupported_auth_is_dropped_once() -> None:
    digest = {"type": "digest", "digest": [{"key": "username", "value": "u"}]}
    doc = collection(
        request("A", "GET", "https://api.example.com/a"),
        request("B", "GET", "https://api.example.com/b"),
        auth=digest,
    )
    swagger, report, _ = convert(doc)
    assert "securityDefinitions" not in swagger and "security" not in swagger
    dropped = [i for i in report.items if "digest" in i.message]
    assert len(dropped) == 1 and dropped[0].kind is Kind.DROPPED and dropped[0].source == "#/auth"


def test_authorization_headers() -> None:
    bearer = {"type": "bearer", "bearer": [{"key": "token", "value": "t"}]}
    doc = collection(
        request(
            "Covered",
            "GET",
            "https://api.example.com/a",
            auth=bearer,
            header=[{"key": "Authorization", "value": "Bearer {{token}}"}],
        ),
        request(
            "Header only",
            "GET",
            "https://api.example.com/b",
            header=[{"key": "Authorization", "value": "Bearer {{token}}"}],
        ),
        request("Raw key", "GET", "https://api.example.com/c", header=[{"key": "Authorization", "value": ""}]),
    )
    swagger, report, converted = convert(doc)
    for path in ("/a", "/b", "/c"):
        assert "parameters" not in op_at(swagger, path, "get")
    assert op_at(swagger, "/a", "get")["security"] == [{"bearer": []}]
    assert op_at(swagger, "/b", "get")["security"] == [{"bearer": []}]
    assert op_at(swagger, "/c", "get")["security"] == [{"authorization": []}]
    assert converted.bearer_schemes == {"bearer"}
    assert any("repeats their auth" in m for m in messages(report, Kind.NOTE))
    assert any("without auth send an Authorization header" in m for m in messages(report, Kind.APPROXIMATED))


# --------------------------------------------------------------------------- scripts, versions, robustness


def test_scripts_are_reported_once_per_collection() -> None:
    event = [{"listen": "test", "script": {"exec": ["pm.test('ok', () => {})"], "type": "text/javascript"}}]
    doc = collection(
        request("A", "GET", "https://api.example.com/a", event=event),
        request("B", "GET", "https://api.example.com/b", event=event),
        event=[{"listen": "prerequest", "script": {"exec": [""]}}],
    )
    _, report, _ = convert(doc)
    scripts = [i for i in report.items if "test script" in i.message]
    assert len(scripts) == 1
    assert scripts[0].message.startswith("2 ") and scripts[0].source == "#/item/0/event/0"


def test_check_postman_version() -> None:
    check_postman_version(collection(), "c.json")
    check_postman_version({"info": {"schema": V20}, "item": []}, "c.json")
    v1 = {"id": "x", "name": "Old", "order": [], "folders": [], "requests": []}
    with pytest.raises(InputError, match=r"c\.json: a Postman v1 collection cannot be imported.*v2\.1"):
        check_postman_version(v1, "c.json")
    with pytest.raises(InputError, match=r"#/info/schema"):
        check_postman_version({"info": {"schema": "https://example.com/v3"}, "item": []}, "c.json")
    with pytest.raises(InputError, match=r"#/item"):
        check_postman_version({"info": {"schema": V21}, "item": {}}, "c.json")
    with pytest.raises(InputError, match="not a Postman collection"):
        check_postman_version([], "c.json")
    with pytest.raises(InputError, match="no 'info' object"):
        check_postman_version({"item": []}, "c.json")


def test_empty_collection_is_valid() -> None:
    swagger, _, _ = convert(collection())
    assert swagger["paths"] == {} and swagger["info"] == {"title": "Test API", "version": "1.0"}


def test_info_version_and_description() -> None:
    doc = collection(request("A", "GET", "https://api.example.com/a"))
    doc["info"].update({"version": {"major": 2, "minor": 1, "patch": 0}, "description": {"content": "About."}})
    swagger, _, _ = convert(doc)
    assert swagger["info"] == {"title": "Test API", "version": "2.1.0", "description": "About."}


@needs_specs
def test_mangled_collections_never_crash_and_stay_valid() -> None:
    docs = [json.loads((SPECS / name).read_text(encoding="utf-8")) for name in COLLECTIONS]
    junk: list[Any] = [None, 1, 2.5, "x", "{{y}}", [], {}, True, "", ":id", "{{", "*", "a b", "<id>", "123456"]
    junk += ["https://{{t}}.x.com/v1", "oauth2", "apikey", "noauth", "formdata", "graphql", "text/xml"]
    rnd = random.Random(1234)
    for _ in range(40):
        doc = copy.deepcopy(rnd.choice(docs))
        slots: list[tuple[Any, Any]] = []

        def collect(node: Any, slots: list[tuple[Any, Any]] = slots) -> None:
            keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
            for key in keys:
                slots.append((node, key))
                collect(node[key])

        collect(doc)
        for _ in range(rnd.randint(1, 30)):
            parent, key = rnd.choice(slots)
            parent[key] = rnd.choice(junk)
        try:
            converted = convert_postman(doc, Report())
        except InputError:
            continue
        assert validator_errors(converted.swagger) == []


def test_credential_variables_never_reach_the_definition() -> None:
    secret = "PLANTED-s3cr3t-4b1f"
    collection = {
        "info": {"name": "Secrets", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "variable": [
            {"key": "baseUrl", "value": "https://api.example.com"},
            {"key": "apiKey", "value": secret},
            {"key": "region", "value": secret + "-typed", "type": "secret"},
            {"key": "tokenUrl", "value": "https://login.example.com/token"},
        ],
        "item": [
            {
                "name": "List things",
                "request": {
                    "method": "POST",
                    "url": {
                        "raw": "{{baseUrl}}/things?key={{apiKey}}&region={{region}}",
                        "host": ["{{baseUrl}}"],
                        "path": ["things"],
                        "query": [{"key": "key", "value": "{{apiKey}}"}, {"key": "region", "value": "{{region}}"}],
                    },
                    "header": [{"key": "X-Api-Key", "value": "{{apiKey}}"}],
                    "body": {"mode": "raw", "raw": '{"token": "{{apiKey}}", "count": 2}',
                             "options": {"raw": {"language": "json"}}},
                },
            }
        ],
    }  # fmt: skip
    converted = convert_postman(collection, Report())
    text = json.dumps(converted.swagger)
    assert secret not in text
    assert converted.swagger["host"] == "api.example.com"
