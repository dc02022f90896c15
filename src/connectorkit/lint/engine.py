"""One walk over a connector, dispatching each node to the rules that subscribe to it.

The walk visits every path item, operation, parameter, response, security scheme and schema
object exactly once, where it is written (``$ref`` targets are visited under ``definitions``,
``parameters`` and ``responses``, not again at each use). Rules that need the whole picture
(cross-operation references, counts) read the context's indexes, which are built once on first
use. A rule that raises is reported as a finding of its own rather than stopping the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.jsontext import pointer_join
from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import HTTP_METHODS, Operation, Swagger
from connectorkit.lint.registry import REGISTRY, Category, Hit, On, Profile, Rule

log = logging.getLogger(__name__)
T = TypeVar("T")

INTERNAL_ERROR = "ConnectorkitInternalError"


# --------------------------------------------------------------------------- nodes


@dataclass(slots=True)
class PathItemNode:
    path: str
    raw: dict[str, Any]
    pointer: str


@dataclass(slots=True)
class ParameterNode:
    """A parameter object as written: under root ``parameters`` (``where="root"``), a path item
    (``"path"``) or an operation (``"operation"``). ``raw`` may be a ``{"$ref": …}`` entry."""

    raw: dict[str, Any]
    pointer: str
    where: str
    path: str | None = None
    operation: Operation | None = None

    @property
    def location(self) -> str:
        return str(self.raw.get("in", ""))

    @property
    def name(self) -> str:
        return str(self.raw.get("name", ""))

    @property
    def is_ref(self) -> bool:
        return "$ref" in self.raw


class SchemaNode:
    """A schema object as written.

    ``role`` says what the schema describes: ``definition`` (under root ``definitions``),
    ``body`` (a body parameter), ``response``, or ``notification`` (a webhook payload).
    ``key`` is how the parent holds it (``properties``, ``items``, ``allOf``,
    ``additionalProperties``), ``name`` the property name under ``properties``.

    The pointer is written out only when a rule asks for it: most schema nodes never need one.
    """

    __slots__ = ("_pointer", "_token", "depth", "key", "name", "parent", "raw", "role")
    kind = "schema"
    location = None

    def __init__(self, raw: dict[str, Any], pointer: str | None, role: str, depth: int = 0,
                 parent: SchemaNode | None = None, key: str | None = None, name: str | None = None,
                 token: str | None = None) -> None:  # fmt: skip
        self.raw = raw
        self.role = role
        self.depth = depth
        self.parent = parent
        self.key = key
        self.name = name
        self._pointer = pointer
        self._token = token

    @property
    def pointer(self) -> str:
        if self._pointer is None:
            base = self.parent.pointer if self.parent is not None else ""
            if self._token is None and self.key == "properties" and self.name is not None:
                self._token = pointer_join("/properties", self.name)
            self._pointer = base + (self._token or "")
        return self._pointer

    @property
    def is_top_level(self) -> bool:
        return self.parent is None

    top = is_top_level

    @property
    def required_by_parent(self) -> bool:
        if self.parent is None or self.key != "properties" or self.name is None:
            return False
        required = self.parent.raw.get("required")
        return isinstance(required, list) and self.name in required

    required = required_by_parent

    @property
    def input(self) -> bool:
        """Sent by the client: an inline body schema (definitions are decided by the rules)."""
        return self.role == "body"

    def __repr__(self) -> str:
        return f"SchemaNode({self.pointer!r}, role={self.role!r})"


@dataclass(slots=True)
class ValueSite:
    """A non-schema object that carries the same validation keywords as a schema: a non-body
    parameter (``kind="parameter"``), a response header (``"header"``), or the ``items`` of
    either at any depth (``"items"``). ``role`` and ``location`` are the parameter's ``in`` (or
    ``header``); ``input`` is true for what the client sends."""

    raw: dict[str, Any]
    pointer: str
    kind: str
    role: str
    top: bool = False
    name: str | None = None
    required: bool = False
    input: bool = False
    location: str | None = None


Site = SchemaNode | ValueSite

# Keywords whose holders the walk indexes (``ctx.sites_with``), so rules about them need no walk.
SITE_KEYWORDS = frozenset({
    "default", "enum", "format", "multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "pattern",
    "x-ms-enum-values", "collectionFormat", "required", "uniqueItems", "anyOf", "oneOf", "not",
})  # fmt: skip
ARRAY_WITHOUT_ITEMS = " array-without-items"  # an index bucket no JSON key can collide with


@dataclass(slots=True)
class ResponseNode:
    code: str
    raw: dict[str, Any]
    pointer: str
    operation: Operation | None = None


# --------------------------------------------------------------------------- context


@dataclass
class Context:
    """What rules may read besides the node: the whole package, the profile, shared indexes."""

    package: ConnectorPackage
    profile: Profile = Profile.CUSTOM
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    site_index: dict[str, list[Site]] = field(default_factory=dict, repr=False)

    def sites_with(self, keyword: str) -> list[Site]:
        """Every schema, non-body parameter, header or ``items`` object holding ``keyword`` (one
        of :data:`SITE_KEYWORDS`, or :data:`ARRAY_WITHOUT_ITEMS`), filled by the walk; complete
        for rules on ``On.DOCUMENT`` and ``On.PACKAGE``, which run after it."""
        return self.site_index.get(keyword, [])

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """An index shared by rules, built once per run on first use (key it by module and name)."""
        if key not in self._memo:
            self._memo[key] = build()
        value: T = self._memo[key]
        return value

    @cached_property
    def swagger(self) -> Swagger:
        return self.package.swagger

    @property
    def doc(self) -> dict[str, Any]:
        return self.swagger.doc

    @cached_property
    def operations(self) -> list[Operation]:
        return list(self.swagger.operations())

    @cached_property
    def operations_by_id(self) -> dict[str, Operation]:
        by_id: dict[str, Operation] = {}
        for op in self.operations:
            if op.operation_id is not None:
                by_id.setdefault(op.operation_id, op)
        return by_id

    @property
    def certification(self) -> bool:
        return self.profile is not Profile.CUSTOM


# --------------------------------------------------------------------------- dispatch


class _Dispatch:
    """Rules by node kind, and by key for rules that only care about nodes holding a key."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.always: dict[On, list[Rule]] = {on: [] for on in On}
        self.by_key: dict[On, dict[str, list[Rule]]] = {on: {} for on in On}
        for rule in rules:
            for on in rule.kinds:
                if rule.keys:
                    for key in rule.keys:
                        self.by_key[on].setdefault(key, []).append(rule)
                else:
                    self.always[on].append(rule)

    def rules_for(self, on: On, raw: Any) -> list[Rule]:
        keyed = self.by_key[on]
        if not keyed or not isinstance(raw, dict):
            return self.always[on]
        picked = [rule for key in raw if key in keyed for rule in keyed[key]]
        if not picked:
            return self.always[on]
        if len(picked) > 1:
            picked = list(dict.fromkeys(picked))
        return self.always[on] + picked


