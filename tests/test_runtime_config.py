"""Runtime settings: where they are read from, strict checking, and what they change."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectorkit.errors import InputError
from connectorkit.runtime.config import RuntimeConfig, load_runtime_config


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
    engine = config.engine_options()
    assert (engine.timeout, engine.retries, engine.max_pages) == (120.0, 4, 50)
    assert config.throttle_per_minute == 500 and config.path_encoding == "gateway"
    assert config.policies.header_append == "join" and config.source is None


def test_folder_file_wins_over_user_file_and_lint_only_files_are_passed_over(tmp_path: Path) -> None:
    _write(tmp_path / "user" / "config.toml", "[runtime]\nretries = 1\n")
    assert _load(tmp_path).retries == 1
    _write(tmp_path / "cwd" / "connectorkit.toml", '[lint]\nprofile = "certified"\n')
    assert _load(tmp_path).retries == 1  # no [runtime] table here
    _write(tmp_path / "cwd" / "connectorkit.toml", "[runtime]\nretries = 2\ntimeout = 5\n")
    config = _load(tmp_path)
    assert (config.retries, config.timeout, config.engine_options().timeout) == (2, 5.0, 5.0)
    assert config.source == str(tmp_path / "cwd" / "connectorkit.toml")


def test_named_file_wins_and_must_exist(tmp_path: Path) -> None:
    _write(tmp_path / "cwd" / "connectorkit.toml", "[runtime]\nretries = 2\n")
    named = _write(tmp_path / "mine.toml", '[runtime]\nretries = 3\n[runtime.policies]\nheader_append = "repeat"\n')
    assert _load(tmp_path, environ={"CONNECTORKIT_CONFIG": str(named)}).retries == 3
    config = _load(tmp_path, path=named)
    assert config.policies.header_append == "repeat"
    assert config.engine_options().policies.header_append == "repeat"
    with pytest.raises(InputError, match=r"^--config .*nope.toml: file not found$"):
        _load(tmp_path, path=tmp_path / "nope.toml")
    with pytest.raises(InputError, match=r"^CONNECTORKIT_CONFIG .*nope.toml: file not found$"):
        _load(tmp_path, environ={"CONNECTORKIT_CONFIG": str(tmp_path / "nope.toml")})


def test_pyproject_tool_table_is_read_when_named(tmp_path: Path) -> None:
    named = _write(tmp_path / "pyproject.toml", "[tool.connectorkit.runtime]\nmax_pages = 7\n")
    assert _load(tmp_path, path=named).max_pages == 7


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
