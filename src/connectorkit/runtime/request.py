"""From an operation and the caller's inputs to a :class:`~connectorkit.runtime.model.Request`.

This is steps 1-4 of the runtime pipeline (runtime-semantics.md §8): find the operation, build the
backend URL from ``schemes``/``host``/``basePath``, fill the path template, the query, the headers
and the body from the swagger parameters, then apply the connection's authentication. Policy
templates, the script and the network come later and elsewhere; everything here is pure.

Inputs are keyed by swagger parameter name, as Power Automate's ``OpenApiConnection`` sends them;
body properties may also be given as ``"<bodyParamName>/<prop>/<subprop>"`` (§1.2). Strings are
coerced to the declared type, so values typed on a command line work (``"5"`` for an integer,
``"true"`` for a boolean, ``"a,b"`` or ``'["a","b"]'`` for an array).

Error messages name parameters, never connection values, and echo a rejected input only when it
is not a header value (headers are where keys and tokens travel).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

from connectorkit.definition.models import ConnectionParameter
from connectorkit.definition.swagger import Operation, Parameter, SecurityScheme, Swagger
from connectorkit.errors import InputError
from connectorkit.runtime.model import Headers, Request, Response

__all__ = [
    "PathEncoding",
    "build_request",
    "find_operation",
    "next_page_request",
    "request_for_url",
    "sign_request",
    "swagger_base_url",
]

PathEncoding = Literal["gateway", "client"]
"""How ``x-ms-url-encoding`` turns a path value into path text.

``gateway`` (the default) is what the backend receives after the APIM gateway decodes the client's
path once: ``single`` values are percent-encoded with ``/`` left as a separator, ``double`` values
are percent-encoded once with nothing exempt (``a/b`` → ``a%2Fb``). ``client`` is what the designer
writes into the client's path: ``encodeURIComponent`` applied once (``single``) or twice
(``double``). Which bytes really reach a backend is [INFERRED] (runtime-semantics.md §1.3, Gaps 3).
"""

_COLLECTION_SEPARATORS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}
_SHOWN_VALUE_LIMIT = 40


def find_operation(swagger: Swagger, operation_id: str) -> Operation:
    """The operation with this ``operationId``; :class:`InputError` naming close matches if none."""
    known: list[str] = []
    for op in swagger.operations():
        if op.operation_id == operation_id:
            return op
        if op.operation_id is not None:
            known.append(op.operation_id)
    folded = [name for name in known if name.lower() == operation_id.lower()]
    if folded:
        hint = f"; did you mean {folded[0]!r}?"
    elif known:
        shown = ", ".join(sorted(known)[:10]) + (", ..." if len(known) > 10 else "")
        hint = f"; the definition has {shown}"
    else:
        hint = "; the definition has no operations"
    raise InputError(f"no operation with operationId {operation_id!r}{hint}")


def build_request(
    swagger: Swagger,
    operation_id: str,
    arguments: Mapping[str, Any],
    connection: Mapping[str, Any],
    *,
    security_scheme: str | None = None,
    connection_parameters: Mapping[str, ConnectionParameter] | None = None,
    base_url: str | None = None,
    path_encoding: PathEncoding = "gateway",
    send_optional_defaults: bool = False,
    allow_unknown: bool = False,
) -> Request:
    """Build the backend request for one call of ``operation_id``.

    - ``arguments``: the caller's inputs by parameter name (``None`` means not given).
    - ``connection``: the connection's parameter values (secrets included; never logged here).
    - ``security_scheme``: the ``securityDefinitions`` entry to apply; by default the first one
      whose credentials the connection holds. Per-operation ``security`` lists are ignored, as the
      platform applies connection auth to every operation [INFERRED, §2.2].
    - ``connection_parameters``: apiProperties' declarations, used for the API-key fallback (the
      single ``securestring`` parameter when there is no ``api_key``, §2.2).
    - ``base_url``: replaces scheme + host + basePath (needed when the definition has no host).
    - ``path_encoding``: see :data:`PathEncoding`.
    - ``send_optional_defaults``: the platform's client sends a default only for a parameter that
      is required or ``x-ms-visibility: internal`` and omits the defaults of other optional
      parameters (§1.7); set this to send those too.
    - ``allow_unknown``: ignore inputs that name no parameter instead of rejecting them.

    Missing required inputs and inputs of the wrong type raise :class:`InputError`.
    """
    op = find_operation(swagger, operation_id)
    builder = _Builder(op, dict(arguments), path_encoding, send_optional_defaults)
    request = Request(method=op.method.upper(), base_url=base_url or _base_url(swagger), path="")
    builder.build(request)
    if not allow_unknown:
        builder.reject_unknown()
    _apply_auth(request, swagger, connection, security_scheme, connection_parameters)
    return request


def next_page_request(swagger: Swagger, op: Operation, response: Response, previous: Request) -> Request | None:
    """The GET for the next page of an ``x-ms-pageable`` operation, or ``None`` on the last page.

    The link is read from the root property ``nextLinkName`` of the response body (§5.1); a
    relative link is resolved against the previous request's URL. The previous request's headers
    (authentication included) are kept, its body and ``Content-Type`` are not. When the link lies
    under the previous base URL that base is kept, so host-rewriting policies still apply.
    Query values are decoded from the link and re-encoded by :attr:`Request.url`.
    """
    del swagger  # part of the signature for symmetry with build_request; the operation suffices
    pageable = op.raw.get("x-ms-pageable")
    if not isinstance(pageable, dict) or not isinstance(pageable.get("nextLinkName"), str):
        return None
    body = response.json if response.has_json else _parse_json(response.content)
    if not isinstance(body, dict):
        return None
    link = body.get(pageable["nextLinkName"])
    if not isinstance(link, str) or not link.strip():
        return None
    absolute = urljoin(previous.url, link.strip())
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"the next link of operation {op.operation_id!r} is not an http(s) URL")
    headers = Headers(previous.headers.items())
    headers.remove("Content-Type")
    return request_for_url("GET", absolute, under=previous.base_url, headers=headers)


def request_for_url(method: str, url: str, *, under: str | None = None, headers: Headers | None = None) -> Request:
    """A request for an absolute http(s) URL the backend handed out: a next link, a polling
    trigger's ``Location``, a webhook subscription's ``Location``. When the URL lies under the
    base URL ``under``, that base is kept, so host-rewriting policies still apply to it. Query
    values are decoded here and re-encoded by :attr:`Request.url`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"{url!r} is not an absolute http(s) URL")
    without_query = f"{parts.scheme}://{parts.netloc}{parts.path}"
    base = (under or "").rstrip("/")
    if base and (without_query == base or without_query.startswith(base + "/")):
        base_url, path = under or "", without_query[len(base) :] or "/"
    else:
        base_url, path = f"{parts.scheme}://{parts.netloc}", parts.path or "/"
    return Request(
        method=method.upper(),
        base_url=base_url,
        path=path,
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=headers if headers is not None else Headers(),
    )


