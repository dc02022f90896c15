"""The request and response as the local hosting environment handles them.

Pure data: request building (``runtime/request.py``) fills a :class:`Request`, policy templates
(``runtime/policies.py``) change it in array order, and only the invoker turns it into an HTTP call.
Headers keep their order and compare names case-insensitively, as HTTP does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode


class Headers:
    """An ordered, case-insensitive multimap of header names to values."""

    def __init__(self, items: list[tuple[str, str]] | None = None) -> None:
        self._items: list[tuple[str, str]] = list(items or [])

    def get(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        for key, value in self._items:
            if key.lower() == lowered:
                return value
        return default

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` with ``value`` (kept at the first one's place)."""
        lowered = name.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for key, old in self._items:
            if key.lower() == lowered:
                if not placed:
                    out.append((name, value))
                    placed = True
            else:
                out.append((key, old))
        if not placed:
            out.append((name, value))
        self._items = out

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))

    def remove(self, name: str) -> None:
        lowered = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != lowered]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(list(self._items))

    def items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and [(k.lower(), v) for k, v in self] == [(k.lower(), v) for k, v in other]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass
class Request:
    """An outgoing call. ``base_url`` is scheme://host + basePath (no trailing slash); ``path``
    starts with "/" and is already templated and encoded; exactly one of ``json`` (a JSON value),
    ``form`` and ``content`` carries the body, or none does."""

    method: str
    base_url: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: Headers = field(default_factory=Headers)
    json: Any = None
    has_json: bool = False
    form: list[tuple[str, Any]] | None = None
    content: bytes | None = None

    @property
    def url(self) -> str:
        url = self.base_url.rstrip("/") + self.path
        if self.query:
            url += "?" + urlencode(self.query, quote_via=quote, safe="")
        return url

    def query_value(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def set_query(self, name: str, value: str) -> None:
        rest = [(k, v) for k, v in self.query if k != name]
        position = next((i for i, (k, _) in enumerate(self.query) if k == name), len(rest))
        rest.insert(position, (name, value))
        self.query = rest

    def remove_query(self, name: str) -> None:
        self.query = [(k, v) for k, v in self.query if k != name]


@dataclass
class Response:
    """A response as received (``json`` parsed when the body is JSON)."""

    status: int
    headers: Headers = field(default_factory=Headers)
    json: Any = None
    has_json: bool = False
    content: bytes = b""


@dataclass
class Call:
    """What policies and expressions may read: the operation, the connection's parameter values
    (secrets included; never log this object) and the request and response in flight."""

    operation_id: str
    connection: dict[str, Any]
    request: Request
    response: Response | None = None
