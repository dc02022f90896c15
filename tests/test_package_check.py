"""``connectorkit validate --package``: ConnectorPackageValidator.ps1's checks with its messages, and ours.

Every package here is built in the test: a connector solution from a small connector folder with
``publish.solution.build_solution``, a flow solution by adding a flow to it, an AI plugin solution by adding a
plugin; then each case breaks one thing and expects the script's exact sentence (or connectorkit's, where the
script prints none)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.lint import rules as _rules  # noqa: F401 - registers every rule
from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import REGISTRY, Category, On, Profile
from connectorkit.publish import packagecheck
from connectorkit.publish.packagecheck import FAILURE_LINE, SUCCESS_LINE, check_intro, check_package, verdict
from connectorkit.publish.solution import build_solution
from connectorkit.publish.zips import open_zip, write_zip, zip_bytes

from conftest import Run

Entries = dict[str, bytes]

INTRO = b"""Contoso Tasks keeps a team's to-do lists. This connector lets flows create and read tasks.

## Prerequisites
A Contoso Tasks account.

## How to get credentials
Create an API key on the account page.

## Get started with your connector
Add the Create task action to a flow.

## Known issues and limitations
None known.
"""

DEFINITION: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Contoso Tasks", "description": "Create and read tasks in Contoso Tasks.", "version": "1.0"},
    "host": "api.contoso.com",
    "basePath": "/",
    "schemes": ["https"],
    "consumes": ["application/json"],
    "produces": ["application/json"],
    "paths": {
        "/tasks/{id}": {
            "get": {
                "operationId": "GetTask",
                "summary": "Get a task",
                "description": "Gets one task by its id.",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "type": "string",
                        "x-ms-summary": "Task id",
                        "description": "The id of the task.",
                    }
                ],
                "responses": {"200": {"description": "The task.", "schema": {"type": "object"}}},
            }
        }
    },
    "securityDefinitions": {"api_key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
    "security": [{"api_key": []}],
}
PROPERTIES: dict[str, Any] = {
    "properties": {
        "iconBrandColor": "#0f6cbd",
        "publisher": "Contoso",
        "stackOwner": "Contoso",
        "capabilities": ["actions"],
        "connectionParameters": {
            "api_key": {
                "type": "securestring",
                "uiDefinition": {
                    "displayName": "API key",
                    "description": "Your Contoso Tasks API key.",
                    "tooltip": "The API key",
                    "constraints": {"tabIndex": 2, "clearText": False, "required": "true"},
                },
            }
        },
    }
}

FLOW_NODE = (
    '<Workflows><Workflow WorkflowId="{6a1c9c2e-0000-4000-8000-000000000001}" Name="Create a task">'
    "<JsonFileName>/Workflows/CreateaTask-6A1C9C2E-0000-4000-8000-000000000001.json</JsonFileName>"
    "</Workflow></Workflows>"
)
FLOW_FILE = "Workflows/CreateaTask-6A1C9C2E-0000-4000-8000-000000000001.json"
PLUGIN_NODE = '<aicopilot_aiplugins><aicopilot_aiplugin Name="contoso_tasks"><name>contoso_tasks</name>'
PLUGIN_NODE += "</aicopilot_aiplugin></aicopilot_aiplugins>"


# --------------------------------------------------------------------------- building packages


def connector(definition: dict[str, Any] | None = None, properties: dict[str, Any] | None = None) -> ConnectorPackage:
    files = {
        "apiDefinition.swagger.json": json.dumps(definition or DEFINITION, indent=2).encode(),
        "apiProperties.json": json.dumps(properties or PROPERTIES, indent=2).encode(),
    }
    return ConnectorPackage.from_files(files, "contoso-tasks")


def unzip(data: bytes) -> Entries:
    with open_zip(data, source="test") as archive:
        return {name: archive.read(name) for name in archive.names()}


def connector_solution(package: ConnectorPackage | None = None, **options: Any) -> Entries:
    return unzip(build_solution(package or connector(), publisher_prefix="contoso", **options))


def with_node(entries: Entries, node: str) -> Entries:
    """The solution with ``node`` added to customizations.xml's document element."""
    changed = dict(entries)
    text = changed["customizations.xml"].decode()
    changed["customizations.xml"] = (
        text.replace("<Workflows />", "").replace("</ImportExportXml>", node + "</ImportExportXml>").encode()
    )
    return changed


def flow_solution(base: Entries | None = None) -> Entries:
    flow = with_node(base or connector_solution(), FLOW_NODE)
    flow[FLOW_FILE] = json.dumps({"properties": {"definition": {"actions": {}}}}).encode()
    return flow


def plugin_solution(base: Entries | None = None) -> Entries:
    plugin = with_node(base or connector_solution(), PLUGIN_NODE)
    plugin["aiplugins/contoso_tasks/aiplugin.xml"] = b"<aiplugin><name>contoso_tasks</name></aiplugin>"
    plugin["aipluginoperations/contoso_tasks_GetTask/aipluginoperation.xml"] = b"<op><name>GetTask</name></op>"
    return plugin


