"""A stand-in for the Power Apps resource provider (RP), the Flow RP's environment list and the
blob container the RP hands out for uploads — the calls paconn makes and connectorkit makes
the same way (``../shared/reference/cloud-apis.md`` B.2-B.9).

One :class:`PowerAppsBackend` holds the state (environments, custom connectors, uploaded blobs,
the client secrets the RP keeps but never returns); :func:`powerapps_app` is a thin Starlette
app over it, and :func:`serve` runs any ASGI app on a free loopback port. What it checks, as the
services do: ``Authorization: Bearer <the expected token>`` (401 otherwise), ``api-version``
2016-11-01, the ``objectIds/{oid}`` segment against the token's ``oid`` claim, the members an
``ApiPropertiesDefinition`` may carry (``stackOwner`` refused on update, issue #614), no
``displayName`` on update (``CannotUpdateApiDisplayName``), the container's shared access
signature and ``x-ms-blob-type: BlockBlob`` on uploads. Errors use the RP's ``{"error": {code,
message}}`` body; an injected APIM failure answers exactly like issue #3891 (a nested
``ApiHubsRequestFailed``); injected 429/503 answers exercise the client's retries.

Inferred, not documented (Gaps 3): the RP refuses to create an OAuth connector whose settings
carry no client secret, copies the uploaded icon and script into its own storage, and serves the
definition it keeps at ``apiDefinitions.originalSwaggerUrl`` with a UTF-8 byte-order mark (which
is why paconn decodes it as ``utf-8-sig``).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_VERSION = "2016-11-01"
GLOBAL_REDIRECT = "https://global.consent.azure-apim.net/redirect"

ALLOWED_MEMBERS = frozenset(
    {
        "displayName", "description", "iconUri", "iconBrandColor", "capabilities", "scriptOperations",
        "policyTemplateInstances", "connectionParameters", "connectionParameterSets", "publisher", "stackOwner",
        "openApiDefinition", "backendService", "environment", "scriptDefinitionUrl",
    }
)  # fmt: skip
"""Members of ``ApiPropertiesDefinition`` a create may send (paconn's whitelist plus what it adds)."""


def make_token(oid: str, audience: str = "https://service.powerapps.com", tenant: str = "standin-tenant") -> str:
    """An unsigned JWT with the claims connectorkit reads (``oid``); the stand-ins compare it as a
    whole, as an opaque bearer token."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'oid': oid, 'aud': audience, 'tid': tenant})}.standin"


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def apim_failure(connector: str) -> dict[str, Any]:
    """The body of issue #3891: ApiHubsRequestFailed wrapping an APIM answer wrapping an error."""
    inner = json.dumps(
        {"error": {"code": "InternalServerError", "message": "Request processing failed due to internal error.",
                   "details": None}}
    )  # fmt: skip
    apim = json.dumps(
        {
            "Code": "",
            "Message": f"PUT https://power-apim-msmanaged-na.management.azure-api.net/subscriptions/"
            f"{{{secrets.token_hex(4)}}}/apis/{connector}/policy?api-version=2019-01-01 failed with "
            f"InternalServerError, content={inner}",
            "Target": None,
            "Details": [],
            "Innererror": None,
        }
    )
    message = f"The request failed with client error: '{apim}'. The correlation Id is '{secrets.token_hex(8)}'."
    return {
        "error": {
            "code": "ApiHubsRequestFailed",
            "message": message,
            "details": [{"code": "FullNonLocalizedError", "message": apim}],
        }
    }


class StandInError(Exception):
    def __init__(self, status: int, code: str, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or error_body(code, message)


@dataclass
class Environment:
    name: str
    display_name: str
    is_default: bool = False
    instance_url: str | None = None

    def document(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "displayName": self.display_name,
            "isDefault": self.is_default,
            "environmentSku": "Sandbox",
            "azureRegionHint": "westus",
        }
        if self.instance_url:
            api = self.instance_url.rstrip("/")
            properties["linkedEnvironmentMetadata"] = {"instanceUrl": self.instance_url, "instanceApiUrl": api}
        return {
            "name": self.name,
            "id": f"/providers/Microsoft.ProcessSimple/environments/{self.name}",
            "type": "Microsoft.ProcessSimple/environments",
            "location": "unitedstates",
            "properties": properties,
        }


@dataclass
class PowerAppsBackend:
    """The RP's state. ``base_url`` is set once served (it goes into the URLs the RP hands out)."""

    token: str
    oid: str
    environments: dict[str, Environment] = field(default_factory=dict)
    apis: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Connector id -> registration (without client secrets)."""
    client_secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    """Connector id -> {"token" or "<set>/token": secret}: what the RP keeps but never returns."""
    blobs: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """The RP's own storage (icon, script, definition), served without authentication."""
    signatures: dict[str, str] = field(default_factory=dict)
    """Container -> the ``sig`` of its shared access signature."""
    page_size: int = 2
    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    transient: list[int] = field(default_factory=list)
    """Statuses (429, 503) the next RP requests answer with, one each, before any real answer."""
    fail_apim_next: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_environment(self, name: str, display_name: str, **kwargs: Any) -> Environment:
        env = Environment(name, display_name, **kwargs)
        self.environments[name] = env
        return env

    def add_builtin(self, environment: str, name: str, display_name: str) -> None:
        """A Microsoft connector (not a custom one), which every environment lists too."""
        self.apis[name] = {
            "name": name,
            "id": f"/providers/Microsoft.PowerApps/apis/{name}",
            "type": "Microsoft.PowerApps/apis",
            "properties": {"displayName": display_name, "isCustomApi": False, "environment": {"name": environment}},
        }

    # -- RP operations

    def check_environment(self, env: str | None) -> str:
        if not env:
            raise StandInError(400, "MissingEnvironmentFilter", "The environment filter is required.")
        if env not in self.environments:
            raise StandInError(404, "EnvironmentNotFound", f"The environment '{env}' could not be found.")
        return env

    def list_apis(self, env: str, skip: int) -> dict[str, Any]:
        mine = [api for api in self.apis.values() if api["properties"]["environment"]["name"] == env]
        page = mine[skip : skip + self.page_size]
        summaries = [self.summary(api) for api in page]
        answer: dict[str, Any] = {"value": summaries}
        if skip + self.page_size < len(mine):
            query = urlencode({"api-version": API_VERSION, "$filter": f"environment eq '{env}'",
                               "$skiptoken": str(skip + self.page_size)})  # fmt: skip
            answer["nextLink"] = f"{self.base_url}/providers/Microsoft.PowerApps/apis?{query}"
        return answer

    @staticmethod
    def summary(api: dict[str, Any]) -> dict[str, Any]:
        props = api["properties"]
        keep = ("displayName", "description", "iconUri", "isCustomApi", "createdBy", "createdTime", "changedTime")
        return {**{k: api[k] for k in ("name", "id", "type")}, "properties": {k: props[k] for k in keep if k in props}}

    def get_api(self, env: str, name: str) -> dict[str, Any]:
        api = self.apis.get(name)
        if api is None or api["properties"]["environment"]["name"] != env:
            raise StandInError(404, "ApiNotFound", f"The API '{name}' could not be found.")
        return copy.deepcopy(api)

    def create_api(self, env: str, body: Any, name: str | None = None) -> dict[str, Any]:
        """Register a connector; ``name`` seeds one with a known id (a connector paconn made)."""
        props = self._properties(env, body, update=False)
        display = props.get("displayName")
        if not isinstance(display, str) or not display.strip():
            raise StandInError(400, "InvalidRequestContent", "The API display name is required.")
        name = name or f"shared_{_encode(display)}-5f{secrets.token_hex(9)}"
        now = _now()
        api = {
            "name": name,
            "id": f"/providers/Microsoft.PowerApps/apis/{name}",
            "type": "Microsoft.PowerApps/apis",
            "properties": {
                "displayName": display,
                "isCustomApi": True,
                "createdBy": {"id": self.oid, "displayName": "Stand-in User", "type": "User"},
                "createdTime": now,
                "environment": {"id": f"/providers/Microsoft.PowerApps/environments/{env}", "name": env},
            },
        }
        self._store(api, props, secrets_required=True)
        self.apis[name] = api
        return copy.deepcopy(api)

    def update_api(self, env: str, name: str, body: Any) -> None:
        api = self.get_api(env, name)
        props = self._properties(env, body, update=True)
        if "displayName" in props:
            raise StandInError(
                400, "CannotUpdateApiDisplayName", "The display name of an existing API cannot be updated."
            )
        if self.fail_apim_next:
            self.fail_apim_next = False
            raise StandInError(400, "ApiHubsRequestFailed", "", body=apim_failure(name))
        self._store(api, props, secrets_required=False)
        self.apis[name] = api

    def _properties(self, env: str, body: Any, *, update: bool) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise StandInError(400, "InvalidRequestContent", "The request content was invalid: no 'properties'.")
        props: dict[str, Any] = body["properties"]
        for position, member in enumerate(props):
            if member not in ALLOWED_MEMBERS or (update and member == "stackOwner"):
                raise StandInError(
                    400,
                    "InvalidRequestContent",
                    f"The request content was invalid and could not be deserialized: 'Could not find member "
                    f"'{member}' on object of type 'ApiPropertiesDefinition'. Path 'properties.{member}', line 1, "
                    f"position {40 + position}.'.",
                )
        if (props.get("environment") or {}).get("name") != env:
            raise StandInError(400, "InvalidRequestContent", "properties.environment.name must name the environment.")
        definition = props.get("openApiDefinition")
        if not isinstance(definition, dict) or definition.get("swagger") != "2.0":
            raise StandInError(400, "InvalidApiDefinition", "The API definition must be an OpenAPI 2.0 document.")
        if not isinstance((props.get("backendService") or {}).get("serviceUrl"), str):
            raise StandInError(400, "InvalidRequestContent", "properties.backendService.serviceUrl is required.")
        return props

    def _store(self, api: dict[str, Any], props: dict[str, Any], *, secrets_required: bool) -> None:
        name = api["name"]
        stored = api["properties"]
        kept = self.client_secrets.setdefault(name, {})
        found: dict[str, str] = {}
        parameters = copy.deepcopy(props.get("connectionParameters") or {})
        _take_secrets(parameters, "", found, name)
        sets = copy.deepcopy(props.get("connectionParameterSets"))
        for entry in (sets or {}).get("values") or []:
            _take_secrets(entry.get("parameters") or {}, f"{entry.get('name')}/", found, name)
        needed = _oauth_locations(parameters, sets)
        missing = [where for where in needed if where not in found and where not in kept]
        if missing and secrets_required:
            raise StandInError(
                400, "InvalidOAuthSetting", f"The OAuth client secret is required ({', '.join(missing)})."
            )
        kept.update(found)
        for member in ("description", "iconBrandColor", "capabilities", "scriptOperations", "policyTemplateInstances",
                       "publisher", "stackOwner", "backendService"):  # fmt: skip
            if member in props:
                stored[member] = copy.deepcopy(props[member])
        stored["connectionParameters"] = parameters
        if sets is not None:
            stored["connectionParameterSets"] = sets
        else:
            stored.pop("connectionParameterSets", None)
        definition = props["openApiDefinition"]
        text = b"\xef\xbb\xbf" + json.dumps(definition, separators=(",", ":")).encode()
        stored["apiDefinitions"] = {
            "originalSwaggerUrl": self._keep(name, "apiDefinition", ".json", text, "application/json"),
            "modifiedSwaggerUrl": self._keep(name, "apiDefinition-modified", ".json", text, "application/json"),
        }
        icon = props.get("iconUri")
        if icon:
            data, kind = self._fetch_blob(icon, "iconUri")
            stored["iconUri"] = self._keep(name, "icon", ".png", data, kind)
        script = props.get("scriptDefinitionUrl")
        if script:
            data, kind = self._fetch_blob(script, "scriptDefinitionUrl")
            stored["scriptDefinitionUrl"] = self._keep(name, "script", ".csx", data, kind)
        else:
            stored.pop("scriptDefinitionUrl", None)
        stored["changedTime"] = _now()

    def _keep(self, api: str, stem: str, suffix: str, data: bytes, kind: str) -> str:
        digest = hashlib.sha256(data).hexdigest()[:16]
        path = f"/files/{api}/{stem}-{digest}{suffix}"
        self.files[path] = (data, kind)
        return f"{self.base_url}{path}"

    def _fetch_blob(self, url: str, member: str) -> tuple[bytes, str]:
        parts = urlsplit(url)
        match = re.fullmatch(r"/blob/([^/]+)/(.+)", parts.path)
        query = dict(parse_qsl(parts.query))
        if (
            not url.startswith(self.base_url)
            or match is None
            or self.signatures.get(match[1]) != query.get("sig")
            or (match[1], match[2]) not in self.blobs
        ):
            raise StandInError(400, "InvalidRequestContent", f"properties.{member}: the file cannot be read.")
        return self.blobs[(match[1], match[2])]

    def resource_storage(self, env: str) -> dict[str, Any]:
        container = f"container-{secrets.token_hex(6)}"
        sig = secrets.token_urlsafe(24)
        self.signatures[container] = sig
        expiry = datetime.fromtimestamp(time.time() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = urlencode({"sv": "2018-03-28", "sr": "c", "sp": "rwl", "se": expiry, "sig": sig})
        return {"sharedAccessSignature": f"{self.base_url}/blob/{container}?{query}"}

    def validate(self, definition: Any) -> str:
        if not isinstance(definition, dict) or definition.get("swagger") != "2.0":
            raise StandInError(400, "InvalidApiDefinition", "The API definition must be an OpenAPI 2.0 document.")
        warnings = []
        for path, item in (definition.get("paths") or {}).items():
            for method, operation in item.items():
                if isinstance(operation, dict) and not operation.get("summary"):
                    warnings.append(f"Warning: operation '{method.upper()} {path}' has no summary.")
        return "\r\n".join(warnings)


def _encode(display: str) -> str:
    """``Contoso Orders`` -> ``contoso-20orders``: the RP's escaping of a display name in an id."""
    return "".join(c if c.isascii() and c.isalnum() else f"-{ord(c):02x}" for c in display.lower())


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _take_secrets(parameters: dict[str, Any], prefix: str, found: dict[str, str], api: str) -> None:
    """Move each OAuth parameter's ``clientSecret`` out of what is stored (never returned), and set
    the redirect URL the RP assigns."""
    for pname, spec in parameters.items():
        settings = (spec or {}).get("oAuthSettings") if isinstance(spec, dict) else None
        if not isinstance(settings, dict):
            continue
        secret = settings.pop("clientSecret", None)
        if isinstance(secret, str) and secret:
            found[prefix + pname] = secret
        per_connector = settings.get("redirectMode") == "GlobalPerConnector"
        settings["redirectUrl"] = (
            f"{GLOBAL_REDIRECT}/{api.removeprefix('shared_')}" if per_connector else GLOBAL_REDIRECT
        )


def _oauth_locations(parameters: dict[str, Any], sets: Any) -> list[str]:
    def oauth(params: dict[str, Any], prefix: str) -> list[str]:
        return [
            prefix + name
            for name, spec in params.items()
            if isinstance(spec, dict)
            and spec.get("type") == "oauthSetting"
            and isinstance(spec.get("oAuthSettings"), dict)
        ]

    places = oauth(parameters, "")
    for entry in (sets or {}).get("values") or []:
        places += oauth(entry.get("parameters") or {}, f"{entry.get('name')}/")
    return places


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


def powerapps_app(backend: PowerAppsBackend) -> Starlette:
    """The HTTP face of ``backend``: RP, Flow RP, blob container and the RP's file storage."""

    def authorized(request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {backend.token}":
            return _json(
                401,
                error_body("AuthenticationFailed", "Authentication failed: the access token is missing or invalid."),
            )
        if request.query_params.get("api-version") is None:
            return _json(400, error_body("MissingApiVersionParameter",
                                         "The api-version query parameter (?api-version=) is required for all requests."))  # fmt: skip
        if request.query_params["api-version"] != API_VERSION:
            version = request.query_params["api-version"]
            return _json(400, error_body("InvalidApiVersionParameter", f"The api-version '{version}' is invalid."))
        return None

    async def record(request: Request) -> Any:
        raw = await request.body()
        entry = {
            "method": request.method,
            "path": request.url.path,
            "query": request.url.query,
            "headers": {k: v for k, v in request.headers.items() if k != "authorization"},
            "body": raw.decode("utf-8", "replace"),
        }
        backend.requests.append(entry)
        return (
            json.loads(raw) if raw and request.headers.get("content-type", "").startswith("application/json") else None
        )

    def transient() -> Response | None:
        if backend.transient:
            status = backend.transient.pop(0)
            code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
            return _json(status, error_body(code, "Please retry the request later."), {"Retry-After": "0"})
        return None

    def environment_filter(request: Request) -> str | None:
        match = re.fullmatch(r"environment eq '([^']*)'", request.query_params.get("$filter", ""))
        return match[1] if match else None

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await record(request)
            refused = transient() or authorized(request)
            if refused is not None:
                return refused
            try:
                with backend.lock:
                    return await handler(request, body)  # type: ignore[no-any-return]
            except StandInError as exc:
                return _json(exc.status, exc.body)

        return endpoint

    async def apis(request: Request, body: Any) -> Response:
        env = backend.check_environment(environment_filter(request))
        if request.method == "GET":
            return _json(200, backend.list_apis(env, int(request.query_params.get("$skiptoken", "0"))))
        return _json(201, backend.create_api(env, body))

    async def api(request: Request, body: Any) -> Response:
        env = backend.check_environment(environment_filter(request))
        name = request.path_params["name"]
        if request.method == "GET":
            return _json(200, backend.get_api(env, name))
        backend.update_api(env, name, body)
        return _json(200, backend.get_api(env, name))

    async def validate(request: Request, body: Any) -> Response:
        check_oid(request)
        return _json(200, backend.validate(body))

    async def storage(request: Request, body: Any) -> Response:
        check_oid(request)
        env = ((body or {}).get("environment") or {}).get("name")
        return _json(200, backend.resource_storage(backend.check_environment(env)))

    def check_oid(request: Request) -> None:
        if request.path_params["oid"] != backend.oid:
            raise StandInError(403, "Forbidden", "The caller cannot act for another object id.")

    async def environments(request: Request, body: Any) -> Response:
        return _json(200, {"value": [env.document() for env in backend.environments.values()]})

    async def blob(request: Request) -> Response:
        raw = await request.body()
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        backend.requests.append({"method": request.method, "path": request.url.path, "headers": headers})
        container, name = request.path_params["container"], request.path_params["name"]
        expected = backend.signatures.get(container)
        sig = request.query_params.get("sig")
        if expected is None or sig != expected:
            return _storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request.")
        if request.method == "PUT":
            if request.headers.get("x-ms-blob-type") != "BlockBlob":
                return _storage_error(400, "MissingRequiredHeader", "An HTTP header that's mandatory is missing.")
            backend.blobs[(container, name)] = (raw, request.headers.get("content-type", "application/octet-stream"))
            return Response(status_code=201, headers={"ETag": f'"{hashlib.md5(raw).hexdigest()}"'})
        if (container, name) not in backend.blobs:
            return _storage_error(404, "BlobNotFound", "The specified blob does not exist.")
        data, kind = backend.blobs[(container, name)]
        return Response(data, media_type=kind)

    async def stored_file(request: Request) -> Response:
        found = backend.files.get(request.url.path)
        if found is None:
            return Response(status_code=404)
        return Response(found[0], media_type=found[1])

    return Starlette(
        routes=[
            Route("/providers/Microsoft.PowerApps/apis", guarded(apis), methods=["GET", "POST"]),
            Route("/providers/Microsoft.PowerApps/apis/{name}", guarded(api), methods=["GET", "PATCH"]),
            Route("/providers/Microsoft.PowerApps/objectIds/{oid}/validateApiSwagger", guarded(validate),
                  methods=["POST"]),
            Route("/providers/Microsoft.PowerApps/objectIds/{oid}/generateResourceStorage", guarded(storage),
                  methods=["POST"]),
            Route("/providers/Microsoft.ProcessSimple/environments", guarded(environments), methods=["GET"]),
            Route("/blob/{container}/{name:path}", blob, methods=["GET", "PUT"]),
            Route("/files/{rest:path}", stored_file, methods=["GET"]),
        ]
    )  # fmt: skip


def _storage_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status_code=status, media_type="application/xml", headers={"x-ms-error-code": code})


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def powerapps_standin(token: str, oid: str) -> Iterator[PowerAppsBackend]:
    """A served backend (``backend.base_url`` is the RP, Flow RP and blob base URL)."""
    backend = PowerAppsBackend(token=token, oid=oid)
    with serve(powerapps_app(backend)) as url:
        backend.base_url = url
        yield backend


def comparable_body(raw: str, *, assigned_redirect: str | None = None) -> dict[str, Any]:
    """A create or update body as sent, less what legitimately differs between a create and an
    unchanged re-deploy: ``displayName`` (refused on update), client secrets (never read back),
    and the signed upload URLs (``iconUri``, ``scriptDefinitionUrl``: a new container each time).
    Whatever else a PATCH drops or changes shows up when the two are compared.

    ``assigned_redirect`` puts the per-connector redirect URL the RP assigned on create into each
    OAuth setting that has a ``redirectUrl`` (pass it for the create body: a downloaded folder
    carries the assigned URL)."""
    body = json.loads(raw)
    props = body["properties"]
    for key in ("displayName", "iconUri", "scriptDefinitionUrl"):
        props.pop(key, None)
    settings = [props.get("connectionParameters") or {}]
    settings += [s.get("parameters") or {} for s in (props.get("connectionParameterSets") or {}).get("values") or []]
    for parameters in settings:
        for parameter in parameters.values():
            oauth = parameter.get("oAuthSettings") or {}
            oauth.pop("clientSecret", None)
            if assigned_redirect is not None and "redirectUrl" in oauth:
                oauth["redirectUrl"] = assigned_redirect
    return body
