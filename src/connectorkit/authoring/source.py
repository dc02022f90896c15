"""Reading an API description from a path or a URL and telling what kind it is."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectorkit.definition.documents import Document, parse_document, read_document
from connectorkit.errors import InputError

log = logging.getLogger(__name__)

MAX_SPEC_BYTES = 64 * 1024 * 1024
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class SpecFormat(StrEnum):
    SWAGGER_2 = "swagger-2.0"
    OPENAPI_30 = "openapi-3.0"
    OPENAPI_31 = "openapi-3.1"
    POSTMAN_20 = "postman-2.0"
    POSTMAN_21 = "postman-2.1"

    @property
    def label(self) -> str:
        return {
            "swagger-2.0": "Swagger 2.0",
            "openapi-3.0": "OpenAPI 3.0",
            "openapi-3.1": "OpenAPI 3.1",
            "postman-2.0": "Postman collection v2.0",
            "postman-2.1": "Postman collection v2.1",
        }[self.value]


@dataclass
class Spec:
    """An API description as read: the document, where it came from, and its format."""

    document: Document
    location: str
    format: SpecFormat

    @property
    def value(self) -> dict[str, Any]:
        value: dict[str, Any] = self.document.value
        return value


def is_url(location: str) -> bool:
    return urlsplit(location).scheme in ("http", "https")


def detect_format(value: Any, location: str) -> SpecFormat:
    """Swagger 2.0, OpenAPI 3.0/3.1 or a Postman collection; anything else is an input error."""
    if not isinstance(value, dict):
        raise InputError(f"{location}: not an API description (the top level is not an object)")
    swagger = value.get("swagger")
    if swagger is not None:
        if str(swagger).strip() in ("2.0", "2"):
            return SpecFormat.SWAGGER_2
        raise InputError(f'{location}: swagger version {swagger!r} is not supported; expected "2.0"')
    openapi = value.get("openapi")
    if openapi is not None:
        text = str(openapi).strip()
        if text.startswith("3.0"):
            return SpecFormat.OPENAPI_30
        if text.startswith("3.1"):
            return SpecFormat.OPENAPI_31
        raise InputError(f"{location}: openapi version {openapi!r} is not supported; expected 3.0.x or 3.1.x")
    info = value.get("info")
    if isinstance(info, dict) and "item" in value:
        schema = str(info.get("schema", ""))
        if "v2.1" in schema:
            return SpecFormat.POSTMAN_21
        if "v2.0" in schema:
            return SpecFormat.POSTMAN_20
        if "_postman_id" in info or "schema" in info:
            raise InputError(
                f"{location}: Postman collection schema {schema!r} is not supported; expected v2.0 or v2.1"
            )
    if isinstance(value.get("requests"), list) and any(k in value for k in ("order", "folders", "id")):
        raise InputError(
            f"{location}: Postman collection v1 is not supported; export it from Postman as Collection v2.1"
        )
    raise InputError(
        f"{location}: not a Swagger 2.0, OpenAPI 3 or Postman document "
        "(no 'swagger', 'openapi' or Postman 'info.schema' key at the top level)"
    )


def fetch(url: str, client: httpx.Client) -> bytes:
    """Download ``url``; every way it can fail becomes a one-line :class:`InputError`."""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        log.warning("%s: fetched over plain http; use https for anything but a local server", url)
    try:
        with client.stream("GET", url, follow_redirects=True) as response:
            if response.status_code >= 400:
                raise InputError(f"{url}: the server answered HTTP {response.status_code} {response.reason_phrase}")
            chunks = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_SPEC_BYTES:
                    raise InputError(f"{url}: larger than {MAX_SPEC_BYTES // (1024 * 1024)} MB; not an API description")
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise InputError(f"{url}: timed out") from None
    except httpx.ConnectError as exc:
        raise InputError(f"{url}: cannot connect ({_reason(exc)})") from None
    except httpx.HTTPError as exc:
        raise InputError(f"{url}: cannot fetch ({_reason(exc)})") from None


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def read_spec(location: str, *, client: httpx.Client | None = None) -> Spec:
    """Read the API description at a path or an http(s) URL and detect its format."""
    if is_url(location):
        own = client is None
        http = client or httpx.Client(timeout=30.0)
        try:
            raw = fetch(location, http)
        finally:
            if own:
                http.close()
        document = parse_document(raw, location)
    else:
        path = Path(location)
        if not path.exists():
            raise InputError(f"{location}: file not found")
        document = read_document(path)
    return Spec(document, location, detect_format(document.value, location))
