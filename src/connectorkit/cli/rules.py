"""``connectorkit rules [ID]``: what each rule checks, why, and how to fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, handle_errors, out, print_json
from connectorkit.errors import InputError
from connectorkit.lint.registry import Profile

if TYPE_CHECKING:
    from connectorkit.lint.registry import Rule


def rule_data(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "category": rule.category.value,
        "severity": rule.severity.value,
        "profiles": [p.value for p in Profile if p in rule.profiles],
        "message": rule.message.replace("{{", "{").replace("}}", "}"),
        "explanation": rule.explanation,
        "fix": rule.fix,
        "source": rule.source,
        "microsoft": rule.microsoft,
    }


def register(app: typer.Typer) -> None:
    @app.command("rules")
    @handle_errors
    def rules(
        rule_id: str | None = typer.Argument(None, help="Explain this rule (id, case-insensitive)."),
        category: str | None = typer.Option(None, "--category", help="Only rules of this category."),
        profile: str | None = typer.Option(None, "--profile", help="Only rules that run in this profile."),
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """List every validator rule (id, category, severity, profiles), or explain one."""
        from connectorkit.lint import rules as _rules  # noqa: F401 - registers every rule
        from connectorkit.lint.registry import REGISTRY

        if rule_id is not None:
            found = REGISTRY.get(rule_id)
            if found is None:
                raise InputError(f"unknown rule {rule_id!r} (run 'connectorkit rules' for the list)")
            data = rule_data(found)
            if output_format is OutputFormat.json:
                print_json(data)
                return
            out.print(f"[bold]{data['id']}[/]  {data['severity']}  {data['category']}  ({', '.join(data['profiles'])})")
            out.print(f"  message  {escape(data['message'])}")
            out.print(f"  why      {escape(data['explanation'])}")
            out.print(f"  fix      {escape(data['fix'])}")
            if data["source"]:
                out.print(f"  source   {escape(data['source'])}")
            return
        selected = [
            r
            for r in REGISTRY
            if (category is None or r.category.value == category.lower())
            and (profile is None or any(p.value == profile.lower() for p in r.profiles))
        ]
        if output_format is OutputFormat.json:
            print_json([rule_data(r) for r in selected])
            return
        width = max((len(r.id) for r in selected), default=2)
        lines = [f"{'id':<{width}}  {'category':<14}  {'severity':<8}  profiles"]
        for r in selected:
            profiles = ", ".join(p.value for p in Profile if p in r.profiles)
            lines.append(f"{r.id:<{width}}  {r.category.value:<14}  {r.severity.value:<8}  {profiles}")
        lines.append(f"{len(selected)} rules")
        typer.echo("\n".join(lines))