@dataclass
class _Run:
    ctx: Context
    dispatch: _Dispatch
    hits: list[tuple[Rule, Hit]] = field(default_factory=list)

    def emit(self, on: On, payload: Any, raw: Any = None) -> None:
        for rule in self.dispatch.rules_for(on, raw):
            try:
                for found in rule.check(self.ctx, payload):
                    self.hits.append((rule, found))
            except Exception as exc:  # a rule bug must not stop the run
                log.debug("rule %s failed", rule.id, exc_info=True)
                pointer = getattr(payload, "pointer", "")
                self.hits.append(
                    (
                        _internal_rule(),
                        Hit(
                            pointer if isinstance(pointer, str) else "",
                            message=f"rule {rule.id} could not check this node ({type(exc).__name__}: {exc})",
                        ),
                    )
                )


def _no_check(ctx: Context, payload: Any) -> Iterable[Hit]:
    return ()


def _internal_rule() -> Rule:
    """Stands for a rule that raised: reported so the run goes on and the bug gets seen."""
    return _INTERNAL


_INTERNAL = Rule(
    id=INTERNAL_ERROR,
    category=Category.STRUCTURE,
    severity=Severity.WARNING,
    message="A rule could not check this node.",
    on=On.PACKAGE,
    check=_no_check,
    explanation="A rule raised an error on this node; connectorkit reports it and goes on. Please report it as a bug.",
    fix="Report the finding with the file to the connectorkit maintainers.",
    microsoft=False,
)


# --------------------------------------------------------------------------- walk


