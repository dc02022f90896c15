"""``connectorkit show FOLDER``: what a connector folder holds, and what had to be repaired to read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, handle_errors, out, print_json
from connectorkit.definition.package import ConnectorPackage


def describe(package: ConnectorPackage) -> dict[str, Any]:
    swagger = package.swagger
    props = package.properties.properties
    operations = list(swagger.operations())
    params = props.connectionParameters or {}
    oauth = next((p.oAuthSettings for p in params.values() if p.oAuthSettings is not None), None)
    return {
        "path": str(package.path),
        "files": sorted(package.file_names.values()),
        "title": swagger.title,
        "host": swagger.host,
        "basePath": swagger.base_path,
        "operations": [
            {
                "operationId": op.operation_id,
                "method": op.method.upper(),
                "path": op.path,
                "trigger": op.trigger_kind,
            }
            for op in operations
        ],
        "securityDefinitions": {s.name: s.type for s in swagger.security_schemes()},
        "connectionParameters": {name: p.type for name, p in params.items()},
        "identityProvider": oauth.identityProvider if oauth else None,
        "policyTemplates": [p.templateId for p in props.policyTemplateInstances or []],
        "iconBrandColor": props.iconBrandColor,
        "findings": [f.model_dump(mode="json", exclude_none=True) for f in package.findings],
    }


def render(data: dict[str, Any]) -> None:
    out.print(f"[bold]{escape(data['title'] or '(untitled)')}[/]  {escape(data['path'])}")
    out.print(f"  host        {data['host'] or '-'}{data['basePath']}", markup=False)
    ops = data["operations"]
    triggers = sum(1 for op in ops if op["trigger"])
    out.print(f"  operations  {len(ops) - triggers} actions, {triggers} triggers", markup=False)
    params = ", ".join(f"{k} ({v})" for k, v in data["connectionParameters"].items()) or "none"
    out.print(f"  connection  {params}", markup=False)
    if data["identityProvider"]:
        out.print(f"  sign-in     {data['identityProvider']}", markup=False)
    if data["policyTemplates"]:
        out.print(f"  policies    {', '.join(data['policyTemplates'])}", markup=False)
    out.print(f"  files       {', '.join(data['files'])}", markup=False)
    for finding in data["findings"]:
        where = f"{finding.get('file')}:{finding.get('line', 1)}:{finding.get('column', 1)}"
        out.print(
            f"  [yellow]{finding['severity']}[/] {escape(where)}: {escape(finding['message'])} \\[{finding['rule']}]"
        )


def register(app: typer.Typer) -> None:
    @app.command("show")
    @handle_errors
    def show(
        folder: Path = typer.Argument(
            ..., help="Connector folder (apiDefinition.swagger.json, apiProperties.json, ...)."
        ),
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Summarise a connector folder: operations, sign-in, policies, and any repairs made to read it."""
        package = ConnectorPackage.load(folder)
        data = describe(package)
        if output_format is OutputFormat.json:
            print_json(data)
        else:
            render(data)
