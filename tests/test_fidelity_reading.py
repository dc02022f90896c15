"""The platform reading of a definition (benchmarks/platform_reading.py), which the fidelity
benchmark's Prism mock judges requests against: JSON declared for bodies without ``consumes``, a
``pollingtrigger``'s stripped path declared, and nothing else changed -- on small definitions, over
every corpus definition, and with a real Prism telling the readings apart.

``benchmarks`` is imported as a package from the project root, which pytest puts on ``sys.path``
(``pythonpath`` in pyproject.toml), the way the benchmark itself imports ``tests.nodetools``."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from benchmarks.platform_reading import ALREADY, CONSUMES, STRIPPED, platform_reading

from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import HTTP_METHODS
from connectorkit.errors import ConnectorkitError
from connectorkit.runtime.policies import strip_trigger_prefix
from nodetools import NodeToolMissing, npm_package

from conftest import CORPUS, needs_corpus

BODY = {"name": "item", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Item"}}
SINCE = {"name": "since", "in": "query", "required": True, "type": "integer", "x-ms-visibility": "internal"}


def _doc(paths: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "host": "api.example.com",
        "basePath": "/v1",
        "paths": paths,
        "definitions": {"Item": {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}},
    }
    doc.update(top)
    return doc


def _op(operation_id: str, *parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "parameters": list(parameters),
        "responses": {"200": {"description": "ok"}},
        **extra,
    }


# -- consumes


def test_a_body_without_consumes_is_declared_json_and_the_input_is_left_alone() -> None:
    doc = _doc({"/items": {"post": _op("Create", BODY), "get": _op("List")}})
    before = copy.deepcopy(doc)
    reading = platform_reading(doc)
    assert reading.definition["paths"]["/items"]["post"]["consumes"] == ["application/json"]
    assert "consumes" not in reading.definition["paths"]["/items"]["get"]  # no body, nothing to declare
    assert [(c.kind, c.detail) for c in reading.changes] == [(CONSUMES, "application/json for POST /items (Create)")]
    assert doc == before


@pytest.mark.parametrize(
    ("top", "own"),
    [
        ({"consumes": ["application/xml"]}, None),  # the document's applies
        ({}, ["text/plain"]),  # the operation's own
        ({"consumes": ["application/json"]}, ["application/x-www-form-urlencoded"]),
    ],
)
def test_declared_consumes_is_kept(top: dict[str, Any], own: list[str] | None) -> None:
    post = _op("Create", BODY, **({"consumes": own} if own is not None else {}))
    doc = _doc({"/items": {"post": post}}, **top)
    reading = platform_reading(doc)
    assert reading.definition == doc
    assert reading.changes == []


def test_an_empty_consumes_counts_as_none_even_over_the_documents() -> None:
    """An operation's own ``consumes: []`` overrides the document's list, so no media type is declared."""
    doc = _doc({"/items": {"post": _op("Create", BODY, consumes=[])}}, consumes=["application/xml"])
    assert platform_reading(doc).definition["paths"]["/items"]["post"]["consumes"] == ["application/json"]


def test_a_body_parameter_from_the_path_item_by_reference_counts() -> None:
    doc = _doc({"/items": {"parameters": [{"$ref": "#/parameters/Item"}], "put": _op("Replace")}})
    doc["parameters"] = {"Item": BODY}
    reading = platform_reading(doc)
    assert reading.definition["paths"]["/items"]["put"]["consumes"] == ["application/json"]
    assert reading.definition["paths"]["/items"]["parameters"] == [{"$ref": "#/parameters/Item"}]


def test_form_fields_without_consumes_get_the_form_type_the_runtime_sends() -> None:
    field = {"name": "title", "in": "formData", "type": "string"}
    upload = {"name": "file", "in": "formData", "type": "file"}
    doc = _doc({"/form": {"post": _op("Form", field)}, "/upload": {"post": _op("Upload", field, upload)}})
    paths = platform_reading(doc).definition["paths"]
    assert paths["/form"]["post"]["consumes"] == ["application/x-www-form-urlencoded"]
    assert paths["/upload"]["post"]["consumes"] == ["multipart/form-data"]


# -- the stripped trigger path


def test_a_polling_operation_is_declared_at_its_stripped_path_too() -> None:
    poll = _op("OnNewItems", SINCE, **{"x-ms-trigger": "batch"})
    folder = {"name": "folderId", "in": "path", "required": True, "type": "string"}
    doc = _doc({"/trigger/v2/folders/{folderId}/items": {"parameters": [folder], "get": poll}})
    reading = platform_reading(doc, ["OnNewItems"])
    paths = reading.definition["paths"]
    twin = paths["/v2/folders/{folderId}/items"]["get"]
    assert paths["/trigger/v2/folders/{folderId}/items"] == doc["paths"]["/trigger/v2/folders/{folderId}/items"]
    assert twin["parameters"] == [folder, SINCE]  # the path item's parameter folded in, nothing relaxed
    assert {k: v for k, v in twin.items() if k != "parameters"} == {k: v for k, v in poll.items() if k != "parameters"}
    assert set(paths["/v2/folders/{folderId}/items"]) == {"get"}
    assert [c.kind for c in reading.changes] == [STRIPPED]


def test_the_twin_carries_the_declared_json_body_type() -> None:
    doc = _doc({"/trigger/search": {"post": _op("OnMatches", BODY, **{"x-ms-trigger": "batch"})}})
    paths = platform_reading(doc, ["OnMatches"]).definition["paths"]
    assert paths["/search"]["post"]["consumes"] == paths["/trigger/search"]["post"]["consumes"] == ["application/json"]


def test_a_stripped_path_declared_for_that_method_stays_the_declared_operation() -> None:
    """Facebook's ``/trigger/me/feed`` poll goes to ``/me/feed``, which the action GetFeed declares."""
    action = _op("GetFeed", {"name": "limit", "in": "query", "type": "integer"})
    doc = _doc({"/me/feed": {"get": action}, "/trigger/me/feed": {"get": _op("OnNewPost", SINCE)}})
    reading = platform_reading(doc, ["OnNewPost"])
    assert reading.definition == doc
    assert [c.kind for c in reading.changes] == [ALREADY]


