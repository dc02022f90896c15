"""Tests of request building: the bundled example, real connectors, and a loopback server."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response as WerkzeugResponse

from connectorkit.definition.models import ConnectionParameter
from connectorkit.definition.swagger import Swagger
from connectorkit.errors import EXIT_USAGE, InputError
from connectorkit.runtime.model import Headers, Request, Response
from connectorkit.runtime.request import build_request, find_operation, next_page_request

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "petstore" / "swagger.json"
CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "connectors"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"connector corpus not found at {CORPUS}")

SECRET = "s3cr3t-KEY-planted-0042"
KEY = {"api_key": SECRET}


@pytest.fixture
def pet_doc() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return value


@pytest.fixture
def pets(pet_doc: dict[str, Any]) -> Swagger:
    return Swagger(pet_doc)


def corpus(folder: str) -> Swagger:
    return Swagger(json.loads((CORPUS / folder / "apiDefinition.swagger.json").read_text(encoding="utf-8-sig")))


def synthetic(parameters: list[dict[str, Any]], **op: Any) -> Swagger:
    """A one-operation definition ``POST /things/{...}`` named ``Op``."""
    path = "/things" + "".join(f"/{{{p['name']}}}" for p in parameters if p.get("in") == "path")
    body = {"operationId": "Op", "parameters": parameters, "responses": {"200": {"description": "ok"}}, **op}
    return Swagger({"swagger": "2.0", "host": "api.example.com", "paths": {path: {"post": body}}})


def to_httpx(request: Request) -> httpx.Request:
    """What the invoker will do: JSON, a form (multipart when the Content-Type says so) or bytes."""
    headers = [(k, v) for k, v in request.headers if not (request.form is not None and k.lower() == "content-type")]
    url = request.url
    if request.has_json:
        return httpx.Request(request.method, url, headers=headers, json=request.json)
    if request.form is not None:
        content_type = request.headers.get("Content-Type") or ""
        if content_type.startswith("multipart/"):
            data = [(k, v) for k, v in request.form if not isinstance(v, bytes)]
            files = [(k, (k, v)) for k, v in request.form if isinstance(v, bytes)]
            return httpx.Request(request.method, url, headers=headers, data=dict(data), files=files)
        return httpx.Request(
            request.method, url, headers=[*headers, ("Content-Type", content_type)], data=dict(request.form)
        )
    return httpx.Request(request.method, url, headers=headers, content=request.content)


# -- the bundled example


def test_list_pets_url_headers_and_no_optional_default(pets: Swagger) -> None:
    request = build_request(pets, "ListPets", {}, KEY)
    assert request.method == "GET"
    assert request.url == "https://petstore.example.com/v1/pets"
    assert request.headers == Headers([("Accept", "application/json"), ("X-Api-Key", SECRET)])
    assert not request.has_json and request.form is None and request.content is None


def test_optional_default_sent_only_when_asked(pets: Swagger) -> None:
    request = build_request(pets, "ListPets", {}, KEY, send_optional_defaults=True)
    assert request.url == "https://petstore.example.com/v1/pets?limit=20"


def test_query_values_coerced_from_cli_strings(pets: Swagger) -> None:
    request = build_request(pets, "ListPets", {"limit": "5", "status": "sold"}, KEY)
    assert request.query == [("limit", "5"), ("status", "sold")]
    assert request.url == "https://petstore.example.com/v1/pets?limit=5&status=sold"


def test_wrong_integer_names_parameter_and_type(pets: Swagger) -> None:
    with pytest.raises(
        InputError, match=r"parameter 'limit' \(query\) of operation 'ListPets' must be an integer, got 'abc'"
    ) as info:
        build_request(pets, "ListPets", {"limit": "abc"}, KEY)
    assert info.value.exit_code == EXIT_USAGE
    with pytest.raises(InputError, match="must be an integer"):
        build_request(pets, "ListPets", {"limit": 2.5}, KEY)
    with pytest.raises(InputError, match="must be an integer"):
        build_request(pets, "ListPets", {"limit": True}, KEY)


def test_value_outside_enum(pets: Swagger) -> None:
    with pytest.raises(InputError, match=r"'status' \(query\).*must be one of available, pending, sold, got 'lost'"):
        build_request(pets, "ListPets", {"status": "lost"}, KEY)


def test_path_parameter_from_path_item(pets: Swagger) -> None:
    request = build_request(pets, "GetPet", {"petId": "42"}, KEY)
    assert request.url == "https://petstore.example.com/v1/pets/42"
    assert build_request(pets, "DeletePet", {"petId": 7}, KEY).method == "DELETE"


def test_missing_required_path_parameter(pets: Swagger) -> None:
    with pytest.raises(InputError, match=r"operation 'GetPet' needs parameter 'petId' \(path\)"):
        build_request(pets, "GetPet", {}, KEY)


def test_json_body_and_content_type(pets: Swagger) -> None:
    request = build_request(pets, "CreatePet", {"body": {"name": "Rex", "tag": "dog"}}, KEY)
    assert request.method == "POST"
    assert request.has_json and request.json == {"name": "Rex", "tag": "dog"}
    assert request.headers == Headers(
        [("Content-Type", "application/json"), ("Accept", "application/json"), ("X-Api-Key", SECRET)]
    )


def test_body_from_property_paths_and_json_text(pets: Swagger) -> None:
    request = build_request(pets, "CreatePet", {"body/name": "Rex", "body/owner/city": "Oslo"}, KEY)
    assert request.json == {"name": "Rex", "owner": {"city": "Oslo"}}
    assert build_request(pets, "CreatePet", {"body": '{"name": "Tom"}'}, KEY).json == {"name": "Tom"}
    with pytest.raises(InputError, match="must be JSON"):
        build_request(pets, "CreatePet", {"body": "{not json"}, KEY)


def test_missing_required_body(pets: Swagger) -> None:
    with pytest.raises(InputError, match=r"operation 'CreatePet' needs parameter 'body' \(body\)"):
        build_request(pets, "CreatePet", {}, KEY)


def test_unknown_argument_rejected_unless_allowed(pets: Swagger) -> None:
    with pytest.raises(InputError, match=r"has no parameter 'limt' \(its parameters: limit, status\)"):
        build_request(pets, "ListPets", {"limt": 5}, KEY)
    assert build_request(pets, "ListPets", {"limt": 5}, KEY, allow_unknown=True).query == []


def test_unknown_operation(pets: Swagger) -> None:
    with pytest.raises(InputError, match="did you mean 'ListPets'"):
        build_request(pets, "listpets", {}, KEY)
    with pytest.raises(InputError, match="no operation with operationId 'Nope'; the definition has CreatePet"):
        find_operation(pets, "Nope")


def test_no_host_needs_base_url(pet_doc: dict[str, Any]) -> None:
    del pet_doc["host"]
    with pytest.raises(InputError, match="no host"):
        build_request(Swagger(pet_doc), "ListPets", {}, KEY)
    request = build_request(Swagger(pet_doc), "ListPets", {}, KEY, base_url="http://127.0.0.1:9/x")
    assert request.url == "http://127.0.0.1:9/x/pets"


def test_scheme_defaults_to_https_and_first_scheme_wins(pet_doc: dict[str, Any]) -> None:
    pet_doc["schemes"] = ["http", "https"]
    assert build_request(Swagger(pet_doc), "ListPets", {}, {}).url == "http://petstore.example.com/v1/pets"
    del pet_doc["schemes"]
    pet_doc["basePath"] = "/api/"
    assert build_request(Swagger(pet_doc), "ListPets", {}, {}).url == "https://petstore.example.com/api/pets"


# -- authentication


def test_no_credentials_means_no_auth_header(pets: Swagger) -> None:
    assert "X-Api-Key" not in build_request(pets, "ListPets", {}, {}).headers


def test_api_key_fallback_to_single_securestring(pets: Swagger) -> None:
    declarations = {
        "apiKey": ConnectionParameter(type="securestring"),
        "region": ConnectionParameter(type="string"),
    }
    connection = {"apiKey": SECRET, "region": "eu"}
    request = build_request(pets, "ListPets", {}, connection, connection_parameters=declarations)
    assert request.headers.get("X-Api-Key") == SECRET
    assert "X-Api-Key" not in build_request(pets, "ListPets", {}, connection).headers


def test_api_key_in_query(pet_doc: dict[str, Any]) -> None:
    pet_doc["securityDefinitions"] = {"key": {"type": "apiKey", "in": "query", "name": "key"}}
    request = build_request(Swagger(pet_doc), "ListPets", {"limit": 3}, KEY)
    assert request.url == f"https://petstore.example.com/v1/pets?limit=3&key={SECRET}"


def test_basic_and_bearer_and_chosen_scheme(pet_doc: dict[str, Any]) -> None:
    pet_doc["securityDefinitions"] = {
        "basic_auth": {"type": "basic"},
        "oauth2_auth": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "a", "tokenUrl": "t"},
    }
    swagger = Swagger(pet_doc)
    basic = build_request(swagger, "ListPets", {}, {"username": "ann", "password": SECRET})
    expected = base64.b64encode(f"ann:{SECRET}".encode()).decode()
    assert basic.headers.get("Authorization") == f"Basic {expected}"
    bearer = build_request(swagger, "ListPets", {}, {"access_token": SECRET})
    assert bearer.headers.get("Authorization") == f"Bearer {SECRET}"
    both = {"username": "ann", "password": "pw", "access_token": SECRET}
    chosen = build_request(swagger, "ListPets", {}, both, security_scheme="oauth2_auth")
    assert chosen.headers.get("Authorization") == f"Bearer {SECRET}"
    with pytest.raises(
        InputError, match="no security definition 'api' \\(the definition has basic_auth, oauth2_auth\\)"
    ):
        build_request(swagger, "ListPets", {}, both, security_scheme="api")


def test_header_values_are_not_echoed_in_errors() -> None:
    swagger = synthetic([{"name": "X-Count", "in": "header", "type": "integer"}])
    with pytest.raises(InputError) as info:
        build_request(swagger, "Op", {"X-Count": SECRET}, {"api_key": SECRET})
    assert "X-Count" in str(info.value)
    assert SECRET not in str(info.value)


# -- parameter kinds


def test_collection_formats_and_booleans() -> None:
    def param(name: str, fmt: str | None) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": name, "in": "query", "type": "array", "items": {"type": "integer"}}
        return spec | ({"collectionFormat": fmt} if fmt else {})

    swagger = synthetic(
        [
            param("plain", None),
            param("c", "csv"),
            param("s", "ssv"),
            param("t", "tsv"),
            param("p", "pipes"),
            param("m", "multi"),
            {"name": "flag", "in": "query", "type": "boolean"},
        ]
    )
    arguments = {"plain": "1,2", "c": [1, 2], "s": "[1, 2]", "t": [1, 2], "p": ["1", "2"], "m": [1, 2], "flag": "TRUE"}
    request = build_request(swagger, "Op", arguments, {})
    assert request.query == [
        ("plain", "1,2"),
        ("c", "1,2"),
        ("s", "1 2"),
        ("t", "1\t2"),
        ("p", "1|2"),
        ("m", "1"),
        ("m", "2"),
        ("flag", "true"),
    ]
    assert request.url == "https://api.example.com/things?plain=1%2C2&c=1%2C2&s=1%202&t=1%092&p=1%7C2&m=1&m=2&flag=true"
    with pytest.raises(InputError, match=r"'c' \(query\) of operation 'Op' item 1 must be an integer, got 'x'"):
        build_request(swagger, "Op", {"c": "1,x"}, {})
    with pytest.raises(InputError, match="must be a boolean"):
        build_request(swagger, "Op", {"flag": "yes"}, {})


def test_path_encoding_single_and_double() -> None:
    swagger = synthetic(
        [
            {"name": "one", "in": "path", "required": True, "type": "string"},
            {"name": "two", "in": "path", "required": True, "type": "string", "x-ms-url-encoding": "double"},
        ]
    )
    arguments = {"one": "a/b c", "two": "a/b c"}
    assert build_request(swagger, "Op", arguments, {}).path == "/things/a/b%20c/a%2Fb%20c"
    client = build_request(swagger, "Op", arguments, {}, path_encoding="client")
    assert client.path == "/things/a%2Fb%20c/a%252Fb%2520c"
    with pytest.raises(InputError, match="'one' \\(path\\) of operation 'Op' must not be empty"):
        build_request(swagger, "Op", {"one": "", "two": "x"}, {})


def test_urlencoded_form() -> None:
    swagger = synthetic(
        [
            {"name": "grant", "in": "formData", "type": "string", "required": True},
            {"name": "count", "in": "formData", "type": "integer"},
            {"name": "mode", "in": "formData", "type": "string", "default": "fast", "x-ms-visibility": "internal"},
        ],
        consumes=["application/x-www-form-urlencoded"],
    )
    request = build_request(swagger, "Op", {"grant": "code", "count": "3"}, {})
    assert request.form == [("grant", "code"), ("count", "3"), ("mode", "fast")]
    assert request.headers.get("Content-Type") == "application/x-www-form-urlencoded"
    assert to_httpx(request).read() == b"grant=code&count=3&mode=fast"


def test_file_from_flow_content_and_bad_base64() -> None:
    swagger = synthetic([{"name": "file", "in": "formData", "type": "file", "required": True}])
    payload = {"$content-type": "text/plain", "$content": base64.b64encode(b"hello").decode()}
    request = build_request(swagger, "Op", {"file": payload}, {})
    assert request.form == [("file", b"hello")]
    assert request.headers.get("Content-Type") == "multipart/form-data"
    with pytest.raises(InputError, match="not base64"):
        build_request(swagger, "Op", {"file": {"$content": "***"}}, {})


def test_binary_and_text_bodies() -> None:
    binary = synthetic(
        [{"name": "data", "in": "body", "required": True, "schema": {"type": "string", "format": "binary"}}],
        consumes=["application/octet-stream", "text/plain"],
    )
    request = build_request(binary, "Op", {"data": b"\x00\x01"}, {})
    assert request.content == b"\x00\x01" and not request.has_json
    assert request.headers.get("Content-Type") == "application/octet-stream"
    text = build_request(binary, "Op", {"data": "héllo"}, {})
    assert text.content == "héllo".encode()


def test_internal_body_defaults_filled() -> None:
    schema = {
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "x-ms-notification-url": True, "x-ms-visibility": "internal"},
            "event": {"type": "string", "default": "created", "x-ms-visibility": "internal"},
            "note": {"type": "string", "default": "not sent"},
            "inner": {
                "type": "object",
                "properties": {"v": {"type": "integer", "default": 2, "x-ms-visibility": "internal"}},
            },
        },
    }
    swagger = synthetic([{"name": "body", "in": "body", "required": True, "schema": schema}])
    request = build_request(swagger, "Op", {"body": {"url": "https://cb", "inner": {}}}, {})
    assert request.json == {"url": "https://cb", "inner": {"v": 2}, "event": "created"}
    assert build_request(swagger, "Op", {}, {}).json == {"event": "created"}


# -- real connectors


@needs_corpus
def test_almabase_csv_array_base_path_and_api_key_header() -> None:
    swagger = corpus("certified-connectors/Almabase")
    request = build_request(swagger, "ListRecords", {"fields": ["id", "name"], "page": "2"}, KEY)
    assert request.url == "https://api.almabaseapp.com/api/v1/profiles?fields=id%2Cname&page=2"
    assert request.headers == Headers([("Accept", "application/json"), ("X-API-ACCESS-TOKEN", SECRET)])


@needs_corpus
def test_consensys_double_encoded_path_and_body() -> None:
    swagger = corpus("certified-connectors/ConsenSys")
    arguments = {"abi": "[]", "contractAddress": "0xAB", "functionName": "transfer/all", "parameters": {"to": "0x1"}}
    request = build_request(swagger, "ExecuteContractFunction", arguments, {})
    assert request.url == (
        "https://ethereumconnector.onquorum.net/contract/functions/transfer%2Fall/execute?abi=%5B%5D&contractAddress=0xAB"
    )
    assert request.json == {"to": "0x1"}
    assert request.headers == Headers([("Content-Type", "application/json"), ("Accept", "application/json")])
    with pytest.raises(InputError, match=r"needs parameter 'contractAddress' \(query\)"):
        build_request(swagger, "ExecuteContractFunction", {"abi": "[]", "functionName": "f", "parameters": {}}, {})


@needs_corpus
def test_africas_talking_internal_header_defaults_win_over_media_types() -> None:
    swagger = corpus("certified-connectors/Africa's Talking Voice")
    body = {"username": "u", "from": "+1", "to": ["+2"], "actions": [{"actionType": "Say", "text": "hi"}]}
    request = build_request(swagger, "Call", {"body": body}, {"api_key": SECRET})
    assert request.url == "https://voice.africastalking.com/call"
    assert request.headers == Headers(
        [("Content-Type", "application/json"), ("Accept", "application/json"), ("apiKey", SECRET)]
    )
    assert request.json == body


@needs_corpus
def test_dynamics_translation_multipart_with_files_and_bearer() -> None:
    swagger = corpus("certified-connectors/Dynamics 365 Translation Service")
    arguments = {
        "productType": "p",
        "productVersion": "1",
        "sourceLanguage": "en",
        "targetLanguage": "nb",
        "requestName": "r",
        "translationType": "ui",
        "sourceFile": b"PK\x03\x04zip",
        "trainMTWithTM": "true",
    }
    request = build_request(swagger, "Translate", arguments, {"access_token": SECRET})
    assert request.url == "https://lcsapi.lcs.dynamics.com/dts/translate/submit"
    assert request.form == [
        ("productType", "p"),
        ("productVersion", "1"),
        ("sourceLanguage", "en"),
        ("targetLanguage", "nb"),
        ("requestName", "r"),
        ("translationType", "ui"),
        ("sourceFile", b"PK\x03\x04zip"),
        ("trainMTWithTM", "true"),
    ]
    assert request.headers == Headers(
        [
            ("Content-Type", "multipart/form-data"),
            ("Accept", "application/json"),
            ("Authorization", f"Bearer {SECRET}"),
        ]
    )
    with pytest.raises(InputError, match=r"'translationType' \(formData\).*must be one of ui, got 'api'"):
        build_request(swagger, "Translate", arguments | {"translationType": "api"}, {})
    missing = {k: v for k, v in arguments.items() if k != "sourceFile"}
    with pytest.raises(InputError, match=r"needs parameter 'sourceFile' \(formData\)"):
        build_request(swagger, "Translate", missing, {})


# -- paging


def pageable(pet_doc: dict[str, Any], name: str = "nextLink") -> tuple[Swagger, Any]:
    doc = copy.deepcopy(pet_doc)
    doc["paths"]["/pets"]["get"]["x-ms-pageable"] = {"nextLinkName": name}
    swagger = Swagger(doc)
    return swagger, find_operation(swagger, "ListPets")


def page(body: Any) -> Response:
    return Response(status=200, json=body, has_json=True)


def test_next_page_absolute_link_under_base(pet_doc: dict[str, Any]) -> None:
    swagger, op = pageable(pet_doc)
    first = build_request(swagger, "ListPets", {"limit": 2}, KEY)
    following = next_page_request(
        swagger, op, page({"nextLink": "https://petstore.example.com/v1/pets?limit=2&skip=a%20b"}), first
    )
    assert following is not None
    assert following.base_url == "https://petstore.example.com/v1" and following.path == "/pets"
    assert following.query == [("limit", "2"), ("skip", "a b")]
    assert following.url == "https://petstore.example.com/v1/pets?limit=2&skip=a%20b"
    assert following.headers.get("X-Api-Key") == SECRET


def test_next_page_relative_and_foreign_links(pet_doc: dict[str, Any]) -> None:
    swagger, op = pageable(pet_doc, "@odata.nextLink")
    first = build_request(swagger, "ListPets", {}, KEY)
    relative = next_page_request(swagger, op, page({"@odata.nextLink": "/v2/pets?page=2"}), first)
    assert relative is not None
    assert relative.url == "https://petstore.example.com/v2/pets?page=2"
    assert relative.base_url == "https://petstore.example.com"
    foreign = next_page_request(swagger, op, page({"@odata.nextLink": "http://other.example/p?x=1"}), first)
    assert foreign is not None and foreign.url == "http://other.example/p?x=1"
    raw = Response(status=200, content=b'{"@odata.nextLink": "pets?page=3"}')
    from_bytes = next_page_request(swagger, op, raw, first)
    assert from_bytes is not None and from_bytes.url == "https://petstore.example.com/v1/pets?page=3"


def test_next_page_drops_body_and_content_type(pet_doc: dict[str, Any]) -> None:
    swagger, op = pageable(pet_doc)
    previous = Request(
        method="POST", base_url="https://h", path="/q", headers=Headers([("Content-Type", "x"), ("A", "1")])
    )
    previous.json, previous.has_json = {"q": 1}, True
    following = next_page_request(swagger, op, page({"nextLink": "https://h/q?p=2"}), previous)
    assert following is not None
    assert following.method == "GET" and not following.has_json
    assert following.headers == Headers([("A", "1")])


def test_last_page_and_not_pageable(pet_doc: dict[str, Any], pets: Swagger) -> None:
    swagger, op = pageable(pet_doc)
    first = build_request(swagger, "ListPets", {}, KEY)
    assert next_page_request(swagger, op, page({"value": []}), first) is None
    assert next_page_request(swagger, op, page({"nextLink": None}), first) is None
    assert next_page_request(swagger, op, page([1, 2]), first) is None
    plain = find_operation(pets, "ListPets")
    assert next_page_request(pets, plain, page({"nextLink": "https://x/y"}), first) is None


@needs_corpus
def test_next_page_almabase_lowercase_nextlink() -> None:
    swagger = corpus("certified-connectors/Almabase")
    op = find_operation(swagger, "ListRecords")
    first = build_request(swagger, "ListRecords", {}, KEY)
    link = "https://api.almabaseapp.com/api/v1/profiles?page=2&page_size=50"
    following = next_page_request(swagger, op, page({"nextlink": link, "results": []}), first)
    assert following is not None and following.url == link
    assert following.path == "/v1/profiles"


# -- on the wire


def test_loopback_server_receives_the_built_requests(pet_doc: dict[str, Any], httpserver: HTTPServer) -> None:
    seen: list[dict[str, Any]] = []

    def record(request: WerkzeugRequest) -> WerkzeugResponse:
        seen.append(
            {
                "method": request.method,
                "raw": request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI"),
                "query": list(request.args.items(multi=True)),
                "headers": dict(request.headers),
                "json": request.get_json(silent=True),
                "form": dict(request.form),
                "files": {k: v.read() for k, v in request.files.items()},
            }
        )
        return WerkzeugResponse("{}", content_type="application/json")

    httpserver.expect_request("/v1/pets", method="POST").respond_with_handler(record)
    httpserver.expect_request("/upload/things/a/b", method="POST").respond_with_handler(record)
    swagger = Swagger(pet_doc)
    base = httpserver.url_for("/v1")
    with httpx.Client() as client:
        created = build_request(swagger, "CreatePet", {"body/name": "Rex"}, KEY, base_url=base)
        assert client.send(to_httpx(created)).status_code == 200
        upload = synthetic(
            [
                {"name": "folder", "in": "path", "required": True, "type": "string", "x-ms-url-encoding": "double"},
                {"name": "file", "in": "formData", "type": "file", "required": True},
                {"name": "title", "in": "formData", "type": "string"},
                {"name": "X-Trace", "in": "header", "type": "string"},
            ],
            consumes=["multipart/form-data"],
        )
        sent = build_request(
            upload,
            "Op",
            {"folder": "a/b", "file": b"\x89PNG", "title": "pic", "X-Trace": "t1"},
            {},
            base_url=httpserver.url_for("/upload"),
        )
        assert client.send(to_httpx(sent)).status_code == 200
    httpserver.check_assertions()
    assert seen[0]["json"] == {"name": "Rex"}
    assert seen[0]["headers"]["Content-Type"] == "application/json"
    assert seen[0]["headers"]["X-Api-Key"] == SECRET
    assert seen[0]["raw"] == "/v1/pets"
    assert seen[1]["raw"] == "/upload/things/a%2Fb"
    assert seen[1]["form"] == {"title": "pic"}
    assert seen[1]["files"] == {"file": b"\x89PNG"}
    assert seen[1]["headers"]["X-Trace"] == "t1"
    assert seen[1]["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
