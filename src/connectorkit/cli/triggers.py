"""``connectorkit listen`` and ``connectorkit trigger list|delete|stop|start``: run a trigger locally.

``listen`` starts the trigger through a :class:`~connectorkit.runtime.listening.TriggerService`
(a webhook subscribes with a callback URL served on ``--port``: by a running ``connectorkit
serve`` when one answers there, else by a small callbacks app this command runs meanwhile), then
prints each new event as one JSON line (``--format json``) or one text line, until Ctrl-C or
SIGTERM; then it stops the trigger cleanly (unsubscribing a webhook) and exits 0. Events go to
the store first and are printed from it, so what is printed is what was recorded.

``trigger stop`` / ``trigger start`` pause and resume a stored trigger (the platform's turning a
flow off and on) without losing its state or events; see
:meth:`~connectorkit.runtime.listening.TriggerService.pause`.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import Any

import typer

from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, err, handle_errors, out, print_json
from connectorkit.cli.local import DB_OPTION, DEFAULT_PORT, ENV_OPTION, _arguments, _local, _server_running
from connectorkit.errors import ConnectorkitError, InputError

WEBHOOK_TICK = 0.2
"""Seconds between looks at the store for pushed events."""
MAX_SLEEP = 1.0


class _Stopped(Exception):
    """SIGTERM arrived: stop as on Ctrl-C."""


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into :class:`_Stopped` in the main thread (elsewhere signals cannot be set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _callback_listener(port: int, environment: Any) -> Iterator[None]:
    """Callbacks reach ``--port``: a running ``connectorkit serve`` answers them (it must use the
    same store), else the callbacks app runs here until the block ends."""
    if _server_running(port):
        err.print(f"Using the connectorkit server on port {port} for callbacks (it must use this store).")
        yield
        return
    from connectorkit.server.callbacks import callbacks_app
    from connectorkit.server.loopback import serve_in_thread

    with serve_in_thread(callbacks_app(None, environment=environment), port, purpose="callbacks"):
        yield


def _event_line(trigger_id: str, event: Any, output_format: OutputFormat) -> str:
    received = event.received_at
    data = {
        "trigger": trigger_id,
        "key": event.key,
        "body": event.body,
        "problems": event.problems,
        "receivedAt": received.isoformat(),
    }
    if output_format is OutputFormat.json:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    problems = f"  problems: {'; '.join(event.problems)}" if event.problems else ""
    return f"{data['receivedAt']}  {event.key}  {json.dumps(event.body, ensure_ascii=False)}{problems}"


def _pause(service: Any, kind: str, deadline: float | None) -> None:
    """Sleep until the next poll is due (a webhook: a short tick), at most :data:`MAX_SLEEP` at a
    time so that ``--timeout`` is kept."""
    seconds = service.seconds_until_due(MAX_SLEEP) if kind == "polling" else WEBHOOK_TICK
    if deadline is not None:
        seconds = min(seconds, deadline - time.monotonic())
    time.sleep(min(MAX_SLEEP, max(0.02, seconds)))


def _check_listen_options(port: int, interval: float, timeout: float) -> None:
    if not 0 < port < 65536:
        raise InputError(f"--port {port}: not a TCP port")
    if interval <= 0:
        raise InputError(f"--interval {interval:g}: must be positive")
    if timeout < 0:
        raise InputError(f"--timeout {timeout:g}: must be 0 (no limit) or positive")


def register(app: typer.Typer) -> None:
    @app.command("listen")
    @handle_errors
    def listen(
        connector: str = typer.Argument(..., help="Deployed connector name (must match the connection's)."),
        operation_id: str = typer.Argument(..., help="The trigger's operationId."),
        connection_id: str = typer.Option(..., "--connection", help="Connection id (connectorkit connection list)."),
        param: list[str] | None = typer.Option(None, "-p", "--param", help="Trigger parameter name=value."),
        body: str | None = typer.Option(None, "--body", help="JSON body (webhook inputs), or @file.json."),
        public_url: str | None = typer.Option(
            None, "--public-url", help="Base URL the service calls back (a tunnel); default http://127.0.0.1:PORT."
        ),
        port: int = typer.Option(DEFAULT_PORT, "--port", help="Local port callbacks arrive on."),
        forward: str | None = typer.Option(None, "--forward", help="POST each event's body to this URL too."),
        interval: float = typer.Option(60.0, "--interval", help="Seconds between polls without Retry-After."),
        once: bool = typer.Option(False, "--once", help="Poll once (a webhook: wait for one callback), then stop."),
        timeout: float = typer.Option(0.0, "--timeout", help="Stop after this many seconds (0: no limit)."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Run a trigger locally and print its events as they arrive, until Ctrl-C."""
        import httpx

        from connectorkit.runtime.listening import TriggerService
        from connectorkit.runtime.triggers import TriggerOptions, trigger_kind

        _check_listen_options(port, interval, timeout)
        arguments = _arguments(param, body)
        options = TriggerOptions(interval=interval, min_interval=min(interval, TriggerOptions().min_interval))
        with _local(env, db) as environment, httpx.Client() as client:
            stored = environment.store.get_connection(connection_id)
            if stored.connector != connector:
                raise InputError(f"--connection {connection_id}: belongs to {stored.connector}, not {connector}")
            kind = trigger_kind(environment.package(connector), operation_id)
            service = TriggerService(
                environment, client=client, options=options, public_url=public_url or f"http://127.0.0.1:{port}"
            )
            listener = _callback_listener(port, environment) if kind == "webhook" else _nothing()
            with _stop_on_sigterm(), listener:
                record = service.start(connection_id, operation_id, arguments, target_url=forward)
                err.print(f"Listening: trigger {record.id} ({operation_id}, {record.kind}); Ctrl-C stops.")
                try:
                    received = _loop(service, record.id, record.kind, forward is not None, once, timeout, output_format)
                except (KeyboardInterrupt, _Stopped):
                    received = -1
                finally:
                    service.stop(record.id)
                    service.close()
                    err.print(
                        f"Stopped trigger {record.id}" + (" (unsubscribed)." if record.kind == "webhook" else ".")
                    )
        if once and record.kind == "webhook" and received == 0:
            raise ConnectorkitError(f"no callback arrived within {timeout:g} s (--timeout)")

    trigger = typer.Typer(help="Triggers the local environment runs (see connectorkit listen).", no_args_is_help=True)
    app.add_typer(trigger, name="trigger")

    @trigger.command("list")
    @handle_errors
    def trigger_list(
        env: str = ENV_OPTION, db: str | None = DB_OPTION, output_format: OutputFormat = FORMAT_OPTION
    ) -> None:
        """List the stored triggers."""
        with _local(env, db) as environment:
            records = environment.store.list_triggers()
        rows = [_summary(r) for r in records]
        if output_format is OutputFormat.json:
            print_json(rows)
            return
        if not rows:
            out.print("No triggers.")
        for row in rows:
            error = f"  error: {row['lastError']}" if row["lastError"] else ""
            out.print(
                f"{row['id']}  {row['connector']}/{row['operation']}  {row['kind']}  {row['status']}  "
                f"connection {row['connection']}{error}",
                markup=False,
            )

    @trigger.command("delete")
    @handle_errors
    def trigger_delete(
        trigger_id: str = typer.Argument(..., help="Trigger id (connectorkit trigger list)."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
    ) -> None:
        """Delete a trigger and its events; a webhook trigger is unsubscribed first."""
        import httpx

        from connectorkit.runtime.listening import TriggerService

        with _local(env, db) as environment, httpx.Client() as client:
            record = TriggerService(environment, client=client).stop(trigger_id)
        suffix = " (unsubscribed)" if record.kind == "webhook" else ""
        out.print(f"Deleted trigger {trigger_id}{suffix}", markup=False)

    @trigger.command("stop")
    @handle_errors
    def trigger_stop(
        trigger_id: str = typer.Argument(..., help="Trigger id (connectorkit trigger list)."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Stop a trigger but keep it, with its state and events (`trigger start` runs it again).

        A polling trigger is no longer polled and keeps its cursor. A webhook trigger is
        unsubscribed (DELETE of its subscription Location); callbacks to it are answered 404 until
        it is started again. A failed unsubscribe exits 1 and changes nothing. Stopping a stopped
        trigger does nothing."""
        import httpx

        from connectorkit.runtime.listening import TriggerService

        with _local(env, db) as environment, httpx.Client() as client:
            before = environment.store.get_trigger(trigger_id)
            record = TriggerService(environment, client=client).pause(trigger_id)
        if output_format is OutputFormat.json:
            print_json(_summary(record))
            return
        if before.status == record.status and "subscription" not in before.state:
            out.print(f"Trigger {trigger_id} is already stopped.", markup=False)
            return
        how = "unsubscribed; callbacks are refused" if record.kind == "webhook" else "no longer polled"
        out.print(
            f"Stopped trigger {trigger_id} ({how}); its state and events are kept. "
            f"`connectorkit trigger start {trigger_id}` runs it again.",
            markup=False,
        )

    @trigger.command("start")
    @handle_errors
    def trigger_start(
        trigger_id: str = typer.Argument(..., help="Trigger id (connectorkit trigger list)."),
        public_url: str | None = typer.Option(
            None,
            "--public-url",
            help="Webhook: base URL the service calls back (a tunnel to `connectorkit serve`); default "
            "http://127.0.0.1:PORT when a connectorkit server answers there.",
        ),
        port: int = typer.Option(DEFAULT_PORT, "--port", help="Webhook: port of the local connectorkit server."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Start a stopped trigger again (or one left unauthenticated or in error, once fixed).

        A polling trigger is due at once and polls on from its kept cursor, so what arrived while
        it was stopped fires now. A webhook trigger subscribes again with a new callback URL; the
        callbacks must reach a `connectorkit serve` on this store (give --public-url, or run the
        server on --port). Starting an active trigger does nothing."""
        import httpx

        from connectorkit.runtime.listening import TriggerService

        if not 0 < port < 65536:
            raise InputError(f"--port {port}: not a TCP port")
        with _local(env, db) as environment, httpx.Client() as client:
            before = environment.store.get_trigger(trigger_id)
            base = public_url
            if base is None and before.kind == "webhook" and before.status != "active" and _server_running(port):
                base = f"http://127.0.0.1:{port}"
            record = TriggerService(environment, client=client, public_url=base).resume(trigger_id)
        if output_format is OutputFormat.json:
            print_json(_summary(record))
            return
        if before.status == "active" and before.state == record.state:
            out.print(f"Trigger {trigger_id} is already active.", markup=False)
            return
        how = "subscribed again with a new callback URL" if record.kind == "webhook" else "due now"
        out.print(f"Started trigger {trigger_id} ({how}).", markup=False)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _loop(
    service: Any, trigger_id: str, kind: str, forwarding: bool, once: bool, timeout: float, output_format: OutputFormat
) -> int:
    """Poll and print until stopped; returns how many events were printed."""
    store = service.store
    deadline = time.monotonic() + timeout if timeout else None
    last_id = printed = 0
    while True:
        service.run_due()
        if forwarding:
            report = service.deliver()
            for error in report.errors:
                err.print(f"forwarding: {error}", markup=False)
        fresh = store.events(trigger_id, since_id=last_id, limit=500)
        for event in fresh:
            typer.echo(_event_line(trigger_id, event, output_format))
            last_id = event.id
        printed += len(fresh)
        if fresh and not forwarding:
            store.mark_delivered([e.id for e in fresh])
        if once and (kind == "polling" or printed):
            return printed
        if deadline is not None and time.monotonic() >= deadline:
            return printed
        _pause(service, kind, deadline)


def _summary(record: Any) -> dict[str, Any]:
    def stamp(moment: datetime | None) -> str | None:
        if moment is None:
            return None
        return moment.isoformat()

    return {
        "id": record.id,
        "connector": record.connector,
        "operation": record.operation_id,
        "connection": record.connection_id,
        "kind": record.kind,
        "status": record.status,
        "lastError": record.last_error,
        "nextDueAt": stamp(record.next_due_at),
        "forward": record.target_url,
        "createdAt": stamp(record.created_at),
    }
