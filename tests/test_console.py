"""The web console's server-rendered pages through FastAPI's TestClient: login, CSRF, forms built
from the definition, redaction of what is shown, and the OAuth round trip."""

from __future__ import annotations

import base64
import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.examples.tasks import create_app as tasks_app
from connectorkit.examples.tasks import serve
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import EngineOptions
from connectorkit.runtime.store import Store, generate_key
from connectorkit.runtime.triggers import TriggerOptions
from connectorkit.server.app import create_app
from connectorkit.server.security import SESSION_COOKIE
from server_support import KEY, PROPERTIES, definition, oauth_files, oauth_upload_body, upload_body


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer) -> Iterator[TestClient]:
    monkeypatch.delenv("CONNECTORKIT_SECRET_KEY", raising=False)
    application = create_app(f"sqlite:///{tmp_path / 'store.db'}")
    with TestClient(application, follow_redirects=False) as client:
        token = application.state.server.token
        body = upload_body(httpserver.port)
        assert (
            client.post("/api/connectors", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 201
        )
        yield client


def login(client: TestClient) -> str:
    """Log in with a one-time code, as the URL ``serve`` prints; returns the page's CSRF token."""
    code = client.app.state.server.gate.issue_code()  # type: ignore[attr-defined]
    answer = client.get("/console/login", params={"code": code})
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    return csrf_of(client.get("/console/").text)


def csrf_of(page: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]*)">', page)
    assert found is not None and found.group(1)
    return found.group(1)


def create_connection(client: TestClient, csrf: str, **values: str) -> str:
    form = {"csrf": csrf, "parameter_set": "", **{f"param.{k}": v for k, v in values.items()}}
    answer = client.post("/console/connectors/PetShop/connect", data=form)
    assert answer.status_code == 303, answer.text
    found = re.search(r"created=([0-9a-f]+)", answer.headers["location"])
    assert found is not None
    return found.group(1)


def test_pages_need_a_session(app: TestClient) -> None:
    for path in ("/console/", "/console/connections", "/console/history", "/console/connectors/PetShop"):
        answer = app.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    assert app.get("/").headers["location"] == "/console/"


def test_login_code_is_single_use_and_sets_a_strict_cookie(app: TestClient) -> None:
    code = app.app.state.server.gate.issue_code()  # type: ignore[attr-defined]
    first = app.get("/console/login", params={"code": code})
    assert first.status_code == 303
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = app.get("/console/")
    assert page.status_code == 200 and "PetShop" in page.text
    assert app.app.state.server.token not in page.text  # type: ignore[attr-defined]
    fresh = TestClient(app.app, follow_redirects=False)
    again = fresh.get("/console/login", params={"code": code})
    assert again.status_code == 401 and "already used or has expired" in again.text
    assert SESSION_COOKIE not in again.headers.get("set-cookie", "")
    assert fresh.get("/console/login", params={"code": "made-up"}).status_code == 401


def test_login_with_the_api_token_needs_the_forms_csrf(app: TestClient) -> None:
    page = app.get("/console/login")
    form_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert form_csrf is not None and 'type="password" id="token"' in page.text
    token = app.app.state.server.token  # type: ignore[attr-defined]
    assert app.post("/console/login", data={"token": token}).status_code == 403
    page = app.get("/console/login")
    forged = app.post("/console/login", data={"token": token, "csrf": "forged"})
    assert forged.status_code == 403 and SESSION_COOKIE not in forged.headers.get("set-cookie", "")
    page = app.get("/console/login")
    form_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert form_csrf is not None
    wrong = app.post("/console/login", data={"token": "nope", "csrf": form_csrf.group(1)})
    assert wrong.status_code == 401 and "not this server" in wrong.text
    form_csrf = re.search(r'name="csrf" value="([^"]+)"', wrong.text)  # each form carries a fresh token
    assert form_csrf is not None
    right = app.post("/console/login", data={"token": token, "csrf": form_csrf.group(1)})
    assert right.status_code == 303 and SESSION_COOKIE in right.headers["set-cookie"]
    assert app.get("/console/").status_code == 200


def test_forms_refuse_a_missing_or_wrong_csrf_token(app: TestClient) -> None:
    csrf = login(app)
    base = {"param.api_key": KEY, "parameter_set": ""}
    for form in (base, {**base, "csrf": "forged"}):
        refused = app.post("/console/connectors/PetShop/connect", data=form)
        assert refused.status_code == 403 and "CSRF" in refused.text and KEY not in refused.text
    assert app.get("/console/connections").text.count("<code>") == 0
    connection_id = create_connection(app, csrf, api_key=KEY)
    for path in (f"/console/connections/{connection_id}/delete", f"/console/connections/{connection_id}/test"):
        assert app.post(path, data={"csrf": "forged"}).status_code == 403
    assert connection_id in app.get("/console/connections").text
    assert app.post("/console/logout", data={}).status_code == 403


