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
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectorkit.definition.jsontext import escape_pointer_token
from connectorkit.definition.models import ConnectionParameter
from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import Operation, Swagger
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.lint.values import json_type
from connectorkit.publish.zips import ZipLimits, open_zip
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import Result
from connectorkit.runtime.oauth import oauth_parameter, sub_parameter_names
from connectorkit.runtime.request import find_operation
from connectorkit.runtime.schemacheck import ValidationError, draft4_validator, pointer_of, schema_errors
from connectorkit.runtime.store.repository import EventRecord, TriggerRecord
from connectorkit.server import describe
from connectorkit.server.api import connector_detail, find_connection, needs_sign_in, redacted_errors, redirect_uri
from connectorkit.server.app import Forbidden, Unauthorized, state_of, status_for
from connectorkit.server.present import Redactor, connection_redactors, present
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
async def connector_page(request: Request, name: str, deployed: int | None = None) -> Response:
    _session(request)
    environment = state_of(request).environment
    detail = await _blocking(connector_detail, environment, name)
    connections = await _blocking(environment.connections, name)
    message = f"Deployed {name}, version {deployed}." if deployed is not None else None
    return render(request, "connector.html", title=name, connector=detail, connections=connections, message=message)


# uploading a connector

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_FILES = 50
_MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the files themselves
_ZIP_MAGIC = b"PK\x03\x04"
_IGNORED_PARTS = {"__MACOSX", ".DS_Store", ".git"}


def _upload_page(request: Request, status: int = 200, error: str | None = None, name: str = "") -> Response:
    limit = MAX_UPLOAD_BYTES // (1024 * 1024)
    return render(
        request, "upload.html", status, title="Upload a connector", error=error, connector_name=name, limit=limit
    )


@router.get("/upload")
async def upload_page(request: Request) -> Response:
    _session(request)
    return _upload_page(request)


@router.post("/upload")
async def upload(request: Request) -> Response:
    """Deploy the connector in the posted files (a folder's files, or one .zip of it). Any bad
    input shows the form again with one line saying what is wrong, and nothing is stored."""
    session = _session(request)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPLOAD_BYTES + _MULTIPART_SLACK:
        return _upload_page(request, 413, f"files: the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    try:
        form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=10)
    except StarletteHTTPException as exc:
        return _upload_page(request, 400, f"files: {exc.detail}")
    csrf = form.get("csrf")
    if not isinstance(csrf, str) or not same(csrf, session.csrf):
        await form.close()
        raise Forbidden("the form's CSRF token is missing or stale; reload the page and try again")
    name_field = form.get("name")
    name = name_field.strip() if isinstance(name_field, str) else ""
    uploads = [item for item in form.getlist("files") if isinstance(item, UploadFile) and item.filename]
    if sum(item.size or 0 for item in uploads) > MAX_UPLOAD_BYTES:
        await form.close()
        return _upload_page(request, 413, f"files: the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB", name)
    try:
        files = {item.filename or "": await item.read() for item in uploads}
        package = await _blocking(package_from_upload, files)
        deployed, version = await _blocking(state_of(request).environment.deploy, package, name or None)
    except ConnectorkitError as exc:
        return _upload_page(request, status_for(exc), str(exc), name)
    finally:
        await form.close()
    return RedirectResponse(f"/console/connectors/{quote(deployed)}?deployed={version}", status_code=303)


