"""The local hosting environment: ``deploy``, ``list``, ``download``, ``connection``, ``call``."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from connectorkit.cli import cloudenv
from connectorkit.cli.cloudopts import CLOUD_OPTION, FLOW_URL_OPTION, LOGIN_URL_OPTION, POWERAPPS_URL_OPTION
from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, err, handle_errors, out, print_json
from connectorkit.definition.models import ConnectionParameter
from connectorkit.errors import ConnectorkitError, InputError

ENV_OPTION = typer.Option(
    "local", "--env", help="Environment: 'local', or a Power Platform environment's id or display name."
)
CONFIG_OPTION = typer.Option(
    None,
    "--config",
    help="Runtime settings file (\\[runtime] table; default: CONNECTORKIT_CONFIG, ./connectorkit.toml, "
    "then config.toml in the user data folder).",
)
DB_OPTION = typer.Option(
    None, "--db", help="Store URL (default: CONNECTORKIT_DB, else SQLite in the user data folder)."
)


@contextmanager
def _local(env: str, db: str | None) -> Iterator[Any]:
    if env != "local":
        raise InputError(f"--env {env}: only the local environment is available in this version")
    from connectorkit.runtime.config import load_runtime_config
    from connectorkit.runtime.environment import LocalEnvironment
    from connectorkit.runtime.store import open_store

    config = load_runtime_config()
    store = open_store(db)
    try:
        yield LocalEnvironment(store, config=config)
    finally:
        store.close()


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    out_: dict[str, str] = {}
    for value in values or []:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise InputError(f"{option} {value!r}: expected name=value")
        out_[name.strip()] = text
    return out_


def _arguments(values: list[str] | None, body: str | None) -> dict[str, Any]:
    arguments: dict[str, Any] = dict(_pairs(values, "-p"))
    if body is not None:
        text = body
        if body.startswith("@"):
            try:
                text = Path(body[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(f"--body {body}: cannot read: {exc.strerror}") from None
        try:
            arguments["body"] = json.loads(text)
        except ValueError as exc:
            raise InputError(f"--body: not JSON ({exc})") from None
    return arguments


DEFAULT_PORT = 8765
"""The port `connectorkit serve` listens on by default, so its redirect URL is the CLI's too."""


def _given(param: list[str] | None, param_file: Path | None) -> dict[str, str]:
    given: dict[str, str] = {}
    if param_file is not None:
        try:
            loaded = json.loads(param_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"--param-file {param_file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise InputError(f"--param-file {param_file}: expected a JSON object")
        given.update({str(k): str(v) for k, v in loaded.items()})
    given.update(_pairs(param, "--param"))
    return given


def _prompt_missing(declared: Mapping[str, ConnectionParameter], given: dict[str, str]) -> None:
    if not sys.stdin.isatty():
        return
    for name, spec in declared.items():
        if name not in given and (spec.type or "").lower() in ("securestring", "string"):
            hidden = (spec.type or "").lower() == "securestring"
            label = spec.uiDefinition.displayName if spec.uiDefinition and spec.uiDefinition.displayName else name
            given[name] = typer.prompt(label, hide_input=hidden, default="", show_default=False)


def _prompt_client(declared: Mapping[str, ConnectionParameter], given: dict[str, str]) -> None:
    """Ask for the OAuth client id (when the settings have none) and secret on a terminal; without
    one, begin_sign_in names what is missing."""
    from connectorkit.runtime import oauth

    found = oauth.oauth_parameter(declared)
    if found is None or not sys.stdin.isatty():
        return
    name, spec = found
    subs = oauth.sub_parameter_names(name)
    lowered = {key.lower() for key, value in given.items() if value}
    has_default = bool(spec.oAuthSettings and spec.oAuthSettings.clientId) or bool(
        declared.get(subs["clientId"]) and declared[subs["clientId"]].defaultValue
    )
    if subs["clientId"].lower() not in lowered and not has_default:
        given[subs["clientId"]] = typer.prompt("OAuth client ID")
    if subs["clientSecret"].lower() not in lowered:
        given[subs["clientSecret"]] = typer.prompt("OAuth client secret", hide_input=True)


def _server_running(port: int) -> bool:
    """Whether `connectorkit serve` (or another sign-in listener) answers on ``port``."""
    import httpx

    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1.0)
        return answer.status_code == 200 and answer.json().get("service") == "connectorkit"
    except (httpx.HTTPError, ValueError, AttributeError):
        return False