def sign_request(
    request: Request,
    swagger: Swagger,
    connection: Mapping[str, Any],
    *,
    security_scheme: str | None = None,
    connection_parameters: Mapping[str, ConnectionParameter] | None = None,
) -> None:
    """Add the connection's credentials to any request (API key, basic or bearer), as
    :func:`build_request` does for the requests it builds."""
    _apply_auth(request, swagger, connection, security_scheme, connection_parameters)


# -- building


class _Builder:
    def __init__(self, op: Operation, arguments: dict[str, Any], encoding: PathEncoding, optional_defaults: bool):
        self.op = op
        self.arguments = arguments
        self.encoding = encoding
        self.optional_defaults = optional_defaults
        self.used: set[str] = set()
        self.opid = op.operation_id or f"{op.method.upper()} {op.path}"

    def build(self, request: Request) -> None:
        params = self.op.parameters
        path_values: dict[str, str] = {}
        header_params: list[tuple[str, str]] = []
        form: list[tuple[str, Any]] = []
        has_file = False
        body_param: Parameter | None = None
        for param in params:
            location = param.location
            if location == "body":
                body_param = param
                continue
            value = self._value(param)
            if value is None:
                continue
            if location == "path":
                path_values[param.name] = self._path_text(param, value)
            elif location == "query":
                request.query.extend((param.name, text) for text in _serialize(param.raw, value, repeat=True))
            elif location == "header":
                header_params.append((param.name, ",".join(_serialize(param.raw, value, repeat=False))))
            elif location == "formData":
                if param.raw.get("type") == "file":
                    has_file = True
                    form.append((param.name, value))
                else:
                    form.extend((param.name, text) for text in _serialize(param.raw, value, repeat=True))
        request.path = self._fill_path(path_values)
        for name, text in header_params:
            request.headers.set(name, text)

        consumes = _media_list(self.op.raw.get("consumes"), self.op.swagger.doc.get("consumes"))
        content_type: str | None = None
        if body_param is not None:
            content_type = self._body(request, body_param, consumes)
        elif form or any(p.location == "formData" for p in params):
            multipart = has_file or any("multipart/form-data" in c.lower() for c in consumes)
            content_type = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
            request.form = form
        if content_type is not None and "Content-Type" not in request.headers:
            request.headers.set("Content-Type", content_type)
        produces = _media_list(self.op.raw.get("produces"), self.op.swagger.doc.get("produces"))
        if produces and "Accept" not in request.headers:
            request.headers.set("Accept", _preferred(produces))

    def reject_unknown(self) -> None:
        unknown = [name for name in self.arguments if name not in self.used]
        if unknown:
            names = sorted({p.name for p in self.op.parameters})
            expected = ", ".join(names) if names else "none"
            raise InputError(f"operation {self.opid!r} has no parameter {unknown[0]!r} (its parameters: {expected})")

    # -- values

    def _value(self, param: Parameter) -> Any:
        """The coerced input for a non-body parameter, its default, or ``None`` when omitted."""
        name = param.name
        required = param.required or param.location == "path"
        value = self.arguments.get(name)
        if name in self.arguments:
            self.used.add(name)
        if value is None:
            if "default" in param.raw and (required or param.visibility == "internal" or self.optional_defaults):
                value = param.raw["default"]
            elif required:
                raise InputError(f"operation {self.opid!r} needs parameter {name!r} ({param.location})")
            else:
                return None
        return _coerce(param.raw, value, self._label(param), show=param.location != "header")

    def _label(self, param: Parameter) -> str:
        return f"parameter {param.name!r} ({param.location}) of operation {self.opid!r}"

    def _path_text(self, param: Parameter, value: Any) -> str:
        text = ",".join(_serialize(param.raw, value, repeat=False))
        if text == "":
            raise InputError(f"{self._label(param)} must not be empty")
        double = str(param.raw.get("x-ms-url-encoding", "single")).lower() == "double"
        if self.encoding == "client":
            once = quote(text, safe="")
            return quote(once, safe="") if double else once
        return quote(text, safe="" if double else "/")

    def _fill_path(self, values: dict[str, str]) -> str:
        template = self.op.path if self.op.path.startswith("/") else "/" + self.op.path
        out: list[str] = []
        rest = template
        while "{" in rest:
            before, _, after = rest.partition("{")
            name, closed, rest = after.partition("}")
            if not closed:
                rest = "{" + after
                break
            if name not in values:
                raise InputError(
                    f"path {self.op.path!r} of operation {self.opid!r} has {{{name}}} but no path parameter {name!r}"
                )
            out += [before, values[name]]
        out.append(rest)
        return "".join(out)

    # -- body

    def _body(self, request: Request, param: Parameter, consumes: list[str]) -> str | None:
        name = param.name
        value = self.arguments.get(name)
        if name in self.arguments:
            self.used.add(name)
        prefix = name + "/"
        for key in list(self.arguments):
            if key.startswith(prefix) and len(key) > len(prefix):
                if value is None:
                    value = {}
                if not isinstance(value, dict):
                    raise InputError(f"{self._label(param)} is given whole and as {key!r}; give one or the other")
                _put(value, key[len(prefix) :].split("/"), self.arguments[key])
                self.used.add(key)
        schema = self.op.swagger.deref(param.raw.get("schema"), "")[0]
        if value is None and "default" in param.raw and (param.required or param.visibility == "internal"):
            value = param.raw["default"]
        if value is None and isinstance(schema, dict) and _schema_type(schema) == "object":
            filled = _fill_defaults(self.op.swagger, schema, {}, set())
            if filled and param.required:
                value = filled
        if value is None:
            if param.required:
                raise InputError(f"operation {self.opid!r} needs parameter {name!r} (body)")
            return None
        if isinstance(value, dict) and isinstance(schema, dict):
            value = _fill_defaults(self.op.swagger, schema, value, set())
        preferred = _preferred(consumes) if consumes else None
        if isinstance(value, dict) and "$content" in value:
            request.content = _file_bytes(value, self._label(param))
            return str(value.get("$content-type") or preferred or "application/octet-stream")
        if isinstance(value, bytes | bytearray):
            request.content = bytes(value)
            return preferred or "application/octet-stream"
        if isinstance(value, str) and isinstance(schema, dict) and _schema_type(schema) in ("string", None):
            request.content = value.encode("utf-8")
            return preferred or "text/plain"
        if isinstance(value, str) and isinstance(schema, dict) and _schema_type(schema) in ("object", "array"):
            parsed = _parse_json(value.encode("utf-8"))
            if parsed is None:
                raise InputError(f"{self._label(param)} must be JSON ({_schema_type(schema)})")
            value = parsed
        request.json = value
        request.has_json = True
        return preferred or "application/json"


