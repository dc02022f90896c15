"""Call results as the API and console show them: the request that was sent and the response,
with every secret of the connection replaced by ``***``.

Authorization, Cookie and similar headers are always masked; any other header value, the URL and
both bodies have each secret (and its URL-encoded and JSON-escaped forms) cut out, so a backend
that echoes a key back does not leak it either.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from connectorkit.errors import ConnectorkitError
from connectorkit.runtime.environment import LocalEnvironment
from connectorkit.runtime.invoke import Result
from connectorkit.runtime.model import Headers, Request, Response
from connectorkit.runtime.store.repository import SENSITIVE_HEADERS
from connectorkit.runtime.store.secrets import MASK, redact, redact_json, secret_strings
from connectorkit.server.schemas import InvocationResult, ReceivedResponse, SentRequest


class Redactor:
    """Cuts one connection's secrets out of everything shown."""

    def __init__(self, secrets: Iterable[Any]) -> None:
        self.forms = secret_strings(secrets)

    def text(self, value: str) -> str:
        return redact(value, self.forms)

    def headers(self, headers: Headers) -> list[tuple[str, str]]:
        return [(name, MASK if name.lower() in SENSITIVE_HEADERS else self.text(value)) for name, value in headers]

    def json(self, value: Any) -> Any:
        """A JSON value with secrets cut out (see :func:`redact_json`)."""
        return redact_json(value, self.forms)

    def request_body(self, request: Request) -> Any:
        if request.has_json or request.json is not None:
            return self.json(request.json)
        if request.form is not None:
            return [
                [name, self.text(value) if isinstance(value, str) else f"<{len(value)} bytes>"]
                for name, value in request.form
            ]
        if request.content is not None:
            return self.text(request.content.decode("utf-8", "replace"))
        return None

    def response_body(self, response: Response) -> Any:
        if response.has_json:
            return self.json(response.json)
        if not response.content:
            return None
        return self.text(response.content.decode("utf-8", "replace"))

    @contextmanager
    def errors(self) -> Iterator[None]:
        """Re-raise a connectorkit error with the secrets cut out of its message."""
        try:
            yield
        except ConnectorkitError as exc:
            message = str(exc)
            cleaned = self.text(message)
            if cleaned != message:
                exc.args = (cleaned,)
            raise


def connection_redactors(environment: LocalEnvironment, connection_ids: Iterable[str]) -> dict[str, Redactor]:
    """One redactor per connection (each connection's secrets read once); a connection that is
    gone has no secrets left to leak."""
    found = {}
    for connection_id in set(connection_ids):
        try:
            found[connection_id] = Redactor(environment.store.get_connection(connection_id).secret_values())
        except ConnectorkitError:
            found[connection_id] = Redactor([])
    return found


def present(result: Result, redactor: Redactor) -> InvocationResult:
    request, response = result.request, result.response
    return InvocationResult(
        request=SentRequest(
            method=request.method,
            url=redactor.text(request.url),
            headers=redactor.headers(request.headers),
            body=redactor.request_body(request),
        ),
        response=ReceivedResponse(
            status=response.status,
            headers=redactor.headers(response.headers),
            body=redactor.response_body(response),
        ),
        pages=[redactor.response_body(page) for page in result.pages],
        notes=[redactor.text(note) for note in result.notes],
        attempts=result.attempts,
    )
