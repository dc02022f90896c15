"""The certification package (``cloud-apis.md`` D.2): what a verified publisher hands in for certification.

Layout, as Microsoft's ``scripts/ConnectorPackageValidator.ps1`` checks it and the house rules reported in D.2
name it::

    <output>.zip
    ├── intro.md                          the connector's documentation page
    └── package.zip                       the Package Deployer package
        ├── [Content_Types].xml
        └── PkgAssets/
            ├── ConnectorSolution.zip     the connector only (publish.solution.build_solution, platform files only)
            ├── FlowSolution.zip          the connector + one flow that uses it (given, or a generated sample)
            └── AIPluginSolution.zip      --ai-plugin only: the connector + aiplugins + aipluginoperations

Decisions where the reference leaves room:

- The sample flow solution is generated when none is given, so the package is complete: the connector
  solution's files plus one ``Workflows/`` flow (manual trigger, one ``OpenApiConnection`` action calling an
  action of the connector, shaped as the Logic Apps workflow definition language and Power Automate solution
  exports write it), its ``<Workflow>`` entry in customizations.xml, a ``<connectionreferences>`` entry and a
  type-29 root component in solution.xml. Its ids are name-based UUIDs, so the same input gives the same bytes.
- The AI plugin solution is **not** generated: the reference names only the ``aicopilot_aiplugin`` node and
  the ``aiplugins`` / ``aipluginoperations`` folders, not the files in them, and inventing them would give a
  package that passes the script but not an import. ``--ai-plugin`` therefore needs ``--plugin-solution``
  (an export from an environment).
- The package zip holds ``[Content_Types].xml`` beside ``PkgAssets/`` but no Package Deployer ``.dll``: the
  script does not look at the package root's files and connectorkit cannot build the assembly.
- ``intro.md`` is the caller's, else the connector folder's, else written from its readme (or the readme
  :func:`~connectorkit.publish.submission.generate_readme` would write) and definition: a description paragraph,
  then ``## Prerequisites``, ``## How to get credentials`` (when the connection has parameters),
  ``## Get started with your connector``, ``## Known issues and limitations`` and, when there is something to
  say, ``## Common errors and remedies`` and ``## FAQ``. It never lists the operations: the documentation page
  generates that part itself.

Nothing is written unless the whole package passes :func:`~connectorkit.publish.packagecheck.check_package`
with the validator the caller passes (the CLI passes the lint validator under the certified profile): the zip
is written in a temporary folder beside the target, checked there under its final name, then renamed into place.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.jsontext import dump_bytes
from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import Operation, Parameter, Swagger
from connectorkit.errors import ConnectorkitError, InputError, SourceError
from connectorkit.publish.packagecheck import DefinitionCheck, check_intro, check_package
from connectorkit.publish.solution import (
    CONNECTOR_FOLDER,
    CUSTOMIZATIONS_XML,
    LANGUAGE,
    SOLUTION_XML,
    XSI,
    build_solution,
    file_stem,
    parse_solution_xml,
    parse_xml,
    xml_document,
    xml_element,
)
from connectorkit.publish.submission import README_SECTIONS, PublisherKind, display_title, generate_readme
from connectorkit.publish.zips import CONTENT_TYPES, SafeZip, ZipLimits, open_zip, write_file_atomic, zip_bytes

INTRO_NAME = "intro.md"
PACKAGE_NAME = "package.zip"
ASSETS = "PkgAssets"
CONNECTOR_SOLUTION = "ConnectorSolution.zip"
FLOW_SOLUTION = "FlowSolution.zip"
PLUGIN_SOLUTION = "AIPluginSolution.zip"
WORKFLOWS_FOLDER = "Workflows"
PLUGIN_NODE = "aicopilot_aiplugin"
PLUGIN_FOLDERS = ("aiplugins", "aipluginoperations")
WORKFLOW_COMPONENT_TYPE = 29
WORKFLOW_SCHEMA = (
    "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#"
)
API_ID_PREFIX = "/providers/Microsoft.PowerApps/apis/"
MAX_INTRO_SENTENCES = 8
_PACKAGE_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\n'
    b'  <Default Extension="xml" ContentType="application/octet-stream" />\n'
    b'  <Default Extension="zip" ContentType="application/octet-stream" />\n'
    b"</Types>\n"
)
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://connectorkit.dev/dataverse/sample-flow")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}


class CertificationRefused(ConnectorkitError):
    """The package has errors, so nothing was written; ``errors`` lists them (one line each)."""

    def __init__(self, target: Path, errors: list[Finding]) -> None:
        self.target = target
        self.errors = errors
        super().__init__(f"{target}: not written: {len(errors)} error(s) remain")


@dataclass
class Certification:
    """A built certification package, in memory, and what was decided on the way."""

    data: bytes
    intro: str
    intro_source: str  # "--intro", "intro.md", "readme.md" or "generated"
    solutions: dict[str, str]  # kind (connector, flow, plugin) -> file name in PkgAssets
    flow_generated: bool
    sample_operation: str | None = None
    connector_name: str = ""
    needs_credentials: bool = True
    notes: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def entries(self) -> list[str]:
        """The files inside, as paths (``package.zip/PkgAssets/ConnectorSolution.zip``)."""
        inner = [f"{PACKAGE_NAME}/{CONTENT_TYPES}"] + [
            f"{PACKAGE_NAME}/{ASSETS}/{name}" for name in sorted(self.solutions.values())
        ]
        return [INTRO_NAME, *inner]


# --------------------------------------------------------------------------- building


def build_certification(
    package: ConnectorPackage,
    *,
    intro: str | None = None,
    flow_solution: bytes | None = None,
    flow_source: str = "--flow-solution",
    ai_plugin: bool = False,
    plugin_solution: bytes | None = None,
    plugin_source: str = "--plugin-solution",
    managed: bool = False,
    publisher_prefix: str | None = None,
    version: str | None = None,
    publisher: str | None = None,
    limits: ZipLimits | None = None,
) -> Certification:
    """The certification package of ``package`` (module docstring), byte-identical for the same input.

    A given flow or plugin solution is read as untrusted and must have the shape the script classifies
    (InputError naming the option otherwise). ``intro`` replaces the connector's own or generated intro.md."""
    if plugin_solution is not None and not ai_plugin:
        raise InputError(f"{plugin_source}: only with --ai-plugin")
    if ai_plugin and plugin_solution is None:
        raise InputError(
            "--ai-plugin: give the AI plugin solution exported from your environment with --plugin-solution P.zip "
            "(connectorkit does not invent the aiplugins/aipluginoperations files)"
        )
    # Only the platform's files: a Connector/ file customizations.xml does not name has made certification fail
    # (cloud-apis.md D.1, "Traps"), so connectorkit's apiProperties copy stays out, as in AppSource packages.
    connector_zip = build_solution(
        package, managed=managed, publisher_prefix=publisher_prefix, version=version, publisher=publisher,
        extras=False,
    )  # fmt: skip
    info = parse_solution_xml(_read(connector_zip, "connector solution", SOLUTION_XML, limits), SOLUTION_XML)
    logical_name = info.connector_name or ""
    notes: list[str] = []
    solutions = {"connector": CONNECTOR_SOLUTION, "flow": FLOW_SOLUTION}
    assets: dict[str, bytes] = {CONNECTOR_SOLUTION: connector_zip}
    sample: str | None = None
    if flow_solution is None:
        operation = sample_operation(package.swagger)
        if operation is None:
            raise InputError(
                f"{package.name_of('apiDefinition.swagger.json')}: no operation to build a sample flow with; "
                "give a flow solution with --flow-solution F.zip"
            )
        sample = operation.operation_id
        assets[FLOW_SOLUTION] = sample_flow_solution(connector_zip, package, operation, limits=limits)
    else:
        flow_name = check_given_solution(flow_solution, flow_source, kind="flow", limits=limits)
        notes += _name_note(flow_source, flow_name, logical_name)
        assets[FLOW_SOLUTION] = flow_solution
    if plugin_solution is not None:
        plugin_name = check_given_solution(plugin_solution, plugin_source, kind="plugin", limits=limits)
        notes += _name_note(plugin_source, plugin_name, logical_name)
        assets[PLUGIN_SOLUTION] = plugin_solution
        solutions["plugin"] = PLUGIN_SOLUTION
    if managed:
        notes.append("the solutions are managed: certification takes unmanaged solutions")
    text, source = _intro(package, intro)
    inner = zip_bytes([(CONTENT_TYPES, _PACKAGE_CONTENT_TYPES)] + [(f"{ASSETS}/{n}", d) for n, d in assets.items()])
    data = zip_bytes([(INTRO_NAME, text.encode()), (PACKAGE_NAME, inner)])
    return Certification(
        data=data,
        intro=text,
        intro_source=source,
        solutions=solutions,
        flow_generated=flow_solution is None,
        sample_operation=sample,
        connector_name=logical_name,
        needs_credentials=needs_credentials(package),
        notes=notes,
    )


