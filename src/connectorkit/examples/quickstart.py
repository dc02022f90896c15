"""The quickstart tour: the main job of connectorkit, end to end, against the Tasks example API.

Every step calls the library in-process (no subprocesses, so it takes seconds) and records the
standalone command that does the same, so the tour doubles as a worked example. The API key is
random per run and appears in no command, detail or error (``***`` in its place). Nothing is
written outside a fresh temporary folder unless the caller names a folder or a store.
"""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.runtime.store.secrets import MASK

NAME = "Tasks"
TASK_TITLES = ("Try connectorkit", "Read the quickstart output", "Build my own connector")
# What only the publisher knows, for certification; example.com is reserved for examples (RFC 2606).
PUBLISHER = "Contoso"
CONTACT = {"name": "Contoso support", "url": "https://example.com/support", "email": "support@example.com"}
METADATA = {"Website": "https://example.com", "Privacy policy": "https://example.com/privacy"}
SUBMISSION_FOLDER = "submission"
CERTIFICATION_ZIP = f"{NAME}-certification.zip"


@dataclass
class Step:
    """One step of the tour as shown to the user; ``command`` never holds a secret."""

    name: str
    title: str
    command: str
    ok: bool = False
    detail: str = ""
    ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TourOptions:
    output: Path | None = None  # parent folder of the connector (like ``new -o``); temporary when None
    keep: bool = False  # keep the temporary folder
    db: str | None = None  # store URL; a temporary SQLite store when None
    api_key: str = field(default_factory=lambda: secrets.token_urlsafe(18), repr=False)


@dataclass
class Tour:
    steps: list[Step] = field(default_factory=list)
    connector: Path | None = None
    submission: Path | None = None
    certification: Path | None = None
    db: str = ""
    kept: Path | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)


class StepFailed(ConnectorkitError):
    """A step of the tour did not do what it should; exit code 1, the message names the step."""

    def __init__(self, step: Step, reason: str) -> None:
        self.step = step
        self.tour: Tour | None = None  # the steps run so far, set by run_tour
        super().__init__(f"quickstart failed at step '{step.name}' ({step.title}): {reason}")


def _q(value: object) -> str:
    return shlex.quote(str(value))


class _Runner:
    """Runs steps in order, timing each and turning any failure into :class:`StepFailed`."""

    def __init__(self, tour: Tour, secret: str, report: Callable[[Step], None]) -> None:
        self.tour = tour
        self.secret = secret
        self.report = report

    def _clean(self, text: str) -> str:
        return text.replace(self.secret, MASK)

    @contextmanager
    def step(self, name: str, title: str, command: str) -> Iterator[Step]:
        current = Step(name, title, self._clean(command))
        self.tour.steps.append(current)
        started = time.perf_counter()
        try:
            yield current
            current.ok = True
        except KeyboardInterrupt:
            current.detail = "interrupted"
            raise
        except StepFailed:
            raise
        except Exception as exc:  # any failure of a step is reported as that step's failure
            current.detail = self._clean(str(exc) or type(exc).__name__)
            raise StepFailed(current, current.detail) from None
        finally:
            current.ms = (time.perf_counter() - started) * 1000
            current.detail = self._clean(current.detail)
            self.report(current)

    def check(self, current: Step, condition: bool, reason: str) -> None:
        if not condition:
            current.detail = self._clean(reason)
            raise StepFailed(current, current.detail)


def check_output(options: TourOptions) -> None:
    """Refuse before starting anything when the connector folder cannot be created."""
    if options.output is None:
        return
    for name in (NAME, SUBMISSION_FOLDER, CERTIFICATION_ZIP):
        if (options.output / name).exists():
            raise InputError(
                f"--output {options.output}: {options.output / name} already exists; choose another folder"
            )
    if options.output.exists() and not options.output.is_dir():
        raise InputError(f"--output {options.output}: exists and is not a folder")


