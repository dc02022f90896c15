"""Webhook triggers: subscribe with a callback URL, check what the service calls back with, unsubscribe.

A webhook trigger (runtime-semantics.md section 4.4) is an operation whose body has a property, or
which has a parameter, marked ``x-ms-notification-url: true``. The platform fills that property
with a callback URL of its own (``listCallbackUrl()``), calls the operation through the
connection, keeps the ``Location`` header of the 2xx answer and sends DELETE to it to unsubscribe.
What the service POSTs to the callback is described by ``x-ms-notification-content`` on the path
item: ``{"description", "schema", "headers"}``.

This module is the runtime half, with no persistence: :func:`notification_target`,
:func:`subscribe` and :func:`unsubscribe` talk to the backend through a
:class:`~connectorkit.runtime.environment.LocalEnvironment`; :class:`CallbackChecker` (and
:func:`check_callback`) turns one callback request into :class:`Event` objects and records where
the payload does not match the schema; :func:`callback_token`, :func:`callback_url` and
:func:`token_digest` make the unguessable per-subscription URL the server routes callbacks by.

Decisions [INFERRED where the documents say nothing]:

- **Splitting.** The *declared array* is the notification schema's root when the root is an
  array, else the root object's only array-typed property (none when there are several).
  A callback is split into one event per element when the trigger is ``batch`` or the root is an
  array; a ``single`` trigger whose payload merely contains an array gives one event per POST, as
  the platform runs a ``single`` trigger once per POST unless a flow sets ``splitOn``
  (``split=True`` does that). A payload whose declared array is missing or not a list is one event.
- **Events and keys** are those of ``runtime/triggers.py`` (:class:`~connectorkit.runtime.triggers.Event`,
  :func:`~connectorkit.runtime.triggers.event_key`), so that polled and pushed events are stored and
  de-duplicated alike: ``id:<json value>`` when the event's schema declares ``id`` or ``_id`` (exact
  name first, then any case, ``allOf`` parts included) and the event has a string or number
  there, else ``sha256:<hex>`` of the canonical JSON. A service that re-sends an event (a retry)
  yields the same key. Caveat: several different events about one object with the same ``id``
  (an "updated" hook) collapse into one key; pass ``key_property=""`` to key by content instead.
  Each event carries the callback's request headers (trigger outputs are ``{headers, body}``).
- **Validation.** JSON Schema Draft 4 with the definition as the document ``$ref`` s resolve in;
  ``x-ms-*`` keys are ignored (unknown keywords), ``x-nullable: true`` admits null, and the
  Swagger-isms jsonschema would choke on (``required: true`` on a property, ``type: file``) are
  dropped. A mismatch is a :class:`PayloadProblem` (JSON pointer into the payload + reason); the
  events are produced all the same, as the issue asks. Declared headers are checked only when
  present (Swagger headers are optional): ``type`` integer/number/boolean and ``enum``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

import httpx

from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import Operation, Swagger
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.model import Headers
from connectorkit.runtime.request import find_operation
from connectorkit.runtime.schemacheck import Draft4Validator, draft4_validator, pointer_of, schema_errors
from connectorkit.runtime.store.secrets import redact, redact_json, secret_strings
from connectorkit.runtime.triggers import Event, event_key, id_property, schema_properties

if TYPE_CHECKING:
    from connectorkit.runtime.environment import LocalEnvironment

__all__ = [
    "CALLBACK_PREFIX",
    "CallbackChecker",
    "CallbackOutcome",
    "Event",
    "NotificationContent",
    "NotificationTarget",
    "PayloadProblem",
    "Subscription",
    "callback_token",
    "callback_url",
    "check_callback",
    "notification_target",
    "subscribe",
    "token_digest",
    "unsubscribe",
]

CALLBACK_PREFIX = "/callbacks/"
"""Path under the server's (or ``--public-url``'s) base where callbacks arrive: ``/callbacks/<token>``."""

NOTIFICATION_URL = "x-ms-notification-url"
NOTIFICATION_CONTENT = "x-ms-notification-content"
_EXPECTED_LOCATION = (
    "a 201 response with a Location header holding the URL of the created hook; "
    "the platform DELETEs that URL to unsubscribe"
)
_GONE = (404, 410)
_SHOWN_TEXT = 200  # characters of a backend's answer quoted in an error
_REASON_LIMIT = 300  # characters of one validation message


# --------------------------------------------------------------------------- callback URLs


def callback_token() -> str:
    """A fresh unguessable token for one subscription's callback path (256 random bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What to store instead of the token: its SHA-256, hex. A callback is matched by hashing the
    token in its path and looking the digest up, so a leaked store does not let anyone call back."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def callback_url(base_url: str, token: str) -> str:
    """``<base_url>/callbacks/<token>``; ``base_url`` is the server's URL or the user's
    ``--public-url`` (a tunnel or reverse proxy), possibly with a path of its own."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            f"public URL {base_url!r}: expected an absolute http(s) URL without query or fragment, "
            "such as https://example.ngrok.app"
        )
    if not token or "/" in token:
        raise InputError("callback token: must be a non-empty path segment")
    return base_url.rstrip("/") + CALLBACK_PREFIX + token


# --------------------------------------------------------------------------- where the URL goes


@dataclass(frozen=True)
class NotificationTarget:
    """Where a webhook trigger takes its callback URL.

    ``parameter`` is the swagger parameter's name and ``location`` its ``in``; for a body
    parameter, ``path`` is the property path inside the body (``("url",)``,
    ``("notification", "address")``); for a parameter marked itself, ``path`` is empty."""

    operation_id: str
    parameter: str
    location: str
    path: tuple[str, ...] = ()

    @property
    def argument(self) -> str:
        """The input name in the ``"<body>/<prop>/<sub>"`` form the request builder accepts."""
        return "/".join((self.parameter, *self.path))

    def fill(self, arguments: Mapping[str, Any], url: str) -> dict[str, Any]:
        """``arguments`` with the callback URL put in place, as the platform's ``listCallbackUrl()``
        does. The URL is connectorkit's to fill: an input that sets it already is refused."""
        filled = dict(arguments)
        if not self.path:
            if filled.get(self.parameter) is not None:
                raise InputError(self._refusal(self.parameter))
            filled[self.parameter] = url
            return filled
        if self.argument in filled:
            raise InputError(self._refusal(self.argument))
        body = filled.get(self.parameter)
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except json.JSONDecodeError:
                raise InputError(
                    f"parameter {self.parameter!r} of operation {self.operation_id!r} must be JSON"
                ) from None
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise InputError(f"parameter {self.parameter!r} of operation {self.operation_id!r} must be a JSON object")
        body = copy.deepcopy(body)
        node = body
        for key in self.path[:-1]:
            child = node.get(key)
            if child is None:
                child = node[key] = {}
            if not isinstance(child, dict):
                raise InputError(f"{self.parameter}/{key} of operation {self.operation_id!r} must be a JSON object")
            node = child
        if node.get(self.path[-1]) is not None:
            raise InputError(self._refusal(self.argument))
        node[self.path[-1]] = url
        filled[self.parameter] = body
        return filled

    def _refusal(self, name: str) -> str:
        return (
            f"{name}: the callback URL of trigger {self.operation_id!r} is filled in by connectorkit "
            f"({NOTIFICATION_URL}); do not pass it"
        )


