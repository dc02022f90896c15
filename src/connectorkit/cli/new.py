"""``connectorkit new NAME --from SPEC``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

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

if TYPE_CHECKING:  # authoring pulls in Pillow and httpx: load them only when 'new' runs
    from connectorkit.authoring.new import NewResult
    from connectorkit.authoring.report import Report


def summary(result: NewResult, target: Path) -> dict[str, Any]:
    package = result.package
    return {
        "path": str(target),
        "files": sorted(package.files()),
        "source": result.source_format.value,
        "title": package.swagger.title,
        "operations": result.operations,
        "triggers": result.triggers,
        "auth": {
            "kind": result.auth.kind,
            "scheme": result.auth.scheme,
            "connectionParameters": list(result.auth.connection_parameters),
            "policies": [p["templateId"] for p in result.auth.policies],
            "script": result.auth.script is not None,
        },
        "iconGenerated": result.icon_generated,
        "icon": result.icon_shipped,
        "iconBrandColor": package.api_properties["properties"]["iconBrandColor"],
        "notes": result.auth.notes,
        "report": report_summary(result.report),
    }


def render(data: dict[str, Any], report: Report) -> None:
    out.print(f"[bold green]Created[/] {escape(data['path'])}")
    out.print(f"  from       {data['source']} ({data['title'] or 'untitled'})", markup=False)
    ops = f"{data['operations']} actions"
    if data["triggers"]:
        ops += f", {data['triggers']} triggers"
    out.print(f"  operations {ops}", markup=False)
    auth = data["auth"]
    params = ", ".join(auth["connectionParameters"]) or "none"
    out.print(f"  auth       {auth['kind']} (connection parameters: {params})", markup=False)
    for note in data["notes"]:
        out.print(f"             - {note}", markup=False)
    icon = "none (--no-icon)" if not data["icon"] else "generated" if data["iconGenerated"] else "copied"
    out.print(f"  icon       {icon}, brand colour {data['iconBrandColor']}", markup=False)
    out.print(f"  files      {', '.join(data['files'])}", markup=False)
    render_report(report)


def register(app: typer.Typer) -> None:
    @app.command("new")
    @handle_errors
    def new(
        name: str = typer.Argument(..., help="Connector name; also the folder created under --out."),
        source: str = typer.Option(
            ...,
            "--from",
            help="API description: Swagger 2.0, OpenAPI 3.0/3.1 or a Postman collection (JSON or YAML), path or URL.",
        ),
        out_dir: Path = typer.Option(Path("."), "--out", "-o", help="Folder to create NAME/ in."),
        auth_config: Path | None = typer.Option(
            None,
            "--auth-config",
            help="JSON file with oauth2.clientId, oauth2.resourceUri, oauth2.tenantId, loginUri, scopes.",
        ),
        client_id: str | None = typer.Option(None, "--client-id", help="OAuth client (application) ID."),
        resource_uri: str | None = typer.Option(None, "--resource-uri", help="Azure AD resource (application ID URI)."),
        tenant_id: str | None = typer.Option(None, "--tenant-id", help="Azure AD tenant (default: common)."),
        login_uri: str | None = typer.Option(None, "--login-uri", help="Azure AD login host URL (sovereign clouds)."),
        scope: list[str] | None = typer.Option(None, "--scope", help="OAuth scope; repeat for several."),
        redirect_mode: str | None = typer.Option(
            None, "--redirect-mode", help="OAuth redirect mode: Global (default), GlobalPerConnector or Direct."
        ),
        on_behalf_of: bool | None = typer.Option(
            None, "--on-behalf-of/--no-on-behalf-of", help="Azure AD: enable on-behalf-of login."
        ),
        icon: Path | None = typer.Option(None, "--icon", help="Square PNG icon, 100 to 230 px; generated when absent."),
        no_icon: bool = typer.Option(
            False, "--no-icon", help="Ship no icon (independent publishers must not; a generic one is applied)."
        ),
        brand_color: str | None = typer.Option(None, "--brand-color", help="Icon background colour as #RRGGBB."),
        publisher: str | None = typer.Option(None, "--publisher", help="Publisher written to apiProperties."),
        stack_owner: str | None = typer.Option(None, "--stack-owner", help="Owner of the backend service."),
        environment: str | None = typer.Option(
            None, "--environment", help="Power Platform environment GUID for settings.json."
        ),
        force: bool = typer.Option(False, "--force", help="Replace OUT/NAME if it exists."),
        authorization_url: str | None = typer.Option(
            None, "--authorization-url", help="OAuth authorization URL (openIdConnect schemes name none)."
        ),
        token_url: str | None = typer.Option(None, "--token-url", help="OAuth token URL (openIdConnect schemes)."),
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
        """Create a connector folder (definition, apiProperties, icon, settings, readme) from an API description.

        OpenAPI 3 and Postman are converted to Swagger 2.0 first (see 'connectorkit convert'), with
        every approximation in the report. The sign-in is read from the security schemes: API key,
        basic, bearer, OAuth 2.0 authorization code (Azure AD or generic) and client credentials.
        Client secrets are never written to any file.
        """
        from connectorkit.authoring.auth import AuthConfig, check_redirect_mode
        from connectorkit.authoring.new import NewOptions, create_connector
        from connectorkit.authoring.source import read_spec

        config = AuthConfig.from_file(auth_config) if auth_config is not None else AuthConfig()
        config = config.merged(
            client_id=client_id,
            resource_uri=resource_uri,
            tenant_id=tenant_id,
            login_uri=login_uri,
            scopes=list(scope) if scope else None,
            redirect_mode=check_redirect_mode(redirect_mode, "--redirect-mode") if redirect_mode else None,
            on_behalf_of=on_behalf_of,
            authorization_url=authorization_url,
            token_url=token_url,
        )
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
        options = NewOptions(
            name=name,
            auth=config,
            icon=icon,
            no_icon=no_icon,
            brand_color=brand_color,
            publisher=publisher,
            stack_owner=stack_owner,
            environment=environment,
            conversion=flags.options(),
        )
        result = create_connector(spec, options)
        target = result.package.save(out_dir / options.name.strip(), overwrite=force)
        write_report(result.report, report_file)
        data = summary(result, target)
        if output_format is OutputFormat.json:
            print_json(data)
        else:
            render(data, result.report)
