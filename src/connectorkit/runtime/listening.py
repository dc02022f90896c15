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
  with ``LeaseLostError``; that poll is dropped, as the other worker's counts. Polls run on a
  few threads of the service (``concurrency``), so a slow backend delays no other trigger; the
  leases of polls under way are renewed, so a slow poll keeps its trigger.
- **Webhook** triggers are stored first (the callback token is made then; only its digest is
  stored), subscribed with the callback URL under ``public_url`` and the subscription kept in the
  trigger's state, so that :meth:`TriggerService.stop` can unsubscribe even after a restart.
  :meth:`TriggerService.receive` checks a callback against the trigger's
  ``x-ms-notification-content`` and stores its events with the problems found (never dropped).
- **Forwarding**: a trigger started with a ``target_url`` has its events POSTed there by
  :meth:`TriggerService.deliver` in order, with retries; an event stays pending until a 2xx.
  Only the worker holding the trigger's delivery lease POSTs them, so two workers never send
  the same event (see ``deliver``).
- **Workers**: :class:`Worker` hands due triggers to the polling threads in a loop and forwards
  on a thread of its own (a thread of ``connectorkit serve``, or the main loop of ``connectorkit
  serve --worker``). Several workers on one store share the triggers through the leases; a
  stopped worker gives its leases back.

