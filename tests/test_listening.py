"""TriggerService (runtime/listening.py) and the callbacks route (server/callbacks.py) against the
Tasks example API on loopback ports and a real SQLite store: polling end to end, webhooks end to
end, wrong tokens, payload problems, forwarding with retries, statuses, a worker process killed
with SIGKILL between polls that resumes with no event lost or duplicated, and polls that do not wait
on each other: a slow backend (pytest-httpserver answering on threads) delays no other trigger and
keeps its lease, and backend errors back off at the trigger level (one request per poll)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WsgiRequest
from werkzeug import Response as WsgiResponse

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.examples.tasks import create_app, serve
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import EngineOptions
from connectorkit.runtime.listening import DeliveryOptions, DeliveryReport, TriggerService, Worker
from connectorkit.runtime.store import Store, generate_key
from connectorkit.runtime.store.repository import NewEvent
from connectorkit.runtime.triggers import PollState, TriggerOptions
from connectorkit.runtime.webhooks import token_digest
from connectorkit.server.callbacks import MAX_BODY, callbacks_app
from postgres import fresh_database
from tasks_api import create_task, deployed_tasks
from test_webhooks import _definition, _package

KEY = "PLANTED-listen-key-71c2"
FAST = TriggerOptions(interval=0.0, min_interval=0.0, engine=EngineOptions(retries=1, backoff=0.01, timeout=10))
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def environment(store_url: str) -> Iterator[LocalEnvironment]:
    with Store(store_url, key=generate_key()) as store:
        yield LocalEnvironment(store)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as opened:
        yield opened


@pytest.fixture
def tasks(environment: LocalEnvironment) -> Iterator[tuple[str, httpx.Client]]:
    """The Tasks API (Retry-After 0) on a loopback port, its connector deployed, a connection made."""
    with deployed_tasks(environment, KEY, retry_after=0) as made:
        yield made


# ------------------------------------------------------------------------------------- polling


def test_polling_end_to_end_seeds_fires_once_and_a_replay_adds_nothing(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, api = tasks
    service = TriggerService(environment, client=client, options=FAST, worker_id="w-1")
    create_task(api, "before the trigger")
    record = service.start(connection, "OnNewTasks", {})
    assert record.kind == "polling" and record.status == "active" and record.state["first"] is True
    assert service.run_due() == []  # the first poll only seeds the cursor
    seeded = environment.store.get_trigger(record.id).state
    assert seeded["first"] is False and seeded["next_url"].endswith("since=1")
    ids = [create_task(api, f"task {n}") for n in range(3)]
    fired = service.run_due()
    assert [e.key for e in fired] == [f"id:{i}" for i in ids]
    assert [e.body["title"] for e in fired] == ["task 0", "task 1", "task 2"]
    assert service.run_due() == []  # 202: nothing new
    # A worker that died after the backend answered but before committing polls again from the old state.
    environment.store.save_trigger_state(record.id, seeded)
    assert service.run_due() == []
    assert [e.key for e in environment.store.events(record.id)] == [f"id:{i}" for i in ids]
    assert KEY not in json.dumps(environment.store.get_trigger(record.id).state)
    service.stop(record.id)
    assert environment.store.list_triggers() == []


def test_actions_and_webhooks_without_a_public_url_are_refused(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, _ = tasks
    service = TriggerService(environment, client=client, options=FAST)
    with pytest.raises(InputError, match="operation 'CreateTask' is an action"):
        service.start(connection, "CreateTask", {})
    with pytest.raises(InputError, match="--public-url"):
        service.start(connection, "OnTaskCreated", {})
    with pytest.raises(InputError, match="--forward"):
        service.start(connection, "OnNewTasks", {}, target_url="ftp://x")
    assert environment.store.list_triggers() == []


def test_401_makes_the_trigger_unauthenticated_and_a_broken_trigger_is_an_error(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    wrong = environment.create_connection("Tasks", {"api_key": "not-the-key"})
    service = TriggerService(environment, client=client, options=FAST)
    record = service.start(wrong, "OnNewTasks", {})
    assert service.run_due() == []
    after = environment.store.get_trigger(record.id)
    assert after.status == "unauthenticated" and "HTTP 401" in (after.last_error or "")
    assert after.lease_owner is None
    # An operation that is not a trigger (stored behind the service's back) cannot be polled at all.
    broken = environment.store.create_trigger(wrong, "CreateTask", "polling", {}, state=PollState().to_dict())
    service.run_due()
    failed = environment.store.get_trigger(broken.id)
    assert failed.status == "error" and "'CreateTask' is an action" in (failed.last_error or "")
    assert service.run_due() == []  # neither is claimed again


def test_a_poll_whose_lease_was_taken_over_is_discarded(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client]
) -> None:
    connection, api = tasks
    record = TriggerService(environment, client=client, options=FAST).start(connection, "OnNewTasks", {})
    TriggerService(environment, client=client, options=FAST).run_due()  # seed
    create_task(api, "contested")
    slow = TriggerService(environment, client=client, options=FAST, worker_id="slow", lease_seconds=0.001)
    calls: list[datetime] = []

    def clock() -> datetime:
        """The first call claims; by the second (after the poll) the lease has expired and
        worker "fast" has taken the trigger over."""
        calls.append(datetime.now(UTC))
        if len(calls) == 2:
            assert environment.store.claim_due_triggers("fast", calls[0] + timedelta(seconds=5), 60)
        return calls[-1]

    slow.clock = clock
    assert slow.run_due() == []
    assert environment.store.events(record.id) == []
    assert environment.store.get_trigger(record.id).lease_owner == "fast"


def test_deliver_forwards_in_order_with_retries(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client], httpserver: HTTPServer
) -> None:
    connection, api = tasks
    naps: list[float] = []
    service = TriggerService(
        environment, client=client, options=FAST, delivery=DeliveryOptions(retries=1, backoff=0.25), sleep=naps.append
    )
    record = service.start(connection, "OnNewTasks", {}, target_url=httpserver.url_for("/sink"))
    service.run_due()
    create_task(api, "one")
    create_task(api, "two")
    assert len(service.run_due()) == 2
    received: list[tuple[str, Any]] = []
    failing = {"left": 2}

    def sink(request: WsgiRequest) -> WsgiResponse:
        if failing["left"]:
            failing["left"] -= 1
            return WsgiResponse("busy", status=503)
        received.append((request.headers["X-Connectorkit-Event-Key"], request.get_json()))
        return WsgiResponse("", status=204)

    httpserver.expect_request("/sink", method="POST").respond_with_handler(sink)
    report = service.deliver()
    assert (report.delivered, report.failed) == (0, 1) and "HTTP 503" in report.errors[0]
    assert naps == [0.25]
    pending = environment.store.pending_events(record.id)
    assert [e.attempts for e in pending] == [1, 0]  # the second waited behind the first
    report = service.deliver()
    assert (report.delivered, report.failed) == (2, 0)
    assert [key for key, _ in received] == ["id:1", "id:2"]
    assert [body["title"] for _, body in received] == ["one", "two"]
    assert environment.store.pending_events(record.id) == []


# ------------------------------------------------------------------------------------- webhooks


@pytest.fixture
def callbacks(environment: LocalEnvironment) -> Iterator[str]:
    with serve(callbacks_app(None, environment=environment)) as base:
        yield base


def test_webhook_end_to_end_subscribe_receive_stop(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client], callbacks: str
) -> None:
    connection, api = tasks
    service = TriggerService(environment, client=client, options=FAST, public_url=callbacks)
    record = service.start(connection, "OnTaskCreated", {})
    subscription = record.state["subscription"]
    assert record.kind == "webhook" and record.has_callback and subscription["location"].endswith("/hooks/1")
    assert "/callbacks/" not in json.dumps(record.state)  # the token is not stored, not even echoed
    task_id = create_task(api, "pushed")
    events = wait_for_events(environment, record.id, 1)
    assert [(e.key, e.body["title"], e.problems) for e in events] == [(f"id:{task_id}", "pushed", [])]
    assert service.run_due() == []  # webhooks are never polled
    service.stop(record.id)
    assert environment.store.list_triggers() == []
    assert api.delete("/hooks/1").status_code == 404  # the API has no hook left


def wait_for_events(environment: LocalEnvironment, trigger_id: str, count: int, timeout: float = 10) -> list[Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = environment.store.events(trigger_id)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_wrong_token_is_404_and_a_mismatching_payload_is_recorded_with_its_problem(
    environment: LocalEnvironment,
    client: httpx.Client,
    tasks: tuple[str, httpx.Client],
    callbacks: str,
    made_urls: list[str],
) -> None:
    connection, _ = tasks
    service = TriggerService(environment, client=client, options=FAST, public_url=callbacks)
    record = service.start(connection, "OnTaskCreated", {})
    hook = record.state["subscription"]["body"]
    assert hook["callbackUrl"] == "***"
    wrong = client.post(f"{callbacks}/callbacks/not-a-real-token-123", json={"id": 1})
    assert wrong.status_code == 404 and wrong.headers["content-type"] == "application/problem+json"
    assert "not-a-real-token" not in wrong.text
    assert environment.store.events(record.id) == []
    (url,) = made_urls
    found = environment.store.trigger_by_callback(token_digest(url.rsplit("/", 1)[1]))
    assert found is not None and found.id == record.id
    assert environment.store.trigger_by_callback(token_digest("not-a-real-token-123")) is None
    bad = client.post(url, json={"id": 7, "title": 5})
    assert bad.status_code == 202 and bad.json() == {"stored": 1}
    stored = environment.store.events(record.id)
    assert stored[0].key == "id:7" and any("/title" in p and "string" in p for p in stored[0].problems)
    assert client.post(url, json={"id": 7, "title": 5}).json() == {"stored": 0}  # a re-sent event adds nothing
    too_big = client.post(url, content=b"x" * (MAX_BODY + 1))
    assert too_big.status_code == 413
    environment.store.set_trigger_status(record.id, "stopped")  # a stopped trigger takes no callbacks
    assert client.post(url, json={"id": 9}).status_code == 404
    assert [e.key for e in environment.store.events(record.id)] == ["id:7"]
    environment.store.set_trigger_status(record.id, "active")
    service.stop(record.id)
    assert client.post(url, json={"id": 8}).status_code == 404


@pytest.fixture
def made_urls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The callback URLs the service makes: the token exists nowhere else by design (only its
    digest is stored, and the subscribe call's history masks it)."""
    from connectorkit.runtime import listening

    made: list[str] = []
    real = listening.callback_url

    def capture(base: str, token: str) -> str:
        made.append(real(base, token))
        return made[-1]

    monkeypatch.setattr(listening, "callback_url", capture)
    return made