def test_connection_form_and_list(app: TestClient, httpserver: HTTPServer) -> None:
    csrf = login(app)
    form = app.get("/console/connectors/PetShop/connect").text
    assert 'type="password" id="param-1" name="param.api_key"' in form and "API key" in form
    assert re.search(r'API key <span class="required"', form)
    assert '<option value="eu"' in form and '<option value="us"' in form
    missing = app.post("/console/connectors/PetShop/connect", data={"csrf": csrf, "param.region": "us"})
    assert missing.status_code == 400 and "api_key: required" in missing.text
    assert '<option value="us" selected>' in missing.text
    bad = app.post(
        "/console/connectors/PetShop/connect", data={"csrf": csrf, "param.api_key": KEY, "param.region": "x"}
    )
    assert bad.status_code == 400 and KEY not in bad.text  # the secret is never filled back in

    connection_id = create_connection(app, csrf, api_key=KEY, region="eu")
    listed = app.get(f"/console/connections?created={connection_id}").text
    assert f"Created connection {connection_id}" in listed and "api_key</code>=***" in listed and KEY not in listed

    httpserver.expect_request("/v1/owners", query_string={"key": KEY}).respond_with_json({"items": []})
    tested = app.post(f"/console/connections/{connection_id}/test", data={"csrf": csrf})
    assert tested.status_code == 200 and f"Connection {connection_id}: Connected (HTTP 200)" in tested.text
    deleted = app.post(f"/console/connections/{connection_id}/delete", data={"csrf": csrf})
    assert deleted.status_code == 303 and connection_id not in app.get("/console/connections").text


def test_operation_page_builds_the_form_from_the_definition(app: TestClient) -> None:
    csrf = login(app)
    connection_id = create_connection(app, csrf, api_key=KEY)
    page = app.get("/console/connectors/PetShop/operations/ListPets").text
    assert f'<option value="{connection_id}" selected>' in page
    status = page.index('name="arg.status"')
    advanced = page.index("Advanced parameters (1)")
    internal = page.index("Internal parameters (1")
    assert status < advanced < page.index('name="arg.limit"') < internal < page.index('name="arg.X-Client"')
    assert 'name="arg.X-Client" value="console"' in page  # internal: pre-filled with its default
    assert 'name="arg.limit" value=""' in page and "default 10" in page  # optional: default only shown
    assert '<option value="available">available</option>' in page
    body = app.get("/console/connectors/PetShop/operations/AddPet").text
    sample = re.search(r'<textarea id="arg-pet" name="arg.pet"[^>]*>([^<]*)</textarea>', body)
    assert sample is not None
    started = json.loads(sample.group(1).replace("&#34;", '"'))  # the example, a typed age, no internal kind
    assert started["name"] == "Rex" and isinstance(started["age"], int) and "kind" not in started
    dynamic = app.get("/console/connectors/PetShop/operations/PetsOfOwner").text
    assert 'data-dynamic="owner"' in dynamic and "/static/console.js" in dynamic
    assert app.get("/static/console.js").status_code == 200 and app.get("/static/console.css").status_code == 200


def test_running_an_operation_shows_redacted_request_and_response(app: TestClient, httpserver: HTTPServer) -> None:
    csrf = login(app)
    connection_id = create_connection(app, csrf, api_key=KEY)
    httpserver.expect_request("/v1/pets", method="POST", query_string={"key": KEY}).respond_with_json(
        {"id": 9, "echo": KEY}, status=201
    )
    form = {
        "csrf": csrf, "connection": connection_id, "arg.pet": json.dumps({"name": "Tom", "secretNote": KEY}),
    }  # fmt: skip
    answer = app.post("/console/connectors/PetShop/operations/AddPet", data=form)
    assert answer.status_code == 200, answer.text
    text = answer.text[answer.text.index('<section id="result">') :]  # the form keeps what the user typed
    assert KEY not in text
    assert f"POST http://127.0.0.1:{httpserver.port}/v1/pets?key=***" in text
    assert '<strong id="response-status" class="status-2xx">201</strong>' in text
    assert "&#34;echo&#34;: &#34;***&#34;" in text and "&#34;kind&#34;: &#34;dog&#34;" in text
    not_json = app.post("/console/connectors/PetShop/operations/AddPet", data={**form, "arg.pet": "{oops"})
    assert not_json.status_code == 400 and "pet: not JSON" in not_json.text
    no_connection = app.post("/console/connectors/PetShop/operations/AddPet", data={**form, "connection": "x"})
    assert no_connection.status_code == 400 and "Choose a connection" in no_connection.text
    history = app.get("/console/history", params={"connection": connection_id}).text
    assert "AddPet" in history and "201" in history and KEY not in history