def notification_target(package: ConnectorPackage, operation_id: str) -> NotificationTarget:
    """Where ``operation_id`` takes its callback URL: a parameter marked ``x-ms-notification-url:
    true``, else the first property so marked in its body schema (``$ref`` s followed, nested
    objects and ``allOf`` parts searched; array items are not, as one URL cannot fill a list)."""
    op = find_operation(package.swagger, operation_id)
    name = op.operation_id or operation_id
    for param in op.parameters:
        if param.raw.get(NOTIFICATION_URL) is True:
            return NotificationTarget(name, param.name, param.location)
    for param in op.parameters:
        if param.location == "body":
            path = _marked_property(op.swagger, param.raw.get("schema"), (), set())
            if path is not None:
                return NotificationTarget(name, param.name, "body", path)
    raise InputError(
        f"operation {name!r} is not a webhook trigger: none of its parameters or body properties is marked "
        f"{NOTIFICATION_URL}: true, so there is nowhere to put the callback URL"
    )


def _marked_property(swagger: Swagger, schema: Any, path: tuple[str, ...], seen: set[str]) -> tuple[str, ...] | None:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        if schema["$ref"] in seen:
            return None
        seen = seen | {schema["$ref"]}
        schema = swagger.deref(schema, "")[0]
    if not isinstance(schema, dict):
        return None
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for key, sub in properties.items():
            target = swagger.deref(sub, "")[0]
            if isinstance(target, dict) and target.get(NOTIFICATION_URL) is True:
                return (*path, str(key))
        for key, sub in properties.items():
            found = _marked_property(swagger, sub, (*path, str(key)), seen)
            if found is not None:
                return found
    parts = schema.get("allOf")
    for part in parts if isinstance(parts, list) else []:
        found = _marked_property(swagger, part, path, seen)
        if found is not None:
            return found
    return None