def test_a_stripped_path_declared_for_other_methods_gains_the_method() -> None:
    create = _op("Create", BODY, consumes=["application/json"])
    doc = _doc({"/items": {"post": create}, "/trigger/items": {"get": _op("OnNewItems", SINCE)}})
    paths = platform_reading(doc, ["OnNewItems"]).definition["paths"]
    assert paths["/items"]["post"] == create
    assert paths["/items"]["get"]["operationId"] == "OnNewItems"


def test_only_the_named_operations_and_the_given_rewrite() -> None:
    doc = _doc({"/trigger/items": {"get": _op("OnNewItems", SINCE)}, "/trigger/other": {"get": _op("Other")}})
    assert platform_reading(doc).definition == doc  # no pollingtrigger named
    assert platform_reading(doc, ["OnNewItems"], strip=lambda path: path).definition == doc  # stripping off
    paths = platform_reading(doc, ["OnNewItems"]).definition["paths"]
    assert set(paths) == {"/trigger/items", "/trigger/other", "/items"}


# -- nothing else changes, over the corpus


def _polling(package: ConnectorPackage) -> list[str]:
    named: list[str] = []
    for instance in package.properties.properties.policyTemplateInstances or []:
        if instance.template == "pollingtrigger":
            named += [str(n) for n in (instance.parameters or {}).get("x-ms-apimTemplate-operationName") or []]
    return named


def _without_consumes(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k != "consumes"}


