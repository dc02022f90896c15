"""``connectorkit listen`` and ``connectorkit trigger list|delete`` against the Tasks example API on
a loopback port and a real SQLite store: a polling listener in a real process stopped with SIGTERM,
a webhook listener with its own callbacks app, timeouts, bad input and the trigger commands."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.examples.tasks import create_app, free_socket, serve
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.listening import TriggerService
from connectorkit.runtime.store import Store

from conftest import Run

KEY = "PLANTED-listen-cli-key-5d1e"
CONNECTORKIT = Path(sys.executable).parent / "connectorkit"


class Setup:
    def __init__(self, db: str, store: Store, connection: str, api: httpx.Client) -> None:
        self.db, self.store, self.connection, self.api = db, store, connection, api

    def create_task(self, title: str) -> int:
        response = self.api.post("/tasks", json={"title": title})
        assert response.status_code == 201, response.text
        return int(response.json()["id"])


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    """The Tasks API (Retry-After 0), a store whose key file sits next to it (as the CLI finds
    it), the connector deployed and a connection made."""
    db = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(db) as store, serve(create_app(KEY, retry_after=0)) as base:
        environment = LocalEnvironment(store)
        environment.deploy(create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks")).package)
        connection = environment.create_connection("Tasks", {"api_key": KEY})
        with httpx.Client(base_url=base, headers={"X-API-Key": KEY}) as api:
            yield Setup(db, store, connection, api)


def free_port() -> int:
    with free_socket() as sock:
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_polling_listener_prints_each_event_once_and_stops_cleanly_on_sigterm(setup: Setup) -> None:
    command = [str(CONNECTORKIT), "listen", "Tasks", "OnNewTasks", "--connection", setup.connection]
    command += ["--db", setup.db, "--interval", "0.1", "--format", "json"]
    listener = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: any(t.state.get("first") is False for t in setup.store.list_triggers()))
        ids = [setup.create_task(f"task {n}") for n in range(3)]
        assert listener.stdout is not None
        lines = [json.loads(listener.stdout.readline()) for _ in ids]
        (trigger,) = setup.store.list_triggers()
        time.sleep(0.5)  # several more polls, which find nothing new
    finally:
        listener.send_signal(signal.SIGTERM)
        rest, errors = listener.communicate(timeout=20)
    assert listener.returncode == 0, errors
    assert [(line["key"], line["body"]["title"]) for line in lines] == [
        (f"id:{i}", f"task {n}") for n, i in enumerate(ids)
    ]
    assert all(line["trigger"] == trigger.id and line["problems"] == [] and line["receivedAt"] for line in lines)
    assert rest == ""  # nothing printed twice
    assert f"Stopped trigger {trigger.id}." in errors and KEY not in errors
    assert setup.store.list_triggers() == []


def test_webhook_listener_subscribes_receives_one_event_and_unsubscribes(setup: Setup, cli: Callable[..., Run]) -> None:
    port = free_port()

    def create_once_subscribed() -> None:
        wait_until(lambda: any("subscription" in t.state for t in setup.store.list_triggers()))
        setup.create_task("pushed")

    creator = threading.Thread(target=create_once_subscribed)
    creator.start()
    run = cli("listen", "Tasks", "OnTaskCreated", "--connection", setup.connection, "--db", setup.db,
              "--port", port, "--once", "--timeout", "20", "--format", "json")  # fmt: skip
    creator.join(timeout=20)
    assert run.exit_code == 0, run.stderr
    (line,) = [json.loads(text) for text in run.stdout.splitlines()]
    assert line["key"] == "id:1" and line["body"]["title"] == "pushed" and line["problems"] == []
    assert "(unsubscribed)" in run.stderr and "/callbacks/" not in run.stderr + run.stdout
    assert setup.store.list_triggers() == []
    assert setup.api.delete("/hooks/1").status_code == 404  # the API has no hook left


def test_webhook_once_without_a_callback_times_out_and_still_unsubscribes(
    setup: Setup, cli: Callable[..., Run]
) -> None:
    run = cli("listen", "Tasks", "OnTaskCreated", "--connection", setup.connection, "--db", setup.db,
              "--port", free_port(), "--once", "--timeout", "0.5")  # fmt: skip
    assert run.exit_code == 1
    assert run.stderr.strip().endswith("error: no callback arrived within 0.5 s (--timeout)")
    assert setup.store.list_triggers() == []
    assert setup.api.delete("/hooks/1").status_code == 404


def test_polling_once_seeds_prints_nothing_and_removes_the_trigger(setup: Setup, cli: Callable[..., Run]) -> None:
    setup.create_task("existing")
    run = cli("listen", "Tasks", "OnNewTasks", "--connection", setup.connection, "--db", setup.db, "--once")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == ""
    assert setup.store.list_triggers() == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["Tasks", "CreateTask"], "operation 'CreateTask' is an action"),
        (["Other", "OnNewTasks"], "belongs to Tasks, not Other"),
        (["Tasks", "OnNewTasks", "--port", "0"], "--port 0: not a TCP port"),
        (["Tasks", "OnNewTasks", "--interval", "0"], "--interval 0: must be positive"),
        (["Tasks", "OnNewTasks", "-p", "novalue"], "-p 'novalue': expected name=value"),
        (["Tasks", "OnNewTasks", "--forward", "not-a-url"], "--forward 'not-a-url'"),
        (["Tasks", "NoSuchOperation"], "NoSuchOperation"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    setup: Setup, cli: Callable[..., Run], arguments: list[str], message: str
) -> None:
    run = cli("listen", *arguments, "--connection", setup.connection, "--db", setup.db)
    assert run.exit_code == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and message in run.stderr
    assert setup.store.list_triggers() == []


def test_trigger_list_and_delete(setup: Setup, cli: Callable[..., Run]) -> None:
    with httpx.Client() as client:
        record = TriggerService(LocalEnvironment(setup.store), client=client).start(setup.connection, "OnNewTasks", {})
    run = cli("trigger", "list", "--db", setup.db, "--format", "json")
    assert run.exit_code == 0, run.stderr
    (listed,) = json.loads(run.stdout)
    assert listed["id"] == record.id and listed["operation"] == "OnNewTasks" and listed["status"] == "active"
    assert listed["kind"] == "polling" and listed["connection"] == setup.connection
    text = cli("trigger", "list", "--db", setup.db)
    assert record.id in text.stdout and "Tasks/OnNewTasks" in text.stdout
    deleted = cli("trigger", "delete", record.id, "--db", setup.db)
    assert deleted.exit_code == 0 and f"Deleted trigger {record.id}" in deleted.stdout
    assert setup.store.list_triggers() == []
    again = cli("trigger", "delete", record.id, "--db", setup.db)
    assert again.exit_code == 2 and f"no trigger with id {record.id!r}" in again.stderr
    assert cli("trigger", "list", "--db", setup.db).stdout.strip() == "No triggers."
