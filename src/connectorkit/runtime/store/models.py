"""The store's tables (SQLAlchemy 2 declarative). Migrations in ``migrations/versions`` create
them; keep the two in step (a test compares them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no zone of its own)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ConnectorRow(Base):
    __tablename__ = "connectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    versions: Mapped[list[ConnectorVersionRow]] = relationship(
        back_populates="connector", cascade="all, delete-orphan", order_by="ConnectorVersionRow.version"
    )


class ConnectorVersionRow(Base):
    __tablename__ = "connector_versions"
    __table_args__ = (UniqueConstraint("connector_id", "version", name="uq_connector_versions_connector_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    connector: Mapped[ConnectorRow] = relationship(back_populates="versions")
    files: Mapped[list[ConnectorFileRow]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="ConnectorFileRow.path"
    )


class ConnectorFileRow(Base):
    __tablename__ = "connector_files"
    __table_args__ = (UniqueConstraint("version_id", "path", name="uq_connector_files_version_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("connector_versions.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(1024))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[ConnectorVersionRow] = relationship(back_populates="files")


class ConnectionRow(Base):
    __tablename__ = "connections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    connector: Mapped[str] = mapped_column(String(255), index=True)
    parameter_set: Mapped[str | None] = mapped_column(String(255))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    secret_names: Mapped[list[str]] = mapped_column(JSON)
    secrets: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    redirect_uri: Mapped[str | None] = mapped_column(Text)
    """The redirect URI of the sign-in that made the connection (not a secret): some token
    endpoints check it again on refresh (``oauth2generic``'s ``{RedirectUrl}``)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    credentials_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Counts new credentials (a new sign-in or new parameter values; not a token refresh): a
    poll that began under an older version cannot make a trigger ``unauthenticated``."""


class CallRow(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connection_id: Mapped[str | None] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[str] = mapped_column(String(255))
    method: Mapped[str | None] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(Text)
    request_headers: Mapped[list[list[str]] | None] = mapped_column(JSON)
    request_body: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SignInRow(Base):
    """A pending OAuth sign-in. It lives in the database because the process that begins a
    sign-in (the CLI) and the one that receives the redirect (``connectorkit serve``) differ."""

    __tablename__ = "sign_ins"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    connector: Mapped[str] = mapped_column(String(255))
    parameter_set: Mapped[str | None] = mapped_column(String(255))
    target_connection_id: Mapped[str | None] = mapped_column(String(32))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    connection_id: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class TriggerRow(Base):
    """A durable trigger: a polling trigger's cursor or a webhook subscription, with the lease a
    worker holds while it polls (so two workers never poll the same trigger at once)."""

    __tablename__ = "triggers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"), index=True)
    connector: Mapped[str] = mapped_column(String(255), index=True)
    operation_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    callback_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    """SHA-256 of the webhook callback token; the token itself is never stored."""
    target_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    listener: Mapped[str | None] = mapped_column(String(64))
    """The worker id (``host:pid:random``) of the ``connectorkit listen`` process that made the
    trigger and runs it; None for a durable trigger (API, console, ``trigger`` commands). A
    listener killed before it could delete its trigger is resumed by the next one through it."""
    lease_credentials: Mapped[int | None] = mapped_column(Integer)
    """The connection's ``credentials_version`` when the current lease was taken (the poll's
    start): a 401 found with credentials replaced since then leaves the trigger active."""
    delivery_owner: Mapped[str | None] = mapped_column(String(64))
    delivery_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The delivery lease: the worker forwarding the trigger's events holds it while it POSTs,
    so that two workers never send the same event (apart from the polling lease, which a poll
    holds at the same time)."""


class TriggerEventRow(Base):
    """An event a trigger produced. The unique (trigger, key) pair is what makes delivery
    exactly-once: an event seen again (a replayed poll, a retried callback) is not stored twice."""

    __tablename__ = "trigger_events"
    __table_args__ = (UniqueConstraint("trigger_id", "event_key", name="uq_trigger_events_trigger_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger_id: Mapped[str] = mapped_column(ForeignKey("triggers.id", ondelete="CASCADE"), index=True)
    event_key: Mapped[str] = mapped_column(String(255))
    body: Mapped[Any] = mapped_column(JSON, nullable=True)
    problems: Mapped[list[str]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
