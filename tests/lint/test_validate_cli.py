"""``connectorkit validate`` and ``connectorkit rules``: targets, formats, exit codes, configuration."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from tests.lint.harness import CORPUS, EXAMPLE, ROOT
from typer.testing import CliRunner

from connectorkit.cli.main import app
from connectorkit.lint.docs import render_markdown
from connectorkit.lint.registry import REGISTRY

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def connector(tmp_path: Path) -> Path:
    """A fresh Petstore connector folder made by ``connectorkit new``."""
    result = run("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path)
    assert result.exit_code == 0, result.stderr
    return tmp_path / "Petstore"


def _edit_definition(folder: Path, edit) -> None:
    path = folder / "apiDefinition.swagger.json"
    definition = json.loads(path.read_text())
    edit(definition)
    path.write_text(json.dumps(definition, indent=4))


def _optional_path_parameter(definition: dict) -> None:
    definition["paths"]["/pets/{petId}"]["parameters"][0]["required"] = False


def test_clean_connector_exits_zero(connector):
    result = run("validate", connector)
    assert result.exit_code == 0, result.stdout
    assert "1 connector checked: 0 errors" in result.stdout


def test_error_exits_one_with_location_excerpt_and_caret(connector):
    _edit_definition(connector, _optional_path_parameter)
    result = run("validate", connector)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    hit = next(i for i, line in enumerate(lines) if "[PathParameterMustBeRequired]" in line)
    assert "The parameter must be marked as required as it is used in the operation path." in lines[hit]
    line_col = lines[hit].split()[0]
    line, col = (int(x) for x in line_col.split(":"))
    source = (connector / "apiDefinition.swagger.json").read_text().splitlines()[line - 1]
    assert source.strip() == "{"
    assert lines[hit + 1].endswith(source.expandtabs(1))
    assert lines[hit + 2].index("^") - lines[hit + 2].index("|") - 2 == col - 1
    assert str(connector / "apiDefinition.swagger.json") in result.stdout


def test_lone_definition_file(connector):
    assert run("validate", connector / "apiDefinition.swagger.json").exit_code == 0


def test_unparseable_file_is_one_finding_and_the_run_goes_on(tmp_path, connector):
    broken = tmp_path / "many" / "Broken"
    broken.mkdir(parents=True)
    (broken / "apiDefinition.swagger.json").write_text('{\n  "swagger": "2.0",\n  "info": {"title": [1}\n}\n')
    shutil.copytree(connector, tmp_path / "many" / "Good")
    _edit_definition(tmp_path / "many" / "Good", _optional_path_parameter)
    result = run("validate", tmp_path / "many", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["summary"]["connectors"] == 2
    by_target = {Path(r["target"]).name: r["findings"] for r in data["results"]}
    assert [(f["rule"], f["line"], f["column"]) for f in by_target["Broken"]] == [("JsonNotParseable", 3, 23)]
    assert [f["rule"] for f in by_target["Good"]] == ["PathParameterMustBeRequired"]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["validate", "/nonexistent/folder"], "no such file or folder"),
        (["validate", "{example}", "--select", "NoSuchRule"], "unknown rule or category 'NoSuchRule'"),
        (["validate", "{example}", "--profile", "gold"], "unknown profile 'gold'"),
        (["rules", "NoSuchRule"], "unknown rule 'NoSuchRule'"),
    ],
)
def test_usage_errors_exit_two(args, needle):
    result = run(*[a.replace("{example}", str(EXAMPLE)) for a in args])
    assert result.exit_code == 2
    assert needle in result.stderr and result.stderr.count("\n") == 1


def test_folder_without_connectors(tmp_path):
    result = run("validate", tmp_path)
    assert result.exit_code == 2 and "no connector found" in result.stderr


def test_select_and_ignore(connector):
    _edit_definition(connector, _optional_path_parameter)
    assert run("validate", connector, "--ignore", "PathParameterMustBeRequired").exit_code == 0
    assert run("validate", connector, "--ignore", "operations").exit_code == 0
    assert run("validate", connector, "--select", "OperationIdRequired,PathRedefined").exit_code == 0
    assert run("validate", connector, "--select", "PathParameterMustBeRequired").exit_code == 1


def test_connectorkit_toml_allow_list_and_ignore(connector):
    _edit_definition(connector, _optional_path_parameter)
    (connector / "connectorkit.toml").write_text(
        "[lint]\n"
        'allow = [{ rule = "PathParameterMustBeRequired", pointer = "/paths/~1pets~1{petId}", '
        'reason = "the backend accepts both" }]\n'
    )
    result = run("validate", connector, "--format", "json")
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["summary"]["accepted"] == 1
    assert data["results"][0]["accepted"][0]["reason"] == "the backend accepts both"
    assert "1 accepted" in run("validate", connector).stdout
    assert run("validate", connector, "--no-config").exit_code == 1


def test_pyproject_table_above_the_connector(connector):
    _edit_definition(connector, _optional_path_parameter)
    (connector.parent / "pyproject.toml").write_text(
        '[tool.connectorkit.lint]\nignore = ["PathParameterMustBeRequired"]\n'
    )
    assert run("validate", connector).exit_code == 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[lint]\nallow = [{ rule = 'PathRedefined' }]\n", "needs a 'reason'"),
        ("[lint]\nignore = ['Nope']\n", "unknown rule or category 'Nope'"),
        ("[lint]\nprofile = 'platinum'\n", "unknown profile"),
        ("[lint\n", "connectorkit.toml"),
    ],
)
def test_bad_config_is_a_usage_error(connector, content, needle):
    (connector / "connectorkit.toml").write_text(content)
    result = run("validate", connector)
    assert result.exit_code == 2
    assert needle in result.stderr


def test_json_output_shape(connector):
    _edit_definition(connector, _optional_path_parameter)
    data = json.loads(run("validate", connector, "--format", "json").stdout)
    finding = data["results"][0]["findings"][0]
    assert set(finding) >= {"rule", "severity", "message", "file", "line", "column", "pointer"}
    assert finding["pointer"] == "/paths/~1pets~1{petId}/parameters/0"
    assert data["summary"] == {"connectors": 1, "errors": 1, "warnings": 0, "info": 0, "accepted": 0}


def test_output_file(connector, tmp_path):
    report = tmp_path / "report.json"
    result = run("validate", connector, "--format", "json", "--output", report)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(report.read_text())["summary"]["connectors"] == 1


@pytest.fixture(scope="session")
def sarif_schema(tmp_path_factory) -> dict:
    """The SARIF 2.1.0 schema, from Microsoft's @microsoft/jest-sarif npm package."""
    cached = ROOT / ".cache" / "sarif-2.1.0-rtm.5.json"
    if not cached.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed; cannot fetch the SARIF 2.1.0 schema")
        work = tmp_path_factory.mktemp("sarif")
        done = subprocess.run(
            [npm, "pack", "@microsoft/jest-sarif@1.0.0-beta.0", "--silent"],
            cwd=work, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"could not download the SARIF schema package: {done.stderr.strip()[:200]}")
        with tarfile.open(work / done.stdout.strip().splitlines()[-1]) as archive:
            member = archive.extractfile("package/lib/schemas/sarif-2.1.0-rtm.5.json")
            assert member is not None
            cached.parent.mkdir(exist_ok=True)
            cached.write_bytes(member.read())
    schema: dict = json.loads(cached.read_text())
    return schema


