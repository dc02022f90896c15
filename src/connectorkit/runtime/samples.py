"""Valid sample arguments for an operation, made from its Swagger parameters and schemas.

The local console pre-fills its forms and body editor with these, and the fidelity benchmark
calls every corpus operation with them. A sample is meant to pass the definition's own checks
(type, format, enum, bounds, lengths, simple patterns, required body properties), so a backend or
mock that validates requests against the same definition accepts it. Values are deterministic:
the same definition always gives the same sample.

Files (``type: file`` form fields, binary bodies) are given in the flow engine's
``{"$content-type": ..., "$content": base64}`` form, which request building accepts and which
stays JSON, so the sample can be shown in an editor.

Two options shape a sample for a person rather than a machine (the console's body editor):
``examples`` prefers the author's ``example`` / ``x-ms-test-value`` when it meets the schema, and
``internal=False`` leaves out the ``x-ms-visibility: internal`` properties that request building
fills from their defaults, as the designer hides them.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from connectorkit.definition.swagger import Operation, Parameter, Swagger
from connectorkit.runtime.request import find_operation

__all__ = ["sample_arguments", "sample_body", "sample_pattern", "sample_value"]

SAMPLE_TEXT = "sample"
SAMPLE_FILE = {"$content": base64.b64encode(b"sample file").decode("ascii")}
_MAX_DEPTH = 12

_STRING_FORMATS: dict[str, str] = {
    "date-time": "2024-01-15T09:30:00Z",
    "date": "2024-01-15",
    "time": "09:30:00",
    "duration": "PT1H",
    "email": "user@example.com",
    "uri": "https://example.com/resource",
    "url": "https://example.com/resource",
    "uri-reference": "https://example.com/resource",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "guid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "byte": base64.b64encode(SAMPLE_TEXT.encode()).decode("ascii"),
    "password": "sample-password",
    "int32": "1",
    "int64": "1",
    "float": "1.5",
    "double": "1.5",
    "html": "<p>sample</p>",
}


def sample_arguments(
    swagger: Swagger,
    operation: Operation | str,
    *,
    optional: bool = False,
    examples: bool = False,
    internal: bool = True,
) -> dict[str, Any]:
    """Inputs for one call of ``operation`` (an :class:`Operation` or its operationId), keyed by
    parameter name as :func:`~connectorkit.runtime.request.build_request` takes them.

    Every required parameter (path parameters are always required) gets a value, and so does
    every ``x-ms-visibility: internal`` parameter that has a ``default`` (the designer sends
    those). With ``optional`` the other parameters, and every body property rather than only the
    required ones, are filled too. A declared ``default`` or the first ``enum`` entry is used when
    it fits the parameter; otherwise a value is made from the type, format and bounds.
    ``examples`` and ``internal`` are as in the module's description.
    """
    op = find_operation(swagger, operation) if isinstance(operation, str) else operation
    maker = _Maker(swagger, optional, examples, internal)
    out: dict[str, Any] = {}
    for param in op.parameters:
        if not _wanted(param, optional):
            continue
        media = _media_header(op, param)
        if param.location == "body":
            out[param.name] = maker.body(param.raw.get("schema"))
        elif media is not None:
            out[param.name] = media
        else:
            out[param.name] = maker.value(param.raw, 0, frozenset())
    return out


def sample_value(
    swagger: Swagger, schema: Any, *, optional: bool = False, examples: bool = False, internal: bool = True
) -> Any:
    """A value that is valid for ``schema`` (a Swagger schema or non-body parameter object;
    ``$ref``, ``allOf``, nested objects and arrays are followed). With ``optional`` an object gets
    all its properties, not only the required ones; ``examples`` and ``internal`` are as in the
    module's description."""
    return _Maker(swagger, optional, examples, internal).value(schema, 0, frozenset())


def sample_body(
    swagger: Swagger, schema: Any, *, optional: bool = False, examples: bool = False, internal: bool = True
) -> Any:
    """A value for a body parameter's ``schema``, as :func:`sample_arguments` gives it: also a
    file for a binary body and an empty object for a schema that says nothing."""
    return _Maker(swagger, optional, examples, internal).body(schema)


def _wanted(param: Parameter, optional: bool) -> bool:
    if optional or param.required or param.location == "path":
        return True
    return param.visibility == "internal" and "default" in param.raw


