"""``appreg rotate`` and ``appreg link`` beyond the happy chain (``test_cloud_chain.py``): what is
checked before a secret exists, ``--keep-old``, ``--only``, ``--secret-file``, the grace countdown,
failures while undoing; plus the ``Environment`` protocol both environments satisfy and the log
filter that keeps shared access signatures out of httpx's request lines."""

from __future__ import annotations

import inspect
import json
import logging
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from connectorkit.cloud import rotate
from connectorkit.cloud.clouds import resolve_cloud
from connectorkit.cloud.http import CloudClient, QueryStringFilter
from connectorkit.cloud.powerapps import PowerAppsApi, PowerPlatformEnvironment
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.runtime.environment import Environment, LocalEnvironment, deployed_name
from connectorkit.runtime.store import Store
from connectorkit.runtime.store.secrets import generate_key
from standins.graph import GraphStandIn
from standins.powerapps import PowerAppsBackend
from test_cloud_chain import (
    APP,
    CONNECTOR,
    ENV_ID,
    ENV_NAME,
    TOKEN,
    point_cli_at,
    served_graph,
    served_rp,
    write_connector,
)

from conftest import ROOT, RecordingCli, Run

PLANTED = [f"PLANTED~rotate~{n}~Hq3wE8nT5yUi1Op" for n in range(1, 8)]
FOREIGN_CLIENT = "99999999-8888-4777-8666-555555555555"


@pytest.fixture
def graph() -> Iterator[GraphStandIn]:
    with served_graph(PLANTED) as standin:
        yield standin


@pytest.fixture
def rp() -> Iterator[PowerAppsBackend]:
    with served_rp() as backend:
        yield backend


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graph: GraphStandIn, rp: PowerAppsBackend
) -> Callable[..., Run]:
    point_cli_at(tmp_path, monkeypatch, graph, rp)
    return RecordingCli("--debug")


@pytest.fixture
def api(rp: PowerAppsBackend) -> Iterator[PowerAppsApi]:
    cloud = resolve_cloud(overrides={"powerapps": rp.base_url, "flow": rp.base_url}, environ={})
    with PowerAppsApi(cloud, lambda _scope: TOKEN, sleep=lambda _s: None) as made:
        yield made


def deployed(
    graph: GraphStandIn, api: PowerAppsApi, tmp_path: Path, *, secrets: int = 1, client_id: str | None = None
) -> tuple[dict[str, Any], str]:
    """An app with ``secrets`` client secrets made in the portal and a connector deployed with
    the first; returns the app record and the connector id."""
    app = graph.add_application(APP)
    for n in range(secrets):
        graph.add_password(app, end=datetime.now(UTC) + timedelta(days=30 + n), name=f"portal {n}")
    folder = write_connector(tmp_path / f"orders-{len(list(tmp_path.iterdir()))}", client_id or app["appId"])
    done = PowerPlatformEnvironment(api, ENV_ID, secret="portal-secret").deploy(ConnectorPackage.load(folder))
    return app, done.connector_id


def keys(app: dict[str, Any]) -> list[str]:
    return [c["keyId"] for c in app["passwordCredentials"]]


# --- rotation ----------------------------------------------------------------------------------


