"""Options shared by the commands that import API descriptions (``new``, ``convert``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from connectorkit.cli.common import out
from connectorkit.errors import InputError

if TYPE_CHECKING:
    from connectorkit.authoring.convert import ConvertOptions
    from connectorkit.authoring.report import Report


@dataclass
class ConversionFlags:
    include_tag: list[str] | None
    exclude_tag: list[str] | None
    include_path: list[str] | None
    exclude_path: list[str] | None
    max_operations: int | None
    enrich: bool | None
    certification: bool
    hide_optional: bool

    def options(self, oidc_urls: tuple[str, str] | None = None) -> ConvertOptions:
        from connectorkit.authoring.budget import BudgetOptions
        from connectorkit.authoring.convert import ConvertOptions
        from connectorkit.authoring.enrich import EnrichOptions

        return ConvertOptions(
            enrich=self.enrich,
            enrich_options=EnrichOptions(certification=self.certification, hide_optional=self.hide_optional),
            budget=BudgetOptions(
                include_tags=tuple(self.include_tag or ()),
                exclude_tags=tuple(self.exclude_tag or ()),
                include_paths=tuple(self.include_path or ()),
                exclude_paths=tuple(self.exclude_path or ()),
                max_operations=self.max_operations,
            ),
            oidc_urls=oidc_urls,
        )


INCLUDE_TAG = typer.Option(None, "--include-tag", help="Keep only operations with this tag (repeatable).")
EXCLUDE_TAG = typer.Option(None, "--exclude-tag", help="Drop operations with this tag (repeatable).")
INCLUDE_PATH = typer.Option(None, "--include-path", help="Keep only paths matching this glob, e.g. '/v2/droplets*'.")
EXCLUDE_PATH = typer.Option(None, "--exclude-path", help="Leave out paths matching this glob (repeatable).")
MAX_OPERATIONS = typer.Option(
    None, "--max-operations", min=1, help="Keep at most this many operations (platform: 256)."
)
ENRICH = typer.Option(
    None,
    "--enrich/--no-enrich",
    help="Add what connectors need (operationIds, summaries, x-ms-summary...). Default: on for OpenAPI and Postman.",
)
CERTIFICATION = typer.Option(
    False, "--certification", help="Enrich for certification too (title, description, metadata)."
)
HIDE_OPTIONAL = typer.Option(False, "--hide-optional", help="Mark optional query and header parameters as advanced.")
REPORT = typer.Option(None, "--report", help="Write the full conversion report (JSON, with source pointers) here.")


def write_report(report: Report, path: Path | None) -> None:
    if path is None:
        return
    try:
        path.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--report {path}: cannot write: {exc.strerror}") from None


def report_summary(report: Report) -> dict[str, Any]:
    return {"operations": report.operations, **report.counts()}


def render_report(report: Report, limit: int = 12) -> None:
    """The report's counts and its first items, for people."""
    counts = {k: v for k, v in report.counts().items() if v}
    if not counts:
        return
    out.print("  report     " + ", ".join(f"{v} {k}" for k, v in counts.items()), markup=False)
    shown = [item for item in report.items if item.kind.value != "note"][:limit]
    for item in shown:
        where = f" ({item.source})" if item.source else ""
        out.print(f"             - {item.kind.value}: {item.message}{where}", markup=False)
    hidden = len([i for i in report.items if i.kind.value != "note"]) - len(shown)
    if hidden > 0:
        out.print(f"             … {hidden} more (use --report FILE for all)", markup=False)
