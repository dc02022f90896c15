"""``connectorkit listen`` and ``connectorkit trigger list|delete|stop|start``: run a trigger locally.

``listen`` starts the trigger through a :class:`~connectorkit.runtime.listening.TriggerService`
(a webhook subscribes with a callback URL served on ``--port``: by a running ``connectorkit
serve`` when one answers there, else by a small callbacks app this command runs meanwhile), then
prints each new event as one JSON line (``--format json``) or one text line, until Ctrl-C or
SIGTERM; then it stops the trigger cleanly (unsubscribing a webhook) and exits 0. Events go to
the store first and are printed from it, so what is printed is what was recorded. A listener
polls and forwards its own trigger only, at its own ``--interval``: the store's other triggers
(durable ones, other listeners') are left to their own workers.

An error exit (the store failing mid-run, say) is not a clean stop: the trigger is kept, with
the events it did not deliver, and one stderr line says so; the next ``listen`` resumes it.

A listener's trigger is stored with the listener's worker id (``host:pid:random``). A listener
killed before it could delete it (SIGKILL, a crash, a power cut) leaves it behind; the next
``listen`` with the same connection, operation, parameters and ``--forward`` finds it, sees that
its process is gone and resumes it (``--trigger ID`` names one explicitly): the undelivered events
first, then polling on from the stored cursor. Each event is marked delivered right after it is
printed or forwarded, so a kill repeats at most the event in flight, with the same key. Durable
triggers (API, console, ``trigger`` commands) have no listener and are never adopted.

``trigger stop`` / ``trigger start`` pause and resume a stored trigger (the platform's turning a
flow off and on) without losing its state or events; see
:meth:`~connectorkit.runtime.listening.TriggerService.pause`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
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
    """A second SIGTERM arrived: stop at once, as on a second Ctrl-C."""


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """SIGTERM and Ctrl-C set the event the loop stops on, between its steps: an exception
    raised inside a database call (a signal handler raises where the main thread happens to be)
    can leave that connection broken, and the clean stop after it would fail. A second signal
    raises (:class:`_Stopped`, ``KeyboardInterrupt``), for a loop stuck in a call. Only the main
    thread can set handlers; elsewhere the event is never set by a signal."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if not stop.is_set():
            stop.set()
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt
        else:
            raise _Stopped

    previous = {number: signal.signal(number, handler) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for number, before in previous.items():
            signal.signal(number, before)


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


def _pause(service: Any, trigger_id: str, kind: str, deadline: float | None, stop: threading.Event) -> None:
    """Sleep until the trigger's next poll is due (a webhook: a short tick), at most
    :data:`MAX_SLEEP` at a time so that ``--timeout`` is kept; a stop request ends the sleep."""
    seconds = _seconds_until_own_poll(service, trigger_id, MAX_SLEEP) if kind == "polling" else WEBHOOK_TICK
    if deadline is not None:
        seconds = min(seconds, deadline - time.monotonic())
    stop.wait(min(MAX_SLEEP, max(0.02, seconds)))


def _seconds_until_own_poll(service: Any, trigger_id: str, cap: float) -> float:
    """How long until the listener's own trigger is due: ``cap`` at most, and ``cap`` when it is
    not active (it is not polled then). Not the store's earliest due time: another trigger due
    (a durable one nobody runs, say) would wake this listener over and over for nothing."""
    record = service.store.get_trigger(trigger_id)
    if record.status != "active" or record.next_due_at is None:
        return cap
    seconds: float = (record.next_due_at - service.clock()).total_seconds()
    return min(cap, max(0.0, seconds))


def _finish(service: Any, record: Any, *, clean: bool) -> None:
    """End the listener's run. A clean stop (Ctrl-C, SIGTERM, ``--once``, ``--timeout``) deletes
    the trigger (unsubscribing a webhook). Any other end keeps it, with its undelivered events,
    for the next ``listen`` to resume, and says so in one line; the error itself follows."""
    if not clean:
        _keep(service, record.id)
        return
    try:
        service.stop(record.id)
    except BaseException:
        _keep(service, record.id)
        raise
    service.close()
    err.print(f"Stopped trigger {record.id}" + (" (unsubscribed)." if record.kind == "webhook" else "."))


def _keep(service: Any, trigger_id: str) -> None:
    """Give back the listener's leases and report the kept trigger. Never raises: it runs while
    an error is on its way out, and the store may be what failed (then the count is unknown)."""
    from connectorkit.runtime.store.repository import NotFoundError

    try:
        service.close()
        service.store.get_trigger(trigger_id)
        count = service.store.pending_count(trigger_id)
    except NotFoundError:  # deleted meanwhile (`connectorkit trigger delete`): nothing was kept
        err.print(f"trigger {trigger_id} was deleted meanwhile", markup=False)
        return
    except Exception:
        pending = "its events (uncounted: the store failed)"
    else:
        pending = f"{count} event{'' if count == 1 else 's'}"
    err.print(f"kept trigger {trigger_id} for the next listen to resume: {pending} not delivered", markup=False)


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
        connector: str | None = typer.Argument(
            None, metavar="CONNECTOR", help="Deployed connector name (must match the connection's)."
        ),
        operation_id: str | None = typer.Argument(None, metavar="TRIGGER_OPERATION", help="The trigger's operationId."),
        connection_id: str | None = typer.Option(
            None, "--connection", help="Connection id (connectorkit connection list)."
        ),
        param: list[str] | None = typer.Option(None, "-p", "--param", help="Trigger parameter name=value."),
        body: str | None = typer.Option(None, "--body", help="JSON body (webhook inputs), or @file.json."),
        public_url: str | None = typer.Option(
            None, "--public-url", help="Base URL the service calls back (a tunnel); default http://127.0.0.1:PORT."
        ),
        port: int = typer.Option(DEFAULT_PORT, "--port", help="Local port callbacks arrive on."),
        forward: str | None = typer.Option(
            None, "--forward", help="POST each event's body here instead (the delivery; lines echo what was sent)."
        ),
        interval: float = typer.Option(
            60.0, "--interval", help="Seconds between this trigger's polls without Retry-After."
        ),
        once: bool = typer.Option(False, "--once", help="Poll once (a webhook: wait for one callback), then stop."),
        timeout: float = typer.Option(0.0, "--timeout", help="Stop after this many seconds (0: no limit)."),
        resume_id: str | None = typer.Option(
            None,
            "--trigger",
            help="Resume this trigger of a listener that did not stop cleanly (connectorkit trigger list); "
            "its connector, operation, connection, parameters and --forward are the stored ones.",
        ),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Run a trigger locally and print its events as they arrive, until Ctrl-C.

        Each event is delivered once: printed as one line carrying its stable key (or, with
        --forward, POSTed with the X-Connectorkit-Event-Key header) and marked delivered right
        after. A listener killed at any point (SIGKILL included) and started again with the same
        connection, operation, parameters and --forward resumes its trigger (or give --trigger
        ID): it delivers the events left undelivered first, oldest first, then polls on from the
        stored cursor, so nothing is lost; after a kill at most the event in flight is delivered
        again, with the same key. Only this trigger is polled and forwarded, never the store's
        others. Ctrl-C, SIGTERM, --once and --timeout stop cleanly and delete the trigger; an error
        keeps it (stderr says so), for the next listen to resume with its undelivered events."""
        import httpx

        from connectorkit.runtime.listening import TriggerService, default_worker_id
        from connectorkit.runtime.triggers import TriggerOptions, trigger_kind

        _check_listen_options(port, interval, timeout)
        arguments = _arguments(param, body)
        options = TriggerOptions(interval=interval, min_interval=min(interval, TriggerOptions().min_interval))
        listener_id = default_worker_id()
        with _local(env, db) as environment, httpx.Client() as client:
            store = environment.store
            if resume_id is not None:
                left: Any = _named_trigger(store, resume_id, connector, operation_id, connection_id, arguments, forward)
                connector, operation_id, connection_id = left.connector, left.operation_id, left.connection_id
                arguments, forward = left.arguments, left.target_url
            else:
                if connector is None or operation_id is None or connection_id is None:
                    raise InputError(
                        "listen needs CONNECTOR, TRIGGER_OPERATION and --connection (or --trigger ID to resume a trigger)"
                    )
                stored = store.get_connection(connection_id)
                if stored.connector != connector:
                    raise InputError(f"--connection {connection_id}: belongs to {stored.connector}, not {connector}")
                left = _left_behind(store, connection_id, operation_id, arguments, forward)
            kind = trigger_kind(environment.package(connector), operation_id)
            service = TriggerService(
                environment,
                client=client,
                options=options,
                public_url=public_url or f"http://127.0.0.1:{port}",
                worker_id=listener_id,
            )
            listener = _callback_listener(port, environment) if kind == "webhook" else _nothing()
            with _stop_signals() as stop, listener:
                record = _resume(service, left, explicit=resume_id is not None) if left is not None else None
                if record is None:
                    record = service.start(connection_id, operation_id, arguments, target_url=forward, listener=True)
                err.print(f"Listening: trigger {record.id} ({operation_id}, {record.kind}); Ctrl-C stops.")
                clean = False
                try:
                    received = _loop(
                        service, record.id, record.kind, forward is not None, once, timeout, output_format, stop
                    )
                    if stop.is_set():
                        received = -1
                    clean = True
                except (KeyboardInterrupt, _Stopped):
                    received = -1
                    clean = True
                finally:
                    _finish(service, record, clean=clean)
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
    service: Any,
    trigger_id: str,
    kind: str,
    forwarding: bool,
    once: bool,
    timeout: float,
    output_format: OutputFormat,
    stop: threading.Event,
) -> int:
    """Deliver, poll and deliver again until ``stop`` is set (or ``--once``, ``--timeout``);
    returns how many events were delivered. Only this trigger is polled and delivered: the
    store's other triggers are not this listener's to run (nor at its ``--interval``).

    What is pending is delivered before the first poll: the events a killed listener of this
    trigger stored but did not deliver."""
    deadline = time.monotonic() + timeout if timeout else None
    delivered = _hand_out(service, trigger_id, forwarding, output_format)
    while not stop.is_set():
        service.run_due(only=trigger_id)
        delivered += _hand_out(service, trigger_id, forwarding, output_format)
        if once and (kind == "polling" or delivered):
            break
        if deadline is not None and time.monotonic() >= deadline:
            break
        _pause(service, trigger_id, kind, deadline, stop)
    return delivered


def _hand_out(service: Any, trigger_id: str, forwarding: bool, output_format: OutputFormat) -> int:
    """Deliver the trigger's pending events, oldest first, each marked delivered right after it
    is written to stdout (``typer.echo`` flushes) or POSTed with a 2xx: a kill between the two
    repeats that one event, never more. With --forward the POST is the delivery and the line
    echoes it; forwarding errors are reported and the event stays pending, to be retried."""
    count = 0

    def echo(event: Any) -> None:
        nonlocal count
        typer.echo(_event_line(trigger_id, event, output_format))
        count += 1

    if forwarding:
        report = service.deliver(delivered=echo, only=trigger_id)
        for error in report.errors:
            err.print(f"forwarding: {error}", markup=False)
        return count
    store = service.store
    for event in store.pending_events(trigger_id, limit=500):
        echo(event)
        store.mark_delivered([event.id])
    return count


def _left_behind(
    store: Any, connection_id: str, operation_id: str, arguments: dict[str, Any], forward: str | None
) -> Any:
    """The trigger a listener with these inputs left when it was killed (its process is gone),
    or None. Only listeners' triggers are candidates (a durable trigger has no listener); one
    whose listener still runs belongs to that listener, and one of another host's listener cannot
    be checked, so is left alone (``--trigger ID`` resumes it)."""
    for record in store.listener_triggers(connection_id, operation_id):
        if record.arguments != arguments or record.target_url != forward:
            continue
        if _listener_state(record.listener) == "gone":
            return record
    return None


def _named_trigger(
    store: Any,
    trigger_id: str,
    connector: str | None,
    operation_id: str | None,
    connection_id: str | None,
    arguments: dict[str, Any],
    forward: str | None,
) -> Any:
    """The listener's trigger ``--trigger`` names, checked: never a durable trigger, never one
    whose listener still runs here, and what else was given must agree with it."""
    record = store.get_trigger(trigger_id)
    if record.listener is None:
        raise InputError(
            f"--trigger {trigger_id}: a durable trigger (made by the API, the console or `connectorkit trigger`), "
            f"not a listener's; `connectorkit trigger start {trigger_id}` runs it"
        )
    if _listener_state(record.listener) == "running":
        pid = record.listener.rsplit(":", 2)[1]
        raise InputError(f"--trigger {trigger_id}: its listener (process {pid}) is still running")
    for given, stored, name in (
        (connector, record.connector, "CONNECTOR"),
        (operation_id, record.operation_id, "TRIGGER_OPERATION"),
        (connection_id, record.connection_id, "--connection"),
    ):
        if given is not None and given != stored:
            raise InputError(f"--trigger {trigger_id}: its {name} is {stored}, not {given}")
    if arguments:
        raise InputError(f"--trigger {trigger_id}: resumes the stored parameters; leave out -p and --body")
    if forward is not None and forward != record.target_url:
        raise InputError(f"--trigger {trigger_id}: forwards to {record.target_url or 'nowhere'}, not {forward}")
    return record


def _listener_state(worker_id: str | None) -> str:
    """``gone``, ``running`` or ``unknown``: whether the listener process ``worker_id``
    (``host:pid:random``, see ``default_worker_id``) has ended. Only a process of this host can
    be looked at; this process counts as running (another listen call in it may be)."""
    parts = (worker_id or "").rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or parts[0] != socket.gethostname()[:30]:
        return "unknown"
    pid = int(parts[1])
    if pid == os.getpid():
        return "running"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:  # another user's process
        return "running"
    try:  # a killed child its parent has not waited for yet is a zombie: gone too
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "running"
    return "gone" if stat.rpartition(")")[2].split()[:1] == ["Z"] else "running"


def _resume(service: Any, left: Any, *, explicit: bool) -> Any:
    """Take over the trigger a killed listener left: this listener's from now on (its lease
    released), a polling trigger active and due now (it polls on from its stored cursor), a
    webhook subscribed again (the old callback URL cannot be rebuilt: only its token's digest is
    stored), then the old subscription deleted. None when another restarted listener took it
    over first (unless ``explicit``: then that is an error)."""
    from connectorkit.runtime.listening import SUBSCRIPTION_KEY
    from connectorkit.runtime.webhooks import Subscription, unsubscribe

    store = service.store
    pending = store.pending_count(left.id)
    now = service.clock()
    adopted = store.adopt_trigger(
        left.id, left.listener, service.worker_id, next_due_at=now if left.kind == "polling" else None
    )
    if adopted is None:
        if not explicit:
            return None
        raise ConnectorkitError(f"trigger {left.id} was resumed by another listener meanwhile")
    # A listener killed mid-forward still holds the trigger's delivery lease; it is gone, so its
    # events are this listener's to send now, not once that lease expires.
    store.release_delivery(left.id, left.listener)
    was = (
        "" if left.status == "active" else f" (it was {left.status}{': ' + left.last_error if left.last_error else ''})"
    )
    err.print(
        f"Resuming trigger {left.id} left by a listener that did not stop cleanly{was}; "
        f"{pending} event{'' if pending == 1 else 's'} not yet delivered.",
        markup=False,
    )
    if adopted.kind == "polling":
        return adopted if adopted.status == "active" else store.set_trigger_status(left.id, "active", next_due_at=now)
    old = adopted.state.get(SUBSCRIPTION_KEY)
    record = service.resubscribe(left.id)
    if isinstance(old, dict):
        try:
            unsubscribe(service.environment, Subscription.from_json(old), client=service.client)
        except ConnectorkitError as exc:
            err.print(f"warning: the old subscription was not removed: {exc}", markup=False)
    return record


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