def run_tour(options: TourOptions, report: Callable[[Step], None] = lambda _: None) -> Tour:
    """Run every step; ``report`` is called as each one ends. Raises :class:`StepFailed` at the
    first step that fails, after stopping the API and removing the temporary folder; the steps
    run so far are on the exception's ``tour`` attribute."""
    check_output(options)
    tour = Tour()
    started = time.perf_counter()
    with ExitStack() as stack:
        work = Path(tempfile.mkdtemp(prefix="connectorkit-quickstart-"))
        if options.keep:
            tour.kept = work
        else:
            stack.callback(_remove, work)
        try:
            _tour(tour, options, work, _Runner(tour, options.api_key, report), stack)
        except StepFailed as failed:
            failed.tour = tour
            raise
        finally:
            tour.seconds = time.perf_counter() - started
    return tour


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def _tour(tour: Tour, options: TourOptions, work: Path, run: _Runner, stack: ExitStack) -> None:
    from connectorkit.authoring.convert import ConvertOptions
    from connectorkit.authoring.enrich import EnrichOptions
    from connectorkit.authoring.new import NewOptions, create_connector
    from connectorkit.authoring.source import read_spec
    from connectorkit.definition.package import ConnectorPackage
    from connectorkit.examples.tasks import create_app, serve
    from connectorkit.lint.runner import Options, validate_one
    from connectorkit.runtime.environment import LocalEnvironment
    from connectorkit.runtime.store import open_store
    from connectorkit.runtime.store.db import display_url

    parent = options.output if options.output is not None else work
    db_url = options.db or f"sqlite:///{work / 'store.db'}"
    tour.db = display_url(db_url)
    db = _q(tour.db)

    serving = f"TASKS_API_KEY={MASK} uvicorn connectorkit.examples.tasks:app"
    with run.step("serve", "Start the example Tasks API", serving) as step:
        base = stack.enter_context(serve(create_app(options.api_key)))
        step.command += f" --port {base.rsplit(':', 1)[1]}"
        step.detail = base
    client = stack.enter_context(httpx.Client(timeout=30.0))
    source = f"{base}/openapi.json"

    with run.step("fetch", "Fetch its OpenAPI document", f"curl {source}") as step:
        spec = read_spec(source, client=client)
        step.detail = f"{spec.format.value}, {len(spec.document.value.get('paths', {}))} paths"

    new = f"connectorkit new {NAME} --from {source} -o {_q(parent)} --certification --publisher {PUBLISHER} "
    with run.step("new", "Create the connector", new + f"--stack-owner {PUBLISHER}") as step:
        certification = ConvertOptions(enrich_options=EnrichOptions(certification=True))
        new_options = NewOptions(name=NAME, publisher=PUBLISHER, stack_owner=PUBLISHER, conversion=certification)
        created = create_connector(spec, new_options)
        folder = created.package.save(parent / NAME)
        tour.connector = folder
        step.detail = f"{created.operations} actions, {created.triggers} triggers, auth {created.auth.kind}"

    with run.step("validate", "Validate it offline", f"connectorkit validate {_q(folder)}") as step:
        checked = validate_one(folder, Options(use_config=False))
        step.detail = f"{checked.errors} errors, {checked.warnings} warnings"
        run.check(step, checked.errors == 0, "; ".join(f"{f.rule}: {f.message}" for f in checked.findings[:3]))

    deploy = f"connectorkit deploy {_q(folder)} --env local --db {db}"
    with run.step("deploy", "Deploy it to a local environment", deploy) as step:
        store = open_store(db_url)
        stack.callback(store.close)
        environment = LocalEnvironment(store)
        deployed, version = environment.deploy(ConnectorPackage.load(folder))
        step.detail = f"{deployed} version {version} in {tour.db}"

    connect = f"connectorkit connection create {NAME} --param api_key={MASK} --db {db}"
    with run.step("connect", "Create a connection with the API key", connect) as step:
        connection = environment.create_connection(deployed, {"api_key": options.api_key})
        step.detail = f"connection {connection}"

    def call(operation: str, arguments: dict[str, Any], all_pages: bool = False) -> Any:
        result = environment.call(connection, operation, arguments, client=client, all_pages=all_pages)
        return result

    def command(operation: str, *extra: str) -> str:
        return " ".join(["connectorkit call", NAME, operation, "--connection", connection, *extra, "--db", db])

    body = json.dumps({"title": TASK_TITLES[0]})
    with run.step("create", "Create three tasks", command("CreateTask", "--body", _q(body))) as step:
        ids = []
        for title in TASK_TITLES:
            result = call("CreateTask", {"body": {"title": title}})
            run.check(step, result.response.status == 201, f"CreateTask answered HTTP {result.response.status}")
            ids.append(result.response.json["id"])
        step.detail = f"tasks {', '.join(map(str, ids))}"
    first = ids[0]

    with run.step(
        "list", "List them, following next links", command("ListTasks", "-p", "top=2", "--all-pages")
    ) as step:
        result = call("ListTasks", {"top": 2}, all_pages=True)
        listed = [t["id"] for page in result.pages for t in (page.json or {}).get("value", [])]
        step.detail = f"{len(listed)} tasks in {len(result.pages)} pages"
        run.check(step, listed == ids, f"expected tasks {ids}, listed {listed}")

    with run.step("get", "Read one", command("GetTask", "-p", f"taskId={first}")) as step:
        result = call("GetTask", {"taskId": first})
        run.check(step, result.response.status == 200, f"GetTask answered HTTP {result.response.status}")
        step.detail = f"task {first}: {result.response.json['title']!r}"

    update = command("UpdateTask", "-p", f"taskId={first}", "--body", _q(json.dumps({"done": True})))
    with run.step("update", "Mark it done", update) as step:
        result = call("UpdateTask", {"taskId": first, "body": {"done": True}})
        done = result.response.status == 200 and result.response.json.get("done") is True
        run.check(step, done, f"UpdateTask answered HTTP {result.response.status}")
        step.detail = f"task {first} done"

    with run.step("delete", "Delete it", command("DeleteTask", "-p", f"taskId={first}")) as step:
        result = call("DeleteTask", {"taskId": first})
        run.check(step, result.response.status == 204, f"DeleteTask answered HTTP {result.response.status}")
        after = call("GetTask", {"taskId": first}).response.status
        run.check(step, after == 404, f"task {first} still readable after delete (HTTP {after})")
        step.detail = f"task {first} gone (GetTask now answers 404)"

    _trigger_steps(run, environment, connection, client, stack, db)
    _publish_steps(tour, run, folder, parent)


