"""``connectorkit validate --package FILE.zip``: the checks of Microsoft's ConnectorPackageValidator.ps1, and ours.

A certification package is an outer zip holding ``intro.md`` and a Package Deployer zip whose single folder
(``PkgAssets``) holds the connector solution zip and the flow solution zip (and an AI plugin solution zip for a
plugin connector). Microsoft's script (``scripts/ConnectorPackageValidator.ps1`` in
microsoft/PowerPlatformConnectors) checks that layout level by level and stops at the first level that fails;
this module does the same checks in the same order and reports them with the script's own sentences, so a
message can be searched for and matches what the certification team sees. Where the script fails without a
message (two intro files, one solution zip where two are expected, …) the finding says what was found in
connectorkit's words.

On top of that it checks what the script does not and what still makes a submission bounce: every XML file is
well-formed (and has no DTD, so no entity tricks), ``customizations.xml`` names exactly the ``Connector/`` files
the solution holds, ``solution.xml`` lists the connector as a root component and is unmanaged, ``intro.md``
has its required sections, and the connector inside the connector solution passes the validator (through a
function the caller passes in: the validator lives in ``lint``, which this package does not import).

Zips are read only through :func:`connectorkit.publish.zips.open_zip`, nested ones from bytes; nothing is
written to disk. A zip that is unsafe to read (path traversal, links, zip bombs) is refused with the
:class:`~connectorkit.errors.InputError` ``open_zip`` raises: that is a refusal, not a finding.
"""

from __future__ import annotations

import json
import re
import xml.parsers.expat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree as ET

from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.package import DEFINITION, ICON, INTRO, PROPERTIES, SCRIPT, ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.publish.solution import solution_package
from connectorkit.publish.zips import SafeZip, ZipLimits, open_zip

SCRIPT_SOURCE = (
    "https://github.com/microsoft/PowerPlatformConnectors/blob/8bff86eac6d04e939faee0de15298e911b118c21/"
    "scripts/ConnectorPackageValidator.ps1"
)
DOCS_URL = "https://learn.microsoft.com/en-us/connectors/custom-connectors/certification-submission"
SUCCESS_LINE = "Validation successful: The package structure is correct."
FAILURE_LINE = "Validation failed: Invalid package structure. Check previous messages for details."

SOLUTION_FILES = ("[Content_Types].xml", "customizations.xml", "solution.xml")
CONNECTOR = "Connector"
WORKFLOWS = "Workflows"
PLUGIN_NODE = "aicopilot_aiplugin"
AI_PLUGINS = "aiplugins"
AI_PLUGIN_OPERATIONS = "aipluginoperations"
CONNECTOR_COMPONENT = "372"  # Dataverse component type of a custom connector
# connectorkit's own copy of apiProperties.json in a solution it builds (see publish/solution.py): not a
# platform file, so customizations.xml rightly does not name it.
KEPT_PROPERTIES_SUFFIX = "_apiproperties.json"
NO_COLUMN_RULES = frozenset({"PublisherMissing", "StackOwnerMissing"})
"""Validator rules about apiProperties keys the ``connector`` table has no column for: a solution of platform files
only (as certification packages are built) cannot carry them, so they are not reported against it. The submission's
apiProperties.json carries them (``package submission`` requires both)."""

DefinitionCheck = Callable[[ConnectorPackage], list[Finding]]


@dataclass(frozen=True)
class PackageRule:
    """A package check's id, severity and message template (``{0}``-style placeholders). The lint registry
    holds the same ids with their documentation (``connectorkit rules ID``); a test keeps the two in step."""

    id: str
    severity: Severity
    message: str
    script: bool  # a check of ConnectorPackageValidator.ps1 (it decides the script's verdict)


_E = Severity.ERROR
_W = Severity.WARNING