def test_console_session_may_call_the_api_with_its_csrf_header(app: TestClient, httpserver: HTTPServer) -> None:
    csrf = login(app)
    connection_id = create_connection(app, csrf, api_key=KEY)
    httpserver.expect_request("/v1/owners").respond_with_json({"items": [{"id": "o1", "name": "Ann"}]})
    path = f"/api/connections/{connection_id}/choices"
    params = {"operation": "PetsOfOwner", "parameter": "owner"}
    assert app.get(path, params=params, headers={"X-CSRF-Token": csrf}).json() == [{"value": "o1", "title": "Ann"}]
    assert app.get(path, params=params).status_code == 401  # the cookie alone is not enough
    assert app.get(path, params=params, headers={"X-CSRF-Token": "forged"}).status_code == 401


def test_pages_escape_what_the_definition_says(app: TestClient, httpserver: HTTPServer) -> None:
    body = upload_body(httpserver.port, "Evil")
    definition = json.loads(base64.b64decode(body["files"]["apiDefinition.swagger.json"]))
    definition["info"]["description"] = "<script>alert(1)</script>"
    definition["paths"]["/pets/{petId}"]["get"]["summary"] = '"><img src=x onerror=alert(2)>'
    body["files"]["apiDefinition.swagger.json"] = base64.b64encode(json.dumps(definition).encode()).decode()
    token = app.app.state.server.token  # type: ignore[attr-defined]
    assert app.post("/api/connectors", json=body, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    login(app)
    page = app.get("/console/connectors/Evil")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_console_errors_are_pages_not_tracebacks(app: TestClient) -> None:
    login(app)
    missing = app.get("/console/connectors/Nope")
    assert missing.status_code == 404 and "no connector named" in missing.text and "<html" in missing.text
    assert app.get("/console/connectors/PetShop/operations/Nope").status_code == 400
    assert app.get("/console/nothing-here").status_code == 404


def test_oauth_connection_goes_through_the_providers_sign_in(app: TestClient, httpserver: HTTPServer) -> None:
    token = app.app.state.server.token  # type: ignore[attr-defined]
    upload = app.post(
        "/api/connectors", json=oauth_upload_body(httpserver.port), headers={"Authorization": f"Bearer {token}"}
    )
    assert upload.status_code == 201
    csrf = login(app)
    form = app.get("/console/connectors/OAuthPets/connect").text
    assert 'name="param.token:clientId"' in form and 'value="pets-client"' in form
    assert 'type="password"' in form and 'name="param.token:clientSecret"' in form and "Sign in" in form
    started = app.post(
        "/console/connectors/OAuthPets/connect", data={"csrf": csrf, "param.token:clientSecret": "PLANTED-cs-1"}
    )
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith(f"http://127.0.0.1:{httpserver.port}/authorize?") and "PLANTED-cs-1" not in location
    state = re.search(r"[?&]state=([^&]+)", location)
    assert state is not None
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"access_token": "PLANTED-at", "refresh_token": "PLANTED-rt", "expires_in": 3600, "token_type": "Bearer"}
    )
    back = app.get("/oauth/redirect", params={"code": "c", "state": state.group(1)})
    assert back.status_code == 303 and back.headers["location"].startswith("/console/connections?created=")
    listed = app.get(back.headers["location"]).text
    assert "signed in" in listed and "PLANTED" not in listed


def test_connector_with_parameter_sets(app: TestClient, httpserver: HTTPServer) -> None:
    body = upload_body(httpserver.port, "TwoWays")
    body["files"]["apiProperties.json"] = base64.b64encode(
        json.dumps(
            {
                "properties": {
                    "connectionParameterSets": {
                        "uiDefinition": {"displayName": "Authentication type"},
                        "values": [
                            {"name": "key", "uiDefinition": {"displayName": "API key"},
                             "parameters": {"api_key": {"type": "securestring",
                                                        "uiDefinition": {"constraints": {"required": "true"}}}}},
                            {"name": "basic", "uiDefinition": {"displayName": "User and password"},
                             "parameters": {"username": {"type": "string"}, "password": {"type": "securestring"}}},
                        ],
                    }
                }
            }
        ).encode()
    ).decode()  # fmt: skip
    headers = {"Authorization": f"Bearer {app.app.state.server.token}"}  # type: ignore[attr-defined]
    assert app.post("/api/connectors", json=body, headers=headers).status_code == 201
    detail = app.get("/api/connectors/TwoWays", headers=headers).json()
    sets = detail["parameterSets"]
    assert [(s["name"], s["displayName"]) for s in sets] == [("key", "API key"), ("basic", "User and password")]
    assert [p["name"] for p in sets[1]["parameters"]] == ["username", "password"] and detail["authKind"] is None
    csrf = login(app)
    chooser = app.get("/console/connectors/TwoWays/connect").text
    assert '<option value="basic">User and password</option>' in chooser and 'id="connect-form"' not in chooser
    form = app.get("/console/connectors/TwoWays/connect", params={"set": "basic"}).text
    assert 'name="param.username"' in form and 'type="password" id="param-2" name="param.password"' in form
    assert 'name="param.api_key"' not in form
    created = app.post(
        "/console/connectors/TwoWays/connect",
        data={"csrf": csrf, "parameter_set": "basic", "param.username": "ann", "param.password": "PLANTED-pw"},
    )
    assert created.status_code == 303
    connection_id = created.headers["location"].split("created=")[1]
    shown = app.get(f"/api/connections/{connection_id}", headers=headers).json()
    assert shown["parameterSet"] == "basic" and shown["parameters"] == {"username": "ann", "password": "***"}
    unknown = app.get("/console/connectors/TwoWays/connect", params={"set": "nope"})
    assert unknown.status_code == 400 and "no such parameter set" in unknown.text


