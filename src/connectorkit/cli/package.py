"""``connectorkit package ...``: build the shapes a connector is published in, and take them apart again.

Commands are added to :data:`app`; each publishing shape has its own command (``solution``, ``unpack``
here; ``submission`` and ``certification`` are added by their own modules' sections below)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, handle_errors, out, print_json
from connectorkit.definition.findings import Finding
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.publish.submission import PublisherKind, Submission, SubmissionRefused

if TYPE_CHECKING:
    from connectorkit.publish.packagecheck import DefinitionCheck

app = typer.Typer(
    name="package",
    help="Package a connector for publishing: Dataverse solution zips (and back), submission folders, certification.",
    no_args_is_help=True,
)


def load_connector(path: Path) -> ConnectorPackage:
    """The connector folder at ``path``; a missing path or a file is a one-line usage error."""
    if not path.exists():
        raise InputError(f"{path}: no such connector folder")
    if not path.is_dir():
        raise InputError(f"{path}: not a folder (give the connector folder holding apiDefinition.swagger.json)")
    return ConnectorPackage.load(path)


@app.command("solution")
@handle_errors
def solution(
    path: Path = typer.Argument(..., help="The connector folder (apiDefinition.swagger.json, apiProperties.json, …)."),
    output: Path = typer.Option(..., "--output", "-o", help="The solution zip to write (replaced atomically)."),
    managed: bool = typer.Option(
        False, "--managed", help="Mark the solution managed (for distribution); unmanaged is what certification wants."
    ),
    publisher_prefix: str | None = typer.Option(
        None,
        "--publisher-prefix",
        help="Publisher customization prefix (2-8 letters/digits, starting with a letter). "
        "[default: settings.json's dataverseSolution (written by unpack), else new]",
    ),
    publisher_name: str | None = typer.Option(
        None,
        "--publisher-name",
        help="Publisher display name; its unique name is its letters and digits. "
        "[default: settings.json's dataverseSolution, else apiProperties' publisher, else the prefix]",
    ),
    version: str | None = typer.Option(
        None,
        "--version",
        help="Solution version: four dot-separated whole numbers. [default: settings.json's, else 1.0.0.0]",
    ),
    unique_name: str | None = typer.Option(
        None,
        "--unique-name",
        help="Solution unique name (letters, digits, _). [default: settings.json's, else from the connector title]",
    ),
    platform_only: bool = typer.Option(
        False,
        "--platform-only",
        help="Leave out connectorkit's copy of apiProperties.json (Connector/<name>_apiproperties.json); "
        "unpacking then loses stackOwner, other keys the platform has no column for, and the key order.",
    ),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Build a Dataverse solution zip holding the connector: solution.xml, customizations.xml with the
    <Connectors> entry, [Content_Types].xml and the Connector/ files, byte-identical for the same input.

    Import it with `pac solution import --path FILE.zip`. Exit 2 for bad input."""
    from connectorkit.publish.solution import build_solution, read_solution_info
    from connectorkit.publish.zips import write_file_atomic

    package = load_connector(path)
    data = build_solution(
        package,
        managed=managed,
        publisher_prefix=publisher_prefix,
        version=version,
        unique_name=unique_name,
        publisher=publisher_name,
        extras=not platform_only,
    )

    write_file_atomic(output, data)
    info = read_solution_info(data, source=str(output))
    summary = {"output": str(output), "bytes": len(data), **info.as_json()}
    if output_format is OutputFormat.json:
        print_json(summary)
        return
    kind = "managed" if info.managed else "unmanaged"
    out.print(
        f"wrote {output} ({len(data)} bytes): {kind} solution {info.unique_name} {info.version}, "
        f"connector {info.connector_name}",
        markup=False,
    )


