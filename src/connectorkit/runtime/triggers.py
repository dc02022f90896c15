"""Polling triggers: one poll at a time, with the state carried between polls as plain data.

A trigger operation (``x-ms-trigger``) is one of three kinds (runtime-semantics.md §4.1, see
:func:`trigger_kind`). This module runs the two polling kinds; webhooks are subscribed elsewhere.
It keeps nothing itself: :func:`poll_once` takes a :class:`PollState` and returns the next one in
its :class:`PollOutcome`, so the caller (a listener, a durable worker) decides where the state
lives and commits it together with the events it delivered.

- **Native polling** (§4.2): the operation speaks the 202 protocol. The first poll calls the
  operation with its inputs; afterwards the last ``Location`` the backend answered with is called
  instead (through the connection: auth, policies and token refresh apply), and after an answer
  without ``Location`` the operation again ("the original URL is used"). 202 means nothing new;
  another 2xx fires: a ``single`` trigger's body is one event, a ``batch`` trigger's items are
  the response array, or the array property its 200 schema declares (``value`` preferred).
- **Policy polling** (§4.3, the ``pollingtrigger`` template): the backend is a plain API. Each
  poll calls the operation with its inputs plus the query values saved from the previous poll;
  ``triggerDataPath`` picks the items, each ``triggerConfig`` template, evaluated with
  ``triggerBody()`` bound to the response, becomes the next poll's query value (keeping the old
  one when it finds nothing), and the next link (``x-ms-triggerConfig-nextLink``, default
  ``@odata.nextLink``) is followed when the poll fires. The first poll only seeds the state. The
  ``/trigger`` path prefix is stripped by the policy handler in ``policies.py``.

Errors. Problems with the trigger itself (an unknown operation, an action, a webhook, a script
operation, a malformed ``Location``) raise: polling again cannot help. Failures a later poll may
not meet (an HTTP status of 400 or more, an unreachable or too slow backend, a token that cannot
be refreshed) are returned as an outcome with ``error`` set, no events, the previous state with
its ``failures`` count raised, and a back-off ``wait``; ``unauthenticated`` is set for a 401, a
``setconnectionstatustounauthenticated`` match or a failed token refresh, so that the caller can
mark the connection as the platform does.

Back-off is the trigger's, not the engine's [connectorkit's choice]: a poll makes each call once
(the engine's inline retries, which sleep up to four times on 408/429/5xx, are off for polls), and
a failed poll comes back at once with a ``wait`` that doubles per consecutive failure from
``min_interval`` (at least one second), is at least the backend's ``Retry-After`` and at most
``max_interval``; the next successful poll resets it. A worker polling many triggers therefore
never holds a thread asleep for one failing backend, and the failure (with its error) is
committed and visible at once. The platform's own trigger retry policy is not documented.

Event keys (for de-duplication by the caller): ``id:<json>`` from the item's ``id`` property when
the item schema declares one (a property named ``id`` or ``_id``, any case) and the item has a
string or number there; otherwise ``sha256:<hex>`` of the item's canonical JSON (sorted keys, no
spaces). An item that changes but keeps its id therefore has the same key [connectorkit's choice].
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

import httpx

from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import Operation, Swagger
from connectorkit.errors import InputError
from connectorkit.retryafter import retry_after_seconds
from connectorkit.runtime.environment import LocalEnvironment, RefreshError
from connectorkit.runtime.expressions import (
    MISSING,
    ExpressionError,
    Scope,
    evaluate_complete_in,
    parse_path,
    resolve,
)
from connectorkit.runtime.invoke import BackendError, EngineOptions, Result
from connectorkit.runtime.model import Call, Response
from connectorkit.runtime.request import build_request, find_operation

__all__ = [
    "Event",
    "PollOutcome",
    "PollState",
    "PollingPolicy",
    "TriggerKind",
    "TriggerOptions",
    "TriggerSpec",
    "describe_trigger",
    "event_key",
    "failed_poll",
    "poll_once",
    "polling_policy",
    "trigger_kind",
]

TriggerKind = Literal["webhook", "policy-polling", "native-polling"]

DEFAULT_NEXT_LINK = "@odata.nextLink"
_NEXT_LINK_KEY = "x-ms-triggerConfig-nextLink"
_CONFIG = "x-ms-apimTemplateParameter.triggerConfig"
_DATA_PATH = "x-ms-apimTemplateParameter.triggerDataPath"
_OPERATIONS = "x-ms-apimTemplate-operationName"
_ID_NAMES = ("id", "_id")
_STATE_VERSION = 1


# ------------------------------------------------------------------------------------ classifying


@dataclass(frozen=True)
class PollingPolicy:
    """A ``pollingtrigger`` instance as it applies to one operation."""

    trigger_config: dict[str, str]
    """Query parameter name → value template; the next-link key is taken out."""
    data_path: str
    next_link: str = DEFAULT_NEXT_LINK


def polling_policy(package: ConnectorPackage, operation_id: str) -> PollingPolicy | None:
    """The ``pollingtrigger`` instance naming ``operation_id``, or None. A matching instance
    without ``triggerDataPath`` or with a non-object ``triggerConfig`` is an :class:`InputError`."""
    for instance in package.properties.properties.policyTemplateInstances or []:
        if instance.template != "pollingtrigger":
            continue
        parameters = instance.parameters or {}
        names = parameters.get(_OPERATIONS) or []
        if operation_id not in ([str(n) for n in names] if isinstance(names, list) else [str(names)]):
            continue
        label = instance.title or instance.templateId
        config = parameters.get(_CONFIG) or {}
        data_path = parameters.get(_DATA_PATH)
        if not isinstance(config, dict):
            raise InputError(f"policy {label!r}: {_CONFIG} must be an object of query parameter → expression")
        if not isinstance(data_path, str) or not data_path.strip():
            raise InputError(f"policy {label!r}: {_DATA_PATH} is required (e.g. @triggerBody().value)")
        templates = {str(k): str(v) for k, v in config.items() if k != _NEXT_LINK_KEY}
        next_link = str(config.get(_NEXT_LINK_KEY) or DEFAULT_NEXT_LINK)
        return PollingPolicy(templates, data_path.strip(), next_link)
    return None


def trigger_kind(package: ConnectorPackage, operation_id: str) -> TriggerKind | None:
    """How a trigger runs (runtime-semantics.md §4.1), None for an action.

    ``webhook`` when its body (after ``$ref`` resolution) or a parameter is marked
    ``x-ms-notification-url``; else ``policy-polling`` when a ``pollingtrigger`` instance names
    it; else ``native-polling``. An unknown operation is an :class:`InputError`."""
    op = find_operation(package.swagger, operation_id)
    kind = op.trigger_kind
    if kind is None:
        return None
    if kind == "webhook":
        return "webhook"
    return "policy-polling" if polling_policy(package, operation_id) is not None else "native-polling"


@dataclass(frozen=True)
class TriggerSpec:
    """What a listener needs to know about a trigger before polling it."""

    operation_id: str
    kind: TriggerKind
    cardinality: Literal["single", "batch"]
    hint: str | None
    """``x-ms-trigger-hint``: UI text such as "To see it work now, add a post"."""
    policy: PollingPolicy | None
    id_property: str | None
    """The item property event keys are taken from (see the module docstring), if any."""
    array_property: str | None = None
    """Where a native batch trigger's items are when the response is an object: the array
    property its success schema declares (``value`` preferred)."""
    query_names: frozenset[str] = frozenset()
    """The operation's declared query parameters (a policy poll passes saved values through them)."""


