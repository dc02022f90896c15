"""The cloud HTTP client against a loopback server: tokens, retries, readable errors; and the
clouds table with its overrides."""

from __future__ import annotations

import json

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectorkit.cloud.clouds import CLOUDS, resolve_cloud
from connectorkit.cloud.http import CloudClient, CloudError, error_detail, shown_url
from connectorkit.errors import InputError


def client_for(server: HTTPServer, **kwargs: object) -> CloudClient:
    scopes: list[str] = []

    def tokens(scope: str) -> str:
        scopes.append(scope)
        return f"token-{len(scopes)}"

    made = CloudClient(
        httpx.Client(), tokens, service="Graph", base_url=server.url_for("/v1.0"),
        scope="https://graph.microsoft.com/.default", sleep=lambda _s: None, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip
    made.scopes = scopes  # type: ignore[attr-defined]
    return made


def test_sends_bearer_token_and_default_query(httpserver: HTTPServer) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps({"value": []}), content_type="application/json")

    httpserver.expect_request("/v1.0/applications").respond_with_handler(handler)
    client = client_for(httpserver, params={"api-version": "2016-11-01"}, headers={"x-ms-origin": "connectorkit"})
    assert client.get_json("applications") == {"value": []}
    assert seen[0].headers["Authorization"] == "Bearer token-1"
    assert seen[0].args["api-version"] == "2016-11-01"
    assert seen[0].headers["x-ms-origin"] == "connectorkit"
    assert client.scopes == ["https://graph.microsoft.com/.default"]  # type: ignore[attr-defined]


def test_retries_throttling_honouring_retry_after(httpserver: HTTPServer) -> None:
    answers = iter([Response("", status=429, headers={"Retry-After": "7"}), Response("", status=503)])
    waits: list[float] = []

    def handler(request: Request) -> Response:
        return next(answers, Response("{}", content_type="application/json"))

    httpserver.expect_request("/v1.0/me").respond_with_handler(handler)
    client = client_for(httpserver)
    client.sleep = waits.append
    assert client.get_json("me") == {}
    assert waits == [7.0, 2.0]  # Retry-After, then the doubled back-off


def test_replication_lag_retried_only_when_asked(httpserver: HTTPServer) -> None:
    calls = [0]
    body = {"error": {"code": "Request_ResourceNotFound", "message": "Resource 'x' does not exist."}}

    def handler(request: Request) -> Response:
        calls[0] += 1
        if calls[0] < 3:
            return Response(json.dumps(body), status=404, content_type="application/json")
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/v1.0/applications/x").respond_with_handler(handler)
    client = client_for(httpserver)
    with pytest.raises(CloudError, match="Request_ResourceNotFound"):
        client.get_json("applications/x")
    assert client.get_json("applications/x", retry_when=lambda r: r.status_code == 404) == {}
    assert calls[0] == 3


def test_error_is_one_line_with_innermost_code(httpserver: HTTPServer) -> None:
    inner = {"error": {"code": "InternalServerError", "message": "The APIM\nrequest failed."}}
    wrapped = {"error": {"code": "ApiHubsRequestFailed", "message": json.dumps(inner)}}
    httpserver.expect_request("/v1.0/apis/x", query_string="sig=SECRETSIG").respond_with_json(wrapped, status=400)
    client = client_for(httpserver)
    with pytest.raises(CloudError) as caught:
        client.request("PATCH", "apis/x", params={"sig": "SECRETSIG"})
    message = str(caught.value)
    assert message == (
        f"Graph: HTTP 400 InternalServerError: The APIM request failed. (PATCH {httpserver.url_for('/v1.0/apis/x')})"
    )
    assert caught.value.status == 400 and caught.value.code == "InternalServerError"
    assert "SECRETSIG" not in message


def test_unreachable_service_is_one_line() -> None:
    client = CloudClient(
        httpx.Client(), None, service="Power Apps", base_url="http://127.0.0.1:9", retries=1, sleep=lambda _s: None
    )
    with pytest.raises(CloudError, match=r"^Power Apps: cannot reach http://127.0.0.1:9/apis \(ConnectError\)$"):
        client.get_json("apis")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"error": {"code": "Authorization_RequestDenied", "message": "Insufficient privileges."}}',
         ("Authorization_RequestDenied", "Insufficient privileges.")),
        ('{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret."}',
         ("invalid_client", "AADSTS7000215: Invalid client secret.")),
        ('{"error": {"code": "0x80040217", "message": "The given solution unique name (x) is not valid"}}',
         ("0x80040217", "The given solution unique name (x) is not valid")),
        ('{"error": {"code": "ApiHubsRequestFailed", "message": "Backend: {\\"error\\": {\\"code\\": \\"Inner\\", '
         '\\"message\\": \\"deep\\"}}"}}', ("Inner", "deep")),
        ("Service Unavailable", (None, "Service Unavailable")),
        ("", (None, None)),
    ],
)  # fmt: skip
def test_error_detail_shapes(body: str, expected: tuple[str | None, str | None]) -> None:
    assert error_detail(body) == expected


def test_error_detail_finds_the_error_inside_prose() -> None:
    # The RP's shape from PowerPlatformConnectors issue #3891: JSON inside prose inside JSON.
    inner = {"error": {"code": "InternalServerError", "message": "boom"}}
    middle = {"Code": "", "Message": "PUT x failed, content=" + json.dumps(inner)}
    prose = f"The request failed with client error: '{json.dumps(middle)}'. The correlation Id is 'c1'."
    body = json.dumps({"error": {"code": "ApiHubsRequestFailed", "message": prose}})
    assert error_detail(body) == ("InternalServerError", "boom")


def test_shown_url_drops_the_signature() -> None:
    assert shown_url("https://acct.blob.core.windows.net/c/icon.png?sv=1&sig=abc") == (
        "https://acct.blob.core.windows.net/c/icon.png"
    )


def test_clouds_table_and_overrides() -> None:
    assert resolve_cloud(environ={}).graph == "https://graph.microsoft.com"
    high = resolve_cloud("UsGovHigh", environ={})
    assert high is CLOUDS["gcchigh"] and high.login == "https://login.microsoftonline.us"
    assert high.powerapps_scope == "https://high.service.apps.appsplatform.us/.default"
    assert resolve_cloud("dod", environ={}).graph_scope == "https://dod-graph.microsoft.us/.default"
    env = {"CONNECTORKIT_CLOUD": "china", "CONNECTORKIT_GRAPH_URL": "http://127.0.0.1:5000/"}
    china = resolve_cloud(environ=env)
    assert china.name == "china" and china.graph == "http://127.0.0.1:5000"
    assert china.powerapps == "https://api.powerapps.cn"
    flag = resolve_cloud(overrides={"graph": "http://127.0.0.1:6000", "powerapps": None}, environ=env)
    assert flag.graph == "http://127.0.0.1:6000"
    assert flag.authority("contoso") == "https://login.chinacloudapi.cn/contoso"


def test_clouds_bad_input() -> None:
    with pytest.raises(
        InputError, match=r"^--cloud mars: unknown cloud \(choose from public, gcc, gcchigh, dod, china\)$"
    ):
        resolve_cloud("mars", environ={})
    with pytest.raises(InputError, match=r"^--graph-url: 'graph\.local' is not an absolute http\(s\) URL$"):
        resolve_cloud(overrides={"graph": "graph.local"}, environ={})
    with pytest.raises(InputError, match=r"^CONNECTORKIT_POWERAPPS_RESOURCE: "):
        resolve_cloud(environ={"CONNECTORKIT_POWERAPPS_RESOURCE": "service"})
