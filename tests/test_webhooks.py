"""Webhook triggers: subscribe, check callbacks against x-ms-notification-content, unsubscribe.

End to end against the example Tasks API (its OnTaskCreated trigger calls back a pytest-httpserver
receiver) and against pytest-httpserver backends for the failure shapes; the corpus test runs
notification_target over every webhook trigger of the 150 real connectors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.examples.tasks import create_app, serve
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.store import Store, generate_key
from connectorkit.runtime.webhooks import (
    CALLBACK_PREFIX,
    CallbackChecker,
    NotificationTarget,
    PayloadProblem,
    Subscription,
    callback_token,
    callback_url,
    check_callback,
    notification_target,
    subscribe,
    token_digest,
    unsubscribe,
)

KEY = "PLANTED-hooks-key-3b7e"
CORPUS = Path("/work/shared/corpus/connectors")


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[LocalEnvironment]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key()) as store:
        yield LocalEnvironment(store)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


# --------------------------------------------------------------------------- a hand-built connector


def _definition(port: int, *, with_delete: bool = True, trigger: str = "single") -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/subscriptions": {
            "x-ms-notification-content": {
                "description": "Orders that changed",
                "schema": {"$ref": "#/definitions/Batch"},
                "headers": {"X-Attempt": {"type": "integer"}},
            },
            "post": {
                "operationId": "OnOrders",
                "x-ms-trigger": trigger,
                "parameters": [
                    {"name": "body", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Subscribe"}}
                ],
                "responses": {"201": {"description": "Created"}},
            },
        },
        "/orders": {
            "get": {"operationId": "ListOrders", "responses": {"200": {"description": "OK"}}},
        },
    }
    if with_delete:
        paths["/subscriptions/{subscriptionId}"] = {
            "delete": {
                "operationId": "DeleteSubscription",
                "x-ms-visibility": "internal",
                "parameters": [{"name": "subscriptionId", "in": "path", "required": True, "type": "string"}],
                "responses": {"204": {"description": "Deleted"}},
            }
        }
    return {
        "swagger": "2.0",
        "info": {"title": "Orders", "version": "1.0"},
        "host": f"127.0.0.1:{port}",
        "basePath": "/api",
        "schemes": ["http"],
        "securityDefinitions": {"api_key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        "paths": paths,
        "definitions": {
            "Subscribe": {
                "type": "object",
                "properties": {
                    "topic": {"type": "string"},
                    "delivery": {"$ref": "#/definitions/Delivery"},
                },
            },
            "Delivery": {
                "allOf": [
                    {"type": "object", "properties": {"format": {"type": "string"}}},
                    {"properties": {"address": {"type": "string", "x-ms-notification-url": True}}},
                ]
            },
            "Batch": {
                "type": "object",
                "required": ["orders"],
                "properties": {
                    "sentAt": {"type": "string"},
                    "orders": {"type": "array", "items": {"$ref": "#/definitions/Order"}},
                },
            },
            "Order": {
                "type": "object",
                "required": ["orderId", "total"],
                "properties": {
                    "orderId": {"type": "integer", "required": True},  # a Swagger-ism jsonschema cannot apply
                    "total": {"type": "number"},
                    "note": {"type": "string", "x-nullable": True},
                    "id": {"type": "string"},
                },
            },
        },
    }


def _package(definition: dict[str, Any]) -> ConnectorPackage:
    properties = {
        "properties": {
            "connectionParameters": {
                "api_key": {
                    "type": "securestring",
                    "uiDefinition": {"displayName": "API key", "constraints": {"required": "true"}},
                }
            }
        }
    }
    files = {
        "apiDefinition.swagger.json": json.dumps(definition).encode(),
        "apiProperties.json": json.dumps(properties).encode(),
    }
    return ConnectorPackage.from_files(files)


def _deployed(environment: LocalEnvironment, definition: dict[str, Any]) -> str:
    name, _ = environment.deploy(_package(definition), "Orders")
    return environment.create_connection(name, {"api_key": KEY})


# --------------------------------------------------------------------------- the Tasks example, end to end


def test_tasks_example_subscribe_callback_unsubscribe(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer
) -> None:
    with serve(create_app(KEY)) as base:
        package = create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks")).package
        name, _ = environment.deploy(package)
        connection = environment.create_connection(name, {"api_key": KEY})
        assert notification_target(package, "OnTaskCreated") == NotificationTarget(
            "OnTaskCreated", "body", "body", ("callbackUrl",)
        )

        token = callback_token()
        url = callback_url(httpserver.url_for("/"), token)
        assert url == httpserver.url_for(f"{CALLBACK_PREFIX}{token}")
        subscription = subscribe(environment, connection, "OnTaskCreated", {}, url, client=client)
        assert (subscription.location, subscription.status) == (f"{base}/hooks/1", 201)
        assert subscription.body == {"id": 1, "callbackUrl": "***"}  # the echoed callback URL is masked
        assert Subscription.from_json(json.loads(json.dumps(subscription.to_json()))) == subscription

        # A canary hook, subscribed directly, tells when the API has finished notifying.
        canary = httpx.post(f"{base}/hooks", json={"callbackUrl": httpserver.url_for("/canary")}, headers=_key())
        assert canary.status_code == 201
        httpserver.expect_oneshot_request(f"{CALLBACK_PREFIX}{token}", method="POST").respond_with_data("", 202)
        httpserver.expect_oneshot_request("/canary", method="POST").respond_with_data("", 202)
        with httpserver.wait(raise_assertions=True, stop_on_nohandler=True, timeout=10):
            created = environment.call(connection, "CreateTask", {"body": {"title": "Ship it"}}, client=client)
            assert created.response.status == 201
        received = next(r for r, _ in httpserver.log if r.path == f"{CALLBACK_PREFIX}{token}")
        outcome = check_callback(package, "OnTaskCreated", received.get_data(), dict(received.headers))
        assert outcome.problems == []
        assert [(e.key, e.body) for e in outcome.events] == [
            ("id:1", {"id": 1, "title": "Ship it", "notes": "", "done": False})
        ]
        assert outcome.events[0].headers["Content-Type"] == "application/json"

        assert unsubscribe(environment, subscription, client=client) == "deleted"
        assert unsubscribe(environment, subscription, client=client) == "gone"  # 404: already removed

        httpserver.clear_log()
        httpserver.expect_oneshot_request("/canary", method="POST").respond_with_data("", 202)
        with httpserver.wait(raise_assertions=True, stop_on_nohandler=True, timeout=10):
            environment.call(connection, "CreateTask", {"body": {"title": "Nobody hears this"}}, client=client)
        assert [r.path for r, _ in httpserver.log] == ["/canary"]  # the unsubscribed callback got nothing

        history = environment.store.history(connection, limit=10)
        calls = [(h.operation_id, h.method, h.url, h.status) for h in history]
        assert ("OnTaskCreated", "DELETE", subscription.location, 204) in calls
        assert ("OnTaskCreated", "POST", f"{base}/hooks", 201) in calls
        assert all(KEY not in (h.url or "") + json.dumps(h.request_headers) for h in history)
        # The callback URL carries the subscription's token: history masks it like a secret.
        assert all(token not in (h.url or "") + (h.request_body or "") for h in history)
        assert any("***" in (h.request_body or "") for h in history if h.method == "POST")


def _key() -> dict[str, str]:
    return {"X-API-Key": KEY}


def test_tasks_callback_that_does_not_match_is_recorded_not_dropped() -> None:
    with serve(create_app(KEY)) as base:
        package = create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks")).package
    payload = json.dumps({"id": "seven", "title": 5, "done": False}).encode()
    outcome = check_callback(package, "OnTaskCreated", payload, {"Content-Type": "application/json"})
    assert [(p.path, p.reason) for p in outcome.problems] == [
        ("", "'notes' is a required property"),
        ("/id", "'seven' is not of type 'integer'"),
        ("/title", "5 is not of type 'string'"),
    ]
    assert [e.key for e in outcome.events] == ['id:"seven"']  # still delivered, keyed by its id


# --------------------------------------------------------------------------- subscribe against pytest-httpserver


def test_subscribe_fills_a_nested_ref_allof_property_and_keeps_other_inputs(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer
) -> None:
    connection = _deployed(environment, _definition(httpserver.port))
    callback = "https://tunnel.example/callbacks/" + "t" * 43
    httpserver.expect_oneshot_request(
        "/api/subscriptions",
        method="POST",
        headers={"X-Key": KEY},
        json={"topic": "orders", "delivery": {"address": callback, "format": "xml"}},
    ).respond_with_json({"subscriptionId": "s-9", "echo": callback}, status=201, headers={"Location": "s-9"})
    inputs = {"body/topic": "orders", "body/delivery/format": "xml"}
    subscription = subscribe(environment, connection, "OnOrders", inputs, callback, client=client)
    httpserver.check_assertions()
    # A relative Location is resolved against the subscribe URL; the echoed URL is masked.
    assert subscription.location == f"http://127.0.0.1:{httpserver.port}/api/s-9"
    assert subscription.body == {"subscriptionId": "s-9", "echo": "***"}

    httpserver.expect_oneshot_request("/api/s-9", method="DELETE", headers={"X-Key": KEY}).respond_with_data("no", 403)
    with pytest.raises(
        ConnectorkitError, match=r"unsubscribing trigger OnOrders failed: DELETE .*/api/s-9 .*HTTP 403: no"
    ):
        unsubscribe(environment, subscription, client=client)
    httpserver.expect_oneshot_request("/api/s-9", method="DELETE").respond_with_data("", 410)
    assert unsubscribe(environment, subscription, client=client) == "gone"


def test_no_location_is_a_clear_error_and_the_orphan_is_removed(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer
) -> None:
    connection = _deployed(environment, _definition(httpserver.port))
    httpserver.expect_oneshot_request("/api/subscriptions", method="POST").respond_with_json(
        {"subscriptionId": "s-1"}, status=201
    )
    httpserver.expect_oneshot_request("/api/subscriptions/s-1", method="DELETE").respond_with_data("", 204)
    with pytest.raises(ConnectorkitError) as caught:
        subscribe(environment, connection, "OnOrders", {}, "http://127.0.0.1:1/callbacks/abcdefgh", client=client)
    message = str(caught.value)
    assert message.startswith("trigger OnOrders: the subscription answered HTTP 201 without a Location header")
    assert "a 201 response with a Location header holding the URL of the created hook" in message
    assert "the platform DELETEs that URL to unsubscribe" in message
    assert "removed the hook it had created with DeleteSubscription (HTTP 204)" in message
    httpserver.check_assertions()
    assert [r.method for r, _ in httpserver.log] == ["POST", "DELETE"]


def test_no_location_and_no_delete_operation_says_the_hook_may_remain(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer
) -> None:
    connection = _deployed(environment, _definition(httpserver.port, with_delete=False))
    httpserver.expect_oneshot_request("/api/subscriptions", method="POST").respond_with_data("", 200)
    with pytest.raises(ConnectorkitError, match=r"without a Location header.*may remain at the backend"):
        subscribe(environment, connection, "OnOrders", {}, "http://127.0.0.1:1/callbacks/abcdefgh", client=client)


def test_refused_subscription_names_the_status_and_masks_the_url(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer
) -> None:
    connection = _deployed(environment, _definition(httpserver.port))
    callback = "http://127.0.0.1:1/callbacks/SECRET-token-value"
    httpserver.expect_oneshot_request("/api/subscriptions", method="POST").respond_with_data(
        f"cannot reach {callback}", status=400
    )
    with pytest.raises(ConnectorkitError) as caught:
        subscribe(environment, connection, "OnOrders", {}, callback, client=client)
    assert (
        str(caught.value) == "subscribing with trigger OnOrders failed: the backend answered HTTP 400: cannot reach ***"
    )


def test_bad_subscribe_inputs(environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer) -> None:
    connection = _deployed(environment, _definition(httpserver.port))
    url = "http://127.0.0.1:1/callbacks/abcdefgh"
    with pytest.raises(InputError, match="'ListOrders' is not a trigger"):
        subscribe(environment, connection, "ListOrders", {}, url, client=client)
    with pytest.raises(InputError, match="body/delivery/address: the callback URL of trigger 'OnOrders' is filled in"):
        subscribe(environment, connection, "OnOrders", {"body/delivery/address": "x"}, url, client=client)
    given = {"body": {"delivery": {"address": "mine"}}}
    with pytest.raises(InputError, match="filled in by connectorkit"):
        subscribe(environment, connection, "OnOrders", given, url, client=client)
    with pytest.raises(InputError, match="'body' of operation 'OnOrders' must be JSON"):
        subscribe(environment, connection, "OnOrders", {"body": "{nope"}, url, client=client)
    with pytest.raises(InputError, match="no operation with operationId 'Nope'"):
        subscribe(environment, connection, "Nope", {}, url, client=client)
    assert len(httpserver.log) == 0


# --------------------------------------------------------------------------- targets


def test_targets_marked_on_a_parameter_and_missing() -> None:
    definition = _definition(1)
    definition["paths"]["/subscriptions"]["post"]["parameters"] = [
        {"name": "hookUrl", "in": "query", "type": "string", "x-ms-notification-url": True, "required": True}
    ]
    package = _package(definition)
    target = notification_target(package, "OnOrders")
    assert target == NotificationTarget("OnOrders", "hookUrl", "query", ())
    assert target.fill({"other": 1}, "http://x/cb") == {"other": 1, "hookUrl": "http://x/cb"}
    with pytest.raises(InputError, match=r"operation 'ListOrders' is not a webhook trigger.*x-ms-notification-url"):
        notification_target(package, "ListOrders")
    body_target = notification_target(_package(_definition(1)), "OnOrders")
    assert body_target.argument == "body/delivery/address"
    assert body_target.fill({"body": '{"topic": "t"}'}, "u") == {"body": {"topic": "t", "delivery": {"address": "u"}}}


# --------------------------------------------------------------------------- checking callbacks


def test_batch_trigger_splits_on_the_single_array_property() -> None:
    package = _package(_definition(1, trigger="batch"))
    checker = CallbackChecker(package, "OnOrders")
    assert (checker.split, checker.array_property, checker.key_property) == (True, "orders", "id")
    payload = {
        "sentAt": "now",
        "orders": [
            {"orderId": 1, "total": 9.5, "id": "a-1", "note": None},
            {"orderId": "two", "total": 3},
        ],
    }
    outcome = checker.check(json.dumps(payload).encode(), {"X-Attempt": "first"})
    assert outcome.problems == [
        PayloadProblem("/orders/1/orderId", "'two' is not of type 'integer'"),
        PayloadProblem("header:X-Attempt", "'first' is not an integer"),
    ]
    assert [e.body for e in outcome.events] == payload["orders"]
    assert outcome.events[0].key == 'id:"a-1"'
    assert outcome.events[1].key.startswith("sha256:") and len(outcome.events[1].key) == 71  # no id: content hash
    again = checker.check(json.dumps({"orders": [{"total": 3, "orderId": "two"}]}).encode(), {"X-Attempt": "2"})
    assert again.events[0].key == outcome.events[1].key  # the same content, key order aside, the same key
    assert json.loads(json.dumps(outcome.to_json()))["problems"][0] == {
        "path": "/orders/1/orderId",
        "reason": "'two' is not of type 'integer'",
    }


def test_single_trigger_is_one_event_per_post_unless_split_is_asked() -> None:
    package = _package(_definition(1))
    payload = {"orders": [{"orderId": 1, "total": 1}, {"orderId": 2, "total": 2}]}
    single = check_callback(package, "OnOrders", payload)
    assert [e.body for e in single.events] == [payload] and single.problems == []
    assert single.events[0].key.startswith("sha256:")
    split = check_callback(package, "OnOrders", payload, split=True)
    assert [e.body["orderId"] for e in split.events] == [1, 2]
    keyed = CallbackChecker(package, "OnOrders", split=True, key_property="orderId").check(payload)
    assert [e.key for e in keyed.events] == ["id:1", "id:2"]


def test_array_root_is_split_and_bad_bodies_are_recorded() -> None:
    definition = _definition(1)
    definition["paths"]["/subscriptions"]["x-ms-notification-content"]["schema"] = {
        "type": "array",
        "items": {"$ref": "#/definitions/Order"},
    }
    package = _package(definition)
    outcome = check_callback(package, "OnOrders", b'[{"orderId": 4, "total": 1, "id": "x"}, {"total": 2}]')
    assert [e.key for e in outcome.events][:1] == ['id:"x"'] and len(outcome.events) == 2
    assert outcome.problems == [PayloadProblem("/1", "'orderId' is a required property")]

    not_json = check_callback(package, "OnOrders", b"<xml/>")
    assert [e.body for e in not_json.events] == ["<xml/>"]
    assert not_json.problems[0].path == "" and not_json.problems[0].reason.startswith("the body is not JSON")
    wrong_shape = check_callback(package, "OnOrders", {"orderId": 1})
    assert wrong_shape.problems == [PayloadProblem("", "{'orderId': 1} is not of type 'array'")]
    assert len(wrong_shape.events) == 1  # not a list: delivered whole


def test_no_notification_content_checks_nothing() -> None:
    definition = _definition(1)
    del definition["paths"]["/subscriptions"]["x-ms-notification-content"]
    outcome = check_callback(_package(definition), "OnOrders", b'{"anything": true}')
    assert outcome.problems == [] and [e.body for e in outcome.events] == [{"anything": True}]


# --------------------------------------------------------------------------- callback URLs


def test_callback_tokens_urls_and_digests() -> None:
    tokens = {callback_token() for _ in range(50)}
    assert len(tokens) == 50 and all(len(t) == 43 and "/" not in t for t in tokens)
    token = sorted(tokens)[0]
    assert callback_url("https://abc.ngrok.app/prefix/", token) == f"https://abc.ngrok.app/prefix/callbacks/{token}"
    digest = token_digest(token)
    assert len(digest) == 64 and token not in digest and digest == token_digest(token)
    for bad in ("ftp://x", "/relative", "https://x/?q=1", ""):
        with pytest.raises(InputError, match="public URL"):
            callback_url(bad, token)


# --------------------------------------------------------------------------- the corpus


def test_every_corpus_webhook_trigger_has_a_target_and_a_usable_checker() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    found: list[tuple[str, str, NotificationTarget]] = []
    unreadable: list[str] = []
    for definition in sorted(CORPUS.glob("*/*/apiDefinition.swagger.json")):
        try:
            package = ConnectorPackage.load(definition.parent)
        except ConnectorkitError:
            unreadable.append(definition.parent.name)
            continue
        for op in package.swagger.operations():
            if op.trigger_kind != "webhook" or op.operation_id is None:
                continue
            found.append((definition.parent.name, op.operation_id, notification_target(package, op.operation_id)))
            outcome = CallbackChecker(package, op.operation_id).check({})
            assert not any("cannot be applied" in p.reason for p in outcome.problems), (op.operation_id, outcome)
    assert len(found) == 136, len(found)
    assert {t.location for _, _, t in found} == {"body"}  # every corpus connector marks a body property
    assert sum(len(t.path) > 1 for _, _, t in found) == 7  # nested ones
    assert unreadable == ["Icon Horse"]  # a definition that is not JSON (and has no webhook)
