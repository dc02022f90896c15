"""Dataverse solution zips: build, unpack, round trip over the corpus, XML well-formedness, CLI."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectorkit.definition.package import ConnectorPackage
from connectorkit.errors import ConnectorkitError, InputError
from connectorkit.publish.solution import (
    build_solution,
    connector_id,
    file_stem,
    read_solution_info,
    unpack_solution,
)
from connectorkit.publish.zips import open_zip, zip_bytes

from conftest import CORPUS, Run, needs_corpus

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def _package(title: str = "Contoso Orders", **properties: Any) -> ConnectorPackage:
    definition = {
        "swagger": "2.0",
        "info": {"title": title, "description": "Manage Contoso orders.", "version": "1.0"},
        "host": "api.contoso.com",
        "paths": {"/orders": {"get": {"operationId": "ListOrders", "responses": {"200": {"description": "ok"}}}}},
    }
    props = {"connectionParameters": {"api_key": {"type": "securestring"}}, "iconBrandColor": "#0F6CBD"} | properties
    return ConnectorPackage(definition=definition, api_properties={"properties": props})


def _xml(data: bytes, name: str) -> ET.Element:
    with open_zip(data, source="s.zip") as archive:
        return ET.fromstring(archive.read(name))


def _ordered(value: Any) -> str:
    """Equality that also sees key order."""
    return json.dumps(value, ensure_ascii=False)


def _check_consistent(data: bytes) -> None:
    """The three XML files parse, and customizations.xml, solution.xml and the Connector/ files agree."""
    with open_zip(data, source="s.zip") as archive:
        names = archive.names()
        assert names[0] == "[Content_Types].xml"
        types = ET.fromstring(archive.read("[Content_Types].xml"))
        extensions = {d.get("Extension") for d in types}
        assert extensions == {n.rsplit(".", 1)[-1].lower() for n in names}
        solution = ET.fromstring(archive.read("solution.xml"))
        entry = ET.fromstring(archive.read("customizations.xml")).find("Connectors/Connector")
        assert entry is not None
        name = entry.findtext("name")
        assert name is not None
        component = solution.find("SolutionManifest/RootComponents/RootComponent")
        assert component is not None and component.get("type") == "372"
        assert component.get("schemaName") == name
        assert component.get("id") == "{" + (entry.findtext("connectorid") or "") + "}"
        prefix = solution.findtext("SolutionManifest/Publisher/CustomizationPrefix")
        assert name.startswith(f"{prefix}_")
        referenced = {e.text.lstrip("/") for e in entry if (e.text or "").startswith("/Connector/")}
        connector_files = {n for n in names if n.startswith("Connector/") and not n.endswith("_apiproperties.json")}
        assert referenced == connector_files
        assert all(n.startswith(f"Connector/{file_stem(name)}_") for n in connector_files)
        assert json.loads(archive.read(f"Connector/{file_stem(name)}_openapidefinition.json"))


# building


def test_builds_the_documented_layout() -> None:
    package = _package(capabilities=["actions"], scriptOperations=["ListOrders"])
    package.icon = PNG
    package.script = "public class Script : ScriptBase { }\n"
    data = build_solution(package)
    _check_consistent(data)
    stem = "new_contosoorders"
    with open_zip(data, source="s.zip") as archive:
        assert sorted(archive.names()) == sorted([
            "[Content_Types].xml", "customizations.xml", "solution.xml",
            f"Connector/{stem}_openapidefinition.json", f"Connector/{stem}_connectionparameters.json",
            f"Connector/{stem}_policytemplateinstances.json", f"Connector/{stem}_iconblob.Png",
            f"Connector/{stem}_customcodeblobcontent.csx", f"Connector/{stem}_apiproperties.json",
        ])  # fmt: skip
        assert archive.read(f"Connector/{stem}_iconblob.Png") == PNG
        assert archive.read(f"Connector/{stem}_customcodeblobcontent.csx").decode() == package.script
        assert json.loads(archive.read(f"Connector/{stem}_policytemplateinstances.json")) == []
    entry = _xml(data, "customizations.xml").find("Connectors/Connector")
    assert entry is not None
    assert [e.tag for e in entry][:6] == ["connectorid", "description", "displayname", "iconbrandcolor", "name",
                                          "connectortype"]  # fmt: skip
    assert entry.findtext("connectorid") == connector_id(stem)
    assert entry.findtext("capabilities") == "118690005"
    assert entry.findtext("scriptoperations") == '["ListOrders"]'
    assert entry.findtext("connectortype") == "1"
    info = read_solution_info(data, source="s.zip")
    assert (info.unique_name, info.version, info.managed, info.publisher_prefix) == (
        "ContosoOrders", "1.0.0.0", False, "new")  # fmt: skip
    assert info.connector_name == stem
    assert info.root_components == [(372, connector_id(stem), stem)]


def test_options_managed_prefix_version_names() -> None:
    data = build_solution(
        _package(), managed=True, publisher_prefix="cr5f3", version="2.01.0.7", unique_name="My_Solution",
        publisher="Contoso Ltd.",
    )  # fmt: skip
    info = read_solution_info(data, source="s.zip")
    assert info.managed and info.version == "2.1.0.7" and info.unique_name == "My_Solution"
    assert (info.publisher_unique_name, info.publisher_display_name) == ("contosoltd", "Contoso Ltd.")
    assert info.connector_name == "cr5f3_contosoorders"
    assert _xml(data, "solution.xml").findtext("SolutionManifest/Managed") == "1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"version": "1.0.0"}, "--version '1.0.0': expected four"),
        ({"version": "1.a.0.0"}, "--version '1.a.0.0'"),
        ({"version": "1.0.0.99999999999"}, "at most 2147483647"),
        ({"publisher_prefix": "New"}, "--publisher-prefix 'New'"),
        ({"publisher_prefix": "a"}, "--publisher-prefix 'a'"),
        ({"publisher_prefix": "mscrmx"}, "not 'mscrm"),
        ({"unique_name": "has space"}, "--unique-name 'has space'"),
    ],
)
def test_bad_options_are_one_line_input_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        build_solution(_package(), **options)


def test_xml_escapes_names_and_keeps_non_ascii() -> None:
    title = "Tom & \"Jerry\" <Météo> 'quoted'"
    package = _package(title, publisher="R&D <Labs>")
    package.definition["info"]["description"] = 'Ünïcödé & <tags> ]]> "done"'
    data = build_solution(package)
    _check_consistent(data)
    entry = _xml(data, "customizations.xml").find("Connectors/Connector")
    assert entry is not None
    assert entry.findtext("displayname") == title
    assert entry.findtext("description") == package.definition["info"]["description"]
    info = read_solution_info(data, source="s.zip")
    assert info.unique_name == "TomJerryMeteoquoted" and info.display_name == title
    assert info.publisher_display_name == "R&D <Labs>" and info.publisher_unique_name == "rdlabs"
    assert info.connector_name == "new_tomjerrymeteoquoted"


def test_titles_that_cannot_name_a_solution_or_hold_in_xml() -> None:
    with pytest.raises(InputError, match="pass --unique-name"):
        build_solution(_package("日本語"))
    assert read_solution_info(build_solution(_package("日本語"), unique_name="Nihon"), source="s").connector_name == (
        "new_nihon"
    )
    with pytest.raises(InputError, match="control character"):
        build_solution(_package("bad\x07title"))
    assert read_solution_info(build_solution(_package("3M Tools")), source="s").unique_name == "Connector3MTools"


def test_file_names_are_encoded_as_the_platform_does() -> None:
    assert file_stem("new_orderadmin_connector") == "new_orderadmin-5fconnector"
    assert file_stem("mtc_mtc microsoft graph mail") == "mtc_mtc-20microsoft-20graph-20mail"
    assert file_stem("cr1_é") == "cr1_-c3-a9"


def test_same_package_same_bytes_and_the_id_follows_the_name() -> None:
    assert build_solution(_package()) == build_solution(_package())
    assert connector_id("new_a") == connector_id("new_a") != connector_id("new_b")


# unpacking and round trips


def _round_trip(package: ConnectorPackage, tmp_path: Path) -> tuple[bytes, ConnectorPackage, bytes]:
    first = build_solution(package)
    folder = unpack_solution(first, tmp_path / "unpacked")
    again = ConnectorPackage.load(folder)
    return first, again, build_solution(again)


def test_round_trip_with_icon_script_sets_and_odd_properties(tmp_path: Path) -> None:
    sets = {"uiDefinition": {"displayName": "How"}, "values": [{"name": "key", "parameters": {}}]}
    package = _package(
        capabilities=["Actions", "triggers"], publisher="Contoso", stackOwner="Contoso", connectionParameterSets=sets,
        scriptOperations=["ListOrders"], policyTemplateInstances=[{"templateId": "setheader", "parameters": {}}],
    )  # fmt: skip
    package.api_properties["properties"] = {"publisher": "Contoso"} | package.api_properties["properties"]
    package.icon = PNG
    package.script = "// script\n"
    first, again, second = _round_trip(package, tmp_path)
    assert first == second
    assert _ordered(again.definition) == _ordered(package.definition)
    assert _ordered(again.api_properties) == _ordered(package.api_properties)
    assert again.icon == PNG and again.script == "// script\n"
    assert sorted(p.name for p in (tmp_path / "unpacked").iterdir()) == [
        "apiDefinition.swagger.json", "apiProperties.json", "icon.png", "script.csx"]  # fmt: skip


def test_platform_files_win_over_the_kept_copy(tmp_path: Path) -> None:
    data = build_solution(_package(capabilities=["actions"], publisher="Contoso"))
    with open_zip(data, source="s.zip") as archive:
        files = {name: archive.read(name) for name in archive.names()}
    files["Connector/new_contosoorders_connectionparameters.json"] = b'{"token": {"type": "oauthSetting"}}'
    text = files["customizations.xml"].decode()
    files["customizations.xml"] = text.replace("<capabilities>118690005</capabilities>", "").encode()
    again = ConnectorPackage.load(unpack_solution(zip_bytes(files.items()), tmp_path / "out"))
    props = again.api_properties["properties"]
    assert props["connectionParameters"] == {"token": {"type": "oauthSetting"}}
    assert props["capabilities"] == [] and props["publisher"] == "Contoso"


def test_platform_only_solution_unpacks_from_the_columns(tmp_path: Path) -> None:
    data = build_solution(_package(capabilities=["actions"], publisher="Contoso"), extras=False)
    with open_zip(data, source="s.zip") as archive:
        assert not any(n.endswith("_apiproperties.json") for n in archive.names())
    again = ConnectorPackage.load(unpack_solution(data, tmp_path / "out"))
    assert again.api_properties == {"properties": {
        "connectionParameters": {"api_key": {"type": "securestring"}}, "iconBrandColor": "#0F6CBD",
        "capabilities": ["actions"]}}  # fmt: skip


ROUND_TRIP_OPTIONS: list[dict[str, Any]] = [
    {},
    {"publisher_prefix": "abc"},
    {"publisher_prefix": "cr5f3", "publisher": "Contoso Ltd.", "version": "2.0.1.0", "unique_name": "My_Solution"},
    {"managed": True, "publisher_prefix": "zz9", "unique_name": "_Other"},
]


@pytest.mark.parametrize("extras", [False, True], ids=["platform-only", "with-copy"])
@pytest.mark.parametrize("options", ROUND_TRIP_OPTIONS, ids=lambda o: ",".join(o) or "defaults")
def test_pack_unpack_pack_is_byte_identical_with_the_same_options(
    tmp_path: Path, options: dict[str, Any], extras: bool
) -> None:
    """docs/publish.md: pack -> unpack -> pack gives the same bytes with the same options, also without the
    apiProperties copy (--platform-only), which cannot carry apiProperties' publisher. Without the options the
    recorded identity gives the same bytes too (the managed flag apart, which is not an identity)."""
    package = _package(publisher="Contoso", stackOwner="Contoso Inc.")
    first = build_solution(package, extras=extras, **options)
    again = ConnectorPackage.load(unpack_solution(first, tmp_path / "back"))
    assert build_solution(again, extras=extras, **options) == first
    managed = {"managed": True} if options.get("managed") else {}
    assert build_solution(again, extras=extras, **managed) == first


def test_cli_platform_only_round_trip(cli: Callable[..., Run], tmp_path: Path) -> None:
    folder = _package(publisher="Contoso").save(tmp_path / "connector")
    options = ["--platform-only", "--publisher-prefix", "cr5f3"]
    assert cli("package", "solution", folder, "-o", tmp_path / "1.zip", *options).exit_code == 0
    assert cli("package", "unpack", tmp_path / "1.zip", "-o", tmp_path / "back").exit_code == 0
    recorded = json.loads((tmp_path / "back" / "settings.json").read_text())["dataverseSolution"]
    assert recorded == {"publisher": {"prefix": "cr5f3", "displayName": "Contoso"}}
    assert cli("package", "solution", tmp_path / "back", "-o", tmp_path / "2.zip", *options).exit_code == 0
    assert (tmp_path / "2.zip").read_bytes() == (tmp_path / "1.zip").read_bytes()
    info = read_solution_info(tmp_path / "2.zip", source="2.zip")
    assert (info.publisher_display_name, info.publisher_unique_name) == ("Contoso", "contoso")


def test_options_win_over_the_recorded_identity(tmp_path: Path) -> None:
    first = build_solution(_package(), publisher_prefix="abc", version="3.0.0.0", publisher="Fabrikam", extras=False)
    again = ConnectorPackage.load(unpack_solution(first, tmp_path / "back"))
    info = read_solution_info(build_solution(again, publisher_prefix="xyz", publisher="Other"), source="s")
    assert (info.connector_name, info.publisher_prefix, info.version) == ("xyz_contosoorders", "xyz", "3.0.0.0")
    assert (info.publisher_display_name, info.publisher_unique_name) == ("Other", "other")


def test_a_paconn_settings_file_changes_nothing() -> None:
    package = _package()
    package.settings = {"connectorId": "shared_new-5fcontosoorders-5f0123", "environment": "e1"}
    assert build_solution(package) == build_solution(_package())


@pytest.mark.parametrize(
    ("recorded", "message"),
    [
        ("text", "settings.json: dataverseSolution must be a JSON object"),
        ({"version": "1.0"}, "settings.json: dataverseSolution.version '1.0': expected four"),
        ({"version": 2}, "settings.json: dataverseSolution.version: expected a non-empty string"),
        ({"uniqueName": "has space"}, "settings.json: dataverseSolution.uniqueName 'has space'"),
        ({"publisher": {"prefix": "A"}}, "settings.json: dataverseSolution.publisher.prefix 'A'"),
        ({"publisher": {"uniqueName": "a-b"}}, "settings.json: dataverseSolution.publisher.uniqueName 'a-b'"),
        ({"publisher": "Contoso"}, "settings.json: dataverseSolution.publisher: expected a JSON object"),
        ({"connector": {"name": "../x_y"}}, "settings.json: dataverseSolution.connector.name '../x_y'"),
        ({"connector": {"name": "new_x", "id": "nope"}}, "settings.json: dataverseSolution.connector.id 'nope': not"),
        ({"displayName": "bell\x07"}, "settings.json: dataverseSolution.displayName: contains a control character"),
    ],
)
def test_a_bad_recorded_identity_is_a_one_line_error_naming_settings_json(recorded: Any, message: str) -> None:
    package = _package()
    package.settings = {"dataverseSolution": recorded}
    with pytest.raises(InputError, match="^" + re.escape(message)):
        build_solution(package)


# a solution exported from an environment (as /tmp/r2/foreign.zip): written by the platform, not by connectorkit

FOREIGN_NAME = "cr7a3_snow test_"
FOREIGN_ID = "e1ffbb3c-0acc-5917-a4fd-f5fcd6a1c964"
FOREIGN_STEM = "cr7a3_snow-20test-5f"
FOREIGN_SOLUTION = f"""<?xml version="1.0" encoding="utf-8"?>
<ImportExportXml xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="9.2" SolutionPackageVersion="9.2" \
languagecode="1033" generatedBy="CrmLive">
  <SolutionManifest>
    <UniqueName>ScriveeSign</UniqueName>
    <LocalizedNames>
      <LocalizedName description="Scrive eSign" languagecode="1033" />
    </LocalizedNames>
    <Descriptions />
    <Version>1.0.0.0</Version>
    <Managed>0</Managed>
    <Publisher>
      <UniqueName>scriveab</UniqueName>
      <LocalizedNames>
        <LocalizedName description="Scrive AB" languagecode="1033" />
      </LocalizedNames>
      <Descriptions />
      <EMailAddress xsi:nil="true" />
      <SupportingWebsiteUrl xsi:nil="true" />
      <CustomizationPrefix>new</CustomizationPrefix>
      <CustomizationOptionValuePrefix>10000</CustomizationOptionValuePrefix>
      <Addresses />
    </Publisher>
    <RootComponents>
      <RootComponent type="372" id="{{{FOREIGN_ID}}}" schemaName="{FOREIGN_NAME}" behavior="0" />
    </RootComponents>
    <MissingDependencies />
  </SolutionManifest>