@contextmanager
def _redirect_listener(port: int, db: str | None) -> Iterator[None]:
    """Receive the redirect: a running server does; else run the redirect app meanwhile."""
    if _server_running(port):
        yield
        return
    from connectorkit.server.loopback import serve_in_thread
    from connectorkit.server.redirect import redirect_app

    with serve_in_thread(redirect_app(db), port, purpose="the OAuth redirect"):
        yield


def _sign_in(
    environment: Any,
    connector: str,
    given: dict[str, str],
    parameter_set: str | None,
    port: int,
    no_browser: bool,
    timeout: float,
    db: str | None,
) -> str:
    """Begin a sign-in, send the user to it, and wait for the redirect to finish it."""
    if not 0 < port < 65536:
        raise InputError(f"--port {port}: not a TCP port")
    if timeout <= 0:
        raise InputError(f"--timeout {timeout:g}: must be positive")
    redirect_uri = f"http://127.0.0.1:{port}/oauth/redirect"
    with _redirect_listener(port, db):
        sign_in = environment.begin_sign_in(connector, given, redirect_uri=redirect_uri, parameter_set=parameter_set)
        typer.echo(f"Sign in at: {sign_in.url}", err=True)
        if not no_browser:
            import webbrowser

            webbrowser.open(sign_in.url)
        deadline = time.monotonic() + timeout
        with err.status("Waiting for the sign-in to finish in the browser…"):
            while True:
                status = environment.sign_in_status(sign_in.state)
                if status.status == "complete":
                    return str(status.connection_id)
                if status.status == "failed":
                    raise ConnectorkitError(f"sign-in failed: {status.error}")
                if time.monotonic() >= deadline:
                    raise ConnectorkitError(f"no sign-in within {timeout:g} s (--timeout)")
                time.sleep(0.25)


