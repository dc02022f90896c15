"""``connectorkit appreg create | show | secrets | rotate | link``: the connector's Entra app through
Microsoft Graph (and, for ``rotate`` and ``link``, the connector in its Power Platform environment).

The client secret is the one value here that must not leak: it is printed once (or written to
``--secret-file`` with mode 0600, or alone on stdout with ``--secret-stdout-only`` so it can be
piped), never logged, and left out of ``--format json`` unless ``--show-secret`` asks for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from connectorkit.cli.cloudopts import (
    CLOUD_OPTION,
    FLOW_URL_OPTION,
    GRAPH_URL_OPTION,
    LOGIN_URL_OPTION,
    POWERAPPS_URL_OPTION,
    cloud_from_options,
)
from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, err, handle_errors, out, print_json
from connectorkit.cloud import appreg
from connectorkit.cloud.graph import Graph
from connectorkit.errors import ConnectorkitError, InputError

if TYPE_CHECKING:
    from connectorkit.cloud.powerapps import PowerAppsApi, PowerPlatformEnvironment

PERMISSIONS_NEEDED = (
    "Permissions the caller needs (Microsoft Graph): create — Application.ReadWrite.All (delegated; a user "
    "allowed to register apps) or Application.ReadWrite.OwnedBy (app-only), plus Application.Read.All to "
    "resolve permission names; admin consent — DelegatedPermissionGrant.ReadWrite.All for delegated "
    "permissions (user: Cloud Application Administrator or Application Developer...) and "
    "AppRoleAssignment.ReadWrite.All for application permissions (user: Privileged Role Administrator); "
    "show and secrets — Application.Read.All. Sign in with `connectorkit login`, or set "
    "CONNECTORKIT_ACCESS_TOKEN to a Graph token."
)

app = typer.Typer(
    name="appreg",
    help="Register the Entra app an OAuth connector signs in with (Microsoft Graph).",
    no_args_is_help=True,
    epilog=PERMISSIONS_NEEDED,
)

NAME_ARGUMENT = typer.Argument(None, help="The app registration's display name.", show_default=False)
APP_ID_OPTION = typer.Option(None, "--app-id", help="Find the app by its application (client) id instead.")
REDIRECT_OPTION = typer.Option(
    None, "--redirect-uri", help="Another web redirect URI (repeatable); the global consent URI is always included."
)
PERMISSIONS_OPTION = typer.Option(
    None,
    "--permissions",
    "-p",
    help="Microsoft Graph delegated permissions by name, comma-separated or repeated, or a preset: "
    + ", ".join(appreg.PRESETS),
)
APP_PERMISSIONS_OPTION = typer.Option(
    None, "--app-permissions", help="Microsoft Graph application permissions (app roles) by name."
)
ACCESS_TOKENS_OPTION = typer.Option(
    True, "--access-tokens/--no-access-tokens", help="Implicit grant: issue access tokens."
)
ID_TOKENS_OPTION = typer.Option(True, "--id-tokens/--no-id-tokens", help="Implicit grant: issue ID tokens.")
CONSENT_OPTION = typer.Option(True, "--consent/--no-consent", help="Grant tenant-wide admin consent.")
EXACT_OPTION = typer.Option(
    False, "--exact", help="Make redirect URIs, Graph permissions and consent exactly these (drops others)."
)
NEW_SECRET_OPTION = typer.Option(False, "--new-secret", help="Add a client secret even when a valid one exists.")


@contextmanager
def _graph(cloud: str | None, graph_url: str | None, login_url: str | None) -> Iterator[Graph]:
    import httpx

    from connectorkit.cloud.identity import token_provider

    chosen = cloud_from_options(cloud, graph_url=graph_url, login_url=login_url)
    tokens = token_provider(chosen)
    with httpx.Client(timeout=60.0) as http:
        yield Graph.connect(chosen, tokens, http)


def _desired(
    name: str | None,
    app_id: str | None,
    redirect_uri: list[str] | None,
    permissions: list[str] | None,
    app_permissions: list[str] | None,
    access_tokens: bool,
    id_tokens: bool,
    consent: bool,
    exact: bool,
) -> appreg.Desired:
    """Every option checked here, before any network call: a typo must not cost a sign-in or a
    Graph lookup before it is reported."""
    if name is not None and not name.strip():
        raise InputError("NAME: the display name is empty")
    if not name and not app_id:
        raise InputError("NAME: give the app registration's display name (or --app-id)")
    if app_id is not None and not appreg.GUID.match(app_id):
        raise InputError(f"--app-id {app_id!r}: not an application (client) id (a GUID)")
    return appreg.Desired(
        name=name,
        app_id=app_id,
        redirect_uris=appreg.redirect_uris(redirect_uri or []),
        access_tokens=access_tokens,
        id_tokens=id_tokens,
        delegated=_permission_names("--permissions", permissions),
        application=_permission_names("--app-permissions", app_permissions),
        consent=consent,
        exact=exact,
    )


def _permission_names(option: str, values: list[str] | None) -> tuple[str, ...]:
    """The expanded names; an option given with nothing in it (``-p ""``) is an input error, not
    silently "no permissions" (which ``--exact`` would turn into removing every permission)."""
    names = appreg.expand_permissions(values or [])
    if values and not names:
        raise InputError(f"{option}: no permission names given")
    bad = [n for n in names if not re.fullmatch(r"[A-Za-z0-9._-]+", n)]
    if bad:
        raise InputError(f"{option} {bad[0]!r}: not a permission name (e.g. User.Read)")
    return names


def _outcome_json(outcome: appreg.Outcome, secret_file: Path | None, show_secret: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "application": {
            "id": outcome.app.get("id"),
            "appId": outcome.app.get("appId"),
            "displayName": outcome.app.get("displayName"),
        },
        "servicePrincipal": {"id": outcome.service_principal_id},
        "changes": [c.as_json() for c in outcome.changes],
        "secret": None,
        "validSecrets": [c.as_json() for c in outcome.credentials],
    }
    if outcome.secret is not None:
        secret: dict[str, Any] = {
            "keyId": outcome.secret.key_id,
            "displayName": outcome.secret.display_name,
            "endDateTime": outcome.secret.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "file": str(secret_file) if secret_file else None,
        }
        if show_secret:
            secret["secretText"] = outcome.secret.value
        data["secret"] = secret
    return data


def _print_outcome(outcome: appreg.Outcome, console: Any) -> None:
    console.print(f"App registration [bold]{outcome.app.get('displayName')}[/]")
    console.print(f"  application (client) id: {outcome.app.get('appId')}")
    console.print(f"  object id: {outcome.app.get('id')}")
    console.print(f"  service principal: {outcome.service_principal_id}")
    if outcome.changes:
        console.print(f"  {len(outcome.changes)} change(s):")
        for change in outcome.changes:
            console.print(f"    {change.text()}", markup=False)
    else:
        console.print("  no changes: everything was already as asked")
    for credential in outcome.credentials:
        console.print(
            f"  client secret {credential.key_id} still valid until {_day(credential.end)} "
            "(use --new-secret to add another)",
            markup=False,
        )


def _day(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else "?"


def _deliver(
    outcome: appreg.Outcome,
    *,
    fmt: OutputFormat,
    secret_file: Path | None,
    stdout_only: bool,
    show_secret: bool,
) -> None:
    """Write the secret where asked, then the report: stdout, or stderr when stdout is the secret's."""
    secret = outcome.secret
    if secret is not None and secret_file is not None:
        try:
            appreg.write_secret_file(secret_file, secret.value)
        except OSError as exc:
            raise ConnectorkitError(
                f"--secret-file {secret_file}: cannot write ({exc.strerror}); the new secret {secret.key_id} "
                "cannot be shown again: run again with --new-secret and remove it with the portal"
            ) from None
    report = err if stdout_only else out
    if fmt is OutputFormat.json:
        text = json.dumps(_outcome_json(outcome, secret_file, show_secret and not stdout_only), indent=2)
        typer.echo(text, err=stdout_only)
    else:
        _print_outcome(outcome, report)
        if secret is not None:
            where = (
                f"written to {secret_file}"
                if secret_file
                else "on stdout"
                if stdout_only
                else "shown once below; copy it now"
            )
            report.print(f"  new client secret {secret.key_id}, expires {_day(secret.end)}: {where}", markup=False)
            if not secret_file and not stdout_only:
                typer.echo(secret.value)
    if secret is not None and stdout_only:
        typer.echo(secret.value)


