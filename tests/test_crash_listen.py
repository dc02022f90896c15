"""The issue's crash test, as written: a backend produces 1,000 events while a ``connectorkit
listen`` process (``python -m connectorkit``, a real subprocess on a real store) is killed with
SIGKILL at random moments and started again each time; every event must reach the consumer, each
exactly once after dropping repeats of one key, and raw repeats are bounded by the kills (at most
the event in flight when a kill landed).

The backend is the Tasks example API (a thread creates tasks; its polling trigger hands them out
with a cursor); the consumer is a small threaded HTTP receiver (``--forward``) or the listener's
stdout JSON lines. Kills are seeded: most land while events are being delivered, the others at
any moment after a start (start-up and resume included). The same trigger must carry every event:
each restart resumes the killed listener's trigger rather than starting a new one."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.examples.tasks import create_app, free_socket, serve
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.store import Store
from connectorkit.runtime.store.repository import NewEvent
from connectorkit.runtime.store.secrets import generate_key
from postgres import fresh_database

KEY = "PLANTED-crash-listen-key-7c4f"
SECRET_KEY = generate_key().decode()


@dataclass
class Received:
    """What the consumer saw, in arrival order: (event key, trigger id, body)."""

    events: list[tuple[str, str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key: str, trigger: str, body: Any) -> None:
        with self.lock:
            self.events.append((key, trigger, body))

    def snapshot(self) -> list[tuple[str, str, Any]]:
        with self.lock:
            return list(self.events)


@contextmanager
def receiver() -> Iterator[tuple[str, Received]]:
    """A threaded HTTP server recording each POST's event key, trigger and JSON body; 204."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.add(self.headers["X-Connectorkit-Event-Key"], self.headers["X-Connectorkit-Trigger"], body)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/events", received
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Backend:
    db: str
    store: Store
    connection: str
    api: httpx.Client


@contextmanager
def backend(db: str) -> Iterator[Backend]:
    """The Tasks API (Retry-After 0) on a loopback port, its connector deployed into the store
    ``db`` and a connection made; the store key comes from the environment, as the CLI gets it."""
    with Store(db, SECRET_KEY) as store, serve(create_app(KEY, retry_after=0)) as base:
        environment = LocalEnvironment(store)
        environment.deploy(create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks")).package)
        connection = environment.create_connection("Tasks", {"api_key": KEY})
        with httpx.Client(base_url=base, headers={"X-API-Key": KEY}, timeout=30) as api:
            yield Backend(db, store, connection, api)


class Producer(threading.Thread):
    """Creates ``count`` tasks, about ``rate`` a second: the events, released over time. The
    last tenth waits for ``release`` (set once the kills are done), so that every kill lands while
    events are still flowing however slow the machine is."""

    def __init__(self, api: httpx.Client, count: int, rate: float) -> None:
        super().__init__(daemon=True)
        self.api, self.count, self.rate = api, count, rate
        self.created: dict[int, str] = {}
        self.error: BaseException | None = None
        self.release = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        try:
            for n in range(self.count):
                if n == self.count - self.count // 10:
                    self.release.wait(120)
                title = f"task {n}"
                response = self.api.post("/tasks", json={"title": title})
                assert response.status_code == 201, response.text
                self.created[int(response.json()["id"])] = title
                time.sleep(max(0.0, started + (n + 1) / self.rate - time.monotonic()))
        except BaseException as exc:  # reported by the test
            self.error = exc


class Listener:
    """``python -m connectorkit listen`` started again after each kill; each run's stdout and
    stderr go to files of their own (nothing to drain, and what a killed run wrote stays)."""

    def __init__(self, setup: Backend, folder: Path, extra: list[str], operation: str = "OnNewTasks") -> None:
        self.command = [sys.executable, "-m", "connectorkit", "listen", "Tasks", operation]
        self.command += ["--connection", setup.connection, "--db", setup.db, "--interval", "0.1"]
        self.command += ["--format", "json", *extra]
        self.folder = folder
        self.runs: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
        self.env = {**os.environ, "CONNECTORKIT_SECRET_KEY": SECRET_KEY}

    @property
    def process(self) -> subprocess.Popen[bytes]:
        return self.runs[-1][0]

    def start(self) -> None:
        n = len(self.runs)
        out, errors = self.folder / f"out-{n}.jsonl", self.folder / f"err-{n}.txt"
        with out.open("wb") as stdout, errors.open("wb") as stderr:
            process = subprocess.Popen(self.command, stdout=stdout, stderr=stderr, env=self.env)
        self.runs.append((process, out, errors))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)  # reaped: a zombie would still look alive

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        errors = self.runs[-1][2].read_text()
        assert self.process.returncode == 0, errors
        return errors

    def stderr(self, run: int) -> str:
        return self.runs[run][2].read_text()

    def lines(self) -> list[dict[str, Any]]:
        """Every complete JSON line of every run, in order (a line cut by a kill has no newline
        and was not marked delivered, so it does not count)."""
        found: list[dict[str, Any]] = []
        for _, out, _ in self.runs:
            text = out.read_text()
            complete = text if text.endswith("\n") or not text else text[: text.rfind("\n") + 1]
            found += [json.loads(line) for line in complete.splitlines()]
        return found

    def close(self) -> None:
        for process, _, _ in self.runs:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@dataclass
