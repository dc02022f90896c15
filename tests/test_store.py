"""The store against real SQLite files: migrations, versions, sealed secrets, redacted history."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import event, inspect
from sqlalchemy import text as sql

from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.model import Headers, Request
from connectorkit.runtime.store import (
    DB_ENV,
    KEY_ENV,
    NotFoundError,
    SecretKeyError,
    Store,
    StoreError,
    generate_key,
    open_store,
)
from connectorkit.runtime.store.db import (
    alembic_config,
    create_store_engine,
    current_revision,
    display_url,
    head_revision,
)
from connectorkit.runtime.store.models import Base, ConnectorFileRow
from postgres import fresh_database

API_KEY = "sk-planted-API-KEY-5f1e9a"
PASSWORD = "p@ss w/rd&planted"
ACCESS = "eyJ-planted-access-token-77"
REFRESH = "planted-refresh-token-31"
PLANTED = [API_KEY, PASSWORD, ACCESS, REFRESH]


def url_for(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "connectorkit.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    with Store(url_for(db_path), environ={}) as opened:
        yield opened


def db_bytes(path: Path) -> bytes:
    """The database file and its WAL, as anyone with disk access would see them."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


# migrations


def test_migrations_create_the_schema_from_empty(db_path: Path) -> None:
    assert not db_path.exists()
    with Store(url_for(db_path), environ={}) as store:
        tables = set(inspect(store.engine).get_table_names())
        assert {"connectors", "connector_versions", "connector_files", "connections", "calls"} <= tables
        assert current_revision(store.engine) == head_revision()
        with store.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == []


def test_migrations_are_idempotent_and_keep_data(db_path: Path) -> None:
    with Store(url_for(db_path), environ={}) as first:
        first.save_connector("petstore", {"apiDefinition.swagger.json": b"{}"})
    with Store(url_for(db_path), environ={}) as second, Store(url_for(db_path), environ={}) as third:
        assert current_revision(second.engine) == head_revision()
        assert [c.name for c in third.list_connectors()] == ["petstore"]
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("select count(*) from alembic_version").fetchone() == (1,)


def test_a_database_from_a_newer_connectorkit_is_refused(db_path: Path) -> None:
    Store(url_for(db_path), environ={}).close()
    with sqlite3.connect(db_path) as raw:
        raw.execute("update alembic_version set version_num = '9999_future'")
    with pytest.raises(StoreError, match="newer connectorkit"):
        Store(url_for(db_path), environ={})


def test_a_bad_url_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not a database URL"):
        Store("this is not a url", environ={})


def test_display_url_hides_passwords() -> None:
    shown = display_url("postgresql://user:hunter2@db.example/ck")
    assert "hunter2" not in shown
    assert "***" in shown


# connectors


def test_connector_round_trip_and_versions(store: Store) -> None:
    v1 = {"apiDefinition.swagger.json": b'{"swagger": "2.0"}', "apiProperties.json": b"{}"}
    v2 = {**v1, "apiProperties.json": b'{"properties": {}}', "icon.png": b"\x89PNG\x00\xff"}
    assert store.save_connector("petstore", v1) == 1
    assert store.save_connector("petstore", dict(v1)) == 1, "same content makes no new version"
    assert store.save_connector("petstore", v2) == 2
    assert store.save_connector("other", v1) == 1

    latest = store.get_connector("petstore")
    assert (latest.version, latest.files) == (2, v2)
    assert store.get_connector("petstore", 1).files == v1
    assert store.connector_versions("petstore") == [1, 2]
    assert store.save_connector("petstore", v1) == 3, "going back to old content is a new version"

    summaries = {s.name: s for s in store.list_connectors()}
    assert set(summaries) == {"other", "petstore"}
    assert (summaries["petstore"].latest_version, summaries["petstore"].versions) == (3, 3)
    assert summaries["petstore"].updated_at.tzinfo is not None

    store.delete_connector("petstore")
    assert [s.name for s in store.list_connectors()] == ["other"]
    with pytest.raises(NotFoundError, match="no connector named 'petstore'"):
        store.get_connector("petstore")