</ImportExportXml>
"""
FOREIGN_CUSTOMIZATIONS = f"""<?xml version="1.0" encoding="utf-8"?>
<ImportExportXml xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Entities />
  <Roles />
  <Workflows />
  <FieldSecurityProfiles />
  <Templates />
  <EntityMaps />
  <EntityRelationships />
  <OrganizationSettings />
  <optionsets />
  <CustomControls />
  <EntityDataProviders />
  <Connectors>
    <Connector>
      <connectorid>{FOREIGN_ID}</connectorid>
      <description>Electronic signatures.</description>
      <displayname>Scrive eSign</displayname>
      <iconbrandcolor>#27282D</iconbrandcolor>
      <name>{FOREIGN_NAME}</name>
      <connectortype>1</connectortype>
      <openapidefinition>/Connector/{FOREIGN_STEM}_openapidefinition.json</openapidefinition>
      <connectionparameters>/Connector/{FOREIGN_STEM}_connectionparameters.json</connectionparameters>
      <policytemplateinstances>/Connector/{FOREIGN_STEM}_policytemplateinstances.json</policytemplateinstances>
      <iconblob>/Connector/{FOREIGN_STEM}_iconblob.Png</iconblob>
      <capabilities>118690005</capabilities>
      <scriptoperations>[]</scriptoperations>
    </Connector>
  </Connectors>
  <Languages>
    <Language>1033</Language>
  </Languages>