@app.command("create", epilog=PERMISSIONS_NEEDED)
@handle_errors
def create(
    name: str | None = NAME_ARGUMENT,
    app_id: str | None = APP_ID_OPTION,
    redirect_uri: list[str] | None = REDIRECT_OPTION,
    permissions: list[str] | None = PERMISSIONS_OPTION,
    app_permissions: list[str] | None = APP_PERMISSIONS_OPTION,
    access_tokens: bool = ACCESS_TOKENS_OPTION,
    id_tokens: bool = ID_TOKENS_OPTION,
    consent: bool = CONSENT_OPTION,
    exact: bool = EXACT_OPTION,
    new_secret: bool = NEW_SECRET_OPTION,
    secret_expiry: str = typer.Option(
        appreg.DEFAULT_SECRET_EXPIRY, "--secret-expiry", help="New secret lifetime: 24m, 2y, 90d or a date."
    ),
    secret_name: str | None = typer.Option(None, "--secret-name", help="New secret's description."),
    secret_file: Path | None = typer.Option(
        None, "--secret-file", help="Write a new secret to this file (mode 0600) instead of printing it."
    ),
    secret_stdout_only: bool = typer.Option(
        False, "--secret-stdout-only", help="Print only a new secret on stdout (for piping); the report goes to stderr."
    ),
    show_secret: bool = typer.Option(False, "--show-secret", help="Include a new secret in --format json output."),
    fmt: OutputFormat = FORMAT_OPTION,
    cloud: str | None = CLOUD_OPTION,
    graph_url: str | None = GRAPH_URL_OPTION,
    login_url: str | None = LOGIN_URL_OPTION,
) -> None:
    """Create or converge the app registration: redirect URIs, implicit grant, Graph permissions by
    name, service principal, admin consent and a client secret. Safe to run again."""
    if secret_file is not None and secret_stdout_only:
        raise InputError("--secret-file and --secret-stdout-only: choose one")
    if secret_file is not None:
        appreg.check_secret_file(secret_file)
    desired = _desired(
        name, app_id, redirect_uri, permissions, app_permissions, access_tokens, id_tokens, consent, exact
    )
    expiry = appreg.parse_expiry(secret_expiry)
    deliverable = fmt is OutputFormat.text or bool(secret_file) or secret_stdout_only or show_secret
    with _graph(cloud, graph_url, login_url) as graph, err.status(f"Registering {desired.label}…"):
        outcome = appreg.converge(
            graph,
            desired,
            expiry=expiry,
            new_secret=new_secret,
            secret_name=secret_name,
            can_deliver_secret=deliverable,
            progress=lambda message: err.print(f"[green]✓[/] {message}", highlight=False),
        )
    _deliver(outcome, fmt=fmt, secret_file=secret_file, stdout_only=secret_stdout_only, show_secret=show_secret)