# --------------------------------------------------------------------------- subscribe / unsubscribe


@dataclass(frozen=True)
class Subscription:
    """A hook the backend created: what :func:`unsubscribe` needs, and what to show a user.

    ``body`` is the subscribe response's JSON (its text when not JSON) with the callback URL and
    token replaced by ``***``: services echo the URL back, and the token is a credential.
    :meth:`to_json` / :meth:`from_json` round-trip it through the store."""

    connection_id: str
    operation_id: str
    location: str
    status: int
    body: Any = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Subscription:
        try:
            return cls(
                connection_id=str(data["connection_id"]),
                operation_id=str(data["operation_id"]),
                location=str(data["location"]),
                status=int(data["status"]),
                body=data.get("body"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"subscription record: missing or bad field ({exc})") from None


def subscribe(
    environment: LocalEnvironment,
    connection_id: str,
    operation_id: str,
    arguments: Mapping[str, Any],
    callback_url: str,
    *,
    client: httpx.Client,
) -> Subscription:
    """Register ``callback_url`` with the backend through the connection's webhook trigger.

    The URL is filled into the operation's notification-url property (:func:`notification_target`)
    and the operation is called with the connection's auth and policies. The answer must be 2xx
    with a ``Location`` header, which is resolved against the request URL when relative.

    A 2xx without ``Location`` leaves a hook nobody can delete through the platform. Best effort:
    when the definition has a DELETE operation on ``<subscribe path>/{param}`` and the response
    body has ``param`` (or ``id``), that DELETE is sent through the connection; the error says
    whether it worked, or, when there is no such operation, that the hook may remain.
    """
    package = _connection_package(environment, connection_id)
    op = find_operation(package.swagger, operation_id)
    name = op.operation_id or operation_id
    if op.trigger is None:
        raise InputError(f"operation {name!r} is not a trigger (it has no x-ms-trigger)")
    target = notification_target(package, name)
    filled = target.fill(arguments, callback_url)
    hidden = secret_strings(_callback_secrets(callback_url))
    result = environment.call(connection_id, name, filled, client=client, extra_secrets=_callback_secrets(callback_url))
    response = result.response
    body = _shown_body(response.json if response.has_json else response.content, response.has_json, hidden)
    if not 200 <= response.status < 300:
        raise ConnectorkitError(
            f"subscribing with trigger {name} failed: the backend answered HTTP {response.status}"
            f"{_quoted(response.content, hidden)}"
        )
    location = response.headers.get("Location")
    if not location:
        cleanup = _remove_orphan(environment, connection_id, op, response.json if response.has_json else None, client)
        raise ConnectorkitError(
            f"trigger {name}: the subscription answered HTTP {response.status} without a Location header; "
            f"the platform expects {_EXPECTED_LOCATION}. {cleanup}"
        )
    return Subscription(connection_id, name, urljoin(result.request.url, location), response.status, body)


def unsubscribe(
    environment: LocalEnvironment, subscription: Subscription, *, client: httpx.Client
) -> Literal["deleted", "gone"]:
    """DELETE the subscription's ``Location`` through the connection (auth and the trigger
    operation's policies applied), as the platform does when a flow stops listening.

    Returns ``"deleted"`` on 2xx and ``"gone"`` on 404 or 410 (already removed at the backend,
    which is what unsubscribing wants); anything else raises :class:`ConnectorkitError`."""
    result = environment.call(
        subscription.connection_id,
        subscription.operation_id,
        {},
        client=client,
        target_url=subscription.location,
        method="DELETE",
    )
    status = result.response.status
    if 200 <= status < 300:
        return "deleted"
    if status in _GONE:
        return "gone"
    raise ConnectorkitError(
        f"unsubscribing trigger {subscription.operation_id} failed: DELETE {subscription.location} answered "
        f"HTTP {status}{_quoted(result.response.content, [])}; the hook may still be active at the backend"
    )


def _connection_package(environment: LocalEnvironment, connection_id: str) -> ConnectorPackage:
    connection = environment.store.get_connection(connection_id)
    return environment.package(connection.connector)


def _remove_orphan(
    environment: LocalEnvironment, connection_id: str, op: Operation, body: Any, client: httpx.Client
) -> str:
    """Try the definition's own DELETE for the hook just created; say what happened."""
    found = _delete_operation(op, body)
    if found is None:
        return (
            "connectorkit found no DELETE operation on the subscription path and an id in the answer to remove "
            "the hook with, so it may remain at the backend"
        )
    delete_op, arguments = found
    try:
        result = environment.call(connection_id, delete_op, arguments, client=client)
    except ConnectorkitError as exc:
        return f"removing the hook with {delete_op} failed ({exc}); it may remain at the backend"
    status = result.response.status
    if 200 <= status < 300 or status in _GONE:
        return f"connectorkit removed the hook it had created with {delete_op} (HTTP {status})"
    return f"removing the hook with {delete_op} answered HTTP {status}; it may remain at the backend"


def _delete_operation(op: Operation, body: Any) -> tuple[str, dict[str, Any]] | None:
    """A DELETE operation at ``<op.path>/{name}`` and the value for ``name`` from ``body``."""
    if not isinstance(body, dict):
        return None
    prefix = op.path.rstrip("/") + "/{"
    for other in op.swagger.operations():
        if other.method != "delete" or other.operation_id is None or not other.path.startswith(prefix):
            continue
        name = other.path[len(prefix) :]
        if not name.endswith("}") or "/" in name:
            continue
        name = name[:-1]
        value = body.get(name, body.get("id"))
        if isinstance(value, str | int) and not isinstance(value, bool):
            return other.operation_id, {name: value}
    return None


def _callback_secrets(callback: str) -> list[str]:
    """The callback URL and its token: masked (in every form :func:`secret_strings` gives)
    wherever a backend echoes them."""
    return [callback, callback.rstrip("/").rsplit("/", 1)[-1]]


def _shown_body(value: Any, is_json: bool, hidden: list[str]) -> Any:
    if is_json:
        return redact_json(value, hidden)
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return redact(text, hidden) or None


def _quoted(content: bytes, hidden: list[str]) -> str:
    text = " ".join(redact(content.decode("utf-8", "replace"), hidden).split())
    if not text:
        return ""
    return f": {text[:_SHOWN_TEXT]}{'...' if len(text) > _SHOWN_TEXT else ''}"


# --------------------------------------------------------------------------- callbacks


@dataclass(frozen=True)
class NotificationContent:
    """The path item's ``x-ms-notification-content``: what the service POSTs to the callback.
    ``schema`` is as written (``$ref`` s unresolved); ``pointer`` is its JSON pointer in the
    definition (``None`` when there is no schema)."""

    description: str | None
    schema: Any
    headers: dict[str, dict[str, Any]]
    pointer: str | None

    @classmethod
    def of(cls, op: Operation) -> NotificationContent | None:
        raw = op.path_item.get(NOTIFICATION_CONTENT)
        if not isinstance(raw, dict):
            return None
        description = raw.get("description")
        schema = raw.get("schema")
        headers = raw.get("headers")
        item_pointer = op.pointer.rsplit("/", 1)[0]
        return cls(
            description=str(description) if description is not None else None,
            schema=schema if isinstance(schema, dict) else None,
            headers={str(k): v for k, v in headers.items() if isinstance(v, dict)} if isinstance(headers, dict) else {},
            pointer=f"{item_pointer}/{NOTIFICATION_CONTENT}/schema" if isinstance(schema, dict) else None,
        )


@dataclass(frozen=True)
class PayloadProblem:
    """Where a callback differs from ``x-ms-notification-content``: ``path`` is a JSON pointer
    into the payload (``""`` for the whole body, ``"header:Name"`` for a header)."""

    path: str
    reason: str


@dataclass(frozen=True)
class CallbackOutcome:
    """The events one callback produced and the problems found with it (never a reason to drop)."""

    events: list[Event]
    problems: list[PayloadProblem] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"events": [asdict(e) for e in self.events], "problems": [asdict(p) for p in self.problems]}


