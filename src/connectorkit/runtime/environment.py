"""Environments a connector is deployed to. The local one lives in the store; the Power Platform
environment of a later issue implements the same calls against Microsoft's API."""

from __future__ import annotations

import builtins
import copy
import dataclasses
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx

from connectorkit.definition.models import ConnectionParameter
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime import oauth
from connectorkit.runtime.config import RuntimeConfig
from connectorkit.runtime.dynamic import Choice, DynamicSchema, dynamic_choices, dynamic_schemas
from connectorkit.runtime.expressions import evaluate
from connectorkit.runtime.invoke import EngineOptions, Result, Throttle, invoke
from connectorkit.runtime.model import Call, Headers, Request, Response
from connectorkit.runtime.store import Store
from connectorkit.runtime.store.repository import Connection, ConnectionSummary, ConnectorSummary, Tokens
from connectorkit.runtime.store.secrets import redact, secret_strings

_PRIMITIVE_TYPES = {"string", "securestring", "int", "bool"}


class Named(Protocol):
    """Anything that names a connector in an environment: the local store's summaries, a Power
    Platform connector or deployment (whose name is the ``shared_...`` id)."""

    @property
    def name(self) -> str: ...


Deployed = tuple[str, int] | Named
"""What ``deploy`` answers: the local store ``(name, version)``, a cloud environment an object
with a ``name``. Structural, so ``cloud`` conforms without importing ``runtime``."""


class Environment(Protocol):
    """What the CLI's ``deploy``/``list``/``download`` need of an environment, local or cloud."""

    def deploy(self, package: ConnectorPackage, name: str | None = None) -> Deployed: ...
    def list(self) -> Sequence[Named]: ...
    def download(self, name: str, folder: Path) -> Path: ...


def deployed_name(deployed: Deployed) -> str:
    """The connector's name (local) or id (cloud) from what ``deploy`` answered."""
    return deployed[0] if isinstance(deployed, tuple) else deployed.name


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


SIGN_IN_TTL = timedelta(minutes=10)
"""How long a begun sign-in waits for its redirect."""

TOKEN_SKEW = 60.0
PACKAGE_CACHE_SIZE = 32  # loaded connector versions kept in memory, by digest
"""Seconds before expiry at which an access token is refreshed rather than used."""


@dataclass(frozen=True)
class SignIn:
    """A begun OAuth sign-in: send the user's browser to ``url``; the redirect carries ``state``."""

    state: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class SignInStatus:
    """Where a sign-in stands; ``error`` (never holding a secret) is set when it failed."""

    state: str
    status: Literal["pending", "complete", "failed"]
    connection_id: str | None
    error: str | None


class RefreshError(ConnectorkitError):
    """The access token expired and could not be refreshed; the connection needs a new sign-in."""


def refresh_failure(service: str, error: str, now: datetime) -> RefreshError:
    """The platform's message for a failed refresh (runtime-semantics.md section 2.4)."""
    stamp = now.astimezone(UTC).strftime("%m/%d/%Y %H:%M:%S")
    return RefreshError(
        f"Failed to refresh access token for service: {service}. Correlation Id={uuid.uuid4()}, "
        f"UTC TimeStamp={stamp}, Error: {error}"
    )


def choose_parameter_set(
    package: ConnectorPackage, name: str | None
) -> tuple[str | None, dict[str, ConnectionParameter]]:
    """The connection parameters a new connection declares: those of the chosen
    ``connectionParameterSets`` entry (runtime-semantics.md section 2.5), else the connector's
    ``connectionParameters``. A connector with one set needs no choice."""
    properties = package.properties.properties
    sets = (
        [s for s in (properties.connectionParameterSets.values or []) if s.name]
        if properties.connectionParameterSets
        else []
    )
    if not sets:
        if name is not None:
            raise InputError(f"--parameter-set {name}: the connector has no connectionParameterSets")
        return None, dict(properties.connectionParameters or {})
    names = [str(s.name) for s in sets]
    if name is None:
        if len(sets) > 1:
            raise InputError(
                f"--parameter-set: the connector has several parameter sets; choose one of: {', '.join(names)}"
            )
        chosen = sets[0]
    else:
        found = next((s for s in sets if s.name == name), None)
        if found is None:
            raise InputError(
                f"--parameter-set {name}: the connector has no such parameter set (it has: {', '.join(names)})"
            )
        chosen = found
    return chosen.name, dict(chosen.parameters or {})


