"""Deploying, listing and downloading connectors in Power Platform environments, end to end against
the local stand-ins of the Power Apps RP (with its blob container and the Flow RP's environment
list) and of a Dataverse org: create, update, re-deploy unchanged, OAuth secret injection, the
stackOwner limitation, unwrapped errors, retries, solution-aware deploys, paconn's settings.json,
and a planted client secret that must never surface."""

from __future__ import annotations

import copy
import json
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connectorkit.cloud.clouds import resolve_cloud
from connectorkit.cloud.dataverse import Dataverse
from connectorkit.cloud.http import CloudError
from connectorkit.cloud.http import error_detail as unwrap_error
from connectorkit.cloud.powerapps import (
    PowerAppsApi,
    PowerPlatformEnvironment,
    connector_body,
    token_object_id,
)
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from standins.dataverse import DataverseBackend, dataverse_standin
from standins.powerapps import PowerAppsBackend, StandInError, comparable_body, make_token, powerapps_standin

from conftest import CORPUS, RecordingCli, Run, needs_corpus

OID = "5d1c1f2e-0000-4000-8000-00000000a11c"
TOKEN = make_token(OID)
DEFAULT_ENV = "Default-72f988bf-86f1-41af-91ab-2d7cd011db47"
TEST_ENV = "0f2b7e58-3a1c-4c55-9b64-5a2f3e1d9c02"
SECRET = "PLANTED-client-secret-Zq8~dK3"
ICON = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
SCRIPT = "public class Script : ScriptBase { }\n"


def oauth(provider: str) -> dict[str, Any]:
    return {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": provider,
            "clientId": "2f5e1a3b-0c1d-4e2f-9a8b-7c6d5e4f3a2b",
            "scopes": ["Orders.Read"],
            "redirectMode": "GlobalPerConnector",
            "redirectUrl": "https://global.consent.azure-apim.net/redirect",
            "properties": {"IsFirstParty": "False"},
            "customParameters": {"loginUri": {"value": "https://login.windows.net"}, "tenantId": {"value": "common"}},
        },
    }


def definition(title: str = "Contoso Orders", description: str = "Orders of Contoso.") -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": title, "description": description, "version": "1.0"},
        "host": "api.contoso.com",
        "basePath": "/v1",
        "schemes": ["https"],
        "paths": {
            "/orders": {
                "get": {"operationId": "ListOrders", "summary": "List orders", "responses": {"200": {"description": "ok"}}},
                "post": {"operationId": "AddOrder", "responses": {"201": {"description": "added"}}},
            }
        },
    }  # fmt: skip


def write_connector(folder: Path, *, sets: bool = True, **kwargs: Any) -> Path:
    """An OAuth connector; with ``sets``, two connectionParameterSets that both sign in with OAuth."""
    folder.mkdir(parents=True)
    props: dict[str, Any] = {"iconBrandColor": "#0F6CBD", "capabilities": ["actions"], "scriptOperations": ["ListOrders"],
                             "policyTemplateInstances": []}  # fmt: skip
    if sets:
        props["connectionParameters"] = {}
        props["connectionParameterSets"] = {
            "uiDefinition": {"displayName": "Authentication type", "description": "How to sign in"},
            "values": [
                {"name": "entra", "uiDefinition": {"displayName": "Entra ID"}, "parameters": {"token": oauth("aad")}},
                {"name": "generic", "uiDefinition": {"displayName": "OAuth"}, "parameters": {"token": oauth("oauth2")}},
            ],
        }
    else:
        props["connectionParameters"] = {"token": oauth("aad")}
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(definition(**kwargs), indent=2))
    (folder / "apiProperties.json").write_text(json.dumps({"properties": props}, indent=2))
    (folder / "icon.png").write_bytes(ICON)
    (folder / "script.csx").write_text(SCRIPT)
    return folder


@pytest.fixture
def dataverse() -> Iterator[DataverseBackend]:
    with dataverse_standin(TOKEN, {"ContosoConnectors": "cr5f3"}) as backend:
        yield backend