def test_subscription_without_location_is_a_clear_error_and_nothing_is_kept(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer
) -> None:
    name, _ = environment.deploy(_package(_definition(httpserver.port)), "Orders")
    connection = environment.create_connection(name, {"api_key": KEY})
    httpserver.expect_oneshot_request("/api/subscriptions", method="POST").respond_with_json({"subscriptionId": "s-1"})
    httpserver.expect_oneshot_request("/api/subscriptions/s-1", method="DELETE").respond_with_data("", 204)
    service = TriggerService(environment, client=client, public_url="http://127.0.0.1:9")
    with pytest.raises(ConnectorkitError, match=r"^trigger OnOrders: the subscription answered HTTP 200 without a Loc"):
        service.start(connection, "OnOrders", {})
    assert environment.store.list_triggers() == []


def test_callback_route_is_mounted_in_the_server(environment: LocalEnvironment) -> None:
    from connectorkit.server.app import create_app as server_app

    with serve(server_app(store=environment.store, token="t" * 32)) as base:
        answer = httpx.post(f"{base}/callbacks/unknown-token-xyz", json={})
    assert answer.status_code == 404 and answer.json()["status"] == 404


# ------------------------------------------------------------------------------------- durability

WORKER = """
import sys, time, httpx
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import EngineOptions
from connectorkit.runtime.listening import TriggerService
from connectorkit.runtime.store import Store
from connectorkit.runtime.triggers import PollState, TriggerOptions

options = TriggerOptions(interval=0.0, min_interval=0.0, engine=EngineOptions(retries=0, timeout=10))
with Store(sys.argv[1], key=sys.argv[2]) as store, httpx.Client() as client:
    service = TriggerService(LocalEnvironment(store), client=client, options=options, worker_id="durable-worker")
    service.recover()  # same worker id: the killed incarnation's lease is ours to take back
    while True:
        fired = service.run_due()
        print(f"poll {len(fired)}", flush=True)
        time.sleep(0.01)
"""