_SPECS: dict[tuple[str, str], TriggerSpec] = {}
"""Trigger descriptions by (connector version digest, operation): a version never changes."""


def describe_trigger(package: ConnectorPackage, operation_id: str) -> TriggerSpec:
    """The trigger's kind, cardinality, hint and polling policy; an :class:`InputError` for an
    unknown operation or an action."""
    op = find_operation(package.swagger, operation_id)
    kind = trigger_kind(package, operation_id)
    if kind is None:
        raise InputError(f"operation {operation_id!r} is an action, not a trigger (it has no x-ms-trigger)")
    policy = polling_policy(package, operation_id) if kind == "policy-polling" else None
    hint = op.raw.get("x-ms-trigger-hint")
    cardinality: Literal["single", "batch"] = "batch" if op.trigger == "batch" else "single"
    item_schema = _item_schema(op, policy, cardinality)
    return TriggerSpec(
        operation_id=operation_id,
        kind=kind,
        cardinality=cardinality,
        hint=str(hint) if isinstance(hint, str) else None,
        policy=policy,
        id_property=id_property(op.swagger, item_schema),
        array_property=_array_property(op.swagger, _success_schema(op)),
        query_names=frozenset(p.name for p in op.parameters if p.location == "query"),
    )


# ---------------------------------------------------------------------------------- the schemas


