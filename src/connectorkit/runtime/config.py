"""Settings of the local hosting environment: the engine's limits and the choices the platform's
documentation leaves open.

They are read from a TOML table, first found wins:

1. the file given with ``--config`` (or :func:`load_runtime_config`'s ``path``);
2. the file named by ``CONNECTORKIT_CONFIG``;
3. ``connectorkit.toml`` in the current folder;
4. ``config.toml`` in the user data folder (next to the default database).

In the folder and user files only a file that has the table counts (a ``connectorkit.toml`` that
holds only ``[lint]`` settings is passed over).

The table is ``[runtime]`` (``[tool.connectorkit.runtime]`` is also read from a ``pyproject.toml``
given explicitly)::

    [runtime]
    timeout = 120              # seconds per backend call (the platform's limit)
    retries = 4                # retries on 408, 429 and 5xx
    backoff = 1.0              # seconds before the first retry, doubled each time
    max_response_bytes = 104857600
    max_pages = 50             # --all-pages stops here
    throttle_per_minute = 500  # per connection, answered with the platform's 429 body
    path_encoding = "gateway"  # or "client"                       [inferred]
    refresh_on_401 = true      # refresh an OAuth token once when the backend answers 401
    token_refresh_skew = 60    # seconds before expiry a token is refreshed
    connection_cache_seconds = 1.0  # reuse a connection read this recently (0: read every call)

    [runtime.policies]          # every choice here is [inferred]; see PolicyOptions
    header_append = "join"      # or "repeat"
    query_append = "repeat"     # or "join"
    failure_runs_response = true
    dynamic_host_replaces_base_path = true
    strip_value_quotes = true
    strict = false
    strip_trigger_prefix = true

An unknown key or a value of the wrong type is an input error naming the file and the key, so a
typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin

from connectorkit.errors import InputError
from connectorkit.runtime.invoke import THROTTLE_LIMIT, EngineOptions
from connectorkit.runtime.policies import PolicyOptions

CONFIG_ENV = "CONNECTORKIT_CONFIG"
LOCAL_FILE = "connectorkit.toml"
USER_FILE = "config.toml"


@dataclass(frozen=True)
class RuntimeConfig:
    """Everything the local environment lets a user adjust; the defaults are the platform's.

    The engine's own limits and policy choices are :class:`EngineOptions` (``engine``); the
    ``[runtime]`` table keeps them flat beside the environment's settings."""

    engine: EngineOptions = field(default_factory=EngineOptions)
    throttle_per_minute: int = THROTTLE_LIMIT
    refresh_on_401: bool = True
    token_refresh_skew: float = 60.0
    connection_cache_seconds: float = 1.0
    source: str | None = None  # the file it was read from, for messages


def _check_value(value: Any, hint: Any, where: str) -> Any:
    """``value`` if it fits ``hint`` (bool, int, float, str or a Literal of strings)."""
    if get_origin(hint) is typing.Literal:
        allowed = get_args(hint)
        if value not in allowed:
            raise InputError(f"{where}: must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{where}: expected a whole number of at least 0, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InputError(f"{where}: expected a number of at least 0, got {value!r}")
        return float(value)
    raise AssertionError(f"unsupported setting type {hint!r}")  # pragma: no cover - a programming error


def _settings(cls: type[Any], skip: set[str]) -> dict[str, Any]:
    """The adjustable fields of ``cls`` and their types."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.name not in skip}


_ENGINE = _settings(EngineOptions, {"policies"})
_ENVIRONMENT = _settings(RuntimeConfig, {"engine", "source"})
_POLICIES = _settings(PolicyOptions, set())


def _fields(known: Mapping[str, Any], table: Mapping[str, Any], where: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise InputError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        values[key] = _check_value(value, known[key], f"{where}.{key}")
    return values


def parse_runtime_config(table: Mapping[str, Any], source: str) -> RuntimeConfig:
    """A :class:`RuntimeConfig` from a ``[runtime]`` table read from ``source``."""
    where = f"{source}: runtime"
    plain = _fields({**_ENGINE, **_ENVIRONMENT}, {k: v for k, v in table.items() if k != "policies"}, where)
    policies = table.get("policies", {})
    if not isinstance(policies, dict):
        raise InputError(f"{where}.policies: expected a table")
    engine = EngineOptions(
        **{k: v for k, v in plain.items() if k in _ENGINE},
        policies=PolicyOptions(**_fields(_POLICIES, policies, f"{where}.policies")),
    )
    return RuntimeConfig(engine, **{k: v for k, v in plain.items() if k in _ENVIRONMENT}, source=source)


def _read_table(path: Path) -> dict[str, Any] | None:
    """The runtime table of ``path``; None when the file does not exist or has no such table."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    table = document.get("runtime")
    if table is None and path.name == "pyproject.toml":
        table = document.get("tool", {}).get("connectorkit", {}).get("runtime")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise InputError(f"{path}: runtime must be a table")
    return table


def load_runtime_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user_dir: Path | None = None,
) -> RuntimeConfig:
    """The runtime settings from the first file found (see the module docstring); the platform's
    defaults when there is none. A file named explicitly (argument or environment) must exist."""
    env = os.environ if environ is None else environ
    named = path if path is not None else env.get(CONFIG_ENV) or None
    if named is not None:
        chosen = Path(named)
        if not chosen.is_file():
            origin = "--config" if path is not None else CONFIG_ENV
            raise InputError(f"{origin} {chosen}: file not found")
        return parse_runtime_config(_read_table(chosen) or {}, str(chosen))
    if user_dir is None:
        from connectorkit.runtime.store.db import data_dir

        user_dir = data_dir()
    for candidate in ((cwd or Path.cwd()) / LOCAL_FILE, user_dir / USER_FILE):
        table = _read_table(candidate)
        if table is not None:
            return parse_runtime_config(table, str(candidate))
    return RuntimeConfig()