def _read(data: bytes, source: str, name: str, limits: ZipLimits | None) -> bytes:
    with open_zip(data, source=source, limits=limits) as archive:
        return archive.read(name)


def _name_note(source: str, found: str | None, logical_name: str) -> list[str]:
    if found is None or found.casefold() == logical_name.casefold():
        return []
    return [
        f"{source}: its connector is {found!r}, the connector solution's is {logical_name!r} "
        "(--publisher-prefix sets the prefix)"
    ]


# --------------------------------------------------------------------------- given solutions


def _counts(root: ET.Element, tag: str) -> bool:
    """The script's test of a ``//tag`` node: present with child nodes, attributes or text."""
    node = next(root.iter(tag), None)
    return node is not None and (len(node) > 0 or bool(node.attrib) or bool((node.text or "").strip()))


def _root_file(archive: SafeZip, name: str) -> str | None:
    return next((n for n in archive.names() if "/" not in n and n.casefold() == name.casefold()), None)


def check_given_solution(data: bytes, source: str, *, kind: str, limits: ZipLimits | None = None) -> str | None:
    """Check a flow (``kind="flow"``) or AI plugin (``"plugin"``) solution the way the script classifies it:
    the three root XML files, well-formed, customizations.xml's nodes and the folders they need. Returns the
    logical name of the connector it carries (None when its ``<name>`` is empty); InputError otherwise."""
    with open_zip(data, source=source, limits=limits) as archive:
        found = {name: _root_file(archive, name) for name in (CONTENT_TYPES, CUSTOMIZATIONS_XML, SOLUTION_XML)}
        missing = [name for name, entry in found.items() if entry is None]
        if missing:
            raise InputError(f"{source}: not a solution zip: no {', '.join(missing)} at its root")
        documents = {name: parse_xml(archive.read(str(entry)), f"{source}: {name}") for name, entry in found.items()}
        folders = {f.casefold() for f in archive.folders() if "/" not in f}
    root = documents[CUSTOMIZATIONS_XML]
    has = {tag: _counts(root, tag) for tag in (CONNECTOR_FOLDER, WORKFLOWS_FOLDER, PLUGIN_NODE)}
    wanted_nodes: tuple[str, ...] = (CONNECTOR_FOLDER, WORKFLOWS_FOLDER if kind == "flow" else PLUGIN_NODE)
    wanted_folders: tuple[str, ...] = (CONNECTOR_FOLDER, WORKFLOWS_FOLDER) if kind == "flow" else (
        CONNECTOR_FOLDER, *PLUGIN_FOLDERS)  # fmt: skip
    unwanted = PLUGIN_NODE if kind == "flow" else WORKFLOWS_FOLDER
    what = "flow solution" if kind == "flow" else "AI plugin solution"
    absent = [f"<{tag}>" for tag in wanted_nodes if not has[tag]]
    if absent:
        raise InputError(f"{source}: not a {what}: customizations.xml has no {' or '.join(absent)} entries")
    if has[unwanted]:
        raise InputError(f"{source}: not a {what}: customizations.xml also has <{unwanted}> entries")
    lacking = [name for name in wanted_folders if name.casefold() not in folders]
    if lacking:
        raise InputError(f"{source}: not a {what}: no {', '.join(f'{n}/' for n in lacking)} folder")
    name = next((e.findtext("name") for e in root.iter(CONNECTOR_FOLDER) if e.find("name") is not None), None)
    return name.strip() if name and name.strip() else None


