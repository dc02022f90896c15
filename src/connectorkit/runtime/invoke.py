"""Calling an action the way the platform does: build, apply policies, send with retries, page.

This is the one place in the runtime that does HTTP; the client is passed in. The steps follow
runtime-semantics.md: the request is built from the definition (``request.py``), Request-section
policy templates run in array order (``policies.py``), the call is sent with the engine's
timeout and retries (408, 429 and 5xx, exponential back-off honouring ``Retry-After``), and
Response-section policies run on the answer. ``x-ms-pageable`` next links are followed on
request, up to a page cap.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError
from connectorkit.retryafter import retry_after_seconds
from connectorkit.runtime.model import Call, Headers, Request, Response
from connectorkit.runtime.policies import PolicyOptions, apply_request_policies, apply_response_policies
from connectorkit.runtime.request import (
    PathEncoding,
    build_request,
    find_operation,
    next_page_request,
    request_for_url,
    sign_request,
    swagger_base_url,
)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class BackendError(ConnectorkitError):
    """The backend could not be reached, or answered too slowly or too much."""


class CustomCodeError(ConnectorkitError):
    """The operation runs through script.csx, which the local environment cannot execute."""


@dataclass(frozen=True)
class EngineOptions:
    """The platform engine's limits (runtime-semantics.md section 7.4-7.5); all adjustable."""

    timeout: float = 120.0
    retries: int = 4
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    max_response_bytes: int = 100 * 1024 * 1024
    max_pages: int = 50
    path_encoding: PathEncoding = "gateway"  # see request.PathEncoding [inferred]
    policies: PolicyOptions = field(default_factory=PolicyOptions)  # the inferred policy choices


THROTTLE_LIMIT = 500  # requests per minute per connection (custom connectors)
THROTTLE_BODY = {
    "statusCode": 429,
    "message": "Rate limit is exceeded. Try again in {seconds} seconds. Please see "
    "https://docs.microsoft.com/azure/logic-apps/handle-throttling-problems-429-errors for more details.",
}


class Throttle:
    """The platform's per-connection limit: more than ``limit`` calls in a sliding minute are
    answered by the runtime itself with its 429 body (runtime-semantics.md section 7.4)."""

    def __init__(self, limit: int = THROTTLE_LIMIT, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, connection_id: str) -> Response | None:
        """None when the call may go ahead, else the 429 response the runtime gives instead."""
        now = self.clock()
        with self._lock:
            recent = self._calls.setdefault(connection_id, deque())
            while recent and now - recent[0] >= self.window:
                recent.popleft()
            if len(recent) < self.limit:
                recent.append(now)
                return None
            wait = max(1, int(self.window - (now - recent[0]) + 0.999))
        body = dict(THROTTLE_BODY, message=str(THROTTLE_BODY["message"]).format(seconds=wait))
        content = json.dumps(body).encode()
        headers = Headers([("Content-Type", "application/json"), ("Retry-After", str(wait))])
        return Response(429, headers, json=body, has_json=True, content=content)


@dataclass
class Result:
    request: Request
    response: Response
    pages: list[Response] = field(default_factory=list)
    attempts: int = 1
    notes: list[str] = field(default_factory=list)
    connection_unauthenticated: bool = False
    secrets: list[str] = field(default_factory=list, repr=False)
    """The connection's secrets as they were at the end of the call (tokens renewed during it
    included), for whoever shows the result to cut them out; set by the local environment."""


def to_httpx(request: Request) -> httpx.Request:
    # Leading and trailing blanks are not part of a header value (RFC 9110 5.5); h11 refuses them.
    headers = [(k, v.strip()) for k, v in request.headers]
    if request.form is not None:
        files = [(k, v) for k, v in request.form if isinstance(v, bytes)]
        data = [(k, str(v)) for k, v in request.form if not isinstance(v, bytes)]
        if not files and "multipart/form-data" in (request.headers.get("Content-Type") or "").lower():
            # A multipart form of text fields only: httpx encodes multipart only when given files.
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            parts: list[tuple[str, tuple[None, str]]] = [(k, (None, v)) for k, v in data]
            return httpx.Request(request.method, request.url, headers=headers, files=parts)
        if files:
            # httpx writes the multipart boundary itself.
            headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
            return httpx.Request(request.method, request.url, headers=headers, data=dict(data), files=files)
        return httpx.Request(request.method, request.url, headers=headers, data=dict(data))
    if request.has_json:
        body = json.dumps(request.json, ensure_ascii=False).encode("utf-8")
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return httpx.Request(request.method, request.url, headers=headers, content=body)
    return httpx.Request(request.method, request.url, headers=headers, content=request.content)


