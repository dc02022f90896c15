"""The management API of ``connectorkit serve``, through FastAPI's TestClient against a real
SQLite store, with the connector's backend on a loopback pytest-httpserver."""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

from connectorkit.errors import InputError
from connectorkit.server.app import create_app
from connectorkit.server.security import TOKEN_FILE_NAME
from server_support import KEY, upload_body

PROBLEM = "application/problem+json"


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("CONNECTORKIT_SECRET_KEY", raising=False)
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def client(store_url: str) -> Iterator[TestClient]:
    app = create_app(store_url)
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {app.state.server.token}"
        yield test_client


@pytest.fixture
def deployed(client: TestClient, httpserver: HTTPServer) -> TestClient:
    answer = client.post("/api/connectors", json=upload_body(httpserver.port))
    assert answer.status_code == 201, answer.text
    return client


def connect(client: TestClient, **extra: str) -> str:
    answer = client.post("/api/connections", json={"connector": "PetShop", "parameters": {"api_key": KEY, **extra}})
    assert answer.status_code == 201, answer.text
    connection_id: str = answer.json()["id"]
    return connection_id


def assert_problem(answer: Any, status: int, *needles: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = answer.json()
    assert set(body) == {"type", "title", "status", "detail"} and body["status"] == status
    for needle in needles:
        assert needle in body["detail"], body["detail"]
    assert "Traceback" not in answer.text
    return body


def test_health_needs_no_token_and_openapi_describes_bearer_auth(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    assert anonymous.get("/api/health").json()["service"] == "connectorkit"
    document = anonymous.get("/api/openapi.json").json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "The token in the server-token file."
    }  # fmt: skip
    invoke = document["paths"]["/api/invoke"]["post"]
    assert invoke["security"] == [{"bearerAuth": []}]
    assert "security" not in document["paths"]["/api/health"]["get"]
    assert {"/api/connectors", "/api/connections/{connection_id}/choices", "/api/history"} <= set(document["paths"])
    assert not any(path.startswith("/console") for path in document["paths"])
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(document)
    result = document["components"]["schemas"]["InvocationResult"]["properties"]
    assert {"request", "response", "pages", "notes", "attempts"} <= set(result)


def test_every_route_refuses_a_missing_or_wrong_token(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    for method, path in [
        ("GET", "/api/connectors"), ("POST", "/api/connectors"), ("GET", "/api/connectors/x"),
        ("DELETE", "/api/connectors/x"), ("GET", "/api/connectors/x/operations/y"), ("GET", "/api/connections"),
        ("POST", "/api/connections"), ("GET", "/api/connections/x"), ("DELETE", "/api/connections/x"),
        ("POST", "/api/connections/x/test"), ("GET", "/api/connections/x/choices"), ("GET", "/api/sign-ins/x"),
        ("POST", "/api/invoke"), ("GET", "/api/history"),
    ]:  # fmt: skip
        missing = anonymous.request(method, path)
        assert_problem(missing, 401, "Bearer")
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = anonymous.request(method, path, headers={"Authorization": "Bearer not-the-token"})
        assert_problem(wrong, 401, "not this server's API token")


def test_token_file_is_private_and_kept_across_restarts(store_url: str, tmp_path: Path) -> None:
    first = create_app(store_url)
    token_file = tmp_path / TOKEN_FILE_NAME
    assert first.state.server.token_file == token_file
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() == first.state.server.token and len(first.state.server.token) >= 40
    second = create_app(store_url)
    assert second.state.server.token == first.state.server.token
    second.state.server.environment.store.close()
    chosen = tmp_path / "elsewhere" / "token"
    third = create_app(store_url, token_file=chosen)
    assert chosen.read_text().strip() == third.state.server.token != first.state.server.token
    os.chmod(chosen, 0o644)
    with pytest.raises(InputError, match="readable by others"):
        create_app(store_url, token_file=chosen)
    with pytest.raises(InputError, match="at least 16"):
        create_app(store_url, token="short")
    for app in (first, third):
        app.state.server.environment.store.close()


def test_upload_inspect_and_delete_connectors(client: TestClient, httpserver: HTTPServer) -> None:
    body = upload_body(httpserver.port)
    assert client.post("/api/connectors", json=body).json() == {"name": "PetShop", "version": 1}
    assert client.post("/api/connectors", json=body).json() == {"name": "PetShop", "version": 1}  # unchanged
    assert client.post("/api/connectors", json=upload_body(httpserver.port + 1)).json()["version"] == 2
    assert client.post("/api/connectors", json=upload_body(httpserver.port, "Other")).json()["name"] == "Other"
    listed = client.get("/api/connectors").json()
    assert [(c["name"], c["latestVersion"], c["versions"]) for c in listed] == [("Other", 1, 1), ("PetShop", 2, 2)]

    detail = client.get("/api/connectors/PetShop").json()
    assert detail["versions"] == [1, 2] and detail["authKind"] == "apiKey" and detail["parameterSets"] == []
    operations = {op["operationId"]: op for op in detail["operations"]}
    assert set(operations) == {"ListPets", "AddPet", "GetPet", "ListOwners", "PetsOfOwner"}
    assert operations["GetPet"] | {"description": None} == {
        "operationId": "GetPet", "summary": "Get a pet", "description": None, "method": "GET",
        "path": "/pets/{petId}", "trigger": None, "visibility": None, "deprecated": False,
    }  # fmt: skip
    assert operations["ListOwners"]["visibility"] == "internal"
    fields = {f["name"]: f for f in detail["connectionParameters"]}
    assert (
        fields["api_key"]["secret"] and fields["api_key"]["required"] and fields["api_key"]["displayName"] == "API key"
    )
    assert [v["value"] for v in fields["region"]["allowedValues"]] == ["eu", "us"]

    assert client.delete("/api/connectors/Other").status_code == 204
    assert_problem(client.get("/api/connectors/Other"), 404, "no connector named 'Other'")
    assert_problem(client.delete("/api/connectors/Other"), 404)


def test_operation_parameters(deployed: TestClient) -> None:
    listing = deployed.get("/api/connectors/PetShop/operations/ListPets").json()
    params = listing["parameters"]
    assert [p["name"] for p in params] == ["X-Client", "status", "limit"]  # required first, then by visibility
    assert params[0] | {} == {
        "name": "X-Client", "in": "header", "type": "string", "format": None, "required": True,
        "visibility": "internal", "summary": None, "description": None, "default": "console", "enum": None,
        "dynamic": None, "bodySample": None,
    }  # fmt: skip
    assert params[1]["enum"] == ["available", "sold"] and params[2]["default"] == 10
    add = deployed.get("/api/connectors/PetShop/operations/AddPet").json()["parameters"][0]
    assert add["in"] == "body" and add["type"] == "object" and add["bodySample"] == {"name": "Rex", "age": 1}
    owner = deployed.get("/api/connectors/PetShop/operations/PetsOfOwner").json()["parameters"][0]
    assert owner["dynamic"] == {"kind": "values", "operationId": "ListOwners", "parameters": {}}
    assert_problem(deployed.get("/api/connectors/PetShop/operations/Nope"), 400, "no operation with operationId 'Nope'")


def test_bad_uploads_are_400_naming_the_file(client: TestClient) -> None:
    good = base64.b64encode(b"{}").decode()
    assert_problem(client.post("/api/connectors", json={"files": {}}), 400, "no files")
    assert_problem(client.post("/api/connectors", json={"files": {"../x.json": good}}), 400, "'../x.json'")
    assert_problem(client.post("/api/connectors", json={"files": {"/etc/x": good}}), 400, "'/etc/x'")
    bad = {"apiDefinition.swagger.json": "%%%"}
    assert_problem(client.post("/api/connectors", json={"files": bad}), 400, "apiDefinition.swagger.json: not base64")
    broken = {"apiDefinition.swagger.json": base64.b64encode(b"{not json").decode()}
    assert_problem(client.post("/api/connectors", json={"files": broken}), 400, "apiDefinition.swagger.json")
    assert_problem(client.post("/api/connectors", json={"name": "x"}), 422, "files")
    assert_problem(client.post("/api/connectors", content=b"nope", headers={"Content-Type": "application/json"}), 422)


def test_connections_never_show_secrets(deployed: TestClient) -> None:
    missing = deployed.post("/api/connections", json={"connector": "PetShop", "parameters": {}})
    assert_problem(missing, 400, "api_key: required")
    wrong = deployed.post(
        "/api/connections", json={"connector": "PetShop", "parameters": {"api_key": KEY, "region": "mars"}}
    )
    assert_problem(wrong, 400, "region: must be one of eu, us")
    assert_problem(deployed.post("/api/connections", json={"connector": "Nope"}), 404)
    unknown_set = {"connector": "PetShop", "parameters": {"api_key": KEY}, "parameterSet": "x"}
    assert_problem(deployed.post("/api/connections", json=unknown_set), 400, "no connectionParameterSets")
    connection_id = connect(deployed, region="eu")
    shown = deployed.get(f"/api/connections/{connection_id}").json()
    assert shown["parameters"] == {"api_key": "***", "region": "eu"} and shown["connector"] == "PetShop"
    assert [c["id"] for c in deployed.get("/api/connections", params={"connector": "PetShop"}).json()] == [
        connection_id
    ]
    assert deployed.get("/api/connections", params={"connector": "Other"}).json() == []
    assert KEY not in deployed.get("/api/connections").text
    assert deployed.delete(f"/api/connections/{connection_id}").status_code == 204
    assert_problem(deployed.get(f"/api/connections/{connection_id}"), 404, connection_id)


def echo_key(request: WRequest) -> WResponse:
    """A backend that echoes what it got, the key included, as careless APIs do."""
    body = {"pets": [{"id": 1}], "youSent": request.args.get("key"), "client": request.headers.get("X-Client")}
    return WResponse(json.dumps(body), status=200, content_type="application/json")


def test_invoke_shows_the_request_and_response_redacted(
    deployed: TestClient, httpserver: HTTPServer, tmp_path: Path
) -> None:
    connection_id = connect(deployed)
    httpserver.expect_request("/v1/pets", query_string={"key": KEY, "status": "sold"}).respond_with_handler(echo_key)
    answer = deployed.post(
        "/api/invoke", json={"connection": connection_id, "operation": "ListPets", "arguments": {"status": "sold"}}
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["request"]["method"] == "GET"
    assert result["request"]["url"] == f"http://127.0.0.1:{httpserver.port}/v1/pets?status=sold&key=***"
    assert ["X-Client", "console"] in result["request"]["headers"]  # internal default sent
    assert result["response"]["status"] == 200
    assert result["response"]["body"] == {"pets": [{"id": 1}], "youSent": "***", "client": "console"}
    assert result["pages"] == [result["response"]["body"]] and result["attempts"] == 1
    assert KEY not in answer.text

    httpserver.expect_request("/v1/pets", method="POST").respond_with_json({"id": 7}, status=201)
    added = deployed.post(
        "/api/invoke",
        json={"connection": connection_id, "operation": "AddPet", "arguments": {"pet": {"name": "Tom", "note": KEY}}},
    ).json()
    assert added["response"] | {"headers": []} == {"status": 201, "headers": [], "body": {"id": 7}}
    assert added["request"]["body"] == {"name": "Tom", "note": "***", "kind": "dog"}

    history = deployed.get("/api/history", params={"connection": connection_id}).json()
    assert [h["operationId"] for h in history] == ["AddPet", "ListPets"]
    assert history[1]["status"] == 200 and "key=***" in history[1]["url"]
    assert KEY not in json.dumps(history) and KEY not in deployed.get("/api/history").text
    assert KEY.encode() not in (tmp_path / "store.db").read_bytes()
    assert_problem(deployed.get("/api/history", params={"connection": "0" * 32}), 404)
    assert_problem(deployed.get("/api/history", params={"limit": 0}), 422, "limit")


def test_invoke_follows_pages(deployed: TestClient, httpserver: HTTPServer) -> None:
    connection_id = connect(deployed)
    second = f"http://127.0.0.1:{httpserver.port}/v1/pets?page=2&key={KEY}"
    httpserver.expect_ordered_request("/v1/pets", query_string={"key": KEY}).respond_with_json(
        {"value": [1], "next": second}
    )
    httpserver.expect_ordered_request("/v1/pets", query_string={"page": "2", "key": KEY}).respond_with_json(
        {"value": [2]}
    )
    answer = deployed.post("/api/invoke", json={"connection": connection_id, "operation": "ListPets", "allPages": True})
    result = answer.json()
    assert answer.status_code == 200 and [page["value"] for page in result["pages"]] == [[1], [2]]
    assert result["pages"][0]["next"].endswith("key=***") and KEY not in answer.text


def test_invoke_errors_are_problems(deployed: TestClient, httpserver: HTTPServer) -> None:
    connection_id = connect(deployed)

    def call(operation: str, **arguments: Any) -> Any:
        return deployed.post(
            "/api/invoke", json={"connection": connection_id, "operation": operation, "arguments": arguments}
        )

    assert_problem(call("Nope"), 400, "no operation with operationId 'Nope'")
    assert_problem(call("GetPet"), 400, "petId")
    assert_problem(call("GetPet", petId="abc"), 400, "petId")
    missing = deployed.post("/api/invoke", json={"connection": "0" * 32, "operation": "GetPet"})
    assert_problem(missing, 404, "no connection")
    assert_problem(deployed.post("/api/invoke", json={"operation": "GetPet"}), 422, "connection")
    httpserver.expect_request("/v1/pets/5").respond_with_data("gone", status=404)
    not_found = call("GetPet", petId=5)
    assert not_found.status_code == 200 and not_found.json()["response"] == {
        "status": 404, "headers": not_found.json()["response"]["headers"], "body": "gone"
    }  # fmt: skip

    closed = upload_body(1, "Unreachable")
    deployed.post("/api/connectors", json=closed)
    other = deployed.post("/api/connections", json={"connector": "Unreachable", "parameters": {"api_key": KEY}}).json()
    unreachable = deployed.post("/api/invoke", json={"connection": other["id"], "operation": "ListPets"})
    assert_problem(unreachable, 502, "cannot reach the backend")
    assert KEY not in unreachable.text


def test_custom_code_is_501(client: TestClient, httpserver: HTTPServer) -> None:
    body = upload_body(httpserver.port, "Scripted")
    body["files"]["script.csx"] = base64.b64encode(b"public class Script : ScriptBase {}").decode()
    properties = json.loads(base64.b64decode(body["files"]["apiProperties.json"]))
    properties["properties"]["scriptOperations"] = ["ListPets"]
    body["files"]["apiProperties.json"] = base64.b64encode(json.dumps(properties).encode()).decode()
    assert client.post("/api/connectors", json=body).status_code == 201
    connection = client.post("/api/connections", json={"connector": "Scripted", "parameters": {"api_key": KEY}}).json()
    answer = client.post("/api/invoke", json={"connection": connection["id"], "operation": "ListPets"})
    assert_problem(answer, 501, "script.csx")


def test_test_connection_and_choices(deployed: TestClient, httpserver: HTTPServer) -> None:
    connection_id = connect(deployed)
    owners = {"items": [{"id": "o1", "name": "Ann"}, {"id": "o2", "name": "Bob"}]}
    httpserver.expect_request("/v1/owners", query_string={"key": KEY}).respond_with_json(owners)
    tested = deployed.post(f"/api/connections/{connection_id}/test")
    assert tested.json() == {"id": connection_id, "status": "Connected", "httpStatus": 200}
    found = deployed.get(
        f"/api/connections/{connection_id}/choices", params={"operation": "PetsOfOwner", "parameter": "owner"}
    )
    assert found.json() == [{"value": "o1", "title": "Ann"}, {"value": "o2", "title": "Bob"}]
    none = deployed.get(
        f"/api/connections/{connection_id}/choices", params={"operation": "ListPets", "parameter": "status"}
    )
    assert_problem(none, 400, "has no x-ms-dynamic-values")
    assert_problem(
        deployed.get(f"/api/connections/{connection_id}/choices", params={"operation": "ListPets"}), 422, "parameter"
    )
    assert_problem(deployed.post(f"/api/connections/{'0' * 32}/test"), 404)

    httpserver.clear()
    httpserver.expect_request("/v1/owners").respond_with_json({"error": "bad key"}, status=401)
    assert deployed.post(f"/api/connections/{connection_id}/test").json()["status"] == "Unauthenticated"


def test_unknown_sign_in_state_is_404_or_400(client: TestClient) -> None:
    answer = client.get("/api/sign-ins/nope")
    assert answer.status_code in (400, 404)
    assert_problem(answer, answer.status_code)


def test_unknown_api_route_is_a_problem(client: TestClient) -> None:
    assert_problem(client.get("/api/nope"), 404)
    assert_problem(client.put("/api/history"), 405)


def test_oauth_connection_signs_in_through_the_redirect(client: TestClient, httpserver: HTTPServer) -> None:
    from server_support import oauth_upload_body

    assert client.post("/api/connectors", json=oauth_upload_body(httpserver.port)).status_code == 201
    secret, access = "PLANTED-client-secret-77", "PLANTED-access-token-88"
    started = client.post(
        "/api/connections", json={"connector": "OAuthPets", "parameters": {"token:clientSecret": secret}}
    )
    assert started.status_code == 202, started.text
    url, state = started.json()["signInUrl"], started.json()["state"]
    assert url.startswith(f"http://127.0.0.1:{httpserver.port}/authorize?")
    assert "redirect_uri=http%3A%2F%2Ftestserver%2Foauth%2Fredirect" in url and "code_challenge_method=S256" in url
    assert secret not in url and secret not in started.text
    assert client.get(f"/api/sign-ins/{state}").json() == {
        "state": state, "status": "pending", "connectionId": None, "error": None
    }  # fmt: skip

    tokens = {"access_token": access, "refresh_token": "PLANTED-refresh-99", "expires_in": 3600, "token_type": "Bearer"}
    httpserver.expect_request("/token", method="POST").respond_with_json(tokens)
    browser = TestClient(client.app)  # the identity provider's redirect carries no API token
    landed = browser.get("/oauth/redirect", params={"code": "the-code", "state": state})
    assert landed.status_code == 200 and "Signed in" in landed.text and access not in landed.text
    done = client.get(f"/api/sign-ins/{state}").json()
    assert done["status"] == "complete" and done["connectionId"]
    shown = client.get(f"/api/connections/{done['connectionId']}")
    assert shown.json()["hasAccessToken"] is True and access not in shown.text and secret not in shown.text

    httpserver.expect_request("/v1/pets/2", headers={"Authorization": f"Bearer {access}"}).respond_with_json({"id": 2})
    called = client.post(
        "/api/invoke", json={"connection": done["connectionId"], "operation": "GetPet", "arguments": {"petId": 2}}
    )
    assert called.json()["response"]["body"] == {"id": 2}
    assert ["Authorization", "***"] in called.json()["request"]["headers"] and access not in called.text

    replayed = browser.get("/oauth/redirect", params={"code": "the-code", "state": state})
    assert replayed.status_code == 400 and "Sign-in failed" in replayed.text
    again = {"connector": "OAuthPets", "parameters": {"token:clientSecret": secret}}
    refused = client.post("/api/connections", json=again).json()["state"]
    assert browser.get("/oauth/redirect", params={"error": "access_denied", "state": refused}).status_code == 502
    assert client.get(f"/api/sign-ins/{refused}").json()["status"] == "failed"


def test_shared_client_is_closed_on_shutdown(store_url: str) -> None:
    app = create_app(store_url)
    with TestClient(app) as running:
        assert running.get("/api/health").status_code == 200
        assert not app.state.server.client.is_closed
    assert app.state.server.client.is_closed


def test_serve_command_checks_its_options(cli: Any, tmp_path: Path) -> None:
    from connectorkit.cli.serve import console_url, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")
    assert console_url("0.0.0.0", 8765, "abc") == "http://127.0.0.1:8765/console/login?code=abc"
    assert console_url("::1", 9000, "abc") == "http://[::1]:9000/console/login?code=abc"
    bad_port = cli("serve", "--port", "0", "--db", f"sqlite:///{tmp_path / 's.db'}")
    assert bad_port.exit_code == 2 and "--port 0" in bad_port.stderr
    bad_db = cli("serve", "--db", "nonsense://")
    assert bad_db.exit_code == 2 and "Traceback" not in bad_db.stderr
    no_threads = cli("serve", "--poll-threads", "0", "--db", f"sqlite:///{tmp_path / 's.db'}")
    assert no_threads.exit_code == 2 and no_threads.stderr.strip() == "error: --poll-threads 0: must be at least 1"
