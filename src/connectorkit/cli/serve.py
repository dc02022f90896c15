"""``connectorkit serve``: the management API and the web console on a local port."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import typer

from connectorkit.cli.common import err, handle_errors, out
from connectorkit.cli.local import CONFIG_OPTION
from connectorkit.errors import InputError

DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def console_url(host: str, port: int, code: str) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/console/login?code={code}"


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @handle_errors
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback unless you mean it)."),
        port: int = typer.Option(DEFAULT_PORT, "--port", help="Port to listen on."),
        db: str | None = typer.Option(
            None, "--db", help="Store URL (default: CONNECTORKIT_DB, else SQLite in the user data folder)."
        ),
        token_file: Path | None = typer.Option(
            None, "--token-file", help="API token file (default: server-token next to the store's key file)."
        ),
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """Serve the management API (/api, token in the server-token file) and the web console."""
        import uvicorn

        from connectorkit.server.app import create_app

        if not 0 < port < 65536:
            raise InputError(f"--port {port}: must be between 1 and 65535")
        if not is_loopback(host):
            err.print(
                f"[bold yellow]warning:[/] listening on {host}: other machines can reach the API and console "
                "(over plain HTTP); use --host 127.0.0.1 unless you mean it",
                markup=True,
            )
        from connectorkit.runtime.config import load_runtime_config

        application = create_app(db, token_file=token_file, config=load_runtime_config(config))
        state = application.state.server
        code = state.gate.issue_code()
        out.print(f"connectorkit serving on http://{host}:{port} (API: /api, OpenAPI: /api/openapi.json)", markup=False)
        if state.token_file is not None:
            out.print(f"API token file: {state.token_file}", markup=False)
        out.print(f"Console (one-time login link, valid 10 minutes): {console_url(host, port, code)}", markup=False)
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