def _media_header(op: Operation, param: Parameter) -> str | None:
    """A media type for a plain ``Accept`` or ``Content-Type`` header parameter: the operation's
    ``produces`` or ``consumes`` choice, since "sample" is no media type a server would take."""
    name = param.name.lower()
    if param.location != "header" or name not in ("accept", "content-type") or "enum" in param.raw:
        return None
    if param.raw.get("default") not in (None, ""):
        return None
    listed = op.raw.get("produces" if name == "accept" else "consumes")
    if not isinstance(listed, list):
        listed = op.swagger.doc.get("produces" if name == "accept" else "consumes")
    media = [str(m) for m in listed if isinstance(m, str) and m.strip()] if isinstance(listed, list) else []
    return next(
        (m for m in media if m.lower().startswith("application/json")), media[0] if media else "application/json"
    )


@dataclass(frozen=True)
class _Maker:
    swagger: Swagger
    optional: bool
    examples: bool = False
    internal: bool = True

    def body(self, schema: Any) -> Any:
        """A body: a file for a binary string, an empty object when the schema says nothing."""
        target, _ = self.swagger.deref(schema, "")
        if not isinstance(target, dict) or (_kind(target) is None and not _has_constraints(target)):
            return {}
        if _kind(target) == "string" and str(target.get("format", "")).lower() == "binary":
            return dict(SAMPLE_FILE)
        return self.value(schema, 0, frozenset())

    def value(self, schema: Any, depth: int, seen: frozenset[str]) -> Any:
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if ref in seen or depth > _MAX_DEPTH:
                return None
            seen = seen | {ref}
            schema, _ = self.swagger.deref(schema, "")
        if not isinstance(schema, dict):
            return SAMPLE_TEXT
        if self.examples:
            for key in ("example", "x-ms-test-value"):
                if key in schema and _conforms(self.swagger, schema, schema[key]):
                    return copy.deepcopy(schema[key])  # the caller may edit it; the definition stays
        if isinstance(schema.get("allOf"), list):
            return self._all_of(schema, depth, seen)
        enum = schema.get("enum")
        if isinstance(enum, list):
            entries = [e for e in enum if e is not None]
            chosen = next((e for e in entries if _fits(schema, e)), entries[0] if entries else None)
            if chosen is not None:
                return chosen
        default = schema.get("default")
        # "" is a placeholder, not a value; a default must meet its whole schema, format included
        # (definitions carry stale ones such as "12/01/2018" for a date).
        if default is not None and default != "" and _conforms(self.swagger, schema, default):
            return default
        maker = _BY_KIND.get(_kind(schema) or "")
        if maker is None:
            return self._untyped(schema, depth, seen)
        return maker(self, schema, depth, seen)

    def _untyped(self, schema: dict[str, Any], depth: int, seen: frozenset[str]) -> Any:
        if isinstance(schema.get("items"), dict):
            return self._array(schema, depth, seen)
        return _string(self, schema, depth, seen)

    def _all_of(self, schema: dict[str, Any], depth: int, seen: frozenset[str]) -> Any:
        """Objects from the parts are merged; a part that is not an object wins only when no
        part is one (``allOf: [{$ref: a string schema}]`` is a string)."""
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        parts = list(schema["allOf"]) + ([rest] if _kind(rest) is not None else [])
        pieces = [self.value(part, depth + 1, seen) for part in parts]
        objects = [piece for piece in pieces if isinstance(piece, dict)]
        if objects or not pieces:
            return {k: v for piece in objects for k, v in piece.items()}
        return next((piece for piece in pieces if piece is not None), {})

    def _object(self, schema: dict[str, Any], depth: int, seen: frozenset[str]) -> Any:
        properties = schema.get("properties")
        if not isinstance(properties, dict) or depth > _MAX_DEPTH:
            return {}
        listed = schema.get("required")
        required = {str(n) for n in listed} if isinstance(listed, list) else set()
        out: dict[str, Any] = {}
        for name, prop in properties.items():
            target, _ = self.swagger.deref(prop, "")
            info = target if isinstance(target, dict) else {}
            internal = info.get("x-ms-visibility") == "internal"
            if internal and not self.internal and ("default" in info or name not in required):
                continue  # request building adds the default; an optional one without is not asked for
            internal_default = internal and "default" in info
            if name in required or internal_default:
                pass
            elif not self.optional or info.get("readOnly") is True:
                continue
            value = self.value(prop, depth + 1, seen)
            if value is None and name not in required:
                continue
            out[name] = {} if value is None else value
        return out

    def _array(self, schema: dict[str, Any], depth: int, seen: frozenset[str]) -> Any:
        maximum = _int(schema.get("maxItems"))
        if maximum == 0:
            return []
        count = max(1, _int(schema.get("minItems")) or 0)
        items = schema.get("items")
        # Request building fills internal defaults only through nested objects, not array items,
        # so items keep theirs even when ``internal`` is off.
        maker = self if self.internal else replace(self, internal=True)
        first = maker.value(items, depth + 1, seen) if isinstance(items, dict) else SAMPLE_TEXT
        if first is None:
            return []
        if count == 1:
            return [first]
        target, _ = maker.swagger.deref(items, "")
        enum = target.get("enum") if isinstance(target, dict) else None
        if schema.get("uniqueItems") is True and isinstance(enum, list) and len(enum) >= count:
            return list(enum[:count])
        if schema.get("uniqueItems") is True and isinstance(first, str):
            return [first] + [f"{first}{i}" for i in range(1, count)]
        return [first] * count


