"""Files that are not strict JSON: what the tolerant reader repaired, and what it could not read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectorkit.definition.documents import REPAIR_RULES
from connectorkit.definition.findings import Severity
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import SourceError
from connectorkit.lint.registry import Category, Hit, On, hit, rule

_REPAIRS = {
    "bom": ("The file starts with a byte order mark, which strict JSON readers reject.",
            "Save the file as UTF-8 without a byte order mark."),
    "non-utf8": ("The file holds bytes that are not UTF-8; they were read as Windows-1252.",
                 "Save the file as UTF-8."),
    "trailing-comma": ("A comma follows the last item of an object or array.",
                       "Remove the comma before the closing bracket."),
    "missing-comma": ("Two items follow each other without a comma between them.",
                      "Add the missing comma."),
    "unclosed-bracket": ("An object or array is still open at the end of the file.",
                         "Add the missing closing bracket where the object or array ends."),
    "comment": ("The file contains a comment; JSON has no comments.", "Remove the comment."),
    "control-character": ("A string contains a raw control character such as a tab.",
                          "Write the character as an escape, for example \\\\t."),
    "unicode-whitespace": ("A Unicode space (not a plain space, tab or newline) separates tokens.",
                           "Replace it with a plain space."),
    "duplicate-key": ("An object has the same key twice; only the last value counts.",
                      "Remove or rename one of the keys."),
}  # fmt: skip


def _repair_rule(kind: str, explanation: str, fix: str) -> None:
    def check(ctx: Any, package: ConnectorPackage) -> Iterator[Hit]:
        for canonical, document in package.documents.items():
            for repair in document.repairs:
                if repair.kind == kind:
                    yield hit("", file=canonical, message=repair.message, position=(repair.line, repair.column))

    check.__doc__ = (
        f"{explanation} connectorkit repaired it to read the file, but Microsoft's services read "
        "strict JSON and may reject it."
    )
    rule(
        REPAIR_RULES[kind],
        category=Category.JSON,
        severity=Severity.WARNING,
        message=explanation,
        on=On.PACKAGE,
        fix=fix,
        microsoft=False,
    )(check)


for _kind, (_explanation, _fix) in _REPAIRS.items():
    _repair_rule(_kind, _explanation, _fix)


@rule(
    "JsonNotParseable",
    category=Category.JSON,
    severity=Severity.ERROR,
    message="The file is not valid JSON.",
    on=On.LOAD,
    fix="Fix the syntax at the position shown; the rest of the connector is checked once the file reads.",
    microsoft=False,
)
def json_not_parseable(ctx: Any, error: SourceError) -> Iterator[Hit]:
    """A connector file cannot be read even after repairs, so nothing else in it can be checked.

    This is what Microsoft's solution checker calls `connector-validate-swagger-isproperjson`.
    """
    yield hit("", message=error.problem, position=(error.line, error.column))