# --------------------------------------------------------------------------- the sample flow


def _visible(swagger: Swagger) -> list[Operation]:
    return [
        op
        for op in swagger.operations()
        if op.operation_id and str(op.raw.get("x-ms-visibility", "")).lower() != "internal"
    ]


def _inputs(op: Operation) -> list[Parameter]:
    """The parameters a flow has to fill: required, without a default the platform would send."""
    return [
        p
        for p in op.parameters
        if p.required
        and "default" not in p.raw
        and p.location != "body"
        and p.raw.get("x-ms-notification-url") is not True
    ]


def _body_inputs(op: Operation) -> list[tuple[str, dict[str, Any]]]:
    """Required top-level properties of a required body (``body/<name>`` in a flow's parameters), but not a
    webhook's callback URL (the platform fills that in)."""
    body = next((p for p in op.parameters if p.location == "body" and p.required), None)
    if body is None:
        return []
    schema, _ = op.swagger.deref(body.raw.get("schema"), body.pointer + "/schema")
    if not isinstance(schema, dict):
        return []
    properties = schema.get("properties")
    required = schema.get("required")
    if not isinstance(properties, dict) or not isinstance(required, list):
        return []
    found = []
    for name in required:
        prop, _ = op.swagger.deref(properties.get(name), f"{body.pointer}/schema/properties/{name}")
        usable = isinstance(prop, dict) and "default" not in prop and prop.get("x-ms-notification-url") is not True
        if isinstance(name, str) and usable:
            found.append((name, prop))
    return found


