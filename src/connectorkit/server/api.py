"""The management API: connectors, connections, test calls, dynamic values, history and triggers.

Every route but ``/api/health`` needs ``Authorization: Bearer <token>``, or the console's session
cookie together with its CSRF token in ``X-CSRF-Token`` (so the console's scripts can call the
API while a page on another site cannot). Routes are plain functions: FastAPI runs them in its
thread pool, since the store and backend calls block.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from connectorkit import __version__
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import BackendError
from connectorkit.runtime.store.repository import ConnectionSummary, EventRecord, TriggerRecord
from connectorkit.server import describe
from connectorkit.server.app import PROBLEM_TYPE, ServerState, Unauthorized, state_of
from connectorkit.server.present import Redactor, connection_redactors, present
from connectorkit.server.schemas import (
    ChoiceItem,
    ConnectionCreate,
    ConnectionItem,
    ConnectorDetail,
    ConnectorItem,
    Created,
    Deployed,
    DynamicSchemaItem,
    EventItem,
    Health,
    HistoryItem,
    Invocation,
    InvocationResult,
    OperationDetail,
    ParameterSetItem,
    Problem,
    SignInStarted,
    SignInState,
    TestOutcome,
    TriggerCreate,
    TriggerItem,
    Upload,
)
from connectorkit.server.security import CSRF_HEADER, SESSION_COOKIE, same

MAX_UPLOAD_FILES = 20
_bearer = HTTPBearer(scheme_name="bearerAuth", auto_error=False, description="The token in the server-token file.")


async def authorized(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> None:
    """Let the request through with the API token, or with a console session plus its CSRF token."""
    state = state_of(request)
    if credentials is not None:
        if same(credentials.credentials, state.token):
            return
        raise Unauthorized("the bearer token is not this server's API token")
    session = state.gate.session(request.cookies.get(SESSION_COOKIE))
    if session is not None and same(request.headers.get(CSRF_HEADER), session.csrf):
        return
    raise Unauthorized("send Authorization: Bearer <token> (the token is in the server-token file)")


_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_TYPE: {}}, "description": title}
    for status, title in (
        (400, "Bad input"),
        (401, "Missing or wrong token"),
        (404, "Not found"),
        (422, "Invalid request"),
    )
}
public = APIRouter(prefix="/api", tags=["server"])
router = APIRouter(prefix="/api", dependencies=[Depends(authorized)], responses=_ERRORS)


async def _state(request: Request) -> ServerState:
    # async: FastAPI runs a plain def dependency on a worker thread, a hop per request for nothing.
    return state_of(request)


@public.get("/health", response_model=Health)
def health() -> Health:
    """Whether a connectorkit server answers here (the CLI checks before starting its own redirect listener)."""
    return Health(service="connectorkit", version=__version__)


# connectors


@router.get("/connectors", response_model=list[ConnectorItem], tags=["connectors"])
def list_connectors(state: ServerState = Depends(_state)) -> list[ConnectorItem]:
    return [ConnectorItem(**dataclasses.asdict(c)) for c in state.environment.list()]


@router.post("/connectors", response_model=Deployed, status_code=201, tags=["connectors"])
def upload_connector(upload: Upload, state: ServerState = Depends(_state)) -> Deployed:
    """Deploy a package; an unchanged package keeps its version number."""
    package = package_from_files(upload.files)
    name, version = state.environment.deploy(package, upload.name)
    return Deployed(name=name, version=version)


def package_from_files(files: dict[str, str]) -> ConnectorPackage:
    """Load a package from base64 file contents, refusing paths that would leave its folder."""
    if not files:
        raise InputError("files: the package has no files")
    if len(files) > MAX_UPLOAD_FILES:
        raise InputError(f"files: at most {MAX_UPLOAD_FILES} files, got {len(files)}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "connector"
        folder.mkdir()
        for name, content in files.items():
            relative = PurePosixPath(name)
            if not name or relative.is_absolute() or ".." in relative.parts or "\\" in name:
                raise InputError(f"files: {name!r} is not a relative path inside the package")
            try:
                data = base64.b64decode(content, validate=True)
            except (binascii.Error, ValueError):
                raise InputError(f"files: {name}: not base64") from None
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        package = ConnectorPackage.load(folder)
    package.path = None
    return package


@router.get("/connectors/{name}", response_model=ConnectorDetail, tags=["connectors"])
def get_connector(name: str, state: ServerState = Depends(_state)) -> ConnectorDetail:
    return connector_detail(state.environment, name)


def connector_detail(environment: LocalEnvironment, name: str) -> ConnectorDetail:
    package = environment.package(name)
    properties = package.properties.properties
    sets = []
    values = properties.connectionParameterSets.values if properties.connectionParameterSets else None
    for entry in values or []:
        set_name = entry.name or ""
        ui = entry.uiDefinition
        sets.append(
            ParameterSetItem(
                name=set_name,
                display_name=(ui.displayName if ui and ui.displayName else set_name),
                auth_kind=str(environment.auth_kind(name, set_name)),
                parameters=describe.connection_fields(entry.parameters or {}),
            )
        )
    versions = environment.store.connector_versions(name)
    return ConnectorDetail(
        name=name,
        title=package.swagger.title or name,
        description=str(package.swagger.info.get("description") or "") or None,
        versions=versions,
        latest_version=versions[-1],
        auth_kind=None if sets else str(environment.auth_kind(name)),
        connection_parameters=describe.connection_fields(properties.connectionParameters or {}),
        parameter_sets=sets,
        operations=describe.operations(package),
    )


@router.delete("/connectors/{name}", status_code=204, response_class=Response, tags=["connectors"])
def delete_connector(name: str, state: ServerState = Depends(_state)) -> Response:
    state.environment.store.delete_connector(name)
    return Response(status_code=204)


@router.get("/connectors/{name}/operations/{operation}", response_model=OperationDetail, tags=["connectors"])
def get_operation(name: str, operation: str, state: ServerState = Depends(_state)) -> OperationDetail:
    return describe.describe_operation(state.environment.package(name), name, operation)


# connections


def needs_sign_in(environment: LocalEnvironment, connector: str, parameter_set: str | None) -> bool:
    """Whether a connection is made by signing in through a browser (OAuth 2.0 or Azure AD)."""
    return environment.auth_kind(connector, parameter_set) in ("oauth2", "aad")


def redirect_uri(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/oauth/redirect"


@router.post(
    "/connections",
    status_code=201,
    response_model=Created,
    responses={202: {"model": SignInStarted, "description": "Sign-in needed: open signInUrl in a browser."}},
    tags=["connections"],
)
def create_connection(
    body: ConnectionCreate, request: Request, state: ServerState = Depends(_state)
) -> Created | JSONResponse:
    """201 with the new connection's id; for OAuth connectors 202 with the URL to sign in at (the
    provider redirects back to this server's /oauth/redirect, which creates the connection)."""
    environment = state.environment
    if needs_sign_in(environment, body.connector, body.parameter_set):
        sign_in = environment.begin_sign_in(
            body.connector,
            body.parameters,
            redirect_uri=redirect_uri(request),
            parameter_set=body.parameter_set,
            client=state.client,
        )
        started = SignInStarted(sign_in_url=sign_in.url, state=sign_in.state)
        return JSONResponse(started.model_dump(by_alias=True), status_code=202)
    connection_id = environment.create_connection(
        body.connector, body.parameters, parameter_set=body.parameter_set, client=state.client
    )
    return Created(id=connection_id)


