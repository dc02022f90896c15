"""Every API description in ../shared/specs becomes a connector definition the validator accepts.

For each spec: ``connectorkit convert`` succeeds (with the selection options a user needs for
the specs that exceed the platform's limits), the result has no error under
``connectorkit validate --profile custom``, and each source operation is either converted with
the same method, path and parameter names, or a report item says why it is not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectorkit.authoring.bundle import bundle
from connectorkit.authoring.report import Report
from connectorkit.authoring.source import SpecFormat, read_spec
from connectorkit.cli.main import app
from connectorkit.definition.jsontext import pointer_join
from connectorkit.definition.swagger import HTTP_METHODS, Swagger

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT.parent / "shared" / "specs"
pytestmark = pytest.mark.skipif(not SPECS.is_dir(), reason=f"spec set not found at {SPECS}")

# Specs that exceed the platform's limits need a selection, as a user would give it; the
# converter's error message names these options (see test_over_budget_errors_say_what_to_exclude).
CASES: dict[str, list[str]] = {
    "OAI__learn.openapis.org/examples/v3.0/petstore.yaml": [],
    "OAI__learn.openapis.org/examples/v3.0/petstore-expanded.yaml": [],
    "OAI__learn.openapis.org/examples/v3.0/uspto.json": [],
    "OAI__learn.openapis.org/examples/v3.0/api-with-examples.yaml": [],
    "OAI__learn.openapis.org/examples/v3.0/callback-example.yaml": [],
    "OAI__learn.openapis.org/examples/v3.0/link-example.yaml": [],
    "OAI__learn.openapis.org/examples/v3.1/non-oauth-scopes.yaml": [],
    "OAI__learn.openapis.org/examples/v3.1/tictactoe.yaml": [],
    "box__box-openapi/openapi/openapi-v2025.0.json": ["--exclude-tag", "(untagged)"],
    "twilio__twilio-oai/spec/yaml/twilio_messaging_v1.yaml": [],
    "discord__discord-api-spec/specs/openapi.json": ["--include-path", "/applications*"],
    "digitalocean__openapi/specification/DigitalOcean-public.v2.yaml": [
        "--exclude-tag", "Apps", "--exclude-tag", "GradientAI Platform", "--max-operations", "256",
    ],
    "transferwise__public-api-postman-collection/all-endpoints/TW-API.postman_collection.json": [],
    "transferwise__public-api-postman-collection/cards-api/Cards API.postman_collection.json": [],
    "Brightspace__Postman-Collections/Test Data Setup/Test Data Setup.postman_collection.json": [],
    "postmanlabs__postman-collection-transformer/examples/v2.0.0/box.json": [],
}  # fmt: skip

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _resolved(document: dict[str, Any], param: dict[str, Any]) -> dict[str, Any]:
    ref = param.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/parameters/"):
        target = (document.get("components") or {}).get("parameters", {}).get(ref.rsplit("/", 1)[-1])
        return target if isinstance(target, dict) else param
    return param


def _source_operations(document: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(method, path, parameter names) of every operation of an OpenAPI document (bundled: its
    shared parameters are local references into components)."""
    out = []
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = [_resolved(document, p) for p in item.get("parameters", []) if isinstance(p, dict)]
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                params = shared + [_resolved(document, p) for p in op.get("parameters", []) if isinstance(p, dict)]
                names = sorted({str(p.get("name")) for p in params if "$ref" not in p and p.get("in") != "cookie"})
                out.append((method, path, names))
    return out


@pytest.mark.parametrize("relative", list(CASES), ids=[Path(c).name for c in CASES])
def test_spec_converts_to_a_valid_definition(tmp_path: Path, relative: str) -> None:
    source = SPECS / relative
    target = tmp_path / "apiDefinition.swagger.json"
    report_file = tmp_path / "report.json"
    result = run("convert", source, "-o", target, "--report", report_file, "--format", "json", *CASES[relative])
    assert result.exit_code == 0, result.stderr
    checked = run("validate", target, "--profile", "custom", "--format", "json")
    summary = json.loads(checked.stdout)["summary"]
    errors = [f for r in json.loads(checked.stdout)["results"] for f in r["findings"] if f["severity"] == "error"]
    assert summary["errors"] == 0, errors[:5]
    report = json.loads(report_file.read_text())
    converted = json.loads(target.read_text())
    spec = read_spec(str(source))
    if spec.format in (SpecFormat.POSTMAN_20, SpecFormat.POSTMAN_21):
        assert report["operations"] == len(list(Swagger(converted).operations())) > 0
        return
    document = bundle(spec, Report())
    ops = {(op.method, op.path): op for op in Swagger(converted).operations()}
    sources = [item.get("source", "") for item in report["items"]]
    for method, path, names in _source_operations(document):
        op = ops.get((method, path))
        pointer = "#" + pointer_join(pointer_join("/paths", path), method)
        if op is None:
            assert any(s.startswith(pointer) for s in sources), f"{method.upper()} {path}: dropped without a report"
            continue
        kept = sorted(p.name for p in op.parameters if p.location not in ("body",))
        missing = [n for n in names if n not in kept]
        for name in missing:
            assert any(s.startswith(pointer) or name in s for s in sources), f"{method} {path}: {name} lost silently"