def sample_operation(swagger: Swagger) -> Operation | None:
    """What the sample flow uses: a visible action asking for the fewest inputs (current before deprecated,
    a GET when there is a choice, else the first in the definition); for a connector with no visible action,
    its first visible trigger."""
    visible = _visible(swagger)
    actions = [op for op in visible if not op.is_trigger]
    if not actions:
        return next((op for op in visible if op.is_trigger), None)
    ranked = sorted(
        enumerate(actions),
        key=lambda item: (
            item[1].raw.get("deprecated") is True,
            len(_inputs(item[1])) + len(_body_inputs(item[1])),
            item[1].method != "get",
            item[0],
        ),
    )
    return ranked[0][1]


def _trigger_property(title: str, raw: dict[str, Any]) -> dict[str, Any]:
    kind = _TYPES.get(str(raw.get("type", "")), "string")
    return {"title": title, "type": kind, "x-ms-dynamically-added": True, "description": f"Please enter {title}"}


def _name(op: Operation) -> str:
    """A workflow key for the operation, as the designer makes them (spaces become ``_``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", " ".join((op.summary or op.operation_id or "Call").split())) or "Call"


def _host(op: Operation, logical_name: str, connection: str) -> dict[str, Any]:
    return {"connectionName": connection, "operationId": op.operation_id, "apiId": f"{API_ID_PREFIX}{logical_name}"}


def _action_call(op: Operation, logical_name: str, connection: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The manual trigger asking for the action's required inputs, and the action passing them on."""
    properties: dict[str, Any] = {}
    parameters: dict[str, Any] = {}
    for param in _inputs(op):
        key = f"input_{len(properties)}"
        properties[key] = _trigger_property(str(param.raw.get("x-ms-summary") or param.name), param.raw)
        parameters[param.name] = f"@triggerBody()?['{key}']"
    for name, prop in _body_inputs(op):
        key = f"input_{len(properties)}"
        properties[key] = _trigger_property(str(prop.get("x-ms-summary") or prop.get("title") or name), prop)
        parameters[f"body/{name}"] = f"@triggerBody()?['{key}']"
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    triggers = {"manual": {"type": "Request", "kind": "Button", "inputs": {"schema": schema}}}
    inputs = {"host": _host(op, logical_name, connection), "parameters": parameters}
    action = {"runAfter": {}, "type": "OpenApiConnection", "inputs": inputs}
    return triggers, {_name(op): action}