def test_missing_connectors_and_versions_are_input_errors(store: Store) -> None:
    store.save_connector("petstore", {"a": b"1"})
    with pytest.raises(NotFoundError, match="has no version 7"):
        store.get_connector("petstore", 7)
    with pytest.raises(InputError, match="no connector named 'nope'"):
        store.delete_connector("nope")
    with pytest.raises(InputError, match="no files"):
        store.save_connector("empty", {})
    with pytest.raises(InputError, match="connector name"):
        store.save_connector(" ", {"a": b""})


def test_a_failed_connector_write_leaves_nothing_behind(store: Store) -> None:
    store.save_connector("petstore", {"a.json": b"one", "b.json": b"one"})
    inserted: list[str] = []

    def crash(_mapper: Any, _connection: Any, target: ConnectorFileRow) -> None:
        inserted.append(target.path)
        if len(inserted) == 2:
            raise RuntimeError("crash mid-write")

    event.listen(ConnectorFileRow, "before_insert", crash)
    try:
        with pytest.raises(RuntimeError, match="crash mid-write"):
            store.save_connector("petstore", {"a.json": b"two", "b.json": b"two"})
        with pytest.raises(RuntimeError, match="crash mid-write"):
            inserted.clear()
            store.save_connector("brand-new", {"a.json": b"x", "b.json": b"y"})
    finally:
        event.remove(ConnectorFileRow, "before_insert", crash)

    assert store.connector_versions("petstore") == [1]
    assert store.get_connector("petstore").files == {"a.json": b"one", "b.json": b"one"}
    assert [s.name for s in store.list_connectors()] == ["petstore"]
    with sqlite3.connect(store.engine.url.database or "") as raw:
        assert raw.execute("select count(*) from connector_files").fetchone() == (2,)
        assert raw.execute("select count(*) from connectors").fetchone() == (1,)


# connections


def make_connection(store: Store) -> str:
    return store.create_connection(
        "petstore",
        {"api_key": API_KEY, "password": PASSWORD, "host": "api.example.com", "retries": 3},
        {"api_key", "password"},
        parameter_set="apikey",
    )


def test_connection_round_trip(store: Store) -> None:
    connection_id = make_connection(store)
    other = store.create_connection("weather", {"token": "x"}, {"token"})
    connection = store.get_connection(connection_id)
    assert connection.parameters == {
        "api_key": API_KEY,
        "password": PASSWORD,
        "host": "api.example.com",
        "retries": 3,
    }
    assert connection.parameter_set == "apikey"
    assert connection.secret_names == ("api_key", "password")
    assert (connection.access_token, connection.refresh_token) == (None, None)

    listed = store.list_connections("petstore")
    assert [c.id for c in listed] == [connection_id]
    assert listed[0].parameters == {"host": "api.example.com", "retries": 3}
    assert listed[0].secret_names == ("api_key", "password")
    assert {c.id for c in store.list_connections()} == {connection_id, other}
    for summary in store.list_connections():
        assert not any(secret in repr(summary) for secret in PLANTED)

    store.delete_connection(connection_id)
    with pytest.raises(NotFoundError, match="no connection with id"):
        store.get_connection(connection_id)
    assert [c.id for c in store.list_connections()] == [other]


