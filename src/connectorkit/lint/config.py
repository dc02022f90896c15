"""Validator settings from ``connectorkit.toml`` beside a connector or ``pyproject.toml`` above it.

Either file may hold the same table (``[lint]`` in connectorkit.toml, ``[tool.connectorkit.lint]``
in pyproject.toml)::

    profile = "certified"             # custom | certified | independent-publisher
    select = ["operations"]           # rule ids or categories; empty means all
    ignore = ["OperationSummaryTooLong"]
    allow = [                         # accepted findings, each with the reason it is accepted
        { rule = "InvalidNextLinkNameValue", pointer = "/paths/~1items/get", reason = "backend uses nextlink" },
    ]

connectorkit.toml wins over pyproject.toml; command-line flags win over both.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectorkit.definition.findings import Finding
from connectorkit.errors import InputError
from connectorkit.lint.registry import REGISTRY, Category, Profile


@dataclass(frozen=True)
class Allow:
    """An accepted finding: a rule, optionally limited to a pointer prefix and a file name."""

    rule: str
    reason: str
    pointer: str | None = None
    file: str | None = None

    def matches(self, finding: Finding) -> bool:
        if finding.rule.lower() != self.rule.lower():
            return False
        if self.file is not None and (finding.file is None or Path(finding.file).name.lower() != self.file.lower()):
            return False
        if self.pointer is not None:
            pointer = finding.pointer or ""
            return pointer == self.pointer or pointer.startswith(self.pointer.rstrip("/") + "/")
        return True


@dataclass
class LintConfig:
    profile: Profile | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    allow: list[Allow] = field(default_factory=list)
    source: str | None = None


def check_rule_names(names: list[str], where: str) -> list[str]:
    """Rule ids or category names; anything else is a usage error naming it."""
    categories = {c.value for c in Category}
    for name in names:
        if REGISTRY.get(name) is None and name.lower() not in categories:
            raise InputError(f"{where}: unknown rule or category {name!r} (see 'connectorkit rules')")
    return names


def parse_profile(value: str, where: str) -> Profile:
    try:
        return Profile(value.lower())
    except ValueError:
        allowed = ", ".join(p.value for p in Profile)
        raise InputError(f"{where}: unknown profile {value!r}; expected one of {allowed}") from None


def _strings(table: dict[str, Any], key: str, where: str) -> list[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: '{key}' must be a list of rule ids")
    return check_rule_names(list(value), f"{where}: {key}")


def _from_table(table: Any, where: str) -> LintConfig:
    if not isinstance(table, dict):
        raise InputError(f"{where}: expected a table of lint settings")
    config = LintConfig(source=where)
    if "profile" in table:
        config.profile = parse_profile(str(table["profile"]), f"{where}: profile")
    config.select = _strings(table, "select", where)
    config.ignore = _strings(table, "ignore", where)
    allows = table.get("allow", [])
    if not isinstance(allows, list):
        raise InputError(f"{where}: 'allow' must be a list of tables")
    for index, entry in enumerate(allows):
        if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str):
            raise InputError(f"{where}: allow[{index}] needs a 'rule'")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise InputError(f"{where}: allow[{index}] ({entry['rule']}) needs a 'reason' saying why it is accepted")
        check_rule_names([entry["rule"]], f"{where}: allow[{index}]")
        config.allow.append(Allow(entry["rule"], reason, entry.get("pointer"), entry.get("file")))
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None


def find_config(folder: Path) -> LintConfig:
    """The lint settings that apply to the connector in ``folder`` (empty when there are none)."""
    own = folder / "connectorkit.toml"
    if own.is_file():
        data = _read_toml(own)
        return _from_table(data.get("lint", {}), str(own))
    for parent in [folder, *folder.resolve().parents]:
        pyproject = parent / "pyproject.toml"
        if pyproject.is_file():
            data = _read_toml(pyproject)
            table = data.get("tool", {}).get("connectorkit", {}).get("lint")
            if table is not None:
                return _from_table(table, f"{pyproject} [tool.connectorkit.lint]")
    return LintConfig()


INLINE_ALLOW = "x-connectorkit-allow"


def inline_allows(definition: Any, text: str | None, file: str) -> list[Allow]:
    """Accepted findings written in the definition itself, next to what they accept::

        "get": {"x-connectorkit-allow": [{"rule": "OperationIdSanitized", "reason": "kept for old flows"}], ...}

    An entry accepts the rule's findings at that object and below. Entries may also be written
    as ``"RuleId: reason"`` strings. (``x-`` keys other than ``x-ms-`` are ignored by the platform.)
    """
    if text is not None and INLINE_ALLOW not in text:
        return []
    found: list[Allow] = []
    stack: list[tuple[Any, str]] = [(definition, "")]
    while stack:
        node, pointer = stack.pop()
        if isinstance(node, dict):
            if INLINE_ALLOW in node:
                found += _inline_entries(node[INLINE_ALLOW], pointer, file)
            stack.extend(
                (child, f"{pointer}/{_escape(str(key))}") for key, child in node.items() if key != INLINE_ALLOW
            )
        elif isinstance(node, list):
            stack.extend((child, f"{pointer}/{index}") for index, child in enumerate(node))
    return found


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _inline_entries(value: Any, pointer: str, file: str) -> list[Allow]:
    where = f"{file}: {pointer or '/'}/{INLINE_ALLOW}"
    entries = value if isinstance(value, list) else [value]
    out: list[Allow] = []
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            name, _, text = entry.partition(":")
            entry = {"rule": name.strip(), "reason": text.strip()}
        if not isinstance(entry, dict) or not isinstance(entry.get("rule"), str):
            raise InputError(f'{where}[{index}]: expected {{"rule": ..., "reason": ...}} or "RuleId: reason"')
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise InputError(f"{where}[{index}] ({entry['rule']}): needs a reason saying why it is accepted")
        check_rule_names([entry["rule"]], f"{where}[{index}]")
        out.append(Allow(entry["rule"], reason, pointer or None, None))
    return out
