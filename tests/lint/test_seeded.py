"""Runs every seeded defect, and checks that every rule has at least one."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import tests.lint as lint_tests
from tests.lint.harness import Seed, check_seed

from connectorkit.lint.registry import REGISTRY, On


def _all_seeds() -> list[Seed]:
    seeds: list[Seed] = []
    for module in pkgutil.iter_modules(lint_tests.__path__):
        if module.name.startswith("seeds_"):
            seeds += importlib.import_module(f"tests.lint.{module.name}").SEEDS
    return seeds


SEEDS = _all_seeds()


@pytest.mark.parametrize("seed", SEEDS, ids=[s.id for s in SEEDS])
def test_seeded_defect(seed: Seed) -> None:
    check_seed(seed)


def test_every_rule_has_a_seeded_defect() -> None:
    seeded = {s.rule for s in SEEDS}
    # Load failures are not mutations of a readable file; tests/lint/test_runner.py covers them.
    # Breaking-change rules compare two versions; tests/lint/test_diff.py seeds each of them.
    # Certification package rules check zips; tests/test_package_check.py builds a bad package for each.
    skipped = (On.LOAD, On.DIFF, On.CERTIFICATION_PACKAGE)
    missing = sorted(r.id for r in REGISTRY if r.id not in seeded and r.on not in skipped)
    assert missing == []