def solutions(plugin: bool = False) -> dict[str, Entries]:
    made = {"ConnectorSolution.zip": connector_solution(), "FlowSolution.zip": flow_solution()}
    if plugin:
        made["PluginSolution.zip"] = plugin_solution()
    return made


def package_zip(solution_zips: dict[str, Entries | bytes], folder: str = "PkgAssets", **extra: bytes) -> bytes:
    entries = {f"{folder}/{name}": data if isinstance(data, bytes) else zip_bytes(data.items())
               for name, data in solution_zips.items()}  # fmt: skip
    entries["[Content_Types].xml"] = b'<?xml version="1.0" encoding="utf-8"?><Types />'
    entries.update(extra)
    return zip_bytes(entries.items())


def certification(tmp_path: Path, root: Entries, name: str = "package.zip") -> Path:
    path = tmp_path / name
    write_zip(path, root.items())
    return path


def good_package(tmp_path: Path, plugin: bool = False) -> Path:
    return certification(tmp_path, {"intro.md": INTRO, "package.zip": package_zip(solutions(plugin))}, "cert.zip")


def raw_zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip written by zipfile itself, for names our own writer refuses to produce (``..``, ``/abs``)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def messages(findings: list[Finding], rule: str) -> list[str]:
    return [f.message for f in findings if f.rule == rule]


def script_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.rule in packagecheck.SCRIPT_RULES]


# --------------------------------------------------------------------------- the good package


def test_good_package_passes_with_the_scripts_success_line(tmp_path: Path) -> None:
    findings = check_package(good_package(tmp_path))
    assert findings == []
    assert verdict(findings) == SUCCESS_LINE == "Validation successful: The package structure is correct."


def test_good_plugin_package_passes(tmp_path: Path) -> None:
    findings = check_package(good_package(tmp_path, plugin=True), plugin=True)
    assert findings == []


def test_names_are_not_checked_only_extensions(tmp_path: Path) -> None:
    """The script counts *.md and *.zip; any names (and case) pass, and the one folder may be named anything."""
    pkg = package_zip({"a.ZIP": connector_solution(), "b.zip": flow_solution()}, folder="Assets", **{"Pkg.dll": b"MZ"})
    path = certification(tmp_path, {"README.MD": INTRO, "deploy.zip": pkg})
    assert script_findings(check_package(path)) == []


# --------------------------------------------------------------------------- level 1: the outer zip


def test_folder_at_the_root(tmp_path: Path) -> None:
    path = certification(tmp_path, {"intro.md": INTRO, "package.zip": package_zip(solutions()), "docs/x.txt": b"x"})
    findings = check_package(path)
    assert messages(findings, "PackageRootHasFolder") == [
        f"The provided zip file should not contain any folder inside '{path}'. Please remove the folder docs."
    ]
    assert findings[0].file == str(path) and findings[0].severity is Severity.ERROR
    assert verdict(findings) == FAILURE_LINE


def test_two_folders_at_the_root_are_named(tmp_path: Path) -> None:
    root = {"intro.md": INTRO, "package.zip": package_zip(solutions()), "b/x": b"", "a/y": b""}
    findings = check_package(certification(tmp_path, root))
    assert messages(findings, "PackageRootHasFolder")[0].endswith("Please remove the folders a, b.")


@pytest.mark.parametrize(
    ("root", "sentence"),
    [
        ({"package.zip": b""}, "The intro.md file is missing. Please add the required file."),
        ({"intro.md": INTRO}, "The package zip file is missing. Please add the required file."),
        ({"notes.txt": b"x"}, "The intro.md file and package zip file are missing. Please add the required files."),
    ],
)
def test_intro_or_package_zip_missing(tmp_path: Path, root: Entries, sentence: str) -> None:
    path = certification(tmp_path, root)
    findings = check_package(path)
    assert messages(findings, "PackageRootFilesMissing") == [
        f"The provided zip file should contain both intro.md and package zip file in '{path}'. {sentence}"
    ]
    assert verdict(findings) == FAILURE_LINE


def test_two_markdown_files_fail_with_a_message(tmp_path: Path) -> None:
    """The script fails silently here; connectorkit says what it counted."""
    root = {"intro.md": INTRO, "readme.md": INTRO, "package.zip": package_zip(solutions())}
    path = certification(tmp_path, root)
    found = messages(check_package(path), "PackageRootFilesMissing")
    assert found == [
        f"The provided zip file should contain exactly one intro.md and one package zip file in '{path}'; "
        "it holds 2 '*.md' files at its root."
    ]


def test_level_one_failure_stops_the_scripts_checks(tmp_path: Path) -> None:
    broken = {"PkgAssets/only.zip": b"not even a zip"}
    path = certification(tmp_path, {"intro.md": INTRO, "package.zip": zip_bytes(broken.items()), "x/y": b""})
    findings = check_package(path)
    assert [f.rule for f in script_findings(findings)] == ["PackageRootHasFolder"]