# uploading a connector


def _deploy(app: TestClient, files: dict[str, bytes]) -> None:
    headers = {"Authorization": f"Bearer {app.app.state.server.token}"}  # type: ignore[attr-defined]
    body = {"files": {path: base64.b64encode(data).decode() for path, data in files.items()}}
    assert app.post("/api/connectors", json=body, headers=headers).status_code == 201


def _pet_files(port: int, title: str, change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, bytes]:
    swagger = definition(port)
    swagger["info"]["title"] = title
    if change is not None:
        change(swagger)
    return {
        "apiDefinition.swagger.json": json.dumps(swagger).encode(),
        "apiProperties.json": json.dumps(PROPERTIES).encode(),
    }


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _stored(app: TestClient) -> list[str]:
    headers = {"Authorization": f"Bearer {app.app.state.server.token}"}  # type: ignore[attr-defined]
    return sorted(c["name"] for c in app.get("/api/connectors", headers=headers).json())


def test_upload_deploys_picked_files_a_folder_and_a_zip(app: TestClient, httpserver: HTTPServer) -> None:
    assert app.get("/console/upload").headers["location"] == "/console/login"
    csrf = login(app)
    page = app.get("/console/upload").text
    assert 'enctype="multipart/form-data"' in page and 'name="files" multiple' in page and "webkitdirectory" in page
    files = _pet_files(httpserver.port, "Picked")
    picked = app.post(
        "/console/upload", data={"csrf": csrf, "name": "Renamed"}, files=[("files", (n, d)) for n, d in files.items()]
    )
    assert picked.status_code == 303 and picked.headers["location"] == "/console/connectors/Renamed?deployed=1"
    shown = app.get(picked.headers["location"]).text
    assert "Deployed Renamed, version 1." in shown and "PetsOfOwner" in shown

    folder = [("files", (f"MyFolder/{n}", d)) for n, d in _pet_files(httpserver.port, "FromFolder").items()]
    folder.append(("files", ("MyFolder/.DS_Store", b"\0junk")))
    assert (
        app.post("/console/upload", data={"csrf": csrf}, files=folder)
        .headers["location"]
        .startswith("/console/connectors/FromFolder?")
    )
    archive = _zip({f"zipped/{n}": d for n, d in _pet_files(httpserver.port, "Zipped").items()} | {"__MACOSX/x": b""})
    zipped = app.post("/console/upload", data={"csrf": csrf}, files={"files": ("zipped.zip", archive)})
    assert zipped.headers["location"] == "/console/connectors/Zipped?deployed=1"
    again = app.post("/console/upload", data={"csrf": csrf}, files={"files": ("zipped.zip", archive)})
    assert again.headers["location"] == "/console/connectors/Zipped?deployed=1"  # unchanged: same version
    assert _stored(app) == ["FromFolder", "PetShop", "Renamed", "Zipped"]


def test_upload_refuses_bad_input_and_stores_nothing(app: TestClient, httpserver: HTTPServer) -> None:
    csrf = login(app)
    good = _pet_files(httpserver.port, "Never")
    properties_only = [("files", ("apiProperties.json", good["apiProperties.json"]))]
    refused = app.post("/console/upload", data={"name": "x"}, files=properties_only)
    assert refused.status_code == 403 and "CSRF" in refused.text
    cases: list[tuple[Any, int, str]] = [
        ([], 400, "files: choose the connector"),
        (properties_only, 400, "no apiDefinition.swagger.json"),
        ([("files", ("apiDefinition.swagger.json", b'{"swagger": "2.0", "info": '))], 400, "apiDefinition.swagger.json"),
        ([("files", ("c.zip", _zip({"../apiDefinition.swagger.json": good["apiDefinition.swagger.json"]})))], 400,
         "'../apiDefinition.swagger.json' is not a relative path inside the target folder"),
        ([("files", ("c.zip", _zip({"/etc/apiDefinition.swagger.json": b"{}"})))], 400, "is not a relative path"),
        ([("files", ("c.zip", b"PK\x03\x04 not really a zip"))], 400, "c.zip: not a zip file"),
        ([("files", ("c.zip", _zip({"big.bin": bytes(11 * 2**20)})))], 400, "unpacked files are larger than 10 MB"),
        ([("files", ("big.bin", bytes(10 * 2**20 + 1)))], 413, "the upload is larger than 10 MB"),
    ]  # fmt: skip
    for files, status, message in cases:
        answer = app.post("/console/upload", data={"csrf": csrf, "name": "Kept"}, files=files or {"files": ("", b"")})
        assert answer.status_code == status, (message, answer.text)
        errors = re.findall(r'<p class="error" role="alert">([^<]*)</p>', answer.text)
        assert len(errors) == 1 and message in errors[0].replace("&#39;", "'"), (message, errors)
        assert 'id="upload-form"' in answer.text and 'value="Kept"' in answer.text  # the form again
        assert "Traceback" not in answer.text
    assert _stored(app) == ["PetShop"]


