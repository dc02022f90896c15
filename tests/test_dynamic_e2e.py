"""Dynamic schemas end to end: the lookup operation is really called on a loopback backend,
through the connection, from the CLI (`connectorkit schema`) and the server API."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from starlette.testclient import TestClient
from tests.test_dynamic import DEFINITION, SCHEMAS
from typer.testing import CliRunner

from connectorkit.cli.main import app
from connectorkit.server.app import create_app

runner = CliRunner()
KEY = "PLANTED-dyn-key-9f3"


def _definition(port: int) -> dict[str, Any]:
    definition = json.loads(json.dumps(DEFINITION))
    definition.update(host=f"127.0.0.1:{port}", schemes=["http"])
    definition["securityDefinitions"] = {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}}
    return definition


def _properties() -> dict[str, Any]:
    return {"properties": {"connectionParameters": {"api_key": {"type": "securestring"}}}}


@pytest.fixture
def backend(httpserver: HTTPServer) -> HTTPServer:
    for table, answer in SCHEMAS.items():
        httpserver.expect_request(f"/tables/{table}/schema", headers={"X-Key": KEY}).respond_with_json(answer)
    httpserver.expect_request("/tables/broken/schema").respond_with_data("nope", status=404)
    return httpserver


def test_cli_schema_reports_each_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: HTTPServer) -> None:
    monkeypatch.setenv("CONNECTORKIT_DB", f"sqlite:///{tmp_path / 'store.db'}")
    folder = tmp_path / "Tables"
    folder.mkdir()
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(_definition(backend.port)))
    (folder / "apiProperties.json").write_text(json.dumps(_properties()))
    assert runner.invoke(app, ["deploy", str(folder)]).exit_code == 0
    connection = runner.invoke(app, ["connection", "create", "Tables", "--param", f"api_key={KEY}"]).stdout.strip()

    base = ["schema", "Tables", "AddRow", "--connection", connection]
    text = runner.invoke(app, [*base, "-p", "table=orders"])
    assert text.exit_code == 0, text.stderr
    assert "parameter body/row: from GetSchema: id, total" in text.stdout
    assert "parameter body/meta: from GetSchema: owner" in text.stdout

    as_json = runner.invoke(app, [*base, "-p", "table=orders", "--format", "json"])
    found = {item["location"]: item for item in json.loads(as_json.stdout)}
    assert found["response 200"]["schema"] == SCHEMAS["orders"]["schema"]

    failed = runner.invoke(app, [*base, "-p", "table=broken"])
    assert failed.exit_code == 1
    assert "parameter body/row: GetSchema failed: GetSchema answered HTTP 404" in failed.stdout
    assert KEY not in failed.stdout + failed.stderr

    none = runner.invoke(app, ["schema", "Tables", "GetSchema", "--connection", connection, "-p", "table=x"])
    assert none.exit_code == 0 and "has no x-ms-dynamic-schema" in none.stdout


def test_api_schemas_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: HTTPServer) -> None:
    monkeypatch.delenv("CONNECTORKIT_SECRET_KEY", raising=False)
    server = create_app(f"sqlite:///{tmp_path / 'store.db'}")
    files = {
        "apiDefinition.swagger.json": json.dumps(_definition(backend.port)).encode(),
        "apiProperties.json": json.dumps(_properties()).encode(),
    }
    with TestClient(server) as client:
        client.headers["Authorization"] = f"Bearer {server.state.server.token}"
        upload = {"name": "Tables", "files": {k: base64.b64encode(v).decode() for k, v in files.items()}}
        assert client.post("/api/connectors", json=upload).status_code == 201
        created = client.post("/api/connections", json={"connector": "Tables", "parameters": {"api_key": KEY}})
        connection = created.json()["id"]
        answer = client.get(f"/api/connections/{connection}/schemas", params={"operation": "AddRow", "table": "orders"})
        assert answer.status_code == 200, answer.text
        found = {item["location"]: item for item in answer.json()}
        assert found["parameter body/row"]["properties"] == ["id", "total"]
        assert found["response 200"]["operationId"] == "GetSchema" and found["response 200"]["error"] is None
        missing = client.get(f"/api/connections/{connection}/schemas", params={"operation": "AddRow"})
        errors = {item["location"]: item["error"] for item in missing.json()}
        assert "needs a value for 'table'" in errors["parameter body/row"]
        unknown = client.get(f"/api/connections/{connection}/schemas", params={"operation": "Nope"})
        assert unknown.status_code == 400 and unknown.headers["content-type"].startswith("application/problem+json")