def received(status: int, headers: httpx.Headers, content: bytes) -> Response:
    """A response as the runtime keeps it; a JSON media type gets its body parsed."""
    out = Response(status, Headers(list(headers.items())), content=content)
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    if content and (media.endswith("json") or media.endswith("+json")):
        try:
            out.json = json.loads(content)
            out.has_json = True
        except ValueError:
            pass
    return out


def _retry_after(response: Response, default: float) -> float:
    seconds = retry_after_seconds(response.headers.get("Retry-After"))
    return default if seconds is None else seconds


class _Sender:
    def __init__(self, client: httpx.Client, options: EngineOptions, sleep: Callable[[float], None]) -> None:
        self.client = client
        self.options = options
        self.sleep = sleep
        self.attempts = 0

    def once(self, request: Request) -> Response:
        outgoing = to_httpx(request)
        outgoing.extensions["timeout"] = httpx.Timeout(self.options.timeout).as_dict()
        try:
            streamed = self.client.send(outgoing, stream=True)
            try:
                chunks = []
                size = 0
                for chunk in streamed.iter_bytes():
                    size += len(chunk)
                    if size > self.options.max_response_bytes:
                        raise BackendError(
                            f"{request.method} {request.base_url}: the response is larger than "
                            f"{self.options.max_response_bytes} bytes, the engine's limit"
                        )
                    chunks.append(chunk)
            finally:
                streamed.close()
        except httpx.TimeoutException:
            raise BackendError(
                f"{request.method} {request.base_url}: no answer within {self.options.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise BackendError(f"{request.method} {request.base_url}: cannot reach the backend ({exc})") from None
        return received(streamed.status_code, streamed.headers, b"".join(chunks))

    def send(self, request: Request) -> Response:
        delay = self.options.backoff
        for attempt in range(self.options.retries + 1):
            self.attempts += 1
            response = self.once(request)
            if response.status not in RETRY_STATUSES or attempt == self.options.retries:
                return response
            self.sleep(_retry_after(response, delay))
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


def invoke(
    package: ConnectorPackage,
    operation_id: str,
    arguments: Mapping[str, Any],
    connection: Mapping[str, Any],
    *,
    client: httpx.Client,
    options: EngineOptions | None = None,
    all_pages: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    base_url: str | None = None,
    target_url: str | None = None,
    method: str | None = None,
) -> Result:
    """Call ``operation_id`` of ``package`` with ``arguments``, signed with ``connection``.

    ``base_url`` replaces the definition's scheme + host + basePath (a mock or a staging host);
    host-changing policies such as ``dynamichosturl`` still apply after it.

    ``target_url`` calls a URL the backend handed out instead of the operation's path: a polling
    trigger's ``Location`` (the next poll) or a webhook subscription's ``Location`` (with
    ``method="DELETE"`` to unsubscribe). The request is signed by the connection and passes
    through the operation's policies, as it would through the platform's runtime (runtime-
    semantics.md section 4); ``arguments`` are not used then."""
    options = options or EngineOptions()
    swagger = package.swagger
    op = find_operation(swagger, operation_id)
    properties = package.properties.properties
    script_ops = properties.scriptOperations
    if package.script is not None and (script_ops == [] or (script_ops and op.operation_id in script_ops)):
        raise CustomCodeError(
            f"operation {op.operation_id} runs through the connector's custom code (script.csx), "
            "which cannot run locally"
        )
    if target_url is not None:
        request = request_for_url(method or op.method, target_url, under=base_url or swagger_base_url(swagger))
        sign_request(request, swagger, connection, connection_parameters=properties.connectionParameters)
        arguments = {}
    else:
        request = build_request(
            swagger, op.operation_id or operation_id, arguments, connection,
            connection_parameters=properties.connectionParameters, base_url=base_url,
            path_encoding=options.path_encoding,
        )  # fmt: skip
        if method is not None:
            request.method = method.upper()
    call = Call(op.operation_id or operation_id, dict(connection), request)
    sender = _Sender(client, options, sleep)
    policies = properties.policyTemplateInstances or []
    path_params = {
        p.name: str(arguments[p.name]) for p in op.parameters if p.location == "path" and p.name in arguments
    }
    before = apply_request_policies(policies, call, send=sender.once, path_params=path_params, options=options.policies)
    response = sender.send(call.request)
    call.response = response
    after = apply_response_policies(policies, call, options=options.policies)
    result = Result(
        call.request, call.response, [call.response], sender.attempts, before.notes + after.notes,
        after.connection_unauthenticated,
    )  # fmt: skip
    if all_pages:
        previous = call.request
        current = call.response
        while len(result.pages) < options.max_pages:
            following = next_page_request(swagger, op, current, previous)
            if following is None:
                break
            current = sender.send(following)
            result.pages.append(current)
            previous = following
        else:
            result.notes.append(f"stopped after {options.max_pages} pages (the page cap)")
    return result