def package_from_upload(files: Mapping[str, bytes]) -> ConnectorPackage:
    """A package from uploaded files: one zip of the folder is unpacked, a folder's files are
    taken as they are; a single top folder (a zipped or picked folder) is stripped."""
    if not files:
        raise InputError("files: choose the connector's files or a .zip of its folder")
    total = sum(len(data) for data in files.values())
    if total > MAX_UPLOAD_BYTES:
        raise InputError(f"files: the upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    if len(files) == 1:
        ((filename, data),) = files.items()
        if filename.lower().endswith(".zip") or data.startswith(_ZIP_MAGIC):
            return ConnectorPackage.from_files(_strip_top_folder(_unzip(filename, data)), _label(filename))
    contents = {_inside_path(filename, "files"): data for filename, data in files.items()}
    return ConnectorPackage.from_files(_strip_top_folder(contents), "upload")


def _label(filename: str) -> str:
    return PurePosixPath(filename.replace("\\", "/")).name or "upload"


def _inside_path(name: str, where: str) -> str:
    """``name`` as a relative path inside the connector folder; an InputError for anything that
    could land outside it (absolute, ``..``, backslashes, drive letters)."""
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name or ":" in path.parts[0]:
        raise InputError(f"{where}: {name!r} is not a relative path inside the connector folder")
    return str(path)


def _unzip(filename: str, data: bytes) -> dict[str, bytes]:
    """The zip's files by path, read as untrusted (``publish.zips``: no paths outside the folder,
    size and ratio caps checked from the directory and again while inflating)."""
    limits = ZipLimits(max_entries=MAX_UPLOAD_FILES * 20, max_total_size=MAX_UPLOAD_BYTES)
    with open_zip(data, source=filename, limits=limits) as archive:
        names = [name for name in archive.names() if not _IGNORED_PARTS & set(PurePosixPath(name).parts)]
        if len(names) > MAX_UPLOAD_FILES:
            raise InputError(f"{filename}: at most {MAX_UPLOAD_FILES} files, the zip has {len(names)}")
        return {_inside_path(name, filename): archive.read(name) for name in names}


def _strip_top_folder(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Files of a picked or zipped folder all start with its name; the package wants them at
    its root, as a folder on disk is read."""
    kept = {path: data for path, data in files.items() if not _IGNORED_PARTS & set(PurePosixPath(path).parts)}
    tops = {PurePosixPath(path).parts[0] for path in kept}
    if len(tops) == 1 and all(len(PurePosixPath(path).parts) > 1 for path in kept):
        return {str(PurePosixPath(*PurePosixPath(path).parts[1:])): data for path, data in kept.items()}
    return kept


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
async def connections_page(request: Request, created: str | None = None, signed_in: str | None = None) -> Response:
    _session(request)
    message = (
        f"Created connection {created}."
        if created
        else f"Signed in again: connection {signed_in} has new tokens."
        if signed_in
        else None
    )
    return await _connections(request, message=message)


REFRESH_FAILED = "Failed to refresh access token"


@dataclass
class ConnectionsView:
    """What the connections page adds to each connection: whether it signs in through a browser
    (and so can be fixed by signing in again), and why it needs that now, if it does."""

    sign_in: set[str] = field(default_factory=set)
    broken: dict[str, str] = field(default_factory=dict)


def _connections_view(environment: LocalEnvironment, items: list[Any]) -> ConnectionsView:
    """One history lookup per OAuth connection: its newest call failing to refresh the access
    token is what the platform answers "Fix connection" to (runtime-semantics.md section 2.4)."""
    view = ConnectionsView()
    for item in items:
        try:
            if not needs_sign_in(environment, item.connector, item.parameter_set):
                continue
        except ConnectorkitError:
            continue  # a connector that no longer loads: its own page says why
        view.sign_in.add(item.id)
        newest = environment.store.history(item.id, 1)
        if newest and newest[0].error and newest[0].error.startswith(REFRESH_FAILED):
            view.broken[item.id] = "Its last call could not refresh the access token: sign in again."
        elif not item.has_access_token:
            view.broken[item.id] = "Not signed in."
    return view


async def _connections(request: Request, status: int = 200, **context: Any) -> Response:
    environment = state_of(request).environment
    items = await _blocking(environment.connections)
    view = await _blocking(_connections_view, environment, items)
    return render(request, "connections.html", status, title="Connections", connections=items, view=view, **context)


@dataclass
class ReconnectForm:
    """The small form shown when signing in again needs values the connection does not hold
    (the OAuth app's client secret, when it was never stored)."""

    connection: str
    connector: str
    fields: list[ConnectionField]
    values: dict[str, str] = field(default_factory=dict)


def _reconnect_form(environment: LocalEnvironment, connection_id: str) -> ReconnectForm:
    summary = find_connection(environment, connection_id)
    declared = environment.declared_parameters(summary.connector, summary.parameter_set)
    fields = _oauth_client_fields(declared, set())
    values = {f.name: str(summary.parameters[f.name]) for f in fields if not f.secret and f.name in summary.parameters}
    return ReconnectForm(connection_id, summary.connector, fields, values)


@router.post("/connections/{connection_id}/sign-in")
async def sign_in_again(request: Request, connection_id: str) -> Response:
    """ "Fix connection": a new OAuth sign-in for an existing connection, which keeps its id and
    values and gets new tokens when the provider redirects back. Client id and secret come from
    the connection unless the (re-shown) form gives them."""
    _, posted = await _posted(request)
    state = state_of(request)
    summary = await _blocking(find_connection, state.environment, connection_id)
    given = {key[len(PARAM) :]: value for key, value in posted.items() if key.startswith(PARAM) and value != ""}
    try:
        if not needs_sign_in(state.environment, summary.connector, summary.parameter_set):
            raise InputError(f"connection {connection_id} does not sign in through a browser; create a new one")
        sign_in = await _blocking(
            state.environment.begin_sign_in,
            summary.connector,
            given,
            redirect_uri=redirect_uri(request),
            parameter_set=summary.parameter_set,
            connection_id=connection_id,
            client=state.client,
        )
    except ConnectorkitError as exc:
        form = await _blocking(_reconnect_form, state.environment, connection_id)
        secret_names = {f.name for f in form.fields if f.secret}
        form.values.update({k: v for k, v in given.items() if k not in secret_names})
        title = f"Sign in again: {connection_id}"
        shown = Redactor([given[name] for name in secret_names if name in given]).text(str(exc))
        return render(request, "reconnect.html", status_for(exc), title=title, form=form, error=shown)
    return RedirectResponse(sign_in.url, status_code=303)


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


async def _operation_context(request: Request, name: str, operation: str) -> tuple[OperationPage, list[Any]]:
    environment = state_of(request).environment
    package = await _blocking(environment.package, name)
    detail = describe.describe_operation(package, name, operation)
    op = find_operation(package.swagger, operation)
    connections = await _blocking(environment.connections, name)
    return OperationPage(package.swagger, op, detail, declares_dynamic_schema(package.swagger, op)), connections


@dataclass
class OperationPage:
    swagger: Swagger
    op: Operation
    detail: OperationDetail
    dynamic_schema: bool


def _page_context(page: OperationPage, fields: list[FormField], connections: list[Any], chosen: str) -> dict[str, Any]:
    return {
        "title": f"{page.detail.connector}: {page.detail.operation_id}",
        "operation": page.detail,
        "fields": fields,
        "connections": connections,
        "chosen": chosen,
        "all_pages": False,
        "result": None,
        "warnings": [],
        "dynamic_schema": page.dynamic_schema,
        "pretty": _pretty,
        "forward": "",
        "public_url": None,
    }


@router.get("/connectors/{name}/operations/{operation}")
async def operation_page(request: Request, name: str, operation: str, connection: str | None = None) -> Response:
    _session(request)
    page, connections = await _operation_context(request, name, operation)
    chosen = connection or (connections[-1].id if connections else "")
    context = _page_context(page, operation_fields(page.detail, None), connections, chosen)
    context["public_url"] = state_of(request).triggers.public_url
    return render(request, "operation.html", **context)


@router.post("/connectors/{name}/operations/{operation}")
async def run_operation(request: Request, name: str, operation: str) -> Response:
    _, posted = await _posted(request)
    state = state_of(request)
    page, connections = await _operation_context(request, name, operation)
    fields = operation_fields(page.detail, posted)
    chosen = posted.get("connection", "")
    context = _page_context(page, fields, connections, chosen)
    context["public_url"] = state.triggers.public_url
    context["all_pages"] = posted.get("all_pages") == "on"
    if not any(c.id == chosen for c in connections):
        return render(request, "operation.html", 400, error="Choose a connection of this connector first.", **context)

    def run() -> tuple[Any, list[str]]:
        with redacted_errors(state.environment, chosen):
            arguments = arguments_from(fields, posted)
            result = state.environment.call(
                chosen, operation, arguments, client=state.client, all_pages=context["all_pages"]
            )
        redactor = Redactor(result.secrets)
        warnings = [redactor.text(w) for w in response_warnings(page.swagger, page.op, result)]
        return present(result, redactor), warnings

    try:
        context["result"], context["warnings"] = await _blocking(run)
    except ConnectorkitError as exc:
        return render(request, "operation.html", status_for(exc), error=str(exc), **context)
    return render(request, "operation.html", **context)


# dynamic schemas

DYNAMIC_SCHEMA_KEYS = ("x-ms-dynamic-schema", "x-ms-dynamic-properties")


def declares_dynamic_schema(swagger: Swagger, op: Operation) -> bool:
    """Whether x-ms-dynamic-schema / -properties appears anywhere in the operation's parameters
    or responses (following local $refs once each), so the page offers to fetch them."""
    seen: set[str] = set()

    def walk(node: Any) -> bool:
        if isinstance(node, list):
            return any(walk(item) for item in node)
        if not isinstance(node, dict):
            return False
        ref = node.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return False
            seen.add(ref)
            return walk(swagger.resolve(ref))
        return any(key in node for key in DYNAMIC_SCHEMA_KEYS) or any(walk(value) for value in node.values())

    return walk([param.raw for param in op.parameters]) or walk(op.raw.get("responses"))


# the response check

MAX_WARNINGS = 20


def response_warnings(swagger: Swagger, op: Operation, result: Result) -> list[str]:
    """The response body against the operation's declared schema for its status (or
    ``default``), as the designer's Test page flags mismatches (runtime-semantics.md section
    7.7), checked as runtime/schemacheck.py checks. No schema or no JSON: nothing."""
    pointer = _declared_schema(swagger, op, result.response.status)
    if pointer is None:
        return []
    pages = result.pages if len(result.pages) > 1 else [result.response]
    validator = draft4_validator(swagger, pointer)
    warnings: list[str] = []
    for number, response in enumerate(pages, start=1):
        if not response.has_json:
            continue
        where = f"page {number} response body" if len(pages) > 1 else "response body"
        for error in schema_errors(validator, response.json):
            warnings.append(_describe(where, error))
    if len(warnings) > MAX_WARNINGS:
        warnings = [*warnings[:MAX_WARNINGS], f"… and {len(warnings) - MAX_WARNINGS} more mismatches"]
    return warnings


def _declared_schema(swagger: Swagger, op: Operation, status: int) -> str | None:
    """The JSON pointer of the schema declared for ``status`` (else ``default``), if any."""
    responses = op.raw.get("responses")
    if not isinstance(responses, dict):
        return None
    key = str(status) if str(status) in responses else "default" if "default" in responses else None
    if key is None:
        return None
    declared, pointer = swagger.deref(responses[key], f"{op.pointer}/responses/{escape_pointer_token(key)}")
    if not isinstance(declared, dict) or not isinstance(declared.get("schema"), dict):
        return None
    return f"{pointer}/schema"


def _describe(where: str, error: ValidationError) -> str:
    """One mismatch, naming the JSON pointer; values of the body are not repeated (they are on
    the page already, redacted), except through jsonschema's own wording for rarer keywords."""
    pointer = pointer_of(error)
    place = f"{where} {pointer}" if pointer else where
    expected = error.validator_value
    if error.validator == "type":
        shown = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"{place}: expected {shown}, got {json_type(error.instance)}"
    if error.validator == "required":
        return f"{place}: {error.message}"
    if error.validator == "enum":
        return f"{place}: not one of the declared values"
    if error.validator == "additionalProperties":
        return f"{place}: {error.message}"
    return f"{place}: does not meet {error.validator} {json.dumps(expected, ensure_ascii=False)[:80]}"


# history


@router.get("/history")
async def history_page(request: Request, connection: str | None = None) -> Response:
    _session(request)
    store = state_of(request).environment.store
    records = await _blocking(store.history, connection or None, 100)
    return render(request, "history.html", title="Call history", records=records, connection=connection or "")


# triggers

EVENTS_SHOWN = 100
"""Events a trigger page renders itself; the page's script reads the rest from the events API."""


@dataclass
class TriggerView:
    """One trigger as the console shows it: its error cut free of the connection's secrets and
    its forward URL without credentials or query (either may carry a signature)."""

    id: str
    connection: str
    connector: str
    operation: str
    kind: str
    status: str
    last_error: str | None
    next_due: str
    target: str | None
    created: str
    arguments: str


@dataclass
class EventView:
    id: int
    key: str
    received: str
    problems: list[str]
    body: str


def when(moment: datetime | None) -> str:
    """A stored time (the store hands back aware UTC times) as UTC text."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def shown_target(url: str | None) -> str | None:
    """The forward URL without user info and with its query masked: what it points at, not its key."""
    if url is None:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "***" if parts.query else "", ""))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def trigger_views(environment: LocalEnvironment, records: list[TriggerRecord]) -> list[TriggerView]:
    """The triggers for the page; secrets are opened only for connections whose trigger has an error."""
    redactors = connection_redactors(environment, {r.connection_id for r in records if r.last_error})
    views = []
    for record in records:
        error = record.last_error
        if error is not None:
            error = _one_line(redactors[record.connection_id].text(error))
        views.append(
            TriggerView(
                id=record.id,
                connection=record.connection_id,
                connector=record.connector,
                operation=record.operation_id,
                kind=record.kind,
                status=record.status,
                last_error=error,
                next_due=when(record.next_due_at) if record.kind == "polling" else "on callback",
                target=shown_target(record.target_url),
                created=when(record.created_at),
                arguments=json.dumps(record.arguments, ensure_ascii=False) if record.arguments else "",
            )
        )
    return views


def event_views(redactor: Redactor, records: list[EventRecord]) -> list[EventView]:
    return [
        EventView(
            id=r.id,
            key=r.key,
            received=when(r.received_at),
            problems=[redactor.text(p) for p in r.problems],
            body=_pretty(redactor.json(r.body)),
        )
        for r in records
    ]


async def _triggers(request: Request, status: int = 200, **context: Any) -> Response:
    environment = state_of(request).environment

    def load() -> list[TriggerView]:
        return trigger_views(environment, environment.store.list_triggers())

    views = await _blocking(load)
    return render(request, "triggers.html", status, title="Triggers", triggers=views, **context)


@router.get("/triggers")
async def triggers_page(request: Request, stopped: str | None = None) -> Response:
    _session(request)
    return await _triggers(request, message=f"Stopped trigger {stopped}." if stopped else None)


@router.get("/triggers/{trigger_id}")
async def trigger_page(
    request: Request, trigger_id: str, started: int | None = None, paused: int | None = None, resumed: int | None = None
) -> Response:
    """One trigger and its kept events; the page's script appends new events as they arrive."""
    _session(request)
    environment = state_of(request).environment

    def load() -> tuple[TriggerView, list[EventView]]:
        record = environment.store.get_trigger(trigger_id)
        (view,) = trigger_views(environment, [record])
        records = environment.store.events(trigger_id, 0, EVENTS_SHOWN)
        redactor = connection_redactors(environment, {record.connection_id})[record.connection_id]
        return view, event_views(redactor, records)

    view, events = await _blocking(load)
    message = f"Started trigger {trigger_id}." if started else None
    if paused:
        message = f"Stopped trigger {trigger_id}; its state and events are kept until you start it again."
    elif resumed:
        message = f"Started trigger {trigger_id} again."
    since = events[-1].id if events else 0
    return render(
        request, "trigger.html", title=f"Trigger {view.operation}", trigger=view, events=events, since=since,
        message=message,
    )  # fmt: skip


@router.post("/triggers/{trigger_id}/stop")
async def stop_trigger(request: Request, trigger_id: str) -> Response:
    """Stop and delete a trigger (a webhook unsubscribes first). A failure keeps the trigger and
    shows one line saying why, so the user can try again."""
    await _posted(request)
    state = state_of(request)

    def run() -> None:
        record = state.environment.store.get_trigger(trigger_id)
        with redacted_errors(state.environment, record.connection_id):
            state.triggers.stop(trigger_id)

    try:
        await _blocking(run)
    except ConnectorkitError as exc:
        return await _triggers(request, status_for(exc), error=_one_line(f"Trigger {trigger_id}: {exc}"))
    return RedirectResponse(f"/console/triggers?stopped={quote(trigger_id)}", status_code=303)


@router.post("/triggers/{trigger_id}/pause")
async def pause_trigger(request: Request, trigger_id: str) -> Response:
    """Stop a trigger but keep it (the "Stop" button; ``POST /api/triggers/{id}/stop``)."""
    return await _switch_trigger(request, trigger_id, pause=True)


@router.post("/triggers/{trigger_id}/resume")
async def resume_trigger(request: Request, trigger_id: str) -> Response:
    """Start a stopped trigger again (the "Start" button; ``POST /api/triggers/{id}/start``)."""
    return await _switch_trigger(request, trigger_id, pause=False)


async def _switch_trigger(request: Request, trigger_id: str, *, pause: bool) -> Response:
    """Pause or resume through the server's TriggerService, then show the trigger; a failure (an
    unsubscribe or subscribe the service refused, no public URL) keeps the trigger as it was and
    shows one line saying why."""
    await _posted(request)
    state = state_of(request)

    def run() -> None:
        record = state.environment.store.get_trigger(trigger_id)
        with redacted_errors(state.environment, record.connection_id):
            (state.triggers.pause if pause else state.triggers.resume)(trigger_id)

    try:
        await _blocking(run)
    except ConnectorkitError as exc:
        return await _triggers(request, status_for(exc), error=_one_line(f"Trigger {trigger_id}: {exc}"))
    done = "paused" if pause else "resumed"
    return RedirectResponse(f"/console/triggers/{quote(trigger_id)}?{done}=1", status_code=303)


def forward_target(posted: Mapping[str, str]) -> str | None:
    """The optional forward URL of the start form: empty keeps events for reading here."""
    raw = posted.get("forward", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("forward: expected an absolute http(s) URL (or leave it empty to keep the events here)")
    return raw


@router.post("/connectors/{name}/operations/{operation}/trigger")
async def start_trigger(request: Request, name: str, operation: str) -> Response:
    """Start the operation as a trigger through the server's shared TriggerService (the same as
    ``POST /api/triggers``): a polling trigger is due at once, a webhook subscribes now."""
    _, posted = await _posted(request)
    state = state_of(request)
    page, connections = await _operation_context(request, name, operation)
    fields = operation_fields(page.detail, posted)
    chosen = posted.get("connection", "")
    context = _page_context(page, fields, connections, chosen)
    context["forward"] = posted.get("forward", "")
    context["public_url"] = state.triggers.public_url
    if not any(c.id == chosen for c in connections):
        return render(request, "operation.html", 400, error="Choose a connection of this connector first.", **context)

    def run() -> str:
        with redacted_errors(state.environment, chosen):
            if page.op.trigger_kind is None:
                raise InputError(f"operation {operation!r} is an action, not a trigger (it has no x-ms-trigger)")
            arguments = arguments_from(fields, posted)
            target = forward_target(posted)
            return state.triggers.start(chosen, page.detail.operation_id, arguments, target_url=target).id

    try:
        trigger_id = await _blocking(run)
    except ConnectorkitError as exc:
        return render(request, "operation.html", status_for(exc), error=_one_line(str(exc)), **context)
    return RedirectResponse(f"/console/triggers/{quote(trigger_id)}?started=1", status_code=303)
