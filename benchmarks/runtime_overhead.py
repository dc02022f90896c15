"""What the local hosting environment adds to a call, measured against calling the API directly.

The Tasks example API runs in its own uvicorn process on a loopback port; one read operation
(``GetTask``) is called many times, after a warm-up, along each path:

- direct: ``httpx.Client.get`` with the API key, the floor every other path stands on;
- library, engine only: ``invoke()`` with the deployed package loaded once;
- library, environment: ``LocalEnvironment.call()``: store lookups, engine, call history;
- server: ``POST /api/invoke`` of ``connectorkit serve``, in its own uvicorn process (only when
  ``connectorkit.server.app.create_app`` exists).

Latency is per call, one client, sequential; the paths take turns in rounds so that a noisy
neighbour slows them all alike. Throughput is calls per second from several client threads,
server against direct. Servers run in separate processes, so the benchmark's own GIL does not
slow them. The platform's 500 calls per minute per connection would throttle the server after a
few hundred calls, so its calls are spread over enough connections; the in-process environment
is given a throttle that never refuses. Finally a cProfile of ``LocalEnvironment.call`` shows
where its time goes.

Usage: python benchmarks/runtime_overhead.py [--calls 2000] [--warmup 200] [--clients 4] [--seconds 3]
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import math
import os
import pstats
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.definition.package import ConnectorPackage
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import Throttle, invoke
from connectorkit.runtime.store import Store

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
PER_CONNECTION = 400  # calls per connection per minute, under the platform's 500
TASK_ID = 1

SERVER = textwrap.dedent(
    """
    import os, sys, uvicorn
    from connectorkit.server.app import create_app
    app = create_app(sys.argv[1], token=os.environ["BENCH_SERVER_TOKEN"])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
    """
)

# The floor: the least any proxy written with the same stack (uvicorn, an ASGI app, httpx) can
# cost: read the JSON call, GET the task with the key, answer the status and body as JSON. No
# routing, auth, store, policies or redaction. What the server costs above it is connectorkit's.
FLOOR = textwrap.dedent(
    """
    import json, os, sys, httpx, uvicorn
    backend, key, clients = os.environ["FLOOR_BACKEND"], os.environ["FLOOR_KEY"], []

    async def body_of(receive):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                return body

    async def answer(send, status, body):
        length = str(len(body)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", length)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                clients.append(httpx.AsyncClient())
                await send({"type": "lifespan.startup.complete"})
            await clients[0].aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        call = json.loads(await body_of(receive) or b"{}")
        if scope["path"] != "/api/invoke":
            await answer(send, 200, b"{}")
            return
        got = await clients[0].get(f"{backend}/tasks/{call['arguments']['taskId']}", headers={"X-API-Key": key})
        await answer(send, 200, json.dumps({"response": {"status": got.status_code, "body": got.json()}}).encode())

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
    """
)

console = Console(highlight=False, width=max(140, Console().width))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def process(command: list[str], ready_url: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """Run ``command`` until the block ends; ready once ``ready_url`` answers 200."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if child.poll() is not None:
                raise SystemExit(f"{' '.join(command[:3])} exited: {child.stderr.read() if child.stderr else ''}")
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{ready_url} did not answer within 30 s")
            time.sleep(0.05)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` so far (None where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU milliseconds per call of each named process over a measured run."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.per_call: dict[str, list[float]] = {}

    def run(self, measure: Callable[[], tuple[int, float]]) -> float:
        """Calls per second of ``measure()``, which returns how many calls it made and in how
        many seconds; the CPU each process spent meanwhile is divided by those calls."""
        before = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        calls, elapsed = measure()
        for name, pid in self.pids.items():
            start, end = before[name], cpu_seconds(pid)
            if start is not None and end is not None and calls:
                self.per_call.setdefault(name, []).append((end - start) / calls * 1000)
        return calls / elapsed

    def medians(self) -> dict[str, float]:
        return {name: statistics.median(values) for name, values in self.per_call.items()}


def server_available() -> bool:
    try:
        module = importlib.import_module("connectorkit.server.app")
    except ImportError:
        return False
    return callable(getattr(module, "create_app", None))


# --------------------------------------------------------------------------- measuring


def timed(call: Callable[[], None], count: int) -> list[float]:
    """Milliseconds of each of ``count`` calls."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def latencies(paths: dict[str, Callable[[], None]], calls: int, warmup: int, rounds: int = 5) -> dict[str, list[float]]:
    """Per-call milliseconds of every path, the paths taking turns in ``rounds`` rounds."""
    for call in paths.values():
        timed(call, warmup)
    samples: dict[str, list[float]] = {name: [] for name in paths}
    per_round = math.ceil(calls / rounds)
    for _ in range(rounds):
        for name, call in paths.items():
            samples[name] += timed(call, per_round)
    return samples


def throughput(make_call: Callable[[], Callable[[], None]], clients: int, seconds: float) -> tuple[int, float]:
    """Calls completed by ``clients`` threads, each with its own call (and client), and the
    seconds they took."""
    counts = [0] * clients
    failures: list[BaseException] = []
    stop = threading.Event()
    start = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        try:
            call = make_call()
            call()  # connect before the clock starts
            start.wait()
            while not stop.is_set():
                call()
                counts[index] += 1
        except BaseException as exc:  # a failed call ends the run; main() reports it
            failures.append(exc)
            start.abort()
            stop.set()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    try:
        start.wait()
        began = time.perf_counter()
        stop.wait(seconds)
        stop.set()
    except threading.BrokenBarrierError:
        pass
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"throughput run failed: {failures[0]}")
    return sum(counts), time.perf_counter() - began


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


# --------------------------------------------------------------------------- the paths


def expect(status: int, wanted: int, path: str) -> None:
    if status != wanted:
        raise SystemExit(f"{path}: HTTP {status}, expected {wanted}; the figures would be meaningless")


class Setup:
    """The API, its connector deployed to a store, and connections to call it with."""

    def __init__(self, work: Path, base: str, key: str) -> None:
        self.base = base
        self.key = key
        with httpx.Client() as client:
            created = client.post(f"{base}/tasks", json={"title": "benchmark"}, headers={"X-API-Key": key})
            expect(created.status_code, 201, "create the task")
            spec = read_spec(f"{base}/openapi.json", client=client)
        folder = create_connector(spec, NewOptions(name="Tasks")).package.save(work / "Tasks")
        self.db = f"sqlite:///{work / 'store.db'}"
        self.store = Store(self.db)
        # In-process the throttle is lifted: the limit is the platform's, not a cost of the runtime.
        self.environment = LocalEnvironment(self.store, throttle=Throttle(limit=10**9))
        self.environment.deploy(ConnectorPackage.load(folder))
        self.package = self.environment.package("Tasks")
        self.connection = self.environment.create_connection("Tasks", {"api_key": key})

    def connections(self, count: int) -> list[str]:
        return [self.environment.create_connection("Tasks", {"api_key": self.key}) for _ in range(count)]

    def direct(self, client: httpx.Client) -> Callable[[], None]:
        url = f"{self.base}/tasks/{TASK_ID}"
        headers = {"X-API-Key": self.key}

        def call() -> None:
            expect(client.get(url, headers=headers).status_code, 200, "direct")

        return call

    def engine(self, client: httpx.Client) -> Callable[[], None]:
        values = {"api_key": self.key}

        def call() -> None:
            result = invoke(self.package, "GetTask", {"taskId": TASK_ID}, values, client=client)
            expect(result.response.status, 200, "invoke()")

        return call

    def environment_call(self, client: httpx.Client) -> Callable[[], None]:
        def call() -> None:
            result = self.environment.call(self.connection, "GetTask", {"taskId": TASK_ID}, client=client)
            expect(result.response.status, 200, "LocalEnvironment.call()")

        return call


def server_call(client: httpx.Client, url: str, token: str, connections: list[str]) -> Callable[[], None]:
    """POST /api/invoke, spreading calls over ``connections`` (the 500/minute limit is per connection)."""
    headers = {"Authorization": f"Bearer {token}"}
    turn = [0]

    def call() -> None:
        connection = connections[turn[0] % len(connections)]
        turn[0] += 1
        body = {"connection": connection, "operation": "GetTask", "arguments": {"taskId": TASK_ID}}
        answer = client.post(url, json=body, headers=headers)
        expect(answer.status_code, 200, "server")
        expect(answer.json()["response"]["status"], 200, "server (backend status)")

    return call


# --------------------------------------------------------------------------- report


def profile(call: Callable[[], None], count: int) -> list[Table]:
    """Where ``LocalEnvironment.call`` spends its time: ms per call of the costliest functions,
    by cumulative time (which step) and by own time (which primitive)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call()
    profiler.disable()
    stats: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    title = f"cProfile of LocalEnvironment.call, {count} calls (ms per call, profiler overhead included)"
    return [
        _profile_table(stats, count, 3, f"{title}, by cumulative time", 20),
        _profile_table(stats, count, 2, f"{title}, by own time", 10),
    ]


def _profile_table(stats: dict[Any, Any], count: int, column: int, title: str, top: int) -> Table:
    rows = sorted(stats.items(), key=lambda item: item[1][column], reverse=True)
    table = Table(title=title)
    table.add_column("function", overflow="fold")
    table.add_column("cumulative", justify="right")
    table.add_column("own", justify="right")
    table.add_column("calls/call", justify="right")
    shown = 0
    for (file, line, name), (_cc, ncalls, own, cumulative, _callers) in rows:
        where = re.split(r"site-packages/|/src/|/lib/python3\.\d+/", file)[-1]
        if name in ("<built-in method builtins.exec>",) or "runtime_overhead.py" in file or "profile" in name:
            continue
        table.add_row(
            f"{where}:{line}({name})",
            f"{cumulative / count * 1000:.3f}",
            f"{own / count * 1000:.3f}",
            f"{ncalls / count:.1f}",
        )
        shown += 1
        if shown >= top:
            break
    return table


DIRECT = "direct httpx GET"
SERVER_PATH = "server: POST /api/invoke"
FLOOR_PATH = "floor: bare proxy, no connectorkit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="measured calls per path")
    parser.add_argument("--warmup", type=int, default=200, help="calls per path before measuring")
    parser.add_argument("--clients", type=int, default=4, help="client threads for throughput")
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="throughput runs per path, taking turns (median shown)")
    parser.add_argument("--profile-calls", type=int, default=300)
    args = parser.parse_args()

    key = secrets.token_urlsafe(18)
    token = secrets.token_urlsafe(24)
    api_port = free_port()
    base = f"http://127.0.0.1:{api_port}"
    api = [sys.executable, "-m", "uvicorn", "connectorkit.examples.tasks:app", "--host", "127.0.0.1",
           "--port", str(api_port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    with ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="ck-bench-"))
        api_process = stack.enter_context(process(api, f"{base}/openapi.json", {**ENV, "TASKS_API_KEY": key}))
        setup = Setup(Path(tmp), base, key)
        client = stack.enter_context(httpx.Client())
        paths = {
            DIRECT: setup.direct(client),
            "library: invoke()": setup.engine(client),
            "library: LocalEnvironment.call()": setup.environment_call(client),
        }
        # Each proxy in its own process: (url of its invoke endpoint, pid).
        proxies: dict[str, tuple[str, int]] = {}
        server = server_available()
        pool: list[str] = []
        if server:
            port = free_port()
            budget = args.warmup + args.calls + int(args.seconds * args.rounds * 3000)
            pool = setup.connections(max(1, math.ceil(budget / PER_CONNECTION)))
            child = stack.enter_context(
                process(
                    [sys.executable, "-c", SERVER, setup.db, str(port)],
                    f"http://127.0.0.1:{port}/api/health",
                    {**ENV, "BENCH_SERVER_TOKEN": token},
                )
            )
            proxies[SERVER_PATH] = (f"http://127.0.0.1:{port}/api/invoke", child.pid)
        port = free_port()
        child = stack.enter_context(
            process(
                [sys.executable, "-c", FLOOR, str(port)],
                f"http://127.0.0.1:{port}/health",
                {**ENV, "FLOOR_BACKEND": base, "FLOOR_KEY": key},
            )
        )
        proxies[FLOOR_PATH] = (f"http://127.0.0.1:{port}/api/invoke", child.pid)
        for name, (url, _) in proxies.items():
            paths[name] = server_call(client, url, token, pool or [""])
        samples = latencies(paths, args.calls, args.warmup)

        clients = ExitStack()  # one client per thread, closed after the runs

        def fresh(make: Callable[[httpx.Client], Callable[[], None]]) -> Callable[[], Callable[[], None]]:
            return lambda: make(clients.enter_context(httpx.Client()))

        def via(url: str) -> Callable[[httpx.Client], Callable[[], None]]:
            return lambda c: server_call(c, url, token, pool or [""])

        # The paths take turns, and the median of each is reported: on a shared machine one
        # window alone can be off by a third. CPU per call is read for every process involved.
        own = os.getpid()
        makers = {DIRECT: fresh(setup.direct)}
        meters = {DIRECT: CpuMeter({"client": own, "API": api_process.pid})}
        for name, (url, pid) in proxies.items():
            makers[name] = fresh(via(url))
            meters[name] = CpuMeter({"client": own, "proxy": pid, "API": api_process.pid})
        runs: dict[str, list[float]] = {name: [] for name in makers}
        for _ in range(args.rounds):
            for name, make in makers.items():
                runs[name].append(meters[name].run(partial(throughput, make, args.clients, args.seconds)))
        rates = {name: statistics.median(values) for name, values in runs.items()}
        clients.close()
        cpu = {name: meter.medians() for name, meter in meters.items()}
        profile_tables = profile(setup.environment_call(client), args.profile_calls) if args.profile_calls > 0 else []
        setup.store.close()

    report(samples, rates, cpu, args, server, profile_tables)


def report(
    samples: dict[str, list[float]],
    rates: dict[str, float],
    cpu: dict[str, dict[str, float]],
    args: argparse.Namespace,
    server: bool,
    prof: list[Table],
) -> None:
    direct = statistics.median(samples[DIRECT])
    table = Table(title=f"GetTask latency: {args.calls} calls per path after {args.warmup} warm-up, one client")
    for column in ("path", "median ms", "p95 ms", "overhead ms (median - direct)"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for name, values in samples.items():
        median = statistics.median(values)
        table.add_row(name, f"{median:.3f}", f"{p95(values):.3f}", "-" if name == DIRECT else f"{median - direct:+.3f}")
    console.print(table)
    if not server:
        console.print("server: not available")
    rate_table = Table(
        title=f"Throughput: {args.clients} client threads, median of {args.rounds} runs of {args.seconds:g} s each; "
        "CPU ms per call of each process"
    )
    for column in ("path", "calls/s", "ratio to direct", "client CPU", "proxy CPU", "API CPU"):
        rate_table.add_column(column, justify="left" if column == "path" else "right")
    for name, rate in rates.items():
        spent = cpu.get(name, {})
        rate_table.add_row(
            name,
            f"{rate:.0f}",
            f"{rate / rates[DIRECT]:.0%}",
            *(f"{spent[p]:.2f}" if p in spent else "-" for p in ("client", "proxy", "API")),
        )
    console.print(rate_table)
    engine = statistics.median(samples["library: invoke()"]) - direct
    environment = statistics.median(samples["library: LocalEnvironment.call()"]) - direct
    console.print(
        f"library overhead: invoke() {engine:+.3f} ms, LocalEnvironment.call() {environment:+.3f} ms (target < 0.5 ms)"
    )
    floor = rates[FLOOR_PATH] / rates[DIRECT]
    console.print(f"floor (a bare proxy on the same stack): {floor:.0%} of direct")
    if SERVER_PATH in rates:
        ratio = rates[SERVER_PATH] / rates[DIRECT]
        console.print(
            f"server throughput: {ratio:.0%} of direct (target >= 50%), "
            f"{rates[SERVER_PATH] / rates[FLOOR_PATH]:.0%} of the bare proxy's"
        )
    for table in prof:
        console.print(table)


if __name__ == "__main__":
    main()