def _put(target: dict[str, Any], keys: list[str], value: Any) -> None:
    node = target
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[keys[-1]] = value


def _schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if kind is None and isinstance(schema.get("properties"), dict):
        return "object"
    return str(kind) if kind is not None else None


def _fill_defaults(swagger: Swagger, schema: Any, value: dict[str, Any], seen: set[str]) -> dict[str, Any]:
    """Add the defaults of absent properties that are internal or required, as the designer does
    for a body (§1.7 applied to body properties), recursing into nested objects that are present."""
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref = schema["$ref"]
        if ref in seen:
            return value
        seen = seen | {ref}
        schema = swagger.deref(schema, "")[0]
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return value
    listed = schema.get("required")
    required: list[Any] = listed if isinstance(listed, list) else []
    out = dict(value)
    for name, prop_schema in schema["properties"].items():
        prop = swagger.deref(prop_schema, "")[0]
        if not isinstance(prop, dict):
            continue
        if name not in out:
            if "default" in prop and (name in required or prop.get("x-ms-visibility") == "internal"):
                out[name] = prop["default"]
        elif isinstance(out[name], dict):
            out[name] = _fill_defaults(swagger, prop_schema, out[name], seen)
    return out


# -- coercion and serialization


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_VALUE_LIMIT else text[: _SHOWN_VALUE_LIMIT - 3] + "..."


