"""The ``connectorkit serve`` application: the management API under /api, the console under
/console, static files and the OAuth redirect endpoint.

One app holds one :class:`LocalEnvironment` over one store, one shared ``httpx.Client`` for
backend calls and one :class:`TriggerService` (the trigger API and the callbacks route share it);
with ``worker=True`` a :class:`Worker` thread polls and forwards the triggers while the app runs.
All are stopped or closed when the app shuts down (the worker first, giving back its leases). Errors never reach a client as a
traceback: API errors are RFC 9457 problem documents, console errors are an HTML page.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectorkit import __version__
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.config import RuntimeConfig
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import BackendError, CustomCodeError
from connectorkit.runtime.listening import TriggerService, Worker
from connectorkit.runtime.store import NotFoundError, Store, open_store
from connectorkit.runtime.triggers import TriggerOptions
from connectorkit.server.redirect import REDIRECT_PATH, handle_redirect
from connectorkit.server.security import SESSION_COOKIE, TOKEN_FILE_NAME, Gate, load_token

log = logging.getLogger("connectorkit.server")

HERE = Path(__file__).resolve().parent
PROBLEM_TYPE = "application/problem+json"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self' https: http:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class Unauthorized(Exception):
    """No valid API token or console session came with the request."""


class Forbidden(ConnectorkitError):
    """A console form came without its session's CSRF token (a forged or stale request)."""


@dataclass
class ServerState:
    environment: LocalEnvironment
    client: httpx.Client
    token: str
    token_file: Path | None
    gate: Gate
    templates: Jinja2Templates
    triggers: TriggerService
    worker: Worker | None = None


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.server
    return state


def create_app(
    store_url: str | None = None,
    *,
    token: str | None = None,
    token_file: Path | None = None,
    store: Store | None = None,
    client: httpx.Client | None = None,
    config: RuntimeConfig | None = None,
    public_url: str | None = None,
    trigger_options: TriggerOptions | None = None,
    lease_seconds: float = 120.0,
    poll_threads: int = 4,
    worker: bool = False,
    worker_tick: float = 1.0,
) -> FastAPI:
    """The server app over the store at ``store_url`` (default: ``CONNECTORKIT_DB``, else the user
    data folder), or over ``store`` when given (the caller then closes it).

    The API token is ``token`` when given, else read from ``token_file`` (default: ``server-token``
    beside the store's key file), created with mode 0600 on first start. ``config`` holds the
    runtime settings (the platform's defaults when None).

    Triggers: ``public_url`` is the base webhook services call back (``/callbacks/<token>`` under
    it; None refuses webhook triggers), ``trigger_options``, ``lease_seconds`` and ``poll_threads``
    (polls run at once) shape polling,
    and ``worker`` runs a :class:`Worker` thread (waking at least every ``worker_tick`` seconds)
    from startup to shutdown.
    """
    owned_store = store is None
    store = store or open_store(store_url)
    try:
        if token is None:
            token_file = token_file or store.key_file.parent / TOKEN_FILE_NAME
            token = load_token(token_file)
        elif len(token) < 16:
            raise InputError("the API token must be at least 16 characters")
    except BaseException:
        if owned_store:
            store.close()
        raise
    owned_client = client is None
    shared = client or httpx.Client()
    environment = LocalEnvironment(store, config=config)
    triggers = TriggerService(
        environment,
        client=shared,
        options=trigger_options,
        public_url=public_url,
        lease_seconds=lease_seconds,
        concurrency=poll_threads,
    )
    runner = Worker(triggers, tick=worker_tick) if worker else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if runner is not None:
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()
            if owned_client:
                shared.close()
            if owned_store:
                store.close()

    app = FastAPI(
        title="connectorkit management API",
        version=__version__,
        description="Connectors, connections and test calls of the connectorkit local hosting environment.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.server = ServerState(
        environment=environment,
        client=shared,
        token=token,
        token_file=token_file,
        gate=Gate(),
        templates=_templates(),
        triggers=triggers,
        worker=runner,
    )
    app.state.trigger_service = triggers  # the callbacks route's service (server/callbacks.py)
    _install_error_handlers(app)

    app.add_middleware(SecurityHeaders)

    from connectorkit.server import api, callbacks, console

    app.include_router(callbacks.router)
    app.include_router(api.public)
    app.include_router(api.router)
    app.include_router(console.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=303)

    @app.get(REDIRECT_PATH, include_in_schema=False)
    def oauth_redirect(request: Request) -> Response:
        """Where the identity provider sends the browser back; a console user lands on the
        connections page, anyone else gets the redirect endpoint's own page."""
        state = state_of(request)
        status, page = handle_redirect(state.environment, request.query_params, state.client)
        signed_in = state.gate.session(request.cookies.get(SESSION_COOKIE)) is not None
        sign_in_state = request.query_params.get("state")
        if status == 200 and signed_in and sign_in_state:
            record = state.environment.store.get_sign_in(sign_in_state)
            connection_id = record.connection_id or ""
            kind = "signed_in" if record.target_connection_id else "created"
            return RedirectResponse(f"/console/connections?{kind}={quote(connection_id)}", status_code=303)
        return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})

    return app


class SecurityHeaders:
    """Adds the console's security headers to every page outside /api. Plain ASGI rather than
    ``@app.middleware``, which costs a second task and a copied body on every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.headers if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _templates() -> Jinja2Templates:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=environment)


def status_for(error: ConnectorkitError) -> int:
    """The HTTP status an error becomes: the user's mistake is 4xx, the backend's 502."""
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, InputError):
        return 400
    if isinstance(error, CustomCodeError):
        return 501
    if isinstance(error, BackendError):
        return 502
    return 500


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Payload too large",
    422: "Invalid request",
    500: "Server error",
    501: "Not implemented locally",
    502: "Backend error",
}


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def _is_api(request: Request) -> bool:
    return request.url.path == "/api" or request.url.path.startswith("/api/")


def _install_error_handlers(app: FastAPI) -> None:
    from connectorkit.server.console import error_page, login_redirect

    def answer(request: Request, status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
        if _is_api(request):
            return problem(status, detail, headers)
        return error_page(request, status, _TITLES.get(status, "Error"), detail)

    @app.exception_handler(ConnectorkitError)
    async def connectorkit_error(request: Request, exc: ConnectorkitError) -> Response:
        return answer(request, status_for(exc), str(exc))

    @app.exception_handler(Unauthorized)
    async def unauthorized(request: Request, exc: Unauthorized) -> Response:
        if not _is_api(request):
            return login_redirect(request)
        return problem(401, str(exc), {"WWW-Authenticate": 'Bearer realm="connectorkit"'})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        return answer(request, 422, _validation_detail(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return answer(request, exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> Response:
        # The message may carry request data; the log gets the type, the traceback only at debug level.
        log.error("internal error in %s %s: %s", request.method, request.url.path, type(exc).__name__)
        log.debug("internal error", exc_info=exc)
        return answer(request, 500, f"internal error ({type(exc).__name__}); see the server log")


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(step) for step in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"