class CallbackChecker:
    """Checks callbacks for one webhook trigger; build it once per subscription and reuse it.

    - ``split``: ``None`` decides as the module notes say; ``True`` splits on the declared array
      even for a ``single`` trigger (a flow's ``splitOn``); ``False`` never splits.
    - ``key_property``: the property whose value keys an event; ``None`` looks for ``id``;
      ``""`` always keys by content hash.
    """

    def __init__(
        self,
        package: ConnectorPackage,
        operation_id: str,
        *,
        split: bool | None = None,
        key_property: str | None = None,
    ) -> None:
        op = find_operation(package.swagger, operation_id)
        self.operation_id = op.operation_id or operation_id
        self.content = NotificationContent.of(op)
        swagger = op.swagger
        root = swagger.deref(self.content.schema, "")[0] if self.content and self.content.schema else None
        self.array_property, item = _declared_array(swagger, root)
        declared = self.array_property is not None
        self.split = declared and (split if split is not None else (op.trigger == "batch" or self.array_property == ""))
        event_schema = item if self.split else root
        self.key_property = key_property if key_property is not None else id_property(swagger, event_schema)
        self._validator = (
            draft4_validator(swagger, self.content.pointer) if self.content and self.content.pointer else None
        )

    def check(self, payload: Any, headers: Mapping[str, str] | Headers | None = None) -> CallbackOutcome:
        """Parse (when ``payload`` is ``bytes``), validate and split one callback body.

        A ``bytes`` payload that is not JSON is a problem; its text becomes the event body."""
        problems: list[PayloadProblem] = []
        body, unparsed = payload, None
        if isinstance(payload, bytes | bytearray):
            body, unparsed = _parse(bytes(payload))
        if unparsed is not None:
            problems.append(unparsed)  # the schema is about JSON: checking text against it says nothing more
        elif self._validator is not None:
            problems += _schema_problems(self._validator, body)
        given = _header_pairs(headers)
        problems += self._header_problems({k.lower(): v for k, v in given.items()})
        return CallbackOutcome(self._events(body, given), problems)

    def _bodies(self, body: Any) -> list[Any]:
        if not self.split:
            return [body]
        items = body if self.array_property == "" else _member(body, self.array_property)
        return list(items) if isinstance(items, list) else [body]

    def _events(self, body: Any, headers: dict[str, str]) -> list[Event]:
        return [Event(event_key(item, self.key_property or None), item, dict(headers)) for item in self._bodies(body)]

    def _header_problems(self, given: dict[str, str]) -> list[PayloadProblem]:
        problems: list[PayloadProblem] = []
        for name, spec in (self.content.headers if self.content else {}).items():
            value = given.get(name.lower())
            if value is None:
                continue
            reason = _header_reason(spec, value)
            if reason:
                problems.append(PayloadProblem(f"header:{name}", reason))
        return problems