def _coerce(spec: dict[str, Any], value: Any, label: str, *, show: bool) -> Any:
    """``value`` as the declared ``type`` (strings from a command line are parsed), enum checked."""
    kind = spec.get("type")
    got = f", got {_shown(value)}" if show else ""
    if kind == "integer":
        result: Any = _to_integer(value)
        if result is None:
            raise InputError(f"{label} must be an integer{got}")
    elif kind == "number":
        result = _to_number(value)
        if result is None:
            raise InputError(f"{label} must be a number{got}")
    elif kind == "boolean":
        result = _to_boolean(value)
        if result is None:
            raise InputError(f"{label} must be a boolean (true or false){got}")
    elif kind == "string":
        if isinstance(value, dict | list | bytes | bytearray):
            raise InputError(f"{label} must be a string, got {type(value).__name__}")
        result = _text(value)
    elif kind == "array":
        items = _to_list(value)
        if items is None:
            raise InputError(f"{label} must be an array{got}")
        raw_items = spec.get("items")
        item_spec: dict[str, Any] = raw_items if isinstance(raw_items, dict) else {}
        result = [_coerce(item_spec, item, f"{label} item {i}", show=show) for i, item in enumerate(items)]
    elif kind == "file":
        result = _file_bytes(value, label)
    else:
        result = value
    enum = spec.get("enum")
    if isinstance(enum, list) and enum and kind != "array" and result not in enum:
        allowed = ", ".join(_text(e) for e in enum[:20])
        raise InputError(f"{label} must be one of {allowed}{got}")
    return result


def _to_integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _to_number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        integer = _to_integer(value)
        if integer is not None:
            return integer
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _to_boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _to_list(value: Any) -> list[Any] | None:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            parsed = _parse_json(stripped.encode("utf-8"))
            return parsed if isinstance(parsed, list) else None
        return [] if stripped == "" else value.split(",")
    return None


