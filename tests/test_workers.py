"""Scale-out: two real ``connectorkit serve --worker`` processes share 200 polling triggers on one
store (PostgreSQL: a private cluster, skipped with the reason when its binaries are absent; and
SQLite: one file shared by the processes). A loopback backend records, per trigger, the start and
end of every poll and which worker held the trigger's lease then. Asserted: no two polls of a
trigger overlap, every trigger is polled (none starved), both workers do work; after one worker
is killed with SIGKILL its leased triggers are polled again by the other, but only once the lease
has expired; the survivor stops cleanly on SIGTERM, giving its leases back. Also the in-process
:class:`Worker` loop itself: it sleeps until the next due poll and stops within a tick."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.listening import TriggerService, Worker
from connectorkit.runtime.store import Store, generate_key
from connectorkit.runtime.triggers import TriggerOptions
from postgres import fresh_database

SRC = Path(__file__).resolve().parents[1] / "src"
TRIGGERS = 200
LEASE = 3.0
POLL_SECONDS = 0.01


@dataclass
class Poll:
    start: float
    end: float
    owner: str | None


@dataclass
class Backend:
    """A polling endpoint that always answers 202 (nothing new) and records each poll."""

    store: Store
    ids: dict[str, str] = field(default_factory=dict)  # trigger name -> trigger id
    polls: dict[str, list[Poll]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold: str | None = None
    """A worker id whose polls are held (answered once ``release`` is set): that worker surely
    has polls under way, so leases, when it is killed, rather than committing in between."""
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def handle(self, name: str) -> None:
        start = time.monotonic()
        trigger_id = self.ids.get(name)
        owner = self.store.get_trigger(trigger_id).lease_owner if trigger_id else None
        if owner is not None and owner == self.hold:
            self.held.set()
            self.release.wait(30)
        else:
            time.sleep(POLL_SECONDS)
        with self.lock:
            self.polls[name].append(Poll(start, time.monotonic(), owner))

    def snapshot(self) -> dict[str, list[Poll]]:
        with self.lock:
            return {name: list(polls) for name, polls in self.polls.items()}


@contextmanager
def serve_backend(backend: Backend) -> Iterator[int]:
    """Run the backend on a free loopback port (threaded: both workers poll at once)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            name = query.get("name", [""])[0]
            backend.handle(name)
            self.send_response(202)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}{self.path}")
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def definition(port: int) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "Workers", "version": "1.0"},
        "host": f"127.0.0.1:{port}",
        "basePath": "/",
        "schemes": ["http"],
        "paths": {
            "/trigger/items": {
                "get": {
                    "operationId": "OnItems",
                    "x-ms-trigger": "batch",
                    "parameters": [{"name": "name", "in": "query", "required": True, "type": "string"}],
                    "responses": {
                        "200": {"description": "New items", "schema": {"$ref": "#/definitions/Items"}},
                        "202": {"description": "Nothing new"},
                    },
                }
            }
        },
        "definitions": {
            "Items": {
                "type": "object",
                "properties": {"value": {"type": "array", "items": {"type": "object"}}},
            }
        },
    }


def package(port: int) -> ConnectorPackage:
    files = {
        "apiDefinition.swagger.json": json.dumps(definition(port)).encode(),
        "apiProperties.json": json.dumps({"properties": {"connectionParameters": {}}}).encode(),
    }
    return ConnectorPackage.from_files(files)


@dataclass
class Launched:
    process: subprocess.Popen[str]
    worker_id: str


