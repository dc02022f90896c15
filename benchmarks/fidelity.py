"""Fidelity over real connectors: every corpus operation, called through connectorkit's runtime,
judged by Stoplight Prism mocking the connector's own definition.

For each connector Prism (``@stoplight/prism-cli`` 5, installed into ``.cache/node`` on first use)
is started as a mock of the connector's ``apiDefinition.swagger.json``. Every operation is then
called with :func:`connectorkit.runtime.samples.sample_arguments` and dummy connection values
through :func:`connectorkit.runtime.invoke.invoke` (request building, Request-section policy
templates, sending; no retries), and Prism's verdict on the request is counted.

Two readings of each definition. The mock should stand for the backend the platform calls, so
every operation is judged twice: by a mock of the definition *as declared*, and by a mock of its
*platform reading* (``benchmarks/platform_reading.py``), which declares only what the runtime
evidently sends -- ``application/json`` for a body with no ``consumes`` (runtime-semantics.md
§1.6), and a ``pollingtrigger`` operation also at its path minus ``/trigger`` (§4.3, §9 gap 2) --
and relaxes nothing else. Where the reading rewrites nothing, the first verdicts stand for both.
Both figures are printed; the target is judged on the platform reading, and every rejection left
there has a cause. The text report lists the rejections of the platform reading one by one, the
verdicts that differ between the readings, and for each reading the category and cause tables.

Where requests go. Prism serves each path of the definition at its own root, without the
``basePath`` (``/items`` answers, ``/v1/items`` is "no path matched"), and it does not check the
host. So ``invoke`` gets ``base_url=http://127.0.0.1:PORT``, and the client's transport sends
every request, whatever host a ``dynamichosturl`` policy or a ``setvaluefromurl`` side request
chose, to that Prism. When the path is not one of the definition's paths but starts with the
basePath (a dynamic host URL usually repeats the basePath, as the real host serves it there), the
basePath is removed. Otherwise leading segments are dropped only while that makes the path the
*called operation's own* path template: a host URL with a tenant path
(``https://@connectionParameters('zipDomain')/@connectionParameters('zipReadContext')``) or a
route that adds a version or key prefix (JIRA ``/issue/{k}`` to ``/2/issue/{k}``). Dropping
segments until *any* declared path matched was tried and rejected: it turned JIRA's
``/rest/api/2/issue`` (CreateIssueV2) into ``/issue``, another operation. A policy that routes to
a path the definition does not declare is reported by Prism as "no path matched" and counted
under "policy routes elsewhere".

When a request counts as accepted. Prism checks a request before it makes a response: route and
method, security (the credentials the ``securityDefinitions`` ask for are present), then the
parameters and body against the definition. A request is *rejected* when Prism answers with its
own ``application/problem+json`` error for the route (``NO_PATH_MATCHED_ERROR``,
``NO_METHOD_MATCHED_ERROR``), security (``UNAUTHORIZED``), the body's media type
(``INVALID_CONTENT_TYPE``) or validation (``UNPROCESSABLE_ENTITY``), or reports at least one request
violation of severity ``Error``: in the ``validation`` list of its 422 body, or in the
``sl-violations`` header it adds when the definition has an error response of its own to return.
Every other answer counts as *accepted*, including Prism's failures to make a *response* (406 or
500 when the definition has no usable response): those come after the request passed. Response
violations (``sl-violations`` entries located in ``response``) are not counted. Operations that
run through ``script.csx`` are skipped and counted apart, as are connectors Prism cannot load.
A request that brings Prism down is rejected ("Prism crashed") and Prism is started again.

Each rejection is then given a cause by :data:`EXPLANATIONS` and :func:`explain`: *ours*
(connectorkit built a wrong request), *definition* (the definition contradicts itself or asks
for what the platform does not do), *Prism* (a Prism limitation), *policy* (a policy template
sends the call outside what the definition declares) or *unexplained*.

Triggers. A trigger operation is sent the request the trigger runtime sends first, by the same
code: a webhook trigger's subscribe request (``runtime/webhooks.py``: the sample arguments with
the callback URL ``https://connectorkit.example/callbacks/<token>`` put where
``x-ms-notification-url`` marks it, by :meth:`NotificationTarget.fill`, the sample's own value
there removed first; an optional body the sample left out is sampled with its required
properties, since the callback URL makes it present), a polling trigger's first poll (the
operation with its inputs and the engine options ``poll_once`` uses, so a ``pollingtrigger``
policy strips the ``/trigger`` path prefix). Each result carries its kind (``action``,
``webhook``, ``native-polling``, ``policy-polling``); a first poll that a ``pollingtrigger``
routes to a path the definition does not declare is counted under "policy routes elsewhere
(pollingtrigger)" -- as declared; the platform reading declares that path. ``--triggers`` runs
only the trigger operations (of the connectors that have any).

Connection values: ``api_key``, ``username``/``password`` and ``access_token`` are dummy values,
so any auth scheme Prism checks is satisfied; every declared connection parameter gets its
default, first allowed value or a dummy (a URL where a ``dynamichosturl`` template is that
parameter, a bare label where the template puts it inside a URL, a URL or an e-mail address where
its name says so).

Usage: python benchmarks/fidelity.py [CORPUS_DIR] [--limit N] [--connector NAME] [--jobs 3] [--triggers]
       [--format json]
Needs: npm and node (Prism is installed on first use).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.platform_reading import ALREADY, Change, Reading, platform_reading  # noqa: E402
from tests.nodetools import NodeToolMissing, node_binary, npm_package  # noqa: E402

from connectorkit.definition.models import PolicyTemplateInstance  # noqa: E402
from connectorkit.definition.package import ConnectorPackage  # noqa: E402
from connectorkit.definition.swagger import Swagger  # noqa: E402
from connectorkit.errors import ConnectorkitError, InputError  # noqa: E402
from connectorkit.runtime.invoke import BackendError, CustomCodeError, EngineOptions, invoke  # noqa: E402
from connectorkit.runtime.model import Response  # noqa: E402
from connectorkit.runtime.policies import PolicyError, strip_trigger_prefix  # noqa: E402
from connectorkit.runtime.request import find_operation  # noqa: E402
from connectorkit.runtime.samples import sample_arguments, sample_body  # noqa: E402
from connectorkit.runtime.triggers import TriggerOptions, trigger_kind  # noqa: E402
from connectorkit.runtime.webhooks import NotificationTarget, callback_url, notification_target  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "corpus" / "connectors"
PRISM_SPEC = "@stoplight/prism-cli@5"
PRISM_ERRORS = "https://stoplight.io/prism/errors#"
ROUTE_ERRORS = {"NO_PATH_MATCHED_ERROR", "NO_METHOD_MATCHED_ERROR"}
REQUEST_ERRORS = {"UNAUTHORIZED", "INVALID_CONTENT_TYPE", "UNPROCESSABLE_ENTITY"}
START_TIMEOUT = 120.0
DUMMY = {"api_key": "sample-api-key", "username": "sample-user", "password": "sample-password"}
DUMMY_TOKEN = "sample-access-token"
ROUTING_POLICIES = ("routerequesttoendpoint", "dynamichosturl")
CALLBACK_BASE = "https://connectorkit.example"
CALLBACK_TOKEN = "fidelity-callback-token-0123456789"
HOST_INPUT = re.compile(r"(?:^|(?<=://))@(?:queryParameters|headers?)\(['\"](?P<name>[^'\"]+)['\"]")


@dataclass
class OperationResult:
    operation: str
    accepted: bool | None  # None: skipped (custom code)
    category: str
    detail: str = ""
    cause: str = ""  # for a rejection: why (see explain)
    kind: str = "action"  # or the trigger kind: webhook, native-polling, policy-polling


@dataclass
class ConnectorResult:
    name: str
    kind: str
    operations: list[OperationResult] = field(default_factory=list)  # judged on the definition as declared
    unloadable: str | None = None  # why Prism (or connectorkit) could not load the definition
    platform: list[OperationResult] = field(default_factory=list)  # judged on its platform reading
    platform_unloadable: str | None = None
    reading: list[Change] = field(default_factory=list)  # what the platform reading changed
    seconds: float = 0.0


# -- Prism


class PrismFailed(Exception):
    """Prism exited or never listened; the message is the end of its log."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _log_tail(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if re.search(r"\b(error|fatal)\b", line, re.IGNORECASE)]
    text = (errors or lines)[-1] if (errors or lines) else "no output"
    return re.sub(r"\s+", " ", re.sub(r"\x1b\[[0-9;]*m", "", text)).strip()[:300]


