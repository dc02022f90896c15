"""A stand-in for Microsoft Entra ID's (Azure AD) v2.0 endpoints, as azure-identity and msal use them.

HTTPS on loopback with a ``trustme`` CA (azure-identity and msal insist on an https authority).
One :class:`Directory` holds the state: the tenant, applications (client secrets, certificates, federated credentials,
public clients), users, device codes, authorization codes and refresh tokens, and every request
for tests to assert on. The handlers are thin and follow the documented shapes:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (instance discovery is not served:
  connectorkit disables it for hosts that are not Microsoft's);
- ``POST /{tenant}/oauth2/v2.0/token``: ``client_credentials`` with ``client_secret`` or
  ``client_assertion`` (a certificate's PS256/RS256 JWT, checked against the registered certificate's
  public key and thumbprint, audience = the token endpoint; or a federated token matched against the
  app's federated credentials: issuer, subject, audience ``api://AzureADTokenExchange``), the device
  code grant (``authorization_pending`` until approved), ``authorization_code`` with PKCE, and
  ``refresh_token`` (rotated); the last two from public clients, or from confidential ones (msal's
  ConfidentialClientApplication) that authenticate as for ``client_credentials``;
- ``POST /{tenant}/oauth2/v2.0/devicecode`` and ``GET /{tenant}/oauth2/v2.0/authorize``.

Errors carry Entra ID's body: ``error``, ``error_description`` ("AADSTSnnnn: ... Trace ID: ...""),
``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``.

:class:`GitHubOidc` is the GitHub Actions ID token endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL``): a
bearer request token in, ``{"value": "<jwt>"}`` out, the audience taken from the query.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"


class AadFailure(Exception):
    """An OAuth error answer: status, ``error`` and the AADSTS code with its description."""

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.code = code
        self.description = description

    def body(self) -> dict[str, Any]:
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.description}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {stamp}",
            "error_codes": [self.code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
        }


@dataclass
class App:
    """An app registration: what it may authenticate with."""

    client_id: str
    secrets: set[str] = field(default_factory=set)
    certificates: list[x509.Certificate] = field(default_factory=list)
    federated: list[tuple[str, str]] = field(default_factory=list)
    """(issuer, subject) pairs of federated identity credentials; the audience is always FEDERATION_AUDIENCE."""
    public: bool = False
    """A public client (people sign in through it with device code or the browser)."""


@dataclass
class User:
    username: str
    oid: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = "Test User"


@dataclass
class DeviceCode:
    client_id: str
    scope: str
    user_code: str
    expires_at: float
    approved_by: User | None = None
    declined: bool = False
    polls: int = 0


@dataclass
class Directory:
    """One tenant's state."""

    base_url: str
    ca_file: Path
    tenant_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    domain: str = "contoso.onmicrosoft.com"
    apps: dict[str, App] = field(default_factory=dict)
    issuers: dict[str, bytes] = field(default_factory=dict)
    """Trusted federated token issuers and the keys their tokens are signed with (HS256; Entra ID
    fetches real issuers' JWKS through OIDC discovery, which this stand-in does not model)."""
    expires_in: int = 3600
    requests: list[dict[str, Any]] = field(default_factory=list)
    device_codes: dict[str, DeviceCode] = field(default_factory=dict)
    auth_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[str, User]] = field(default_factory=dict)
    issued: list[dict[str, Any]] = field(default_factory=list)
    """Every access token handed out: ``{"token", "scope", "client_id", "grant", "user"}``."""
    browser_user: User | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- configuration ------------------------------------------------------------------------

    def app(self, client_id: str | None = None, **kwargs: Any) -> App:
        registered = App(client_id or str(uuid.uuid4()), **kwargs)
        self.apps[registered.client_id] = registered
        return registered

    def tokens_for(self, grant: str) -> list[str]:
        return [entry["token"] for entry in self.issued if entry["grant"] == grant]

    def approve(self, user: User, *, wait: float = 10.0) -> DeviceCode:
        """Approve the first pending device code once the client has polled it (what a person does
        in the browser after reading the code)."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            with self.lock:
                for code in self.device_codes.values():
                    if code.approved_by is None and not code.declined and code.polls > 0:
                        code.approved_by = user
                        return code
            time.sleep(0.05)
        raise AssertionError("no device code was polled in time")

    # -- token endpoint -----------------------------------------------------------------------

    def token_endpoint(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}/oauth2/v2.0/token"

    def check_tenant(self, tenant: str, *, people: bool = False) -> None:
        known = {self.tenant_id, self.domain} | ({"organizations", "common"} if people else set())
        if tenant not in known:
            raise AadFailure(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")

    def known_app(self, client_id: str) -> App:
        app = self.apps.get(client_id)
        if app is None:
            raise AadFailure(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory '{self.domain}'.",
            )
        return app

    def grant(self, tenant: str, form: dict[str, str]) -> dict[str, Any]:
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            self.check_tenant(tenant)
            app = self.known_app(form.get("client_id", ""))
            self.authenticate_client(app, tenant, form)
            return self.access(app.client_id, _default_scope(form.get("scope", "")), grant, None)
        if grant == DEVICE_CODE_GRANT:
            return self.device_grant(tenant, form)
        if grant == "authorization_code":
            return self.code_grant(tenant, form)
        if grant == "refresh_token":
            return self.refresh_grant(tenant, form)
        raise AadFailure(
            400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
        )

    def authenticate_client(self, app: App, tenant: str, form: dict[str, str]) -> None:
        if "client_secret" in form:
            if form["client_secret"] not in app.secrets:
                raise AadFailure(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
                )
            return
        assertion = form.get("client_assertion")
        if not assertion or form.get("client_assertion_type") != ASSERTION_TYPE:
            raise AadFailure(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        header = jwt.get_unverified_header(assertion)
        if "x5t#S256" in header or "x5t" in header:
            self.check_certificate_assertion(app, tenant, assertion, header)
        else:
            self.check_federated_assertion(app, assertion)

    def check_certificate_assertion(self, app: App, tenant: str, assertion: str, header: dict[str, Any]) -> None:
        for certificate in app.certificates:
            # RFC 7515 base64url has no padding; msal sends it padded: compare without.
            by_sha256 = str(header.get("x5t#S256", "")).rstrip("=") == _thumbprint(certificate, hashes.SHA256())
            by_sha1 = str(header.get("x5t", "")).rstrip("=") == _thumbprint(certificate, hashes.SHA1())
            if not (by_sha256 or by_sha1):
                continue
            try:
                claims = jwt.decode(
                    assertion,
                    certificate.public_key(),  # type: ignore[arg-type]
                    algorithms=["PS256", "RS256"],
                    audience=self.token_endpoint(tenant),
                    options={"require": ["exp", "iss", "sub", "jti"]},
                )
            except jwt.PyJWTError as exc:
                raise AadFailure(
                    401, "invalid_client", 700027, f"Client assertion failed signature validation. {exc}"
                ) from None
            if claims["iss"] != app.client_id or claims["sub"] != app.client_id:
                raise AadFailure(401, "invalid_client", 700023, "Client assertion audience or issuer is invalid.")
            return
        raise AadFailure(
            401,
            "invalid_client",
            700027,
            f"The certificate with identifier used to sign the client assertion is not registered on application "
            f"'{app.client_id}'.",
        )

    def check_federated_assertion(self, app: App, assertion: str) -> None:
        unverified = jwt.decode(assertion, options={"verify_signature": False})
        issuer = unverified.get("iss", "")
        key = self.issuers.get(issuer)
        if key is None:
            raise AadFailure(
                400,
                "invalid_request",
                700211,
                f"No matching federated identity record found for presented assertion issuer '{issuer}'.",
            )
        try:
            claims = jwt.decode(assertion, key, algorithms=["HS256"], audience=FEDERATION_AUDIENCE)
        except jwt.InvalidAudienceError:
            raise AadFailure(
                400,
                "invalid_request",
                700212,
                "No matching federated identity record found for presented assertion audience.",
            ) from None
        except jwt.PyJWTError as exc:
            raise AadFailure(
                400,
                "invalid_client",
                700024,
                f"Client assertion is not within its valid time range or is invalid. {exc}",
            ) from None
        if (issuer, claims.get("sub")) not in app.federated:
            raise AadFailure(
                400,
                "invalid_request",
                70021,
                f"No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. "
                f"Assertion Subject: '{claims.get('sub')}'. Assertion Audience: '{FEDERATION_AUDIENCE}'.",
            )

    def signing_in_app(self, tenant: str, form: dict[str, str]) -> App:
        """The app a person signs in through: a public client as it is, a confidential one (a web
        app redeeming a code or refresh token, as msal's ConfidentialClientApplication does) only
        with its own credentials."""
        app = self.known_app(form.get("client_id", ""))
        if not app.public:
            self.authenticate_client(app, tenant, form)
        return app

    def public_app(self, form: dict[str, str]) -> App:
        app = self.known_app(form.get("client_id", ""))
        if not app.public:
            raise AadFailure(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
        return app

    def device_grant(self, tenant: str, form: dict[str, str]) -> dict[str, Any]:
        self.check_tenant(tenant, people=True)
        app = self.public_app(form)
        with self.lock:
            code = self.device_codes.get(form.get("device_code", ""))
            if code is None or code.client_id != app.client_id:
                raise AadFailure(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
            code.polls += 1
            if code.expires_at < time.time():
                raise AadFailure(
                    400,
                    "expired_token",
                    70020,
                    "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
                )
            if code.declined:
                raise AadFailure(400, "authorization_declined", 70017, "The user declined the authentication request.")
            if code.approved_by is None:
                raise AadFailure(
                    400,
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            del self.device_codes[form["device_code"]]
            user = code.approved_by
        return self.access(app.client_id, code.scope, DEVICE_CODE_GRANT, user, tenant=tenant)

    def code_grant(self, tenant: str, form: dict[str, str]) -> dict[str, Any]:
        self.check_tenant(tenant, people=True)
        app = self.signing_in_app(tenant, form)
        asked = self.auth_codes.pop(form.get("code", ""), None)
        if asked is None or asked["client_id"] != app.client_id or asked["redirect_uri"] != form.get("redirect_uri"):
            raise AadFailure(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired or is invalid.",
            )
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != asked.get("code_challenge"):
            raise AadFailure(
                400,
                "invalid_grant",
                501481,
                "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
            )
        return self.access(
            app.client_id, asked["scope"], "authorization_code", asked["user"], tenant=tenant, nonce=asked["nonce"]
        )

    def refresh_grant(self, tenant: str, form: dict[str, str]) -> dict[str, Any]:
        self.check_tenant(tenant, people=True)
        app = self.signing_in_app(tenant, form)
        with self.lock:
            held = self.refresh_tokens.pop(form.get("refresh_token", ""), None)
        if held is None or held[0] != app.client_id:
            raise AadFailure(400, "invalid_grant", 700082, "The refresh token has expired due to inactivity.")
        return self.access(app.client_id, form.get("scope", ""), "refresh_token", held[1], tenant=tenant)

    def access(
        self,
        client_id: str,
        scope: str,
        grant: str,
        user: User | None,
        *,
        tenant: str | None = None,
        nonce: str | None = None,
    ) -> dict[str, Any]:
        token = f"aad-at-{secrets.token_hex(12)}"
        resource_scopes = [s for s in scope.split() if s not in ("openid", "profile", "offline_access")]
        self.issued.append({"token": token, "scope": " ".join(resource_scopes), "client_id": client_id, "grant": grant, "user": user.username if user else None})  # fmt: skip
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(resource_scopes),
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": token,
        }
        if user is not None:
            refresh = f"aad-rt-{secrets.token_hex(12)}"
            with self.lock:
                self.refresh_tokens[refresh] = (client_id, user)
            answer["refresh_token"] = refresh
            answer["id_token"] = self.id_token(client_id, user, nonce)
            answer["client_info"] = _b64(json.dumps({"uid": user.oid, "utid": self.tenant_id}).encode())
        return answer

    def id_token(self, client_id: str, user: User, nonce: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": f"{self.base_url}/{self.tenant_id}/v2.0",
            "sub": user.oid,
            "aud": client_id,
            "tid": self.tenant_id,
            "oid": user.oid,
            "preferred_username": user.username,
            "name": user.name,
            "iat": now,
            "nbf": now,
            "exp": now + self.expires_in,
        }
        if nonce:
            claims["nonce"] = nonce
        return jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256")

    # -- device code and authorize ------------------------------------------------------------

    def device_code(self, tenant: str, form: dict[str, str]) -> dict[str, Any]:
        self.check_tenant(tenant, people=True)
        app = self.public_app(form)
        device = secrets.token_urlsafe(24)
        user_code = secrets.token_hex(4).upper()
        with self.lock:
            self.device_codes[device] = DeviceCode(app.client_id, form.get("scope", ""), user_code, time.time() + 900)
        verification = f"{self.base_url}/devicelogin"
        return {
            "user_code": user_code,
            "device_code": device,
            "verification_uri": verification,
            "expires_in": 900,
            "interval": 1,
            "message": f"To sign in, use a web browser to open the page {verification} and enter the code "
            f"{user_code} to authenticate.",
        }

    def authorize(self, tenant: str, query: dict[str, str]) -> str:
        """The redirect back to the app: the configured browser user signs in at once."""
        self.check_tenant(tenant, people=True)
        app = self.known_app(query.get("client_id", ""))
        if self.browser_user is None:
            raise AadFailure(400, "access_denied", 65004, "User declined to consent to access the app.")
        code = f"aad-code-{secrets.token_hex(8)}"
        self.auth_codes[code] = {
            "client_id": app.client_id,
            "redirect_uri": query.get("redirect_uri"),
            "code_challenge": query.get("code_challenge"),
            "scope": query.get("scope", ""),
            "nonce": query.get("nonce"),
            "user": self.browser_user,
        }
        return str(query["redirect_uri"]) + "?" + urlencode({"code": code, "state": query.get("state", "")})

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        root = f"{self.base_url}/{tenant}"
        return {
            "issuer": f"{self.base_url}/{self.tenant_id}/v2.0",
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "tenant_region_scope": "WW",
        }


def _default_scope(scope: str) -> str:
    if not scope.endswith("/.default"):
        raise AadFailure(400, "invalid_scope", 1002012, f"The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")  # fmt: skip
    return scope


def _thumbprint(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    return _b64(certificate.fingerprint(algorithm))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _handler(directory: Directory) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            segments = parts.path.strip("/").split("/")
            directory.requests.append({"method": "GET", "path": parts.path, "query": query})
            try:
                if segments[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                    self._json(200, directory.openid_configuration(segments[0]))
                elif segments[1:] == ["oauth2", "v2.0", "authorize"]:
                    self.send_response(302)
                    self.send_header("Location", directory.authorize(segments[0], query))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._json(404, {"error": "not_found", "error_description": f"no endpoint at {parts.path}"})
            except AadFailure as failure:
                self._json(failure.status, failure.body())

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            directory.requests.append({"method": "POST", "path": parts.path, "form": form})
            segments = parts.path.strip("/").split("/")
            try:
                if segments[1:] == ["oauth2", "v2.0", "token"]:
                    self._json(200, directory.grant(segments[0], form))
                elif segments[1:] == ["oauth2", "v2.0", "devicecode"]:
                    self._json(200, directory.device_code(segments[0], form))
                else:
                    self._json(404, {"error": "not_found", "error_description": f"no endpoint at {parts.path}"})
            except AadFailure as failure:
                self._json(failure.status, failure.body())

    return Handler


@contextmanager
def serve_aad(tmp_path: Path) -> Iterator[Directory]:
    """Serve a fresh :class:`Directory` over HTTPS on a free loopback port; trust ``ca_file``."""
    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    ca_file = tmp_path / "aad-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    directory = Directory(f"https://127.0.0.1:{server.server_address[1]}", ca_file)
    server.RequestHandlerClass = _handler(directory)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield directory
    finally:
        server.shutdown()
        server.server_close()


# --- GitHub Actions OIDC ------------------------------------------------------------------------


@dataclass
class GitHubOidc:
    """The runner's ID token service: ``GET <url>&audience=...`` with ``Authorization: bearer <request token>``."""

    base_url: str
    request_token: str = field(default_factory=lambda: "gh-request-" + secrets.token_hex(12))
    issuer: str = "https://token.actions.githubusercontent.com"
    subject: str = "repo:contoso/connectors:ref:refs/heads/main"
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    requests: list[dict[str, Any]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    @property
    def request_url(self) -> str:
        return f"{self.base_url}/_apis/distributedtask/hubs/build/plans/p/jobs/j/idtoken?api-version=2.0"

    def id_token(self, audience: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "sub": self.subject, "aud": audience, "iat": now, "nbf": now, "exp": now + 300}
        token = jwt.encode(claims, self.key, algorithm="HS256")
        self.issued.append(token)
        return token

    def trust(self, directory: Directory, app: App) -> None:
        """Register this repository as a federated credential of ``app`` (the portal step)."""
        directory.issuers[self.issuer] = self.key
        app.federated.append((self.issuer, self.subject))


@contextmanager
def serve_github_oidc() -> Iterator[GitHubOidc]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    oidc = GitHubOidc(f"http://127.0.0.1:{server.server_address[1]}")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            oidc.requests.append(
                {"path": parts.path, "query": query, "authorization": self.headers.get("Authorization")}
            )
            if self.headers.get("Authorization", "").lower() != f"bearer {oidc.request_token}".lower():
                status, body = 401, {"message": "Unauthorized"}
            elif query.get("api-version") != "2.0" or "audience" not in query:
                status, body = 400, {"message": "api-version and audience are required"}
            else:
                status, body = 200, {"count": 1, "value": oidc.id_token(query["audience"])}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield oidc
    finally:
        server.shutdown()
        server.server_close()
