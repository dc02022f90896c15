"""The store: connectors (every version kept), connections (secrets sealed) and call history.

Each public method is one transaction: it either commits completely or leaves the database as it
was. Secrets are sealed before they reach a row and opened only by :meth:`Store.get_connection`;
everything else returns views without secret values, and every repr shows them as ``***``.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, Protocol, TypeVar, cast

from sqlalchemy import Connection as SAConnection
from sqlalchemy import (
    Engine,
    Executable,
    String,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.model import Request
from connectorkit.runtime.store.db import (
    create_store_engine,
    data_dir,
    display_url,
    migrate,
    resolve_url,
    sqlite_path,
)
from connectorkit.runtime.store.models import (
    CallRow,
    ConnectionRow,
    ConnectorFileRow,
    ConnectorRow,
    ConnectorVersionRow,
    SignInRow,
    TriggerEventRow,
    TriggerRow,
)
from connectorkit.runtime.store.secrets import (
    KEY_FILE_NAME,
    MASK,
    SecretBox,
    parse_key,
    redact,
    resolve_key,
    secret_strings,
)

log = logging.getLogger(__name__)

SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
"""Headers whose values history always masks, whatever secrets the caller names."""

MAX_BODY_CHARS = 64 * 1024
RECENT_CONNECTIONS = 1024  # answers connection_with_connector keeps at most


# Statements every call runs, built once: building a statement costs more than running it.
_HEADS = (
    select(ConnectorVersionRow.version, ConnectorVersionRow.digest)
    .join(ConnectorRow)
    .where(ConnectorRow.name == bindparam("name"))
)
_NEWEST_HEAD = _HEADS.order_by(ConnectorVersionRow.version.desc()).limit(1)
_HEAD = _HEADS.where(ConnectorVersionRow.version == bindparam("version"))
_CONNECTION = select(ConnectionRow.__table__).where(ConnectionRow.id == bindparam("id"))
_INSERT_CALL = insert(CallRow)
_UTC_TYPE = TriggerRow.__table__.c.next_due_at.type
_CREDENTIALS_NOW = (
    select(ConnectionRow.credentials_version).where(ConnectionRow.id == TriggerRow.connection_id).scalar_subquery()
)
_STALE_401 = and_(
    bindparam("t_status", type_=String()) == "unauthenticated", TriggerRow.lease_credentials != _CREDENTIALS_NOW
)
"""A 401 found by a poll that began before the connection got new credentials (its lease took
an older ``credentials_version``): the new credentials are what the trigger would wait for."""
_COMMIT_POLL = (
    update(TriggerRow)
    .where(TriggerRow.id == bindparam("t_id"), TriggerRow.lease_owner == bindparam("t_owner"))
    .values(
        state=bindparam("t_state", type_=TriggerRow.__table__.c.state.type),
        # A stale 401 polls again at once, with the new credentials.
        next_due_at=case((_STALE_401, bindparam("t_now", type_=_UTC_TYPE)), else_=bindparam("t_due", type_=_UTC_TYPE)),
        last_error=bindparam("t_error"),
        updated_at=bindparam("t_now", type_=_UTC_TYPE),
        # A trigger stopped while its poll ran stays stopped, whatever the poll found; a stale 401
        # leaves the status as it is.
        status=case(
            (TriggerRow.status == "stopped", TriggerRow.status),
            (_STALE_401, TriggerRow.status),
            else_=func.coalesce(bindparam("t_status", type_=String()), TriggerRow.status),
        ),
        lease_owner=None,
        lease_expires_at=None,
    )
)
"""One poll's commit, built once (a poll runs it every time): changes the trigger only while the
worker still holds its lease."""
_FORWARD_TARGETS = (
    select(TriggerRow.id, TriggerRow.target_url)
    .where(TriggerRow.target_url.is_not(None))
    .order_by(TriggerRow.created_at)
)
_NEXT_DUE = select(func.min(TriggerRow.next_due_at)).where(
    TriggerRow.status == "active", TriggerRow.kind == "polling", TriggerRow.next_due_at.is_not(None)
)


class NotFoundError(InputError):
    """A connector, version or connection the user named is not in the store."""


W = TypeVar("W", bound=Callable[..., Any])


def _writes(method: W) -> W:
    """Marks a method that changes connectors or connections: once it is done (committed or not),
    answers cached by :meth:`Store.connection_with_connector` are no longer reused."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._changed()

    return cast(W, wrapper)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ConnectorVersion:
    """One stored version of a connector: its files by relative path."""

    name: str
    version: int
    digest: str
    created_at: datetime
    files: dict[str, bytes] = field(repr=False)


@dataclass(frozen=True)
class ConnectorSummary:
    name: str
    latest_version: int
    versions: int
    created_at: datetime
    updated_at: datetime


def _masked(parameters: Mapping[str, Any], secret_names: Iterable[str]) -> dict[str, Any]:
    names = set(secret_names)
    return {key: (MASK if key in names else value) for key, value in parameters.items()}


@dataclass(frozen=True)
class ConnectionSummary:
    """A connection without secret values: ``parameters`` holds only the plain ones, and
    ``secret_names`` says which secrets are set."""

    id: str
    connector: str
    parameter_set: str | None
    parameters: dict[str, Any]
    secret_names: tuple[str, ...]
    has_access_token: bool
    has_refresh_token: bool
    token_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    redirect_uri: str | None = None