@pytest.fixture
def rp(dataverse: DataverseBackend) -> Iterator[PowerAppsBackend]:
    with powerapps_standin(TOKEN, OID) as backend:
        backend.add_environment(
            DEFAULT_ENV, "Contoso (default)", is_default=True, instance_url=dataverse.base_url + "/"
        )
        backend.add_environment(TEST_ENV, "Test")
        backend.add_builtin(DEFAULT_ENV, "shared_office365", "Office 365 Outlook")
        yield backend


@pytest.fixture
def api(rp: PowerAppsBackend) -> PowerAppsApi:
    cloud = resolve_cloud(overrides={"powerapps": rp.base_url, "flow": rp.base_url}, environ={})
    scopes: list[str] = []
    waits: list[float] = []

    def tokens(scope: str) -> str:
        scopes.append(scope)
        return TOKEN

    made = PowerAppsApi(cloud, tokens, sleep=waits.append)
    made.scopes, made.waits = scopes, waits  # type: ignore[attr-defined]
    return made


@pytest.fixture
def cloud_cli(
    cli: Callable[..., Run], rp: PowerAppsBackend, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Run]:
    monkeypatch.setenv("CONNECTORKIT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("CONNECTORKIT_POWERAPPS_URL", rp.base_url)
    monkeypatch.setenv("CONNECTORKIT_FLOW_URL", rp.base_url)
    monkeypatch.setenv("CONNECTORKIT_PROFILE", str(tmp_path / "no-profile.json"))
    monkeypatch.delenv("CONNECTORKIT_CLOUD", raising=False)
    monkeypatch.setenv("COLUMNS", "160")
    return cli


def stored(rp: PowerAppsBackend, connector: str) -> dict[str, Any]:
    """The RP's record of a connector, less the change time (which every write moves)."""
    value = copy.deepcopy(rp.apis[connector])
    value["properties"].pop("changedTime")
    return value


def rp_calls(rp: PowerAppsBackend, method: str, fragment: str) -> list[dict[str, Any]]:
    return [r for r in rp.requests if r["method"] == method and fragment in r["path"]]


# -- library


def test_create_list_download_and_redeploy_unchanged(api: PowerAppsApi, rp: PowerAppsBackend, tmp_path: Path) -> None:
    rp.page_size = 1  # the environment's list spans several pages
    package = ConnectorPackage.load(write_connector(tmp_path / "orders"))
    steps: list[str] = []
    env = PowerPlatformEnvironment(api, DEFAULT_ENV, secret=SECRET, progress=steps.append)
    done = env.deploy(package)
    assert done.created and done.display_name == "Contoso Orders" and done.secret_places == 2
    assert done.connector_id.startswith("shared_contoso-20orders-5f")
    assert steps == ["Validating the definition", "Getting an upload location", "Uploading the icon",
                     "Uploading the custom code", "Creating the connector"]  # fmt: skip
    assert any("POST /orders" in note and "summary" in note for note in done.notes)  # the RP's warning reaches the user
    assert rp.client_secrets[done.connector_id] == {"entra/token": SECRET, "generic/token": SECRET}
    assert set(api.scopes) == {"https://service.powerapps.com/.default"}  # type: ignore[attr-defined]

    PowerPlatformEnvironment(api, DEFAULT_ENV, secret=SECRET).deploy(
        ConnectorPackage.load(write_connector(tmp_path / "other", title="Fabrikam"))
    )
    listed = env.list()
    assert sorted(c.display_name for c in listed) == ["Contoso Orders", "Fabrikam"]  # not Office 365 (built in)
    assert len(rp_calls(rp, "GET", "/providers/Microsoft.PowerApps/apis")) >= 3  # followed nextLink

    target = env.download("Contoso Orders", tmp_path / "downloaded")
    back = ConnectorPackage.load(target)
    assert back.definition == package.definition
    assert back.icon == ICON and back.script == SCRIPT
    assert back.settings is not None and back.settings["connectorId"] == done.connector_id
    assert back.settings["environment"] == DEFAULT_ENV and back.settings["script"] == "script.csx"
    sets = back.api_properties["properties"]["connectionParameterSets"]["values"]
    assert [s["name"] for s in sets] == ["entra", "generic"]
    redirect = sets[0]["parameters"]["token"]["oAuthSettings"]["redirectUrl"]
    assert redirect == "https://global.consent.azure-apim.net/redirect/" + done.connector_id.removeprefix("shared_")

    before = stored(rp, done.connector_id)
    again = PowerPlatformEnvironment(api, DEFAULT_ENV).deploy(back)  # no secret: the RP keeps the one it has
    assert not again.created and again.connector_id == done.connector_id
    assert stored(rp, done.connector_id) == before
    assert rp.client_secrets[done.connector_id] == {"entra/token": SECRET, "generic/token": SECRET}
    patch = json.loads(rp_calls(rp, "PATCH", done.connector_id)[-1]["body"])
    assert "displayName" not in patch["properties"]
    # The unchanged re-deploy sends what the create sent, but for what must differ: a PATCH that
    # dropped or changed a field would fail here. The RP assigned the per-connector redirect URL.
    post = rp_calls(rp, "POST", "/providers/Microsoft.PowerApps/apis")[0]["body"]
    assigned = "https://global.consent.azure-apim.net/redirect/" + done.connector_id.removeprefix("shared_")
    assert comparable_body(rp_calls(rp, "PATCH", done.connector_id)[-1]["body"]) == comparable_body(
        post, assigned_redirect=assigned
    )


def test_update_changes_what_changed_but_not_the_display_name(
    api: PowerAppsApi, rp: PowerAppsBackend, tmp_path: Path
) -> None:
    folder = write_connector(tmp_path / "orders", sets=False)
    first = PowerPlatformEnvironment(api, DEFAULT_ENV, secret=SECRET).deploy(ConnectorPackage.load(folder))
    assert rp.client_secrets[first.connector_id] == {"token": SECRET}
    spec = json.loads((folder / "apiDefinition.swagger.json").read_text())
    spec["info"]["description"] = "Orders and invoices of Contoso."
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(spec))
    (folder / "script.csx").unlink()
    update = PowerPlatformEnvironment(api, DEFAULT_ENV, secret="rotated-secret").deploy(ConnectorPackage.load(folder))
    assert not update.created and update.connector_id == first.connector_id  # found by display name
    props = rp.apis[first.connector_id]["properties"]
    assert props["description"] == "Orders and invoices of Contoso." and props["displayName"] == "Contoso Orders"
    assert "scriptDefinitionUrl" not in props
    assert rp.client_secrets[first.connector_id] == {"token": "rotated-secret"}
    assert PowerPlatformEnvironment(api, DEFAULT_ENV).set_client_secret("Contoso Orders", "third") == 1
    assert rp.client_secrets[first.connector_id] == {"token": "third"}


