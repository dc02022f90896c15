"""Custom connectors in Power Platform environments, through the Power Apps resource provider.

This is the API paconn uses (``cloud-apis.md`` B): ``/providers/Microsoft.PowerApps/apis`` with
``api-version=2016-11-01`` and ``$filter=environment eq '<env>'`` percent-encoded as paconn
encodes it (``%20``, not ``+``), the ``x-ms-origin`` header on RP calls, a definition check with
``validateApiSwagger``, and files uploaded through the container that ``generateResourceStorage``
hands out. :class:`PowerPlatformEnvironment` offers what the local environment offers —
``deploy``, ``list``, ``download`` — so a folder moves between paconn, the portal and connectorkit
unchanged: ``settings.json`` is read and written with paconn's keys, the body is paconn's (B.4),
an OAuth client secret goes into ``connectionParameters`` *and* every ``connectionParameterSets``
entry (paconn misses the latter, issue #1479), ``displayName`` is left out of updates (the RP
refuses it) and so is ``stackOwner`` (the RP refuses it on update, paconn issue #614).

Secrets: the client secret exists only in the request body that carries it. Error messages are
scrubbed of it, downloads drop any ``clientSecret`` the service might return, and shared access
signatures never appear in a message (:func:`~connectorkit.cloud.http.shown_url`).
"""

from __future__ import annotations

import base64
import binascii
import builtins
import copy
import json
import mimetypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx

from connectorkit.cloud.clouds import Cloud
from connectorkit.cloud.http import CloudClient, CloudError, TokenProvider, shown_url
from connectorkit.definition.jsontext import dump_bytes
from connectorkit.definition.package import DEFINITION, ICON, PROPERTIES, SCRIPT, SETTINGS, ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.secrets_text import redact, secret_strings

API_VERSION = "2016-11-01"
ORIGIN = "connectorkit"
"""``x-ms-origin``: paconn sends ``paconn-cli``; the RP uses it to tell tools apart."""
RP_PATH = "providers/Microsoft.PowerApps"
FLOW_PATH = "providers/Microsoft.ProcessSimple"
BLOB_VERSION = "2020-04-08"

DOWNLOADED_PROPERTIES = (
    "connectionParameters", "connectionParameterSets", "iconBrandColor", "scriptOperations", "capabilities",
    "policyTemplateInstances", "publisher", "stackOwner",
)  # fmt: skip
"""What paconn's ``download`` keeps of a registration in ``apiProperties.json`` (B.6)."""

SECRET_MISSING = (
    "the connector signs in with OAuth, so creating it needs the client secret: pass --secret-stdin or "
    "--secret-file (apiProperties.json never holds it)"
)
STACK_OWNER_NOTE = (
    "stackOwner left out of the update: the Power Apps API accepts it only when a connector is created "
    "(paconn issue #614); the value set then is kept"
)

Progress = Callable[[str], None]


# -- errors


@contextmanager
def scrubbed(*secrets: str | None) -> Iterator[None]:
    """Re-raise any connectorkit error with the given secret values replaced by ``***``: a
    service may quote a request body back in its message, JSON-escaped, URL-encoded or with its
    whitespace collapsed (:func:`~connectorkit.cloud.http.error_detail` folds it onto one line),
    so every such form is cut (:func:`~connectorkit.secrets_text.secret_strings`)."""
    try:
        yield
    except ConnectorkitError as exc:
        text = str(exc)
        hidden = redact(text, secret_strings(secret for secret in secrets if secret))
        if hidden == text:
            raise
        if isinstance(exc, CloudError):
            raise CloudError(hidden, status=exc.status, code=exc.code) from None
        raise (InputError if isinstance(exc, InputError) else ConnectorkitError)(hidden) from None


def query(**params: str) -> str:
    """A query string encoded as paconn's requests does: ``%24filter=environment%20eq%20%27x%27``."""
    return urlencode(params, quote_via=quote, safe="")


def environment_filter(environment: str) -> str:
    return f"environment eq '{environment}'"


