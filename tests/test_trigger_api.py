"""The trigger API of ``connectorkit serve`` (server/api.py) with its worker thread (create_app
``worker=True``), against the Tasks example API on a loopback port and a real SQLite store:
polling started over the API and polled by the worker, events read and acknowledged, webhooks
subscribed with the server's own callback URL, stop/unsubscribe, and the bad-input answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from connectorkit.examples.tasks import serve
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import EngineOptions
from connectorkit.runtime.store import Store, generate_key
from connectorkit.runtime.store.repository import NewEvent
from connectorkit.runtime.triggers import TriggerOptions
from connectorkit.server.app import create_app
from tasks_api import create_task, deployed_tasks

KEY = "PLANTED-trigger-api-key-3f9a"
TOKEN = "trigger-api-token-0123456789"
FAST = TriggerOptions(interval=0.05, min_interval=0.05, engine=EngineOptions(retries=0, timeout=10))
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key()) as opened:
        yield opened


@pytest.fixture
def tasks(store: Store) -> Iterator[tuple[str, httpx.Client]]:
    """The Tasks API (Retry-After 0) on a loopback port, its connector deployed, a connection made."""
    with deployed_tasks(LocalEnvironment(store), KEY, retry_after=0) as made:
        yield made


def wait_until(check: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_polling_trigger_started_over_the_api_is_polled_by_the_worker(
    store: Store, tasks: tuple[str, httpx.Client]
) -> None:
    connection, api = tasks
    app = create_app(store=store, token=TOKEN, trigger_options=FAST, worker=True, worker_tick=0.05, poll_threads=2)
    assert app.state.server.triggers.concurrency == 2
    with TestClient(app) as http:
        started = http.post("/api/triggers", json={"connection": connection, "operation": "OnNewTasks"}, headers=AUTH)
        assert started.status_code == 201, started.text
        item = started.json()
        assert (item["kind"], item["status"], item["operation"], item["connector"]) == (
            "polling", "active", "OnNewTasks", "Tasks",
        )  # fmt: skip
        assert "state" not in item
        trigger_id = item["id"]
        # The first poll only seeds the cursor; then new tasks fire.
        wait_until(lambda: store.get_trigger(trigger_id).state.get("first") is False)
        ids = [create_task(api, f"task {n}") for n in range(3)]

        def read(since: int = 0, **extra: Any) -> list[dict[str, Any]]:
            answer = http.get(f"/api/triggers/{trigger_id}/events", params={"since": since, **extra}, headers=AUTH)
            assert answer.status_code == 200, answer.text
            events: list[dict[str, Any]] = answer.json()
            return events

        events = wait_until(lambda: len(read()) >= 3 and read())
        assert [e["key"] for e in events] == [f"id:{i}" for i in ids]
        assert [e["body"]["title"] for e in events] == ["task 0", "task 1", "task 2"]
        assert all(e["deliveredAt"] is None for e in events)
        assert [e["key"] for e in read(events[0]["id"], limit=1)] == [f"id:{ids[1]}"]  # paging by the last id
        acked = read(events[0]["id"], ack="true")
        assert [e["deliveredAt"] is not None for e in acked] == [True, True]
        assert read()[0]["deliveredAt"] is None  # only what was returned is acknowledged
        listed = http.get("/api/triggers", params={"connection": connection}, headers=AUTH).json()
        assert [t["id"] for t in listed] == [trigger_id]
        assert http.get("/api/triggers", params={"connection": "other"}, headers=AUTH).json() == []
        shown = http.get(f"/api/triggers/{trigger_id}", headers=AUTH).json()
        assert shown["nextDueAt"].endswith("+00:00") or shown["nextDueAt"].endswith("Z")
        assert http.delete(f"/api/triggers/{trigger_id}", headers=AUTH).status_code == 204
        gone = http.get(f"/api/triggers/{trigger_id}", headers=AUTH)
        assert gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"
        worker = app.state.server.worker
        assert worker is not None and worker.polls >= 2 and worker.errors == 0
    # Shutdown stopped the worker and gave its leases back.
    assert not any(t.lease_owner for t in store.list_triggers())


def test_webhook_trigger_subscribes_with_the_servers_callback_url_and_delete_unsubscribes(
    store: Store, tasks: tuple[str, httpx.Client]
) -> None:
    connection, api = tasks
    app = create_app(store=store, token=TOKEN)
    with serve(app) as base, httpx.Client(base_url=base, headers=AUTH) as http:
        refused = http.post("/api/triggers", json={"connection": connection, "operation": "OnTaskCreated"})
        assert refused.status_code == 400 and "--public-url" in refused.json()["detail"]
        assert store.list_triggers() == []
        app.state.server.triggers.public_url = base  # what serve --public-url (default: its own URL) sets
        started = http.post(
            "/api/triggers", json={"connection": connection, "operation": "OnTaskCreated", "arguments": {}}
        )
        assert started.status_code == 201, started.text
        trigger_id = started.json()["id"]
        assert started.json()["kind"] == "webhook"
        task_id = create_task(api, "pushed")
        events = wait_until(lambda: http.get(f"/api/triggers/{trigger_id}/events").json())
        assert [(e["key"], e["body"]["title"], e["problems"]) for e in events] == [(f"id:{task_id}", "pushed", [])]
        assert http.delete(f"/api/triggers/{trigger_id}").status_code == 204
        assert store.list_triggers() == []
        assert api.delete("/hooks/1").status_code == 404  # unsubscribed: the API has no hook left


def test_bad_trigger_requests_are_problems(store: Store, tasks: tuple[str, httpx.Client]) -> None:
    connection, _ = tasks
    with TestClient(create_app(store=store, token=TOKEN)) as http:
        assert http.get("/api/triggers").status_code == 401
        action = http.post("/api/triggers", json={"connection": connection, "operation": "ListTasks"}, headers=AUTH)
        assert action.status_code == 400 and "ListTasks" in action.json()["detail"]
        unknown = http.post("/api/triggers", json={"connection": "nope", "operation": "OnNewTasks"}, headers=AUTH)
        assert unknown.status_code == 404 and "nope" in unknown.json()["detail"]
        target = http.post(
            "/api/triggers",
            json={"connection": connection, "operation": "OnNewTasks", "target": "ftp://x"},
            headers=AUTH,
        )
        assert target.status_code == 400 and "ftp://x" in target.json()["detail"]
        missing = http.get("/api/triggers/nope/events", headers=AUTH)
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
        assert http.get("/api/triggers/x/events", params={"limit": 0}, headers=AUTH).status_code == 422
        assert http.delete("/api/triggers/nope", headers=AUTH).status_code == 404
        assert store.list_triggers() == []
        paths = http.get("/api/openapi.json").json()["paths"]
        assert {"/api/triggers", "/api/triggers/{trigger_id}", "/api/triggers/{trigger_id}/events"} <= set(paths)
        assert set(paths["/api/triggers"]) == {"get", "post"}


def test_a_last_error_or_event_echoing_a_secret_shows_it_masked(store: Store, tasks: tuple[str, httpx.Client]) -> None:
    """A backend that quotes the connection's key in an error body or an event: the API masks it."""
    connection, _ = tasks
    with TestClient(create_app(store=store, token=TOKEN)) as http:
        started = http.post("/api/triggers", json={"connection": connection, "operation": "OnNewTasks"}, headers=AUTH)
        trigger_id = started.json()["id"]
        store.set_trigger_status(trigger_id, "error", f"HTTP 400: bad key {KEY}")
        shown = http.get(f"/api/triggers/{trigger_id}", headers=AUTH).json()
        assert shown["lastError"] == "HTTP 400: bad key ***"
        listed = http.get("/api/triggers", headers=AUTH).text
        assert KEY not in listed and "bad key ***" in listed
        store.set_trigger_status(trigger_id, "active")
        claimed = store.claim_due_triggers("w", datetime.now(UTC), 30)
        assert [r.id for r in claimed] == [trigger_id]
        store.commit_poll(
            trigger_id, "w", claimed[0].state, [NewEvent("id:1", {"echo": KEY})], datetime.now(UTC) + timedelta(hours=1)
        )
        events = http.get(f"/api/triggers/{trigger_id}/events", headers=AUTH).json()
        assert events[0]["body"] == {"echo": "***"} and KEY not in json.dumps(events)
