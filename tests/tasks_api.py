"""The Tasks example API as the trigger tests use it: served on a loopback port, its connector
created from the API's own OpenAPI document and deployed, and a connection made with the key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from connectorkit.authoring.new import NewOptions, create_connector
from connectorkit.authoring.source import read_spec
from connectorkit.examples.tasks import create_app, serve
from connectorkit.runtime.environment import LocalEnvironment


@contextmanager
def deployed_tasks(environment: LocalEnvironment, key: str, *, retry_after: int) -> Iterator[tuple[str, httpx.Client]]:
    """``(connection id, a client of the API sending the key)`` while the API runs; its polling
    trigger answers ``Retry-After: retry_after``."""
    with (
        serve(create_app(key, retry_after=retry_after)) as base,
        httpx.Client(base_url=base, headers={"X-API-Key": key}) as api,
    ):
        created = create_connector(read_spec(f"{base}/openapi.json"), NewOptions(name="Tasks"))
        environment.deploy(created.package, "Tasks")
        yield environment.create_connection("Tasks", {"api_key": key}), api


def create_task(api: httpx.Client, title: str) -> int:
    response = api.post("/tasks", json={"title": title})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])
