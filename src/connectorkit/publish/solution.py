"""Dataverse solution zips holding one custom connector, and back (``cloud-apis.md`` D.1, C.3).

A solution is how a connector moves between environments and how certification receives it. The zip
holds ``[Content_Types].xml``, ``solution.xml`` (unique name, version, publisher, ``<Managed>``, one root
component of type 372 = Connector), ``customizations.xml`` whose ``<Connectors>`` entry has one element
per ``connector`` table column, and the column values too large for XML under ``Connector/``:
``<name>_openapidefinition.json``, ``_connectionparameters.json``, ``_connectionparametersets.json``
(multi-auth only), ``_policytemplateinstances.json``, ``_iconblob.Png`` (the PNG bytes) and
``_customcodeblobcontent.csx`` (the script text).

Decisions where the reference leaves room (Gaps 6, 7):

- the publisher prefix defaults to ``new``, the prefix ``pac connector create`` is reported to use;
- the connector's logical name is ``<prefix>_<title letters and digits, lower case>`` (as ``deploy
  --env`` names Dataverse rows), and file names encode the part after the prefix the way the platform
  does (anything but ASCII letters and digits becomes ``-xx``, e.g. ``_`` -> ``-5f``, space -> ``-20``);
- ``connectorid`` is a name-based UUID of the logical name, so rebuilding gives the same bytes and a
  re-import updates the same connector;
- ``capabilities`` is the multi-select column's comma-separated option values (``actions`` ->
  118690005), ``scriptoperations`` the JSON array text, as the Web API takes them (C.3);
- everything the ``connector`` table has no column for (``publisher``, ``stackOwner``, capability
  spellings with no option value, other keys, the author's key order) would be lost, so the builder
  also stores the whole ``apiProperties.json`` as ``Connector/<name>_apiproperties.json`` unless told
  not to (``extras=False``). The platform's files stay authoritative on unpack; the copy only supplies
  what they cannot carry. Unreferenced by ``customizations.xml``, it is not read by an import. Packages
  handed to the platform's checks (certification, AppSource) are built without it;
- unpacking records in the folder's ``settings.json``, under ``dataverseSolution``, whatever of the
  solution's identity the connector files would not give again (unique name, display name, version,
  publisher, and the connector's logical name and ``connectorid`` when they are not the derived ones, as
  in a platform export), and building takes each from there when its option is not given: so
  ``pack -> unpack -> pack`` gives the same bytes with or without the copy, and a repack of a platform
  export updates the same connector.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectorkit.definition.jsontext import dump_bytes
from connectorkit.definition.package import DEFINITION, SETTINGS, ConnectorPackage
from connectorkit.errors import InputError
from connectorkit.publish.zips import CONTENT_TYPES, SafeZip, ZipLimits, open_zip, zip_bytes

CONNECTOR_COMPONENT_TYPE = 372
CUSTOM_CONNECTOR_TYPE = 1
DEFAULT_PREFIX = "new"
DEFAULT_VERSION = "1.0.0.0"
OPTION_VALUE_PREFIX = 10000
LANGUAGE = "1033"
SOLUTION_XML = "solution.xml"
CUSTOMIZATIONS_XML = "customizations.xml"
CONNECTOR_FOLDER = "Connector"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

CAPABILITY_VALUES = {
    "composite": 118690000,
    "tabular": 118690001,
    "blob": 118690002,
    "gateway": 118690003,
    "cloud": 118690004,
    "actions": 118690005,
}
_CAPABILITY_NAMES = {value: name for name, value in CAPABILITY_VALUES.items()}
_CONTENT_TYPE_ORDER = ("xml", "json", "png", "csx")
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://connectorkit.dev/dataverse/connector")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PREFIX = re.compile(r"[a-z][a-z0-9]{1,7}")
_UNIQUE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,64}")
_MAX_VERSION_PART = 2**31 - 1
_LOGICAL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*_[^/\\]+")
SETTINGS_KEY = "dataverseSolution"
"""The ``settings.json`` key under which ``package unpack`` records the solution's identity."""

ET.register_namespace("xsi", XSI)


