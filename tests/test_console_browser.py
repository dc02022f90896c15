"""The console in a real browser: ``connectorkit serve`` runs as a process on a free loopback port,
Playwright drives Debian's chromium (never a downloaded browser) through login with the printed
one-time URL, connection creation, an operation with a dynamic-values dropdown, and history."""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from pytest_httpserver import HTTPServer

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.examples.tasks import create_app as tasks_app
from connectorkit.examples.tasks import serve as serve_tasks
from server_support import KEY, upload_body
from test_console import _pet_files, _with_dynamic_schema

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(tmp_path: Path, *extra: str) -> Iterator[tuple[str, str, Path]]:
    """(base URL, printed console login URL, token file) of a running ``connectorkit serve``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("CONNECTORKIT_SECRET_KEY", "CONNECTORKIT_DB")}
    command = [
        sys.executable,
        "-m",
        "connectorkit",
        "serve",
        "--port",
        str(port),
        "--db",
        f"sqlite:///{tmp_path / 'store.db'}",
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        login_url = None
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        while login_url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            found = re.search(r"(http://\S+/console/login\?code=\S+)", line)
            login_url = found.group(1) if found else None
        assert login_url is not None, process.stderr.read() if process.stderr else "no output"
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, login_url, tmp_path / "server-token"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    with running_server(tmp_path) as found:
        yield found


def test_console_in_chromium(served: tuple[str, str, Path], httpserver: HTTPServer, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, login_url, token_file = served
    assert login_url.startswith(base + "/console/login?code=")
    token = token_file.read_text().strip()
    deployed = httpx.post(
        f"{base}/api/connectors", json=upload_body(httpserver.port), headers={"Authorization": f"Bearer {token}"}
    )
    assert deployed.status_code == 201, deployed.text
    owners = {"items": [{"id": "o1", "name": "Ann"}, {"id": "o2", "name": "Bob"}]}
    httpserver.expect_request("/v1/owners", query_string={"key": KEY}).respond_with_json(owners)
    httpserver.expect_request("/v1/owners/o2/pets", query_string={"key": KEY}).respond_with_json(
        {"pets": [{"id": 5, "name": "Rex"}]}
    )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(login_url)
            expect(page).to_have_url(f"{base}/console/")
            page.get_by_role("link", name="PetShop").click()
            page.get_by_role("link", name="New connection").click()
            page.get_by_label("API key").fill(KEY)
            page.get_by_label("Region").select_option("eu")
            page.get_by_role("button", name="Create connection").click()
            expect(page.get_by_role("status")).to_contain_text("Created connection")
            assert KEY not in page.content()

            page.get_by_role("link", name="PetShop").first.click()
            page.get_by_role("link", name="PetsOfOwner").click()
            owner = page.locator('select[name="arg.owner"]')
            expect(owner.locator("option")).to_have_count(3)  # blank + the two owners, fetched by the script
            owner.select_option(label="Bob")
            page.get_by_role("button", name="Test operation").click()
            expect(page.locator("#response-status")).to_have_text("200")
            expect(page.locator("#response-body")).to_contain_text('"name": "Rex"')
            expect(page.locator("#request-line")).to_have_text(
                f"GET http://127.0.0.1:{httpserver.port}/v1/owners/o2/pets?key=***"
            )
            assert KEY not in page.content()

            page.get_by_role("link", name="History").click()
            call = page.locator("#history tbody tr").filter(has_text="PetsOfOwner")  # lookups are listed too
            expect(call).to_have_count(1)
            expect(call.locator(".status")).to_have_text("200")
            expect(call).to_contain_text("/v1/owners/o2/pets?key=***")
            assert KEY not in page.content()

            # upload a connector folder's files, then fetch an operation's dynamic schema
            folder = tmp_path / "tables"
            folder.mkdir()
            for name, data in _pet_files(httpserver.port, "Tables", _with_dynamic_schema).items():
                (folder / name).write_bytes(data)
            page.get_by_role("link", name="Upload").first.click()
            page.locator("#files").set_input_files(sorted(folder.iterdir()))
            page.get_by_role("button", name="Upload").click()
            expect(page.get_by_role("status")).to_have_text("Deployed Tables, version 1.")
            page.get_by_role("link", name="New connection").click()
            page.get_by_label("API key").fill(KEY)
            page.get_by_role("button", name="Create connection").click()
            page.goto(f"{base}/console/connectors/Tables/operations/AddRow")
            httpserver.expect_request("/v1/tables/t1/schema", query_string={"key": KEY}).respond_with_json(
                {"schema": {"type": "object", "properties": {"city": {"type": "string"}}}}
            )
            page.locator('input[name="arg.table"]').fill("t1")
            page.get_by_role("button", name="Fetch dynamic schema").click()
            found = page.locator('#schema-results .schema-item[data-location="parameter row"]')
            expect(found).to_contain_text("from RowSchema")
            expect(found.locator("li")).to_have_text(["city string"])
            assert KEY not in page.content()
            assert errors == []
        finally:
            browser.close()


TASKS_KEY = "PLANTED-browser-tasks-key-51e0"


def test_live_event_list_of_a_polling_trigger_in_chromium(tmp_path: Path) -> None:
    """Start the Tasks example's polling trigger from its operation page, create a task in the
    backend, and see the event appended to the trigger page's list by its script."""
    from playwright.sync_api import expect, sync_playwright

    with (
        serve_tasks(tasks_app(TASKS_KEY, retry_after=0)) as tasks_base,
        running_server(tmp_path, "--poll-interval", "0.3") as (base, login_url, token_file),
        httpx.Client(base_url=tasks_base, headers={"X-API-Key": TASKS_KEY}) as tasks_api,
    ):
        auth = {"Authorization": f"Bearer {token_file.read_text().strip()}"}
        package = create_connector(read_spec(f"{tasks_base}/openapi.json"), NewOptions(name="Tasks")).package
        files = {name: base64.b64encode(data).decode() for name, data in package.files().items()}
        deployed = httpx.post(f"{base}/api/connectors", json={"files": files, "name": "Tasks"}, headers=auth)
        assert deployed.status_code == 201, deployed.text
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(login_url)
                page.get_by_role("link", name="Tasks").click()
                page.get_by_role("link", name="New connection").click()
                page.get_by_label("API key").fill(TASKS_KEY)
                page.get_by_role("button", name="Create connection").click()
                expect(page.get_by_role("status")).to_contain_text("Created connection")

                page.goto(f"{base}/console/connectors/Tasks/operations/OnNewTasks")
                page.get_by_role("button", name="Start trigger").click()
                expect(page.get_by_role("status")).to_contain_text("Started trigger")
                trigger_id = page.locator("#events").get_attribute("data-trigger")
                assert trigger_id
                # the first poll only seeds the cursor: create the task after it
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline:
                    shown = httpx.get(f"{base}/api/triggers/{trigger_id}", headers=auth).json()
                    if shown["updatedAt"] != shown["createdAt"]:
                        break
                    time.sleep(0.1)
                else:
                    pytest.fail("the trigger was never polled")
                created = tasks_api.post("/tasks", json={"title": "seen live"})
                assert created.status_code == 201
                row = page.locator("#events tbody tr")
                expect(row).to_have_count(1, timeout=15000)  # appended by the script: no reload
                expect(row.locator(".event-key")).to_have_text(f"id:{created.json()['id']}")
                expect(row.locator(".event-body")).to_contain_text('"title": "seen live"')
                expect(page.locator("#events-status")).to_contain_text("1 event.")

                page.get_by_role("link", name="Triggers").first.click()
                listed = page.locator(f'#triggers tr[data-trigger="{trigger_id}"]')
                expect(listed).to_contain_text("polling")
                expect(listed).to_contain_text("active")
                listed.get_by_role("button", name="Stop and delete").click()
                expect(page.get_by_role("status")).to_have_text(f"Stopped trigger {trigger_id}.")
                assert TASKS_KEY not in page.content()
                assert errors == []
            finally:
                browser.close()
