"""Postman collections (v2.0 and v2.1) to Swagger 2.0.

A collection is a tree of folders and saved requests, not an API description, so most of what a
Swagger definition needs is inferred and every guess goes into the report:

* folders become tags (the folder a request sits in), requests become operations;
* the most common host of the requests (after resolving ``{{variables}}`` that have
  a plain value in the collection) becomes ``host`` and the longest common leading path of all
  requests becomes ``basePath``; requests sent elsewhere are dropped;
* ``:name``, ``{{name}}``, ``<name>`` and ``{name}`` path segments, and long numeric or UUID
  literals, become path parameters;
* query entries and headers become parameters; ``Content-Type`` and ``Accept`` headers become
  ``consumes`` and ``produces``; ``Authorization`` headers become, or are covered by, the security
  scheme;
* a raw JSON body becomes a body schema inferred from the example; urlencoded and form-data
  bodies become ``formData`` parameters;
* saved example responses become responses with schemas inferred from their JSON bodies;
* collection, folder and request auth (with Postman's inheritance) becomes
  ``securityDefinitions`` and ``security``.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from connectorkit.authoring.converted import Converted
from connectorkit.authoring.report import Report
from connectorkit.definition.jsontext import load_json_text, pointer_join
from connectorkit.errors import InputError, SourceError

log = logging.getLogger(__name__)

SUMMARY_MAX = 80
MAX_SCHEMA_DEPTH = 32
METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
NO_BODY_METHODS = frozenset({"get", "head"})

_VAR = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_ANGLE = re.compile(r"<\s*([A-Za-z_][\w .-]*?)\s*>")
_BRACE = re.compile(r"\{([A-Za-z_][\w.-]*)\}")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HOST_OK = re.compile(r"^[^{}/ :\\]+(?::\d+)?$")
_LITERAL_ID = re.compile(r"^(?:\d{4,}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$")
_WORD = re.compile(r"[A-Za-z0-9]+")
_MEDIA = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_AMPERSAND_QUERY = re.compile(r"^(.*?[^/&=]+)&([^&=/]+=[^/]*)$")
_PATH_SAFE = "!$&'()+,;=:@-._~%"
_DROPPED_HEADERS = frozenset({"content-length", "host", "connection", "transfer-encoding"})
_LANGUAGE_TYPES = {
    "json": "application/json",
    "text": "text/plain",
    "javascript": "application/javascript",
    "html": "text/html",
    "xml": "application/xml",
    "graphql": "application/json",
}
_UNSUPPORTED_AUTH = {
    "digest": "HTTP digest",
    "hawk": "Hawk",
    "awsv4": "AWS Signature",
    "ntlm": "NTLM",
    "akamai": "Akamai EdgeGrid",
    "edgegrid": "Akamai EdgeGrid",
    "oauth1": "OAuth 1.0",
    "jwt": "JWT",
    "asap": "ASAP",
}
_OAUTH_FLOWS = {
    "authorization_code": "accessCode",
    "authorization_code_with_pkce": "accessCode",
    "client_credentials": "application",
    "password_credentials": "password",
    "implicit": "implicit",
}


# --------------------------------------------------------------------------- version check


def check_postman_version(doc: Any, location: str) -> None:
    """Refuse anything but a Postman v2.0 or v2.1 collection, naming ``location``.

    A Postman v1 collection (``requests``/``order``/``folders`` at the top level, no v2
    ``info.schema``) gets a message saying how to export it as v2.1.
    """
    if not isinstance(doc, dict):
        raise InputError(f"{location}: not a Postman collection (the top level is not an object)")
    info = doc.get("info")
    schema = str(info.get("schema", "")) if isinstance(info, dict) else ""
    if "v2.0" not in schema and "v2.1" not in schema:
        if isinstance(doc.get("requests"), list) and ("order" in doc or "folders" in doc or "id" in doc):
            raise InputError(
                f"{location}: a Postman v1 collection cannot be imported; in Postman choose "
                "Export and 'Collection v2.1', then import that file"
            )
        if not isinstance(info, dict):
            raise InputError(f"{location}: not a Postman collection (no 'info' object at the top level)")
        raise InputError(
            f"{location}: Postman collection schema {schema!r} at #/info/schema is not supported; expected v2.0 or v2.1"
        )
    if not isinstance(doc.get("item"), list):
        raise InputError(f"{location}: #/item: a Postman collection needs a list of requests and folders")


# --------------------------------------------------------------------------- schema inference


def infer_schema(value: Any, depth: int = 0) -> dict[str, Any]:
    """The Swagger schema an example value shows: types, nested objects and merged array items.

    ``null`` gives no type and ``x-nullable``; an empty array gives ``items: {}`` (unknown).
    """
    if depth > MAX_SCHEMA_DEPTH:
        return {}
    if value is None:
        return {"x-nullable": True}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string", "format": "date-time"} if _DATE_TIME.match(value) else {"type": "string"}
    if isinstance(value, list):
        items: dict[str, Any] | None = None
        for element in value:
            shape = infer_schema(element, depth + 1)
            items = shape if items is None else merge_schemas(items, shape)
        return {"type": "array", "items": items if items is not None else {}}
    if isinstance(value, dict):
        properties = {str(key): infer_schema(child, depth + 1) for key, child in value.items()}
        return {"type": "object", "properties": properties} if properties else {"type": "object"}
    return {}


def merge_schemas(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """One schema that describes values of both shapes (a union of properties; integer and
    number make number; a null makes the other nullable; other conflicts leave the type open)."""
    if a == b:
        return copy.deepcopy(a)
    nullable = bool(a.get("x-nullable") or b.get("x-nullable"))
    ta, tb = a.get("type"), b.get("type")
    if ta is None and (not a or _null_only(a)):
        merged = copy.deepcopy(b)
    elif tb is None and (not b or _null_only(b)):
        merged = copy.deepcopy(a)
    elif ta == tb:
        merged = copy.deepcopy(a)
        if ta == "object":
            props: dict[str, Any] = dict(copy.deepcopy(a.get("properties", {})))
            for key, shape in b.get("properties", {}).items():
                props[key] = merge_schemas(props[key], shape) if key in props else copy.deepcopy(shape)
            if props:
                merged["properties"] = props
        elif ta == "array":
            merged["items"] = merge_schemas(a.get("items", {}), b.get("items", {}))
        if a.get("format") != b.get("format"):
            merged.pop("format", None)
    elif {ta, tb} == {"integer", "number"}:
        merged = {"type": "number"}
    else:
        merged = {}
    merged.pop("x-nullable", None)
    if nullable:
        merged["x-nullable"] = True
    return merged


def _null_only(schema: dict[str, Any]) -> bool:
    return set(schema) == {"x-nullable"}


# --------------------------------------------------------------------------- small helpers


def _text(value: Any) -> str:
    """A Postman description: a string, or ``{content, type}``."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        content = value.get("content")
        return content.strip() if isinstance(content, str) else ""
    return ""


def _ptr(*tokens: str | int) -> str:
    out = "#"
    for token in tokens:
        out = pointer_join(out, token)
    return out


def _kv_entries(value: Any) -> list[dict[str, Any]]:
    """Headers or other key/value lists: a list of entries, or v2.0's ``"Key: value\\n..."`` text."""
    if isinstance(value, list):
        return [entry if isinstance(entry, dict) else {} for entry in value]
    if isinstance(value, str):
        entries: list[dict[str, Any]] = []
        for line in value.splitlines():
            key, sep, rest = line.partition(":")
            if sep and key.strip():
                entries.append({"key": key.strip(), "value": rest.strip()})
        return entries
    return []