# fix connection (sign in again)


def _oauth_connection(app: TestClient, httpserver: HTTPServer, csrf: str, tokens: dict[str, Any]) -> str:
    _deploy(app, oauth_files(httpserver.port))
    started = app.post(
        "/console/connectors/OAuthPets/connect", data={"csrf": csrf, "param.token:clientSecret": "PLANTED-cs-1"}
    )
    state = re.search(r"[?&]state=([^&]+)", started.headers["location"])
    assert state is not None
    httpserver.expect_oneshot_request("/token", method="POST").respond_with_json({"token_type": "Bearer", **tokens})
    back = app.get("/oauth/redirect", params={"code": "c1", "state": state.group(1)})
    assert back.status_code == 303, back.text
    return back.headers["location"].split("created=")[1]


def test_sign_in_again_fixes_a_connection_whose_refresh_failed(app: TestClient, httpserver: HTTPServer) -> None:
    csrf = login(app)
    key_connection = create_connection(app, csrf, api_key=KEY)
    # no refresh token and about to expire: the next call must fail to refresh, as on the platform
    connection_id = _oauth_connection(app, httpserver, csrf, {"access_token": "PLANTED-at-1", "expires_in": 30})
    listed = app.get("/console/connections").text
    assert f'action="/console/connections/{connection_id}/sign-in"' in listed
    assert f'action="/console/connections/{key_connection}/sign-in"' not in listed  # an API key needs no sign-in
    assert "needs sign-in" not in listed

    failed = app.post(f"/console/connections/{connection_id}/test", data={"csrf": csrf})
    assert failed.status_code == 500 and "Failed to refresh access token for service: oauth2" in failed.text
    listed = app.get("/console/connections").text
    assert f'data-broken="{connection_id}"' in listed and "could not refresh the access token" in listed

    assert app.post(f"/console/connections/{connection_id}/sign-in", data={"csrf": "forged"}).status_code == 403
    assert app.post("/console/connections/nope/sign-in", data={"csrf": csrf}).status_code == 404
    started = app.post(f"/console/connections/{connection_id}/sign-in", data={"csrf": csrf})
    assert started.status_code == 303
    location = started.headers["location"]
    assert location.startswith(f"http://127.0.0.1:{httpserver.port}/authorize?") and "PLANTED" not in location
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Foauth%2Fredirect" in location
    state = re.search(r"[?&]state=([^&]+)", location)
    assert state is not None
    httpserver.expect_oneshot_request("/token", method="POST").respond_with_json(
        {"access_token": "PLANTED-at-2", "refresh_token": "PLANTED-rt-2", "expires_in": 3600, "token_type": "Bearer"}
    )
    back = app.get("/oauth/redirect", params={"code": "c2", "state": state.group(1)})
    assert back.status_code == 303 and back.headers["location"].endswith(f"signed_in={connection_id}")  # same id
    assert f"Signed in again: connection {connection_id} has new tokens." in app.get(back.headers["location"]).text

    httpserver.expect_request("/v1/owners", headers={"Authorization": "Bearer PLANTED-at-2"}).respond_with_json({})
    fixed = app.post(f"/console/connections/{connection_id}/test", data={"csrf": csrf})
    assert fixed.status_code == 200 and f"Connection {connection_id}: Connected (HTTP 200)" in fixed.text
    assert "needs sign-in" not in fixed.text and "PLANTED" not in fixed.text
    assert fixed.text.count('action="/console/connections/') == 2 * 2 + 1  # test, delete; one sign-in button


def test_sign_in_again_asks_for_what_the_connection_lacks(app: TestClient, httpserver: HTTPServer) -> None:
    csrf = login(app)
    _deploy(app, oauth_files(httpserver.port))
    store = app.app.state.server.environment.store  # type: ignore[attr-defined]
    connection_id = store.create_connection("OAuthPets", {}, set())  # e.g. made by an older version: no secret
    listed = app.get("/console/connections").text
    assert f'data-broken="{connection_id}"' in listed and "Not signed in." in listed
    asked = app.post(f"/console/connections/{connection_id}/sign-in", data={"csrf": csrf})
    assert asked.status_code == 400 and "token:clientSecret: required" in asked.text
    assert (
        'id="reconnect-form"' in asked.text
        and 'type="password" id="param-2" name="param.token:clientSecret"' in asked.text
    )
    assert 'name="param.token:clientId"' in asked.text and 'value="pets-client"' in asked.text
    started = app.post(
        f"/console/connections/{connection_id}/sign-in", data={"csrf": csrf, "param.token:clientSecret": "PLANTED-cs-9"}
    )
    assert started.status_code == 303 and started.headers["location"].startswith(f"http://127.0.0.1:{httpserver.port}/")
    assert "PLANTED-cs-9" not in started.headers["location"]


