"""``connectorkit diff OLD NEW``: what an update breaks for flows built on the old version."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from connectorkit.cli.common import handle_errors, write_output
from connectorkit.cli.validate import ReportFormat, split_names
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError


def _load(path: Path) -> ConnectorPackage:
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    return ConnectorPackage.load(path) if path.is_dir() else ConnectorPackage.from_definition(path)


def register(app: typer.Typer) -> None:
    @app.command("diff")
    @handle_errors
    def diff(
        old: Path = typer.Argument(..., help="The published version: connector folder or definition file."),
        new: Path = typer.Argument(..., help="The new version: connector folder or definition file."),
        select: list[str] | None = typer.Option(None, "--select", help="Only these breaking-change rules."),
        ignore: list[str] | None = typer.Option(None, "--ignore", help="Skip these breaking-change rules."),
        output_format: ReportFormat = typer.Option(
            ReportFormat.text, "--format", "-f", help="text, json, sarif, junit or github."
        ),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
    ) -> None:
        """Report breaking changes from OLD to NEW: deleted or moved operations, new required
        parameters, type, format and enum changes, removed response fields, changed sign-in.

        Operations are matched by operationId, as Microsoft's change detector does. Exit 1 when
        anything breaks, 0 when nothing does, 2 for usage or input errors.
        """
        from connectorkit.lint.diff import breaking_rules, diff_packages
        from connectorkit.lint.report import RENDERERS, exit_code, render_text
        from connectorkit.lint.runner import Result

        chosen = {n.lower() for n in split_names(select, "--select")}
        dropped = {n.lower() for n in split_names(ignore, "--ignore")}
        rules = [
            r
            for r in breaking_rules()
            if (not chosen or r.id.lower() in chosen or r.category.value in chosen)
            and r.id.lower() not in dropped
            and r.category.value not in dropped
        ]
        findings = diff_packages(_load(old), _load(new), rules)
        results = [Result(target=f"{old} -> {new}", findings=findings)]
        if output_format is ReportFormat.text and output is None:
            text = render_text(results, color=sys.stdout.isatty())
        else:
            text = RENDERERS[output_format.value](results)
        write_output(text, output)
        raise typer.Exit(exit_code(results))