def _auth_values(auth: dict[str, Any], kind: str) -> dict[str, Any]:
    """Auth attributes: v2.1's ``[{key, value}]`` list or v2.0's object."""
    raw = auth.get(kind)
    if isinstance(raw, list):
        return {str(e["key"]): e.get("value") for e in raw if isinstance(e, dict) and "key" in e}
    if isinstance(raw, dict):
        return dict(raw)
    return {}


def _param_name(raw: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", raw.strip()).strip("_")
    return cleaned or "param"


def _singular(word: str) -> str:
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if lower.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if lower.endswith("s") and not lower.endswith("ss") and len(word) > 2:
        return word[:-1]
    return word


def _camel(text: str) -> str:
    words = _WORD.findall(_ascii(text))
    if not words:
        return ""
    first: str = words[0][0].lower() + words[0][1:]
    return first + "".join(str(w[0]).upper() + str(w[1:]) for w in words[1:])


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def pascal_case(name: str) -> str:
    """An operationId from a request name: ``"List authorisation rules"`` -> ``ListAuthorisationRules``."""
    words = _WORD.findall(re.sub(r"(?<=\w)['\u2019](?=\w)", "", _ascii(name)))
    while len(words) > 1 and words[0].isdigit():
        words.pop(0)
    out = []
    for word in words:
        if word.upper() in {m.upper() for m in METHODS} and word.isupper():
            word = word.capitalize()
        out.append(word[0].upper() + word[1:])
    text = "".join(out)
    if text[:1].isdigit():
        text = "Operation" + text
    return text


def _summary(name: str) -> str:
    """The request name as a summary: one line, at most 80 characters, without '/' (which the
    platform does not allow in summaries) or trailing punctuation."""
    text = re.sub(r"\s+", " ", name.replace("/", " ")).strip()
    if len(text) > SUMMARY_MAX:
        cut = text[:SUMMARY_MAX]
        space = cut.rfind(" ")
        text = cut[:space] if space > SUMMARY_MAX // 2 else cut
    return text.rstrip(" .,:;!?-\u2013\u2014\u2026")


def _media_type(value: str) -> str:
    """``type/subtype`` of a Content-Type value, or "" when it is not a media type."""
    media = value.split(";", 1)[0].strip().lower()
    return media if _MEDIA.match(media) else ""


def _is_json_type(media: str) -> bool:
    return media == "application/json" or media.endswith("+json") or media.endswith("/json")


# --------------------------------------------------------------------------- variables


_SECRET_NAME = re.compile(
    r"secret|passw|pwd|token|api[_-]?key|credential|private|session|cookie|signature|bearer", re.I
)
_ADDRESS_NAME = re.compile(r"(url|uri|host|endpoint|domain)$", re.I)


def _is_secret(entry: dict[str, Any], key: str) -> bool:
    """A variable whose value is a credential: marked secret, or named like one (``apiKey``,
    ``client_secret``, ``accessToken``…, but not ``tokenUrl``). Its value never reaches the
    definition: secrets only live in the connection."""
    if entry.get("type") == "secret":
        return True
    return bool(_SECRET_NAME.search(key)) and not _ADDRESS_NAME.search(key)


def _plain_variables(entries: Any, inherited: Mapping[str, str | None]) -> dict[str, str | None]:
    """Variables in scope: name -> value, or None when the value is empty, not plain text, or a
    credential (see :func:`_is_secret`)."""
    scope: dict[str, str | None] = dict(inherited)
    if not isinstance(entries, list):
        return scope
    raw: dict[str, str | None] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("disabled") is True:
            continue
        key = entry.get("key", entry.get("id"))
        if not isinstance(key, str) or not key:
            continue
        value = entry.get("value")
        if _is_secret(entry, key):
            raw[key] = None
        elif isinstance(value, bool):
            raw[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            raw[key] = json.dumps(value)
        elif isinstance(value, str) and value.strip():
            raw[key] = value.strip()
        else:
            raw[key] = None
    scope.update(raw)
    for key in raw:
        scope[key] = _resolve_value(key, scope, set())
    return scope


def _resolve_value(key: str, scope: Mapping[str, str | None], active: set[str]) -> str | None:
    value = scope.get(key)
    if value is None or key in active:
        return None
    if "{{" not in value:
        return value
    active.add(key)
    out, missing = _substitute(value, {k: _resolve_value(k, scope, active) for k in _VAR.findall(value)})
    active.discard(key)
    return None if missing else out


def _substitute(text: str, scope: Mapping[str, str | None]) -> tuple[str, list[str]]:
    """``text`` with every ``{{name}}`` that has a plain value replaced; the names left over."""
    missing: list[str] = []

    def repl(match: re.Match[str]) -> str:
        value = scope.get(match.group(1))
        if value is None:
            missing.append(match.group(1))
            return match.group(0)
        return value

    return _VAR.sub(repl, text), missing


# --------------------------------------------------------------------------- requests and URLs


@dataclass
class _PathVar:
    name: str
    kind: str  # colon, variable, angle, brace, literal
    default: str | None = None
    description: str = ""
    literal: str = ""


Part = str | _PathVar


@dataclass
class _Url:
    scheme: str | None = None
    host: str | None = None  # resolved host[:port]
    host_text: str = ""  # as written, e.g. "{{baseUrl}}"
    template: str | None = None  # per-tenant host with @connectionParameters('x')
    host_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    prefix: list[str] = field(default_factory=list)  # path segments that came with the host
    segments: list[list[Part]] = field(default_factory=list)
    trailing_slash: bool = False
    query: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    substituted: list[str] = field(default_factory=list)  # variables with '/' put into the path
    notes: list[str] = field(default_factory=list)  # approximations, reported with the operation

    @property
    def key(self) -> str:
        """The host requests are grouped by: resolved, a per-tenant template, or as written."""
        if self.host is not None:
            return self.host
        if self.template is not None:
            return self.template
        return self.host_text

    def origin(self, scheme: str) -> str | None:
        return f"{self.scheme or scheme}://{self.host}" if self.host is not None else None

    def all_segments(self) -> list[list[Part]]:
        prefix: list[list[Part]] = [[p] for p in self.prefix]
        return prefix + self.segments

    def literal_prefix(self) -> list[str]:
        """The leading literal segments, never the last one (an operation keeps one segment)."""
        out: list[str] = []
        for segment in self.all_segments()[:-1]:
            if len(segment) != 1 or not isinstance(segment[0], str):
                break
            out.append(segment[0])
        return out


@dataclass
class _Auth:
    """The security scheme (by key) an auth object became, with its OAuth scopes."""

    scheme: str | None  # key into the converter's schemes
    scopes: list[str] = field(default_factory=list)


@dataclass
class _Request:
    name: str
    item: dict[str, Any]
    pointer: str  # the item
    request: dict[str, Any]
    method: str
    url: _Url
    url_pointer: str
    folder: tuple[str, str] | None  # innermost folder name and pointer
    variables: dict[str, str | None]
    auth: _Auth | None


@dataclass
class _SchemeDef:
    name: str
    kind: str  # basic, bearer, apikey, oauth2, header-apikey (an Authorization header of no known kind)
    definition: dict[str, Any]
    source: str
    bearer: bool = False


class _Converter:
    def __init__(self, doc: dict[str, Any], report: Report) -> None:
        self.doc = doc
        self.report = report
        self.schemes: dict[str, _SchemeDef] = {}  # identity key -> scheme
        self.auth_cache: dict[str, _Auth | None] = {}
        self.requests: list[_Request] = []
        self.scripts: list[str] = []
        self.tags: dict[str, str] = {}
        self.tallies: dict[str, list[tuple[str, str | None]]] = {}
        self.canonical: dict[str, list[str]] = {}  # normalized path -> parameter names
        self.paths: dict[str, dict[str, Any]] = {}
        self.operations: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}  # (path, method) -> target, op
        self.operation_ids: set[str] = set()
        self.converted: list[tuple[_Request, dict[str, Any]]] = []

    # -- walking the tree

    def walk(self) -> None:
        variables = _plain_variables(self.doc.get("variable"), {})
        self._events(self.doc, "#")
        auth_chain = [(self.doc.get("auth"), "#/auth")]
        items = self.doc.get("item")
        self._items(items if isinstance(items, list) else [], "#/item", None, variables, auth_chain)

    def _items(
        self,
        items: list[Any],
        pointer: str,
        folder: tuple[str, str] | None,
        variables: dict[str, str | None],
        auth_chain: list[tuple[Any, str]],
    ) -> None:
        for index, item in enumerate(items):
            here = pointer_join(pointer, index)
            if not isinstance(item, dict):
                self.report.dropped("An entry of the collection that is not an object was skipped.", here)
                continue
            self._events(item, here)
            scope = _plain_variables(item.get("variable"), variables) if item.get("variable") else variables
            if isinstance(item.get("item"), list):
                name = str(item.get("name") or "").strip()
                described = _text(item.get("description"))
                if name and name not in self.tags:
                    self.tags[name] = described
                inner = (name, here) if name else folder
                chain = [(item.get("auth"), pointer_join(here, "auth")), *auth_chain]
                self._items(item["item"], pointer_join(here, "item"), inner, scope, chain)
            elif "request" in item:
                chain = auth_chain
                request = item["request"]
                if isinstance(request, dict):
                    chain = [(request.get("auth"), pointer_join(here, "request/auth")), *auth_chain]
                self._request(item, here, folder, scope, chain)
            else:
                self.report.dropped(
                    f"Item '{item.get('name', index)}' has neither a request nor sub-items; it was skipped.", here
                )

    def _events(self, owner: dict[str, Any], pointer: str) -> None:
        events = owner.get("event")
        if not isinstance(events, list):
            return
        for index, event in enumerate(events):
            if not isinstance(event, dict):
                continue
            script = event.get("script")
            lines = script.get("exec") if isinstance(script, dict) else script
            text = "\n".join(str(x) for x in lines) if isinstance(lines, list) else str(lines or "")
            if text.strip():
                self.scripts.append(f"{pointer}/event/{index}")

    def _request(
        self,
        item: dict[str, Any],
        pointer: str,
        folder: tuple[str, str] | None,
        variables: dict[str, str | None],
        auth_chain: list[tuple[Any, str]],
    ) -> None:
        name = str(item.get("name") or "").strip()
        raw_request = item["request"]
        request: dict[str, Any] = {"url": raw_request} if isinstance(raw_request, str) else raw_request
        if not isinstance(request, dict):
            self.report.dropped(f"Request '{name}' is not an object or a URL; it was skipped.", pointer)
            return
        request_pointer = pointer_join(pointer, "request")
        method = str(request.get("method") or "GET").strip().lower()
        if method not in METHODS:
            self.report.dropped(
                f"Request '{name}' uses the HTTP method {method.upper()}, which Swagger 2.0 cannot describe; "
                "it was not converted.",
                pointer_join(request_pointer, "method"),
            )
            return
        url_pointer = request_pointer if isinstance(raw_request, str) else pointer_join(request_pointer, "url")
        url = self._parse_url(request.get("url"), url_pointer, variables)
        if url is None:
            self.report.dropped(f"Request '{name}' has no URL; it was not converted.", request_pointer)
            return
        auth = self._effective_auth(auth_chain, variables)
        self.requests.append(_Request(name, item, pointer, request, method, url, url_pointer, folder, variables, auth))

    # -- URLs

    def _parse_url(self, raw_url: Any, pointer: str, variables: Mapping[str, str | None]) -> _Url | None:
        url = _Url()
        if isinstance(raw_url, str):
            raw_url = {"raw": raw_url}
        if not isinstance(raw_url, dict):
            return None
        raw = raw_url.get("raw")
        scheme, host_text, path_text, query_text = _split_raw(raw.strip() if isinstance(raw, str) else "")
        if "host" in raw_url or "path" in raw_url:
            host_value = raw_url.get("host")
            if isinstance(host_value, list):
                host_text = ".".join(str(x) for x in host_value if x is not None)
            elif isinstance(host_value, str):
                host_text = host_value
            path_value = raw_url.get("path")
            if isinstance(path_value, list):
                pieces = [p.get("value", "") if isinstance(p, dict) else str(p) for p in path_value if p is not None]
                path_text = "/".join(str(p) for p in pieces)
            elif isinstance(path_value, str):
                path_text = path_value
            protocol = raw_url.get("protocol")
            if isinstance(protocol, str) and protocol:
                scheme = protocol.rstrip(":/")
            port = raw_url.get("port")
            if port not in (None, "") and host_text and ":" not in host_text.rsplit("}}", 1)[-1]:
                host_text = f"{host_text}:{port}"
        if not host_text and not path_text:
            return None
        typo = _AMPERSAND_QUERY.match(path_text)
        if typo and not query_text and not raw_url.get("query"):
            path_text, query_text = typo.group(1), typo.group(2)
            url.notes.append(
                "its URL has '&' where the query should start with '?'; the text after it became the query"
            )
        self._host(url, scheme, host_text, variables)
        self._path(url, path_text, raw_url, variables)
        query = raw_url.get("query")
        if isinstance(query, list):
            url.query = [
                (entry, pointer_join(pointer_join(pointer, "query"), i))
                for i, entry in enumerate(query)
                if isinstance(entry, dict)
            ]
        elif query_text:
            url.query = [(entry, pointer) for entry in _parse_query(query_text)]
        return url

    def _host(self, url: _Url, scheme: str | None, host_text: str, variables: Mapping[str, str | None]) -> None:
        text = host_text.strip()
        if scheme and not _SCHEME.match(text):
            text = f"{scheme}://{text}"
        url.host_text = text
        resolved, missing = _substitute(text, variables)
        match = _SCHEME.match(resolved)
        if match:
            url.scheme = match.group(1).lower()
            resolved = resolved[match.end() :]
        host, _, rest = resolved.partition("/")
        url.prefix = [unquote(s) for s in rest.split("/") if s]
        if not missing:
            host = host.lower()
            url.host = host if _HOST_OK.match(host) else None
            if url.host is None:
                url.host_text = text
            return
        bare = _VAR.sub("", host)
        if not bare.strip(".:-"):
            return  # the host is a variable without a value: unknown
        names = _VAR.findall(host)
        url.template = _VAR.sub(lambda m: f"@connectionParameters('{m.group(1)}')", host)
        url.host_vars = {name: {"description": f"The {name} of the service's address"} for name in names}

    def _path(self, url: _Url, path_text: str, raw_url: dict[str, Any], variables: Mapping[str, str | None]) -> None:
        descriptions: dict[str, tuple[str, str | None]] = {}
        entries = raw_url.get("variable")
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                key = entry.get("key", entry.get("id"))
                if isinstance(key, str):
                    value = entry.get("value")
                    descriptions[key] = (_text(entry.get("description")), value if isinstance(value, str) else None)

        # A variable whose plain value holds a '/' is several segments: put it in as text.
        def put_in(match: re.Match[str]) -> str:
            value = variables.get(match.group(1))
            if value is not None and "/" in value:
                url.substituted.append(match.group(1))
                return value.strip("/")
            return match.group(0)

        path_text = _VAR.sub(put_in, path_text)
        url.trailing_slash = path_text.endswith("/") and bool(path_text.strip("/"))
        previous = ""
        for raw_segment in path_text.split("/"):
            segment = raw_segment.strip()
            if not segment:
                continue
            parts = _segment_parts(segment, previous, descriptions, variables)
            url.segments.append(parts)
            if len(parts) == 1 and isinstance(parts[0], str):
                previous = parts[0]

    # -- auth

    def _effective_auth(self, chain: list[tuple[Any, str]], variables: Mapping[str, str | None]) -> _Auth | None:
        """Request overrides folder overrides collection; ``noauth`` turns it off."""
        for auth, pointer in chain:
            if not isinstance(auth, dict):
                continue
            kind = str(auth.get("type") or "").lower()
            if not kind or kind == "inherit":
                continue
            if pointer not in self.auth_cache:
                self.auth_cache[pointer] = self._auth(auth, kind, pointer, variables)
            return self.auth_cache[pointer]
        return None

    def _auth(self, auth: dict[str, Any], kind: str, pointer: str, variables: Mapping[str, str | None]) -> _Auth | None:
        values = _auth_values(auth, kind)
        if kind == "noauth":
            return None
        if kind == "basic":
            return _Auth(self._scheme("basic", "basic", {"type": "basic"}, pointer))
        if kind == "bearer":
            return _Auth(self._bearer(pointer))
        if kind == "apikey":
            name_value = values.get("key")
            name, _ = _substitute(str(name_value or ""), variables)
            where = str(values.get("in") or "header").lower()
            where = "query" if where == "query" else "header"
            if not name or "{{" in name:
                name = "X-API-Key" if where == "header" else "api_key"
                self.report.approximated(
                    f"The API key auth does not say a usable {where} name; '{name}' was assumed.", pointer
                )
            return _Auth(self._scheme("apikey", "api_key", {"type": "apiKey", "in": where, "name": name}, pointer))
        if kind == "oauth2":
            return self._oauth2(values, pointer, variables)
        label = _UNSUPPORTED_AUTH.get(kind, kind)
        self.report.dropped(
            f"{label} authentication has no Swagger 2.0 security scheme the platform supports; it was not "
            "converted (a connector policy or script could sign the requests).",
            pointer,
        )
        return None

    def _bearer(self, pointer: str) -> str:
        definition = {"type": "apiKey", "in": "header", "name": "Authorization"}
        key = self._scheme("bearer", "bearer", definition, pointer)
        self.schemes[key].bearer = True
        return key

    def _oauth2(self, values: dict[str, Any], pointer: str, variables: Mapping[str, str | None]) -> _Auth:
        grant = str(values.get("grant_type") or "authorization_code")
        flow = _OAUTH_FLOWS.get(grant, "accessCode")
        auth_url = _absolute_url(values.get("authUrl"), variables)
        token_url = _absolute_url(values.get("accessTokenUrl"), variables)
        needs = {
            "accessCode": (auth_url, token_url),
            "implicit": (auth_url,),
            "application": (token_url,),
            "password": (token_url,),
        }[flow]
        if not all(needs):
            self.report.approximated(
                "OAuth 2.0 auth without a usable authorization or token URL (unset or a variable without a value) "
                "became a bearer token scheme; set up OAuth 2.0 on the connector to sign users in.",
                pointer,
            )
            return _Auth(self._bearer(pointer))
        if grant == "authorization_code_with_pkce":
            self.report.note("OAuth 2.0 with PKCE became the authorization code flow (accessCode).", pointer)
        scope_text, _ = _substitute(str(values.get("scope") or ""), variables)
        scopes = [s for s in re.split(r"[\s,]+", scope_text) if s and "{{" not in s]
        definition: dict[str, Any] = {"type": "oauth2", "flow": flow}
        if flow in ("accessCode", "implicit"):
            definition["authorizationUrl"] = auth_url
        if flow != "implicit":
            definition["tokenUrl"] = token_url
        definition["scopes"] = {scope: scope for scope in scopes}
        return _Auth(self._scheme("oauth2", "oauth2", definition, pointer), scopes)

    def _scheme(self, kind: str, name: str, definition: dict[str, Any], source: str) -> str:
        key = json.dumps([kind, definition], sort_keys=True)
        if key not in self.schemes:
            taken = {s.name for s in self.schemes.values()}
            unique, counter = name, 2
            while unique in taken:
                unique, counter = f"{name}_{counter}", counter + 1
            self.schemes[key] = _SchemeDef(unique, kind, definition, source)
        return key

    # -- tallied notes

    def tally(self, key: str, source: str, target: str | None) -> None:
        self.tallies.setdefault(key, []).append((source, target))

    # -- building

    def build(self) -> Converted:
        main, others = self._choose_host()
        kept = [r for r in self.requests if r.url.key == main]
        for request in self.requests:
            if request.url.key != main:
                where = request.url.origin("https") or request.url.key or "no host"
                self.report.dropped(
                    f"Request '{request.name}' goes to {where}, not to the connector's host {main or '(unknown)'}; "
                    "a connector has one host, so it was not converted.",
                    request.url_pointer,
                )
        base = _common_prefix([r.url.literal_prefix() for r in kept])
        base_path = "/" + "/".join(quote(s, safe=_PATH_SAFE) for s in base)
        for request in kept:
            self._operation(request, len(base))
        swagger: dict[str, Any] = {"swagger": "2.0", "info": self._info()}
        converted = Converted(swagger=swagger)
        ranked_schemes = Counter(r.url.scheme for r in kept if r.url.scheme in ("http", "https")).most_common()
        schemes = [scheme for scheme, _ in ranked_schemes] or ["https"]
        sample = kept[0].url if kept else None
        if sample is not None and sample.host is not None:
            swagger["host"] = sample.host
        elif sample is not None and sample.template is not None:
            converted.url_template = f"{schemes[0]}://{sample.template}{'' if base_path == '/' else base_path}"
            converted.host_parameters = copy.deepcopy(sample.host_vars)
            self.report.approximated(
                f"The requests' host {sample.host_text} has variables without a value; the host is left out and "
                "each connection chooses it (a connection parameter and a dynamic host policy).",
                kept[0].url_pointer,
            )
        elif sample is not None:
            text = sample.host_text or "(none)"
            why = "is a variable without a value in the collection" if "{{" in text else "is not a host name"
            self.report.approximated(
                f"The requests' host {text} {why}; 'host' was left out, so set it before using the connector.",
                kept[0].url_pointer,
                "#/host",
            )
        swagger["basePath"] = base_path
        swagger["schemes"] = schemes
        if kept and not ranked_schemes:
            self.report.note(
                "The requests do not say http or https; https was assumed.", kept[0].url_pointer, "#/schemes"
            )
        servers: list[str] = []
        for key in [main, *others] if self.requests else []:
            first = next(r.url for r in self.requests if r.url.key == key)
            origin = first.origin(schemes[0])
            if origin is not None:
                servers.append(origin + base_path.rstrip("/") if key == main else origin)
        converted.servers = servers
        swagger["paths"] = self.paths
        security = self._security(swagger, converted)
        if security:
            swagger["securityDefinitions"] = security
        self._emit_tallies()
        if self.scripts:
            self.report.dropped(
                f"{len(self.scripts)} pre-request and test script(s) of the collection were not converted: "
                "a connector runs no Postman scripts (a connector script could do their work).",
                self.scripts[0],
            )
        used = {tag for ops in self.paths.values() for op in ops.values() for tag in op.get("tags", [])}
        tags = [{"name": n, **({"description": d} if d else {})} for n, d in self.tags.items() if n in used]
        if "security" in swagger:
            swagger["security"] = swagger.pop("security")
        if tags:
            swagger["tags"] = tags
        return converted

    def _choose_host(self) -> tuple[str, list[str]]:
        counts = Counter(r.url.key for r in self.requests)
        if not counts:
            return "", []
        ranked = [key for key, _ in counts.most_common()]
        return ranked[0], ranked[1:]

    def _info(self) -> dict[str, Any]:
        found = self.doc.get("info")
        info: dict[str, Any] = found if isinstance(found, dict) else {}
        title = str(info.get("name") or "").strip() or "Imported Postman collection"
        out: dict[str, Any] = {"title": title}
        version = info.get("version")
        if isinstance(version, dict):
            parts = [str(version.get(k)) for k in ("major", "minor", "patch") if version.get(k) is not None]
            version = ".".join(parts)
        out["version"] = str(version).strip() if version not in (None, "") else "1.0"
        description = _text(info.get("description"))
        if description:
            out["description"] = description
        return out

    def _operation(self, request: _Request, base_len: int) -> None:
        url = request.url
        segments = url.all_segments()[base_len:]
        names = self._unique_path_names(segments, request)
        normalized = (
            "/"
            + "/".join("".join(p if isinstance(p, str) else "{}" for p in seg) for seg in segments)
            + ("/" if url.trailing_slash else "")
        )
        canonical = self.canonical.setdefault(normalized, names)
        renamed = [f"{a} -> {b}" for a, b in zip(names, canonical, strict=True) if a != b]
        names = canonical
        path = _template(segments, names, url.trailing_slash)
        target = _ptr("paths", path, request.method)
        if (normalized, request.method) in self.operations:
            self._merge_duplicate(request, segments, names, path, self.operations[(normalized, request.method)])
            return
        if renamed:
            self.report.note(
                f"Request '{request.name}' names its path parameters differently from an earlier request on the "
                f"same path; renamed {', '.join(renamed)} so both share one path template.",
                request.url_pointer,
                target,
            )
        for note in url.notes:
            self.report.approximated(f"Request '{request.name}': {note}.", request.url_pointer, target)
        if url.substituted:
            self.report.note(
                f"Variable(s) {', '.join(sorted(set(url.substituted)))} hold several path segments; their values "
                "were written into the path.",
                request.url_pointer,
                target,
            )
        op: dict[str, Any] = {}
        if request.folder is not None:
            op["tags"] = [request.folder[0]]
        name = request.name or f"{request.method.upper()} {path}"
        summary = _summary(name)
        if summary:
            op["summary"] = summary
        description = _text(request.request.get("description"))
        if summary and len(re.sub(r"\s+", " ", name).strip()) > SUMMARY_MAX:
            self.report.approximated(
                f"Request name '{name}' is longer than {SUMMARY_MAX} characters; the summary was shortened.",
                pointer_join(request.pointer, "name"),
                pointer_join(target, "summary"),
            )
            if not description:
                description = name
        if description:
            op["description"] = description
        op["operationId"] = self._operation_id(name, request, target)
        params, consumes, produces, responses = self._inputs_outputs(request, segments, names, target)
        if consumes and any(p["in"] in ("body", "formData") for p in params):
            op["consumes"] = consumes[:1]
        if produces:
            op["produces"] = list(dict.fromkeys(produces))
        if params:
            op["parameters"] = params
        op["responses"] = responses
        self.operations[(normalized, request.method)] = (target, op)
        self.paths.setdefault(path, {})[request.method] = op
        self.converted.append((request, op))
        self.paths[path] = {m: self.paths[path][m] for m in METHODS if m in self.paths[path]}

    def _inputs_outputs(
        self, request: _Request, segments: list[list[Part]], names: list[str], target: str
    ) -> tuple[list[dict[str, Any]], list[str], list[str], dict[str, Any]]:
        params: list[dict[str, Any]] = []
        consumes: list[str] = []
        produces: list[str] = []
        self._path_params(segments, names, request, target, params)
        self._query_params(request, target, params)
        self._headers(request, target, params, consumes, produces)
        self._body(request, target, params, consumes)
        responses = self._responses(request, target, produces)
        return params, consumes, produces, responses

    def _merge_duplicate(
        self,
        request: _Request,
        segments: list[list[Part]],
        names: list[str],
        path: str,
        first: tuple[str, dict[str, Any]],
    ) -> None:
        """A second request for an operation: what it adds (parameters, body fields, responses)
        goes into the first one's operation; its name, description and examples are dropped."""
        target, op = first
        report, tallies, auth = self.report, copy.deepcopy(self.tallies), request.auth
        self.report = Report()
        try:
            params, _consumes, _produces, responses = self._inputs_outputs(request, segments, names, target)
        finally:
            self.report, self.tallies, request.auth = report, tallies, auth
        kept: list[dict[str, Any]] = op.setdefault("parameters", [])
        added: list[str] = []
        has_form = any(p["in"] == "formData" for p in kept)
        for param in params:
            same = next((p for p in kept if p["in"] == param["in"] and p["name"] == param["name"]), None)
            if same is None:
                if param["in"] in ("query", "header") or (param["in"] == "formData" and has_form):
                    kept.append(param)
                    added.append(param["name"])
            elif param["in"] == "body" and "schema" in same and "schema" in param:
                merged = merge_schemas(_without_example(same["schema"]), _without_example(param["schema"]))
                if merged != _without_example(same["schema"]):
                    if "example" in same["schema"]:
                        merged["example"] = same["schema"]["example"]
                    same["schema"] = merged
                    added.append("body fields")
        if not kept:
            op.pop("parameters")
        for code, response in responses.items():
            if code not in op["responses"] and not (code == "200" and response == {"description": "OK"}):
                op["responses"][code] = response
                op["responses"] = dict(sorted(op["responses"].items()))
                added.append(f"response {code}")
        extra = f" (this request added {', '.join(dict.fromkeys(added))} to it)" if added else ""
        self.report.dropped(
            f"Request '{request.name}' is a second {request.method.upper()} {path}; the first request's operation "
            f"stands for both{extra}; this request's name, description and examples were not converted.",
            request.pointer,
            target,
        )

    def _unique_path_names(self, segments: list[list[Part]], request: _Request) -> list[str]:
        names: list[str] = []
        for segment in segments:
            for part in segment:
                if isinstance(part, _PathVar):
                    name, counter = part.name, 2
                    while name in names:
                        name, counter = f"{part.name}{counter}", counter + 1
                    if name != part.name:
                        self.report.note(
                            f"Request '{request.name}' has the path parameter '{part.name}' twice; the second "
                            f"became '{name}'.",
                            request.url_pointer,
                        )
                    names.append(name)
        return names

    def _operation_id(self, name: str, request: _Request, target: str) -> str:
        base = pascal_case(name) or pascal_case(f"{request.method} {request.url.host_text}") or "Operation"
        unique, counter = base, 2
        while unique.lower() in self.operation_ids:
            unique, counter = f"{base}{counter}", counter + 1
        if unique != base:
            self.report.note(
                f"Two requests give the operationId '{base}'; this one became '{unique}'.",
                pointer_join(request.pointer, "name"),
                pointer_join(target, "operationId"),
            )
        self.operation_ids.add(unique.lower())
        return unique

    def _path_params(
        self,
        segments: list[list[Part]],
        names: list[str],
        request: _Request,
        target: str,
        params: list[dict[str, Any]],
    ) -> None:
        variables = [p for seg in segments for p in seg if isinstance(p, _PathVar)]
        for var, name in zip(variables, names, strict=True):
            param: dict[str, Any] = {"name": name, "in": "path"}
            if var.description:
                param["description"] = var.description
            param["required"] = True
            param["type"] = "string"
            if var.default is not None:
                param["default"] = var.default
            param["x-ms-url-encoding"] = "single"
            where = pointer_join(pointer_join(target, "parameters"), len(params))
            params.append(param)
            if var.kind == "literal":
                self.tally(f"literal:{var.name}", request.url_pointer, where)
            elif var.kind == "angle":
                self.tally("angle", request.url_pointer, where)

    def _query_params(self, request: _Request, target: str, params: list[dict[str, Any]]) -> None:
        disabled: list[str] = []
        seen: set[str] = {p["name"] for p in params if p["in"] == "query"}
        for entry, source in request.url.query:
            key = entry.get("key")
            if not isinstance(key, str) or not key.strip():
                continue
            key = key.strip()
            if entry.get("disabled") is True:
                disabled.append(key)
                continue
            if "{{" in key:
                self.report.dropped(
                    f"Query entry '{key}' of request '{request.name}' has a variable in its name; it was not converted.",
                    source,
                )
                continue
            if key in seen:
                self.report.approximated(
                    f"Query entry '{key}' of request '{request.name}' is repeated; one parameter stands for all.",
                    source,
                )
                continue
            seen.add(key)
            param = self._simple_param(key, "query", entry, request)
            params.append(param)
        if disabled:
            self.report.note(
                f"Disabled query entries of request '{request.name}' were not converted: {', '.join(disabled)}.",
                request.url_pointer,
                target,
            )

    def _simple_param(self, key: str, where: str, entry: dict[str, Any], request: _Request) -> dict[str, Any]:
        param: dict[str, Any] = {"name": key, "in": where}
        description = _text(entry.get("description"))
        if description:
            param["description"] = description
        param["required"] = False
        param["type"] = "string"
        default = _default_value(entry.get("value"), request.variables)
        if default is not None:
            param["default"] = default
        return param

    def _headers(
        self,
        request: _Request,
        target: str,
        params: list[dict[str, Any]],
        consumes: list[str],
        produces: list[str],
    ) -> None:
        disabled: list[str] = []
        seen: set[str] = set()
        header_pointer = pointer_join(pointer_join(request.pointer, "request"), "header")
        for index, entry in enumerate(_kv_entries(request.request.get("header"))):
            source = pointer_join(header_pointer, index)
            key = entry.get("key")
            if not isinstance(key, str) or not key.strip():
                continue
            key = key.strip()
            lower = key.lower()
            if entry.get("disabled") is True:
                disabled.append(key)
                continue
            value_text = entry.get("value") if isinstance(entry.get("value"), str) else ""
            value, missing = _substitute(str(value_text).strip(), request.variables)
            if lower == "content-type":
                if value and not missing and _media_type(value):
                    consumes.append(_media_type(value))
                continue
            if lower == "accept":
                if value and not missing:
                    types = [_media_type(v) for v in value.split(",")]
                    produces.extend(t for t in types if t and "*" not in t)
                continue
            if lower == "authorization":
                self._authorization_header(request, str(value_text).strip(), source, target)
                continue
            if lower in _DROPPED_HEADERS:
                self.report.dropped(
                    f"Header {key} of request '{request.name}' is set by the platform; it was not converted.", source
                )
                continue
            if "{{" in key:
                self.report.dropped(
                    f"Header entry '{key}' of request '{request.name}' has a variable in its name; it was not converted.",
                    source,
                )
                continue
            if lower in seen:
                continue
            seen.add(lower)
            params.append(self._simple_param(key, "header", entry, request))
        if disabled:
            self.report.note(
                f"Disabled headers of request '{request.name}' were not converted: {', '.join(disabled)}.",
                header_pointer,
                target,
            )

    def _authorization_header(self, request: _Request, value: str, source: str, target: str) -> None:
        if request.auth is not None and request.auth.scheme is not None:
            self.tally("auth-header-duplicate", source, target)
            return
        word = value.split(" ", 1)[0].lower() if value else ""
        if word == "bearer":
            key = self._bearer(source)
        elif word == "basic":
            key = self._scheme("basic", "basic", {"type": "basic"}, source)
        else:
            key = self._scheme(
                "header-apikey", "authorization", {"type": "apiKey", "in": "header", "name": "Authorization"}, source
            )
        request.auth = _Auth(key)
        self.tally(f"auth-header:{key}", source, target)

    # -- bodies

    def _body(self, request: _Request, target: str, params: list[dict[str, Any]], consumes: list[str]) -> None:
        body = request.request.get("body")
        body_pointer = pointer_join(pointer_join(request.pointer, "request"), "body")
        if not isinstance(body, dict) or body.get("disabled") is True:
            return
        mode = str(body.get("mode") or "")
        content = body.get(mode) if mode else None
        if not _has_content(mode, content):
            return
        if request.method in NO_BODY_METHODS:
            self.report.dropped(
                f"Request '{request.name}' sends a body with {request.method.upper()}, which the platform does "
                "not allow; the body was not converted.",
                body_pointer,
                target,
            )
            return
        where = pointer_join(pointer_join(target, "parameters"), len(params))
        if mode == "raw":
            self._raw_body(request, body, body_pointer, where, params, consumes)
        elif mode in ("urlencoded", "formdata"):
            self._form_body(request, mode, content, body_pointer, target, params, consumes)
        elif mode == "graphql":
            graphql = content if isinstance(content, dict) else {}
            schema: dict[str, Any] = {
                "type": "object",
                "properties": {"query": {"type": "string"}, "variables": {"type": "object"}},
            }
            query = graphql.get("query")
            if isinstance(query, str) and query.strip():
                schema["properties"]["query"]["default"] = query
            params.append({"name": "body", "in": "body", "required": True, "schema": schema})
            consumes[:0] = ["application/json"]
            self.report.approximated(
                f"Request '{request.name}' has a GraphQL body; it became a JSON body with 'query' (the saved query "
                "as its default) and 'variables', without a schema for the GraphQL types.",
                body_pointer,
                where,
            )
        elif mode == "file":
            params.append(
                {"name": "body", "in": "body", "required": True, "schema": {"type": "string", "format": "binary"}}
            )
            if not consumes:
                consumes.append("application/octet-stream")
            self.report.note(
                f"Request '{request.name}' uploads a file as its body; it became a binary body.", body_pointer, where
            )
        else:
            self.report.dropped(
                f"Request '{request.name}' has a body of mode '{mode}', which is not converted.", body_pointer
            )

    def _raw_body(
        self,
        request: _Request,
        body: dict[str, Any],
        pointer: str,
        where: str,
        params: list[dict[str, Any]],
        consumes: list[str],
    ) -> None:
        raw = str(body.get("raw"))
        options = body.get("options")
        language = ""
        if isinstance(options, dict) and isinstance(options.get("raw"), dict):
            language = str(options["raw"].get("language") or "").lower()
        declared = consumes[0] if consumes else _LANGUAGE_TYPES.get(language, "")
        wants_json = _is_json_type(declared) or (not declared and raw.lstrip()[:1] in ("{", "["))
        value: Any = None
        problem: str | None = None
        if wants_json:
            text, unquoted, quoted = _neutralize(raw, request.variables)
            value, problem = _parse_json(text)
            if problem is None and (unquoted or quoted):
                self.report.approximated(
                    f"The JSON body of request '{request.name}' has placeholders "
                    f"({', '.join(dict.fromkeys(unquoted + quoted))}); "
                    + ("those outside strings were read as null, so their fields have no type; " if unquoted else "")
                    + "the example keeps the rest as written.",
                    pointer,
                    where,
                )
        if wants_json and problem is None:
            schema = infer_schema(value)
            schema["example"] = value
            params.append({"name": "body", "in": "body", "required": True, "schema": schema})
            if not consumes:
                consumes.append(declared if _is_json_type(declared) else "application/json")
            return
        media = declared or "text/plain"
        params.append({"name": "body", "in": "body", "required": True, "schema": {"type": "string"}})
        if not consumes:
            consumes.append(media)
        if problem is not None:
            self.report.approximated(
                f"The body of request '{request.name}' looks like JSON but cannot be read ({problem}); it became "
                "a string body.",
                pointer,
                where,
            )

    def _form_body(
        self,
        request: _Request,
        mode: str,
        content: Any,
        pointer: str,
        target: str,
        params: list[dict[str, Any]],
        consumes: list[str],
    ) -> None:
        entries = content if isinstance(content, list) else []
        has_file = False
        disabled: list[str] = []
        taken = {p["name"] for p in params if p["in"] == "formData"}
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            key = entry.get("key")
            if not isinstance(key, str) or not key.strip():
                continue
            key = key.strip()
            if entry.get("disabled") is True:
                disabled.append(key)
                continue
            source = pointer_join(pointer_join(pointer, mode), index)
            if key in taken:
                self.report.approximated(
                    f"Form field '{key}' of request '{request.name}' is repeated; one parameter stands for all.",
                    source,
                )
                continue
            taken.add(key)
            if entry.get("type") == "file" and mode == "formdata":
                has_file = True
                param: dict[str, Any] = {"name": key, "in": "formData"}
                description = _text(entry.get("description"))
                if description:
                    param["description"] = description
                param["required"] = False
                param["type"] = "file"
            else:
                param = self._simple_param(key, "formData", entry, request)
            params.append(param)
        if disabled:
            self.report.note(
                f"Disabled form fields of request '{request.name}' were not converted: {', '.join(disabled)}.",
                pointer,
                target,
            )
        media = "multipart/form-data" if mode == "formdata" or has_file else "application/x-www-form-urlencoded"
        consumes[:] = [media]

    # -- responses

    def _responses(self, request: _Request, target: str, produces: list[str]) -> dict[str, Any]:
        saved = request.item.get("response")
        examples = [e for e in saved if isinstance(e, dict)] if isinstance(saved, list) else []
        responses: dict[str, dict[str, Any]] = {}
        for index, example in enumerate(examples):
            source = pointer_join(pointer_join(request.pointer, "response"), index)
            code_value = example.get("code")
            code = str(code_value) if isinstance(code_value, int) and 100 <= code_value <= 599 else "200"
            name = str(example.get("name") or example.get("status") or "").strip()
            media = ""
            for header in _kv_entries(example.get("header")):
                if str(header.get("key", "")).lower() == "content-type" and isinstance(header.get("value"), str):
                    media = _media_type(header["value"])
            preview = str(example.get("_postman_previewlanguage") or "").lower()
            if not media and preview in _LANGUAGE_TYPES:
                media = _LANGUAGE_TYPES[preview]
            body = example.get("body")
            response = responses.setdefault(code, {"description": name or _reason(code)})
            if not isinstance(body, str) or not body.strip():
                continue
            value: Any = None
            parsed = False
            if not media or _is_json_type(media):
                try:
                    value, parsed = json.loads(body), True
                except ValueError:
                    parsed = False
            where = pointer_join(pointer_join(target, "responses"), code)
            if parsed:
                media = media or "application/json"
                shape = infer_schema(value)
                response["schema"] = merge_schemas(response["schema"], shape) if "schema" in response else shape
                response.setdefault("examples", {}).setdefault(media, value)
            else:
                media = media or "text/plain"
                if "schema" in response and response["schema"].get("type") != "string":
                    self.report.approximated(
                        f"Saved responses {code} of request '{request.name}' have different kinds of bodies; "
                        "the first one's schema was kept.",
                        source,
                        where,
                    )
                else:
                    response["schema"] = {"type": "string"}
            produces.append(media)
        if not responses:
            return {"200": {"description": "OK"}}
        ordered = {code: responses[code] for code in sorted(responses)}
        for response in ordered.values():
            examples_out = response.pop("examples", None)
            if examples_out:
                response["examples"] = examples_out
        return ordered

    # -- security

    def _security(self, swagger: dict[str, Any], converted: Converted) -> dict[str, Any]:
        """One scheme per kind of auth; ``security`` at the top when every operation has the same."""
        names = {key: scheme.name for key, scheme in self.schemes.items()}
        requirements: list[list[dict[str, list[str]]]] = []
        for request, _op in self.converted:
            auth = request.auth
            requirements.append(
                [] if auth is None or auth.scheme is None else [{names[auth.scheme]: list(auth.scopes)}]
            )
        used = {name for reqs in requirements for req in reqs for name in req}
        if not used:
            return {}
        if all(reqs == requirements[0] for reqs in requirements):
            swagger["security"] = requirements[0]
        else:
            for (_request, op), reqs in zip(self.converted, requirements, strict=True):
                op["security"] = reqs
        definitions: dict[str, Any] = {}
        for scheme in self.schemes.values():
            if scheme.name not in used:
                continue
            definitions[scheme.name] = scheme.definition
            if scheme.bearer:
                converted.bearer_schemes.add(scheme.name)
        if len(definitions) > 1:
            kinds = [self._kind_label(s) for s in self.schemes.values() if s.name in used]
            self.report.approximated(
                f"The requests use several kinds of authentication ({', '.join(kinds)}); each became a security "
                "scheme and each operation names its own, but a connection signs in one way, so choose one.",
                None,
                "#/securityDefinitions",
            )
        return definitions

    def _kind_label(self, scheme: _SchemeDef) -> str:
        return {
            "basic": "basic",
            "bearer": "bearer token",
            "apikey": f"API key {scheme.definition.get('name')}",
            "oauth2": "OAuth 2.0",
            "header-apikey": "Authorization header",
        }.get(scheme.kind, scheme.kind)

    def _emit_tallies(self) -> None:
        for key, hits in self.tallies.items():
            source, target = hits[0]
            count = len(hits)
            if key == "auth-header-duplicate":
                self.report.note(
                    f"{count} request(s) send an Authorization header that repeats their auth; the header was "
                    "dropped (the security scheme sends it).",
                    source,
                    target,
                )
            elif key.startswith("auth-header:"):
                scheme = self.schemes[key.split(":", 1)[1]]
                self.report.approximated(
                    f"{count} request(s) without auth send an Authorization header; it became the security scheme "
                    f"'{scheme.name}' ({self._kind_label(scheme)}).",
                    source,
                    target,
                )
            elif key.startswith("literal:"):
                name = key.split(":", 1)[1]
                self.report.approximated(
                    f"{count} request(s) have an ID written into the path; it became the path parameter '{name}'.",
                    source,
                    target,
                )
            elif key == "angle":
                self.report.note(
                    f"{count} request(s) have <placeholder> path segments; they became path parameters.",
                    source,
                    target,
                )


# --------------------------------------------------------------------------- module functions


def _split_raw(raw: str) -> tuple[str | None, str, str, str]:
    """``scheme``, host text, path text and query text of a URL as typed in Postman."""
    text = raw.split("#", 1)[0]
    text, _, query = text.partition("?")
    scheme = None
    match = _SCHEME.match(text)
    if match:
        scheme = match.group(1)
        text = text[match.end() :]
    if text.startswith("/"):
        return scheme, "", text, query
    host, _, path = text.partition("/")
    return scheme, host, path, query


def _parse_query(text: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for piece in text.split("&"):
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        entries.append({"key": unquote(key), "value": unquote(value) if sep else None})
    return entries


def _segment_parts(
    segment: str,
    previous: str,
    descriptions: Mapping[str, tuple[str, str | None]],
    variables: Mapping[str, str | None],
) -> list[Part]:
    if segment.startswith(":") and len(segment) > 1 and "{{" not in segment:
        raw = segment[1:]
        description = descriptions.get(raw, ("", None))[0]
        return [_PathVar(_param_name(raw), "colon", description=description)]
    angle = _ANGLE.fullmatch(segment)
    if angle:
        return [_PathVar(_param_name(angle.group(1)), "angle")]
    brace = _BRACE.fullmatch(segment)
    if brace:
        return [_PathVar(_param_name(brace.group(1)), "brace")]
    if "{{" not in segment:
        literal = unquote(segment)
        if _LITERAL_ID.match(literal):
            stem = _camel(_singular(previous)) if previous and not _LITERAL_ID.match(previous) else ""
            name = f"{stem}Id" if stem and not stem[0].isdigit() else "id"
            return [_PathVar(name, "literal", literal=literal)]
        return [literal]
    parts: list[Part] = []
    position = 0
    for match in _VAR.finditer(segment):
        if match.start() > position:
            parts.append(unquote(segment[position : match.start()]))
        raw = match.group(1)
        description = descriptions.get(raw, ("", None))[0]
        parts.append(_PathVar(_param_name(raw.lstrip("$")), "variable", variables.get(raw), description))
        position = match.end()
    if position < len(segment):
        parts.append(unquote(segment[position:]))
    return parts


def _template(segments: list[list[Part]], names: list[str], trailing: bool) -> str:
    out: list[str] = []
    index = 0
    for segment in segments:
        text = ""
        for part in segment:
            if isinstance(part, str):
                text += quote(part, safe=_PATH_SAFE)
            else:
                text += "{" + names[index] + "}"
                index += 1
        out.append(text)
    path = "/" + "/".join(out)
    if trailing and out:
        path += "/"
    return path


def _common_prefix(lists: list[list[str]]) -> list[str]:
    if not lists:
        return []
    prefix = list(lists[0])
    for other in lists[1:]:
        n = 0
        while n < len(prefix) and n < len(other) and prefix[n] == other[n]:
            n += 1
        del prefix[n:]
    return prefix


def _absolute_url(value: Any, variables: Mapping[str, str | None]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text, missing = _substitute(value.strip(), variables)
    if missing or not re.match(r"^https?://[^\s/{}]+", text):
        return None
    return text


def _default_value(value: Any, variables: Mapping[str, str | None]) -> str | None:
    """A literal value, or a variable's plain value; placeholders give no default."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or _ANGLE.fullmatch(text):
        return None
    resolved, missing = _substitute(text, variables)
    return None if missing else resolved


def _has_content(mode: str, content: Any) -> bool:
    if mode == "raw":
        return isinstance(content, str) and bool(content.strip())
    if mode in ("urlencoded", "formdata"):
        return isinstance(content, list) and any(
            isinstance(e, dict) and isinstance(e.get("key"), str) and e["key"].strip() for e in content
        )
    if mode == "graphql":
        return isinstance(content, dict) and bool(content.get("query"))
    if mode == "file":
        return isinstance(content, dict) and bool(content.get("src") or content.get("content"))
    return bool(content)


def _without_example(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "example"}


def _neutralize(raw: str, variables: Mapping[str, str | None]) -> tuple[str, list[str], list[str]]:
    """JSON text with Postman placeholders made readable.

    Outside strings, ``{{name}}`` becomes the variable's plain value when it is a JSON literal
    (as Postman would send it), its value as a string otherwise, and ``null`` when it has none;
    ``<name>`` becomes ``null`` and a number with leading zeros becomes a string. Inside strings a
    ``{{name}}`` with a plain value is filled in. Returns the text, the placeholders read as null
    and the placeholders left inside strings.
    """
    out: list[str] = []
    unquoted: list[str] = []
    quoted: list[str] = []
    i, n = 0, len(raw)
    in_string = False
    while i < n:
        ch = raw[i]
        if in_string:
            if ch == "\\" and i + 1 < n:
                out.append(raw[i : i + 2])
                i += 2
                continue
            if ch == '"':
                in_string = False
                out.append(ch)
                i += 1
                continue
            match = _VAR.match(raw, i)
            if match:
                value = variables.get(match.group(1))
                if value is None:
                    quoted.append(match.group(0))
                    out.append(match.group(0))
                else:
                    out.append(json.dumps(value)[1:-1])
                i = match.end()
                continue
            out.append(ch)
            i += 1
            continue
        if ch == '"':
            in_string = True
            out.append(ch)
            i += 1
            continue
        match = _VAR.match(raw, i)
        if match:
            value = variables.get(match.group(1))
            if value is None:
                unquoted.append(match.group(0))
                out.append("null")
            else:
                try:
                    json.loads(value)
                    out.append(value)
                except ValueError:
                    out.append(json.dumps(value))
            i = match.end()
            continue
        angle = _ANGLE.match(raw, i)
        if angle:
            unquoted.append(angle.group(0))
            out.append("null")
            i = angle.end()
            continue
        number = re.compile(r"-?0\d+(?:\.\d+)?").match(raw, i)
        if number and (i == 0 or not (raw[i - 1].isalnum() or raw[i - 1] == ".")):
            out.append(json.dumps(number.group(0)))
            i = number.end()
            continue
        out.append(ch)
        i += 1
    return "".join(out), unquoted, quoted


def _parse_json(text: str) -> tuple[Any, str | None]:
    """A JSON value, or the reason it cannot be read (comments and trailing commas are repaired;
    text after a complete value is ignored)."""
    try:
        return json.loads(text), None
    except ValueError:
        pass
    try:
        return load_json_text(text, "body").value, None
    except SourceError as exc:
        problem = f"line {exc.line} column {exc.column}: {exc.problem}"
    except (InputError, ValueError, RecursionError) as exc:
        problem = str(exc)
    try:
        value, _end = json.JSONDecoder().raw_decode(text.strip())
        return value, None
    except ValueError:
        return None, problem


def _reason(code: str) -> str:
    reasons = {
        "200": "OK",
        "201": "Created",
        "202": "Accepted",
        "204": "No Content",
        "400": "Bad Request",
        "401": "Unauthorized",
        "403": "Forbidden",
        "404": "Not Found",
        "409": "Conflict",
        "422": "Unprocessable Entity",
        "429": "Too Many Requests",
        "500": "Internal Server Error",
    }
    return reasons.get(code, f"HTTP {code}")


def convert_postman(doc: dict[str, Any], report: Report) -> Converted:
    """Swagger 2.0 for a Postman v2.0/v2.1 collection; every guess and loss goes into ``report``."""
    converter = _Converter(doc, report)
    converter.walk()
    converted = converter.build()
    log.debug("Postman collection: %d requests, %d operations", len(converter.requests), len(converter.converted))
    return converted


__all__ = [
    "check_postman_version",
    "convert_postman",
    "infer_schema",
    "merge_schemas",
    "pascal_case",
]
