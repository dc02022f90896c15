"""A stand-in for Azure AD's v2.0 endpoints, for msal to talk to in tests: HTTPS on loopback
with a ``trustme`` CA (msal insists on an https authority), serving the documented shapes of
``/{tenant}/v2.0/.well-known/openid-configuration``, ``/{tenant}/oauth2/v2.0/authorize``
(redirects straight back with a code) and ``/{tenant}/oauth2/v2.0/token`` (authorization_code
with PKCE S256 checked, refresh_token with rotation; errors as ``{"error", "error_description"}``).
It records every request so tests can assert on what msal sent."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import trustme


@dataclass
class AadStandIn:
    base_url: str
    ca_file: Path
    client_id: str
    client_secret: str
    expires_in: int = 3600
    requests: list[dict[str, Any]] = field(default_factory=list)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    issued: list[str] = field(default_factory=list)

    def grant(self) -> dict[str, Any]:
        access = "aad-access-" + secrets.token_hex(8)
        refresh = "aad-refresh-" + secrets.token_hex(8)
        self.issued.append(access)
        self.refresh_tokens.add(refresh)
        return {
            "token_type": "Bearer",
            "scope": "https://resource.example/.default",
            "expires_in": self.expires_in,
            "ext_expires_in": self.expires_in,
            "access_token": access,
            "refresh_token": refresh,
        }


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _handler(aad: AadStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            segments = parts.path.strip("/").split("/")
            aad.requests.append({"method": "GET", "path": parts.path, "query": query})
            tenant = segments[0]
            if segments[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                root = f"{aad.base_url}/{tenant}"
                self._json(200, {
                    "issuer": f"{root}/v2.0",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                })  # fmt: skip
            elif segments[1:] == ["oauth2", "v2.0", "authorize"]:
                code = "aad-code-" + secrets.token_hex(8)
                aad.codes[code] = query
                target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            aad.requests.append({"method": "POST", "path": parts.path, "form": form})
            if not parts.path.endswith("/oauth2/v2.0/token"):
                self._json(404, {"error": "not_found"})
                return
            if form.get("client_id") != aad.client_id or form.get("client_secret") != aad.client_secret:
                self._json(
                    401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}
                )
                return
            grant = form.get("grant_type")
            if grant == "authorization_code":
                asked = aad.codes.pop(form.get("code", ""), None)
                if asked is None:
                    self._json(400, {"error": "invalid_grant", "error_description": "AADSTS70008: unknown code"})
                elif asked.get("code_challenge") != _challenge(form.get("code_verifier", "")):
                    self._json(400, {"error": "invalid_grant", "error_description": "AADSTS501481: bad verifier"})
                else:
                    self._json(200, aad.grant())
            elif grant == "refresh_token":
                if form.get("refresh_token") not in aad.refresh_tokens:
                    self._json(400, {"error": "invalid_grant", "error_description": "AADSTS700082: refresh expired"})
                else:
                    aad.refresh_tokens.discard(form["refresh_token"])
                    self._json(200, aad.grant())
            else:
                self._json(400, {"error": "unsupported_grant_type"})

    return Handler


@contextmanager
def aad_standin(tmp_path: Path, client_id: str, client_secret: str) -> Iterator[AadStandIn]:
    """Serve the stand-in on a free loopback port; ``ca_file`` is the CA to trust."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = tmp_path / "aad-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    aad = AadStandIn(f"https://127.0.0.1:{server.server_address[1]}", ca_file, client_id, client_secret)
    server.RequestHandlerClass = _handler(aad)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield aad
    finally:
        server.shutdown()
        server.server_close()