def _number(maker: _Maker, schema: dict[str, Any], depth: int, seen: frozenset[str]) -> Any:
    """The smallest allowed value (or 1, 1.5 for non-integers) that meets the bounds and step."""
    del maker, depth, seen
    integer = _kind(schema) == "integer" or str(schema.get("format", "")).lower() in ("int32", "int64")
    low, high = _float(schema.get("minimum")), _float(schema.get("maximum"))
    step = _float(schema.get("multipleOf"))
    nudge = 1.0 if integer else 0.5
    if low is not None and schema.get("exclusiveMinimum") is True:
        low += nudge if high is None or low + nudge < high else (high - low) / 2
    if high is not None and schema.get("exclusiveMaximum") is True:
        high -= nudge
    if low is not None:
        value = low
    elif high is not None:
        value = min(1.0 if integer else 1.5, high)
    else:
        value = 1.0 if integer or step else 1.5
    if step and step > 0:
        value = math.ceil(value / step) * step
    if integer:
        return math.ceil(value)
    return int(value) if float(value).is_integer() else value


def _boolean(maker: _Maker, schema: dict[str, Any], depth: int, seen: frozenset[str]) -> Any:
    del maker, schema, depth, seen
    return True


def _file(maker: _Maker, schema: dict[str, Any], depth: int, seen: frozenset[str]) -> Any:
    del maker, schema, depth, seen
    return dict(SAMPLE_FILE)


def _string(maker: _Maker, schema: dict[str, Any], depth: int, seen: frozenset[str]) -> Any:
    """Format sample, else pattern sample, else ``sample``; then fitted to the length bounds."""
    del maker, depth, seen
    low = _int(schema.get("minLength")) or 0
    high = _int(schema.get("maxLength"))
    pattern = schema.get("pattern") if isinstance(schema.get("pattern"), str) else None
    if schema.get("x-ms-notification-url") is True:
        text = "https://example.com/callback"
    else:
        text = _STRING_FORMATS.get(str(schema.get("format", "")).lower(), SAMPLE_TEXT)
    if pattern is not None and not _matches(pattern, text, low, high):
        made = sample_pattern(pattern, min_length=low, max_length=high)
        if made is not None:
            return made
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if high is not None and len(text) > high:
        text = text[:high]
    return text


_BY_KIND: dict[str, Callable[[_Maker, dict[str, Any], int, frozenset[str]], Any]] = {
    "integer": _number,
    "number": _number,
    "boolean": _boolean,
    "string": _string,
    "file": _file,
    "object": _Maker._object,
    "array": _Maker._array,
}


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if isinstance(kind, str):
        return kind.lower()
    if isinstance(schema.get("properties"), dict) or isinstance(schema.get("additionalProperties"), dict):
        return "object"
    return None