# ConnectorPackageValidator.ps1, level 1: the outer zip
PACKAGE_ROOT_HAS_FOLDER = PackageRule(
    "PackageRootHasFolder", _E, "The provided zip file should not contain any folder inside '{0}'.", True
)
PACKAGE_ROOT_FILES_MISSING = PackageRule(
    "PackageRootFilesMissing",
    _E,
    "The provided zip file should contain both intro.md and package zip file in '{0}'.",
    True,
)
# level 2: the package zip
PACKAGE_ASSETS_FOLDER_MISSING = PackageRule(
    "PackageAssetsFolderMissing",
    _E,
    "The package zip file should contain a folder ideally named 'PkgAssets' inside '{0}'.",
    True,
)
# level 3: the PkgAssets folder
PACKAGE_ASSETS_HAS_FOLDER = PackageRule(
    "PackageAssetsHasFolder", _E, "The package folder '{0}' should not contain any folder inside '{1}'.", True
)
PACKAGE_SOLUTION_COUNT = PackageRule(
    "PackageSolutionCount",
    _E,
    "The package folder '{0}' should contain only connector and flow solution zip files in '{1}'.",
    True,
)
# level 4: each solution zip
SOLUTION_FILES_MISSING = PackageRule(
    "SolutionFilesMissing",
    _E,
    "The solution zip file '{0}' in '{1}' should contain three files namely '[Content_Types].xml', "
    "'customizations.xml', 'solution.xml'.",
    True,
)
SOLUTION_CUSTOMIZATIONS_UNREADABLE = PackageRule(
    "SolutionCustomizationsUnreadable",
    _E,
    "Validation failed: Internal issue while working with current folder as '{0}' - error occurred: {1}",
    True,
)
SOLUTION_CONNECTOR_FOLDER_MISSING = PackageRule(
    "SolutionConnectorFolderMissing",
    _E,
    "The solution zip file '{0}' in '{1}' should contain one folder namely 'Connector.",
    True,
)
SOLUTION_WORKFLOWS_FOLDERS_MISSING = PackageRule(
    "SolutionWorkflowsFoldersMissing", _E, "The solution zip file '{0}' in '{1}' should contain '{2}'.", True
)
SOLUTION_PLUGIN_FOLDERS_MISSING = PackageRule(
    "SolutionPluginFoldersMissing", _E, "The solution zip file '{0}' in '{1}' should contain '{2}", True
)
# the verdict over all solutions
PACKAGE_CONNECTOR_SOLUTION_MISSING = PackageRule(
    "PackageConnectorSolutionMissing",
    _E,
    "Connector solution in '{0}' is invalid. Connector solution should only contain 'Connector' folder.",
    True,
)
PACKAGE_FLOW_SOLUTION_MISSING = PackageRule(
    "PackageFlowSolutionMissing",
    _E,
    "Flow solution in '{0}' is invalid. Flow solution should contain both 'Connector' and 'Workflows' folders.",
    True,
)
PACKAGE_PLUGIN_SOLUTION_MISSING = PackageRule(
    "PackagePluginSolutionMissing",
    _E,
    "Plugin solution in '{0}' is invalid. Plugin solution should contain 'Connector', 'aiplugins' and "
    "'aipluginoperations' folders.",
    True,
)
# connectorkit's own
PACKAGE_XML_NOT_WELL_FORMED = PackageRule("PackageXmlNotWellFormed", _E, "{0} is not well-formed XML: {1}", False)
SOLUTION_CONNECTOR_FILE_MISSING = PackageRule(
    "SolutionConnectorFileMissing",
    _E,
    "customizations.xml names '{0}' as the <{1}> of connector '{2}', but the solution zip has no such file.",
    False,
)
SOLUTION_CONNECTOR_FILE_UNLISTED = PackageRule(
    "SolutionConnectorFileUnlisted",
    _W,
    "'{0}' is in the solution zip, but no <Connector> entry in customizations.xml names it.",
    False,
)
SOLUTION_ROOT_COMPONENT_MISMATCH = PackageRule(
    "SolutionRootComponentMismatch",
    _W,
    "Connector '{0}' is in customizations.xml but not a root component (type 372) in solution.xml.",
    False,
)
SOLUTION_MANAGED = PackageRule(
    "SolutionManaged",
    _W,
    "The solution '{0}' is managed (<Managed>1</Managed>); certification takes unmanaged solutions.",
    False,
)
SOLUTION_CONNECTOR_UNREADABLE = PackageRule(
    "SolutionConnectorUnreadable", _E, "The connector in the solution zip file '{0}' cannot be read: {1}", False
)
PACKAGE_INTRO_DESCRIPTION_MISSING = PackageRule(
    "PackageIntroDescriptionMissing",
    _E,
    "intro.md does not open with a description paragraph before its first section.",
    False,
)
PACKAGE_INTRO_SECTION_MISSING = PackageRule(
    "PackageIntroSectionMissing", _E, "intro.md has no '## {0}' section.", False
)

RULES = {
    r.id: r
    for r in (
        PACKAGE_ROOT_HAS_FOLDER,
        PACKAGE_ROOT_FILES_MISSING,
        PACKAGE_ASSETS_FOLDER_MISSING,
        PACKAGE_ASSETS_HAS_FOLDER,
        PACKAGE_SOLUTION_COUNT,
        SOLUTION_FILES_MISSING,
        SOLUTION_CUSTOMIZATIONS_UNREADABLE,
        SOLUTION_CONNECTOR_FOLDER_MISSING,
        SOLUTION_WORKFLOWS_FOLDERS_MISSING,
        SOLUTION_PLUGIN_FOLDERS_MISSING,
        PACKAGE_CONNECTOR_SOLUTION_MISSING,
        PACKAGE_FLOW_SOLUTION_MISSING,
        PACKAGE_PLUGIN_SOLUTION_MISSING,
        PACKAGE_XML_NOT_WELL_FORMED,
        SOLUTION_CONNECTOR_FILE_MISSING,
        SOLUTION_CONNECTOR_FILE_UNLISTED,
        SOLUTION_ROOT_COMPONENT_MISMATCH,
        SOLUTION_MANAGED,
        SOLUTION_CONNECTOR_UNREADABLE,
        PACKAGE_INTRO_DESCRIPTION_MISSING,
        PACKAGE_INTRO_SECTION_MISSING,
    )
}
SCRIPT_RULES = frozenset(r.id for r in RULES.values() if r.script)