def check_callback(
    package: ConnectorPackage,
    operation_id: str,
    payload: Any,
    headers: Mapping[str, str] | Headers | None = None,
    *,
    split: bool | None = None,
) -> CallbackOutcome:
    """One callback checked against ``operation_id``'s ``x-ms-notification-content``
    (a :class:`CallbackChecker` built for the occasion)."""
    return CallbackChecker(package, operation_id, split=split).check(payload, headers)


def _member(body: Any, name: str | None) -> Any:
    return body.get(name) if isinstance(body, dict) and name else None


def _parse(content: bytes) -> tuple[Any, PayloadProblem | None]:
    if not content.strip():
        return None, None
    try:
        return json.loads(content), None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return content.decode("utf-8", "replace"), PayloadProblem("", f"the body is not JSON ({exc})")


def _header_pairs(headers: Mapping[str, str] | Headers | None) -> dict[str, str]:
    if headers is None:
        return {}
    pairs = headers.items() if isinstance(headers, Headers) else list(headers.items())
    return {str(k): str(v) for k, v in pairs}


def _header_reason(spec: dict[str, Any], value: str) -> str | None:
    kind = spec.get("type")
    if kind == "integer" and not value.strip().lstrip("+-").isdigit():
        return f"{value[:40]!r} is not an integer"
    if kind == "number":
        try:
            float(value)
        except ValueError:
            return f"{value[:40]!r} is not a number"
    if kind == "boolean" and value.strip().lower() not in ("true", "false"):
        return f"{value[:40]!r} is not true or false"
    allowed = spec.get("enum")
    if isinstance(allowed, list) and allowed and value not in [str(v) for v in allowed]:
        return f"{value[:40]!r} is not one of {', '.join(str(v) for v in allowed)}"
    return None