@app.command("show", epilog=PERMISSIONS_NEEDED)
@handle_errors
def show(
    name: str | None = NAME_ARGUMENT,
    app_id: str | None = APP_ID_OPTION,
    redirect_uri: list[str] | None = REDIRECT_OPTION,
    permissions: list[str] | None = PERMISSIONS_OPTION,
    app_permissions: list[str] | None = APP_PERMISSIONS_OPTION,
    access_tokens: bool = ACCESS_TOKENS_OPTION,
    id_tokens: bool = ID_TOKENS_OPTION,
    consent: bool = CONSENT_OPTION,
    exact: bool = EXACT_OPTION,
    new_secret: bool = NEW_SECRET_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
    cloud: str | None = CLOUD_OPTION,
    graph_url: str | None = GRAPH_URL_OPTION,
    login_url: str | None = LOGIN_URL_OPTION,
) -> None:
    """Print the app registration as it exists and what `appreg create` with the same flags would change."""
    desired = _desired(
        name, app_id, redirect_uri, permissions, app_permissions, access_tokens, id_tokens, consent, exact
    )
    with _graph(cloud, graph_url, login_url) as graph:
        existing, changes = appreg.inspect(graph, desired, new_secret=new_secret)
    if fmt is OutputFormat.json:
        print_json({"application": existing, "changes": [c.as_json() for c in changes]})
        return
    if existing is None:
        out.print(f"No app registration {desired.label!r} exists.", markup=False)
    else:
        _print_existing(existing)
    if changes:
        out.print(f"`appreg create` would make {len(changes)} change(s):", markup=False)
        for change in changes:
            out.print(f"  {change.text()}", markup=False)
    else:
        out.print("No differences: the app registration is as asked.")


