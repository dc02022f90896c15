"""Stopping and starting a durable trigger, and reactivation after the connection is renewed.

``TriggerService.pause`` / ``resume`` (runtime/listening.py) against the Tasks example API and
pytest-httpserver on loopback ports; ``connectorkit trigger stop|start``; ``POST
/api/triggers/{id}/stop|start`` and the console's Stop / Start buttons; the store's parts
(``set_trigger_status`` with state and callback digest, callbacks refused while stopped, and
``update_connection`` reactivating ``unauthenticated`` triggers) on SQLite and PostgreSQL; and a
real OAuth re-sign-in (oauth2-mock-server from npm) bringing a trigger that met a 401 back.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pytest_httpserver import HTTPServer
from werkzeug import Request as WsgiRequest
from werkzeug import Response as WsgiResponse

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.examples.tasks import create_app as tasks_app
from connectorkit.examples.tasks import serve
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import EngineOptions
from connectorkit.runtime.listening import TriggerService
from connectorkit.runtime.store import NotFoundError, Store, generate_key
from connectorkit.runtime.store.repository import NewEvent
from connectorkit.runtime.triggers import PollState, TriggerOptions
from connectorkit.runtime.webhooks import token_digest
from connectorkit.server.app import create_app
from connectorkit.server.callbacks import callbacks_app
from postgres import fresh_database
from tasks_api import create_task, deployed_tasks
from test_console import login, tasks_console
from test_oauth import REDIRECT, SECRET, MockOAuth, follow_authorize, mock_oauth, oauth2_parameter  # noqa: F401
from test_webhooks import _definition, _package

from conftest import Run

KEY = "PLANTED-lifecycle-key-4b7e"
TOKEN = "lifecycle-api-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FAST = TriggerOptions(interval=0.0, min_interval=0.0, engine=EngineOptions(retries=0, backoff=0.01, timeout=10))
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def wait_until(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


# ------------------------------------------------------------------------ the store, both databases


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    clock = [T0]
    if request.param == "sqlite":
        with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key(), clock=lambda: clock[0]) as opened:
            yield opened
    else:
        with fresh_database() as url, Store(url, key=generate_key(), clock=lambda: clock[0]) as opened:
            yield opened


def connection_for(store: Store, connector: str = "tasks", key: str = "sk-old") -> str:
    store.save_connector(connector, {"apiDefinition.swagger.json": b"{}"})
    return store.create_connection(connector, {"api_key": key, "region": "eu"}, {"api_key"})


def test_status_change_replaces_state_and_callback_digest_in_one_write(store: Store) -> None:
    tasks = connection_for(store)
    hook = store.create_trigger(
        tasks, "OnTaskCreated", "webhook", {}, state={"subscription": {"location": "x"}}, callback_digest="d-old"
    )
    paused = store.set_trigger_status(hook.id, "stopped", "kept error", state={"other": 1})
    assert (paused.status, paused.last_error, paused.state, paused.has_callback) == (
        "stopped",
        "kept error",
        {"other": 1},
        True,
    )
    assert store.trigger_by_callback("d-old") is not None  # a stopped trigger keeps its digest: callbacks get 404
    resumed = store.set_trigger_status(hook.id, "active", callback_digest="d-new")
    assert (resumed.status, resumed.last_error, resumed.state) == ("active", None, {"other": 1})
    assert store.trigger_by_callback("d-old") is None
    found = store.trigger_by_callback("d-new")
    assert found is not None and found.id == hook.id
    other = store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="d-other")
    with pytest.raises(InputError, match="another trigger already uses this callback token"):
        store.set_trigger_status(other.id, "active", callback_digest="d-new")
    assert store.get_trigger(other.id).status == "active" and store.trigger_by_callback("d-other") is not None
    with pytest.raises(NotFoundError, match="no trigger with id 'nope'"):
        store.set_trigger_status("nope", "stopped", state={})


def test_a_callback_to_a_stopped_trigger_is_refused_and_stores_nothing(store: Store) -> None:
    tasks = connection_for(store)
    hook = store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="digest-1")
    store.set_trigger_status(hook.id, "stopped")
    with pytest.raises(NotFoundError):
        store.record_callback("digest-1", [NewEvent("id:1", {"id": 1})])
    assert store.events(hook.id) == []
    store.set_trigger_status(hook.id, "active")
    _, stored = store.record_callback("digest-1", [NewEvent("id:1", {"id": 1})])
    assert [e.key for e in stored] == ["id:1"]


def test_a_trigger_stopped_while_its_poll_runs_stays_stopped(store: Store) -> None:
    tasks = connection_for(store)
    record = store.create_trigger(tasks, "OnNewTasks", "polling", {}, state={"cursor": 1}, next_due_at=T0)
    [claimed] = store.claim_due_triggers("worker-1", T0, 60, 10)
    store.set_trigger_status(claimed.id, "stopped")  # `trigger stop` while the poll is under way
    store.commit_poll(claimed.id, "worker-1", {"cursor": 2}, [], T0, error="HTTP 401", status="unauthenticated")
    after = store.get_trigger(record.id)
    assert (after.status, after.state, after.last_error) == ("stopped", {"cursor": 2}, "HTTP 401")


def test_updating_a_connection_reactivates_only_its_unauthenticated_triggers(store: Store) -> None:
    tasks = connection_for(store)
    other = store.create_connection("tasks", {"api_key": "sk-other"}, {"api_key"})
    later = T0 + timedelta(hours=5)

    def polling(connection: str, status: str) -> str:
        record = store.create_trigger(connection, "OnNewTasks", "polling", {}, state={"cursor": 7}, next_due_at=later)
        store.set_trigger_status(record.id, status, f"was {status}")
        return record.id

    locked_out, broken, paused, running = (polling(tasks, s) for s in ("unauthenticated", "error", "stopped", "active"))
    hook = store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="dg")
    store.set_trigger_status(hook.id, "unauthenticated", "401")
    elsewhere = polling(other, "unauthenticated")
    assert store.claim_due_triggers("w", T0, 30) == []

    assert store.update_connection(tasks, {"api_key": "sk-new", "region": "us"}, {"api_key"}, None) == 2
    assert store.get_connection(tasks).parameters == {"api_key": "sk-new", "region": "us"}
    back = store.get_trigger(locked_out)
    assert (back.status, back.last_error, back.next_due_at, back.state) == ("active", None, T0, {"cursor": 7})
    webhook = store.get_trigger(hook.id)
    assert (webhook.status, webhook.last_error, webhook.next_due_at) == ("active", None, None)  # webhooks are never due
    assert [(store.get_trigger(t).status, store.get_trigger(t).last_error) for t in (broken, paused, running)] == [
        ("error", "was error"), ("stopped", "was stopped"), ("active", "was active"),
    ]  # fmt: skip
    assert store.get_trigger(elsewhere).status == "unauthenticated"  # another connection's credentials
    assert [t.id for t in store.claim_due_triggers("w", T0, 30)] == [locked_out]  # due now, the others later
    assert store.update_connection(tasks, {"api_key": "sk-new"}, {"api_key"}, None) == 0
    with pytest.raises(NotFoundError):
        store.update_connection("nope", {}, (), None)


def test_a_401_found_before_new_credentials_leaves_the_trigger_active(store: Store) -> None:
    """The poll began with the old credentials; the user signed in again before it committed:
    its 401 must not make the trigger wait for yet another sign-in (it is due again at once)."""
    tasks = connection_for(store)
    record = store.create_trigger(tasks, "OnNewTasks", "polling", {}, state={"failures": 3}, next_due_at=T0)
    later = T0 + timedelta(hours=1)
    [claimed] = store.claim_due_triggers("w", T0, 60)
    assert store.update_connection(tasks, {"api_key": "sk-new"}, {"api_key"}, None) == 0  # none waits yet
    store.commit_poll(claimed.id, "w", {"failures": 4}, [], later, error="HTTP 401", status="unauthenticated")
    after = store.get_trigger(record.id)
    assert (after.status, after.last_error, after.next_due_at, after.lease_owner) == ("active", "HTTP 401", T0, None)
    # A 401 under the credentials the poll began with still counts, also after a token refresh.
    [claimed] = store.claim_due_triggers("w", T0, 60)
    store.update_tokens(tasks, "access-2", None, None)
    store.commit_poll(claimed.id, "w", {"failures": 5}, [], later, error="HTTP 401", status="unauthenticated")
    assert (store.get_trigger(record.id).status, store.get_trigger(record.id).next_due_at) == ("unauthenticated", later)


def test_reactivation_resets_the_back_off_count(store: Store) -> None:
    tasks = connection_for(store)
    polling = store.create_trigger(tasks, "OnNewTasks", "polling", {}, state={"cursor": 2, "failures": 9})
    hook = store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, state={"subscription": {}}, callback_digest="d")
    for trigger in (polling, hook):
        store.set_trigger_status(trigger.id, "unauthenticated", "HTTP 401")
    assert store.update_connection(tasks, {"api_key": "sk-new"}, {"api_key"}, None) == 2
    assert store.get_trigger(polling.id).state == {"cursor": 2, "failures": 0}
    assert store.get_trigger(hook.id).state == {"subscription": {}}  # no back-off count: left alone


def test_claiming_one_trigger_leaves_the_others_alone(store: Store) -> None:
    tasks = connection_for(store)
    first, second = (store.create_trigger(tasks, "OnNewTasks", "polling", {}, next_due_at=T0) for _ in range(2))
    assert [t.id for t in store.claim_due_triggers("w", T0, 60, trigger_id=second.id)] == [second.id]
    assert store.claim_due_triggers("w", T0, 60, trigger_id=second.id) == []  # leased already
    assert store.get_trigger(first.id).lease_owner is None
    assert store.claim_due_triggers("w", T0 - timedelta(seconds=1), 60, trigger_id=first.id) == []  # not due yet
    assert [t.id for t in store.claim_due_triggers("w", T0, 60)] == [first.id]


def test_a_delivery_lease_is_held_by_one_worker_at_a_time(store: Store) -> None:
    tasks = connection_for(store)
    record = store.create_trigger(tasks, "OnNewTasks", "polling", {}, target_url="http://127.0.0.1:9/sink")
    [claimed] = store.claim_due_triggers("poller", T0, 60)  # the polling lease is another lease
    assert store.claim_delivery(record.id, "a", T0, 30)
    assert not store.claim_delivery(record.id, "b", T0, 30)
    assert not store.claim_delivery(record.id, "a", T0, 30)  # not even by another thread of the same id
    assert store.renew_delivery(record.id, "a", T0 + timedelta(seconds=20), 30)  # now held until T0 + 50 s
    assert not store.claim_delivery(record.id, "b", T0 + timedelta(seconds=45), 30)
    assert store.claim_delivery(record.id, "b", T0 + timedelta(seconds=50), 30)  # expired: taken over
    assert not store.renew_delivery(record.id, "a", T0 + timedelta(seconds=51), 30)  # "a" must stop sending
    assert not store.release_delivery(record.id, "a") and store.release_delivery(record.id, "b")
    assert store.claim_delivery(record.id, "c", T0, 30)
    assert store.release_leases("c") == 0 and not store.claim_delivery(record.id, "d", T0, 30)  # a live worker's
    assert store.release_leases("c", deliveries=True) == 0 and store.claim_delivery(record.id, "d", T0, 30)
    assert store.get_trigger(claimed.id).lease_owner == "poller"


# ------------------------------------------------------------------ the service, the Tasks example API


@pytest.fixture
def environment(tmp_path: Path) -> Iterator[LocalEnvironment]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key()) as opened:
        yield LocalEnvironment(opened)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as opened:
        yield opened


@pytest.fixture
def tasks(environment: LocalEnvironment) -> Iterator[tuple[str, httpx.Client]]:
    """The Tasks API (Retry-After 0) on a loopback port, its connector deployed, a connection made."""
    with deployed_tasks(environment, KEY, retry_after=0) as made:
        yield made


@pytest.fixture
def callbacks(environment: LocalEnvironment) -> Iterator[str]:
    with serve(callbacks_app(None, environment=environment)) as base:
        yield base


@pytest.fixture
def made_urls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The callback URLs the service makes (the token exists nowhere else by design)."""
    from connectorkit.runtime import listening

    made: list[str] = []
    real = listening.callback_url

    def capture(base: str, token: str) -> str:
        made.append(real(base, token))
        return made[-1]

    monkeypatch.setattr(listening, "callback_url", capture)
    return made


