"""Sample arguments: valid values from types, formats, bounds, patterns and body schemas; checked
by request building, by jsonschema over every corpus body, and by Prism on a small definition."""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from pytest_httpserver import HTTPServer
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import Swagger
from connectorkit.errors import ConnectorkitError
from connectorkit.runtime.invoke import EngineOptions, invoke, to_httpx
from connectorkit.runtime.model import Headers, Request
from connectorkit.runtime.request import build_request
from connectorkit.runtime.samples import sample_arguments, sample_body, sample_pattern, sample_value
from nodetools import NodeToolMissing, node_binary, npm_package

from conftest import CORPUS, needs_corpus


def _swagger(parameters: list[dict[str, Any]], **extra: Any) -> Swagger:
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "host": "api.example.com",
        "basePath": "/v1",
        "paths": {"/things/{id}": {"post": {"operationId": "Op", "parameters": parameters, "responses": {}}}},
    }
    doc.update(extra)
    return Swagger(doc)


def _value(schema: dict[str, Any], **kwargs: Any) -> Any:
    return sample_value(Swagger({}), schema, **kwargs)


# -- scalars


@pytest.mark.parametrize(
    ("fmt", "check"),
    [
        ("date-time", lambda v: datetime.fromisoformat(v.replace("Z", "+00:00"))),
        ("date", date.fromisoformat),
        ("uuid", uuid.UUID),
        ("byte", lambda v: base64.b64decode(v, validate=True)),
        ("email", lambda v: re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", v).group()),  # type: ignore[union-attr]
        ("uri", lambda v: httpx.URL(v).host or None),
    ],
)
def test_string_formats_give_values_of_that_format(fmt: str, check: Any) -> None:
    value = _value({"type": "string", "format": fmt})
    assert isinstance(value, str)
    assert check(value) is not None


def test_formats_pass_jsonschema_format_checks() -> None:
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER
    for fmt in ("date-time", "email", "ipv4", "ipv6"):
        schema = {"type": "string", "format": fmt}
        jsonschema.Draft4Validator(schema, format_checker=checker).validate(_value(schema))


def test_numbers_meet_bounds_and_steps() -> None:
    assert _value({"type": "integer", "format": "int32"}) == 1
    assert _value({"type": "integer", "minimum": 5, "exclusiveMinimum": True}) == 6
    assert _value({"type": "integer", "maximum": 0}) == 0
    assert _value({"type": "integer", "minimum": 4, "multipleOf": 3}) == 6
    assert _value({"type": "number", "minimum": 0.25}) == 0.25
    assert _value({"type": "number"}) == 1.5
    number_int = _value({"type": "number", "format": "int32"})
    assert number_int == 1 and isinstance(number_int, int)  # a "number" with an integer format
    assert _value({"type": "boolean"}) is True


def test_enum_and_default_win_when_they_fit() -> None:
    assert _value({"type": "string", "enum": ["b", "a"]}) == "b"
    assert _value({"type": "string", "enum": [None, "x"]}) == "x"
    assert _value({"type": "integer", "default": 7}) == 7
    assert _value({"type": "string", "default": ""}) == "sample"  # "" is a placeholder
    assert _value({"type": "string", "default": "@x", "pattern": "^[0-9]+$"}) == "0"
    assert _value({"type": "integer", "default": 50, "maximum": 10}) == 1
    # A stale default that breaks the declared format is passed over (Easyvista's date).
    assert _value({"type": "string", "format": "date", "default": "12/01/2018"}) != "12/01/2018"
    assert _value({"type": "string", "format": "date", "default": "2018-12-01"}) == "2018-12-01"


def test_lengths_are_met() -> None:
    assert len(_value({"type": "string", "minLength": 12})) == 12
    assert _value({"type": "string", "maxLength": 3}) == "sam"
    assert len(_value({"type": "string", "format": "uuid", "maxLength": 5})) == 5


@pytest.mark.parametrize(
    "pattern",
    [
        r"[A-Za-z0-9\-\.]{1,64}",
        r"^d\d{1,8}c\d{1,8}v\d{1,8}$",
        r"[ \r\n\t\S]+",
        r"^[0-9]{4,}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,12})?"
        r"(Z|[+-][0-9][0-9]:[0-9][0-9])$",
        r"^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$",
        r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2]))?",
        r"^[\da-zA-Z]{8}-([\da-zA-Z]{4}-){3}[\da-zA-Z]{12}$",
        r"^(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$",
        r"(<|<=|>=|>)",
        r"^[^\s@]+@[^\s@]+$",
        r"^\x41\u0042[^a-z]$",
    ],
)
def test_patterns_from_the_corpus_are_sampled(pattern: str) -> None:
    value = sample_pattern(pattern)
    assert value is not None and re.search(pattern, value), value
    assert re.search(pattern, _value({"type": "string", "pattern": pattern}))


