"""``connectorkit convert SPEC -o FILE`` and ``connectorkit enrich DEFINITION``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, handle_errors, out, print_json
from connectorkit.cli.conversion import (
    CERTIFICATION,
    ENRICH,
    EXCLUDE_PATH,
    EXCLUDE_TAG,
    HIDE_OPTIONAL,
    INCLUDE_PATH,
    INCLUDE_TAG,
    MAX_OPERATIONS,
    REPORT,
    ConversionFlags,
    render_report,
    report_summary,
    write_report,
)
from connectorkit.definition.jsontext import compact_bytes, dump_bytes
from connectorkit.errors import InputError


def _write_definition(definition: dict[str, Any], target: Path, *, minify: bool = False) -> None:
    """Write atomically: a temporary file beside the target, renamed over it when complete."""
    if target.is_dir():
        raise InputError(f"-o {target}: is a folder; give a file name such as apiDefinition.swagger.json")
    data = compact_bytes(definition) if minify else dump_bytes(definition)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        temporary.replace(target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"-o {target}: cannot write: {exc.strerror}") from None


def register(app: typer.Typer) -> None:
    @app.command("convert")
    @handle_errors
    def convert_command(
        source: str = typer.Argument(..., help="OpenAPI 3.0/3.1, Postman v2.0/v2.1 or Swagger 2.0; path or URL."),
        output: Path = typer.Option(..., "--output", "-o", help="Where to write the Swagger 2.0 definition."),
        authorization_url: str | None = typer.Option(None, "--authorization-url", help="For openIdConnect schemes."),
        token_url: str | None = typer.Option(None, "--token-url", help="For openIdConnect schemes."),
        include_tag: list[str] | None = INCLUDE_TAG,
        exclude_tag: list[str] | None = EXCLUDE_TAG,
        include_path: list[str] | None = INCLUDE_PATH,
        exclude_path: list[str] | None = EXCLUDE_PATH,
        max_operations: int | None = MAX_OPERATIONS,
        enrich: bool | None = ENRICH,
        certification: bool = CERTIFICATION,
        hide_optional: bool = HIDE_OPTIONAL,
        report_file: Path | None = REPORT,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Convert an API description to a Power Platform Swagger 2.0 definition, and nothing else.

        Multi-file specs are bundled; OpenAPI 3 constructs Swagger 2.0 lacks are mapped or
        reported; the result is fitted to the platform's limits (1 MB, 256 operations, 512
        schemas per body). Use 'connectorkit new' for a whole connector folder.
        """
        from connectorkit.authoring.convert import convert
        from connectorkit.authoring.source import read_spec

        oidc = (authorization_url, token_url) if authorization_url and token_url else None
        flags = ConversionFlags(
            include_tag=include_tag,
            exclude_tag=exclude_tag,
            include_path=include_path,
            exclude_path=exclude_path,
            max_operations=max_operations,
            enrich=enrich,
            certification=certification,
            hide_optional=hide_optional,
        )
        spec = read_spec(source)
        converted, report = convert(spec, flags.options(oidc))
        _write_definition(converted.swagger, output, minify=converted.minify)
        write_report(report, report_file)
        data: dict[str, Any] = {"path": str(output), "source": spec.format.value, "report": report_summary(report)}
        if converted.bearer_schemes:
            data["bearerSchemes"] = sorted(converted.bearer_schemes)
        if converted.url_template:
            data["hostTemplate"] = converted.url_template
        if output_format is OutputFormat.json:
            print_json(data)
            return
        out.print(f"[bold green]Converted[/] {spec.format.label} to {output}")
        out.print(f"  operations {report.operations}", markup=False)
        render_report(report)

    @app.command("enrich")
    @handle_errors
    def enrich_command(
        definition: Path = typer.Argument(..., help="A Swagger 2.0 definition file or a connector folder."),
        output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of in place."),
        certification: bool = CERTIFICATION,
        hide_optional: bool = HIDE_OPTIONAL,
        rename_ids: bool = typer.Option(
            False,
            "--rename-ids",
            help="Also rewrite valid operationIds to PascalCase (breaks flows built on a published connector).",
        ),
        report_file: Path | None = REPORT,
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Add what a connector needs to an existing definition: PascalCase operationIds, summaries
        and descriptions, x-ms-summary titles, path encodings (and certification fields with
        --certification). Every change is listed.
        """
        from connectorkit.authoring.enrich import EnrichOptions, enrich
        from connectorkit.authoring.report import Report
        from connectorkit.definition.package import DEFINITION, ConnectorPackage

        if definition.is_dir():
            package = ConnectorPackage.load(definition)
            source_file = definition / package.name_of(DEFINITION)
        else:
            package = ConnectorPackage.from_definition(definition)
            source_file = definition
        if str(package.definition.get("swagger", "")) != "2.0":
            raise InputError(f"{source_file}: not a Swagger 2.0 definition (use 'connectorkit convert' first)")
        report = Report(source_format="swagger-2.0")
        options = EnrichOptions(certification=certification, hide_optional=hide_optional, pascal_case_ids=rename_ids)
        enrich(package.definition, report, options)
        target = output or source_file
        _write_definition(package.definition, target)
        write_report(report, report_file)
        data = {"path": str(target), "changes": len(report.items), "report": report_summary(report)}
        if output_format is OutputFormat.json:
            print_json(data)
            return
        out.print(f"[bold green]Enriched[/] {target}: {len(report.items)} changes")
        render_report(report, limit=20)