def _file_bytes(value: Any, label: str) -> bytes:
    """File content: bytes, text (UTF-8), or the flow engine's ``{"$content": base64}`` form."""
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, dict) and isinstance(value.get("$content"), str):
        try:
            return base64.b64decode(value["$content"], validate=True)
        except (binascii.Error, ValueError):
            raise InputError(f"{label} has a $content that is not base64") from None
    raise InputError(f"{label} must be file content (bytes, text or {{'$content': base64}})")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _serialize(spec: dict[str, Any], value: Any, *, repeat: bool) -> list[str]:
    """Wire texts of a value; an array follows ``collectionFormat`` (``multi`` repeats the key
    where ``repeat`` allows it, i.e. in the query and form, and is csv elsewhere)."""
    if not isinstance(value, list):
        return [_text(value)]
    texts = [_text(item) for item in value]
    fmt = str(spec.get("collectionFormat") or "csv").lower()
    if fmt == "multi":
        return texts if repeat else [",".join(texts)]
    return [_COLLECTION_SEPARATORS.get(fmt, ",").join(texts)]


def _parse_json(content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None


# -- URL, media types


def swagger_base_url(swagger: Swagger) -> str | None:
    """The definition's base URL (§1.1), or None when it has no host."""
    return _base_url(swagger) if swagger.host else None


def _base_url(swagger: Swagger) -> str:
    """First scheme (``https`` when none) + host + basePath, no trailing slash (§1.1)."""
    host = swagger.host
    if not host:
        raise InputError("the definition has no host; give a base URL to call it")
    scheme = swagger.schemes[0].lower() if swagger.schemes else "https"
    base_path = swagger.base_path.strip()
    if base_path and not base_path.startswith("/"):
        base_path = "/" + base_path
    return f"{scheme}://{host.strip().rstrip('/')}{base_path.rstrip('/')}"


def _media_list(own: Any, inherited: Any) -> list[str]:
    """Operation-level ``consumes``/``produces`` override the document's (§1.6)."""
    chosen = own if isinstance(own, list) else inherited
    return [str(m) for m in chosen if isinstance(m, str) and m.strip()] if isinstance(chosen, list) else []


def _preferred(media: list[str]) -> str:
    """``application/json`` when listed, else the first entry [INFERRED, §1.6]."""
    return next((m for m in media if m.lower().split(";")[0].strip() == "application/json"), media[0])


# -- authentication


def _apply_auth(
    request: Request,
    swagger: Swagger,
    connection: Mapping[str, Any],
    chosen: str | None,
    declarations: Mapping[str, ConnectionParameter] | None,
) -> None:
    """Add the credentials of one ``securityDefinitions`` entry (§2.2-2.4). Without credentials in
    the connection nothing is added: some connectors set the header with a ``setheader`` policy."""
    schemes = swagger.security_schemes()
    if chosen is not None:
        picked = [s for s in schemes if s.name == chosen]
        if not picked:
            names = ", ".join(s.name for s in schemes) or "none"
            raise InputError(f"no security definition {chosen!r} (the definition has {names})")
        schemes = picked
    for scheme in schemes:
        if _apply_scheme(request, scheme, connection, declarations):
            return


def _apply_scheme(
    request: Request,
    scheme: SecurityScheme,
    connection: Mapping[str, Any],
    declarations: Mapping[str, ConnectionParameter] | None,
) -> bool:
    kind = scheme.type.lower()
    if kind == "apikey":
        key = _api_key(connection, declarations)
        name = scheme.parameter_name
        if key is None or not name:
            return False
        if (scheme.location or "").lower() == "query":
            request.set_query(name, key)
        else:
            request.headers.set(name, key)
        return True
    if kind == "basic":
        username, password = connection.get("username"), connection.get("password")
        if username is None or password is None:
            return False
        pair = f"{_text(username)}:{_text(password)}".encode()
        request.headers.set("Authorization", "Basic " + base64.b64encode(pair).decode("ascii"))
        return True
    if kind == "oauth2":
        token = connection.get("access_token")
        if token is None or token == "":
            return False
        request.headers.set("Authorization", f"Bearer {_text(token)}")
        return True
    return False


def _api_key(connection: Mapping[str, Any], declarations: Mapping[str, ConnectionParameter] | None) -> str | None:
    """``api_key``, else the value of the connector's only ``securestring`` parameter (§2.2)."""
    if connection.get("api_key") is not None:
        return _text(connection["api_key"])
    if declarations:
        secrets = [name for name, decl in declarations.items() if decl.is_secret]
        if len(secrets) == 1 and connection.get(secrets[0]) is not None:
            return _text(connection[secrets[0]])
    return None