# --------------------------------------------------------------------------- level 2: the package zip


def test_package_zip_without_a_folder(tmp_path: Path) -> None:
    inner = zip_bytes([("ConnectorSolution.zip", zip_bytes(connector_solution().items()))])
    path = certification(tmp_path, {"intro.md": INTRO, "package.zip": inner})
    findings = check_package(path)
    assert messages(findings, "PackageAssetsFolderMissing") == [
        f"The package zip file should contain a folder ideally named 'PkgAssets' inside '{path}/package.zip'. "
        "Please add the folder containing the solution zip files"
    ]
    assert findings[0].file == f"{path}/package.zip"


def test_package_zip_with_two_folders(tmp_path: Path) -> None:
    inner = package_zip(solutions(), **{"Other/readme.txt": b"x"})
    path = certification(tmp_path, {"intro.md": INTRO, "package.zip": inner})
    assert messages(check_package(path), "PackageAssetsFolderMissing") == [
        "The package zip file should contain exactly one folder (ideally named 'PkgAssets') inside "
        f"'{path}/package.zip'; it holds 2: Other, PkgAssets."
    ]


# --------------------------------------------------------------------------- level 3: PkgAssets


def assets_path(path: Path) -> str:
    return f"{path}/package.zip/PkgAssets"


def test_sub_folder_in_pkgassets(tmp_path: Path) -> None:
    inner = package_zip(solutions(), **{"PkgAssets/old/ConnectorSolution.zip": b"x"})
    path = certification(tmp_path, {"intro.md": INTRO, "package.zip": inner})
    assert messages(check_package(path), "PackageAssetsHasFolder") == [
        f"The package folder 'PkgAssets' should not contain any folder inside '{assets_path(path)}'. "
        "Please remove the folder  old."
    ]


@pytest.mark.parametrize(
    ("count", "plugin", "expected"),
    [
        (0, False, "The package folder 'PkgAssets' does not contain solution zip files in '{p}'. "
                   "Please add the required connector and flow solution zip files."),
        (3, False, "The package folder 'PkgAssets' should contain only connector and flow solution zip files "
                   "in '{p}'."),
        (0, True, "The package folder 'PkgAssets' does not contain solution zip files in '{p}'. "
                  "Please add the required connector, flow and AIplugin  solution zip files."),
        (2, True, "The package folder 'PkgAssets' should contain connector, flow and AIplugin  solution zip files "
                  "in '{p}'. Please have all the three solution zip files as this is a plugin connector."),
        (1, False, "The package folder 'PkgAssets' should contain exactly the connector and flow solution zip "
                   "files in '{p}'; it holds 1."),
        (4, True, "The package folder 'PkgAssets' should contain exactly the connector, flow and AI plugin "
                  "solution zip files in '{p}'; it holds 4."),
    ],
)  # fmt: skip
def test_solution_zip_count(tmp_path: Path, count: int, plugin: bool, expected: str) -> None:
    made = [*solutions(plugin=True).values(), connector_solution()]
    zips: dict[str, Entries | bytes] = {f"S{i}.zip": made[i] for i in range(count)}
    inner = package_zip(zips, **({} if count else {"PkgAssets/settings.xml": b"<x/>"}))
    path = certification(tmp_path, {"intro.md": INTRO, "package.zip": inner})
    findings = check_package(path, plugin=plugin)
    assert messages(findings, "PackageSolutionCount") == [expected.format(p=assets_path(path))]
    assert verdict(findings) == FAILURE_LINE


# --------------------------------------------------------------------------- level 4: each solution


def broken_package(tmp_path: Path, plugin: bool = False, **replace: Entries | bytes) -> Path:
    zips: dict[str, Entries | bytes] = dict(solutions(plugin))
    zips.update(replace)
    return certification(tmp_path, {"intro.md": INTRO, "package.zip": package_zip(zips)})


def test_solution_without_solution_xml(tmp_path: Path) -> None:
    bad = connector_solution()
    del bad["solution.xml"]
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    findings = check_package(path)
    assert messages(findings, "SolutionFilesMissing") == [
        f"The solution zip file 'ConnectorSolution.zip' in '{assets_path(path)}' should contain three files namely "
        "'[Content_Types].xml', 'customizations.xml', 'solution.xml'. Please add the missing 'solution.xml' to the "
        "solution zip file. NOTE: These files are by default present in an exported solution and should not be "
        "manually modified/removed. If done, please revert the changes."
    ]
    assert findings[0].file == f"{assets_path(path)}/ConnectorSolution.zip"
    # the script stops at the first bad solution: no verdict over the solutions follows
    assert [f.rule for f in script_findings(findings)] == ["SolutionFilesMissing"]


