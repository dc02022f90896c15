"""Signing in to Microsoft's cloud: the token provider every cloud command uses.

A person signs in once with ``connectorkit login`` (device code, browser, or the Azure CLI's
sign-in); CI signs in from its environment (a client secret, a certificate, a federated token file
or GitHub Actions' OIDC token). Either way the commands that call Graph or the Power Apps API ask
:func:`token_provider` for a callable ``scope -> bearer token`` and never see how it was obtained.

The credentials are ``azure-identity``'s, pointed at the cloud's sign-in authority (``Cloud.login``,
which ``CONNECTORKIT_LOGIN_URL`` replaces; that is how the tests reach their stand-in). What
``login`` stores is a *profile* of non-secret facts: the cloud, endpoint overrides, tenant, client id,
method, certificate path and, for people, azure-identity's ``AuthenticationRecord`` (account ids and
user name), which lets later commands find the account in the token cache without prompting. Client
secrets and certificate passwords are never stored: they come from the environment each time.
Tokens live in azure-identity's persistent cache (msal-extensions), encrypted by the OS secret store;
where there is none, they are kept in a file readable only by the user, after saying so once, or
refused when the user asked for ``--no-plaintext-cache``.

The order in which a token source is chosen without flags (documented in docs/cloud.md):
``CONNECTORKIT_ACCESS_TOKEN``; then, with ``AZURE_CLIENT_ID`` (and ``AZURE_TENANT_ID``), a federated
token (``AZURE_FEDERATED_TOKEN_FILE``, then GitHub Actions' ``ACTIONS_ID_TOKEN_REQUEST_URL``), a client
secret (``AZURE_CLIENT_SECRET``), a certificate (``AZURE_CLIENT_CERTIFICATE_PATH``); then the stored
profile.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import platformdirs

from connectorkit.cloud.clouds import CLOUDS, ENV_PREFIX, Cloud
from connectorkit.cloud.http import CloudError, TokenProvider
from connectorkit.errors import ConnectorkitError, InputError

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken, TokenCredential
    from azure.identity import TokenCachePersistenceOptions

log = logging.getLogger(__name__)

# azure-identity logs a WARNING for every failed get_token; with no handler configured Python's
# last-resort handler would print it next to our own one-line error. The CLI reports errors itself.
logging.getLogger("azure").addHandler(logging.NullHandler())

APP_NAME = "connectorkit"
ACCESS_TOKEN_ENV = "CONNECTORKIT_ACCESS_TOKEN"
PROFILE_ENV = "CONNECTORKIT_PROFILE"
PROFILE_FILE_NAME = "login.json"
PROFILE_VERSION = 1
CACHE_NAME = "connectorkit"
"""The name of azure-identity's persistent token cache (``~/.IdentityService/connectorkit.nocae``)."""
CACHE_SUFFIXES = (".nocae", ".cae")

TENANT_ENV = "AZURE_TENANT_ID"
CLIENT_ID_ENV = "AZURE_CLIENT_ID"
SECRET_ENV = "AZURE_CLIENT_SECRET"
CERTIFICATE_ENV = "AZURE_CLIENT_CERTIFICATE_PATH"
CERTIFICATE_PASSWORD_ENV = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
FEDERATED_TOKEN_FILE_ENV = "AZURE_FEDERATED_TOKEN_FILE"
GITHUB_OIDC_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
GITHUB_OIDC_TOKEN_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
"""The audience Entra ID expects of a federated credential's assertion."""

PUBLIC_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
"""The public client people sign in with when no ``--client-id`` is given: the Azure CLI's, which
is what azure-identity's interactive credentials default to as well."""

REFRESH_MARGIN = 300.0
"""Seconds before expiry at which a cached token is renewed rather than handed out."""

WELL_KNOWN_LOGIN_HOSTS = frozenset(urlsplit(cloud.login).netloc for cloud in CLOUDS.values())

AADSTS = re.compile(r"AADSTS\d+")