@app.command("unpack")
@handle_errors
def unpack(
    zip_file: Path = typer.Argument(..., metavar="FILE.zip", help="A Dataverse solution zip holding one connector."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="The connector folder to create (must not exist, or be empty)."
    ),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Turn a solution zip back into a connector folder: apiDefinition.swagger.json, apiProperties.json,
    icon.png and script.csx when present, and settings.json recording the solution's identity (unique name,
    version, publisher, the connector's name and id) where a repack would not derive it again. The zip is
    read as untrusted (no paths outside the folder, zip-bomb caps); nothing is written when it is refused.
    Exit 2 for bad input."""
    from connectorkit.publish.solution import unpack_solution

    if not zip_file.is_file():
        raise InputError(f"{zip_file}: no such file")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise InputError(f"--output {output}: already exists and is not an empty folder")
    folder = unpack_solution(zip_file, output)
    files = sorted(p.name for p in folder.iterdir())
    if output_format is OutputFormat.json:
        print_json({"output": str(folder), "files": files})
        return
    out.print(f"unpacked {zip_file} into {folder}: {', '.join(files)}", markup=False)


def validate_submission(folder: Path, kind: PublisherKind) -> list[Finding]:
    """``connectorkit validate --profile <kind>`` on a submission folder. The user's connectorkit.toml
    (accepted findings) is not read: the repository's reviewers do not accept them either."""
    from connectorkit.lint.registry import Profile
    from connectorkit.lint.runner import Options, validate_one

    return validate_one(folder, Options(profile=Profile(kind.value), use_config=False)).findings


def _finding_json(finding: Finding) -> dict[str, object]:
    return finding.model_dump(mode="json", exclude_none=True, exclude={"value_path"})


def _submission_json(prepared: Submission, target: Path, errors: list[Finding]) -> dict[str, object]:
    return {
        "written": not errors,
        "path": str(target),
        "repositoryPath": prepared.repo_path,
        "publisherKind": prepared.kind.value,
        "pullRequestTitle": prepared.pull_request_title,
        "files": sorted(prepared.files),
        "readme": "generated" if prepared.readme_generated else "checked",
        "iconBrandColor": prepared.brand_color,
        "notes": prepared.notes,
        "errors": [_finding_json(f) for f in errors],
        "warnings": len(prepared.warnings),
    }


@app.command("submission")
@handle_errors
def submission(
    path: Path = typer.Argument(..., help="The connector folder (apiDefinition.swagger.json, apiProperties.json, …)."),
    publisher_kind: PublisherKind = typer.Option(
        ..., "--publisher-kind", case_sensitive=False, help="Decides the repository folder, the icon and brand colour."
    ),
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="Folder to write <Name>/ in; in a clone of microsoft/PowerPlatformConnectors it goes in the kind's folder.",
    ),
    force: bool = typer.Option(False, "--force", help="Replace the connector's folder when it already exists."),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Write the pull-request folder for microsoft/PowerPlatformConnectors: apiDefinition.swagger.json,
    apiProperties.json, readme.md (generated when the connector has none, else checked for the template's
    sections), icon.png (certified only) and script.csx.

    Independent publishers get iconBrandColor #da3b01 and no icon; certified connectors may not use #ffffff or
    #007ee5. The folder must pass `connectorkit validate --profile <kind>`: otherwise nothing is written and
    the errors are listed (exit 1). Exit 2 for bad input or an existing folder without --force."""
    from connectorkit.publish.submission import prepare_submission, submission_target, write_submission

    prepared = prepare_submission(load_connector(path), publisher_kind)
    try:
        target = write_submission(prepared, output, validate=validate_submission, force=force)
    except SubmissionRefused as refused:
        if output_format is OutputFormat.json:
            print_json(_submission_json(prepared, submission_target(prepared, output), refused.errors))
            raise typer.Exit(1) from None
        for finding in refused.errors:
            typer.echo(str(finding), err=True)
        raise
    if output_format is OutputFormat.json:
        print_json(_submission_json(prepared, target, []))
        return
    _render_submission(prepared, target)


def _render_submission(prepared: Submission, target: Path) -> None:
    from rich.markup import escape

    readme = "generated from the definition" if prepared.readme_generated else "checked: every required section"
    out.print(f"[bold green]Wrote[/] {escape(str(target))}")
    rows = [
        ("repository", f"{prepared.repo_path}  (pull request title: {prepared.pull_request_title})"),
        ("files", ", ".join(sorted(prepared.files))),
        ("readme.md", readme),
        ("brand colour", prepared.brand_color or "none"),
    ]
    rows += [("note", note) for note in prepared.notes]
    if prepared.warnings:
        rows.append(("warnings", f"{len(prepared.warnings)} (see connectorkit validate --profile {prepared.kind})"))
    for label, value in rows:
        out.print(f"  {label:<14}{value}", markup=False)


@app.command("appsource")
@handle_errors
def appsource(
    path: Path = typer.Argument(..., help="The connector folder (its icon, title and Website link are used)."),
    output: Path = typer.Option(
        ..., "--output", "-o", help="The AppSource package zip to write, e.g. Contoso_Orders.zip (replaced atomically)."
    ),
    publisher: str = typer.Option(
        ..., "--publisher", help="Provider name (input.xml <ProviderName>); also the built solution's publisher."
    ),
    license_file: Path | None = typer.Option(
        None, "--license-file", help="License terms as an HTML file (checked: UTF-8, tags closed, some text)."
    ),
    license_text: str | None = typer.Option(
        None, "--license-text", help="License terms as plain text, turned into escaped HTML (blank line = paragraph)."
    ),
    solution: Path | None = typer.Option(
        None, "--solution", help="A managed solution zip to ship instead of building one from the connector."
    ),
    version: str | None = typer.Option(
        None,
        "--version",
        help="Version of the solution built here: four whole numbers (default: settings.json's, else 1.0.0.0).",
    ),
    publisher_prefix: str | None = typer.Option(
        None,
        "--publisher-prefix",
        help="Customization prefix of the solution built here, 2-8 letters/digits (default: settings.json's, else new).",
    ),
    start_date: str | None = typer.Option(
        None,
        "--start-date",
        help="When the app becomes available, YYYY-MM-DD or MM/DD/YYYY "
        "(default: today, or the day of SOURCE_DATE_EPOCH when set).",
    ),
    end_date: str | None = typer.Option(
        None, "--end-date", help="When the app stops being available (default: 10 years after the start date)."
    ),
    countries: str | None = typer.Option(
        None,
        "--countries",
        help="Comma-separated two-letter country/region codes from the AppSource page's list "
        "(default: every country it lists).",
    ),
    allow_unlisted_country: bool = typer.Option(
        False,
        "--allow-unlisted-country",
        help="Accept --countries codes the AppSource page's list (given 'at the time of writing') does not have yet.",
    ),
    learn_more_link: str | None = typer.Option(
        None,
        "--learn-more-link",
        help="Package details page (default: the definition's x-ms-connector-metadata Website).",
    ),
    lcid: int = typer.Option(
        1033, "--lcid", help="Language code identifier of the (default) locale: 1033 = US English."
    ),
    assembly: Path | None = typer.Option(
        None, "--assembly", help="A prebuilt Package Deployer assembly (<PackageName>.dll) to include in package.zip."
    ),
    assets_folder: str = typer.Option(
        "PkgAssets", "--assets-folder", help="package.zip's assets folder, as the assembly names it (pac: PkgAssets)."
    ),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Build the AppSource package: flat at the root [Content_Types].xml, input.xml, package.zip (the Package
    Deployer package: PkgAssets/ImportConfig.xml and the managed connector solution), logo32x32.png (from the
    connector icon, or its initials on the brand colour) and TermsOfUse.html.

    The result is re-read and checked before it is written; byte-identical for the same input and dates.
    Exit 2 for bad input, and nothing is written."""
    import os
    from datetime import UTC, datetime

    from connectorkit.errors import ConnectorkitError
    from connectorkit.publish import appsource as pkg
    from connectorkit.publish.zips import write_file_atomic

    if output.suffix.lower() != ".zip":
        raise InputError(f"--output {output}: an AppSource package is a .zip file")
    if (license_file is None) == (license_text is None):
        raise InputError("--license-file / --license-text: give exactly one (the package must carry license terms)")
    connector = load_connector(path)
    provider = pkg.check_provider(publisher)
    start = (
        pkg.parse_date(start_date, "--start-date")
        if start_date is not None
        else pkg.release_date(os.environ, datetime.now(UTC).date())
    )
    end = pkg.parse_date(end_date, "--end-date") if end_date is not None else pkg.years_after(start, pkg.DEFAULT_YEARS)
    pkg.check_dates(start, end)
    link = learn_more_link if learn_more_link is not None else pkg.website(connector)
    if link is None:
        raise InputError("--learn-more-link: required, the definition's x-ms-connector-metadata has no Website")
    link = pkg.check_link(link, "--learn-more-link")
    if license_file is not None:
        terms = pkg.read_license_file(license_file)
    else:
        terms = pkg.license_from_text(license_text or "", title=pkg.package_title(connector), provider=provider)
    given = None
    if solution is not None:
        if version is not None:
            raise InputError("--version: the solution given with --solution carries its own version")
        try:
            given = solution.read_bytes()
        except OSError as exc:
            raise InputError(f"--solution {solution}: cannot read: {exc.strerror}") from None
    options = pkg.AppSourceOptions(
        provider=provider,
        license_html=terms,
        start_date=start,
        end_date=end,
        learn_more_link=link,
        countries=(
            pkg.check_countries(countries, allow_unlisted=allow_unlisted_country)
            if countries is not None
            else pkg.SUPPORTED_COUNTRIES
        ),
        lcid=pkg.check_lcid(lcid),
        assets_folder=pkg.check_assets_folder(assets_folder),
        assembly=pkg.read_assembly(assembly) if assembly is not None else None,
    )
    built = pkg.build_appsource(
        connector,
        options,
        solution=given,
        solution_source=f"--solution {solution}",
        publisher_prefix=publisher_prefix,
        version=version,
    )
    problems = pkg.check_appsource(built.data, source=str(output))
    if problems:
        raise ConnectorkitError(f"{output}: the built package fails its own check, nothing written: {problems[0]}")
    write_file_atomic(output, built.data)
    if output_format is OutputFormat.json:
        print_json({"output": str(output), **built.as_json()})
        return
    info = built.solution
    out.print(
        f"wrote {output} ({len(built.data)} bytes): AppSource package of managed solution {info.unique_name} "
        f"{info.version} ({built.solution_file}), provider {provider}, available "
        f"{start.strftime(pkg.DATE_FORMAT)}-{end.strftime(pkg.DATE_FORMAT)} in {len(options.countries)} countries",
        markup=False,
    )
    out.print(f"  files          {', '.join(built.files)}", markup=False)
    out.print(f"  package.zip    {', '.join(built.package_files)}", markup=False)
    for note in built.notes:
        out.print(f"  note           {note}", markup=False)


def certification_check() -> DefinitionCheck:
    """The lint validator under the certified profile, as ``connectorkit validate --package`` runs it on the
    connector inside a package."""
    from connectorkit.lint.engine import packaged_connector_check

    return packaged_connector_check()


def _read_zip_option(path: Path | None, option: str) -> bytes | None:
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"{option} {path}: no such file")
    return path.read_bytes()


