"""The conversion report: everything an import changed, approximated, dropped or added.

Each item names where it comes from in the source document (a JSON pointer, prefixed with the
file or URL when the source spans several files) and where it went in the converted definition,
so a user can check every approximation by hand. ``connectorkit new`` and ``convert`` print a
summary of it and ``--report FILE.json`` writes it whole.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What happened to a piece of the source."""

    APPROXIMATED = "approximated"  # converted, but Swagger 2.0 can only say it less precisely
    DROPPED = "dropped"  # not converted: Swagger 2.0 or the platform has no place for it
    CANDIDATE = "candidate"  # could become a connector feature (e.g. a webhook trigger) on request
    ENRICHED = "enriched"  # added or rewritten to meet the platform's or certification's rules
    BUDGET = "budget"  # changed to fit the platform's limits (size, operations, schemas)
    NOTE = "note"  # worth knowing, nothing lost


@dataclass(frozen=True)
class Item:
    kind: Kind
    message: str
    source: str | None = None  # "#/pointer" in the source, or "file#/pointer" for another file
    target: str | None = None  # "#/pointer" in the converted Swagger 2.0 definition


@dataclass
class Report:
    """Items in the order they were found; ``operations`` counts converted source operations."""

    source_format: str = ""
    items: list[Item] = field(default_factory=list)
    operations: int = 0

    def add(self, kind: Kind, message: str, source: str | None = None, target: str | None = None) -> None:
        self.items.append(Item(kind, message, source, target))

    def approximated(self, message: str, source: str | None = None, target: str | None = None) -> None:
        self.add(Kind.APPROXIMATED, message, source, target)

    def dropped(self, message: str, source: str | None = None, target: str | None = None) -> None:
        self.add(Kind.DROPPED, message, source, target)

    def note(self, message: str, source: str | None = None, target: str | None = None) -> None:
        self.add(Kind.NOTE, message, source, target)

    def of(self, kind: Kind) -> list[Item]:
        return [item for item in self.items if item.kind is kind]

    def counts(self) -> dict[str, int]:
        counted = Counter(item.kind.value for item in self.items)
        return {kind.value: counted.get(kind.value, 0) for kind in Kind}

    def to_json(self) -> dict[str, Any]:
        return {
            "sourceFormat": self.source_format,
            "operations": self.operations,
            "counts": self.counts(),
            "items": [{k: v for k, v in asdict(item).items() if v is not None} for item in self.items],
        }