@pytest.mark.parametrize(
    ("relative", "needle"),
    [
        ("digitalocean__openapi/specification/DigitalOcean-public.v2.yaml", "--max-operations 256"),
        ("discord__discord-api-spec/specs/openapi.json", "512 schemas"),
        ("box__box-openapi/openapi/openapi-v2025.0.json", "--exclude-tag"),
    ],
)
def test_over_budget_errors_say_what_to_exclude(tmp_path: Path, relative: str, needle: str) -> None:
    result = run("convert", SPECS / relative, "-o", tmp_path / "out.json")
    assert result.exit_code == 2
    assert needle in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "out.json").exists()


def test_new_from_openapi_with_bearer_and_per_tenant_host(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(
        "openapi: 3.0.3\n"
        "info: {title: Tenants, version: '1.0', description: Manage the records of one tenant of the service.}\n"
        "servers:\n"
        "  - url: https://{tenant}.api.example.com/v2\n"
        "    variables: {tenant: {default: demo, description: Your tenant name}}\n"
        "components:\n"
        "  securitySchemes: {token: {type: http, scheme: bearer}}\n"
        "security: [{token: []}]\n"
        "paths:\n"
        "  /records/{id}:\n"
        "    get:\n"
        "      operationId: getRecord\n"
        "      parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n"
        "      responses:\n"
        "        '200':\n"
        "          description: The record.\n"
        "          content: {application/json: {schema: {type: object, properties: {id: {type: string}}}}}\n"
    )
    result = run("new", "Tenants", "--from", spec, "-o", tmp_path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    props = json.loads((tmp_path / "Tenants" / "apiProperties.json").read_text())["properties"]
    assert props["connectionParameters"]["api_key"]["type"] == "securestring"
    assert props["connectionParameters"]["tenant"]["defaultValue"] == "demo"
    templates = {p["templateId"]: p["parameters"] for p in props["policyTemplateInstances"]}
    assert templates["setheader"]["x-ms-apimTemplateParameter.value"] == "Bearer @connectionParameters('api_key')"
    assert templates["dynamichosturl"]["x-ms-apimTemplateParameter.urlTemplate"] == (
        "https://@connectionParameters('tenant').api.example.com/v2"
    )
    definition = json.loads((tmp_path / "Tenants" / "apiDefinition.swagger.json").read_text())
    assert definition["basePath"] == "/v2"
    assert definition["paths"]["/records/{id}"]["get"]["operationId"] == "GetRecord"
    checked = run("validate", tmp_path / "Tenants")
    assert checked.exit_code == 0, checked.stdout


def test_unresolvable_and_cyclic_refs_are_input_errors(tmp_path: Path) -> None:
    base = "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths:\n  /x:\n    $ref: 'other.yaml#/item'\n"
    (tmp_path / "missing.yaml").write_text(base)
    result = run("convert", tmp_path / "missing.yaml", "-o", tmp_path / "out.json")
    assert result.exit_code == 2 and "other.yaml" in result.stderr and "missing.yaml:5:" in result.stderr
    (tmp_path / "other.yaml").write_text("item:\n  $ref: 'cycle.yaml#/item'\n")
    (tmp_path / "cycle.yaml").write_text("item:\n  $ref: 'other.yaml#/item'\n")
    result = run("convert", tmp_path / "missing.yaml", "-o", tmp_path / "out.json")
    assert result.exit_code == 2 and "cyclic $ref" in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_enrich_command_fixes_a_definition_in_place(tmp_path: Path) -> None:
    definition = json.loads((ROOT / "examples" / "petstore" / "swagger.json").read_text())
    for path in definition["paths"].values():
        for method in HTTP_METHODS:
            if method in path:
                path[method].pop("summary", None)
                path[method].pop("description", None)
    target = tmp_path / "apiDefinition.swagger.json"
    target.write_text(json.dumps(definition))
    assert run("validate", target, "--profile", "certified").exit_code == 1
    result = run("enrich", target, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["changes"] > 0
    checked = run("validate", target, "--profile", "certified", "--format", "json")
    rules = {f["rule"] for r in json.loads(checked.stdout)["results"] for f in r["findings"]}
    assert not rules & {"OperationSummaryMissing", "OperationDescriptionMissing"}
    renamed = json.loads(target.read_text())
    assert renamed["paths"]["/pets"]["get"]["operationId"] == "ListPets"
