"""Running triggers durably: start, poll, receive callbacks, forward, stop.

The three foundations each do one thing without the others: ``triggers.py`` polls once from a
:class:`~connectorkit.runtime.triggers.PollState` it is handed, ``webhooks.py`` subscribes and
checks a callback, and the store keeps triggers, leases and events (exactly-once by event key).
:class:`TriggerService` joins them, so that ``connectorkit listen``, a worker and the server
share one behaviour:

- **Polling** triggers are stored with their state and a due time. :meth:`TriggerService.run_due`
  leases the due ones to this worker, polls each once and commits the new state *together with*
  the events in one transaction (``Store.commit_poll``). A worker killed at any point therefore
  leaves either the old state and no events (the next poll replays from the old state; its events
  have the same keys, so none is stored twice) or the new state with its events — nothing is lost
  or duplicated. A lease another worker took over (ours expired mid-poll) makes the commit fail
  with ``LeaseLostError``; that poll is dropped, as the other worker's counts.
- **Webhook** triggers are stored first (the callback token is made then; only its digest is
  stored), subscribed with the callback URL under ``public_url`` and the subscription kept in the
  trigger's state, so that :meth:`TriggerService.stop` can unsubscribe even after a restart.
  :meth:`TriggerService.receive` checks a callback against the trigger's
  ``x-ms-notification-content`` and stores its events with the problems found (never dropped).
- **Forwarding**: a trigger started with a ``target_url`` has its events POSTed there by
  :meth:`TriggerService.deliver` in order, with retries; an event stays pending until a 2xx.
- **Workers**: :class:`Worker` runs ``run_due`` and ``deliver`` in a loop (a thread of
  ``connectorkit serve``, or the main loop of ``connectorkit serve --worker``). Several workers on
  one store share the triggers through the leases; a stopped worker gives its leases back.

Status changes follow the platform (runtime-semantics.md §7.6): a 401 or a failed token refresh
makes the trigger ``unauthenticated`` (it is no longer polled until a new sign-in reactivates
it); a trigger that cannot be polled at all (its operation is gone, it became an action) is
``error`` with the message; a failure a later poll may not meet keeps it ``active`` with a
back-off (see ``poll_once``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.store.repository import EventRecord, LeaseLostError, NotFoundError, TriggerRecord
from connectorkit.runtime.triggers import PollState, TriggerOptions, poll_once, trigger_kind
from connectorkit.runtime.webhooks import (
    CallbackChecker,
    PayloadProblem,
    Subscription,
    callback_token,
    callback_url,
    subscribe,
    token_digest,
    unsubscribe,
)

__all__ = ["DeliveryOptions", "DeliveryReport", "TriggerService", "Worker", "default_worker_id", "problem_text"]

log = logging.getLogger("connectorkit.listening")

SUBSCRIPTION_KEY = "subscription"
"""Where a webhook trigger's state keeps its :class:`Subscription` (``to_json``)."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def default_worker_id() -> str:
    """``<host>:<pid>:<random>``: unique per process, so two workers never share leases."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def problem_text(problem: PayloadProblem) -> str:
    """One problem as stored with an event: ``<pointer>: <reason>`` (``/`` for the whole body)."""
    return f"{problem.path or '/'}: {problem.reason}"


@dataclass(frozen=True)
class DeliveryOptions:
    """How events are forwarded to a trigger's ``target_url``.

    ``retries`` extra attempts per event within one :meth:`TriggerService.deliver` call, waiting
    ``backoff`` seconds doubled each time; an event still failing stays pending (its failed
    attempts counted) and the trigger's later events wait behind it, keeping their order."""

    retries: int = 2
    backoff: float = 0.5
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.timeout <= 0:
            raise InputError("delivery options: need retries >= 0, backoff >= 0 and timeout > 0")


@dataclass(frozen=True)
class DeliveryReport:
    """What one :meth:`TriggerService.deliver` call did."""

    delivered: int
    failed: int
    errors: list[str]


