"""The web console's server-rendered pages through FastAPI's TestClient: login, CSRF, forms built
from the definition, redaction of what is shown, and the OAuth round trip."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer

from connectorkit.server.app import create_app
from connectorkit.server.security import SESSION_COOKIE
from server_support import KEY, oauth_upload_body, upload_body


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
    assert sample is not None and json.loads(sample.group(1).replace("&#34;", '"')) == {"name": "Rex", "age": 0}
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
