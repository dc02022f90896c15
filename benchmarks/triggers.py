"""Polling triggers at scale: 1,000 triggers served by one process, against a local backend.

The backend runs in its own process (so its work is not counted as ours) on a loopback port and
speaks the platform's polling protocol (runtime-semantics.md §4.2) for many independent *feeds*:
``GET /trigger/items?feed=N[&since=S]``. Feed ``N`` produces event ``k`` (k = 1, 2, ...) at
``epoch + phase(N) + k * event_every`` seconds, so the backend keeps no state and every poll can
be answered from the clock: the first poll (no ``since``) seeds the cursor with a 202; later polls
answer 202 + ``Location`` + ``Retry-After`` when nothing new has appeared, else 200 with the new
items (``{"value": [...]}``, each with the time it became available) and the next ``Location``.

The process under test deploys a connector for that backend (API-key auth, one native ``batch``
polling trigger) to a real SQLite store, starts ``--triggers`` triggers spread over enough
connections to stay under the platform's 500 calls per minute per connection, and runs a
:class:`Worker` as ``connectorkit serve`` does: due triggers are leased and polled on
``--concurrency`` polling threads, the loop sleeping until the next due time. Each poll goes the
whole way: lease, store lookups, secrets, request building, the HTTP call, call history, and the
state committed with the events. ``--slow-feeds N`` makes the backend answer the first N feeds
only after ``--slow-seconds``: a slow backend must not make the other triggers late.

Measured after a warm-up (the first poll of every trigger, which only seeds, plus ``--warmup``
seconds):

- **CPU per poll**: this process's CPU time (user + system) divided by the polls made;
- **delivery latency**: an event's ``available_at`` at the backend to the moment the store
  recorded it (``received_at``); with polling this is at most about one interval by design;
- **lateness**: when a trigger's poll started minus the due time the store held for it
  (``next_due_at``); "on schedule" means every poll started within ``--tolerance`` seconds of
  its due time and every trigger was polled as often as its interval allows.

Usage: python benchmarks/triggers.py [--triggers 1000] [--interval 5] [--event-every 20]
       [--seconds 30] [--warmup 5] [--tolerance 1] [--concurrency 4]
       [--slow-feeds 0] [--slow-seconds 3] [--format json]
Target: under 2 ms CPU per poll, every trigger on schedule.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from rich.console import Console
from rich.table import Table

from connectorkit.definition.package import ConnectorPackage
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import EngineOptions
from connectorkit.runtime.listening import TriggerService, Worker
from connectorkit.runtime.store import Store, generate_key
from connectorkit.runtime.store.repository import EventRecord, TriggerRecord
from connectorkit.runtime.triggers import TriggerOptions

OPERATION = "OnNewItems"
API_KEY = "benchmark-api-key"
PER_CONNECTION = 400  # polls per connection per minute, under the platform's 500
MAX_ITEMS = 50  # items per 200 answer
GOLDEN = 0.6180339887  # spreads the feeds' phases evenly over one event period
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# ------------------------------------------------------------------------------------ the backend


@dataclass(frozen=True)
class Feeds:
    """When each feed's events become available: a pure function of the clock."""

    epoch: float
    event_every: float

    def phase(self, feed: int) -> float:
        return (feed * GOLDEN) % 1.0 * self.event_every

    def latest(self, feed: int, now: float) -> int:
        """The last event number available at ``now`` (0: none yet)."""
        return max(0, math.floor((now - self.epoch - self.phase(feed)) / self.event_every))

    def available_at(self, feed: int, seq: int) -> float:
        return self.epoch + self.phase(feed) + seq * self.event_every


