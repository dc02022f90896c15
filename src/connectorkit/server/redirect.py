"""The OAuth redirect endpoint: where an identity provider sends the browser after a sign-in.

``handle_redirect`` is the logic; ``connectorkit serve`` mounts it at ``GET /oauth/redirect``,
and ``redirect_app`` is the small app the CLI runs on its own when no server is listening. The
page it answers is short HTML with every dynamic part escaped; it names the connection made or
the reason the sign-in failed, never a code, token or secret.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from connectorkit import __version__
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.environment import LocalEnvironment

REDIRECT_PATH = "/oauth/redirect"
HEALTH_PATH = "/api/health"
SERVICE = "connectorkit"


def page(title: str, message: str) -> str:
    """A minimal HTML page; ``title`` and ``message`` are escaped here."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)} · connectorkit</title></head>\n"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>\n"
    )


def handle_redirect(environment: LocalEnvironment, query: Mapping[str, str], client: httpx.Client) -> tuple[int, str]:
    """Complete the sign-in the redirect's ``state`` names; returns (HTTP status, HTML page).

    400 for a redirect without state or with an unknown, used or expired one; 502 when the
    provider reported an error or its token endpoint refused the code; 200 when signed in.
    """
    state = query.get("state")
    if not state:
        return 400, page("Sign-in failed", "The redirect carries no state; start the sign-in again.")
    error = query.get("error")
    if error:
        description = query.get("error_description")
        error = f"{error}: {description}" if description else error
    try:
        connection_id = environment.complete_sign_in(state, code=query.get("code"), error=error, client=client)
    except InputError as exc:
        return 400, page("Sign-in failed", str(exc))
    except ConnectorkitError as exc:
        return 502, page("Sign-in failed", str(exc))
    return 200, page("Signed in", f"Signed in — connection {connection_id} created; you can close this tab.")


def redirect_app(store_url: str | None) -> Starlette:
    """Just ``GET /oauth/redirect`` and ``GET /api/health`` over the store at ``store_url`` (the
    default store when None): what the CLI listens with while a sign-in is pending."""
    from connectorkit.runtime.store import open_store

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = open_store(store_url)
        app.state.environment = LocalEnvironment(store)
        app.state.client = httpx.Client(timeout=30)
        try:
            yield
        finally:
            app.state.client.close()
            store.close()

    def redirect(request: Request) -> HTMLResponse:
        status, body = handle_redirect(request.app.state.environment, request.query_params, request.app.state.client)
        return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})

    def health(request: Request) -> JSONResponse:
        return JSONResponse({"service": SERVICE, "version": __version__})

    return Starlette(
        routes=[Route(REDIRECT_PATH, redirect, methods=["GET"]), Route(HEALTH_PATH, health, methods=["GET"])],
        lifespan=lifespan,
    )
