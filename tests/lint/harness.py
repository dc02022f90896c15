"""Seeded defects: take a connector, inject one violation, and see exactly one rule fire.

A :class:`Seed` names a rule, a base connector, a mutation and the JSON pointer where the
rule must report. :func:`check_seed` asserts three things:

1. the rule is silent on the untouched base (the "keeps it silent" test);
2. after the mutation, the rule fires at exactly the expected pointer(s);
3. no other finding is new (so the mutation is a precise test of one rule).

Bases are the bundled example (``example``, always available) and connectors of
``../shared/corpus`` named by their folder (``certified-connectors/Pushcut``); seeds on
corpus bases skip when the corpus is absent.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.definition.documents import parse_document
from connectorkit.definition.package import DEFINITION, ConnectorPackage
from connectorkit.lint import rules as _rules  # noqa: F401
from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import On, Profile

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "petstore" / "swagger.json"
CORPUS = ROOT.parent / "shared" / "corpus" / "connectors"


@dataclass
class Files:
    """The mutable parts of a connector a seed may change."""

    definition: dict[str, Any]
    api_properties: dict[str, Any]
    icon: bytes | None = None
    script: str | None = None
    readme: str | None = None
    intro: str | None = None
    raw_definition: bytes | None = None  # when set, the definition is read from these bytes


@dataclass
class Seed:
    rule: str
    mutate: Callable[[Files], None]
    pointers: tuple[str, ...]
    base: str = "example"
    profile: Profile = Profile.CUSTOM
    note: str = ""
    ids: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        suffix = f"-{self.note}" if self.note else ""
        return f"{self.rule}{suffix}"


@cache
def _base(name: str) -> ConnectorPackage:
    if name == "example":
        return create_connector(read_spec(str(EXAMPLE)), NewOptions(name="Petstore")).package
    folder = CORPUS / name
    if not folder.is_dir():
        pytest.skip(f"corpus connector {name} not found at {folder}")
    return ConnectorPackage.load(folder)


def files_of(name: str) -> Files:
    base = _base(name)
    return Files(
        copy.deepcopy(base.definition),
        copy.deepcopy(base.api_properties),
        base.icon,
        base.script,
        base.readme,
        base.intro,
    )


def package_of(files: Files, like: ConnectorPackage) -> ConnectorPackage:
    documents = {}
    if files.raw_definition is not None:
        document = parse_document(files.raw_definition, DEFINITION)
        documents[DEFINITION] = document
        files.definition = document.value
    return ConnectorPackage(
        documents=documents,
        definition=files.definition,
        api_properties=files.api_properties,
        settings=copy.deepcopy(like.settings),
        icon=files.icon,
        script=files.script,
        readme=files.readme,
        intro=files.intro,
        file_names=dict(like.file_names),
    )


def findings_for(files: Files, base: str, profile: Profile) -> Counter[tuple[str, str]]:
    rules = [r for r in active_rules(profile) if r.on not in (On.LOAD, On.DIFF)]
    package = package_of(files, _base(base))
    return Counter((f.rule, f.pointer or "") for f in lint_package(package, rules, profile))


def check_seed(seed: Seed) -> None:
    before = findings_for(files_of(seed.base), seed.base, seed.profile)
    fired_before = sorted(p for (rule, p) in before if rule == seed.rule)
    assert not fired_before, f"{seed.rule} already fires on the untouched base {seed.base} at {fired_before}"
    files = files_of(seed.base)
    seed.mutate(files)
    after = findings_for(files, seed.base, seed.profile)
    new = after - before
    fired = sorted(p for (rule, p) in new.elements() if rule == seed.rule)
    assert fired == sorted(seed.pointers), f"{seed.rule} fired at {fired}, expected {sorted(seed.pointers)}"
    others = sorted((rule, p) for (rule, p) in new.elements() if rule != seed.rule)
    assert others == [], f"the mutation also made other rules fire: {others}"


def op(files: Files, path: str, method: str) -> dict[str, Any]:
    """The operation object at ``paths[path][method]`` of a seed's definition."""
    value: dict[str, Any] = files.definition["paths"][path][method]
    return value