def test_pattern_lengths_widen_repeats_and_unsupported_patterns_give_none() -> None:
    value = sample_pattern(r"^[a-z]+$", min_length=10)
    assert value is not None and len(value) >= 10 and value.isalpha()
    assert sample_pattern(r"^[a-z]{2}$", min_length=5) is None
    assert sample_pattern(r"^(?=.*\d)\w+$") is None  # lookahead
    assert sample_pattern(r"(a)\1") is None  # backreference


# -- parameters


def test_required_path_and_internal_defaults_only_unless_optional() -> None:
    params = [
        {"name": "id", "in": "path", "required": True, "type": "string", "format": "uuid"},
        {"name": "q", "in": "query", "type": "string"},
        {"name": "mode", "in": "query", "type": "string", "default": "fast", "x-ms-visibility": "internal"},
        {"name": "n", "in": "query", "required": True, "type": "integer", "minimum": 3},
    ]
    swagger = _swagger(params)
    assert sample_arguments(swagger, "Op") == {"id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "mode": "fast", "n": 3}
    assert sample_arguments(swagger, "Op", optional=True)["q"] == "sample"


def test_arrays_follow_items_and_collection_format() -> None:
    params = [
        {"name": "id", "in": "path", "required": True, "type": "string"},
        {"name": "tags", "in": "query", "required": True, "type": "array", "collectionFormat": "pipes",
         "minItems": 2, "uniqueItems": True, "items": {"type": "string", "enum": ["x", "y", "z"]}},
        {"name": "ids", "in": "query", "required": True, "type": "array", "items": {"type": "integer"}},
    ]  # fmt: skip
    swagger = _swagger(params)
    arguments = sample_arguments(swagger, "Op")
    assert arguments["tags"] == ["x", "y"] and arguments["ids"] == [1]
    request = build_request(swagger, "Op", arguments, {})
    assert request.url == "https://api.example.com/v1/things/sample?tags=x%7Cy&ids=1"


def test_accept_and_content_type_headers_get_media_types() -> None:
    params = [
        {"name": "id", "in": "path", "required": True, "type": "string"},
        {"name": "Accept", "in": "header", "required": True, "type": "string"},
        {"name": "Content-Type", "in": "header", "required": True, "type": "string"},
    ]
    swagger = _swagger(params, produces=["text/csv"], consumes=["text/plain", "application/json"])
    arguments = sample_arguments(swagger, "Op")
    assert arguments["Accept"] == "text/csv" and arguments["Content-Type"] == "application/json"


def test_form_data_file_is_sent_as_a_multipart_file() -> None:
    params = [
        {"name": "id", "in": "path", "required": True, "type": "string"},
        {"name": "file", "in": "formData", "required": True, "type": "file"},
        {"name": "note", "in": "formData", "required": True, "type": "string"},
    ]
    swagger = _swagger(params, consumes=["multipart/form-data"])
    arguments = sample_arguments(swagger, "Op")
    json.dumps(arguments)  # stays JSON, for the console's editor
    request = build_request(swagger, "Op", arguments, {})
    assert request.form == [("file", b"sample file"), ("note", "sample")]


# -- bodies

DEFINITIONS: dict[str, Any] = {
    "Base": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string", "enum": ["a"]}}},
    "Node": {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "child": {"$ref": "#/definitions/Node"}},
    },
    "Thing": {
        "allOf": [{"$ref": "#/definitions/Base"}],
        "type": "object",
        "required": ["when", "tree", "items"],
        "properties": {
            "when": {"type": "string", "format": "date-time"},
            "tree": {"$ref": "#/definitions/Node"},
            "items": {"type": "array", "items": {"$ref": "#/definitions/Base"}},
            "id": {"type": "integer", "readOnly": True},
            "note": {"type": "string"},
            "channel": {"type": "string", "default": "web", "x-ms-visibility": "internal"},
        },
    },
}


