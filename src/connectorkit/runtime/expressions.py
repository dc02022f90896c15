"""The expression language of policy-template parameters (runtime-semantics.md §2.6).

Policy parameters such as ``https://@connectionParameters('tenant').example.com/v1`` or
``Bearer @headers('Authorization')`` are templates: expressions are spliced into literal text.
This module evaluates them against a :class:`~connectorkit.runtime.model.Call` and gives the
policy templates a small path model (``@body().a['b'][0]``) to read and write JSON bodies.

Grammar (function names case-insensitive, arguments in single or double quotes):

- ``@connectionParameters('name'[, 'default'])``, ``@headers('X'[, 'default'])`` (alias
  ``@header``), ``@queryParameters('x'[, 'default'])``, ``@environmentVariables('name'[, 'default'])``;
- ``@body()``, ``@item()``, ``@triggerBody()`` followed by ``.ident``, ``['key']`` or ``[n]`` steps
  (``?`` before a step is accepted and ignored);
- ``@Request.OriginalHTTPMethod``;
- ``@{expr}`` and ``{@expr}`` wrappers.

An ``@`` that does not start one of these (``user@example.com``, ``@odata.nextLink``) is
literal text. ``@name(`` with an unknown ``name`` is an error naming the expression.

Missing values [INFERRED]: the documents only define the two-argument default form. A missing
connection parameter, header, query parameter or body property evaluates to ``""`` (``None`` for
raw values) unless ``strict=True`` is passed, in which case a missing connection parameter or
environment variable without a default raises :class:`ExpressionError`.

Error messages quote the template, never the evaluated values: templates name secrets, values are
secrets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from connectorkit.errors import InputError
from connectorkit.runtime.model import Call


class ExpressionError(InputError):
    """A policy-template expression that cannot be parsed or evaluated."""


class _Missing:
    """Marker for "no value in scope" (``None`` is a JSON value)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

Step = str | int

_VALUE_FUNCTIONS: Final = {
    "connectionparameters": "connectionParameters",
    "headers": "headers",
    "header": "headers",
    "queryparameters": "queryParameters",
    "environmentvariables": "environmentVariables",
}
_PATH_FUNCTIONS: Final = {"body": "body", "item": "item", "triggerbody": "triggerBody"}
_ORIGINAL_METHOD: Final = "request.originalhttpmethod"


@dataclass
class Scope:
    """What an expression can see besides the call.

    ``section`` chooses what ``@body()`` means: the request body (``"request"``) or the response
    body (``"response"``/``"failure"``). ``item`` is the element being processed when a policy
    runs over an array; ``original_method`` is the method before any routing policy changed it.
    """

    call: Call
    section: str = "request"
    item: Any = MISSING
    trigger_body: Any = MISSING
    environment: Mapping[str, str] = field(default_factory=dict)
    original_method: str | None = None
    strict: bool = False

    def with_item(self, item: Any) -> Scope:
        return Scope(
            call=self.call,
            section=self.section,
            item=item,
            trigger_body=self.trigger_body,
            environment=self.environment,
            original_method=self.original_method,
            strict=self.strict,
        )


@dataclass(frozen=True)
class PathRef:
    """A location in a JSON document: ``root`` is ``body``, ``item``, ``triggerBody`` or ``None``
    (relative to a parent the caller supplies)."""

    root: str | None
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class _Expr:
    function: str
    args: tuple[str, ...] = ()
    steps: tuple[Step, ...] = ()


# ---------------------------------------------------------------------------------------- parsing