@dataclass(frozen=True, repr=False)
class Connection:
    """A connection with its secrets opened. ``parameters`` holds plain and secret values
    together, as request building needs them; repr and str show secrets and tokens as ``***``."""

    id: str
    connector: str
    parameter_set: str | None
    parameters: dict[str, Any]
    secret_names: tuple[str, ...]
    access_token: str | None
    refresh_token: str | None
    token_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    redirect_uri: str | None = None
    """Where the sign-in that made (or last fixed) the connection redirected; None without one."""

    def redacted_parameters(self) -> dict[str, Any]:
        return _masked(self.parameters, self.secret_names)

    def secret_values(self) -> list[str]:
        """Every secret this connection holds, in the form :meth:`Store.record_call` wants."""
        values: list[Any] = [self.parameters[name] for name in self.secret_names if name in self.parameters]
        values += [token for token in (self.access_token, self.refresh_token) if token]
        return [value if isinstance(value, str) else json.dumps(value) for value in values if value is not None]

    def __repr__(self) -> str:
        return (
            f"Connection(id={self.id!r}, connector={self.connector!r}, parameter_set={self.parameter_set!r}, "
            f"parameters={self.redacted_parameters()!r}, "
            f"access_token={MASK if self.access_token else None!r}, "
            f"refresh_token={MASK if self.refresh_token else None!r}, "
            f"token_expires_at={self.token_expires_at!r}, redirect_uri={self.redirect_uri!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True)
class CallRecord:
    """One entry of call history, already redacted when it was recorded."""

    id: int
    connection_id: str | None
    operation_id: str
    method: str | None
    url: str | None
    request_headers: list[tuple[str, str]]
    request_body: str | None
    status: int | None
    duration_ms: float
    error: str | None
    created_at: datetime


@dataclass(frozen=True)
class SignInRecord:
    """A pending or finished OAuth sign-in. ``secrets`` (the given parameter values, the PKCE
    verifier, the msal flow) is filled only by :meth:`Store.claim_sign_in` and never shown."""

    state: str
    connector: str
    parameter_set: str | None
    target_connection_id: str | None
    status: str  # pending, exchanging, complete, failed
    connection_id: str | None
    error: str | None
    created_at: datetime
    expires_at: datetime
    secrets: dict[str, Any] = field(default_factory=dict, repr=False)


class Store:
    """The connectorkit database.

    ``url`` defaults to ``CONNECTORKIT_DB`` or the SQLite file in the user data directory; ``key``
    (32 raw bytes or their URL-safe base64) defaults to ``CONNECTORKIT_SECRET_KEY`` or the key file
    next to the SQLite database (in the user data directory for other databases), created with
    mode 0600 the first time a secret is sealed or opened. The schema is migrated on open.
    """

    def __init__(
        self,
        url: str | None = None,
        key: bytes | str | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.url = resolve_url(url, environ)
        self._environ = dict(environ) if environ is not None else None
        self._box: SecretBox | None = SecretBox(parse_key(key, "the store key")) if key is not None else None
        self._clock = clock
        self.engine: Engine = create_store_engine(self.url)
        migrate(self.engine, self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer: _HistoryWriter | None = None
        self._writer_lock = threading.Lock()
        self._generation = 0
        self._recent: dict[str, tuple[Connection, tuple[int, str], int, float]] = {}

    def __repr__(self) -> str:
        return f"Store({display_url(self.url)!r})"

    @property
    def key_file(self) -> Path:
        """Where the key file is (or will be) when no key is given and the environment has none."""
        path = sqlite_path(self.url)
        return (path.parent if path is not None else data_dir()) / KEY_FILE_NAME

    def close(self) -> None:
        """Write the history still queued, then release the database."""
        if self._writer is not None:
            self._writer.stop()
            self._writer = None
        self.engine.dispose()

    def flush(self) -> None:
        """Wait until every call recorded with ``wait=False`` is written."""
        if self._writer is not None:
            self._writer.flush()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def _history_writer(self) -> _HistoryWriter:
        with self._writer_lock:
            if self._writer is None:
                self._writer = _HistoryWriter(self.engine)
            return self._writer

    def _secret_box(self) -> SecretBox:
        if self._box is None:
            self._box = SecretBox(resolve_key(self.key_file, self._environ))
        return self._box

    # connectors

    @_writes
    def save_connector(self, name: str, files: Mapping[str, bytes]) -> int:
        """Store ``files`` as the newest version of connector ``name`` and return its version
        number; when they equal the newest version already stored, nothing is written and that
        version's number is returned. Older versions are kept."""
        _check_name(name, "connector name")
        if not files:
            raise InputError(f"connector {name!r} has no files to save")
        digest = _digest(files)
        with self._transaction() as session:
            connector = session.scalar(select(ConnectorRow).where(ConnectorRow.name == name))
            now = self._clock()
            if connector is None:
                connector = ConnectorRow(name=name, created_at=now)
                session.add(connector)
                session.flush()
            latest = session.scalar(
                select(ConnectorVersionRow)
                .where(ConnectorVersionRow.connector_id == connector.id)
                .order_by(ConnectorVersionRow.version.desc())
                .limit(1)
            )
            if latest is not None and latest.digest == digest:
                return latest.version
            version = ConnectorVersionRow(
                connector_id=connector.id,
                version=(latest.version + 1) if latest is not None else 1,
                digest=digest,
                created_at=now,
            )
            session.add(version)
            session.flush()
            for path in sorted(files):
                session.add(ConnectorFileRow(version_id=version.id, path=path, content=bytes(files[path])))
            session.flush()
            return version.version

    def connector_head(self, name: str, version: int | None = None) -> tuple[int, str]:
        """``(version, digest)`` of version ``version`` of connector ``name`` (the newest when
        None), without reading its files: callers that cache packages by digest ask this first."""
        with self.engine.connect() as connection:
            return self._head(connection, name, version)

    def _head(self, connection: SAConnection, name: str, version: int | None) -> tuple[int, str]:
        if version is None:
            row = connection.execute(_NEWEST_HEAD, {"name": name}).first()
        else:
            row = connection.execute(_HEAD, {"name": name, "version": version}).first()
        if row is None:
            if version is not None and self._connector_exists(connection, name):
                raise NotFoundError(f"connector {name!r} has no version {version}")
            raise NotFoundError(f"no connector named {name!r} in the store")
        return int(row[0]), str(row[1])

    def get_connector(self, name: str, version: int | None = None) -> ConnectorVersion:
        """Version ``version`` of connector ``name`` (the newest when None)."""
        with self._transaction() as session:
            query = (
                select(ConnectorVersionRow)
                .join(ConnectorRow)
                .where(ConnectorRow.name == name)
                .options(selectinload(ConnectorVersionRow.files))
            )
            if version is None:
                query = query.order_by(ConnectorVersionRow.version.desc()).limit(1)
            else:
                query = query.where(ConnectorVersionRow.version == version)
            row = session.scalar(query)
            if row is None:
                if version is not None and self._connector_exists(session, name):
                    raise NotFoundError(f"connector {name!r} has no version {version}")
                raise NotFoundError(f"no connector named {name!r} in the store")
            return ConnectorVersion(
                name=name,
                version=row.version,
                digest=row.digest,
                created_at=row.created_at,
                files={file.path: file.content for file in row.files},
            )

    def connector_versions(self, name: str) -> list[int]:
        """The version numbers stored for connector ``name``, oldest first."""
        with self._transaction() as session:
            versions = list(
                session.scalars(
                    select(ConnectorVersionRow.version)
                    .join(ConnectorRow)
                    .where(ConnectorRow.name == name)
                    .order_by(ConnectorVersionRow.version)
                )
            )
            if not versions:
                raise NotFoundError(f"no connector named {name!r} in the store")
            return versions

    def list_connectors(self) -> list[ConnectorSummary]:
        with self._transaction() as session:
            rows = session.execute(
                select(
                    ConnectorRow.name,
                    ConnectorRow.created_at,
                    func.max(ConnectorVersionRow.version),
                    func.count(ConnectorVersionRow.id),
                    func.max(ConnectorVersionRow.created_at),
                )
                .join(ConnectorVersionRow)
                .group_by(ConnectorRow.id)
                .order_by(ConnectorRow.name)
            ).all()
        return [
            ConnectorSummary(name=name, latest_version=latest, versions=count, created_at=created, updated_at=updated)
            for name, created, latest, count, updated in rows
        ]

    @_writes
    def delete_connector(self, name: str) -> None:
        """Delete connector ``name`` and all its versions. Connections made for it stay (they
        name the connector, which may also live in a folder on disk)."""
        with self._transaction() as session:
            connector = session.scalar(select(ConnectorRow).where(ConnectorRow.name == name))
            if connector is None:
                raise NotFoundError(f"no connector named {name!r} in the store")
            session.delete(connector)

    @staticmethod
    def _connector_exists(session: Session | SAConnection, name: str) -> bool:
        return session.scalar(select(ConnectorRow.id).where(ConnectorRow.name == name)) is not None

    # connections

    def create_connection(
        self,
        connector: str,
        parameters: Mapping[str, Any],
        secret_names: Iterable[str],
        parameter_set: str | None = None,
        redirect_uri: str | None = None,
    ) -> str:
        """Store a connection and return its id. Values of ``parameters`` whose names are in
        ``secret_names`` are sealed; the others are stored as plain JSON. ``redirect_uri`` is the
        one an OAuth sign-in used, kept for refreshes that must send it again."""
        _check_name(connector, "connector name")
        names = set(secret_names)
        plain = {key: value for key, value in parameters.items() if key not in names}
        hidden = {key: value for key, value in parameters.items() if key in names}
        _check_json(plain)
        connection_id = uuid.uuid4().hex
        box = self._secret_box()
        now = self._clock()
        row = ConnectionRow(
            id=connection_id,
            connector=connector,
            parameter_set=parameter_set,
            parameters=plain,
            secret_names=sorted(names),
            secrets=box.seal(hidden, _context(connection_id, "parameters")),
            redirect_uri=redirect_uri,
            created_at=now,
            updated_at=now,
        )
        with self._transaction() as session:
            session.add(row)
        return connection_id

    def get_connection(self, connection_id: str) -> Connection:
        """The connection with its secrets opened; raises :class:`SecretKeyError` for a wrong key."""
        with self.engine.connect() as connection:
            return self._open_connection(connection, connection_id)

    def connection_with_connector(
        self, connection_id: str, *, max_age: float = 0.0
    ) -> tuple[Connection, tuple[int, str]]:
        """The connection (as :meth:`get_connection`) and ``(version, digest)`` of the newest
        version of its connector, read together: what every call needs first.

        With ``max_age`` > 0 an answer read at most that many seconds ago is reused, unless this
        store has written a connector or connection since; changes made by another process are
        seen once the answer is that old."""
        if max_age > 0:
            hit = self._recent.get(connection_id)
            if hit is not None and hit[2] == self._generation and time.monotonic() - hit[3] < max_age:
                return hit[0], hit[1]
        generation = self._generation
        with self.engine.connect() as connection:
            opened = self._open_connection(connection, connection_id)
            head = self._head(connection, opened.connector, None)
        if max_age > 0:
            if len(self._recent) >= RECENT_CONNECTIONS:
                self._recent.clear()
            self._recent[connection_id] = (opened, head, generation, time.monotonic())
        return opened, head

    def _changed(self) -> None:
        """A connector or connection was written: answers kept by :meth:`connection_with_connector` are stale."""
        self._generation += 1

    def _open_connection(self, connection: SAConnection, connection_id: str) -> Connection:
        # Core, not the ORM: this runs on every call, and a plain select costs a third as much.
        row = connection.execute(_CONNECTION, {"id": connection_id}).first()
        if row is None:
            raise NotFoundError(f"no connection with id {connection_id!r} in the store")
        box = self._secret_box()
        hidden: dict[str, Any] = box.open(row.secrets, _context(row.id, "parameters")) if row.secrets else {}
        access = box.open(row.access_token, _context(row.id, "access_token")) if row.access_token else None
        refresh = box.open(row.refresh_token, _context(row.id, "refresh_token")) if row.refresh_token else None
        return Connection(
            id=row.id,
            connector=row.connector,
            parameter_set=row.parameter_set,
            parameters={**row.parameters, **hidden},
            secret_names=tuple(row.secret_names),
            access_token=access,
            refresh_token=refresh,
            token_expires_at=row.token_expires_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            redirect_uri=row.redirect_uri,
        )

    def list_connections(self, connector: str | None = None) -> list[ConnectionSummary]:
        """Connections (of ``connector`` when given), oldest first, without secret values."""
        with self._transaction() as session:
            query = select(ConnectionRow).order_by(ConnectionRow.created_at, ConnectionRow.id)
            if connector is not None:
                query = query.where(ConnectionRow.connector == connector)
            rows = list(session.scalars(query))
        return [_summary(row) for row in rows]

    @_writes
    def update_tokens(
        self,
        connection_id: str,
        access_token: str | None,
        refresh_token: str | None,
        expires_at: datetime | None,
    ) -> None:
        """Replace the connection's OAuth tokens. A ``refresh_token`` of None keeps the stored one,
        since token endpoints often leave it out of a refresh response; ``access_token`` and
        ``expires_at`` are always replaced (None clears them)."""
        box = self._secret_box()
        with self._transaction() as session:
            row = self._connection_row(session, connection_id)
            _set_tokens(row, box, Tokens(access_token, refresh_token, expires_at))
            row.updated_at = self._clock()

    @_writes
    def delete_connection(self, connection_id: str) -> None:
        """Delete the connection and its call history."""
        self.flush()
        with self._transaction() as session:
            row = self._connection_row(session, connection_id)
            session.execute(delete(CallRow).where(CallRow.connection_id == row.id))
            session.delete(row)

    @_writes
    def update_connection(
        self,
        connection_id: str,
        parameters: Mapping[str, Any],
        secret_names: Iterable[str],
        parameter_set: str | None,
        redirect_uri: str | None = None,
        tokens: Tokens | None = None,
    ) -> int:
        """Replace a connection's parameter values and redirect URI (a "Fix connection" re-sign-in
        keeps the id but may come back through another redirect, which later refreshes must send),
        and its OAuth tokens when a sign-in gives new ones (as :meth:`update_tokens` does).

        New credentials are what an ``unauthenticated`` trigger waits for, so the connection's
        triggers in that status become ``active`` (polling ones due now) in the same transaction:
        every way of renewing a connection (a new sign-in from the CLI, the console or the API,
        or new parameter values) reactivates them, with their back-off count (``failures`` in the state) reset. The
        connection's ``credentials_version`` goes up too, so that a 401 of a poll that began
        before cannot make a trigger wait for yet another sign-in. Returns how many were
        reactivated."""
        names = set(secret_names)
        plain = {key: value for key, value in parameters.items() if key not in names}
        hidden = {key: value for key, value in parameters.items() if key in names}
        _check_json(plain)
        box = self._secret_box()
        now = self._clock()
        with self._transaction() as session:
            row = self._connection_row(session, connection_id)
            row.parameter_set = parameter_set
            row.parameters = plain
            row.secret_names = sorted(names)
            row.secrets = box.seal(hidden, _context(row.id, "parameters"))
            row.redirect_uri = redirect_uri
            if tokens is not None:
                _set_tokens(row, box, tokens)
            row.updated_at = now
            row.credentials_version = ConnectionRow.credentials_version + 1  # see _STALE_401
            connection = session.connection()
            waiting = connection.execute(
                select(TriggerRow.id, TriggerRow.state).where(
                    TriggerRow.connection_id == row.id, TriggerRow.status == "unauthenticated"
                )
            ).all()
            reactivated = 0
            for trigger_id, state in waiting:
                reactivated += connection.execute(
                    update(TriggerRow)
                    .where(TriggerRow.id == trigger_id, TriggerRow.status == "unauthenticated")
                    .values(
                        status="active",
                        last_error=None,
                        state=without_failures(state),
                        next_due_at=case((TriggerRow.kind == "polling", now), else_=TriggerRow.next_due_at),
                        updated_at=now,
                    )
                ).rowcount
            return reactivated

    @staticmethod
    def _connection_row(session: Session, connection_id: str) -> ConnectionRow:
        row = session.get(ConnectionRow, connection_id)
        if row is None:
            raise NotFoundError(f"no connection with id {connection_id!r} in the store")
        return row

    # sign-ins

    def create_sign_in(
        self,
        state: str,
        connector: str,
        secrets: Mapping[str, Any],
        *,
        expires_at: datetime,
        parameter_set: str | None = None,
        target_connection_id: str | None = None,
    ) -> None:
        """Store a pending sign-in; ``secrets`` is sealed. Finished sign-ins that expired a day
        ago are deleted on the way, so the table does not grow without bound."""
        _check_name(connector, "connector name")
        box = self._secret_box()
        now = self._clock()
        with self._transaction() as session:
            session.execute(delete(SignInRow).where(SignInRow.expires_at < now - _SIGN_IN_KEEP))
            session.add(
                SignInRow(
                    state=state,
                    connector=connector,
                    parameter_set=parameter_set,
                    target_connection_id=target_connection_id,
                    sealed=box.seal(dict(secrets), _sign_in_context(state)),
                    status="pending",
                    created_at=now,
                    expires_at=expires_at,
                )
            )

    def get_sign_in(self, state: str) -> SignInRecord:
        """The sign-in without its secrets."""
        with self._transaction() as session:
            return _sign_in_record(self._sign_in_row(session, state), {})

    def claim_sign_in(self, state: str, now: datetime) -> SignInRecord:
        """Take a pending sign-in for its code exchange, with its secrets opened. A state can be
        claimed once: a replayed, finished or expired one is an :class:`InputError` (an expired
        one is marked failed first)."""
        box = self._secret_box()
        with self._transaction() as session:
            row = self._sign_in_row(session, state)
            problem: str | None = None
            if row.status != "pending":
                problem = "this sign-in was already used; start a new one"
            elif row.expires_at <= now or row.sealed is None:
                problem = "this sign-in expired; start a new one"
                row.status, row.error, row.sealed = "failed", "the sign-in expired", None
            else:
                row.status = "exchanging"
                secrets = box.open(row.sealed, _sign_in_context(row.state))
                return _sign_in_record(row, secrets)
        raise InputError(problem)

    def finish_sign_in(self, state: str, *, connection_id: str | None = None, error: str | None = None) -> None:
        """Mark a claimed sign-in complete (with the connection it made) or failed (with a
        message free of secrets), and drop its sealed verifier and values."""
        with self._transaction() as session:
            row = self._sign_in_row(session, state)
            row.status = "failed" if error is not None else "complete"
            row.connection_id = connection_id
            row.error = error
            row.sealed = None

    @staticmethod
    def _sign_in_row(session: Session, state: str) -> SignInRow:
        row = session.get(SignInRow, state) if isinstance(state, str) and 0 < len(state) <= 64 else None
        if row is None:
            raise NotFoundError("unknown sign-in state: no sign-in was started with it (or it was purged)")
        return row

    # history

    def record_call(
        self,
        connection_id: str | None,
        operation_id: str,
        request: Request | None,
        status: int | None,
        duration_ms: float,
        error: str | None = None,
        *,
        secrets: Iterable[Any] = (),
        wait: bool = True,
    ) -> int | None:
        """Append a call to history and return its id. Every occurrence of each of ``secrets``
        (and of its URL-encoded and JSON-escaped forms) in the URL, header values, body and error
        is replaced by ``***`` before anything is written; values of Authorization, Cookie and
        similar headers are always masked.

        With ``wait=False`` the redacted entry is queued and written by a background thread in
        batches (None is returned): a call does not wait for the database. :meth:`history`,
        :meth:`flush` and :meth:`close` write the queue first; an entry whose connection was
        deleted meanwhile is dropped. A process killed before the queue is written loses those
        entries, never anything else."""
        forms = secret_strings(secrets)
        method = url = body = None
        headers: list[list[str]] = []
        if request is not None:
            method = request.method.upper()
            url = redact(request.url, forms)
            for name, value in request.headers:
                shown = MASK if name.lower() in SENSITIVE_HEADERS else redact(value, forms)
                headers.append([name, shown])
            body = _body_text(request)
            if body is not None:
                body = _truncate(redact(body, forms))
        values = {
            "connection_id": connection_id,
            "operation_id": operation_id,
            "method": method,
            "url": url,
            "request_headers": headers,
            "request_body": body,
            "status": status,
            "duration_ms": float(duration_ms),
            "error": redact(error, forms) if error is not None else None,
            "created_at": self._clock(),
        }
        if not wait:
            self._history_writer().put(values)
            return None
        # Core insert in one short transaction (every call writes one); the foreign key refuses
        # a connection that does not exist, or was deleted meanwhile.
        try:
            with self.engine.begin() as connection:
                inserted = connection.execute(_INSERT_CALL, values)
        except IntegrityError:
            raise NotFoundError(f"no connection with id {connection_id!r} in the store") from None
        key = inserted.inserted_primary_key
        assert key is not None
        return int(key[0])

    def history(self, connection_id: str | None = None, limit: int = 50) -> list[CallRecord]:
        """The newest ``limit`` calls (of ``connection_id`` when given), newest first."""
        if limit < 1:
            raise InputError(f"history limit must be at least 1, got {limit}")
        self.flush()
        with self._transaction() as session:
            query = select(CallRow).order_by(CallRow.created_at.desc(), CallRow.id.desc()).limit(limit)
            if connection_id is not None:
                query = query.where(CallRow.connection_id == connection_id)
            rows = list(session.scalars(query))
        return [
            CallRecord(
                id=row.id,
                connection_id=row.connection_id,
                operation_id=row.operation_id,
                method=row.method,
                url=row.url,
                request_headers=[(name, value) for name, value in row.request_headers or []],
                request_body=row.request_body,
                status=row.status,
                duration_ms=row.duration_ms,
                error=row.error,
                created_at=row.created_at,
            )
            for row in rows
        ]

    # triggers

    def create_trigger(
        self,
        connection_id: str,
        operation_id: str,
        kind: str,
        arguments: Mapping[str, Any],
        *,
        state: Mapping[str, Any] | None = None,
        callback_digest: str | None = None,
        target_url: str | None = None,
        next_due_at: datetime | None = None,
        listener: str | None = None,
    ) -> TriggerRecord:
        """Store an active trigger of connection ``connection_id`` and return it. ``kind`` is
        ``polling`` or ``webhook``; ``next_due_at`` (default now) is when a polling trigger is
        first due (webhook triggers are never due: pass None for them and nothing claims them).
        ``callback_digest`` is the hash of a webhook's callback token (the token is never stored).
        ``listener`` is the worker id of the ``connectorkit listen`` process the trigger belongs
        to (None: a durable trigger), see :meth:`listener_triggers`."""
        if kind not in TRIGGER_KINDS:
            raise InputError(f"trigger kind must be one of {', '.join(TRIGGER_KINDS)}, got {kind!r}")
        _check_name(operation_id, "trigger operation id")
        _check_json_value({"arguments": dict(arguments), "state": dict(state or {})}, "trigger arguments and state")
        now = self._clock()
        connector = select(ConnectionRow.connector).where(ConnectionRow.id == connection_id).scalar_subquery()
        values = {
            "id": uuid.uuid4().hex,
            "connection_id": connection_id,
            "connector": connector,
            "operation_id": operation_id,
            "kind": kind,
            "arguments": dict(arguments),
            "state": dict(state or {}),
            "callback_digest": callback_digest,
            "target_url": target_url,
            "listener": listener,
            "status": "active",
            "next_due_at": (next_due_at or now) if kind == "polling" else next_due_at,
            "created_at": now,
            "updated_at": now,
        }
        try:
            # One insert (the connector name copied from the connection inside it): a write
            # first, so SQLite takes its write lock before reading anything.
            with self.engine.begin() as connection:
                row = connection.execute(insert(TriggerRow).values(values).returning(*_TRIGGER_COLUMNS)).one()
        except IntegrityError:
            with self.engine.connect() as connection:
                if connection.scalar(select(ConnectionRow.id).where(ConnectionRow.id == connection_id)) is None:
                    raise NotFoundError(f"no connection with id {connection_id!r} in the store") from None
            raise InputError("another trigger already uses this callback token") from None
        return _trigger_record(row)

    def get_trigger(self, trigger_id: str) -> TriggerRecord:
        with self.engine.connect() as connection:
            row = connection.execute(select(*_TRIGGER_COLUMNS).where(TriggerRow.id == trigger_id)).first()
        if row is None:
            raise NotFoundError(f"no trigger with id {trigger_id!r} in the store")
        return _trigger_record(row)

    def trigger_by_callback(self, token_digest: str) -> TriggerRecord | None:
        """The trigger whose callback token hashes to ``token_digest``, or None: a callback is
        checked against its trigger's operation before :meth:`record_callback` stores it."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(*_TRIGGER_COLUMNS).where(TriggerRow.callback_digest == token_digest)
            ).first()
        return None if row is None else _trigger_record(row)

    def forward_targets(self) -> dict[str, str]:
        """``{trigger id: target URL}`` of the triggers that forward their events: what a worker
        delivers every round, read without building a record of every trigger."""
        with self.engine.connect() as connection:
            rows = connection.execute(_FORWARD_TARGETS).all()
        return {str(trigger_id): str(target) for trigger_id, target in rows}

    def next_due_at(self, now: datetime | None = None) -> datetime | None:
        """When the earliest active polling trigger is due (None when there is none): what a
        worker sleeps until, read with one indexed query however many triggers there are. With
        ``now``, triggers leased at ``now`` (being polled) are left out: until their poll commits
        their due time is past, and a worker would otherwise wake at once while its polls run."""
        with self.engine.connect() as connection:
            if now is None:
                return connection.execute(_NEXT_DUE).scalar()
            return connection.execute(_NEXT_FREE_DUE, {"n_now": now}).scalar()

    def list_triggers(
        self, connection_id: str | None = None, connector: str | None = None, status: str | None = None
    ) -> list[TriggerRecord]:
        """Triggers (of the connection / connector / in the status given), oldest first."""
        query = select(*_TRIGGER_COLUMNS).order_by(TriggerRow.created_at, TriggerRow.id)
        if connection_id is not None:
            query = query.where(TriggerRow.connection_id == connection_id)
        if connector is not None:
            query = query.where(TriggerRow.connector == connector)
        if status is not None:
            query = query.where(TriggerRow.status == status)
        with self.engine.connect() as connection:
            return [_trigger_record(row) for row in connection.execute(query)]

    def listener_triggers(self, connection_id: str, operation_id: str) -> list[TriggerRecord]:
        """Triggers of ``connectorkit listen`` processes (``listener`` set) on this connection and
        operation that still run (``active``, ``unauthenticated`` or ``error``; never a stopped
        one), oldest first: what a listener restarted after a kill looks through for the trigger
        its predecessor left. Durable triggers are never among them."""
        query = (
            select(*_TRIGGER_COLUMNS)
            .where(
                TriggerRow.listener.is_not(None),
                TriggerRow.connection_id == connection_id,
                TriggerRow.operation_id == operation_id,
                TriggerRow.status.in_(("active", "unauthenticated", "error")),
            )
            .order_by(TriggerRow.created_at, TriggerRow.id)
        )
        with self.engine.connect() as connection:
            return [_trigger_record(row) for row in connection.execute(query)]

    def adopt_trigger(
        self, trigger_id: str, previous: str, listener: str, *, next_due_at: datetime | None = None
    ) -> TriggerRecord | None:
        """Hand a listener's trigger from the listener ``previous`` (a process that is gone) to
        ``listener``, atomically: None, changing nothing, when its listener is no longer
        ``previous`` (another restarted listener adopted it first). A lease ``previous`` still
        holds (it was killed mid-poll) is released in the same write, so the trigger is polled
        now rather than when that lease expires; a poll of ``previous`` cannot commit any more.
        ``next_due_at`` reschedules a polling trigger."""
        values: dict[str, Any] = {
            "listener": listener,
            "lease_owner": case((TriggerRow.lease_owner == previous, None), else_=TriggerRow.lease_owner),
            "lease_expires_at": case((TriggerRow.lease_owner == previous, None), else_=TriggerRow.lease_expires_at),
            "updated_at": self._clock(),
        }
        if next_due_at is not None:
            values["next_due_at"] = next_due_at
        statement = update(TriggerRow).where(TriggerRow.id == trigger_id, TriggerRow.listener == previous)
        with self.engine.begin() as connection:
            row = connection.execute(statement.values(values).returning(*_TRIGGER_COLUMNS)).first()
        return None if row is None else _trigger_record(row)

    def pending_count(self, trigger_id: str) -> int:
        """How many of the trigger's events are not delivered yet."""
        query = select(func.count()).where(
            TriggerEventRow.trigger_id == trigger_id, TriggerEventRow.delivered_at.is_(None)
        )
        with self.engine.connect() as connection:
            return int(connection.scalar(query) or 0)

    def delete_trigger(self, trigger_id: str) -> TriggerRecord:
        """Delete the trigger and its events; returns what it was (a webhook's subscription
        Location is in its ``state``, for the caller that still has to unsubscribe)."""
        with self.engine.begin() as connection:
            row = connection.execute(
                delete(TriggerRow).where(TriggerRow.id == trigger_id).returning(*_TRIGGER_COLUMNS)
            ).first()
        if row is None:
            raise NotFoundError(f"no trigger with id {trigger_id!r} in the store")
        return _trigger_record(row)

    def set_trigger_status(
        self,
        trigger_id: str,
        status: str,
        error: str | None = None,
        *,
        next_due_at: datetime | None = None,
        state: Mapping[str, Any] | None = None,
        callback_digest: str | None = None,
    ) -> TriggerRecord:
        """Set the status (``active``, ``stopped``, ``unauthenticated``, ``error``) and last error
        (None clears it). ``next_due_at`` reschedules a polling trigger, e.g. when reactivating it.
        ``state`` and ``callback_digest``, when given, are replaced in the same write: a webhook
        paused without its subscription, or resumed with a new callback token, never shows the
        new status with the old subscription."""
        if status not in TRIGGER_STATUSES:
            raise InputError(f"trigger status must be one of {', '.join(TRIGGER_STATUSES)}, got {status!r}")
        values: dict[str, Any] = {"status": status, "last_error": error}
        if next_due_at is not None:
            values["next_due_at"] = next_due_at
        if state is not None:
            _check_json_value(dict(state), "trigger state")
            values["state"] = dict(state)
        if callback_digest is not None:
            values["callback_digest"] = callback_digest
        try:
            return self._update_trigger(trigger_id, values)
        except IntegrityError:
            raise InputError("another trigger already uses this callback token") from None

    def callback_digest(self, trigger_id: str) -> str | None:
        """The digest of the trigger's callback token (None for none): what a failed resubscribe
        puts back, so the callback URL of the subscription still live keeps working."""
        with self.engine.connect() as connection:
            row = connection.execute(select(TriggerRow.callback_digest).where(TriggerRow.id == trigger_id)).first()
        if row is None:
            raise NotFoundError(f"no trigger with id {trigger_id!r} in the store")
        return row[0]

    def save_trigger_state(self, trigger_id: str, state: Mapping[str, Any]) -> TriggerRecord:
        """Replace a trigger's state outside a poll, e.g. a webhook's subscription Location once
        the subscribe call answered (the trigger is created first: its callback URL is needed)."""
        _check_json_value(dict(state), "trigger state")
        return self._update_trigger(trigger_id, {"state": dict(state)})

    def _update_trigger(self, trigger_id: str, values: dict[str, Any]) -> TriggerRecord:
        statement = update(TriggerRow).where(TriggerRow.id == trigger_id).values(**values, updated_at=self._clock())
        with self.engine.begin() as connection:
            row = connection.execute(statement.returning(*_TRIGGER_COLUMNS)).first()
        if row is None:
            raise NotFoundError(f"no trigger with id {trigger_id!r} in the store")
        return _trigger_record(row)

    def claim_due_triggers(
        self, worker_id: str, now: datetime, lease_seconds: float, limit: int = 50, *, trigger_id: str | None = None
    ) -> list[TriggerRecord]:
        """Lease up to ``limit`` active triggers due at ``now`` (most overdue first) whose lease is
        free or expired, for ``lease_seconds``, to ``worker_id`` (unique per worker process);
        ``trigger_id`` claims that one trigger only (when it is due and free), so that a process
        running one trigger of its own (``connectorkit listen``) leaves every other one alone.

        Atomic: two workers never claim the same trigger. PostgreSQL locks the chosen rows with
        ``SELECT ... FOR UPDATE SKIP LOCKED`` (a concurrent worker takes others instead of
        waiting); SQLite runs one ``UPDATE ... WHERE id IN (SELECT ...) RETURNING``, whose first
        step takes the database's single write lock, so the choice and the claim cannot interleave
        with another writer."""
        _check_worker(worker_id)
        if limit < 1 or lease_seconds <= 0:
            raise InputError(f"claim needs limit >= 1 and lease_seconds > 0, got {limit} and {lease_seconds}")
        values: dict[str, Any] = {
            "c_now": now, "c_limit": limit, "c_owner": worker_id, "c_expires": now + timedelta(seconds=lease_seconds)
        }  # fmt: skip
        with self.engine.begin() as connection:
            # The statements are built once (module level); the claim returns the claimed rows.
            if trigger_id is not None:
                values["c_trigger"] = trigger_id
            if connection.dialect.name == "sqlite":
                rows = connection.execute(_CLAIM_DUE if trigger_id is None else _CLAIM_ONE, values).all()
            else:
                ids = list(connection.scalars(_DUE_LOCKED if trigger_id is None else _ONE_LOCKED, values))
                rows = connection.execute(_CLAIM_IDS, {**values, "c_ids": ids}).all() if ids else []
        records = [_trigger_record(row) for row in rows]
        return sorted(records, key=lambda record: (record.next_due_at or now, record.id))

    def renew_lease(self, trigger_id: str, worker_id: str, now: datetime, lease_seconds: float) -> datetime:
        """Extend ``worker_id``'s lease on the trigger to ``now + lease_seconds`` and return the new
        expiry; :class:`LeaseLostError` when the lease is no longer this worker's."""
        expires = now + timedelta(seconds=lease_seconds)
        with self.engine.begin() as connection:
            self._take_lease(connection, trigger_id, worker_id, lease_owner=worker_id, lease_expires_at=expires)
        return expires

    def release(self, trigger_id: str, worker_id: str) -> bool:
        """Give up ``worker_id``'s lease without polling (say, on shutdown): the trigger becomes
        claimable at once. False when the lease was not this worker's (nothing changes)."""
        with self.engine.begin() as connection:
            released = connection.execute(
                update(TriggerRow)
                .where(TriggerRow.id == trigger_id, TriggerRow.lease_owner == worker_id)
                .values(lease_owner=None, lease_expires_at=None)
            )
            return bool(released.rowcount)

    def release_leases(self, worker_id: str, *, deliveries: bool = False) -> int:
        """Release every polling lease ``worker_id`` holds (a clean shutdown); returns how many.
        ``deliveries`` releases its delivery leases too: only for a process restarted under the
        id of one that died (a live one may be POSTing under them)."""
        with self.engine.begin() as connection:
            released = connection.execute(
                update(TriggerRow)
                .where(TriggerRow.lease_owner == worker_id)
                .values(lease_owner=None, lease_expires_at=None)
            )
            if deliveries:
                connection.execute(
                    update(TriggerRow)
                    .where(TriggerRow.delivery_owner == worker_id)
                    .values(delivery_owner=None, delivery_expires_at=None)
                )
            return int(released.rowcount)

    def claim_delivery(self, trigger_id: str, worker_id: str, now: datetime, lease_seconds: float) -> bool:
        """Take the trigger's delivery lease for ``worker_id`` until ``now + lease_seconds``: True
        when it was free or expired (one conditional ``UPDATE``, so two workers never both get
        it), False when another worker holds it (or the same id in another thread). The holder
        alone POSTs the trigger's pending events; it renews the lease before each POST
        (:meth:`renew_delivery`) and releases it when done (:meth:`release_delivery`), so an
        event is POSTed twice only when a holder died with it in flight."""
        _check_worker(worker_id)
        values = {"delivery_owner": worker_id, "delivery_expires_at": now + timedelta(seconds=lease_seconds)}
        statement = update(TriggerRow).where(
            TriggerRow.id == trigger_id,
            or_(TriggerRow.delivery_owner.is_(None), TriggerRow.delivery_expires_at <= now),
        )
        with self.engine.begin() as connection:
            return connection.execute(statement.values(values)).rowcount == 1

    def renew_delivery(self, trigger_id: str, worker_id: str, now: datetime, lease_seconds: float) -> bool:
        """Extend ``worker_id``'s delivery lease to ``now + lease_seconds``; False (nothing
        changes) when it no longer holds it: it must not POST any more."""
        statement = update(TriggerRow).where(TriggerRow.id == trigger_id, TriggerRow.delivery_owner == worker_id)
        with self.engine.begin() as connection:
            renewed = connection.execute(statement.values(delivery_expires_at=now + timedelta(seconds=lease_seconds)))
            return renewed.rowcount == 1

    def release_delivery(self, trigger_id: str, worker_id: str) -> bool:
        """Give back ``worker_id``'s delivery lease; False when it did not hold it."""
        statement = update(TriggerRow).where(TriggerRow.id == trigger_id, TriggerRow.delivery_owner == worker_id)
        with self.engine.begin() as connection:
            return connection.execute(statement.values(delivery_owner=None, delivery_expires_at=None)).rowcount == 1

    def commit_poll(
        self,
        trigger_id: str,
        worker_id: str,
        new_state: Mapping[str, Any],
        events: Sequence[EventData],
        next_due_at: datetime,
        *,
        error: str | None = None,
        status: str | None = None,
    ) -> list[EventRecord]:
        """Record one poll in one transaction: store ``events`` whose keys this trigger has not
        stored yet (exactly-once by key: a replayed poll adds nothing), save ``new_state``, set
        ``next_due_at``, the last error (None clears it) and, when given, the status; release the
        lease. Returns the newly stored events, oldest first.

        A status ``unauthenticated`` is not written when the connection's ``credentials_version``
        changed since the lease was taken (a new sign-in while the poll ran): the trigger keeps its
        status, records the error and is due at once, to poll with the new credentials.

        Refused with :class:`LeaseLostError`, writing nothing, when the lease is no longer
        ``worker_id``'s: its lease expired and another worker took the trigger over, whose poll
        (from the same state) is the one that counts."""
        if status is not None and status not in TRIGGER_STATUSES:
            raise InputError(f"trigger status must be one of {', '.join(TRIGGER_STATUSES)}, got {status!r}")
        _check_json_value(dict(new_state), "trigger state")
        values = {
            "t_id": trigger_id,
            "t_owner": worker_id,
            "t_state": dict(new_state),
            "t_due": next_due_at,
            "t_error": error,
            "t_now": self._clock(),
            "t_status": status,
        }
        with self.engine.begin() as connection:
            # The lease check is the first statement: it takes SQLite's write lock and
            # PostgreSQL's row lock before anything is read, so no claim can slip in between.
            if connection.execute(_COMMIT_POLL, values).rowcount != 1:
                self._lease_lost(connection, trigger_id, worker_id)
            return self._insert_events(connection, trigger_id, events, ()) if events else []

    def record_callback(
        self, token_digest: str, events: Sequence[EventData], problems: Sequence[str] = ()
    ) -> tuple[TriggerRecord, list[EventRecord]]:
        """Store the events of a webhook callback for the trigger whose callback token hashes to
        ``token_digest``, skipping keys already stored (a retried callback adds nothing).
        ``problems`` (say, where the payload departs from the declared schema) are kept with each
        event, as are each event's own ``problems``. :class:`NotFoundError` for an unknown digest
        or a ``stopped`` trigger (checked in the same statement, so a callback racing a pause is
        refused too): the caller answers 404 and nothing is recorded."""
        with self.engine.begin() as connection:
            # Touching the trigger first takes SQLite's write lock (and PostgreSQL's row lock)
            # before anything is read, so concurrent callbacks queue instead of failing.
            row = connection.execute(
                update(TriggerRow)
                .where(TriggerRow.callback_digest == token_digest, TriggerRow.status != "stopped")
                .values(updated_at=self._clock())
                .returning(*_TRIGGER_COLUMNS)
            ).first()
            if row is None:
                raise NotFoundError("no trigger has this callback token")
            return _trigger_record(row), self._insert_events(connection, row.id, events, problems)

    def pending_events(self, trigger_id: str | None = None, limit: int = 100) -> list[EventRecord]:
        """Events not delivered yet (of ``trigger_id``, else of every trigger), oldest first."""
        _check_limit(limit)
        query = select(TriggerEventRow.__table__).where(TriggerEventRow.delivered_at.is_(None))
        if trigger_id is not None:
            query = query.where(TriggerEventRow.trigger_id == trigger_id)
        with self.engine.connect() as connection:
            return [_event_record(row) for row in connection.execute(query.order_by(TriggerEventRow.id).limit(limit))]

    def mark_delivered(self, event_ids: Iterable[int], now: datetime | None = None) -> int:
        """Mark events delivered (to a forward target or a reader) and count one more attempt;
        events already delivered keep their first time. Returns how many were newly marked."""
        ids = sorted(set(event_ids))
        if not ids:
            return 0
        stamp = now or self._clock()
        with self.engine.begin() as connection:
            marked = connection.execute(
                update(TriggerEventRow)
                .where(TriggerEventRow.id.in_(ids), TriggerEventRow.delivered_at.is_(None))
                .values(delivered_at=stamp, attempts=TriggerEventRow.attempts + 1)
            )
            return int(marked.rowcount)

    def record_attempts(self, event_ids: Iterable[int]) -> None:
        """Count a failed delivery attempt of each event (forwarding retries back off on it)."""
        ids = sorted(set(event_ids))
        if ids:
            with self.engine.begin() as connection:
                connection.execute(
                    update(TriggerEventRow)
                    .where(TriggerEventRow.id.in_(ids))
                    .values(attempts=TriggerEventRow.attempts + 1)
                )

    def events(self, trigger_id: str, since_id: int = 0, limit: int = 100) -> list[EventRecord]:
        """The trigger's events with ids above ``since_id``, oldest first: a reader pages with the
        last id it saw."""
        _check_limit(limit)
        query = (
            select(TriggerEventRow.__table__)
            .where(TriggerEventRow.trigger_id == trigger_id, TriggerEventRow.id > since_id)
            .order_by(TriggerEventRow.id)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            if connection.scalar(select(TriggerRow.id).where(TriggerRow.id == trigger_id)) is None:
                raise NotFoundError(f"no trigger with id {trigger_id!r} in the store")
            return [_event_record(row) for row in connection.execute(query)]

    @staticmethod
    def _take_lease(connection: SAConnection, trigger_id: str, worker_id: str, **values: Any) -> None:
        """Update the trigger only while ``worker_id`` holds its lease, else raise."""
        changed = connection.execute(
            update(TriggerRow).where(TriggerRow.id == trigger_id, TriggerRow.lease_owner == worker_id).values(**values)
        )
        if changed.rowcount == 1:
            return
        Store._lease_lost(connection, trigger_id, worker_id)

    @staticmethod
    def _lease_lost(connection: SAConnection, trigger_id: str, worker_id: str) -> NoReturn:
        """Raise what became of a lease ``worker_id`` no longer holds."""
        owner = connection.execute(select(TriggerRow.lease_owner).where(TriggerRow.id == trigger_id)).first()
        if owner is None:
            raise NotFoundError(f"no trigger with id {trigger_id!r} in the store")
        raise LeaseLostError(
            f"worker {worker_id!r} no longer holds the lease on trigger {trigger_id!r} "
            f"(now {'held by ' + repr(owner[0]) if owner[0] else 'free'}); its poll is discarded"
        )

    def _insert_events(
        self, connection: SAConnection, trigger_id: str, events: Sequence[EventData], problems: Sequence[str]
    ) -> list[EventRecord]:
        """Insert the events whose keys the trigger does not have yet; the unique (trigger, key)
        constraint settles races (``ON CONFLICT DO NOTHING``), so a concurrent duplicate is
        skipped rather than failing the transaction."""
        fresh: dict[str, dict[str, Any]] = {}
        now = self._clock()
        dialect = connection.dialect.name
        for event in events:
            key = _event_key(event.key)
            if key in fresh:
                continue
            body = event.body
            _check_json_value(body, "event body")
            fresh[key] = {
                "trigger_id": trigger_id,
                "event_key": key,
                "body": body,
                "problems": [*problems, *(str(p) for p in getattr(event, "problems", ()))],
                "received_at": now,
                "delivered_at": None,
                "attempts": 0,
            }
        keys = list(fresh)
        for start in range(0, len(keys) if dialect not in ("sqlite", "postgresql") else 0, _CHUNK):
            chunk = keys[start : start + _CHUNK]  # without ON CONFLICT: leave out the keys stored already
            seen = connection.scalars(
                select(TriggerEventRow.event_key).where(
                    TriggerEventRow.trigger_id == trigger_id, TriggerEventRow.event_key.in_(chunk)
                )
            )
            for key in seen:
                fresh.pop(key, None)
        rows = list(fresh.values())
        if not rows:
            return []
        # executemany: SQLAlchemy sends multi-row INSERT ... RETURNING batches, compiled once.
        inserted = [_event_record(row) for row in connection.execute(_insert_ignoring_duplicates(dialect), rows)]
        return sorted(inserted, key=lambda event: event.id)


class Tokens(NamedTuple):
    """A connection's OAuth tokens as a sign-in or refresh gives them."""

    access_token: str | None
    refresh_token: str | None
    expires_at: datetime | None


def _set_tokens(row: ConnectionRow, box: SecretBox, tokens: Tokens) -> None:
    """Seal ``tokens`` into the row: a refresh token of None keeps the stored one (token
    endpoints often leave it out of a refresh response); the rest is always replaced."""
    row.access_token = (
        box.seal(tokens.access_token, _context(row.id, "access_token")) if tokens.access_token is not None else None
    )
    if tokens.refresh_token is not None:
        row.refresh_token = box.seal(tokens.refresh_token, _context(row.id, "refresh_token"))
    row.token_expires_at = tokens.expires_at


class _HistoryWriter:
    """Writes queued history entries in batches on its own thread."""

    BATCH = 500
    LINGER = 0.2
    """Seconds the writer waits after the first entry of a batch for more to arrive: one
    transaction for a burst of calls, and a thread that wakes a few times a second instead of
    once per call, where it would compete with the callers for the GIL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._hurry = threading.Event()
        self.thread = threading.Thread(target=self._run, name="connectorkit-history", daemon=True)
        self.thread.start()
        atexit.register(self.stop)

    def put(self, values: dict[str, Any]) -> None:
        self.queue.put(values)

    def flush(self) -> None:
        self._hurry.set()
        self.queue.join()

    def stop(self) -> None:
        if self.thread.is_alive():
            self._hurry.set()
            self.queue.put(None)
            self.thread.join()
        atexit.unregister(self.stop)

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is not None and self._hurry.wait(self.LINGER):
                self._hurry.clear()
            batch = [first]
            while first is not None and len(batch) < self.BATCH:
                try:
                    batch.append(self.queue.get_nowait())
                except queue.Empty:
                    break
                if batch[-1] is None:
                    break
            rows = [row for row in batch if row is not None]
            try:
                self._write(rows)
            finally:
                for _ in batch:
                    self.queue.task_done()
            if batch[-1] is None:
                return

    def _write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(_INSERT_CALL, rows)
        except IntegrityError:
            # A connection was deleted meanwhile: keep every entry that still has one.
            for row in rows:
                try:
                    with self.engine.begin() as connection:
                        connection.execute(_INSERT_CALL, row)
                except IntegrityError:
                    log.debug("history entry dropped: its connection was deleted")
        except Exception:  # the thread must go on; the calls themselves succeeded
            log.warning("could not write %d history entries", len(rows), exc_info=True)


# triggers

TRIGGER_KINDS = ("polling", "webhook")
TRIGGER_STATUSES = ("active", "stopped", "unauthenticated", "error")
_CHUNK = 200  # rows or keys per statement: far below SQLite's limit on bound parameters
_MAX_KEY = 255
_TRIGGER_COLUMNS = tuple(TriggerRow.__table__.c)
_UTC = TriggerRow.__table__.c.next_due_at.type
_DUE = (
    select(TriggerRow.id)
    .where(
        TriggerRow.status == "active",
        TriggerRow.next_due_at <= bindparam("c_now", type_=_UTC),
        or_(TriggerRow.lease_owner.is_(None), TriggerRow.lease_expires_at <= bindparam("c_now", type_=_UTC)),
    )
    .order_by(TriggerRow.next_due_at, TriggerRow.id)
    .limit(bindparam("c_limit"))
)
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True)
_LEASE = update(TriggerRow).values(
    lease_owner=bindparam("c_owner", type_=String()),
    lease_expires_at=bindparam("c_expires", type_=_UTC),
    lease_credentials=_CREDENTIALS_NOW,
)
_CLAIM_DUE = _LEASE.where(TriggerRow.id.in_(_DUE.scalar_subquery())).returning(*_TRIGGER_COLUMNS)
_CLAIM_IDS = _LEASE.where(TriggerRow.id.in_(bindparam("c_ids", expanding=True))).returning(*_TRIGGER_COLUMNS)
"""The claim of due triggers, built once: SQLite's one ``UPDATE ... WHERE id IN (SELECT ...)``,
PostgreSQL's ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE`` of the ids it locked."""
_DUE_ONE = _DUE.where(TriggerRow.id == bindparam("c_trigger", type_=String()))
_ONE_LOCKED = _DUE_ONE.with_for_update(skip_locked=True)
_CLAIM_ONE = _LEASE.where(TriggerRow.id.in_(_DUE_ONE.scalar_subquery())).returning(*_TRIGGER_COLUMNS)
"""The same claims for one trigger only (``claim_due_triggers(..., trigger_id=...)``)."""
_NEXT_FREE_DUE = _NEXT_DUE.where(
    or_(TriggerRow.lease_owner.is_(None), TriggerRow.lease_expires_at <= bindparam("n_now", type_=_UTC))
)


class LeaseLostError(ConnectorkitError):
    """A worker wrote to a trigger whose lease it no longer holds (it expired and another worker
    took the trigger over, or it was released): the write is refused and nothing changes."""


class EventData(Protocol):
    """What the store needs of an event: a stable key (exactly-once is by key) and a JSON body.
    An optional ``problems`` attribute (a sequence of strings) is stored with it."""

    @property
    def key(self) -> str: ...

    @property
    def body(self) -> Any: ...


@dataclass(frozen=True)
class NewEvent:
    """An event to store, when the caller has no event type of its own."""

    key: str
    body: Any
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class TriggerRecord:
    """A stored trigger. ``state`` is the poll cursor (or a webhook's subscription Location);
    ``has_callback`` says a callback token is registered (only its digest is stored)."""

    id: str
    connection_id: str
    connector: str
    operation_id: str
    kind: str
    arguments: dict[str, Any]
    state: dict[str, Any]
    has_callback: bool
    target_url: str | None
    status: str
    last_error: str | None
    next_due_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    listener: str | None = None
    """The worker id of the ``connectorkit listen`` process the trigger belongs to; None for a
    durable trigger."""


@dataclass(frozen=True)
class EventRecord:
    """A stored trigger event."""

    id: int
    trigger_id: str
    key: str
    body: Any
    problems: list[str]
    received_at: datetime
    delivered_at: datetime | None
    attempts: int


def without_failures(state: Mapping[str, Any]) -> dict[str, Any]:
    """A poll state with its back-off count reset (``failures`` 0, when it has one): what a
    reactivated trigger starts from, so its next failure waits the shortest back-off again."""
    return {**state, "failures": 0} if "failures" in state else dict(state)


def _trigger_record(row: Any) -> TriggerRecord:
    """From an ORM row or a Core result row (both name the columns as attributes)."""
    return TriggerRecord(
        id=row.id,
        connection_id=row.connection_id,
        connector=row.connector,
        operation_id=row.operation_id,
        kind=row.kind,
        arguments=dict(row.arguments),
        state=dict(row.state),
        has_callback=row.callback_digest is not None,
        target_url=row.target_url,
        status=row.status,
        last_error=row.last_error,
        next_due_at=row.next_due_at,
        lease_owner=row.lease_owner,
        lease_expires_at=row.lease_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        listener=row.listener,
    )


def _event_record(row: Any) -> EventRecord:
    return EventRecord(
        id=row.id,
        trigger_id=row.trigger_id,
        key=row.event_key,
        body=row.body,
        problems=list(row.problems),
        received_at=row.received_at,
        delivered_at=row.delivered_at,
        attempts=row.attempts,
    )


def _event_key(key: str) -> str:
    """Keys longer than the column are replaced by their SHA-256, which keeps them stable."""
    if not isinstance(key, str) or not key:
        raise InputError(f"an event key must be a non-empty string, got {key!r}")
    if len(key) > _MAX_KEY:
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def _check_worker(worker_id: str) -> None:
    if not isinstance(worker_id, str) or not 0 < len(worker_id) <= 64:
        raise InputError(f"worker id must be 1 to 64 characters, got {worker_id!r}")


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise InputError(f"event limit must be at least 1, got {limit}")


def _check_json_value(value: Any, what: str) -> None:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"{what} must be JSON values: {error}") from None


_INSERT_EVENTS: dict[str, Executable] = {
    "postgresql": postgresql_insert(TriggerEventRow).on_conflict_do_nothing().returning(*TriggerEventRow.__table__.c),
    "sqlite": sqlite_insert(TriggerEventRow).on_conflict_do_nothing().returning(*TriggerEventRow.__table__.c),
}


def _insert_ignoring_duplicates(dialect: str) -> Executable:
    """An insert of events (run with many rows) that skips (trigger, key) pairs already stored
    and returns the rows it did insert: one round trip, no lookup of stored keys before and none
    of the rows after. Other databases get a plain insert: the keys were filtered just before,
    and a racing duplicate fails the transaction."""
    statement = _INSERT_EVENTS.get(dialect)
    return insert(TriggerEventRow).returning(*TriggerEventRow.__table__.c) if statement is None else statement


def open_store(url: str | None = None, *, environ: Mapping[str, str] | None = None) -> Store:
    """The store the CLI and server use: ``url`` (from ``--db``), else ``CONNECTORKIT_DB``, else
    the user data directory; the key from ``CONNECTORKIT_SECRET_KEY`` or the key file."""
    return Store(url, environ=environ)


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise InputError(f"{what} must be 1 to 255 characters, got {name!r}")


def _check_json(value: Any) -> None:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"connection parameters must be JSON values: {error}") from None


def _digest(files: Mapping[str, bytes]) -> str:
    hasher = hashlib.sha256()
    for path in sorted(files):
        encoded = path.encode()
        hasher.update(len(encoded).to_bytes(8, "big") + encoded)
        hasher.update(len(files[path]).to_bytes(8, "big") + bytes(files[path]))
    return hasher.hexdigest()


_SIGN_IN_KEEP = timedelta(days=1)


def _sign_in_context(state: str) -> str:
    return f"sign_in:{state}"


def _sign_in_record(row: SignInRow, secrets: dict[str, Any]) -> SignInRecord:
    return SignInRecord(
        state=row.state,
        connector=row.connector,
        parameter_set=row.parameter_set,
        target_connection_id=row.target_connection_id,
        status=row.status,
        connection_id=row.connection_id,
        error=row.error,
        created_at=row.created_at,
        expires_at=row.expires_at,
        secrets=secrets,
    )


def _context(connection_id: str, field_name: str) -> str:
    return f"connection:{connection_id}:{field_name}"


def _summary(row: ConnectionRow) -> ConnectionSummary:
    return ConnectionSummary(
        id=row.id,
        connector=row.connector,
        parameter_set=row.parameter_set,
        parameters=dict(row.parameters),
        secret_names=tuple(row.secret_names),
        has_access_token=row.access_token is not None,
        has_refresh_token=row.refresh_token is not None,
        token_expires_at=row.token_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        redirect_uri=row.redirect_uri,
    )


def _body_text(request: Request) -> str | None:
    if request.has_json or request.json is not None:
        text = json.dumps(request.json, ensure_ascii=False)
    elif request.form is not None:
        text = json.dumps([[name, value if isinstance(value, str) else repr(value)] for name, value in request.form])
    elif request.content is not None:
        text = request.content.decode("utf-8", "replace")
    else:
        return None
    return text


def _truncate(text: str) -> str:
    if len(text) > MAX_BODY_CHARS:
        return text[:MAX_BODY_CHARS] + f"... ({len(text) - MAX_BODY_CHARS} more characters)"
    return text