def _declared_array(swagger: Swagger, root: Any) -> tuple[str | None, Any]:
    """``("", items)`` for an array root, ``(name, items)`` for the root object's only array
    property, else ``(None, None)``; ``items`` is the element schema, ``$ref`` followed."""
    if not isinstance(root, dict):
        return None, None
    if _schema_type(root) == "array":
        return "", swagger.deref(root.get("items"), "")[0]
    arrays: list[tuple[str, Any]] = []
    for name, sub in schema_properties(swagger, root).items():
        target = swagger.deref(sub, "")[0]
        if isinstance(target, dict) and _schema_type(target) == "array":
            arrays.append((name, swagger.deref(target.get("items"), "")[0]))
    return arrays[0] if len(arrays) == 1 else (None, None)


def _schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind
    if "items" in schema:
        return "array"
    return "object" if "properties" in schema else None


def _schema_problems(validator: Draft4Validator, body: Any) -> list[PayloadProblem]:
    try:
        errors = schema_errors(validator, body)
    except Exception as exc:  # a schema jsonschema cannot apply: say so, keep the events
        return [PayloadProblem("", f"the notification schema cannot be applied ({type(exc).__name__}: {exc})")]
    return [PayloadProblem(pointer_of(e), _limited(e.message)) for e in errors]


def _limited(text: str) -> str:
    return text if len(text) <= _REASON_LIMIT else text[:_REASON_LIMIT] + "..."
