"""``connectorkit serve``: the management API and the web console on a local port, and the trigger worker.

Three ways to run it, on one store (``--db``):

- ``connectorkit serve`` (the default): the HTTP server *and* one trigger worker thread, so a
  single process runs everything: API, console, webhook callbacks, polling and forwarding.
- ``connectorkit serve --no-worker``: the HTTP server only (other processes poll).
- ``connectorkit serve --worker``: a trigger worker only, no HTTP server: for scaling out, start
  several against one PostgreSQL (or SQLite) store; the trigger leases keep any trigger from being
  polled by two of them at once, and a killed worker's triggers are taken over when its leases
  expire (``--lease-seconds``). It stops cleanly on Ctrl-C or SIGTERM, giving its leases back.

Webhook triggers started through the API subscribe with callback URLs under ``--public-url``
(default: this server's own URL), the address a tunnel or reverse proxy gives it.
"""

from __future__ import annotations

import ipaddress
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from connectorkit.cli.common import err, handle_errors, out
from connectorkit.cli.local import CONFIG_OPTION
from connectorkit.errors import InputError

if TYPE_CHECKING:
    from connectorkit.runtime.triggers import TriggerOptions

DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def own_url(host: str, port: int) -> str:
    """The server's base URL as a local client reaches it (a wildcard address becomes loopback)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def console_url(host: str, port: int, code: str) -> str:
    return f"{own_url(host, port)}/console/login?code={code}"


def _run_worker(
    db: str | None,
    config: Path | None,
    options: TriggerOptions,
    lease_seconds: float,
    *,
    tick: float,
    poll_threads: int,
) -> None:
    """``serve --worker``: poll and forward in this thread until Ctrl-C or SIGTERM."""
    import httpx

    from connectorkit.runtime.config import load_runtime_config
    from connectorkit.runtime.environment import LocalEnvironment
    from connectorkit.runtime.listening import TriggerService, Worker
    from connectorkit.runtime.store import open_store

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    with open_store(db) as store, httpx.Client() as client:
        environment = LocalEnvironment(store, config=load_runtime_config(config))
        service = TriggerService(
            environment, client=client, options=options, lease_seconds=lease_seconds, concurrency=poll_threads
        )
        previous = [signal.signal(signal.SIGTERM, request_stop), signal.signal(signal.SIGINT, request_stop)]
        try:
            out.print(f"connectorkit trigger worker {service.worker_id} running; Ctrl-C stops", markup=False)
            worker = Worker(service, tick=tick)
            worker.run(stop)
            out.print(f"worker {service.worker_id} stopped after {worker.polls} polls", markup=False)
        finally:
            signal.signal(signal.SIGTERM, previous[0])
            signal.signal(signal.SIGINT, previous[1])


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @handle_errors
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback unless you mean it)."),
        port: int = typer.Option(DEFAULT_PORT, "--port", help="Port to listen on."),
        db: str | None = typer.Option(
            None, "--db", help="Store URL (default: CONNECTORKIT_DB, else SQLite in the user data folder)."
        ),
        token_file: Path | None = typer.Option(
            None, "--token-file", help="API token file (default: server-token next to the store's key file)."
        ),
        config: Path | None = CONFIG_OPTION,
        worker_only: bool = typer.Option(
            False, "--worker", help="Run only a trigger worker (no HTTP server): start several to scale out."
        ),
        no_worker: bool = typer.Option(False, "--no-worker", help="Serve HTTP without the trigger worker thread."),
        public_url: str | None = typer.Option(
            None, "--public-url", help="Base URL webhook services call back (a tunnel); default this server's URL."
        ),
        poll_interval: float = typer.Option(
            60.0, "--poll-interval", help="Seconds between polls of a trigger whose backend sends no Retry-After."
        ),
        lease_seconds: float = typer.Option(
            120.0, "--lease-seconds", help="How long a worker holds a trigger it polls (a dead worker's, at most)."
        ),
        poll_threads: int = typer.Option(
            4, "--poll-threads", help="Polls a worker runs at once (a slow backend holds one thread, not the others)."
        ),
    ) -> None:
        """Serve the management API (/api, token in the server-token file), the web console and the trigger worker."""
        from connectorkit.runtime.triggers import TriggerOptions

        if worker_only and no_worker:
            raise InputError("--worker and --no-worker: pick one (--worker runs only the worker)")
        if poll_interval <= 0 or lease_seconds <= 0:
            raise InputError("--poll-interval and --lease-seconds must be positive")
        if poll_threads < 1:
            raise InputError(f"--poll-threads {poll_threads}: must be at least 1")
        if public_url is not None and not public_url.startswith(("http://", "https://")):
            raise InputError(f"--public-url {public_url!r}: expected an absolute http(s) URL")
        options = TriggerOptions(interval=poll_interval, min_interval=min(poll_interval, TriggerOptions().min_interval))
        if worker_only:
            _run_worker(db, config, options, lease_seconds, tick=min(1.0, poll_interval), poll_threads=poll_threads)
            return
        import uvicorn

        from connectorkit.server.app import create_app

        if not 0 < port < 65536:
            raise InputError(f"--port {port}: must be between 1 and 65535")
        if not is_loopback(host):
            err.print(
                f"[bold yellow]warning:[/] listening on {host}: other machines can reach the API and console "
                "(over plain HTTP); use --host 127.0.0.1 unless you mean it",
                markup=True,
            )
        from connectorkit.runtime.config import load_runtime_config

        application = create_app(
            db,
            token_file=token_file,
            config=load_runtime_config(config),
            public_url=(public_url or own_url(host, port)).rstrip("/"),
            trigger_options=options,
            lease_seconds=lease_seconds,
            poll_threads=poll_threads,
            worker=not no_worker,
            worker_tick=min(1.0, poll_interval),
        )
        state = application.state.server
        code = state.gate.issue_code()
        out.print(f"connectorkit serving on http://{host}:{port} (API: /api, OpenAPI: /api/openapi.json)", markup=False)
        if state.token_file is not None:
            out.print(f"API token file: {state.token_file}", markup=False)
        out.print(f"Console (one-time login link, valid 10 minutes): {console_url(host, port, code)}", markup=False)
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
