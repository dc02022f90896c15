"""The "Tasks" example API: a small to-do service that exercises what a connector can do.

It has the shapes connectors meet in the wild, each as the platform expects it
(runtime-semantics.md): API-key auth in a header, a paged list whose ``nextLink`` matches
``x-ms-pageable``, create/read/update/delete, a polling trigger speaking the 202 + ``Location``
protocol (section 4.2) and a webhook trigger with ``x-ms-notification-url`` and a ``Location``
for the subscription (section 4.4). The connector extensions are in the OpenAPI document, so
``connectorkit new Tasks --from http://HOST/openapi.json`` gives a connector that validates clean.

State is in memory behind one lock; ids count up from 1 in creation order, so runs are
repeatable. Run it with ``uvicorn connectorkit.examples.tasks:app`` (API key from
``TASKS_API_KEY``, else :data:`DEFAULT_API_KEY`), or build one with :func:`create_app`.
``python -m connectorkit.examples.tasks`` prints the OpenAPI document.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
import uvicorn
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Path, Query, Request, Response, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from connectorkit.errors import InputError

DEFAULT_API_KEY = "tasks-example-key"
API_KEY_ENV = "TASKS_API_KEY"
API_KEY_HEADER = "X-API-Key"
MAX_PAGE = 100
DEFAULT_PAGE = 20
RETRY_AFTER = 15  # seconds the engine waits before the next poll when nothing is new
DELIVERY_TIMEOUT = 10.0

log = logging.getLogger("connectorkit.examples.tasks")


# --------------------------------------------------------------------------- models


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, title="Title", description="What needs doing.")
    notes: str = Field("", max_length=2000, title="Notes", description="Anything else worth knowing.")
    done: bool = Field(False, title="Done", description="Whether the task is finished.")


class TaskUpdate(BaseModel):
    """Only the fields sent are changed (a PATCH); ``None`` means "not sent", never "clear"."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=200, title="Title", description="New title.")
    notes: str | None = Field(None, max_length=2000, title="Notes", description="New notes.")
    done: bool | None = Field(None, title="Done", description="Mark the task finished or not.")


class Task(BaseModel):
    id: int = Field(title="Task ID", description="Assigned by the API: 1, 2, 3... in creation order.")
    title: str = Field(title="Title", description="What needs doing.")
    notes: str = Field(title="Notes", description="Anything else worth knowing.")
    done: bool = Field(title="Done", description="Whether the task is finished.")


class TaskPage(BaseModel):
    value: list[Task] = Field(title="Tasks", description="The tasks on this page.")
    nextLink: str | None = Field(
        None, title="Next page", description="Absolute URL of the next page; absent on the last page."
    )


class TaskBatch(BaseModel):
    value: list[Task] = Field(title="New tasks", description="Tasks created since the previous poll.")


class HookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    callbackUrl: str = Field(
        pattern=r"^https?://\S+$",
        title="Callback URL",
        description="Where each new task is POSTed; filled in by the platform.",
        json_schema_extra={"x-ms-notification-url": True, "x-ms-visibility": "internal"},
    )


class Hook(BaseModel):
    id: int = Field(title="Subscription ID", description="Assigned by the API.")
    callbackUrl: str = Field(title="Callback URL", description="Where new tasks are POSTed.")


class Problem(BaseModel):
    detail: str = Field(title="Detail", description="What went wrong.")


# --------------------------------------------------------------------------- state