INTRO_SECTIONS = (
    "Prerequisites",
    "How to get credentials",
    "Get started with your connector",
    "Known issues and limitations",
)
_CREDENTIALS_SECTION = "How to get credentials"


def verdict(findings: Iterable[Finding]) -> str:
    """The last line ConnectorPackageValidator.ps1 would print for the package these findings came from."""
    return FAILURE_LINE if any(f.rule in SCRIPT_RULES for f in findings) else SUCCESS_LINE


def _finding(rule: PackageRule, file: str, *args: object, text: str | None = None, line: int | None = None,
             column: int | None = None) -> Finding:  # fmt: skip
    """``text`` replaces the template when the script words the case differently (or says nothing)."""
    message = text if text is not None else rule.message.format(*args)
    return Finding(rule=rule.id, severity=rule.severity, message=message, file=file, line=line, column=column)


def _lines(*lines: str) -> str:
    """The script prints a problem and its advice on separate lines; a finding is one line."""
    return " ".join(lines)


class _Stop(Exception):
    """The script exits here: its later checks do not run (connectorkit's own checks still may)."""


# --------------------------------------------------------------------------- a zip as folders


@dataclass
class _Tree:
    """The files and folders of one zip, with the script's case-insensitive (Windows) name matching."""

    zip: SafeZip
    display: str
    files: list[str] = field(init=False)
    folders: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.files = self.zip.names()
        self.folders = self.zip.folders()

    def files_in(self, folder: str = "") -> list[str]:
        """Full names of the files directly in ``folder`` ("" = the root), sorted as Windows lists them."""
        prefix = f"{folder}/" if folder else ""
        found = [n for n in self.files if n.startswith(prefix) and "/" not in n[len(prefix) :]]
        return sorted(found, key=str.casefold)

    def folders_in(self, folder: str = "") -> list[str]:
        """Names (last segment) of the folders directly in ``folder``."""
        prefix = f"{folder}/" if folder else ""
        found = [f[len(prefix) :] for f in self.folders if f.startswith(prefix) and "/" not in f[len(prefix) :]]
        return sorted(found, key=str.casefold)

    def has_folder(self, name: str) -> bool:
        return any(f.casefold() == name.casefold() for f in self.folders_in())

    def root_file(self, name: str) -> str | None:
        return next((n for n in self.files_in() if n.casefold() == name.casefold()), None)


def _leaf(name: str) -> str:
    return PurePosixPath(name).name


def _with_extension(names: list[str], extension: str) -> list[str]:
    return [n for n in names if n.casefold().endswith(extension)]


# --------------------------------------------------------------------------- XML


@dataclass
class _XmlProblem:
    message: str
    line: int | None = None
    column: int | None = None


def _refuse_dtd(*_: Any) -> None:
    raise ValueError("a DOCTYPE declaration is not allowed (no DTDs or entities in solution files)")


def _parse_xml(data: bytes) -> ET.Element | _XmlProblem:
    """The document element, or why the bytes are not a well-formed XML document.

    A first pass with expat refuses any DOCTYPE, so entity expansion ("billion laughs") and external
    entities never happen; Dataverse files never carry a DTD. Comments and processing instructions are
    kept in the tree because the script's "has child nodes" counts them."""
    scanner = xml.parsers.expat.ParserCreate()
    scanner.StartDoctypeDeclHandler = _refuse_dtd
    scanner.EntityDeclHandler = _refuse_dtd
    try:
        scanner.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        text = xml.parsers.expat.ErrorString(exc.code) if exc.code else str(exc)
        return _XmlProblem(f"{text} at line {exc.lineno}, column {exc.offset + 1}", exc.lineno, exc.offset + 1)
    except ValueError as exc:
        line = scanner.CurrentLineNumber
        return _XmlProblem(f"{exc} (line {line})", line, scanner.CurrentColumnNumber + 1)
    builder = ET.TreeBuilder(insert_comments=True, insert_pis=True)
    parser = ET.XMLParser(target=builder)
    try:
        parser.feed(data)
        return parser.close()
    except ET.ParseError as exc:
        line, column = exc.position
        return _XmlProblem(str(exc), line, column + 1)


def _first(root: ET.Element, tag: str) -> ET.Element | None:
    """XPath ``//tag`` with SelectSingleNode: the first element of that (un-namespaced) name in document order."""
    return next(root.iter(tag), None)


