"""Runtime settings: where they are read from, strict checking, and what they change."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from connectorkit.cli.main import app
from connectorkit.errors import InputError
from connectorkit.runtime.config import RuntimeConfig, load_runtime_config

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "petstore" / "swagger.json"


def run(*args: object):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, [str(a) for a in args])


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _load(tmp_path: Path, **kwargs: object) -> RuntimeConfig:
    return load_runtime_config(
        environ=kwargs.pop("environ", {}),  # type: ignore[arg-type]
        cwd=tmp_path / "cwd",
        user_dir=tmp_path / "user",
        **kwargs,  # type: ignore[arg-type]
    )


def test_defaults_are_the_platforms(tmp_path: Path) -> None:
    config = _load(tmp_path)
    assert config == RuntimeConfig()
    engine = config.engine
    assert (engine.timeout, engine.retries, engine.max_pages) == (120.0, 4, 50)
    assert config.throttle_per_minute == 500 and engine.path_encoding == "gateway"
    assert engine.policies.header_append == "join" and config.source is None


def test_folder_file_wins_over_user_file_and_lint_only_files_are_passed_over(tmp_path: Path) -> None:
    _write(tmp_path / "user" / "config.toml", "[runtime]\nretries = 1\n")
    assert _load(tmp_path).engine.retries == 1
    _write(tmp_path / "cwd" / "connectorkit.toml", '[lint]\nprofile = "certified"\n')
    assert _load(tmp_path).engine.retries == 1  # no [runtime] table here
    _write(tmp_path / "cwd" / "connectorkit.toml", "[runtime]\nretries = 2\ntimeout = 5\n")
    config = _load(tmp_path)
    assert (config.engine.retries, config.engine.timeout) == (2, 5.0)
    assert config.source == str(tmp_path / "cwd" / "connectorkit.toml")


def test_named_file_wins_and_must_exist(tmp_path: Path) -> None:
    _write(tmp_path / "cwd" / "connectorkit.toml", "[runtime]\nretries = 2\n")
    named = _write(tmp_path / "mine.toml", '[runtime]\nretries = 3\n[runtime.policies]\nheader_append = "repeat"\n')
    assert _load(tmp_path, environ={"CONNECTORKIT_CONFIG": str(named)}).engine.retries == 3
    config = _load(tmp_path, path=named)
    assert config.engine.policies.header_append == "repeat"
    with pytest.raises(InputError, match=r"^--config .*nope.toml: file not found$"):
        _load(tmp_path, path=tmp_path / "nope.toml")
    with pytest.raises(InputError, match=r"^CONNECTORKIT_CONFIG .*nope.toml: file not found$"):
        _load(tmp_path, environ={"CONNECTORKIT_CONFIG": str(tmp_path / "nope.toml")})


def test_pyproject_tool_table_is_read_when_named(tmp_path: Path) -> None:
    named = _write(tmp_path / "pyproject.toml", "[tool.connectorkit.runtime]\nmax_pages = 7\n")
    assert _load(tmp_path, path=named).engine.max_pages == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[runtime]\nretrys = 1\n", r"runtime: unknown setting 'retrys'"),
        ('[runtime]\nretries = "4"\n', r"runtime.retries: expected a whole number"),
        ("[runtime]\nretries = -1\n", r"runtime.retries: expected a whole number"),
        ("[runtime]\ntimeout = true\n", r"runtime.timeout: expected a number"),
        ('[runtime]\npath_encoding = "raw"\n', r"runtime.path_encoding: must be one of 'gateway', 'client'"),
        ("[runtime]\nrefresh_on_401 = 1\n", r"runtime.refresh_on_401: expected true or false"),
        ('[runtime.policies]\nheader_append = "merge"\n', r"runtime.policies.header_append: must be one of"),
        ("[runtime.policies]\nsurprise = true\n", r"runtime.policies: unknown setting 'surprise'"),
        ("[runtime]\npolicies = 3\n", r"runtime.policies: expected a table"),
        ("runtime = 3\n", r"runtime must be a table"),
        ("[runtime\n", r"not valid TOML"),
    ],
)
def test_bad_settings_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    named = _write(tmp_path / "bad.toml", text)
    with pytest.raises(InputError, match=message) as info:
        _load(tmp_path, path=named)
    assert str(info.value).startswith(str(named))
    assert "\n" not in str(info.value)


def test_settings_change_what_the_cli_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    """retries and the throttle read from CONNECTORKIT_CONFIG reach `connectorkit call`."""
    monkeypatch.setenv("CONNECTORKIT_DB", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.chdir(tmp_path)
    assert run("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path).exit_code == 0
    definition_file = tmp_path / "Petstore" / "apiDefinition.swagger.json"
    definition = json.loads(definition_file.read_text())
    definition.update(host=f"127.0.0.1:{httpserver.port}", schemes=["http"])
    definition_file.write_text(json.dumps(definition))
    assert run("deploy", tmp_path / "Petstore").exit_code == 0
    connection = run("connection", "create", "Petstore", "--param", "api_key=k").stdout.strip()
    call = ("call", "Petstore", "GetPet", "--connection", connection, "-p", "petId=1", "--format", "json")

    httpserver.expect_ordered_request("/v1/pets/1").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/v1/pets/1").respond_with_json({"id": 1})
    _write(tmp_path / "connectorkit.toml", "[runtime]\nbackoff = 0\n")
    assert json.loads(run(*call).stdout)["status"] == 200  # the default: 503 is retried

    httpserver.clear()
    httpserver.expect_ordered_request("/v1/pets/1").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/v1/pets/1").respond_with_json({"id": 1})
    settings = _write(tmp_path / "elsewhere.toml", "[runtime]\nretries = 0\nthrottle_per_minute = 1\n")
    monkeypatch.setenv("CONNECTORKIT_CONFIG", str(settings))
    refused = run(*call)
    assert refused.exit_code == 1 and json.loads(refused.stdout)["status"] == 503
    # A new process per CLI call starts a fresh throttle; in one process the second call is refused.
    from connectorkit.runtime.config import load_runtime_config
    from connectorkit.runtime.environment import LocalEnvironment
    from connectorkit.runtime.store import open_store

    with open_store() as store, httpx.Client() as client:
        environment = LocalEnvironment(store, config=load_runtime_config())
        first = environment.call(connection, "GetPet", {"petId": 1}, client=client)
        second = environment.call(connection, "GetPet", {"petId": 1}, client=client)
    assert first.response.status == 200 and second.response.status == 429

    _write(settings, "[runtime]\nretries = many\n")
    bad = run(*call)
    assert bad.exit_code == 2 and str(settings) in bad.stderr and "Traceback" not in bad.stderr