def test_sigkill_between_polls_loses_and_duplicates_nothing(
    tmp_path: Path, store_url: str, client: httpx.Client
) -> None:
    key = generate_key()
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    with Store(store_url, key=key) as store, serve(create_app(KEY, retry_after=0)) as base:
        environment = LocalEnvironment(store)
        environment.deploy(create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks")).package)
        connection = environment.create_connection("Tasks", {"api_key": KEY})
        record = TriggerService(environment, client=client).start(connection, "OnNewTasks", {})
        api = httpx.Client(base_url=base, headers={"X-API-Key": KEY})
        env = {**os.environ, "PYTHONPATH": str(SRC)}

        def launch() -> subprocess.Popen[str]:
            worker = subprocess.Popen(
                [sys.executable, str(script), store_url, key.decode()],
                stdout=subprocess.PIPE, text=True, env=env,
            )  # fmt: skip
            assert worker.stdout is not None
            for _ in range(3):  # wait for a few polls before anything else happens
                assert worker.stdout.readline().startswith("poll"), "the worker did not start"
            return worker

        worker = launch()
        assert store.get_trigger(record.id).state["first"] is False  # seeded before any task exists
        total = 50

        def create_all() -> None:
            for n in range(total):
                create_task(api, f"t{n}")
                time.sleep(0.04)

        creator = threading.Thread(target=create_all)
        creator.start()
        kills = 0
        seen: list[int] = []  # events stored at each kill
        try:
            for _ in range(3):
                time.sleep(0.25)
                seen.append(len(store.events(record.id, limit=1000)))
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=10)
                kills += 1
                worker = launch()
            creator.join(timeout=30)
            deadline = time.monotonic() + 20
            while len(store.events(record.id, limit=1000)) < total and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            api.close()
        events = store.events(record.id, limit=1000)
        assert kills == 3
        assert any(0 < count < total for count in seen), seen  # killed while events were flowing
        assert [e.key for e in events] == [f"id:{n}" for n in range(1, total + 1)]
        assert [e.body["title"] for e in events] == [f"t{n}" for n in range(total)]