def _counts(node: ET.Element | None) -> bool:
    """The script's test: the node exists and has child nodes or attributes. Whitespace-only text is not a
    child node (PowerShell's ``[xml]`` drops insignificant whitespace)."""
    if node is None:
        return False
    return len(node) > 0 or bool(node.attrib) or bool(node.text and node.text.strip())


def _text(node: ET.Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


# --------------------------------------------------------------------------- one solution


@dataclass
class _Solution:
    name: str  # the zip's name inside PkgAssets
    display: str
    tree: _Tree
    customizations: ET.Element | None = None
    unreadable: _XmlProblem | None = None  # why customizations.xml does not parse
    connector: bool = False
    workflows: bool = False
    plugin: bool = False

    @property
    def customizations_file(self) -> str:
        return f"{self.display}/{self.tree.root_file('customizations.xml') or 'customizations.xml'}"

    @property
    def kind(self) -> str | None:
        if self.connector and not self.workflows and not self.plugin:
            return "connector"
        if self.connector and self.workflows and not self.plugin:
            return "flow"
        if self.connector and not self.workflows and self.plugin:
            return "plugin"
        return None


@dataclass
class _Run:
    source: str
    plugin: bool
    validate: DefinitionCheck | None
    limits: ZipLimits | None
    findings: list[Finding] = field(default_factory=list)
    intro: tuple[str, bytes] | None = None  # (display path, bytes) of the package's one *.md

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)

    def open(self, data: bytes, display: str) -> _Tree:
        return _Tree(open_zip(data, source=display, limits=self.limits), display)


def _check_root(run: _Run, tree: _Tree, level1: str) -> None:
    """Level 1 (outer zip): no folders; exactly one ``*.md`` and one ``*.zip`` (names are not checked)."""
    failed = False
    folders = tree.folders_in()
    if folders:
        noun = "folder" if len(folders) == 1 else "folders"
        text = _lines(PACKAGE_ROOT_HAS_FOLDER.message.format(level1), f"Please remove the {noun} {', '.join(folders)}.")
        run.add(_finding(PACKAGE_ROOT_HAS_FOLDER, level1, text=text))
        failed = True
    root = tree.files_in()
    counts = {".md": len(_with_extension(root, ".md")), ".zip": len(_with_extension(root, ".zip"))}
    absent = [ext for ext, count in counts.items() if count == 0]
    if absent:
        if len(absent) > 1:
            what = "The intro.md file and package zip file are"
        else:
            what = "The intro.md file is" if absent[0] == ".md" else "The package zip file is"
        noun = "file" if len(absent) == 1 else "files"
        text = _lines(
            PACKAGE_ROOT_FILES_MISSING.message.format(level1), f"{what} missing. Please add the required {noun}."
        )
        run.add(_finding(PACKAGE_ROOT_FILES_MISSING, level1, text=text))
        failed = True
    extra = {ext: count for ext, count in counts.items() if count > 1}
    if extra:
        # The script fails here without a message; say what it counted.
        found = " and ".join(f"{count} '*{ext}' files" for ext, count in extra.items())
        text = (
            f"The provided zip file should contain exactly one intro.md and one package zip file in '{level1}'; "
            f"it holds {found} at its root."
        )
        run.add(_finding(PACKAGE_ROOT_FILES_MISSING, level1, text=text))
        failed = True
    if failed:
        raise _Stop


def _assets_folder(run: _Run, tree: _Tree, level2: str) -> str:
    """Level 2 (package zip): exactly one folder; other root files (the Package Deployer dll, xml) are free."""
    folders = tree.folders_in()
    if not folders:
        text = _lines(
            PACKAGE_ASSETS_FOLDER_MISSING.message.format(level2),
            "Please add the folder containing the solution zip files",
        )
        run.add(_finding(PACKAGE_ASSETS_FOLDER_MISSING, level2, text=text))
        raise _Stop
    if len(folders) > 1:
        text = (
            f"The package zip file should contain exactly one folder (ideally named 'PkgAssets') inside '{level2}'; "
            f"it holds {len(folders)}: {', '.join(folders)}."
        )
        run.add(_finding(PACKAGE_ASSETS_FOLDER_MISSING, level2, text=text))
        raise _Stop
    return folders[0]


def _solution_zips(run: _Run, tree: _Tree, assets: str, level3: str) -> list[str]:
    """Level 3 (PkgAssets): no sub-folders; exactly 2 solution zips, 3 for a plugin connector."""
    failed = False
    folders = tree.folders_in(assets)
    if folders:
        noun = "folder" if len(folders) == 1 else "folders"
        text = _lines(
            PACKAGE_ASSETS_HAS_FOLDER.message.format(assets, level3), f"Please remove the {noun}  {', '.join(folders)}."
        )
        run.add(_finding(PACKAGE_ASSETS_HAS_FOLDER, level3, text=text))
        failed = True
    zips = _with_extension(tree.files_in(assets), ".zip")
    expected = 3 if run.plugin else 2
    if len(zips) != expected:
        failed = True
        run.add(_finding(PACKAGE_SOLUTION_COUNT, level3, text=_count_message(run.plugin, len(zips), assets, level3)))
    if failed:
        raise _Stop
    return zips