class TriggerService:
    """Starts, runs and stops the triggers of one store for one worker.

    - ``client``: the HTTP client for backend calls and forwarding.
    - ``worker_id``: this worker's lease name; unique per live process (default
      :func:`default_worker_id`). A worker restarted under the same id may :meth:`recover`.
    - ``options``: polling options (:class:`TriggerOptions`).
    - ``public_url``: the base callbacks reach this machine at (the server, or a tunnel); needed
      to start webhook triggers.
    - ``clock``: now, timezone-aware (tests move it).
    - ``lease_seconds``: how long a claimed trigger stays this worker's; a worker that dies
      mid-poll holds it that long at most.
    """

    def __init__(
        self,
        environment: LocalEnvironment,
        *,
        client: httpx.Client,
        worker_id: str | None = None,
        options: TriggerOptions | None = None,
        public_url: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        lease_seconds: float = 120.0,
        delivery: DeliveryOptions | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if lease_seconds <= 0:
            raise InputError("lease_seconds must be positive")
        self.environment = environment
        self.store = environment.store
        self.client = client
        self.worker_id = worker_id or default_worker_id()
        self.options = options or TriggerOptions()
        self.public_url = public_url
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.delivery = delivery or DeliveryOptions()
        self._sleep = sleep
        self._checkers: dict[str, CallbackChecker] = {}
        self.last_claimed = 0
        """How many triggers the last :meth:`run_due` leased (a full batch means more may be due)."""

    # ------------------------------------------------------------------------------ start / stop

    def start(
        self,
        connection_id: str,
        operation_id: str,
        arguments: Mapping[str, Any],
        *,
        target_url: str | None = None,
    ) -> TriggerRecord:
        """Store (and for a webhook, subscribe) the trigger ``operation_id`` of the connection.

        An action is an :class:`InputError` naming it; so is a webhook without ``public_url``
        (``--public-url``). A failed subscription removes the stored trigger again; a failure
        to store the subscription unsubscribes again, so nothing is left half-made."""
        if target_url is not None:
            _check_target(target_url)
        connection = self.store.get_connection(connection_id)
        package = self.environment.package(connection.connector)
        kind = trigger_kind(package, operation_id)
        if kind is None:
            raise InputError(f"operation {operation_id!r} is an action, not a trigger (it has no x-ms-trigger)")
        if kind != "webhook":
            return self.store.create_trigger(
                connection_id, operation_id, "polling", arguments,
                state=PollState().to_dict(), target_url=target_url, next_due_at=self.clock(),
            )  # fmt: skip
        return self._start_webhook(connection_id, operation_id, arguments, target_url)

    def _start_webhook(
        self, connection_id: str, operation_id: str, arguments: Mapping[str, Any], target_url: str | None
    ) -> TriggerRecord:
        if not self.public_url:
            raise InputError(
                f"trigger {operation_id} is a webhook: --public-url (the base URL the service can call back) "
                "is needed to subscribe"
            )
        token = callback_token()
        url = callback_url(self.public_url, token)
        record = self.store.create_trigger(
            connection_id,
            operation_id,
            "webhook",
            arguments,
            callback_digest=token_digest(token),
            target_url=target_url,
        )
        try:
            subscription = subscribe(self.environment, connection_id, operation_id, arguments, url, client=self.client)
        except BaseException:
            self.store.delete_trigger(record.id)
            raise
        try:
            return self.store.save_trigger_state(record.id, {SUBSCRIPTION_KEY: subscription.to_json()})
        except BaseException:
            unsubscribe(self.environment, subscription, client=self.client)
            self.store.delete_trigger(record.id)
            raise

    def stop(self, trigger_id: str) -> TriggerRecord:
        """Unsubscribe a webhook trigger (DELETE its stored Location; already gone at the backend
        counts as done), then delete the trigger and its events. A failed unsubscribe raises and
        keeps the trigger, so the user can try again."""
        record = self.store.get_trigger(trigger_id)
        stored = record.state.get(SUBSCRIPTION_KEY)
        if record.kind == "webhook" and isinstance(stored, dict):
            unsubscribe(self.environment, Subscription.from_json(stored), client=self.client)
        self._checkers.pop(trigger_id, None)
        return self.store.delete_trigger(trigger_id)

    def recover(self) -> int:
        """Release leases held under this worker id by an earlier process that died (only when
        the id is stable across restarts); returns how many."""
        return self.store.release_leases(self.worker_id)

    def close(self) -> None:
        """Give back this worker's leases (a clean shutdown): other workers may poll at once."""
        self.store.release_leases(self.worker_id)

    # ------------------------------------------------------------------------------------ polling

    def next_due(self) -> datetime | None:
        """When the next active polling trigger is due (None when there is none)."""
        return self.store.next_due_at()

    def seconds_until_due(self, cap: float) -> float:
        """How long to sleep before the next polling trigger is due: ``cap`` at most (and when
        none is), 0 when one is already due."""
        due = self.next_due()
        return cap if due is None else min(cap, max(0.0, (due - self.clock()).total_seconds()))

    def run_due(self, limit: int = 50) -> list[EventRecord]:
        """Poll every due trigger this worker can lease (up to ``limit``) once; returns the events
        newly stored, in order. See the module docstring for statuses and crash safety."""
        now = self.clock()
        claimed = self.store.claim_due_triggers(self.worker_id, now, self.lease_seconds, limit)
        self.last_claimed = len(claimed)
        fresh: list[EventRecord] = []
        for record in claimed:
            try:
                fresh += self._poll(record)
            except LeaseLostError as exc:
                log.info("%s", exc)
            except NotFoundError:
                log.info("trigger %s was deleted while it was polled", record.id)
        return fresh

    def _poll(self, record: TriggerRecord) -> list[EventRecord]:
        try:
            state = PollState.from_dict(record.state)
            outcome = poll_once(
                self.environment, record.connection_id, record.operation_id, record.arguments, state,
                client=self.client, options=self.options,
            )  # fmt: skip
        except ConnectorkitError as exc:  # the trigger itself is broken: polling again cannot help
            return self.store.commit_poll(
                record.id, self.worker_id, record.state, [], self.clock(), error=str(exc), status="error"
            )
        due = self.clock() + timedelta(seconds=outcome.wait)
        for note in outcome.notes:
            log.info("trigger %s: %s", record.id, note)
        status = "unauthenticated" if outcome.unauthenticated else None
        return self.store.commit_poll(
            record.id, self.worker_id, outcome.state.to_dict(), outcome.events, due, error=outcome.error, status=status
        )

    # ---------------------------------------------------------------------------------- callbacks

    def receive(self, token: str, body: bytes, headers: Mapping[str, str] | None = None) -> list[EventRecord] | None:
        """Store the events of one callback to ``/callbacks/<token>``: None for a token no
        trigger has (the caller answers 404; nothing is recorded), else the events newly stored
        (none when the service re-sent events already stored). Problems with the payload are
        stored with each event."""
        digest = token_digest(token)
        record = self.store.trigger_by_callback(digest)
        if record is None or record.status == "stopped":
            return None  # unknown, or stopped: the service should not be calling any more
        checker = self._checkers.get(record.id)
        if checker is None:
            package = self.environment.package(record.connector)
            checker = self._checkers[record.id] = CallbackChecker(package, record.operation_id)
        outcome = checker.check(body, headers)
        try:
            _, stored = self.store.record_callback(digest, outcome.events, [problem_text(p) for p in outcome.problems])
        except NotFoundError:  # the trigger was stopped meanwhile
            return None
        return stored

    # --------------------------------------------------------------------------------- forwarding

    def deliver(self, limit: int = 100) -> DeliveryReport:
        """POST pending events of triggers with a ``target_url`` there (the event body as JSON,
        ``X-Connectorkit-Trigger`` and ``X-Connectorkit-Event-Key`` headers), oldest first; a
        2xx marks the event delivered. See :class:`DeliveryOptions` for retries."""
        delivered = failed = 0
        errors: list[str] = []
        for trigger_id, target_url in self.store.forward_targets().items():
            for event in self.store.pending_events(trigger_id, limit):
                error = self._forward(target_url, trigger_id, event)
                if error is None:
                    self.store.mark_delivered([event.id])
                    delivered += 1
                    continue
                self.store.record_attempts([event.id])
                failed += 1
                errors.append(f"trigger {trigger_id}: event {event.id}: {error}")
                break  # later events wait behind this one: order is kept
        return DeliveryReport(delivered, failed, errors)

    def _forward(self, target_url: str, trigger_id: str, event: EventRecord) -> str | None:
        headers = {"X-Connectorkit-Trigger": trigger_id, "X-Connectorkit-Event-Key": event.key}
        error = "not attempted"
        for attempt in range(self.delivery.retries + 1):
            if attempt:
                self._sleep(self.delivery.backoff * 2 ** (attempt - 1))
            try:
                answer = self.client.post(target_url, json=event.body, headers=headers, timeout=self.delivery.timeout)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__} posting to the forward URL"
                continue
            if 200 <= answer.status_code < 300:
                return None
            error = f"the forward URL answered HTTP {answer.status_code}"
        return error