def _index(ctx: Context, raw: dict[str, Any], site: Site) -> None:
    index = ctx.site_index
    if raw.get("type") == "array" and "items" not in raw:
        index.setdefault(ARRAY_WITHOUT_ITEMS, []).append(site)
    if not SITE_KEYWORDS.isdisjoint(raw):
        for key in SITE_KEYWORDS.intersection(raw):
            index.setdefault(key, []).append(site)


def _walk_schema(run: _Run, raw: Any, role: str, parent: SchemaNode | None, key: str | None, name: str | None,
                 depth: int, pointer: str | None = None, token: str | None = None) -> None:  # fmt: skip
    if not isinstance(raw, dict):
        return
    node = SchemaNode(raw, pointer, role, depth, parent, key, name, token)
    run.emit(On.SCHEMA, node, raw)
    _index(run.ctx, raw, node)
    if "$ref" in raw:
        return
    depth += 1
    properties = raw.get("properties")
    if isinstance(properties, dict):
        for prop, child in properties.items():
            if isinstance(child, dict):
                _walk_schema(run, child, role, node, "properties", prop, depth)
    items = raw.get("items")
    if isinstance(items, dict):
        _walk_schema(run, items, role, node, "items", None, depth, token="/items")
    elif isinstance(items, list):
        for index, child in enumerate(items):
            _walk_schema(run, child, role, node, "items", None, depth, token=f"/items/{index}")
    all_of = raw.get("allOf")
    if isinstance(all_of, list):
        for index, child in enumerate(all_of):
            _walk_schema(run, child, role, node, "allOf", None, depth, token=f"/allOf/{index}")
    additional = raw.get("additionalProperties")
    if isinstance(additional, dict):
        _walk_schema(run, additional, role, node, "additionalProperties", None, depth, token="/additionalProperties")


def _index_items(ctx: Context, owner: dict[str, Any], pointer: str, role: str, is_input: bool) -> None:
    raw = owner.get("items")
    while isinstance(raw, dict):
        pointer += "/items"
        location = role if is_input else None
        _index(ctx, raw, ValueSite(raw, pointer, "items", role, input=is_input, location=location))
        raw = raw.get("items")


def _parameter(
    run: _Run, raw: dict[str, Any], pointer: str, where: str, path: str | None, op: Operation | None
) -> None:
    run.emit(On.PARAMETER, ParameterNode(raw, pointer, where, path, op), raw)
    if "$ref" in raw:
        return
    location = raw.get("in")
    if location == "body":
        _walk_schema(run, raw.get("schema"), "body", None, None, None, 0, pointer=pointer + "/schema")
        return
    role = location if isinstance(location, str) else ""
    site = ValueSite(raw, pointer, "parameter", role, True, None, raw.get("required") is True, True, role)
    _index(run.ctx, raw, site)
    _index_items(run.ctx, raw, pointer, role, True)


def _walk_parameters(run: _Run, params: Any, pointer: str, where: str, path: str | None, op: Operation | None) -> None:
    if not isinstance(params, list):
        return
    for index, raw in enumerate(params):
        if isinstance(raw, dict):
            _parameter(run, raw, f"{pointer}/{index}", where, path, op)


def _walk_responses(run: _Run, responses: Any, pointer: str, op: Operation | None) -> None:
    if not isinstance(responses, dict):
        return
    for code, raw in responses.items():
        if not isinstance(raw, dict):
            continue
        child = pointer_join(pointer, code)
        run.emit(On.RESPONSE, ResponseNode(str(code), raw, child, op), raw)
        headers = raw.get("headers")
        if isinstance(headers, dict):
            for name, header in headers.items():
                if isinstance(header, dict):
                    where = pointer_join(child + "/headers", name)
                    _index(run.ctx, header, ValueSite(header, where, "header", "header", True, name))
                    _index_items(run.ctx, header, where, "header", False)
        _walk_schema(run, raw.get("schema"), "response", None, None, None, 0, pointer=child + "/schema")


