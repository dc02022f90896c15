"""Rules: small registered units with an id, a category, a severity, a message and a check.

A rule is a generator function decorated with :func:`rule`. Its docstring is its documentation
(the first paragraph is the explanation ``connectorkit rules ID`` prints and ``docs/rules.md``
shows). It subscribes to one kind of node of the walk (:class:`On`) and may narrow that to nodes
holding certain keys, so the engine calls it only where it can have something to say. It yields
:class:`Hit` objects; the engine turns them into located findings.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

from connectorkit.definition.findings import Severity


class On(StrEnum):
    """The nodes of the walk a rule can subscribe to."""

    DOCUMENT = "document"  # the definition, once: payload is the Swagger view
    PATH_ITEM = "path-item"  # payload PathItemNode
    OPERATION = "operation"  # payload Operation (definition/swagger.py)
    PARAMETER = "parameter"  # payload ParameterNode: each parameter object where it is written
    SCHEMA = "schema"  # payload SchemaNode: each schema object where it is written
    RESPONSE = "response"  # payload ResponseNode
    SECURITY_SCHEME = "security-scheme"  # payload SecurityScheme
    PACKAGE = "package"  # the whole connector, after the walk: payload ConnectorPackage
    LOAD = "load"  # a file that could not be read: payload the SourceError (no walk follows)
    DIFF = "diff"  # two versions of a connector (connectorkit diff): payload lint.diff.Change
    CERTIFICATION_PACKAGE = "certification-package"  # validate --package: payload the Finding publish/packagecheck made


class Category(StrEnum):
    JSON = "json"
    STRUCTURE = "structure"
    OPERATIONS = "operations"
    ARRAYS = "arrays"
    NOT_SUPPORTED = "not-supported"
    PARAMETERS = "parameters"
    PROPERTIES = "properties"
    RESPONSES = "responses"
    SECURITY = "security"
    WEBHOOKS = "webhooks"
    METADATA = "metadata"
    CERTIFICATION = "certification"
    API_PROPERTIES = "api-properties"
    ICON = "icon"
    DOCS = "docs"
    SCRIPT = "script"
    CONSISTENCY = "consistency"
    BREAKING = "breaking"
    PACKAGE = "package"


class Profile(StrEnum):
    """What the connector is checked for: import as a custom connector, or certification."""

    CUSTOM = "custom"
    CERTIFIED = "certified"
    INDEPENDENT_PUBLISHER = "independent-publisher"


ALL_PROFILES = frozenset(Profile)
CERTIFICATION = frozenset({Profile.CERTIFIED, Profile.INDEPENDENT_PUBLISHER})


@dataclass(frozen=True)
class Hit:
    """Where a rule found a problem, and the values for its message's placeholders.

    ``file`` names the connector file by its canonical name (``apiDefinition.swagger.json``,
    ``apiProperties.json``, ``icon.png`` …); ``message`` replaces the rule's template when the
    text has to differ (rules with several documented wordings).
    """

    pointer: str = ""
    args: tuple[Any, ...] = ()
    file: str = "apiDefinition.swagger.json"
    message: str | None = None
    position: tuple[int, int] | None = None


def hit(
    pointer: str,
    *args: Any,
    file: str = "apiDefinition.swagger.json",
    message: str | None = None,
    position: tuple[int, int] | None = None,
) -> Hit:
    """A problem at ``pointer`` in ``file``; ``args`` fill the rule's message placeholders."""
    return Hit(pointer, args, file, message, position)


Check = Callable[..., Iterable[Hit]]