def check_connection_values(
    declared: Mapping[str, ConnectionParameter], given: Mapping[str, str]
) -> tuple[dict[str, Any], set[str]]:
    """:func:`check_parameters`, also accepting the OAuth sub-parameters (``token:clientId``,
    ``token:clientSecret`` ...) a connector need not declare: apiProperties never carries a
    client secret, so the user brings it, and it is kept as a secret."""
    found = oauth.oauth_parameter(declared)
    extra: dict[str, str] = {}
    rest = dict(given)
    if found is not None:
        for sub in oauth.sub_parameter_names(found[0]).values():
            if sub in declared:
                continue
            for name in [n for n in rest if n.lower() == sub.lower()]:
                value = rest.pop(name)
                if value != "":
                    extra[sub] = value
    values, secrets = check_parameters(declared, rest)
    values.update(extra)
    if found is not None:
        secret_name = oauth.sub_parameter_names(found[0])["clientSecret"]
        if secret_name in values:
            secrets.add(secret_name)
    return values, secrets


def _as_given(value: Any) -> str:
    """A stored value back in the text form users give (for a re-sign-in's defaults)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LocalEnvironment:
    """Connectors, connections and call history in the local store.

    - ``clock``: the time tokens and sign-ins are judged by (tests pass a controllable one).
    - ``token_skew``: an access token expiring within this many seconds is refreshed before the
      call, as the platform refreshes an expired token before calling (section 7.6).
    - ``refresh_on_401``: when the backend answers 401 to an OAuth or client-credentials
      connection, refresh the token once and retry the call once. This is connectorkit's choice,
      on by default, for servers that revoke tokens early: the platform itself passes a 401
      through as a failed action (runtime-semantics.md section 7.6); turn it off to see that.
    """

    def __init__(
        self,
        store: Store,
        throttle: Throttle | None = None,
        *,
        clock: Callable[[], datetime] = _utc_now,
        token_skew: float | None = None,
        refresh_on_401: bool | None = None,
        config: RuntimeConfig | None = None,
    ) -> None:
        self.store = store
        self.config = config or RuntimeConfig()
        self.throttle = throttle or Throttle(self.config.throttle_per_minute)
        self.clock = clock
        self.token_skew = self.config.token_refresh_skew if token_skew is None else token_skew
        self.refresh_on_401 = self.config.refresh_on_401 if refresh_on_401 is None else refresh_on_401
        self.engine_options = self.config.engine
        self._packages: OrderedDict[str, ConnectorPackage] = OrderedDict()
        self._lock = threading.Lock()

    def deploy(self, package: ConnectorPackage, name: str | None = None) -> tuple[str, int]:
        name = name or connector_name(package)
        return name, self.store.save_connector(name, package.files())

    def list(self) -> builtins.list[ConnectorSummary]:
        return self.store.list_connectors()

    def package(self, name: str, version: int | None = None) -> ConnectorPackage:
        """Version ``version`` (the newest when None) of a deployed connector.

        Loaded packages are kept by content digest, so a call reads only the version's digest from
        the store; each caller gets its own shallow copy (replace ``api_properties`` or ``script``
        freely, but do not edit the shared documents in place)."""
        number, digest = self.store.connector_head(name, version)
        return self._package_at(name, number, digest)

    def connection_package(self, connection_id: str) -> tuple[ConnectorPackage, str]:
        """The newest version of the connection's connector and that version's digest (a key for
        whatever callers derive from the package), read as :meth:`call` reads them."""
        connection, (number, digest) = self.store.connection_with_connector(
            connection_id, max_age=self.config.connection_cache_seconds
        )
        return self._package_at(connection.connector, number, digest), digest

    def _package_at(self, name: str, number: int, digest: str) -> ConnectorPackage:
        with self._lock:
            cached = self._packages.get(digest)
            if cached is not None:
                self._packages.move_to_end(digest)
        if cached is None:
            stored = self.store.get_connector(name, number)
            cached = ConnectorPackage.from_files(stored.files, f"{name} v{number}")
            with self._lock:
                self._packages[digest] = cached
                while len(self._packages) > PACKAGE_CACHE_SIZE:
                    self._packages.popitem(last=False)
        return dataclasses.replace(cached)

    def download(self, name: str, folder: Path) -> Path:
        return self.package(name).save(folder)

    # -- parameters and sign-in kinds

    def parameter_sets(self, connector: str) -> builtins.list[tuple[str, str]]:
        """``(name, displayName)`` of each ``connectionParameterSets`` entry; empty without sets."""
        sets = self.package(connector).properties.properties.connectionParameterSets
        return [
            (
                str(s.name),
                (s.uiDefinition.displayName if s.uiDefinition and s.uiDefinition.displayName else str(s.name)),
            )
            for s in ((sets.values or []) if sets else [])
            if s.name
        ]

    def declared_parameters(self, connector: str, parameter_set: str | None = None) -> dict[str, ConnectionParameter]:
        """The parameters a connection of ``connector`` declares (the chosen set's, if it has sets)."""
        return choose_parameter_set(self.package(connector), parameter_set)[1]

    def auth_kind(self, connector: str, parameter_set: str | None = None) -> oauth.AuthKind:
        """How a connection made with ``parameter_set`` signs in: ``oauth2`` and ``aad`` need a
        browser sign-in (:meth:`begin_sign_in`); the others are created by
        :meth:`create_connection` (see :data:`connectorkit.runtime.oauth.AuthKind`)."""
        package = self.package(connector)
        return oauth.auth_kind(package, choose_parameter_set(package, parameter_set)[1])

    def create_connection(
        self,
        connector: str,
        given: Mapping[str, str],
        *,
        parameter_set: str | None = None,
        client: httpx.Client | None = None,
    ) -> str:
        """Check ``given`` against the declared parameters and store the connection. OAuth
        connectors need a sign-in instead. With ``client``, a client-credentials connection gets
        its first token now, so wrong credentials fail here rather than at the first call."""
        package = self.package(connector)
        chosen, declared = choose_parameter_set(package, parameter_set)
        kind = oauth.auth_kind(package, declared)
        if kind in ("oauth2", "aad"):
            raise InputError(
                f"connector {connector} signs in with OAuth ({kind}); use `connectorkit connection create` "
                "in a terminal, or the console, to sign in"
            )
        values, secrets = check_connection_values(declared, given)
        connection_id = self.store.create_connection(connector, values, secrets, parameter_set=chosen)
        if client is not None and kind == "clientCredentials":
            try:
                self._client_credentials_token(package, self.store.get_connection(connection_id), client)
            except ConnectorkitError:
                self.store.delete_connection(connection_id)
                raise
        return connection_id

    # -- OAuth sign-in

    def begin_sign_in(
        self,
        connector: str,
        given: Mapping[str, str],
        *,
        redirect_uri: str,
        parameter_set: str | None = None,
        connection_id: str | None = None,
        client: httpx.Client | None = None,
    ) -> SignIn:
        """Check the parameters now, store a pending sign-in (values and PKCE verifier or msal
        flow sealed) and return the URL to open. ``connection_id`` re-signs-in an existing
        connection ("Fix connection"): its values are the defaults and its id is kept. ``client``
        is used only for Azure AD, whose authority msal reads first (a new client otherwise)."""
        merged: dict[str, str] = {}
        if connection_id is not None:
            existing = self.store.get_connection(connection_id)
            if existing.connector != connector:
                raise InputError(f"connection {connection_id} belongs to {existing.connector}, not {connector}")
            merged = {name: _as_given(value) for name, value in existing.parameters.items()}
            parameter_set = parameter_set if parameter_set is not None else existing.parameter_set
        merged.update(given)
        package = self.package(connector)
        chosen, declared = choose_parameter_set(package, parameter_set)
        values, secret_names = check_connection_values(declared, merged)
        config = oauth.resolve_oauth(declared, values)
        if config is None:
            raise InputError(f"connector {connector} has no oauthSetting parameter; create the connection directly")
        _check_client(config)
        _check_redirect(redirect_uri)
        state = oauth.new_state()
        sealed: dict[str, Any] = {"values": values, "secret_names": sorted(secret_names), "redirect_uri": redirect_uri}
        if config.provider == "aad":
            with _client_or_new(client) as http:
                url, flow = oauth.aad_begin(config, redirect_uri, state, client=http)
            sealed["flow"] = flow
        else:
            verifier = oauth.new_verifier()
            url = oauth.authorization_url(config, redirect_uri, state, verifier)
            sealed["verifier"] = verifier
        expires_at = self.clock() + SIGN_IN_TTL
        self.store.create_sign_in(
            state, connector, sealed, expires_at=expires_at, parameter_set=chosen, target_connection_id=connection_id
        )
        return SignIn(state=state, url=url, expires_at=expires_at)

    def complete_sign_in(
        self, state: str, *, code: str | None = None, error: str | None = None, client: httpx.Client
    ) -> str:
        """Exchange the redirect's ``code`` for tokens and store the connection; returns its id.
        An unknown, used or expired ``state`` is an :class:`InputError`; an ``error`` from the
        provider or a token endpoint's refusal is a :class:`ConnectorkitError` (no secrets)."""
        record = self.store.claim_sign_in(state, self.clock())
        try:
            connection_id = self._finish_sign_in(record.connector, record.parameter_set, record.target_connection_id,
                                                 record.secrets, state, code, error, client)  # fmt: skip
        except ConnectorkitError as exc:
            self.store.finish_sign_in(state, error=str(exc))
            raise
        except Exception as exc:
            self.store.finish_sign_in(state, error=f"internal error: {type(exc).__name__}")
            raise
        self.store.finish_sign_in(state, connection_id=connection_id)
        return connection_id

    def _finish_sign_in(
        self,
        connector: str,
        parameter_set: str | None,
        target: str | None,
        sealed: dict[str, Any],
        state: str,
        code: str | None,
        error: str | None,
        client: httpx.Client,
    ) -> str:
        if error:
            raise ConnectorkitError(f"the identity provider refused the sign-in: {error}")
        if not code:
            raise InputError("the redirect carries neither a code nor an error")
        values: dict[str, Any] = sealed["values"]
        secret_names: builtins.list[str] = sealed["secret_names"]
        _, declared = choose_parameter_set(self.package(connector), parameter_set)
        config = oauth.resolve_oauth(declared, values)
        if config is None:
            raise InputError(f"connector {connector} no longer has an oauthSetting parameter")
        now = self.clock()
        if config.provider == "aad":
            tokens = oauth.aad_complete(config, sealed["flow"], {"code": code, "state": state}, client=client, now=now)
        else:
            tokens = oauth.exchange_code(
                config, code, sealed["redirect_uri"], sealed["verifier"], client=client, now=now
            )
        redirect_uri: str = sealed["redirect_uri"]
        if target is not None:
            # Parameters, tokens and the reactivation of the connection's unauthenticated triggers
            # in one transaction: a worker never polls with the new parameters and the old tokens.
            fresh = Tokens(tokens.access_token, tokens.refresh_token, tokens.expires_at)
            self.store.update_connection(
                target, values, secret_names, parameter_set, redirect_uri=redirect_uri, tokens=fresh
            )
            return target
        connection_id = self.store.create_connection(
            connector, values, secret_names, parameter_set=parameter_set, redirect_uri=redirect_uri
        )
        self.store.update_tokens(connection_id, tokens.access_token, tokens.refresh_token, tokens.expires_at)
        return connection_id

    def sign_in_status(self, state: str) -> SignInStatus:
        """Pending (also while its code is being exchanged), complete or failed; a pending one
        past its ten minutes counts as failed."""
        record = self.store.get_sign_in(state)
        if record.status in ("pending", "exchanging"):
            if record.status == "pending" and record.expires_at <= self.clock():
                return SignInStatus(state, "failed", None, "the sign-in expired")
            return SignInStatus(state, "pending", None, None)
        status: Literal["complete", "failed"] = "complete" if record.status == "complete" else "failed"
        return SignInStatus(state, status, record.connection_id, record.error)

    # -- connections

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
        return dynamic_choices(package, operation_id, parameter, arguments, self._lookup(connection_id, client))

    def schemas(
        self,
        connection_id: str,
        operation_id: str,
        arguments: Mapping[str, Any],
        *,
        client: httpx.Client,
    ) -> builtins.list[DynamicSchema]:
        """Fetch the operation's dynamic schemas (``x-ms-dynamic-schema`` / ``-properties``) by
        calling the operations they name; a failed lookup is reported in its entry."""
        connection = self.store.get_connection(connection_id)
        package = self.package(connection.connector)
        return dynamic_schemas(package, operation_id, arguments, self._lookup(connection_id, client))

    def _lookup(self, connection_id: str, client: httpx.Client) -> Callable[[str, dict[str, Any]], Any]:
        """A design-time lookup: the named operation called through this connection, its JSON."""

        def call(operation: str, args: dict[str, Any]) -> Any:
            result = self.call(connection_id, operation, args, client=client)
            if result.response.status >= 400:
                raise InputError(f"{operation} answered HTTP {result.response.status} to the lookup")
            return result.response.json

        return call

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
        target_url: str | None = None,
        method: str | None = None,
        extra_secrets: Iterable[str] = (),
    ) -> Result:
        """Call an action with the connection's credentials, refreshing its token first when it
        is about to expire (and once more after a 401, see ``refresh_on_401``). ``target_url`` and
        ``method`` call a URL the backend handed out (a polling or subscription ``Location``)
        through the operation, see :func:`~connectorkit.runtime.invoke.invoke`. ``extra_secrets``
        are masked in history and in the result like the connection's own (a webhook's callback
        URL carries a token)."""
        connection, (number, digest) = self.store.connection_with_connector(
            connection_id, max_age=self.config.connection_cache_seconds
        )
        package = self._package_at(connection.connector, number, digest)
        _, declared = choose_parameter_set(package, connection.parameter_set)
        signer = _Signer(self, package, declared, connection, client)
        started = time.perf_counter()
        error: str | None = None
        result: Result | None = None
        refused = self.throttle.admit(connection.id)
        if refused is not None:
            request = Request("GET", "", "")
            result = Result(request, refused, [refused], 0, ["throttled: 500 calls per minute per connection"])
            self.store.record_call(connection.id, operation_id, None, 429, 0.0, "throttled", wait=False)
            return result
        try:
            result = signer.refusal()
            if result is not None:
                return result
            signer.prepare()

            def attempt() -> Result:
                return invoke(
                    signer.package, operation_id, arguments, signer.values, client=client, all_pages=all_pages,
                    options=options or self.engine_options, target_url=target_url, method=method,
                )  # fmt: skip

            result = attempt()
            if result.response.status == 401 and self.refresh_on_401 and signer.renew():
                result = attempt()
                result.notes.append(
                    "the backend answered 401: connectorkit renewed the access token and retried once "
                    "(the platform passes 401 through; LocalEnvironment(refresh_on_401=False) does too)"
                )
            return result
        except Exception as exc:
            error = str(exc)
            raise
        finally:
            hidden = [*signer.secrets(), *extra_secrets]
            if result is not None:
                result.secrets = hidden
            self.store.record_call(
                connection.id,
                operation_id,
                result.request if result else None,
                result.response.status if result else None,
                (time.perf_counter() - started) * 1000,
                error,
                secrets=hidden,
                wait=False,
            )

    def _client_credentials_token(self, package: ConnectorPackage, connection: Connection, client: httpx.Client) -> str:
        signer = _Signer(self, package, choose_parameter_set(package, connection.parameter_set)[1], connection, client)
        refused = signer.refusal()
        if refused is not None:
            body = refused.response.json if isinstance(refused.response.json, dict) else {}
            raise ConnectorkitError(str(body.get("error", "the client-credentials grant failed")))
        signer.prepare()
        return str(signer.values["access_token"])


