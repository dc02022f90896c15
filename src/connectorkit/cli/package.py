"""``connectorkit package ...``: build the shapes a connector is published in, and take them apart again.

Commands are added to :data:`app`; each publishing shape has its own command (``solution``, ``unpack``
here; ``submission`` and ``certification`` are added by their own modules' sections below)."""

from __future__ import annotations

from pathlib import Path

import typer

from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, handle_errors, out, print_json
from connectorkit.definition.findings import Finding
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.publish.submission import PublisherKind, Submission, SubmissionRefused

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
    publisher_prefix: str = typer.Option(
        "new", "--publisher-prefix", help="Publisher customization prefix (2-8 letters/digits, starting with a letter)."
    ),
    publisher_name: str | None = typer.Option(
        None,
        "--publisher-name",
        help="Publisher display name; its unique name is its letters and digits. "
        "[default: apiProperties' publisher, else the prefix]",
    ),
    version: str = typer.Option("1.0.0.0", "--version", help="Solution version: four dot-separated whole numbers."),
    unique_name: str | None = typer.Option(
        None, "--unique-name", help="Solution unique name (letters, digits, _). [default: from the connector title]"
    ),
    platform_only: bool = typer.Option(
        False,
        "--platform-only",
        help="Leave out connectorkit's copy of apiProperties.json (Connector/<name>_apiproperties.json); "
        "unpacking then loses publisher, stackOwner and the key order.",
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
    icon.png and script.csx when present. The zip is read as untrusted (no paths outside the folder,
    zip-bomb caps); nothing is written when it is refused. Exit 2 for bad input."""
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


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="package")