def _body_swagger() -> Swagger:
    body = {"name": "body", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Thing"}}
    return _swagger([{"name": "id", "in": "path", "required": True, "type": "string"}, body], definitions=DEFINITIONS)


def test_body_has_required_nested_allof_and_internal_defaults() -> None:
    body = sample_arguments(_body_swagger(), "Op")["body"]
    assert body == {
        "kind": "a",
        "when": "2024-01-15T09:30:00Z",
        "tree": {"name": "sample"},
        "items": [{"kind": "a"}],
        "channel": "web",
    }


def test_optional_body_properties_without_read_only_and_recursion_ends() -> None:
    body = sample_arguments(_body_swagger(), "Op", optional=True)["body"]
    assert body["note"] == "sample" and "id" not in body
    depth, node = 0, body["tree"]
    while "child" in node:
        node, depth = node["child"], depth + 1
    assert depth == 0  # the recursive reference is not followed into itself


def test_binary_and_untyped_bodies() -> None:
    binary = {"name": "b", "in": "body", "required": True, "schema": {"type": "string", "format": "binary"}}
    swagger = _swagger([{"name": "id", "in": "path", "required": True, "type": "string"}, binary])
    request = build_request(swagger, "Op", sample_arguments(swagger, "Op"), {})
    assert request.content == b"sample file" and request.headers.get("Content-Type") == "application/octet-stream"
    untyped = {"name": "b", "in": "body", "required": True, "schema": {}}
    swagger = _swagger([{"name": "id", "in": "path", "required": True, "type": "string"}, untyped])
    assert sample_arguments(swagger, "Op")["b"] == {}


# -- the console's options: the author's examples, no internal properties


def test_examples_are_used_only_when_they_meet_the_schema() -> None:
    pet = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "example": "Rex", "maxLength": 10},
            "born": {"type": "string", "format": "date", "example": "last spring"},
            "size": {"type": "string", "enum": ["S", "M"], "x-ms-test-value": "XL"},
            "age": {"type": "integer", "minimum": 1, "example": 0},
            "weight": {"type": "number", "multipleOf": 0.5, "x-ms-test-value": 2.5},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "example": ["a", "b", "c"]},
        },
    }
    assert _value(pet, optional=True, examples=True) == {
        "name": "Rex", "born": "2024-01-15", "size": "S", "age": 1, "weight": 2.5, "tags": ["sample"],
    }  # fmt: skip
    assert _value(pet, optional=True)["name"] == "sample"  # off unless asked for
    whole = dict(pet, example={"name": "Tom", "age": 4, "tags": ["x"]})
    assert _value(whole, examples=True) == {"name": "Tom", "age": 4, "tags": ["x"]}
    for wrong in ({"age": 4}, {"name": "Tom", "age": "4"}, {"name": "Tom", "size": "XL"}, {"name": "a" * 11}, "Tom"):
        assert _value(dict(pet, example=wrong), examples=True) == {"name": "Rex"}, wrong
    closed = dict(pet, additionalProperties=False, example={"name": "Tom", "colour": "red"})
    assert _value(closed, examples=True) == {"name": "Rex"}
    given = _value(whole, examples=True)
    given["tags"].append("edited")
    assert whole["example"]["tags"] == ["x"]  # a copy: editing the sample leaves the definition alone


def test_example_formats_and_numbers_are_read_strictly() -> None:
    cases = [
        ({"type": "string", "format": "date-time"}, "2024-02-30T10:00:00Z", "2024-02-29T10:00:00+01:00"),
        ({"type": "string", "format": "date-time"}, "2024-01-15", "2024-01-15T09:30:00.5Z"),
        ({"type": "string", "format": "ipv4"}, "2001:db8::2", "10.0.0.1"),
        ({"type": "string", "format": "uuid"}, "not-a-guid", "00000000-0000-0000-0000-000000000001"),
        ({"type": "string", "format": "uri"}, "/relative", "https://api.example.com/x"),
        ({"type": "string", "format": "email"}, "nobody", "a@example.com"),
        ({"type": "integer"}, 2.0, 2),
        ({"type": "number", "minimum": 0, "exclusiveMinimum": True}, 0, 0.25),
        ({"type": "boolean"}, "true", False),
    ]
    for schema, wrong, right in cases:
        assert _value(dict(schema, example=right), examples=True) == right
        assert _value(dict(schema, example=wrong), examples=True) != wrong, (schema, wrong)