Status changes follow the platform (runtime-semantics.md §7.6): a 401 or a failed token refresh
makes the trigger ``unauthenticated`` (it is no longer polled until a new sign-in reactivates
it); a trigger that cannot be polled at all (its operation is gone, it became an action) is
``error`` with the message; a failure a later poll may not meet (5xx, 408, 429, no answer) keeps
it ``active``, commits the poll with its error and pushes the trigger's next due time out
exponentially (see ``poll_once``), reset by the next success and by a reactivation: the
back-off is the trigger's, never a polling thread asleep inside the engine. A 401 from a poll
that began before the connection got new credentials leaves the trigger active (see
``Store.commit_poll``); any other failure of a poll (its commit refused by the database, say) is
committed as a backed-off failure, so the trigger never stays leased.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.store.repository import (
    EventRecord,
    LeaseLostError,
    NotFoundError,
    TriggerRecord,
    without_failures,
)
from connectorkit.runtime.triggers import PollState, TriggerOptions, failed_poll, poll_once, trigger_kind
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
      mid-poll holds it that long at most. A live worker renews the leases of its polls under
      way (at half the length), so a poll may take longer than this.
    - ``concurrency``: polls run at once, each on a polling thread of this service; the others
      wait their turn. Threads wait on the network, not the CPU, so a few keep a slow backend
      from delaying everyone without many SQLite writers queueing for its single write lock. A
      poll slower than ``slow_poll`` (0.5 s) stops counting and a thread is added in its place, up
      to ``max_threads`` (four times ``concurrency``) in all.
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
        concurrency: int = 4,
    ) -> None:
        if lease_seconds <= 0:
            raise InputError("lease_seconds must be positive")
        if concurrency < 1:
            raise InputError(f"concurrency (polls at once) must be at least 1, got {concurrency}")
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
        """How many triggers the last :meth:`run_due` or :meth:`dispatch` leased."""
        self.concurrency = concurrency
        self.saturated = False
        """After :meth:`dispatch`: every thread was busy or the batch full, so more may be due."""
        self.poll_errors = 0
        self._flights: dict[futures.Future[list[EventRecord]], _Flight] = {}
        self._flights_lock = threading.Lock()
        self._threads: _PollThreads | None = None
        self._thread_idle = threading.Event()
        self.slow_poll = 0.5
        """Seconds after which a running poll counts as slow (see :meth:`renew_leases`)."""
        self.max_threads = 4 * concurrency
        """Polling threads at most, slow polls included."""

    # ------------------------------------------------------------------------------ start / stop

    def start(
        self,
        connection_id: str,
        operation_id: str,
        arguments: Mapping[str, Any],
        *,
        target_url: str | None = None,
        listener: bool = False,
    ) -> TriggerRecord:
        """Store (and for a webhook, subscribe) the trigger ``operation_id`` of the connection.

        ``listener``: the trigger belongs to this service's process, a ``connectorkit listen``
        (its ``worker_id`` is stored with it), so that the next listener can resume it if this one
        is killed; otherwise it is a durable trigger, which no listener ever adopts.

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
        owner = self.worker_id if listener else None
        if kind != "webhook":
            return self.store.create_trigger(
                connection_id, operation_id, "polling", arguments,
                state=PollState().to_dict(), target_url=target_url, next_due_at=self.clock(), listener=owner,
            )  # fmt: skip
        return self._start_webhook(connection_id, operation_id, arguments, target_url, owner)

    def _start_webhook(
        self,
        connection_id: str,
        operation_id: str,
        arguments: Mapping[str, Any],
        target_url: str | None,
        listener: str | None = None,
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
            listener=listener,
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

    def pause(self, trigger_id: str) -> TriggerRecord:
        """Stop a trigger but keep it (the platform's "turn off"): status ``stopped``, its state,
        arguments and events kept. A polling trigger is no longer claimed, and keeps its cursor. A
        webhook is unsubscribed first (DELETE of the stored Location; already gone at the backend
        counts as done) and its subscription is dropped from the state; its callback digest stays,
        so a late callback is answered 404 and recorded nowhere. Pausing a stopped trigger changes
        nothing; a failed unsubscribe raises and leaves the trigger as it was, to try again."""
        record = self.store.get_trigger(trigger_id)
        stored = record.state.get(SUBSCRIPTION_KEY)
        subscription = Subscription.from_json(stored) if record.kind == "webhook" and isinstance(stored, dict) else None
        if record.status == "stopped" and subscription is None:
            return record
        state = record.state
        if subscription is not None:
            unsubscribe(self.environment, subscription, client=self.client)
            state = {key: value for key, value in state.items() if key != SUBSCRIPTION_KEY}
        self._checkers.pop(trigger_id, None)
        return self.store.set_trigger_status(trigger_id, "stopped", record.last_error, state=state)

    def resume(self, trigger_id: str) -> TriggerRecord:
        """Run a paused trigger again (or one left ``unauthenticated`` or in ``error`` once its
        cause is fixed): status ``active``, last error cleared. A polling trigger is due now and
        polls on from its kept cursor, so what arrived while it was stopped fires then. A webhook
        without a subscription subscribes again with a new callback token (only a token's digest is
        stored, so the old URL cannot be rebuilt; it stops working) and stores the new Location;
        it needs ``public_url``. Nothing that happened while it was unsubscribed is recovered (no
        hook existed to report it). The back-off count is reset (a resumed trigger's next failure
        waits the shortest back-off). Resuming an active trigger changes nothing; a failed
        subscription raises and leaves the trigger stopped."""
        record = self.store.get_trigger(trigger_id)
        subscribed = isinstance(record.state.get(SUBSCRIPTION_KEY), dict)
        if record.status == "active" and (record.kind == "polling" or subscribed):
            return record
        if record.kind == "polling":
            return self.store.set_trigger_status(
                trigger_id, "active", next_due_at=self.clock(), state=without_failures(record.state)
            )
        if subscribed:
            return self.store.set_trigger_status(trigger_id, "active")
        return self._subscribe_again(record)

    def resubscribe(self, trigger_id: str) -> TriggerRecord:
        """Subscribe a webhook trigger again with a new callback token, even while it has a
        subscription: a trigger whose callback URL is lost (its ``connectorkit listen`` process
        was killed; only the token's digest is stored, so the URL cannot be rebuilt). The trigger
        becomes ``active`` with the new subscription in its state, and callbacks to the old URL
        are answered 404 from then on; unsubscribing the old subscription (the caller has it from
        the record it held) is left to the caller. Needs ``public_url``; a failed subscription
        raises and leaves the trigger as it was."""
        record = self.store.get_trigger(trigger_id)
        if record.kind != "webhook":
            raise InputError(f"trigger {trigger_id} is a polling trigger: it has no subscription")
        return self._subscribe_again(record)

    def _subscribe_again(self, record: TriggerRecord) -> TriggerRecord:
        if not self.public_url:
            raise InputError(
                f"trigger {record.id} ({record.operation_id}) is a webhook: --public-url (the base URL the service "
                "can call back) is needed to subscribe again"
            )
        token = callback_token()
        url = callback_url(self.public_url, token)
        previous = self.store.callback_digest(record.id)
        # The new token is active before the subscribe call: a service may call back at once.
        self.store.set_trigger_status(record.id, "active", callback_digest=token_digest(token))
        try:
            subscription = subscribe(
                self.environment, record.connection_id, record.operation_id, record.arguments, url, client=self.client
            )
        except BaseException:
            self._put_back(record, previous)
            raise
        try:
            return self.store.save_trigger_state(record.id, {**record.state, SUBSCRIPTION_KEY: subscription.to_json()})
        except BaseException:
            unsubscribe(self.environment, subscription, client=self.client)
            self._put_back(record, previous)
            raise

    def _put_back(self, record: TriggerRecord, digest: str | None) -> None:
        """Undo a failed resubscribe: status, error, state and the old callback digest, so the
        subscription still live at the backend keeps reaching the trigger through its old URL."""
        self.store.set_trigger_status(
            record.id, record.status, record.last_error, state=record.state, callback_digest=digest
        )

    def recover(self) -> int:
        """Release leases held under this worker id by an earlier process that died (only when
        the id is stable across restarts), its delivery leases included; returns how many polling
        leases."""
        return self.store.release_leases(self.worker_id, deliveries=True)

    def close(self) -> None:
        """Give back this worker's leases (a clean shutdown): other workers may poll at once."""
        self.store.release_leases(self.worker_id)

    # ------------------------------------------------------------------------------------ polling

    def next_due(self) -> datetime | None:
        """When the next active polling trigger nobody is polling is due (None when there is
        none). Triggers under lease (being polled, here or by another worker) are left out: their
        due time is in the past until their poll commits, and counting them would make a worker
        spin while its own polls run."""
        return self.store.next_due_at(self.clock())

    def seconds_until_due(self, cap: float) -> float:
        """How long to sleep before the next polling trigger is due: ``cap`` at most (and when
        none is), 0 when one is already due."""
        due = self.next_due()
        return cap if due is None else min(cap, max(0.0, (due - self.clock()).total_seconds()))

    @property
    def polls_under_way(self) -> int:
        """Polls leased and not yet committed: running, or waiting for a polling thread."""
        with self._flights_lock:
            return len(self._flights)

    def _counts(self) -> tuple[int, int]:
        """(polls that count against ``concurrency``, slow polls running): queued polls and
        those running for less than ``slow_poll`` seconds count, and slow ones too once they
        hold more threads than may be added for them (``max_threads``)."""
        limit = time.monotonic() - self.slow_poll
        with self._flights_lock:
            slow = sum(1 for f in self._flights.values() if f.started is not None and f.started < limit)
            beyond = max(0, slow - (self.max_threads - self.concurrency))
            return len(self._flights) - slow + beyond, slow

    def run_due(self, limit: int = 50, *, only: str | None = None) -> list[EventRecord]:
        """Poll every due trigger this worker can lease (up to ``limit``) once and wait for them;
        returns the events newly stored, trigger by trigger in lease order. ``only`` (a trigger
        id) leases and polls that trigger alone: a ``connectorkit listen`` process polls its own
        trigger, never the store's durable ones (with its own interval).

        The polls run ``concurrency`` at a time on the service's polling threads, so a slow
        backend holds one thread while the other triggers' polls go on; leases of polls still
        under way (or waiting for a thread) are renewed while this waits. An unexpected error
        (the database gone, say) is raised once every poll has ended. See the module docstring
        for statuses and crash safety."""
        flights = [self._launch(record) for record in self._claim(limit, only)]
        pending = {flight.future for flight in flights}
        while pending:
            _, pending = futures.wait(pending, timeout=min(self.lease_seconds / 4, self.slow_poll / 2))
            self.renew_leases()
        fresh: list[EventRecord] = []
        failure: BaseException | None = None
        for flight in flights:
            error = flight.future.exception()
            if error is None:
                fresh += flight.future.result()
            elif failure is None:
                failure = error
        if failure is not None:
            raise failure
        return fresh

    def dispatch(self, limit: int = 50) -> int:
        """Lease due triggers and start polling them without waiting (what :class:`Worker` does);
        returns how many were leased.

        Triggers are leased only while fewer than ``concurrency`` polls are queued or running
        (polls slower than ``slow_poll`` do not count while threads may be added for them; a
        worker whose ``max_threads`` are all held by slow backends leaves due triggers to the
        other workers) and up to ``limit`` polls
        under way in all (those beyond the threads wait briefly in a queue, their leases renewed
        by :meth:`renew_leases`). ``saturated`` tells whether more may be due than this took. A
        poll's unexpected error is logged by its type and counted in ``poll_errors``."""
        self._thread_idle.clear()  # a poll ending from now on wakes wait_for_thread
        free = limit - self.polls_under_way
        if self._counts()[0] >= self.concurrency or free < 1:
            self.last_claimed, self.saturated = 0, True
            return 0
        claimed = self._claim(free)
        self.saturated = len(claimed) >= free
        for record in claimed:
            self._launch(record).future.add_done_callback(self._log_failure)
        return len(claimed)

    def wait_for_thread(self, timeout: float) -> bool:
        """Wait until a polling thread becomes idle after the last :meth:`dispatch` (True) or
        ``timeout`` seconds pass (False)."""
        return self._thread_idle.wait(timeout)

    def renew_leases(self) -> int:
        """Extend the lease of every poll under way with less than half its length left, so that
        a slow poll (a backend taking its whole timeout, many pages, a queue) keeps its trigger;
        returns how many were renewed. A lease found lost is left alone: that poll's commit is
        refused, as the other worker's poll counts.

        Also makes room for the slow: a poll running longer than ``slow_poll`` seconds no longer
        counts against ``concurrency``, and a thread is added in its place (up to
        ``max_threads``), so that a few backends that take their whole timeout do not hold every
        polling thread while the other triggers fall due."""
        slow = self._counts()[1]
        with self._flights_lock:
            threads = self._threads
        if threads is not None:
            threads.resize(min(self.max_threads, self.concurrency + slow))
        now = self.clock()
        half = timedelta(seconds=self.lease_seconds / 2)
        with self._flights_lock:
            due = [flight for flight in self._flights.values() if flight.expires - now < half]
        for flight in due:
            try:
                flight.expires = self.store.renew_lease(flight.record.id, self.worker_id, now, self.lease_seconds)
            except (LeaseLostError, NotFoundError):  # committed (or taken over, or deleted) meanwhile
                flight.expires = now + timedelta(seconds=self.lease_seconds)
        return len(due)

    def finish_polls(self, grace: float) -> int:
        """Wind polling down: polls still waiting for a thread are dropped (their leases stay
        this worker's until :meth:`close` gives them back), polls under way get ``grace`` seconds
        to commit, leases renewed meanwhile. Returns how many were still running then; their
        commits will be refused once :meth:`close` has released the leases."""
        with self._flights_lock:
            flights = list(self._flights.values())
        # Cancelling runs the done callbacks, which take the lock: not while holding it.
        running = [flight.future for flight in flights if not flight.future.cancel()]
        until = time.monotonic() + grace
        while running and (left := until - time.monotonic()) > 0:
            _, pending = futures.wait(running, timeout=min(left, self.lease_seconds / 4))
            running = list(pending)
            self.renew_leases()
        return len(running)

    def _claim(self, limit: int, only: str | None = None) -> list[TriggerRecord]:
        claimed = self.store.claim_due_triggers(
            self.worker_id, self.clock(), self.lease_seconds, limit, trigger_id=only
        )
        self.last_claimed = len(claimed)
        return claimed

    def _launch(self, record: TriggerRecord) -> _Flight:
        """Hand one leased trigger to the polling threads (registered first, so that the poll
        ending at once still finds its entry)."""
        expires = record.lease_expires_at or self.clock() + timedelta(seconds=self.lease_seconds)
        flight = _Flight(record, expires, futures.Future())

        def job() -> list[EventRecord]:
            flight.started = time.monotonic()
            return self._poll_safely(record)

        with self._flights_lock:
            self._flights[flight.future] = flight
        flight.future.add_done_callback(self._landed)
        with self._flights_lock:
            if self._threads is None:
                self._threads = _PollThreads(self.concurrency, f"connectorkit-poll-{self.worker_id[-8:]}")
            threads = self._threads
        threads.run(flight.future, job)
        return flight

    def _landed(self, future: futures.Future[list[EventRecord]]) -> None:
        with self._flights_lock:
            self._flights.pop(future, None)
        if self._counts()[0] < self.concurrency:
            self._thread_idle.set()

    def _log_failure(self, future: futures.Future[list[EventRecord]]) -> None:
        error = None if future.cancelled() else future.exception()
        if error is not None:
            with self._flights_lock:
                self.poll_errors += 1
            log.error("trigger worker %s: a poll failed (%s)", self.worker_id, type(error).__name__)
            log.debug("poll failed", exc_info=error)

    def _poll_safely(self, record: TriggerRecord) -> list[EventRecord]:
        try:
            return self._poll(record)
        except LeaseLostError as exc:
            log.info("%s", exc)
        except NotFoundError:
            log.info("trigger %s was deleted while it was polled", record.id)
        except Exception as exc:
            self._record_failure(record, exc)
        return []

    def _record_failure(self, record: TriggerRecord, exc: Exception) -> None:
        """A poll that failed unexpectedly (most often its commit: a value the database refuses,
        such as NaN in a JSON column on PostgreSQL) is committed as a failure from the old state:
        a one-line ``last_error`` naming the exception type only (its message may quote event
        data or SQL parameters), the lease released and the next due time backed off as for a
        backend error, so the trigger is neither stuck under lease nor hammered. When even that
        cannot be written (the database is gone), the lease is given back if possible and the
        original error raised."""
        log.warning("trigger %s: the poll failed (%s)", record.id, type(exc).__name__)
        log.debug("poll failed", exc_info=exc)
        message = f"the poll could not be completed ({type(exc).__name__}); it is retried with back-off"
        try:
            outcome = failed_poll(PollState.from_dict(record.state), self.options, message)
            due = self.clock() + timedelta(seconds=outcome.wait)
            self.store.commit_poll(record.id, self.worker_id, outcome.state.to_dict(), [], due, error=message)
        except (LeaseLostError, NotFoundError):
            return
        except Exception:
            try:
                self.store.release(record.id, self.worker_id)
            except Exception:  # the lease expires anyway
                log.debug("could not release the lease of trigger %s", record.id, exc_info=True)
            raise exc from None

    def _poll(self, record: TriggerRecord) -> list[EventRecord]:
        """One poll of a leased trigger, committed with its events (runs on a polling thread).

        A failed poll is committed too: its error becomes the trigger's ``last_error`` and its
        back-off ``wait`` (see ``triggers.py``: doubling per consecutive failure, at least the
        backend's Retry-After, at most ``max_interval``) its next due time, so a failing backend
        costs one quick call per back-off step and never a sleeping thread."""
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

    def deliver(
        self, limit: int = 100, *, delivered: Callable[[EventRecord], None] | None = None, only: str | None = None
    ) -> DeliveryReport:
        """POST pending events of triggers with a ``target_url`` there (the event body as JSON,
        ``X-Connectorkit-Trigger`` and ``X-Connectorkit-Event-Key`` headers), oldest first; a
        2xx marks that one event delivered at once. ``delivered`` is called with each event
        once it is marked; ``only`` (a trigger id) forwards that trigger's events alone. See
        :class:`DeliveryOptions` for retries.

        Each trigger's events are sent under its delivery lease (``Store.claim_delivery``):
        a trigger whose lease another worker holds (two ``serve --worker`` processes, or
        ``serve`` and ``listen --forward``) is skipped this round, and the lease is renewed
        before each POST so that it cannot expire while one is in flight. So no event is POSTed
        by two workers; a process killed meanwhile leaves its lease to expire, and at most the
        event in flight is POSTed again (with the same key)."""
        count = 0
        errors: list[str] = []
        for trigger_id, target_url in self.store.forward_targets().items():
            if only is not None and trigger_id != only:
                continue
            if not self.store.pending_events(trigger_id, 1):
                continue  # nothing to send: no lease taken (a write) for it
            if not self.store.claim_delivery(trigger_id, self.worker_id, self.clock(), self._delivery_lease):
                log.debug("trigger %s: another worker is forwarding its events", trigger_id)
                continue
            try:
                sent, error = self._deliver_trigger(trigger_id, target_url, limit, delivered)
            finally:
                self.store.release_delivery(trigger_id, self.worker_id)
            count += sent
            if error is not None:
                errors.append(error)
        return DeliveryReport(count, len(errors), errors)

    @property
    def _delivery_lease(self) -> float:
        """A delivery lease outlasts the POST begun under it: one request timeout beyond the
        polling lease length, renewed once less than half the polling lease is left over that."""
        return self.lease_seconds + self.delivery.timeout

    def _deliver_trigger(
        self,
        trigger_id: str,
        target_url: str,
        limit: int,
        delivered: Callable[[EventRecord], None] | None,
    ) -> tuple[int, str | None]:
        """Forward one trigger's pending events in order, under its delivery lease (held):
        how many were delivered, and the error that stopped the others (None when none did).
        They are read after the lease was taken, so none another worker delivered is sent."""
        lease = _DeliveryLease(self, trigger_id)
        sent = 0
        for event in self.store.pending_events(trigger_id, limit):
            error = self._forward(target_url, trigger_id, event, lease)
            if error is None:
                self.store.mark_delivered([event.id])
                sent += 1
                if delivered is not None:
                    delivered(event)
                continue
            if lease.lost:
                log.info("trigger %s: the delivery lease was lost; another worker forwards on", trigger_id)
                return sent, None
            self.store.record_attempts([event.id])
            return sent, f"trigger {trigger_id}: event {event.id}: {error}"  # later events wait: order is kept
        return sent, None

    def _forward(self, target_url: str, trigger_id: str, event: EventRecord, lease: _DeliveryLease) -> str | None:
        headers = {"X-Connectorkit-Trigger": trigger_id, "X-Connectorkit-Event-Key": event.key}
        error = "not attempted"
        for attempt in range(self.delivery.retries + 1):
            if attempt:
                self._sleep(self.delivery.backoff * 2 ** (attempt - 1))
            if not lease.keep():
                return "the delivery lease was lost"
            try:
                answer = self.client.post(target_url, json=event.body, headers=headers, timeout=self.delivery.timeout)
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__} posting to the forward URL"
                continue
            if 200 <= answer.status_code < 300:
                return None
            error = f"the forward URL answered HTTP {answer.status_code}"
        return error


class _DeliveryLease:
    """The delivery lease of one trigger while :meth:`TriggerService.deliver` POSTs its events."""

    def __init__(self, service: TriggerService, trigger_id: str) -> None:
        self.service = service
        self.trigger_id = trigger_id
        self.expires = service.clock() + timedelta(seconds=service._delivery_lease)
        self.lost = False

    def keep(self) -> bool:
        """Before a POST: renew the lease when less than one request timeout plus half a polling
        lease is left (so it outlasts the POST); False once it is lost (expired and taken)."""
        service = self.service
        now = service.clock()
        if self.expires - now < timedelta(seconds=service.delivery.timeout + service.lease_seconds / 2):
            store = service.store
            if not store.renew_delivery(self.trigger_id, service.worker_id, now, service._delivery_lease):
                self.lost = True
                return False
            self.expires = now + timedelta(seconds=service._delivery_lease)
        return True


@dataclass
class _Flight:
    """A leased trigger handed to the polling threads, until its poll is committed."""

    record: TriggerRecord
    expires: datetime
    future: futures.Future[list[EventRecord]]
    started: float | None = None
    """When a thread began the poll (``time.monotonic``); None while it waits in the queue."""


class _PollThreads:
    """Daemon threads running polls in the order given, at most ``size`` at a time (the service
    raises ``size`` while polls are slow, see :meth:`TriggerService.renew_leases`).

    Not a ``ThreadPoolExecutor``: its threads are joined when the interpreter exits, so a poll
    waiting the whole engine timeout on a silent backend would hold up a worker stopped by
    SIGTERM, and its size is fixed. These threads are daemons, started when the queue needs one
    and ended after ``IDLE`` seconds without work (a service that polls once keeps no threads)."""

    IDLE = 30.0

    def __init__(self, size: int, name: str) -> None:
        self.size = size
        self.name = name
        self._ready = threading.Condition()
        self._queue: deque[tuple[futures.Future[Any], Callable[[], Any]]] = deque()
        self._live = 0
        self._starting = 0  # started, not yet waiting for work
        self._waiting = 0
        self._made = 0

    def run(self, future: futures.Future[Any], job: Callable[[], Any]) -> None:
        """Run ``job`` on a thread and settle ``future`` with its result or exception (a future
        cancelled before a thread took it is skipped)."""
        with self._ready:
            self._queue.append((future, job))
            self._ready.notify()
            self._fill()

    def resize(self, size: int) -> None:
        """Allow ``size`` threads; more start at once when work is waiting (fewer: as they idle)."""
        with self._ready:
            self.size = max(1, size)
            self._fill()

    def _fill(self) -> None:
        """Start threads while queued work outnumbers the threads about to take it (lock held)."""
        while self._waiting + self._starting < len(self._queue) and self._live < self.size:
            self._live += 1
            self._starting += 1
            self._made += 1
            threading.Thread(target=self._serve, name=f"{self.name}-{self._made}", daemon=True).start()

    def _serve(self) -> None:
        with self._ready:
            self._starting -= 1
        while True:
            with self._ready:
                self._waiting += 1
                idle_until = time.monotonic() + self.IDLE
                while not self._queue or self._live > self.size:
                    left = idle_until - time.monotonic()
                    if left <= 0 or self._live > self.size:  # idle for long, or one too many
                        self._waiting -= 1
                        self._live -= 1
                        if self._queue:  # the work this thread was woken for goes to another
                            self._ready.notify()
                        return
                    self._ready.wait(left)
                self._waiting -= 1
                future, job = self._queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = job()
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            else:
                future.set_result(result)


class Worker:
    """Runs a :class:`TriggerService`'s due polls and forwarding until stopped.

    Polling: each round renews the leases of polls under way and hands due triggers to the
    service's polling threads (:meth:`TriggerService.dispatch`, ``batch`` polls under way at
    most) without waiting for them: polls of different triggers never wait on each other beyond
    the ``concurrency`` threads, and a slow or failing backend holds one thread, not the loop.
    Between rounds the loop sleeps until the next free trigger is due, at most ``tick`` seconds
    (another worker or the API may add or take triggers meanwhile, and a stop request is noticed
    within a tick), plus ``gather`` seconds so that triggers falling due close together are
    leased by one claim (with a thousand triggers a round per trigger would cost a claim and a
    due-time query per poll; ``gather`` bounds how late that makes a poll). When the threads were
    all busy or the batch was full (more may be due), it sleeps only until a thread becomes idle,
    or half of the service's ``slow_poll`` (a poll turning slow makes room for another, see
    :meth:`TriggerService.renew_leases`).

    Forwarding (:meth:`TriggerService.deliver`) runs every ``tick`` on a thread of its own, so
    a slow or failing forward target (retries, back-off) does not hold up polling either.

    An error in a round (the database gone for a moment, say) is logged by its type only (a
    message may carry a connection string) and the loop carries on after a tick.

    :meth:`start` runs the loop in a daemon thread (``connectorkit serve``); :meth:`run` runs it in
    the caller's thread until ``stop_event`` is set (``connectorkit serve --worker``). Either way,
    when the loop ends polls under way get ``drain`` seconds to commit, then the worker's leases
    are released, so other workers take over at once.
    """

    def __init__(
        self, service: TriggerService, *, tick: float = 1.0, batch: int = 50, drain: float = 10.0, gather: float = 0.02
    ) -> None:
        if tick <= 0 or batch < 1 or drain < 0 or gather < 0:
            raise InputError("worker: need tick > 0, batch >= 1, drain >= 0 and gather >= 0")
        self.service = service
        self.tick = tick
        self.batch = batch
        self.drain = drain
        self.gather = gather
        self.rounds = 0
        self.polls = 0
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> float:
        """One polling round: renew leases, start the due polls; returns seconds to wait (the
        loop waits for an idle thread instead when the service is ``saturated``)."""
        service = self.service
        service.renew_leases()
        self.polls += service.dispatch(self.batch)
        self.rounds += 1
        return self.tick if service.saturated else service.seconds_until_due(self.tick)

    def forward_once(self) -> DeliveryReport:
        """Forward pending events once (what the forwarding thread does every tick)."""
        return self.service.deliver()

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Loop until ``stop_event`` (default: this worker's own, set by :meth:`stop`) is set."""
        stop = stop_event or self._stop
        forwarder = threading.Thread(
            target=self._forward_loop, args=(stop,), name="connectorkit-trigger-forwarder", daemon=True
        )
        forwarder.start()
        try:
            while not stop.is_set():
                try:
                    wait = self.run_once()
                except Exception as exc:  # a worker outlives one bad round
                    self._failed("round", exc)
                    wait = self.tick
                if wait <= 0:
                    continue
                if self.service.saturated:  # back soon: a poll turning slow frees a place too
                    self.service.wait_for_thread(min(wait, self.service.slow_poll / 2))
                else:
                    stop.wait(wait + self.gather)
        finally:
            self._wind_down(stop, forwarder)

    def _forward_loop(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.forward_once()
            except Exception as exc:  # as for a round: log the type, carry on
                self._failed("forwarding", exc)
            stop.wait(self.tick)

    def _failed(self, what: str, exc: Exception) -> None:
        self.errors += 1
        log.error("trigger worker %s: %s failed (%s)", self.service.worker_id, what, type(exc).__name__)
        log.debug("%s failed", what, exc_info=exc)

    def _wind_down(self, stop: threading.Event, forwarder: threading.Thread) -> None:
        try:
            still = self.service.finish_polls(self.drain)
            if still:
                log.warning("trigger worker %s: %d polls still running at stop", self.service.worker_id, still)
            self.service.close()
        except Exception as exc:  # the leases expire anyway
            log.warning("trigger worker %s: releasing leases failed (%s)", self.service.worker_id, type(exc).__name__)
        stop.set()
        forwarder.join(self.tick)

    def start(self) -> None:
        """Run the loop in a daemon thread."""
        if self._thread is not None:
            raise ConnectorkitError("the trigger worker is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="connectorkit-trigger-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the loop to end and wait for at most ``timeout`` (polls under way get the
        worker's ``drain`` seconds to commit first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def _check_target(url: str) -> None:
    if not url.startswith(("http://", "https://")) or len(url) < 10:
        raise InputError(f"--forward {url!r}: expected an absolute http(s) URL")