def _print_existing(existing: dict[str, Any]) -> None:
    flags = existing["implicitGrant"]
    lines = [
        f"App registration {existing['displayName']}",
        f"  application (client) id: {existing['appId']}",
        f"  object id: {existing['id']}",
        f"  sign-in audience: {existing['signInAudience']}",
        f"  implicit grant: access tokens {_yes(flags['accessTokens'])}, ID tokens {_yes(flags['idTokens'])}",
        "  redirect URIs: " + (", ".join(existing["redirectUris"]) or "none"),
        "  Graph delegated permissions: " + (", ".join(existing["permissions"]["delegated"]) or "none"),
        "  Graph application permissions: " + (", ".join(existing["permissions"]["application"]) or "none"),
    ]
    lines += [
        f"  other resource {other['resourceAppId']}: {other['permissions']} permission(s)"
        for other in existing["permissions"]["otherResources"]
    ]
    lines.append(f"  service principal: {existing['servicePrincipal'] or 'none'}")
    consent = existing["consent"]
    lines.append("  consented delegated: " + (" ".join(consent["delegated"]) or "none"))
    lines.append("  consented application: " + (", ".join(consent["application"]) or "none"))
    for credential in existing["credentials"]:
        lines.append(_credential_line(credential))
    for line in lines:
        out.print(line, markup=False)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _credential_line(credential: dict[str, Any]) -> str:
    end = (credential["endDateTime"] or "?")[:10]
    days = credential["daysLeft"]
    left = "" if days is None else f", {days} day(s) left" if days >= 0 else f", {-days} day(s) ago"
    hint = f" {credential['hint']}" if credential.get("hint") else ""
    name = credential["displayName"] or ""
    return f"  {credential['kind']} {credential['keyId']}{hint} {name!r}: {credential['state']} (ends {end}{left})"


@app.command("secrets", epilog=PERMISSIONS_NEEDED)
@handle_errors
def secrets_command(
    target: str = typer.Argument(..., metavar="APP", help="The app's display name or application (client) id."),
    warn_days: int = typer.Option(30, "--warn-days", min=0, help="Flag credentials that expire within this many days."),
    fmt: OutputFormat = FORMAT_OPTION,
    cloud: str | None = CLOUD_OPTION,
    graph_url: str | None = GRAPH_URL_OPTION,
    login_url: str | None = LOGIN_URL_OPTION,
) -> None:
    """List the app's client secrets and certificates with their expiry. Exit code 1 when any has
    expired or expires within --warn-days, so a schedule can alert on it."""
    with _graph(cloud, graph_url, login_url) as graph:
        found, report = appreg.secrets_of(graph, target, warn_days=warn_days)
    flagged = [c for c in report if c.state != "valid"]
    if fmt is OutputFormat.json:
        print_json(
            {
                "application": {
                    "id": found.get("id"),
                    "appId": found.get("appId"),
                    "displayName": found.get("displayName"),
                },
                "warnDays": warn_days,
                "credentials": [c.as_json() for c in report],
                "flagged": len(flagged),
            }
        )
    else:
        out.print(f"App registration {found.get('displayName')} ({found.get('appId')})", markup=False)
        if not report:
            out.print("  no client secrets or certificates")
        for credential in report:
            out.print(_credential_line(credential.as_json()), markup=False)
        if flagged:
            out.print(f"{len(flagged)} credential(s) expired or expiring within {warn_days} day(s)", markup=False)
    if flagged:
        raise typer.Exit(1)