@router.get("/sign-ins/{sign_in_state}", response_model=SignInState, tags=["connections"])
def get_sign_in(sign_in_state: str, state: ServerState = Depends(_state)) -> SignInState:
    status = state.environment.sign_in_status(sign_in_state)
    return SignInState(state=status.state, status=status.status, connection_id=status.connection_id, error=status.error)


def connection_item(summary: ConnectionSummary) -> ConnectionItem:
    parameters = dict(summary.parameters)
    parameters.update(dict.fromkeys(summary.secret_names, "***"))
    return ConnectionItem(
        id=summary.id,
        connector=summary.connector,
        parameter_set=summary.parameter_set,
        parameters=parameters,
        has_access_token=summary.has_access_token,
        has_refresh_token=summary.has_refresh_token,
        token_expires_at=summary.token_expires_at,
        created_at=summary.created_at,
        updated_at=summary.updated_at,
    )


@router.get("/connections", response_model=list[ConnectionItem], tags=["connections"])
def list_connections(
    connector: str | None = Query(None, description="Only this connector's connections."),
    state: ServerState = Depends(_state),
) -> list[ConnectionItem]:
    return [connection_item(c) for c in state.environment.connections(connector)]


def find_connection(environment: LocalEnvironment, connection_id: str) -> ConnectionSummary:
    """The connection's summary (no secrets opened); NotFoundError when there is none."""
    environment.store.get_connection(connection_id)  # raises NotFoundError with the store's message
    return next(c for c in environment.connections() if c.id == connection_id)