class Prism:
    """A Prism mock of one definition, restartable on the same port when a request crashes it."""

    def __init__(self, cli: Path, definition: dict[str, Any], workdir: Path) -> None:
        self.spec = workdir / "apiDefinition.swagger.json"
        self.spec.write_text(json.dumps(definition), encoding="utf-8")
        self.log = workdir / "prism.log"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [node_binary(), str(cli), "mock", "-p", str(self.port), "-h", "127.0.0.1", "-v", "warn"]
        self.command.append(str(self.spec))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(self.command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(self.port):
            if self.process.poll() is not None:
                raise PrismFailed(_log_tail(self.log))
            if time.monotonic() > deadline:
                self.stop()
                raise PrismFailed(f"not listening after {START_TIMEOUT:g} s; {_log_tail(self.log)}")
            time.sleep(0.2)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def crash_report(self) -> str:
        """The exception Prism died of (its first ``...Error:`` line), else the end of its log."""
        lines = self.log.read_text(errors="replace").splitlines()
        thrown = next((line for line in lines if re.search(r"\w*Error\b:", line)), None)
        return re.sub(r"\s+", " ", thrown).strip()[:300] if thrown else _log_tail(self.log)

    def exited(self, within: float) -> bool:
        """Whether Prism is gone, waiting up to ``within`` seconds for a dying one to finish."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class ToPrism(httpx.BaseTransport):
    """Sends every request to one Prism, whatever host it names (see the module docstring)."""

    def __init__(self, base_url: str, base_path: str, paths: list[str]) -> None:
        self.target = httpx.URL(base_url)
        self.base_path = "/" + base_path.strip().strip("/") if base_path.strip().strip("/") else ""
        self.inner = httpx.HTTPTransport()
        self.templates = [_template_regex(p) for p in paths]
        self.expected: re.Pattern[str] | None = None  # the path template of the operation being called
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raw_path, _, query = request.url.raw_path.partition(b"?")
        path = self._served_path(raw_path.decode("ascii"))
        raw = path.encode("ascii") + (b"?" + query if query else b"")
        request.url = request.url.copy_with(scheme="http", host=self.target.host, port=self.target.port, raw_path=raw)
        request.headers["Host"] = f"{self.target.host}:{self.target.port}"
        self.sent.append(f"{request.method} {path}")
        return self.inner.handle_request(request)

    def _served_path(self, path: str) -> str:
        """The path as Prism serves it: the basePath a policy's host URL repeated removed, or
        leading segments a policy added dropped while that reaches the called operation's path."""
        if self.base_path and path.startswith(self.base_path + "/"):
            without_base = path[len(self.base_path) :]
            if not any(t.fullmatch(path) for t in self.templates):
                path = without_base
        if any(t.fullmatch(path) for t in self.templates):
            return path
        candidate = path
        while self.expected is not None and (slash := candidate.find("/", 1)) > 0:
            candidate = candidate[slash:]
            if self.expected.fullmatch(candidate):
                return candidate
        return path

    def close(self) -> None:
        self.inner.close()


def _template_regex(path: str) -> re.Pattern[str]:
    path = path if path.startswith("/") else "/" + path
    parts = re.split(r"(\{[^}]*\})", path.split("?")[0])
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts if p))