# ------------------------------------------------------------------- concurrency and back-off


def items_package(port: int) -> ConnectorPackage:
    """A native batch polling trigger ``OnItems`` (query ``name``) on ``127.0.0.1:port``."""
    definition = {
        "swagger": "2.0",
        "info": {"title": "Items", "version": "1.0"},
        "host": f"127.0.0.1:{port}",
        "schemes": ["http"],
        "paths": {
            "/trigger/items": {
                "get": {
                    "operationId": "OnItems",
                    "x-ms-trigger": "batch",
                    "parameters": [{"name": "name", "in": "query", "required": True, "type": "string"}],
                    "responses": {
                        "200": {
                            "description": "New items",
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "value": {
                                        "type": "array",
                                        "items": {"type": "object", "properties": {"id": {"type": "string"}}},
                                    }
                                },
                            },
                        },
                        "202": {"description": "Nothing new"},
                    },
                }
            }
        },
    }
    files = {
        "apiDefinition.swagger.json": json.dumps(definition).encode(),
        "apiProperties.json": json.dumps({"properties": {"connectionParameters": {}}}).encode(),
    }
    return ConnectorPackage.from_files(files)


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A pytest-httpserver answering requests on threads of their own (slow answers overlap)."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def items_connection(environment: LocalEnvironment, port: int) -> str:
    environment.deploy(items_package(port), "Items")
    return environment.create_connection("Items", {})


