"""``connectorkit listen`` and ``connectorkit trigger list|delete`` against the Tasks example API on
a loopback port and a real SQLite store: a polling listener in a real process stopped with SIGTERM,
a webhook listener with its own callbacks app, timeouts, bad input, a listener leaving the store's
other triggers alone, an error exit keeping the trigger for the next listen, and the trigger commands."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.cli.triggers import _seconds_until_own_poll
from connectorkit.examples.tasks import create_app, free_socket, serve
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.listening import TriggerService
from connectorkit.runtime.store import Store
from connectorkit.runtime.store.repository import NewEvent
from connectorkit.runtime.triggers import TriggerOptions

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


class Receiver:
    """A threaded HTTP receiver for ``--forward``: answers ``status`` (settable) and records the
    (trigger, event key) of each POST it answers 2xx, in arrival order."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.keys: list[tuple[str, str]] = []
        self.refused = 0
        self.lock = threading.Lock()

    @contextmanager
    def serving(self) -> Iterator[str]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    status = receiver.status
                    if 200 <= status < 300:
                        receiver.keys.append(
                            (self.headers["X-Connectorkit-Trigger"], self.headers["X-Connectorkit-Event-Key"])
                        )
                    else:
                        receiver.refused += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/events"
        finally:
            server.shutdown()
            server.server_close()

    def seen(self) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.keys)


def test_listen_polls_and_forwards_only_its_own_trigger(setup: Setup, cli: Callable[..., Run]) -> None:
    """A durable polling trigger due in the same store is not polled by the listener (nor at its
    --interval), and a durable webhook trigger's pending events are not forwarded by it."""
    receiver = Receiver()
    with receiver.serving() as url, httpx.Client() as client:
        durable = TriggerService(LocalEnvironment(setup.store), client=client).start(setup.connection, "OnNewTasks", {})
        hook = setup.store.create_trigger(
            setup.connection, "OnTaskCreated", "webhook", {}, callback_digest="d" * 64, target_url=url + "/durable"
        )
        setup.store.record_callback("d" * 64, [NewEvent(f"id:{n}", {"id": n}) for n in range(3)])
        setup.create_task("existing")
        run = cli("listen", "Tasks", "OnNewTasks", "--connection", setup.connection, "--db", setup.db,
                  "--once", "--interval", "1", "--forward", url)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    after = setup.store.get_trigger(durable.id)
    assert durable.state["first"] is True and after.state == durable.state  # never polled: not even seeded
    assert after.next_due_at == durable.next_due_at and after.lease_owner is None and after.last_error is None
    assert setup.store.pending_count(hook.id) == 3 and receiver.seen() == [] and receiver.refused == 0
    assert {t.id for t in setup.store.list_triggers()} == {durable.id, hook.id}  # the listener's own is gone


def test_listener_sleeps_until_its_own_trigger_is_due_not_another(setup: Setup) -> None:
    """A durable trigger nobody runs stays due; the listener must not wake over and over for it."""
    with httpx.Client() as client:
        environment = LocalEnvironment(setup.store)
        TriggerService(environment, client=client).start(setup.connection, "OnNewTasks", {})
        options = TriggerOptions(interval=30.0, min_interval=30.0)
        service = TriggerService(environment, client=client, options=options, worker_id="host:1:listener")
        own = service.start(setup.connection, "OnNewTasks", {}, listener=True)
        service.run_due(only=own.id)  # the seeding poll: due again in 30 s
        assert service.seconds_until_due(1.0) == 0.0  # the durable one is overdue
        assert 0.9 < _seconds_until_own_poll(service, own.id, 1.0) <= 1.0
        assert 25 < _seconds_until_own_poll(service, own.id, 60.0) <= 30
        service.pause(own.id)
        assert _seconds_until_own_poll(service, own.id, 1.0) == 1.0


def test_an_error_exit_keeps_the_trigger_and_the_next_listen_resumes_it(setup: Setup, tmp_path: Path) -> None:
    """A listener whose store fails mid-run (a real SQLite fault: a schema trigger refusing
    every poll commit) exits 1 without deleting its trigger or the 2 events its forward target
    refused, and says so in one line; the next listen resumes that trigger, forwards the 2 events,
    then polls on."""
    database = tmp_path / "store.db"
    receiver = Receiver(status=503)
    with receiver.serving() as url:
        command = [str(CONNECTORKIT), "listen", "Tasks", "OnNewTasks", "--connection", setup.connection]
        command += ["--db", setup.db, "--interval", "0.1", "--forward", url]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: any(t.state.get("first") is False for t in setup.store.list_triggers()))
            (trigger,) = setup.store.list_triggers()
            ids = [setup.create_task(f"task {n}") for n in range(2)]
            wait_until(lambda: setup.store.pending_count(trigger.id) == 2 and receiver.refused > 0)
            with sqlite3.connect(database) as fault:
                fault.execute(
                    "CREATE TRIGGER injected_fault BEFORE UPDATE OF state ON triggers "
                    "BEGIN SELECT RAISE(ABORT, 'injected store fault'); END"
                )
            _, errors = first.communicate(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
                first.communicate()
        assert first.returncode == 1, errors
        kept = f"kept trigger {trigger.id} for the next listen to resume: 2 events not delivered"
        lines = errors.splitlines()
        assert kept in lines and lines[lines.index(kept) + 1].startswith("error: internal error: IntegrityError")
        assert "injected store fault" in errors
        assert "Stopped trigger" not in errors and KEY not in errors
        left = setup.store.get_trigger(trigger.id)
        assert left.lease_owner is None and left.listener == trigger.listener  # leases given back, still its own
        assert setup.store.pending_count(trigger.id) == 2 and receiver.seen() == []

        with sqlite3.connect(database) as fault:
            fault.execute("DROP TRIGGER injected_fault")
        receiver.status = 204
        ids.append(setup.create_task("while no listener ran"))
        second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: len(receiver.seen()) == 3)
        finally:
            second.send_signal(signal.SIGTERM)
            _, errors = second.communicate(timeout=20)
    assert second.returncode == 0, errors
    assert f"Resuming trigger {trigger.id} left by a listener that did not stop cleanly" in errors
    assert "2 events not yet delivered" in errors
    assert receiver.seen() == [(trigger.id, f"id:{i}") for i in ids]
    assert setup.store.list_triggers() == []  # the clean stop deleted it