def token_object_id(token: str) -> str | None:
    """The ``oid`` claim of a JWT access token (read, not verified: the RP verifies it), which the
    RP wants in the path of ``validateApiSwagger`` and ``generateResourceStorage`` (B.1)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    oid = claims.get("oid") if isinstance(claims, dict) else None
    return oid if isinstance(oid, str) and oid else None


# -- the resource providers


@dataclass(frozen=True)
class PowerPlatformEnvironmentInfo:
    """One environment as the Flow RP lists it."""

    name: str
    display_name: str
    is_default: bool
    instance_url: str | None
    """The Dataverse org URL (``linkedEnvironmentMetadata.instanceUrl``), when it has a database."""

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> PowerPlatformEnvironmentInfo:
        props = doc.get("properties") or {}
        linked = props.get("linkedEnvironmentMetadata") or {}
        url = linked.get("instanceUrl")
        return cls(
            name=str(doc.get("name")),
            display_name=str(props.get("displayName") or doc.get("name")),
            is_default=bool(props.get("isDefault")),
            instance_url=str(url).rstrip("/") if url else None,
        )


@dataclass(frozen=True)
class CloudConnector:
    """A custom connector as ``GET /apis`` lists it."""

    name: str
    display_name: str
    description: str | None
    created_by: str | None
    created_time: str | None
    changed_time: str | None

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> CloudConnector:
        props = doc.get("properties") or {}
        return cls(
            name=str(doc.get("name")),
            display_name=str(props.get("displayName") or doc.get("name")),
            description=props.get("description"),
            created_by=(props.get("createdBy") or {}).get("displayName"),
            created_time=props.get("createdTime"),
            changed_time=props.get("changedTime"),
        )


class PowerAppsApi:
    """The Power Apps RP, the Flow RP's environment list and blob uploads, for one cloud.

    ``tokens`` is asked for ``cloud.powerapps_scope`` (paconn sends the same token to the Flow RP).
    ``object_id`` is the caller's object id for the ``objectIds/{oid}`` routes; by default it is
    read from the token's ``oid`` claim."""

    def __init__(
        self,
        cloud: Cloud,
        tokens: TokenProvider,
        *,
        client: httpx.Client | None = None,
        api_version: str = API_VERSION,
        object_id: str | None = None,
        retries: int = 4,
        backoff: float = 1.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.cloud = cloud
        self.tokens = tokens
        self._owns_http = client is None
        self.http = client or httpx.Client(timeout=60.0, follow_redirects=True)
        self.api_version = api_version
        self._object_id = object_id
        extra: dict[str, Any] = {"retries": retries, "backoff": backoff}
        if sleep is not None:
            extra["sleep"] = sleep
        scope = cloud.powerapps_scope
        self.rp = CloudClient(self.http, tokens, service="Power Apps", base_url=cloud.powerapps, scope=scope, **extra)
        self.flow = CloudClient(self.http, tokens, service="Flow", base_url=cloud.flow, scope=scope, **extra)
        self.files = CloudClient(self.http, None, service="Blob storage", base_url=cloud.powerapps, **extra)

    def close(self) -> None:
        """Close the HTTP client this object made (one passed in belongs to the caller)."""
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> PowerAppsApi:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _rp(self, path: str, environment: str | None = None, **params: str) -> str:
        if environment is not None:
            params["$filter"] = environment_filter(environment)
        return f"{RP_PATH}/{path}?{query(**{'api-version': self.api_version}, **params)}"

    @property
    def object_id(self) -> str:
        if self._object_id is None:
            self._object_id = token_object_id(self.tokens(self.cloud.powerapps_scope))
            if self._object_id is None:
                raise ConnectorkitError(
                    "Power Apps: the access token carries no 'oid' claim (the signed-in user's object id, "
                    "which the API needs); sign in as a user with `connectorkit login`"
                )
        return self._object_id

    def environments(self) -> list[PowerPlatformEnvironmentInfo]:
        path = f"{FLOW_PATH}/environments?{query(**{'api-version': self.api_version})}"
        answer = self.flow.get_json(path, headers={"x-ms-origin": ORIGIN}) or {}
        return [PowerPlatformEnvironmentInfo.from_document(doc) for doc in answer.get("value") or []]

    def environment(self, wanted: str) -> PowerPlatformEnvironmentInfo:
        """The environment whose id or display name (case-insensitive) is ``wanted``."""
        known = self.environments()
        exact = [env for env in known if env.name == wanted]
        if exact:
            return exact[0]
        named = [env for env in known if env.display_name.casefold() == wanted.casefold()]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            ids = ", ".join(env.name for env in named)
            raise InputError(f"--env {wanted}: several environments have this name; use the id ({ids})")
        listing = ", ".join(f"{env.display_name} ({env.name})" for env in known) or "none"
        raise InputError(f"--env {wanted}: no such environment (you can reach: {listing})")

    def list_apis(self, environment: str) -> list[dict[str, Any]]:
        """Every registration in the environment (custom and Microsoft's), following ``nextLink``."""
        found: list[dict[str, Any]] = []
        path: str | None = self._rp("apis", environment)
        while path:
            answer = self.rp.get_json(path, headers={"x-ms-origin": ORIGIN}) or {}
            found += [doc for doc in answer.get("value") or [] if isinstance(doc, dict)]
            path = answer.get("nextLink") or None
        return found

    def get_api(self, environment: str, connector_id: str) -> dict[str, Any]:
        answer = self.rp.get_json(self._rp(f"apis/{quote(connector_id, safe='')}", environment),
                                  headers={"x-ms-origin": ORIGIN})  # fmt: skip
        if not isinstance(answer, dict):
            raise CloudError(f"Power Apps: the registration of {connector_id} is not a JSON object")
        return answer

    def create_api(self, environment: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.rp.send_json("POST", self._rp("apis", environment), body, headers={"x-ms-origin": ORIGIN})
        if not isinstance(answer, dict) or not isinstance(answer.get("name"), str):
            raise CloudError("Power Apps: the create answer names no connector")
        return answer

    def update_api(self, environment: str, connector_id: str, body: dict[str, Any]) -> None:
        path = self._rp(f"apis/{quote(connector_id, safe='')}", environment)
        self.rp.request("PATCH", path, json=body, headers={"x-ms-origin": ORIGIN})

    def validate(self, definition: dict[str, Any]) -> str:
        """The RP's warnings about a definition, or ``""``; an HTTP error is a :class:`CloudError`."""
        path = self._rp(f"objectIds/{self.object_id}/validateApiSwagger")
        answer = self.rp.send_json("POST", path, definition, headers={"x-ms-origin": ORIGIN})
        return answer.strip() if isinstance(answer, str) else ""

    def resource_storage(self, environment: str) -> str:
        """A container URL with its shared access signature (paconn sends no ``x-ms-origin`` here)."""
        path = self._rp(f"objectIds/{self.object_id}/generateResourceStorage")
        answer = self.rp.send_json("POST", path, {"environment": {"name": environment}})
        sas = answer.get("sharedAccessSignature") if isinstance(answer, dict) else None
        if not isinstance(sas, str) or "?" not in sas:
            raise CloudError("Power Apps: generateResourceStorage gave no shared access signature")
        return sas

    def upload(self, container_sas: str, name: str, data: bytes) -> str:
        """Put a block blob into the container; its URL (with the signature) is what the RP reads."""
        parts = urlsplit(container_sas)
        url = urlunsplit((parts.scheme, parts.netloc, f"{parts.path.rstrip('/')}/{quote(name)}", parts.query, ""))
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": BLOB_VERSION, "Content-Type": kind}
        self.files.request("PUT", url, content=data, headers=headers, authenticated=False)
        return url

    def fetch(self, url: str) -> bytes:
        """A file the RP points at (definition, icon, script): plain GET, no token (B.3 #9)."""
        return self.files.request("GET", url, authenticated=False).content


# -- the request body


def oauth_settings(properties: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``oAuthSettings`` of the ``token`` parameter and of ``token`` in every parameter set —
    the places paconn injects a secret into (B.5), connection parameter sets included."""
    token = (properties.get("connectionParameters") or {}).get("token")
    if isinstance(token, dict) and isinstance(token.get("oAuthSettings"), dict):
        yield token["oAuthSettings"]
    sets = properties.get("connectionParameterSets")
    for entry in (sets or {}).get("values") or [] if isinstance(sets, dict) else []:
        found = ((entry or {}).get("parameters") or {}).get("token")
        if isinstance(found, dict) and isinstance(found.get("oAuthSettings"), dict):
            yield found["oAuthSettings"]


def inject_secret(properties: dict[str, Any], secret: str | None, *, create: bool) -> int:
    """Put ``secret`` into every OAuth setting; returns how many. Creating an OAuth connector
    without one is an :class:`InputError` (the RP would refuse it); an update without one keeps
    the secret the RP holds."""
    places = list(oauth_settings(properties))
    if not places:
        return 0
    if secret is None:
        if create:
            raise InputError(SECRET_MISSING)
        for settings in places:
            settings.pop("clientSecret", None)
        return 0
    for settings in places:
        settings["clientSecret"] = secret
    return len(places)


def backend_url(definition: dict[str, Any]) -> str:
    """``<first scheme>://<host><basePath>``, each part empty when missing, as paconn builds it."""
    schemes = definition.get("schemes") or [""]
    return f"{schemes[0]}://{definition.get('host') or ''}{definition.get('basePath') or ''}"


def connector_body(
    package: ConnectorPackage,
    environment: str,
    *,
    create: bool,
    secret: str | None,
    icon_uri: str | None,
    script_url: str,
    display_name: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The ``POST``/``PATCH`` body paconn sends (B.4), and notes for the user.

    Starts from the whole ``apiProperties.json``; adds the definition, backend, environment,
    description, icon and script URLs; ``displayName`` only on create; ``stackOwner`` dropped
    on update (with a note saying why)."""
    definition = package.definition
    raw_info = definition.get("info")
    info: dict[str, Any] = raw_info if isinstance(raw_info, dict) else {}
    description = info.get("description")
    if not isinstance(description, str):
        raise InputError(
            f"{package.name_of(DEFINITION)}: info.description is required by the Power Apps API "
            "(add a sentence saying what the API does)"
        )
    body = copy.deepcopy(package.api_properties)
    props = body.setdefault("properties", {})
    if not isinstance(props, dict):
        raise InputError(f"{package.name_of(PROPERTIES)}: 'properties' must be an object")
    notes: list[str] = []
    inject_secret(props, secret, create=create)
    props["openApiDefinition"] = definition
    props["backendService"] = {"serviceUrl": backend_url(definition)}
    props["environment"] = {"name": environment}
    props["description"] = description
    if create:
        props["displayName"] = display_name or str(info.get("title") or "")
    else:
        props.pop("displayName", None)
        if props.pop("stackOwner", None) is not None:
            notes.append(STACK_OWNER_NOTE)
    if icon_uri is not None:
        props["iconUri"] = icon_uri
    props["scriptDefinitionUrl"] = script_url
    return body, notes


# -- the environment


@dataclass
class Deployment:
    """What :meth:`PowerPlatformEnvironment.deploy` did."""

    connector_id: str
    display_name: str
    environment: str
    created: bool
    notes: list[str] = field(default_factory=list)
    """Things the user should know: validation warnings, properties left out and why."""
    secret_places: int = 0
    """How many OAuth settings received the client secret."""

    @property
    def name(self) -> str:
        """The connector id, so a deployment answers like the ``Environment`` protocol asks."""
        return self.connector_id


class PowerPlatformEnvironment:
    """One Power Platform environment, used like the local one: ``deploy``, ``list``, ``download``.

    ``secret`` is the OAuth client secret injected on deploy (never stored here beyond the call
    that sends it); ``progress`` is told each step of a deploy."""

    def __init__(
        self,
        api: PowerAppsApi,
        environment: str,
        *,
        secret: str | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.api = api
        self.environment = environment
        self.secret = secret
        self.progress = progress or (lambda _step: None)

    # -- deploy

    def deploy(self, package: ConnectorPackage, name: str | None = None) -> Deployment:
        """Create the connector, or update it when it exists (B.3-B.5).

        It exists when ``name`` is a connector id (``shared_...``), when ``settings.json`` names a
        ``connectorId`` for this environment, or when exactly one custom connector of the
        environment has the display name ``name`` (default ``info.title``)."""
        with scrubbed(self.secret):
            existing = self._existing(package, name)
            create = existing is None
            if (
                create
                and self.secret is None
                and any(True for _ in oauth_settings(package.api_properties.get("properties") or {}))
            ):
                raise InputError(SECRET_MISSING)
            self.progress("Validating the definition")
            warnings = self.api.validate(package.definition)
            self.progress("Getting an upload location")
            sas = self.api.resource_storage(self.environment)
            icon_uri = None
            if package.icon is not None:
                self.progress("Uploading the icon")
                icon_uri = self.api.upload(sas, Path(package.name_of(ICON)).name, package.icon)
            script_url = ""
            if package.script is not None:
                self.progress("Uploading the custom code")
                script_url = self.api.upload(sas, Path(package.name_of(SCRIPT)).name, package.script.encode())
            body, notes = connector_body(
                package,
                self.environment,
                create=create,
                secret=self.secret,
                icon_uri=icon_uri,
                script_url=script_url,
                display_name=name if name and not name.startswith("shared_") else None,
            )
            places = sum(1 for settings in oauth_settings(body["properties"]) if "clientSecret" in settings)
            if create:
                self.progress("Creating the connector")
                answer = self.api.create_api(self.environment, body)
                connector_id = str(answer["name"])
                display = str((answer.get("properties") or {}).get("displayName") or body["properties"]["displayName"])
            else:
                assert existing is not None
                self.progress("Updating the connector")
                self.api.update_api(self.environment, existing.name, body)
                connector_id, display = existing.name, existing.display_name
        notes = ([f"validation: {line}" for line in warnings.splitlines() if line.strip()] if warnings else []) + notes
        return Deployment(connector_id, display, self.environment, create, notes, places)

    def _existing(self, package: ConnectorPackage, name: str | None) -> CloudConnector | None:
        if name and name.startswith("shared_"):
            return CloudConnector.from_document(self.api.get_api(self.environment, name))
        settings = package.settings_model
        if settings is not None and settings.connectorId and settings.environment in (None, self.environment):
            try:
                return CloudConnector.from_document(self.api.get_api(self.environment, settings.connectorId))
            except CloudError as exc:
                if exc.status != 404:
                    raise
                file = package.name_of(SETTINGS)
                raise InputError(
                    f"{file}: connectorId {settings.connectorId} is not in environment {self.environment}; "
                    "remove connectorId to create the connector anew"
                ) from None
        wanted = (name or str(package.swagger.title)).strip()
        same = [c for c in self.list() if c.display_name == wanted]
        if len(same) > 1:
            ids = ", ".join(c.name for c in same)
            raise InputError(
                f"--name {wanted}: several custom connectors have this name; pass one id with --name ({ids})"
            )
        return same[0] if same else None

    def registration(self, connector: str) -> tuple[CloudConnector, dict[str, Any]]:
        """A connector (id or display name) and its registration as the RP returns it."""
        found = self._resolve(connector)
        return found, self.api.get_api(self.environment, found.name)

    def set_client_secret(self, connector: str, secret: str) -> int:
        """Replace the OAuth client secret of a deployed connector (every parameter set too), as a
        rotation needs; returns the number of OAuth settings updated."""
        with scrubbed(secret):
            package = self.package(connector)
            if not any(True for _ in oauth_settings(package.api_properties.get("properties") or {})):
                raise InputError(f"{connector}: the connector has no OAuth settings to put a client secret into")
            again = PowerPlatformEnvironment(self.api, self.environment, secret=secret, progress=self.progress)
            return again.deploy(package, self._resolve(connector).name).secret_places

    # -- list and download

    def list(self) -> builtins.list[CloudConnector]:
        """The environment's custom connectors (Microsoft's own are left out, as paconn does)."""
        docs = self.api.list_apis(self.environment)
        return [CloudConnector.from_document(doc) for doc in docs if (doc.get("properties") or {}).get("isCustomApi")]

    def _resolve(self, connector: str) -> CloudConnector:
        if connector.startswith("shared_"):
            return CloudConnector.from_document(self.api.get_api(self.environment, connector))
        same = [c for c in self.list() if connector in (c.name, c.display_name)]
        if len(same) == 1:
            return same[0]
        if same:
            raise InputError(
                f"{connector}: several custom connectors have this name; use the id ({', '.join(c.name for c in same)})"
            )
        raise InputError(f"{connector}: no custom connector of that name or id in environment {self.environment}")

    def package(self, connector: str) -> ConnectorPackage:
        """A deployed connector as a package (with paconn's ``settings.json``), read from the RP."""
        found = self._resolve(connector)
        registration = self.api.get_api(self.environment, found.name)
        props = registration.get("properties")
        if not isinstance(props, dict):
            raise CloudError("Power Apps: properties not present in the api registration information")
        swagger_url = (props.get("apiDefinitions") or {}).get("originalSwaggerUrl")
        if not swagger_url:
            raise CloudError(f"Power Apps: {found.name} has no definition to download (not a custom connector?)")
        try:
            definition = json.loads(self.api.fetch(swagger_url).decode("utf-8-sig"))
        except ValueError:
            raise CloudError(
                f"Power Apps: the definition of {found.name} is not JSON ({shown_url(swagger_url)})"
            ) from None
        kept = {key: copy.deepcopy(props[key]) for key in DOWNLOADED_PROPERTIES if key in props}
        for settings in oauth_settings(kept):
            settings.pop("clientSecret", None)
        icon = self.api.fetch(props["iconUri"]) if props.get("iconUri") else None
        script_url = props.get("scriptDefinitionUrl")
        script = self.api.fetch(script_url).decode("utf-8-sig") if script_url else None
        settings_doc: dict[str, Any] = {
            "connectorId": found.name,
            "environment": self.environment,
            "apiProperties": PROPERTIES,
            "apiDefinition": DEFINITION,
            "icon": ICON,
            "powerAppsUrl": self.api.cloud.powerapps,
            "powerAppsApiVersion": self.api.api_version,
        }
        if script is not None:
            settings_doc["script"] = SCRIPT
        return ConnectorPackage(
            definition=definition,
            api_properties={"properties": kept},
            settings=settings_doc,
            icon=icon,
            script=script,
        )

    def download(self, name: str, folder: Path) -> Path:
        """Write the connector's files and a paconn ``settings.json`` into ``folder`` (new)."""
        return self.package(name).save(folder)


def settings_after_create(package: ConnectorPackage, deployment: Deployment, api: PowerAppsApi) -> dict[str, Any]:
    """``settings.json`` as paconn's ``create`` writes it: the existing keys kept, ``connectorId``
    and ``environment`` set, and the file names and API address the folder uses."""
    settings = dict(package.settings or {})
    settings["connectorId"] = deployment.connector_id
    settings["environment"] = deployment.environment
    settings.setdefault("apiProperties", package.name_of(PROPERTIES))
    settings.setdefault("apiDefinition", package.name_of(DEFINITION))
    if package.icon is not None:
        settings.setdefault("icon", package.name_of(ICON))
    if package.script is not None:
        settings.setdefault("script", package.name_of(SCRIPT))
    settings.setdefault("powerAppsUrl", api.cloud.powerapps)
    settings.setdefault("powerAppsApiVersion", api.api_version)
    return settings


def write_settings(folder: Path, package: ConnectorPackage, settings: dict[str, Any]) -> Path:
    path = folder / package.name_of(SETTINGS)
    try:
        path.write_bytes(dump_bytes(settings))
    except OSError as exc:
        raise ConnectorkitError(f"{path}: cannot write: {exc.strerror}") from None
    return path
