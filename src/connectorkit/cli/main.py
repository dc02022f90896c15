"""The ``connectorkit`` command."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

import typer
from rich.logging import RichHandler
from typer.core import TyperGroup

try:  # typer 0.2x carries its own copy of click
    from typer._click import exceptions as usage
except ImportError:  # pragma: no cover - older typer on click itself
    from click import exceptions as usage  # type: ignore[no-redef]

from connectorkit import __version__
from connectorkit.cli import appreg as appreg_command
from connectorkit.cli import cloudenv as cloudenv_command
from connectorkit.cli import convert as convert_command
from connectorkit.cli import diff as diff_command
from connectorkit.cli import local as local_command
from connectorkit.cli import login as login_command
from connectorkit.cli import new as new_command
from connectorkit.cli import package as package_command
from connectorkit.cli import quickstart as quickstart_command
from connectorkit.cli import rules as rules_command
from connectorkit.cli import serve as serve_command
from connectorkit.cli import show as show_command
from connectorkit.cli import triggers as triggers_command
from connectorkit.cli import validate as validate_command
from connectorkit.cli.common import err


class _OneLineErrors(TyperGroup):
    """The root command, with usage errors (a missing argument, an unknown option, a bad value) as
    one line on stderr and exit code 2, like every other input error, instead of a boxed panel."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, *rest: Any, **extra: Any) -> Any:
        if extra.get("standalone_mode", True) is False:
            return super().main(args, prog_name, *rest, **extra)
        extra["standalone_mode"] = False
        try:
            code = super().main(args, prog_name, *rest, **extra)
        except usage.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
            sys.exit(exc.exit_code)
        except usage.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "connectorkit"
            message = " ".join(exc.format_message().split())
            err.print(f"error: {where}: {message} (see '{where} --help')", markup=False, highlight=False)
            sys.exit(exc.exit_code)
        except usage.ClickException as exc:
            err.print(f"error: {' '.join(exc.format_message().split())}", markup=False, highlight=False)
            sys.exit(exc.exit_code)
        except typer.Abort:
            err.print("aborted", markup=False, highlight=False)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_OneLineErrors,
    name="connectorkit",
    help="Build, validate, run and ship Microsoft Power Platform custom connectors, offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"connectorkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log what connectorkit is doing (to stderr)."),
    debug: bool = typer.Option(False, "--debug", help="Log everything, with tracebacks for internal errors."),
) -> None:
    """Exit codes: 0 ok, 1 findings or failure, 2 usage or input error."""
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    handler = RichHandler(console=err, show_time=False, show_path=False, rich_tracebacks=debug)
    handler.setFormatter(logging.Formatter("%(message)s"))
    # Only our own logger: libraries (and a test's loopback server) keep their own logging.
    logger = logging.getLogger("connectorkit")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


new_command.register(app)
convert_command.register(app)
validate_command.register(app)
diff_command.register(app)
local_command.register(app)
rules_command.register(app)
show_command.register(app)
serve_command.register(app)
quickstart_command.register(app)
triggers_command.register(app)
cloudenv_command.register(app)
login_command.register(app)
appreg_command.register(app)
package_command.register(app)


def main() -> None:
    app()