def test_missing_files_are_listed_in_the_scripts_order(tmp_path: Path) -> None:
    bad = {"Connector/x.json": b"{}", "Customizations.xml": b"<ImportExportXml/>"}
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    (found,) = messages(check_package(path), "SolutionFilesMissing")
    assert "Please add the missing '[Content_Types].xml, solution.xml' to the solution zip file." in found


def test_unparseable_customizations_is_the_scripts_internal_issue(tmp_path: Path) -> None:
    bad = connector_solution()
    bad["customizations.xml"] = b"<ImportExportXml>\n<Connectors>\n</ImportExportXml>"
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    findings = check_package(path)
    (found,) = [f for f in findings if f.rule == "SolutionCustomizationsUnreadable"]
    assert found.message.startswith(
        "Validation failed: Internal issue while working with current folder as "
        f"'{assets_path(path)}/ConnectorSolution.zip' - error occurred: mismatched tag"
    )
    assert (found.file, found.line) == (f"{assets_path(path)}/ConnectorSolution.zip/customizations.xml", 3)
    assert not [f for f in findings if f.rule == "PackageXmlNotWellFormed"]  # reported once


def test_connector_node_without_connector_folder(tmp_path: Path) -> None:
    bad = {k: v for k, v in connector_solution().items() if not k.startswith("Connector/")}
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    findings = check_package(path)
    assert messages(findings, "SolutionConnectorFolderMissing") == [
        f"The solution zip file 'ConnectorSolution.zip' in '{assets_path(path)}' should contain one folder namely "
        "'Connector. The folders should match the customization.xml file. They are present by default in an "
        "exported solution and should not be modified/removed manually. Please add the required folder to the "
        "solution zip or export the correctsolution again."
    ]
    # connectorkit's own check names the files customizations.xml points at
    assert len(messages(findings, "SolutionConnectorFileMissing")) == 3


def test_an_empty_connector_node_does_not_count(tmp_path: Path) -> None:
    """``<Connector />`` has no child nodes or attributes: the script does not see a connector."""
    bad = connector_solution()
    text = bad["customizations.xml"].decode()
    start, end = text.index("<Connectors>"), text.index("</Connectors>") + len("</Connectors>")
    bad["customizations.xml"] = (text[:start] + "<Connectors><Connector>\n  </Connector></Connectors>" +
                                 text[end:]).encode()  # fmt: skip
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    assert [f.rule for f in script_findings(check_package(path))] == ["PackageConnectorSolutionMissing"]


@pytest.mark.parametrize(
    ("drop", "connector_node", "what"),
    [
        ("Workflows/", True, "folder namely 'Workflows'"),
        ("Connector/", False, "folder namely 'Connector"),
        ("", False, "folders namely 'Connector', 'Workflows'"),
    ],
)
def test_flow_solution_folders(tmp_path: Path, drop: str, connector_node: bool, what: str) -> None:
    flow = flow_solution()
    if not connector_node:
        text = flow["customizations.xml"].decode()
        start, end = text.index("<Connectors>"), text.index("</Connectors>") + len("</Connectors>")
        flow["customizations.xml"] = (text[:start] + text[end:]).encode()
    prefixes = (drop,) if drop else ("Workflows/", "Connector/")
    flow = {k: v for k, v in flow.items() if not k.startswith(prefixes)}
    path = broken_package(tmp_path, **{"FlowSolution.zip": flow})
    findings = check_package(path)
    assert messages(findings, "SolutionWorkflowsFoldersMissing") == [
        f"The solution zip file 'FlowSolution.zip' in '{assets_path(path)}' should contain '{what}'. The folders "
        "should match the customization.xml file. They are present by default in an exported solution and should "
        "not be modified/removed manually. Please add the required folder to the solution zip or export the "
        "correct solution again."
    ]


@pytest.mark.parametrize(
    ("drop", "what"),
    [
        (("aiplugins/",), "folder namely 'aiplugins'"),
        (("aipluginoperations/",), "folder namely 'aipluginoperations"),
        (("aiplugins/", "aipluginoperations/"), "folders namely 'aiplugins', 'aipluginoperations'"),
    ],
)
def test_plugin_solution_folders(tmp_path: Path, drop: tuple[str, ...], what: str) -> None:
    plugin = {k: v for k, v in plugin_solution().items() if not k.startswith(drop)}
    path = broken_package(tmp_path, plugin=True, **{"PluginSolution.zip": plugin})
    findings = check_package(path, plugin=True)
    assert messages(findings, "SolutionPluginFoldersMissing") == [
        f"The solution zip file 'PluginSolution.zip' in '{assets_path(path)}' should contain '{what} The folders "
        "should match the customization.xml file. They are present by default in an exported solution and should "
        "not be modified/removed manually. Please add the required folders to the solution zip or export the "
        "correct solution again."
    ]