class Figures:
    created: dict[int, str]
    """Task id → title, as the backend made them: what the consumer is checked against."""
    kills: int
    kills_while_flowing: int
    seconds: float


def crash_run(
    setup: Backend,
    listener: Listener,
    delivered: Callable[[], int],
    *,
    events: int,
    kills: int,
    seed: int,
) -> Figures:
    """Start the listener, let it seed, produce ``events`` tasks while killing it ``kills``
    times at seeded random moments (restarting it each time), then let the last run deliver
    everything and stop it cleanly."""
    rng = random.Random(seed)
    began = time.monotonic()
    listener.start()
    wait_until(lambda: any(t.state.get("first") is False for t in setup.store.list_triggers()), 20, "the first poll")
    producer = Producer(setup.api, events, rate=events / (1.2 * kills + 1))
    producer.start()
    flowing = 0
    for n in range(kills):
        if n % 3 == 2:  # any moment of a run: start-up, resume, polling or delivery
            time.sleep(rng.uniform(0.05, 0.8))
        else:  # while this run is delivering
            before = delivered()
            wait_until(lambda before=before: delivered() > before, 20, "a delivery")
            time.sleep(rng.uniform(0.0, 0.3))
        flowing += producer.is_alive()
        listener.kill()
        listener.start()
    producer.release.set()
    producer.join(60)
    assert producer.error is None, producer.error
    wait_until(lambda: delivered() >= events, 30, f"{events} deliveries")
    time.sleep(0.3)  # anything the last run would still (wrongly) send
    errors = listener.stop()
    assert "Stopped trigger" in errors and KEY not in errors
    assert setup.store.list_triggers() == []  # the clean stop deleted the one trigger
    assert len(producer.created) == events
    return Figures(producer.created, kills, flowing, time.monotonic() - began)


def check_exactly_once(seen: list[tuple[str, str, Any]], listener: Listener, figures: Figures) -> None:
    """Every event arrived; dropping repeats of one key leaves each exactly once; raw repeats
    at most one per kill; bodies match what the backend made; one trigger (resumed) carried all."""
    created = figures.created
    keys = [key for key, _, _ in seen]
    counts = Counter(keys)
    assert set(counts) == {f"id:{task}" for task in created}
    repeats = len(keys) - len(counts)
    assert repeats <= figures.kills, (repeats, [k for k, c in counts.items() if c > 1])
    for key, _, body in seen:
        task = int(key.removeprefix("id:"))
        assert body["id"] == task and body["title"] == created[task], body
    assert len({trigger for _, trigger, _ in seen}) == 1
    assert figures.kills_while_flowing == figures.kills
    # Every restart resumed the killed run's trigger (those killed before saying so aside).
    resumed = [n for n in range(1, len(listener.runs)) if "Resuming trigger" in listener.stderr(n)]
    assert resumed and len(listener.runs) - 1 in resumed
    assert all("left by a listener that did not stop cleanly" in listener.stderr(n) for n in resumed)
    print(
        f"\n{len(created)} events, {figures.kills} kills ({figures.kills_while_flowing} while events flowed), "
        f"{len(keys)} deliveries, {repeats} repeats, {figures.seconds:.1f} s"
    )


