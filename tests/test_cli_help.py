"""Help texts survive Rich markup: a literal ``[table]`` in an option's help must be escaped, or
Rich swallows it as a style tag and the help reads "Runtime settings file ( table; ...)"."""

from __future__ import annotations

import re

import click
from typer.main import get_command
from typer.testing import CliRunner

from connectorkit.cli.main import app

# An unescaped [lowercase.word] is a Rich style tag to Rich: it vanishes from the printed help.
UNESCAPED = re.compile(r"(?<!\\)\[([a-z][\w.]*)\]")


def _texts(command: click.Command, path: list[str]) -> list[tuple[str, str]]:
    found = [(" ".join(path) or "connectorkit", command.help or "")]
    for param in command.params:
        found.append((f"{' '.join(path)} {param.name}", getattr(param, "help", None) or ""))
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _texts(sub, [*path, name])
    return found


def test_no_help_text_loses_a_bracketed_word_to_rich_markup() -> None:
    lost = [
        (where, match.group(0)) for where, text in _texts(get_command(app), []) for match in UNESCAPED.finditer(text)
    ]
    assert lost == []


def test_an_escaped_bracket_is_printed() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], terminal_width=200, env={"COLUMNS": "200"})
    assert "[runtime] table" in result.output
