"""The Tasks example API, served by uvicorn on a loopback port and spoken to over real HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.errors import InputError
from connectorkit.examples.tasks import DEFAULT_API_KEY, create_app, openapi_text, serve
from connectorkit.lint.runner import Options, validate_one

from conftest import ROOT

KEY = "PLANTED-tasks-key-5c1e"
COMMITTED = ROOT / "examples" / "tasks-api" / "openapi.json"


@pytest.fixture
def api() -> Iterator[httpx.Client]:
    with serve(create_app(KEY, retry_after=7)) as base, httpx.Client(base_url=base, headers={"X-API-Key": KEY}) as c:
        yield c


def root(api: httpx.Client) -> str:
    return str(api.base_url).rstrip("/")


def create(api: httpx.Client, title: str, **fields: object) -> dict[str, object]:
    response = api.post("/tasks", json={"title": title, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_committed_openapi_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        "examples/tasks-api/openapi.json is stale: run python -m connectorkit.examples.tasks > "
        "examples/tasks-api/openapi.json"
    )


def test_the_api_key_is_required_and_checked(api: httpx.Client) -> None:
    without = httpx.get(f"{root(api)}/tasks")
    wrong = httpx.get(f"{root(api)}/tasks", headers={"X-API-Key": KEY + "x"})
    for response in (without, wrong):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/json"
        assert "X-API-Key" in response.json()["detail"] and KEY not in response.text
    assert httpx.get(f"{root(api)}/openapi.json").json()["info"]["title"] == "Tasks"
    assert api.get("/tasks").status_code == 200


def test_default_key_and_empty_key() -> None:
    with serve(create_app()) as base:
        assert httpx.get(f"{base}/tasks", headers={"X-API-Key": DEFAULT_API_KEY}).status_code == 200
    with pytest.raises(InputError, match="api_key"):
        create_app("")


def test_create_read_update_delete(api: httpx.Client) -> None:
    response = api.post("/tasks", json={"title": "Write the report", "notes": "by Friday"})
    assert response.status_code == 201
    assert response.json() == {"id": 1, "title": "Write the report", "notes": "by Friday", "done": False}
    assert response.headers["location"] == f"{root(api)}/tasks/1"
    assert create(api, "Second")["id"] == 2

    assert api.get("/tasks/1").json()["title"] == "Write the report"
    patched = api.patch("/tasks/1", json={"done": True})
    assert patched.json() == {"id": 1, "title": "Write the report", "notes": "by Friday", "done": True}
    assert api.patch("/tasks/1", json={"title": "Renamed"}).json()["done"] is True  # unsent fields kept

    assert api.delete("/tasks/1").status_code == 204
    for gone in (api.get("/tasks/1"), api.patch("/tasks/1", json={"done": False}), api.delete("/tasks/1")):
        assert gone.status_code == 404 and gone.json() == {"detail": "no task with id 1"}
    assert create(api, "Third")["id"] == 3  # ids are never reused

    assert api.post("/tasks", json={"title": ""}).status_code == 422
    assert api.post("/tasks", json={"title": "x", "colour": "red"}).status_code == 422
    assert api.patch("/tasks/2", json={"title": None}).json()["title"] == "Second"
    assert api.get("/tasks/0").status_code == 422


def test_list_pages_follow_absolute_next_links(api: httpx.Client) -> None:
    for n in range(1, 6):
        create(api, f"Task {n}", done=n % 2 == 0)
    seen: list[object] = []
    url: str | None = "/tasks?top=2"
    pages = 0
    while url:
        page = api.get(url).json()
        pages += 1
        seen += [t["id"] for t in page["value"]]
        url = page.get("nextLink")
        if url:
            assert url.startswith(root(api)) and "top=2" in url
    assert (pages, seen) == (3, [1, 2, 3, 4, 5])
    assert [t["id"] for t in api.get("/tasks", params={"done": "true"}).json()["value"]] == [2, 4]
    assert "nextLink" not in api.get("/tasks").json()
    assert api.get("/tasks", params={"top": 101}).status_code == 422


def test_polling_trigger_speaks_the_202_location_protocol(api: httpx.Client) -> None:
    create(api, "Existed before the flow")
    first = api.get("/trigger/tasks")
    assert first.status_code == 202 and first.content == b""
    assert first.headers["retry-after"] == "7"
    assert first.headers["location"] == f"{root(api)}/trigger/tasks?since=1"  # existing tasks never fire

    quiet = api.get(first.headers["location"])
    assert quiet.status_code == 202 and quiet.headers["location"] == first.headers["location"]

    create(api, "New one")
    create(api, "Another")
    fired = api.get(quiet.headers["location"])
    assert fired.status_code == 200
    assert [t["title"] for t in fired.json()["value"]] == ["New one", "Another"]
    assert fired.headers["location"].endswith("since=3")
    after = api.get(fired.headers["location"])
    assert after.status_code == 202 and after.headers["location"].endswith("since=3")


def test_webhook_subscribe_notify_unsubscribe(api: httpx.Client, httpserver: HTTPServer) -> None:
    callback = httpserver.url_for("/flows/run")
    subscribed = api.post("/hooks", json={"callbackUrl": callback})
    assert subscribed.status_code == 201 and subscribed.json() == {"id": 1, "callbackUrl": callback}
    location = subscribed.headers["location"]
    assert location == f"{root(api)}/hooks/1"

    task = {"id": 1, "title": "Notify me", "notes": "", "done": False}
    httpserver.expect_oneshot_request("/flows/run", method="POST", json=task).respond_with_data("", status=202)
    with httpserver.wait(raise_assertions=True, stop_on_nohandler=True, timeout=5):
        create(api, "Notify me")

    assert api.delete(location).status_code == 204
    assert api.delete(location).status_code == 404
    create(api, "Nobody hears this")
    assert len(httpserver.log) == 1
    assert api.post("/hooks", json={"callbackUrl": "ftp://example.com/x"}).status_code == 422


def test_a_failing_subscriber_does_not_break_creation(api: httpx.Client, httpserver: HTTPServer) -> None:
    api.post("/hooks", json={"callbackUrl": "http://127.0.0.1:9/unreachable"})
    api.post("/hooks", json={"callbackUrl": httpserver.url_for("/ok")})
    httpserver.expect_oneshot_request("/ok", method="POST").respond_with_data("")
    with httpserver.wait(raise_assertions=True, stop_on_nohandler=True, timeout=10):
        assert create(api, "Still created")["id"] == 1
    assert api.get("/tasks/1").status_code == 200


def test_concurrent_creates_get_unique_consecutive_ids(api: httpx.Client) -> None:
    ids: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=api.base_url, headers={"X-API-Key": KEY}) as own:
            for _ in range(15):
                task_id = own.post("/tasks", json={"title": "parallel"}).json()["id"]
                with lock:
                    ids.append(task_id)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(ids) == list(range(1, 91))


def test_the_generated_connector_validates_clean(tmp_path: Path) -> None:
    with serve(create_app(KEY)) as base:
        spec = read_spec(f"{base}/openapi.json")
    result = create_connector(spec, NewOptions(name="Tasks"))
    folder = result.package.save(tmp_path / "Tasks")
    definition = json.loads((folder / "apiDefinition.swagger.json").read_text())
    assert definition["host"] == base.removeprefix("http://") and definition["schemes"] == ["http"]
    ops = {
        op["operationId"]: op for item in definition["paths"].values() for op in item.values() if "operationId" in op
    }
    assert ops["ListTasks"]["x-ms-pageable"] == {"nextLinkName": "nextLink"}
    assert ops["OnNewTasks"]["x-ms-trigger"] == "batch" and ops["OnTaskCreated"]["x-ms-trigger"] == "single"
    assert ops["DeleteHook"]["x-ms-visibility"] == "internal"
    assert "x-ms-notification-content" in definition["paths"]["/hooks"]
    assert (result.operations, result.triggers, result.auth.kind) == (6, 2, "apiKey")
    checked = validate_one(folder, Options(use_config=False))
    assert checked.errors == 0, [f.message for f in checked.findings]
    assert checked.warnings == 0, [f.message for f in checked.findings]
