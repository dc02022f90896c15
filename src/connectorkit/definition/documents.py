"""JSON or YAML documents with their source, read tolerantly and located by JSON pointer."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.jsontext import (
    LineIndex,
    ParsedJson,
    Repair,
    SourceText,
    decode,
    load_json_text,
    pointer_join,
)
from connectorkit.errors import InputError, SourceError

REPAIR_RULES = {
    "bom": "JsonByteOrderMark",
    "non-utf8": "JsonNotUtf8",
    "trailing-comma": "JsonTrailingComma",
    "missing-comma": "JsonMissingComma",
    "unclosed-bracket": "JsonUnclosedBracket",
    "comment": "JsonComment",
    "control-character": "JsonControlCharacter",
    "unicode-whitespace": "JsonUnicodeWhitespace",
    "duplicate-key": "JsonDuplicateKey",
}


@dataclass
class Document:
    """A parsed document, the text it came from, and what had to be repaired to read it."""

    value: Any
    source: SourceText
    repairs: list[Repair] = field(default_factory=list)
    syntax: str = "json"

    @property
    def file(self) -> str:
        return self.source.file

    def locate(self, pointer: str) -> tuple[int, int]:
        return self.source.locate(pointer)

    def findings(self) -> list[Finding]:
        """The repairs as findings: the file loaded, but a strict reader would reject it."""
        return [
            Finding(
                rule=REPAIR_RULES.get(r.kind, "JsonRepaired"),
                severity=Severity.WARNING,
                message=r.message,
                file=self.file,
                line=r.line,
                column=r.column,
            )
            for r in self.repairs
        ]


def looks_like_yaml(name: str, text: str) -> bool:
    lower = name.lower().split("?", 1)[0]
    if lower.endswith((".yaml", ".yml")):
        return True
    if lower.endswith(".json"):
        return False
    stripped = text.lstrip("\ufeff \t\r\n")
    return not stripped.startswith(("{", "["))


def parse_document(raw: bytes, file: str, *, syntax: str | None = None) -> Document:
    """Read bytes as JSON or YAML (by ``syntax``, else by name and content)."""
    text, repairs = decode(raw, file)
    if syntax is None:
        syntax = "yaml" if looks_like_yaml(file, text) else "json"
    if syntax == "yaml":
        return _parse_yaml(text, file, repairs)
    parsed: ParsedJson = load_json_text(text, file)
    return Document(parsed.value, parsed.source, repairs + parsed.repairs, "json")


def read_document(path: Path, *, display: str | None = None) -> Document:
    """Read a file from disk; a missing or unreadable file is an :class:`InputError`."""
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{name}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, expected a file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None
    return parse_document(raw, name)


# --------------------------------------------------------------------------- YAML


def _yaml_loader() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = True
    return yaml


def _parse_yaml(text: str, file: str, repairs: list[Repair]) -> Document:
    try:
        tree = _yaml_loader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SourceError(file, line, column, problem) from None
    except YAMLError as exc:
        raise SourceError(file, 1, 1, f"invalid YAML: {exc}") from None
    lines = LineIndex(text)
    pointers: dict[str, int] = {}
    value = _plain(tree, "", pointers, lines, set())
    return Document(value, SourceText(file, text, pointers), repairs, "yaml")


def _plain(node: Any, pointer: str, pointers: dict[str, int], lines: LineIndex, active: set[int]) -> Any:
    """ruamel's round-trip nodes to plain dicts and lists, recording where each child starts."""
    if isinstance(node, (dict, list)):
        if id(node) in active:
            raise InputError(f"recursive YAML alias at {pointer or '/'}")
        active.add(id(node))
        lc = getattr(node, "lc", None)
        is_map = isinstance(node, dict)
        entries: Iterable[tuple[Any, Any]] = node.items() if isinstance(node, dict) else enumerate(node)
        out: dict[str, Any] = {}
        for key, child in entries:
            token = key if isinstance(key, str | int) and not isinstance(key, bool) else _scalar_key(key)
            child_pointer = pointer_join(pointer, token)
            if lc is not None:
                try:
                    ln, col = lc.value(key) if is_map else lc.item(key)
                    pointers[child_pointer] = lines.offset(ln + 1, col + 1)
                except (KeyError, TypeError):
                    pass
            out[str(token)] = _plain(child, child_pointer, pointers, lines, active)
        active.discard(id(node))
        return out if is_map else list(out.values())
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, (_dt.date, _dt.datetime)):
        return node.isoformat()
    if isinstance(node, str):
        return str(node)
    return str(node)


def _scalar_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return str(key)