def _count_message(plugin: bool, count: int, assets: str, level3: str) -> str:
    kinds = "connector, flow and AIplugin " if plugin else "connector and flow"
    if count == 0:
        return _lines(
            f"The package folder '{assets}' does not contain solution zip files in '{level3}'.",
            f"Please add the required {kinds} solution zip files.",
        )
    if not plugin and count > 2:
        return PACKAGE_SOLUTION_COUNT.message.format(assets, level3)
    if plugin and count < 3:
        return _lines(
            f"The package folder '{assets}' should contain {kinds} solution zip files in '{level3}'.",
            "Please have all the three solution zip files as this is a plugin connector.",
        )
    # The script fails without a message for one zip (no plugin) or more than three (plugin).
    wanted = "the connector, flow and AI plugin" if plugin else "the connector and flow"
    return (
        f"The package folder '{assets}' should contain exactly {wanted} solution zip files in '{level3}'; "
        f"it holds {count}."
    )


_FOLDER_ADVICE = (
    "The folders should match the customization.xml file. They are present by default in an exported solution "
    "and should not be modified/removed manually."
)


def _script_solution(run: _Run, solution: _Solution, level3: str) -> None:
    """Level 4 for one solution zip, in the script's order; the first problem ends the script's run."""
    tree = solution.tree
    missing = [name for name in SOLUTION_FILES if tree.root_file(name) is None]
    if missing:
        text = _lines(
            SOLUTION_FILES_MISSING.message.format(solution.name, level3),
            f"Please add the missing '{', '.join(missing)}' to the solution zip file.",
            "NOTE: These files are by default present in an exported solution and should not be manually "
            "modified/removed. If done, please revert the changes.",
        )
        run.add(_finding(SOLUTION_FILES_MISSING, solution.display, text=text))
        raise _Stop
    problem = solution.unreadable
    if problem is not None:
        run.add(
            _finding(
                SOLUTION_CUSTOMIZATIONS_UNREADABLE,
                solution.customizations_file,
                solution.display,
                problem.message,
                line=problem.line,
                column=problem.column,
            )
        )
        raise _Stop
    if solution.connector and not tree.has_folder(CONNECTOR):
        text = _lines(
            SOLUTION_CONNECTOR_FOLDER_MISSING.message.format(solution.name, level3),
            _FOLDER_ADVICE,
            "Please add the required folder to the solution zip or export the correctsolution again.",
        )
        run.add(_finding(SOLUTION_CONNECTOR_FOLDER_MISSING, solution.display, text=text))
        raise _Stop
    if solution.workflows:
        has_connector, has_workflows = tree.has_folder(CONNECTOR), tree.has_folder(WORKFLOWS)
        if not (has_connector and has_workflows):
            if has_connector:
                what = f"folder namely '{WORKFLOWS}'"
            elif has_workflows:
                what = f"folder namely '{CONNECTOR}"
            else:
                what = f"folders namely '{CONNECTOR}', '{WORKFLOWS}'"
            text = _lines(
                SOLUTION_WORKFLOWS_FOLDERS_MISSING.message.format(solution.name, level3, what),
                _FOLDER_ADVICE,
                "Please add the required folder to the solution zip or export the correct solution again.",
            )
            run.add(_finding(SOLUTION_WORKFLOWS_FOLDERS_MISSING, solution.display, text=text))
            raise _Stop
    if solution.plugin:
        present = {name: tree.has_folder(name) for name in (CONNECTOR, AI_PLUGINS, AI_PLUGIN_OPERATIONS)}
        if not all(present.values()):
            text = _lines(
                SOLUTION_PLUGIN_FOLDERS_MISSING.message.format(solution.name, level3, _plugin_missing(present)),
                _FOLDER_ADVICE,
                "Please add the required folders to the solution zip or export the correct solution again.",
            )
            run.add(_finding(SOLUTION_PLUGIN_FOLDERS_MISSING, solution.display, text=text))
            raise _Stop


def _plugin_missing(present: dict[str, bool]) -> str:
    """The script's wording for the missing plugin folders (its quotes are unbalanced as printed).

    One branch of the script can never be taken (only ``aipluginoperations`` missing falls through to the
    all-three wording); connectorkit names the one folder that is missing instead."""
    missing = [name for name, ok in present.items() if not ok]
    if len(missing) == 3:
        return f"folders namely '{CONNECTOR}', '{AI_PLUGINS}'. '{AI_PLUGIN_OPERATIONS}'"
    if missing == [AI_PLUGINS]:
        return f"folder namely '{AI_PLUGINS}'"
    if len(missing) == 1:
        return f"folder namely '{missing[0]}"
    return "folders namely " + ", ".join(f"'{name}'" for name in missing)