def _trigger_steps(
    run: _Runner, environment: Any, connection: str, client: httpx.Client, stack: ExitStack, db: str
) -> None:
    """One event of each trigger kind. The tour polls as soon as it wants instead of waiting the
    API's Retry-After (``max_interval=0``), so the steps take milliseconds; ``connectorkit listen``
    waits as the platform does."""
    from connectorkit.examples.tasks import serve
    from connectorkit.runtime.listening import TriggerService
    from connectorkit.runtime.triggers import TriggerOptions
    from connectorkit.server.callbacks import callbacks_app

    def listen(operation: str, *extra: str) -> str:
        return " ".join(["connectorkit listen", NAME, operation, "--connection", connection, *extra, "--db", db])

    def create(title: str) -> int:
        result = environment.call(connection, "CreateTask", {"body": {"title": title}}, client=client)
        if result.response.status != 201:
            raise ConnectorkitError(f"CreateTask answered HTTP {result.response.status}")
        return int(result.response.json["id"])

    instant = TriggerOptions(interval=0.0, min_interval=0.0, max_interval=0.0)
    with run.step("poll", "Listen to OnNewTasks (polling): one event", listen("OnNewTasks")) as step:
        service = TriggerService(environment, client=client, options=instant, worker_id="quickstart")
        record = service.start(connection, "OnNewTasks", {})
        try:
            run.check(step, service.run_due() == [], "the first poll should only seed the cursor")
            created = create("Polled by a trigger")
            events = service.run_due()
        finally:
            service.stop(record.id)
        run.check(step, [e.body.get("id") for e in events] == [created], f"expected task {created}, got {events}")
        step.detail = "event " + json.dumps(events[0].body, sort_keys=True)

    base = stack.enter_context(serve(callbacks_app(None, environment=environment)))
    port = base.rsplit(":", 1)[1]
    command = listen("OnTaskCreated", "--port", port, "--public-url", base)
    with run.step("webhook", "Listen to OnTaskCreated (webhook): one event", command) as step:
        service = TriggerService(environment, client=client, public_url=base, worker_id="quickstart")
        record = service.start(connection, "OnTaskCreated", {})
        try:
            created = create("Pushed by a webhook")
            pushed = _wait_for_event(environment, record.id)
        finally:
            service.stop(record.id)  # unsubscribes: DELETE on the subscription's Location
        run.check(step, pushed is not None, "no callback arrived within 5 s")
        assert pushed is not None
        run.check(step, pushed.get("id") == created, f"expected task {created}, got {pushed}")
        step.detail = "event " + json.dumps(pushed, sort_keys=True) + "; unsubscribed"


