"""The local environment through the CLI: deploy, list, download, connections and calls."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from connectorkit.cli.main import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "petstore" / "swagger.json"
KEY = "PLANTED-key-71ad"
runner = CliRunner()


def run(*args: object, env: dict[str, str] | None = None):
    return runner.invoke(app, [str(a) for a in args], env=env)


@pytest.fixture
def setup(tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CONNECTORKIT_DB", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.delenv("CONNECTORKIT_SECRET_KEY", raising=False)  # the key file beside the store is used
    assert run("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path).exit_code == 0
    definition_file = tmp_path / "Petstore" / "apiDefinition.swagger.json"
    definition = json.loads(definition_file.read_text())
    definition["host"] = f"127.0.0.1:{httpserver.port}"
    definition["schemes"] = ["http"]
    definition_file.write_text(json.dumps(definition, indent=4))
    return tmp_path


def test_deploy_connect_call_and_history(setup: Path, httpserver: HTTPServer) -> None:
    deployed = run("deploy", setup / "Petstore", "--format", "json")
    assert deployed.exit_code == 0, deployed.stderr
    assert json.loads(deployed.stdout) == {"name": "Petstore", "version": 1, "env": "local"}
    assert json.loads(run("list", "--format", "json").stdout)[0]["name"] == "Petstore"
    created = run("connection", "create", "Petstore", "--param", f"api_key={KEY}", "--format", "json")
    assert created.exit_code == 0, created.stderr
    connection_id = json.loads(created.stdout)["id"]
    listed = run("connection", "list", "--format", "json")
    assert KEY not in listed.stdout and json.loads(listed.stdout)[0]["id"] == connection_id

    httpserver.expect_request("/v1/pets/3", headers={"X-Api-Key": KEY}).respond_with_json({"id": 3, "name": "Rex"})
    called = run("call", "Petstore", "GetPet", "--connection", connection_id, "-p", "petId=3", "--format", "json")
    assert called.exit_code == 0, called.stderr
    assert json.loads(called.stdout) == {"status": 200, "body": {"id": 3, "name": "Rex"}}
    assert KEY not in called.stdout + called.stderr

    db = setup / "store.db"
    assert KEY.encode() not in db.read_bytes()
    download = run("download", "Petstore", "-o", setup / "copy")
    assert download.exit_code == 0, download.stderr
    assert (setup / "copy" / "apiDefinition.swagger.json").is_file()


def test_bad_inputs(setup: Path, httpserver: HTTPServer) -> None:
    assert run("deploy", setup / "Petstore").exit_code == 0
    unknown = run("connection", "create", "Petstore", "--param", "nope=1")
    assert unknown.exit_code == 2 and "no connection parameter 'nope'" in unknown.stderr
    missing = run("connection", "create", "Petstore")
    assert missing.exit_code == 2 and "api_key: required" in missing.stderr
    connection_id = run("connection", "create", "Petstore", "--param", f"api_key={KEY}").stdout.strip()
    no_op = run("call", "Petstore", "Nope", "--connection", connection_id)
    assert no_op.exit_code == 2 and "Nope" in no_op.stderr
    no_param = run("call", "Petstore", "GetPet", "--connection", connection_id)
    assert no_param.exit_code == 2 and "petId" in no_param.stderr
    wrong_type = run("call", "Petstore", "GetPet", "--connection", connection_id, "-p", "petId=abc")
    assert wrong_type.exit_code == 2 and "petId" in wrong_type.stderr
    assert run("call", "Petstore", "GetPet", "--connection", "0" * 32, "-p", "petId=1").exit_code == 2
    assert run("list", "--env", "prod").exit_code == 2
    httpserver.expect_request("/v1/pets/9").respond_with_data("gone", status=404)
    not_found = run("call", "Petstore", "GetPet", "--connection", connection_id, "-p", "petId=9")
    assert not_found.exit_code == 1 and "HTTP 404" in not_found.stdout
    for result in (unknown, missing, no_op, no_param, wrong_type):
        assert "Traceback" not in result.stderr and KEY not in result.stderr


def test_connection_test_uses_the_test_operation(setup: Path, httpserver: HTTPServer) -> None:
    definition_file = setup / "Petstore" / "apiDefinition.swagger.json"
    definition = json.loads(definition_file.read_text())
    assert run("deploy", setup / "Petstore").exit_code == 0
    untested_id = run("connection", "create", "Petstore", "--param", f"api_key={KEY}").stdout.strip()
    untested = run("connection", "test", untested_id, "--format", "json")
    assert json.loads(untested.stdout)["status"] == "Untested"
    definition["x-ms-capabilities"] = {"testConnection": {"operationId": "ListPets", "parameters": {"limit": 1}}}
    definition_file.write_text(json.dumps(definition, indent=4))
    assert run("deploy", setup / "Petstore").exit_code == 0
    httpserver.expect_request("/v1/pets", query_string="limit=1", headers={"X-Api-Key": KEY}).respond_with_json([])
    good = run("connection", "test", untested_id, "--format", "json")
    assert json.loads(good.stdout) == {"id": untested_id, "status": "Connected", "httpStatus": 200}
    bad_id = run("connection", "create", "Petstore", "--param", "api_key=wrong").stdout.strip()
    httpserver.expect_request("/v1/pets", headers={"X-Api-Key": "wrong"}).respond_with_data("no", status=401)
    bad = run("connection", "test", bad_id)
    assert bad.exit_code == 1 and "Unauthenticated" in bad.stdout


def test_throttling_answers_with_the_platforms_429() -> None:
    from connectorkit.runtime.invoke import Throttle

    now = [0.0]
    throttle = Throttle(limit=3, clock=lambda: now[0])
    assert [throttle.admit("c") for _ in range(3)] == [None, None, None]
    refused = throttle.admit("c")
    assert refused is not None and refused.status == 429
    assert refused.json["message"].startswith("Rate limit is exceeded. Try again in 60 seconds.")
    assert throttle.admit("other") is None
    now[0] = 61.0
    assert throttle.admit("c") is None


@pytest.mark.parametrize(
    "extension",
    [
        {"x-ms-dynamic-values": {"operationId": "ListPets", "parameters": {"status": {"value": "available"}},
                                 "value-path": "id", "value-title": "name"}},
        {"x-ms-dynamic-list": {"operationId": "ListPets", "parameters": {"status": {"value": "available"}},
                               "itemValuePath": "id", "itemTitlePath": "name"}},
    ],
)  # fmt: skip
def test_values_lists_a_parameters_choices(setup: Path, httpserver: HTTPServer, extension: dict) -> None:
    definition_file = setup / "Petstore" / "apiDefinition.swagger.json"
    definition = json.loads(definition_file.read_text())
    definition["paths"]["/pets/{petId}"]["parameters"][0].update(extension)
    definition_file.write_text(json.dumps(definition, indent=4))
    assert run("deploy", setup / "Petstore").exit_code == 0
    connection_id = run("connection", "create", "Petstore", "--param", f"api_key={KEY}").stdout.strip()
    httpserver.expect_request("/v1/pets", query_string="status=available").respond_with_json(
        [{"id": 1, "name": "Rex"}, {"id": 2, "name": "Tom"}]
    )
    result = run("values", "Petstore", "GetPet", "petId", "--connection", connection_id, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [{"value": 1, "title": "Rex"}, {"value": 2, "title": "Tom"}]
    plain = run("values", "Petstore", "GetPet", "petId", "--connection", connection_id)
    assert plain.stdout.splitlines() == ["1\tRex", "2\tTom"]
    none = run("values", "Petstore", "DeletePet", "nope", "--connection", connection_id)
    assert none.exit_code == 2 and "no parameter 'nope'" in none.stderr
