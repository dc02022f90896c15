"""The local store: connectors with their versions, connections with sealed secrets, call history.

SQLAlchemy 2 over SQLite in the user data directory by default (``--db URL`` or
``CONNECTORKIT_DB`` for another database), schema managed by Alembic and upgraded on open.
"""

from __future__ import annotations

from connectorkit.runtime.store.db import DB_ENV, StoreError, data_dir, resolve_url
from connectorkit.runtime.store.repository import (
    CallRecord,
    Connection,
    ConnectionSummary,
    ConnectorSummary,
    ConnectorVersion,
    NotFoundError,
    Store,
    open_store,
)
from connectorkit.runtime.store.secrets import KEY_ENV, MASK, SecretKeyError, generate_key, redact, secret_strings

__all__ = [
    "DB_ENV",
    "KEY_ENV",
    "MASK",
    "CallRecord",
    "Connection",
    "ConnectionSummary",
    "ConnectorSummary",
    "ConnectorVersion",
    "NotFoundError",
    "SecretKeyError",
    "Store",
    "StoreError",
    "data_dir",
    "generate_key",
    "open_store",
    "redact",
    "resolve_url",
    "secret_strings",
]
