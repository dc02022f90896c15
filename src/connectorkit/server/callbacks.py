"""``POST /callbacks/{token}``: where webhook services deliver trigger events.

No bearer token: the unguessable path token *is* the credential (only its SHA-256 is stored), as
with the platform's own ``listCallbackUrl()``. So the token never appears in a log line, an
error or a response; uvicorn runs with its access log off. An unknown token is a 404 problem
document with nothing recorded; a body over :data:`MAX_BODY` bytes is a 413; a recorded callback
is a 202 (its events, problems included, are in the store: ``connectorkit listen`` prints them).

``create_app`` (``connectorkit serve``) includes :data:`router`; :func:`callbacks_app` is the small
app ``connectorkit listen`` runs itself when no server answers on its port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectorkit import __version__
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.listening import TriggerService
from connectorkit.runtime.webhooks import CALLBACK_PREFIX
from connectorkit.server.app import problem
from connectorkit.server.redirect import HEALTH_PATH, SERVICE

CALLBACK_ROUTE = CALLBACK_PREFIX + "{token}"
MAX_BODY = 1024 * 1024
"""Largest callback body accepted (1 MiB): a notification is small; this bounds memory per request."""
_SERVICE_ATTRIBUTE = "trigger_service"


def _service(request: Request) -> TriggerService:
    """The app's :class:`TriggerService`: set by :func:`callbacks_app`, made on first use over
    the ``serve`` app's environment and client."""
    state = request.app.state
    service: TriggerService | None = getattr(state, _SERVICE_ATTRIBUTE, None)
    if service is None:
        server = state.server
        service = TriggerService(server.environment, client=server.client)
        setattr(state, _SERVICE_ATTRIBUTE, service)
    return service


async def _read_capped(request: Request) -> bytes | None:
    """The body, or None when it is longer than :data:`MAX_BODY` (stops reading there)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def receive_callback(request: Request) -> Response:
    """One callback: 202 when recorded, 404 for an unknown token, 413 for an oversized body."""
    token = str(request.path_params["token"])
    body = await _read_capped(request)
    if body is None:
        return problem(413, f"callback bodies are limited to {MAX_BODY} bytes")
    headers = {name: value for name, value in request.headers.items()}
    stored = await run_in_threadpool(_service(request).receive, token, body, headers)
    if stored is None:
        return problem(404, "no trigger listens at this callback URL (it was stopped or never existed)")
    return JSONResponse({"stored": len(stored)}, status_code=202)


router = APIRouter()
router.add_route(CALLBACK_ROUTE, receive_callback, methods=["POST"], include_in_schema=False)


def callbacks_app(store_url: str | None, *, environment: LocalEnvironment | None = None) -> Starlette:
    """Just ``POST /callbacks/{token}`` and ``GET /api/health`` over the store at ``store_url``
    (the default store when None), or over ``environment`` when given (the caller closes it)."""
    from connectorkit.runtime.store import open_store

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = open_store(store_url) if environment is None else None
        env = environment if store is None else LocalEnvironment(store)
        assert env is not None
        client = httpx.Client(timeout=30)
        setattr(app.state, _SERVICE_ATTRIBUTE, TriggerService(env, client=client))
        try:
            yield
        finally:
            client.close()
            if store is not None:
                store.close()

    def health(request: Request) -> JSONResponse:
        return JSONResponse({"service": SERVICE, "version": __version__})

    return Starlette(
        routes=[
            Route(CALLBACK_ROUTE, receive_callback, methods=["POST"]),
            Route(HEALTH_PATH, health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
