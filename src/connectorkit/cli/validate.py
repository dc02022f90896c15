"""``connectorkit validate PATH...``: every Microsoft validator and certification rule, offline."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from connectorkit.cli.common import err, handle_errors, write_output
from connectorkit.errors import InputError

if TYPE_CHECKING:
    from connectorkit.lint.runner import Options, Result

# The rules (hundreds of them) load only when a lint command runs, so that `call`, `serve` and the
# other commands start fast.


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"


def split_names(values: list[str] | None, option: str) -> tuple[str, ...]:
    from connectorkit.lint.config import check_rule_names

    names = [name.strip() for value in values or [] for name in value.split(",") if name.strip()]
    return tuple(check_rule_names(names, option))


def validate_package(
    package: Path, options: Options, *, ai_plugin: bool, output_format: ReportFormat, output: Path | None
) -> NoReturn:
    """``validate --package``: the package checks (publish/packagecheck.py) with the lint validator passed in
    for the connector inside, reported like any validation; text output ends with the script's verdict line."""
    from connectorkit.lint import rules as _rules  # noqa: F401 - registers every rule
    from connectorkit.lint.engine import active_rules, packaged_connector_check
    from connectorkit.lint.registry import REGISTRY, Profile
    from connectorkit.lint.report import RENDERERS, exit_code, render_text
    from connectorkit.lint.runner import Result
    from connectorkit.publish.packagecheck import check_package, verdict

    profile = options.profile or Profile.CERTIFIED
    wanted = {r.id for r in active_rules(profile, options.select, options.ignore)}
    definition_check = packaged_connector_check(profile, options.select, options.ignore)
    findings = check_package(package, plugin=ai_plugin, validate=definition_check)
    kept = [f for f in findings if f.rule in wanted or REGISTRY.get(f.rule) is None]
    results = [Result(str(package), findings=kept, profile=profile)]
    if output_format is ReportFormat.text:
        text = render_text(results, color=output is None and sys.stdout.isatty()) + verdict(kept) + "\n"
    else:
        text = RENDERERS[output_format.value](results)
    write_output(text, output)
    raise typer.Exit(exit_code(results))


def register(app: typer.Typer) -> None:
    @app.command("validate")
    @handle_errors
    def validate(
        paths: list[Path] | None = typer.Argument(
            None, help="Connector folders, definition files, or folders holding many connectors."
        ),
        profile: str | None = typer.Option(
            None,
            "--profile",
            "-p",
            help="custom (what import enforces, default), certified or independent-publisher (adds certification rules).",
        ),
        select: list[str] | None = typer.Option(
            None, "--select", help="Only these rule ids or categories (repeat or comma-separate)."
        ),
        ignore: list[str] | None = typer.Option(
            None, "--ignore", help="Skip these rule ids or categories (repeat or comma-separate)."
        ),
        output_format: ReportFormat = typer.Option(
            ReportFormat.text, "--format", "-f", help="text, json, sarif (2.1.0), junit or github (annotations)."
        ),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write the report to this file."),
        jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, help="Parallel processes (default: CPU count)."),
        no_config: bool = typer.Option(
            False, "--no-config", help="Ignore connectorkit.toml and \\[tool.connectorkit.lint] in pyproject.toml."
        ),
        package: Path | None = typer.Option(
            None,
            "--package",
            help="Check a certification package zip (intro.md + package zip with PkgAssets) instead of PATHs: "
            "ConnectorPackageValidator.ps1's checks and messages, XML, intro.md, and the connector inside "
            "(profile certified unless --profile).",
        ),
        ai_plugin: bool = typer.Option(
            False, "--ai-plugin", help="With --package: the connector is an AI plugin (a third, plugin solution)."
        ),
    ) -> None:
        """Check connectors against Microsoft's Swagger Validator, certification and apiProperties rules.

        Exit code 0 when no finding is an error, 1 when some are, 2 for usage or input errors.
        A file that cannot be parsed is reported as a finding and the other files are still checked.
        """
        from connectorkit.lint.config import parse_profile
        from connectorkit.lint.report import RENDERERS, exit_code, render_text
        from connectorkit.lint.runner import Options, discover, validate_many

        options = Options(
            profile=parse_profile(profile, "--profile") if profile else None,
            select=split_names(select, "--select"),
            ignore=split_names(ignore, "--ignore"),
            use_config=not no_config,
        )
        if package is not None or ai_plugin:
            if package is None:
                raise InputError("--ai-plugin: only with --package FILE.zip")
            if paths:
                raise InputError("--package: give either connector PATHs or --package FILE.zip, not both")
            validate_package(package, options, ai_plugin=ai_plugin, output_format=output_format, output=output)
        if not paths:
            raise InputError("give connector PATHs to validate, or --package FILE.zip")
        targets = discover(paths)
        show_progress = len(targets) > 1 and err.is_terminal
        if show_progress:
            with Progress(
                TextColumn("validating"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as bar:
                task = bar.add_task("validate", total=len(targets))

                def advance(_: Result) -> None:
                    bar.advance(task)

                results = validate_many(targets, options, jobs=jobs, progress=advance)
        else:
            results = validate_many(targets, options, jobs=jobs)
        if output_format is ReportFormat.text and output is None:
            text = render_text(results, color=sys.stdout.isatty())
        else:
            text = RENDERERS[output_format.value](results)
        write_output(text, output)
        raise typer.Exit(exit_code(results))