# -- judging Prism's answers


def _violations(response: Response) -> list[dict[str, Any]]:
    """Request violations of severity Error, from the 422 body or the sl-violations header."""
    found: list[Any] = []
    header = response.headers.get("sl-violations")
    if header:
        try:
            parsed = json.loads(header)
        except ValueError:
            parsed = []
        found += parsed if isinstance(parsed, list) else []
    body = response.json if response.has_json else None
    if isinstance(body, dict) and str(body.get("type", "")).startswith(PRISM_ERRORS):
        listed = body.get("validation")
        found += listed if isinstance(listed, list) else []
    out = []
    for item in found:
        if not isinstance(item, dict) or str(item.get("severity", "")).lower() != "error":
            continue
        location = [str(x) for x in item.get("location") or []]
        if location and location[0] == "response":
            continue
        out.append(dict(item, location=location[1:] if location[:1] == ["request"] else location))
    return out


def _prism_problem(response: Response) -> str | None:
    body = response.json if response.has_json else None
    kind = str(body.get("type", "")) if isinstance(body, dict) else ""
    return kind[len(PRISM_ERRORS) :] if kind.startswith(PRISM_ERRORS) else None


def judge(response: Response, routed_by: str | None, sent: str) -> OperationResult:
    """Accepted or rejected, with a category (see the module docstring for the rule)."""
    violations = _violations(response)
    if violations:
        first = violations[0]
        where = first["location"][0] if first["location"] else "request"
        messages = "; ".join(str(v.get("message", "")) for v in violations[:3])
        return OperationResult("", False, f"request validation: {where} {first.get('code', '?')}", messages)
    problem = _prism_problem(response)
    detail = str((response.json or {}).get("detail", ""))[:200] if problem else ""
    if problem in ROUTE_ERRORS:
        if routed_by is not None:
            return OperationResult("", False, f"policy routes elsewhere ({routed_by})", sent)
        return OperationResult("", False, f"Prism: {problem}", sent)
    if problem in REQUEST_ERRORS:
        return OperationResult("", False, f"Prism: {problem}", detail)
    if problem is not None:
        return OperationResult("", True, f"accepted (Prism could not make a response: {problem})", detail)
    return OperationResult("", True, "accepted")