@pytest.mark.parametrize("concurrency", [1, 2])
def test_a_slow_backend_does_not_delay_the_other_triggers_polls(
    environment: LocalEnvironment, client: httpx.Client, threaded_server: HTTPServer, concurrency: int
) -> None:
    """With one polling thread the slow poll holds it for ``slow_poll`` (0.5 s) only: then it
    stops counting and a thread is added; with two, the fast trigger never waits."""
    polls: list[tuple[str, float, float]] = []  # (trigger name, start, end)

    def handler(request: WsgiRequest) -> WsgiResponse:
        started = time.monotonic()
        if request.args["name"] == "slow":
            time.sleep(3.0)
        polls.append((request.args["name"], started, time.monotonic()))
        return WsgiResponse(status=202, headers={"Location": request.url, "Retry-After": "0"})

    threaded_server.expect_request("/trigger/items").respond_with_handler(handler)
    connection = items_connection(environment, threaded_server.port)
    options = TriggerOptions(interval=0.2, min_interval=0.2, engine=EngineOptions(retries=0, timeout=10))
    service = TriggerService(environment, client=client, options=options, worker_id="w1", concurrency=concurrency)
    service.start(connection, "OnItems", {"name": "slow"})
    service.start(connection, "OnItems", {"name": "fast"})
    # run_due: both polls run at once; the fast one is done long before the slow one.
    service.run_due()
    (slow_start, slow_end), (fast_start, fast_end) = [(s, e) for n in ("slow", "fast") for _, s, e in polls if _ == n]
    assert fast_start < slow_start + 1.0 and fast_end < slow_end - 1.0, polls
    # The worker loop: while the slow backend takes 3 s, the fast trigger keeps its 0.2 s schedule.
    polls.clear()
    worker = Worker(service, tick=0.1)
    worker.start()
    try:
        deadline = time.monotonic() + 15
        while not any(name == "slow" for name, _, _ in polls) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    [(slow_start, slow_end)] = [(s, e) for name, s, e in polls if name == "slow"]
    during = [s for name, s, _ in polls if name == "fast" and slow_start <= s <= slow_end]
    assert len(during) >= 6, polls
    assert worker.errors == 0 and service.poll_errors == 0
    assert all(t.lease_owner is None for t in environment.store.list_triggers())  # given back at stop


@pytest.mark.parametrize("status", [503, 429, 408])
def test_backend_errors_back_off_at_the_trigger_level_and_recover(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer, status: int
) -> None:
    answers: list[tuple[int, dict[str, str]]] = []  # what the backend answers next, in order
    requests: list[float] = []

    def handler(request: WsgiRequest) -> WsgiResponse:
        requests.append(time.monotonic())
        code, headers = answers.pop(0)
        if code == 200:
            items = {"value": [{"id": "a"}, {"id": "b"}]}
            return WsgiResponse(json.dumps(items), status=200, headers=headers, content_type="application/json")
        return WsgiResponse(json.dumps({"error": "busy"}), status=code, headers=headers)

    httpserver.expect_request("/trigger/items").respond_with_handler(handler)
    connection = items_connection(environment, httpserver.port)
    # The engine options ask for four inline retries: a poll must not use them.
    engine = EngineOptions(retries=4, backoff=0.01, timeout=10)
    options = TriggerOptions(interval=30, min_interval=1, max_interval=5, engine=engine)
    now = [datetime.now(UTC)]
    service = TriggerService(environment, client=client, options=options, clock=lambda: now[0], worker_id="w")
    record = service.start(connection, "OnItems", {"name": "x"})

    def poll(answer: tuple[int, dict[str, str]]) -> tuple[list[Any], float]:
        """One poll at the trigger's due time: the events it stored and the seconds to its next."""
        answers.append(answer)
        before = len(requests)
        fired = service.run_due()
        assert len(requests) == before + 1 and answers == []  # one call: no retry inside the engine
        stored = environment.store.get_trigger(record.id)
        assert stored.lease_owner is None and stored.status == "active"
        assert stored.next_due_at is not None
        wait = (stored.next_due_at - now[0]).total_seconds()
        now[0] = stored.next_due_at
        return [e.key for e in fired], wait

    waits = []
    for answer in [
        (status, {"Retry-After": "4"}),
        (status, {}),
        (status, {}),
        (status, {}),
        (status, {"Retry-After": "60"}),
    ]:
        fired, wait = poll(answer)
        assert fired == []
        failing = environment.store.get_trigger(record.id)
        assert f"HTTP {status}" in (failing.last_error or "") and failing.state["failures"] == len(waits) + 1
        waits.append(wait)
    # Doubling from min_interval (1, 2, 4, 8), at least Retry-After (4), at most max_interval (5).
    assert waits == [4.0, 2.0, 4.0, 5.0, 5.0]
    # Recovery: the items fire once, the error and the failure count are cleared.
    fired, wait = poll((200, {"Retry-After": "2"}))
    recovered = environment.store.get_trigger(record.id)
    assert fired == ['id:"a"', 'id:"b"'] and wait == 2.0
    assert recovered.last_error is None and recovered.state["failures"] == 0
    # The back-off starts again from the bottom; the same items again add nothing.
    assert poll((status, {})) == ([], 1.0)
    assert poll((200, {})) == ([], 5.0)
    assert [e.key for e in environment.store.events(record.id)] == ['id:"a"', 'id:"b"']