def test_tokens_update_and_a_missing_refresh_token_keeps_the_old_one(db_path: Path) -> None:
    ticks = iter(datetime(2030, 1, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=n) for n in range(100))
    with Store(url_for(db_path), environ={}, clock=lambda: next(ticks)) as store:
        connection_id = store.create_connection("graph", {"token:clientId": "app"}, set())
        expires = datetime(2030, 1, 1, 13, 0, tzinfo=UTC)
        store.update_tokens(connection_id, ACCESS, REFRESH, expires)
        first = store.get_connection(connection_id)
        assert (first.access_token, first.refresh_token, first.token_expires_at) == (ACCESS, REFRESH, expires)
        assert first.updated_at > first.created_at

        store.update_tokens(connection_id, "new-access", None, None)
        second = store.get_connection(connection_id)
        assert (second.access_token, second.refresh_token, second.token_expires_at) == ("new-access", REFRESH, None)
        summary = store.list_connections()[0]
        assert (summary.has_access_token, summary.has_refresh_token) == (True, True)
        with pytest.raises(NotFoundError):
            store.update_tokens("missing", ACCESS, None, None)


def test_the_sign_in_redirect_uri_is_kept_replaced_and_listed(store: Store) -> None:
    plain = make_connection(store)
    signed = store.create_connection("graph", {}, set(), redirect_uri="http://127.0.0.1:8765/oauth/redirect")
    assert store.get_connection(plain).redirect_uri is None
    assert store.get_connection(signed).redirect_uri == "http://127.0.0.1:8765/oauth/redirect"
    store.update_connection(signed, {"tenant": "contoso"}, set(), None, redirect_uri="https://h.example/cb")
    fixed = store.get_connection(signed)
    assert (fixed.redirect_uri, fixed.parameters) == ("https://h.example/cb", {"tenant": "contoso"})
    assert "https://h.example/cb" in repr(fixed)  # not a secret: shown as it is
    listed = {c.id: c.redirect_uri for c in store.list_connections()}
    assert listed == {plain: None, signed: "https://h.example/cb"}


def test_migration_0003_adds_the_redirect_uri_to_existing_connections(db_path: Path) -> None:
    """A store written at revision 0002 keeps its connections, which get no redirect URI; the
    downgrade removes the column again."""
    config = alembic_config()
    engine = create_store_engine(url_for(db_path))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0002")
        now = datetime(2030, 1, 1, tzinfo=UTC).replace(tzinfo=None)
        with engine.begin() as connection:
            connection.execute(
                sql(
                    "insert into connections (id, connector, parameters, secret_names, created_at, updated_at) "
                    "values ('old', 'graph', '{\"host\": \"h\"}', '[]', :now, :now)"
                ),
                {"now": now},
            )
    finally:
        engine.dispose()
    with Store(url_for(db_path), environ={}) as store:
        assert current_revision(store.engine) == head_revision()
        old = store.get_connection("old")
        assert (old.parameters, old.redirect_uri) == ({"host": "h"}, None)
        store.update_connection("old", {"host": "h"}, set(), None, redirect_uri="http://127.0.0.1:1/cb")
    engine = create_store_engine(url_for(db_path))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        columns = {c["name"] for c in inspect(engine).get_columns("connections")}
        assert "redirect_uri" not in columns and "token_expires_at" in columns
    finally:
        engine.dispose()


def test_a_failed_token_update_keeps_the_old_tokens(db_path: Path) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    crash = False

    def clock() -> datetime:
        if crash:
            raise RuntimeError("crash mid-write")
        return now

    with Store(url_for(db_path), environ={}, clock=clock) as store:
        connection_id = store.create_connection("graph", {}, set())
        store.update_tokens(connection_id, ACCESS, REFRESH, now)
        crash = True
        with pytest.raises(RuntimeError, match="crash mid-write"):
            store.update_tokens(connection_id, "replacement", "replacement", None)
        kept = store.get_connection(connection_id)
        assert (kept.access_token, kept.refresh_token, kept.token_expires_at) == (ACCESS, REFRESH, now)


def test_connection_repr_and_str_mask_secrets(store: Store) -> None:
    connection_id = make_connection(store)
    store.update_tokens(connection_id, ACCESS, REFRESH, None)
    connection = store.get_connection(connection_id)
    for text in (repr(connection), str(connection), f"{connection}", repr([connection])):
        assert not any(secret in text for secret in PLANTED), text
        assert "***" in text
        assert "api.example.com" in text
    assert connection.redacted_parameters()["api_key"] == "***"
    assert set(connection.secret_values()) == {API_KEY, PASSWORD, ACCESS, REFRESH}