def test_keep_old_only_and_secret_file(
    run: Callable[..., Run], graph: GraphStandIn, rp: PowerAppsBackend, api: PowerAppsApi, tmp_path: Path
) -> None:
    app, connector = deployed(graph, api, tmp_path, secrets=2)
    first, second = keys(app)
    target = tmp_path / "rotated.secret"
    kept = run("appreg", "rotate", APP, "--connector", connector, "--env", ENV_ID, "--keep-old",
               "--secret-file", target, "--format", "json")  # fmt: skip
    assert kept.exit_code == 0, kept.stderr
    report = json.loads(kept.stdout)
    assert report["replaced"] == [first, second] == report["kept"] and report["removed"] == []
    assert keys(app) == [first, second, report["newSecret"]["keyId"]]
    assert target.read_text() == PLANTED[2] and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert rp.client_secrets[connector] == {"entra/token": PLANTED[2], "generic/token": PLANTED[2]}
    assert PLANTED[2] not in kept.stdout + kept.stderr

    only = run("appreg", "rotate", app["appId"], "--connector", CONNECTOR, "--env", ENV_NAME, "--grace", "0",
               "--only", second)  # fmt: skip
    assert only.exit_code == 0, only.stderr
    assert f"removed old secret(s): {second}" in only.stdout
    assert second not in keys(app) and first in keys(app) and len(keys(app)) == 3
    assert rp.client_secrets[connector]["generic/token"] == PLANTED[3]

    writes = len(graph.writes())
    unknown = run("appreg", "rotate", APP, "--connector", CONNECTOR, "--env", ENV_ID, "--only", "no-such-key")
    assert unknown.exit_code == 2 and unknown.stderr.startswith("error: --only no-such-key: the app has no")
    assert len(graph.writes()) == writes


def test_several_old_secrets_need_only_or_all_old(
    run: Callable[..., Run], graph: GraphStandIn, rp: PowerAppsBackend, api: PowerAppsApi, tmp_path: Path
) -> None:
    app, connector = deployed(graph, api, tmp_path, secrets=2)
    first, second = keys(app)
    hints = [c.get("hint") for c in app["passwordCredentials"]]
    args = ("appreg", "rotate", APP, "--connector", connector, "--env", ENV_ID, "--grace", "0")
    refused = run(*args)
    assert refused.exit_code == 2, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(f"error: APP {APP}: has 2 client secrets ({first} ({hints[0]}***), {second} ")
    assert line.endswith("pick the one to replace with --only KEYID, or replace them all with --all-old")
    assert graph.writes() == [] and keys(app) == [first, second]  # nothing added before refusing
    everything = run(*args, "--all-old")
    assert everything.exit_code == 0, everything.stderr
    assert f"removed old secret(s): {first}, {second}" in everything.stdout
    [new] = keys(app)
    assert new not in (first, second) and rp.client_secrets[connector]["entra/token"] == PLANTED[2]
    help_text = run("appreg", "rotate", "--help").stdout
    assert "--all-old" in help_text and "--only" in help_text


def test_refusals_before_any_secret_exists(
    run: Callable[..., Run], graph: GraphStandIn, rp: PowerAppsBackend, api: PowerAppsApi, tmp_path: Path
) -> None:
    app, connector = deployed(graph, api, tmp_path, client_id=FOREIGN_CLIENT)
    issued = list(graph.issued)  # the portal's secret
    args = ("appreg", "rotate", APP, "--connector", connector, "--env", ENV_ID, "--grace", "0")
    foreign = run(*args)
    assert foreign.exit_code == 2
    assert f"sign in with client id {FOREIGN_CLIENT}, not {APP}'s {app['appId']}" in foreign.stderr
    assert run("appreg", "rotate", "Nobody", "--connector", connector, "--env", ENV_ID).exit_code == 2
    missing = run("appreg", "rotate", APP, "--connector", "Nothing", "--env", ENV_ID)
    assert missing.exit_code == 2 and "Nothing: no custom connector" in missing.stderr
    solution = run(*args, "--solution", "ContosoConnectors")
    assert solution.exit_code == 2 and "--solution ContosoConnectors: " in solution.stderr
    assert "not supported" in solution.stderr
    local = run("appreg", "rotate", APP, "--connector", connector, "--env", "local")
    assert local.exit_code == 2 and "--env local" in local.stderr
    bad_grace = run(*args[:-1], "soon")
    assert bad_grace.exit_code == 2 and "--grace soon" in bad_grace.stderr
    assert graph.writes() == [] and graph.issued == issued  # no secret was ever added


