"""The command line: help, version, exit codes, and every bad input as one clean line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trustme
from pytest_httpserver import HTTPServer

from connectorkit import __version__
from connectorkit.authoring.source import SpecFormat, read_spec
from connectorkit.errors import InputError

from conftest import EXAMPLE


def assert_clean_failure(result, *needles: str, code: int = 2) -> None:
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr + result.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]


def assert_nothing_written(out: Path) -> None:
    leftovers = list(out.iterdir()) if out.exists() else []
    assert leftovers == [], leftovers


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"connectorkit {__version__}"


@pytest.mark.parametrize("args", [["--help"], ["new", "--help"], ["show", "--help"]])
def test_help_on_every_command(cli, args):
    result = cli(*args)
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_new_help_names_every_option(cli):
    text = cli("new", "--help").stdout
    for option in ("--from", "--out", "--auth-config", "--icon", "--brand-color", "--publisher", "--stack-owner",
                   "--format", "--force"):  # fmt: skip
        assert option in text


def test_unknown_option_is_a_usage_error(cli):
    assert cli("new", "X", "--from", EXAMPLE, "--frobnicate").exit_code == 2
    assert cli("new", "X").exit_code == 2


def test_missing_file(cli, tmp_path):
    result = cli("new", "P", "--from", tmp_path / "nope.json", "-o", tmp_path / "out")
    assert_clean_failure(result, "nope.json", "file not found")
    assert_nothing_written(tmp_path / "out")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_url(cli, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/swagger.json"
    result = cli("new", "P", "--from", url, "-o", tmp_path / "out")
    assert_clean_failure(result, url, "cannot connect")
    assert_nothing_written(tmp_path / "out")


def test_url_answering_404(cli, tmp_path, httpserver: HTTPServer):
    httpserver.expect_request("/missing.json").respond_with_data("no", status=404)
    result = cli("new", "P", "--from", httpserver.url_for("/missing.json"), "-o", tmp_path / "out")
    assert_clean_failure(result, "HTTP 404")
    assert_nothing_written(tmp_path / "out")


def test_url_serving_swagger(cli, tmp_path, httpserver: HTTPServer):
    httpserver.expect_request("/api/swagger").respond_with_data(EXAMPLE.read_bytes(), content_type="application/json")
    result = cli("new", "P", "--from", httpserver.url_for("/api/swagger"), "-o", tmp_path, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "swagger-2.0"
    assert (tmp_path / "P" / "apiDefinition.swagger.json").is_file()


def test_https_url_through_a_given_client(tmp_path):
    ca = trustme.CA()
    server_context = __import__("ssl").SSLContext(__import__("ssl").PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=server_context)
    server.start()
    try:
        server.expect_request("/swagger.yaml").respond_with_data(
            "swagger: '2.0'\ninfo: {title: T, version: '1'}\npaths: {}\n"
        )
        client_context = __import__("ssl").create_default_context()
        ca.configure_trust(client_context)
        with httpx.Client(verify=client_context) as client:
            spec = read_spec(server.url_for("/swagger.yaml"), client=client)
        assert spec.location.startswith("https://")
        assert spec.format is SpecFormat.SWAGGER_2
        assert spec.value["info"]["title"] == "T"
        with httpx.Client() as untrusting, pytest.raises(InputError, match=r"cannot connect|cannot fetch"):
            read_spec(server.url_for("/swagger.yaml"), client=untrusting)
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ({"hello": "world"}, "not a Swagger 2.0, OpenAPI 3 or Postman document"),
        ([1, 2, 3], "not an API description"),
        ({"swagger": "1.2", "info": {}}, "swagger version '1.2' is not supported"),
        ({"openapi": "4.0.0"}, "openapi version '4.0.0' is not supported"),
        ({"info": {"schema": "https://schema.getpostman.com/json/collection/v1.0.0/"}, "item": []}, "v1.0.0"),
    ],
)
def test_not_an_api_description(cli, tmp_path, content, needle):
    spec = tmp_path / "thing.json"
    spec.write_text(json.dumps(content))
    result = cli("new", "P", "--from", spec, "-o", tmp_path / "out")
    assert_clean_failure(result, "thing.json", needle)
    assert_nothing_written(tmp_path / "out")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ({"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": {}}, "has no paths"),
        ({"openapi": "3.1.0", "info": {"title": "T", "version": "1"},
          "webhooks": {"newPet": {"post": {"responses": {"200": {"description": "ok"}}}}}}, "newPet"),
        ({"info": {"name": "Old"}, "id": "abc", "order": [], "requests": [{"id": "1", "url": "https://x"}]},
         "Postman collection v1 is not supported"),
    ],
)  # fmt: skip
def test_descriptions_with_nothing_to_import(cli, tmp_path, content, needle):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(content))
    result = cli("new", "P", "--from", spec, "-o", tmp_path / "out")
    assert_clean_failure(result, "spec.json", needle)
    assert_nothing_written(tmp_path / "out")


def test_unparseable_json_names_file_line_and_column(cli, tmp_path):
    spec = tmp_path / "broken.json"
    spec.write_text('{\n  "swagger": "2.0",\n  "info": {"title": "x"\n  "paths" {}\n}\n')
    result = cli("new", "P", "--from", spec, "-o", tmp_path / "out")
    assert_clean_failure(result, f"{spec}:4:11:", "expecting ':'")
    assert_nothing_written(tmp_path / "out")


def test_unparseable_yaml_names_file_line_and_column(cli, tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text("swagger: '2.0'\ninfo:\n  title: [unclosed\npaths: {}\n")
    result = cli("new", "P", "--from", spec, "-o", tmp_path / "out")
    assert_clean_failure(result, f"{spec}:")
    assert_nothing_written(tmp_path / "out")


@pytest.mark.parametrize(
    ("scheme", "needle"),
    [
        ({"type": "oauth2", "flow": "implicit", "authorizationUrl": "https://a/x", "scopes": {}}, "'implicit' is not supported"),
        ({"type": "oauth2", "flow": "password", "tokenUrl": "https://a/t", "scopes": {}}, "'password' is not supported"),
        ({"type": "oauth2", "flow": "deviceCode", "tokenUrl": "https://a/t"}, "unknown oauth2 flow 'deviceCode'"),
        ({"type": "oauth2", "flow": "accessCode", "authorizationUrl": "https://a/x"}, "needs both authorizationUrl and tokenUrl"),
        ({"type": "oauth2", "flow": "application"}, "needs a tokenUrl"),
        ({"type": "openIdConnect"}, "unknown security type 'openIdConnect'"),
        ({"type": "apiKey", "in": "cookie", "name": "k"}, "'header' or 'query'"),
        ({"type": "apiKey", "in": "header"}, "has no 'name'"),
    ],
)  # fmt: skip
def test_unknown_or_unsupported_auth(cli, write_spec, tmp_path, scheme, needle):
    spec = write_spec({"auth": scheme})
    result = cli("new", "P", "--from", spec, "-o", tmp_path / "out")
    assert_clean_failure(result, "#/securityDefinitions/auth", needle)
    assert_nothing_written(tmp_path / "out")


def test_swagger_without_paths(cli, tmp_path):
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps({"swagger": "2.0", "info": {"title": "T", "version": "1"}}))
    result = cli("new", "P", "--from", spec, "-o", tmp_path / "out")
    assert_clean_failure(result, "'paths' object")


@pytest.mark.parametrize("name", ["a/b", "..", "", "x:y"])
def test_bad_connector_name(cli, tmp_path, name):
    result = cli("new", name, "--from", EXAMPLE, "-o", tmp_path / "out")
    assert_clean_failure(result, "NAME")
    assert_nothing_written(tmp_path / "out")


def test_bad_environment_and_redirect_mode(cli, tmp_path):
    assert_clean_failure(cli("new", "P", "--from", EXAMPLE, "-o", tmp_path, "--environment", "prod"), "--environment")
    assert_clean_failure(
        cli("new", "P", "--from", EXAMPLE, "-o", tmp_path, "--redirect-mode", "Sideways"), "redirect mode"
    )
    assert not (tmp_path / "P").exists()


def test_bad_auth_config(cli, tmp_path):
    config = tmp_path / "auth.json"
    config.write_text('{"oauth2": {"clientId": 5}}')
    assert_clean_failure(cli("new", "P", "--from", EXAMPLE, "-o", tmp_path, "--auth-config", config), "clientId")
    assert_clean_failure(
        cli("new", "P", "--from", EXAMPLE, "-o", tmp_path, "--auth-config", tmp_path / "missing.json"), "file not found"
    )


def test_existing_target_is_kept_unless_forced(cli, tmp_path):
    assert cli("new", "P", "--from", EXAMPLE, "-o", tmp_path).exit_code == 0
    marker = tmp_path / "P" / "notes.txt"
    marker.write_text("mine")
    assert_clean_failure(cli("new", "P", "--from", EXAMPLE, "-o", tmp_path), "already exists", "--force")
    assert marker.read_text() == "mine"
    assert cli("new", "P", "--from", EXAMPLE, "-o", tmp_path, "--force").exit_code == 0
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P"]


def test_json_output_is_data_only(cli, tmp_path):
    result = cli("new", "Petstore", "--from", EXAMPLE, "-o", tmp_path, "--format", "json")
    data = json.loads(result.stdout)
    assert data["auth"]["kind"] == "apiKey"
    assert data["files"] == [
        "apiDefinition.swagger.json",
        "apiProperties.json",
        "icon.png",
        "readme.md",
        "settings.json",
    ]


def test_show_reports_repairs_with_positions(cli, tmp_path):
    cli("new", "P", "--from", EXAMPLE, "-o", tmp_path)
    definition = tmp_path / "P" / "apiDefinition.swagger.json"
    text = definition.read_text().replace('"https"\n    ]', '"https",\n    ]', 1)
    definition.write_bytes(b"\xef\xbb\xbf" + text.encode())
    result = cli("show", tmp_path / "P", "--format", "json")
    assert result.exit_code == 0, result.stderr
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["line"]) for f in findings] == [("JsonByteOrderMark", 1), ("JsonTrailingComma", 16)]
    text_out = cli("show", tmp_path / "P").stdout
    assert "[JsonTrailingComma]" in text_out


def test_show_missing_folder(cli, tmp_path):
    assert_clean_failure(cli("show", tmp_path / "none"), "folder not found")


def test_installed_console_script_runs_quick_start(tmp_path):
    """The real entry point, in a subprocess, as the README's quick start runs it."""
    exe = Path(sys.executable).with_name("connectorkit")
    if not exe.exists():
        pytest.skip("connectorkit console script is not installed in this environment")
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(
        [str(exe), "new", "Petstore", "--from", str(EXAMPLE), "-o", str(tmp_path)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Created" in done.stdout and "apiKey" in done.stdout
    bad = subprocess.run([str(exe), "new", "X", "--from", str(tmp_path / "missing.yaml")], capture_output=True,
                         text=True, env=env, check=False)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr
