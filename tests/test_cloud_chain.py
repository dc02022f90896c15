"""Issue 7 end to end, through the CLI, against the Graph and Power Apps stand-ins on loopback.

The chain a person or a CI job runs for an OAuth connector with two connection parameter sets:
``appreg create --secret-stdout-only`` piped into ``deploy --secret-stdin``; ``appreg link`` for
the per-connector redirect URI; ``download`` and a re-``deploy`` that changes nothing; ``appreg
rotate --grace 0``; ``appreg secrets``; ``appreg create`` again (no duplicates); and a rotation the
Power Apps API refuses (the new secret is removed again). Client secrets, the access token and the
blob container signatures are planted or recorded, and every output, log record and file the
commands wrote — under the test's folders and its HOME / XDG directories — is scanned for them.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from standins.graph import GraphStandIn, serve_graph
from standins.powerapps import GLOBAL_REDIRECT, PowerAppsBackend, comparable_body, make_token, powerapps_standin

from conftest import RecordingCli, Run

OID = "5d1c1f2e-0000-4000-8000-00000000c4a1"
TOKEN = make_token(OID)
ENV_ID = "Default-72f988bf-86f1-41af-91ab-2d7cd011db47"
ENV_NAME = "Contoso (default)"
APP = "Contoso Orders connector"
CONNECTOR = "Contoso Orders"
PLANTED = [f"PLANTED~chain~{n}~Vb7xQ2mK9pLw4Zr" for n in range(1, 6)]


def oauth(provider: str, client_id: str) -> dict[str, Any]:
    return {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": provider,
            "clientId": client_id,
            "scopes": ["User.Read"],
            "redirectMode": "GlobalPerConnector",
            "redirectUrl": GLOBAL_REDIRECT,
            "properties": {"IsFirstParty": "False"},
            "customParameters": {"loginUri": {"value": "https://login.windows.net"}, "tenantId": {"value": "common"}},
        },
    }


def write_connector(folder: Path, client_id: str) -> Path:
    """An OAuth connector whose two connectionParameterSets both sign in with the app."""
    folder.mkdir(parents=True)
    definition = {
        "swagger": "2.0",
        "info": {"title": CONNECTOR, "description": "Orders of Contoso.", "version": "1.0"},
        "host": "api.contoso.com",
        "basePath": "/v1",
        "schemes": ["https"],
        "paths": {"/orders": {"get": {"operationId": "ListOrders", "summary": "List orders",
                                      "responses": {"200": {"description": "ok"}}}}},
    }  # fmt: skip
    sets = {
        "uiDefinition": {"displayName": "Authentication type", "description": "How to sign in"},
        "values": [
            {"name": "entra", "uiDefinition": {"displayName": "Entra ID"},
             "parameters": {"token": oauth("aad", client_id)}},
            {"name": "generic", "uiDefinition": {"displayName": "OAuth"},
             "parameters": {"token": oauth("oauth2", client_id)}},
        ],
    }  # fmt: skip
    props = {"iconBrandColor": "#0F6CBD", "capabilities": ["actions"], "connectionParameters": {},
             "connectionParameterSets": sets, "policyTemplateInstances": []}  # fmt: skip
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(definition, indent=2))
    (folder / "apiProperties.json").write_text(json.dumps({"properties": props}, indent=2))
    (folder / "icon.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(48)))
    return folder


@contextmanager
def served_graph(planted: list[str]) -> Iterator[GraphStandIn]:
    standin = GraphStandIn(token=TOKEN, issue_secrets=list(planted))
    with serve_graph(standin) as url:
        standin.base_url = url  # type: ignore[attr-defined]
        yield standin


@contextmanager
def served_rp() -> Iterator[PowerAppsBackend]:
    with powerapps_standin(TOKEN, OID) as backend:
        backend.add_environment(ENV_ID, ENV_NAME, is_default=True)
        yield backend


@pytest.fixture
def graph() -> Iterator[GraphStandIn]:
    with served_graph(PLANTED) as standin:
        yield standin


@pytest.fixture
def rp() -> Iterator[PowerAppsBackend]:
    with served_rp() as backend:
        yield backend


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graph: GraphStandIn, rp: PowerAppsBackend) -> Path:
    return point_cli_at(tmp_path, monkeypatch, graph, rp)


def point_cli_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graph: GraphStandIn, rp: PowerAppsBackend) -> Path:
    """HOME, the XDG directories and the working directory all inside the test's folder, and
    the CLI pointed at the stand-ins with the one token both accept; returns HOME."""
    home = tmp_path / "home"
    for name, sub in (("HOME", ""), ("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                      ("XDG_CACHE_HOME", ".cache"), ("XDG_STATE_HOME", ".local/state")):  # fmt: skip
        (home / sub).mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(home / sub))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("CONNECTORKIT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("CONNECTORKIT_GRAPH_URL", graph.base_url)  # type: ignore[attr-defined]
    monkeypatch.setenv("CONNECTORKIT_POWERAPPS_URL", rp.base_url)
    monkeypatch.setenv("CONNECTORKIT_FLOW_URL", rp.base_url)
    monkeypatch.delenv("CONNECTORKIT_PROFILE", raising=False)
    monkeypatch.delenv("CONNECTORKIT_CLOUD", raising=False)
    for variable in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture
def run() -> RecordingCli:
    return RecordingCli("--debug")


def stored(rp: PowerAppsBackend, connector: str) -> dict[str, Any]:
    value = copy.deepcopy(rp.apis[connector])
    value["properties"].pop("changedTime")
    return value


def the_app(graph: GraphStandIn) -> dict[str, Any]:
    [found] = graph.find_app(APP)
    return found


def counts(graph: GraphStandIn) -> tuple[int, int, int, int]:
    app_record = the_app(graph)
    return (
        len(graph.applications),
        len(graph.service_principals),
        len(graph.grants),
        len(app_record["passwordCredentials"]),
    )


def last_error(result: Run) -> str:
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("error:")] == lines[-1:], result.stderr
    return lines[-1]


def test_issue_7_chain_end_to_end(
    home: Path,
    tmp_path: Path,
    run: RecordingCli,
    graph: GraphStandIn,
    rp: PowerAppsBackend,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    permissions = ("-p", "User.Read,offline_access")

    # 1. The app registration, its secret piped into the deploy.
    created = run("appreg", "create", APP, *permissions, "--secret-stdout-only", "--format", "json")
    assert created.exit_code == 0, created.stderr
    assert created.stdout == PLANTED[0] + "\n"
    report = json.loads(created.stderr[created.stderr.index("{") :])
    app_id = report["application"]["appId"]
    first_key = report["secret"]["keyId"]
    folder = write_connector(home / "orders", app_id)
    deployed = run("deploy", folder, "--env", ENV_NAME, "--secret-stdin", "--format", "json", stdin=created.stdout)
    assert deployed.exit_code == 0, deployed.stderr
    answer = json.loads(deployed.stdout)
    connector_id = answer["connectorId"]
    assert answer["created"] and answer["secretInjected"] == 2
    assert rp.client_secrets[connector_id] == {"entra/token": PLANTED[0], "generic/token": PLANTED[0]}

    # 2. The per-connector redirect URI, read back from the environment, linked into the app.
    per_connector = f"{GLOBAL_REDIRECT}/{connector_id.removeprefix('shared_')}"
    assert GLOBAL_REDIRECT != per_connector not in the_app(graph)["web"]["redirectUris"]
    linked = run("appreg", "link", APP, "--connector", CONNECTOR, "--env", ENV_ID)
    assert linked.exit_code == 0, linked.stderr
    assert f"{per_connector}: added to the redirect URIs" in linked.stdout
    assert the_app(graph)["web"]["redirectUris"] == [GLOBAL_REDIRECT, per_connector]
    writes = len(graph.writes())
    again = run("appreg", "link", app_id, "--connector", connector_id, "--env", ENV_NAME, "--format", "json")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["added"] == [] and len(graph.writes()) == writes  # idempotent

    # 3. Download, then deploy the download unchanged: nothing changes at the RP.
    copy_folder = home / "orders-copy"
    downloaded = run("download", CONNECTOR, "--env", ENV_ID, "-o", copy_folder)
    assert downloaded.exit_code == 0, downloaded.stderr
    before = stored(rp, connector_id)
    redeployed = run("deploy", copy_folder, "--env", ENV_ID)
    assert redeployed.exit_code == 0, redeployed.stderr
    assert f"Updated {CONNECTOR} ({connector_id})" in redeployed.stdout
    assert stored(rp, connector_id) == before
    assert rp.client_secrets[connector_id] == {"entra/token": PLANTED[0], "generic/token": PLANTED[0]}
    [post] = [r for r in rp.requests if r["method"] == "POST" and r["path"].endswith("/Microsoft.PowerApps/apis")]
    patch = [r for r in rp.requests if r["method"] == "PATCH" and r["path"].endswith(connector_id)][-1]
    assert comparable_body(patch["body"]) == comparable_body(post["body"], assigned_redirect=per_connector)

    # 4. Rotate with no grace: the new secret in both parameter sets, the old one gone at Graph.
    rotated = run("appreg", "rotate", APP, "--connector", CONNECTOR, "--env", ENV_NAME, "--grace", "0")
    assert rotated.exit_code == 0, rotated.stderr
    [credential] = the_app(graph)["passwordCredentials"]
    assert credential["keyId"] != first_key
    assert rp.client_secrets[connector_id] == {"entra/token": PLANTED[1], "generic/token": PLANTED[1]}
    assert f"removed old secret(s): {first_key}" in rotated.stdout
    assert f"new client secret {credential['keyId']}" in rotated.stdout and "in 2 OAuth setting(s)" in rotated.stdout
    assert f"each with client id {app_id}" in rotated.stdout
    removals = [c for c in graph.calls if c.path.endswith("/removePassword") and c.status < 300]
    assert [c.body for c in removals] == [{"keyId": first_key}]

    # 5. The schedule's check passes; re-running create converges without duplicates.
    assert run("appreg", "secrets", APP).exit_code == 0
    assert counts(graph) == (1, 2, 1, 1)
    rerun = run("appreg", "create", APP, *permissions, "--secret-stdout-only")
    assert rerun.exit_code == 0, rerun.stderr
    assert rerun.stdout == "" and "no changes" in rerun.stderr
    assert counts(graph) == (1, 2, 1, 1)
    assert the_app(graph)["web"]["redirectUris"] == [GLOBAL_REDIRECT, per_connector]  # merged, not dropped

    # 6. The RP refuses the update: the new secret is removed again and nothing changed.
    rp.fail_apim_next = True
    kept = the_app(graph)["passwordCredentials"][0]["keyId"]
    failed = run("appreg", "rotate", APP, "--connector", CONNECTOR, "--env", ENV_NAME, "--grace", "0")
    assert failed.exit_code == 1
    line = last_error(failed)
    assert "the new client secret" in line and "was removed again and nothing changed" in line
    assert "HTTP 400 InternalServerError" in line
    assert [c["keyId"] for c in the_app(graph)["passwordCredentials"]] == [kept]
    assert len(graph.issued) == 3  # the third secret was issued, then removed
    assert rp.client_secrets[connector_id] == {"entra/token": PLANTED[1], "generic/token": PLANTED[1]}

    # 7. Nothing secret anywhere but where it was asked to go (stdout of the piped create).
    runs = run.runs
    assert "HTTP Request: PUT" in caplog.text and "/blob/" in caplog.text  # httpx logged the uploads
    secrets = [*graph.issued, *rp.signatures.values(), TOKEN]
    assert len(rp.signatures) >= 4
    sent_to_graph = json.dumps([c.body for c in graph.calls])
    for secret in secrets:
        for result in runs:
            if result is not created:
                assert secret not in result.stdout, (secret, result.stdout)
            assert secret not in result.stderr, (secret, result.stderr)
        assert secret not in caplog.text
        assert secret not in sent_to_graph
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
    assert any(path.is_file() for path in (home / "orders-copy").iterdir())  # the scan saw written files