def forward_crash_test(db: str, tmp_path: Path, *, events: int, kills: int, seed: int) -> None:
    with backend(db) as setup, receiver() as (url, received):
        listener = Listener(setup, tmp_path, ["--forward", url])
        try:
            figures = crash_run(
                setup, listener, lambda: len(received.snapshot()), events=events, kills=kills, seed=seed
            )
        finally:
            listener.close()
        check_exactly_once(received.snapshot(), listener, figures)
        # The JSON lines echo what was forwarded, each with the event's key (an echo is written
        # after the mark, so a kill between the two loses that one line: stdout is not the delivery).
        echoed = Counter(line["key"] for line in listener.lines())
        assert set(echoed) <= {key for key, _, _ in received.snapshot()} and max(echoed.values()) <= 2
        assert len(echoed) >= events - figures.kills


def test_forwarding_listener_killed_at_random_delivers_1000_events_exactly_once(tmp_path: Path) -> None:
    forward_crash_test(f"sqlite:///{tmp_path / 'store.db'}", tmp_path, events=1000, kills=6, seed=6)


def test_forwarding_listener_crash_test_on_postgresql(tmp_path: Path) -> None:
    with fresh_database() as url:
        forward_crash_test(url, tmp_path, events=400, kills=5, seed=17)


def test_printing_listener_killed_at_random_prints_each_event_once(tmp_path: Path) -> None:
    with backend(f"sqlite:///{tmp_path / 'store.db'}") as setup:
        listener = Listener(setup, tmp_path, [])
        try:
            figures = crash_run(setup, listener, lambda: len(listener.lines()), events=300, kills=4, seed=3)
        finally:
            listener.close()
        lines = listener.lines()
        assert all(line["problems"] == [] and line["receivedAt"] for line in lines)
        check_exactly_once([(line["key"], line["trigger"], line["body"]) for line in lines], listener, figures)


def test_durable_triggers_are_never_adopted_and_a_live_listener_keeps_its_own(
    tmp_path: Path,
) -> None:
    """A durable trigger (no listener) with the same inputs is left alone; so is the trigger of a
    listener still running; ``--trigger`` refuses both with a clear one-line error."""
    with backend(f"sqlite:///{tmp_path / 'store.db'}") as setup:
        from connectorkit.runtime.listening import TriggerService

        with httpx.Client() as client:
            durable = TriggerService(LocalEnvironment(setup.store), client=client).start(
                setup.connection, "OnNewTasks", {}
            )
        listener = Listener(setup, tmp_path, [])
        try:
            listener.start()
            wait_until(lambda: len(setup.store.list_triggers()) == 2, 20, "the listener's trigger")
            (own,) = [t for t in setup.store.list_triggers() if t.id != durable.id]
            assert own.listener is not None and str(listener.process.pid) in own.listener
            base = [sys.executable, "-m", "connectorkit", "listen", "--db", setup.db, "--once"]
            env = listener.env
            for trigger, message in [
                (durable.id, "a durable trigger (made by the API, the console or `connectorkit trigger`)"),
                (own.id, f"its listener (process {listener.process.pid}) is still running"),
            ]:
                run = subprocess.run([*base, "--trigger", trigger], capture_output=True, text=True, env=env)
                assert run.returncode == 2 and message in run.stderr, run.stderr
                assert len(run.stderr.strip().splitlines()) == 1
            # A second listener with the same inputs starts a trigger of its own.
            second = subprocess.run(
                [*base, "Tasks", "OnNewTasks", "--connection", setup.connection],
                capture_output=True,
                text=True,
                env=env,
            )
            assert second.returncode == 0 and "Resuming" not in second.stderr, second.stderr
            listener.kill()
            for extra, message in [
                (["-p", "since=1"], "resumes the stored parameters; leave out -p and --body"),
                (["--forward", "http://127.0.0.1:9/x"], "forwards to nowhere, not http://127.0.0.1:9/x"),
                (["Other"], "its CONNECTOR is Tasks, not Other"),
            ]:
                run = subprocess.run([*base, "--trigger", own.id, *extra], capture_output=True, text=True, env=env)
                assert run.returncode == 2 and message in run.stderr, run.stderr
            missing = subprocess.run([*base, "--trigger", "nosuch"], capture_output=True, text=True, env=env)
            assert missing.returncode == 2 and "no trigger with id 'nosuch'" in missing.stderr
            nothing = subprocess.run(base, capture_output=True, text=True, env=env)
            assert nothing.returncode == 2
            assert "listen needs CONNECTOR, TRIGGER_OPERATION and --connection" in nothing.stderr
            # With its listener gone, the trigger is resumed by an explicit --trigger too.
            resumed = subprocess.run([*base, "--trigger", own.id], capture_output=True, text=True, env=env)
            assert resumed.returncode == 0, resumed.stderr
            assert f"Resuming trigger {own.id} left by a listener that did not stop cleanly; 0 events" in resumed.stderr
        finally:
            listener.close()
        assert [t.id for t in setup.store.list_triggers()] == [durable.id]