class TaskBoard:
    """Tasks and webhook subscriptions in memory; every method holds the one lock, so the API
    may serve requests from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: dict[int, Task] = {}
        self._last_task = 0
        self._hooks: dict[int, str] = {}
        self._last_hook = 0

    def create(self, fields: TaskCreate) -> tuple[Task, list[str]]:
        """The new task, and the callback URLs subscribed at that moment (to notify)."""
        with self._lock:
            self._last_task += 1
            task = Task(id=self._last_task, **fields.model_dump())
            self._tasks[task.id] = task
            return task, list(self._hooks.values())

    def page(self, skip: int, top: int, done: bool | None) -> tuple[list[Task], bool]:
        """Tasks ``skip`` to ``skip + top`` in id order, and whether more follow."""
        with self._lock:
            matching = [t for t in self._tasks.values() if done is None or t.done == done]
        return matching[skip : skip + top], len(matching) > skip + top

    def get(self, task_id: int) -> Task | None:
        with self._lock:
            return self._tasks.get(task_id)

    def update(self, task_id: int, changes: dict[str, Any]) -> Task | None:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return None
            updated = task.model_copy(update=changes)
            self._tasks[task_id] = updated
            return updated

    def delete(self, task_id: int) -> bool:
        with self._lock:
            return self._tasks.pop(task_id, None) is not None

    def since(self, cursor: int | None) -> tuple[list[Task], int]:
        """Tasks created after ``cursor`` (none when ``cursor`` is None: a first poll must not
        fire for what already exists), and the cursor for the next poll."""
        with self._lock:
            if cursor is None:
                return [], self._last_task
            fresh = [t for t in self._tasks.values() if t.id > cursor]
            return fresh, max([cursor, *(t.id for t in fresh)])

    def subscribe(self, url: str) -> Hook:
        with self._lock:
            self._last_hook += 1
            self._hooks[self._last_hook] = url
            return Hook(id=self._last_hook, callbackUrl=url)

    def unsubscribe(self, hook_id: int) -> bool:
        with self._lock:
            return self._hooks.pop(hook_id, None) is not None


def deliver(urls: list[str], task: Task) -> None:
    """POST ``task`` to each subscriber; a subscriber that fails does not stop the others."""
    body = task.model_dump(mode="json")
    with httpx.Client(timeout=DELIVERY_TIMEOUT) as client:
        for url in urls:
            try:
                client.post(url, json=body).raise_for_status()
            except httpx.HTTPError as exc:
                log.warning("task %s: notifying a subscriber failed: %s", task.id, type(exc).__name__)


# --------------------------------------------------------------------------- app

_AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "The X-API-Key header is missing or wrong."}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No task with this ID."}}

TaskId = Annotated[int, Path(alias="taskId", ge=1, title="Task ID", description="The task's ID.")]
HookId = Annotated[int, Path(alias="hookId", ge=1, title="Subscription ID", description="The subscription's ID.")]


API_KEY_SCHEME = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="api_key",
    description="The API key the Tasks service was started with.",
    auto_error=False,
)


def _key_checker(api_key: str) -> Callable[[str | None], None]:
    """The app-wide dependency; declared through the security scheme so that the OpenAPI
    document says how to authenticate (and ``connectorkit new`` asks for an ``api_key``)."""

    def check(given: Annotated[str | None, Security(API_KEY_SCHEME)]) -> None:
        if given is None:
            raise HTTPException(401, f"missing the {API_KEY_HEADER} header")
        if not secrets.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(401, f"wrong {API_KEY_HEADER}")

    return check


def create_app(api_key: str = DEFAULT_API_KEY, *, retry_after: int = RETRY_AFTER) -> FastAPI:
    """A fresh Tasks API with its own empty state, answering only requests carrying ``api_key``."""
    if not api_key:
        raise InputError("api_key: must not be empty")
    board = TaskBoard()
    app = FastAPI(
        title="Tasks",
        version="1.0.0",
        description="A small to-do list API: the example connectorkit builds a connector for.",
        dependencies=[Depends(_key_checker(api_key))],
    )
    app.state.board = board
    _task_routes(app, board)
    _trigger_routes(app, board, retry_after)
    _add_notification_content(app)
    return app


def _task_routes(app: FastAPI, board: TaskBoard) -> None:
    @app.get(
        "/tasks",
        operation_id="ListTasks",
        summary="List tasks",
        description="Lists tasks in creation order, a page at a time; nextLink points to the next page.",
        response_model=TaskPage,
        response_model_exclude_none=True,
        responses=_AUTH_RESPONSES,
        openapi_extra={"x-ms-pageable": {"nextLinkName": "nextLink"}, "x-ms-visibility": "important"},
    )
    def list_tasks(
        request: Request,
        top: Annotated[
            int, Query(ge=1, le=MAX_PAGE, title="Page size", description="How many tasks per page.")
        ] = DEFAULT_PAGE,
        skip: Annotated[
            int,
            Query(
                ge=0,
                title="Skip",
                description="How many tasks to skip.",
                json_schema_extra={"x-ms-visibility": "advanced"},
            ),
        ] = 0,
        done: Annotated[
            bool | None, Query(title="Done", description="Only finished (true) or unfinished (false) tasks.")
        ] = None,
    ) -> TaskPage:
        items, more = board.page(skip, top, done)
        following = str(request.url.include_query_params(skip=skip + top, top=top)) if more else None
        return TaskPage(value=items, nextLink=following)

    @app.post(
        "/tasks",
        operation_id="CreateTask",
        summary="Create a task",
        description="Creates a task; subscribers of the 'When a task is created' trigger are notified.",
        status_code=201,
        response_model=Task,
        responses=_AUTH_RESPONSES,
        openapi_extra={"x-ms-visibility": "important"},
    )
    def create_task(fields: TaskCreate, request: Request, response: Response, background: BackgroundTasks) -> Task:
        task, subscribers = board.create(fields)
        response.headers["Location"] = str(request.url_for("get_task", taskId=str(task.id)))
        if subscribers:
            background.add_task(deliver, subscribers, task)
        return task

    @app.get(
        "/tasks/{taskId}",
        operation_id="GetTask",
        summary="Get a task",
        description="Reads one task by its ID.",
        response_model=Task,
        responses={**_AUTH_RESPONSES, **_NOT_FOUND},
    )
    def get_task(task_id: TaskId) -> Task:
        return _found(board.get(task_id), task_id)

    @app.patch(
        "/tasks/{taskId}",
        operation_id="UpdateTask",
        summary="Update a task",
        description="Changes the fields sent and keeps the others.",
        response_model=Task,
        responses={**_AUTH_RESPONSES, **_NOT_FOUND},
    )
    def update_task(task_id: TaskId, changes: TaskUpdate) -> Task:
        return _found(board.update(task_id, changes.model_dump(exclude_unset=True, exclude_none=True)), task_id)

    @app.delete(
        "/tasks/{taskId}",
        operation_id="DeleteTask",
        summary="Delete a task",
        description="Deletes a task for good.",
        status_code=204,
        response_class=Response,
        responses={**_AUTH_RESPONSES, **_NOT_FOUND},
    )
    def delete_task(task_id: TaskId) -> Response:
        if not board.delete(task_id):
            _found(None, task_id)
        return Response(status_code=204)


def _found(task: Task | None, task_id: int) -> Task:
    if task is None:
        raise HTTPException(404, f"no task with id {task_id}")
    return task


def _trigger_routes(app: FastAPI, board: TaskBoard, retry_after: int) -> None:
    @app.get(
        "/trigger/tasks",
        operation_id="OnNewTasks",
        summary="When tasks are created (polling)",
        description="Polling trigger: answers 202 with a Location carrying the cursor while nothing is new, "
        "and 200 with the new tasks once some were created.",
        response_model=TaskBatch,
        responses={
            **_AUTH_RESPONSES,
            202: {"description": "Nothing new; poll the Location URL after Retry-After seconds."},
        },
        openapi_extra={"x-ms-trigger": "batch", "x-ms-visibility": "important"},
    )
    def on_new_tasks(
        request: Request,
        response: Response,
        since: Annotated[
            int | None,
            Query(
                ge=0,
                title="Since",
                description="Cursor: the last task ID already seen. Filled in from the Location header.",
                json_schema_extra={"x-ms-visibility": "internal"},
            ),
        ] = None,
    ) -> TaskBatch | Response:
        fresh, cursor = board.since(since)
        location = str(request.url.include_query_params(since=cursor))
        if not fresh:
            return Response(status_code=202, headers={"Location": location, "Retry-After": str(retry_after)})
        response.headers["Location"] = location
        return TaskBatch(value=fresh)

    @app.post(
        "/hooks",
        operation_id="OnTaskCreated",
        summary="When a task is created",
        description="Webhook trigger: subscribes a callback URL that each new task is POSTed to.",
        status_code=201,
        response_model=Hook,
        responses=_AUTH_RESPONSES,
        openapi_extra={"x-ms-trigger": "single", "x-ms-visibility": "important"},
    )
    def subscribe(hook: HookCreate, request: Request, response: Response) -> Hook:
        created = board.subscribe(hook.callbackUrl)
        response.headers["Location"] = str(request.url_for("unsubscribe", hookId=str(created.id)))
        return created

    @app.delete(
        "/hooks/{hookId}",
        operation_id="DeleteHook",
        summary="Remove a webhook subscription",
        description="Unsubscribes; the platform calls it on the Location the subscription answered with.",
        status_code=204,
        response_class=Response,
        responses={**_AUTH_RESPONSES, 404: {"model": Problem, "description": "No subscription with this ID."}},
        openapi_extra={"x-ms-visibility": "internal"},
    )
    def unsubscribe(hook_id: HookId) -> Response:
        if not board.unsubscribe(hook_id):
            raise HTTPException(404, f"no subscription with id {hook_id}")
        return Response(status_code=204)


def _add_notification_content(app: FastAPI) -> None:
    """``x-ms-notification-content`` belongs on the path item, where ``openapi_extra`` (which is
    per operation) cannot put it; so the generated document is extended once, then cached."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            document["paths"]["/hooks"]["x-ms-notification-content"] = {
                "description": "The task that was created",
                "schema": {"$ref": "#/components/schemas/Task"},
            }
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def openapi_text(app: FastAPI | None = None) -> str:
    """The OpenAPI document as committed in examples/tasks-api/openapi.json."""
    return json.dumps((app or create_app()).openapi(), indent=2, ensure_ascii=False) + "\n"


app = create_app(os.environ.get(API_KEY_ENV) or DEFAULT_API_KEY)


# --------------------------------------------------------------------------- running it in-process


def free_socket(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready socket bound to a free port; handing uvicorn the socket itself leaves no
    window for another process to take the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


@contextmanager
def serve(asgi: Any, host: str = "127.0.0.1", *, startup_timeout: float = 10.0) -> Iterator[str]:
    """Run ``asgi`` with uvicorn in a background thread on a free loopback port; yields its base
    URL and stops the server (waiting for it) on exit, also when the block is interrupted."""
    sock = free_socket(host)
    port = sock.getsockname()[1]
    config = uvicorn.Config(asgi, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server on port {port} did not start")
            time.sleep(0.005)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


if __name__ == "__main__":
    print(openapi_text(), end="")