def test_a_slow_poll_keeps_its_lease_and_commits_once(
    environment: LocalEnvironment, client: httpx.Client, threaded_server: HTTPServer
) -> None:
    asked = threading.Event()

    def handler(request: WsgiRequest) -> WsgiResponse:
        asked.set()
        time.sleep(4.0)
        items = {"value": [{"id": "only"}]}
        return WsgiResponse(json.dumps(items), status=200, content_type="application/json")

    threaded_server.expect_request("/trigger/items").respond_with_handler(handler)
    connection = items_connection(environment, threaded_server.port)
    options = TriggerOptions(interval=60, engine=EngineOptions(retries=0, timeout=10))
    service = TriggerService(environment, client=client, options=options, worker_id="slow", lease_seconds=2.0)
    record = service.start(connection, "OnItems", {"name": "x"})
    fired: list[list[Any]] = []
    polling = threading.Thread(target=lambda: fired.append(service.run_due()))
    polling.start()
    assert asked.wait(10)  # leased and being polled
    taken = []
    while polling.is_alive():  # another worker keeps trying to take the trigger over
        taken += environment.store.claim_due_triggers("other", datetime.now(UTC), 2.0)
        time.sleep(0.1)
    polling.join()
    assert taken == []  # the 2 s lease was renewed through the 4 s poll
    assert [e.key for e in fired[0]] == ['id:"only"']
    after = environment.store.get_trigger(record.id)
    assert after.lease_owner is None and after.last_error is None
    assert [e.key for e in environment.store.events(record.id)] == ['id:"only"']


def test_concurrent_polls_store_each_event_once_in_lease_order(
    environment: LocalEnvironment, client: httpx.Client, threaded_server: HTTPServer
) -> None:
    def handler(request: WsgiRequest) -> WsgiResponse:
        name = request.args["name"]
        time.sleep(0.05 * (ord(name[-1]) % 3))  # finish out of order
        items = {"value": [{"id": f"{name}-{n}"} for n in range(3)]}
        return WsgiResponse(json.dumps(items), status=200, content_type="application/json")

    threaded_server.expect_request("/trigger/items").respond_with_handler(handler)
    connection = items_connection(environment, threaded_server.port)
    options = TriggerOptions(interval=0, min_interval=0, engine=EngineOptions(retries=0, timeout=10))
    service = TriggerService(environment, client=client, options=options, worker_id="w", concurrency=3)
    names = [f"t{n}" for n in range(8)]
    records = [service.start(connection, "OnItems", {"name": name}) for name in names]
    order = {r.id: r.arguments["name"] for r in environment.store.claim_due_triggers("peek", datetime.now(UTC), 1)}
    environment.store.release_leases("peek")
    first = service.run_due()
    assert sorted(e.key for e in first) == sorted(f'id:"{name}-{n}"' for name in names for n in range(3))
    by_trigger = [e.trigger_id for e in first]
    assert by_trigger == sorted(by_trigger, key=list(order).index)  # trigger by trigger, in lease order
    assert service.run_due() == []  # the same items again: nothing new
    assert sum(len(environment.store.events(r.id)) for r in records) == 24