def test_internal_properties_are_left_to_request_building() -> None:
    swagger = _body_swagger()
    schema = {"$ref": "#/definitions/Thing"}
    body = sample_body(swagger, schema, optional=True, examples=True, internal=False)
    assert "channel" not in body and "id" not in body and body["note"] == "sample"
    built = build_request(swagger, "Op", {"id": "x", "body": body}, {})
    assert built.json is not None and built.json["channel"] == "web"  # the runtime adds the default
    assert sample_body(swagger, schema)["channel"] == "web"  # the benchmark's sample keeps it

    listed = {
        "type": "object",
        "required": ["rows", "mode"],
        "properties": {
            "mode": {"type": "string", "x-ms-visibility": "internal"},
            "hidden": {"type": "string", "x-ms-visibility": "internal"},
            "rows": {"type": "array", "items": {"$ref": "#/definitions/Row"}},
        },
    }
    row = {"type": "object", "required": ["k"], "properties": {"k": {"x-ms-visibility": "internal", "default": 1}}}
    swagger = Swagger({"definitions": {"Row": row}})
    # required without a default: the user must give it; array items keep theirs (not filled there)
    assert sample_value(swagger, listed, optional=True, internal=False) == {"mode": "sample", "rows": [{"k": 1}]}


def test_an_untyped_or_binary_body_starts_the_editor_too() -> None:
    swagger = Swagger({})
    assert sample_body(swagger, {}, optional=True, examples=True, internal=False) == {}
    assert sample_body(swagger, {"type": "string", "format": "binary"}, examples=True)["$content"]
    assert sample_body(swagger, {"type": "object", "example": {"a": 1}}, examples=True) == {"a": 1}


# -- fixes found by the fidelity benchmark


def test_multipart_form_of_text_fields_is_encoded_as_multipart() -> None:
    request = Request("POST", "http://api.test", "/f", headers=Headers([("Content-Type", "multipart/form-data")]))
    request.form = [("a", "1"), ("b", "two")]
    outgoing = to_httpx(request)
    media = outgoing.headers["content-type"]
    assert media.startswith("multipart/form-data; boundary=")
    body = outgoing.read().decode()
    assert 'name="a"\r\n\r\n1\r\n' in body and 'name="b"\r\n\r\ntwo\r\n' in body


def test_header_values_lose_surrounding_blanks() -> None:
    request = Request("GET", "http://api.test", "/", headers=Headers([("Prefer", " return=representation")]))
    assert to_httpx(request).headers["Prefer"] == "return=representation"