def test_secrets_are_encrypted_at_rest_and_never_logged(
    store: Store, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connection_id = make_connection(store)
    store.update_tokens(connection_id, ACCESS, REFRESH, None)
    assert store.get_connection(connection_id).parameters["api_key"] == API_KEY
    on_disk = db_bytes(db_path)
    assert b"api.example.com" in on_disk, "plain values are stored where this test looks"
    for secret in PLANTED:
        assert secret.encode() not in on_disk
    assert not any(secret in caplog.text for secret in PLANTED)


def test_a_wrong_key_gives_a_clear_error(db_path: Path) -> None:
    right, wrong = generate_key(), generate_key()
    with Store(url_for(db_path), key=right) as store:
        connection_id = make_connection(store)
    with Store(url_for(db_path), key=wrong) as store:
        assert store.list_connections()[0].id == connection_id, "listing needs no key"
        with pytest.raises(SecretKeyError) as caught:
            store.get_connection(connection_id)
    message = str(caught.value)
    assert message == "cannot decrypt connection secrets: wrong CONNECTORKIT_SECRET_KEY or key file"
    assert isinstance(caught.value, ConnectorkitError)
    assert right.decode() not in message and wrong.decode() not in message
    with Store(url_for(db_path), key=right) as store:
        assert store.get_connection(connection_id).parameters["api_key"] == API_KEY


def test_a_sealed_secret_moved_to_another_row_does_not_open(store: Store, db_path: Path) -> None:
    first = make_connection(store)
    second = store.create_connection("petstore", {"api_key": "other"}, {"api_key"})
    with sqlite3.connect(db_path) as raw:
        (blob,) = raw.execute("select secrets from connections where id = ?", (first,)).fetchone()
        raw.execute("update connections set secrets = ? where id = ?", (blob, second))
    with pytest.raises(SecretKeyError):
        store.get_connection(second)


# keys


def test_the_key_file_is_created_next_to_the_database_with_mode_0600(db_path: Path) -> None:
    with Store(url_for(db_path), environ={}) as store:
        key_file = db_path.parent / "secret.key"
        assert store.key_file == key_file
        assert not key_file.exists(), "created on first use, not on open"
        connection_id = make_connection(store)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_bytes()
    with Store(url_for(db_path), environ={}) as again:
        assert again.get_connection(connection_id).parameters["password"] == PASSWORD
    assert key_file.read_bytes() == content


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_key_file_others_can_read_is_refused(db_path: Path) -> None:
    with Store(url_for(db_path), environ={}) as store:
        make_connection(store)
    key_file = db_path.parent / "secret.key"
    key_file.chmod(0o644)
    with Store(url_for(db_path), environ={}) as store, pytest.raises(InputError, match="chmod 600"):
        store.list_connections()[0]  # listing works without a key
        store.get_connection(store.list_connections()[0].id)


def test_the_environment_key_wins_and_no_key_file_is_written(db_path: Path) -> None:
    key = generate_key().decode()
    with Store(url_for(db_path), environ={KEY_ENV: key}) as store:
        connection_id = make_connection(store)
    assert not (db_path.parent / "secret.key").exists()
    with Store(url_for(db_path), key=key.encode()) as store:
        assert store.get_connection(connection_id).parameters["api_key"] == API_KEY
    with Store(url_for(db_path), environ={}) as store, pytest.raises(SecretKeyError):
        store.get_connection(connection_id)


def test_a_malformed_environment_key_is_an_input_error_without_its_value(db_path: Path) -> None:
    with (
        Store(url_for(db_path), environ={KEY_ENV: "too-short-secret-value"}) as store,
        pytest.raises(InputError) as caught,
    ):
        make_connection(store)
    assert KEY_ENV in str(caught.value)
    assert "too-short-secret-value" not in str(caught.value)


def test_open_store_reads_the_url_from_the_environment(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "ck.db"
    with open_store(environ={DB_ENV: url_for(target)}) as store:
        store.save_connector("x", {"a": b"1"})
    assert target.exists()
    explicit = tmp_path / "explicit.db"
    with open_store(url_for(explicit), environ={DB_ENV: url_for(target)}):
        pass
    assert explicit.exists()


def test_the_default_database_lives_in_the_user_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("platformdirs.user_data_dir", lambda *_a, **_k: str(tmp_path / "userdata"))
    with open_store(environ={}) as store:
        make_connection(store)
        assert store.key_file == tmp_path / "userdata" / "secret.key"
    assert (tmp_path / "userdata" / "connectorkit.db").exists()
    assert stat.S_IMODE((tmp_path / "userdata" / "secret.key").stat().st_mode) == 0o600


# history


def test_history_redacts_secrets_everywhere(store: Store, db_path: Path) -> None:
    connection_id = make_connection(store)
    store.update_tokens(connection_id, ACCESS, REFRESH, None)
    connection = store.get_connection(connection_id)
    request = Request(
        method="post",
        base_url="https://api.example.com/v1",
        path="/pets",
        query=[("api_key", API_KEY), ("limit", "5")],
        headers=Headers([("X-Api-Key", API_KEY), ("Authorization", "Basic dXNlcjpwYXNz"), ("X-Trace", "t-1")]),
        json={"password": PASSWORD, "note": f"token {ACCESS}", "name": "Rex"},
        has_json=True,
    )
    call_id = store.record_call(
        connection_id,
        "CreatePet",
        request,
        401,
        12.5,
        f"refresh failed for {REFRESH}",
        secrets=connection.secret_values(),
    )
    (record,) = store.history(connection_id)
    assert record.id == call_id
    assert (record.method, record.status, record.duration_ms, record.operation_id) == ("POST", 401, 12.5, "CreatePet")
    assert record.url == "https://api.example.com/v1/pets?api_key=***&limit=5"
    assert record.request_headers == [("X-Api-Key", "***"), ("Authorization", "***"), ("X-Trace", "t-1")]
    assert record.request_body is not None and '"name": "Rex"' in record.request_body
    assert record.error == "refresh failed for ***"
    everything = repr(store.history())
    assert not any(secret in everything for secret in PLANTED)
    on_disk = db_bytes(db_path)
    assert b"Rex" in on_disk
    assert not any(secret.encode() in on_disk for secret in PLANTED)
    assert PASSWORD.replace(" ", "%20").encode() not in on_disk


def test_history_order_limit_and_filters(store: Store) -> None:
    first = make_connection(store)
    second = store.create_connection("weather", {}, set())
    for n in range(5):
        store.record_call(first if n % 2 == 0 else second, f"Op{n}", None, 200, float(n))
    store.record_call(None, "Anonymous", Request("GET", "https://x.test", "/", content=b"raw"), None, 1.0, "timeout")
    assert [r.operation_id for r in store.history(limit=3)] == ["Anonymous", "Op4", "Op3"]
    assert [r.operation_id for r in store.history(first)] == ["Op4", "Op2", "Op0"]
    assert store.history(limit=1)[0].request_body == "raw"
    with pytest.raises(InputError, match="limit"):
        store.history(limit=0)
    with pytest.raises(NotFoundError):
        store.record_call("missing", "Op", None, 200, 1.0)
    store.delete_connection(first)
    assert store.history(first) == []
    assert len(store.history()) == 3


def test_queued_history_is_written_in_order_and_survives_a_deleted_connection(db_path: Path) -> None:
    store = Store(url_for(db_path), environ={})
    kept = make_connection(store)
    doomed = store.create_connection("weather", {}, set())
    for n in range(300):
        assert store.record_call(kept if n % 3 else doomed, f"Op{n}", None, 200, float(n), wait=False) is None
    store.delete_connection(doomed)  # writes the queue first, then deletes with its history
    for n in range(300, 310):
        store.record_call(doomed, f"Late{n}", None, 200, 1.0, wait=False)  # its connection is gone: dropped
        store.record_call(kept, f"Op{n}", None, 200, 1.0, wait=False)
    history = store.history(kept, limit=1000)  # flushes
    assert [r.operation_id for r in history][:2] == ["Op309", "Op308"]
    assert len(history) == 200 + 10 and not any(r.operation_id.startswith("Late") for r in history)
    store.record_call(kept, "AtClose", None, 200, 1.0, wait=False)
    store.close()  # writes what is still queued
    with Store(url_for(db_path), environ={}) as reopened:
        assert reopened.history(kept, limit=1)[0].operation_id == "AtClose"


# concurrency


def test_concurrent_reads_while_writing(db_path: Path) -> None:
    key = generate_key()
    with Store(url_for(db_path), key=key) as writer, Store(url_for(db_path), key=key) as reader:
        writer.save_connector("petstore", {"a": b"v1"})
        connection_id = make_connection(writer)
        stop = threading.Event()

        def write() -> int:
            n = 1
            while not stop.is_set() and n < 40:
                n = writer.save_connector("petstore", {"a": f"v{n + 1}".encode()})
            return n

        def read(_: int) -> tuple[int, str]:
            latest = reader.get_connector("petstore")
            assert latest.files == {"a": f"v{latest.version}".encode()}
            return latest.version, reader.get_connection(connection_id).parameters["api_key"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            writing = pool.submit(write)
            results = list(pool.map(read, range(200)))
            stop.set()
            written = writing.result()
        assert all(api_key == API_KEY for _, api_key in results)
        assert max(version for version, _ in results) <= written
        assert reader.get_connector("petstore").version == written


# PostgreSQL


def test_postgresql_round_trip() -> None:
    """A private throwaway server (tests/postgres.py), or CONNECTORKIT_TEST_POSTGRES_URL's."""
    with fresh_database() as url, Store(url, key=generate_key()) as store:
        name = f"pg-{os.getpid()}"
        assert store.save_connector(name, {"a": b"1"}) >= 1
        connection_id = store.create_connection(name, {"api_key": API_KEY}, {"api_key"})
        assert store.get_connection(connection_id).parameters["api_key"] == API_KEY
        store.delete_connection(connection_id)
        store.delete_connector(name)


def test_recent_connection_answers_are_reused_only_while_fresh_and_unchanged(db_path: Path) -> None:
    with Store(url_for(db_path), environ={}) as store, Store(url_for(db_path), environ={}) as other:
        store.save_connector("petstore", {"apiDefinition.swagger.json": b"{}"})
        connection_id = make_connection(store)
        first, head = store.connection_with_connector(connection_id, max_age=60)
        assert head[0] == 1
        other.update_tokens(connection_id, "from-another-process", None, None)
        cached, _ = store.connection_with_connector(connection_id, max_age=60)
        assert cached is first  # another process's change: seen once the answer is old enough
        assert store.connection_with_connector(connection_id)[0].access_token == "from-another-process"
        assert store.connection_with_connector(connection_id, max_age=1e-9)[0].access_token == "from-another-process"

        again, _ = store.connection_with_connector(connection_id, max_age=60)
        store.update_tokens(connection_id, "from-this-store", None, None)  # our own write: seen at once
        assert store.connection_with_connector(connection_id, max_age=60)[0].access_token == "from-this-store"
        store.save_connector("petstore", {"apiDefinition.swagger.json": b'{"v": 2}'})
        assert store.connection_with_connector(connection_id, max_age=60)[1][0] == 2
        store.delete_connection(connection_id)
        with pytest.raises(NotFoundError):
            store.connection_with_connector(connection_id, max_age=60)
        assert again is not None