def test_a_killed_webhook_listener_subscribes_again_and_removes_the_old_hook(tmp_path: Path) -> None:
    """The old callback URL cannot be rebuilt (only its token's digest is stored): the resumed
    listener subscribes with a new one, deletes the old hook at the backend, and receives on."""
    with backend(f"sqlite:///{tmp_path / 'store.db'}") as setup:
        listener = Listener(setup, tmp_path, ["--port", str(free_port())], operation="OnTaskCreated")
        try:
            listener.start()
            wait_until(lambda: any("subscription" in t.state for t in setup.store.list_triggers()), 20, "a hook")
            (first,) = setup.store.list_triggers()
            listener.kill()
            listener.start()
            wait_until(lambda: setup.store.get_trigger(first.id).state != first.state, 20, "a new hook")
            wait_until(lambda: "Listening:" in listener.stderr(1), 20, "the listener")
            assert f"Resuming trigger {first.id} left by a listener that did not stop cleanly" in listener.stderr(1)
            assert setup.api.delete("/hooks/1").status_code == 404  # the old hook was removed
            assert setup.api.post("/tasks", json={"title": "pushed"}).status_code == 201
            wait_until(lambda: len(listener.lines()) == 1, 20, "the pushed task")
            errors = listener.stop()
        finally:
            listener.close()
        (line,) = listener.lines()
        assert line["trigger"] == first.id and line["body"]["title"] == "pushed"
        assert "(unsubscribed)" in errors and setup.store.list_triggers() == []
        assert setup.api.delete("/hooks/2").status_code == 404


def free_port() -> int:
    with free_socket() as sock:
        return int(sock.getsockname()[1])


# the store side: which triggers a listener may adopt, and adopting one


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with fresh_database() as url:
            yield url


def test_listener_triggers_and_adoption_are_atomic_and_skip_durable_ones(store_url: str) -> None:
    with Store(store_url, SECRET_KEY) as store:
        store.save_connector("tasks", {"apiDefinition.swagger.json": b"{}"})
        connection = store.create_connection("tasks", {"api_key": "sk-planted"}, {"api_key"})
        durable = store.create_trigger(connection, "OnNewTasks", "polling", {})
        dead = store.create_trigger(connection, "OnNewTasks", "polling", {"a": 1}, listener="host:1:dead")
        stopped = store.create_trigger(connection, "OnNewTasks", "polling", {}, listener="host:2:gone")
        store.set_trigger_status(stopped.id, "stopped")
        store.create_trigger(connection, "OnTaskCreated", "webhook", {}, listener="host:3:other")
        assert durable.listener is None and dead.listener == "host:1:dead"
        assert [t.id for t in store.listener_triggers(connection, "OnNewTasks")] == [dead.id]
        # The dead listener was killed mid-poll: its lease goes with the adoption.
        now = datetime.now(UTC)
        assert [t.id for t in store.claim_due_triggers("w", now, 120, limit=1)] == [durable.id]  # another's lease
        assert [t.id for t in store.claim_due_triggers("host:1:dead", now, 120, limit=10)] == [dead.id]
        adopted = store.adopt_trigger(dead.id, "host:1:dead", "host:9:new", next_due_at=now)
        assert adopted is not None and adopted.listener == "host:9:new"
        assert adopted.lease_owner is None and adopted.lease_expires_at is None and adopted.next_due_at == now
        assert store.adopt_trigger(dead.id, "host:1:dead", "host:8:late") is None  # the second comes too late
        assert store.get_trigger(dead.id).listener == "host:9:new"
        assert store.get_trigger(durable.id).lease_owner == "w"
        assert store.pending_count(dead.id) == 0
        (mine,) = store.claim_due_triggers("host:9:new", now, 120)
        assert mine.id == dead.id  # polled at once, not when the dead lease would have expired
        stored = store.commit_poll(dead.id, "host:9:new", {}, [NewEvent("k1", 1), NewEvent("k2", 2)], now)
        assert store.pending_count(dead.id) == 2
        store.mark_delivered([stored[0].id])
        assert store.pending_count(dead.id) == 1 and store.pending_count(durable.id) == 0
