"""Polling triggers (runtime/triggers.py) against real loopback backends and a real store:
the Tasks example's native 202 protocol, a ``pollingtrigger`` connector modelled on
MicrosoftGraphSecurity, failures, and the classification of every corpus trigger."""

from __future__ import annotations

import collections
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WsgiRequest
from werkzeug import Response as WsgiResponse

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.examples.tasks import free_socket
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import EngineOptions
from connectorkit.runtime.policies import strip_trigger_prefix
from connectorkit.runtime.store import Store, generate_key
from connectorkit.runtime.triggers import (
    PollOutcome,
    PollState,
    TriggerOptions,
    describe_trigger,
    event_key,
    poll_once,
    trigger_kind,
)
from tasks_api import create_task, deployed_tasks

from conftest import CORPUS, needs_corpus

KEY = "PLANTED-trigger-key-3f9a"
FAST = EngineOptions(retries=1, backoff=0.01, timeout=10)


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[LocalEnvironment]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key()) as store:
        yield LocalEnvironment(store)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as opened:
        yield opened


def roundtrip(state: PollState) -> PollState:
    """Every test carries the state through JSON, as a restarted listener would."""
    text = state.to_json()
    assert KEY not in text
    again = PollState.from_json(text)
    assert again == state
    return again


# ------------------------------------------------------------------------- the Tasks example API


@pytest.fixture
def tasks(environment: LocalEnvironment) -> Iterator[tuple[str, httpx.Client]]:
    """The Tasks API on a loopback port, its connector deployed, a connection made."""
    with deployed_tasks(environment, KEY, retry_after=7) as made:
        yield made


