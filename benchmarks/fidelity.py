"""Fidelity over real connectors: every corpus operation, called through connectorkit's runtime,
judged by Stoplight Prism mocking the connector's own definition.

For each connector Prism (``@stoplight/prism-cli`` 5, installed into ``.cache/node`` on first use)
is started as a mock of the connector's ``apiDefinition.swagger.json``. Every operation is then
called with :func:`connectorkit.runtime.samples.sample_arguments` and dummy connection values
through :func:`connectorkit.runtime.invoke.invoke` (request building, Request-section policy
templates, sending; no retries), and Prism's verdict on the request is counted.

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
there removed first), a polling trigger's first poll (the operation with its inputs and the
engine options ``poll_once`` uses, so a ``pollingtrigger`` policy strips the ``/trigger`` path
prefix). Each result carries its kind (``action``, ``webhook``, ``native-polling``,
``policy-polling``); a first poll that a ``pollingtrigger`` routes to a path the definition does
not declare is counted under "policy routes elsewhere (pollingtrigger)". ``--triggers`` runs only
the trigger operations (of the connectors that have any).

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

from tests.nodetools import NodeToolMissing, node_binary, npm_package  # noqa: E402

from connectorkit.definition.models import PolicyTemplateInstance  # noqa: E402
from connectorkit.definition.package import ConnectorPackage  # noqa: E402
from connectorkit.errors import ConnectorkitError, InputError  # noqa: E402
from connectorkit.runtime.invoke import BackendError, CustomCodeError, EngineOptions, invoke  # noqa: E402
from connectorkit.runtime.model import Response  # noqa: E402
from connectorkit.runtime.policies import PolicyError  # noqa: E402
from connectorkit.runtime.request import find_operation  # noqa: E402
from connectorkit.runtime.samples import sample_arguments  # noqa: E402
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
    operations: list[OperationResult] = field(default_factory=list)
    unloadable: str | None = None  # why Prism (or connectorkit) could not load the definition
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


def explain(result: OperationResult, package: ConnectorPackage) -> str:
    """Why a rejected request was rejected, in one of a few families (ours, definition, Prism,
    policy); what no rule explains is listed as unexplained, to be looked at by hand."""
    text = f"{result.category}: {result.detail}"
    if "No supported content types" in text:
        return NO_CONSUMES if not _consumes(package, result.operation) else ODD_CONSUMES
    for pattern, cause in EXPLANATIONS:
        if re.search(pattern, text):
            return cause
    if result.category == "Prism: UNAUTHORIZED" and _and_security(package, result.operation):
        return AND_SECURITY
    if result.category.startswith(("request building", "runtime error", "policy cannot")):
        return "ours: the runtime failed on the sample"
    return "unexplained"


def _consumes(package: ConnectorPackage, operation_id: str) -> list[Any]:
    op = find_operation(package.swagger, operation_id)
    listed = op.raw["consumes"] if "consumes" in op.raw else package.definition.get("consumes")
    return listed if isinstance(listed, list) else []


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
        result.cause = explain(result, package)
    return result


def run_connector(
    folder: Path, cli: Path, advance: Callable[[int], None], triggers_only: bool = False
) -> ConnectorResult:
    start = time.perf_counter()
    out = ConnectorResult(folder.name, folder.parent.name)
    try:
        package = ConnectorPackage.load(folder)
    except ConnectorkitError as exc:
        out.unloadable = f"connectorkit: {exc}"
        return out
    operations = [op.operation_id for op in package.swagger.operations() if not triggers_only or op.trigger]
    if not operations:
        return out
    with tempfile.TemporaryDirectory(prefix="fidelity-") as tmp:
        mock = Prism(cli, package.definition, Path(tmp))
        try:
            mock.start()
            paths = [op.path for op in package.swagger.operations()]
            transport = ToPrism(mock.url, package.swagger.base_path, paths)
            with httpx.Client(transport=transport) as client:
                target = Target(mock.url, client, transport, connection_values(package))
                for operation_id in operations:
                    out.operations.append(_call_and_watch(package, operation_id, target, mock))
                    advance(1)
        except PrismFailed as exc:
            out.unloadable = f"Prism: {exc}"
            advance(len(operations) - len(out.operations))
        finally:
            mock.stop()
    out.seconds = time.perf_counter() - start
    return out


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
    total = sum(_operation_count(f, triggers_only) for f in folders)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    lock = threading.Lock()
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("operations", total=total)

        def advance(n: int) -> None:
            with lock:
                progress.advance(task, n)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            return list(pool.map(lambda f: run_connector(f, cli, advance, triggers_only), folders))


def summarise(results: list[ConnectorResult], seconds: float) -> dict[str, Any]:
    operations = [op for r in results for op in r.operations]
    judged = [op for op in operations if op.accepted is not None]
    accepted = sum(1 for op in judged if op.accepted)
    unloadable = [r for r in results if r.unloadable]
    by_prism = [r for r in unloadable if (r.unloadable or "").startswith("Prism")]
    categories = Counter(op.category for op in operations)
    return {
        "connectors": len(results),
        "connectors_unloadable": len(unloadable),
        "connectors_prism_could_not_load": len(by_prism),
        "operations": len(operations),
        "judged": len(judged),
        "accepted": accepted,
        "accepted_percent": round(100.0 * accepted / len(judged), 2) if judged else 0.0,
        "skipped": len(operations) - len(judged),
        "custom_code_skipped": categories.get("custom code (skipped)", 0),
        "seconds": round(seconds, 1),
        "categories": dict(categories.most_common()),
        "causes": dict(Counter(op.cause for op in judged if op.accepted is False).most_common()),
        "by_kind": _by_kind(operations),
        "unloadable": {f"{r.kind}/{r.name}": r.unloadable for r in unloadable},
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
    for result in results:
        failures = [op for op in result.operations if op.accepted is False]
        if result.unloadable:
            console.print(f"[bold]{result.kind}/{result.name}[/]: not loaded: {result.unloadable}", markup=True)
        elif failures:
            console.print(f"[bold]{result.kind}/{result.name}[/]: {len(failures)} of {len(result.operations)} rejected")
            for op in failures:
                console.print(f"  {op.operation} ({op.kind}): {op.category}: {op.detail}", markup=False)
                console.print(f"    cause: {op.cause}", markup=False)
    for title, counts in (("categories", totals["categories"]), ("causes of the rejections", totals["causes"])):
        console.print()
        console.print(f"{title}:")
        for label, count in counts.items():
            console.print(f"  {count:6d}  {label}", markup=False)
    console.print()
    console.print("by kind:")
    for kind, counts in totals["by_kind"].items():
        console.print(
            f"  {kind:15s} operations {counts['operations']:5d}, judged {counts['judged']:5d}, "
            f"accepted {counts['accepted']:5d}",
            markup=False,
        )
    console.print()
    console.print(
        f"connectors {totals['connectors']} (not loaded {totals['connectors_unloadable']}: "
        f"by Prism {totals['connectors_prism_could_not_load']}, the rest by connectorkit), "
        f"operations {totals['operations']}, judged {totals['judged']}, accepted {totals['accepted']} "
        f"({totals['accepted_percent']:.1f}%), custom code skipped {totals['custom_code_skipped']}, "
        f"other skipped {totals['skipped'] - totals['custom_code_skipped']}, {totals['seconds']:.0f} s"
    )
    console.print("target: at least 95% of the judged operations accepted")


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
