"""The web console: server-rendered pages over the same environment the API uses.

Pages work without JavaScript except the dynamic-values dropdowns, which a small script fills from
the choices API. Every POST form carries the session's CSRF token; secret inputs are password
fields that are never filled back in, and every request or response shown is redacted first.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from connectorkit.definition.models import ConnectionParameter
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.oauth import oauth_parameter, sub_parameter_names
from connectorkit.server import describe
from connectorkit.server.api import connector_detail, needs_sign_in, redacted_errors, redirect_uri
from connectorkit.server.app import Forbidden, Unauthorized, state_of, status_for
from connectorkit.server.present import Redactor, present
from connectorkit.server.schemas import ConnectionField, OperationDetail, ParameterItem
from connectorkit.server.security import LOGIN_CSRF_COOKIE, SESSION_COOKIE, Session, same

router = APIRouter(prefix="/console", include_in_schema=False)
T = TypeVar("T")
ARG = "arg."
PARAM = "param."


def _session(request: Request) -> Session:
    session = state_of(request).gate.session(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise Unauthorized("log in first")
    return session


async def _posted(request: Request) -> tuple[Session, dict[str, str]]:
    """The session and the form of a POST, after checking the form's CSRF token."""
    session = _session(request)
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    if not same(values.pop("csrf", None), session.csrf):
        raise Forbidden("the form's CSRF token is missing or stale; reload the page and try again")
    return session, values


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    state = state_of(request)
    session = state.gate.session(request.cookies.get(SESSION_COOKIE))
    context.setdefault("title", "connectorkit")
    context.setdefault("message", None)
    context.setdefault("error", None)
    response: HTMLResponse = state.templates.TemplateResponse(
        request,
        name,
        {"csrf": session.csrf if session else "", "signed_in": session is not None, **context},
        status_code=status,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return render(request, "error.html", status, title=title, detail=detail)


def login_redirect(request: Request) -> Response:
    return RedirectResponse("/console/login", status_code=303)


async def _blocking(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await run_in_threadpool(func, *args, **kwargs)


# login


def _start_session(request: Request) -> Response:
    session_id, _ = state_of(request).gate.open_session()
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict", path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/console/login")
    return response


def _login_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    """The login form, with a fresh double-submit CSRF token (there is no session to tie it to yet)."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status, title="Log in", login_csrf=token, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/console/login")
    return response


@router.get("/login")
def login(request: Request, code: str | None = None) -> Response:
    """With ``code`` (the one-time code ``serve`` prints): open a session. Without: the token form."""
    if code is not None:
        if state_of(request).gate.redeem_code(code):
            return _start_session(request)
        return _login_page(request, "That login link was already used or has expired. Log in with the API token.", 401)
    return _login_page(request)


@router.post("/login")
async def login_with_token(request: Request) -> Response:
    form = await request.form()
    csrf, token = form.get("csrf"), form.get("token")
    if not isinstance(csrf, str) or not same(request.cookies.get(LOGIN_CSRF_COOKIE), csrf):
        return _login_page(request, "The form expired; try again.", 403)
    if not isinstance(token, str) or not same(token.strip(), state_of(request).token):
        return _login_page(request, "That is not this server's API token.", 401)
    return _start_session(request)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _posted(request)
    state_of(request).gate.close_session(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# connectors


@router.get("/")
async def home(request: Request) -> Response:
    _session(request)
    connectors = await _blocking(state_of(request).environment.list)
    return render(request, "connectors.html", title="Connectors", connectors=connectors)


@router.get("/connectors/{name}")
async def connector_page(request: Request, name: str) -> Response:
    _session(request)
    environment = state_of(request).environment
    detail = await _blocking(connector_detail, environment, name)
    connections = await _blocking(environment.connections, name)
    return render(request, "connector.html", title=name, connector=detail, connections=connections)


# connections


@dataclass
class ConnectForm:
    connector: str
    parameter_set: str | None
    sets: list[tuple[str, str]]
    fields: list[ConnectionField]
    sign_in: bool
    values: dict[str, str] = field(default_factory=dict)


def _connect_form(environment: LocalEnvironment, connector: str, parameter_set: str | None) -> ConnectForm:
    sets = [(name, display) for name, display in environment.parameter_sets(connector)]
    if parameter_set is None and len(sets) == 1:
        parameter_set = sets[0][0]
    declared = environment.declared_parameters(connector, parameter_set) if parameter_set or not sets else {}
    fields = [f for f in describe.connection_fields(declared) if not f.hidden and not f.oauth]
    sign_in = bool(declared) and needs_sign_in(environment, connector, parameter_set)
    if sign_in:
        fields += _oauth_client_fields(declared, {f.name for f in fields})
    return ConnectForm(connector, parameter_set, sets, fields, sign_in)


def _oauth_client_fields(declared: Mapping[str, ConnectionParameter], shown: set[str]) -> list[ConnectionField]:
    """Client id and secret for bringing your own OAuth app: apiProperties may name the client id,
    but never carries the secret, so a local sign-in asks for both (unless declared already)."""
    found = oauth_parameter(declared)
    if found is None:
        return []
    name, spec = found
    names = sub_parameter_names(name)
    client_id = spec.oAuthSettings.clientId if spec.oAuthSettings else None
    extra = []
    if names["clientId"] not in shown:
        extra.append(
            ConnectionField(
                name=names["clientId"],
                type="string",
                display_name="Client ID",
                required=not client_id,
                secret=False,
                hidden=False,
                oauth=False,
                default=client_id,
            )
        )
    if names["clientSecret"] not in shown:
        extra.append(
            ConnectionField(
                name=names["clientSecret"],
                type="securestring",
                display_name="Client secret",
                required=False,
                secret=True,
                hidden=False,
                oauth=False,
            )
        )
    return extra


@router.get("/connectors/{name}/connect")
async def connect_page(request: Request, name: str, set: str | None = None) -> Response:
    _session(request)
    form = await _blocking(_connect_form, state_of(request).environment, name, set or None)
    return render(request, "connect.html", title=f"New connection: {name}", form=form)


@router.post("/connectors/{name}/connect")
async def connect(request: Request, name: str) -> Response:
    _, posted = await _posted(request)
    state = state_of(request)
    parameter_set = posted.get("parameter_set") or None
    form = await _blocking(_connect_form, state.environment, name, parameter_set)
    given = {key[len(PARAM) :]: value for key, value in posted.items() if key.startswith(PARAM) and value != ""}
    try:
        if form.sign_in:
            sign_in = await _blocking(
                state.environment.begin_sign_in,
                name,
                given,
                redirect_uri=redirect_uri(request),
                parameter_set=parameter_set,
                client=state.client,
            )
            return RedirectResponse(sign_in.url, status_code=303)
        connection_id = await _blocking(
            state.environment.create_connection, name, given, parameter_set=parameter_set, client=state.client
        )
    except ConnectorkitError as exc:
        secret_names = {f.name for f in form.fields if f.secret}
        form.values = {k: v for k, v in given.items() if k not in secret_names}  # secrets are never sent back
        return render(
            request, "connect.html", status_for(exc), title=f"New connection: {name}", form=form, error=str(exc)
        )
    return RedirectResponse(f"/console/connections?created={quote(connection_id)}", status_code=303)


@router.get("/connections")
async def connections_page(request: Request, created: str | None = None) -> Response:
    _session(request)
    message = f"Created connection {created}." if created else None
    return await _connections(request, message=message)


async def _connections(request: Request, status: int = 200, **context: Any) -> Response:
    items = await _blocking(state_of(request).environment.connections)
    return render(request, "connections.html", status, title="Connections", connections=items, **context)


@router.post("/connections/{connection_id}/test")
async def test_connection(request: Request, connection_id: str) -> Response:
    await _posted(request)
    state = state_of(request)

    def run() -> str:
        with redacted_errors(state.environment, connection_id):
            status, result = state.environment.test_connection(connection_id, client=state.client)
        shown = f" (HTTP {result.response.status})" if result else " (the connector has no test operation)"
        return f"Connection {connection_id}: {status}{shown}"

    try:
        message = await _blocking(run)
    except ConnectorkitError as exc:
        return await _connections(request, status_for(exc), error=f"Connection {connection_id}: {exc}")
    return await _connections(request, message=message)


@router.post("/connections/{connection_id}/delete")
async def delete_connection(request: Request, connection_id: str) -> Response:
    await _posted(request)
    await _blocking(state_of(request).environment.store.delete_connection, connection_id)
    return RedirectResponse("/console/connections", status_code=303)


# the operation test page


@dataclass
class FormField:
    """One input of the operation form."""

    name: str
    label: str
    location: str
    widget: str  # text, select, json, dynamic
    required: bool
    group: str  # main, advanced, internal
    value: str
    placeholder: str
    description: str | None
    options: list[tuple[str, str]]
    dynamic: bool


def _group(param: ParameterItem) -> str:
    if param.visibility == "internal":
        return "internal"
    if param.visibility == "advanced" and not param.required:
        return "advanced"
    return "main"


def _shown_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def operation_fields(detail: OperationDetail, submitted: Mapping[str, str] | None) -> list[FormField]:
    """Form inputs for the operation's parameters; internal and required ones start at their
    defaults, as the designer fills them (runtime-semantics.md §1.7, §7.7)."""
    fields = []
    for param in detail.parameters:
        group = _group(param)
        if param.location == "body":
            widget = "json"
            start = param.body_sample if param.default is None else param.default
            initial = json.dumps(start, indent=2, ensure_ascii=False) if start is not None else ""
        else:
            widget = "dynamic" if param.dynamic else "select" if param.enum or param.type == "boolean" else "text"
            initial = _shown_value(param.default) if group == "internal" or param.required else ""
        options: list[tuple[str, str]] = []
        if param.enum:
            options = [(_shown_value(v), _shown_value(v)) for v in param.enum]
        elif param.type == "boolean":
            options = [("true", "true"), ("false", "false")]
        value = submitted.get(ARG + param.name, "") if submitted is not None else initial
        placeholder = param.type or ""
        if param.format:
            placeholder += f" ({param.format})"
        if param.default is not None and widget != "json":
            placeholder += f", default {_shown_value(param.default)}"
        fields.append(
            FormField(
                name=param.name,
                label=param.summary or param.name,
                location=param.location,
                widget=widget,
                required=param.required,
                group=group,
                value=value,
                placeholder=placeholder.strip(", "),
                description=param.description,
                options=options,
                dynamic=param.dynamic is not None,
            )
        )
    return fields


def arguments_from(fields: list[FormField], submitted: Mapping[str, str]) -> dict[str, Any]:
    """The call's arguments: empty inputs are left out, JSON editors are parsed."""
    arguments: dict[str, Any] = {}
    for item in fields:
        raw = submitted.get(ARG + item.name, "")
        if raw.strip() == "":
            continue
        if item.widget == "json":
            try:
                arguments[item.name] = json.loads(raw)
            except ValueError as exc:
                raise InputError(f"{item.name}: not JSON ({exc})") from None
        else:
            arguments[item.name] = raw
    return arguments


def _pretty(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


async def _operation_context(request: Request, name: str, operation: str) -> tuple[OperationDetail, list[Any]]:
    environment = state_of(request).environment
    package = await _blocking(environment.package, name)
    detail = describe.describe_operation(package, name, operation)
    connections = await _blocking(environment.connections, name)
    return detail, connections


@router.get("/connectors/{name}/operations/{operation}")
async def operation_page(request: Request, name: str, operation: str, connection: str | None = None) -> Response:
    _session(request)
    detail, connections = await _operation_context(request, name, operation)
    chosen = connection or (connections[-1].id if connections else "")
    return render(
        request,
        "operation.html",
        title=f"{name}: {detail.operation_id}",
        operation=detail,
        fields=operation_fields(detail, None),
        connections=connections,
        chosen=chosen,
        all_pages=False,
        result=None,
        pretty=_pretty,
    )


@router.post("/connectors/{name}/operations/{operation}")
async def run_operation(request: Request, name: str, operation: str) -> Response:
    _, posted = await _posted(request)
    state = state_of(request)
    detail, connections = await _operation_context(request, name, operation)
    fields = operation_fields(detail, posted)
    chosen = posted.get("connection", "")
    all_pages = posted.get("all_pages") == "on"
    context: dict[str, Any] = {
        "title": f"{name}: {detail.operation_id}",
        "operation": detail,
        "fields": fields,
        "connections": connections,
        "chosen": chosen,
        "all_pages": all_pages,
        "result": None,
        "pretty": _pretty,
    }
    if not any(c.id == chosen for c in connections):
        return render(request, "operation.html", 400, error="Choose a connection of this connector first.", **context)

    def run() -> Any:
        with redacted_errors(state.environment, chosen):
            arguments = arguments_from(fields, posted)
            result = state.environment.call(chosen, operation, arguments, client=state.client, all_pages=all_pages)
        return present(result, Redactor(result.secrets))

    try:
        context["result"] = await _blocking(run)
    except ConnectorkitError as exc:
        return render(request, "operation.html", status_for(exc), error=str(exc), **context)
    return render(request, "operation.html", **context)


# history


@router.get("/history")
async def history_page(request: Request, connection: str | None = None) -> Response:
    _session(request)
    store = state_of(request).environment.store
    records = await _blocking(store.history, connection or None, 100)
    return render(request, "history.html", title="Call history", records=records, connection=connection or "")