def test_stack_owner_is_kept_on_create_and_left_out_of_updates(
    api: PowerAppsApi, rp: PowerAppsBackend, tmp_path: Path
) -> None:
    folder = write_connector(tmp_path / "orders")
    props = json.loads((folder / "apiProperties.json").read_text())
    props["properties"]["stackOwner"] = "Contoso Ltd"
    (folder / "apiProperties.json").write_text(json.dumps(props))
    env = PowerPlatformEnvironment(api, DEFAULT_ENV, secret=SECRET)
    created = env.deploy(ConnectorPackage.load(folder))
    assert rp.apis[created.connector_id]["properties"]["stackOwner"] == "Contoso Ltd"
    updated = env.deploy(ConnectorPackage.load(folder))
    assert any("stackOwner" in note and "#614" in note for note in updated.notes)
    assert rp.apis[created.connector_id]["properties"]["stackOwner"] == "Contoso Ltd"
    # What the RP says when stackOwner is sent on update (the reason it is left out):
    body, _ = connector_body(ConnectorPackage.load(folder), DEFAULT_ENV, create=True, secret=SECRET, icon_uri=None,
                             script_url="")  # fmt: skip
    body["properties"].pop("displayName")
    with pytest.raises(CloudError, match=r"InvalidRequestContent: .*Could not find member 'stackOwner'"):
        api.update_api(DEFAULT_ENV, created.connector_id, body)