EXPLANATIONS: list[tuple[str, str]] = [
    # (regex over "category: detail", the cause) -- first match wins; see the module docstring.
    (r"^policy routes elsewhere", "policy: routes to a path or host the definition does not declare"),
    (r"SideRequestError", "policy: a setvaluefromurl side request goes to an endpoint the definition does not declare"),
    (r"required property '[^']*\s[^']*'", "Prism: path parameter names with a space are never matched"),
    (
        r"content-type must be equal to one of the allowed values: multipart/form-data",
        "Prism: compares a Content-Type enum with the multipart boundary parameter included",
    ),
    (r"Supported content types", "definition: a Content-Type parameter that contradicts consumes"),
    (r"^Prism crashed", "Prism: crashes on the request"),
]
NO_CONSUMES = "definition: no consumes, so Prism refuses any body (the platform sends JSON)"
ODD_CONSUMES = "definition: consumes fits no body Prism takes (a form type for a body parameter, or a made-up type)"
AND_SECURITY = "definition: security asks for two schemes at once (AND); the platform applies the connection's one"
SET_AS_TEXT = (
    "policy: setproperty writes a JSON text where the schema declares another type "
    "(values come out as strings, runtime-semantics.md §3.6)"
)
BAD_DEFAULT = "definition: the body's declared default breaks its own schema (a format); the sample sends it"


def explain(result: OperationResult, package: ConnectorPackage, definition: dict[str, Any] | None = None) -> str:
    """Why a rejected request was rejected, in one of a few families (ours, definition, Prism,
    policy); what no rule explains is listed as unexplained, to be looked at by hand.
    ``definition`` is the one Prism mocked (the package's own when None)."""
    text = f"{result.category}: {result.detail}"
    if "No supported content types" in text:
        mocked = package.definition if definition is None else definition
        return NO_CONSUMES if not _consumes(package, result.operation, mocked) else ODD_CONSUMES
    for pattern, cause in EXPLANATIONS:
        if re.search(pattern, text):
            return cause
    if result.category == "Prism: UNAUTHORIZED" and _and_security(package, result.operation):
        return AND_SECURITY
    if result.category.startswith("request validation: body") and _set_by_policy(package, result):
        return SET_AS_TEXT
    if "must match format" in result.detail and _body_default(package, result.operation):
        return BAD_DEFAULT
    if result.category.startswith(("request building", "runtime error", "policy cannot")):
        return "ours: the runtime failed on the sample"
    return "unexplained"


def _consumes(package: ConnectorPackage, operation_id: str, definition: dict[str, Any]) -> list[Any]:
    """The operation's effective ``consumes`` in ``definition`` (found by the package's path and method)."""
    op = find_operation(package.swagger, operation_id)
    raw = definition.get("paths", {}).get(op.path, {}).get(op.method, {})
    listed = raw["consumes"] if "consumes" in raw else definition.get("consumes")
    return listed if isinstance(listed, list) else []


def _set_by_policy(package: ConnectorPackage, result: OperationResult) -> bool:
    """Whether the body property the first violation names is one a ``setproperty`` writes."""
    named = re.match(r"Request body property ([\w.]+) ", result.detail)
    if named is None:
        return False
    for instance in _policies_for(package, result.operation):
        parameters = instance.parameters or {}
        parent = str(parameters.get("x-ms-apimTemplateParameter.newPropertyParentPathTemplate", ""))
        sub = str(parameters.get("x-ms-apimTemplateParameter.newPropertySubPathTemplate", ""))
        if instance.template == "setproperty" and parent.strip() == "@body()" and sub == named.group(1):
            return True
    return False


def _body_default(package: ConnectorPackage, operation_id: str) -> bool:
    """Whether the operation's body schema declares a ``default`` (the samples start from it)."""
    op = find_operation(package.swagger, operation_id)
    body = next((p for p in op.parameters if p.location == "body"), None)
    schema = package.swagger.deref(body.raw.get("schema"), "")[0] if body is not None else None
    return isinstance(schema, dict) and "default" in schema


def _and_security(package: ConnectorPackage, operation_id: str) -> bool:
    op = next((o for o in package.swagger.operations() if o.operation_id == operation_id), None)
    listed = op.raw.get("security") if op is not None and "security" in op.raw else package.definition.get("security")
    return isinstance(listed, list) and bool(listed) and all(isinstance(r, dict) and len(r) > 1 for r in listed)


# -- one connector