def test_plugin_solution_without_any_plugin_folder_or_connector(tmp_path: Path) -> None:
    plugin = plugin_solution()
    text = plugin["customizations.xml"].decode()
    start, end = text.index("<Connectors>"), text.index("</Connectors>") + len("</Connectors>")
    plugin["customizations.xml"] = (text[:start] + text[end:]).encode()
    plugin = {k: v for k, v in plugin.items() if k.endswith(".xml") and "/" not in k}
    path = broken_package(tmp_path, plugin=True, **{"PluginSolution.zip": plugin})
    (found,) = messages(check_package(path, plugin=True), "SolutionPluginFoldersMissing")
    assert "should contain 'folders namely 'Connector', 'aiplugins'. 'aipluginoperations' The folders" in found


def test_plugin_node_is_ignored_without_the_plugin_flag(tmp_path: Path) -> None:
    """Without -pluginEnabled the script never looks for the plugin node: a plugin solution is a connector one."""
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": plugin_solution()})
    assert script_findings(check_package(path)) == []


def test_no_connector_only_solution(tmp_path: Path) -> None:
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": flow_solution()})
    findings = check_package(path)
    assert messages(findings, "PackageConnectorSolutionMissing") == [
        f"Connector solution in '{assets_path(path)}' is invalid. Connector solution should only contain "
        "'Connector' folder. Validate the connector solution has no extra component except 'Connector'. If not so, "
        "please remove them from the solution and export again."
    ]
    assert verdict(findings) == FAILURE_LINE


def test_no_flow_solution(tmp_path: Path) -> None:
    path = broken_package(tmp_path, **{"FlowSolution.zip": connector_solution()})
    assert messages(check_package(path), "PackageFlowSolutionMissing") == [
        f"Flow solution in '{assets_path(path)}' is invalid. Flow solution should contain both 'Connector' and "
        "'Workflows' folders. Validate the flow solution has both 'Connector' and 'Workflows' components. If not "
        "so, please recreate the solution and export again."
    ]


def test_no_plugin_solution(tmp_path: Path) -> None:
    path = broken_package(tmp_path, plugin=True, **{"PluginSolution.zip": connector_solution()})
    findings = check_package(path, plugin=True)
    assert messages(findings, "PackagePluginSolutionMissing") == [
        f"Plugin solution in '{assets_path(path)}' is invalid. Plugin solution should contain 'Connector', "
        "'aiplugins' and 'aipluginoperations' folders. Validate the plugin solution has 'Connector', 'aiplugins' "
        "and 'aipluginoperations' components. If not so, please recreate the solution and export again."
    ]


def test_only_the_first_missing_kind_is_reported(tmp_path: Path) -> None:
    """Neither a connector nor a flow solution: the script's if/elseif reports the connector one only."""
    empty = {**connector_solution(), "customizations.xml": b"<ImportExportXml><Connectors /></ImportExportXml>"}
    empty = {k: v for k, v in empty.items() if not k.startswith("Connector/")}
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": empty, "FlowSolution.zip": empty})
    assert [f.rule for f in script_findings(check_package(path))] == ["PackageConnectorSolutionMissing"]


# --------------------------------------------------------------------------- the script's argument checks


def test_a_folder_is_not_a_zip(tmp_path: Path) -> None:
    folder = tmp_path / "pkg.zip"
    folder.mkdir()
    with pytest.raises(InputError, match=r"contains a folder 'pkg.zip' instead of a zip file\.$"):
        check_package(folder)


@pytest.mark.parametrize("given", [".", "./", "sub/.."])
def test_a_folder_given_as_dot_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    """``validate --package .``: Path('.').name is '', so the folder is named by its resolved path's name."""
    folder = tmp_path / "pkg.zip"
    (folder / "sub").mkdir(parents=True)
    monkeypatch.chdir(folder)
    expected = f"Validation failed: The path '{Path(given)}' contains a folder 'pkg.zip' instead of a zip file."
    with pytest.raises(InputError) as caught:
        check_package(Path(given))
    assert str(caught.value) == expected