@dataclass(frozen=True, eq=False)  # identity equality and hash: rules are singletons, hashed per node
class Rule:
    id: str
    category: Category
    severity: Severity
    message: str
    on: On | tuple[On, ...]
    check: Check
    explanation: str
    fix: str
    keys: tuple[str, ...] = ()
    profiles: frozenset[Profile] = ALL_PROFILES
    source: str | None = None
    microsoft: bool = True

    def format(self, args: tuple[Any, ...]) -> str:
        if not args:
            return self.message.replace("{{", "{").replace("}}", "}")
        try:
            return self.message.format(*args)
        except (IndexError, KeyError, ValueError):
            return self.message

    def runs_in(self, profile: Profile) -> bool:
        return profile in self.profiles

    @property
    def kinds(self) -> tuple[On, ...]:
        """The node kinds the rule subscribes to (``on`` may name one or several)."""
        return self.on if isinstance(self.on, tuple) else (self.on,)


@dataclass
class Registry:
    rules: dict[str, Rule] = field(default_factory=dict)

    def add(self, rule: Rule) -> None:
        if rule.id in self.rules:
            raise ValueError(f"rule {rule.id} registered twice")
        self.rules[rule.id] = rule

    def __iter__(self) -> Iterator[Rule]:
        return iter(sorted(self.rules.values(), key=lambda r: (r.category.value, r.id)))

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        found = self.rules.get(rule_id)
        if found is not None:
            return found
        lowered = rule_id.lower()
        return next((r for r in self.rules.values() if r.id.lower() == lowered), None)


REGISTRY = Registry()


def rule(
    rule_id: str,
    *,
    category: Category,
    severity: Severity,
    message: str,
    on: On | tuple[On, ...],
    fix: str,
    keys: tuple[str, ...] = (),
    profiles: frozenset[Profile] = ALL_PROFILES,
    source: str | None = None,
    microsoft: bool = True,
) -> Callable[[Check], Check]:
    """Register a check. ``message`` is Microsoft's text, ``{0}``-style placeholders included.

    ``microsoft=False`` marks rules connectorkit adds (no Microsoft rule id exists for them).
    """

    def register(check: Check) -> Check:
        doc = inspect.getdoc(check) or ""
        explanation = doc.split("\n\n", 1)[0].replace("\n", " ").strip()
        if not explanation:
            raise ValueError(f"rule {rule_id} needs a docstring: it is the rule's documentation")
        REGISTRY.add(
            Rule(
                id=rule_id,
                category=category,
                severity=severity,
                message=message,
                on=on,
                check=check,
                explanation=explanation,
                fix=fix,
                keys=keys,
                profiles=profiles,
                source=source,
                microsoft=microsoft,
            )
        )
        return check

    return register


_SECTIONS = {
    "operations": Category.OPERATIONS,
    "arrays": Category.ARRAYS,
    "not supported": Category.NOT_SUPPORTED,
    "parameters": Category.PARAMETERS,
    "properties": Category.PROPERTIES,
    "response": Category.RESPONSES,
    "security": Category.SECURITY,
    "webhooks": Category.WEBHOOKS,
    "metadata": Category.METADATA,
}


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Microsoft's Swagger Validator rules: id -> message, documented fix, source, section."""
    path = Path(__file__).with_name("catalogue.json")
    data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def svr(
    rule_id: str,
    *,
    on: On | tuple[On, ...],
    severity: Severity,
    keys: tuple[str, ...] = (),
    profiles: frozenset[Profile] = ALL_PROFILES,
    category: Category | None = None,
    fix: str | None = None,
) -> Callable[[Check], Check]:
    """Register a rule of Microsoft's Swagger Validator: message, fix and source come from the
    catalogue, so the text is exactly what Microsoft's page and validator print."""
    entry = catalogue().get(rule_id)
    if entry is None:
        raise ValueError(f"{rule_id} is not in Microsoft's Swagger Validator catalogue")
    return rule(
        rule_id,
        category=category or _SECTIONS[entry["section"]],
        severity=severity,
        message=entry["message"],
        on=on,
        fix=fix or entry["fix"] or "See the rule's documentation.",
        keys=keys,
        profiles=profiles,
        source=entry["source"],
    )