class Worker:
    """Runs a :class:`TriggerService`'s due polls and forwarding until stopped.

    Each round leases and polls the due triggers (``batch`` at most) and forwards pending events,
    then sleeps until the next trigger is due, but at most ``tick`` seconds: another worker or the
    API may add or take triggers meanwhile, and a stop request is noticed within a tick. A full
    batch means more triggers may be due, so the next round starts at once. An error in a round
    (the database gone for a moment, say) is logged by its type only (a message may carry a
    connection string) and the loop carries on after a tick.

    :meth:`start` runs the loop in a daemon thread (``connectorkit serve``); :meth:`run` runs it in
    the caller's thread until ``stop_event`` is set (``connectorkit serve --worker``). Either way
    the worker's leases are released when the loop ends, so other workers take over at once.
    """

    def __init__(self, service: TriggerService, *, tick: float = 1.0, batch: int = 50) -> None:
        if tick <= 0 or batch < 1:
            raise InputError("worker: need tick > 0 and batch >= 1")
        self.service = service
        self.tick = tick
        self.batch = batch
        self.rounds = 0
        self.polls = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> float:
        """One round: poll what is due, forward what is pending; returns seconds to wait."""
        service = self.service
        service.run_due(self.batch)
        self.polls += service.last_claimed
        service.deliver()
        self.rounds += 1
        if service.last_claimed >= self.batch:
            return 0.0
        return service.seconds_until_due(self.tick)

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Loop until ``stop_event`` (default: this worker's own, set by :meth:`stop`) is set."""
        stop = stop_event or self._stop
        try:
            while not stop.is_set():
                try:
                    wait = self.run_once()
                except Exception as exc:  # a worker outlives one bad round
                    self.errors += 1
                    log.error("trigger worker %s: round failed (%s)", self.service.worker_id, type(exc).__name__)
                    log.debug("round failed", exc_info=exc)
                    wait = self.tick
                if wait > 0:
                    stop.wait(wait)
        finally:
            try:
                self.service.close()
            except Exception as exc:  # the leases expire anyway
                log.warning(
                    "trigger worker %s: releasing leases failed (%s)", self.service.worker_id, type(exc).__name__
                )

    def start(self) -> None:
        """Run the loop in a daemon thread."""
        if self._thread is not None:
            raise ConnectorkitError("the trigger worker is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="connectorkit-trigger-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to end and wait (a poll under way finishes first) for at most ``timeout``."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def _check_target(url: str) -> None:
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise InputError(f"--forward {url!r}: expected an absolute http(s) URL")