def test_stopping_a_worker_drops_queued_polls_and_gives_every_lease_back(
    environment: LocalEnvironment, client: httpx.Client, threaded_server: HTTPServer
) -> None:
    started: list[str] = []

    def handler(request: WsgiRequest) -> WsgiResponse:
        started.append(request.args["name"])
        time.sleep(1.0)
        return WsgiResponse(status=202, headers={"Location": request.url, "Retry-After": "60"})

    threaded_server.expect_request("/trigger/items").respond_with_handler(handler)
    connection = items_connection(environment, threaded_server.port)
    options = TriggerOptions(engine=EngineOptions(retries=0, timeout=10))
    service = TriggerService(environment, client=client, options=options, worker_id="w", concurrency=1)
    for n in range(3):
        service.start(connection, "OnItems", {"name": f"t{n}"})
    worker = Worker(service, tick=0.1, drain=5)
    worker.start()
    deadline = time.monotonic() + 10
    while not started and time.monotonic() < deadline:
        time.sleep(0.02)
    began = time.monotonic()
    worker.stop()
    assert time.monotonic() - began < 2.5  # the running poll finished; the two queued were dropped
    triggers = environment.store.list_triggers()
    assert len(started) == 1 and all(t.lease_owner is None for t in triggers)
    assert sorted(t.state["first"] for t in triggers) == [False, True, True]  # one committed, two untouched


def test_bad_concurrency_settings_are_refused(environment: LocalEnvironment, client: httpx.Client) -> None:
    with pytest.raises(InputError, match="concurrency"):
        TriggerService(environment, client=client, concurrency=0)
    with pytest.raises(InputError, match="drain"):
        Worker(TriggerService(environment, client=client), drain=-1)


# ------------------------------------------------------------------ several processes, one store