def _trigger_call(op: Operation, logical_name: str, connection: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The connector's trigger (enum inputs set to their first value; others left for the user) and one
    Compose action showing what it delivered."""
    parameters: dict[str, Any] = {}
    for param in _inputs(op):
        values = param.raw.get("enum")
        if isinstance(values, list) and values:
            parameters[param.name] = values[0]
    for name, prop in _body_inputs(op):
        values = prop.get("enum")
        if isinstance(values, list) and values:
            parameters[f"body/{name}"] = values[0]
    webhook = op.trigger_kind == "webhook"
    trigger: dict[str, Any] = {
        "type": "OpenApiConnectionWebhook" if webhook else "OpenApiConnection",
        "inputs": {"host": _host(op, logical_name, connection), "parameters": parameters},
    }
    if not webhook:
        trigger["recurrence"] = {"frequency": "Minute", "interval": 3}
    compose = {"runAfter": {}, "type": "Compose", "inputs": "@triggerOutputs()?['body']"}
    return {_name(op): trigger}, {"Compose": compose}


def workflow_definition(op: Operation, *, logical_name: str, reference: str, connection: str) -> dict[str, Any]:
    """A Power Automate solution flow (``Workflows/<name>-<GUID>.json``) in the Logic Apps workflow definition
    language: a manual (button) trigger asking for the action's required inputs and one ``OpenApiConnection``
    action calling ``op`` through the connector; when ``op`` is a trigger, that trigger and a Compose action."""
    triggers, actions = (_trigger_call if op.is_trigger else _action_call)(op, logical_name, connection)
    for step in [*triggers.values(), *actions.values()]:
        if isinstance(step.get("inputs"), dict) and "host" in step["inputs"]:
            step["inputs"]["authentication"] = "@parameters('$authentication')"
    return {
        "properties": {
            "connectionReferences": {
                connection: {
                    "runtimeSource": "embedded",
                    "connection": {"connectionReferenceLogicalName": reference},
                    "api": {"name": logical_name},
                }
            },
            "definition": {
                "$schema": WORKFLOW_SCHEMA,
                "contentVersion": "1.0.0.0",
                "parameters": {
                    "$connections": {"defaultValue": {}, "type": "Object"},
                    "$authentication": {"defaultValue": {}, "type": "SecureObject"},
                },
                "triggers": triggers,
                "actions": actions,
            },
            "templateName": "",
        },
        "schemaVersion": "1.0.0.0",
    }


_WORKFLOW_FIELDS = (
    ("Type", "1"), ("Subprocess", "0"), ("Category", "5"), ("Mode", "0"), ("Scope", "4"), ("OnDemand", "0"),
    ("TriggerOnCreate", "0"), ("TriggerOnDelete", "0"), ("AsyncAutodelete", "0"), ("SyncWorkflowLogOnFailure", "0"),
    ("StateCode", "1"), ("StatusCode", "2"), ("RunAs", "1"), ("IsTransacted", "1"), ("IntroducedVersion", "1.0.0.0"),
    ("IsCustomizable", "1"), ("BusinessProcessType", "0"), ("IsCustomProcessingStepAllowedForOtherPublishers", "1"),
    ("ModernFlowType", "0"), ("PrimaryEntity", "none"),
)  # fmt: skip


def _flow_customizations(data: bytes, *, flow_id: str, name: str, json_file: str, reference: str, title: str,
                         connector_id: str) -> bytes:  # fmt: skip
    """The connector solution's customizations.xml with the ``<Workflow>`` and its connection reference."""
    root = ET.fromstring(data)
    root.set("xmlns:xsi", XSI)  # dropped by the parser (unused), but exports declare it
    workflows = root.find(WORKFLOWS_FOLDER)
    if workflows is None:
        workflows = xml_element(root, WORKFLOWS_FOLDER)
    workflow = xml_element(workflows, "Workflow", WorkflowId=f"{{{flow_id}}}", Name=name)
    xml_element(workflow, "JsonFileName", f"/{json_file}")
    for tag, value in _WORKFLOW_FIELDS:
        xml_element(workflow, tag, value)
    xml_element(xml_element(workflow, "LocalizedNames"), "LocalizedName", languagecode=LANGUAGE, description=name)
    references = ET.Element("connectionreferences")
    entry = xml_element(references, "connectionreference", connectionreferencelogicalname=reference)
    xml_element(entry, "connectionreferencedisplayname", title)
    xml_element(entry, "connectorid", f"{API_ID_PREFIX}{reference.rsplit('_', 1)[0]}")
    xml_element(entry, "customconnectorid", connector_id)
    for tag, value in (("iscustomizable", "1"), ("promptingbehavior", "0"), ("statecode", "0"), ("statuscode", "1")):
        xml_element(entry, tag, value)
    children = list(root)
    after = next((i for i, child in enumerate(children) if child.tag == "Connectors"), len(children) - 1)
    root.insert(after + 1, references)
    return xml_document(root)


def _flow_solution_xml(data: bytes, *, flow_id: str) -> bytes:
    """solution.xml of the connector solution, renamed ``<UniqueName>Flows`` with the workflow as a root component."""
    root = ET.fromstring(data)
    manifest = root.find("SolutionManifest")
    assert manifest is not None  # our own solution.xml
    unique = manifest.find("UniqueName")
    if unique is not None and unique.text:
        unique.text = f"{unique.text[:60]}Flows"
    label = manifest.find("LocalizedNames/LocalizedName")
    if label is not None:
        label.set("description", f"{label.get('description', '')} sample flow".strip())
    components = manifest.find("RootComponents")
    assert components is not None
    xml_element(components, "RootComponent", type=str(WORKFLOW_COMPONENT_TYPE), id=f"{{{flow_id}}}", behavior="0")
    return xml_document(root)


def sample_flow_solution(
    connector_zip: bytes, package: ConnectorPackage, operation: Operation, *, limits: ZipLimits | None = None
) -> bytes:
    """The flow solution: the connector solution's files plus one flow calling ``operation`` (module docstring)."""
    with open_zip(connector_zip, source="connector solution", limits=limits) as archive:
        entries = {name: archive.read(name) for name in archive.names()}
    info = parse_solution_xml(entries[SOLUTION_XML], SOLUTION_XML)
    logical_name = info.connector_name or ""
    connector_entry = ET.fromstring(entries[CUSTOMIZATIONS_XML]).find("Connectors/Connector")
    connector_id = (connector_entry.findtext("connectorid") or "") if connector_entry is not None else ""
    title = display_title(package) or logical_name
    letters = re.sub(r"[^A-Za-z0-9]", "", title) or "Connector"
    name = f"{letters} sample flow"
    flow_id = str(uuid.uuid5(_ID_NAMESPACE, f"{logical_name.lower()}/{operation.operation_id}"))
    json_file = f"{WORKFLOWS_FOLDER}/{letters}Sample-{flow_id.upper()}.json"
    stem = file_stem(logical_name)
    reference = f"{stem}_{uuid.uuid5(_ID_NAMESPACE, logical_name.lower()).hex[:5]}"
    connection = f"shared_{stem.lower()}"
    definition = workflow_definition(operation, logical_name=logical_name, reference=reference, connection=connection)
    entries[json_file] = dump_bytes(definition)
    entries[CUSTOMIZATIONS_XML] = _flow_customizations(
        entries[CUSTOMIZATIONS_XML], flow_id=flow_id, name=name, json_file=json_file, reference=reference,
        title=title, connector_id=connector_id,
    )  # fmt: skip
    entries[SOLUTION_XML] = _flow_solution_xml(entries[SOLUTION_XML], flow_id=flow_id)
    return zip_bytes(entries.items())


# --------------------------------------------------------------------------- intro.md


def needs_credentials(package: ConnectorPackage) -> bool:
    """Whether intro.md must say how to get credentials: the connection asks for something (the same test
    :func:`~connectorkit.publish.packagecheck.check_package` applies)."""
    props = package.api_properties.get("properties")
    if not isinstance(props, dict):
        return True
    return bool(props.get("connectionParameters") or props.get("connectionParameterSets"))


def _sections(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text before the first ``##`` heading (without a ``#`` title line) and each ``##`` section's
    title and body; fenced code is never taken for a heading."""
    lead: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    fence: str | None = None
    for line in text.splitlines():
        opened = _FENCE.match(line)
        heading = None if fence is not None else _HEADING.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
        elif opened:
            fence = opened.group(1)
        if heading and len(heading.group(1)) <= 2:
            if len(heading.group(1)) == 2 or sections:
                sections.append((heading.group(2).strip(), []))
            continue
        (sections[-1][1] if sections else lead).append(line)
    return "\n".join(lead).strip(), [(title, "\n".join(body).strip()) for title, body in sections]


def _section(sections: list[tuple[str, str]], *words: str) -> str:
    """The body of the first section whose title holds one of ``words`` (lower case), or ""."""
    for title, body in sections:
        lowered = re.sub(r"[*_`]", "", title).lower()
        if any(word in lowered for word in words) and body:
            return body
    return ""


def _words(title: str) -> tuple[str, ...]:
    return next(s.words for s in README_SECTIONS if s.title == title)


def _first_paragraph(text: str) -> str:
    for block in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and not lines[0].startswith(("#", "|", "```", "~~~", "<", "!", "- ", "* ")):
            return " ".join(lines)
    return ""


def _description(lead: str, package: ConnectorPackage, title: str) -> str:
    """One paragraph of at most eight sentences: the readme's (or the definition's) description, and how
    the connector is used (so it is not just the connector's description again)."""
    info = package.swagger.info
    text = _first_paragraph(lead) or " ".join(str(info.get("description") or "").split())
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()][: MAX_INTRO_SENTENCES - 1]
    if sentences and sentences[-1][-1:] not in ".!?":
        sentences[-1] += "."
    usage = (
        f"The {title} connector makes this available in Power Automate, Power Apps and Logic Apps; "
        "its actions and triggers are listed below."
    )
    if not sentences:
        usage = f"The {title} connector brings {title} to Power Automate, Power Apps, Logic Apps and Copilot Studio."
    return " ".join([*sentences, usage])


def _get_started(package: ConnectorPackage, title: str, credentials: bool) -> str:
    operation = sample_operation(package.swagger)
    steps = [
        f"In Power Automate, create a flow (or open an app in Power Apps) and search for the **{title}** connector.",
        "Create a connection: "
        + (
            "enter the details the connection asks for, as described above."
            if credentials
            else "it needs no credentials."
        ),
    ]
    if operation is not None:
        name = " ".join((operation.summary or operation.operation_id or "").split())
        steps.append(f"Add an action such as **{name}** and run the flow.")
        steps.append(
            f"The certification package's sample flow ({FLOW_SOLUTION}) shows the same action in a flow; "
            "import it to try the connector."
        )
    else:
        steps.append("Add one of its triggers to a flow.")
    return "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))


def _common_errors(credentials: bool) -> str:
    if not credentials:
        return ""
    return (
        "- **401 Unauthorized** or **403 Forbidden**: the connection's credentials are wrong, expired or lack "
        "permissions. Edit the connection and enter them again (or sign in again).\n"
        "- **429 Too Many Requests**: the service is throttling calls; the platform retries, and flows should "
        "space their calls out."
    )


def generate_intro(package: ConnectorPackage) -> str:
    """intro.md from the connector's readme (or the one :func:`generate_readme` would write) and definition."""
    readme = package.readme
    if readme is None:
        try:
            readme = generate_readme(package, PublisherKind.CERTIFIED)
        except SourceError:
            readme = ""
    lead, sections = _sections(readme)
    title = display_title(package) or "this service"
    credentials = needs_credentials(package)
    blocks = [_description(lead, package, title)]
    prerequisites = _section(sections, *_words("Prerequisites")) or (
        "- A Microsoft Power Automate, Power Apps or Logic Apps plan that includes custom connectors."
    )
    blocks.append(f"## Prerequisites\n\n{prerequisites}")
    if credentials:
        how = _section(sections, *_words("Obtaining Credentials")) or (
            f"Get the values the connection asks for from your {title} account."
        )
        blocks.append(f"## How to get credentials\n\n{how}")
    started = _section(sections, "get started", "getting started") or _get_started(package, title, credentials)
    blocks.append(f"## Get started with your connector\n\n{started}")
    known = _section(sections, *_words("Known Issues and Limitations")) or (
        "No known issues or limitations at the time of submission."
    )
    blocks.append(f"## Known issues and limitations\n\n{known}")
    errors = _section(sections, "common error", "error", "troubleshoot") or _common_errors(credentials)
    if errors:
        blocks.append(f"## Common errors and remedies\n\n{errors}")
    faq = _section(sections, "faq", "frequently asked")
    if faq:
        blocks.append(f"## FAQ\n\n{faq}")
    return "\n\n".join(blocks) + "\n"


def _intro(package: ConnectorPackage, given: str | None) -> tuple[str, str]:
    if given is not None:
        return given, "--intro"
    if package.intro is not None:
        return package.intro, INTRO_NAME
    return generate_intro(package), "readme.md" if package.readme is not None else "generated"


# --------------------------------------------------------------------------- writing


def _relocate(finding: Finding, checked: str, target: str) -> Finding:
    """Findings name the output file, not the temporary copy they were checked as."""
    update = {
        "file": finding.file.replace(checked, target) if finding.file else finding.file,
        "message": finding.message.replace(checked, target),
    }
    return finding.model_copy(update=update)


def write_certification(
    built: Certification,
    output: Path,
    *,
    validate: DefinitionCheck | None = None,
    limits: ZipLimits | None = None,
) -> Path:
    """Write ``built`` to ``output`` once the whole package passes :func:`check_package` (with ``validate``
    checking the connector inside). Raises :class:`CertificationRefused` listing every error; nothing is
    written then. The package's warnings are left on ``built.warnings``."""
    output = Path(output)
    if not output.name.casefold().endswith(".zip"):
        raise InputError(f"--output {output}: the certification package must be a .zip file")
    if output.is_dir():
        raise InputError(f"--output {output}: is a folder")
    intro_errors = check_intro(built.intro, file=INTRO_NAME, needs_credentials=built.needs_credentials)
    if intro_errors:
        raise CertificationRefused(output, intro_errors)
    # Missing parent folders are created by the final write only, so a refused package leaves nothing behind;
    # until then the package is checked beside the nearest folder that exists.
    parent = (output.parent if str(output.parent) else Path(".")).absolute()
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"--output {output}: {parent} is not a folder")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write here: {exc.strerror}") from None
    try:
        checked = staging / output.name
        checked.write_bytes(built.data)
        plugin = "plugin" in built.solutions
        findings = [
            _relocate(f, str(checked), str(output))
            for f in check_package(checked, plugin=plugin, validate=validate, limits=limits)
        ]
        errors = [f for f in findings if f.severity is Severity.ERROR]
        built.warnings = [f for f in findings if f.severity is not Severity.ERROR]
        if errors:
            raise CertificationRefused(output, errors)
        write_file_atomic(output, built.data)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output


def summary(built: Certification, output: Path) -> dict[str, Any]:
    """What ``package certification --format json`` prints."""
    return {
        "output": str(output),
        "bytes": len(built.data),
        "files": built.entries,
        "connector": built.connector_name,
        "intro": built.intro_source,
        "flowSolution": "generated" if built.flow_generated else "given",
        "sampleOperation": built.sample_operation,
        "aiPlugin": "plugin" in built.solutions,
        "notes": built.notes,
        "warnings": len(built.warnings),
    }


def solution_names(data: bytes, *, limits: ZipLimits | None = None) -> list[str]:
    """The solution zips in a certification package's PkgAssets (for reports and tests)."""
    with open_zip(data, source="certification package", limits=limits) as outer:
        inner = outer.read(PACKAGE_NAME)
    with open_zip(inner, source=PACKAGE_NAME, limits=limits) as package:
        return sorted(PurePosixPath(n).name for n in package.names() if n.startswith(f"{ASSETS}/"))
