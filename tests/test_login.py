"""``connectorkit login``/``logout`` and the token provider, end to end against the Entra ID stand-in.

Every sign-in method runs through azure-identity for real (HTTPS to the stand-in, trusted through
``REQUESTS_CA_BUNDLE``); the stand-in checks secrets, certificate signatures, federated assertions,
device codes and refresh tokens. Known secrets are planted and every output and written file is
scanned for them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import stat
import threading
import webbrowser
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from connectorkit.cli.cloudopts import cloud_from_options
from connectorkit.cli.main import app
from connectorkit.cloud import identity
from connectorkit.cloud.clouds import resolve_cloud
from connectorkit.errors import ConnectorkitError, InputError
from standins.aad import Directory, GitHubOidc, User, serve_aad, serve_github_oidc

SECRET = "planted-client-secret-Q7~xYz.0123456789"
PFX_PASSWORD = "planted-pfx-password-5150"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
POWERAPPS_SCOPE = "https://service.powerapps.com/.default"
CLEARED = (
    "CONNECTORKIT_ACCESS_TOKEN",
    "CONNECTORKIT_PROFILE",
    "CONNECTORKIT_CLOUD",
    "CONNECTORKIT_GRAPH_URL",
    "CONNECTORKIT_POWERAPPS_URL",
    "CONNECTORKIT_FLOW_URL",
    "CONNECTORKIT_POWERAPPS_RESOURCE",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "AZURE_AUTHORITY_HOST",
)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Env:
    aad: Directory
    home: Path
    config: Path
    tmp: Path
    runs: list[Run]

    @property
    def profile(self) -> Path:
        return self.config / "connectorkit" / "login.json"

    @property
    def cache(self) -> Path:
        return self.home / ".IdentityService" / "connectorkit.nocae"

    def login(self, *args: str, input: str | None = None) -> Run:
        return self.run("login", *args, input=input)

    def run(self, *args: str, input: str | None = None) -> Run:
        result = CliRunner().invoke(app, list(args), input=input)
        run = Run(result.exit_code, result.stdout, result.stderr)
        self.runs.append(run)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return run

    def assert_no_secret(self, *values: str) -> None:
        """None of ``values`` in any command output, the profile or anything in the config dir."""
        values = tuple(v for v in values if v)
        for run in self.runs:
            for value in values:
                assert value not in run.text, f"secret in output: {run.text!r}"
        for path in self.config.rglob("*"):
            if path.is_file():
                content = path.read_text(encoding="utf-8", errors="replace")
                for value in values:
                    assert value not in content, f"secret in {path}"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    home, config = tmp_path / "home", tmp_path / "config"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    with serve_aad(tmp_path) as aad:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(aad.ca_file))
        monkeypatch.setenv("CONNECTORKIT_LOGIN_URL", aad.base_url)
        yield Env(aad, home, config, tmp_path, [])


def one_line_error(run: Run, code: int) -> str:
    assert run.exit_code == code, run.text
    lines = [line for line in run.stderr.strip().splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.text
    return lines[0]


def make_certificate(tmp_path: Path, name: str = "ci") -> tuple[x509.Certificate, Path, Path]:
    """A self-signed certificate with its key as a PEM file, and the same as a password-protected PFX."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"connectorkit-{name}")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / f"{name}.pem"
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    pfx = tmp_path / f"{name}.pfx"
    pfx.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"ci", key, certificate, None, serialization.BestAvailableEncryption(PFX_PASSWORD.encode())
        )
    )
    return certificate, pem, pfx


def stored(env: Env) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(env.profile.read_text())
    return data


# --- service principals -------------------------------------------------------------------------