def _backend_handler(feeds: Feeds, retry_after: float, slow: tuple[int, float]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection serves every poll
        disable_nagle_algorithm = True  # headers and body are separate writes; do not wait for an ACK

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path != "/trigger/items" or "feed" not in query:
                return self._send(404, {"error": "no such path"})
            if self.headers.get("X-API-Key") != API_KEY:
                return self._send(401, {"error": "missing or wrong X-API-Key"})
            feed = int(query["feed"][0])
            if feed < slow[0]:
                time.sleep(slow[1])
            latest = feeds.latest(feed, time.time())
            if "since" not in query:  # the first poll: start from now, fire for nothing older
                return self._send(202, None, self._location(feed, latest))
            since = int(query["since"][0])
            upto = min(latest, since + MAX_ITEMS)
            if upto <= since:
                return self._send(202, None, self._location(feed, since))
            items = [
                {"id": f"{feed}-{seq}", "feed": feed, "seq": seq, "available_at": feeds.available_at(feed, seq)}
                for seq in range(since + 1, upto + 1)
            ]
            return self._send(200, {"value": items}, self._location(feed, upto))

        def _location(self, feed: int, since: int) -> str:
            return f"/trigger/items?feed={feed}&since={since}"

        def _send(self, status: int, body: Any, location: str | None = None) -> None:
            content = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            if location is not None:
                self.send_header("Location", location)
                self.send_header("Retry-After", f"{retry_after:g}")
            if content:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a line per poll would cost more than the poll."""

    return Handler


def serve_backend(epoch: float, event_every: float, retry_after: float, slow: tuple[int, float]) -> None:
    """The backend process: print the port, serve until killed."""
    handler = _backend_handler(Feeds(epoch, event_every), retry_after, slow)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextmanager
def backend(epoch: float, event_every: float, retry_after: float, slow: tuple[int, float]) -> Iterator[str]:
    """Run the backend in another process; yields its base URL."""
    command = [sys.executable, __file__, "--serve-backend", "--epoch", repr(epoch)]
    command += ["--event-every", repr(event_every), "--interval", repr(retry_after)]
    command += ["--slow-feeds", str(slow[0]), "--slow-seconds", repr(slow[1])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=ENV, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.isdigit():
            raise SystemExit(f"the backend did not start (said {line!r})")
        yield f"http://127.0.0.1:{line}"
    finally:
        process.terminate()
        process.wait(timeout=10)


# ------------------------------------------------------------------------------- the connector


def definition(base_url: str) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "feed": {"type": "integer"},
            "seq": {"type": "integer"},
            "available_at": {"type": "number"},
        },
    }
    return {
        "swagger": "2.0",
        "info": {"title": "Feeds", "version": "1.0"},
        "host": urlsplit(base_url).netloc,
        "schemes": ["http"],
        "produces": ["application/json"],
        "securityDefinitions": {"api_key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        "security": [{"api_key": []}],
        "paths": {
            "/trigger/items": {
                "get": {
                    "operationId": OPERATION,
                    "summary": "When new items arrive",
                    "x-ms-trigger": "batch",
                    "parameters": [{"name": "feed", "in": "query", "type": "integer", "required": True}],
                    "responses": {
                        "200": {
                            "description": "New items",
                            "schema": {"type": "object", "properties": {"value": {"type": "array", "items": item}}},
                        },
                        "202": {"description": "Nothing new"},
                    },
                }
            }
        },
    }


def package(base_url: str) -> ConnectorPackage:
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
        "apiDefinition.swagger.json": json.dumps(definition(base_url)).encode(),
        "apiProperties.json": json.dumps(properties).encode(),
    }
    return ConnectorPackage.from_files(files)


# ------------------------------------------------------------------------------- the measurement


class MeasuredService(TriggerService):
    """A :class:`TriggerService` that notes, for each poll, how late it started and which trigger
    it was, and the events it stored; the polling itself is the parent's (on its threads)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lateness: list[tuple[float, str, float]] = []  # (started, trigger, seconds late)
        self.fresh: list[EventRecord] = []

    def _poll(self, record: TriggerRecord) -> list[EventRecord]:
        now = self.clock()
        due = record.next_due_at or now
        due = due if due.tzinfo is not None else due.replace(tzinfo=UTC)
        self.lateness.append((now.timestamp(), record.id, (now - due).total_seconds()))
        stored = super()._poll(record)
        self.fresh += stored
        return stored


@dataclass
class Figures:
    triggers: int
    connections: int
    interval: float
    event_every: float
    seconds: float
    polls: int = 0
    polls_per_second: float = 0.0
    cpu_ms_per_poll: float = 0.0
    events: int = 0
    errors: int = 0
    latency_ms: dict[str, float] = field(default_factory=dict)
    lateness_ms: dict[str, float] = field(default_factory=dict)
    polls_per_trigger: dict[str, int] = field(default_factory=dict)
    expected_polls_per_trigger: int = 0
    slow_feeds: int = 0
    concurrency: int = 0
    late_polls: int = 0
    on_schedule: bool = False
    target_met: bool = False


def _quantiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered) * 1000, 1),
        "p95": round(ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)] * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