@router.get("/connections/{connection_id}", response_model=ConnectionItem, tags=["connections"])
def get_connection(connection_id: str, state: ServerState = Depends(_state)) -> ConnectionItem:
    return connection_item(find_connection(state.environment, connection_id))


@router.delete("/connections/{connection_id}", status_code=204, response_class=Response, tags=["connections"])
def delete_connection(connection_id: str, state: ServerState = Depends(_state)) -> Response:
    state.environment.store.delete_connection(connection_id)
    return Response(status_code=204)


@contextmanager
def redacted_errors(environment: LocalEnvironment, connection_id: str) -> Iterator[None]:
    """Re-raise a connectorkit error with the connection's secrets cut out of its message. The
    secrets are read only when there is an error, so a successful call costs no extra lookup."""
    try:
        yield
    except ConnectorkitError as exc:
        try:
            secrets = environment.store.get_connection(connection_id).secret_values()
        except ConnectorkitError:
            raise exc from None  # no such connection: its message holds no secret
        with Redactor(secrets).errors():
            raise


@router.post("/connections/{connection_id}/test", response_model=TestOutcome, tags=["connections"])
def test_connection(connection_id: str, state: ServerState = Depends(_state)) -> TestOutcome:
    """Call the connector's test operation (x-ms-capabilities.testConnection) with this connection."""
    with redacted_errors(state.environment, connection_id):
        status, result = state.environment.test_connection(connection_id, client=state.client)
    return TestOutcome(id=connection_id, status=status, http_status=result.response.status if result else None)


@router.get("/connections/{connection_id}/choices", response_model=list[ChoiceItem], tags=["connections"])
def choices(
    connection_id: str,
    request: Request,
    operation: str = Query(..., description="The operation whose parameter has dynamic values."),
    parameter: str = Query(..., description="The parameter."),
    state: ServerState = Depends(_state),
) -> list[ChoiceItem]:
    """A parameter's choices (x-ms-dynamic-values / -list); other query parameters are the values
    of the parameters the lookup depends on."""
    arguments = {k: v for k, v in request.query_params.items() if k not in ("operation", "parameter")}
    with redacted_errors(state.environment, connection_id):
        found = state.environment.choices(connection_id, operation, parameter, arguments, client=state.client)
    return [ChoiceItem(value=c.value, title=c.title) for c in found]


@router.get("/connections/{connection_id}/schemas", response_model=list[DynamicSchemaItem], tags=["connections"])
def schemas(
    connection_id: str,
    request: Request,
    operation: str = Query(..., description="The operation whose dynamic schemas to fetch."),
    state: ServerState = Depends(_state),
) -> list[DynamicSchemaItem]:
    """The operation's x-ms-dynamic-schema / -properties, fetched through the connection; other
    query parameters are the values of the parameters the lookups depend on."""
    arguments = {k: v for k, v in request.query_params.items() if k != "operation"}
    with redacted_errors(state.environment, connection_id):
        found = state.environment.schemas(connection_id, operation, arguments, client=state.client)
    return [
        DynamicSchemaItem(
            location=s.location, operation_id=s.operation_id, properties=s.properties, schema=s.schema, error=s.error
        )
        for s in found
    ]