def _deref(swagger: Swagger, schema: Any) -> Any:
    return swagger.deref(schema, "")[0]


def _success_schema(op: Operation) -> Any:
    """The schema of the operation's 200 response (else its first 2xx one, else ``default``)."""
    responses = op.responses
    keys = ["200", *sorted(k for k in responses if k.startswith("2") and k != "200"), "default"]
    for key in keys:
        response = _deref(op.swagger, responses.get(key))
        if isinstance(response, dict) and "schema" in response:
            return _deref(op.swagger, response["schema"])
    return None


def _array_property(swagger: Swagger, schema: Any) -> str | None:
    """The array property a batch response object declares: ``value`` when it is one, else the
    first array property."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return None
    arrays = [name for name, sub in properties.items() if _is_array(_deref(swagger, sub))]
    if "value" in arrays:
        return "value"
    return arrays[0] if arrays else None


def _is_array(schema: Any) -> bool:
    return isinstance(schema, dict) and (schema.get("type") == "array" or "items" in schema)


def _walk_schema(swagger: Swagger, schema: Any, steps: tuple[str | int, ...]) -> Any:
    for step in steps:
        schema = _deref(swagger, schema)
        if not isinstance(schema, dict):
            return None
        if isinstance(step, int):
            schema = schema.get("items")
        else:
            properties = schema.get("properties")
            schema = properties.get(step) if isinstance(properties, dict) else None
    return _deref(swagger, schema)


def _item_schema(op: Operation, policy: PollingPolicy | None, cardinality: str) -> Any:
    """The schema of one event's body: an item of the batch array, or the whole response."""
    schema = _success_schema(op)
    if policy is not None:
        try:
            schema = _walk_schema(op.swagger, schema, parse_path(policy.data_path).steps)
        except ExpressionError:
            return None
    elif cardinality == "batch" and not _is_array(schema):
        name = _array_property(op.swagger, schema)
        schema = _walk_schema(op.swagger, schema, (name,)) if name else None
    if _is_array(schema) and (policy is not None or cardinality == "batch"):
        return _deref(op.swagger, schema.get("items"))
    return schema


def schema_properties(swagger: Swagger, schema: dict[str, Any]) -> dict[str, Any]:
    """``properties`` of an object schema, those of its ``allOf`` parts included."""
    merged: dict[str, Any] = {}
    parts = schema.get("allOf")
    for part in parts if isinstance(parts, list) else []:
        target = _deref(swagger, part)
        if isinstance(target, dict):
            merged.update(schema_properties(swagger, target))
    own = schema.get("properties")
    merged.update({str(k): v for k, v in own.items()} if isinstance(own, dict) else {})
    return merged