@needs_corpus
def test_over_the_corpus_only_consumes_and_stripped_paths_are_added() -> None:
    counts = {CONSUMES: 0, STRIPPED: 0, ALREADY: 0}
    for folder in sorted(p for p in CORPUS.glob("*/*") if p.is_dir()):
        try:
            package = ConnectorPackage.load(folder)
        except ConnectorkitError:  # unloadable corpus entries are the loader's tests' business
            continue
        doc = package.definition
        reading = platform_reading(doc, _polling(package))
        got = reading.definition
        assert {k: v for k, v in got.items() if k != "paths"} == {k: v for k, v in doc.items() if k != "paths"}
        for path, item in got["paths"].items():
            original = doc["paths"].get(path)
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                if isinstance(original, dict) and method in original:
                    op, was = item[method], original[method]
                    assert _without_consumes(op) == _without_consumes(was), f"{folder.name} {method} {path}"
                    if op.get("consumes") != was.get("consumes"):
                        effective = was["consumes"] if "consumes" in was else doc.get("consumes")
                        assert op["consumes"] == ["application/json"] and not effective, f"{folder.name} {path}"
                else:  # a twin: the operation of the /trigger path this one is stripped from
                    source = doc["paths"]["/trigger" + path][method]
                    assert item[method]["operationId"] == source["operationId"] in _polling(package)
                    assert strip_trigger_prefix("/trigger" + path) == path
        for kind in counts:
            counts[kind] += sum(1 for c in reading.changes if c.kind == kind)
    # measured over the corpus: 170 bodies without consumes, 21 stripped paths added, Facebook's declared
    assert counts == {CONSUMES: 170, STRIPPED: 21, ALREADY: 1}


# -- what the reading changes for Prism


@pytest.fixture(scope="module")
def prism_cli() -> Path:
    try:
        return npm_package("@stoplight/prism-cli@5", "@stoplight/prism-cli") / "dist" / "index.js"
    except NodeToolMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture
def mocks(prism_cli: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Prism on the declared definition and on its platform reading: their base URLs."""
    from benchmarks.fidelity import Prism

    poll = _op("OnNewItems", SINCE, **{"x-ms-trigger": "batch"})
    doc = _doc({"/items": {"post": _op("Create", BODY)}, "/trigger/items": {"get": poll}})
    (tmp_path / "declared").mkdir()
    (tmp_path / "platform").mkdir()
    declared = Prism(prism_cli, doc, tmp_path / "declared")
    platform = Prism(prism_cli, platform_reading(doc, ["OnNewItems"]).definition, tmp_path / "platform")
    try:
        declared.start()
        platform.start()
        yield declared.url, platform.url
    finally:
        declared.stop()
        platform.stop()


def _problem(response: httpx.Response) -> str:
    return str(response.json().get("type", "")).rpartition("#")[2] if response.status_code >= 400 else ""


def test_prism_accepts_on_the_reading_what_the_platform_sends_and_still_rejects_bad_requests(
    mocks: tuple[str, str],
) -> None:
    declared, platform = mocks
    with httpx.Client() as client:
        for base, expected in ((declared, "INVALID_CONTENT_TYPE"), (platform, "")):
            sent = client.post(f"{base}/items", json={"title": "t"})
            assert _problem(sent) == expected, sent.text
        assert _problem(client.post(f"{platform}/items", json={"title": 1})) == "UNPROCESSABLE_ENTITY"
        assert _problem(client.get(f"{declared}/items", params={"since": 5})) == "NO_METHOD_MATCHED_ERROR"
        assert client.get(f"{platform}/items", params={"since": 5}).status_code == 200
        assert _problem(client.get(f"{platform}/items")) == "UNPROCESSABLE_ENTITY"  # since is still required
        assert _problem(client.get(f"{platform}/items", params={"since": "x"})) == "UNPROCESSABLE_ENTITY"


# -- the benchmark's webhook subscribe request


def test_a_webhook_body_the_sample_leaves_out_is_sampled_with_its_required_properties() -> None:
    """Shopranos: the body is optional, but once the callback URL is in it, its required
    ``Title`` must be too (the designer asks for it)."""
    from benchmarks.fidelity import request_inputs

    schema = {
        "type": "object",
        "required": ["Url", "Title"],
        "properties": {
            "Url": {"type": "string", "x-ms-notification-url": True, "x-ms-visibility": "internal"},
            "Title": {"type": "string"},
            "Note": {"type": "string"},
        },
    }
    hook = _op(
        "OnCreated", {"name": "body", "in": "body", "required": False, "schema": schema}, **{"x-ms-trigger": "single"}
    )
    package = ConnectorPackage(definition=_doc({"/hooks": {"post": hook}}))
    arguments, _ = request_inputs(package, "OnCreated", "webhook")
    assert set(arguments["body"]) == {"Url", "Title"}
    assert arguments["body"]["Url"].startswith("https://connectorkit.example/callbacks/")