@app.command("certification")
@handle_errors
def certification(
    path: Path = typer.Argument(..., help="The connector folder (apiDefinition.swagger.json, apiProperties.json, …)."),
    output: Path = typer.Option(..., "--output", "-o", help="The certification package zip to write (atomically)."),
    flow_solution: Path | None = typer.Option(
        None, "--flow-solution", help="Your flow solution zip (connector + Workflows). [default: a generated sample]"
    ),
    ai_plugin: bool = typer.Option(False, "--ai-plugin", help="A plugin connector: add the AI plugin solution slot."),
    plugin_solution: Path | None = typer.Option(
        None, "--plugin-solution", help="With --ai-plugin: the AI plugin solution zip exported from your environment."
    ),
    intro: Path | None = typer.Option(
        None, "--intro", help="intro.md to use. [default: the connector's intro.md, else written from its readme]"
    ),
    managed: bool = typer.Option(False, "--managed", help="Build managed solutions (certification wants unmanaged)."),
    publisher_prefix: str | None = typer.Option(
        None,
        "--publisher-prefix",
        help="Publisher customization prefix of the connector solution. [default: settings.json's, else new]",
    ),
    version: str | None = typer.Option(
        None,
        "--version",
        help="Solution version: four dot-separated whole numbers. [default: settings.json's, else 1.0.0.0]",
    ),
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Build the certification package: intro.md and package.zip, whose PkgAssets/ holds the connector solution,
    a flow solution (a sample flow calling one of the connector's actions unless --flow-solution) and, with
    --ai-plugin, the plugin solution.

    The package must pass `connectorkit validate --package` (ConnectorPackageValidator.ps1's checks, intro.md's
    sections, the connector under the certified profile) before it is written: otherwise nothing is written and
    the errors are listed (exit 1). The same input gives a byte-identical zip. Exit 2 for bad input."""
    from connectorkit.publish.certification import (
        CertificationRefused,
        build_certification,
        summary,
        write_certification,
    )

    given_intro = None
    if intro is not None:
        if not intro.is_file():
            raise InputError(f"--intro {intro}: no such file")
        try:
            given_intro = intro.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            raise InputError(f"--intro {intro}: not UTF-8 text") from None
    built = build_certification(
        load_connector(path),
        intro=given_intro,
        flow_solution=_read_zip_option(flow_solution, "--flow-solution"),
        flow_source=f"--flow-solution {flow_solution}",
        ai_plugin=ai_plugin,
        plugin_solution=_read_zip_option(plugin_solution, "--plugin-solution"),
        plugin_source=f"--plugin-solution {plugin_solution}",
        managed=managed,
        publisher_prefix=publisher_prefix,
        version=version,
    )
    try:
        write_certification(built, output, validate=certification_check())
    except CertificationRefused as refused:
        if output_format is OutputFormat.json:
            data = summary(built, output) | {"written": False, "errors": [_finding_json(f) for f in refused.errors]}
            print_json(data)
            raise typer.Exit(1) from None
        for finding in refused.errors:
            typer.echo(str(finding), err=True)
        raise
    if output_format is OutputFormat.json:
        print_json(summary(built, output) | {"written": True, "errors": []})
        return
    flow = f"sample flow calling {built.sample_operation}" if built.flow_generated else "given"
    out.print(f"wrote {output} ({len(built.data)} bytes)", markup=False)
    rows = [
        ("files", ", ".join(built.entries)),
        ("intro.md", {"--intro": "given", "intro.md": "the connector's"}.get(built.intro_source, "generated")),
        ("flow solution", flow),
        ("connector", built.connector_name),
    ]
    rows += [("note", note) for note in built.notes]
    if built.warnings:
        rows.append(("warnings", f"{len(built.warnings)} (see connectorkit validate --package {output})"))
    for label, value in rows:
        out.print(f"  {label:<14}{value}", markup=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="package")