def test_invoke_base_url_points_the_call_elsewhere(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/things/abc", method="POST").respond_with_json({"ok": True})
    package = ConnectorPackage(
        definition=_swagger([{"name": "id", "in": "path", "required": True, "type": "string"}]).doc
    )
    with httpx.Client() as client:
        result = invoke(package, "Op", {"id": "abc"}, {}, client=client, base_url=httpserver.url_for("/").rstrip("/"))
    assert result.response.json == {"ok": True}
    assert result.request.url == httpserver.url_for("/things/abc")


# -- the corpus


def _corpus_packages() -> list[ConnectorPackage]:
    packages = []
    for folder in sorted(p for p in CORPUS.glob("*/*") if p.is_dir()):
        try:
            packages.append(ConnectorPackage.load(folder))
        except ConnectorkitError:
            continue  # a definition the reader rejects is test_package's business
    return packages


@needs_corpus
def test_every_corpus_operation_builds_with_its_samples() -> None:
    built = 0
    for package in _corpus_packages():
        swagger = package.swagger
        for op in swagger.operations():
            assert op.operation_id is not None
            for optional in (False, True):
                arguments = sample_arguments(swagger, op, optional=optional)
                json.dumps(arguments)
                build_request(swagger, op.operation_id, arguments, {}, base_url="https://api.test")
                built += 1
    assert built > 5000


def _self_contained(swagger: Swagger, node: Any, seen: set[str]) -> bool:
    """Every $ref resolves and no schema uses Swagger's non-JSON-Schema ``type: file``."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return True
            target = swagger.resolve(ref)
            return target is not None and _self_contained(swagger, target, seen | {ref})
        if node.get("type") == "file":
            return False
        return all(_self_contained(swagger, v, seen) for v in node.values())
    if isinstance(node, list):
        return all(_self_contained(swagger, v, seen) for v in node)
    return True


@needs_corpus
def test_corpus_body_samples_validate_against_their_schemas() -> None:
    checked = 0
    for package in _corpus_packages():
        swagger = package.swagger
        registry: Registry[Any] = Registry().with_resource("urn:definition", Resource(swagger.doc, DRAFT4))
        for op in swagger.operations():
            for param in op.parameters:
                schema = param.raw.get("schema")
                if param.location != "body" or not _self_contained(swagger, schema, set()):
                    continue
                for optional in (False, True):
                    arguments = sample_arguments(swagger, op, optional=optional)
                    if param.name not in arguments:
                        continue  # an optional body
                    body = arguments[param.name]
                    if isinstance(body, dict) and "$content" in body:
                        continue  # a file body: bytes on the wire, not JSON
                    pointer = "urn:definition#" + param.pointer + "/schema"
                    validator = jsonschema.Draft4Validator(
                        {"$ref": pointer}, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
                    )
                    errors = [e.message for e in validator.iter_errors(body)]
                    assert not errors, f"{package.name} {op.operation_id}: {errors[:3]}"
                    checked += 1
    assert checked > 500


@needs_corpus
def test_corpus_console_body_samples_are_valid_once_built() -> None:
    """The console's starting body (examples preferred, internal properties left out) becomes a
    body that meets its schema once request building has added the internal defaults."""
    checked = used = 0
    for package in _corpus_packages():
        swagger = package.swagger
        registry: Registry[Any] = Registry().with_resource("urn:definition", Resource(swagger.doc, DRAFT4))
        for op in swagger.operations():
            assert op.operation_id is not None
            body = next((p for p in op.parameters if p.location == "body"), None)
            if body is None or not _self_contained(swagger, body.raw.get("schema"), set()):
                continue
            arguments = sample_arguments(swagger, op)
            sample = sample_body(swagger, body.raw.get("schema"), optional=True, examples=True, internal=False)
            if isinstance(sample, dict) and "$content" in sample:
                continue
            used += sample != sample_body(swagger, body.raw.get("schema"), optional=True, internal=False)
            request = build_request(swagger, op.operation_id, arguments | {body.name: sample}, {}, base_url="https://t")
            sent = request.json if request.has_json else sample
            pointer = "urn:definition#" + body.pointer + "/schema"
            validator = jsonschema.Draft4Validator(
                {"$ref": pointer}, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
            )
            errors = [e.message for e in validator.iter_errors(sent)]
            assert not errors, f"{package.name} {op.operation_id}: {errors[:3]}"
            checked += 1
    assert checked > 1000 and used > 10  # 1057 bodies, 19 starting from an example (measured)


# -- Prism


@pytest.fixture(scope="module")
def prism_cli() -> Path:
    try:
        return npm_package("@stoplight/prism-cli@5", "@stoplight/prism-cli") / "dist" / "index.js"
    except NodeToolMissing as exc:
        pytest.skip(str(exc))


def test_prism_accepts_the_samples_of_a_varied_definition(prism_cli: Path, tmp_path: Path) -> None:
    swagger = _body_swagger()
    item = swagger.doc["paths"]["/things/{id}"]["post"]
    item["parameters"] += [
        {"name": "since", "in": "query", "required": True, "type": "string", "format": "date"},
        {"name": "code", "in": "query", "required": True, "type": "string", "pattern": r"^d\d{1,8}c\d{1,8}$"},
        {"name": "size", "in": "query", "required": True, "type": "integer", "minimum": 10, "maximum": 20},
        {"name": "X-Trace", "in": "header", "required": True, "type": "string", "format": "uuid"},
    ]
    item["consumes"] = ["application/json"]
    item["responses"] = {"200": {"description": "ok"}}
    spec = tmp_path / "swagger.json"
    spec.write_text(json.dumps(swagger.doc))
    package = ConnectorPackage(definition=swagger.doc)
    with _prism(prism_cli, spec, tmp_path) as base_url, httpx.Client() as client:
        options = EngineOptions(retries=0)
        good = invoke(package, "Op", sample_arguments(swagger, "Op"), {}, client=client, options=options,
                      base_url=base_url)  # fmt: skip
        bad_args = dict(sample_arguments(swagger, "Op"), size=99)
        bad = invoke(package, "Op", bad_args, {}, client=client, options=options, base_url=base_url)
    assert good.response.status == 200, good.response.content
    assert bad.response.status == 422 and b"size" in bad.response.content  # the check can fail


@contextmanager
def _prism(cli: Path, spec: Path, tmp_path: Path) -> Iterator[str]:
    """Prism mocking ``spec``; yields its base URL (Prism serves paths without the basePath)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    log = tmp_path / "prism.log"
    command = [node_binary(), str(cli), "mock", "-p", str(port), "-h", "127.0.0.1", str(spec)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prism did not start: {log.read_text()[-500:]}")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