class _Parser:
    def __init__(self, text: str, template: str) -> None:
        self.text = text
        self.template = template
        self.pos = 0

    def fail(self, problem: str) -> ExpressionError:
        return ExpressionError(f"bad policy expression {self.template!r}: {problem}")

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else ""

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def ident(self) -> str:
        start = self.pos
        while self.peek() and (self.peek().isalnum() or self.peek() in "_$"):
            self.pos += 1
        return self.text[start : self.pos]

    def quoted(self) -> str:
        quote = self.peek()
        if quote not in ("'", '"'):
            raise self.fail(f"expected a quoted string at offset {self.pos}")
        self.pos += 1
        out: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.fail("unterminated string")
            self.pos += 1
            if char == quote:
                if self.peek() == quote:  # doubled quote escapes itself
                    out.append(quote)
                    self.pos += 1
                    continue
                return "".join(out)
            out.append(char)

    def args(self) -> tuple[str, ...]:
        if self.peek() != "(":
            raise self.fail("expected '('")
        self.pos += 1
        self.skip_space()
        values: list[str] = []
        if self.peek() == ")":
            self.pos += 1
            return ()
        while True:
            self.skip_space()
            values.append(self.quoted())
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == ")":
                self.pos += 1
                return tuple(values)
            raise self.fail("expected ',' or ')' in the argument list")

    def steps(self, *, allow_bare_first: bool = False) -> tuple[Step, ...]:
        out: list[Step] = []
        first = True
        while True:
            start = self.pos
            if self.peek() == "?" and self.peek(1) in (".", "["):
                self.pos += 1
            char = self.peek()
            if char == "." and (self.peek(1).isalpha() or self.peek(1) in "_$"):
                self.pos += 1
                out.append(self.ident())
            elif char == "[":
                self.pos += 1
                self.skip_space()
                if self.peek() in ("'", '"'):
                    out.append(self.quoted())
                else:
                    digits = self.ident()
                    if not digits.isdigit():
                        raise self.fail("expected a quoted key or an index inside '[...]'")
                    out.append(int(digits))
                self.skip_space()
                if self.peek() != "]":
                    raise self.fail("expected ']'")
                self.pos += 1
            elif first and allow_bare_first and (char.isalpha() or char in "_$@"):
                start_ident = self.pos
                while self.peek() and (self.peek().isalnum() or self.peek() in "_$@-"):
                    self.pos += 1
                out.append(self.text[start_ident : self.pos])
            else:
                self.pos = start
                return tuple(out)
            first = False

    def expression(self) -> _Expr:
        """Parse one expression at ``pos`` (after the ``@``)."""
        start = self.pos
        name = self.ident()
        if name.lower() == "request" and self.peek() == ".":
            self.pos += 1
            member = self.ident()
            if f"{name}.{member}".lower() == _ORIGINAL_METHOD:
                return _Expr("originalMethod")
            raise self.fail(f"unknown member 'Request.{member}'")
        if not name:
            raise self.fail(f"expected a function name at offset {start}")
        lowered = name.lower()
        if lowered in _VALUE_FUNCTIONS:
            args = self.args()
            if not 1 <= len(args) <= 2:
                raise self.fail(f"{name}() takes a name and an optional default")
            return _Expr(_VALUE_FUNCTIONS[lowered], args)
        if lowered in _PATH_FUNCTIONS:
            if self.args():
                raise self.fail(f"{name}() takes no arguments")
            return _Expr(_PATH_FUNCTIONS[lowered], (), self.steps())
        raise self.fail(f"unknown function '{name}'")


def _starts_expression(text: str, pos: int) -> bool:
    """True when the ``@`` at ``pos`` begins an expression rather than literal text."""
    rest = text[pos + 1 :]
    if rest.lower().startswith("request.") and rest[8:9].isalpha():
        return True
    length = 0
    while length < len(rest) and (rest[length].isalnum() or rest[length] in "_$"):
        length += 1
    return length > 0 and rest[length : length + 1] == "("


def _closing_brace(text: str, start: int, template: str) -> int:
    """Index of the ``}`` closing the brace opened before ``start``, skipping quoted strings."""
    quote = ""
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in ("'", '"'):
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
    raise ExpressionError(f"bad policy expression {template!r}: unclosed '{{'")


Segment = str | _Expr


def parse_template(template: str) -> list[Segment]:
    """Split a template into literal text and expressions."""
    segments: list[Segment] = []
    literal: list[str] = []
    pos = 0
    text = template

    def flush() -> None:
        if literal:
            segments.append("".join(literal))
            literal.clear()

    while pos < len(text):
        char = text[pos]
        wrapped = (char == "@" and text[pos + 1 : pos + 2] == "{") or (char == "{" and text[pos + 1 : pos + 2] == "@")
        if wrapped:
            end = _closing_brace(text, pos + 2, template)
            inner = text[pos + 2 : end].strip()
            if char == "{":
                inner = "@" + inner
            parser = _Parser(inner[1:] if inner.startswith("@") else inner, template)
            expr = parser.expression()
            parser.skip_space()
            if parser.pos != len(parser.text):
                raise parser.fail(f"unexpected text {parser.text[parser.pos :]!r} inside braces")
            flush()
            segments.append(expr)
            pos = end + 1
        elif char == "@" and _starts_expression(text, pos):
            parser = _Parser(text, template)
            parser.pos = pos + 1
            expr = parser.expression()
            flush()
            segments.append(expr)
            pos = parser.pos
        else:
            literal.append(char)
            pos += 1
    flush()
    return segments