def _walk(run: _Run) -> None:
    """Every node once, rules called as it goes; DOCUMENT and PACKAGE rules run last, when the
    site index is complete."""
    swagger = run.ctx.swagger
    doc = swagger.doc
    for scheme in swagger.security_schemes():
        run.emit(On.SECURITY_SCHEME, scheme, scheme.raw)
    root_params = doc.get("parameters")
    if isinstance(root_params, dict):
        for name, raw in root_params.items():
            if isinstance(raw, dict):
                _parameter(run, raw, pointer_join("/parameters", name), "root", None, None)
    _walk_responses(run, doc.get("responses"), "/responses", None)
    definitions = doc.get("definitions")
    if isinstance(definitions, dict):
        for name, raw in definitions.items():
            _walk_schema(run, raw, "definition", None, None, None, 0, pointer=pointer_join("/definitions", name))
    for path, item in swagger.paths.items():
        if not isinstance(item, dict):
            continue
        item_pointer = pointer_join("/paths", path)
        run.emit(On.PATH_ITEM, PathItemNode(path, item, item_pointer), item)
        _walk_parameters(run, item.get("parameters"), item_pointer + "/parameters", "path", path, None)
        content = item.get("x-ms-notification-content")
        if isinstance(content, dict):
            _walk_schema(run, content.get("schema"), "notification", None, None, None, 0,
                         pointer=item_pointer + "/x-ms-notification-content/schema")  # fmt: skip
        for method in HTTP_METHODS:
            raw_op = item.get(method)
            if not isinstance(raw_op, dict):
                continue
            op = Operation(swagger, path, method, raw_op, item, pointer_join(item_pointer, method))
            run.emit(On.OPERATION, op, raw_op)
            _walk_parameters(run, raw_op.get("parameters"), op.pointer + "/parameters", "operation", path, op)
            _walk_responses(run, raw_op.get("responses"), op.pointer + "/responses", op)
    run.emit(On.DOCUMENT, swagger, doc)
    run.emit(On.PACKAGE, run.ctx.package, None)


# --------------------------------------------------------------------------- findings


def _finding(package: ConnectorPackage, rule: Rule, found: Hit) -> Finding:
    message = found.message if found.message is not None else rule.format(found.args)
    document = package.documents.get(found.file)
    line: int | None = None
    column: int | None = None
    if document is not None:
        display = document.file
    else:
        name = package.name_of(found.file)
        display = str(package.path / name) if package.path is not None else name
    if found.position is not None:
        line, column = found.position
    elif document is not None:
        line, column = document.locate(found.pointer)
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        message=message,
        file=display,
        line=line,
        column=column,
        pointer=found.pointer if document is not None or found.pointer else None,
    )


def active_rules(profile: Profile, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    """Rules that run for ``profile`` after ``select`` (only these) and ``ignore`` (not these).

    Entries may be rule ids or category names.
    """
    chosen = {s.lower() for s in select}
    dropped = {s.lower() for s in ignore}

    def named(rule: Rule, names: set[str]) -> bool:
        return rule.id.lower() in names or rule.category.value in names

    return [
        rule
        for rule in REGISTRY
        if rule.runs_in(profile) and (not chosen or named(rule, chosen)) and not named(rule, dropped)
    ]


def lint_package(package: ConnectorPackage, rules: Iterable[Rule], profile: Profile = Profile.CUSTOM) -> list[Finding]:
    """Walk ``package`` once with ``rules`` and return the located findings, in file order."""
    run = _Run(Context(package, profile), _Dispatch(rules))
    _walk(run)
    findings = [_finding(package, rule, found) for rule, found in run.hits]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    findings.sort(key=lambda f: (f.file or "", f.line or 0, f.column or 0, order[f.severity], f.rule))
    return findings


def packaged_connector_check(
    profile: Profile = Profile.CERTIFIED, select: Iterable[str] = (), ignore: Iterable[str] = ()
) -> Callable[[ConnectorPackage], list[Finding]]:
    """The validator for the connector inside a certification package (``validate --package``,
    ``package certification``): the walk's rules of ``profile``, without the load and diff rules,
    the package rules themselves, and ``IntroSectionMissing`` (intro.md's sections are the package
    check's own ``PackageIntroSectionMissing``, not repeated as warnings)."""
    from connectorkit.lint import rules as _rules  # noqa: F401 - registers every rule

    skipped = (On.LOAD, On.DIFF, On.CERTIFICATION_PACKAGE)
    walk = [r for r in active_rules(profile, select, ignore) if r.on not in skipped and r.id != "IntroSectionMissing"]
    return lambda connector: lint_package(connector, walk, profile)