def register(app: typer.Typer) -> None:
    register_values(app)

    @app.command("deploy", epilog=cloudenv.DEPLOY_NEEDS)
    @handle_errors
    def deploy(
        path: Path = typer.Argument(..., help="Connector folder."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        name: str | None = typer.Option(None, "--name", help="Name in the environment (default: info.title)."),
        output_format: OutputFormat = FORMAT_OPTION,
        secret_stdin: bool = cloudenv.SECRET_STDIN_OPTION,
        secret_file: Path | None = cloudenv.SECRET_FILE_OPTION,
        solution: str | None = cloudenv.SOLUTION_OPTION,
        cloud: str | None = CLOUD_OPTION,
        powerapps_url: str | None = POWERAPPS_URL_OPTION,
        flow_url: str | None = FLOW_URL_OPTION,
        login_url: str | None = LOGIN_URL_OPTION,
        trust_settings_url: bool = cloudenv.TRUST_SETTINGS_URL_OPTION,
    ) -> None:
        """Register a connector in an environment, or update it (locally each change is a new version)."""
        from connectorkit.definition.package import ConnectorPackage

        package = ConnectorPackage.load(path)
        if env != "local":
            secret = cloudenv.read_secret(secret_stdin, secret_file)
            with cloudenv.power_apps(
                cloud, powerapps_url, flow_url, package, login_url=login_url, trust_settings_url=trust_settings_url
            ) as api:
                cloudenv.deploy_cloud(package, env, name, secret, solution, api, output_format)
            return
        with _local(env, db) as environment:
            deployed, version = environment.deploy(package, name)
        if output_format is OutputFormat.json:
            print_json({"name": deployed, "version": version, "env": env})
        else:
            out.print(f"[bold green]Deployed[/] {deployed} version {version} to {env}")

    @app.command("list")
    @handle_errors
    def list_command(
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
        cloud: str | None = CLOUD_OPTION,
        powerapps_url: str | None = POWERAPPS_URL_OPTION,
        flow_url: str | None = FLOW_URL_OPTION,
        login_url: str | None = LOGIN_URL_OPTION,
    ) -> None:
        """List the connectors of an environment."""
        if env != "local":
            with cloudenv.power_apps(cloud, powerapps_url, flow_url, login_url=login_url) as api:
                cloudenv.list_cloud(env, api, output_format)
            return
        with _local(env, db) as environment:
            items = environment.list()
        data = [{"name": c.name, "version": c.latest_version, "versions": c.versions} for c in items]
        if output_format is OutputFormat.json:
            print_json(data)
            return
        for row in data:
            typer.echo(f"{row['name']}  v{row['version']}")

    @app.command("download")
    @handle_errors
    def download(
        name: str = typer.Argument(..., help="Connector name in the environment."),
        output: Path = typer.Option(..., "--output", "-o", help="Folder to write the connector to (must not exist)."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        cloud: str | None = CLOUD_OPTION,
        powerapps_url: str | None = POWERAPPS_URL_OPTION,
        flow_url: str | None = FLOW_URL_OPTION,
        login_url: str | None = LOGIN_URL_OPTION,
    ) -> None:
        """Write a deployed connector's files to a folder (from Power Platform with a paconn settings.json)."""
        if env != "local":
            with cloudenv.power_apps(cloud, powerapps_url, flow_url, login_url=login_url) as api:
                cloudenv.download_cloud(name, output, env, api)
            return
        with _local(env, db) as environment:
            target = environment.download(name, output)
        out.print(f"[bold green]Downloaded[/] {name} to {target}")

    connection = typer.Typer(help="Connections: the credentials a connector calls its API with.", no_args_is_help=True)
    app.add_typer(connection, name="connection")

    @connection.command("create")
    @handle_errors
    def connection_create(
        connector: str = typer.Argument(..., help="Deployed connector name."),
        param: list[str] | None = typer.Option(None, "--param", help="name=value (repeatable)."),
        param_file: Path | None = typer.Option(None, "--param-file", help="JSON object of parameter values."),
        parameter_set: str | None = typer.Option(
            None, "--parameter-set", help="Which connectionParameterSets entry (authentication type) to use."
        ),
        port: int = typer.Option(
            DEFAULT_PORT, "--port", help="OAuth: port of the redirect http://127.0.0.1:PORT/oauth/redirect."
        ),
        no_browser: bool = typer.Option(False, "--no-browser", help="OAuth: only print the sign-in URL."),
        timeout: float = typer.Option(300.0, "--timeout", help="OAuth: seconds to wait for the sign-in."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Create a connection; missing secure parameters are asked for without echo on a terminal.

        OAuth connectors open a browser sign-in; the redirect goes to `connectorkit serve` when it
        runs on --port, else to a listener this command starts until the sign-in ends."""
        given = _given(param, param_file)
        with _local(env, db) as environment:
            declared = environment.declared_parameters(connector, parameter_set)
            kind = environment.auth_kind(connector, parameter_set)
            _prompt_missing(declared, given)
            if kind in ("oauth2", "aad"):
                _prompt_client(declared, given)
                connection_id = _sign_in(environment, connector, given, parameter_set, port, no_browser, timeout, db)
            else:
                import httpx

                with httpx.Client(timeout=30) as client:
                    connection_id = environment.create_connection(
                        connector, given, parameter_set=parameter_set, client=client
                    )
        if output_format is OutputFormat.json:
            print_json({"id": connection_id, "connector": connector})
        else:
            typer.echo(connection_id)

    @connection.command("list")
    @handle_errors
    def connection_list(
        connector: str | None = typer.Argument(None, help="Only this connector's connections."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """List connections (secret values are never shown)."""
        with _local(env, db) as environment:
            items = environment.connections(connector)
        data = [{"id": c.id, "connector": c.connector, "parameters": c.parameters} for c in items]
        if output_format is OutputFormat.json:
            print_json(data)
            return
        for row in data:
            typer.echo(f"{row['id']}  {row['connector']}  {json.dumps(row['parameters'])}")

    @connection.command("test")
    @handle_errors
    def connection_test(
        connection_id: str = typer.Argument(...),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Call the connector's test operation (x-ms-capabilities.testConnection) with this connection."""
        import httpx

        with _local(env, db) as environment, httpx.Client() as client:
            status, result = environment.test_connection(connection_id, client=client)
        data = {"id": connection_id, "status": status, "httpStatus": result.response.status if result else None}
        if output_format is OutputFormat.json:
            print_json(data)
        else:
            typer.echo(
                f"{status}" + (f" (HTTP {data['httpStatus']})" if result else " (the connector has no test operation)")
            )
        if status in ("Error", "Unauthenticated"):
            raise typer.Exit(1)

    @connection.command("delete")
    @handle_errors
    def connection_delete(
        connection_id: str = typer.Argument(...), env: str = ENV_OPTION, db: str | None = DB_OPTION
    ) -> None:
        """Delete a connection and its call history."""
        with _local(env, db) as environment:
            environment.store.delete_connection(connection_id)
        out.print(f"Deleted connection {connection_id}")

    @app.command("call")
    @handle_errors
    def call(
        connector: str = typer.Argument(..., help="Deployed connector name (must match the connection's)."),
        operation_id: str = typer.Argument(..., help="operationId to call."),
        connection_id: str = typer.Option(..., "--connection", help="Connection id (connectorkit connection list)."),
        param: list[str] | None = typer.Option(None, "-p", "--param", help="Operation parameter name=value."),
        body: str | None = typer.Option(None, "--body", help="JSON body, or @file.json."),
        all_pages: bool = typer.Option(False, "--all-pages", help="Follow x-ms-pageable next links."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Call an action through the local hosting environment, as the platform would."""
        import httpx

        arguments = _arguments(param, body)
        with _local(env, db) as environment:
            stored = environment.store.get_connection(connection_id)
            if stored.connector != connector:
                raise InputError(f"--connection {connection_id}: belongs to {stored.connector}, not {connector}")
            with httpx.Client() as client:
                result = environment.call(connection_id, operation_id, arguments, client=client, all_pages=all_pages)
        pages = [p.json if p.has_json else p.content.decode("utf-8", "replace") for p in result.pages]
        data = {"status": result.response.status, "body": pages[0] if len(pages) == 1 else pages}
        if output_format is OutputFormat.json:
            print_json(data)
        else:
            out.print(f"HTTP {result.response.status}", markup=False)
            typer.echo(
                json.dumps(data["body"], indent=2, ensure_ascii=False)
                if not isinstance(data["body"], str)
                else data["body"]
            )
        if result.response.status >= 400:
            raise typer.Exit(1)


def register_values(app: typer.Typer) -> None:
    register_schema(app)

    @app.command("values")
    @handle_errors
    def values(
        connector: str = typer.Argument(..., help="Deployed connector name."),
        operation_id: str = typer.Argument(..., help="Operation whose parameter has dynamic values."),
        parameter: str = typer.Argument(..., help="The parameter."),
        connection_id: str = typer.Option(..., "--connection", help="Connection id."),
        param: list[str] | None = typer.Option(None, "-p", "--param", help="Values of parameters it depends on."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """List a parameter's choices (x-ms-dynamic-values / x-ms-dynamic-list) by calling the operation they name."""
        import httpx

        with _local(env, db) as environment:
            stored = environment.store.get_connection(connection_id)
            if stored.connector != connector:
                raise InputError(f"--connection {connection_id}: belongs to {stored.connector}, not {connector}")
            with httpx.Client() as client:
                found = environment.choices(connection_id, operation_id, parameter, _pairs(param, "-p"), client=client)
        data = [{"value": c.value, "title": c.title} for c in found]
        if output_format is OutputFormat.json:
            print_json(data)
            return
        for choice in data:
            typer.echo(f"{choice['value']}\t{choice['title']}")


def register_schema(app: typer.Typer) -> None:
    @app.command("schema")
    @handle_errors
    def schema(
        connector: str = typer.Argument(..., help="Deployed connector name."),
        operation_id: str = typer.Argument(..., help="Operation with x-ms-dynamic-schema or -properties."),
        connection_id: str = typer.Option(..., "--connection", help="Connection id."),
        param: list[str] | None = typer.Option(None, "-p", "--param", help="Values of parameters the lookups use."),
        env: str = ENV_OPTION,
        db: str | None = DB_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Fetch an operation's dynamic schemas (x-ms-dynamic-schema / -properties) as the designer does.

        Exit 1 when a lookup fails (each failure is reported with its location)."""
        import httpx

        with _local(env, db) as environment:
            stored = environment.store.get_connection(connection_id)
            if stored.connector != connector:
                raise InputError(f"--connection {connection_id}: belongs to {stored.connector}, not {connector}")
            with httpx.Client() as client:
                found = environment.schemas(connection_id, operation_id, _pairs(param, "-p"), client=client)
        data = [
            {"location": s.location, "operationId": s.operation_id, "properties": s.properties,
             "schema": s.schema, "error": s.error}
            for s in found
        ]  # fmt: skip
        if output_format is OutputFormat.json:
            print_json(data)
        elif not data:
            typer.echo(f"{operation_id} has no x-ms-dynamic-schema or x-ms-dynamic-properties")
        for item in data if output_format is not OutputFormat.json else []:
            if item["error"]:
                typer.echo(f"{item['location']}: {item['operationId'] or '?'} failed: {item['error']}")
            else:
                typer.echo(
                    f"{item['location']}: from {item['operationId']}: {', '.join(item['properties']) or '(no properties)'}"
                )
        if any(item["error"] for item in data):
            raise typer.Exit(1)