def test_transient_answers_are_retried(api: PowerAppsApi, rp: PowerAppsBackend, tmp_path: Path) -> None:
    rp.transient = [429, 503, 503]
    done = PowerPlatformEnvironment(api, DEFAULT_ENV, secret=SECRET).deploy(
        ConnectorPackage.load(write_connector(tmp_path / "orders"))
    )
    assert done.created and rp.transient == []
    assert api.waits == [0.0, 0.0, 0.0]  # type: ignore[attr-defined]  # the services' Retry-After: 0


def test_filter_encoding_and_headers_as_paconn(api: PowerAppsApi, rp: PowerAppsBackend, tmp_path: Path) -> None:
    PowerPlatformEnvironment(api, TEST_ENV, secret=SECRET).deploy(
        ConnectorPackage.load(write_connector(tmp_path / "o"))
    )
    create = rp_calls(rp, "POST", "/providers/Microsoft.PowerApps/apis")[-1]
    assert create["query"] == f"api-version=2016-11-01&%24filter=environment%20eq%20%27{TEST_ENV}%27"
    assert create["headers"]["x-ms-origin"] == "connectorkit"
    storage = rp_calls(rp, "POST", "generateResourceStorage")[-1]
    assert storage["path"] == f"/providers/Microsoft.PowerApps/objectIds/{OID}/generateResourceStorage"
    assert "x-ms-origin" not in storage["headers"]
    uploads = [r for r in rp.requests if r["method"] == "PUT"]
    assert [r["headers"]["x-ms-blob-type"] for r in uploads] == ["BlockBlob", "BlockBlob"]
    assert uploads[0]["headers"]["content-type"] == "image/png"


def test_create_without_secret_is_refused_before_any_write(
    api: PowerAppsApi, rp: PowerAppsBackend, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="--secret-stdin or --secret-file"):
        PowerPlatformEnvironment(api, DEFAULT_ENV).deploy(ConnectorPackage.load(write_connector(tmp_path / "o")))
    assert not [r for r in rp.requests if r["method"] in ("POST", "PUT", "PATCH")]


def test_nested_apim_error_is_one_line(api: PowerAppsApi, rp: PowerAppsBackend, tmp_path: Path) -> None:
    package = ConnectorPackage.load(write_connector(tmp_path / "o"))
    done = PowerPlatformEnvironment(api, DEFAULT_ENV, secret=SECRET).deploy(package)
    rp.fail_apim_next = True
    with pytest.raises(CloudError) as caught:
        PowerPlatformEnvironment(api, DEFAULT_ENV, secret=SECRET).deploy(package)
    message = str(caught.value)
    assert message == (
        f"Power Apps: HTTP 400 InternalServerError: Request processing failed due to internal error. "
        f"(PATCH {rp.base_url}/providers/Microsoft.PowerApps/apis/{done.connector_id})"
    )
    assert caught.value.code == "InternalServerError" and "\n" not in message


def test_unwrap_error_keeps_simple_shapes() -> None:
    assert unwrap_error('{"error":{"code":"CannotUpdateApiDisplayName","message":"No."}}') == (
        "CannotUpdateApiDisplayName",
        "No.",
    )
    assert unwrap_error("Bad Gateway") == (None, "Bad Gateway")
    assert token_object_id(TOKEN) == OID and token_object_id("opaque") is None


def test_wrong_token_is_refused_readably(rp: PowerAppsBackend) -> None:
    cloud = resolve_cloud(overrides={"powerapps": rp.base_url, "flow": rp.base_url}, environ={})
    api = PowerAppsApi(cloud, lambda scope: make_token("someone-else"), sleep=lambda _s: None)
    with pytest.raises(CloudError, match=r"^Flow: HTTP 401 AuthenticationFailed: Authentication failed"):
        api.environments()


