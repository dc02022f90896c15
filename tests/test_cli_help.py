"""Help texts survive Rich markup: a literal ``[table]`` in an option's help must be escaped, or
Rich swallows it as a style tag and the help reads "Runtime settings file ( table; ...)"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from connectorkit.cli.main import app

# An unescaped [lowercase.word] is a Rich style tag to Rich: it vanishes from the printed help.
UNESCAPED = re.compile(r"(?<!\\)\[([a-z][\w.]*)\]")


def _texts(command: Any, path: list[str]) -> list[tuple[str, str]]:
    found = [(" ".join(path) or "connectorkit", command.help or "")]
    for param in command.params:
        found.append((f"{' '.join(path)} {param.name}", getattr(param, "help", None) or ""))
    for name, sub in getattr(command, "commands", {}).items():  # a group (typer carries its own click)
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


def test_every_command_is_walked() -> None:
    walked = {where for where, _ in _texts(get_command(app), [])}
    assert {"appreg rotate", "package solution", "trigger stop", "connection create"} <= walked


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["appreg", "rotate"], "error: connectorkit appreg rotate: Missing argument 'APP'."),
        (["validate", "--format", "xml", "x"], "error: connectorkit validate: Invalid value for '--format'"),
        (["--nope"], "error: connectorkit: No such option: --nope"),
        (["package", "solution"], "error: connectorkit package solution: Missing argument"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(args: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
    assert "--help'" in lines[0] and "Traceback" not in result.stderr


def test_an_internal_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # A database error's text spans lines (it quotes the SQL): only its first line is shown.
    import connectorkit.cli.show as show

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("(sqlite3.IntegrityError) UNIQUE constraint failed\n[SQL: INSERT INTO x VALUES (?)]")

    monkeypatch.setattr(show.ConnectorPackage, "load", broken)
    result = CliRunner().invoke(app, ["show", "."])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: internal error: RuntimeError: (sqlite3.IntegrityError) UNIQUE constraint failed "
        "(run with --debug for details)"
    ]