def test_sarif_validates_against_the_sarif_schema(connector, sarif_schema):
    _edit_definition(connector, _optional_path_parameter)
    result = run("validate", connector, "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    run_ = log["runs"][0]
    [found] = run_["results"]
    rule = run_["tool"]["driver"]["rules"][found["ruleIndex"]]
    assert rule["id"] == found["ruleId"] == "PathParameterMustBeRequired"
    region = found["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] > 1 and region["startColumn"] >= 1


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"connector corpus not found at {CORPUS}")
def test_sarif_of_the_whole_corpus_validates(sarif_schema):
    result = run("validate", CORPUS, "--format", "sarif", "--profile", "certified")
    jsonschema.Draft4Validator(sarif_schema).validate(json.loads(result.stdout))


def test_junit(connector):
    _edit_definition(connector, _optional_path_parameter)
    root = ET.fromstring(run("validate", connector, "--format", "junit").stdout)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("failures") == "1" and suite.get("tests") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and "PathParameterMustBeRequired" in (failure.text or "")


def test_junit_passing_connector_has_one_passing_case(connector):
    root = ET.fromstring(run("validate", connector, "--format", "junit").stdout)
    assert root.get("failures") == "0" and root.get("tests") == "1"


def test_github_annotations(connector):
    _edit_definition(connector, _optional_path_parameter)
    lines = run("validate", connector, "--format", "github").stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("::error file=")
    assert ",line=" in lines[0] and ",col=" in lines[0] and "title=PathParameterMustBeRequired::" in lines[0]


def test_rules_lists_every_rule_and_explains_one():
    listing = run("rules")
    assert listing.exit_code == 0
    assert f"{len(REGISTRY)} rules" in listing.stdout
    data = json.loads(run("rules", "--format", "json").stdout)
    assert {r["id"] for r in data} == {r.id for r in REGISTRY}
    one = json.loads(run("rules", "pathparametermustberequired", "--format", "json").stdout)
    assert one["id"] == "PathParameterMustBeRequired" and one["profiles"] == [
        "custom",
        "certified",
        "independent-publisher",
    ]
    assert one["source"].startswith("https://learn.microsoft.com/")
    text = run("rules", "PathParameterMustBeRequired").stdout
    assert "fix" in text and "why" in text


def test_rules_filters():
    data = json.loads(run("rules", "--category", "json", "--format", "json").stdout)
    assert data and {r["category"] for r in data} == {"json"}


def test_docs_rules_md_is_generated_from_the_registry():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "docs/rules.md is stale: run python scripts/gen_rules_doc.py"
    for rule in REGISTRY:
        assert f"### {rule.id}\n" in committed


def test_inline_allow_list_in_the_definition(connector):
    def edit(definition: dict) -> None:
        _optional_path_parameter(definition)
        definition["paths"]["/pets/{petId}"]["x-connectorkit-allow"] = [
            "PathParameterMustBeRequired: the backend treats a missing id as 'all pets'"
        ]

    _edit_definition(connector, edit)
    data = json.loads(run("validate", connector, "--format", "json").stdout)
    assert data["summary"]["errors"] == 0 and data["summary"]["accepted"] == 1
    assert data["results"][0]["accepted"][0]["reason"] == "the backend treats a missing id as 'all pets'"


def test_inline_allow_only_covers_its_subtree(connector):
    def edit(definition: dict) -> None:
        _optional_path_parameter(definition)
        definition["paths"]["/pets"]["x-connectorkit-allow"] = [{"rule": "PathParameterMustBeRequired", "reason": "x"}]

    _edit_definition(connector, edit)
    assert run("validate", connector).exit_code == 1


@pytest.mark.parametrize("entry", [["PathParameterMustBeRequired"], [{"rule": "Nope", "reason": "x"}], [5]])
def test_bad_inline_allow_is_a_usage_error(connector, entry):
    _edit_definition(connector, lambda d: d["paths"]["/pets"].__setitem__("x-connectorkit-allow", entry))
    result = run("validate", connector)
    assert result.exit_code == 2 and "x-connectorkit-allow" in result.stderr
