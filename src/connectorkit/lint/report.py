"""Validator results as text, JSON, SARIF 2.1.0, JUnit XML or GitHub workflow annotations.

Every renderer takes the same list of :class:`~connectorkit.lint.runner.Result` and returns a
string, so the CLI only picks one and writes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path, PurePath
from typing import Any
from xml.etree import ElementTree as ET

from connectorkit import __version__
from connectorkit.definition.findings import Finding, Severity
from connectorkit.lint.registry import REGISTRY, Rule
from connectorkit.lint.runner import Result

INFORMATION_URI = "https://github.com/connectorkit/connectorkit"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def summary(results: list[Result]) -> dict[str, int]:
    findings = [f for r in results for f in r.findings]
    return {
        "connectors": len(results),
        "errors": sum(1 for f in findings if f.severity is Severity.ERROR),
        "warnings": sum(1 for f in findings if f.severity is Severity.WARNING),
        "info": sum(1 for f in findings if f.severity is Severity.INFO),
        "accepted": sum(len(r.accepted) for r in results),
    }


# --------------------------------------------------------------------------- JSON


def _finding_json(finding: Finding) -> dict[str, Any]:
    return finding.model_dump(mode="json", exclude_none=True)


def render_json(results: list[Result]) -> str:
    data = {
        "tool": {"name": "connectorkit", "version": __version__},
        "results": [
            {
                "target": r.target,
                "profile": r.profile.value,
                "findings": [_finding_json(f) for f in r.findings],
                "accepted": [{**_finding_json(f), "reason": a.reason} for f, a in r.accepted],
            }
            for r in results
        ],
        "summary": summary(results),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- text


@cache
def _lines(file: str) -> list[str]:
    try:
        return Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _excerpt(finding: Finding) -> list[str]:
    if finding.file is None or finding.line is None or not finding.file.lower().endswith((".json", ".yaml", ".yml")):
        return []
    lines = _lines(finding.file)
    if not 0 < finding.line <= len(lines):
        return []
    source = lines[finding.line - 1].expandtabs(1)
    if len(source) > 160:
        return []
    column = max(1, finding.column or 1)
    return [f"    {finding.line:>5} | {source}", f"    {'':>5} | {' ' * (column - 1)}^"]


def render_text(results: list[Result], *, color: bool = False) -> str:
    """Findings grouped by file, each with the source line and a caret under the column."""

    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    styles = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}
    out: list[str] = []
    for result in results:
        by_file: dict[str, list[Finding]] = {}
        for finding in result.findings:
            by_file.setdefault(finding.file or result.target, []).append(finding)
        for file, findings in by_file.items():
            out.append(paint(file, "1"))
            for f in findings:
                where = f"{f.line}:{f.column or 1}" if f.line is not None else "-"
                severity = paint(f.severity.value, styles[f.severity])
                message = f"{f.message} ValuePath: {f.value_path}" if f.value_path else f.message
                out.append(f"  {where:>9}  {severity}  {message}  {paint('[' + f.rule + ']', '2')}")
                out.extend(_excerpt(f))
            out.append("")
    totals = summary(results)
    parts = [f"{totals['errors']} errors", f"{totals['warnings']} warnings", f"{totals['info']} info"]
    if totals["accepted"]:
        parts.append(f"{totals['accepted']} accepted")
    noun = "connector" if totals["connectors"] == 1 else "connectors"
    out.append(f"{totals['connectors']} {noun} checked: {', '.join(parts)}")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- SARIF


def _uri(file: str) -> str:
    path = Path(file)
    try:
        relative = path.resolve().relative_to(Path.cwd().resolve())
        return PurePath(relative).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.message.replace("{{", "{").replace("}}", "}")},
        "fullDescription": {"text": rule.explanation},
        "help": {"text": rule.fix},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
        "properties": {"category": rule.category.value, "microsoft": rule.microsoft},
    }
    if rule.source:
        entry["helpUri"] = rule.source
    return entry


def render_sarif(results: list[Result]) -> str:
    findings = [f for r in results for f in r.findings]
    used = sorted({f.rule for f in findings})
    rules = [REGISTRY.get(rule_id) for rule_id in used]
    index = {rule.id: i for i, rule in enumerate(r for r in rules if r is not None)}
    sarif_results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f.message},
        }
        if f.rule in index:
            result["ruleIndex"] = index[f.rule]
        if f.file is not None:
            location: dict[str, Any] = {"artifactLocation": {"uri": _uri(f.file)}}
            if f.line is not None:
                location["region"] = {"startLine": f.line, "startColumn": f.column or 1}
            result["locations"] = [{"physicalLocation": location}]
        if f.pointer is not None:
            result["properties"] = {"pointer": f.pointer}
        sarif_results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "connectorkit",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_sarif_rule(r) for r in rules if r is not None],
                    }
                },
                "results": sarif_results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- JUnit


def render_junit(results: list[Result]) -> str:
    """One test suite per connector; one failing test case per error or warning, one passing
    case for a connector without findings (so CI dashboards count it)."""
    suites = ET.Element("testsuites", name="connectorkit validate")
    total_failures = total_tests = 0
    for result in results:
        suite = ET.SubElement(suites, "testsuite", name=result.target)
        cases = 0
        failures = 0
        for f in result.findings:
            cases += 1
            where = f"{f.file}:{f.line}:{f.column or 1}" if f.line is not None else f.file or result.target
            case = ET.SubElement(suite, "testcase", classname=result.target, name=f"{f.rule} {f.pointer or where}")
            if f.severity is Severity.INFO:
                ET.SubElement(case, "system-out").text = f"{where}: {f.message}"
                continue
            failures += 1
            failure = ET.SubElement(case, "failure", message=f.message, type=f.severity.value)
            failure.text = f"{where}: {f.severity.value}: {f.message} [{f.rule}]"
        if not cases:
            cases = 1
            ET.SubElement(suite, "testcase", classname=result.target, name="valid")
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_tests += cases
        total_failures += failures
    suites.set("tests", str(total_tests))
    suites.set("failures", str(total_failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


# --------------------------------------------------------------------------- GitHub


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(results: list[Result]) -> str:
    """GitHub Actions workflow commands: an annotation on the file and line of each finding."""
    kinds = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for f in (f for r in results for f in r.findings):
        props = []
        if f.file is not None:
            props.append(f"file={_escape_property(os.path.relpath(f.file) if os.path.isabs(f.file) else f.file)}")
        if f.line is not None:
            props.append(f"line={f.line}")
            props.append(f"col={f.column or 1}")
        props.append(f"title={_escape_property(f.rule)}")
        lines.append(f"::{kinds[f.severity]} {','.join(props)}::{_escape_data(f.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


RENDERERS: dict[str, Callable[[list[Result]], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "junit": render_junit,
    "github": render_github,
}


def exit_code(results: Iterable[Result]) -> int:
    """0 when no finding is an error, 1 otherwise."""
    return 1 if any(r.errors for r in results) else 0