@router.post("/invoke", response_model=InvocationResult, tags=["calls"])
def invoke(body: Invocation, state: ServerState = Depends(_state)) -> Response:
    """Call an operation as the platform would; the request shown has every secret as ***."""
    with redacted_errors(state.environment, body.connection):
        result = state.environment.call(
            body.connection, body.operation, body.arguments, client=state.client, all_pages=body.all_pages
        )
    shown = present(result, Redactor(result.secrets))
    # Built and checked by present(); serialised once here instead of validated again by FastAPI.
    return Response(shown.model_dump_json(by_alias=True), media_type="application/json")


@router.get("/history", response_model=list[HistoryItem], tags=["calls"])
def history(
    connection: str | None = Query(None, description="Only this connection's calls."),
    limit: int = Query(50, ge=1, le=1000),
    state: ServerState = Depends(_state),
) -> list[HistoryItem]:
    """The newest calls first; recorded already redacted."""
    if connection is not None:
        state.environment.store.get_connection(connection)
    return [HistoryItem(**dataclasses.asdict(r)) for r in state.environment.store.history(connection, limit)]


# triggers


def trigger_item(record: TriggerRecord, redactors: dict[str, Redactor]) -> TriggerItem:
    """The trigger as the API shows it: a last error that quotes one of the connection's secrets
    (a backend echoing a key in its error body) shows it as ***."""
    error = record.last_error
    if error and record.connection_id in redactors:
        error = redactors[record.connection_id].text(error)
    return TriggerItem(
        id=record.id,
        connection=record.connection_id,
        connector=record.connector,
        operation=record.operation_id,
        kind=record.kind,
        status=record.status,
        last_error=error,
        next_due_at=record.next_due_at,
        target=record.target_url,
        arguments=record.arguments,
        lease_owner=record.lease_owner,
        lease_expires_at=record.lease_expires_at,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def _one_trigger(environment: LocalEnvironment, record: TriggerRecord) -> TriggerItem:
    """One trigger; its connection's secrets are read only when there is an error to clean."""
    return trigger_item(record, connection_redactors(environment, [record.connection_id] if record.last_error else []))


def event_item(record: EventRecord, redactor: Redactor | None = None) -> EventItem:
    return EventItem(
        id=record.id,
        key=record.key,
        body=redactor.json(record.body) if redactor is not None else record.body,
        problems=record.problems,
        received_at=record.received_at,
        delivered_at=record.delivered_at,
        attempts=record.attempts,
    )


@router.get("/triggers", response_model=list[TriggerItem], tags=["triggers"])
def list_triggers(
    connection: str | None = Query(None, description="Only this connection's triggers."),
    state: ServerState = Depends(_state),
) -> list[TriggerItem]:
    """Every stored trigger, whoever started it (the API, the console or ``connectorkit listen``)."""
    records = state.environment.store.list_triggers(connection_id=connection)
    redactors = connection_redactors(state.environment, (r.connection_id for r in records if r.last_error))
    return [trigger_item(r, redactors) for r in records]


@router.post("/triggers", response_model=TriggerItem, status_code=201, tags=["triggers"])
def start_trigger(body: TriggerCreate, state: ServerState = Depends(_state)) -> TriggerItem:
    """Start a trigger. A webhook subscribes now (400 when the server has no public URL, 502 when
    the service refuses); a polling trigger is due at once and polled by the server's workers."""
    with redacted_errors(state.environment, body.connection):
        record = state.triggers.start(body.connection, body.operation, body.arguments, target_url=body.target)
    return _one_trigger(state.environment, record)


@router.get("/triggers/{trigger_id}", response_model=TriggerItem, tags=["triggers"])
def get_trigger(trigger_id: str, state: ServerState = Depends(_state)) -> TriggerItem:
    record = state.environment.store.get_trigger(trigger_id)
    return _one_trigger(state.environment, record)


@router.delete("/triggers/{trigger_id}", status_code=204, response_class=Response, tags=["triggers"])
def delete_trigger(trigger_id: str, state: ServerState = Depends(_state)) -> Response:
    """Stop a trigger: a webhook is unsubscribed first (a failed unsubscribe keeps the trigger and
    answers 502, so it can be retried); the trigger and its events are deleted."""
    record = state.environment.store.get_trigger(trigger_id)
    with redacted_errors(state.environment, record.connection_id):
        state.triggers.stop(trigger_id)
    return Response(status_code=204)


@router.get("/triggers/{trigger_id}/events", response_model=list[EventItem], tags=["triggers"])
def trigger_events(
    trigger_id: str,
    since: int = Query(0, ge=0, description="Only events with an id above this (the last id you read)."),
    limit: int = Query(100, ge=1, le=1000),
    ack: bool = Query(False, description="Mark the events returned as delivered (a reader that consumes them)."),
    state: ServerState = Depends(_state),
) -> list[EventItem]:
    """The trigger's kept events, oldest first; page with ``since`` set to the last id read. A
    body that echoes one of the connection's secrets shows it as ***."""
    store = state.environment.store
    trigger = store.get_trigger(trigger_id)
    redactor = Redactor(store.get_connection(trigger.connection_id).secret_values())
    records = store.events(trigger_id, since, limit)
    if ack:
        store.mark_delivered([r.id for r in records if r.delivered_at is None])
        records = store.events(trigger_id, since, limit) if records else records
    return [event_item(r, redactor) for r in records]


_REFUSED: dict[int | str, dict[str, Any]] = {
    502: {"model": Problem, "content": {PROBLEM_TYPE: {}}, "description": "The service refused the (un)subscribe call"}
}


@contextmanager
def _refusals_are_backend_errors() -> Iterator[None]:
    """A webhook service that refuses a subscribe or unsubscribe call is the backend failing
    (502), not the server (500); connectorkit's own error types keep their statuses."""
    try:
        yield
    except ConnectorkitError as exc:
        if type(exc) is not ConnectorkitError:
            raise
        raise BackendError(str(exc)) from None


@router.post("/triggers/{trigger_id}/stop", response_model=TriggerItem, tags=["triggers"], responses=_REFUSED)
def pause_trigger(trigger_id: str, state: ServerState = Depends(_state)) -> TriggerItem:
    """Stop a trigger but keep it, its state and its events (status ``stopped``): a polling trigger
    is no longer polled, a webhook is unsubscribed and its callbacks answer 404. A failed
    unsubscribe answers 502 and changes nothing; stopping a stopped trigger changes nothing."""
    record = state.environment.store.get_trigger(trigger_id)
    with _refusals_are_backend_errors(), redacted_errors(state.environment, record.connection_id):
        record = state.triggers.pause(trigger_id)
    return _one_trigger(state.environment, record)


@router.post("/triggers/{trigger_id}/start", response_model=TriggerItem, tags=["triggers"], responses=_REFUSED)
def resume_trigger(trigger_id: str, state: ServerState = Depends(_state)) -> TriggerItem:
    """Start a stopped trigger again (also one left ``unauthenticated`` or in ``error``): status
    ``active``. A polling trigger is due at once and polls on from its kept cursor; a webhook
    subscribes again with a new callback URL under the server's public URL (400 without one, 502
    when the service refuses, the trigger then unchanged). Starting an active trigger changes nothing."""
    record = state.environment.store.get_trigger(trigger_id)
    with _refusals_are_backend_errors(), redacted_errors(state.environment, record.connection_id):
        record = state.triggers.resume(trigger_id)
    return _one_trigger(state.environment, record)
