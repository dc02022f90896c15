"""The cloud HTTP client against a loopback server: tokens, retries, readable errors; and the
clouds table with its overrides."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connectorkit.cloud.clouds import CLOUDS, resolve_cloud
from connectorkit.cloud.graph import Graph
from connectorkit.cloud.http import CloudClient, CloudError, QueryStringFilter, error_detail, shown_url, without_queries
from connectorkit.errors import InputError

from conftest import Run


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


def test_refused_connection_fails_fast_but_timeouts_keep_the_back_off() -> None:
    # A wrong --graph-url: the port is closed. One short retry, not the minute of back-off.
    waits: list[float] = []
    client = CloudClient(
        httpx.Client(), None, service="Graph", base_url="http://127.0.0.1:9", retries=5, backoff=2.0, sleep=waits.append
    )
    with pytest.raises(CloudError, match=r"^Graph: cannot reach http://127.0.0.1:9/me \(ConnectError\)$"):
        client.get_json("me")
    assert waits == [0.5]

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    waits.clear()
    timing_out = CloudClient(
        httpx.Client(transport=httpx.MockTransport(slow)), None, service="Graph", base_url="http://graph.test",
        retries=3, backoff=2.0, sleep=waits.append,
    )  # fmt: skip
    with pytest.raises(CloudError, match=r"cannot reach http://graph.test/me \(ReadTimeout\)"):
        timing_out.get_json("me")
    assert waits == [2.0, 4.0, 8.0]  # timeouts may pass: the documented back-off


def test_refused_connection_through_the_cli_is_quick(cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTORKIT_ACCESS_TOKEN", "token")
    monkeypatch.delenv("CONNECTORKIT_CLOUD", raising=False)
    started = time.monotonic()
    run = cli("appreg", "secrets", "Some app", "--graph-url", "http://127.0.0.1:9")
    assert run.exit_code == 1
    assert run.stderr.strip().splitlines()[-1].startswith("error: Graph: cannot reach http://127.0.0.1:9/v1.0/")
    assert time.monotonic() - started < 5  # was 63 s with the full back-off


def test_service_quoting_a_signed_url_back_is_shown_without_the_signature(httpserver: HTTPServer) -> None:
    quoted = {"iconUri": "https://acct.blob.core.windows.net/c1/icon.png?sv=2018-03-28&sig=SECRETSIG%3D&sp=r"}
    inner = {"Code": "BadBody", "Message": "Could not parse " + json.dumps(quoted)}
    body = {"error": {"code": "ApiHubsRequestFailed", "message": f"The request failed: '{json.dumps(inner)}'."}}
    httpserver.expect_request("/v1.0/apis").respond_with_json(body, status=400)
    with pytest.raises(CloudError) as caught:
        client_for(httpserver).request("POST", "apis", json=quoted)
    message = str(caught.value)
    assert "SECRETSIG" not in message and "sv=" not in message
    assert "BadBody: Could not parse" in message and "https://acct.blob.core.windows.net/c1/icon.png" in message


def test_log_filter_and_messages_share_one_rule() -> None:
    text = 'PUT https://a.blob.core.windows.net/c/x.png?sig=S1 and "http://h/p#frag" end'
    assert without_queries(text) == 'PUT https://a.blob.core.windows.net/c/x.png and "http://h/p" end'
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "HTTP Request: %s", (text,), None)
    QueryStringFilter().filter(record)
    assert record.getMessage() == "HTTP Request: " + without_queries(text)


def test_token_is_never_sent_to_a_next_link_on_another_host(httpserver: HTTPServer) -> None:
    own = httpserver.url_for("/v1.0/applications")  # the same server under its other loopback name
    other = "127.0.0.1" if "//localhost:" in own else "localhost"
    elsewhere = own.replace(httpx.URL(own).host, other, 1) + "?$skiptoken=2"
    httpserver.expect_request("/v1.0/applications").respond_with_json(
        {"value": [{"id": "1"}], "@odata.nextLink": elsewhere}
    )
    cloud = resolve_cloud("public", {"graph": httpserver.url_for("")}, environ={})
    handed: list[str] = []
    graph = Graph.connect(cloud, lambda scope: handed.append(scope) or "SECRET-BEARER", httpx.Client())
    with pytest.raises(CloudError) as caught:
        graph.applications_named("x")
    assert str(caught.value).startswith(f"Graph: refusing to send the access token to {other}:")
    assert "skiptoken" not in str(caught.value)
    assert len(httpserver.log) == 1  # the link was not followed, with or without the token
    assert len(handed) == 1