def run(args: argparse.Namespace, console: Console) -> Figures:
    epoch = time.time() - args.event_every  # events flow from the start, not one period later
    per_connection = max(1, math.floor(PER_CONNECTION * args.interval / 60))
    connections = math.ceil(args.triggers / per_connection)
    figures = Figures(args.triggers, connections, args.interval, args.event_every, args.seconds)
    figures.slow_feeds, figures.concurrency = args.slow_feeds, args.concurrency
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="connectorkit-triggers-")))
        base = stack.enter_context(
            backend(epoch, args.event_every, args.interval, (args.slow_feeds, args.slow_seconds))
        )
        store = stack.enter_context(Store(f"sqlite:///{work / 'store.db'}", key=generate_key()))
        client = stack.enter_context(httpx.Client(timeout=10))
        environment = LocalEnvironment(store)
        name, _ = environment.deploy(package(base), "Feeds")
        connection_ids = [environment.create_connection(name, {"api_key": API_KEY}) for _ in range(connections)]
        options = TriggerOptions(
            interval=args.interval, min_interval=min(1.0, args.interval), max_interval=max(60.0, args.interval),
            engine=EngineOptions(retries=0, timeout=10),
        )  # fmt: skip
        service = MeasuredService(
            environment, client=client, options=options, worker_id="benchmark", concurrency=args.concurrency
        )
        for feed in range(args.triggers):
            service.start(connection_ids[feed // per_connection], OPERATION, {"feed": feed})
        console.print(f"{args.triggers} triggers over {connections} connections; backend {base}; seeding...")
        worker = Worker(service, tick=0.25, batch=100, drain=args.slow_seconds + 1)
        worker.start()
        try:
            while len(service.lateness) < args.triggers:  # the first round: every trigger seeds its cursor
                time.sleep(0.05)
            time.sleep(args.warmup)
            console.print(f"measuring for {args.seconds:g} s...")
            measured_from, events_from = len(service.lateness), len(service.fresh)
            started, cpu_started = time.time(), time.process_time()
            time.sleep(args.seconds)
            cpu = time.process_time() - cpu_started
            wall = time.time() - started
            polls, fresh = service.lateness[measured_from:], service.fresh[events_from:]
        finally:
            worker.stop()
        figures.errors = worker.errors + service.poll_errors
        _fill(figures, polls, fresh, cpu, wall, args, store)
    return figures


def _fill(
    figures: Figures,
    polls: list[tuple[float, str, float]],
    fresh: list[EventRecord],
    cpu: float,
    wall: float,
    args: argparse.Namespace,
    store: Store,
) -> None:
    figures.polls = len(polls)
    figures.polls_per_second = round(len(polls) / wall, 1) if wall else 0.0
    figures.cpu_ms_per_poll = round(cpu / len(polls) * 1000, 3) if polls else 0.0
    figures.events = len(fresh)
    latencies = [e.received_at.replace(tzinfo=UTC).timestamp() - float(e.body["available_at"]) for e in fresh]
    figures.latency_ms = _quantiles(latencies)
    figures.lateness_ms = _quantiles([late for _, _, late in polls])
    per_trigger = Counter(trigger for _, trigger, _ in polls)
    records = sorted(store.list_triggers(), key=lambda record: int(record.arguments["feed"]))
    counts = [per_trigger.get(record.id, 0) for record in records]  # by feed: the slow ones first
    figures.errors += sum(1 for record in records if record.last_error)
    figures.polls_per_trigger = {"min": min(counts), "max": max(counts)} if counts else {}
    figures.expected_polls_per_trigger = max(0, math.floor(args.seconds / args.interval) - 1)
    figures.late_polls = sum(1 for _, _, late in polls if late > args.tolerance)
    # A slow feed's next poll is due an interval after its slow answer: fewer polls are expected.
    slow_expected = max(0, math.floor(args.seconds / (args.interval + args.slow_seconds)) - 1)
    starved = bool(counts) and (
        min(counts[args.slow_feeds :], default=figures.expected_polls_per_trigger) < figures.expected_polls_per_trigger
        or min(counts[: args.slow_feeds], default=slow_expected) < slow_expected
    )
    figures.on_schedule = figures.late_polls == 0 and not starved and figures.errors == 0
    figures.target_met = figures.on_schedule and 0 < figures.cpu_ms_per_poll < 2.0


def print_figures(figures: Figures, args: argparse.Namespace, console: Console) -> None:
    table = Table(title=f"{figures.triggers} polling triggers, one process, {figures.seconds:g} s measured")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("connections (≤ 400 polls/min each)", str(figures.connections))
    table.add_row("poll interval (Retry-After) / event every", f"{figures.interval:g} s / {figures.event_every:g} s")
    table.add_row("polling threads", str(figures.concurrency))
    if figures.slow_feeds:
        table.add_row("slow backends (answer after)", f"{figures.slow_feeds} ({args.slow_seconds:g} s)")
    table.add_row("polls", f"{figures.polls} ({figures.polls_per_second:g}/s)")
    table.add_row("CPU per poll", f"{figures.cpu_ms_per_poll:.3f} ms")
    table.add_row("events stored", str(figures.events))
    for label, values in (("delivery latency", figures.latency_ms), ("lateness vs due time", figures.lateness_ms)):
        if values:
            table.add_row(label, f"median {values['median']:g} ms, p95 {values['p95']:g} ms, max {values['max']:g} ms")
    spread = figures.polls_per_trigger
    if spread:
        table.add_row(
            "polls per trigger", f"{spread['min']}-{spread['max']} (at least {figures.expected_polls_per_trigger})"
        )
    table.add_row(f"polls later than {args.tolerance:g} s", str(figures.late_polls))
    table.add_row("triggers in error", str(figures.errors))
    table.add_row("every trigger on schedule", "yes" if figures.on_schedule else "NO")
    console.print(table)
    verdict = "met" if figures.target_met else "NOT met"
    console.print(f"target (< 2 ms CPU per poll, all triggers on schedule): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between polls (the Retry-After)")
    parser.add_argument("--event-every", type=float, default=20.0, help="seconds between a feed's events")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the measured phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds polled after seeding, not measured")
    parser.add_argument("--tolerance", type=float, default=1.0, help="seconds a poll may start after its due time")
    parser.add_argument("--concurrency", type=int, default=4, help="polling threads of the worker")
    parser.add_argument("--slow-feeds", type=int, default=0, help="feeds whose backend answers slowly")
    parser.add_argument("--slow-seconds", type=float, default=3.0, help="how slowly those answer")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--serve-backend", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--epoch", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_backend:
        serve_backend(args.epoch, args.event_every, args.interval, (args.slow_feeds, args.slow_seconds))
        return
    if args.triggers < 1 or args.interval <= 0 or args.event_every <= 0 or args.seconds <= 0 or args.concurrency < 1:
        raise SystemExit("--triggers, --interval, --event-every, --seconds and --concurrency must be positive")
    if not 0 <= args.slow_feeds <= args.triggers or args.slow_seconds < 0:
        raise SystemExit("--slow-feeds must be between 0 and --triggers, --slow-seconds not negative")
    console = Console(stderr=args.format == "json", highlight=False)
    figures = run(args, console)
    if args.format == "json":
        print(json.dumps(asdict(figures), indent=2))
    else:
        print_figures(figures, args, console)


if __name__ == "__main__":
    main()