def test_cli_package_dot_names_the_folder(
    tmp_path: Path, cli: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = cli("validate", "--package", ".")
    assert run.exit_code == 2
    assert f"contains a folder '{tmp_path.name}' instead of a zip file." in run.stderr
    assert "folder ''" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    root = cli("validate", "--package", "/")
    assert "contains a folder '/' instead of a zip file." in root.stderr


def test_a_file_without_zip_extension(tmp_path: Path) -> None:
    path = tmp_path / "package.tar"
    path.write_bytes(zip_bytes([("intro.md", INTRO)]))
    with pytest.raises(InputError, match=r"^Validation failed: The file 'package.tar' provided is not a zip file\.$"):
        check_package(path)


# --------------------------------------------------------------------------- connectorkit's own checks


def test_every_xml_file_must_be_well_formed(tmp_path: Path) -> None:
    bad = connector_solution()
    bad["solution.xml"] = b'<?xml version="1.0"?>\n<ImportExportXml>\n  <SolutionManifest>\n</ImportExportXml>\n'
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    findings = check_package(path)
    (found,) = [f for f in findings if f.rule == "PackageXmlNotWellFormed"]
    assert found.message.startswith("solution.xml is not well-formed XML: mismatched tag")
    assert (found.file, found.line) == (f"{assets_path(path)}/ConnectorSolution.zip/solution.xml", 4)
    assert verdict(findings) == SUCCESS_LINE  # the script never parses solution.xml


def test_xml_with_a_dtd_is_refused_before_any_entity_expands(tmp_path: Path) -> None:
    laughs = (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
        b"<lolz>&lol2;</lolz>"
    )
    path = broken_package(tmp_path, **{"FlowSolution.zip": {**flow_solution(), "[Content_Types].xml": laughs}})
    (found,) = messages(check_package(path), "PackageXmlNotWellFormed")
    assert found.startswith("[Content_Types].xml is not well-formed XML: a DOCTYPE declaration is not allowed")


def test_package_zip_xml_is_checked_too(tmp_path: Path) -> None:
    inner = package_zip(solutions(), **{"[Content_Types].xml": b"<Types>"})
    path = certification(tmp_path, {"intro.md": INTRO, "package.zip": inner})
    (found,) = [f for f in check_package(path) if f.rule == "PackageXmlNotWellFormed"]
    assert found.file == f"{path}/package.zip/[Content_Types].xml"


def test_customizations_names_a_file_the_zip_lacks(tmp_path: Path) -> None:
    bad = connector_solution()
    (policy,) = [name for name in bad if name.endswith("_policytemplateinstances.json")]
    del bad[policy]
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    findings = check_package(path)
    assert messages(findings, "SolutionConnectorFileMissing") == [
        f"customizations.xml names '{policy}' as the <policytemplateinstances> of connector 'contoso_contosotasks', "
        "but the solution zip has no such file."
    ]
    assert script_findings(findings) == []


def test_a_connector_file_nothing_names(tmp_path: Path) -> None:
    bad = {**connector_solution(), "Connector/contoso_old_openapidefinition.json": b"{}"}
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    (found,) = [f for f in check_package(path) if f.rule == "SolutionConnectorFileUnlisted"]
    assert found.severity is Severity.WARNING
    assert found.message == (
        "'Connector/contoso_old_openapidefinition.json' is in the solution zip, but no <Connector> entry in "
        "customizations.xml names it."
    )


def test_connector_missing_from_root_components_and_managed(tmp_path: Path) -> None:
    bad = connector_solution(managed=True)
    text = bad["solution.xml"].decode()
    start = text.index("<RootComponent ")
    bad["solution.xml"] = (text[:start] + text[text.index("/>", start) + 2 :]).encode()
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    findings = check_package(path)
    assert messages(findings, "SolutionRootComponentMismatch") == [
        "Connector 'contoso_contosotasks' is in customizations.xml but not a root component (type 372) in solution.xml."
    ]
    assert messages(findings, "SolutionManaged") == [
        "The solution 'ContosoTasks' is managed (<Managed>1</Managed>); certification takes unmanaged solutions."
    ]


def test_unreadable_connector_is_a_finding(tmp_path: Path) -> None:
    bad = connector_solution()
    (params,) = [name for name in bad if name.endswith("_connectionparameters.json")]
    bad[params] = b"{not json"
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    (found,) = messages(check_package(path, validate=lambda _: []), "SolutionConnectorUnreadable")
    assert found.startswith("The connector in the solution zip file 'ConnectorSolution.zip' cannot be read:")
    assert "not valid JSON" in found


# --------------------------------------------------------------------------- intro.md


def test_intro_sections() -> None:
    assert check_intro(INTRO) == []
    no_description = b"# Contoso Tasks\n\n" + INTRO[INTRO.index(b"## Prerequisites") :]
    assert [f.rule for f in check_intro(no_description)] == ["PackageIntroDescriptionMissing"]
    without = INTRO.replace(b"## Known issues and limitations\nNone known.\n", b"")
    assert [f.message for f in check_intro(without)] == ["intro.md has no '## Known issues and limitations' section."]
    demoted = INTRO.replace(b"## Get started", b"### Get started")
    (found,) = check_intro(demoted)
    assert found.message == (
        "intro.md has 'Get started with your connector' as a level-3 heading; it should be "
        "'## Get started with your connector'."
    )
    assert found.line == 9


def test_intro_headings_inside_code_fences_do_not_count() -> None:
    fenced = INTRO.replace(b"## Prerequisites\n", b"```\n## Prerequisites\n```\n")
    assert [f.message for f in check_intro(fenced)] == ["intro.md has no '## Prerequisites' section."]


def test_intro_credentials_section_only_when_the_connector_signs_in(tmp_path: Path) -> None:
    no_auth = INTRO.replace(b"## How to get credentials\nCreate an API key on the account page.\n", b"")
    assert [f.message for f in check_intro(no_auth)] == ["intro.md has no '## How to get credentials' section."]
    assert check_intro(no_auth, needs_credentials=False) == []
    definition = {k: v for k, v in DEFINITION.items() if k not in ("securityDefinitions", "security")}
    properties = {"properties": {**PROPERTIES["properties"], "connectionParameters": {}}}
    plain = connector_solution(connector(definition, properties))
    zips: dict[str, Entries | bytes] = {"ConnectorSolution.zip": plain, "FlowSolution.zip": flow_solution(plain)}
    path = certification(tmp_path, {"intro.md": no_auth, "package.zip": package_zip(zips)})
    assert check_package(path) == []


def test_intro_that_is_not_utf8(tmp_path: Path) -> None:
    path = certification(tmp_path, {"intro.md": b"\xff\xfe\x00bad", "package.zip": package_zip(solutions())})
    findings = check_package(path)
    assert messages(findings, "PackageIntroDescriptionMissing") == ["intro.md is not UTF-8 text."]
    assert findings[0].file == f"{path}/intro.md"


# --------------------------------------------------------------------------- the connector inside


def lint(profile: Profile) -> Callable[[ConnectorPackage], list[Finding]]:
    rules = [r for r in active_rules(profile) if r.on not in (On.LOAD, On.DIFF, On.CERTIFICATION_PACKAGE)]
    return lambda package: lint_package(package, rules, profile)


def test_validator_findings_point_into_the_solution(tmp_path: Path) -> None:
    definition = json.loads(json.dumps(DEFINITION))
    definition["paths"]["/tasks/{id}"]["get"]["parameters"][0]["required"] = False
    properties = json.loads(json.dumps(PROPERTIES))
    properties["properties"]["policyTemplateInstances"] = [
        {"templateId": "setheader", "title": "x", "parameters": {"x-ms-apimTemplate-operationName": ["Nope"]}}
    ]
    bad = connector_solution(connector(definition, properties))
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": bad})
    findings = check_package(path, validate=lint(Profile.CUSTOM))
    solution = f"{assets_path(path)}/ConnectorSolution.zip"
    (required,) = [f for f in findings if f.rule == "PathParameterMustBeRequired"]
    assert required.file == f"{solution}/Connector/contoso_contosotasks_openapidefinition.json"
    text = bad["Connector/contoso_contosotasks_openapidefinition.json"].decode().splitlines()
    assert required.line is not None and text[required.line - 1].strip() == "{"  # the parameter object, in the zip
    assert '"name": "id"' in "\n".join(text[required.line : required.line + 3])
    policy = [f for f in findings if f.file == f"{solution}/customizations.xml"]
    assert policy and all(f.line is None for f in policy)
    assert script_findings(findings) == []


def test_keys_no_column_carries_are_not_reported_against_platform_only_solutions(tmp_path: Path) -> None:
    """Certification packages hold platform files only (no apiProperties copy): publisher and stackOwner cannot be
    in them, so PublisherMissing/StackOwnerMissing are not reported; everything else the validator says is. With the
    copy (an older connectorkit package) they are read from it and reported when it lacks them."""
    properties = json.loads(json.dumps(PROPERTIES))
    del properties["properties"]["publisher"], properties["properties"]["stackOwner"]
    check = lint(Profile.CERTIFIED)
    found: dict[bool, list[tuple[str, str | None]]] = {}
    for extras in (False, True):
        entries = connector_solution(connector(properties=properties), extras=extras)
        assert any(n.endswith("_apiproperties.json") for n in entries) is extras
        flow = flow_solution(entries)
        path = broken_package(tmp_path, **{"ConnectorSolution.zip": entries, "FlowSolution.zip": flow})
        found[extras] = sorted((f.rule, f.message) for f in check_package(path, validate=check))
        path.unlink()
    missing = {"PublisherMissing", "StackOwnerMissing"}
    assert {rule for rule, _ in found[True]} & missing == missing
    assert found[False] == [f for f in found[True] if f[0] not in missing]
    assert len(found[False]) > 0  # the validator did run on the platform-only solution


def test_only_the_connector_solution_is_validated(tmp_path: Path) -> None:
    seen: list[str] = []

    def record(package: ConnectorPackage) -> list[Finding]:
        seen.append(package.definition["info"]["title"])
        assert package.intro is not None and package.intro.startswith("Contoso Tasks keeps")
        return []

    check_package(good_package(tmp_path, plugin=True), plugin=True, validate=record)
    assert seen == ["Contoso Tasks"]


# --------------------------------------------------------------------------- unsafe zips


def snapshot(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


@pytest.mark.parametrize("name", ["../evil.md", "/etc/evil.md", "C:/evil.md"])
def test_outer_zip_slip_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "slip.zip"
    path.write_bytes(raw_zip([("intro.md", INTRO), (name, b"x"), ("package.zip", package_zip(solutions()))]))
    before = snapshot(tmp_path.parent)
    with pytest.raises(InputError) as caught:
        check_package(path)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(f"{path}: entry {name!r}")
    assert snapshot(tmp_path.parent) == before


def test_zip_slip_inside_a_solution_is_refused(tmp_path: Path) -> None:
    evil = raw_zip([*connector_solution().items(), ("Connector/../../../evil.txt", b"x")])
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": evil})
    before = snapshot(tmp_path)
    with pytest.raises(InputError) as caught:
        check_package(path)
    message = str(caught.value)
    assert message.startswith(f"{assets_path(path)}/ConnectorSolution.zip: entry 'Connector/../../../evil.txt'")
    assert snapshot(tmp_path) == before


def test_nested_zip_bomb_is_refused(tmp_path: Path) -> None:
    bomb = raw_zip([*flow_solution().items(), ("Workflows/huge.json", b"\0" * (8 * 1024 * 1024))])
    assert len(bomb) < 100_000
    path = broken_package(tmp_path, **{"FlowSolution.zip": bomb})
    with pytest.raises(InputError, match=r"FlowSolution\.zip: entry 'Workflows/huge\.json': compression ratio"):
        check_package(path)


# --------------------------------------------------------------------------- rules and the CLI


def test_package_rules_are_registered_as_they_are_reported() -> None:
    registered = {r.id: r for r in REGISTRY if r.on is On.CERTIFICATION_PACKAGE}
    assert set(registered) == set(packagecheck.RULES)
    for rule_id, rule in packagecheck.RULES.items():
        entry = registered[rule_id]
        assert (entry.severity, entry.message, entry.category) == (rule.severity, rule.message, Category.PACKAGE)


def test_cli_package_json(tmp_path: Path, cli: Callable[..., Run]) -> None:
    good = cli("validate", "--package", good_package(tmp_path), "--profile", "custom", "--format", "json")
    assert good.exit_code == 0, good.stdout + good.stderr
    report = json.loads(good.stdout)
    assert report["summary"]["errors"] == 0
    assert report["results"][0]["target"].endswith("cert.zip")
    bad = flow_solution()
    del bad["[Content_Types].xml"]
    (tmp_path / "bad").mkdir()
    path = broken_package(tmp_path / "bad", **{"FlowSolution.zip": bad})
    run = cli("validate", "--package", path, "--format", "json")
    assert run.exit_code == 1
    (finding,) = [f for f in json.loads(run.stdout)["results"][0]["findings"] if f["rule"] == "SolutionFilesMissing"]
    assert finding["severity"] == "error"
    assert finding["message"].startswith("The solution zip file 'FlowSolution.zip' in ")


def test_cli_text_ends_with_the_scripts_verdict(tmp_path: Path, cli: Callable[..., Run]) -> None:
    good = cli("validate", "--package", good_package(tmp_path), "--select", "package")
    assert good.exit_code == 0 and good.stdout.rstrip().endswith(SUCCESS_LINE)
    path = certification(tmp_path, {"intro.md": INTRO})
    run = cli("validate", "--package", path)
    assert run.exit_code == 1
    assert "The package zip file is missing." in run.stdout
    assert run.stdout.rstrip().endswith(FAILURE_LINE)


def test_cli_sarif_carries_the_rule(tmp_path: Path, cli: Callable[..., Run]) -> None:
    path = certification(tmp_path, {"intro.md": INTRO, "package.zip": package_zip(solutions()), "x/y": b""})
    run = cli("validate", "--package", path, "--format", "sarif")
    assert run.exit_code == 1
    driver = json.loads(run.stdout)["runs"][0]["tool"]["driver"]
    assert "PackageRootHasFolder" in [r["id"] for r in driver["rules"]]


def test_cli_ignore_applies_to_package_rules(tmp_path: Path, cli: Callable[..., Run]) -> None:
    path = broken_package(tmp_path, **{"ConnectorSolution.zip": connector_solution(managed=True)})
    run = cli("validate", "--package", path, "--select", "package", "--ignore", "SolutionManaged", "-f", "json")
    assert run.exit_code == 0 and json.loads(run.stdout)["results"][0]["findings"] == []


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--package", "{zip}", "{dir}"), "give either connector PATHs or --package FILE.zip, not both"),
        ((), "give connector PATHs to validate, or --package FILE.zip"),
        (("--ai-plugin", "{dir}"), "--ai-plugin: only with --package FILE.zip"),
        (("--package", "{dir}/missing.zip"), "missing.zip: no such file"),
    ],
)
def test_cli_usage_errors(tmp_path: Path, cli: Callable[..., Run], args: tuple[str, ...], needle: str) -> None:
    good = good_package(tmp_path)
    run = cli("validate", *(a.format(zip=good, dir=tmp_path) for a in args))
    assert run.exit_code == 2
    assert needle in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_cli_refuses_a_zip_bomb_in_one_line(tmp_path: Path, cli: Callable[..., Run]) -> None:
    bomb = raw_zip([("intro.md", INTRO), ("package.zip", b"\0" * (4 * 1024 * 1024))])
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb)
    run = cli("validate", "--package", path)
    assert run.exit_code == 2
    assert "zip bomb" in run.stderr and len(run.stderr.strip().splitlines()) == 1
