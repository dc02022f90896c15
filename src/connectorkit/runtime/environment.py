"""Environments a connector is deployed to. The local one lives in the store; the Power Platform
environment of a later issue implements the same calls against Microsoft's API."""

from __future__ import annotations

import builtins
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx

from connectorkit.definition.models import ConnectionParameter
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.runtime.dynamic import Choice, dynamic_choices
from connectorkit.runtime.invoke import EngineOptions, Result, Throttle, invoke
from connectorkit.runtime.model import Request
from connectorkit.runtime.store import Store
from connectorkit.runtime.store.repository import ConnectionSummary, ConnectorSummary

_PRIMITIVE_TYPES = {"string", "securestring", "int", "bool"}


class Environment(Protocol):
    def deploy(self, package: ConnectorPackage, name: str | None = None) -> tuple[str, int]: ...
    def list(self) -> list[ConnectorSummary]: ...
    def download(self, name: str, folder: Path) -> Path: ...


def connector_name(package: ConnectorPackage) -> str:
    title = package.swagger.title.strip()
    if title:
        return title
    if package.path is not None:
        return package.path.name
    raise InputError("the connector has no info.title; pass --name")


def check_parameters(
    declared: Mapping[str, ConnectionParameter], given: Mapping[str, str]
) -> tuple[dict[str, Any], set[str]]:
    """Values checked against ``connectionParameters``: names, types, allowed values, required.

    OAuth parameters (``oauthSetting``) are signed in later and skipped here. Returns the typed
    values and the names of the secret ones.
    """
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for name in given:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InputError(f"--param {name}: the connector has no connection parameter {name!r} (it has: {known})")
    for name, spec in declared.items():
        kind = (spec.type or "string").lower()
        if kind not in _PRIMITIVE_TYPES:
            continue
        raw = given.get(name)
        if raw is None and spec.defaultValue is not None:
            raw = str(spec.defaultValue)
        constraints = spec.uiDefinition.constraints if spec.uiDefinition else None
        required = constraints is not None and str(constraints.required).lower() == "true"
        if raw is None or raw == "":
            if required:
                raise InputError(f"--param {name}: required by the connector")
            continue
        allowed = [str(v.value) for v in spec.allowedValues or []]
        if constraints is not None and constraints.allowedValues:
            allowed += [str(v.value) for v in constraints.allowedValues]
        if allowed and raw not in allowed:
            raise InputError(f"--param {name}: must be one of {', '.join(allowed)}")
        if kind == "int":
            try:
                values[name] = int(raw)
            except ValueError:
                raise InputError(f"--param {name}: expected an integer") from None
        elif kind == "bool":
            if raw.lower() not in ("true", "false"):
                raise InputError(f"--param {name}: expected true or false")
            values[name] = raw.lower() == "true"
        else:
            values[name] = raw
        if kind == "securestring":
            secrets.add(name)
    return values, secrets


class LocalEnvironment:
    """Connectors, connections and call history in the local store."""

    def __init__(self, store: Store, throttle: Throttle | None = None) -> None:
        self.store = store
        self.throttle = throttle or Throttle()

    def deploy(self, package: ConnectorPackage, name: str | None = None) -> tuple[str, int]:
        name = name or connector_name(package)
        return name, self.store.save_connector(name, package.files())

    def list(self) -> builtins.list[ConnectorSummary]:
        return self.store.list_connectors()

    def package(self, name: str, version: int | None = None) -> ConnectorPackage:
        stored = self.store.get_connector(name, version)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "connector"
            folder.mkdir()
            for file, data in stored.files.items():
                (folder / file).write_bytes(data)
            package = ConnectorPackage.load(folder)
        package.path = None
        return package

    def download(self, name: str, folder: Path) -> Path:
        return self.package(name).save(folder)

    def create_connection(self, connector: str, given: Mapping[str, str]) -> str:
        package = self.package(connector)
        declared = package.properties.properties.connectionParameters or {}
        values, secrets = check_parameters(declared, given)
        return self.store.create_connection(connector, values, secrets)

    def test_connection(self, connection_id: str, *, client: httpx.Client) -> tuple[str, Result | None]:
        """Connected / Error / Unauthenticated from the connector's test operation, called with
        its hard-coded parameters (runtime-semantics.md section 7.1); ``Untested`` without one."""
        connection = self.store.get_connection(connection_id)
        package = self.package(connection.connector)
        operation = test_operation(package)
        if operation is None:
            return "Untested", None
        capabilities = package.definition.get("x-ms-capabilities") or {}
        parameters = capabilities.get("testConnection", {}).get("parameters") or {}
        result = self.call(connection_id, operation, dict(parameters), client=client)
        if result.connection_unauthenticated or result.response.status == 401:
            return "Unauthenticated", result
        return ("Connected" if 200 <= result.response.status < 300 else "Error"), result

    def choices(
        self,
        connection_id: str,
        operation_id: str,
        parameter: str,
        arguments: Mapping[str, Any],
        *,
        client: httpx.Client,
    ) -> builtins.list[Choice]:
        """Resolve a parameter's dynamic values by calling the operation it names."""
        connection = self.store.get_connection(connection_id)
        package = self.package(connection.connector)

        def call(operation: str, args: dict[str, Any]) -> Any:
            result = self.call(connection_id, operation, args, client=client)
            if result.response.status >= 400:
                raise InputError(f"{operation} answered HTTP {result.response.status} while listing choices")
            return result.response.json

        return dynamic_choices(package, operation_id, parameter, arguments, call)

    def connections(self, connector: str | None = None) -> builtins.list[ConnectionSummary]:
        return self.store.list_connections(connector)

    def call(
        self,
        connection_id: str,
        operation_id: str,
        arguments: Mapping[str, Any],
        *,
        client: httpx.Client,
        all_pages: bool = False,
        options: EngineOptions | None = None,
    ) -> Result:
        connection = self.store.get_connection(connection_id)
        package = self.package(connection.connector)
        values = dict(connection.parameters)
        if connection.access_token:
            values["access_token"] = connection.access_token
        started = time.perf_counter()
        error: str | None = None
        result: Result | None = None
        refused = self.throttle.admit(connection.id)
        if refused is not None:
            request = Request("GET", "", "")
            result = Result(request, refused, [refused], 0, ["throttled: 500 calls per minute per connection"])
            self.store.record_call(connection.id, operation_id, None, 429, 0.0, "throttled")
            return result
        try:
            result = invoke(
                package, operation_id, arguments, values, client=client, all_pages=all_pages, options=options
            )
            return result
        except Exception as exc:
            error = str(exc)
            raise
        finally:
            self.store.record_call(
                connection.id,
                operation_id,
                result.request if result else None,
                result.response.status if result else None,
                (time.perf_counter() - started) * 1000,
                error,
                secrets=connection.secret_values(),
            )


def test_operation(package: ConnectorPackage) -> str | None:
    """The operation ``x-ms-capabilities.testConnection`` names, if the connector has one."""
    capabilities = package.definition.get("x-ms-capabilities")
    test = capabilities.get("testConnection") if isinstance(capabilities, dict) else None
    operation = test.get("operationId") if isinstance(test, dict) else None
    return operation if isinstance(operation, str) and operation else None