@dataclass(frozen=True)
class SolutionInfo:
    """What ``solution.xml`` says about a solution (and the connector it carries, when it carries one)."""

    unique_name: str
    display_name: str
    version: str
    managed: bool
    publisher_unique_name: str
    publisher_display_name: str
    publisher_prefix: str
    root_components: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def connector_name(self) -> str | None:
        """The logical name of the first connector root component (type 372)."""
        return next((schema for kind, _, schema in self.root_components if kind == CONNECTOR_COMPONENT_TYPE), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "uniqueName": self.unique_name,
            "displayName": self.display_name,
            "version": self.version,
            "managed": self.managed,
            "publisher": {
                "uniqueName": self.publisher_unique_name,
                "displayName": self.publisher_display_name,
                "prefix": self.publisher_prefix,
            },
            "connector": self.connector_name,
            "rootComponents": [{"type": t, "id": i, "schemaName": s} for t, i, s in self.root_components],
        }


# names


def _ascii_alnum(text: str) -> str:
    """Letters and digits of ``text`` with accents dropped (``Météo & Co`` -> ``MeteoCo``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if char.isascii() and char.isalnum())


def encode_name_part(text: str) -> str:
    """The platform's file-name encoding of a logical name's part after the prefix: ASCII letters and
    digits stay, every other byte of the UTF-8 text becomes ``-xx`` (``_`` -> ``-5f``, space -> ``-20``)."""
    return "".join(
        chr(byte) if chr(byte).isascii() and chr(byte).isalnum() else f"-{byte:02x}" for byte in text.encode()
    )


def file_stem(logical_name: str) -> str:
    """The ``<name>`` part of ``Connector/<name>_openapidefinition.json``: the prefix separator stays."""
    prefix, sep, rest = logical_name.partition("_")
    return f"{prefix}{sep}{encode_name_part(rest)}" if sep else encode_name_part(logical_name)


def connector_id(logical_name: str) -> str:
    """A stable ``connectorid`` for a logical name (same name, same id: re-import updates in place)."""
    return str(uuid.uuid5(_ID_NAMESPACE, logical_name.lower()))


def check_prefix(prefix: str, what: str = "--publisher-prefix") -> str:
    if not _PREFIX.fullmatch(prefix) or prefix.startswith("mscrm"):
        raise InputError(f"{what} {prefix!r}: 2-8 lower-case letters or digits starting with a letter, not 'mscrm…'")
    return prefix


def check_version(version: str, what: str = "--version") -> str:
    """Four dot-separated whole numbers (major.minor.build.revision), written without leading zeros."""
    parts = version.split(".")
    if len(parts) != 4 or not all(part.isascii() and part.isdigit() for part in parts):
        raise InputError(f"{what} {version!r}: expected four dot-separated whole numbers, such as 1.0.0.0")
    numbers = [int(part) for part in parts]
    if any(number > _MAX_VERSION_PART for number in numbers):
        raise InputError(f"{what} {version!r}: each number must be at most {_MAX_VERSION_PART}")
    return ".".join(str(number) for number in numbers)


def check_unique_name(name: str, what: str = "--unique-name") -> str:
    if not _UNIQUE_NAME.fullmatch(name):
        raise InputError(f"{what} {name!r}: letters, digits and '_' only, starting with a letter or '_', at most 65")
    return name


def _xml_text(value: str, what: str) -> str:
    if _XML_INVALID.search(value):
        raise InputError(f"{what}: contains a control character that XML cannot hold")
    return value


# building


@dataclass(frozen=True)
class _Connector:
    """The connector's column values, from the package."""

    title: str
    description: str | None
    brand_color: str | None
    properties: dict[str, Any]


def _connector(package: ConnectorPackage) -> _Connector:
    where = package.name_of(DEFINITION)
    info = package.definition.get("info")
    info = info if isinstance(info, dict) else {}
    title = info.get("title")
    if not isinstance(title, str) or not title.strip():
        raise InputError(f"{where}: info.title is required to name the connector in a solution")
    description = info.get("description")
    if description is not None and not isinstance(description, str):
        raise InputError(f"{where}: info.description must be a string")
    raw = package.api_properties.get("properties")
    properties: dict[str, Any] = raw if isinstance(raw, dict) else {}
    color = properties.get("iconBrandColor")
    return _Connector(
        title=_xml_text(title, f"{where}: info.title"),
        description=_xml_text(description, f"{where}: info.description") if description is not None else None,
        brand_color=_xml_text(str(color), "apiProperties.json: iconBrandColor") if color else None,
        properties=properties,
    )