def parse_path(text: str) -> PathRef:
    """Parse a property path: ``@body().a.b``, ``@item()['x']``, or a relative ``a.b`` /
    ``['@odata.type']``. ``"null"`` and ``""`` mean the parent itself (relative, no steps)."""
    stripped = text.strip()
    if stripped in ("", "null"):
        return PathRef(None)
    if stripped.startswith("@"):
        parser = _Parser(stripped[1:], text)
        expr = parser.expression()
        if expr.function not in _PATH_FUNCTIONS.values():
            raise parser.fail("a property path must start with @body(), @item() or @triggerBody()")
        if parser.pos != len(parser.text):
            raise parser.fail(f"unexpected text {parser.text[parser.pos :]!r} after the path")
        return PathRef(expr.function, expr.steps)
    parser = _Parser(stripped, text)
    steps = parser.steps(allow_bare_first=True)
    if parser.pos != len(parser.text):
        raise parser.fail(f"unexpected text {parser.text[parser.pos :]!r} in the path")
    return PathRef(None, steps)


# ------------------------------------------------------------------------------------- evaluation


def _lookup(mapping: Mapping[str, Any], name: str) -> Any:
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    return next((value for key, value in mapping.items() if key.lower() == lowered), MISSING)


def _root_value(root: str, scope: Scope, template: str) -> Any:
    if root == "body":
        if scope.section == "request":
            request = scope.call.request
            return request.json if request.has_json else None
        response = scope.call.response
        if response is None:
            raise ExpressionError(f"policy expression {template!r} reads the response body, but there is no response")
        return response.json if response.has_json else None
    if root == "item":
        if scope.item is MISSING:
            raise ExpressionError(f"policy expression {template!r} uses @item() outside an array")
        return scope.item
    if scope.trigger_body is MISSING:
        raise ExpressionError(f"policy expression {template!r} uses @triggerBody() outside a trigger")
    return scope.trigger_body


def walk(value: Any, steps: tuple[Step, ...]) -> Any:
    """Follow ``steps`` into ``value``; ``MISSING`` when a step does not exist."""
    for step in steps:
        if isinstance(step, int) and isinstance(value, list):
            if not -len(value) <= step < len(value):
                return MISSING
            value = value[step]
        elif isinstance(step, str) and isinstance(value, dict):
            if step not in value:
                return MISSING
            value = value[step]
        else:
            return MISSING
    return value


def _evaluate_expr(expr: _Expr, scope: Scope, template: str) -> Any:
    call = scope.call
    if expr.function == "originalMethod":
        return scope.original_method or call.request.method
    if expr.function in ("body", "item", "triggerBody"):
        return walk(_root_value(expr.function, scope, template), expr.steps)
    name = expr.args[0]
    default: Any = expr.args[1] if len(expr.args) > 1 else MISSING
    if expr.function == "connectionParameters":
        value = _lookup(call.connection, name)
    elif expr.function == "environmentVariables":
        value = _lookup(scope.environment, name)
    elif expr.function == "headers":
        value = call.request.headers.get(name)
    else:
        value = call.request.query_value(name)
    if value is None or value is MISSING or (value == "" and default is not MISSING):
        if default is not MISSING:
            return default
        if scope.strict and expr.function in ("connectionParameters", "environmentVariables"):
            kind = "connection parameter" if expr.function == "connectionParameters" else "environment variable"
            raise ExpressionError(f"policy expression {template!r}: {kind} {name!r} has no value and no default")
        return MISSING
    return value


def to_text(value: Any) -> str:
    """How a value is spliced into text: JSON for objects and arrays, ``""`` for nothing."""
    if value is MISSING or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def evaluate_in(template: str, scope: Scope) -> str:
    """Evaluate ``template`` to text in ``scope``."""
    return "".join(
        part if isinstance(part, str) else to_text(_evaluate_expr(part, scope, template))
        for part in parse_template(template)
    )