def id_property(swagger: Swagger, schema: Any) -> str | None:
    """The property event keys of items of ``schema`` come from: ``id`` or ``_id`` (an exact name
    before a case-insensitive one), for polled items and webhook callbacks alike."""
    if not isinstance(schema, dict):
        return None
    names = list(schema_properties(swagger, schema))
    for wanted in _ID_NAMES:
        found = next((n for n in names if n == wanted), None) or next((n for n in names if n.lower() == wanted), None)
        if found is not None:
            return found
    return None


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_key(item: Any, id_property: str | None) -> str:
    """The stable key of one event body (see the module docstring)."""
    if id_property is not None and isinstance(item, dict):
        value = item.get(id_property)
        if isinstance(value, str | int | float) and not isinstance(value, bool) and value != "":
            return "id:" + canonical_json(value)
    return "sha256:" + hashlib.sha256(canonical_json(item).encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------ state and options


@dataclass
class PollState:
    """Everything needed to resume polling, after a restart too; JSON round-trips it exactly.

    - ``next_url``: native polling's last ``Location`` (None: call the operation with its inputs).
    - ``query``: policy polling's saved ``triggerConfig`` values, the next poll's query parameters.
    - ``first``: no poll has succeeded yet (a policy trigger's first poll seeds, never fires).
    - ``failures``: consecutive failed polls, for the back-off.
    """

    next_url: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    first: bool = True
    failures: int = 0

    def to_dict(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict (a deep copy through reflection): every poll runs it.
        return {
            "version": _STATE_VERSION,
            "next_url": self.next_url,
            "query": dict(self.query),
            "first": self.first,
            "failures": self.failures,
        }

    def to_json(self) -> str:
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PollState:
        """Checked: a state this version did not write is an :class:`InputError`."""
        if data.get("version") != _STATE_VERSION:
            raise InputError(f"trigger state: version {data.get('version')!r}; expected {_STATE_VERSION}")
        next_url, query = data.get("next_url"), data.get("query", {})
        first, failures = data.get("first", True), data.get("failures", 0)
        if next_url is not None and not isinstance(next_url, str):
            raise InputError("trigger state: next_url must be a string or null")
        if not isinstance(query, dict) or not all(isinstance(v, str) for v in query.values()):
            raise InputError("trigger state: query must be an object of strings")
        if not isinstance(first, bool) or not isinstance(failures, int) or isinstance(failures, bool):
            raise InputError("trigger state: first must be a boolean and failures an integer")
        return cls(next_url, {str(k): v for k, v in query.items()}, first, max(0, failures))

    @classmethod
    def from_json(cls, text: str | bytes) -> PollState:
        try:
            data = json.loads(text)
        except ValueError:
            raise InputError("trigger state: not JSON") from None
        if not isinstance(data, dict):
            raise InputError("trigger state: not a JSON object")
        return cls.from_dict(data)


@dataclass(frozen=True)
class TriggerOptions:
    """How polling behaves where the platform's choice is a flow setting or undocumented.

    - ``interval``: seconds to the next poll when the response has no ``Retry-After``: the
      flow's recurrence; 60 s, Power Automate's minimum recurrence (§4.2).
    - ``min_interval`` / ``max_interval``: bounds on every wait, ``Retry-After`` included. 15 s
      is the Retry-After the docs advise for "nothing new"; it keeps a backend answering
      ``Retry-After: 0`` from being hammered. The platform lets a 202's Retry-After only lengthen
      the recurrence; connectorkit lets it win within the bounds, so local polling is quick.
    - ``strip_trigger_prefix``: a ``pollingtrigger`` calls the backend at the path minus its
      leading ``/trigger`` segment. INFERRED (§4.3, 39 of 39 corpus operations); no document says so.
    - ``split``: a batch trigger delivers one event per item (splitOn, the designer's default);
      ``False`` delivers the batch's items as one event whose body is their array (every page's).
    - ``fire_on_first_poll``: a ``pollingtrigger``'s first poll fires for the items it finds
      instead of only seeding the state. INFERRED default ``False``: the platform does not fire
      for what existed before the flow was turned on.
    - ``max_pages``: cap on next-link pages followed in one policy poll.
    - ``engine``: engine options for the poll's calls; None uses the environment's. Their
      ``retries`` are not used: a failed poll backs off at the trigger level (module docstring).
    """

    interval: float = 60.0
    min_interval: float = 15.0
    max_interval: float = 3600.0
    strip_trigger_prefix: bool = True
    split: bool = True
    fire_on_first_poll: bool = False
    max_pages: int = 50
    engine: EngineOptions | None = None

    def __post_init__(self) -> None:
        if self.min_interval < 0 or self.max_interval < self.min_interval:
            raise InputError("trigger options: need 0 <= min_interval <= max_interval")
        if self.max_pages < 1:
            raise InputError("trigger options: max_pages must be at least 1")

    def bounded(self, seconds: float) -> float:
        return min(self.max_interval, max(self.min_interval, seconds))


@dataclass(frozen=True)
class Event:
    """One firing: ``body`` is what the flow sees as ``triggerBody()``; ``headers`` are the
    poll response's (trigger outputs are ``{headers, body, statusCode}``, §4.5)."""

    key: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class PollOutcome:
    """One poll: the events to deliver, the state to save with them and seconds to wait.

    ``status`` is the trigger response's HTTP status (None when no answer came). ``error`` is
    set, and ``events`` empty, when the poll failed; ``unauthenticated`` when the connection
    needs a new sign-in."""

    events: list[Event]
    state: PollState
    wait: float
    status: int | None
    error: str | None = None
    unauthenticated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


# ----------------------------------------------------------------------------------------- polling


def poll_once(
    environment: LocalEnvironment,
    connection_id: str,
    operation_id: str,
    arguments: Mapping[str, Any],
    state: PollState,
    *,
    client: httpx.Client,
    options: TriggerOptions | None = None,
) -> PollOutcome:
    """Poll the trigger ``operation_id`` once through the connection and return what fired.

    ``arguments`` are the trigger's inputs (its parameters by name, as for an action). ``state``
    is not changed; the outcome carries the next one. See the module docstring for the protocol,
    the errors that raise and those that come back as an outcome."""
    opts = options or TriggerOptions()
    package, digest = environment.connection_package(connection_id)
    spec = _SPECS.get((digest, operation_id))
    if spec is None:
        spec = describe_trigger(package, operation_id)
        if len(_SPECS) >= 256:
            _SPECS.clear()
        _SPECS[(digest, operation_id)] = spec
    if spec.kind == "webhook":
        raise InputError(f"operation {operation_id!r} is a webhook trigger: subscribe to it, do not poll it")
    engine = _engine_options(environment.engine_options if opts.engine is None else opts.engine, opts)
    poll = _PolicyPoll if spec.kind == "policy-polling" else _NativePoll
    runner = poll(environment, connection_id, package, spec, arguments, state, client, opts, engine)
    try:
        return runner.run()
    except _PollFailed as failed:
        return _failure(state, opts, failed.message, failed.result)
    except BackendError as exc:
        return _failure(state, opts, str(exc), None)
    except RefreshError as exc:
        return _failure(state, opts, str(exc), None, unauthenticated=True)


_ENGINES: dict[tuple[int, bool], tuple[EngineOptions, EngineOptions]] = {}
"""Poll engine options by (id of the base options, strip prefix), the base kept alive with them."""


def _engine_options(base: EngineOptions, options: TriggerOptions) -> EngineOptions:
    """The base options without inline retries (see the module docstring on back-off) and with
    the trigger's ``/trigger`` prefix choice; made once per base (a poll runs this every time)."""
    cached = _ENGINES.get((id(base), options.strip_trigger_prefix))
    if cached is not None and cached[0] is base:
        return cached[1]
    policies = dataclasses.replace(base.policies, strip_trigger_prefix=options.strip_trigger_prefix)
    made = dataclasses.replace(base, policies=policies, retries=0)
    if len(_ENGINES) >= 64:
        _ENGINES.clear()
    _ENGINES[(id(base), options.strip_trigger_prefix)] = (base, made)
    return made


class _PollFailed(Exception):
    def __init__(self, message: str, result: Result) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


def _failure(
    state: PollState, options: TriggerOptions, message: str, result: Result | None, *, unauthenticated: bool = False
) -> PollOutcome:
    """The previous state with one more failure; the wait doubles from ``min_interval`` per
    consecutive failure (at least the backend's Retry-After), within the bounds."""
    failures = state.failures + 1
    wait = max(options.min_interval, 1.0) * 2 ** min(failures - 1, 20)
    status = None
    if result is not None:
        status = result.response.status
        unauthenticated = unauthenticated or status == 401 or result.connection_unauthenticated
        retry_after = _retry_after(result.response)
        if retry_after is not None:
            wait = max(wait, retry_after)
    kept = dataclasses.replace(state, query=dict(state.query), failures=failures)
    return PollOutcome([], kept, options.bounded(wait), status, message, unauthenticated)


def failed_poll(state: PollState, options: TriggerOptions, message: str) -> PollOutcome:
    """A poll that failed outside the backend (its commit refused by the database, say), backed
    off like a backend error: one more failure in the state, the doubled wait, ``message`` as
    its error."""
    return _failure(state, options, message, None)


def _retry_after(response: Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After"))


def _headers(response: Response) -> dict[str, str]:
    return {name: value for name, value in response.headers.items()}


def _body(response: Response) -> Any:
    if response.has_json:
        return response.json
    if response.content:
        return response.content.decode("utf-8", errors="replace")
    return None


class _Poll:
    """One poll's inputs, shared by the two kinds."""

    def __init__(
        self,
        environment: LocalEnvironment,
        connection_id: str,
        package: ConnectorPackage,
        spec: TriggerSpec,
        arguments: Mapping[str, Any],
        state: PollState,
        client: httpx.Client,
        options: TriggerOptions,
        engine: EngineOptions,
    ) -> None:
        self.environment = environment
        self.connection_id = connection_id
        self.package = package
        self.spec = spec
        self.arguments = dict(arguments)
        self.state = state
        self.client = client
        self.options = options
        self.engine = engine
        self.notes: list[str] = []

    def call(self, arguments: Mapping[str, Any], target_url: str | None = None) -> Result:
        result = self.environment.call(
            self.connection_id, self.spec.operation_id, arguments, client=self.client, options=self.engine,
            target_url=target_url,
        )  # fmt: skip
        self.notes += result.notes
        status = result.response.status
        if status >= 400 or result.connection_unauthenticated:
            raise _PollFailed(f"trigger {self.spec.operation_id}: the backend answered HTTP {status}", result)
        return result

    def wait(self, response: Response) -> float:
        retry_after = _retry_after(response)
        return self.options.bounded(self.options.interval if retry_after is None else retry_after)

    def events(self, items: list[Any], response: Response) -> list[Event]:
        headers = _headers(response)
        if self.spec.cardinality == "batch" and not self.options.split:
            return [Event(event_key(items, None), items, headers)] if items else []
        return [Event(event_key(item, self.spec.id_property), item, headers) for item in items]

    def run(self) -> PollOutcome:
        raise NotImplementedError


class _NativePoll(_Poll):
    """§4.2: the operation (or the last Location) answers 202 for nothing new, 2xx to fire."""

    def run(self) -> PollOutcome:
        if self.state.next_url is not None:
            result = self.call({}, target_url=self.state.next_url)
        else:
            result = self.call(self.arguments)
        response = result.response
        location = response.headers.get("Location")
        next_url = urljoin(result.request.url, location) if location else None
        state = PollState(next_url=next_url, query={}, first=False, failures=0)
        events: list[Event] = []
        if response.status != 202:
            body = _body(response)
            events = self.events(self._items(body), response)
        return PollOutcome(events, state, self.wait(response), response.status, notes=self.notes)

    def _items(self, body: Any) -> list[Any]:
        if self.spec.cardinality == "single":
            return [body]
        if isinstance(body, list):
            return body
        if body is None:
            return []
        for candidate in (self.spec.array_property, "value"):
            if candidate and isinstance(body, dict) and isinstance(body.get(candidate), list):
                return list(body[candidate])
        self.notes.append(f"trigger {self.spec.operation_id}: no item array in the batch response; one event")
        return [body]


class _PolicyPoll(_Poll):
    """§4.3: a plain API polled with saved query values; triggerDataPath and triggerConfig."""

    def run(self) -> PollOutcome:
        assert self.spec.policy is not None
        policy = self.spec.policy
        result = self._first_page()
        response = result.response
        body = _body(response)
        state = PollState(next_url=None, query=dict(self.state.query), first=False, failures=0)
        if response.status == 202 or not 200 <= response.status < 300:
            return PollOutcome([], state, self.wait(response), response.status, notes=self.notes)
        scope = self._scope(result, body)
        items = self._items(policy, scope)
        state.query.update(self._next_query(policy, scope))
        events: list[Event] = []
        if items and (not self.state.first or self.options.fire_on_first_poll):
            items += self._more_pages(policy, body)
            events = self.events(items, response)
        return PollOutcome(events, state, self.wait(response), response.status, notes=self.notes)

    def _first_page(self) -> Result:
        """The operation with its inputs and the saved query values (these win). A saved name
        the operation does not declare (Facebook's ``since``) cannot go through the arguments,
        so the poll then calls the built URL plus those values (header parameters are lost)."""
        declared = self.spec.query_names
        merged = {**self.arguments, **{k: v for k, v in self.state.query.items() if k in declared}}
        extra = {k: v for k, v in self.state.query.items() if k not in declared}
        if not extra:
            return self.call(merged)
        properties = self.package.properties.properties
        request = build_request(
            self.package.swagger, self.spec.operation_id, merged, {},
            connection_parameters=properties.connectionParameters, path_encoding=self.engine.path_encoding,
        )  # fmt: skip
        for name, value in extra.items():
            request.set_query(name, value)
        return self.call({}, target_url=request.url)

    def _scope(self, result: Result, body: Any) -> Scope:
        call = Call(self.spec.operation_id, {}, result.request, result.response)
        return Scope(call, section="response", trigger_body=body)

    def _items(self, policy: PollingPolicy, scope: Scope) -> list[Any]:
        found = resolve(parse_path(policy.data_path), scope, template=policy.data_path)
        if found is MISSING or found is None:
            return []
        return list(found) if isinstance(found, list) else [found]

    def _next_query(self, policy: PollingPolicy, scope: Scope) -> dict[str, str]:
        """Each triggerConfig value evaluated on this response; one that finds nothing keeps
        its previous value (so an empty page does not reset the cursor)."""
        values: dict[str, str] = {}
        for name, template in policy.trigger_config.items():
            try:
                values[name] = evaluate_complete_in(template, scope)
            except ExpressionError:
                self.notes.append(f"trigger {self.spec.operation_id}: triggerConfig {name!r} found no value; kept")
        return values

    def _more_pages(self, policy: PollingPolicy, body: Any) -> list[Any]:
        """Items of the pages after the first, following the next link (a failed page fails the
        whole poll, so that the state does not move past items never delivered)."""
        items: list[Any] = []
        link = body.get(policy.next_link) if isinstance(body, dict) else None
        pages = 1
        while isinstance(link, str) and link:
            if pages >= self.options.max_pages:
                self.notes.append(f"trigger {self.spec.operation_id}: stopped after {pages} pages (max_pages)")
                break
            result = self.call({}, target_url=link)
            page = _body(result.response)
            items += self._items(policy, self._scope(result, page))
            link = page.get(policy.next_link) if isinstance(page, dict) else None
            pages += 1
        return items