</ImportExportXml>
"""


def _foreign_zip() -> bytes:
    """A platform export's shape: dated entries, its own order, a logical name that is not the title's, a
    connectorid that is not connectorkit's name-based one."""
    definition = {
        "swagger": "2.0",
        "info": {"title": "Scrive eSign", "description": "Electronic signatures.", "version": "1.0"},
        "host": "scrive.com",
        "paths": {"/documents": {"get": {"operationId": "List", "responses": {"200": {"description": "ok"}}}}},
    }
    entries = {
        "[Content_Types].xml": b'<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats'
        b'.org/package/2006/content-types"><Default Extension="xml" ContentType="application/octet-stream" />'
        b'<Default Extension="json" ContentType="application/octet-stream" /></Types>',
        f"Connector/{FOREIGN_STEM}_connectionparameters.json": b'{"api_key": {"type": "securestring"}}',
        f"Connector/{FOREIGN_STEM}_iconblob.Png": PNG,
        f"Connector/{FOREIGN_STEM}_openapidefinition.json": json.dumps(definition).encode(),
        f"Connector/{FOREIGN_STEM}_policytemplateinstances.json": b"[]",
        "customizations.xml": FOREIGN_CUSTOMIZATIONS.encode(),
        "solution.xml": FOREIGN_SOLUTION.encode(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 22, 2, 58, 0)), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def test_a_platform_export_keeps_its_connector_identity_through_unpack_and_pack(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    foreign = tmp_path / "export.zip"
    foreign.write_bytes(_foreign_zip())
    assert connector_id(FOREIGN_NAME) != FOREIGN_ID  # not a name connectorkit would derive, nor its id
    run = cli("package", "unpack", foreign, "-o", tmp_path / "back")
    assert run.exit_code == 0, run.stderr
    recorded = json.loads((tmp_path / "back" / "settings.json").read_text())
    assert recorded == {"dataverseSolution": {"publisher": {"displayName": "Scrive AB"},
                                              "connector": {"name": FOREIGN_NAME, "id": FOREIGN_ID}}}  # fmt: skip
    run = cli("package", "solution", tmp_path / "back", "-o", tmp_path / "again.zip", "--platform-only")
    assert run.exit_code == 0, run.stderr
    again = (tmp_path / "again.zip").read_bytes()
    info = read_solution_info(again, source="again.zip")
    assert info.root_components == [(372, FOREIGN_ID, FOREIGN_NAME)]
    entry = _xml(again, "customizations.xml").find("Connectors/Connector")
    assert entry is not None
    assert (entry.findtext("name"), entry.findtext("connectorid")) == (FOREIGN_NAME, FOREIGN_ID)
    with open_zip(again, source="again.zip") as archive:
        assert archive.read("solution.xml").decode() == FOREIGN_SOLUTION
        assert archive.read("customizations.xml").decode() == FOREIGN_CUSTOMIZATIONS
        assert sorted(n for n in archive.names() if n.startswith("Connector/")) == [
            f"Connector/{FOREIGN_STEM}_{suffix}" for suffix in ("connectionparameters.json", "iconblob.Png",
                                                               "openapidefinition.json", "policytemplateinstances.json")
        ]  # fmt: skip
    # a different --publisher-prefix changes the publisher, not the connector being updated
    other = read_solution_info(build_solution(ConnectorPackage.load(tmp_path / "back"), publisher_prefix="cr5f3"),
                               source="s")  # fmt: skip
    assert other.root_components == [(372, FOREIGN_ID, FOREIGN_NAME)] and other.publisher_prefix == "cr5f3"


def test_unpack_refuses_bad_zips_and_writes_nothing(tmp_path: Path) -> None:
    good = build_solution(_package())
    with open_zip(good, source="s.zip") as archive:
        files = {name: archive.read(name) for name in archive.names()}
    cases = {
        "no customizations.xml": ({k: v for k, v in files.items() if k != "customizations.xml"}, "no customizations"),
        "dangling": (
            files
            | {"customizations.xml": files["customizations.xml"].replace(b"_openapidefinition.json", b"_missing.json")},
            "which is not in the zip",
        ),
        "doctype": (files | {"customizations.xml": b'<!DOCTYPE x [<!ENTITY a "b">]><x/>'}, "not allowed"),
        "broken xml": (files | {"customizations.xml": b"<ImportExportXml><Connectors>"}, "not well-formed XML"),
        "bad json": (files | {"Connector/new_contosoorders_openapidefinition.json": b"{"}, "not valid JSON"),
    }
    for label, (entries, message) in cases.items():
        with pytest.raises(InputError, match=message):
            unpack_solution(zip_bytes(entries.items()), tmp_path / "out")
        assert list(tmp_path.iterdir()) == [], label
    slip = bytearray(good)
    at = slip.index(b"Connector/new_contosoorders_apiproperties.json", slip.index(b"PK\x01\x02"))
    slip[at : at + 10] = b"../../../x"
    with pytest.raises(InputError, match="is not a relative path"):
        unpack_solution(bytes(slip), tmp_path / "out")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep")
    with pytest.raises(InputError, match="not an empty folder"):
        unpack_solution(good, tmp_path / "full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def _corpus_packages() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*/*") if p.is_dir()) if CORPUS.is_dir() else []