def test_tasks_native_polling_end_to_end(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, api = tasks
    options = TriggerOptions(interval=60, min_interval=1, max_interval=30, engine=FAST)
    package = environment.package("Tasks")
    assert trigger_kind(package, "OnNewTasks") == "native-polling"
    assert describe_trigger(package, "OnNewTasks").id_property == "id"
    create_task(api, "existed before the trigger")

    first = poll_once(environment, connection, "OnNewTasks", {}, PollState(), client=client, options=options)
    assert (first.status, first.events, first.wait, first.ok) == (202, [], 7.0, True)
    assert first.state.next_url is not None and first.state.next_url.endswith("/trigger/tasks?since=1")
    state = roundtrip(first.state)

    ids = [create_task(api, f"task {n}") for n in range(3)]
    second = poll_once(environment, connection, "OnNewTasks", {}, state, client=client, options=options)
    assert second.status == 200 and second.ok
    assert [e.key for e in second.events] == [f"id:{i}" for i in ids]
    assert [e.body["title"] for e in second.events] == ["task 0", "task 1", "task 2"]
    assert second.events[0].headers["content-type"] == "application/json"
    assert second.wait == 30.0  # no Retry-After: the interval (60), capped by max_interval
    assert second.state.next_url is not None and second.state.next_url.endswith("since=4")
    state = roundtrip(second.state)

    third = poll_once(environment, connection, "OnNewTasks", {}, state, client=client, options=options)
    assert (third.status, third.events, third.wait) == (202, [], 7.0)
    slow = TriggerOptions(min_interval=10, engine=FAST)
    assert poll_once(environment, connection, "OnNewTasks", {}, state, client=client, options=slow).wait == 10.0

    # The same poll again (a crash before the state was saved) gives the same keys: de-duplicable.
    create_task(api, "after")
    again = [poll_once(environment, connection, "OnNewTasks", {}, state, client=client, options=options)]
    again.append(poll_once(environment, connection, "OnNewTasks", {}, state, client=client, options=options))
    assert [e.key for e in again[0].events] == [e.key for e in again[1].events] == ["id:5"]


def test_tasks_batch_delivered_whole_when_not_split(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, api = tasks
    whole = TriggerOptions(split=False, min_interval=1, engine=FAST)
    seeded = poll_once(environment, connection, "OnNewTasks", {}, PollState(), client=client, options=whole)
    create_task(api, "a")
    create_task(api, "b")
    fired = poll_once(environment, connection, "OnNewTasks", {}, roundtrip(seeded.state), client=client, options=whole)
    assert len(fired.events) == 1
    batch = fired.events[0]
    assert [item["title"] for item in batch.body] == ["a", "b"]
    assert batch.key.startswith("sha256:") and batch.key == event_key(batch.body, None)


def test_a_wrong_key_is_a_401_outcome_marking_the_connection(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    _, _ = tasks
    wrong = environment.create_connection("Tasks", {"api_key": KEY + "-wrong"})
    state = PollState(next_url=None, first=False, failures=2)
    options = TriggerOptions(min_interval=2, max_interval=100, engine=FAST)
    outcome = poll_once(environment, wrong, "OnNewTasks", {}, state, client=client, options=options)
    assert (outcome.ok, outcome.status, outcome.unauthenticated, outcome.events) == (False, 401, True, [])
    assert outcome.error is not None and "401" in outcome.error and KEY not in outcome.error
    assert outcome.state == PollState(next_url=None, first=False, failures=3)
    assert outcome.wait == 8.0  # min_interval doubled per consecutive failure


# ----------------------------------------------------------- a pollingtrigger connector (Graph-like)


def graph_package(port: int, *, undeclared_filter: bool = False) -> ConnectorPackage:
    """Modelled on certified-connectors/MicrosoftGraphSecurity: OnAllNewAlerts under /trigger,
    an internal $filter set by triggerConfig, items at value, @odata.nextLink paging."""
    parameters: list[dict[str, Any]] = [{"name": "$top", "in": "query", "type": "integer"}]
    if not undeclared_filter:
        parameters.append({"name": "$filter", "in": "query", "type": "string", "x-ms-visibility": "internal"})
    definition = {
        "swagger": "2.0",
        "info": {"title": "GraphAlerts", "version": "1.0"},
        "host": f"127.0.0.1:{port}",
        "schemes": ["http"],
        "basePath": "/",
        "securityDefinitions": {"api_key": {"type": "apiKey", "in": "header", "name": "X-Key"}},
        "paths": {
            "/trigger/v1.0/security/alerts": {
                "get": {
                    "operationId": "OnAllNewAlerts",
                    "x-ms-trigger": "batch",
                    "x-ms-trigger-hint": "To see it work now, raise an alert",
                    "x-ms-trigger-metadata": {"mode": "polling", "kind": "query"},
                    "parameters": parameters,
                    "responses": {
                        "200": {
                            "description": "alerts",
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "@odata.nextLink": {"type": "string"},
                                    "value": {"type": "array", "items": {"$ref": "#/definitions/Alert"}},
                                },
                            },
                        }
                    },
                }
            },
            "/v1.0/security/alerts/{id}": {
                "get": {
                    "operationId": "GetAlert",
                    "parameters": [{"name": "id", "in": "path", "type": "string", "required": True}],
                    "responses": {"200": {"description": "one", "schema": {"$ref": "#/definitions/Alert"}}},
                }
            },
        },
        "definitions": {
            "Alert": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "title": {"type": "string"},
                    "lastModifiedDateTime": {"type": "string"},
                },
            }
        },
    }
    properties = {
        "properties": {
            "connectionParameters": {"api_key": {"type": "securestring"}},
            "policyTemplateInstances": [
                {
                    "templateId": "pollingtrigger",
                    "type": "PollingTrigger",
                    "title": "PollingTriggerPolicy_alerts",
                    "parameters": {
                        "x-ms-apimTemplate-operationName": ["OnAllNewAlerts"],
                        "x-ms-apimTemplateParameter.triggerConfig": {
                            "$filter": "lastModifiedDateTime gt @{triggerBody().value[0].lastModifiedDateTime}"
                        },
                        "x-ms-apimTemplateParameter.triggerDataPath": "@triggerBody().value",
                    },
                }
            ],
        }
    }
    files = {
        "apiDefinition.swagger.json": json.dumps(definition).encode(),
        "apiProperties.json": json.dumps(properties).encode(),
    }
    return ConnectorPackage.from_files(files, "GraphAlerts")


