"""Where the database is and how it is opened and migrated.

The URL is, in order: the ``--db`` value the caller passes, ``CONNECTORKIT_DB``, or a SQLite file
``connectorkit.db`` in the user data directory (platformdirs). Opening a store upgrades its schema
to the newest Alembic revision, which is a no-op when it is already there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from connectorkit.errors import ConnectorkitError, InputError

DB_ENV = "CONNECTORKIT_DB"
APP_NAME = "connectorkit"
DB_FILE_NAME = "connectorkit.db"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(ConnectorkitError):
    """The database cannot be opened or its schema cannot be brought up to date."""


def data_dir() -> Path:
    """The user data directory connectorkit keeps its database and key file in."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_url(url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The database URL: ``url`` if given, else ``CONNECTORKIT_DB``, else the default SQLite file."""
    env = os.environ if environ is None else environ
    chosen = url or env.get(DB_ENV)
    if chosen:
        return chosen
    return f"sqlite:///{data_dir() / DB_FILE_NAME}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def display_url(url: str) -> str:
    """The URL with any password replaced by ``***``, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get their directory created, foreign keys enforced,
    WAL journaling (readers do not wait for a writer) and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(f"not a database URL: {display_url(url)}") from None
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as error:
        raise InputError(f"cannot use database {display_url(url)}: {error}") from None
    if parsed.get_backend_name() == "sqlite":
        wal = path is not None

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if wal:
                # WAL with synchronous=NORMAL: a commit survives the process being killed at any
                # point (the log is written before the commit returns); only an operating-system
                # crash or power cut can lose the newest commits, and never corrupts the file.
                # FULL would add an fsync to every recorded call.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, url: str) -> None:
    """Upgrade the schema to the newest revision (idempotent)."""
    config = alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except CommandError as error:
        if "Can't locate revision" in str(error):
            raise StoreError(
                f"database {display_url(url)} was written by a newer connectorkit; upgrade connectorkit to use it"
            ) from None
        raise StoreError(f"cannot migrate database {display_url(url)}: {error}") from None
    except OperationalError as error:
        raise StoreError(f"cannot open database {display_url(url)}: {error.orig}") from None
