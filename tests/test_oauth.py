"""OAuth connections in the local environment, against real authorization servers on loopback:
oauth2-mock-server from npm (oauth2 and oauth2generic, PKCE checked by the server itself), a
stand-in Azure AD served over HTTPS for msal, pytest-httpserver as the API behind the connector,
and real SQLite stores."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from pytest_httpserver import HTTPServer
from starlette.testclient import TestClient
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.environment import LocalEnvironment, RefreshError
from connectorkit.runtime.invoke import CustomCodeError
from connectorkit.runtime.oauth import OAuthConfig, Tokens, challenge, fill_template, generated_script
from connectorkit.runtime.store import Store, generate_key
from connectorkit.server.redirect import handle_redirect, redirect_app
from nodetools import NodeToolMissing, node_binary, npm_package
from standins.aad import User, serve_aad

from conftest import ROOT

MOCK_SPEC = "oauth2-mock-server@7.2.0"
SECRET = "PLANTED-client-secret-5d1e"
REDIRECT = "http://127.0.0.1:8765/oauth/redirect"


# -- the authorization server


@dataclass
class MockOAuth:
    """oauth2-mock-server run by tests/oauth_mock_server.js; ``events`` are the JSON lines it
    prints for each authorize redirect and token response."""

    url: str
    process: subprocess.Popen[str]
    events: list[dict[str, Any]] = field(default_factory=list)

    def tokens(self, grant: str) -> list[dict[str, Any]]:
        """The token responses of ``grant`` so far. Node writes to a pipe asynchronously, so a
        line can arrive just after the HTTP answer it describes: wait until no new event has come
        for a moment (at most a few seconds) before counting."""
        deadline = time.monotonic() + 3.0
        seen, quiet_since = len(self.events), time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - quiet_since < 0.15:
            time.sleep(0.01)
            if len(self.events) != seen:
                seen, quiet_since = len(self.events), time.monotonic()
        return [e for e in self.events if e["event"] == "token" and e["request"].get("grant_type") == grant]


@pytest.fixture
def mock_oauth() -> Iterator[MockOAuth]:
    try:
        folder = npm_package(MOCK_SPEC, "oauth2-mock-server")
        node = node_binary()
    except NodeToolMissing as exc:
        pytest.skip(str(exc))
    script = Path(__file__).with_name("oauth_mock_server.js")
    process = subprocess.Popen([node, str(script), str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    lines: queue.Queue[dict[str, Any]] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("{"):
                lines.put(json.loads(line))

    threading.Thread(target=read, daemon=True).start()
    first = lines.get(timeout=30)
    assert first["event"] == "listening"
    mock = MockOAuth(first["url"], process)

    def collect() -> None:
        while True:
            mock.events.append(lines.get())

    threading.Thread(target=collect, daemon=True).start()
    try:
        yield mock
    finally:
        process.terminate()
        process.wait(timeout=10)


# -- connectors and environments


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key()) as opened:
        yield opened


@pytest.fixture
def environment(store: Store, clock: Clock) -> LocalEnvironment:
    return LocalEnvironment(store, clock=clock)


def write_connector(folder: Path, backend: HTTPServer, token_parameter: dict[str, Any], **extra: Any) -> Path:
    folder.mkdir(parents=True)
    definition = {
        "swagger": "2.0",
        "info": {"title": "Notes", "version": "1.0"},
        "host": f"127.0.0.1:{backend.port}",
        "schemes": ["http"],
        "basePath": "/",
        "securityDefinitions": {
            "oauth2_auth": {
                "type": "oauth2",
                "flow": "accessCode",
                "authorizationUrl": "https://placeholder.invalid/authorize",
                "tokenUrl": "https://placeholder.invalid/token",
                "scopes": {},
            }
        },
        "paths": {"/me": {"get": {"operationId": "GetMe", "responses": {"200": {"description": "ok"}}}}},
    }
    parameters = {"token": token_parameter, **extra}
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(definition))
    (folder / "apiProperties.json").write_text(json.dumps({"properties": {"connectionParameters": parameters}}))
    return folder


def oauth2_parameter(mock: MockOAuth) -> dict[str, Any]:
    return {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "oauth2",
            "clientId": "notes-app",
            "scopes": ["notes.read", "offline_access"],
            "redirectMode": "Global",
            "redirectUrl": "https://global.consent.azure-apim.net/redirect",
            "customParameters": {
                "authorizationUrl": {"value": f"{mock.url}/authorize"},
                "tokenUrl": {"value": f"{mock.url}/token"},
                "refreshUrl": {"value": f"{mock.url}/token"},
            },
        },
    }


def deploy(environment: LocalEnvironment, folder: Path) -> str:
    return environment.deploy(ConnectorPackage.load(folder))[0]


def follow_authorize(url: str, client: httpx.Client, redirect: str = REDIRECT) -> dict[str, str]:
    """What the browser does: open the sign-in URL; the server redirects back at once."""
    answer = client.get(url, follow_redirects=False)
    assert answer.status_code in (302, 303), answer.text
    location = answer.headers["location"]
    assert location.startswith(redirect)
    return dict(parse_qsl(urlsplit(location).query))


def sign_in(environment: LocalEnvironment, connector: str, client: httpx.Client, **given: str) -> str:
    started = environment.begin_sign_in(connector, {"token:clientSecret": SECRET, **given}, redirect_uri=REDIRECT)
    query = follow_authorize(started.url, client)
    status, page = handle_redirect(environment, query, client)
    assert status == 200, page
    connection_id = environment.sign_in_status(started.state).connection_id
    assert connection_id is not None and connection_id in page
    return connection_id


@pytest.fixture
def notes(environment: LocalEnvironment, mock_oauth: MockOAuth, httpserver: HTTPServer, tmp_path: Path) -> str:
    return deploy(environment, write_connector(tmp_path / "notes", httpserver, oauth2_parameter(mock_oauth)))


def bearer_of(request: WRequest) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bearer ")


# -- oauth2: sign-in


def test_sign_in_uses_pkce_and_state_and_the_token_signs_calls(
    environment: LocalEnvironment, notes: str, mock_oauth: MockOAuth, httpserver: HTTPServer, store: Store
) -> None:
    assert environment.auth_kind(notes) == "oauth2"
    started = environment.begin_sign_in(notes, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT)
    assert environment.sign_in_status(started.state).status == "pending"
    asked = parse_qs(urlsplit(started.url).query)
    assert started.url.startswith(f"{mock_oauth.url}/authorize?")
    assert asked["response_type"] == ["code"] and asked["client_id"] == ["notes-app"]
    assert asked["redirect_uri"] == [REDIRECT] and asked["state"] == [started.state]
    assert asked["scope"] == ["notes.read offline_access"] and asked["code_challenge_method"] == ["S256"]
    assert SECRET not in started.url
    with httpx.Client() as client:
        query = follow_authorize(started.url, client)
        assert query["state"] == started.state
        connection_id = environment.complete_sign_in(started.state, code=query["code"], client=client)
        exchange = mock_oauth.tokens("authorization_code")[-1]
        sent = exchange["request"]
        # the mock server itself rejects a verifier that does not match the challenge; check it too
        assert challenge(sent["code_verifier"]) == asked["code_challenge"][0]
        assert sent["client_secret"] == SECRET and sent["redirect_uri"] == REDIRECT
        assert environment.sign_in_status(started.state).status == "complete"

        httpserver.expect_request(
            "/me", headers={"Authorization": f"Bearer {exchange['access_token']}"}
        ).respond_with_json({"name": "johndoe"})
        result = environment.call(connection_id, "GetMe", {}, client=client)
    assert result.response.status == 200 and result.response.json == {"name": "johndoe"}
    connection = store.get_connection(connection_id)
    assert connection.refresh_token == exchange["refresh_token"]
    assert connection.parameters == {"token:clientSecret": SECRET}
    shown = repr(connection) + repr(store.history(connection_id)) + repr(environment.connections())
    for secret in (SECRET, exchange["access_token"], exchange["refresh_token"], sent["code_verifier"]):
        assert secret not in shown
    db = Path(store.url.removeprefix("sqlite:///")).read_bytes()
    assert SECRET.encode() not in db and exchange["refresh_token"].encode() not in db


def test_unknown_replayed_and_expired_states_are_refused(
    environment: LocalEnvironment, notes: str, clock: Clock
) -> None:
    with httpx.Client() as client:
        with pytest.raises(InputError, match="unknown sign-in state"):
            environment.complete_sign_in("no-such-state", code="x", client=client)
        with pytest.raises(InputError, match="unknown sign-in state"):
            environment.sign_in_status("no-such-state")
        started = environment.begin_sign_in(notes, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT)
        query = follow_authorize(started.url, client)
        environment.complete_sign_in(started.state, code=query["code"], client=client)
        with pytest.raises(InputError, match="already used"):
            environment.complete_sign_in(started.state, code=query["code"], client=client)
        status, page = handle_redirect(environment, query, client)
        assert status == 400 and "already used" in page

        late = environment.begin_sign_in(notes, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT)
        assert late.expires_at == clock.now + timedelta(minutes=10)
        clock.now += timedelta(minutes=10, seconds=1)
        assert environment.sign_in_status(late.state).status == "failed"
        with pytest.raises(InputError, match="expired"):
            environment.complete_sign_in(late.state, code="whatever", client=client)
        assert environment.sign_in_status(late.state).error == "the sign-in expired"
    assert environment.connections() and len(environment.connections()) == 1


def test_a_refused_code_fails_the_sign_in_without_secrets(
    environment: LocalEnvironment, notes: str, store: Store
) -> None:
    started = environment.begin_sign_in(notes, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT)
    with httpx.Client() as client:
        follow_authorize(started.url, client)
        status, page = handle_redirect(environment, {"state": started.state, "code": "forged-code"}, client)
    assert status == 502
    assert "invalid_request: code_challenge required" in page and SECRET not in page and "forged-code" not in page
    failed = environment.sign_in_status(started.state)
    assert failed.status == "failed" and "code_challenge required" in str(failed.error)
    assert SECRET not in str(failed.error) and environment.connections() == []


def test_a_provider_error_and_a_redirect_without_state(environment: LocalEnvironment, notes: str) -> None:
    started = environment.begin_sign_in(notes, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT)
    query = {"state": started.state, "error": "access_denied", "error_description": "<b>user said no</b>"}
    with httpx.Client() as client:
        status, page = handle_redirect(environment, query, client)
        assert status == 502 and "access_denied: &lt;b&gt;user said no&lt;/b&gt;" in page and "<b>" not in page
        assert environment.sign_in_status(started.state).status == "failed"
        assert handle_redirect(environment, {"code": "abc"}, client)[0] == 400


def test_missing_client_values_and_unsupported_providers_are_input_errors(
    environment: LocalEnvironment, notes: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match="token:clientSecret: required"):
        environment.begin_sign_in(notes, {}, redirect_uri=REDIRECT)
    with pytest.raises(InputError, match="signs in with OAuth"):
        environment.create_connection(notes, {})
    with pytest.raises(InputError, match="not an absolute"):
        environment.begin_sign_in(notes, {"token:clientSecret": SECRET}, redirect_uri="/relative")
    facebook = {"type": "oauthSetting", "oAuthSettings": {"identityProvider": "facebook", "clientId": "x"}}
    name = deploy(environment, write_connector(tmp_path / "fb", httpserver, facebook))
    with pytest.raises(InputError, match="identity provider 'facebook' cannot sign in locally"):
        environment.begin_sign_in(name, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT)


def test_token_client_id_parameter_overrides_the_settings(
    environment: LocalEnvironment, notes: str, mock_oauth: MockOAuth
) -> None:
    started = environment.begin_sign_in(
        notes, {"token:clientSecret": SECRET, "token:clientId": "my-own-app"}, redirect_uri=REDIRECT
    )
    assert parse_qs(urlsplit(started.url).query)["client_id"] == ["my-own-app"]


def test_fix_connection_signs_in_again_and_keeps_the_id(
    environment: LocalEnvironment, notes: str, mock_oauth: MockOAuth, store: Store
) -> None:
    with httpx.Client() as client:
        connection_id = sign_in(environment, notes, client)
        before = store.get_connection(connection_id)
        again = environment.begin_sign_in(notes, {}, redirect_uri=REDIRECT, connection_id=connection_id)
        query = follow_authorize(again.url, client)
        assert environment.complete_sign_in(again.state, code=query["code"], client=client) == connection_id
    after = store.get_connection(connection_id)
    assert after.access_token == mock_oauth.tokens("authorization_code")[-1]["access_token"] != before.access_token
    assert after.parameters == before.parameters and len(environment.connections()) == 1
    with pytest.raises(InputError, match="belongs to Notes"):
        environment.begin_sign_in("Other", {}, redirect_uri=REDIRECT, connection_id=connection_id)


# -- oauth2: tokens at call time


def test_a_token_about_to_expire_is_refreshed_before_the_call(
    environment: LocalEnvironment, notes: str, mock_oauth: MockOAuth, httpserver: HTTPServer, store: Store, clock: Clock
) -> None:
    with httpx.Client() as client:
        connection_id = sign_in(environment, notes, client)
        first = store.get_connection(connection_id)
        assert first.token_expires_at == clock.now + timedelta(seconds=3600)
        clock.now += timedelta(seconds=3600 - 61)  # still 61 s left: no refresh
        httpserver.expect_request("/me", headers={"Authorization": f"Bearer {first.access_token}"}).respond_with_json(
            {}
        )
        assert environment.call(connection_id, "GetMe", {}, client=client).response.status == 200
        assert mock_oauth.tokens("refresh_token") == []

        clock.now += timedelta(seconds=2)  # 59 s left: refreshed first
        httpserver.clear()
        seen: list[str] = []

        def handler(request: WRequest) -> WResponse:
            seen.append(bearer_of(request))
            return WResponse("{}", content_type="application/json")

        httpserver.expect_request("/me").respond_with_handler(handler)
        assert environment.call(connection_id, "GetMe", {}, client=client).response.status == 200
    refreshed = mock_oauth.tokens("refresh_token")
    assert len(refreshed) == 1 and refreshed[0]["request"]["refresh_token"] == first.refresh_token
    assert refreshed[0]["request"]["client_secret"] == SECRET
    assert first.redirect_uri == REDIRECT and "redirect_uri" not in refreshed[0]["request"]  # RFC 6749 section 6
    now = store.get_connection(connection_id)
    assert seen == [refreshed[0]["access_token"]] and now.access_token == refreshed[0]["access_token"]
    assert now.refresh_token == refreshed[0]["refresh_token"] != first.refresh_token  # rotation kept


def test_a_401_refreshes_once_and_retries_once(
    environment: LocalEnvironment, notes: str, mock_oauth: MockOAuth, httpserver: HTTPServer, store: Store
) -> None:
    with httpx.Client() as client:
        connection_id = sign_in(environment, notes, client)
        old = store.get_connection(connection_id).access_token
        seen: list[str] = []

        def handler(request: WRequest) -> WResponse:
            seen.append(bearer_of(request))
            status = 401 if seen[-1] == old else 200
            return WResponse(json.dumps({"ok": status == 200}), status=status, content_type="application/json")

        httpserver.expect_request("/me").respond_with_handler(handler)
        result = environment.call(connection_id, "GetMe", {}, client=client)
        assert result.response.status == 200 and any("401" in note for note in result.notes)
        new = store.get_connection(connection_id).access_token
        assert seen == [old, new] and new != old and len(mock_oauth.tokens("refresh_token")) == 1
        history = store.history(connection_id)
        assert len(history) == 1 and history[0].status == 200

        # the platform's own behaviour: the 401 goes through, untouched
        plain = LocalEnvironment(store, refresh_on_401=False)
        store.update_tokens(connection_id, old, None, None)
        assert plain.call(connection_id, "GetMe", {}, client=client).response.status == 401
        assert len(mock_oauth.tokens("refresh_token")) == 1


def test_no_refresh_token_and_a_refused_refresh_give_the_platform_message(
    environment: LocalEnvironment, notes: str, mock_oauth: MockOAuth, store: Store, clock: Clock
) -> None:
    expired = clock.now - timedelta(seconds=1)
    bare = store.create_connection(notes, {"token:clientSecret": SECRET}, {"token:clientSecret"})
    store.update_tokens(bare, "PLANTED-old-access", None, expired)
    with httpx.Client() as client:
        with pytest.raises(RefreshError) as missing:
            environment.call(bare, "GetMe", {}, client=client)
        assert str(missing.value).startswith("Failed to refresh access token for service: oauth2. Correlation Id=")
        assert str(missing.value).endswith("Error: Missing refresh token.")

        revoked = "revoked-PLANTED-refresh"
        store.update_tokens(bare, "PLANTED-old-access", revoked, expired)
        with pytest.raises(RefreshError) as refused:
            environment.call(bare, "GetMe", {}, client=client)
    message = str(refused.value)
    assert "Failed to refresh access token for service: oauth2." in message
    assert "invalid_grant: the refresh token was revoked" in message
    assert revoked not in message and SECRET not in message
    assert store.get_connection(bare).refresh_token == revoked  # the connection stays
    history = store.history(bare)
    assert [h.status for h in history] == [None, None] and "Missing refresh token" in str(history[-1].error)


# -- oauth2generic


def test_oauth2generic_fills_the_templates(
    environment: LocalEnvironment,
    mock_oauth: MockOAuth,
    httpserver: HTTPServer,
    tmp_path: Path,
    store: Store,
    clock: Clock,
) -> None:
    generic = {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "oauth2generic",
            "clientId": "generic-app",
            "scopes": ["read", "write"],
            "customParameters": {
                "authorizationUrlTemplate": {"value": f"{mock_oauth.url}/authorize"},
                "authorizationUrlQueryStringTemplate": {
                    "value": "?client_id={clientId}&response_type=code&redirect_uri={RedirectUrl}"
                    "&scope={Scopes}&prompt=login&state={STATE}"
                },
                "tokenUrlTemplate": {"value": f"{mock_oauth.url}/token"},
                "tokenBodyTemplate": {
                    "value": "client_id={ClientId}&code={Code}&redirect_uri={RedirectUrl}"
                    "&grant_type=authorization_code&client_secret={ClientSecret}"
                },
                "refreshUrlTemplate": {"value": f"{mock_oauth.url}/token"},
                "refreshBodyTemplate": {
                    "value": "client_id={ClientId}&refresh_token={RefreshToken}&grant_type=refresh_token"
                    "&client_secret={clientsecret}"
                },
                "scopeListDelimiter": {"value": ","},
            },
        },
    }
    name = deploy(environment, write_connector(tmp_path / "generic", httpserver, generic))
    started = environment.begin_sign_in(name, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT)
    asked = parse_qs(urlsplit(started.url).query)
    assert asked["client_id"] == ["generic-app"] and asked["scope"] == ["read,write"] and asked["prompt"] == ["login"]
    assert asked["state"] == [started.state] and asked["code_challenge_method"] == ["S256"]
    with httpx.Client() as client:
        query = follow_authorize(started.url, client)
        connection_id = environment.complete_sign_in(started.state, code=query["code"], client=client)
        sent = mock_oauth.tokens("authorization_code")[-1]["request"]
        assert sent["client_secret"] == SECRET and sent["code"] == query["code"]
        assert challenge(sent["code_verifier"]) == asked["code_challenge"][0]
        clock.now += timedelta(hours=2)
        httpserver.expect_request("/me").respond_with_json({})
        assert environment.call(connection_id, "GetMe", {}, client=client).response.status == 200
    refresh = mock_oauth.tokens("refresh_token")[-1]["request"]
    assert refresh["client_id"] == "generic-app" and refresh["client_secret"] == SECRET
    assert store.get_connection(connection_id).access_token == mock_oauth.tokens("refresh_token")[-1]["access_token"]


def test_oauth2generic_refresh_sends_the_redirect_uri_of_the_last_sign_in(
    environment: LocalEnvironment,
    mock_oauth: MockOAuth,
    httpserver: HTTPServer,
    tmp_path: Path,
    store: Store,
    clock: Clock,
) -> None:
    """A refreshBodyTemplate with ``{RedirectUrl}`` gets the URI the connection signed in with,
    and the one of a "Fix connection" sign-in after that."""
    generic = {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "oauth2generic",
            "clientId": "generic-app",
            "scopes": ["read"],
            "customParameters": {
                "authorizationUrlTemplate": {"value": f"{mock_oauth.url}/authorize"},
                "tokenUrlTemplate": {"value": f"{mock_oauth.url}/token"},
                "refreshUrlTemplate": {"value": f"{mock_oauth.url}/token"},
                "refreshBodyTemplate": {
                    "value": "client_id={ClientId}&refresh_token={RefreshToken}&redirect_uri={RedirectUrl}"
                    "&grant_type=refresh_token&client_secret={ClientSecret}"
                },
            },
        },
    }
    name = deploy(environment, write_connector(tmp_path / "generic", httpserver, generic))
    moved = "http://127.0.0.1:8799/other/redirect?from=fix"
    httpserver.expect_request("/me").respond_with_json({})
    with httpx.Client() as client:
        connection_id = sign_in(environment, name, client)
        assert store.get_connection(connection_id).redirect_uri == REDIRECT
        clock.now += timedelta(hours=2)
        assert environment.call(connection_id, "GetMe", {}, client=client).response.status == 200
        first = mock_oauth.tokens("refresh_token")[-1]
        assert first["status"] == 200 and first["request"]["redirect_uri"] == REDIRECT

        again = environment.begin_sign_in(name, {}, redirect_uri=moved, connection_id=connection_id)
        query = follow_authorize(again.url, client, redirect=moved.split("?")[0])
        assert environment.complete_sign_in(again.state, code=query["code"], client=client) == connection_id
        assert store.get_connection(connection_id).redirect_uri == moved
        clock.now += timedelta(hours=2)
        assert environment.call(connection_id, "GetMe", {}, client=client).response.status == 200
    second = mock_oauth.tokens("refresh_token")[-1]
    assert len(mock_oauth.tokens("refresh_token")) == 2 and second["request"]["redirect_uri"] == moved
    assert second["request"]["refresh_token"] == mock_oauth.tokens("authorization_code")[-1]["refresh_token"]


def test_template_placeholders_match_any_case_and_are_encoded() -> None:
    filled = fill_template(
        "a={clientid}&b={REDIRECTURL}&c={Other}", {"clientid": "x y", "redirecturl": "http://h/p?q=1"}
    )
    assert filled == "a=x%20y&b=http%3A%2F%2Fh%2Fp%3Fq%3D1&c={Other}"
    assert challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_reprs_hide_secrets() -> None:
    tokens = Tokens("PLANTED-access", "PLANTED-refresh", None)
    config = OAuthConfig("token", "oauth2", "app", SECRET, ())
    assert "PLANTED" not in repr(tokens) and SECRET not in repr(config) and SECRET not in str(config)


# -- Azure AD through msal


AAD_CLIENT_ID = "11111111-2222-3333-4444-555555555555"


def aad_parameter(login: str) -> dict[str, Any]:
    return {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "aad",
            "clientId": AAD_CLIENT_ID,
            "scopes": ["offline_access"],
            "customParameters": {
                "loginUri": {"value": login},
                "tenantId": {"value": "common"},
                "resourceUri": {"value": "https://resource.example"},
                "enableOnbehalfOfLogin": {"value": "false"},
            },
        },
    }


def test_aad_sign_in_and_refresh_through_msal(
    environment: LocalEnvironment, httpserver: HTTPServer, tmp_path: Path, store: Store, clock: Clock
) -> None:
    with serve_aad(tmp_path) as aad, httpx.Client(verify=str(aad.ca_file)) as client:
        aad.app(AAD_CLIENT_ID, secrets={SECRET})
        aad.browser_user = User("megan@contoso.onmicrosoft.com")
        tenant = {"type": "string", "uiDefinition": {"constraints": {"required": "false", "hidden": "true"}}}
        folder = write_connector(
            tmp_path / "aad", httpserver, aad_parameter(aad.base_url), **{"token:TenantId": tenant}
        )
        name = deploy(environment, folder)
        assert environment.auth_kind(name) == "aad"
        started = environment.begin_sign_in(
            name, {"token:clientSecret": SECRET, "token:TenantId": aad.domain}, redirect_uri=REDIRECT, client=client
        )
        asked = parse_qs(urlsplit(started.url).query)
        assert started.url.startswith(f"{aad.base_url}/{aad.domain}/oauth2/v2.0/authorize?")
        assert asked["state"] == [started.state] and asked["code_challenge_method"] == ["S256"]
        assert set(asked["scope"][0].split()) >= {"https://resource.example/.default", "offline_access"}
        query = follow_authorize(started.url, client)
        connection_id = environment.complete_sign_in(started.state, code=query["code"], client=client)
        assert aad.requests[0]["path"] == f"/{aad.domain}/v2.0/.well-known/openid-configuration"
        exchange = next(r for r in aad.requests if r["method"] == "POST")
        assert challenge(exchange["form"]["code_verifier"]) == asked["code_challenge"][0]

        first = store.get_connection(connection_id)
        signed_in = aad.tokens_for("authorization_code")
        assert first.access_token == signed_in[0] and first.parameters["token:TenantId"] == aad.domain
        clock.now += timedelta(hours=1)
        httpserver.expect_request("/me", headers={"Authorization": f"Bearer {signed_in[0]}"}).respond_with_data(
            "", status=403
        )
        httpserver.expect_request("/me").respond_with_json({"me": True})
        result = environment.call(connection_id, "GetMe", {}, client=client)
        assert result.response.status == 200
        refresh = [r for r in aad.requests if r["method"] == "POST"][-1]["form"]
        assert refresh["grant_type"] == "refresh_token" and refresh["refresh_token"] == first.refresh_token
        assert store.get_connection(connection_id).access_token == aad.tokens_for("refresh_token")[0]
        assert SECRET not in repr(store.history(connection_id))


def test_aad_token_errors_carry_the_aadsts_code(
    environment: LocalEnvironment, httpserver: HTTPServer, tmp_path: Path
) -> None:
    with serve_aad(tmp_path) as aad, httpx.Client(verify=str(aad.ca_file)) as client:
        aad.app(AAD_CLIENT_ID, secrets={"the-right-secret"})
        aad.browser_user = User("megan@contoso.onmicrosoft.com")
        name = deploy(environment, write_connector(tmp_path / "aad", httpserver, aad_parameter(aad.base_url)))
        started = environment.begin_sign_in(name, {"token:clientSecret": SECRET}, redirect_uri=REDIRECT, client=client)
        query = follow_authorize(started.url, client)
        with pytest.raises(ConnectorkitError, match="invalid_client: AADSTS7000215") as refused:
            environment.complete_sign_in(started.state, code=query["code"], client=client)
    assert SECRET not in str(refused.value) and query["code"] not in str(refused.value)


# -- client credentials


def generated_connector(cli: Callable[..., Any], tmp_path: Path, token_url: str, backend: HTTPServer) -> Path:
    doc = json.loads((ROOT / "examples" / "petstore" / "swagger.json").read_text())
    doc["securityDefinitions"] = {
        "machine": {"type": "oauth2", "flow": "application", "tokenUrl": token_url, "scopes": {"pets.read": "Read"}}
    }
    doc["security"] = [{"machine": []}]
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(doc))
    made = cli("new", "Petstore", "--from", spec, "-o", tmp_path / "out")
    assert made.exit_code == 0, made.stderr
    folder = tmp_path / "out" / "Petstore"
    definition = json.loads((folder / "apiDefinition.swagger.json").read_text())
    definition["host"], definition["schemes"] = f"127.0.0.1:{backend.port}", ["http"]
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(definition))
    return folder


def test_the_generated_client_credentials_script_runs_natively(
    cli: Callable[..., Any],
    environment: LocalEnvironment,
    mock_oauth: MockOAuth,
    httpserver: HTTPServer,
    tmp_path: Path,
    store: Store,
    clock: Clock,
) -> None:
    folder = generated_connector(cli, tmp_path, f"{mock_oauth.url}/token", httpserver)
    package = ConnectorPackage.load(folder)
    recognised = generated_script(package.script)
    assert recognised is not None and recognised.token_url == f"{mock_oauth.url}/token"
    name = deploy(environment, folder)
    assert environment.auth_kind(name) == "clientCredentials"
    seen: list[WRequest] = []

    def handler(request: WRequest) -> WResponse:
        seen.append(request)
        return WResponse(json.dumps({"id": 3}), content_type="application/json")

    httpserver.expect_request("/v1/pets/3").respond_with_handler(handler)
    with httpx.Client() as client:
        connection_id = environment.create_connection(
            name, {"client_id": "machine-app", "client_secret": SECRET}, client=client
        )
        granted = mock_oauth.tokens("client_credentials")
        assert len(granted) == 1 and granted[0]["request"]["client_secret"] == SECRET
        assert granted[0]["request"]["scope"] == "pets.read" and granted[0]["request"]["client_id"] == "machine-app"
        for _ in range(2):
            result = environment.call(connection_id, "GetPet", {"petId": 3}, client=client)
            assert result.response.status == 200
        assert len(mock_oauth.tokens("client_credentials")) == 1  # cached in the connection
        clock.now += timedelta(hours=2)
        assert environment.call(connection_id, "GetPet", {"petId": 3}, client=client).response.status == 200
    grants = mock_oauth.tokens("client_credentials")
    assert len(grants) == 2
    assert [bearer_of(r) for r in seen] == [grants[0]["access_token"]] * 2 + [grants[1]["access_token"]]
    for request in seen:
        assert not any(h.lower().startswith("x-connectorkit-client") for h, _ in request.headers)
    assert SECRET not in repr(store.history(connection_id))


def test_client_credentials_without_a_secret_and_other_scripts(
    cli: Callable[..., Any],
    environment: LocalEnvironment,
    mock_oauth: MockOAuth,
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    folder = generated_connector(cli, tmp_path, f"{mock_oauth.url}/token", httpserver)
    name = deploy(environment, folder)
    with httpx.Client() as client:
        bare = environment.store.create_connection(name, {"client_id": "machine-app"}, set())
        answer = environment.call(bare, "GetPet", {"petId": 3}, client=client)
        assert answer.response.status == 401 and "no client ID or client secret" in str(answer.response.json)
        script = (folder / "script.csx").read_text()
        (folder / "script.csx").write_text(script.replace("// Generated by connectorkit", "// Hand-edited", 1))
        edited = deploy(environment, folder)
        other = environment.create_connection(edited, {"client_id": "a", "client_secret": SECRET})
        with pytest.raises(CustomCodeError):
            environment.call(other, "GetPet", {"petId": 3}, client=client)


def test_refused_client_credentials_fail_at_creation(
    cli: Callable[..., Any], environment: LocalEnvironment, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/token", method="POST").respond_with_json(
        {"error": "invalid_client", "error_description": "unknown client"}, status=401
    )
    name = deploy(environment, generated_connector(cli, tmp_path, httpserver.url_for("/token"), httpserver))
    with httpx.Client() as client, pytest.raises(ConnectorkitError, match="invalid_client: unknown client") as refused:
        environment.create_connection(name, {"client_id": "machine-app", "client_secret": SECRET}, client=client)
    assert SECRET not in str(refused.value) and environment.connections() == []


def test_a_swagger_application_flow_gets_a_token(
    environment: LocalEnvironment, mock_oauth: MockOAuth, httpserver: HTTPServer, tmp_path: Path
) -> None:
    folder = tmp_path / "machine"
    folder.mkdir()
    definition = {
        "swagger": "2.0",
        "info": {"title": "Machine", "version": "1"},
        "host": f"127.0.0.1:{httpserver.port}",
        "schemes": ["http"],
        "securityDefinitions": {
            "m": {"type": "oauth2", "flow": "application", "tokenUrl": f"{mock_oauth.url}/token", "scopes": {}}
        },
        "paths": {"/me": {"get": {"operationId": "GetMe", "responses": {"200": {"description": "ok"}}}}},
    }
    secret = {"type": "securestring"}
    properties = {"properties": {"connectionParameters": {"client_id": {"type": "string"}, "client_secret": secret}}}
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(definition))
    (folder / "apiProperties.json").write_text(json.dumps(properties))
    name = deploy(environment, folder)
    assert environment.auth_kind(name) == "clientCredentials"
    with httpx.Client() as client:
        connection_id = environment.create_connection(name, {"client_id": "m", "client_secret": SECRET})
        token_holder: list[str] = []
        httpserver.expect_request("/me").respond_with_handler(
            lambda r: token_holder.append(bearer_of(r)) or WResponse("{}", content_type="application/json")
        )
        assert environment.call(connection_id, "GetMe", {}, client=client).response.status == 200
    assert token_holder == [mock_oauth.tokens("client_credentials")[0]["access_token"]]


# -- the redirect app and the CLI


def test_redirect_app_answers_health_and_redirects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTORKIT_SECRET_KEY", generate_key().decode())
    with TestClient(redirect_app(f"sqlite:///{tmp_path / 'r.db'}")) as client:
        assert client.get("/api/health").json()["service"] == "connectorkit"
        answer = client.get("/oauth/redirect", params={"state": "nope", "code": "c"})
        assert answer.status_code == 400 and "unknown sign-in state" in answer.text
        assert answer.headers["content-type"].startswith("text/html")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_cli_connection_create_signs_in_end_to_end(
    mock_oauth: MockOAuth, httpserver: HTTPServer, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**os.environ, "CONNECTORKIT_SECRET_KEY": generate_key().decode(), "CONNECTORKIT_DB": db}
    with Store(db, environ=env) as store:
        LocalEnvironment(store).deploy(
            ConnectorPackage.load(write_connector(tmp_path / "notes", httpserver, oauth2_parameter(mock_oauth)))
        )
    port = free_port()
    command = [sys.executable, "-m", "connectorkit", "connection", "create", "Notes", "--no-browser",
               "--port", str(port), "--timeout", "60", "--format", "json", "--param", f"token:clientSecret={SECRET}"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("Sign in at: "), line
        url = line.removeprefix("Sign in at: ").strip()
        with httpx.Client() as client:
            location = client.get(url, follow_redirects=False).headers["location"]
            assert location.startswith(f"http://127.0.0.1:{port}/oauth/redirect?")
            landed = client.get(location)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert landed.status_code == 200 and "Signed in" in landed.text
    assert process.returncode == 0, stderr
    connection_id = json.loads(stdout)["id"]
    assert connection_id in landed.text and SECRET not in stdout + stderr + landed.text
    with Store(db, environ=env) as store:
        assert (
            store.get_connection(connection_id).access_token
            == mock_oauth.tokens("authorization_code")[-1]["access_token"]
        )


def test_cli_without_a_secret_off_a_terminal_is_an_input_error(
    mock_oauth: MockOAuth,
    httpserver: HTTPServer,
    tmp_path: Path,
    cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONNECTORKIT_SECRET_KEY", generate_key().decode())
    monkeypatch.setenv("CONNECTORKIT_DB", f"sqlite:///{tmp_path / 'cli.db'}")
    assert cli("deploy", write_connector(tmp_path / "notes", httpserver, oauth2_parameter(mock_oauth))).exit_code == 0
    result = cli("connection", "create", "Notes", "--no-browser", "--port", str(free_port()), "--timeout", "5")
    assert result.exit_code == 2 and "token:clientSecret: required" in result.stderr
    assert "Traceback" not in result.stderr