class AlertsBackend:
    """Graph's alert list: newest first, ``$filter=lastModifiedDateTime gt X``, two per page."""

    PAGE = 2

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.alerts: list[dict[str, str]] = []
        self.requests: list[tuple[str, dict[str, str], str | None]] = []
        self.failure: tuple[int, dict[str, str]] | None = None

    def add(self, stamp: str) -> str:
        alert = {"id": f"alert-{len(self.alerts) + 1}", "title": f"alert at {stamp}", "lastModifiedDateTime": stamp}
        self.alerts.insert(0, alert)
        return alert["id"]

    def __call__(self, request: WsgiRequest) -> WsgiResponse:
        args = dict(request.args)
        self.requests.append((request.path, args, request.headers.get("X-Key")))
        if self.failure is not None:
            return WsgiResponse("busy", self.failure[0], headers=self.failure[1])
        matching = self.alerts
        flt = args.get("$filter")
        if flt is not None:
            field_name, op, value = flt.split(" ", 2)
            assert (field_name, op) == ("lastModifiedDateTime", "gt"), flt
            matching = [a for a in self.alerts if a["lastModifiedDateTime"] > value]
        skip = int(args.get("$skip", "0"))
        body: dict[str, Any] = {"value": matching[skip : skip + self.PAGE]}
        if len(matching) > skip + self.PAGE:
            following = {**args, "$skip": str(skip + self.PAGE)}
            body["@odata.nextLink"] = (
                self.server.url_for("/v1.0/security/alerts") + "?" + str(httpx.QueryParams(following))
            )
        return WsgiResponse(json.dumps(body), 200, content_type="application/json")


@pytest.fixture
def graph(environment: LocalEnvironment, httpserver: HTTPServer) -> tuple[str, AlertsBackend]:
    backend = AlertsBackend(httpserver)
    httpserver.expect_request("/v1.0/security/alerts").respond_with_handler(backend)
    environment.deploy(graph_package(httpserver.port), "GraphAlerts")
    return environment.create_connection("GraphAlerts", {"api_key": KEY}), backend


def test_pollingtrigger_seeds_then_fires_with_filter_paging_and_stripped_prefix(
    environment: LocalEnvironment, client: httpx.Client, graph: tuple[str, AlertsBackend]
) -> None:
    connection, backend = graph
    package = environment.package("GraphAlerts")
    spec = describe_trigger(package, "OnAllNewAlerts")
    assert (spec.kind, spec.cardinality, spec.id_property) == ("policy-polling", "batch", "id")
    assert spec.hint == "To see it work now, raise an alert" and spec.policy is not None
    options = TriggerOptions(min_interval=1, interval=5, engine=FAST)
    backend.add("2024-01-01T00:00:00Z")
    backend.add("2024-01-02T00:00:00Z")

    first = poll_once(environment, connection, "OnAllNewAlerts", {}, PollState(), client=client, options=options)
    assert (first.status, first.events, first.wait) == (200, [], 5.0)  # the first poll only seeds
    assert first.state.query == {"$filter": "lastModifiedDateTime gt 2024-01-02T00:00:00Z"}
    assert backend.requests[0] == ("/v1.0/security/alerts", {}, KEY)  # /trigger stripped, signed

    new = [backend.add(f"2024-02-0{day}T00:00:00Z") for day in (1, 2, 3)]
    second = poll_once(
        environment, connection, "OnAllNewAlerts", {}, roundtrip(first.state), client=client, options=options
    )
    assert sorted(e.key for e in second.events) == sorted(f'id:"{i}"' for i in new)
    assert backend.requests[1][1] == {"$filter": "lastModifiedDateTime gt 2024-01-02T00:00:00Z"}
    assert backend.requests[2][1]["$skip"] == "2" and backend.requests[2][2] == KEY  # the next link, signed
    assert second.state.query == {"$filter": "lastModifiedDateTime gt 2024-02-03T00:00:00Z"}

    third = poll_once(
        environment, connection, "OnAllNewAlerts", {}, roundtrip(second.state), client=client, options=options
    )
    assert third.events == [] and third.state.query == second.state.query  # an empty page keeps the cursor
    assert any("found no value; kept" in note for note in third.notes)
    assert all(path == "/v1.0/security/alerts" for path, _, _ in backend.requests)