def test_client_secret_from_stdin_signs_in_caches_and_stores_no_secret(env: Env) -> None:
    registered = env.aad.app(secrets={SECRET})
    run = env.login(
        "--client-secret-stdin", "--tenant", env.aad.tenant_id, "--client-id", registered.client_id, input=SECRET + "\n"
    )
    assert run.exit_code == 0, run.text
    assert "Signed in to Commercial with client-secret" in run.stdout
    # No OS secret store here: one line says so and where the file is.
    notes = [line for line in run.stderr.splitlines() if "unencrypted" in line]
    assert notes == [
        f"note: no OS secret store is available; the token cache is kept unencrypted in {env.cache} (mode 0600)"
    ]
    assert stat.S_IMODE(env.cache.stat().st_mode) == 0o600
    issued = env.aad.tokens_for("client_credentials")
    assert len(issued) == 1 and env.aad.issued[0]["scope"] == GRAPH_SCOPE
    profile = stored(env)
    assert profile["method"] == "client-secret"
    assert profile["tenant"] == env.aad.tenant_id and profile["client_id"] == registered.client_id
    assert profile["cloud"] == "public" and profile["scope"] == GRAPH_SCOPE
    assert stat.S_IMODE(env.profile.stat().st_mode) == 0o600
    env.assert_no_secret(SECRET, *issued)
    assert SECRET not in env.cache.read_text()

    # A later command (a new credential, same persistent cache) gets the cached token without a request.
    os.environ["AZURE_CLIENT_SECRET"] = SECRET
    try:
        tokens = identity.token_provider(resolve_cloud())
        # The environment offers a secret but no AZURE_CLIENT_ID: the profile is used.
        assert tokens(GRAPH_SCOPE) == issued[0]
    finally:
        del os.environ["AZURE_CLIENT_SECRET"]
    assert len(env.aad.tokens_for("client_credentials")) == 1
    with pytest.raises(InputError, match="AZURE_CLIENT_SECRET"):
        identity.token_provider(resolve_cloud())


def test_wrong_client_secret_is_one_line_naming_method_and_aadsts(env: Env) -> None:
    registered = env.aad.app(secrets={SECRET})
    wrong = "planted-wrong-secret-0000"
    run = env.login(
        "--client-secret-stdin", "--tenant", env.aad.domain, "--client-id", registered.client_id, input=wrong
    )
    line = one_line_error(run, 1)
    assert "sign-in (client-secret) failed: AADSTS7000215: Invalid client secret provided." in line
    assert "Trace ID" not in line
    assert not env.profile.exists()
    env.assert_no_secret(wrong, SECRET)


