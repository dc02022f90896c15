"""``connectorkit quickstart``: the tour runs end to end, shows no secret, and cleans up after itself."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from connectorkit.cli import quickstart as quickstart_cli
from connectorkit.cli.main import app
from connectorkit.examples import quickstart
from connectorkit.runtime.store import Store

KEY = "PLANTED-quickstart-key-93b0"
STEPS = [
    "serve",
    "fetch",
    "new",
    "validate",
    "deploy",
    "connect",
    "create",
    "list",
    "get",
    "update",
    "delete",
    "poll",
    "webhook",
    "details",
    "submission",
    "certification",
]
runner = CliRunner()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary folders under tmp_path, a known API key, and a default store that must stay untouched."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setattr(quickstart.secrets, "token_urlsafe", lambda _n: KEY)
    monkeypatch.setenv("CONNECTORKIT_DB", f"sqlite:///{tmp_path / 'default' / 'store.db'}")
    monkeypatch.delenv("CONNECTORKIT_SECRET_KEY", raising=False)
    return tmp_path


def run(*args: object):
    return runner.invoke(app, ["quickstart", *map(str, args)])


def test_text_tour_prints_every_step_with_its_command(isolated: Path) -> None:
    started = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.stdout + result.stderr
    text = result.stdout
    assert f"All {len(STEPS)} steps passed" in text
    port = text.split("http://127.0.0.1:", 1)[1].split("/", 1)[0].split()[0]
    for expected in (
        f"TASKS_API_KEY=*** uvicorn connectorkit.examples.tasks:app --port {port}",
        f"connectorkit new Tasks --from http://127.0.0.1:{port}/openapi.json -o ",
        "connectorkit validate ",
        "--env local --db sqlite:///",
        "connectorkit connection create Tasks --param api_key=*** --db ",
        """CreateTask --connection """,
        """--body '{"title": "Try connectorkit"}'""",
        "ListTasks --connection",
        "-p top=2 --all-pages",
        "3 tasks in 2 pages",
        "0 errors, 0 warnings",
        "task 1 gone (GetTask now answers 404)",
        "connectorkit listen Tasks OnNewTasks --connection ",
        '"title": "Polled by a trigger"',
        "connectorkit listen Tasks OnTaskCreated --connection ",
        '"title": "Pushed by a webhook"}; unsubscribed',
        "--certification --publisher Contoso --stack-owner Contoso",
        "certified profile: 0 errors",
        "--publisher-kind certified -o ",
        "certified-connectors/Tasks: apiDefinition.swagger.json, apiProperties.json, icon.png, readme.md",
        "connectorkit package certification ",
        "ConnectorSolution.zip, FlowSolution.zip (sample flow calls ListTasks); validate --package passes",
    ):
        assert expected in text, expected
    assert KEY not in text + result.stderr
    assert elapsed < 10, f"quickstart took {elapsed:.1f} s (target: under 5 s)"
    assert list((isolated / "temp").iterdir()) == [], "the temporary folder was not removed"
    assert not (isolated / "default").exists(), "the user's default store was touched"
    with pytest.raises(httpx.ConnectError):  # the API has stopped
        httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)


def test_json_summary(isolated: Path) -> None:
    result = run("--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["kept"] is None and data["connector"] is None
    assert [s["name"] for s in data["steps"]] == STEPS
    assert all(s["ok"] and s["command"] and s["ms"] >= 0 for s in data["steps"])
    assert data["db"].startswith("sqlite:///") and data["db"].endswith("store.db")
    assert KEY not in result.stdout


def test_output_db_and_keep_leave_a_usable_connector_and_store(isolated: Path) -> None:
    target = isolated / "mine"
    db_file = isolated / "real" / "store.db"
    db = f"sqlite:///{db_file}"
    result = run("--output", target, "--db", db, "--keep", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["connector"] == str(target / "Tasks") and data["db"] == db
    assert data["submission"] == str(target / "submission" / "Tasks")
    assert data["certification"] == str(target / "Tasks-certification.zip")
    assert sorted(p.name for p in (target / "submission" / "Tasks").iterdir()) == [
        "apiDefinition.swagger.json",
        "apiProperties.json",
        "icon.png",
        "readme.md",
    ]
    checked = runner.invoke(app, ["validate", "--package", str(target / "Tasks-certification.zip")])
    assert checked.exit_code == 0, checked.stdout
    assert "Validation successful: The package structure is correct." in checked.stdout
    rebuilt = runner.invoke(app, ["package", "certification", str(target / "Tasks"), "-o", str(isolated / "again.zip")])
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert (isolated / "again.zip").read_bytes() == (target / "Tasks-certification.zip").read_bytes()
    kept = Path(data["kept"])
    assert kept.is_dir() and kept.parent == isolated / "temp"
    assert (target / "Tasks" / "apiDefinition.swagger.json").is_file()

    listed = runner.invoke(app, ["list", "--db", db, "--format", "json"])
    assert json.loads(listed.stdout)[0]["name"] == "Tasks"
    with Store(db) as store:
        (connection,) = store.list_connections("Tasks")
        assert connection.secret_names == ("api_key",)
        calls = store.history(connection.id)
        assert store.list_triggers() == [], "the tour's triggers were not stopped"
    operations = sorted({c.operation_id for c in calls})
    assert operations == [
        "CreateTask",
        "DeleteTask",
        "GetTask",
        "ListTasks",
        "OnNewTasks",
        "OnTaskCreated",
        "UpdateTask",
    ]
    hooks = [c for c in calls if c.operation_id == "OnTaskCreated"]
    assert sorted((c.method, c.status) for c in hooks) == [("DELETE", 204), ("POST", 201)], "subscribed, unsubscribed"
    assert all(c.status is not None for c in calls)
    stored = b"".join(p.read_bytes() for p in db_file.parent.iterdir() if p.is_file())
    assert KEY.encode() not in stored

    again = run("--output", target)
    assert again.exit_code == 2 and "already exists" in again.stderr and "Traceback" not in again.stderr


def test_a_failing_step_is_named_and_exits_1(isolated: Path) -> None:
    blocker = isolated / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    bad_db = f"sqlite:///{blocker / 'store.db'}"
    result = run("--db", bad_db)
    assert result.exit_code == 1
    assert "error: quickstart failed at step 'deploy' (Deploy it to a local environment)" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout and KEY not in result.stderr + result.stdout
    assert "✘ Deploy it to a local environment" in result.stdout
    assert list((isolated / "temp").iterdir()) == []

    as_json = run("--db", bad_db, "--format", "json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False and "step 'deploy'" in data["error"]
    assert [s["name"] for s in data["steps"]] == STEPS[:5] and data["steps"][-1]["ok"] is False


def test_interrupt_stops_the_api_and_removes_the_folder(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []

    def interrupt_after_fetch(step: quickstart.Step) -> None:
        seen.append(step.detail)
        if step.name == "fetch":
            raise KeyboardInterrupt

    monkeypatch.setattr(quickstart_cli, "render_step", interrupt_after_fetch)
    result = run()
    assert result.exit_code == 130 and "interrupted" in result.stderr
    base = seen[0]
    assert base.startswith("http://127.0.0.1:")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/openapi.json", timeout=2)
    assert list((isolated / "temp").iterdir()) == []