def test_a_stopped_polling_trigger_is_not_polled_and_resumes_from_its_cursor(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, api = tasks
    service = TriggerService(environment, client=client, options=FAST, worker_id="w-1")
    record = service.start(connection, "OnNewTasks", {})
    assert service.run_due() == []  # the seeding poll
    first = create_task(api, "before the stop")
    assert [e.key for e in service.run_due()] == [f"id:{first}"]
    cursor = environment.store.get_trigger(record.id).state

    paused = service.pause(record.id)
    assert (paused.status, paused.state, paused.kind) == ("stopped", cursor, "polling")
    assert service.pause(record.id) == paused  # idempotent: nothing changes
    missed = [create_task(api, f"while stopped {n}") for n in range(2)]
    environment.store.set_trigger_status(record.id, "stopped", next_due_at=datetime.now(UTC) - timedelta(hours=1))
    assert service.run_due() == [] and service.last_claimed == 0  # overdue, but stopped: never claimed
    assert service.next_due() is None
    kept = environment.store.get_trigger(record.id)
    assert kept.state == cursor and [e.key for e in environment.store.events(record.id)] == [f"id:{first}"]

    before = datetime.now(UTC)
    resumed = service.resume(record.id)
    assert resumed.status == "active" and resumed.last_error is None
    assert resumed.next_due_at is not None and before - timedelta(seconds=1) <= resumed.next_due_at <= datetime.now(UTC)
    assert service.resume(record.id) == resumed  # idempotent
    assert [e.key for e in service.run_due()] == [f"id:{i}" for i in missed]  # the cursor kept what it had not seen
    assert [e.key for e in environment.store.events(record.id)] == [f"id:{i}" for i in [first, *missed]]


def test_resume_brings_back_an_unauthenticated_or_failed_polling_trigger(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, _ = tasks
    service = TriggerService(environment, client=client, options=FAST)
    record = service.start(connection, "OnNewTasks", {})
    environment.store.set_trigger_status(record.id, "error", "HTTP 500", next_due_at=T0)
    resumed = service.resume(record.id)
    assert (resumed.status, resumed.last_error) == ("active", None)
    assert resumed.next_due_at is not None and resumed.next_due_at < T0
    with pytest.raises(NotFoundError, match="no trigger with id 'nope'"):
        service.pause("nope")
    with pytest.raises(NotFoundError, match="no trigger with id 'nope'"):
        service.resume("nope")


def test_resume_resets_the_back_off_count(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, _ = tasks
    service = TriggerService(environment, client=client, options=FAST)
    record = service.start(connection, "OnNewTasks", {})
    failing = PollState(failures=6).to_dict()
    environment.store.set_trigger_status(record.id, "stopped", "HTTP 500", state=failing)
    assert service.resume(record.id).state == {**failing, "failures": 0}


def test_a_failed_resubscribe_leaves_the_trigger_as_it_was(
    environment: LocalEnvironment, client: httpx.Client, made_urls: list[str]
) -> None:
    """The old subscription is still live at the backend: its callback URL must keep working."""
    with deployed_tasks(environment, KEY, retry_after=0) as (connection, _):
        service = TriggerService(environment, client=client, public_url="http://127.0.0.1:9")
        record = service.start(connection, "OnTaskCreated", {})
        old_token = made_urls[-1].rsplit("/", 1)[1]
        environment.store.update_connection(connection, {"api_key": "wrong"}, {"api_key"}, None)  # now 401
        with pytest.raises(ConnectorkitError):
            service.resubscribe(record.id)
        after = environment.store.get_trigger(record.id)
        assert (after.status, after.last_error, after.state) == (record.status, record.last_error, record.state)
        found = environment.store.trigger_by_callback(token_digest(old_token))
        assert found is not None and found.id == record.id
        assert environment.store.trigger_by_callback(token_digest(made_urls[-1].rsplit("/", 1)[1])) is None


def test_a_webhook_is_unsubscribed_while_stopped_and_subscribes_again_on_start(
    environment: LocalEnvironment,
    client: httpx.Client,
    tasks: tuple[str, httpx.Client],
    callbacks: str,
    made_urls: list[str],
) -> None:
    connection, api = tasks
    service = TriggerService(environment, client=client, options=FAST, public_url=callbacks)
    record = service.start(connection, "OnTaskCreated", {})
    assert record.state["subscription"]["location"].endswith("/hooks/1")
    first = create_task(api, "pushed")
    assert [e.key for e in wait_until(lambda: environment.store.events(record.id))] == [f"id:{first}"]

    paused = service.pause(record.id)
    assert paused.status == "stopped" and "subscription" not in paused.state and paused.has_callback
    assert api.delete("/hooks/1").status_code == 404  # the DELETE reached the API: no hook is left
    (old_url,) = made_urls
    late = client.post(old_url, json={"id": 99, "title": "late"})
    assert late.status_code == 404 and late.headers["content-type"] == "application/problem+json"
    create_task(api, "while stopped")  # the API has nobody to call back
    assert service.pause(record.id) == paused
    assert [e.key for e in environment.store.events(record.id)] == [f"id:{first}"]  # kept, and nothing new

    without_url = TriggerService(environment, client=client, options=FAST)
    with pytest.raises(InputError, match=f"trigger {record.id} \\(OnTaskCreated\\) is a webhook: --public-url"):
        without_url.resume(record.id)
    assert environment.store.get_trigger(record.id).status == "stopped"

    resumed = service.resume(record.id)
    assert resumed.status == "active" and resumed.state["subscription"]["location"].endswith("/hooks/2")
    assert service.resume(record.id) == resumed  # idempotent: no second subscription
    assert len(made_urls) == 2 and made_urls[1] != old_url
    third = create_task(api, "after the start")
    events = wait_until(lambda: len(environment.store.events(record.id)) >= 2 and environment.store.events(record.id))
    assert [e.key for e in events] == [f"id:{first}", f"id:{third}"]
    assert client.post(old_url, json={"id": 98, "title": "old token"}).status_code == 404  # the old URL is dead
    service.stop(record.id)
    assert api.delete("/hooks/2").status_code == 404


def test_failed_unsubscribe_or_subscribe_keeps_the_trigger_as_it_was(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer, made_urls: list[str]
) -> None:
    name, _ = environment.deploy(_package(_definition(httpserver.port)), "Orders")
    connection = environment.create_connection(name, {"api_key": KEY})
    seen: list[tuple[str, str, str | None]] = []

    def answer(status: int, location: str | None = None) -> Callable[[WsgiRequest], WsgiResponse]:
        def handle(request: WsgiRequest) -> WsgiResponse:
            seen.append((request.method, request.path, request.headers.get("X-Key")))
            return WsgiResponse("{}", status, headers={"Location": location} if location else {})

        return handle

    subscribe = "/api/subscriptions"
    httpserver.expect_oneshot_request(subscribe, method="POST").respond_with_handler(answer(201, "/api/subs/s-1"))
    service = TriggerService(environment, client=client, options=FAST, public_url="http://127.0.0.1:9")
    record = service.start(connection, "OnOrders", {"body/topic": "orders"})

    httpserver.expect_oneshot_request("/api/subs/s-1", method="DELETE").respond_with_handler(answer(409))
    with pytest.raises(ConnectorkitError, match=r"unsubscribing trigger OnOrders failed: .* HTTP 409"):
        service.pause(record.id)
    kept = environment.store.get_trigger(record.id)
    assert kept.status == "active" and kept.state == record.state

    httpserver.expect_oneshot_request("/api/subs/s-1", method="DELETE").respond_with_handler(answer(204))
    assert service.pause(record.id).status == "stopped"
    assert seen[1:] == [("DELETE", "/api/subs/s-1", KEY)] * 2  # signed by the connection, at the stored Location

    httpserver.expect_oneshot_request(subscribe, method="POST").respond_with_handler(answer(403))
    with pytest.raises(ConnectorkitError, match="subscribing with trigger OnOrders failed"):
        service.resume(record.id)
    failed = environment.store.get_trigger(record.id)
    assert failed.status == "stopped" and "subscription" not in failed.state

    httpserver.expect_oneshot_request(subscribe, method="POST").respond_with_handler(answer(201, "/api/subs/s-2"))
    resumed = service.resume(record.id)
    assert resumed.status == "active" and resumed.state["subscription"]["location"].endswith("/api/subs/s-2")
    token = made_urls[-1].rsplit("/", 1)[1]
    found = environment.store.trigger_by_callback(token_digest(token))
    assert found is not None and found.id == record.id
    assert all(environment.store.trigger_by_callback(token_digest(u.rsplit("/", 1)[1])) is None for u in made_urls[:-1])
    assert [m for m, _, _ in seen] == ["POST", "DELETE", "DELETE", "POST", "POST"]


def test_new_connection_values_bring_an_unauthenticated_trigger_back(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    _, api = tasks
    wrong = environment.create_connection("Tasks", {"api_key": "not-the-key"})
    service = TriggerService(environment, client=client, options=FAST)
    record = service.start(wrong, "OnNewTasks", {})
    assert service.run_due() == []
    locked = environment.store.get_trigger(record.id)
    assert locked.status == "unauthenticated" and "HTTP 401" in (locked.last_error or "")
    assert service.run_due() == [] and service.last_claimed == 0
    environment.store.update_connection(wrong, {"api_key": KEY}, {"api_key"}, None)
    assert environment.store.get_trigger(record.id).status == "active"
    assert service.run_due() == [] and service.last_claimed == 1  # the seeding poll, now accepted
    task = create_task(api, "after the fix")
    assert [e.key for e in service.run_due()] == [f"id:{task}"]
    assert environment.store.get_trigger(record.id).last_error is None


# -------------------------------------------------------------------- a real OAuth re-sign-in


def oauth_items_package(backend: HTTPServer, mock: MockOAuth) -> ConnectorPackage:
    """A connector signing in with OAuth 2.0 at oauth2-mock-server, with a batch polling trigger."""
    definition = {
        "swagger": "2.0",
        "info": {"title": "Items", "version": "1.0"},
        "host": f"127.0.0.1:{backend.port}",
        "basePath": "/",
        "schemes": ["http"],
        "securityDefinitions": {
            "oauth2_auth": {
                "type": "oauth2", "flow": "accessCode", "authorizationUrl": f"{mock.url}/authorize",
                "tokenUrl": f"{mock.url}/token", "scopes": {},
            }
        },
        "paths": {
            "/trigger/items": {
                "get": {
                    "operationId": "OnNewItems",
                    "x-ms-trigger": "batch",
                    "responses": {
                        "200": {"description": "new items", "schema": {"type": "array", "items": {
                            "type": "object", "properties": {"id": {"type": "integer"}}}}},
                        "202": {"description": "nothing new"},
                    },
                }
            }
        },
    }  # fmt: skip
    properties = {"properties": {"connectionParameters": {"token": oauth2_parameter(mock)}}}
    return ConnectorPackage.from_files(
        {
            "apiDefinition.swagger.json": json.dumps(definition).encode(),
            "apiProperties.json": json.dumps(properties).encode(),
        }
    )


def test_signing_in_again_reactivates_a_trigger_that_met_a_401(
    environment: LocalEnvironment,
    client: httpx.Client,
    httpserver: HTTPServer,
    mock_oauth: MockOAuth,  # noqa: F811
) -> None:
    """The backend stops accepting the first grant (consent revoked): the poll's 401, the refresh
    and the retried poll fail, the trigger is unauthenticated; "Fix connection" signs in again and
    the trigger polls at once with the new token."""
    accepted: set[str] = set()
    presented: list[str] = []

    def items(request: WsgiRequest) -> WsgiResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        presented.append(token)
        if token not in accepted:
            return WsgiResponse('{"error": "consent revoked"}', 401, content_type="application/json")
        return WsgiResponse("[]", 200, content_type="application/json")

    httpserver.expect_request("/trigger/items").respond_with_handler(items)
    name, _ = environment.deploy(oauth_items_package(httpserver, mock_oauth))
    started = environment.begin_sign_in(name, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT)
    query = follow_authorize(started.url, client)
    connection = environment.complete_sign_in(started.state, code=query["code"], client=client)

    service = TriggerService(environment, client=client, options=FAST)
    record = service.start(connection, "OnNewItems", {})
    assert service.run_due() == []
    locked = environment.store.get_trigger(record.id)
    assert locked.status == "unauthenticated", locked.last_error
    assert len(set(presented)) == 2  # the first token, then the refreshed one: both refused
    assert service.run_due() == [] and service.last_claimed == 0

    again = environment.begin_sign_in(name, {}, redirect_uri=REDIRECT, connection_id=connection)
    query = follow_authorize(again.url, client)
    assert environment.complete_sign_in(again.state, code=query["code"], client=client) == connection
    fresh = environment.store.get_connection(connection).access_token
    assert fresh is not None and fresh not in presented
    back = environment.store.get_trigger(record.id)
    assert (back.status, back.last_error) == ("active", None)
    assert back.next_due_at is not None and back.next_due_at <= datetime.now(UTC)
    accepted.add(fresh)
    assert service.run_due() == [] and service.last_claimed == 1
    assert presented[-1] == fresh
    polled = environment.store.get_trigger(record.id)
    assert (polled.status, polled.last_error) == ("active", None) and polled.state != PollState().to_dict()


# ----------------------------------------------------------------------------------- the CLI


class CliSetup:
    def __init__(self, db: str, store: Store, connection: str, api: httpx.Client, base: str) -> None:
        self.db, self.store, self.connection, self.api, self.base = db, store, connection, api, base


@pytest.fixture
def cli_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliSetup]:
    """A store whose key file sits beside it (as the CLI finds it), the Tasks API, a connection."""
    monkeypatch.delenv("CONNECTORKIT_SECRET_KEY", raising=False)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(db) as store, serve(tasks_app(KEY, retry_after=0)) as base:
        environment = LocalEnvironment(store)
        environment.deploy(create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks")).package)
        connection = environment.create_connection("Tasks", {"api_key": KEY})
        with httpx.Client(base_url=base, headers={"X-API-Key": KEY}) as api:
            yield CliSetup(db, store, connection, api, base)


def test_cli_trigger_stop_and_start_a_polling_trigger(cli: Callable[..., Run], cli_setup: CliSetup) -> None:
    store = cli_setup.store
    with httpx.Client() as client:
        record = TriggerService(LocalEnvironment(store), client=client).start(cli_setup.connection, "OnNewTasks", {})
    stopped = cli("trigger", "stop", record.id, "--db", cli_setup.db, "--format", "json")
    assert stopped.exit_code == 0, stopped.stderr
    shown = json.loads(stopped.stdout)
    assert (shown["id"], shown["status"], shown["kind"]) == (record.id, "stopped", "polling")
    assert store.get_trigger(record.id).status == "stopped"
    again = cli("trigger", "stop", record.id, "--db", cli_setup.db)
    assert again.exit_code == 0 and f"Trigger {record.id} is already stopped." in again.stdout
    listed = json.loads(cli("trigger", "list", "--db", cli_setup.db, "--format", "json").stdout)
    assert [(t["id"], t["status"]) for t in listed] == [(record.id, "stopped")]

    started = cli("trigger", "start", record.id, "--db", cli_setup.db)
    assert started.exit_code == 0, started.stderr
    assert f"Started trigger {record.id} (due now)." in started.stdout
    after = store.get_trigger(record.id)
    assert after.status == "active" and after.next_due_at is not None and after.next_due_at <= datetime.now(UTC)
    assert "already active" in cli("trigger", "start", record.id, "--db", cli_setup.db).stdout

    missing = cli("trigger", "stop", "nope", "--db", cli_setup.db)
    assert missing.exit_code == 2 and missing.stderr.strip() == "error: no trigger with id 'nope' in the store"
    assert cli("trigger", "start", "nope", "--db", cli_setup.db).exit_code == 2
    bad_port = cli("trigger", "start", record.id, "--db", cli_setup.db, "--port", "0")
    assert bad_port.exit_code == 2 and "--port 0" in bad_port.stderr
    helped = cli("trigger", "--help").stdout
    assert "stop" in helped and "start" in helped
    assert "--public-url" in cli("trigger", "start", "--help").stdout


def test_cli_trigger_stop_and_start_a_webhook(
    cli: Callable[..., Run], cli_setup: CliSetup, made_urls: list[str]
) -> None:
    store = cli_setup.store
    environment = LocalEnvironment(store)
    with serve(callbacks_app(None, environment=environment)) as callbacks, httpx.Client() as client:
        record = TriggerService(environment, client=client, public_url=callbacks).start(
            cli_setup.connection, "OnTaskCreated", {}
        )
        stopped = cli("trigger", "stop", record.id, "--db", cli_setup.db)
        assert stopped.exit_code == 0, stopped.stderr
        assert f"Stopped trigger {record.id} (unsubscribed; callbacks are refused)" in stopped.stdout
        assert cli_setup.api.delete("/hooks/1").status_code == 404
        assert client.post(made_urls[0], json={"id": 5, "title": "late"}).status_code == 404

        # No --public-url and no connectorkit server on the port: a clear one-line error, nothing changes.
        port = str(httpx.URL(cli_setup.base).port)  # the Tasks API answers there, not a connectorkit server
        refused = cli("trigger", "start", record.id, "--db", cli_setup.db, "--port", port)
        assert refused.exit_code == 2 and "--public-url" in refused.stderr and "\n" not in refused.stderr.strip()
        assert store.get_trigger(record.id).status == "stopped"

        started = cli("trigger", "start", record.id, "--db", cli_setup.db, "--public-url", callbacks, "-f", "json")
        assert started.exit_code == 0, started.stderr
        assert json.loads(started.stdout)["status"] == "active"
        assert store.get_trigger(record.id).state["subscription"]["location"].endswith("/hooks/2")
        task = create_task(cli_setup.api, "after cli start")
        assert [e.key for e in wait_until(lambda: store.events(record.id))] == [f"id:{task}"]
        assert cli("trigger", "delete", record.id, "--db", cli_setup.db).exit_code == 0
        assert cli_setup.api.delete("/hooks/2").status_code == 404


# ------------------------------------------------------------------------------ the API and console


@pytest.fixture
def api_store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'api.db'}", key=generate_key()) as opened:
        yield opened


@pytest.fixture
def api_tasks(api_store: Store) -> Iterator[tuple[str, httpx.Client]]:
    with serve(tasks_app(KEY, retry_after=0)) as base, httpx.Client(base_url=base, headers={"X-API-Key": KEY}) as api:
        environment = LocalEnvironment(api_store)
        environment.deploy(create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks")).package)
        yield environment.create_connection("Tasks", {"api_key": KEY}), api


def test_api_stop_and_start_a_polling_trigger_and_the_openapi_document(
    api_store: Store, api_tasks: tuple[str, httpx.Client]
) -> None:
    connection, api = api_tasks
    options = TriggerOptions(interval=0.05, min_interval=0.05, engine=EngineOptions(retries=0, timeout=10))
    app = create_app(store=api_store, token=TOKEN, trigger_options=options, worker=True, worker_tick=0.05)
    with TestClient(app) as http:
        trigger_id = http.post(
            "/api/triggers", json={"connection": connection, "operation": "OnNewTasks"}, headers=AUTH
        ).json()["id"]
        wait_until(lambda: api_store.get_trigger(trigger_id).state.get("first") is False)
        stopped = http.post(f"/api/triggers/{trigger_id}/stop", headers=AUTH)
        assert stopped.status_code == 200, stopped.text
        assert (stopped.json()["id"], stopped.json()["status"]) == (trigger_id, "stopped")
        wait_until(lambda: api_store.get_trigger(trigger_id).lease_owner is None)  # a poll under way has ended
        assert http.post(f"/api/triggers/{trigger_id}/stop", headers=AUTH).json()["status"] == "stopped"
        missed = create_task(api, "while stopped")
        polled_at = api_store.get_trigger(trigger_id).updated_at
        time.sleep(0.4)  # eight worker ticks
        assert api_store.get_trigger(trigger_id).updated_at == polled_at and api_store.events(trigger_id) == []

        started = http.post(f"/api/triggers/{trigger_id}/start", headers=AUTH)
        assert started.status_code == 200 and started.json()["status"] == "active"
        events = wait_until(lambda: http.get(f"/api/triggers/{trigger_id}/events", headers=AUTH).json())
        assert [e["key"] for e in events] == [f"id:{missed}"]

        assert http.post(f"/api/triggers/{trigger_id}/stop").status_code == 401
        for action in ("stop", "start"):
            missing = http.post(f"/api/triggers/nope/{action}", headers=AUTH)
            assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        document = http.get("/api/openapi.json").json()
        for action in ("stop", "start"):
            route = document["paths"][f"/api/triggers/{{trigger_id}}/{action}"]
            assert set(route) == {"post"} and route["post"]["tags"] == ["triggers"]
            answer = route["post"]["responses"]
            assert answer["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TriggerItem")
            assert {"401", "404", "502"} <= set(answer)
        assert "stopped" in document["components"]["schemas"]["TriggerItem"]["properties"]["status"]["description"]


def test_api_stop_and_start_a_webhook(api_store: Store, api_tasks: tuple[str, httpx.Client]) -> None:
    connection, api = api_tasks
    app = create_app(store=api_store, token=TOKEN)
    with serve(app) as base, httpx.Client(base_url=base, headers=AUTH) as http:
        app.state.server.triggers.public_url = base
        trigger_id = http.post("/api/triggers", json={"connection": connection, "operation": "OnTaskCreated"}).json()[
            "id"
        ]
        stopped = http.post(f"/api/triggers/{trigger_id}/stop")
        assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
        assert api.delete("/hooks/1").status_code == 404
        create_task(api, "lost while stopped")

        app.state.server.triggers.public_url = None
        refused = http.post(f"/api/triggers/{trigger_id}/start")
        assert refused.status_code == 400 and "--public-url" in refused.json()["detail"]
        assert api_store.get_trigger(trigger_id).status == "stopped"

        app.state.server.triggers.public_url = base
        started = http.post(f"/api/triggers/{trigger_id}/start")
        assert started.status_code == 200 and started.json()["status"] == "active"
        task = create_task(api, "after start")
        events = wait_until(lambda: http.get(f"/api/triggers/{trigger_id}/events").json())
        assert [e["key"] for e in events] == [f"id:{task}"]


def test_api_a_refused_unsubscribe_is_a_502_and_keeps_the_trigger(
    api_store: Store, httpserver: HTTPServer, made_urls: list[str]
) -> None:
    environment = LocalEnvironment(api_store)
    name, _ = environment.deploy(_package(_definition(httpserver.port)), "Orders")
    connection = environment.create_connection(name, {"api_key": KEY})
    httpserver.expect_oneshot_request("/api/subscriptions", method="POST").respond_with_data(
        "{}", 201, headers={"Location": "/api/subs/s-9"}
    )
    httpserver.expect_oneshot_request("/api/subs/s-9", method="DELETE").respond_with_data(f"no, {KEY}", 409)
    app = create_app(store=api_store, token=TOKEN, public_url="http://127.0.0.1:9")
    with TestClient(app) as http:
        started = http.post("/api/triggers", json={"connection": connection, "operation": "OnOrders"}, headers=AUTH)
        trigger_id = started.json()["id"]
        refused = http.post(f"/api/triggers/{trigger_id}/stop", headers=AUTH)
        assert refused.status_code == 502 and refused.headers["content-type"] == "application/problem+json"
        assert "HTTP 409" in refused.json()["detail"] and KEY not in refused.text
        assert api_store.get_trigger(trigger_id).status == "active"


def test_console_stop_and_start_buttons(tmp_path: Path) -> None:
    with tasks_console(tmp_path) as tc:
        csrf = login(tc.http)
        started = tc.http.post(
            "/console/connectors/Tasks/operations/OnNewTasks/trigger", data={"csrf": csrf, "connection": tc.connection}
        )
        trigger_id = started.headers["location"].split("/")[-1].split("?")[0]
        wait_until(lambda: tc.store.get_trigger(trigger_id).state.get("first") is False)
        listed = tc.http.get("/console/triggers").text
        row = listed[listed.index(f'<tr data-trigger="{trigger_id}">') :]
        assert f'action="/console/triggers/{trigger_id}/pause"' in row and ">Stop</button>" in row

        forged = tc.http.post(f"/console/triggers/{trigger_id}/pause", data={"csrf": "forged"})
        assert forged.status_code == 403 and tc.store.get_trigger(trigger_id).status == "active"
        paused = tc.http.post(f"/console/triggers/{trigger_id}/pause", data={"csrf": csrf})
        assert paused.status_code == 303 and paused.headers["location"] == f"/console/triggers/{trigger_id}?paused=1"
        page = tc.http.get(paused.headers["location"]).text
        assert f"Stopped trigger {trigger_id}; its state and events are kept" in page
        assert f'action="/console/triggers/{trigger_id}/resume"' in page and ">Start</button>" in page
        assert re.search(r'class="badge bad">stopped<', page)
        wait_until(lambda: tc.store.get_trigger(trigger_id).lease_owner is None)  # a poll under way has ended
        missed = create_task(tc.api, "while stopped")
        time.sleep(0.3)
        assert tc.store.events(trigger_id) == []

        resumed = tc.http.post(f"/console/triggers/{trigger_id}/resume", data={"csrf": csrf})
        assert resumed.status_code == 303 and resumed.headers["location"].endswith("?resumed=1")
        assert f"Started trigger {trigger_id} again." in tc.http.get(resumed.headers["location"]).text
        assert [e.key for e in wait_until(lambda: tc.store.events(trigger_id))] == [f"id:{missed}"]
        assert tc.http.post("/console/triggers/nope/pause", data={"csrf": csrf}).status_code == 404

        # A webhook without a public URL cannot subscribe again: one line, the trigger unchanged.
        hook = tc.store.create_trigger(tc.connection, "OnTaskCreated", "webhook", {}, callback_digest="d")
        tc.store.set_trigger_status(hook.id, "stopped")
        failed = tc.http.post(f"/console/triggers/{hook.id}/resume", data={"csrf": csrf})
        assert failed.status_code == 400
        error = re.search(r'<p class="error" role="alert">([^<]*)</p>', failed.text)
        assert (
            error is not None and error.group(1).startswith(f"Trigger {hook.id}: ") and "--public-url" in error.group(1)
        )
        assert tc.store.get_trigger(hook.id).status == "stopped"
