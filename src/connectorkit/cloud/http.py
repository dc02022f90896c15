"""One HTTP client for Microsoft's services: bearer tokens, retries, readable errors.

Graph, the Power Apps and Flow resource providers, blob storage and the Dataverse Web API differ
in their base URLs, token audiences and error bodies, not in how they are called. A
:class:`CloudClient` is one service: it asks its :data:`TokenProvider` for a token of the
service's scope on every request (the provider caches and renews), retries throttling and
transient failures with back-off that honours ``Retry-After``, and turns any error body into one
line naming the service, the status, the innermost error code and message, and the request
(``cloud-apis.md`` A.12, B.2, B.9, C.2).

Nothing here logs a body: bodies carry client secrets (``addPassword``) and tokens. URLs are shown
without their query string, which for blob storage is a shared access signature.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from connectorkit.errors import ConnectorkitError
from connectorkit.retryafter import retry_after_seconds

log = logging.getLogger(__name__)

TokenProvider = Callable[[str], str]
"""Returns a bearer access token for a scope (``https://graph.microsoft.com/.default``)."""

TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})


class CloudError(ConnectorkitError):
    """A Microsoft service refused or failed a request; the message is one line."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def shown_url(url: str | httpx.URL) -> str:
    """The URL without query or fragment: a SAS signature or a filter never reaches a message."""
    parts = urlsplit(str(url))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


_QUERY_IN_TEXT = re.compile(r"(https?://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")


def without_queries(text: str) -> str:
    """``text`` with the query string and fragment of every URL in it cut off.

    One rule for log records and error messages alike: a service that quotes a request back (a
    body naming a blob URL with its shared access signature) must not put the signature on stderr."""
    return _QUERY_IN_TEXT.sub(r"\1", text) if "://" in text else text


def _without_queries(value: Any) -> Any:
    if isinstance(value, httpx.URL):
        return shown_url(value)
    if isinstance(value, str):
        return without_queries(value)
    return value


class QueryStringFilter(logging.Filter):
    """Strips query strings from the URLs in log records, as :func:`shown_url` does.

    httpx logs every request at INFO (``HTTP Request: PUT https://acct.blob.../icon.png?sv=...&sig=...``)
    and a blob URL's query is a shared access signature: whoever configures logging must not get
    it. The filter rewrites the record's arguments and message in place and never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_without_queries(arg) for arg in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {key: _without_queries(arg) for key, arg in record.args.items()}
        record.msg = _without_queries(record.msg)
        return True


def install_log_filter(name: str = "httpx") -> None:
    """Add one :class:`QueryStringFilter` to the logger ``name`` (idempotent)."""
    logger = logging.getLogger(name)
    if not any(isinstance(existing, QueryStringFilter) for existing in logger.filters):
        logger.addFilter(QueryStringFilter())


install_log_filter()


def error_detail(body: bytes | str) -> tuple[str | None, str | None]:
    """The innermost ``(code, message)`` of an error body.

    Handles Graph and Dataverse (``{"error": {"code", "message"}}``), OAuth token errors
    (``{"error": "...", "error_description": "..."}``), plain text, and the Power Apps RP's wrapped
    errors: ``ApiHubsRequestFailed`` whose message is itself a JSON error body, or prose around
    one (``The request failed with client error: '{"Code":"","Message":"PUT ... failed with
    InternalServerError, content={"error":{...}}"}'. The correlation Id is '...'.``, issue
    #3891), several levels deep. The last error object found at each level is the inner one."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    code: str | None = None
    message = _one_line(text)
    for _ in range(6):  # wrapped errors nest a few levels at most
        inner = _embedded_error(message)
        if inner is None:
            break
        if inner[2]:  # an OAuth error: the description is the whole story
            return inner[0], inner[1]
        code, message = inner[0] or code, inner[1]
    return code, message


def _embedded_error(text: str | None) -> tuple[str | None, str | None, bool] | None:
    """The last JSON error object in ``text`` as ``(code, message, is_oauth)``; None when
    there is none."""
    if not text:
        return None
    decoder = json.JSONDecoder()
    found: tuple[str | None, str | None, bool] | None = None
    start = text.find("{")
    while start >= 0:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            error = value.get("error", value)
            if isinstance(error, str):
                found = (error, _one_line(value.get("error_description")), True)
            elif isinstance(error, dict):
                code = error.get("code", error.get("Code"))
                message = error.get("message", error.get("Message"))
                if code is not None or isinstance(message, str):
                    found = (str(code) if code else None, _one_line(message), False)
        start = text.find("{", end)
    return found


def _one_line(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return " ".join(value.split())


def retry_after(response: httpx.Response, default: float) -> float:
    """The wait the response's ``Retry-After`` asks for, else ``default``."""
    seconds = retry_after_seconds(response.headers.get("Retry-After"))
    return default if seconds is None else seconds


class CloudClient:
    """Requests to one service at ``base_url`` with tokens for ``scope``.

    - ``retries``: further attempts after a transient answer (408, 429, 5xx) or a timeout,
      waiting ``backoff`` seconds doubled each time, or the ``Retry-After`` the service gave, at
      most ``max_wait`` seconds.
    - ``connect_retries``: further attempts, ``connect_wait`` seconds apart, when the connection
      is refused or the host is unknown. That is rarely transient (a wrong ``--graph-url``, a
      service that is down), so it fails within a second rather than after the full back-off.
    - The bearer token goes only to ``base_url``'s scheme and host: an absolute URL elsewhere
      (a next link a service, or someone between, pointed at another host) is refused.
    - ``headers`` / ``params``: sent with every request (``x-ms-origin``, ``api-version``).
    """

    def __init__(
        self,
        client: httpx.Client,
        tokens: TokenProvider | None,
        *,
        service: str,
        base_url: str,
        scope: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        retries: int = 4,
        backoff: float = 1.0,
        max_wait: float = 60.0,
        connect_retries: int = 1,
        connect_wait: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.scope = scope
        self.headers = dict(headers or {})
        self.params = dict(params or {})
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.connect_retries = connect_retries
        self.connect_wait = connect_wait
        self.sleep = sleep

    def url(self, path: str) -> str:
        return path if path.startswith(("https://", "http://")) else f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        ok: Iterable[int] = (),
        retry_when: Callable[[httpx.Response], bool] | None = None,
    ) -> httpx.Response:
        """Send the request and return a 2xx response (or one whose status is in ``ok``).

        ``retry_when`` marks further answers worth retrying with the same back-off, such as
        Graph's 404 right after an object was created (replication lag). Anything else is a
        :class:`CloudError` with the service's own code and message."""
        url = self.url(path)
        if authenticated and self.tokens is not None and self.scope is not None:
            self._check_host(url)
        allowed = set(ok)
        delay = self.backoff
        refused = 0
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self._send(method, url, json, content, params, headers, authenticated)
            except httpx.ConnectError as exc:
                refused += 1
                if last or refused > self.connect_retries:
                    raise CloudError(f"{self.service}: cannot reach {shown_url(url)} ({type(exc).__name__})") from None
                log.info("%s: %s %s failed (%s); retrying", self.service, method, shown_url(url), type(exc).__name__)
                self.sleep(self.connect_wait)
                continue
            except httpx.TransportError as exc:
                if last:
                    raise CloudError(f"{self.service}: cannot reach {shown_url(url)} ({type(exc).__name__})") from None
                log.info("%s: %s %s failed (%s); retrying", self.service, method, shown_url(url), type(exc).__name__)
                self.sleep(delay)
                delay *= 2
                continue
            status = response.status_code
            if 200 <= status < 300 or status in allowed:
                return response
            again = status in TRANSIENT or (retry_when is not None and retry_when(response))
            if not again or last:
                raise self.error(method, url, response)
            wait = min(self.max_wait, retry_after(response, delay))
            log.info("%s: %s %s answered %d; retrying in %.1f s", self.service, method, shown_url(url), status, wait)
            self.sleep(wait)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _check_host(self, url: str) -> None:
        """Refuse to send the token to another scheme or host than ``base_url``'s."""
        if _origin(url) != _origin(self.base_url):
            host = urlsplit(url).netloc or url
            raise CloudError(
                f"{self.service}: refusing to send the access token to {host}, which is not {urlsplit(self.base_url).netloc} "
                f"(a link in an answer pointed there: {shown_url(url)})"
            )

    def _send(
        self,
        method: str,
        url: str,
        body: Any,
        content: bytes | None,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        authenticated: bool,
    ) -> httpx.Response:
        sent = {**self.headers, **(headers or {})}
        if authenticated and self.tokens is not None and self.scope is not None:
            sent["Authorization"] = f"Bearer {self.tokens(self.scope)}"
        query = {**self.params, **(params or {})}
        return self.client.request(
            method, url, json=body, content=content, params=query or None, headers=sent
        )  # fmt: skip

    def error(self, method: str, url: str, response: httpx.Response) -> CloudError:
        code, message = error_detail(response.content)
        detail = ": ".join(part for part in (code, message) if part) or response.reason_phrase
        detail = without_queries(detail)  # a quoted request may carry a signed URL
        return CloudError(
            f"{self.service}: HTTP {response.status_code} {detail} ({method} {shown_url(url)})",
            status=response.status_code,
            code=code,
        )

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return _json_of(self.request("GET", path, **kwargs), self.service)

    def send_json(self, method: str, path: str, body: Any, **kwargs: Any) -> Any:
        """``method`` with a JSON body; the JSON answer, or None for an empty one (204)."""
        return _json_of(self.request(method, path, json=body, **kwargs), self.service)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _json_of(response: httpx.Response, service: str) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise CloudError(
            f"{service}: HTTP {response.status_code} answer is not JSON ({shown_url(response.request.url)})"
        ) from None
