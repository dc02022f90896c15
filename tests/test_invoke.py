"""Calling actions end to end against a real loopback API: request, policies, retries, paging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.runtime.invoke import BackendError, CustomCodeError, EngineOptions, invoke

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "petstore" / "swagger.json"
KEY = "PLANTED-key-9f2c"


def _package(server: HTTPServer, **changes: Any) -> ConnectorPackage:
    package = create_connector(read_spec(str(EXAMPLE)), NewOptions(name="Petstore")).package
    package.definition["host"] = f"127.0.0.1:{server.port}"
    package.definition["schemes"] = ["http"]
    for key, value in changes.items():
        package.api_properties["properties"][key] = value
    return package


@pytest.fixture
def client():
    with httpx.Client() as c:
        yield c


def test_list_with_api_key_query_and_json_response(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request(
        "/v1/pets", method="GET", query_string="limit=5&status=sold", headers={"X-Api-Key": KEY}
    ).respond_with_json([{"id": 1, "name": "Rex"}])
    result = invoke(_package(httpserver), "ListPets", {"limit": "5", "status": "sold"}, {"api_key": KEY}, client=client)
    assert result.response.status == 200
    assert result.response.json == [{"id": 1, "name": "Rex"}]
    assert result.request.url == f"http://127.0.0.1:{httpserver.port}/v1/pets?limit=5&status=sold"


def test_create_sends_the_json_body(httpserver: HTTPServer, client: httpx.Client) -> None:
    seen: list[Any] = []

    def handler(request: WRequest) -> WResponse:
        seen.append(json.loads(request.data))
        return WResponse(json.dumps({"id": 7, **seen[-1]}), status=201, content_type="application/json")

    httpserver.expect_request("/v1/pets", method="POST").respond_with_handler(handler)
    result = invoke(_package(httpserver), "CreatePet", {"body": {"name": "Tom"}}, {"api_key": KEY}, client=client)
    assert seen == [{"name": "Tom"}]
    assert result.response.status == 201 and result.response.json["id"] == 7


def test_policies_run_before_the_call(httpserver: HTTPServer, client: httpx.Client) -> None:
    policy = {
        "templateId": "setheader",
        "title": "Tenant",
        "parameters": {
            "x-ms-apimTemplateParameter.name": "X-Tenant",
            "x-ms-apimTemplateParameter.value": "@connectionParameters('tenant')",
            "x-ms-apimTemplateParameter.existsAction": "override",
            "x-ms-apimTemplate-policySection": "Request",
        },
    }
    httpserver.expect_request("/v1/pets/3", headers={"X-Tenant": "acme"}).respond_with_json({"id": 3})
    package = _package(httpserver, policyTemplateInstances=[policy])
    result = invoke(package, "GetPet", {"petId": 3}, {"api_key": KEY, "tenant": "acme"}, client=client)
    assert result.response.json == {"id": 3}


def test_retries_on_429_honouring_retry_after(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_ordered_request("/v1/pets/3").respond_with_data("busy", status=429, headers={"Retry-After": "2"})
    httpserver.expect_ordered_request("/v1/pets/3").respond_with_data("oops", status=503)
    httpserver.expect_ordered_request("/v1/pets/3").respond_with_json({"id": 3})
    waits: list[float] = []
    result = invoke(_package(httpserver), "GetPet", {"petId": 3}, {"api_key": KEY}, client=client, sleep=waits.append,
                    options=EngineOptions(backoff=0.5))  # fmt: skip
    assert result.response.status == 200 and result.attempts == 3
    assert waits == [2.0, 1.0]


def test_gives_up_after_the_configured_retries(httpserver: HTTPServer, client: httpx.Client) -> None:
    httpserver.expect_request("/v1/pets/3").respond_with_data("down", status=503)
    result = invoke(_package(httpserver), "GetPet", {"petId": 3}, {"api_key": KEY}, client=client,
                    sleep=lambda _: None, options=EngineOptions(retries=2))  # fmt: skip
    assert result.response.status == 503 and result.attempts == 3


def test_follows_next_links_when_asked(httpserver: HTTPServer, client: httpx.Client) -> None:
    package = _package(httpserver)
    package.definition["paths"]["/pets"]["get"]["x-ms-pageable"] = {"nextLinkName": "nextLink"}
    base = f"http://127.0.0.1:{httpserver.port}/v1"

    def handler(request: WRequest) -> WResponse:
        if request.args.get("page") == "2":
            body: dict[str, Any] = {"value": [2]}
        else:
            body = {"value": [1], "nextLink": f"{base}/pets?page=2"}
        return WResponse(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/pets").respond_with_handler(handler)
    one = invoke(package, "ListPets", {}, {"api_key": KEY}, client=client, sleep=lambda _: None)
    assert len(one.pages) == 1
    every = invoke(package, "ListPets", {}, {"api_key": KEY}, client=client, all_pages=True, sleep=lambda _: None)
    assert [page.json["value"] for page in every.pages] == [[1], [2]]


def test_backend_down_is_a_clear_error_without_secrets(client: httpx.Client) -> None:
    server = HTTPServer(port=0)
    server.start()
    package = _package(server)
    server.stop()
    with pytest.raises(BackendError, match="cannot reach the backend") as caught:
        invoke(package, "GetPet", {"petId": 1}, {"api_key": KEY}, client=client)
    assert KEY not in str(caught.value)


def test_custom_code_operations_are_refused(httpserver: HTTPServer, client: httpx.Client) -> None:
    package = _package(httpserver, scriptOperations=["GetPet"])
    package.script = "public class Script : ScriptBase {}"
    with pytest.raises(CustomCodeError, match="GetPet runs through the connector's custom code"):
        invoke(package, "GetPet", {"petId": 1}, {"api_key": KEY}, client=client)


def test_a_handed_out_url_is_called_signed_and_through_the_policies(
    httpserver: HTTPServer, client: httpx.Client
) -> None:
    """A polling Location or a subscription Location: the connection signs it, the operation's
    policies apply, and a URL under the definition's base keeps that base."""
    policy = {
        "templateId": "setheader",
        "title": "Tenant",
        "parameters": {
            "x-ms-apimTemplateParameter.name": "X-Tenant",
            "x-ms-apimTemplateParameter.value": "acme",
            "x-ms-apimTemplateParameter.existsAction": "override",
            "x-ms-apimTemplate-policySection": "Request",
        },
    }
    httpserver.expect_request(
        "/v1/pets/poll", method="GET", query_string="since=2026-11-21T00%3A00%3A00Z&x=a%20b",
        headers={"X-Api-Key": KEY, "X-Tenant": "acme"},
    ).respond_with_data("", status=202)  # fmt: skip
    httpserver.expect_request("/hooks/7", method="DELETE", headers={"X-Api-Key": KEY}).respond_with_data("", 204)
    package = _package(httpserver, policyTemplateInstances=[policy])
    base = f"http://127.0.0.1:{httpserver.port}"
    polled = invoke(
        package, "ListPets", {}, {"api_key": KEY}, client=client,
        target_url=f"{base}/v1/pets/poll?since=2026-11-21T00:00:00Z&x=a%20b",
    )  # fmt: skip
    assert polled.response.status == 202
    assert (polled.request.base_url, polled.request.path) == (f"{base}/v1", "/pets/poll")
    deleted = invoke(
        package, "CreatePet", {}, {"api_key": KEY}, client=client, target_url=f"{base}/hooks/7", method="DELETE"
    )
    assert deleted.response.status == 204 and deleted.request.base_url == base
    with pytest.raises(InputError, match="not an absolute http"):
        invoke(package, "ListPets", {}, {"api_key": KEY}, client=client, target_url="/relative")
