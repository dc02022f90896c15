"""Validating paths: one connector folder, one definition file, or a folder of many connectors."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.package import DEFINITION, ConnectorPackage
from connectorkit.errors import InputError, SourceError
from connectorkit.lint import rules as _rules  # noqa: F401 - registers every rule
from connectorkit.lint.config import Allow, find_config, inline_allows
from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import REGISTRY, On, Profile, Rule

_DEFINITION_NAMES = ("apidefinition.swagger.json", "apidefinition.swagger.yaml", "apidefinition.swagger.yml")


@dataclass(frozen=True)
class Options:
    profile: Profile | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    use_config: bool = True


@dataclass
class Result:
    """The findings for one connector (or lone definition file)."""

    target: str
    findings: list[Finding] = field(default_factory=list)
    accepted: list[tuple[Finding, Allow]] = field(default_factory=list)
    profile: Profile = Profile.CUSTOM

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.WARNING)


def _is_connector(folder: Path) -> bool:
    try:
        return any(p.name.lower() in _DEFINITION_NAMES for p in folder.iterdir() if p.is_file())
    except OSError:
        return False


def discover(paths: Iterable[Path]) -> list[Path]:
    """Connector folders and definition files named by ``paths``, searching folders below."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_file() or _is_connector(path):
            found.append(path)
        else:
            below = sorted({p.parent for p in path.rglob("*") if p.is_file() and p.name.lower() in _DEFINITION_NAMES})
            if not below:
                raise InputError(f"{path}: no connector found (no apiDefinition.swagger.json in it or below)")
            found.extend(below)
    return found


def _load_error(path: Path, error: SourceError) -> Finding:
    rule = REGISTRY.get("JsonNotParseable")
    assert rule is not None
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        message=error.problem,
        file=error.file,
        line=error.line,
        column=error.column,
    )


def _rules_for(profile: Profile, select: Iterable[str], ignore: Iterable[str]) -> list[Rule]:
    return [r for r in active_rules(profile, select, ignore) if r.on not in (On.LOAD, On.DIFF)]


def validate_one(path: Path, options: Options = Options()) -> Result:
    """Validate one connector folder or definition file; a file that cannot be read is a finding."""
    folder = path if path.is_dir() else path.parent
    config = find_config(folder) if options.use_config else None
    profile = options.profile or (config.profile if config else None) or Profile.CUSTOM
    select = list(options.select) + (config.select if config else [])
    ignore = list(options.ignore) + (config.ignore if config else [])
    result = Result(str(path), profile=profile)
    try:
        package = ConnectorPackage.load(path) if path.is_dir() else ConnectorPackage.from_definition(path)
    except SourceError as error:
        load_rule = REGISTRY.get("JsonNotParseable")
        if load_rule is not None and load_rule in active_rules(profile, select, ignore):
            result.findings.append(_load_error(path, error))
        return result
    findings = lint_package(package, _rules_for(profile, select, ignore), profile)
    allows = list(config.allow) if config else []
    document = package.documents.get(DEFINITION)
    allows += inline_allows(package.definition, document.source.text if document else None,
                            document.file if document else DEFINITION)  # fmt: skip
    for finding in findings:
        accepted = next((a for a in allows if a.matches(finding)), None)
        if accepted is None:
            result.findings.append(finding)
        else:
            result.accepted.append((finding, accepted))
    return result


def _validate_star(args: tuple[Path, Options]) -> Result:
    return validate_one(*args)


def validate_many(
    paths: list[Path],
    options: Options = Options(),
    *,
    jobs: int | None = None,
    progress: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Validate every target, in parallel processes when there are many; results keep input order."""
    workers = jobs if jobs is not None else min(len(paths), os.cpu_count() or 1)
    results: list[Result] = []
    if workers <= 1 or len(paths) < 8:
        for path in paths:
            result = validate_one(path, options)
            results.append(result)
            if progress:
                progress(result)
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(_validate_star, [(p, options) for p in paths], chunksize=4):
            results.append(result)
            if progress:
                progress(result)
    return results