def connection_values(package: ConnectorPackage) -> dict[str, Any]:
    """Dummy connection values that satisfy any auth scheme and fill every policy expression."""
    properties = package.properties.properties
    declared = dict(properties.connectionParameters or {})
    sets = properties.connectionParameterSets
    for chosen in (sets.values or []) if sets is not None else []:
        declared.update(chosen.parameters or {})
    templates = [
        str((p.parameters or {}).get("x-ms-apimTemplateParameter.urlTemplate", ""))
        for p in properties.policyTemplateInstances or []
    ]
    values: dict[str, Any] = dict(DUMMY, access_token=DUMMY_TOKEN)
    for name, parameter in declared.items():
        kind = (parameter.type or "string").lower()
        used = re.compile(r"@connectionParameters\(['\"]" + re.escape(name) + r"['\"]")
        in_host = [m.start() for t in templates for m in used.finditer(t)]
        if kind == "oauthsetting":
            continue
        if parameter.defaultValue not in (None, ""):
            values[name] = parameter.defaultValue
        elif parameter.allowedValues and parameter.allowedValues[0].value not in (None, ""):
            values[name] = parameter.allowedValues[0].value
        elif kind == "int":
            values[name] = 1
        elif kind == "bool":
            values[name] = True
        elif in_host:
            values[name] = "https://example.com" if 0 in in_host else "example"
        elif re.search(r"e-?mail", name, re.IGNORECASE):
            values[name] = "user@example.com"
        elif re.search(r"url|uri|endpoint|site|address", name, re.IGNORECASE):
            values[name] = "https://example.com"
        elif name not in values:
            values[name] = f"sample-{name.replace(':', '-')}"
    return values


def _policies_for(package: ConnectorPackage, operation_id: str) -> list[PolicyTemplateInstance]:
    return [
        instance
        for instance in package.properties.properties.policyTemplateInstances or []
        if not instance.operations or operation_id in instance.operations
    ]


def _routing_policy(package: ConnectorPackage, operation_id: str) -> str | None:
    """``routerequesttoendpoint`` or ``dynamichosturl`` when one applies to the operation."""
    templates = {instance.template for instance in _policies_for(package, operation_id)}
    return next((t for t in ROUTING_POLICIES if t in templates), None)