def _classify(run: _Run, solution: _Solution) -> None:
    """Read customizations.xml's ``//Connector``, ``//Workflows`` (and ``//aicopilot_aiplugin``) nodes."""
    name = solution.tree.root_file("customizations.xml")
    if name is None:
        return
    parsed = _parse_xml(solution.tree.zip.read(name))
    if isinstance(parsed, _XmlProblem):
        solution.unreadable = parsed
        return
    solution.customizations = parsed
    solution.connector = _counts(_first(parsed, CONNECTOR))
    solution.workflows = _counts(_first(parsed, WORKFLOWS))
    solution.plugin = run.plugin and _counts(_first(parsed, PLUGIN_NODE))


_SOLUTION_ADVICE = (
    (
        "connector",
        PACKAGE_CONNECTOR_SOLUTION_MISSING,
        "Validate the connector solution has no extra component except 'Connector'. If not so, please remove "
        "them from the solution and export again.",
    ),
    (
        "flow",
        PACKAGE_FLOW_SOLUTION_MISSING,
        "Validate the flow solution has both 'Connector' and 'Workflows' components. If not so, please "
        "recreate the solution and export again.",
    ),
    (
        "plugin",
        PACKAGE_PLUGIN_SOLUTION_MISSING,
        "Validate the plugin solution has 'Connector', 'aiplugins' and 'aipluginoperations' components. If "
        "not so, please recreate the solution and export again.",
    ),
)
"""The solution kinds a package must hold, in the order the checker looks for them, with its advice."""


def _verdict_findings(run: _Run, solutions: list[_Solution], level3: str) -> None:
    """The first missing kind of solution only (the checker stops there); a plugin one only for plugins."""
    kinds = {s.kind for s in solutions}
    for kind, rule, advice in _SOLUTION_ADVICE:
        if kind == "plugin" and not run.plugin:
            continue
        if kind not in kinds:
            run.add(_finding(rule, level3, text=_lines(rule.message.format(level3), advice)))
            return


# --------------------------------------------------------------------------- connectorkit's own solution checks


def _xml_files(run: _Run, tree: _Tree, *, skip: str | None = None) -> None:
    """Every ``*.xml`` in the zip must be well-formed (``skip`` is reported by the script's own check)."""
    for name in tree.files:
        if not name.casefold().endswith(".xml") or name == skip:
            continue
        parsed = _parse_xml(tree.zip.read(name))
        if isinstance(parsed, _XmlProblem):
            file = f"{tree.display}/{name}"
            run.add(
                _finding(
                    PACKAGE_XML_NOT_WELL_FORMED, file, name, parsed.message, line=parsed.line, column=parsed.column
                )
            )


def _connector_entries(root: ET.Element) -> list[ET.Element]:
    return [c for connectors in root.iter("Connectors") for c in connectors.findall(CONNECTOR)]


def _file_reference(value: str) -> str | None:
    """The zip entry a customizations.xml value points at (``/Connector/x.json``), or None for plain values."""
    stripped = value.strip().lstrip("/")
    if stripped.casefold().startswith(f"{CONNECTOR.casefold()}/") and len(stripped) > len(CONNECTOR) + 1:
        return stripped
    return None


def _consistency(run: _Run, solution: _Solution) -> None:
    """customizations.xml and the ``Connector/`` files agree both ways; solution.xml names the connectors."""
    root = solution.customizations
    if root is None:
        return
    tree = solution.tree
    present = {n.casefold(): n for n in tree.files if n.casefold().startswith(f"{CONNECTOR.casefold()}/")}
    listed: set[str] = set()
    file = solution.customizations_file
    names: list[str] = []
    for entry in _connector_entries(root):
        connector_name = _text(entry.find("name")) or "(unnamed)"
        names.append(connector_name)
        for child in entry:
            if not isinstance(child.tag, str):
                continue
            reference = _file_reference(child.text or "")
            if reference is None:
                continue
            listed.add(reference.casefold())
            if reference.casefold() not in present:
                run.add(_finding(SOLUTION_CONNECTOR_FILE_MISSING, file, reference, child.tag, connector_name))
        if entry.find("openapidefinition") is None:
            text = f"Connector '{connector_name}' in customizations.xml names no <openapidefinition> file."
            run.add(_finding(SOLUTION_CONNECTOR_FILE_MISSING, file, text=text))
    for key, name in sorted(present.items()):
        if key not in listed and not key.endswith(KEPT_PROPERTIES_SUFFIX):
            run.add(_finding(SOLUTION_CONNECTOR_FILE_UNLISTED, f"{solution.display}/{name}", name))
    _root_components(run, solution, names)