def _has_constraints(schema: dict[str, Any]) -> bool:
    return any(k in schema for k in ("items", "enum", "format", "pattern", "allOf", "$ref"))


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _fits(schema: dict[str, Any], value: Any) -> bool:
    """Whether a declared default or enum entry meets the schema's own type, bounds and pattern
    (definitions carry defaults such as ``"@connectionParameters('x')"`` that would not)."""
    kind = _kind(schema)
    if kind == "string":
        if not isinstance(value, str):
            return False
        low, high = _int(schema.get("minLength")) or 0, _int(schema.get("maxLength"))
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            return _matches(pattern, value, low, high)
        return len(value) >= low and (high is None or len(value) <= high)
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if kind == "integer" and not float(value).is_integer():
            return False
        floor, ceiling = _float(schema.get("minimum")), _float(schema.get("maximum"))
        return (floor is None or value >= floor) and (ceiling is None or value <= ceiling)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list) and (len(value) >= (_int(schema.get("minItems")) or 0))
    if kind == "object":
        return isinstance(value, dict)
    return True


def _conforms(swagger: Swagger, schema: Any, value: Any) -> bool:
    """Whether ``value`` (an author's example) meets ``schema`` all the way down: type, enum,
    bounds, lengths, pattern, the formats JSON Schema checks, required and declared properties,
    items. Examples are often stale or written for another shape, so one is used only if it passes.
    The recursion follows ``value``, which is finite, so ``$ref`` cycles cannot loop."""
    schema, _ = swagger.deref(schema, "")
    if not isinstance(schema, dict):
        return True
    if isinstance(schema.get("allOf"), list):
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return all(_conforms(swagger, part, value) for part in [*schema["allOf"], rest])
    enum = schema.get("enum")
    if value is None or (isinstance(enum, list) and value not in enum) or not _fits(schema, value):
        return False
    kind = _kind(schema)
    if kind == "integer" and isinstance(value, float):
        return False
    if isinstance(value, str):
        return _format_ok(str(schema.get("format", "")).lower(), value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _step_ok(schema, value)
    if isinstance(value, dict) and kind == "object":
        return _object_conforms(swagger, schema, value)
    if isinstance(value, list) and kind == "array":
        high = _int(schema.get("maxItems"))
        items = schema.get("items")
        fits_items = not isinstance(items, dict) or all(_conforms(swagger, items, item) for item in value)
        return (high is None or len(value) <= high) and fits_items
    return True


def _object_conforms(swagger: Swagger, schema: dict[str, Any], value: dict[str, Any]) -> bool:
    declared = schema.get("properties")
    properties: dict[str, Any] = declared if isinstance(declared, dict) else {}
    listed = schema.get("required")
    if isinstance(listed, list) and any(str(name) not in value for name in listed):
        return False
    extra = schema.get("additionalProperties")
    for key, item in value.items():
        if key in properties:
            if not _conforms(swagger, properties[key], item):
                return False
        elif extra is False or (isinstance(extra, dict) and not _conforms(swagger, extra, item)):
            return False
    return True


def _step_ok(schema: dict[str, Any], value: float) -> bool:
    low, high, step = _float(schema.get("minimum")), _float(schema.get("maximum")), _float(schema.get("multipleOf"))
    if low is not None and schema.get("exclusiveMinimum") is True and value <= low:
        return False
    if high is not None and schema.get("exclusiveMaximum") is True and value >= high:
        return False
    return not step or step <= 0 or math.isclose(value / step, round(value / step))


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _format_ok(fmt: str, text: str) -> bool:
    """The formats a JSON Schema checker tests, read strictly (RFC 3339 dates, real addresses)."""
    try:
        if fmt == "date-time":
            return _DATE_TIME.fullmatch(text) is not None and bool(datetime.fromisoformat(text.replace("Z", "+00:00")))
        if fmt == "date":
            return _DATE.fullmatch(text) is not None and bool(date.fromisoformat(text))
        if fmt in ("ipv4", "ipv6"):
            return ipaddress.ip_address(text).version == (4 if fmt == "ipv4" else 6)
        if fmt in ("uuid", "guid"):
            return bool(uuid.UUID(text))
    except ValueError:
        return False
    if fmt == "email":
        return "@" in text
    if fmt in ("uri", "url"):
        return bool(urlsplit(text).scheme)
    return True


def _matches(pattern: str, text: str, low: int = 0, high: int | None = None) -> bool:
    if len(text) < low or (high is not None and len(text) > high):
        return False
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return True  # a pattern Python cannot read is not ours to enforce


# -- patterns


class _Unsupported(Exception):
    """The pattern uses a construct the sampler does not generate (lookaround, backreference)."""


_CANDIDATES = "aA0b1x_-. " + "".join(chr(c) for c in range(33, 127))
_ESCAPE_SAMPLES = {"d": "0", "D": "a", "w": "a", "W": "-", "s": " ", "S": "a"}
_CONTROL_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v", "0": "\0"}


def sample_pattern(pattern: str, *, min_length: int = 0, max_length: int | None = None) -> str | None:
    """A string that ``pattern`` matches (ECMA/Python regex syntax), within the length bounds,
    or ``None`` when the pattern is beyond this small generator or no attempt fits.

    Alternatives take their first branch and each repeat its smallest count of at least one; when
    the result is too short, repeats are widened until it is long enough."""
    for widen in (1, 2, 4, 8, 16, 32, 64, 128, 256):
        try:
            text = _PatternSampler(pattern, widen).run()
        except (_Unsupported, IndexError, ValueError):
            return None
        if _matches(pattern, text, min_length, max_length):
            return text
        if len(text) >= min_length:
            break
    return None


class _PatternSampler:
    """Reads a regex once, writing one matching string as it goes."""

    def __init__(self, pattern: str, widen: int) -> None:
        self.text = pattern
        self.pos = 0
        self.widen = widen

    def run(self) -> str:
        out = self._alternation()
        if self.pos != len(self.text):
            raise _Unsupported(f"unbalanced ')' at {self.pos}")
        return out

    def _peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def _alternation(self) -> str:
        first = self._sequence()
        while self._peek() == "|":
            self.pos += 1
            self._sequence()
        return first

    def _sequence(self) -> str:
        parts: list[str] = []
        while self._peek() not in (None, "|", ")"):
            atom = self._atom()
            low, high = self._quantifier()
            parts.append(atom * self._count(low, high))
        return "".join(parts)

    def _count(self, low: int, high: int | None) -> int:
        want = max(low, self.widen if (high is None or high > 1) else 1)
        return want if high is None else min(want, high)

    def _quantifier(self) -> tuple[int, int | None]:
        char = self._peek()
        if char in ("*", "+", "?"):
            self.pos += 1
            bounds: tuple[int, int | None] = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        elif char == "{" and re.match(r"\{\d+(,\d*)?\}", self.text[self.pos :]):
            end = self.text.index("}", self.pos)
            low_text, comma, high_text = self.text[self.pos + 1 : end].partition(",")
            self.pos = end + 1
            bounds = (int(low_text), (int(high_text) if high_text else None) if comma else int(low_text))
        else:
            return 1, 1
        if self._peek() in ("?", "+"):
            self.pos += 1
        return bounds

    def _atom(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        if char in ("^", "$"):
            return ""
        if char == ".":
            return "a"
        if char == "(":
            return self._group()
        if char == "[":
            return self._class()
        if char == "\\":
            return self._escape()
        return char

    def _group(self) -> str:
        if self.text.startswith("?", self.pos):
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.text.startswith("?<", self.pos) and self.text[self.pos + 2 : self.pos + 3] not in ("=", "!"):
                self.pos = self.text.index(">", self.pos) + 1
            else:
                raise _Unsupported("lookaround")
        inner = self._alternation()
        if self._peek() != ")":
            raise _Unsupported("unclosed group")
        self.pos += 1
        return inner

    def _class(self) -> str:
        start = self.pos - 1
        index = self.pos + (1 if self.text.startswith("^", self.pos) else 0)
        index += 1 if self.text.startswith("]", index) else 0
        while self.text[index] != "]":
            index += 2 if self.text[index] == "\\" else 1
        self.pos = index + 1
        return _first_match(self.text[start : self.pos])

    def _escape(self) -> str:
        char = self.text[self.pos]
        self.pos += 1
        if char in _ESCAPE_SAMPLES:
            return _ESCAPE_SAMPLES[char]
        if char in ("b", "B"):
            return ""
        if char in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[char]
        if char.isdigit() or char == "k":
            raise _Unsupported("backreference")
        if char in ("x", "u"):
            width = 2 if char == "x" else 4
            code = self.text[self.pos : self.pos + width]
            self.pos += width
            return chr(int(code, 16))
        return char


def _first_match(char_class: str) -> str:
    """The first candidate character that a ``[...]`` class matches."""
    try:
        compiled = re.compile(char_class)
    except re.error as exc:
        raise _Unsupported(str(exc)) from None
    for char in _CANDIDATES:
        if compiled.fullmatch(char):
            return char
    raise _Unsupported(f"no printable ASCII character matches {char_class}")