class Method(StrEnum):
    """How a token is obtained; the value is the ``login`` flag's name."""

    access_token = "access-token"
    device_code = "device-code"
    browser = "browser"
    client_secret = "client-secret"
    certificate = "certificate"
    federated_token_file = "federated-token-file"
    github_oidc = "github-oidc"
    azure_cli = "azure-cli"


INTERACTIVE = frozenset({Method.device_code, Method.browser})
NEEDS_TENANT = frozenset({Method.client_secret, Method.certificate, Method.federated_token_file, Method.github_oidc})


class NotSignedInError(ConnectorkitError):
    """No way to get a token: no profile and nothing usable in the environment."""


class SignInError(ConnectorkitError):
    """A credential could not produce a token; the message names the method and the AADSTS code."""

    def __init__(self, message: str, *, method: str, code: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.code = code


@dataclass(frozen=True)
class SignIn:
    """One way of signing in, without its secrets."""

    method: Method
    tenant: str | None = None
    client_id: str | None = None
    certificate: str | None = None
    """Path of the PEM or PFX file (its password, if any, comes from the environment)."""
    token_file: str | None = None
    """Path of the federated token file (re-read on every sign-in: it is rotated)."""
    record: str | None = None
    """azure-identity's serialized ``AuthenticationRecord`` for people (ids and user name only)."""


@dataclass
class Profile:
    """What ``connectorkit login`` remembers, as stored in ``login.json``: nothing secret."""

    signin: SignIn
    cloud: str = "public"
    endpoints: dict[str, str] = field(default_factory=dict)
    """Base URL overrides given to ``login`` (``login``, ``graph``, ``powerapps``, ``flow``)."""
    plaintext_cache: bool = True
    """Whether the token cache may fall back to an unencrypted file (False after ``--no-plaintext-cache``)."""
    scope: str | None = None
    """The scope ``login`` verified."""
    username: str | None = None
    signed_in_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        signin = {key: value for key, value in data.pop("signin").items() if value is not None}
        signin["method"] = str(self.signin.method)
        return {"version": PROFILE_VERSION, **signin, **{k: v for k, v in data.items() if v is not None}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: Path) -> Profile:
        try:
            method = Method(data["method"])
        except (KeyError, ValueError):
            raise InputError(f"{source}: not a connectorkit sign-in profile (no known 'method')") from None
        names = {f.name for f in fields(SignIn)} - {"method"}
        signin = SignIn(method, **{k: str(data[k]) for k in names if isinstance(data.get(k), str)})
        endpoints = data.get("endpoints")
        return cls(
            signin,
            cloud=str(data.get("cloud") or "public"),
            endpoints={str(k): str(v) for k, v in endpoints.items() if v} if isinstance(endpoints, dict) else {},
            plaintext_cache=bool(data.get("plaintext_cache", True)),
            scope=data.get("scope") if isinstance(data.get("scope"), str) else None,
            username=data.get("username") if isinstance(data.get("username"), str) else None,
            signed_in_at=data.get("signed_in_at") if isinstance(data.get("signed_in_at"), str) else None,
        )


# --- the profile --------------------------------------------------------------------------------


def config_dir() -> Path:
    """The user configuration directory (platformdirs), next to the data directory the store uses."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def profile_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``connectorkit login`` keeps its profile: ``CONNECTORKIT_PROFILE``, else
    ``login.json`` in the user configuration directory."""
    env = os.environ if environ is None else environ
    chosen = env.get(PROFILE_ENV)
    return Path(chosen) if chosen else config_dir() / PROFILE_FILE_NAME


def load_profile(path: Path | None = None) -> Profile | None:
    """The stored profile, or None when nobody signed in; a damaged file is an :class:`InputError`."""
    path = profile_path() if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the sign-in profile: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise InputError(f"{path}: the sign-in profile is not JSON; run `connectorkit logout`") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a connectorkit sign-in profile")
    return Profile.from_json(data, path)


def save_profile(profile: Profile, path: Path | None = None) -> Path:
    """Write the profile (mode 0600: it names accounts, though nothing in it is secret)."""
    path = profile_path() if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(profile.to_json(), handle, indent=2)
            handle.write("\n")
    except OSError as exc:
        raise ConnectorkitError(f"{path}: cannot write the sign-in profile: {exc.strerror}") from None
    return path


def remove_profile(path: Path | None = None) -> bool:
    path = profile_path() if path is None else path
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ConnectorkitError(f"{path}: cannot remove the sign-in profile: {exc.strerror}") from None
    return True


def profile_cloud_defaults(cloud: str | None) -> tuple[str | None, dict[str, str]]:
    """The cloud name and endpoint overrides to use when a command gives no ``--cloud``.

    An explicit ``--cloud`` or ``CONNECTORKIT_CLOUD`` wins and the profile's overrides are ignored
    (they belong to the profile's cloud); otherwise the profile's cloud and overrides apply."""
    if cloud or os.environ.get(f"{ENV_PREFIX}CLOUD"):
        return cloud, {}
    profile = load_profile()
    if profile is None:
        return None, {}
    return profile.cloud, dict(profile.endpoints)


# --- the token cache ----------------------------------------------------------------------------


def cache_files() -> list[Path]:
    """The files azure-identity's persistent cache uses on Linux and macOS (on Linux with an OS
    secret store they only signal changes; without one they hold the tokens)."""
    if sys.platform.startswith("win") and "LOCALAPPDATA" in os.environ:
        base = Path(os.environ["LOCALAPPDATA"]) / ".IdentityService"
    else:
        base = Path.home() / ".IdentityService"
    return [base / f"{CACHE_NAME}{suffix}" for suffix in CACHE_SUFFIXES]


def encryption_available() -> bool:
    """Whether the OS can encrypt the token cache: DPAPI on Windows, the Keychain on macOS, a
    working libsecret (with a session bus and keyring) on Linux."""
    if not sys.platform.startswith("linux"):
        return True
    try:
        from msal_extensions.libsecret import trial_run  # type: ignore[import-untyped]

        trial_run()
    except Exception:  # an ImportError without gi, a RuntimeError or GLib error without a keyring
        log.debug("no OS secret store for the token cache", exc_info=True)
        return False
    return True


@dataclass(frozen=True)
class CacheChoice:
    """The persistent token cache a credential gets, and whether it is encrypted."""

    options: TokenCachePersistenceOptions
    encrypted: bool
    location: Path


def token_cache(*, allow_plaintext: bool, announce: Callable[[str], None] | None = None) -> CacheChoice:
    """azure-identity's persistent cache options for connectorkit.

    Without an OS secret store the cache falls back to a plain file of mode 0600, saying so through
    ``announce`` (one line naming the file); with ``allow_plaintext=False`` that is refused instead."""
    from azure.identity import TokenCachePersistenceOptions

    location = cache_files()[0]
    if encryption_available():
        return CacheChoice(TokenCachePersistenceOptions(name=CACHE_NAME), True, location)
    if not allow_plaintext:
        raise ConnectorkitError(
            "no OS secret store (libsecret/keyring) is available to encrypt the token cache, and "
            "--no-plaintext-cache forbids an unencrypted one; use CONNECTORKIT_ACCESS_TOKEN or a CI credential"
        )
    location.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if announce is not None:
        announce(
            f"note: no OS secret store is available; the token cache is kept unencrypted in {location} (mode 0600)"
        )
    return CacheChoice(TokenCachePersistenceOptions(name=CACHE_NAME, allow_unencrypted_storage=True), False, location)


def secure_cache_files() -> None:
    """Make sure an unencrypted cache file is readable by its owner only, whoever created it."""
    for path in cache_files():
        if path.exists():
            path.chmod(0o600)


def clear_token_cache() -> list[Path]:
    """Forget every cached token: the files, and on Linux with libsecret the keyring entry."""
    removed: list[Path] = []
    for path in cache_files():
        if sys.platform.startswith("linux") and encryption_available():
            _clear_libsecret(path)
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConnectorkitError(f"{path}: cannot remove the token cache: {exc.strerror}") from None
        removed.append(path)
    return removed


def _clear_libsecret(path: Path) -> None:
    """Empty the keyring entry azure-identity keeps for this cache (same schema and attributes)."""
    import msal_extensions  # type: ignore[import-untyped]

    try:
        persistence = msal_extensions.LibsecretPersistence(
            str(path), path.name, {"MsalClientID": "Microsoft.Developer.IdentityService"}, label="MSALCache"
        )
        persistence.save("{}")
    except Exception:  # the keyring went away between the probe and now: nothing to clear
        log.debug("cannot clear the keyring entry of %s", path, exc_info=True)


# --- choosing and building credentials ----------------------------------------------------------


def env_value(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def signin_from_environment(
    environ: Mapping[str, str], *, tenant: str | None = None, client_id: str | None = None
) -> SignIn | None:
    """The sign-in the environment provides, in the documented order, or None.

    Service principal methods are only considered when a client id is known (``AZURE_CLIENT_ID`` or
    ``client_id``): a GitHub runner always offers an OIDC token, but not every workflow means to use
    it. Their tenant is then required."""
    if env_value(environ, ACCESS_TOKEN_ENV):
        return SignIn(Method.access_token)
    client = client_id or env_value(environ, CLIENT_ID_ENV)
    if client is None:
        return None
    tenant = tenant or env_value(environ, TENANT_ENV)
    chosen: SignIn | None = None
    token_file = env_value(environ, FEDERATED_TOKEN_FILE_ENV)
    certificate = env_value(environ, CERTIFICATE_ENV)
    if token_file:
        chosen = SignIn(Method.federated_token_file, tenant, client, token_file=token_file)
    elif env_value(environ, GITHUB_OIDC_URL_ENV) and env_value(environ, GITHUB_OIDC_TOKEN_ENV):
        chosen = SignIn(Method.github_oidc, tenant, client)
    elif env_value(environ, SECRET_ENV):
        chosen = SignIn(Method.client_secret, tenant, client)
    elif certificate:
        chosen = SignIn(Method.certificate, tenant, client, certificate=certificate)
    if chosen is not None:
        require_tenant(chosen)
    return chosen


def require_tenant(signin: SignIn) -> None:
    if signin.method in NEEDS_TENANT and not signin.tenant:
        raise InputError(f"--tenant (or {TENANT_ENV}) is required for {signin.method} sign-in")
    if signin.method in NEEDS_TENANT and not signin.client_id:
        raise InputError(f"--client-id (or {CLIENT_ID_ENV}) is required for {signin.method} sign-in")


def github_id_token(environ: Mapping[str, str], *, timeout: float = 30.0) -> str:
    """A GitHub Actions OIDC ID token for Entra ID's federation audience.

    The runner exposes ``ACTIONS_ID_TOKEN_REQUEST_URL`` and a bearer ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``
    when the workflow has ``permissions: id-token: write``; the answer is ``{"value": "<jwt>"}``."""
    import httpx

    url = env_value(environ, GITHUB_OIDC_URL_ENV)
    bearer = env_value(environ, GITHUB_OIDC_TOKEN_ENV)
    if not url or not bearer:
        raise InputError(f"GitHub OIDC needs {GITHUB_OIDC_URL_ENV} and {GITHUB_OIDC_TOKEN_ENV} (id-token: write)")
    from connectorkit.cloud.http import error_detail, shown_url

    try:
        response = httpx.get(
            url + ("&" if "?" in url else "?") + urlencode({"audience": FEDERATION_AUDIENCE}),
            headers={"Authorization": f"bearer {bearer}", "Accept": "application/json"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise CloudError(f"GitHub OIDC: cannot reach {shown_url(url)} ({type(exc).__name__})") from None
    if response.status_code != 200:
        code, message = error_detail(response.content)
        detail = ": ".join(part for part in (code, message) if part) or response.reason_phrase
        raise CloudError(f"GitHub OIDC: HTTP {response.status_code} {detail} ({shown_url(url)})")
    try:
        value = response.json()["value"]
    except (ValueError, KeyError, TypeError):
        value = None
    if not isinstance(value, str) or not value:
        raise CloudError(f"GitHub OIDC: the answer has no 'value' token ({shown_url(url)})")
    return value


def _authority_kwargs(cloud: Cloud) -> dict[str, Any]:
    """``authority`` for azure-identity, with instance discovery off for hosts it cannot know
    (a proxy or a stand-in): discovery would ask login.microsoftonline.com about them."""
    host = urlsplit(cloud.login).netloc
    return {"authority": cloud.login, "disable_instance_discovery": host not in WELL_KNOWN_LOGIN_HOSTS}


def build_credential(
    signin: SignIn,
    cloud: Cloud,
    *,
    environ: Mapping[str, str],
    secret: str | None = None,
    cache: CacheChoice | None = None,
    prompt: Callable[[str, str, datetime], None] | None = None,
    interactive: bool = False,
) -> TokenCredential:
    """The azure-identity credential for ``signin`` against ``cloud``'s authority.

    ``secret`` is the client secret (else ``AZURE_CLIENT_SECRET``); ``interactive`` lets device code
    and browser credentials prompt (only ``login`` does: other commands use the cached account and
    fail with a clear message when it needs a new sign-in)."""
    from azure import identity

    common: dict[str, Any] = {"authority": cloud.login}
    msal_based = {**_authority_kwargs(cloud)}
    if cache is not None:
        msal_based["cache_persistence_options"] = cache.options
        common["cache_persistence_options"] = cache.options
    method = signin.method
    if method in NEEDS_TENANT:
        require_tenant(signin)
    tenant, client = signin.tenant or "", signin.client_id or ""
    if method is Method.client_secret:
        value = secret or env_value(environ, SECRET_ENV)
        if not value:
            raise InputError(f"client-secret sign-in needs the secret: --client-secret-stdin or {SECRET_ENV}")
        return identity.ClientSecretCredential(tenant, client, value, **msal_based)
    if method is Method.certificate:
        return _certificate_credential(signin, environ, msal_based)
    if method is Method.federated_token_file:
        path = Path(signin.token_file or "")
        _readable(path, "--federated-token-file")
        return identity.WorkloadIdentityCredential(
            tenant_id=tenant, client_id=client, token_file_path=str(path), **common
        )
    if method is Method.github_oidc:
        github_env = dict(environ)
        return identity.ClientAssertionCredential(tenant, client, lambda: github_id_token(github_env), **common)
    if method is Method.azure_cli:
        if shutil.which("az") is None:
            raise SignInError(
                "--azure-cli: the Azure CLI (az) is not on PATH; install it and run `az login`, or choose another method",
                method=str(method),
            )
        return identity.AzureCliCredential(tenant_id=signin.tenant or "")
    if method in INTERACTIVE:
        return _interactive_credential(signin, msal_based, prompt=prompt, interactive=interactive)
    raise InputError(f"{method}: not a credential method")  # access tokens never reach here


def _readable(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot read: {exc.strerror}") from None


def _certificate_credential(signin: SignIn, environ: Mapping[str, str], kwargs: dict[str, Any]) -> TokenCredential:
    """A CertificateCredential from a PEM (key and certificate) or PFX file; a file that is neither,
    or whose password (``AZURE_CLIENT_CERTIFICATE_PASSWORD``) is wrong, is an input error."""
    from azure.identity import CertificateCredential

    path = Path(signin.certificate or "")
    data = _readable(path, "--certificate")
    password = env_value(environ, CERTIFICATE_PASSWORD_ENV)
    try:
        return CertificateCredential(
            signin.tenant or "", signin.client_id or "", certificate_data=data, password=password, **kwargs
        )
    except (ValueError, TypeError):
        raise InputError(
            f"--certificate {path}: not a PEM or PFX file with a private key and certificate "
            f"(or the password in {CERTIFICATE_PASSWORD_ENV} is wrong)"
        ) from None


def _interactive_credential(
    signin: SignIn,
    kwargs: dict[str, Any],
    *,
    prompt: Callable[[str, str, datetime], None] | None,
    interactive: bool,
) -> TokenCredential:
    from azure.identity import AuthenticationRecord, DeviceCodeCredential, InteractiveBrowserCredential

    options: dict[str, Any] = {
        **kwargs,
        "client_id": signin.client_id or PUBLIC_CLIENT_ID,
        "tenant_id": signin.tenant or "organizations",
        "disable_automatic_authentication": not interactive,
    }
    if signin.record:
        try:
            options["authentication_record"] = AuthenticationRecord.deserialize(signin.record)
        except (ValueError, KeyError, TypeError):
            raise InputError(
                "the sign-in profile's account record is damaged; run `connectorkit login` again"
            ) from None
        # The record names the authority and client the account was cached under.
        del options["authority"], options["client_id"]
    if signin.method is Method.device_code:
        return DeviceCodeCredential(prompt_callback=prompt, **options)
    return InteractiveBrowserCredential(**options)


# --- errors -------------------------------------------------------------------------------------


def sign_in_error(method: str, exc: BaseException, hidden: Iterable[str] = ()) -> ConnectorkitError:
    """One line for a credential's failure: the method, the AADSTS code, the first sentence of the
    description. Values in ``hidden`` (a client secret, an assertion) are masked should the service
    echo them."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import AuthenticationRequiredError, CredentialUnavailableError

    if isinstance(exc, ConnectorkitError):
        return exc
    if isinstance(exc, AuthenticationRequiredError):
        return SignInError(
            f"sign-in ({method}): the cached sign-in cannot be used for this request; "
            f"run `connectorkit login --{method}` again",
            method=method,
        )
    text = str(getattr(exc, "message", None) or exc)
    code_match = AADSTS.search(text)
    code = code_match.group(0) if code_match else None
    detail = _first_sentence(text[code_match.start() :] if code_match else text)
    for value in hidden:
        if value:
            detail = detail.replace(value, "***")
    if isinstance(exc, CredentialUnavailableError) and code is None:
        return SignInError(f"sign-in ({method}) unavailable: {detail}", method=method)
    if isinstance(exc, ClientAuthenticationError) or code is not None:
        return SignInError(f"sign-in ({method}) failed: {detail}", method=method, code=code)
    return SignInError(f"sign-in ({method}) failed: {type(exc).__name__}: {detail}", method=method)


def _first_sentence(text: str) -> str:
    """The description up to Entra ID's diagnostic tail ("Trace ID: ...") on one line."""
    line = " ".join(text.split())
    for marker in (" Trace ID:", " Correlation ID:", " Timestamp:", " To mitigate"):
        cut = line.find(marker)
        if cut > 0:
            line = line[:cut]
    return line[:300].rstrip() or "no detail given"


# --- the provider -------------------------------------------------------------------------------


class CredentialTokens:
    """A :data:`TokenProvider` over one credential: a token per scope, reused until shortly before
    it expires (the credential's own cache may be a file; this one saves even that lookup)."""

    def __init__(self, credential: TokenCredential, method: str, hidden: Iterable[str] = ()) -> None:
        self.credential = credential
        self.method = method
        self._hidden = tuple(value for value in hidden if value)
        self._tokens: dict[str, AccessToken] = {}
        self._lock = threading.Lock()

    def __call__(self, scope: str) -> str:
        with self._lock:
            held = self._tokens.get(scope)
            if held is not None and held.expires_on - REFRESH_MARGIN > time.time():
                return held.token
            token = self.get(scope)
            self._tokens[scope] = token
            return token.token

    def get(self, scope: str) -> AccessToken:
        """A fresh token from the credential, its failure as one line."""
        try:
            return self.credential.get_token(scope)
        except Exception as exc:  # azure.core ClientAuthenticationError and kin, our own errors
            raise sign_in_error(self.method, exc, self._hidden) from None


class StaticToken:
    """The pre-acquired ``CONNECTORKIT_ACCESS_TOKEN``, handed out for every scope."""

    method = str(Method.access_token)

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, scope: str) -> str:
        return self.token


def token_provider(
    cloud: Cloud, *, environ: Mapping[str, str] | None = None, profile: Path | None = None
) -> TokenProvider:
    """A callable ``scope -> bearer token`` for ``cloud``, from the environment or the stored profile.

    ``CONNECTORKIT_ACCESS_TOKEN`` is for scripts that already hold a token (e.g. from
    ``az account get-access-token``): it is used for every scope. Credentials the environment
    provides keep their tokens in memory; a profile's credential uses the persistent cache
    ``login`` set up. Nothing here prompts: a person whose sign-in expired is told to run
    ``connectorkit login`` again."""
    env = os.environ if environ is None else environ
    token = env_value(env, ACCESS_TOKEN_ENV)
    if token:
        return StaticToken(token)
    signin = signin_from_environment(env)
    cache: CacheChoice | None = None
    if signin is None:
        stored = load_profile(profile if profile is not None else profile_path(env))
        if stored is None:
            raise NotSignedInError(
                f"not signed in: run `connectorkit login`, or set {ACCESS_TOKEN_ENV}, "
                f"or {CLIENT_ID_ENV}/{TENANT_ENV} with a CI credential"
            )
        signin = stored.signin
        if signin.method is Method.access_token:
            raise NotSignedInError(
                f"the sign-in profile uses {ACCESS_TOKEN_ENV}, which is not set; set it or run `connectorkit login`"
            )
        if signin.method is not Method.azure_cli:
            cache = token_cache(allow_plaintext=stored.plaintext_cache)
    return provider_for(signin, cloud, environ=env, cache=cache)


def provider_for(
    signin: SignIn,
    cloud: Cloud,
    *,
    environ: Mapping[str, str],
    secret: str | None = None,
    cache: CacheChoice | None = None,
    prompt: Callable[[str, str, datetime], None] | None = None,
    interactive: bool = False,
) -> CredentialTokens | StaticToken:
    """The provider for one sign-in method (what ``login`` verifies and later commands use)."""
    if signin.method is Method.access_token:
        token = env_value(environ, ACCESS_TOKEN_ENV)
        if not token:
            raise InputError(f"--access-token sign-in needs {ACCESS_TOKEN_ENV}")
        return StaticToken(token)
    credential = build_credential(
        signin, cloud, environ=environ, secret=secret, cache=cache, prompt=prompt, interactive=interactive
    )
    hidden = [secret or "", env_value(environ, SECRET_ENV) or "", env_value(environ, CERTIFICATE_PASSWORD_ENV) or ""]
    return CredentialTokens(credential, str(signin.method), hidden)


def authenticate(tokens: CredentialTokens, scope: str) -> str | None:
    """For device code and browser: sign the person in and return azure-identity's serialized
    ``AuthenticationRecord`` (None for other credentials, which only get a token)."""
    authenticate_ = getattr(tokens.credential, "authenticate", None)
    if authenticate_ is None:
        tokens(scope)
        return None
    try:
        record = authenticate_(scopes=[scope])
    except Exception as exc:
        raise sign_in_error(tokens.method, exc, tokens._hidden) from None
    serialized: str = record.serialize()
    return serialized


def record_username(record: str | None) -> str | None:
    if not record:
        return None
    try:
        value = json.loads(record).get("username")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def now_text() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