def test_pollingtrigger_options(
    environment: LocalEnvironment, client: httpx.Client, graph: tuple[str, AlertsBackend], httpserver: HTTPServer
) -> None:
    connection, backend = graph
    backend.add("2024-01-01T00:00:00Z")
    eager = TriggerOptions(fire_on_first_poll=True, engine=FAST)
    fired = poll_once(environment, connection, "OnAllNewAlerts", {}, PollState(), client=client, options=eager)
    assert [e.key for e in fired.events] == ['id:"alert-1"']

    httpserver.expect_request("/trigger/v1.0/security/alerts").respond_with_json({"value": []})
    kept = TriggerOptions(strip_trigger_prefix=False, engine=FAST)
    outcome = poll_once(environment, connection, "OnAllNewAlerts", {}, PollState(), client=client, options=kept)
    assert outcome.status == 200 and httpserver.log[-1][0].path == "/trigger/v1.0/security/alerts"


def test_pollingtrigger_config_key_the_operation_does_not_declare(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer
) -> None:
    """Facebook's ``since`` is not a declared parameter: it still reaches the backend."""
    backend = AlertsBackend(httpserver)
    httpserver.expect_request("/v1.0/security/alerts").respond_with_handler(backend)
    environment.deploy(graph_package(httpserver.port, undeclared_filter=True), "Undeclared")
    connection = environment.create_connection("Undeclared", {"api_key": KEY})
    backend.add("2024-01-01T00:00:00Z")
    options = TriggerOptions(engine=FAST)
    first = poll_once(
        environment, connection, "OnAllNewAlerts", {"$top": 5}, PollState(), client=client, options=options
    )
    backend.add("2024-03-01T00:00:00Z")
    second = poll_once(
        environment, connection, "OnAllNewAlerts", {"$top": 5}, first.state, client=client, options=options
    )
    assert backend.requests[-1] == (
        "/v1.0/security/alerts",
        {"$top": "5", "$filter": "lastModifiedDateTime gt 2024-01-01T00:00:00Z"},
        KEY,
    )
    assert [e.body["id"] for e in second.events] == ["alert-2"]


def test_server_errors_back_off_and_recover(
    environment: LocalEnvironment, client: httpx.Client, graph: tuple[str, AlertsBackend]
) -> None:
    connection, backend = graph
    backend.add("2024-01-01T00:00:00Z")
    # No engine retries here: the engine would honour Retry-After: 20 before giving up.
    options = TriggerOptions(min_interval=3, max_interval=50, engine=EngineOptions(retries=0, timeout=10))
    seeded = poll_once(environment, connection, "OnAllNewAlerts", {}, PollState(), client=client, options=options)
    backend.failure = (503, {"Retry-After": "20"})
    state = seeded.state
    waits = []
    for _ in range(3):
        failed: PollOutcome = poll_once(
            environment, connection, "OnAllNewAlerts", {}, state, client=client, options=options
        )
        assert (failed.ok, failed.status, failed.unauthenticated, failed.events) == (False, 503, False, [])
        assert failed.state.query == seeded.state.query
        state = roundtrip(failed.state)
        waits.append(failed.wait)
    assert waits == [20.0, 20.0, 20.0] and state.failures == 3  # Retry-After beats 3, 6, 12
    failing_more = poll_once(
        environment, connection, "OnAllNewAlerts", {}, PollState(query=state.query, first=False, failures=5),
        client=client, options=options,
    )  # fmt: skip
    assert failing_more.wait == 50.0  # 3 * 2**5 = 96, capped

    backend.failure = None
    backend.add("2024-05-01T00:00:00Z")
    recovered = poll_once(environment, connection, "OnAllNewAlerts", {}, state, client=client, options=options)
    assert recovered.ok and recovered.state.failures == 0 and [e.body["id"] for e in recovered.events] == ["alert-2"]


