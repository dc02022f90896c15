"""``connectorkit login`` and ``logout``: sign in to Microsoft's cloud once, for every cloud command.

``login`` picks a method from its flags (or, without flags, from the environment, then the stored
profile), proves it works by getting a token, and records a profile with nothing secret in it. The
commands that call Graph or the Power Apps API then get their tokens from
:func:`connectorkit.cloud.identity.token_provider`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from connectorkit.cli.cloudopts import (
    CLOUD_OPTION,
    FLOW_URL_OPTION,
    GRAPH_URL_OPTION,
    LOGIN_URL_OPTION,
    POWERAPPS_URL_OPTION,
    cloud_from_options,
)
from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, handle_errors, out, print_json
from connectorkit.cloud import identity
from connectorkit.cloud.clouds import Cloud
from connectorkit.cloud.identity import Method, Profile, SignIn
from connectorkit.errors import ConnectorkitError, InputError

METHODS_HELP = "--device-code, --browser, --azure-cli, --client-secret-stdin, --certificate, --federated-token-file"


def _prompt(verification_uri: str, user_code: str, expires_on: datetime) -> None:
    """The device code instructions, on stderr so that ``--format json`` output stays parseable."""
    typer.echo(
        f"To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} "
        f"to authenticate (the code expires at {expires_on:%H:%M}).",
        err=True,
    )


def _announce(message: str) -> None:
    typer.echo(message, err=True)


def _read_secret_stdin() -> str:
    secret = sys.stdin.read().strip()
    if not secret:
        raise InputError("--client-secret-stdin: nothing on standard input")
    return secret


def _chosen_method(flags: dict[Method, bool]) -> Method | None:
    chosen = [method for method, given in flags.items() if given]
    if len(chosen) > 1:
        raise InputError("choose one sign-in method: " + ", ".join(f"--{m}" for m in chosen) + " were all given")
    return chosen[0] if chosen else None


def _signin_from_flags(
    method: Method | None,
    *,
    tenant: str | None,
    client_id: str | None,
    certificate: Path | None,
    token_file: Path | None,
    stored: Profile | None,
) -> SignIn:
    """The sign-in the flags ask for; without a method flag, the environment's, then the profile's."""
    env = os.environ
    tenant = tenant or identity.env_value(env, identity.TENANT_ENV)
    if method is None:
        found = identity.signin_from_environment(env, tenant=tenant, client_id=client_id)
        if found is not None:
            return found
        if stored is not None:
            return stored.signin
        raise InputError(f"not signed in: choose a method ({METHODS_HELP}) or set {identity.ACCESS_TOKEN_ENV}")
    client = client_id or identity.env_value(env, identity.CLIENT_ID_ENV)
    if method in identity.INTERACTIVE or method is Method.azure_cli:
        # A person's own sign-in: only the flags count (AZURE_CLIENT_ID names a service principal).
        client = client_id
    signin = SignIn(
        method,
        tenant=tenant,
        client_id=client,
        certificate=str(certificate) if certificate is not None else None,
        token_file=str(token_file) if token_file is not None else None,
    )
    if method is Method.federated_token_file and token_file is None:
        path = identity.env_value(env, identity.FEDERATED_TOKEN_FILE_ENV)
        if path is None:
            raise InputError(f"--federated-token-file needs a path (or {identity.FEDERATED_TOKEN_FILE_ENV})")
        signin = replace(signin, token_file=path)
    identity.require_tenant(signin)
    return signin


def _endpoints(explicit: dict[str, str | None], cloud: str | None, stored: Profile | None) -> dict[str, str]:
    """The base URL overrides to remember: those given now, plus the profile's when the cloud stays."""
    kept = dict(stored.endpoints) if stored is not None and not cloud else {}
    kept.update({field: value.rstrip("/") for field, value in explicit.items() if value})
    return kept


def _describe(profile: Profile, path: Path) -> dict[str, Any]:
    data = profile.to_json()
    data.pop("record", None)  # ids and user name: shown as "username"; the record itself is plumbing
    data["profile"] = str(path)
    data["active"] = _active_source()
    return data


def _active_source() -> str:
    """What :func:`identity.token_provider` would use right now (the environment can override the profile)."""
    try:
        found = identity.signin_from_environment(os.environ)
    except InputError as exc:
        return f"environment (unusable: {exc})"
    return f"environment ({found.method})" if found is not None else "profile"


def _print_profile(profile: Profile, path: Path, fmt: OutputFormat, headline: str | None = None) -> None:
    data = _describe(profile, path)
    if fmt is OutputFormat.json:
        print_json(data)
        return
    if headline:
        out.print(headline)
    for key in ("method", "cloud", "tenant", "client_id", "username", "certificate", "token_file", "scope"):
        if data.get(key):
            out.print(f"  {key.replace('_', ' ')}: {data[key]}")
    for name, url in sorted(profile.endpoints.items()):
        out.print(f"  {name} endpoint: {url}")
    out.print(f"  token cache: {'may be unencrypted' if profile.plaintext_cache else 'encrypted only'}")
    out.print(f"  signed in at: {data.get('signed_in_at', '?')}")
    out.print(f"  profile: {path}")
    out.print(f"  tokens now come from: {data['active']}")