def test_undo_failure_and_removal_failure_are_reported(
    run: Callable[..., Run], graph: GraphStandIn, rp: PowerAppsBackend, api: PowerAppsApi, tmp_path: Path
) -> None:
    app, connector = deployed(graph, api, tmp_path)
    [old] = keys(app)
    graph.deny["applications.removePassword"] = "Insufficient privileges to complete the operation."
    rp.fail_apim_next = True
    args = ("appreg", "rotate", APP, "--connector", connector, "--env", ENV_ID, "--grace", "0")
    both = run(*args)
    assert both.exit_code == 1
    line = both.stderr.strip().splitlines()[-1]
    new = [k for k in keys(app) if k != old]
    assert len(new) == 1 and f"removing the new client secret {new[0]} failed too" in line
    assert "remove it in the portal" in line and "InternalServerError" in line

    removal = run(*args, "--only", old)
    assert removal.exit_code == 1
    line = removal.stderr.strip().splitlines()[-1]
    assert (
        f"the connector uses the new secret {graph.applications[app['id']]['passwordCredentials'][-1]['keyId']}" in line
    )
    assert f"removing old secret {old} failed" in line and "Application.ReadWrite.All" in line
    assert rp.client_secrets[connector]["entra/token"] == PLANTED[2]  # [0] the portal's, [1] removed again
    for result in (both, removal):
        assert all(secret not in result.stdout + result.stderr for secret in PLANTED)


def test_grace_waits_before_removing(
    graph: GraphStandIn, rp: PowerAppsBackend, api: PowerAppsApi, tmp_path: Path
) -> None:
    """The library waits for the grace period after the connector holds the new secret and before
    the old one goes (the CLI passes a countdown); the CLI's own countdown takes the time asked."""
    from connectorkit.cli.appreg import _countdown
    from connectorkit.cloud.graph import Graph

    app, connector = deployed(graph, api, tmp_path)
    [old] = keys(app)
    seen: list[tuple[float, list[str], str]] = []

    def wait(seconds: float) -> None:
        seen.append((seconds, keys(app), rp.client_secrets[connector]["entra/token"]))

    cloud = resolve_cloud(overrides={"graph": graph.base_url}, environ={})  # type: ignore[attr-defined]
    with httpx.Client() as http:
        done = rotate.rotate(
            Graph.connect(cloud, lambda _s: TOKEN, http), PowerPlatformEnvironment(api, ENV_ID), APP, CONNECTOR,
            expiry=datetime.now(UTC) + timedelta(days=60), grace=90.0, wait=wait,
        )  # fmt: skip
    assert seen == [(90.0, [old, done.new_key_id], PLANTED[1])]  # the connector already holds the new one
    assert done.removed == [old] and keys(app) == [done.new_key_id]
    started = time.monotonic()
    _countdown(1.2)
    assert 1.2 <= time.monotonic() - started < 3


def test_parse_grace() -> None:
    assert [rotate.parse_grace(t) for t in ("0", "45", "90s", "10m", "1h", "1h30m", "2h5s")] == [
        0, 45, 90, 600, 3600, 5400, 7205,
    ]  # fmt: skip
    for bad in ("", "soon", "10x", "-5", "1h30"):
        with pytest.raises(InputError, match="--grace"):
            rotate.parse_grace(bad)


def test_link_needs_redirect_urls(
    run: Callable[..., Run], graph: GraphStandIn, api: PowerAppsApi, tmp_path: Path
) -> None:
    folder = tmp_path / "apikey"
    folder.mkdir()
    spec = {"swagger": "2.0", "info": {"title": "Keyed", "description": "d", "version": "1"}, "host": "x.example",
            "paths": {}}  # fmt: skip
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(spec))
    (folder / "apiProperties.json").write_text(json.dumps({"properties": {"iconBrandColor": "#000000",
        "connectionParameters": {"api_key": {"type": "securestring"}}}}))  # fmt: skip
    PowerPlatformEnvironment(api, ENV_ID).deploy(ConnectorPackage.load(folder))
    graph.add_application(APP)
    refused = run("appreg", "link", APP, "--connector", "Keyed", "--env", ENV_ID)
    assert refused.exit_code == 2 and "no OAuth settings with a redirect URL" in refused.stderr
    assert graph.writes() == []