def _root_components(run: _Run, solution: _Solution, connector_names: list[str]) -> None:
    name = solution.tree.root_file("solution.xml")
    if name is None:
        return
    parsed = _parse_xml(solution.tree.zip.read(name))
    if isinstance(parsed, _XmlProblem):
        return  # reported by _xml_files
    file = f"{solution.display}/{name}"
    components = {
        (c.get("schemaName") or "").casefold()
        for c in parsed.iter("RootComponent")
        if (c.get("type") or "").strip() == CONNECTOR_COMPONENT
    }
    for connector_name in connector_names:
        if connector_name.casefold() not in components:
            run.add(_finding(SOLUTION_ROOT_COMPONENT_MISMATCH, file, connector_name))
    if _text(_first(parsed, "Managed")) == "1":
        unique = _text(_first(parsed, "UniqueName")) or solution.name
        run.add(_finding(SOLUTION_MANAGED, file, unique))


# --------------------------------------------------------------------------- the connector inside


def _connector_package(solution: _Solution, run: _Run) -> ConnectorPackage | None:
    """The connector the solution carries, as the platform would import it (``publish.solution`` reads the
    columns and connectorkit's apiProperties copy), with the definition parsed from the zip's own bytes so
    findings keep their line and column. A connector that cannot be read is a finding."""
    tree = solution.tree
    try:
        imported = solution_package(tree.zip)
    except InputError as exc:
        run.add(_finding(SOLUTION_CONNECTOR_UNREADABLE, solution.display, solution.name, exc))
        return None
    definition = _origins(solution).get(DEFINITION)
    if definition is None:
        return None
    files: dict[str, bytes] = {
        DEFINITION: tree.zip.read(definition.removeprefix(f"{solution.display}/")),
        PROPERTIES: json.dumps(imported.api_properties, indent=2, ensure_ascii=False).encode(),
    }
    if imported.icon is not None:
        files[ICON] = imported.icon
    if imported.script is not None:
        files[SCRIPT] = imported.script.encode()
    if run.intro is not None:
        files[INTRO] = run.intro[1]  # the certified profile accepts intro.md in place of a readme
    return ConnectorPackage.from_files(files, solution.display)


_ORIGIN_COLUMNS = {DEFINITION: "openapidefinition", ICON: "iconblob", SCRIPT: "customcodeblobcontent"}


def _origins(solution: _Solution, intro: str | None = None) -> dict[str, str]:
    """For each connector file name, the display path of the package file it comes from (apiProperties is
    assembled from customizations.xml and the files it names; intro.md is the package's)."""
    assert solution.customizations is not None
    entry = _connector_entries(solution.customizations)[0]
    present = {n.casefold(): n for n in solution.tree.files}
    customizations = solution.tree.root_file("customizations.xml") or "customizations.xml"
    origin = {PROPERTIES: f"{solution.display}/{customizations}"}
    for canonical, column in _ORIGIN_COLUMNS.items():
        reference = _file_reference(_text(entry.find(column)))
        if reference is not None and reference.casefold() in present:
            origin[canonical] = f"{solution.display}/{present[reference.casefold()]}"
    if intro is not None:
        origin[INTRO] = intro
    return origin


def _validate_connectors(run: _Run, solution: _Solution) -> None:
    """Run the caller's validator over the connector of the connector-only solution."""
    if run.validate is None or solution.customizations is None:
        return
    missing = {f.rule for f in run.findings if f.file and f.file.startswith(f"{solution.display}/")}
    if SOLUTION_CONNECTOR_FILE_MISSING.id in missing:
        return  # the validator would only repeat that a file is missing
    package = _connector_package(solution, run)
    if package is None:
        return
    origin = _origins(solution, run.intro[0] if run.intro else None)
    kept_copy = any(name.casefold().endswith(KEPT_PROPERTIES_SUFFIX) for name in solution.tree.files)
    for found in run.validate(package):
        if not kept_copy and found.rule in NO_COLUMN_RULES:
            continue  # not a fault of the package: a solution cannot carry the key
        run.add(_relocate(found, solution.display, origin))


def _relocate(finding: Finding, label: str, origin: dict[str, str]) -> Finding:
    """Point a validator finding at the solution's file rather than the canonical connector file name."""
    if finding.file is None:
        return finding.model_copy(update={"file": label})
    canonical = Path(finding.file).name
    source = origin.get(canonical)
    if source is None:  # a file the solution does not have (no icon, say): name the solution
        return finding.model_copy(update={"file": label, "line": None, "column": None})
    update: dict[str, Any] = {"file": source}
    if canonical == PROPERTIES:
        update.update(line=None, column=None)  # assembled, so its lines are not the solution's
    return finding.model_copy(update=update)


# --------------------------------------------------------------------------- intro.md


_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _normal(title: str) -> str:
    return " ".join(title.replace("*", "").replace("_", " ").split()).rstrip(":?.").casefold()