def evaluate_value_in(template: str, scope: Scope) -> Any:
    """Like :func:`evaluate_in`, but a template that is exactly one expression gives the raw
    value (an object, a number, ``None`` when missing) instead of text."""
    segments = parse_template(template)
    if len(segments) == 1 and isinstance(segments[0], _Expr):
        value = _evaluate_expr(segments[0], scope, template)
        return None if value is MISSING else value
    return evaluate_in(template, scope)


def evaluate_complete_in(template: str, scope: Scope) -> str:
    """Like :func:`evaluate_in`, but an expression that finds no value raises
    :class:`ExpressionError` instead of splicing ``""``: a ``pollingtrigger`` whose
    ``triggerConfig`` finds nothing (an empty page) keeps its previous state rather than asking
    the backend for ``lastModifiedDateTime gt `` (runtime-semantics.md §4.3)."""
    out: list[str] = []
    for part in parse_template(template):
        if isinstance(part, str):
            out.append(part)
            continue
        value = _evaluate_expr(part, scope, template)
        if value is MISSING or value is None:
            raise ExpressionError(f"policy expression {template!r} found no value")
        out.append(to_text(value))
    return "".join(out)


def is_single_expression(template: str) -> bool:
    segments = parse_template(template)
    return len(segments) == 1 and isinstance(segments[0], _Expr)


def evaluate(
    template: str,
    call: Call,
    *,
    section: str = "request",
    item: Any = MISSING,
    environment: Mapping[str, str] | None = None,
    strict: bool = False,
) -> str:
    """Evaluate a policy-template string against ``call``; expressions are spliced as text."""
    scope = Scope(call, section=section, item=item, environment=environment or {}, strict=strict)
    return evaluate_in(template, scope)


def evaluate_value(
    template: str,
    call: Call,
    *,
    section: str = "request",
    item: Any = MISSING,
    environment: Mapping[str, str] | None = None,
    strict: bool = False,
) -> Any:
    """Evaluate ``template``; a whole-string expression such as ``@body().items`` keeps its type."""
    scope = Scope(call, section=section, item=item, environment=environment or {}, strict=strict)
    return evaluate_value_in(template, scope)


# ------------------------------------------------------------------------------ reading and writing


def resolve(ref: PathRef, scope: Scope, *, parent: Any = MISSING, template: str = "") -> Any:
    """The value at ``ref`` (``MISSING`` when absent). Relative paths start at ``parent``."""
    base = parent if ref.root is None else _root_value(ref.root, scope, template or ref.root)
    return walk(base, ref.steps)


def assign(ref: PathRef, scope: Scope, value: Any, *, parent: Any = MISSING, template: str = "") -> None:
    """Write ``value`` at ``ref``, creating missing objects on the way.

    ``@body()`` with no steps replaces the whole body of the current section.
    """
    name = template or "path"
    if not ref.steps:
        if ref.root == "body":
            if scope.section == "request":
                scope.call.request.json = value
                scope.call.request.has_json = True
            elif scope.call.response is not None:
                scope.call.response.json = value
                scope.call.response.has_json = True
            return
        raise ExpressionError(f"cannot replace {name!r} itself; name a property under it")
    if ref.root is None:
        container = parent
    else:
        container = _root_value(ref.root, scope, name)
        if container is None and ref.root == "body":
            assign(PathRef("body"), scope, {})
            container = _root_value("body", scope, name)
    for step, following in zip(ref.steps, ref.steps[1:], strict=False):
        child = walk(container, (step,))
        if not isinstance(child, dict | list):
            child = [] if isinstance(following, int) else {}
            _put(container, step, child, name)
        container = child
    _put(container, ref.steps[-1], value, name)


def remove(ref: PathRef, scope: Scope, *, parent: Any = MISSING, template: str = "") -> None:
    """Delete the property at ``ref`` if it exists."""
    if not ref.steps:
        return
    holder = resolve(PathRef(ref.root, ref.steps[:-1]), scope, parent=parent, template=template)
    last = ref.steps[-1]
    if isinstance(holder, dict) and isinstance(last, str):
        holder.pop(last, None)
    elif isinstance(holder, list) and isinstance(last, int) and -len(holder) <= last < len(holder):
        del holder[last]


def _put(container: Any, step: Step, value: Any, name: str) -> None:
    fits_dict = isinstance(container, dict) and isinstance(step, str)
    fits_list = isinstance(container, list) and isinstance(step, int) and -len(container) <= step < len(container)
    if fits_dict or fits_list:
        container[step] = value
    else:
        raise ExpressionError(f"cannot write {name!r}: its parent is not an object")