class _Signer:
    """Puts one call's credentials in place: the chosen parameter set's declarations, the OAuth
    access token (refreshed when due), or a client-credentials token connectorkit obtains itself
    in place of the generated script.csx. Works on the call's own copy of the package."""

    def __init__(
        self,
        environment: LocalEnvironment,
        package: ConnectorPackage,
        declared: dict[str, ConnectionParameter],
        connection: Connection,
        client: httpx.Client,
    ) -> None:
        self.environment = environment
        self.package = package
        self.connection = connection
        self.client = client
        self.values: dict[str, Any] = dict(connection.parameters)
        self._extra_secrets: builtins.list[str] = []
        self._access = connection.access_token
        self._refresh = connection.refresh_token
        self._expires = connection.token_expires_at
        self._own_properties = False
        raw = package.api_properties.get("properties")
        if isinstance(raw, dict) and raw.get("connectionParameterSets"):
            # The chosen set's parameters stand in for connectionParameters, in the call's own copy.
            self._own_api_properties()["properties"]["connectionParameters"] = {
                name: spec.dump() for name, spec in declared.items()
            }
        self.config = oauth.resolve_oauth(declared, self.values) if oauth.oauth_parameter(declared) else None
        self.credentials = None if self.config else oauth.client_credentials_of(package)
        self._script = oauth.generated_script(package.script) if self.credentials else None
        self._client_id, self._client_secret = self._client_pair()

    def _own_api_properties(self) -> dict[str, Any]:
        """The call's own copy of apiProperties (the package is shared with other calls)."""
        if not self._own_properties:
            self.package.api_properties = copy.deepcopy(self.package.api_properties)
            self.package.api_properties.setdefault("properties", {})
            self._own_properties = True
        return self.package.api_properties

    def secrets(self) -> builtins.list[str]:
        values = self.connection.secret_values() + self._extra_secrets
        return [v for v in (*values, self._access, self._refresh) if v]

    # client credentials

    def _client_pair(self) -> tuple[str | None, str | None]:
        if self.credentials is None:
            return None, None
        script = self._script
        if script is not None:
            return self._header_value(script.client_id_header), self._header_value(script.client_secret_header)
        names = (("client_id", "clientId", "token:clientId"), ("client_secret", "clientSecret", "token:clientSecret"))
        picked = [
            next((str(self.values[n]) for n in group if self.values.get(n) not in (None, "")), None) for group in names
        ]
        return picked[0], picked[1]

    def _header_value(self, header: str | None) -> str | None:
        """The value the generated connector's setheader policy gives ``header``: the script
        reads the client id and secret from those headers."""
        for policy in self.package.properties.properties.policyTemplateInstances or []:
            parameters = policy.parameters or {}
            if (
                policy.template == "setheader"
                and header
                and str(parameters.get("x-ms-apimTemplateParameter.name", "")).lower() == header.lower()
            ):
                call = Call("", self.values, Request("GET", "", ""))
                value = evaluate(str(parameters.get("x-ms-apimTemplateParameter.value", "")), call)
                return value or None
        return None

    def refusal(self) -> Result | None:
        """The 401 the generated script answers itself when it cannot get a token; None to go on."""
        if self._script is None:
            return None
        if not self._client_id or not self._client_secret:
            return _script_answer("The connection has no client ID or client secret.")
        try:
            self._ensure_client_token(force=False)
        except oauth.TokenError as exc:
            return _script_answer(f"The token endpoint refused the client credentials ({exc}).")
        return None

    def _ensure_client_token(self, *, force: bool) -> None:
        assert self.credentials is not None
        now = self.environment.clock()
        if not force and self._access and not oauth.expires_soon(self._expires, now, self.environment.token_skew):
            return
        if not self._client_id or not self._client_secret:
            raise InputError("the connection has no client_id and client_secret for the client-credentials grant")
        tokens = oauth.client_credentials_grant(
            self.credentials.token_url, self._client_id, self._client_secret, self.credentials.scopes,
            client=self.client, now=now,
        )  # fmt: skip
        self._store(tokens)

    # OAuth

    def _ensure_oauth_token(self, *, force: bool) -> None:
        assert self.config is not None
        now = self.environment.clock()
        if not force and self._access and not oauth.expires_soon(self._expires, now, self.environment.token_skew):
            return
        service = self.config.provider
        if not self._refresh:
            raise refresh_failure(service, "Missing refresh token.", now)
        try:
            if self.config.provider == "aad":
                tokens = oauth.aad_refresh(self.config, self._refresh, client=self.client, now=now)
            else:
                tokens = oauth.refresh_tokens(
                    self.config, self._refresh, self.connection.redirect_uri, client=self.client, now=now
                )
        except oauth.TokenError as exc:
            raise refresh_failure(service, redact(str(exc), secret_strings(self.secrets())), now) from None
        self._store(tokens)

    def _store(self, tokens: oauth.Tokens) -> None:
        self.environment.store.update_tokens(
            self.connection.id, tokens.access_token, tokens.refresh_token, tokens.expires_at
        )
        self._access = tokens.access_token
        self._refresh = tokens.refresh_token or self._refresh
        self._expires = tokens.expires_at
        self._extra_secrets += [t for t in (tokens.access_token, tokens.refresh_token) if t]
        self.values["access_token"] = tokens.access_token

    # the call

    def prepare(self) -> None:
        """Make sure the token is fresh and in the values, and the package signs with it."""
        if self.config is not None:
            self._ensure_oauth_token(force=False)
        elif self.credentials is not None:
            self._ensure_client_token(force=False)
            if self._script is not None:
                self._replace_script()
        if self._access:
            self.values["access_token"] = self._access

    def renew(self) -> bool:
        """After a 401: a new token for the retry, or False when there is no way to get one."""
        if self.config is not None and self._refresh:
            self._ensure_oauth_token(force=True)
            return True
        if self.credentials is not None and self._client_id and self._client_secret:
            try:
                self._ensure_client_token(force=True)
            except oauth.TokenError:
                return False
            return True
        return False

    def _replace_script(self) -> None:
        """Do what the generated script does: drop the two headers that carry the client id and
        secret and send the token as ``Authorization: Bearer``, after every Request policy."""
        assert self._script is not None
        carried = {h.lower() for h in (self._script.client_id_header, self._script.client_secret_header) if h}
        properties = self._own_api_properties()["properties"]
        kept = [
            p for p in properties.get("policyTemplateInstances") or []
            if not (
                isinstance(p, dict) and str(p.get("templateId", "")).lower() == "setheader"
                and str((p.get("parameters") or {}).get("x-ms-apimTemplateParameter.name", "")).lower() in carried
            )
        ]  # fmt: skip
        kept.append(
            {
                "templateId": "setheader",
                "title": "connectorkit: the generated client-credentials script, run natively",
                "parameters": {
                    "x-ms-apimTemplateParameter.name": "Authorization",
                    "x-ms-apimTemplateParameter.value": "Bearer @connectionParameters('access_token')",
                    "x-ms-apimTemplateParameter.existsAction": "override",
                    "x-ms-apimTemplate-policySection": "Request",
                },
            }
        )
        properties["policyTemplateInstances"] = kept
        self.package.script = None


def _script_answer(message: str) -> Result:
    body = {"error": message}
    content = json.dumps(body).encode()
    response = Response(401, Headers([("Content-Type", "application/json")]), json=body, has_json=True, content=content)
    return Result(Request("GET", "", ""), response, [response], 0, ["answered by the client-credentials script"])


def _check_client(config: oauth.OAuthConfig) -> None:
    if not config.client_id:
        raise InputError(
            f"--param {config.parameter}:clientId: required (the connector's oAuthSettings has no clientId)"
        )
    if not config.client_secret:
        raise InputError(f"--param {config.parameter}:clientSecret: required (apiProperties never carries the secret)")


def _check_redirect(redirect_uri: str) -> None:
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"redirect URI {redirect_uri!r} is not an absolute http(s) URL")


@contextmanager
def _client_or_new(client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=30) as fresh:
        yield fresh


def test_operation(package: ConnectorPackage) -> str | None:
    """The operation ``x-ms-capabilities.testConnection`` names, if the connector has one."""
    capabilities = package.definition.get("x-ms-capabilities")
    test = capabilities.get("testConnection") if isinstance(capabilities, dict) else None
    operation = test.get("operationId") if isinstance(test, dict) else None
    return operation if isinstance(operation, str) and operation else None