def test_two_services_delivering_at_once_post_each_event_once(
    environment: LocalEnvironment, threaded_server: HTTPServer
) -> None:
    """Two workers (``serve --worker`` twice, or ``serve`` and ``listen --forward``) forward at
    the same time: the trigger's delivery lease lets one of them POST its events, in order."""
    received: list[str] = []

    def sink(request: WsgiRequest) -> WsgiResponse:
        time.sleep(0.2)  # both services are surely under way while an event is in flight
        received.append(request.headers["X-Connectorkit-Event-Key"])
        return WsgiResponse("", status=204)

    threaded_server.expect_request("/sink", method="POST").respond_with_handler(sink)
    store = environment.store
    connection = environment.create_connection(
        environment.deploy(_package(_definition(threaded_server.port)), "Orders")[0], {"api_key": KEY}
    )
    hook = store.create_trigger(
        connection, "OnOrders", "webhook", {}, callback_digest="d1", target_url=threaded_server.url_for("/sink")
    )
    store.record_callback("d1", [NewEvent(f"id:{n}", {"id": n}) for n in range(3)])
    start = threading.Barrier(2)
    reports: list[DeliveryReport] = []

    def deliver(name: str) -> None:
        with httpx.Client() as own:
            service = TriggerService(environment, client=own, worker_id=name)
            start.wait()
            reports.append(service.deliver())

    threads = [threading.Thread(target=deliver, args=(name,)) for name in ("w-a", "w-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert received == ["id:0", "id:1", "id:2"]
    assert sorted(report.delivered for report in reports) == [0, 3] and store.pending_events(hook.id) == []
    assert store.get_trigger(hook.id).lease_owner is None and store.claim_delivery(hook.id, "w-c", T_FAR, 1)


T_FAR = datetime(2040, 1, 1, tzinfo=UTC)


def test_a_dead_workers_delivery_lease_holds_its_events_until_it_expires(
    environment: LocalEnvironment, client: httpx.Client, httpserver: HTTPServer
) -> None:
    """A worker killed mid-POST leaves its delivery lease: the others wait for it to expire, then
    POST from its in-flight event on (the one event that may arrive twice, with the same key)."""
    store = environment.store
    connection = environment.create_connection(
        environment.deploy(_package(_definition(httpserver.port)), "Orders")[0], {"api_key": KEY}
    )
    hook = store.create_trigger(
        connection, "OnOrders", "webhook", {}, callback_digest="d2", target_url=httpserver.url_for("/sink")
    )
    store.record_callback("d2", [NewEvent("id:1", {"id": 1})])
    now = [T_FAR]
    service = TriggerService(environment, client=client, worker_id="live", clock=lambda: now[0], lease_seconds=60)
    assert store.claim_delivery(hook.id, "dead", T_FAR, service.lease_seconds + service.delivery.timeout)
    httpserver.expect_request("/sink", method="POST").respond_with_data("", status=204)
    assert service.deliver().delivered == 0 and httpserver.log == []
    now[0] = T_FAR + timedelta(seconds=69)
    assert service.deliver().delivered == 0
    now[0] = T_FAR + timedelta(seconds=70)
    assert service.deliver().delivered == 1 and len(httpserver.log) == 1


def test_run_due_and_deliver_only_touch_the_trigger_named(
    environment: LocalEnvironment, client: httpx.Client, tasks: tuple[str, httpx.Client], httpserver: HTTPServer
) -> None:
    """What ``connectorkit listen`` uses: its own trigger, never the store's durable ones."""
    connection, api = tasks
    service = TriggerService(environment, client=client, options=FAST)
    sink = httpserver.url_for("/sink")
    durable, mine = (service.start(connection, "OnNewTasks", {}, target_url=sink) for _ in range(2))
    service.run_due(only=mine.id)
    assert environment.store.get_trigger(durable.id).state == durable.state  # not polled
    assert environment.store.get_trigger(mine.id).state["first"] is False
    service.run_due()  # both seeded
    create_task(api, "one")
    assert sorted(e.trigger_id for e in service.run_due()) == sorted([durable.id, mine.id])
    httpserver.expect_request("/sink", method="POST").respond_with_data("", status=204)
    assert service.deliver(only=mine.id).delivered == 1
    assert [h.headers["X-Connectorkit-Trigger"] for h, _ in httpserver.log] == [mine.id]
    assert len(environment.store.pending_events(durable.id)) == 1


def test_a_poll_the_database_refuses_is_recorded_and_backed_off(client: httpx.Client, httpserver: HTTPServer) -> None:
    """PostgreSQL's JSON refuses NaN (Python's json reads it): the commit fails. The trigger must
    not stay leased with no error: the failure is recorded (type only), the lease given back and
    the next poll backed off from the old state, while the worker goes on."""
    body = '{"value": [{"id": "a", "score": NaN}]}'
    httpserver.expect_request("/trigger/items").respond_with_data(body, content_type="application/json")
    options = TriggerOptions(interval=1, min_interval=1, engine=EngineOptions(retries=0, timeout=10))
    with fresh_database() as url, Store(url, key=generate_key()) as store:
        environment = LocalEnvironment(store)
        connection = items_connection(environment, httpserver.port)
        service = TriggerService(environment, client=client, options=options, worker_id="w1")
        record = service.start(connection, "OnItems", {"name": "x"})
        began = datetime.now(UTC)
        assert service.run_due() == []
        after = store.get_trigger(record.id)
        assert (after.status, after.lease_owner, after.state) == ("active", None, {**record.state, "failures": 1})
        assert after.last_error is not None and "DataError" in after.last_error and "NaN" not in after.last_error
        assert after.next_due_at is not None and after.next_due_at >= began + timedelta(seconds=1)
        assert store.events(record.id) == []
        assert service.run_due() == []  # not due yet: backed off