def _login(
    signin: SignIn,
    cloud: Cloud,
    *,
    scope: str,
    secret: str | None,
    allow_plaintext: bool,
) -> tuple[SignIn, str | None]:
    """Get a token the way ``signin`` says; returns the sign-in (with the person's account record)."""
    cache = None
    if signin.method not in (Method.azure_cli, Method.access_token):
        # Build the credential once without a cache first: a missing certificate, an unreadable
        # token file or a missing secret is reported before anything is said about the cache.
        identity.build_credential(signin, cloud, environ=os.environ, secret=secret)
        cache = identity.token_cache(allow_plaintext=allow_plaintext, announce=_announce)
        # A new sign-in replaces the last one, and a cached token must not stand in for proof
        # that the credential works today.
        identity.clear_token_cache()
    tokens = identity.provider_for(
        signin, cloud, environ=os.environ, secret=secret, cache=cache, prompt=_prompt, interactive=True
    )
    if isinstance(tokens, identity.StaticToken):
        return signin, None
    record = identity.authenticate(tokens, scope) if signin.method in identity.INTERACTIVE else None
    tokens(scope)
    if cache is not None and not cache.encrypted:
        identity.secure_cache_files()
    if record is not None:
        signin = replace(signin, record=record)
    return signin, identity.record_username(record)


def register(app: typer.Typer) -> None:
    @app.command("login")
    @handle_errors
    def login(
        device_code: bool = typer.Option(False, "--device-code", help="Sign in a person with a device code."),
        browser: bool = typer.Option(False, "--browser", help="Sign in a person in the web browser."),
        azure_cli: bool = typer.Option(False, "--azure-cli", help="Use the Azure CLI's sign-in (`az login`)."),
        client_secret_stdin: bool = typer.Option(
            False,
            "--client-secret-stdin",
            help="Service principal: read the client secret from stdin (else AZURE_CLIENT_SECRET is used).",
        ),
        certificate: Path | None = typer.Option(
            None,
            "--certificate",
            help="Service principal: PEM or PFX file with key and certificate "
            "(password from AZURE_CLIENT_CERTIFICATE_PASSWORD).",
        ),
        federated_token_file: Path | None = typer.Option(
            None, "--federated-token-file", help="Workload identity federation: file holding the federated token."
        ),
        github_oidc: bool = typer.Option(
            False, "--github-oidc", help="Workload identity federation with GitHub Actions' OIDC token."
        ),
        tenant: str | None = typer.Option(None, "--tenant", help="Tenant id or domain (default: AZURE_TENANT_ID)."),
        client_id: str | None = typer.Option(
            None, "--client-id", help="Application (client) id (default: AZURE_CLIENT_ID for service principals)."
        ),
        scope: str | None = typer.Option(
            None, "--scope", help="Scope to verify the sign-in with (default: Microsoft Graph's .default)."
        ),
        no_plaintext_cache: bool = typer.Option(
            False, "--no-plaintext-cache", help="Refuse to keep tokens unencrypted when no OS secret store exists."
        ),
        show: bool = typer.Option(False, "--show", help="Print the stored profile and exit."),
        cloud: str | None = CLOUD_OPTION,
        graph_url: str | None = GRAPH_URL_OPTION,
        powerapps_url: str | None = POWERAPPS_URL_OPTION,
        flow_url: str | None = FLOW_URL_OPTION,
        login_url: str | None = LOGIN_URL_OPTION,
        fmt: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Sign in to Microsoft's cloud and remember how (never a secret).

        Without a method flag the environment decides, in this order: CONNECTORKIT_ACCESS_TOKEN;
        with AZURE_CLIENT_ID and AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, GitHub Actions OIDC,
        AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH; then the stored profile."""
        path = identity.profile_path()
        stored = identity.load_profile(path)
        if show:
            if stored is None:
                raise ConnectorkitError(f"not signed in (no profile at {path})")
            _print_profile(stored, path, fmt)
            return
        resolved = cloud_from_options(cloud, graph_url, powerapps_url, flow_url, login_url)
        if client_secret_stdin and (certificate or federated_token_file):
            raise InputError("--client-secret-stdin cannot be combined with another method")
        method = _chosen_method({
            Method.device_code: device_code,
            Method.browser: browser,
            Method.azure_cli: azure_cli,
            Method.client_secret: client_secret_stdin,
            Method.certificate: certificate is not None,
            Method.federated_token_file: federated_token_file is not None,
            Method.github_oidc: github_oidc,
        })  # fmt: skip
        signin = _signin_from_flags(
            method,
            tenant=tenant,
            client_id=client_id,
            certificate=certificate,
            token_file=federated_token_file,
            stored=stored,
        )
        secret = _read_secret_stdin() if client_secret_stdin else None
        wanted = scope or resolved.graph_scope
        allow_plaintext = not no_plaintext_cache
        signin, username = _login(signin, resolved, scope=wanted, secret=secret, allow_plaintext=allow_plaintext)
        explicit = {"graph": graph_url, "powerapps": powerapps_url, "flow": flow_url, "login": login_url}
        profile = Profile(
            signin,
            cloud=resolved.name,
            endpoints=_endpoints(explicit, cloud, stored if stored and stored.cloud == resolved.name else None),
            plaintext_cache=allow_plaintext,
            scope=wanted,
            username=username,
            signed_in_at=identity.now_text(),
        )
        identity.save_profile(profile, path)
        who = username or signin.client_id or "the Azure CLI account"
        _print_profile(profile, path, fmt, headline=f"Signed in to {resolved.title} with {signin.method} as {who}.")

    @app.command("logout")
    @handle_errors
    def logout(fmt: OutputFormat = FORMAT_OPTION) -> None:
        """Forget the sign-in: remove the profile and every cached token."""
        path = identity.profile_path()
        had_profile = identity.remove_profile(path)
        removed = identity.clear_token_cache()
        if fmt is OutputFormat.json:
            print_json({"profile": str(path) if had_profile else None, "cache": [str(p) for p in removed]})
            return
        out.print(f"Removed the sign-in profile {path}." if had_profile else "No sign-in profile was stored.")
        for cache_file in removed:
            out.print(f"Removed the token cache {cache_file}.")