def _capability_values(capabilities: Any) -> list[int]:
    """The option values of the capabilities that have one, in option order (a set: order is not kept)."""
    if not isinstance(capabilities, list):
        return []
    values = {CAPABILITY_VALUES[c.strip().lower()] for c in capabilities if isinstance(c, str)
              if c.strip().lower() in CAPABILITY_VALUES}  # fmt: skip
    return sorted(values)


def _json_bytes(value: Any) -> bytes:
    return dump_bytes(value)


def xml_element(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    """A child element with optional text: the one way the solution, certification and AppSource
    writers build their XML, so the three packages stay alike."""
    child = ET.SubElement(parent, tag, attributes)
    if text is not None:
        child.text = text
    return child


def xml_document(root: ET.Element) -> bytes:
    """The document as the Power Platform tools write it: UTF-8 declaration, two-space indent, final newline."""
    ET.indent(root, space="  ")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n").encode()


def _connector_files(
    connector: _Connector, package: ConnectorPackage, stem: str, extras: bool
) -> tuple[dict[str, str], dict[str, bytes]]:
    """The ``Connector/`` files and, per customizations.xml element, the path it points to."""
    props = connector.properties
    files: dict[str, bytes] = {}
    refs: dict[str, str] = {}

    def add(column: str, suffix: str, data: bytes) -> None:
        name = f"{CONNECTOR_FOLDER}/{stem}_{suffix}"
        files[name] = data
        refs[column] = f"/{name}"

    add("openapidefinition", "openapidefinition.json", _json_bytes(package.definition))
    add("connectionparameters", "connectionparameters.json", _json_bytes(props.get("connectionParameters") or {}))
    if props.get("connectionParameterSets") is not None:
        add("connectionparametersets", "connectionparametersets.json", _json_bytes(props["connectionParameterSets"]))
    add(
        "policytemplateinstances",
        "policytemplateinstances.json",
        _json_bytes(props.get("policyTemplateInstances") or []),
    )
    if package.icon is not None:
        add("iconblob", "iconblob.Png", package.icon)
    if package.script is not None:
        add("customcodeblobcontent", "customcodeblobcontent.csx", package.script.encode())
    if extras:
        files[f"{CONNECTOR_FOLDER}/{stem}_apiproperties.json"] = _json_bytes(package.api_properties)
    return refs, files


def _customizations(connector: _Connector, logical_name: str, connector_guid: str, refs: dict[str, str]) -> bytes:
    # Declared as the platform writes it, although nothing in this document uses the prefix.
    root = ET.Element("ImportExportXml", {"xmlns:xsi": XSI})
    for tag in ("Entities", "Roles", "Workflows", "FieldSecurityProfiles", "Templates", "EntityMaps",
                "EntityRelationships", "OrganizationSettings", "optionsets", "CustomControls",
                "EntityDataProviders"):  # fmt: skip
        xml_element(root, tag)
    entry = xml_element(xml_element(root, "Connectors"), "Connector")
    xml_element(entry, "connectorid", connector_guid)
    if connector.description is not None:
        xml_element(entry, "description", connector.description)
    xml_element(entry, "displayname", connector.title)
    if connector.brand_color:
        xml_element(entry, "iconbrandcolor", connector.brand_color)
    xml_element(entry, "name", logical_name)
    xml_element(entry, "connectortype", str(CUSTOM_CONNECTOR_TYPE))
    for column in ("openapidefinition", "connectionparameters", "connectionparametersets",
                   "policytemplateinstances", "iconblob", "customcodeblobcontent"):  # fmt: skip
        if column in refs:
            xml_element(entry, column, refs[column])
    values = _capability_values(connector.properties.get("capabilities"))
    if values:
        xml_element(entry, "capabilities", ",".join(str(v) for v in values))
    operations = connector.properties.get("scriptOperations")
    if operations is not None:
        text = json.dumps(operations, ensure_ascii=False, separators=(",", ":"))
        xml_element(entry, "scriptoperations", _xml_text(text, "apiProperties.json: scriptOperations"))
    xml_element(xml_element(root, "Languages"), "Language", LANGUAGE)
    return xml_document(root)


@dataclass(frozen=True)
class _Publisher:
    unique_name: str
    display_name: str
    prefix: str


@dataclass(frozen=True)
class _Identity:
    """Who the solution and its connector are: what solution.xml and the ``<Connector>`` entry name."""

    unique_name: str
    display_name: str
    version: str
    publisher: _Publisher
    logical_name: str
    connector_id: str


@dataclass(frozen=True)
class _Recorded:
    """``settings.json``'s :data:`SETTINGS_KEY` entry: the identity of the solution a folder was unpacked from,
    as far as the connector files would not give it again (:func:`recorded_identity`). Checked on reading:
    the file is the user's to edit."""

    values: dict[str, Any]
    file: str

    @classmethod
    def of(cls, package: ConnectorPackage) -> _Recorded:
        file = package.name_of(SETTINGS)
        entry = (package.settings or {}).get(SETTINGS_KEY)
        if entry is not None and not isinstance(entry, dict):
            raise InputError(f"{file}: {SETTINGS_KEY} must be a JSON object")
        return cls(entry or {}, file)

    def what(self, *path: str) -> str:
        return f"{self.file}: {'.'.join((SETTINGS_KEY, *path))}"

    def text(self, *path: str) -> str | None:
        value: Any = self.values
        for depth, key in enumerate(path):
            if value is None:
                return None
            if not isinstance(value, dict):
                raise InputError(f"{self.what(*path[:depth])}: expected a JSON object")
            value = value.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{self.what(*path)}: expected a non-empty string")
        return _xml_text(value, self.what(*path))


def _publisher(prefix: str, name: str | None, connector: _Connector, recorded: _Recorded) -> _Publisher:
    """``--publisher-name``, else the recorded publisher (with its unique name), else apiProperties' ``publisher``,
    else the prefix; a unique name not recorded is the display name's letters and digits."""
    kept_name = recorded.text("publisher", "displayName") if name is None else None
    declared = connector.properties.get("publisher")
    if name is not None:
        display, what = name, "--publisher-name"
    elif kept_name is not None:
        display, what = kept_name, recorded.what("publisher", "displayName")
    elif isinstance(declared, str) and declared.strip():
        display, what = declared, "apiProperties.json: publisher"
    else:
        display, what = prefix, "--publisher-prefix"
    kept_unique = recorded.text("publisher", "uniqueName") if name is None else None
    if kept_unique is not None:
        return _Publisher(check_unique_name(kept_unique, recorded.what("publisher", "uniqueName")), display, prefix)
    unique = _ascii_alnum(_xml_text(display, what)).lower()
    if not unique or not unique[0].isalpha():
        unique = f"{prefix}{unique}"
    return _Publisher(unique_name=unique[:64], display_name=display, prefix=prefix)


def _connector_name(recorded: _Recorded, derived: str) -> tuple[str, str]:
    """The recorded logical name and connectorid when there are, else ``derived`` and its name-based id."""
    name = recorded.text("connector", "name")
    if name is None:
        return derived, connector_id(derived)
    if not _LOGICAL_NAME.fullmatch(name):
        raise InputError(f"{recorded.what('connector', 'name')} {name!r}: expected <prefix>_<name>, the prefix "
                         "letters and digits")  # fmt: skip
    guid = recorded.text("connector", "id")
    return name, check_guid(guid, recorded.what("connector", "id")) if guid is not None else connector_id(name)


def check_guid(value: str, what: str) -> str:
    """A GUID, written as Dataverse writes ``connectorid`` (lower case, no braces)."""
    try:
        return str(uuid.UUID(value.strip().strip("{}")))
    except ValueError:
        raise InputError(f"{what} {value!r}: not a GUID") from None


def _identity(
    connector: _Connector,
    recorded: _Recorded,
    *,
    publisher_prefix: str | None,
    version: str | None,
    unique_name: str | None,
    publisher: str | None,
) -> _Identity:
    """Each part from its option when given, else from the recorded identity, else derived from the connector."""
    kept_prefix = recorded.text("publisher", "prefix")
    if publisher_prefix is not None:
        prefix = check_prefix(publisher_prefix)
    else:
        prefix = check_prefix(kept_prefix, recorded.what("publisher", "prefix")) if kept_prefix else DEFAULT_PREFIX
    kept_version = recorded.text("version")
    if version is not None:
        version = check_version(version)
    else:
        version = check_version(kept_version, recorded.what("version")) if kept_version else DEFAULT_VERSION
    letters = _ascii_alnum(connector.title)
    kept_unique = recorded.text("uniqueName")
    if unique_name is not None:
        solution_name = check_unique_name(unique_name)
    elif kept_unique is not None:
        solution_name = check_unique_name(kept_unique, recorded.what("uniqueName"))
    elif letters:
        solution_name = letters if letters[0].isalpha() else f"Connector{letters}"
        solution_name = solution_name[:65]
    else:
        raise InputError(f"info.title {connector.title!r} has no ASCII letters or digits to name the solution by; "
                         "pass --unique-name")  # fmt: skip
    slug = (letters or _ascii_alnum(solution_name)).lower()
    logical_name, guid = _connector_name(recorded, f"{prefix}_{slug}")
    return _Identity(
        unique_name=solution_name,
        display_name=recorded.text("displayName") or connector.title,
        version=version,
        publisher=_publisher(prefix, publisher, connector, recorded),
        logical_name=logical_name,
        connector_id=guid,
    )


def _solution_xml(identity: _Identity, *, managed: bool) -> bytes:
    root = ET.Element(
        "ImportExportXml",
        {"version": "9.2", "SolutionPackageVersion": "9.2", "languagecode": LANGUAGE, "generatedBy": "CrmLive"},
    )
    manifest = xml_element(root, "SolutionManifest")
    xml_element(manifest, "UniqueName", identity.unique_name)
    names = xml_element(manifest, "LocalizedNames")
    xml_element(names, "LocalizedName", description=identity.display_name, languagecode=LANGUAGE)
    xml_element(manifest, "Descriptions")
    xml_element(manifest, "Version", identity.version)
    xml_element(manifest, "Managed", "1" if managed else "0")
    publisher = identity.publisher
    pub = xml_element(manifest, "Publisher")
    xml_element(pub, "UniqueName", publisher.unique_name)
    xml_element(xml_element(pub, "LocalizedNames"), "LocalizedName", description=publisher.display_name,
             languagecode=LANGUAGE)  # fmt: skip
    xml_element(pub, "Descriptions")
    xml_element(pub, "EMailAddress", "", **{f"{{{XSI}}}nil": "true"})
    xml_element(pub, "SupportingWebsiteUrl", "", **{f"{{{XSI}}}nil": "true"})
    xml_element(pub, "CustomizationPrefix", publisher.prefix)
    xml_element(pub, "CustomizationOptionValuePrefix", str(OPTION_VALUE_PREFIX))
    xml_element(pub, "Addresses")
    components = xml_element(manifest, "RootComponents")
    xml_element(components, "RootComponent", type=str(CONNECTOR_COMPONENT_TYPE),
             id=f"{{{identity.connector_id}}}", schemaName=identity.logical_name, behavior="0")  # fmt: skip
    xml_element(manifest, "MissingDependencies")
    return xml_document(root)


def _content_types(names: list[str]) -> bytes:
    present = {name.rsplit(".", 1)[-1].lower() for name in names if "." in name} | {"xml"}
    root = ET.Element("Types", {"xmlns": CONTENT_TYPES_NS})
    for extension in _CONTENT_TYPE_ORDER:
        if extension in present:
            xml_element(root, "Default", Extension=extension, ContentType="application/octet-stream")
    return xml_document(root)


def build_solution(
    package: ConnectorPackage,
    *,
    managed: bool = False,
    publisher_prefix: str | None = None,
    version: str | None = None,
    unique_name: str | None = None,
    publisher: str | None = None,
    extras: bool = True,
) -> bytes:
    """The solution zip of ``package`` (unmanaged unless ``managed``), byte-identical for the same input.

    Options left at None come from the identity ``package unpack`` recorded in settings.json (module
    docstring), else: the prefix ``new``, version 1.0.0.0, the unique name from the title's letters and
    digits, the publisher's display name from apiProperties' ``publisher`` (else the prefix), its unique
    name from the display name's letters and digits. ``extras`` keeps connectorkit's copy of
    apiProperties.json (module docstring)."""
    connector = _connector(package)
    identity = _identity(
        connector,
        _Recorded.of(package),
        publisher_prefix=publisher_prefix,
        version=version,
        unique_name=unique_name,
        publisher=publisher,
    )
    refs, connector_files = _connector_files(connector, package, file_stem(identity.logical_name), extras)
    entries = dict(connector_files)
    entries[CUSTOMIZATIONS_XML] = _customizations(connector, identity.logical_name, identity.connector_id, refs)
    entries[SOLUTION_XML] = _solution_xml(identity, managed=managed)
    entries[CONTENT_TYPES] = _content_types(list(entries))
    return zip_bytes(entries.items())


# reading


def parse_xml(data: bytes, source: str) -> ET.Element:
    """Untrusted XML (a solution, a certification package, an AppSource package): no DTDs at all, in
    any case (no entity tricks), then the standard parser; ``source`` names the file in the error."""
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise InputError(f"{source}: document type declarations are not allowed")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise InputError(f"{source}: not well-formed XML ({exc})") from None


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def parse_solution_xml(data: bytes, source: str) -> SolutionInfo:
    root = parse_xml(data, source)
    manifest = root.find("SolutionManifest")
    if manifest is None:
        raise InputError(f"{source}: no <SolutionManifest> (not a solution.xml)")
    publisher = manifest.find("Publisher")
    components: list[tuple[int, str, str]] = []
    for item in manifest.findall("RootComponents/RootComponent"):
        try:
            kind = int(item.get("type", ""))
        except ValueError:
            raise InputError(f"{source}: RootComponent type {item.get('type')!r} is not a number") from None
        components.append((kind, (item.get("id") or "").strip("{}"), item.get("schemaName") or ""))
    names = manifest.find("LocalizedNames/LocalizedName")
    pub_names = publisher.find("LocalizedNames/LocalizedName") if publisher is not None else None
    return SolutionInfo(
        unique_name=_text(manifest.find("UniqueName")),
        display_name=(names.get("description") or "") if names is not None else "",
        version=_text(manifest.find("Version")),
        managed=_text(manifest.find("Managed")) == "1",
        publisher_unique_name=_text(publisher.find("UniqueName") if publisher is not None else None),
        publisher_display_name=(pub_names.get("description") or "") if pub_names is not None else "",
        publisher_prefix=_text(publisher.find("CustomizationPrefix") if publisher is not None else None),
        root_components=components,
    )


def read_solution_info(data: bytes | Path, *, source: str, limits: ZipLimits | None = None) -> SolutionInfo:
    """The ``solution.xml`` facts of a solution zip (read as untrusted)."""
    with open_zip(data, source=source, limits=limits) as archive:
        return parse_solution_xml(_member(archive, SOLUTION_XML), f"{source}: {SOLUTION_XML}")


def _lookup(archive: SafeZip, name: str) -> str | None:
    if name in archive:
        return name
    folded = name.casefold()
    return next((n for n in archive.names() if n.casefold() == folded), None)


def _member(archive: SafeZip, name: str) -> bytes:
    found = _lookup(archive, name)
    if found is None:
        raise InputError(f"{archive.source}: no {name} (not a solution zip)")
    return archive.read(found)


def _json_member(archive: SafeZip, name: str) -> Any:
    try:
        return json.loads(archive.read(name).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{archive.source}: {name}: not valid JSON ({exc})") from None


def _connector_entry(archive: SafeZip) -> ET.Element:
    source = f"{archive.source}: {CUSTOMIZATIONS_XML}"
    root = parse_xml(_member(archive, CUSTOMIZATIONS_XML), source)
    entries = root.findall("Connectors/Connector")
    if len(entries) != 1:
        raise InputError(f"{source}: expected one <Connector> in <Connectors>, found {len(entries)}")
    return entries[0]


def _referenced(archive: SafeZip, entry: ET.Element, column: str) -> str | None:
    """The zip entry a ``<column>`` element points to; a dangling reference is an error."""
    path = _text(entry.find(column))
    if not path:
        return None
    found = _lookup(archive, path.lstrip("/"))
    if found is None:
        raise InputError(f"{archive.source}: {CUSTOMIZATIONS_XML} <{column}> names {path}, which is not in the zip")
    return found


def _columns(archive: SafeZip, entry: ET.Element) -> dict[str, Any]:
    """apiProperties keys as the platform's columns give them (absent column: key absent)."""
    columns: dict[str, Any] = {}
    for column, key in (("connectionparameters", "connectionParameters"),
                        ("connectionparametersets", "connectionParameterSets"),
                        ("policytemplateinstances", "policyTemplateInstances")):  # fmt: skip
        name = _referenced(archive, entry, column)
        if name is not None:
            columns[key] = _json_member(archive, name)
    color = _text(entry.find("iconbrandcolor"))
    if color:
        columns["iconBrandColor"] = color
    capabilities = _text(entry.find("capabilities"))
    if capabilities:
        try:
            columns["capabilities"] = [_CAPABILITY_NAMES[int(v)] for v in capabilities.split(",") if v.strip()]
        except (ValueError, KeyError):
            raise InputError(f"{archive.source}: <capabilities> {capabilities!r} holds an unknown value") from None
    operations = entry.find("scriptoperations")
    if operations is not None:
        try:
            columns["scriptOperations"] = json.loads(operations.text or "[]")
        except json.JSONDecodeError:
            raise InputError(f"{archive.source}: <scriptoperations> is not a JSON array") from None
    return columns


_DEFAULTS: dict[str, Any] = {"connectionParameters": {}, "policyTemplateInstances": []}
_COLUMN_KEYS = ("connectionParameters", "connectionParameterSets", "policyTemplateInstances", "iconBrandColor",
                "scriptOperations")  # fmt: skip
_MISSING = object()


def _would_write(key: str, value: Any) -> bool:
    """Whether :func:`build_solution` writes a column for this apiProperties value."""
    if key in _DEFAULTS:
        return True
    if key == "iconBrandColor":
        return bool(value)
    return value is not None


def _merge(columns: dict[str, Any], kept: dict[str, Any] | None) -> dict[str, Any]:
    """apiProperties' ``properties``: the platform's columns, in the kept copy's key order and with the keys
    only the copy has. Without a copy, columns holding the builder's empty defaults are left out, except
    ``connectionParameters``."""
    if kept is None:
        return {k: v for k, v in columns.items() if k == "connectionParameters" or v != _DEFAULTS.get(k)}
    merged = dict(kept)
    for key in _COLUMN_KEYS:
        if key in columns:
            if key in merged or columns[key] != _DEFAULTS.get(key, _MISSING):
                merged[key] = columns[key]
        elif key in merged and _would_write(key, merged[key]):
            del merged[key]  # the solution's files dropped it
    platform = columns.get("capabilities", [])
    original = kept.get("capabilities")
    if _capability_values(original) != _capability_values(platform):
        unknown = [c for c in original if not _capability_values([c])] if isinstance(original, list) else []
        if platform or unknown or "capabilities" in merged:
            merged["capabilities"] = platform + unknown
    return merged


def _rebuilt(package: ConnectorPackage, record: dict[str, Any]) -> _Identity | None:
    """The identity :func:`build_solution` would give ``package`` with ``record`` in settings.json and no
    options (None when it would refuse, e.g. a title without letters)."""
    try:
        return _identity(_connector(package), _Recorded(record, SETTINGS), publisher_prefix=None, version=None,
                         unique_name=None, publisher=None)  # fmt: skip
    except InputError:
        return None


def _valid(check: Callable[[str, str], str], value: str) -> bool:
    """Whether the builder would accept ``value`` back from settings.json."""
    if not value.strip() or _XML_INVALID.search(value):
        return False
    try:
        check(value, "")
    except InputError:
        return False
    return True


_RECORDED_PARTS: tuple[tuple[tuple[str, ...], Callable[[SolutionInfo], str], Callable[[str, str], str],
                             Callable[[_Identity], str]], ...] = (
    (("publisher", "prefix"), lambda s: s.publisher_prefix, check_prefix, lambda i: i.publisher.prefix),
    (("version",), lambda s: s.version, check_version, lambda i: i.version),
    (("uniqueName",), lambda s: s.unique_name, check_unique_name, lambda i: i.unique_name),
    (("displayName",), lambda s: s.display_name, _xml_text, lambda i: i.display_name),
    (("publisher", "displayName"), lambda s: s.publisher_display_name, _xml_text, lambda i: i.publisher.display_name),
    (("publisher", "uniqueName"), lambda s: s.publisher_unique_name, check_unique_name,
     lambda i: i.publisher.unique_name),
)  # fmt: skip
"""Each recorded part: its path under :data:`SETTINGS_KEY`, its value in solution.xml, the builder's check of
it, and the value a rebuild gives. In dependency order: the prefix before what is derived from it."""


def recorded_identity(archive: SafeZip, package: ConnectorPackage) -> dict[str, Any]:
    """The part of the solution's identity (solution.xml's unique name, display name, version and publisher,
    the connector's logical name and connectorid) that rebuilding ``package`` would not give again: what
    ``package unpack`` records in settings.json so that the next ``package solution`` reuses it. Each part is
    recorded only when it differs from what would be derived and is a value the builder accepts; a solution
    connectorkit built with default options records nothing."""
    found = _lookup(archive, SOLUTION_XML)
    if found is None:
        return {}
    info = parse_solution_xml(archive.read(found), f"{archive.source}: {SOLUTION_XML}")
    record: dict[str, Any] = {}
    for path, actual_of, check, rebuilt_of in _RECORDED_PARTS:
        actual, rebuilt = actual_of(info), _rebuilt(package, record)
        if (rebuilt is None or rebuilt_of(rebuilt) != actual) and _valid(check, actual):
            holder = record.setdefault(path[0], {}) if len(path) == 2 else record
            holder[path[-1]] = actual
    entry = _connector_entry(archive)
    name, guid = _text(entry.find("name")), _text(entry.find("connectorid"))
    rebuilt = _rebuilt(package, record)
    if rebuilt is not None and (rebuilt.logical_name, rebuilt.connector_id) == (name, guid):
        return record
    if _LOGICAL_NAME.fullmatch(name) and not _XML_INVALID.search(name):
        record["connector"] = {"name": name}
        if _valid(check_guid, guid) and check_guid(guid, "") != connector_id(name):
            record["connector"]["id"] = check_guid(guid, "")
    return record


def solution_package(archive: SafeZip) -> ConnectorPackage:
    """The connector a solution zip carries, as a package in memory; settings.json records the part of the
    solution's identity a rebuild would not give again (:func:`recorded_identity`)."""
    entry = _connector_entry(archive)
    definition_name = _referenced(archive, entry, "openapidefinition")
    if definition_name is None:
        raise InputError(f"{archive.source}: {CUSTOMIZATIONS_XML} <Connector> has no <openapidefinition>")
    definition = _json_member(archive, definition_name)
    if not isinstance(definition, dict):
        raise InputError(f"{archive.source}: {definition_name}: expected a JSON object")
    stem = definition_name.rsplit("/", 1)[-1].removesuffix("_openapidefinition.json")
    kept_name = _lookup(archive, f"{CONNECTOR_FOLDER}/{stem}_apiproperties.json")
    kept_doc = _json_member(archive, kept_name) if kept_name is not None else None
    kept = kept_doc.get("properties") if isinstance(kept_doc, dict) else None
    properties = _merge(_columns(archive, entry), kept if isinstance(kept, dict) else None)
    api_properties = dict(kept_doc) if isinstance(kept_doc, dict) else {}
    api_properties["properties"] = properties
    icon_name = _referenced(archive, entry, "iconblob")
    script_name = _referenced(archive, entry, "customcodeblobcontent")
    package = ConnectorPackage(
        definition=definition,
        api_properties=api_properties,
        icon=archive.read(icon_name) if icon_name is not None else None,
        script=archive.read(script_name).decode("utf-8-sig", errors="replace") if script_name is not None else None,
    )
    record = recorded_identity(archive, package)
    if record:
        package.settings = {SETTINGS_KEY: record}
    return package


def unpack_solution(data: bytes | Path, folder: Path, *, limits: ZipLimits | None = None) -> Path:
    """Write the connector of a solution zip to ``folder`` (apiDefinition.swagger.json, apiProperties.json,
    icon.png, script.csx), all or nothing. ``folder`` must not exist or be empty."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(f"{folder}: already exists and is not an empty folder")
    source = str(data) if isinstance(data, Path) else "solution zip"
    with open_zip(data, source=source, limits=limits) as archive:
        package = solution_package(archive)
    if folder.exists():
        folder.rmdir()
    return package.save(folder)