def test_client_secret_from_environment_without_flags(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    registered = env.aad.app(secrets={SECRET})
    monkeypatch.setenv("AZURE_CLIENT_ID", registered.client_id)
    monkeypatch.setenv("AZURE_TENANT_ID", env.aad.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET)
    run = env.login("--format", "json")
    assert run.exit_code == 0, run.text
    shown = json.loads(run.stdout)
    assert shown["method"] == "client-secret" and shown["active"] == "environment (client-secret)"
    # CI credentials from the environment keep tokens in memory, one request per scope.
    tokens = identity.token_provider(resolve_cloud())
    first = tokens(POWERAPPS_SCOPE)
    assert tokens(POWERAPPS_SCOPE) == first
    assert [e["scope"] for e in env.aad.issued] == [GRAPH_SCOPE, POWERAPPS_SCOPE]
    env.assert_no_secret(SECRET, *env.aad.tokens_for("client_credentials"))


def test_certificate_pem_and_pfx(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    certificate, pem, pfx = make_certificate(env.tmp)
    registered = env.aad.app(certificates=[certificate])
    run = env.login("--certificate", str(pem), "--tenant", env.aad.tenant_id, "--client-id", registered.client_id)
    assert run.exit_code == 0, run.text
    assertion = env.aad.requests[-1]["form"]["client_assertion"]
    assert stored(env)["certificate"] == str(pem) and stored(env)["method"] == "certificate"

    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PASSWORD", PFX_PASSWORD)
    run = env.login("--certificate", str(pfx), "--tenant", env.aad.tenant_id, "--client-id", registered.client_id)
    assert run.exit_code == 0, run.text
    assert len(env.aad.tokens_for("client_credentials")) == 2
    env.assert_no_secret(PFX_PASSWORD, assertion, *env.aad.tokens_for("client_credentials"))

    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PASSWORD", "not-the-password")
    run = env.login("--certificate", str(pfx), "--tenant", env.aad.tenant_id, "--client-id", registered.client_id)
    assert f"--certificate {pfx}: not a PEM or PFX file" in one_line_error(run, 2)
    env.assert_no_secret("not-the-password")


def test_unregistered_certificate_is_refused_by_the_directory(env: Env) -> None:
    _, pem, _ = make_certificate(env.tmp, "other")
    registered = env.aad.app(certificates=[make_certificate(env.tmp, "registered")[0]])
    run = env.login("--certificate", str(pem), "--tenant", env.aad.tenant_id, "--client-id", registered.client_id)
    assert "sign-in (certificate) failed: AADSTS700027" in one_line_error(run, 1)


def test_federated_token_file_by_flag_and_by_environment(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = GitHubOidc("", issuer="https://oidc.example.test/cluster", subject="system:serviceaccount:ci:deployer")
    registered = env.aad.app()
    issuer.trust(env.aad, registered)
    token_file = env.tmp / "federated-token"
    token_file.write_text(issuer.id_token("api://AzureADTokenExchange"))
    run = env.login(
        "--federated-token-file", str(token_file), "--tenant", env.aad.tenant_id, "--client-id", registered.client_id
    )
    assert run.exit_code == 0, run.text
    assert stored(env)["method"] == "federated-token-file"

    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AZURE_CLIENT_ID", registered.client_id)
    monkeypatch.setenv("AZURE_TENANT_ID", env.aad.tenant_id)
    tokens = identity.token_provider(resolve_cloud())
    assert tokens(POWERAPPS_SCOPE) == env.aad.issued[-1]["token"]
    env.assert_no_secret(*issuer.issued, *env.aad.tokens_for("client_credentials"))

    # A token for a subject the app does not trust, and one for another audience.
    stranger = GitHubOidc("", issuer=issuer.issuer, subject="system:serviceaccount:other:thief", key=issuer.key)
    token_file.write_text(stranger.id_token("api://AzureADTokenExchange"))
    line = one_line_error(env.login(), 1)
    assert "sign-in (federated-token-file) failed: AADSTS70021: No matching federated identity record" in line
    token_file.write_text(issuer.id_token("https://elsewhere"))
    assert "AADSTS700212" in one_line_error(env.login(), 1)


def test_github_actions_oidc_from_the_environment(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    registered = env.aad.app()
    with serve_github_oidc() as github:
        github.trust(env.aad, registered)
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", github.request_url)
        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", github.request_token)
        monkeypatch.setenv("AZURE_CLIENT_ID", registered.client_id)
        monkeypatch.setenv("AZURE_TENANT_ID", env.aad.tenant_id)
        run = env.login()
        assert run.exit_code == 0, run.text
        assert "with github-oidc" in run.stdout
        assert github.requests[0]["query"] == {"api-version": "2.0", "audience": "api://AzureADTokenExchange"}
        assert env.aad.requests[-1]["form"]["client_assertion"] == github.issued[0]
        assert stored(env)["method"] == "github-oidc"

        monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "planted-wrong-request-token")
        line = one_line_error(env.login("--github-oidc"), 1)
        assert "GitHub OIDC: HTTP 401" in line
        env.assert_no_secret(github.request_token, "planted-wrong-request-token", *github.issued)


def test_access_token_from_the_environment(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "planted-pre-acquired-token"
    monkeypatch.setenv("CONNECTORKIT_ACCESS_TOKEN", token)
    tokens = identity.token_provider(resolve_cloud())
    assert tokens(GRAPH_SCOPE) == token and tokens(POWERAPPS_SCOPE) == token
    run = env.login()
    assert run.exit_code == 0 and "with access-token" in run.stdout
    assert env.aad.requests == []
    env.assert_no_secret(token)
    monkeypatch.delenv("CONNECTORKIT_ACCESS_TOKEN")
    with pytest.raises(identity.NotSignedInError, match="CONNECTORKIT_ACCESS_TOKEN"):
        identity.token_provider(resolve_cloud())


# --- people -------------------------------------------------------------------------------------


def test_device_code_then_silent_refresh_for_another_scope(env: Env) -> None:
    public = env.aad.app(public=True)
    person = User("adele@contoso.onmicrosoft.com")
    approver = threading.Thread(target=env.aad.approve, args=(person,), daemon=True)
    approver.start()
    run = env.login("--device-code", "--client-id", public.client_id)
    approver.join()
    assert run.exit_code == 0, run.text
    assert f"open the page {env.aad.base_url}/devicelogin and enter the code" in run.stderr
    assert f"as {person.username}" in run.stdout
    profile = stored(env)
    assert profile["method"] == "device-code" and profile["username"] == person.username
    assert json.loads(profile["record"])["homeAccountId"] == f"{person.oid}.{env.aad.tenant_id}"
    first = env.aad.tokens_for("urn:ietf:params:oauth:grant-type:device_code")
    assert len(first) == 1

    # Another command, another scope: the cached refresh token is used, nobody is prompted.
    tokens = identity.token_provider(resolve_cloud())
    powerapps = tokens(POWERAPPS_SCOPE)
    assert env.aad.issued[-1] == {
        "token": powerapps, "scope": POWERAPPS_SCOPE, "client_id": public.client_id,
        "grant": "refresh_token", "user": person.username,
    }  # fmt: skip
    assert tokens(POWERAPPS_SCOPE) == powerapps and len(env.aad.issued) == 2
    refresh_tokens = [r["form"].get("refresh_token", "") for r in env.aad.requests if r["method"] == "POST"]
    env.assert_no_secret(*first, powerapps, *filter(None, refresh_tokens))
    assert stat.S_IMODE(env.cache.stat().st_mode) == 0o600

    # Once the directory forgets the refresh token, the message says to sign in again.
    env.aad.refresh_tokens.clear()
    with pytest.raises(ConnectorkitError, match=r"device-code"):
        identity.token_provider(resolve_cloud())("https://management.azure.com/.default")


def test_device_code_declined(env: Env) -> None:
    public = env.aad.app(public=True)

    def decline() -> None:
        code = env.aad.approve(User("nobody@contoso.onmicrosoft.com"))
        code.approved_by, code.declined = None, True

    threading.Thread(target=decline, daemon=True).start()
    run = env.login("--device-code", "--client-id", public.client_id)
    assert "sign-in (device-code) failed" in one_line_error(run, 1)


def test_browser_sign_in(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The person's browser is scripted: it follows the authorize redirect back to azure-identity's
    local listener, as a real browser would after the person signs in."""
    public = env.aad.app(public=True)
    env.aad.browser_user = User("megan@contoso.onmicrosoft.com")
    visited: list[str] = []

    def browse(url: str) -> None:
        with httpx.Client(
            verify=ssl.create_default_context(cafile=env.aad.ca_file), follow_redirects=True, timeout=10
        ) as client:
            client.get(url)

    def open_(url: str, *args: Any, **kwargs: Any) -> bool:
        visited.append(url)
        threading.Thread(target=browse, args=(url,), daemon=True).start()
        return True

    monkeypatch.setattr(webbrowser, "open", open_)
    run = env.login("--browser", "--client-id", public.client_id, "--tenant", env.aad.tenant_id)
    assert run.exit_code == 0, run.text
    assert visited and visited[0].startswith(f"{env.aad.base_url}/{env.aad.tenant_id}/oauth2/v2.0/authorize?")
    assert stored(env)["username"] == "megan@contoso.onmicrosoft.com"
    assert env.aad.issued[-1]["grant"] == "authorization_code"


def test_azure_cli_missing_is_a_clear_error(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = env.tmp / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    line = one_line_error(env.login("--azure-cli"), 1)
    assert "--azure-cli: the Azure CLI (az) is not on PATH" in line


def test_azure_cli_when_present(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in ``az`` answering ``az account get-access-token`` as the Azure CLI documents."""
    bin_dir = env.tmp / "azbin"
    bin_dir.mkdir()
    calls = env.tmp / "az-calls"
    az = bin_dir / "az"
    az.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {calls}\n'
        'echo \'{"accessToken": "planted-az-token", "expires_on": \'$(( $(date +%s) + 3600 ))\', '
        '"tokenType": "Bearer", "tenant": "t"}\'\n'
    )
    az.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    run = env.login("--azure-cli", "--tenant", env.aad.tenant_id)
    assert run.exit_code == 0, run.text
    assert "with azure-cli as the Azure CLI account" in run.stdout
    assert calls.read_text().split() == [
        "account", "get-access-token", "--output", "json", "--resource", "https://graph.microsoft.com",
        "--tenant", env.aad.tenant_id,
    ]  # fmt: skip
    assert identity.token_provider(resolve_cloud())(POWERAPPS_SCOPE) == "planted-az-token"
    assert not env.cache.exists()  # the Azure CLI keeps its own cache
    env.assert_no_secret("planted-az-token")


# --- profile, cache, logout ---------------------------------------------------------------------


def test_show_logout_and_the_profile_cloud(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    registered = env.aad.app(secrets={SECRET})
    monkeypatch.delenv("CONNECTORKIT_LOGIN_URL")
    assert "not signed in" in one_line_error(env.login("--show"), 1)
    run = env.login(
        "--client-secret-stdin", "--cloud", "gcchigh", "--login-url", env.aad.base_url,
        "--tenant", env.aad.tenant_id, "--client-id", registered.client_id, input=SECRET,
    )  # fmt: skip
    assert run.exit_code == 0, run.text
    assert env.aad.issued[-1]["scope"] == "https://graph.microsoft.us/.default"
    shown = json.loads(env.login("--show", "--format", "json").stdout)
    assert shown["cloud"] == "gcchigh" and shown["endpoints"] == {"login": env.aad.base_url}
    assert shown["profile"] == str(env.profile) and "record" not in shown
    text = env.login("--show").stdout
    assert "method: client-secret" in text and f"login endpoint: {env.aad.base_url}" in text

    # Later commands without --cloud use the profile's cloud and endpoints; --cloud overrides them.
    cloud = cloud_from_options(None)
    assert cloud.name == "gcchigh" and cloud.login == env.aad.base_url
    assert cloud_from_options("public").login == "https://login.microsoftonline.com"
    env.assert_no_secret(SECRET, *env.aad.tokens_for("client_credentials"))

    assert env.cache.exists()
    run = env.run("logout")
    assert run.exit_code == 0
    assert f"Removed the sign-in profile {env.profile}." in run.stdout and str(env.cache) in run.stdout
    assert not env.profile.exists() and not env.cache.exists()
    assert env.run("logout").stdout.strip() == "No sign-in profile was stored."
    with pytest.raises(identity.NotSignedInError, match="not signed in"):
        identity.token_provider(resolve_cloud())


def test_no_plaintext_cache_refuses_without_a_secret_store(env: Env) -> None:
    registered = env.aad.app(secrets={SECRET})
    run = env.login(
        "--client-secret-stdin", "--no-plaintext-cache", "--tenant", env.aad.tenant_id,
        "--client-id", registered.client_id, input=SECRET,
    )  # fmt: skip
    assert "--no-plaintext-cache forbids an unencrypted one" in one_line_error(run, 1)
    assert not env.profile.exists() and not env.cache.exists() and env.aad.issued == []


def test_token_provider_renews_tokens_close_to_expiry(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    registered = env.aad.app(secrets={SECRET})
    env.aad.expires_in = 120  # inside the renewal margin: every call asks again
    monkeypatch.setenv("AZURE_CLIENT_ID", registered.client_id)
    monkeypatch.setenv("AZURE_TENANT_ID", env.aad.tenant_id)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET)
    tokens = identity.token_provider(resolve_cloud())
    assert isinstance(tokens, identity.CredentialTokens)
    first = tokens(GRAPH_SCOPE)
    # azure-identity's in-memory cache also treats a token this close to expiry as due for refresh.
    second = tokens(GRAPH_SCOPE)
    assert first != second and len(env.aad.issued) == 2


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--device-code", "--cloud", "mars"], "--cloud mars: unknown cloud"),
        (["--client-secret-stdin", "--client-id", "c"], "--tenant (or AZURE_TENANT_ID) is required for client-secret"),
        (
            ["--certificate", "/nonexistent/ci.pem", "--tenant", "t", "--client-id", "c"],
            "--certificate /nonexistent/ci.pem: cannot read",
        ),
        (["--device-code", "--browser"], "choose one sign-in method"),
        ([], "not signed in: choose a method"),
        (["--graph-url", "ftp://x", "--device-code"], "--graph-url: 'ftp://x' is not an absolute http(s) URL"),
    ],
)
def test_bad_input_is_exit_2_one_line(env: Env, args: list[str], expected: str) -> None:
    run = env.login(*args, input=SECRET)
    assert expected in one_line_error(run, 2)
    assert run.stderr.strip().count("\n") == 0, run.stderr  # no cache note before the error
    assert not env.profile.exists()
    env.assert_no_secret(SECRET)


def test_empty_stdin_secret_and_unreadable_certificate(env: Env) -> None:
    run = env.login("--client-secret-stdin", "--tenant", "t", "--client-id", "c", input="")
    assert "--client-secret-stdin: nothing on standard input" in one_line_error(run, 2)
    folder = env.tmp / "not-a-file.pem"
    folder.mkdir()
    run = env.login("--certificate", str(folder), "--tenant", "t", "--client-id", "c")
    assert f"--certificate {folder}: cannot read: Is a directory" in one_line_error(run, 2)
    garbage = env.tmp / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    run = env.login("--certificate", str(garbage), "--tenant", "t", "--client-id", "c")
    assert f"--certificate {garbage}: not a PEM or PFX file" in one_line_error(run, 2)
    assert "unencrypted" not in run.stderr  # inputs are checked before the token cache is chosen
    run = env.login("--federated-token-file", str(env.tmp / "absent.jwt"), "--tenant", "t", "--client-id", "c")
    assert "--federated-token-file" in one_line_error(run, 2) and "unencrypted" not in run.stderr


def test_damaged_profile_is_an_input_error(env: Env) -> None:
    env.profile.parent.mkdir(parents=True)
    env.profile.write_text("{not json")
    with pytest.raises(InputError, match="not JSON"):
        identity.token_provider(resolve_cloud())
    env.profile.write_text(json.dumps({"method": "telepathy"}))
    assert "not a connectorkit sign-in profile" in one_line_error(env.login("--show"), 2)