# --- the Environment protocol ------------------------------------------------------------------

CONFORMS = """
from connectorkit.cloud.powerapps import PowerPlatformEnvironment
from connectorkit.runtime.environment import Environment, LocalEnvironment


def both(local: LocalEnvironment, cloud: PowerPlatformEnvironment) -> list[Environment]:
    return [local, cloud]
"""

DOES_NOT = """
from pathlib import Path
from connectorkit.definition.package import ConnectorPackage
from connectorkit.runtime.environment import Environment


class Unnamed:
    def deploy(self, package: ConnectorPackage, name: str | None = None) -> int: ...
    def list(self) -> list[int]: ...
    def download(self, name: str, folder: Path) -> Path: ...


def one(env: Unnamed) -> Environment:
    return env
"""


def _mypy(source: str, folder: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "snippet.py"
    path.write_text(source)
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--strict", str(path)]
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env, check=False, timeout=600)


def test_both_environments_satisfy_the_protocol_for_mypy(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    good = _mypy(CONFORMS, tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _mypy(DOES_NOT, tmp_path)
    assert bad.returncode == 1 and 'incompatible return value type (got "Unnamed", expected "Environment")' in (
        bad.stdout.replace("Incompatible", "incompatible")
    ), bad.stdout


def test_both_environments_answer_as_the_protocol_says(api: PowerAppsApi, tmp_path: Path) -> None:
    folder = write_connector(tmp_path / "orders", "2f5e1a3b-0c1d-4e2f-9a8b-7c6d5e4f3a2b")
    package = ConnectorPackage.load(folder)
    with Store(f"sqlite:///{tmp_path / 'store.db'}", key=generate_key()) as store:
        environments: list[Environment] = [LocalEnvironment(store), PowerPlatformEnvironment(api, ENV_ID, secret="s")]
        for environment in environments:
            for method in ("deploy", "list", "download"):
                wanted = list(inspect.signature(getattr(Environment, method)).parameters)[1:]
                assert list(inspect.signature(getattr(environment, method)).parameters) == wanted, method
            name = deployed_name(environment.deploy(package))
            assert name in [summary.name for summary in environment.list()]
            target = environment.download(name, tmp_path / f"back-{type(environment).__name__}")
            assert ConnectorPackage.load(target).definition == package.definition
    assert name.startswith("shared_contoso-20orders-5f")  # the cloud's name is its connector id


# --- httpx's request lines ---------------------------------------------------------------------


def test_httpx_request_lines_carry_no_query_strings(caplog: pytest.LogCaptureFixture) -> None:
    signature = "PLANTED-sas-signature-Yy7Tt0"
    caplog.set_level(logging.INFO)
    with HTTPServer(host="127.0.0.1", port=0) as server:
        server.expect_request("/container/icon.png", method="PUT").respond_with_data("", status=201)
        with httpx.Client() as http:
            client = CloudClient(http, None, service="Blob storage", base_url=server.url_for(""))
            client.request("PUT", f"container/icon.png?sv=2018-03-28&sp=rwl&sig={signature}", content=b"x",
                           authenticated=False)  # fmt: skip
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert len(lines) == 1 and lines[0].startswith(f"HTTP Request: PUT {server.url_for('/container/icon.png')} ")
    assert lines[0].endswith(' 201 CREATED"')
    ours = "".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")  # not the test server's log
    assert signature not in ours

    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "at %s and %s", (
        "https://acct.blob.core.windows.net/c/f.csx?sig=abc#frag", 3), None)  # fmt: skip
    plain = logging.LogRecord("httpx", logging.INFO, __file__, 1, "GET https://x.example/a?code=abc done", None, None)
    assert QueryStringFilter().filter(record) and QueryStringFilter().filter(plain)
    assert record.getMessage() == "at https://acct.blob.core.windows.net/c/f.csx and 3"
    assert plain.getMessage() == "GET https://x.example/a done"
