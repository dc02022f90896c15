"""connectionParameterSets (runtime-semantics.md section 2.5): the chosen set's parameters are the
connection's, policies and auth resolve against them; real connectors from the corpus, a real
SQLite store and a loopback backend."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.store import Store, generate_key

from conftest import CORPUS, needs_corpus

KEY = "PLANTED-set-key-9c2f"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key()) as opened:
        yield opened


@pytest.fixture
def environment(store: Store) -> LocalEnvironment:
    return LocalEnvironment(store)


def secure(required: bool = True) -> dict[str, Any]:
    return {"type": "securestring", "uiDefinition": {"constraints": {"required": str(required).lower()}}}


def region(default: str) -> dict[str, Any]:
    return {"type": "string", "defaultValue": default, "uiDefinition": {"constraints": {"hidden": "true"}}}


def multi_connector(folder: Path, backend: HTTPServer, sets: list[dict[str, Any]]) -> Path:
    """A connector whose API key parameter is not named ``api_key``: the key only reaches the
    header when the set's declarations are the ones request building sees (section 2.2)."""
    folder.mkdir(parents=True)
    definition = {
        "swagger": "2.0",
        "info": {"title": "Multi", "version": "1"},
        "host": f"127.0.0.1:{backend.port}",
        "schemes": ["http"],
        "securityDefinitions": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        "paths": {"/ping": {"get": {"operationId": "Ping", "responses": {"200": {"description": "ok"}}}}},
    }
    policy = {
        "templateId": "setheader",
        "title": "Region",
        "parameters": {
            "x-ms-apimTemplateParameter.name": "X-Region",
            "x-ms-apimTemplateParameter.value": "@connectionParameters('region')",
            "x-ms-apimTemplateParameter.existsAction": "override",
            "x-ms-apimTemplate-policySection": "Request",
        },
    }
    properties = {
        "properties": {
            "connectionParameterSets": {"uiDefinition": {"displayName": "Authentication type"}, "values": sets},
            "policyTemplateInstances": [policy],
        }
    }
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(definition))
    (folder / "apiProperties.json").write_text(json.dumps(properties))
    return folder


TWO_SETS = [
    {
        "name": "prod",
        "uiDefinition": {"displayName": "Production"},
        "parameters": {"secret_key": secure(), "region": region("eu-prod")},
    },
    {
        "name": "preview",
        "uiDefinition": {"displayName": "Preview"},
        "parameters": {"secret_key": secure(), "region": region("us-preview"), "audience": {"type": "string"}},
    },
]


def record(backend: HTTPServer) -> list[WRequest]:
    seen: list[WRequest] = []

    def handler(request: WRequest) -> WResponse:
        seen.append(request)
        return WResponse("{}", content_type="application/json")

    backend.expect_request("/ping").respond_with_handler(handler)
    return seen


def test_the_chosen_set_feeds_policies_and_auth(
    environment: LocalEnvironment, store: Store, httpserver: HTTPServer, tmp_path: Path
) -> None:
    name = environment.deploy(ConnectorPackage.load(multi_connector(tmp_path / "m", httpserver, TWO_SETS)))[0]
    assert environment.parameter_sets(name) == [("prod", "Production"), ("preview", "Preview")]
    assert set(environment.declared_parameters(name, "preview")) == {"secret_key", "region", "audience"}
    assert environment.auth_kind(name, "prod") == "apiKey"
    seen = record(httpserver)
    with httpx.Client() as client:
        for chosen, expected in (("prod", "eu-prod"), ("preview", "us-preview")):
            connection_id = environment.create_connection(name, {"secret_key": KEY}, parameter_set=chosen)
            assert store.get_connection(connection_id).parameter_set == chosen
            assert environment.call(connection_id, "Ping", {}, client=client).response.status == 200
            assert seen[-1].headers["X-Region"] == expected and seen[-1].headers["X-Key"] == KEY
    assert KEY not in repr(store.history())


def test_set_choice_errors_name_the_sets(environment: LocalEnvironment, httpserver: HTTPServer, tmp_path: Path) -> None:
    name = environment.deploy(ConnectorPackage.load(multi_connector(tmp_path / "m", httpserver, TWO_SETS)))[0]
    with pytest.raises(InputError, match="several parameter sets; choose one of: prod, preview"):
        environment.create_connection(name, {"secret_key": KEY})
    with pytest.raises(InputError, match=r"--parameter-set nope: .*\(it has: prod, preview\)"):
        environment.create_connection(name, {"secret_key": KEY}, parameter_set="nope")
    with pytest.raises(InputError, match="no connection parameter 'audience'"):
        environment.create_connection(name, {"secret_key": KEY, "audience": "x"}, parameter_set="prod")
    with pytest.raises(InputError, match="secret_key: required"):
        environment.create_connection(name, {}, parameter_set="preview")


def test_a_single_set_is_picked_and_sets_are_refused_without_sets(
    environment: LocalEnvironment, store: Store, httpserver: HTTPServer, tmp_path: Path
) -> None:
    only = environment.deploy(ConnectorPackage.load(multi_connector(tmp_path / "one", httpserver, TWO_SETS[:1])))[0]
    connection_id = environment.create_connection(only, {"secret_key": KEY})
    assert store.get_connection(connection_id).parameter_set == "prod"
    assert store.get_connection(connection_id).parameters["region"] == "eu-prod"
    plain = tmp_path / "plain"
    shutil.copytree(tmp_path / "one", plain)
    properties = json.loads((plain / "apiProperties.json").read_text())
    properties["properties"].pop("connectionParameterSets")
    properties["properties"]["connectionParameters"] = {"secret_key": secure()}
    (plain / "apiProperties.json").write_text(json.dumps(properties))
    definition = json.loads((plain / "apiDefinition.swagger.json").read_text())
    definition["info"]["title"] = "Plain"
    (plain / "apiDefinition.swagger.json").write_text(json.dumps(definition))
    name = environment.deploy(ConnectorPackage.load(plain))[0]
    assert environment.parameter_sets(name) == []
    with pytest.raises(InputError, match="--parameter-set prod: the connector has no connectionParameterSets"):
        environment.create_connection(name, {"secret_key": KEY}, parameter_set="prod")


@needs_corpus
def test_real_connectors_with_sets(environment: LocalEnvironment) -> None:
    odn = environment.deploy(ConnectorPackage.load(CORPUS / "independent-publisher-connectors" / "Open Data Network"))[
        0
    ]
    assert environment.parameter_sets(odn) == [("api-auth", "App Token"), ("basic-auth", "API Key")]
    assert environment.auth_kind(odn, "api-auth") == "apiKey"
    assert environment.auth_kind(odn, "basic-auth") == "basic"
    with pytest.raises(InputError, match="choose one of: api-auth, basic-auth"):
        environment.create_connection(odn, {"api_key": KEY})
    with pytest.raises(InputError, match=r"environment: must be one of api\.us\.socrata\.com, api\.eu\.socrata\.com"):
        environment.create_connection(odn, {"api_key": KEY, "environment": "x"}, parameter_set="api-auth")
    connection_id = environment.create_connection(
        odn, {"username": "me", "password": KEY, "environment": "api.eu.socrata.com"}, parameter_set="basic-auth"
    )
    stored = environment.store.get_connection(connection_id)
    assert stored.parameter_set == "basic-auth" and stored.secret_names == ("password",)

    scrive = environment.deploy(ConnectorPackage.load(CORPUS / "certified-connectors" / "Scrive eSign"))[0]
    assert environment.auth_kind(scrive, "OAuth") == "oauth2"
    with pytest.raises(InputError, match="signs in with OAuth"):
        environment.create_connection(scrive, {}, parameter_set="OAuth")


def test_cli_parameter_set(
    cli: Callable[..., Any], httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("CONNECTORKIT_DB", db)
    monkeypatch.setenv("CONNECTORKIT_SECRET_KEY", generate_key().decode())
    assert cli("deploy", multi_connector(tmp_path / "m", httpserver, TWO_SETS)).exit_code == 0
    missing = cli("connection", "create", "Multi", "--param", f"secret_key={KEY}")
    assert missing.exit_code == 2 and "choose one of: prod, preview" in missing.stderr
    created = cli(
        "connection",
        "create",
        "Multi",
        "--parameter-set",
        "preview",
        "--param",
        f"secret_key={KEY}",
        "--format",
        "json",
    )
    assert created.exit_code == 0, created.stderr
    connection_id = json.loads(created.stdout)["id"]
    seen = record(httpserver)
    called = cli("call", "Multi", "Ping", "--connection", connection_id)
    assert called.exit_code == 0, called.stderr
    assert seen[-1].headers["X-Region"] == "us-preview" and KEY not in created.stdout + called.stdout
