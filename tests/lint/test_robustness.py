"""Property-based robustness: whatever JSON or bytes come in, validation reports, never raises.

Rules see hostile shapes in real connectors (a string where an object belongs, a list of
numbers as parameters). These tests feed random and mutated documents through every rule and
check that each input yields findings or a clean parse error, and that no rule crashed (a crash
is caught by the engine and shows up as a ConnectorkitInternalError finding).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.lint.harness import EXAMPLE

from connectorkit.definition.documents import parse_document
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import SourceError
from connectorkit.lint.engine import INTERNAL_ERROR, active_rules, lint_package
from connectorkit.lint.registry import On, Profile

KEYWORDS = [
    "swagger", "info", "title", "description", "version", "host", "basePath", "schemes", "consumes", "produces",
    "paths", "definitions", "parameters", "responses", "securityDefinitions", "security", "tags", "get", "post",
    "put", "delete", "operationId", "summary", "in", "name", "required", "type", "format", "items", "schema",
    "properties", "enum", "default", "$ref", "allOf", "additionalProperties", "x-ms-visibility", "x-ms-summary",
    "x-ms-trigger", "x-ms-dynamic-values", "x-ms-dynamic-schema", "x-ms-dynamic-list", "x-ms-dynamic-properties",
    "x-ms-notification-content", "x-ms-notification-url", "x-ms-pageable", "x-ms-api-annotation",
    "x-ms-connector-metadata", "x-ms-enum-values", "operationId", "value-path", "value-collection", "itemsPath",
    "minimum", "maximum", "minLength", "maxLength", "pattern", "collectionFormat", "flow", "authorizationUrl",
    "tokenUrl", "scopes", "contact", "email", "url", "200", "default", "/pets/{id}", "#/definitions/X",
]  # fmt: skip

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(KEYWORDS), st.text(max_size=12),
)  # fmt: skip
keys = st.one_of(st.sampled_from(KEYWORDS), st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=40,
)

RULES = [r for r in active_rules(Profile.CERTIFIED) if r.on not in (On.LOAD, On.DIFF)]
EXAMPLE_DOC: dict[str, Any] = json.loads(EXAMPLE.read_text())


def _check(definition: Any, api_properties: Any = None) -> None:
    package = ConnectorPackage(
        definition=definition if isinstance(definition, dict) else {"swagger": definition},
        api_properties=api_properties if isinstance(api_properties, dict) else {"properties": api_properties},
        readme="# Title\n", script="public class Script : ScriptBase {}", icon=b"\x89PNG\r\n\x1a\nnot really",
    )  # fmt: skip
    findings = lint_package(package, RULES, Profile.CERTIFIED)
    crashes = [f.message for f in findings if f.rule == INTERNAL_ERROR]
    assert crashes == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, json_values)
def test_random_documents_never_crash_a_rule(definition, api_properties):
    _check(definition, api_properties)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


EXAMPLE_PATHS = [p for p in _paths(EXAMPLE_DOC) if p]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(EXAMPLE_PATHS), json_values), min_size=1, max_size=4))
def test_mutated_example_never_crashes_a_rule(edits):
    doc = copy.deepcopy(EXAMPLE_DOC)
    for path, value in edits:
        node: Any = doc
        try:
            for step in path[:-1]:
                node = node[step]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    _check(doc)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_random_bytes_parse_or_fail_cleanly(raw):
    for name in ("apiDefinition.swagger.json", "spec.yaml"):
        try:
            parse_document(raw, name)
        except SourceError as error:
            assert error.line >= 1 and error.column >= 1


@settings(max_examples=200, deadline=None)
@given(
    json_values, st.integers(min_value=0, max_value=400), st.sampled_from([",", "}", "]", "{", "[", '"', ":", "\ufeff"])
)
def test_damaged_json_parses_or_fails_cleanly(value, cut, junk):
    text = json.dumps(value, indent=2)
    position = min(cut, len(text))
    damaged = (text[:position] + junk + text[position:]).encode()
    try:
        document = parse_document(damaged, "apiDefinition.swagger.json")
    except SourceError as error:
        assert error.line >= 1 and error.column >= 1
        return
    _check(document.value)