def _wait_for_event(environment: Any, trigger_id: str, timeout: float = 5.0) -> Any:
    """The body of the trigger's first stored event, waiting for the callback to arrive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = environment.store.events(trigger_id)
        if events:
            return events[0].body
        time.sleep(0.02)
    return None


def _publish_steps(tour: Tour, run: _Runner, folder: Path, parent: Path) -> None:
    """The last steps: what a publisher hands in. The support contact and the website and privacy policy
    URLs are facts only the publisher knows (``new --certification`` says so); the tour fills in example
    values, then writes the certified submission folder and the certification package beside the connector."""
    from connectorkit.definition.package import ConnectorPackage
    from connectorkit.lint.registry import Profile
    from connectorkit.lint.runner import Options, validate_one
    from connectorkit.publish.certification import build_certification, write_certification
    from connectorkit.publish.submission import PublisherKind, prepare_submission, write_submission

    definition = folder / "apiDefinition.swagger.json"
    details = f"# edit {_q(definition)}: info.contact, x-ms-connector-metadata (Website, Privacy policy)"
    with run.step("details", "Add what only the publisher knows", details) as step:
        package = ConnectorPackage.load(folder)
        _add_publisher_details(package.definition)
        package.save(folder, overwrite=True)
        checked = validate_one(folder, Options(profile=Profile.CERTIFIED, use_config=False))
        step.detail = f"example contact and URLs; certified profile: {checked.errors} errors"
        run.check(step, checked.errors == 0, "; ".join(f"{f.rule}: {f.message}" for f in checked.findings[:3]))

    kind = PublisherKind.CERTIFIED
    target = parent / SUBMISSION_FOLDER
    submission = f"connectorkit package submission {_q(folder)} --publisher-kind {kind} -o {_q(target)}"
    with run.step("submission", "Write the pull-request folder", submission) as step:

        def validate(path: Path, kind: PublisherKind) -> list[Any]:
            return validate_one(path, Options(profile=Profile(kind.value), use_config=False)).findings

        prepared = prepare_submission(ConnectorPackage.load(folder), kind)
        target.mkdir(parents=True, exist_ok=True)
        tour.submission = write_submission(prepared, target, validate=validate)
        step.detail = f"{prepared.repo_path}: {', '.join(sorted(prepared.files))}"

    output = parent / CERTIFICATION_ZIP
    with run.step("certification", "Build the certification package", f"connectorkit package certification "
                  f"{_q(folder)} -o {_q(output)}") as step:  # fmt: skip
        built = build_certification(ConnectorPackage.load(folder))
        tour.certification = write_certification(built, output, validate=_certified_check())
        step.detail = (
            f"{len(built.data)} bytes: intro.md, package.zip with {', '.join(sorted(built.solutions.values()))} "
            f"(sample flow calls {built.sample_operation}); validate --package passes"
        )


def _add_publisher_details(definition: dict[str, Any]) -> None:
    info = definition.setdefault("info", {})
    info["contact"] = dict(CONTACT)
    entries = [e for e in definition.get("x-ms-connector-metadata", []) if e.get("propertyName") not in METADATA]
    given = [{"propertyName": name, "propertyValue": value} for name, value in METADATA.items()]
    definition["x-ms-connector-metadata"] = given + entries


def _certified_check() -> Callable[[Any], list[Any]]:
    """The validator ``connectorkit validate --package`` runs on the connector inside a package."""
    from connectorkit.lint.engine import packaged_connector_check

    return packaged_connector_check()