def policy_inputs(package: ConnectorPackage, operation_id: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with the inputs a ``dynamichosturl`` template builds its URL from made into
    a URL (the whole template) or a host label (after ``://``), as a user would fill them."""
    out = dict(arguments)
    for instance in _policies_for(package, operation_id):
        if instance.template != "dynamichosturl":
            continue
        template = str((instance.parameters or {}).get("x-ms-apimTemplateParameter.urlTemplate", ""))
        for match in HOST_INPUT.finditer(template):
            name = match.group("name")
            if name in out:
                out[name] = "https://example.com" if match.start() == 0 else "example"
    return out


@dataclass
class Target:
    """Where one connector's calls go: its Prism, and the client and transport that reach it."""

    base_url: str
    client: httpx.Client
    transport: ToPrism
    connection: dict[str, Any]
    definition: dict[str, Any]  # the one Prism mocks: as declared, or its platform reading


def _without_target(arguments: dict[str, Any], target: NotificationTarget) -> dict[str, Any]:
    """The sample with its own value where the callback URL goes removed (``fill`` refuses to
    overwrite a value: a user may not set the callback URL)."""
    out = dict(arguments)
    if not target.path:
        out.pop(target.parameter, None)
        return out
    out.pop(target.argument, None)
    body = out.get(target.parameter)
    if isinstance(body, dict):
        body = json.loads(json.dumps(body))
        node: Any = body
        for key in target.path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(target.path[-1], None)
        out[target.parameter] = body
    return out


def _with_callback_body(
    package: ConnectorPackage, operation_id: str, arguments: dict[str, Any], target: NotificationTarget
) -> dict[str, Any]:
    """``arguments`` with a sample of the body the callback URL goes into, when the sample left
    that body out because the parameter is optional (Shopranos, GreenSign): the callback URL
    makes the body present, so the user fills its schema's required properties, which the
    designer marks required, as well."""
    if not target.path or target.parameter in arguments:
        return arguments
    op = find_operation(package.swagger, operation_id)
    param = next((p for p in op.parameters if p.location == "body" and p.name == target.parameter), None)
    if param is None:
        return arguments
    return dict(arguments, **{target.parameter: sample_body(package.swagger, param.raw.get("schema"))})


def operation_kind(package: ConnectorPackage, operation_id: str) -> str:
    """``action`` or the trigger's kind (:func:`connectorkit.runtime.triggers.trigger_kind`)."""
    try:
        return trigger_kind(package, operation_id) or "action"
    except InputError:
        return "action"


def request_inputs(package: ConnectorPackage, operation_id: str, kind: str) -> tuple[dict[str, Any], EngineOptions]:
    """The arguments and engine options of the first request connectorkit sends for the operation:
    the call of an action, the subscribe request of a webhook, the first poll of a polling trigger."""
    arguments = policy_inputs(package, operation_id, sample_arguments(package.swagger, operation_id))
    options = EngineOptions(retries=0, timeout=60)
    if kind == "webhook":
        target = notification_target(package, operation_id)
        url = callback_url(CALLBACK_BASE, CALLBACK_TOKEN)
        arguments = _with_callback_body(package, operation_id, arguments, target)
        return target.fill(_without_target(arguments, target), url), options
    if kind != "action":
        strip = TriggerOptions().strip_trigger_prefix
        policies = dataclasses.replace(options.policies, strip_trigger_prefix=strip)
        return arguments, dataclasses.replace(options, policies=policies)
    return arguments, options


def call_operation(package: ConnectorPackage, operation_id: str, target: Target) -> OperationResult:
    target.transport.sent.clear()
    target.transport.expected = _template_regex(find_operation(package.swagger, operation_id).path)
    kind = operation_kind(package, operation_id)
    result = _send(package, operation_id, target, kind)
    result.kind = kind
    return result


def _send(package: ConnectorPackage, operation_id: str, target: Target, kind: str) -> OperationResult:
    try:
        arguments, options = request_inputs(package, operation_id, kind)
        result = invoke(
            package, operation_id, arguments, target.connection, client=target.client,
            options=options, base_url=target.base_url,
        )  # fmt: skip
    except CustomCodeError:
        return OperationResult(operation_id, None, "custom code (skipped)")
    except PolicyError as exc:
        return OperationResult(operation_id, False, "policy cannot be applied", str(exc))
    except InputError as exc:
        return OperationResult(operation_id, False, "request building rejected the sample", str(exc))
    except BackendError as exc:
        return OperationResult(operation_id, False, "no answer from Prism", str(exc))
    except ConnectorkitError as exc:
        return OperationResult(operation_id, False, f"runtime error ({type(exc).__name__})", str(exc))
    sent = target.transport.sent[-1] if target.transport.sent else ""
    routed_by = _routing_policy(package, operation_id) or ("pollingtrigger" if kind == "policy-polling" else None)
    verdict = judge(result.response, routed_by, sent)
    verdict.operation = operation_id
    return verdict


def _call_and_watch(
    package: ConnectorPackage, operation_id: str | None, target: Target, mock: Prism
) -> OperationResult:
    """One call; when it brought Prism down, that is the verdict and Prism is started again."""
    if operation_id is None:
        return OperationResult("(no operationId)", None, "no operationId (skipped)")
    if not mock.alive():  # died after answering an earlier call
        mock.start()
    result = call_operation(package, operation_id, target)
    if result.category == "no answer from Prism" and mock.exited(within=5.0):
        crashed = OperationResult(operation_id, False, "Prism crashed on the request", mock.crash_report())
        result = dataclasses.replace(crashed, kind=result.kind)
        mock.start()
    if result.accepted is False:
        result.cause = explain(result, package, target.definition)
    return result


def run_connector(
    folder: Path, cli: Path, advance: Callable[[int], None], triggers_only: bool = False
) -> ConnectorResult:
    """Every operation judged twice: by a mock of the definition as declared, and by a mock of
    its platform reading (:func:`platform_reading`); where the reading changes nothing, the
    first verdicts stand for both."""
    start = time.perf_counter()
    out = ConnectorResult(folder.name, folder.parent.name)
    try:
        package = ConnectorPackage.load(folder)
    except ConnectorkitError as exc:
        out.unloadable = out.platform_unloadable = f"connectorkit: {exc}"
        return out
    operations = [op.operation_id for op in package.swagger.operations() if not triggers_only or op.trigger]
    if not operations:
        return out
    declared_paths = [op.path for op in package.swagger.operations()]
    out.operations, out.unloadable = _judge_all(package, package.definition, declared_paths, operations, cli, advance)
    reading = read_as_platform(package)
    out.reading = reading.changes
    if reading.definition == package.definition:  # nothing rewritten (a stripped path may be declared already)
        out.platform = [dataclasses.replace(op) for op in out.operations]
        out.platform_unloadable = out.unloadable
        advance(len(operations))
    else:
        paths = [op.path for op in Swagger(reading.definition).operations()]
        out.platform, out.platform_unloadable = _judge_all(package, reading.definition, paths, operations, cli, advance)
    out.seconds = time.perf_counter() - start
    return out


def read_as_platform(package: ConnectorPackage) -> Reading:
    """The connector's definition as the platform reads it, with the ``/trigger`` prefix stripped
    from the operations a ``pollingtrigger`` applies to when the trigger options strip it."""
    polling = [
        op.operation_id
        for op in package.swagger.operations()
        if op.operation_id and any(i.template == "pollingtrigger" for i in _policies_for(package, op.operation_id))
    ]
    strip: Callable[[str], str] = strip_trigger_prefix
    if not TriggerOptions().strip_trigger_prefix:
        strip = lambda path: path  # noqa: E731
    return platform_reading(package.definition, polling, strip)


def _judge_all(
    package: ConnectorPackage,
    definition: dict[str, Any],
    paths: list[str],
    operations: list[str | None],
    cli: Path,
    advance: Callable[[int], None],
) -> tuple[list[OperationResult], str | None]:
    """Each operation called against a Prism mock of ``definition``; the verdicts, and why Prism
    could not load the definition (None when it could)."""
    results: list[OperationResult] = []
    with tempfile.TemporaryDirectory(prefix="fidelity-") as tmp:
        mock = Prism(cli, definition, Path(tmp))
        try:
            mock.start()
            transport = ToPrism(mock.url, package.swagger.base_path, paths)
            with httpx.Client(transport=transport) as client:
                target = Target(mock.url, client, transport, connection_values(package), definition)
                for operation_id in operations:
                    results.append(_call_and_watch(package, operation_id, target, mock))
                    advance(1)
        except PrismFailed as exc:
            advance(len(operations) - len(results))
            return results, f"Prism: {exc}"
        finally:
            mock.stop()
    return results, None


# -- the run


def discover(corpus: Path, name: str | None, limit: int | None) -> list[Path]:
    folders = sorted(
        (p for p in corpus.glob("*/*") if p.is_dir() and any(f.name.lower() == "apidefinition.swagger.json" for f in p.iterdir())),
        key=lambda p: (p.parent.name, p.name.lower()),
    )  # fmt: skip
    if name is not None:
        folders = [p for p in folders if p.name.lower() == name.lower()]
        if not folders:
            raise SystemExit(f"no connector named {name!r} in {corpus}")
    return folders[:limit] if limit is not None else folders


def _operation_count(folder: Path, triggers_only: bool = False) -> int:
    try:
        return sum(1 for op in ConnectorPackage.load(folder).swagger.operations() if not triggers_only or op.trigger)
    except ConnectorkitError:
        return 0


def run(folders: list[Path], jobs: int, console: Console, triggers_only: bool = False) -> list[ConnectorResult]:
    try:
        cli = npm_package(PRISM_SPEC, "@stoplight/prism-cli") / "dist" / "index.js"
    except NodeToolMissing as exc:
        raise SystemExit(f"Prism is unavailable: {exc}") from None
    if triggers_only:
        folders = [f for f in folders if _operation_count(f, True)]
    total = 2 * sum(_operation_count(f, triggers_only) for f in folders)  # two readings
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    lock = threading.Lock()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("operations", total=total)

        def advance(n: int) -> None:
            with lock:
                progress.advance(task, n)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(lambda f: run_connector(f, cli, advance, triggers_only), folders))


READINGS = {"declared": "as declared", "platform": "as the platform reads it"}


def summarise(results: list[ConnectorResult], seconds: float) -> dict[str, Any]:
    """Totals per reading of the definitions (``declared``, ``platform``; the target is judged on
    ``platform``), what the platform reading changed, and the verdicts that differ between them."""
    changed = [r for r in results if any(change.kind != ALREADY for change in r.reading)]
    flips = [
        f"{r.kind}/{r.name} {a.operation} ({a.kind}): {_verdict(a)} -> {_verdict(b)}"
        for r in results
        for a, b in zip(r.operations, r.platform, strict=False)
        if a.accepted != b.accepted
    ]
    return {
        "connectors": len(results),
        "seconds": round(seconds, 1),
        "declared": _totals([op for r in results for op in r.operations], {_key(r): r.unloadable for r in results}),
        "platform": _totals(
            [op for r in results for op in r.platform], {_key(r): r.platform_unloadable for r in results}
        ),
        "reading": {
            "connectors_changed": len(changed),
            "changes": dict(Counter(change.kind for r in changed for change in r.reading).most_common()),
            "verdicts_changed": flips,
        },
    }


def _key(result: ConnectorResult) -> str:
    return f"{result.kind}/{result.name}"


def _verdict(op: OperationResult) -> str:
    return "skipped" if op.accepted is None else ("accepted" if op.accepted else "rejected")


def _totals(operations: list[OperationResult], unloadable_by: dict[str, str | None]) -> dict[str, Any]:
    """Counts for one reading: judged, accepted, categories, causes of the rejections, per kind."""
    judged = [op for op in operations if op.accepted is not None]
    accepted = sum(1 for op in judged if op.accepted)
    unloadable = {name: why for name, why in unloadable_by.items() if why}
    categories = Counter(op.category for op in operations)
    return {
        "connectors_unloadable": len(unloadable),
        "connectors_prism_could_not_load": sum(1 for why in unloadable.values() if why.startswith("Prism")),
        "operations": len(operations),
        "judged": len(judged),
        "accepted": accepted,
        "accepted_percent": round(100.0 * accepted / len(judged), 2) if judged else 0.0,
        "skipped": len(operations) - len(judged),
        "custom_code_skipped": categories.get("custom code (skipped)", 0),
        "categories": dict(categories.most_common()),
        "causes": dict(Counter(op.cause for op in judged if op.accepted is False).most_common()),
        "by_kind": _by_kind(operations),
        "unloadable": unloadable,
    }


def _by_kind(operations: list[OperationResult]) -> dict[str, dict[str, int]]:
    """Per kind (action, webhook, native-polling, policy-polling): operations, judged, accepted."""
    out: dict[str, dict[str, int]] = {}
    for op in operations:
        counts = out.setdefault(op.kind, {"operations": 0, "judged": 0, "accepted": 0})
        counts["operations"] += 1
        counts["judged"] += op.accepted is not None
        counts["accepted"] += op.accepted is True
    return dict(sorted(out.items()))


def print_text(results: list[ConnectorResult], totals: dict[str, Any], console: Console) -> None:
    """The rejections left on the platform reading, one by one with their cause; then, for each
    reading, the category and cause tables, the counts per kind and the figure."""
    console.print(f"rejections {READINGS['platform']}:")
    for result in results:
        failures = [op for op in result.platform if op.accepted is False]
        if result.platform_unloadable:
            console.print(f"[bold]{_key(result)}[/]: not loaded: {result.platform_unloadable}", markup=True)
        elif failures:
            console.print(f"[bold]{_key(result)}[/]: {len(failures)} of {len(result.platform)} rejected")
            for op in failures:
                console.print(f"  {op.operation} ({op.kind}): {op.category}: {op.detail}", markup=False)
                console.print(f"    cause: {op.cause}", markup=False)
    reading = totals["reading"]
    console.print()
    console.print(f"platform reading: rewrote {reading['connectors_changed']} of {totals['connectors']} definitions:")
    for label, count in reading["changes"].items():
        console.print(f"  {count:6d}  {label}", markup=False)
    console.print(f"verdicts that differ between the readings: {len(reading['verdicts_changed'])}")
    for line in reading["verdicts_changed"]:
        console.print(f"  {line}", markup=False)
    for key in ("declared", "platform"):
        _print_reading(READINGS[key], totals[key], console)
    console.print()
    for key in ("declared", "platform"):
        _print_figure(READINGS[key], totals[key], console)
    console.print(f"{totals['connectors']} connectors, {totals['seconds']:.0f} s")
    console.print(f"target: at least 95% of the judged operations accepted, {READINGS['platform']}")


def _print_reading(title: str, counts: dict[str, Any], console: Console) -> None:
    for label, table in (("categories", counts["categories"]), ("causes of the rejections", counts["causes"])):
        console.print()
        console.print(f"{label}, {title}:")
        for name, count in table.items():
            console.print(f"  {count:6d}  {name}", markup=False)
    console.print()
    console.print(f"by kind, {title}:")
    for kind, row in counts["by_kind"].items():
        console.print(
            f"  {kind:15s} operations {row['operations']:5d}, judged {row['judged']:5d}, accepted {row['accepted']:5d}",
            markup=False,
        )


def _print_figure(title: str, counts: dict[str, Any], console: Console) -> None:
    console.print(
        f"{title}: accepted {counts['accepted']} of {counts['judged']} judged ({counts['accepted_percent']:.1f}%); "
        f"operations {counts['operations']}, custom code skipped {counts['custom_code_skipped']}, "
        f"other skipped {counts['skipped'] - counts['custom_code_skipped']}; connectors not loaded "
        f"{counts['connectors_unloadable']} (by Prism {counts['connectors_prism_could_not_load']})",
        markup=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--limit", type=int, default=None, help="only the first N connectors")
    parser.add_argument("--connector", default=None, help="only the connector with this folder name")
    parser.add_argument("--jobs", type=int, default=3, help="Prism instances at a time")
    parser.add_argument("--triggers", action="store_true", help="only trigger operations (subscribe / first poll)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"corpus not found: {args.corpus}")
    console = Console(stderr=args.format == "json", highlight=False, soft_wrap=True)
    folders = discover(args.corpus, args.connector, args.limit)
    start = time.perf_counter()
    results = run(folders, max(1, args.jobs), console, args.triggers)
    totals = summarise(results, time.perf_counter() - start)
    if args.format == "json":
        print(json.dumps({"totals": totals, "connectors": [asdict(r) for r in results]}, indent=2))
    else:
        print_text(results, totals, console)


if __name__ == "__main__":
    main()
