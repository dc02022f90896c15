"""Power Platform environments: ``connectorkit environments``, and what ``deploy``, ``list`` and
``download`` do when ``--env`` names one rather than ``local``.

The commands read a connector folder's ``settings.json`` as paconn does — ``connectorId`` and
``environment`` say which connector to update, ``powerAppsUrl`` and ``powerAppsApiVersion`` where
(an explicit ``--powerapps-url`` or ``CONNECTORKIT_POWERAPPS_URL`` still wins) — and write it back
after a create, so folders move between paconn and connectorkit unchanged. The OAuth client
secret comes only from stdin or a file the user names, and is never printed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from connectorkit.cli.cloudopts import (
    CLOUD_OPTION,
    FLOW_URL_OPTION,
    LOGIN_URL_OPTION,
    POWERAPPS_URL_OPTION,
    cloud_from_options,
)
from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, err, handle_errors, out, print_json
from connectorkit.cloud.clouds import env_variable
from connectorkit.cloud.powerapps import API_VERSION, PowerAppsApi, PowerPlatformEnvironment
from connectorkit.cloud.powerapps import Progress as Step
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError

SECRET_STDIN_OPTION = typer.Option(
    False, "--secret-stdin", help="Read the OAuth client secret from stdin (e.g. piped from `appreg create`)."
)
SECRET_FILE_OPTION = typer.Option(None, "--secret-file", help="Read the OAuth client secret from this file.")
TRUST_SETTINGS_URL_OPTION = typer.Option(
    False,
    "--trust-settings-url",
    help="Use the folder's settings.json powerAppsUrl even when it is not the cloud's Power Apps host "
    "(your access token is sent there).",
)
DEPLOY_NEEDS = (
    "Permissions needed: sign in as a user (the Power Apps API needs the caller's object id; app-only tokens "
    "are not known to work) who is Environment Maker in the environment, or who can edit the connector to "
    "update it; with --solution, a Dataverse role that can write connector rows and customise the solution "
    "(System Customizer). Creating a connector that signs in with OAuth needs its client secret: "
    "--secret-stdin or --secret-file. A folder's settings.json powerAppsUrl on another host than the "
    "cloud's is used only with --trust-settings-url."
)
SOLUTION_OPTION = typer.Option(
    None,
    "--solution",
    help="Deploy as a solution-aware connector into this unmanaged solution (unique name) of the environment's "
    "Dataverse org.",
)


def read_secret(stdin: bool, file: Path | None) -> str | None:
    """The client secret from ``--secret-stdin`` or ``--secret-file`` (one trailing newline dropped)."""
    if stdin and file is not None:
        raise InputError("--secret-stdin and --secret-file: give the client secret one way only")
    if stdin:
        text, option = sys.stdin.read(), "--secret-stdin"
    elif file is not None:
        option = f"--secret-file {file}"
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{option}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    else:
        return None
    secret = text.strip()
    if not secret:
        raise InputError(f"{option}: the client secret is empty")
    return secret


def power_apps(
    cloud: str | None,
    powerapps_url: str | None,
    flow_url: str | None,
    package: ConnectorPackage | None = None,
    *,
    login_url: str | None = None,
    trust_settings_url: bool = False,
) -> PowerAppsApi:
    """The Power Apps API for the options, honouring a folder's ``powerAppsUrl`` and
    ``powerAppsApiVersion`` when neither the option nor its environment variable is set.

    The access token goes wherever that URL points, and a folder can come from anyone: a
    ``powerAppsUrl`` on another host than the selected cloud's Power Apps API is refused unless
    ``trust_settings_url`` (``--trust-settings-url``) says the folder is trusted."""
    from connectorkit.cloud.identity import NotSignedInError, token_provider

    settings = package.settings_model if package is not None else None
    overridden = powerapps_url or os.environ.get(env_variable("powerapps"))
    if settings is not None and settings.powerAppsUrl and not overridden:
        selected = cloud_from_options(cloud, flow_url=flow_url, login_url=login_url).powerapps
        if _host(settings.powerAppsUrl) != _host(selected) and not trust_settings_url:
            raise InputError(
                f"settings.json powerAppsUrl {settings.powerAppsUrl}: not the selected cloud's Power Apps API "
                f"({selected}); your access token would be sent there: pass --trust-settings-url if you trust "
                "this folder, or --powerapps-url"
            )
        powerapps_url = settings.powerAppsUrl
    resolved = cloud_from_options(cloud, powerapps_url=powerapps_url, flow_url=flow_url, login_url=login_url)
    version = (settings.powerAppsApiVersion if settings is not None else None) or API_VERSION
    try:
        tokens = token_provider(resolved)
    except NotSignedInError as exc:  # a Power Platform --env without credentials: a usage error
        raise InputError(f"--env: {exc}") from None
    return PowerAppsApi(resolved, tokens, api_version=version)


def _host(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}"


@contextmanager
def _steps(enabled: bool) -> Iterator[Step]:
    """A spinner on stderr naming the deploy's current step."""
    if not enabled:
        yield lambda _step: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as progress:
        task = progress.add_task("Connecting", total=None)

        def step(text: str) -> None:
            progress.update(task, description=text)
            progress.console.print(f"[dim]·[/] {text}")

        yield step