def test_dataverse_solution_deploy(api: PowerAppsApi, dataverse: DataverseBackend, tmp_path: Path) -> None:
    package = ConnectorPackage.load(write_connector(tmp_path / "o"))
    scopes: list[str] = []
    org = Dataverse(dataverse.base_url, lambda scope: scopes.append(scope) or TOKEN)
    done = org.deploy(package, "ContosoConnectors", secret=SECRET)
    assert done.created and done.name == "cr5f3_contosoorders"
    assert done.internal_id is not None and done.internal_id.startswith("shared_cr5f3-5fcontosoorders-5f")
    assert dataverse.members[done.connector_id] == "ContosoConnectors"
    row = dataverse.rows[done.connector_id]
    assert json.loads(row["openapidefinition"]) == package.definition and row["connectortype"] == 1
    assert row["customcodeblobcontent"] == SCRIPT and row["iconblob"]
    assert dataverse.client_secrets[done.connector_id] == {"entra/token": SECRET, "generic/token": SECRET}
    assert SECRET not in json.dumps(row)
    assert set(scopes) == {f"{dataverse.base_url}/.default"}
    again = org.deploy(package, "ContosoConnectors")
    assert not again.created and again.connector_id == done.connector_id
    assert [r["method"] for r in dataverse.requests if r["path"].endswith(f"connectors({done.connector_id})")] == [
        "GET", "PATCH", "GET"
    ]  # fmt: skip
    assert all(r["headers"].get("odata-version") == "4.0" for r in dataverse.requests)
    with pytest.raises(CloudError, match=r"^Dataverse: HTTP 404 0x80040217: The given solution unique name \(Nope\)"):
        org.deploy(package, "Nope", name="cr5f3_other", secret=SECRET)
    with pytest.raises(InputError, match="--solution Nope: no solution"):
        org.deploy(package, "Nope", secret=SECRET)


# -- command line


