"""Durable triggers in the store, against real SQLite files and a real PostgreSQL server:
exactly-once event storage, worker leases under contention, cascades and the 0004 migration."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy import text as sql

from connectorkit.errors import InputError
from connectorkit.runtime.store import NotFoundError, Store, generate_key
from connectorkit.runtime.store.db import alembic_config, create_store_engine, current_revision, head_revision
from connectorkit.runtime.store.models import Base, TriggerEventRow
from connectorkit.runtime.store.repository import LeaseLostError, NewEvent
from postgres import fresh_database

KEY = generate_key()
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with fresh_database() as pg_url:
            yield pg_url


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with Store(url, key=KEY) as opened:
        yield opened


def connection_for(store: Store, connector: str = "tasks") -> str:
    store.save_connector(connector, {"apiDefinition.swagger.json": b"{}"})
    return store.create_connection(connector, {"api_key": "sk-planted"}, {"api_key"})


def events(*keys: str) -> list[NewEvent]:
    return [NewEvent(key, {"id": key, "title": f"task {key}"}) for key in keys]


def stored_event_count(store: Store) -> int:
    with store.engine.connect() as connection:
        return len(connection.execute(select(TriggerEventRow.id)).all())


# schema


def test_models_match_the_migrations(store: Store) -> None:
    assert current_revision(store.engine) == head_revision() == "0006"
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_migration_0004_upgrades_existing_data_and_downgrades_cleanly(url: str) -> None:
    config = alembic_config()

    def migrate(action: str, revision: str) -> None:
        engine = create_store_engine(url)
        try:
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                getattr(command, action)(config, revision)
        finally:
            engine.dispose()

    migrate("upgrade", "0003")
    engine = create_store_engine(url)
    try:
        assert "triggers" not in inspect(engine).get_table_names()
        with engine.begin() as connection:
            connection.execute(
                sql(
                    "insert into connections (id, connector, parameters, secret_names, created_at, updated_at) "
                    "values ('old', 'tasks', '{}', '[]', :now, :now)"
                ),
                {"now": T0.replace(tzinfo=None)},
            )
    finally:
        engine.dispose()
    with Store(url, key=KEY) as store:
        trigger = store.create_trigger("old", "OnNewTasks", "polling", {"since": 0})
        assert trigger.connector == "tasks"
    migrate("downgrade", "0003")
    engine = create_store_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert not tables & {"triggers", "trigger_events"} and "connections" in tables
        assert current_revision(engine) == "0003"
    finally:
        engine.dispose()
    with Store(url, key=KEY) as store:  # and up again
        assert store.list_triggers() == []
        assert [c.id for c in store.list_connections()] == ["old"]


# triggers


def test_trigger_round_trip_filters_and_status(store: Store) -> None:
    tasks = connection_for(store)
    other = connection_for(store, "other")
    polling = store.create_trigger(tasks, "OnNewTasks", "polling", {"list": "inbox"}, state={"since": 3})
    hook = store.create_trigger(
        tasks, "OnTaskCreated", "webhook", {}, callback_digest="d" * 64, target_url="http://127.0.0.1:9/sink"
    )
    elsewhere = store.create_trigger(other, "OnNewTasks", "polling", {})

    got = store.get_trigger(polling.id)
    assert got == polling
    assert (got.connector, got.kind, got.arguments, got.state, got.status) == (
        "tasks",
        "polling",
        {"list": "inbox"},
        {"since": 3},
        "active",
    )
    assert got.next_due_at is not None and got.next_due_at.tzinfo is not None
    assert (hook.has_callback, hook.next_due_at, hook.target_url) == (True, None, "http://127.0.0.1:9/sink")
    assert not polling.has_callback

    assert [t.id for t in store.list_triggers()] == [polling.id, hook.id, elsewhere.id]
    assert [t.id for t in store.list_triggers(connection_id=tasks)] == [polling.id, hook.id]
    assert [t.id for t in store.list_triggers(connector="other")] == [elsewhere.id]

    stopped = store.set_trigger_status(hook.id, "unauthenticated", "401 from the backend")
    assert (stopped.status, stopped.last_error) == ("unauthenticated", "401 from the backend")
    assert [t.id for t in store.list_triggers(status="unauthenticated")] == [hook.id]
    saved = store.save_trigger_state(hook.id, {"location": "http://127.0.0.1:9/hooks/7"})
    assert store.get_trigger(hook.id).state == saved.state == {"location": "http://127.0.0.1:9/hooks/7"}

    removed = store.delete_trigger(hook.id)
    assert removed.state == {"location": "http://127.0.0.1:9/hooks/7"}
    with pytest.raises(NotFoundError, match="no trigger with id"):
        store.get_trigger(hook.id)


def test_bad_trigger_input_is_refused_clearly(store: Store) -> None:
    tasks = connection_for(store)
    with pytest.raises(InputError, match="trigger kind must be one of polling, webhook"):
        store.create_trigger(tasks, "OnNewTasks", "cron", {})
    with pytest.raises(NotFoundError, match="no connection with id 'missing'"):
        store.create_trigger("missing", "OnNewTasks", "polling", {})
    with pytest.raises(InputError, match="trigger arguments and state must be JSON"):
        store.create_trigger(tasks, "OnNewTasks", "polling", {"when": object()})
    store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="a" * 64)
    with pytest.raises(InputError, match="already uses this callback token"):
        store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="a" * 64)
    trigger = store.create_trigger(tasks, "OnNewTasks", "polling", {})
    with pytest.raises(InputError, match="trigger status must be one of"):
        store.set_trigger_status(trigger.id, "paused")
    with pytest.raises(NotFoundError):
        store.set_trigger_status("nope", "stopped")
    with pytest.raises(NotFoundError):
        store.delete_trigger("nope")
    with pytest.raises(NotFoundError):
        store.events("nope")
    with pytest.raises(InputError, match="worker id"):
        store.claim_due_triggers("", T0, 30)
    with pytest.raises(InputError, match="event key"):
        store.record_callback("a" * 64, [NewEvent("", {})])
    assert len(store.list_triggers()) == 2


# exactly-once


def test_a_replayed_poll_stores_each_event_once(store: Store) -> None:
    tasks = connection_for(store)
    trigger = store.create_trigger(tasks, "OnNewTasks", "polling", {}, next_due_at=T0)

    [claimed] = store.claim_due_triggers("worker-a", T0, 30)
    assert (claimed.id, claimed.lease_owner) == (trigger.id, "worker-a")
    first = store.commit_poll(trigger.id, "worker-a", {"since": 2}, events("1", "2", "1"), T0 + timedelta(seconds=60))
    assert [e.key for e in first] == ["1", "2"]
    assert first[0].body == {"id": "1", "title": "task 1"} and first[0].delivered_at is None
    after = store.get_trigger(trigger.id)
    assert (after.state, after.next_due_at, after.lease_owner, after.lease_expires_at) == (
        {"since": 2},
        T0 + timedelta(seconds=60),
        None,
        None,
    )
    assert store.claim_due_triggers("worker-a", T0 + timedelta(seconds=59), 30) == [], "not due yet"

    # The same page again (say, a crash before the cursor moved) plus one new item.
    store.claim_due_triggers("worker-a", T0 + timedelta(seconds=60), 30)
    second = store.commit_poll(trigger.id, "worker-a", {"since": 3}, events("2", "1", "3"), T0 + timedelta(hours=1))
    assert [e.key for e in second] == ["3"]
    assert [e.key for e in store.events(trigger.id)] == ["1", "2", "3"]
    assert stored_event_count(store) == 3


def test_long_keys_are_hashed_stably(store: Store) -> None:
    trigger = store.create_trigger(connection_for(store), "OnNewTasks", "polling", {}, next_due_at=T0)
    long_key = "k" * 1000
    store.claim_due_triggers("w", T0, 30)
    [event] = store.commit_poll(trigger.id, "w", {}, [NewEvent(long_key, 1)], T0)
    assert event.key.startswith("sha256:") and len(event.key) == 71
    store.claim_due_triggers("w", T0, 30)
    assert store.commit_poll(trigger.id, "w", {}, [NewEvent(long_key, 1)], T0) == []


def test_callbacks_are_recorded_once_with_their_problems(store: Store) -> None:
    tasks = connection_for(store)
    hook = store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="c" * 64)
    found, stored = store.record_callback(
        "c" * 64,
        [NewEvent("t1", {"id": "t1"}), NewEvent("t2", {"id": "t2"}, problems=("missing 'title'",))],
        problems=["payload is not an array"],
    )
    assert found.id == hook.id
    assert [(e.key, e.problems) for e in stored] == [
        ("t1", ["payload is not an array"]),
        ("t2", ["payload is not an array", "missing 'title'"]),
    ]
    _, again = store.record_callback("c" * 64, [NewEvent("t2", {"id": "t2"}), NewEvent("t3", None)])
    assert [(e.key, e.body) for e in again] == [("t3", None)]

    with pytest.raises(NotFoundError, match="no trigger has this callback token"):
        store.record_callback("f" * 64, events("x"))
    assert stored_event_count(store) == 3, "a wrong token records nothing"


def test_concurrent_duplicate_callbacks_store_one_copy(url: str) -> None:
    """Retried callbacks racing in two processes (two stores): the unique key settles it."""
    with Store(url, key=KEY) as first, Store(url, key=KEY) as second:
        hook = first.create_trigger(connection_for(first), "OnTaskCreated", "webhook", {}, callback_digest="e" * 64)
        batches = [events(*(f"{n}-{i}" for i in range(5))) for n in range(40)]
        results: dict[int, int] = Counter()
        barrier = threading.Barrier(2)

        def send(index: int, store: Store) -> None:
            barrier.wait()
            for batch in batches:
                results[index] += len(store.record_callback("e" * 64, batch)[1])

        threads = [threading.Thread(target=send, args=(i, s)) for i, s in enumerate((first, second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results[0] + results[1] == 200
        assert len(first.events(hook.id, limit=1000)) == 200


# delivery


def test_pending_events_delivery_and_reading_pages(store: Store) -> None:
    tasks = connection_for(store)
    a = store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="1" * 64)
    b = store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="2" * 64)
    store.record_callback("1" * 64, events("a1", "a2", "a3"))
    store.record_callback("2" * 64, events("b1"))

    pending = store.pending_events()
    assert [e.key for e in pending] == ["a1", "a2", "a3", "b1"]
    assert [e.key for e in store.pending_events(b.id)] == ["b1"]
    assert [e.key for e in store.pending_events(limit=2)] == ["a1", "a2"]

    store.record_attempts([pending[0].id])
    assert store.mark_delivered([pending[0].id, pending[3].id], now=T0) == 2
    assert store.mark_delivered([pending[0].id]) == 0, "already delivered"
    assert [e.key for e in store.pending_events()] == ["a2", "a3"]
    first = store.events(a.id)[0]
    assert (first.delivered_at, first.attempts) == (T0, 2)

    page = store.events(a.id, limit=2)
    assert [e.key for e in page] == ["a1", "a2"]
    assert [e.key for e in store.events(a.id, since_id=page[-1].id)] == ["a3"]
    with pytest.raises(InputError, match="limit"):
        store.events(a.id, limit=0)


def test_deleting_a_connection_or_trigger_cascades(store: Store) -> None:
    tasks = connection_for(store)
    kept = connection_for(store, "other")
    doomed = store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="3" * 64)
    survivor = store.create_trigger(kept, "OnTaskCreated", "webhook", {}, callback_digest="4" * 64)
    store.record_callback("3" * 64, events("x", "y"))
    store.record_callback("4" * 64, events("z"))
    store.delete_connection(tasks)
    assert [t.id for t in store.list_triggers()] == [survivor.id]
    assert stored_event_count(store) == 1
    with pytest.raises(NotFoundError):
        store.events(doomed.id)
    store.delete_trigger(survivor.id)
    assert stored_event_count(store) == 0


# leases


def test_an_expired_lease_is_taken_over_and_the_old_owner_refused(store: Store) -> None:
    tasks = connection_for(store)
    trigger = store.create_trigger(tasks, "OnNewTasks", "polling", {}, state={"since": 0}, next_due_at=T0)
    assert [t.id for t in store.claim_due_triggers("old", T0, 30)] == [trigger.id]
    assert store.claim_due_triggers("new", T0 + timedelta(seconds=29), 30) == [], "lease still held"
    assert store.renew_lease(trigger.id, "old", T0 + timedelta(seconds=20), 30) == T0 + timedelta(seconds=50)
    assert store.claim_due_triggers("new", T0 + timedelta(seconds=49), 30) == []

    [taken] = store.claim_due_triggers("new", T0 + timedelta(seconds=50), 30)
    assert (taken.lease_owner, taken.lease_expires_at) == ("new", T0 + timedelta(seconds=80))
    with pytest.raises(LeaseLostError, match=r"no longer holds the lease.*held by 'new'"):
        store.commit_poll(trigger.id, "old", {"since": 9}, events("stale"), T0)
    with pytest.raises(LeaseLostError):
        store.renew_lease(trigger.id, "old", T0 + timedelta(seconds=51), 30)
    assert store.release(trigger.id, "old") is False
    assert stored_event_count(store) == 0 and store.get_trigger(trigger.id).state == {"since": 0}

    assert [e.key for e in store.commit_poll(trigger.id, "new", {"since": 1}, events("1"), T0)] == ["1"]
    store.claim_due_triggers("new", T0, 30)
    failed = store.commit_poll(
        trigger.id, "new", {"since": 1}, [], T0, error="401 Unauthorized", status="unauthenticated"
    )
    assert failed == []
    assert (store.get_trigger(trigger.id).status, store.get_trigger(trigger.id).last_error) == (
        "unauthenticated",
        "401 Unauthorized",
    )
    assert store.claim_due_triggers("new", T0, 30) == [], "only active triggers are claimed"
    with pytest.raises(LeaseLostError, match="now free"):
        store.commit_poll(trigger.id, "new", {"since": 1}, events("1"), T0)
    with pytest.raises(NotFoundError):
        store.commit_poll("nope", "new", {}, [], T0)


def test_release_stopped_triggers_and_webhooks_are_not_claimed(store: Store) -> None:
    tasks = connection_for(store)
    polled = store.create_trigger(tasks, "OnNewTasks", "polling", {}, next_due_at=T0)
    stopped = store.create_trigger(tasks, "OnNewTasks", "polling", {}, next_due_at=T0)
    store.create_trigger(tasks, "OnTaskCreated", "webhook", {}, callback_digest="5" * 64)
    store.set_trigger_status(stopped.id, "stopped")
    assert [t.id for t in store.claim_due_triggers("a", T0, 30)] == [polled.id]
    assert store.release(polled.id, "a") is True
    assert [t.id for t in store.claim_due_triggers("b", T0, 30)] == [polled.id]
    assert store.release_leases("b") == 1
    store.set_trigger_status(stopped.id, "active", next_due_at=T0 - timedelta(seconds=1))
    assert [t.id for t in store.claim_due_triggers("c", T0, 30, limit=1)] == [stopped.id], "most overdue first"


def test_two_workers_never_hold_the_same_trigger_and_none_starves(url: str) -> None:
    """Two workers (two stores, so two database connections) race over 200 due triggers, each
    re-due as soon as it is polled, until every trigger was polled three times."""
    rounds = 3
    with Store(url, key=KEY) as setup:
        tasks = connection_for(setup)
        due = datetime.now(UTC) - timedelta(minutes=1)
        ids = [setup.create_trigger(tasks, "OnNewTasks", "polling", {}, next_due_at=due).id for _ in range(200)]
    polls: Counter[str] = Counter()
    by_worker: Counter[str] = Counter()
    holding: set[str] = set()
    violations: list[str] = []
    guard = threading.Lock()
    barrier = threading.Barrier(2)
    deadline = time.monotonic() + 120

    errors: list[BaseException] = []

    def work(worker: str, store: Store) -> None:
        try:
            barrier.wait(timeout=30)
            while time.monotonic() < deadline:
                with guard:
                    if all(polls[i] >= rounds for i in ids):
                        return
                now = datetime.now(UTC)
                for trigger in store.claim_due_triggers(worker, now, 60, limit=5):
                    with guard:
                        if trigger.id in holding:
                            violations.append(trigger.id)
                        holding.add(trigger.id)
                        polls[trigger.id] += 1
                        by_worker[worker] += 1
                        count = polls[trigger.id]
                    time.sleep(0)  # let the other worker run while this one "polls"
                    with guard:
                        holding.discard(trigger.id)
                    store.commit_poll(trigger.id, worker, {"n": count}, [], datetime.now(UTC))
        except BaseException as error:  # surfaced below: a dead thread must fail the test
            errors.append(error)

    # Opened (and migrated) before the race, as worker processes would be long before it.
    with Store(url, key=KEY) as one, Store(url, key=KEY) as two:
        threads = [threading.Thread(target=work, args=(f"worker-{n}", s)) for n, s in ((1, one), (2, two))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert violations == []
    assert min(polls[i] for i in ids) >= rounds, "a trigger was starved"
    assert by_worker["worker-1"] > 0 and by_worker["worker-2"] > 0
    assert sum(by_worker.values()) == sum(polls.values()) >= rounds * len(ids)