def check_intro(data: bytes | str, *, file: str = "intro.md", needs_credentials: bool = True) -> list[Finding]:
    """``intro.md`` of a certification package: a description paragraph first, then the required ``##``
    sections of Microsoft's template (``How to get credentials`` only when the connector signs in)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = "intro.md is not UTF-8 text."
            return [_finding(PACKAGE_INTRO_DESCRIPTION_MISSING, file, text=text)]
    headings: list[tuple[int, str, int]] = []
    description = False
    fence: str | None = None
    for number, line in enumerate(data.splitlines(), start=1):
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
        heading = _HEADING.match(line)
        if heading:
            headings.append((len(heading.group(1)), heading.group(2), number))
        elif line.strip() and not any(level >= 2 for level, _, _ in headings):
            description = True
    findings: list[Finding] = []
    if not description:
        findings.append(_finding(PACKAGE_INTRO_DESCRIPTION_MISSING, file, line=1))
    for title in INTRO_SECTIONS:
        if title == _CREDENTIALS_SECTION and not needs_credentials:
            continue
        same = [(level, number) for level, text, number in headings if _normal(text) == _normal(title)]
        if any(level == 2 for level, _ in same):
            continue
        if same:
            level, number = same[0]
            text = f"intro.md has '{title}' as a level-{level} heading; it should be '## {title}'."
            findings.append(_finding(PACKAGE_INTRO_SECTION_MISSING, file, text=text, line=number, column=1))
        else:
            findings.append(_finding(PACKAGE_INTRO_SECTION_MISSING, file, title))
    return findings


def _signs_in(solution: _Solution) -> bool:
    """Whether the connector in this solution has connection parameters (then intro.md says how to get them)."""
    try:
        imported = solution_package(solution.tree.zip)
    except InputError:
        return True
    properties = imported.api_properties.get("properties")
    if not isinstance(properties, dict):
        return True
    return bool(properties.get("connectionParameters") or properties.get("connectionParameterSets"))


# --------------------------------------------------------------------------- entry point


def _check_input(path: Path) -> None:
    """The script's argument checks that still make sense off Windows."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        # '.', '..' and 'dir/..' have no name of their own: the script names the folder itself
        name = path.resolve().name or str(path.resolve())
        raise InputError(f"Validation failed: The path '{path}' contains a folder '{name}' instead of a zip file.")
    if not path.name.casefold().endswith(".zip"):
        raise InputError(f"Validation failed: The file '{path.name}' provided is not a zip file.")


def check_package(
    path: Path | str,
    *,
    plugin: bool = False,
    validate: DefinitionCheck | None = None,
    limits: ZipLimits | None = None,
) -> list[Finding]:
    """Every finding for the certification package at ``path``: the script's (in its order, up to where it
    stops), then connectorkit's. ``plugin`` is the script's ``-pluginEnabled``; ``validate`` checks the
    connector found in the connector solution (the CLI passes the lint validator). :func:`verdict` turns the
    findings into the script's last line.

    An unsafe zip at any depth raises :class:`InputError` (refused, nothing read further, nothing written)."""
    path = Path(path)
    _check_input(path)
    run = _Run(str(path), plugin, validate, limits)
    with open_zip(path, source=run.source, limits=limits) as outer:
        level1 = run.source
        tree = _Tree(outer, level1)
        _xml_files(run, tree)
        intro = _with_extension(tree.files_in(), ".md")
        if len(intro) == 1:
            run.intro = (f"{level1}/{intro[0]}", outer.read(intro[0]))
        solutions: list[_Solution] = []
        try:
            _check_root(run, tree, level1)
            inner_name = _with_extension(tree.files_in(), ".zip")[0]
            level2 = f"{level1}/{inner_name}"
            package = run.open(outer.read(inner_name), level2)
            _xml_files(run, package)
            assets = _assets_folder(run, package, level2)
            level3 = f"{level2}/{assets}"
            for name in _solution_zips(run, package, assets, level3):
                display = f"{level3}/{_leaf(name)}"
                solution = _Solution(_leaf(name), display, run.open(package.zip.read(name), display))
                _classify(run, solution)
                solutions.append(solution)
            _script_solutions(run, solutions, level3)
        except _Stop:
            pass
        _own_solution_checks(run, solutions)
        if run.intro is not None:
            credentials = next((_signs_in(s) for s in solutions if s.kind == "connector"), True)
            run.findings += check_intro(run.intro[1], file=run.intro[0], needs_credentials=credentials)
    return run.findings


def _script_solutions(run: _Run, solutions: list[_Solution], level3: str) -> None:
    for solution in solutions:
        _script_solution(run, solution, level3)
    _verdict_findings(run, solutions, level3)


def _own_solution_checks(run: _Run, solutions: list[_Solution]) -> None:
    for solution in solutions:
        file = solution.customizations_file
        reported = any(f.rule == SOLUTION_CUSTOMIZATIONS_UNREADABLE.id and f.file == file for f in run.findings)
        _xml_files(run, solution.tree, skip=solution.tree.root_file("customizations.xml") if reported else None)
        _consistency(run, solution)
        if solution.kind == "connector":
            _validate_connectors(run, solution)