# dynamic schemas and the response check


def _with_dynamic_schema(swagger: dict[str, Any]) -> None:
    swagger["paths"]["/tables/{table}/rows"] = {
        "post": {
            "operationId": "AddRow",
            "parameters": [
                {"name": "table", "in": "path", "required": True, "type": "string"},
                {"name": "row", "in": "body", "schema": {"$ref": "#/definitions/Row"}},
            ],
            "responses": {"200": {"description": "ok"}},
        }
    }
    swagger["paths"]["/tables/{table}/schema"] = {
        "get": {
            "operationId": "RowSchema",
            "parameters": [{"name": "table", "in": "path", "required": True, "type": "string"}],
            "responses": {"200": {"description": "ok"}},
        }
    }
    swagger["definitions"]["Row"] = {
        "type": "object",
        "x-ms-dynamic-schema": {
            "operationId": "RowSchema", "parameters": {"table": {"parameter": "table"}}, "value-path": "schema",
        },
    }  # fmt: skip


def test_operation_page_offers_to_fetch_dynamic_schemas(app: TestClient, httpserver: HTTPServer) -> None:
    _deploy(app, _pet_files(httpserver.port, "Tables", _with_dynamic_schema))
    csrf = login(app)
    page = app.get("/console/connectors/Tables/operations/AddRow").text
    assert '<button type="button" id="fetch-schemas">Fetch dynamic schema</button>' in page
    assert 'id="fetch-schemas"' not in app.get("/console/connectors/Tables/operations/AddPet").text
    script = app.get("/static/console.js").text
    assert '"/schemas"' in script and "X-CSRF-Token" in script and "innerHTML" not in script
    # what the button asks for: the API with the session cookie and the CSRF header
    connection_id = (
        app.post("/console/connectors/Tables/connect", data={"csrf": csrf, "param.api_key": KEY})
        .headers["location"]
        .split("created=")[1]
    )
    httpserver.expect_request("/v1/tables/t1/schema", query_string={"key": KEY}).respond_with_json(
        {"schema": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "integer"}}}}
    )
    path = f"/api/connections/{connection_id}/schemas"
    found = app.get(path, params={"operation": "AddRow", "table": "t1"}, headers={"X-CSRF-Token": csrf}).json()
    assert [(s["location"], s["operationId"], s["properties"]) for s in found] == [
        ("parameter row", "RowSchema", ["city", "zip"])
    ]
    assert app.get(path, params={"operation": "AddRow", "table": "t1"}).status_code == 401


def _with_response_schemas(swagger: dict[str, Any]) -> None:
    get_pet = swagger["paths"]["/pets/{petId}"]["get"]
    get_pet["responses"] = {
        "200": {"description": "a pet", "schema": {"$ref": "#/definitions/Pet"}},
        "default": {"$ref": "#/responses/Failure"},
    }
    swagger["responses"] = {
        "Failure": {"description": "error", "schema": {"type": "object", "properties": {"code": {"type": "integer"}}}}
    }
    pet = swagger["definitions"]["Pet"]["properties"]
    pet["tags"] = {"type": "array", "items": {"type": "string"}, "x-ms-summary": "Tags"}
    pet["owner"] = {"type": "string", "x-nullable": True}
    pet["photo"] = {"type": "file"}


def test_result_lists_mismatches_with_the_declared_response_schema(app: TestClient, httpserver: HTTPServer) -> None:
    _deploy(app, _pet_files(httpserver.port, "Checked", _with_response_schemas))
    csrf = login(app)
    connection_id = (
        app.post("/console/connectors/Checked/connect", data={"csrf": csrf, "param.api_key": KEY})
        .headers["location"]
        .split("created=")[1]
    )
    form = {"csrf": csrf, "connection": connection_id}

    def run(pet: str, body: Any, status: int = 200) -> tuple[str, list[str]]:
        httpserver.expect_oneshot_request(f"/v1/pets/{pet}").respond_with_json(body, status=status)
        answer = app.post("/console/connectors/Checked/operations/GetPet", data={**form, "arg.petId": pet})
        assert answer.status_code == 200, answer.text
        found = re.search(r'<div id="response-check".*?<ul>(.*?)</ul>', answer.text, re.S)
        items = re.findall(r"<li>(.*?)</li>", found.group(1)) if found else []
        return answer.text, [item.replace("&#39;", "'") for item in items]

    _, ok = run("1", {"name": "Rex", "age": 3, "tags": ["a"], "owner": None, "photo": "x", "x": 1})
    assert ok == []  # extra properties, null where x-nullable, Swagger's type file: no warning
    page, wrong = run("2", {"age": "old", "tags": ["a", 7], "kind": KEY})
    assert wrong == [
        "response body: 'name' is a required property",
        "response body /age: expected integer, got string",
        "response body /tags/1: expected string, got integer",
    ]
    assert "The response does not match the declared schema" in page
    _, failure = run("3", {"code": "E42"}, status=404)
    assert failure == ["response body /code: expected integer, got string"]  # default, through #/responses
    httpserver.expect_oneshot_request("/v1/pets").respond_with_json({"anything": True})
    listed = app.post("/console/connectors/Checked/operations/ListPets", data=form)
    assert listed.status_code == 200 and 'id="response-check"' not in listed.text  # no schema declared: no check


