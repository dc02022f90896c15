"""``connectorkit quickstart``: the whole job in one command, against the bundled example API."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from connectorkit.cli.common import FORMAT_OPTION, OutputFormat, handle_errors, out, print_json

if TYPE_CHECKING:
    from connectorkit.examples.quickstart import Step, Tour


def render_step(step: Step) -> None:
    mark = "[bold green]✔[/]" if step.ok else "[bold red]✘[/]"
    out.print(f"{mark} {escape(step.title)}  [dim]{escape(step.detail)} ({step.ms:.0f} ms)[/]")
    out.print(f"    [cyan]$ {escape(step.command)}[/]")


def summary(tour: Tour, error: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ok": tour.ok and error is None,
        "seconds": round(tour.seconds, 3),
        "steps": [s.as_dict() for s in tour.steps],
        "connector": str(tour.connector) if tour.connector and tour.connector.exists() else None,
        "submission": str(tour.submission) if tour.submission and tour.submission.exists() else None,
        "certification": str(tour.certification) if tour.certification and tour.certification.exists() else None,
        "db": tour.db,
        "kept": str(tour.kept) if tour.kept else None,
    }
    if error is not None:
        data["error"] = error
    return data


def register(app: typer.Typer) -> None:
    @app.command("quickstart")
    @handle_errors
    def quickstart(
        output: Path | None = typer.Option(
            None, "--output", "-o", help="Folder to create the Tasks connector in (default: a temporary folder)."
        ),
        keep: bool = typer.Option(False, "--keep", help="Keep the temporary folder (connector and store) at the end."),
        db: str | None = typer.Option(
            None, "--db", help="Store URL to deploy to (default: a temporary SQLite store, never your own)."
        ),
        output_format: OutputFormat = FORMAT_OPTION,
    ) -> None:
        """Build, validate, deploy and call a connector for the bundled Tasks API, in a few seconds.

        Starts the example API on a free loopback port, creates the connector from its OpenAPI
        document, validates it, deploys it to a local environment, connects with the API key and
        calls create, list (all pages), read, update and delete, then shows one event of each trigger
        kind: OnNewTasks (polling) and OnTaskCreated (webhook, unsubscribed at once), and ends by writing the
        certified submission folder and the certification package beside the connector (with example publisher
        details). Each step prints the standalone command that does the same. Exit code 0 when every step passes,
        1 naming the step that failed.
        """
        from connectorkit.examples.quickstart import StepFailed, TourOptions, run_tour

        options = TourOptions(output=output, keep=keep, db=db)
        text = output_format is OutputFormat.text
        if text:
            out.print("[bold]connectorkit quickstart[/]: a connector for the example Tasks API, end to end\n")
        try:
            tour = run_tour(options, render_step if text else lambda _: None)
        except StepFailed as failed:
            if not text and failed.tour is not None:
                print_json(summary(failed.tour, str(failed)))
            raise
        if not text:
            print_json(summary(tour))
            return
        out.print(f"\n[bold green]All {len(tour.steps)} steps passed[/] in {tour.seconds:.1f} s.")
        if tour.kept is not None:
            out.print(f"Kept {escape(str(tour.kept))} (connector and store); the API itself has stopped.")
        elif options.output is not None:
            out.print(f"The connector is in {escape(str(tour.connector))}; the API itself has stopped.")
            out.print(
                f"Submission folder: {escape(str(tour.submission))}; "
                f"certification package: {escape(str(tour.certification))}."
            )
        else:
            out.print("The temporary folder was removed; run with --keep (or --output DIR) to keep the connector.")