ROTATE_NEEDS = (
    "Permissions the caller needs: Microsoft Graph Application.ReadWrite.All (or Application.ReadWrite.OwnedBy "
    "for an app this identity owns) to add and remove secrets or redirect URIs; in the Power Platform "
    "environment a user who can edit the connector (its owner, or Environment Maker with it shared)."
)
CONNECTOR_OPTION = typer.Option(..., "--connector", help="The deployed connector: its display name or shared_... id.")
ENV_OPTION = typer.Option(..., "--env", help="The Power Platform environment's id or display name.")


@contextmanager
def _cloud_pair(
    cloud: str | None, graph_url: str | None, powerapps_url: str | None, flow_url: str | None, login_url: str | None
) -> Iterator[tuple[Graph, PowerAppsApi]]:
    """Graph and the Power Apps API over one HTTP client, with one credential."""
    import httpx

    from connectorkit.cloud.identity import token_provider
    from connectorkit.cloud.powerapps import PowerAppsApi

    chosen = cloud_from_options(cloud, graph_url, powerapps_url, flow_url, login_url)
    tokens = token_provider(chosen)
    with httpx.Client(timeout=60.0, follow_redirects=True) as http:
        yield Graph.connect(chosen, tokens, http), PowerAppsApi(chosen, tokens, client=http)


def _environment(api: PowerAppsApi, env: str, solution: str | None) -> PowerPlatformEnvironment:
    from connectorkit.cloud.powerapps import PowerPlatformEnvironment

    if solution:
        raise InputError(
            f"--solution {solution}: connectors in Dataverse solutions are not supported by this command yet "
            "(redeploy with `deploy --solution ... --secret-stdin`)"
        )
    if env == "local":
        raise InputError("--env local: this command works on Power Platform environments")
    return PowerPlatformEnvironment(api, api.environment(env).name)