def deploy_cloud(
    package: ConnectorPackage,
    env: str,
    name: str | None,
    secret: str | None,
    solution: str | None,
    api: PowerAppsApi,
    output_format: OutputFormat,
) -> None:
    target = api.environment(env)
    if solution:
        _deploy_solution(package, target.name, target.instance_url, name, secret, solution, api, output_format)
        return
    from connectorkit.cloud.powerapps import settings_after_create, write_settings

    with _steps(output_format is OutputFormat.text) as step:
        environment = PowerPlatformEnvironment(api, target.name, secret=secret, progress=step)
        done = environment.deploy(package, name)
    settings_file = None
    if done.created and package.path is not None:
        settings_file = write_settings(package.path, package, settings_after_create(package, done, api))
    for note in done.notes:
        err.print(f"[yellow]note:[/] {note}")
    if output_format is OutputFormat.json:
        print_json({
            "connectorId": done.connector_id, "displayName": done.display_name, "env": target.name,
            "created": done.created, "secretInjected": done.secret_places, "notes": done.notes,
            "settings": str(settings_file) if settings_file else None,
        })  # fmt: skip
        return
    verb = "Created" if done.created else "Updated"
    out.print(f"[bold green]{verb}[/] {done.display_name} ({done.connector_id}) in {target.display_name}")
    if done.secret_places:
        out.print(f"OAuth client secret set in {done.secret_places} place(s)")
    if settings_file is not None:
        out.print(f"Wrote {settings_file}")


def _deploy_solution(
    package: ConnectorPackage,
    env_id: str,
    org: str | None,
    name: str | None,
    secret: str | None,
    solution: str,
    api: PowerAppsApi,
    output_format: OutputFormat,
) -> None:
    from connectorkit.cloud.dataverse import Dataverse

    if org is None:
        raise InputError(f"--solution {solution}: environment {env_id} has no Dataverse database to hold solutions")
    with _steps(output_format is OutputFormat.text) as step:
        step(f"Writing the connector row in {org}")
        done = Dataverse(org, api.tokens, client=api.http).deploy(package, solution, name=name, secret=secret)
    if output_format is OutputFormat.json:
        print_json({
            "connectorid": done.connector_id, "name": done.name, "connectorInternalId": done.internal_id,
            "solution": done.solution, "env": env_id, "created": done.created,
        })  # fmt: skip
        return
    verb = "Created" if done.created else "Updated"
    out.print(f"[bold green]{verb}[/] {done.name} ({done.connector_id}) in solution {solution} of {org}")


def list_cloud(env: str, api: PowerAppsApi, output_format: OutputFormat) -> None:
    target = api.environment(env)
    items = PowerPlatformEnvironment(api, target.name).list()
    if output_format is OutputFormat.json:
        print_json([
            {"name": c.name, "displayName": c.display_name, "createdBy": c.created_by, "changedTime": c.changed_time}
            for c in items
        ])  # fmt: skip
        return
    table = Table("Name", "Id", "Changed", title=f"Custom connectors in {target.display_name}", title_justify="left")
    table.columns[1].no_wrap = True
    table.columns[1].min_width = max((len(c.name) for c in items), default=2)
    for c in items:
        table.add_row(c.display_name, c.name, c.changed_time or "")
    out.print(table)


def download_cloud(name: str, output: Path, env: str, api: PowerAppsApi) -> None:
    target = api.environment(env)
    folder = PowerPlatformEnvironment(api, target.name).download(name, output)
    out.print(f"[bold green]Downloaded[/] {name} to {folder}")


def register(app: typer.Typer) -> None:
    @app.command("environments")
    @handle_errors
    def environments(
        cloud: str | None = CLOUD_OPTION,
        powerapps_url: str | None = POWERAPPS_URL_OPTION,
        flow_url: str | None = FLOW_URL_OPTION,
        login_url: str | None = LOGIN_URL_OPTION,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """List the Power Platform environments you can deploy connectors to (--env takes the id or name)."""
        with power_apps(cloud, powerapps_url, flow_url, login_url=login_url) as api:
            found = api.environments()
        rows: list[dict[str, Any]] = [
            {"name": e.name, "displayName": e.display_name, "isDefault": e.is_default, "dataverseUrl": e.instance_url}
            for e in found
        ]
        if output_format is OutputFormat.json:
            print_json(rows)
            return
        table = Table("Display name", "Id", "Default", "Dataverse")
        table.columns[1].no_wrap = True
        table.columns[1].min_width = max((len(row["name"]) for row in rows), default=2)
        for row in rows:
            table.add_row(row["displayName"], row["name"], "yes" if row["isDefault"] else "", row["dataverseUrl"] or "")
        out.print(table)
