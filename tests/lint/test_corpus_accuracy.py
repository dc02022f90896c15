"""Accuracy on real connectors that Microsoft accepted.

Every connector under certified-connectors/ and independent-publisher-connectors/ of the corpus
passed Microsoft's validation. So an error the validator reports on one of them is either a real
violation Microsoft let through (recorded, with the reason, in ``tests/lint/known_*.py``) or a
bug in the rule. This test fails on any error that is not recorded, and on any recorded
violation that no longer fires (so the list cannot go stale). No rule may crash on any of the
150 connectors.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from pathlib import Path

import pytest
import tests.lint as lint_tests
from tests.lint.harness import CORPUS

from connectorkit.definition.findings import Severity
from connectorkit.lint.engine import INTERNAL_ERROR
from connectorkit.lint.registry import Profile
from connectorkit.lint.runner import Options, Result, discover, validate_one

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"connector corpus not found at {CORPUS}")

KNOWN: dict[tuple[str, str, str], str] = {}
for _module in pkgutil.iter_modules(lint_tests.__path__):
    if _module.name.startswith("known_"):
        KNOWN.update(importlib.import_module(f"tests.lint.{_module.name}").KNOWN)


def _name(target: str) -> str:
    path = Path(target)
    return f"{path.parent.name}/{path.name}"


@cache
def _results(profile: Profile) -> dict[str, Result]:
    return {_name(str(t)): validate_one(t, Options(profile=profile, use_config=False)) for t in discover([CORPUS])}


def test_no_rule_crashes_on_any_corpus_connector():
    for profile in Profile:
        crashes = [(name, f.message) for name, r in _results(profile).items() for f in r.findings
                   if f.rule == INTERNAL_ERROR]  # fmt: skip
        assert crashes == [], profile


def test_errors_on_accepted_connectors_are_known_violations():
    unexplained = []
    for name, result in _results(Profile.CERTIFIED).items():
        if name.startswith("custom-connectors/"):
            continue
        for f in result.findings:
            if f.severity is Severity.ERROR and (name, f.rule, f.pointer or "") not in KNOWN:
                unexplained.append((name, f.rule, f.pointer or "", f.message))
    assert unexplained == [], f"{len(unexplained)} errors on accepted connectors are neither fixed nor recorded"


def test_every_known_violation_still_fires():
    fired = {(name, f.rule, f.pointer or "") for name, r in _results(Profile.CERTIFIED).items() for f in r.findings}
    stale = sorted(key for key in KNOWN if key not in fired)
    assert stale == [], "these recorded violations no longer fire; remove them from tests/lint/known_*.py"