def _countdown(seconds: float) -> None:
    """Wait ``seconds``, showing how long is left on stderr (Ctrl-C stops before anything is removed)."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn

    if seconds <= 0:
        return
    deadline = time.monotonic() + seconds
    columns = (TextColumn("Removing the old secret(s) in {task.fields[left]}"), BarColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("grace", total=seconds, left=_clock(seconds))
        while (left := deadline - time.monotonic()) > 0:
            bar.update(task, completed=seconds - left, left=_clock(left))
            time.sleep(min(1.0, left))


def _clock(seconds: float) -> str:
    whole = int(seconds + 0.999)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


@app.command("rotate", epilog=ROTATE_NEEDS)
@handle_errors
def rotate_command(
    target: str = typer.Argument(..., metavar="APP", help="The app's display name or application (client) id."),
    connector: str = CONNECTOR_OPTION,
    env: str = ENV_OPTION,
    secret_expiry: str = typer.Option(
        appreg.DEFAULT_SECRET_EXPIRY, "--secret-expiry", help="New secret lifetime: 24m, 2y, 90d or a date."
    ),
    grace: str = typer.Option(
        "1h", "--grace", help="Wait this long (0, 90s, 10m, 1h) before removing the old secrets."
    ),
    keep_old: bool = typer.Option(False, "--keep-old", help="Keep the old secrets (remove them later yourself)."),
    only: str | None = typer.Option(
        None, "--only", metavar="KEYID", help="Replace only this old secret (needed when the app has several)."
    ),
    all_old: bool = typer.Option(
        False, "--all-old", help="Replace every client secret the app has (when it has several and no --only)."
    ),
    secret_name: str | None = typer.Option(None, "--secret-name", help="New secret's description."),
    secret_file: Path | None = typer.Option(
        None, "--secret-file", help="Also write the new secret to this file (mode 0600)."
    ),
    solution: str | None = typer.Option(None, "--solution", help="Not supported yet (Dataverse solution connectors)."),
    fmt: OutputFormat = FORMAT_OPTION,
    cloud: str | None = CLOUD_OPTION,
    graph_url: str | None = GRAPH_URL_OPTION,
    powerapps_url: str | None = POWERAPPS_URL_OPTION,
    flow_url: str | None = FLOW_URL_OPTION,
    login_url: str | None = LOGIN_URL_OPTION,
) -> None:
    """Rotate the app's client secret for a deployed connector: add a new secret, put it into the
    connector's OAuth settings (every parameter set), verify, then remove the old secrets after
    --grace. If the connector cannot be updated, the new secret is removed again. An app with several
    client secrets needs --only KEYID (or --all-old to remove them all): another service may use one."""
    from connectorkit.cloud import rotate

    if secret_file is not None:
        appreg.check_secret_file(secret_file)
    expiry = appreg.parse_expiry(secret_expiry)
    wait = rotate.parse_grace(grace)
    with _cloud_pair(cloud, graph_url, powerapps_url, flow_url, login_url) as (graph, api):
        environment = _environment(api, env, solution)
        done = rotate.rotate(
            graph, environment, target, connector, expiry=expiry, grace=wait, keep_old=keep_old, only=only,
            all_old=all_old,
            secret_name=secret_name, wait=_countdown,
            deliver=(lambda value: appreg.write_secret_file(secret_file, value)) if secret_file else None,
            progress=lambda message: err.print(f"✓ {message}", highlight=False, markup=False),
        )  # fmt: skip
    if fmt is OutputFormat.json:
        print_json(done.as_json())
        return
    lines = [
        f"Rotated the client secret of {done.app.get('displayName')} ({done.app.get('appId')}) "
        f"for {done.connector.display_name} ({done.connector.name})",
        f"  new client secret {done.new_key_id}, expires {_day(done.new_end)}: in {done.places} OAuth setting(s)"
        + (f" and {secret_file}" if secret_file else ""),
    ]
    lines += [f"  verified: {line}" for line in done.verified]
    if done.removed:
        lines.append("  removed old secret(s): " + ", ".join(done.removed))
    if done.kept:
        lines.append("  kept old secret(s): " + ", ".join(done.kept))
    if not done.old_key_ids:
        lines.append("  the app had no other client secret")
    for line in lines:
        out.print(line, markup=False)


@app.command("link", epilog=ROTATE_NEEDS)
@handle_errors
def link_command(
    target: str = typer.Argument(..., metavar="APP", help="The app's display name or application (client) id."),
    connector: str = CONNECTOR_OPTION,
    env: str = ENV_OPTION,
    fmt: OutputFormat = FORMAT_OPTION,
    cloud: str | None = CLOUD_OPTION,
    graph_url: str | None = GRAPH_URL_OPTION,
    powerapps_url: str | None = POWERAPPS_URL_OPTION,
    flow_url: str | None = FLOW_URL_OPTION,
    login_url: str | None = LOGIN_URL_OPTION,
) -> None:
    """Add a deployed connector's redirect URL (per connector for redirectMode GlobalPerConnector,
    read back from the environment) to the app's web redirect URIs. Safe to run again."""
    from connectorkit.cloud import rotate

    with _cloud_pair(cloud, graph_url, powerapps_url, flow_url, login_url) as (graph, api):
        done = rotate.link(graph, _environment(api, env, None), target, connector)
    if fmt is OutputFormat.json:
        print_json(done.as_json())
        return
    name = f"{done.app.get('displayName')} ({done.app.get('appId')})"
    for url in done.redirect_urls:
        verb = "added to" if url in done.added else "already in"
        out.print(f"{url}: {verb} the redirect URIs of {name}", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="appreg")
