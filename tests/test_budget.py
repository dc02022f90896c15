"""The platform's budgets: operation selection, pruning, schemas per body and the 1 MB size."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

from connectorkit.authoring.budget import (
    MAX_BYTES,
    BudgetOptions,
    BudgetResult,
    compact_bytes,
    fit_budget,
    written_size,
)
from connectorkit.authoring.enrich import EnrichOptions, enrich
from connectorkit.authoring.report import Kind, Report
from connectorkit.definition.findings import Finding
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import On, Profile

SPECS = Path(__file__).resolve().parents[1].parent / "shared" / "specs"
DISCORD = SPECS / "discord__discord-api-spec" / "specs" / "openapi.json"
has_converter = importlib.util.find_spec("connectorkit.authoring.openapi3") is not None

OK = {"200": {"description": "OK"}}


def lint_errors(swagger: dict[str, Any]) -> list[Finding]:
    rules = [r for r in active_rules(Profile.CUSTOM) if r.on not in (On.LOAD, On.DIFF)]
    found = lint_package(ConnectorPackage(definition=swagger), rules)
    return [f for f in found if f.severity.value == "error" and f.file in (None, "apiDefinition.swagger.json")]


def spec(paths: dict[str, Any], **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "Widgets", "version": "1.0"},
        "host": "widgets.example.com",
        "basePath": "/",
        "schemes": ["https"],
        "paths": paths,
    }
    doc.update(top)
    return doc


def many_operations(tags: dict[str, int]) -> dict[str, Any]:
    """``count`` GET operations per tag, each on its own path, in tag order."""
    paths: dict[str, Any] = {}
    for tag, count in tags.items():
        for index in range(count):
            op: dict[str, Any] = {"operationId": f"Get{tag}{index}", "responses": OK}
            if tag != "-":
                op["tags"] = [tag]
            paths[f"/{tag.lower()}/item{index}"] = {"get": op}
    return spec(paths, tags=[{"name": tag} for tag in tags if tag != "-"])


def budget(doc: dict[str, Any], **options: Any) -> tuple[BudgetResult, Report]:
    report = Report()
    result = fit_budget(doc, report, BudgetOptions(**options))
    for item in report.items:
        assert item.kind is Kind.BUDGET
    return result, report


def operations(doc: dict[str, Any]) -> list[str]:
    return [op["operationId"] for item in doc["paths"].values() for op in item.values() if isinstance(op, dict)]


def messages(report: Report) -> str:
    return "\n".join(item.message for item in report.items)


# --------------------------------------------------------------------------- operations


def test_small_definition_is_left_alone() -> None:
    doc = many_operations({"A": 3})
    before = copy.deepcopy(doc)
    result, report = budget(doc)
    assert report.items == [] and doc == before
    assert result == BudgetResult(written_size(doc), len(compact_bytes(doc)), 3, minify=False)


def test_256_operations_pass_and_257_fail() -> None:
    result, _ = budget(many_operations({"A": 256}))
    assert result.operations == 256
    with pytest.raises(InputError) as caught:
        budget(many_operations({"A": 200, "B": 40, "C": 17}))
    message = str(caught.value)
    assert message.startswith("257 operations, the platform allows 256: exclude 1 (for example --exclude-tag A")
    assert message.endswith("or pass --max-operations 256")


def test_too_many_operations_names_the_biggest_tags() -> None:
    doc = many_operations({"Small": 10, "Big Tag": 200, "Middle": 100})
    with pytest.raises(InputError) as caught:
        fit_budget(doc, Report(), location="spec.yaml")
    message = str(caught.value)
    assert message.startswith("spec.yaml: 310 operations, the platform allows 256: exclude 54")
    assert '--exclude-tag "Big Tag" (200 operations)' in message
    assert "Middle" not in message  # the biggest tag alone is enough
    assert "\n" not in message


def test_too_many_untagged_operations_suggest_path_groups() -> None:
    paths = {f"/v2/guilds/{{id}}/item{i}": {"get": {"operationId": f"G{i}", "responses": OK}} for i in range(200)}
    paths.update({f"/channels/item{i}": {"get": {"operationId": f"C{i}", "responses": OK}} for i in range(100)})
    with pytest.raises(InputError) as caught:
        budget(spec(paths))
    assert (
        "exclude 44 (no operation has tags; the biggest path groups are /v2/guilds (200), /channels (100): "
        "choose with --include-path '/v2/guilds*') or pass --max-operations 256"
    ) in str(caught.value)
    doc = many_operations({"A": 100, "-": 200})
    with pytest.raises(InputError, match=r'for example --exclude-tag "\(untagged\)" \(200 operations\)\)'):
        budget(doc)


def test_too_many_operations_after_selection() -> None:
    doc = many_operations({"A": 200, "B": 100, "C": 5})
    with pytest.raises(InputError, match=r"^300 operations after --exclude-tag C, the platform allows 256"):
        budget(doc, exclude_tags=("C",))


def test_include_tags() -> None:
    doc = many_operations({"A": 5, "B": 3, "-": 2})
    result, report = budget(doc, include_tags=("b",))
    assert operations(doc) == ["GetB0", "GetB1", "GetB2"]
    assert result.operations == 3
    left_out = [item for item in report.items if "is left out" in item.message]
    assert len(left_out) == 7
    assert left_out[0].source == "#/paths/~1a~1item0/get" and left_out[0].target is None
    assert left_out[0].message == "GET /a/item0 (GetA0) is left out: not chosen by --include-tag b."
    assert doc["tags"] == [{"name": "B"}]  # the tags whose operations all went
    assert "1 tag whose operations were all left out removed from 'tags': A." in messages(report)


def test_untagged_operations_have_a_pseudo_tag() -> None:
    doc = many_operations({"A": 2, "-": 2})
    budget(doc, include_tags=("(untagged)",))
    assert operations(doc) == ["Get-0", "Get-1"]


def test_exclude_tags_and_paths() -> None:
    doc = many_operations({"A": 3, "B": 3, "C": 3})
    budget(doc, include_paths=("/a/*", "/b/item1"), exclude_tags=("A",))
    assert operations(doc) == ["GetB1"]
    doc = many_operations({"A": 3, "B": 3})
    _, report = budget(doc, include_tags=("A",), include_paths=("/b/item2",))
    assert operations(doc) == ["GetA0", "GetA1", "GetA2", "GetB2"]  # includes are a union
    assert "tag 'b'" not in messages(report)


def test_max_operations_keeps_the_first_in_document_order() -> None:
    doc = many_operations({"A": 5, "B": 5})
    _, report = budget(doc, max_operations=4)
    assert operations(doc) == ["GetA0", "GetA1", "GetA2", "GetA3"]
    assert "beyond --max-operations 4" in messages(report)
    assert sum("is left out" in item.message for item in report.items) == 6
    assert list(doc["paths"]) == ["/a/item0", "/a/item1", "/a/item2", "/a/item3"]  # empty path items go


def test_selection_keeps_the_operations_a_kept_one_uses() -> None:
    doc = many_operations({"A": 3, "Lookups": 2})
    param = {
        "name": "list",
        "in": "query",
        "type": "string",
        "x-ms-dynamic-values": {"operationId": "GetLookups1", "value-path": "id"},
    }
    doc["paths"]["/a/item2"]["get"]["parameters"] = [param]
    _, report = budget(doc, exclude_tags=("Lookups",))
    assert operations(doc) == ["GetA0", "GetA1", "GetA2", "GetLookups1"]
    assert "GET /lookups/item1 (GetLookups1) is kept although not selected" in messages(report)
    assert not lint_errors(doc)

    doc = many_operations({"A": 3, "Lookups": 2})
    doc["paths"]["/a/item0"]["get"]["parameters"] = [param]
    _, report = budget(doc, max_operations=2)
    assert operations(doc) == ["GetA0", "GetLookups1"]  # the first operation brings what it needs
    assert "GET /a/item1 (GetA1) is left out: beyond --max-operations 2." in messages(report)
    assert not lint_errors(doc)


def test_capabilities_operations_are_always_kept() -> None:
    doc = many_operations({"A": 3, "B": 1})
    doc["x-ms-capabilities"] = {"testConnection": {"operationId": "GetB0", "parameters": {}}}
    _, report = budget(doc, include_tags=("A",))
    assert "GetB0" in operations(doc)
    assert "GET /b/item0 (GetB0) is kept although not selected" in messages(report)


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"include_tags": ("Nope",)}, r"^no operation has the tag 'Nope'; the tags are A \(2\), B \(1\)$"),
        ({"exclude_tags": ("Nope",)}, r"^no operation has the tag 'Nope'"),
        ({"include_paths": ("/zzz*",)}, r"^no path matches --include-path /zzz\*"),
        ({"max_operations": 0}, r"^--max-operations must be 1 or more, not 0$"),
        (
            {"include_tags": ("A",), "exclude_tags": ("A",)},
            r"^no operation is left after --include-tag A --exclude-tag A$",
        ),
    ],
)
def test_selection_errors(options: dict[str, Any], pattern: str) -> None:
    with pytest.raises(InputError, match=pattern):
        budget(many_operations({"A": 2, "B": 1}), **options)


# --------------------------------------------------------------------------- pruning


def test_pruning_follows_references_transitively() -> None:
    doc = spec(
        {
            "/w/{id}": {
                "parameters": [{"$ref": "#/parameters/id"}],
                "get": {
                    "operationId": "GetW",
                    "responses": {"200": {"$ref": "#/responses/Widget"}, "404": {"description": "No"}},
                },
            }
        },
        definitions={
            "Widget": {"type": "object", "properties": {"part": {"$ref": "#/definitions/Part"}}},
            "Part": {"type": "array", "items": {"$ref": "#/definitions/a~1b"}},
            "a/b": {"type": "object", "properties": {"self": {"$ref": "#/definitions/Part"}}},
            "Unused": {"type": "object", "properties": {"x": {"$ref": "#/definitions/AlsoUnused"}}},
            "AlsoUnused": {"type": "string"},
        },
        parameters={
            "id": {"name": "id", "in": "path", "required": True, "type": "string"},
            "spare": {"name": "spare", "in": "query", "type": "string"},
        },
        responses={
            "Widget": {"description": "A widget", "schema": {"$ref": "#/definitions/Widget"}},
            "Gone": {"description": "Gone"},
        },
    )
    _, report = budget(doc)
    assert list(doc["definitions"]) == ["Widget", "Part", "a/b"]
    assert list(doc["parameters"]) == ["id"]
    assert list(doc["responses"]) == ["Widget"]
    text = messages(report)
    assert "2 unused definitions removed (no $ref reaches them): Unused, AlsoUnused." in text
    assert "1 unused shared parameter removed (no $ref reaches it): spare." in text
    assert "1 unused shared response removed" in text
    assert [item.source for item in report.items] == ["#/definitions", "#/parameters", "#/responses"]
    assert not lint_errors(doc)


def test_pruning_removes_emptied_sections() -> None:
    doc = spec({"/w": {"get": {"operationId": "W", "responses": OK}}}, definitions={"Unused": {"type": "string"}})
    _, report = budget(doc)
    assert "definitions" not in doc
    assert report.items[0].target is None


def test_pruning_after_selection() -> None:
    doc = many_operations({"A": 1, "B": 1})
    doc["paths"]["/b/item0"]["get"]["responses"] = {"200": {"description": "B", "schema": {"$ref": "#/definitions/B"}}}
    doc["definitions"] = {"B": {"type": "object"}}
    budget(doc, include_tags=("A",))
    assert "definitions" not in doc


# --------------------------------------------------------------------------- schemas per body


def wide(count: int) -> dict[str, Any]:
    return {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(count)}}


def test_too_many_schemas_in_a_body() -> None:
    doc = spec(
        {
            "/w": {
                "get": {
                    "operationId": "GetW",
                    "responses": {"200": {"description": "OK", "schema": {"$ref": "#/definitions/Big"}}},
                },
                "post": {
                    "operationId": "PostW",
                    "parameters": [{"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Holder"}}],
                    "responses": OK,
                },
            },
            "/v": {"get": {"operationId": "GetV", "responses": OK}},
        },
        definitions={
            "Big": wide(600),
            "Holder": {"type": "object", "properties": {"big": {"$ref": "#/definitions/Big"}}},
        },
    )
    with pytest.raises(InputError) as caught:
        fit_budget(doc, Report(), location="w.json")
    message = str(caught.value)
    assert message.startswith(
        "w.json: 2 schemas expand to more than the 512 schemas the platform allows per body: "
        "definitions/Big (601), definitions/Holder (602); used by GET /w (GetW), POST /w (PostW)."
    )
    assert "GetV" not in message


def test_inline_body_over_the_limit_and_unused_big_definition() -> None:
    doc = spec(
        {
            "/w": {
                "post": {
                    "operationId": "PostW",
                    "parameters": [{"name": "b", "in": "body", "schema": wide(520)}],
                    "responses": OK,
                }
            }
        },
        definitions={"Big": wide(900)},
    )
    with pytest.raises(
        InputError, match=r"1 schema expand.*paths/~1w/post/parameters/0/schema \(521\); used by POST /w"
    ):
        budget(doc)
    assert "definitions" not in doc  # pruned before counting: unused, it was no problem
    doc["paths"]["/w"]["post"]["parameters"][0]["schema"] = wide(511)
    result, _ = budget(doc)
    assert result.operations == 1


# --------------------------------------------------------------------------- size


SENTENCE = "The first sentence says what it is. "


def sized(
    definitions: int,
    *,
    labels: bool = False,
    description: str = "",
    example: bool = False,
    properties: int = 20,
) -> dict[str, Any]:
    """A definition whose size comes from nested schema properties."""
    defs: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for i in range(definitions):
        inner: dict[str, Any] = {}
        for j in range(properties):
            prop: dict[str, Any] = {"type": "string"}
            if description:
                prop["description"] = description
            if example:
                prop["example"] = "an example value " * 4
            inner[f"field_{j}"] = prop
        defs[f"D{i}"] = {
            "type": "object",
            "description": "A top-level description. " * 4,
            "properties": {
                "outer": {"type": "object", "properties": {"inner": {"type": "object", "properties": inner}}}
            },
        }
        paths[f"/d{i}"] = {
            "get": {
                "operationId": f"GetD{i}",
                "responses": {"200": {"description": "OK", "schema": {"$ref": f"#/definitions/D{i}"}}},
            }
        }
    doc = spec(paths, definitions=defs)
    if labels:
        enrich(doc, Report(), EnrichOptions(certification=True))
    return doc


def size_steps(report: Report) -> list[str]:
    return [item.message for item in report.items if "bytes" in item.message]


def test_derived_labels_go_first() -> None:
    doc = sized(220, labels=True)
    assert written_size(doc) >= MAX_BYTES
    result, report = budget(doc)
    assert result.size < MAX_BYTES and not result.minify
    steps = size_steps(report)
    assert len(steps) == 1 and "removed property labels and descriptions that only restate the names" in steps[0]
    saved = int(re.search(r"saving ([\d,]+) bytes", steps[0]).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert saved > 0
    inner = doc["definitions"]["D0"]["properties"]["outer"]["properties"]["inner"]["properties"]["field_0"]
    assert inner == {"type": "string"}
    assert doc["definitions"]["D0"]["description"].startswith("A top-level description.")  # not touched
    assert not lint_errors(doc)


def test_deep_descriptions_are_shortened() -> None:
    doc = sized(120, description=SENTENCE + "Then a long explanation follows " * 6)
    assert written_size(doc) >= MAX_BYTES
    result, report = budget(doc)
    assert result.size < MAX_BYTES and not result.minify
    assert len(size_steps(report)) == 1 and "shortened descriptions" in size_steps(report)[0]
    definition = doc["definitions"]["D0"]
    field = definition["properties"]["outer"]["properties"]["inner"]["properties"]["field_0"]
    assert field["description"] == SENTENCE.strip()
    # depth 0 and 1 keep their text
    assert definition["description"] == "A top-level description. " * 4


def test_examples_are_dropped() -> None:
    doc = sized(150, description="Short.", example=True)
    result, report = budget(doc)
    assert result.size < MAX_BYTES and not result.minify
    assert "removed examples" in size_steps(report)[-1]
    field = doc["definitions"]["D0"]["properties"]["outer"]["properties"]["inner"]["properties"]["field_0"]
    assert field == {"type": "string", "description": "Short."}


def test_minified_when_indentation_is_too_much() -> None:
    doc = sized(200, description="Short.", properties=30)
    assert written_size(doc) >= MAX_BYTES
    result, report = budget(doc)
    assert result.minify and result.size >= MAX_BYTES and result.compact_size < MAX_BYTES
    assert result.compact_size == len(compact_bytes(doc))
    assert json.loads(compact_bytes(doc)) == doc
    assert "it is written minified instead" in report.items[-1].message
    field = doc["definitions"]["D0"]["properties"]["outer"]["properties"]["inner"]["properties"]["field_0"]
    assert field["description"] == "Short."  # minifying came before removing descriptions


def test_deep_descriptions_removed_as_the_last_step() -> None:
    doc = sized(240, description="A long single sentence about this field that keeps going " * 2 + "on.", properties=30)
    assert len(compact_bytes(doc)) >= MAX_BYTES  # minifying alone is not enough
    result, report = budget(doc)
    assert result.compact_size < MAX_BYTES
    steps = size_steps(report)
    assert "removed descriptions of nested schema properties" in steps[-2]
    assert "written minified" in steps[-1] and result.minify
    field = doc["definitions"]["D0"]["properties"]["outer"]["properties"]["inner"]["properties"]["field_0"]
    assert "description" not in field


def test_too_big_after_every_step() -> None:
    doc = sized(250, properties=150)
    with pytest.raises(InputError) as caught:
        fit_budget(doc, Report(), location="huge.json")
    message = str(caught.value)
    assert message.startswith("huge.json: the definition is ")
    assert "even minified" in message and "Biggest parts: " in message
    assert re.search(r"paths /d\d+ \([\d,]+ bytes\)|definitions D\d+ \([\d,]+ bytes\)", message)
    assert message.endswith("--exclude-tag, --include-path or --max-operations")


# --------------------------------------------------------------------------- a real spec


@pytest.mark.skipif(not DISCORD.is_file(), reason=f"test spec not found at {DISCORD}")
@pytest.mark.skipif(not has_converter, reason="the OpenAPI 3 converter (openapi3.py) is not there yet")
def test_discord() -> None:
    from connectorkit.authoring.openapi3 import convert_openapi3
    from connectorkit.authoring.source import read_spec

    source = read_spec(str(DISCORD))
    swagger = convert_openapi3(source.value, Report(), source_url=None).swagger
    enrich(swagger, Report(), EnrichOptions())
    whole = copy.deepcopy(swagger)
    with pytest.raises(InputError, match=r"allows per body: definitions/\w+ \([\d,]+\)"):
        fit_budget(whole, Report())
    report = Report()
    result = fit_budget(swagger, report, BudgetOptions(include_paths=("/applications*",)))
    assert 0 < result.operations < 60 and result.size < MAX_BYTES
    assert report.of(Kind.BUDGET)
    assert not lint_errors(swagger)


def test_exclude_path_leaves_out_matching_operations() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "T", "version": "1"},
        "paths": {
            "/keep": {"get": {"operationId": "Keep", "responses": {"200": {"description": "OK"}}}},
            "/drop/one": {"get": {"operationId": "DropOne", "responses": {"200": {"description": "OK"}}}},
            "/drop/two": {"post": {"operationId": "DropTwo", "responses": {"200": {"description": "OK"}}}},
        },
    }
    report = Report()
    fit_budget(doc, report, BudgetOptions(exclude_paths=("/drop/*",)))
    assert list(doc["paths"]) == ["/keep"]
    assert sum("--exclude-path /drop/*" in item.message for item in report.items) == 2
    with pytest.raises(InputError, match="no path matches --exclude-path /nothing"):
        fit_budget(copy.deepcopy(doc), Report(), BudgetOptions(exclude_paths=("/nothing",)))
