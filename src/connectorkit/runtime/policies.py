"""Policy templates: the ``policyTemplateInstances`` of apiProperties.json, run over a call.

The runtime runs the instances that apply to an operation in array order; later ones see what
earlier ones did (runtime-semantics.md §3.1). :func:`apply_request_policies` runs the Request
section before the backend call, :func:`apply_response_policies` the Response section (and the
Failure section when the call failed) after it. Both change the :class:`Call` in place and return
a :class:`PolicyOutcome` saying what ran and what was skipped.

The module does no I/O: ``setvaluefromurl`` needs a side request, which goes through the ``send``
callable the caller injects. Behaviour the documents leave open ([INFERRED] in the reference) is
chosen in :class:`PolicyOptions`, whose docstring lists each choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

from connectorkit.definition.models import PolicyTemplateInstance
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.expressions import (
    MISSING,
    ExpressionError,
    Scope,
    assign,
    evaluate_in,
    evaluate_value_in,
    is_single_expression,
    parse_path,
    parse_template,
    remove,
    resolve,
    to_text,
)
from connectorkit.runtime.model import Call, Headers, Request, Response

Send = Callable[[Request], Response]
PolicyInput = PolicyTemplateInstance | Mapping[str, Any]

_PARAM = "x-ms-apimTemplateParameter."
_OPERATIONS = "x-ms-apimTemplate-operationName"
_SECTION = "x-ms-apimTemplate-policySection"
_SECTIONS = {"request": "request", "response": "response", "failure": "failure"}
_RESPONSE_BY_NATURE = {"updatenextlink", "setconnectionstatustounauthenticated"}


class PolicyError(InputError):
    """A policy-template instance that cannot be applied as written."""


class SideRequestError(ConnectorkitError):
    """A side request made by a policy (``setvaluefromurl``) failed."""


@dataclass(frozen=True)
class PolicyOptions:
    """Choices where the platform's behaviour is not documented ([INFERRED]).

    - ``header_append``: ``setheader`` with ``existsAction: append`` joins the values with ", " into
      one header (``"join"``, APIM's serialisation) or adds a repeated header line (``"repeat"``).
    - ``query_append``: ``setqueryparameter`` append repeats the key (``"repeat"``, the default) or
      joins the values with "," (``"join"``).
    - ``failure_runs_response``: when the call failed, Response-section policies run too (in
      addition to Failure); ``False`` runs Failure instead of Response.
    - ``dynamic_host_replaces_base_path``: ``dynamichosturl`` replaces scheme + host + basePath
      (``True``, the majority reading) or only scheme + host, keeping the swagger basePath.
    - ``strip_value_quotes``: a ``setproperty`` value wholly wrapped in single quotes (FreeAgent's
      ``'{@item()['id']}-...'``) loses the quotes.
    - ``strict``: a connection parameter or environment variable with no value and no default is
      an error instead of ``""``.
    - ``strip_trigger_prefix``: ``pollingtrigger`` calls the backend at the operation's path minus
      its leading ``/trigger`` segment (runtime-semantics.md §4.3, inferred from all 39 corpus
      operations); ``False`` sends the path as written.
    """

    header_append: Literal["join", "repeat"] = "join"
    query_append: Literal["repeat", "join"] = "repeat"
    failure_runs_response: bool = True
    dynamic_host_replaces_base_path: bool = True
    strip_value_quotes: bool = True
    strict: bool = False
    strip_trigger_prefix: bool = True


@dataclass
class PolicyOutcome:
    """What a policy run did. ``connection_unauthenticated`` is set by
    ``setconnectionstatustounauthenticated`` when the response status matched."""

    applied: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    connection_unauthenticated: bool = False


@dataclass
class _Instance:
    template: str
    label: str
    parameters: dict[str, Any]
    operations: list[str]
    section: str

    def param(self, name: str, default: Any = None) -> Any:
        value = self.parameters.get(_PARAM + name)
        return default if value is None else value

    def text(self, name: str, default: str | None = None) -> str:
        value = self.param(name, default)
        if value is None:
            raise PolicyError(f"policy {self.label}: parameter '{_PARAM}{name}' is required")
        return str(value)


def _normalise(raw: PolicyInput) -> _Instance:
    template_id: Any
    title: Any
    if isinstance(raw, PolicyTemplateInstance):
        template_id = raw.templateId
        title = raw.title
        parameters = dict(raw.parameters or {})
    else:
        template_id = raw.get("templateId")
        title = raw.get("title")
        parameters = dict(raw.get("parameters") or {})
    if not isinstance(template_id, str) or not template_id:
        raise PolicyError("a policyTemplateInstances entry has no templateId")
    template = template_id.lower()
    label = f"'{title}' ({template_id})" if title else f"'{template_id}'"
    names = parameters.get(_OPERATIONS) or []
    operations = [str(n) for n in names] if isinstance(names, list) else [str(names)]
    section_raw = parameters.get(_SECTION)
    if section_raw is None:
        section = "response" if template in _RESPONSE_BY_NATURE else "request"
    else:
        found = _SECTIONS.get(str(section_raw).lower())
        if found is None:
            raise PolicyError(f"policy {label}: {_SECTION} is {section_raw!r}; expected Request, Response or Failure")
        section = found
    return _Instance(template, label, parameters, operations, section)


def _select(instances: Sequence[PolicyInput], call: Call, sections: set[str]) -> list[_Instance]:
    chosen: list[_Instance] = []
    for raw in instances:
        instance = _normalise(raw)
        if instance.template not in _HANDLERS:
            raise PolicyError(f"policy {instance.label}: unknown templateId {instance.template!r}")
        if instance.operations and call.operation_id not in instance.operations:
            continue
        if instance.section in sections:
            chosen.append(instance)
    return chosen


@dataclass
class _Run:
    call: Call
    scope: Scope
    options: PolicyOptions
    outcome: PolicyOutcome
    send: Send | None
    path_params: Mapping[str, str]
    next_link_base: str | None


def apply_request_policies(
    instances: Sequence[PolicyInput],
    call: Call,
    *,
    send: Send | None = None,
    path_params: Mapping[str, str] | None = None,
    environment: Mapping[str, str] | None = None,
    options: PolicyOptions | None = None,
) -> PolicyOutcome:
    """Run the Request-section instances that apply to ``call.operation_id``, in array order.

    ``path_params`` are the operation's path parameter values as they were put into the path
    (already encoded); ``routerequesttoendpoint`` and ``setvaluefromurl`` fill ``{name}`` with
    them. ``send`` performs ``setvaluefromurl`` side requests.
    """
    opts = options or PolicyOptions()
    scope = Scope(
        call,
        section="request",
        environment=environment or {},
        original_method=call.request.method,
        strict=opts.strict,
    )
    run = _Run(call, scope, opts, PolicyOutcome(), send, path_params or {}, None)
    for instance in _select(instances, call, {"request"}):
        _HANDLERS[instance.template](instance, run)
    return run.outcome


def apply_response_policies(
    instances: Sequence[PolicyInput],
    call: Call,
    *,
    failed: bool | None = None,
    next_link_base: str | None = None,
    environment: Mapping[str, str] | None = None,
    options: PolicyOptions | None = None,
) -> PolicyOutcome:
    """Run the Response-section instances (and Failure-section ones when the call failed) over
    ``call.response``, in array order.

    ``failed`` defaults to "status >= 400" [INFERRED]. ``next_link_base`` is the URL the runtime
    serves this connection at; ``updatenextlink`` rewrites links under the backend base URL to it.
    """
    if call.response is None:
        raise PolicyError(f"response policies for operation {call.operation_id!r} need a response")
    opts = options or PolicyOptions()
    did_fail = call.response.status >= 400 if failed is None else failed
    sections = {"response"}
    if did_fail:
        sections = {"response", "failure"} if opts.failure_runs_response else {"failure"}
    scope = Scope(call, section="response", environment=environment or {}, strict=opts.strict)
    run = _Run(call, scope, opts, PolicyOutcome(), None, {}, next_link_base)
    for instance in _select(instances, call, sections):
        _HANDLERS[instance.template](instance, run)
    return run.outcome


# ---------------------------------------------------------------------------------- the templates


def _ok(instance: _Instance, run: _Run) -> None:
    run.outcome.applied.append(instance.label)


def _target_headers(instance: _Instance, run: _Run) -> Headers:
    if instance.section == "request":
        return run.call.request.headers
    assert run.call.response is not None
    return run.call.response.headers


def _set_header(instance: _Instance, run: _Run) -> None:
    name = evaluate_in(instance.text("name"), run.scope)
    value = evaluate_in(instance.text("value"), run.scope)
    action = instance.text("existsAction", "override").lower()
    headers = _target_headers(instance, run)
    if action == "override":
        headers.set(name, value)
    elif action == "skip":
        if name not in headers:
            headers.add(name, value)
    elif action == "append":
        existing = headers.get(name)
        if existing is None:
            headers.add(name, value)
        elif run.options.header_append == "join":
            headers.set(name, f"{existing}, {value}")
        else:
            headers.add(name, value)
    else:
        raise PolicyError(f"policy {instance.label}: existsAction {action!r}; expected override, skip or append")
    _ok(instance, run)


def _set_query(instance: _Instance, run: _Run) -> None:
    request = run.call.request
    name = evaluate_in(instance.text("name"), run.scope)
    value = evaluate_in(instance.text("value"), run.scope)
    action = instance.text("existsAction", "override").lower()
    existing = request.query_value(name)
    if action == "override" or existing is None:
        if action not in ("override", "skip", "append"):
            raise PolicyError(f"policy {instance.label}: existsAction {action!r}; expected override, skip or append")
        request.set_query(name, value)
    elif action == "skip":
        pass
    elif action == "append":
        if run.options.query_append == "repeat":
            request.query.append((name, value))
        else:
            request.set_query(name, f"{existing},{value}")
    else:
        raise PolicyError(f"policy {instance.label}: existsAction {action!r}; expected override, skip or append")
    _ok(instance, run)


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _dynamic_host(instance: _Instance, run: _Run) -> None:
    template = instance.text("urlTemplate")
    url = evaluate_in(template, run.scope).strip().rstrip("/")
    if not _absolute(url):
        raise PolicyError(f"policy {instance.label}: urlTemplate {template!r} did not produce an absolute http(s) URL")
    request = run.call.request
    if not run.options.dynamic_host_replaces_base_path:
        base_path = urlsplit(request.base_url).path.rstrip("/")
        url = url + base_path
    request.base_url = url
    _ok(instance, run)


def _fill_path_params(text: str, instance: _Instance, run: _Run) -> str:
    out: list[str] = []
    pos = 0
    while True:
        start = text.find("{", pos)
        if start < 0:
            out.append(text[pos:])
            return "".join(out)
        end = text.find("}", start)
        if end < 0:
            out.append(text[pos:])
            return "".join(out)
        name = text[start + 1 : end]
        if name not in run.path_params:
            raise PolicyError(f"policy {instance.label}: path parameter {{{name}}} has no value in this call")
        out.append(text[pos:start])
        out.append(run.path_params[name])
        pos = end + 1


def _route(instance: _Instance, run: _Run) -> None:
    request = run.call.request
    new_path = _fill_path_params(evaluate_in(instance.text("newPath"), run.scope), instance, run)
    path, _, query = new_path.partition("?")
    request.path = path if path.startswith("/") else "/" + path
    for name, value in parse_qsl(query, keep_blank_values=True):
        request.set_query(name, value)
    method = instance.param("httpMethod")
    if method is not None and str(method).strip():
        request.method = evaluate_in(str(method), run.scope).upper()
    _ok(instance, run)


def _strip_quotes(text: str) -> str:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return text[1:-1]
    return text


def _each_target(parent_template: str, run: _Run) -> list[Any]:
    """The objects a property policy works on: the parent, or each element when it is an array."""
    parent = resolve(parse_path(parent_template), run.scope, template=parent_template)
    if isinstance(parent, list):
        return list(parent)
    if parent is MISSING or parent is None:
        return []
    return [parent]


def _set_property(instance: _Instance, run: _Run) -> None:
    parent_template = instance.text("newPropertyParentPathTemplate")
    sub = parse_path(instance.text("newPropertySubPathTemplate"))
    value_template = instance.text("propertyValuePathTemplate")
    if run.options.strip_value_quotes and not is_single_expression(value_template):
        value_template = _strip_quotes(value_template)
    targets = _each_target(parent_template, run)
    if not targets:
        run.outcome.notes.append(f"policy {instance.label}: {parent_template!r} is absent; nothing set")
        return
    for target in targets:
        scope = run.scope.with_item(target)
        value = evaluate_value_in(value_template, scope)
        if not sub.steps:
            raise PolicyError(f"policy {instance.label}: newPropertySubPathTemplate must name a property")
        assign(sub, scope, value, parent=target, template=instance.text("newPropertySubPathTemplate"))
    _ok(instance, run)


def _source_pairs(instance: _Instance, run: _Run) -> list[tuple[Any, Any]]:
    """(item, source value) pairs: each element of an array parent with its sub-property, or the
    parent with its sub-property ("null" sub path = the parent itself)."""
    parent_template = instance.text("propertyParentPath")
    sub = parse_path(instance.text("propertySubPath", "null"))
    parent = resolve(parse_path(parent_template), run.scope, template=parent_template)
    if parent is MISSING or parent is None:
        return []
    if isinstance(parent, list) and sub.steps:
        return [(element, resolve(sub, run.scope, parent=element)) for element in parent]
    return [(parent, resolve(sub, run.scope, parent=parent))]


def _write_new(instance: _Instance, run: _Run, item: Any, value: Any, name: str = "newPropertyPath") -> None:
    template = instance.text(name)
    scope = run.scope.with_item(item)
    assign(parse_path(template), scope, value, parent=item, template=template)


def _array_to_object(instance: _Instance, run: _Run) -> None:
    key_path = parse_path(instance.text("keyWithinCollectionPath"))
    retain = str(instance.param("retainKey", "true")).lower() != "false"
    for item, source in _source_pairs(instance, run):
        if not isinstance(source, list):
            continue
        result: dict[str, Any] = {}
        for element in source:
            key = resolve(key_path, run.scope, parent=element)
            if key is MISSING or key is None:
                continue
            entry = element
            if not retain and isinstance(element, dict):
                entry = dict(element)
                remove(key_path, run.scope, parent=entry)
            result[str(key)] = entry
        _write_new(instance, run, item, result)
    _ok(instance, run)


def _object_to_array(instance: _Instance, run: _Run) -> None:
    key_name = instance.text("keyName", "key")
    value_name = instance.text("valueName", "value")
    for item, source in _source_pairs(instance, run):
        if not isinstance(source, dict):
            continue
        result = [{key_name: key, value_name: value} for key, value in source.items()]
        _write_new(instance, run, item, result)
    _ok(instance, run)


def _string_to_array(instance: _Instance, run: _Run) -> None:
    """Each character of ``delimiterList`` is a delimiter; parts are trimmed and empty parts
    dropped [INFERRED]."""
    delimiters = instance.text("delimiterList")
    child = instance.text("childPropertyName")
    for item, source in _source_pairs(instance, run):
        if not isinstance(source, str):
            continue
        parts = [source]
        for delimiter in delimiters:
            parts = [piece for part in parts for piece in part.split(delimiter)]
        result = [{child: part.strip()} for part in parts if part.strip()]
        _write_new(instance, run, item, result)
    _ok(instance, run)


def _string_replace(instance: _Instance, run: _Run) -> None:
    """Literal replace-all; ``sourceString``/``replacementString`` are not expressions."""
    old = instance.text("sourceString")
    new = instance.text("replacementString", "")
    if not old:
        raise PolicyError(f"policy {instance.label}: sourceString is empty")
    for item, source in _source_pairs(instance, run):
        if isinstance(source, str):
            _write_new(instance, run, item, source.replace(old, new))
    _ok(instance, run)


def _encode_property(instance: _Instance, run: _Run) -> None:
    """URL-encodes the value with no safe characters [INFERRED: the encoding is undocumented]."""
    for item, source in _source_pairs(instance, run):
        if isinstance(source, str):
            _write_new(instance, run, item, quote(source, safe=""))
    _ok(instance, run)


def _move_properties(instance: _Instance, run: _Run) -> None:
    """Moves ``srcParent.srcSub`` under ``dstParent.dstSub`` and removes the source [INFERRED].
    With ``copyOnlySubProperties`` the source's children are merged into the destination;
    otherwise the source moves as one property keeping its name."""
    src_parent = resolve(parse_path(instance.text("srcParentPath")), run.scope)
    src_sub = parse_path(instance.text("srcSubPath"))
    if not src_sub.steps:
        raise PolicyError(f"policy {instance.label}: srcSubPath must name a property")
    source = resolve(src_sub, run.scope, parent=src_parent)
    if source is MISSING:
        run.outcome.notes.append(f"policy {instance.label}: source property is absent; nothing moved")
        return
    remove(src_sub, run.scope, parent=src_parent)
    dst_parent = resolve(parse_path(instance.text("dstParentPath")), run.scope)
    dst_sub = parse_path(instance.text("dstSubPath", "null"))
    if not isinstance(dst_parent, dict):
        raise PolicyError(f"policy {instance.label}: dstParentPath is not an object")
    destination = resolve(dst_sub, run.scope, parent=dst_parent)
    if not isinstance(destination, dict):
        destination = {}
        assign(dst_sub, run.scope, destination, parent=dst_parent)
    only_children = str(instance.param("copyOnlySubProperties", "false")).lower() == "true"
    if only_children and isinstance(source, dict):
        destination.update(source)
    else:
        destination[str(src_sub.steps[-1])] = source
    _ok(instance, run)


def _set_value_from_url(instance: _Instance, run: _Run) -> None:
    """Side request ``httpMethod <current base URL><parameterValueUrl>`` with the current
    request's headers (auth included) and no body; the value found at
    ``parameterValuePathTemplate`` in its JSON response is written to ``parameterTemplate``."""
    if run.send is None:
        raise PolicyError(f"policy {instance.label}: setvaluefromurl needs a send function for its side request")
    target = parse_template(instance.text("parameterTemplate").strip())
    target_expr = target[0] if len(target) == 1 and not isinstance(target[0], str) else None
    if target_expr is None or target_expr.function not in ("headers", "queryParameters"):
        raise PolicyError(
            f"policy {instance.label}: parameterTemplate must be @headers('name') or @queryParameters('name')"
        )
    request = run.call.request
    url = _fill_path_params(evaluate_in(instance.text("parameterValueUrl"), run.scope), instance, run)
    path, _, query = url.partition("?")
    side = Request(
        method=instance.text("httpMethod", "GET").upper(),
        base_url=request.base_url,
        path=path if path.startswith("/") else "/" + path,
        query=parse_qsl(query, keep_blank_values=True),
        headers=Headers(request.headers.items()),
    )
    response = run.send(side)
    if not 200 <= response.status < 300:
        raise SideRequestError(
            f"policy {instance.label}: side request {side.method} {side.path} returned {response.status}"
        )
    side_call = Call(run.call.operation_id, run.call.connection, side, response)
    side_scope = Scope(side_call, section="response", environment=run.scope.environment, strict=run.options.strict)
    value_template = instance.text("parameterValuePathTemplate")
    value = evaluate_value_in(value_template, side_scope)
    if value is None:
        raise SideRequestError(f"policy {instance.label}: {value_template!r} found nothing in the side response")
    text = to_text(value)
    name = target_expr.args[0]
    if target_expr.function == "headers":
        request.headers.set(name, text)
    else:
        request.set_query(name, text)
    _ok(instance, run)


def _update_next_link(instance: _Instance, run: _Run) -> None:
    """Rewrites a next link under the backend base URL to ``next_link_base`` [INFERRED]. Links
    elsewhere, or a run without ``next_link_base``, are left as they are, with a note."""
    name = instance.text("nextLinkPropertyName")
    parent_template = str(instance.param("nextLinkParentPropertyPath") or "@body()")
    parent = resolve(parse_path(parent_template), run.scope, template=parent_template)
    link = parent.get(name) if isinstance(parent, dict) else None
    if not isinstance(link, str) or not link:
        return
    base = run.call.request.base_url.rstrip("/")
    if run.next_link_base is None:
        run.outcome.notes.append(f"policy {instance.label}: no runtime URL given; next link left unchanged")
        return
    if link == base or link.startswith(base + "/") or link.startswith(base + "?"):
        assert isinstance(parent, dict)
        parent[name] = run.next_link_base.rstrip("/") + link[len(base) :]
        _ok(instance, run)
    else:
        run.outcome.notes.append(f"policy {instance.label}: next link is not under the backend URL; left unchanged")


def _connection_status(instance: _Instance, run: _Run) -> None:
    raw = instance.param("statusCode")
    try:
        status = int(raw)
    except (TypeError, ValueError):
        raise PolicyError(f"policy {instance.label}: statusCode {raw!r} is not an HTTP status") from None
    if run.call.response is not None and run.call.response.status == status:
        run.outcome.connection_unauthenticated = True
        _ok(instance, run)


TRIGGER_PREFIX = "/trigger"


def strip_trigger_prefix(path: str) -> str:
    """``path`` without its leading ``/trigger`` segment (``/trigger/me/feed`` → ``/me/feed``);
    other paths unchanged. The segment only makes swagger paths unique [INFERRED, §4.3]."""
    if path == TRIGGER_PREFIX:
        return "/"
    if path.startswith(TRIGGER_PREFIX + "/"):
        return path[len(TRIGGER_PREFIX) :]
    return path


def _polling_trigger(instance: _Instance, run: _Run) -> None:
    """On the request side: the backend is called at the operation's path minus its leading
    ``/trigger`` segment, as every corpus connector's backend evidently expects (runtime-semantics.md
    §4.3, [INFERRED]; ``PolicyOptions.strip_trigger_prefix``). The polling itself (state, items,
    ``triggerConfig``) is :mod:`connectorkit.runtime.triggers`'s work, not a per-call policy."""
    request = run.call.request
    stripped = strip_trigger_prefix(request.path) if run.options.strip_trigger_prefix else request.path
    if stripped != request.path:
        request.path = stripped
        _ok(instance, run)
        return
    run.outcome.notes.append(
        f"policy {instance.label}: no /trigger prefix stripped; the polling state is kept by the trigger runtime"
    )


_HANDLERS: dict[str, Callable[[_Instance, _Run], None]] = {
    "setheader": _set_header,
    "setqueryparameter": _set_query,
    "setproperty": _set_property,
    "routerequesttoendpoint": _route,
    "dynamichosturl": _dynamic_host,
    "dynamicsubdomain": _dynamic_host,
    "convertarraytoobject": _array_to_object,
    "convertobjecttoarray": _object_to_array,
    "stringtoarray": _string_to_array,
    "stringreplace": _string_replace,
    "encodepropertyvalue": _encode_property,
    "moveproperties": _move_properties,
    "setvaluefromurl": _set_value_from_url,
    "updatenextlink": _update_next_link,
    "setconnectionstatustounauthenticated": _connection_status,
    "pollingtrigger": _polling_trigger,
}

__all__ = [
    "ExpressionError",
    "PolicyError",
    "PolicyInput",
    "PolicyOptions",
    "PolicyOutcome",
    "Send",
    "SideRequestError",
    "apply_request_policies",
    "apply_response_policies",
    "strip_trigger_prefix",
]