# triggers: the Tasks example API on a loopback port, the server's worker thread polling

TASKS_KEY = "PLANTED-console-trigger-key-7c1d"
TASKS_TOKEN = "console-trigger-token-0123456789"
FAST = TriggerOptions(interval=0.05, min_interval=0.05, engine=EngineOptions(retries=0, timeout=10))


@dataclass
class TasksConsole:
    http: TestClient
    store: Store
    connection: str
    api: httpx.Client
    stop_backend: Callable[[], None]


@contextmanager
def tasks_console(tmp_path: Path, *, public_url: str | None = None) -> Iterator[TasksConsole]:
    """A console with a worker over a store holding the Tasks connector and one connection;
    ``stop_backend`` shuts the Tasks API down early (the console keeps running)."""
    with Store(f"sqlite:///{tmp_path / 'tasks.db'}", key=generate_key()) as store, ExitStack() as backend:
        base = backend.enter_context(serve(tasks_app(TASKS_KEY, retry_after=0)))
        api = backend.enter_context(httpx.Client(base_url=base, headers={"X-API-Key": TASKS_KEY}))
        environment = LocalEnvironment(store)
        environment.deploy(create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks")).package)
        connection = environment.create_connection("Tasks", {"api_key": TASKS_KEY})
        application = create_app(
            store=store, token=TASKS_TOKEN, trigger_options=FAST, worker=True, worker_tick=0.05, public_url=public_url
        )
        with TestClient(application, follow_redirects=False) as http:
            yield TasksConsole(http, store, connection, api, backend.close)


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def start_form(csrf: str, connection: str, **extra: str) -> dict[str, str]:
    return {"csrf": csrf, "connection": connection, **extra}


def started_id(answer: Any) -> str:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/console/triggers/([^?]+)\?started=1", answer.headers["location"])
    assert found is not None, answer.headers["location"]
    return found.group(1)


def test_polling_trigger_started_from_its_operation_page_lists_its_events(tmp_path: Path) -> None:
    with tasks_console(tmp_path) as tc:
        csrf = login(tc.http)
        page = tc.http.get("/console/connectors/Tasks/operations/OnNewTasks").text
        assert 'formaction="/console/connectors/Tasks/operations/OnNewTasks/trigger"' in page
        assert "Start as a polling trigger" in page
        assert 'id="start-trigger"' not in tc.http.get("/console/connectors/Tasks/operations/ListTasks").text
        assert '<a href="/console/triggers">Triggers</a>' in page

        answer = tc.http.post(
            "/console/connectors/Tasks/operations/OnNewTasks/trigger", data=start_form(csrf, tc.connection)
        )
        trigger_id = started_id(answer)
        assert wait_for(lambda: tc.store.get_trigger(trigger_id).state.get("first") is False)  # the seeding poll
        created = tc.api.post("/tasks", json={"title": "<b>ship</b> it"})
        assert created.status_code == 201
        events = wait_for(lambda: tc.store.events(trigger_id))
        assert [e.key for e in events] == [f"id:{created.json()['id']}"]

        shown = tc.http.get(f"/console/triggers/{trigger_id}?started=1")
        assert shown.status_code == 200 and f"Started trigger {trigger_id}." in shown.text
        assert f'data-trigger="{trigger_id}" data-since="{events[0].id}"' in shown.text
        assert f'<code class="event-key">id:{created.json()["id"]}</code>' in shown.text
        assert "&#34;title&#34;: &#34;&lt;b&gt;ship&lt;/b&gt; it&#34;" in shown.text  # escaped, pretty-printed
        assert TASKS_KEY not in shown.text
        # what the page's script reads: the events after the last one shown, with the session's CSRF header
        url = f"/api/triggers/{trigger_id}/events"
        assert tc.http.get(url, params={"since": events[0].id}, headers={"X-CSRF-Token": csrf}).json() == []
        assert len(tc.http.get(url, params={"since": 0}, headers={"X-CSRF-Token": csrf}).json()) == 1

        listed = tc.http.get("/console/triggers").text
        row = listed[listed.index(f'<tr data-trigger="{trigger_id}">') :]
        assert "OnNewTasks" in row and "<td>polling</td>" in row and ">active<" in row and "kept here" in row
        assert re.search(r"<td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</td>", row)  # next due

        forged = tc.http.post(f"/console/triggers/{trigger_id}/stop", data={"csrf": "forged"})
        assert forged.status_code == 403 and tc.store.get_trigger(trigger_id)
        stopped = tc.http.post(f"/console/triggers/{trigger_id}/stop", data={"csrf": csrf})
        assert stopped.status_code == 303 and stopped.headers["location"] == f"/console/triggers?stopped={trigger_id}"
        assert f"Stopped trigger {trigger_id}." in tc.http.get(stopped.headers["location"]).text
        assert tc.store.list_triggers() == []
        assert tc.http.get(f"/console/triggers/{trigger_id}").status_code == 404


def test_starting_a_trigger_refuses_bad_input_and_stores_nothing(tmp_path: Path) -> None:
    with tasks_console(tmp_path) as tc:
        csrf = login(tc.http)
        path = "/console/connectors/Tasks/operations/{}/trigger"
        no_csrf = tc.http.post(path.format("OnNewTasks"), data={"connection": tc.connection})
        assert no_csrf.status_code == 403 and "CSRF" in no_csrf.text
        cases = [
            ("OnNewTasks", start_form(csrf, "nope"), "Choose a connection of this connector first."),
            ("ListTasks", start_form(csrf, tc.connection), "is an action, not a trigger"),
            ("OnNewTasks", start_form(csrf, tc.connection, forward="ftp://example.com/x"), "forward: expected an"),
            ("OnTaskCreated", start_form(csrf, tc.connection, **{"arg.body": "{oops"}), "body: not JSON"),
            ("OnTaskCreated", start_form(csrf, tc.connection), "--public-url"),  # this server has none
        ]
        for operation, form, expected in cases:
            answer = tc.http.post(path.format(operation), data=form)
            assert answer.status_code == 400, (operation, answer.text)
            error = re.search(r'<p class="error" role="alert">([^<]*)</p>', answer.text)
            assert error is not None and expected in error.group(1), (expected, answer.text)
        assert (
            'value="ftp://example.com/x"'
            in tc.http.post(
                path.format("OnNewTasks"), data=start_form(csrf, tc.connection, forward="ftp://example.com/x")
            ).text
        )  # the form keeps what was typed
        webhook_page = tc.http.get("/console/connectors/Tasks/operations/OnTaskCreated").text
        assert "no public URL for callbacks" in webhook_page
        assert tc.store.list_triggers() == []
        assert tc.http.post("/console/triggers/nope/stop", data={"csrf": csrf}).status_code == 404
        assert (
            tc.http.get("/console/triggers").status_code == 200
            and "No triggers yet" in tc.http.get("/console/triggers").text
        )


def test_webhook_trigger_stop_unsubscribes_and_a_failed_stop_keeps_it(tmp_path: Path) -> None:
    forward = "https://user:pw@example.com/in?sig=FORWARD-SIG"
    with tasks_console(tmp_path, public_url="http://127.0.0.1:9") as tc:
        csrf = login(tc.http)
        path = "/console/connectors/Tasks/operations/OnTaskCreated/trigger"
        page = tc.http.get("/console/connectors/Tasks/operations/OnTaskCreated").text
        assert "Start as a webhook trigger" in page and "<code>http://127.0.0.1:9</code>" in page
        first = started_id(tc.http.post(path, data=start_form(csrf, tc.connection, forward=forward)))
        second = started_id(tc.http.post(path, data=start_form(csrf, tc.connection)))
        listed = tc.http.get("/console/triggers").text
        assert "<td>webhook</td>" in listed and "on callback" in listed
        assert "<code>https://example.com/in?***</code>" in listed
        assert "FORWARD-SIG" not in listed and "pw@" not in listed

        # a planted error with the connection's key: shown redacted, on one line
        tc.store.set_trigger_status(second, "error", f"backend said\nkey={TASKS_KEY}")
        listed = tc.http.get("/console/triggers").text
        assert "backend said key=***" in listed and TASKS_KEY not in listed
        detail = tc.http.get(f"/console/triggers/{second}").text
        assert "backend said key=***" in detail and TASKS_KEY not in detail

        assert tc.http.post(f"/console/triggers/{first}/stop", data={"csrf": csrf}).status_code == 303
        assert [t.id for t in tc.store.list_triggers()] == [second]
        assert tc.api.delete("/hooks/1").status_code == 404  # the first subscription is gone at the backend

        tc.stop_backend()  # unsubscribing the second now fails: it is kept, the error is one line
        failed = tc.http.post(f"/console/triggers/{second}/stop", data={"csrf": csrf})
        assert failed.status_code == 502, failed.text
        error = re.search(r'<p class="error" role="alert">([^<]*)</p>', failed.text)
        assert error is not None and error.group(1).startswith(f"Trigger {second}: ")
        assert "\n" not in error.group(1) and TASKS_KEY not in failed.text
        assert f'<tr data-trigger="{second}">' in failed.text
        assert [t.id for t in tc.store.list_triggers()] == [second]