def test_unreachable_backend_is_an_outcome_without_status(environment: LocalEnvironment, client: httpx.Client) -> None:
    with free_socket() as sock:
        port = sock.getsockname()[1]  # closed again before the poll: nothing listens there
    environment.deploy(graph_package(port), "Nowhere")
    connection = environment.create_connection("Nowhere", {"api_key": KEY})
    outcome = poll_once(environment, connection, "OnAllNewAlerts", {}, PollState(), client=client)
    assert (outcome.ok, outcome.status, outcome.unauthenticated) == (False, None, False)
    assert outcome.error is not None and "cannot reach" in outcome.error and outcome.state.failures == 1


# ------------------------------------------------------------------------------------ bad input


def test_bad_input(environment: LocalEnvironment, client: httpx.Client, graph: tuple[str, AlertsBackend]) -> None:
    connection, _ = graph
    with pytest.raises(InputError, match=r"GetAlert.*action"):
        poll_once(environment, connection, "GetAlert", {}, PollState(), client=client)
    with pytest.raises(InputError, match="Nope"):
        poll_once(environment, connection, "Nope", {}, PollState(), client=client)
    for text, message in [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"version": 99}', "version 99"),
        ('{"version": 1, "query": {"a": 1}}', "query"),
        ('{"version": 1, "next_url": 5}', "next_url"),
    ]:
        with pytest.raises(InputError, match=message):
            PollState.from_json(text)
    with pytest.raises(InputError, match="min_interval"):
        TriggerOptions(min_interval=10, max_interval=5)


def test_trigger_prefix_stripping() -> None:
    assert strip_trigger_prefix("/trigger/me/feed") == "/me/feed"
    assert strip_trigger_prefix("/trigger") == "/"
    assert strip_trigger_prefix("/triggers/x") == "/triggers/x"
    assert strip_trigger_prefix("/api/trigger/x") == "/api/trigger/x"


def test_event_keys_are_stable() -> None:
    assert event_key({"id": 7, "b": 1}, "id") == "id:7"
    assert event_key({"id": "7"}, "id") == 'id:"7"'
    one = event_key({"a": 1, "b": [1, 2]}, None)
    assert one == event_key({"b": [1, 2], "a": 1}, None) and one.startswith("sha256:")
    assert event_key({"id": None, "a": 1}, "id") == event_key({"id": None, "a": 1}, None)


def test_webhook_triggers_are_not_polled(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, _ = tasks
    assert trigger_kind(environment.package("Tasks"), "OnTaskCreated") == "webhook"
    assert trigger_kind(environment.package("Tasks"), "ListTasks") is None
    with pytest.raises(InputError, match="webhook"):
        poll_once(environment, connection, "OnTaskCreated", {}, PollState(), client=client)


# ------------------------------------------------------------------------------------ the corpus


@needs_corpus
def test_every_corpus_trigger_is_classified() -> None:
    """trigger_kind against a text-level expectation: a non-GET trigger subscribes (§4.4), a GET
    named in an apiProperties mentioning pollingtrigger is policy polling, other GETs native."""
    counts: collections.Counter[str] = collections.Counter()
    for folder in sorted(CORPUS.glob("*/*")):
        try:
            package = ConnectorPackage.load(folder)
        except Exception:  # a corpus file that does not parse (one does not) has no triggers to check
            continue
        properties_file = folder / "apiProperties.json"
        properties = properties_file.read_text(encoding="utf-8-sig") if properties_file.is_file() else ""
        for op in package.swagger.operations():
            if not op.is_trigger or op.operation_id is None:
                continue
            if op.method != "get":
                expected = "webhook"
            elif "pollingtrigger" in properties.lower() and f'"{op.operation_id}"' in properties:
                expected = "policy-polling"
            else:
                expected = "native-polling"
            kind = trigger_kind(package, op.operation_id)
            assert kind == expected, (folder.name, op.operation_id)
            assert describe_trigger(package, op.operation_id).kind == kind
            counts[expected] += 1
    assert counts == {"webhook": 136, "policy-polling": 22, "native-polling": 9}