@needs_corpus
def test_every_loadable_corpus_connector_round_trips(tmp_path: Path) -> None:
    built = skipped = 0
    for folder in _corpus_packages():
        try:
            package = ConnectorPackage.load(folder)
            first = build_solution(package)
        except ConnectorkitError:
            skipped += 1  # does not load, or has no usable title: refused with a one-line error
            continue
        _check_consistent(first)
        target = tmp_path / folder.name
        again = ConnectorPackage.load(unpack_solution(first, target))
        assert _ordered(again.definition) == _ordered(package.definition), folder
        assert _ordered(again.api_properties) == _ordered(package.api_properties), folder
        assert again.icon == package.icon and again.script == package.script, folder
        assert build_solution(again) == first, folder
        built += 1
    assert built >= 140, (built, skipped)


# CLI


def test_cli_solution_and_unpack(cli: Callable[..., Run], tmp_path: Path) -> None:
    folder = _package().save(tmp_path / "connector")
    out = tmp_path / "s.zip"
    run = cli("package", "solution", folder, "-o", out, "--publisher-prefix", "cr5f3", "--version", "1.2.3.4",
              "--format", "json")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["connector"] == "cr5f3_contosoorders" and summary["version"] == "1.2.3.4"
    assert summary["bytes"] == out.stat().st_size and summary["managed"] is False
    text = cli("package", "solution", folder, "-o", tmp_path / "m.zip", "--managed")
    assert text.exit_code == 0 and "managed solution ContosoOrders 1.0.0.0" in text.stdout
    run = cli("package", "unpack", out, "-o", tmp_path / "back", "-f", "json")
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["files"] == ["apiDefinition.swagger.json", "apiProperties.json", "settings.json"]
    recorded = json.loads((tmp_path / "back" / "settings.json").read_text())
    assert recorded == {"dataverseSolution": {"publisher": {"prefix": "cr5f3"}, "version": "1.2.3.4"}}
    again = cli("package", "solution", tmp_path / "back", "-o", tmp_path / "again.zip")
    assert again.exit_code == 0, again.stderr
    assert (tmp_path / "again.zip").read_bytes() == out.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["package", "solution", "{tmp}/nope", "-o", "{tmp}/s.zip"], "no such connector folder"),
        (["package", "solution", "{folder}", "-o", "{tmp}/s.zip", "--version", "1"], "--version '1'"),
        (["package", "solution", "{folder}", "-o", "{folder}/apiProperties.json/s.zip"], "cannot create folder"),
        (["package", "unpack", "{tmp}/nope.zip", "-o", "{tmp}/out"], "no such file"),
        (["package", "unpack", "{folder}/apiProperties.json", "-o", "{tmp}/out"], "not a zip file"),
        (["package", "unpack", "{tmp}/s.zip", "-o", "{folder}"], "not an empty folder"),
    ],
)
def test_cli_errors_are_one_line(cli: Callable[..., Run], tmp_path: Path, args: list[str], message: str) -> None:
    folder = _package().save(tmp_path / "connector")
    (tmp_path / "s.zip").write_bytes(build_solution(_package()))
    run = cli(*(a.format(tmp=tmp_path, folder=folder) for a in args))
    assert run.exit_code == 2
    assert message in run.stderr and run.stderr.count("\n") == 1 and run.stderr.startswith("error: ")
    assert not (tmp_path / "out").exists()


def test_cli_output_creates_missing_folders(cli: Callable[..., Run], tmp_path: Path) -> None:
    """Like unpack and submission, solution creates the folders its --output needs."""
    folder = _package().save(tmp_path / "connector")
    out = tmp_path / "missing" / "dir" / "s.zip"
    run = cli("package", "solution", folder, "-o", out)
    assert run.exit_code == 0, run.stderr
    assert out.read_bytes() == build_solution(_package())
    unpacked = tmp_path / "a" / "b" / "c"
    assert cli("package", "unpack", out, "-o", unpacked).exit_code == 0
    assert (unpacked / "apiDefinition.swagger.json").is_file()


def test_cli_help_documents_every_option(cli: Callable[..., Run]) -> None:
    text = cli("package", "solution", "--help").stdout
    for option in ("--output", "--managed", "--publisher-prefix", "--publisher-name", "--version", "--unique-name",
                   "--platform-only", "--format"):  # fmt: skip
        assert option in text
    assert "--output" in cli("package", "unpack", "--help").stdout