def launch_worker(url: str, key: bytes, home: Path) -> Launched:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "CONNECTORKIT_SECRET_KEY": key.decode(),
        "XDG_DATA_HOME": str(home),
        "HOME": str(home),
    }
    command = [
        sys.executable, "-m", "connectorkit", "serve", "--worker", "--db", url,
        "--poll-interval", "1", "--lease-seconds", str(LEASE),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert "trigger worker" in line, (
        f"the worker did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
    )
    return Launched(process, line.split("trigger worker ", 1)[1].split(" ", 1)[0])


def wait_for(check: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def assert_no_overlap(polls: dict[str, list[Poll]]) -> None:
    for name, seen in polls.items():
        ordered = sorted(seen, key=lambda poll: poll.start)
        for before, after in itertools.pairwise(ordered):
            assert after.start >= before.end, f"{name}: two polls overlapped ({before} and {after})"


def scale_out(url: str, home: Path) -> None:
    key = generate_key()
    with Store(url, key=key) as store, httpx.Client() as client:
        backend = Backend(store)
        with serve_backend(backend) as port:
            environment = LocalEnvironment(store)
            name, _ = environment.deploy(package(port), "Workers")
            # Five triggers per connection, polled every second: 300 calls a minute, under the
            # platform's 500 per connection even when one worker polls them all.
            connections = [environment.create_connection(name, {}) for _ in range(TRIGGERS // 5)]
            service = TriggerService(environment, client=client)
            for n in range(TRIGGERS):
                record = service.start(connections[n // 5], "OnItems", {"name": f"t{n:03}"})
                backend.ids[f"t{n:03}"] = record.id
            first, second = launch_worker(url, key, home), launch_worker(url, key, home)
            workers = [first, second]
            try:
                # Phase 1: both share the work; every trigger polled twice.
                everyone = wait_for(
                    lambda: all(len(backend.snapshot().get(f"t{n:03}", [])) >= 2 for n in range(TRIGGERS)), 20
                )
                polls = backend.snapshot()
                assert everyone, f"starved: {sorted(set(backend.ids) - {n for n, p in polls.items() if len(p) >= 2})}"
                # Both do work (one may have polled every trigger twice before the other started).
                both = {first.worker_id, second.worker_id}
                assert wait_for(lambda: both <= {p.owner for seen in backend.snapshot().values() for p in seen}, 10), (
                    "one worker did all the work"
                )
                # Phase 2: kill the first while it holds leases: its next polls are held at the
                # backend, so it cannot commit them between the check and the kill.
                backend.hold = first.worker_id
                assert backend.held.wait(10), "the first worker polled nothing more"
                first.process.send_signal(signal.SIGKILL)
                first.process.wait(timeout=10)
                killed_at, killed_wall = time.monotonic(), datetime.now(UTC)
                orphans = {
                    t.id: killed_at + (_aware(t.lease_expires_at) - killed_wall).total_seconds()
                    for t in store.list_triggers()
                    if t.lease_owner == first.worker_id and t.lease_expires_at is not None
                }
                backend.release.set()  # the dead worker's held polls end now (its leases stay)
                assert orphans, "the killed worker held no lease"
                names = {trigger_id: n for n, trigger_id in backend.ids.items()}

                def after_kill(polls: dict[str, list[Poll]], trigger_id: str) -> list[Poll]:
                    """Polls begun after the kill, except the dead worker's own (sent just before
                    it died, a handler thread may start on them only after ``killed_at``)."""
                    seen = polls.get(names[trigger_id], [])
                    return [p for p in seen if p.start > killed_at and p.owner != first.worker_id]

                def taken_over() -> bool:
                    polls = backend.snapshot()
                    return all(after_kill(polls, t) for t in orphans)

                assert wait_for(taken_over, LEASE + 10), "the killed worker's triggers were not taken over"
                polls = backend.snapshot()
                for trigger_id, expires in orphans.items():
                    later = after_kill(polls, trigger_id)
                    assert later[0].owner == second.worker_id
                    # Not before the dead worker's lease expired (a little slack for clock reads).
                    assert later[0].start >= expires - 0.3, (trigger_id, later[0].start - killed_at)
                assert_no_overlap(polls)
                # The survivor stops cleanly and gives its leases back.
                second.process.send_signal(signal.SIGTERM)
                output, _ = second.process.communicate(timeout=20)
                assert second.process.returncode == 0 and "stopped after" in output
                assert not any(t.lease_owner == second.worker_id for t in store.list_triggers())
            finally:
                for launched in workers:
                    if launched.process.poll() is None:
                        launched.process.kill()
                        launched.process.communicate(timeout=10)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def test_two_workers_on_postgresql_share_200_triggers_and_take_over_a_killed_ones(tmp_path: Path) -> None:
    with fresh_database() as url:
        scale_out(url, tmp_path)


def test_two_worker_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    scale_out(f"sqlite:///{tmp_path / 'store.db'}", tmp_path)


def test_worker_loop_polls_when_due_and_stops_within_a_tick(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key()) as store, httpx.Client() as client:
        backend = Backend(store)
        with serve_backend(backend) as port:
            environment = LocalEnvironment(store)
            name, _ = environment.deploy(package(port), "Workers")
            connection = environment.create_connection(name, {})
            options = TriggerOptions(interval=0.3, min_interval=0.3)
            service = TriggerService(environment, client=client, options=options, worker_id="loop-1")
            record = service.start(connection, "OnItems", {"name": "only"})
            backend.ids["only"] = record.id
            worker = Worker(service, tick=0.5)
            worker.start()
            time.sleep(1.2)
            began = time.monotonic()
            worker.stop()
            stopped_in = time.monotonic() - began
            starts = [p.start for p in backend.snapshot()["only"]]
            gaps = [b - a for a, b in itertools.pairwise(starts)]
            # Polled on schedule (every ~0.3 s, not every tick and not in a busy loop), then stopped promptly.
            assert 3 <= len(starts) <= 5, starts
            assert all(0.25 <= gap <= 0.6 for gap in gaps), gaps
            assert stopped_in < 0.7 and worker.errors == 0
            assert store.get_trigger(record.id).lease_owner is None
            with pytest.raises(InputError, match="tick"):
                Worker(service, tick=0)
