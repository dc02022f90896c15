"""Bad input to the local environment's commands: one clear line, the documented exit code, no
traceback, no secret, and nothing stored changed."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectorkit.cli.main import app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "petstore" / "swagger.json"
KEY = "PLANTED-bad-input-key-5c1"
runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    monkeypatch.setenv("CONNECTORKIT_DB", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.delenv("CONNECTORKIT_SECRET_KEY", raising=False)
    assert run("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path).exit_code == 0
    definition_file = tmp_path / "Petstore" / "apiDefinition.swagger.json"
    definition = json.loads(definition_file.read_text())
    definition["host"] = f"127.0.0.1:{_closed_port()}"  # the backend is down
    definition["schemes"] = ["http"]
    definition_file.write_text(json.dumps(definition, indent=4))
    assert run("deploy", tmp_path / "Petstore").exit_code == 0
    created = run("connection", "create", "Petstore", "--param", f"api_key={KEY}")
    assert created.exit_code == 0, created.stderr
    return tmp_path, created.stdout.strip()


def _one_clean_line(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and KEY not in result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_unknown_names(deployed: tuple[Path, str]) -> None:
    folder, connection_id = deployed
    _one_clean_line(run("connection", "create", "Nope"), 2, "Nope")
    _one_clean_line(run("call", "Nope", "GetPet", "--connection", connection_id, "-p", "petId=1"), 2, "Nope")
    _one_clean_line(run("call", "Petstore", "GetPet", "--connection", "f" * 32, "-p", "petId=1"), 2, "f" * 32)
    _one_clean_line(run("call", "Petstore", "getpet", "--connection", connection_id), 2, "'GetPet'")
    _one_clean_line(run("download", "Nope", "-o", folder / "out"), 2, "Nope")
    _one_clean_line(run("connection", "delete", "f" * 32), 2, "f" * 32)
    _one_clean_line(run("connection", "test", "f" * 32), 2, "f" * 32)
    _one_clean_line(run("deploy", folder / "missing"), 2, "missing")
    assert not (folder / "out").exists()


def test_backend_down_is_exit_1_and_the_connection_survives(deployed: tuple[Path, str]) -> None:
    _folder, connection_id = deployed
    result = run("call", "Petstore", "GetPet", "--connection", connection_id, "-p", "petId=1")
    _one_clean_line(result, 1, "cannot reach the backend")
    listed = json.loads(run("connection", "list", "--format", "json").stdout)
    assert [c["id"] for c in listed] == [connection_id]


def test_bad_parameter_values(deployed: tuple[Path, str]) -> None:
    _folder, connection_id = deployed
    _one_clean_line(run("call", "Petstore", "GetPet", "--connection", connection_id, "-p", "petId"), 2, "-p")
    _one_clean_line(
        run("call", "Petstore", "GetPet", "--connection", connection_id, "-p", "petId=1", "--body", "{nope"),
        2, "--body",
    )  # fmt: skip
    _one_clean_line(
        run("call", "Petstore", "GetPet", "--connection", connection_id, "--body", "@/no/such/file.json"),
        2, "--body @/no/such/file.json",
    )  # fmt: skip
    _one_clean_line(run("connection", "create", "Petstore", "--param-file", "/no/such.json"), 2, "--param-file")