def test_cli_environments(cloud_cli: Callable[..., Run]) -> None:
    result = cloud_cli("environments", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == [DEFAULT_ENV, TEST_ENV]
    assert rows[0]["isDefault"] and rows[0]["dataverseUrl"] and rows[1]["dataverseUrl"] is None
    table = cloud_cli("environments")
    assert table.exit_code == 0 and "Contoso (default)" in table.stdout and TEST_ENV in table.stdout


def test_cli_deploy_list_download_and_secret_never_leaks(
    cloud_cli: Callable[..., Run],
    rp: PowerAppsBackend,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    folder = write_connector(tmp_path / "orders")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET + "\n")
    run = RecordingCli()
    missing = run("deploy", folder, "--env", "Contoso (default)")
    assert missing.exit_code == 2 and "--secret-stdin or --secret-file" in missing.stderr
    created = run("deploy", folder, "--env", "Contoso (default)", "--secret-file", secret_file, "--format", "json")
    assert created.exit_code == 0, created.stderr
    answer = json.loads(created.stdout)
    assert answer["created"] and answer["secretInjected"] == 2
    settings = json.loads((folder / "settings.json").read_text())
    assert settings["connectorId"] == answer["connectorId"] and settings["environment"] == DEFAULT_ENV
    assert settings["icon"] == "icon.png" and settings["powerAppsApiVersion"] == "2016-11-01"
    assert rp.client_secrets[answer["connectorId"]]["generic/token"] == SECRET

    updated = run("deploy", folder, "--env", DEFAULT_ENV)  # settings.json names the connector
    assert updated.exit_code == 0, updated.stderr
    assert f"Updated Contoso Orders ({answer['connectorId']})" in updated.stdout

    listed = run("list", "--env", DEFAULT_ENV, "--format", "json")
    assert listed.exit_code == 0 and [c["name"] for c in json.loads(listed.stdout)] == [answer["connectorId"]]
    shown = run("list", "--env", "Contoso (default)")
    assert "Contoso Orders" in shown.stdout

    out = tmp_path / "downloaded"
    got = run("download", "Contoso Orders", "--env", DEFAULT_ENV, "-o", out)
    assert got.exit_code == 0, got.stderr
    assert json.loads((out / "settings.json").read_text())["connectorId"] == answer["connectorId"]

    rp.fail_apim_next = True
    failed = run("deploy", out, "--env", DEFAULT_ENV, "--secret-stdin", stdin=SECRET)
    assert failed.exit_code == 1
    errors = [line for line in failed.stderr.splitlines() if line.startswith("error:")]  # after the step lines
    assert errors == [failed.stderr.strip().splitlines()[-1]]
    assert errors[0].startswith("error: Power Apps: HTTP 400 InternalServerError: Request processing failed")
    rotated = "PLANTED-rotated-secret-77Qx"
    piped = run("deploy", out, "--env", DEFAULT_ENV, "--secret-stdin", stdin=rotated + "\n")
    assert piped.exit_code == 0, piped.stderr
    assert rp.client_secrets[answer["connectorId"]] == {"entra/token": rotated, "generic/token": rotated}

    for planted in (SECRET, rotated):
        for result in run.runs:
            assert planted not in result.stdout and planted not in result.stderr
        assert planted not in caplog.text
        for path in tmp_path.rglob("*"):
            if path.is_file() and path != secret_file:
                assert planted.encode() not in path.read_bytes(), path


def test_cli_bad_input(cloud_cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_connector(tmp_path / "orders")
    unknown = cloud_cli("list", "--env", "Nowhere")
    assert unknown.exit_code == 2 and "--env Nowhere: no such environment" in unknown.stderr
    assert "Contoso (default)" in unknown.stderr
    both = cloud_cli("deploy", folder, "--env", DEFAULT_ENV, "--secret-stdin", "--secret-file", folder / "x")
    assert both.exit_code == 2 and "one way only" in both.stderr
    absent = cloud_cli("deploy", folder, "--env", DEFAULT_ENV, "--secret-file", tmp_path / "missing.txt")
    assert absent.exit_code == 2 and "--secret-file" in absent.stderr
    empty = cloud_cli("deploy", folder, "--env", DEFAULT_ENV, "--secret-stdin")
    assert empty.exit_code == 2 and "--secret-stdin: the client secret is empty" in empty.stderr
    (tmp_path / "secret.txt").write_text("s3cret")
    no_org = cloud_cli(
        "deploy", folder, "--env", "Test", "--solution", "Solution1", "--secret-file", tmp_path / "secret.txt"
    )
    assert no_org.exit_code == 2 and "--solution Solution1: environment" in no_org.stderr
    assert "has no Dataverse database" in no_org.stderr
    monkeypatch.delenv("CONNECTORKIT_ACCESS_TOKEN")
    signed_out = cloud_cli("list", "--env", "Test")
    assert signed_out.exit_code == 2 and signed_out.stderr.startswith("error: --env: not signed in")


def test_cli_solution_deploy(cloud_cli: Callable[..., Run], dataverse: DataverseBackend, tmp_path: Path) -> None:
    folder = write_connector(tmp_path / "orders")
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    args = ("deploy", folder, "--env", "Contoso (default)", "--solution")
    made = cloud_cli(*args, "ContosoConnectors", "--secret-file", secret_file, "--format", "json")
    assert made.exit_code == 0, made.stderr
    answer = json.loads(made.stdout)
    assert answer["created"] and answer["name"] == "cr5f3_contosoorders"
    assert dataverse.members[answer["connectorid"]] == "ContosoConnectors"
    again = cloud_cli(*args, "ContosoConnectors")
    assert again.exit_code == 0 and "Updated cr5f3_contosoorders" in again.stdout
    unknown = cloud_cli(*args, "Missing", "--secret-file", secret_file)
    assert unknown.exit_code == 2 and "--solution Missing: no solution" in unknown.stderr
    rejected = cloud_cli(*args, "Missing", "--name", "cr5f3_x", "--secret-file", secret_file)
    assert rejected.exit_code == 1 and "0x80040217: The given solution unique name (Missing) is not valid" in (
        rejected.stderr
    )
    for result in (made, again, unknown, rejected):
        assert SECRET not in result.stdout + result.stderr


@needs_corpus
def test_cli_paconn_folder_round_trip(
    cloud_cli: Callable[..., Run], rp: PowerAppsBackend, api: PowerAppsApi, tmp_path: Path
) -> None:
    """A real connector folder paconn made (settings.json naming its connector and environment,
    stackOwner in apiProperties): it updates in place, and downloads back to the same files."""
    folder = tmp_path / "LINKMobility"
    shutil.copytree(CORPUS / "certified-connectors" / "LINKMobility", folder)
    original = json.loads((folder / "settings.json").read_text())
    rp.add_environment(original["environment"], "LINK")
    package = ConnectorPackage.load(folder)
    body, _ = connector_body(package, original["environment"], create=True, secret=None, icon_uri=None, script_url="")
    rp.create_api(original["environment"], body, name=original["connectorId"])  # what paconn created earlier

    result = cloud_cli("deploy", folder, "--env", original["environment"])
    assert result.exit_code == 0, result.stderr
    assert f"Updated LINK Mobility ({original['connectorId']})" in result.stdout
    assert "stackOwner left out" in result.stderr
    assert json.loads((folder / "settings.json").read_text()) == original  # an update leaves it alone (as paconn)
    assert rp.apis[original["connectorId"]]["properties"]["iconUri"].endswith(".png")

    out = tmp_path / "back"
    got = cloud_cli("download", original["connectorId"], "--env", "LINK", "-o", out)
    assert got.exit_code == 0, got.stderr
    written = json.loads((out / "settings.json").read_text())
    assert set(written) == set(original)
    assert {k: v for k, v in written.items() if k != "powerAppsUrl"} == {
        k: v for k, v in original.items() if k != "powerAppsUrl"
    }
    assert written["powerAppsUrl"] == rp.base_url  # CONNECTORKIT_POWERAPPS_URL won over the file's
    back = ConnectorPackage.load(out)
    assert back.definition == package.definition and back.icon == package.icon
    assert back.api_properties["properties"]["stackOwner"] == "LINK Mobility"
    assert (
        back.api_properties["properties"]["connectionParameters"]
        == package.api_properties["properties"]["connectionParameters"]
    )
    before = stored(rp, original["connectorId"])
    redeploy = cloud_cli("deploy", out, "--env", original["environment"])
    assert redeploy.exit_code == 0, redeploy.stderr
    assert stored(rp, original["connectorId"]) == before


def test_cli_deploy_rides_out_429_and_503_and_reports_a_lasting_503(
    cloud_cli: Callable[..., Run], rp: PowerAppsBackend, tmp_path: Path
) -> None:
    folder = write_connector(tmp_path / "orders")
    rp.transient = [429, 503, 429]
    made = cloud_cli("deploy", folder, "--env", DEFAULT_ENV, "--secret-stdin", stdin=SECRET)
    assert made.exit_code == 0, made.stderr
    assert rp.transient == [] and "Created Contoso Orders" in made.stdout
    rp.transient = [503] * 6  # more than the retries
    failed = cloud_cli("list", "--env", DEFAULT_ENV)
    assert failed.exit_code == 1
    [line] = failed.stderr.strip().splitlines()
    assert line.startswith("error: Flow: HTTP 503 ServiceUnavailable")


@pytest.mark.parametrize("secret", ["PLANT-echo-Qm7xV2pL9", "PLANT two  spaces Zx9", 'PLANT"quote\\bs-Kq4'])
def test_cli_service_echoing_the_body_leaks_neither_secret_nor_signature(
    cloud_cli: Callable[..., Run],
    rp: PowerAppsBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    secret: str,
) -> None:
    """The RP quoting the create body back (secret and signed icon URL inside) in a wrapped error."""
    caplog.set_level(logging.DEBUG)

    def echo(self: PowerAppsBackend, env: str, body: Any, name: str | None = None) -> dict[str, Any]:
        inner = {"Code": "BadBody", "Message": "Could not parse " + json.dumps(body)}
        prose = f"The request failed with client error: '{json.dumps(inner)}'."
        raise StandInError(400, "InvalidRequestContent", "x",
                           body={"error": {"code": "ApiHubsRequestFailed", "message": prose}})  # fmt: skip

    monkeypatch.setattr(PowerAppsBackend, "create_api", echo)
    folder = write_connector(tmp_path / "orders")
    run = cloud_cli("--verbose", "deploy", folder, "--env", DEFAULT_ENV, "--secret-stdin", stdin=secret + "\n")
    assert run.exit_code == 1
    line = run.stderr.strip().splitlines()[-1]
    assert line.startswith("error: Power Apps: HTTP 400 BadBody: Could not parse ") and "***" in line
    shown = run.stdout + run.stderr + caplog.text
    for form in (
        secret,
        " ".join(secret.split()),
        json.dumps(secret)[1:-1],
        " ".join(json.dumps(secret)[1:-1].split()),
    ):
        assert form not in shown
    signatures = list(rp.signatures.values())
    assert signatures and not any(sig in shown for sig in signatures)
    assert "sig=" not in line and ".png" in line  # the icon URL is named, without its signature


def test_cli_settings_url_on_another_host_needs_trust(
    cloud_cli: Callable[..., Run], rp: PowerAppsBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONNECTORKIT_POWERAPPS_URL")
    folder = write_connector(tmp_path / "orders")
    (folder / "settings.json").write_text(json.dumps({"powerAppsUrl": rp.base_url}))
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    before = len(rp.requests)
    refused = cloud_cli("deploy", folder, "--env", DEFAULT_ENV, "--secret-file", secret_file)
    assert refused.exit_code == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: settings.json powerAppsUrl {rp.base_url}: not the selected cloud's Power Apps")
    assert "--trust-settings-url" in line and "https://api.powerapps.com" in line
    assert len(rp.requests) == before  # the token went nowhere
    trusted = cloud_cli("deploy", folder, "--env", DEFAULT_ENV, "--secret-file", secret_file, "--trust-settings-url")
    assert trusted.exit_code == 0, trusted.stderr
    # The option still wins over the file without any trust flag; the cloud's own host needs none either.
    assert cloud_cli("deploy", folder, "--env", DEFAULT_ENV, "--powerapps-url", rp.base_url).exit_code == 0
    (folder / "settings.json").write_text(json.dumps({"powerAppsUrl": "https://API.powerapps.com/"}))
    monkeypatch.setenv("CONNECTORKIT_POWERAPPS_URL", rp.base_url)  # keep the real service out of the test
    assert cloud_cli("deploy", folder, "--env", DEFAULT_ENV).exit_code == 0


def test_cli_cloud_commands_take_login_url_and_deploy_help_says_what_it_needs(
    cloud_cli: Callable[..., Run], tmp_path: Path
) -> None:
    folder = write_connector(tmp_path / "orders")
    for args in (["environments"], ["list", "--env", "Test"], ["download", "X", "--env", "Test", "-o", "out"],
                 ["deploy", str(folder), "--env", "Test"]):  # fmt: skip
        run = cloud_cli(*args, "--login-url", "ftp://login")
        assert run.exit_code == 2, (args, run.stderr)
        assert "--login-url: 'ftp://login' is not an absolute http(s) URL" in run.stderr, (args, run.stderr)
    assert cloud_cli("environments", "--login-url", "http://127.0.0.1:9").exit_code == 0  # the token is static
    shown = " ".join(cloud_cli("deploy", "--help").stdout.split())
    assert "Environment Maker" in shown and "--secret-stdin or --secret-file" in shown
    assert "--login-url" in shown and "--trust-settings-url" in shown
