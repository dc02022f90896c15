"""A connector folder on disk and in memory.

The layout is the one Microsoft's tools and the ``microsoft/PowerPlatformConnectors`` repository
use. File names are matched case-insensitively on load (real folders hold ``Readme.md`` and
``apidefinition.swagger.json``); when paconn's ``settings.json`` names the files, its names win.
Saving writes every file into a temporary folder next to the target and moves it into place, so
a failure never leaves a half-written connector behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from connectorkit.definition.documents import Document, parse_document, read_document
from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.jsontext import compact_bytes, dump_bytes, escape_pointer_token
from connectorkit.definition.models import ApiProperties, Settings
from connectorkit.definition.swagger import Swagger
from connectorkit.errors import InputError, SourceError

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)

DEFINITION = "apiDefinition.swagger.json"
PROPERTIES = "apiProperties.json"
ICON = "icon.png"
SCRIPT = "script.csx"
SETTINGS = "settings.json"
README = "readme.md"
INTRO = "intro.md"

CANONICAL_NAMES = (DEFINITION, PROPERTIES, ICON, SCRIPT, SETTINGS, README, INTRO)
_DEFINITION_ALTERNATIVES = ("apiDefinition.swagger.yaml", "apiDefinition.swagger.yml")
_SETTINGS_KEYS = {DEFINITION: "apiDefinition", PROPERTIES: "apiProperties", ICON: "icon", SCRIPT: "script"}


@dataclass(frozen=True)
class _Files:
    """What a package is read from: a folder on disk or file contents in memory."""

    label: str
    names: list[str]
    read: Callable[[str], bytes]
    exists: Callable[[str], bool]

    def display(self, name: str) -> str:
        return str(Path(self.label) / name)


@dataclass
class ConnectorPackage:
    """The files of one connector. The documents stay the parsed JSON; models are views."""

    definition: dict[str, Any]
    api_properties: dict[str, Any] = field(default_factory=lambda: {"properties": {}})
    settings: dict[str, Any] | None = None
    icon: bytes | None = None
    script: str | None = None
    readme: str | None = None
    intro: str | None = None
    file_names: dict[str, str] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    path: Path | None = None
    minify_definition: bool = False  # write the definition as compact JSON (to fit 1 MB)

    # -- views

    @property
    def swagger(self) -> Swagger:
        return Swagger(self.definition)

    @property
    def properties(self) -> ApiProperties:
        """A typed view of apiProperties.json (a copy: edit ``api_properties`` to change it)."""
        return self._model(ApiProperties, self.api_properties, PROPERTIES)

    @property
    def settings_model(self) -> Settings | None:
        if self.settings is None:
            return None
        return self._model(Settings, self.settings, SETTINGS)

    def _model(self, model: type[M], value: Any, canonical: str) -> M:
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            error = exc.errors()[0]
            pointer = "".join(f"/{escape_pointer_token(str(p))}" for p in error["loc"])
            doc = self.documents.get(canonical)
            name = doc.file if doc is not None else self.name_of(canonical)
            line, column = doc.locate(pointer) if doc is not None else (1, 1)
            raise SourceError(name, line, column, f"{pointer or '/'}: {error['msg']}") from None

    def name_of(self, canonical: str) -> str:
        return self.file_names.get(canonical, canonical)

    # -- loading

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> ConnectorPackage:
        root = Path(folder)
        if not root.exists():
            raise InputError(f"{root}: folder not found")
        if not root.is_dir():
            raise InputError(f"{root}: not a folder; expected a connector folder")
        present = {p.name: p for p in root.iterdir() if p.is_file()}

        def read(name: str) -> bytes:
            path = present.get(name) or root / name
            try:
                return path.read_bytes()
            except OSError as exc:
                raise InputError(f"{path}: cannot read: {exc.strerror}") from None

        def exists(name: str) -> bool:
            return name in present or (root / name).is_file()

        return cls._assemble(_Files(str(root), list(present), read, exists), root)

    @classmethod
    def from_files(cls, files: Mapping[str, bytes], label: str = "<memory>") -> ConnectorPackage:
        """A package from file contents by name, as :meth:`files` gives them and the store keeps
        them; read exactly as :meth:`load` reads a folder (``label`` names it in messages)."""
        return cls._assemble(_Files(label, list(files), lambda name: files[name], files.__contains__), None)

    @classmethod
    def _assemble(cls, source: _Files, root: Path | None) -> ConnectorPackage:
        present = {name.lower(): name for name in source.names}

        def find(canonical: str) -> str | None:
            return present.get(canonical.lower())

        def document(name: str) -> Document:
            return parse_document(source.read(name), source.display(name))

        documents: dict[str, Document] = {}
        findings: list[Finding] = []
        file_names: dict[str, str] = {}

        settings: dict[str, Any] | None = None
        settings_name = find(SETTINGS)
        if settings_name is not None:
            doc = document(settings_name)
            documents[SETTINGS] = doc
            findings += doc.findings()
            if not isinstance(doc.value, dict):
                raise InputError(f"{source.display(settings_name)}: expected a JSON object")
            settings = doc.value
            file_names[SETTINGS] = settings_name

        def locate(canonical: str) -> str | None:
            named = (settings or {}).get(_SETTINGS_KEYS.get(canonical, ""))
            if isinstance(named, str) and named:
                if source.exists(named):
                    return named
                hit = find(Path(named).name)
                if hit is not None:
                    return hit
            return find(canonical)

        definition_name = locate(DEFINITION)
        if definition_name is None:
            for alternative in _DEFINITION_ALTERNATIVES:
                definition_name = find(alternative)
                if definition_name is not None:
                    break
        if definition_name is None:
            raise InputError(f"{source.label}: no {DEFINITION} in this folder")
        doc = document(definition_name)
        if not isinstance(doc.value, dict):
            raise InputError(f"{source.display(definition_name)}: expected a JSON object at the top level")
        documents[DEFINITION] = doc
        findings += doc.findings()
        if definition_name.lower().endswith(".json"):
            file_names[DEFINITION] = Path(definition_name).name

        api_properties: dict[str, Any] = {"properties": {}}
        properties_name = locate(PROPERTIES)
        if properties_name is not None:
            pdoc = document(properties_name)
            if not isinstance(pdoc.value, dict):
                raise InputError(f"{source.display(properties_name)}: expected a JSON object at the top level")
            documents[PROPERTIES] = pdoc
            findings += pdoc.findings()
            api_properties = pdoc.value
            file_names[PROPERTIES] = Path(properties_name).name
        else:
            findings.append(
                Finding(
                    rule="ConnectorFileMissing",
                    severity=Severity.WARNING,
                    message=f"no {PROPERTIES}: the connector has no connection parameters or brand colour",
                    file=source.label,
                )
            )

        def text_file(canonical: str) -> str | None:
            name = locate(canonical)
            if name is None:
                return None
            file_names[canonical] = Path(name).name
            raw = source.read(name)
            try:
                return raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                return raw.decode("cp1252", errors="replace")

        icon_name = locate(ICON)
        icon = source.read(icon_name) if icon_name is not None else None
        if icon_name is not None:
            file_names[ICON] = Path(icon_name).name

        return cls(
            definition=doc.value,
            api_properties=api_properties,
            settings=settings,
            icon=icon,
            script=text_file(SCRIPT),
            readme=text_file(README),
            intro=text_file(INTRO),
            file_names=file_names,
            documents=documents,
            findings=findings,
            path=root,
        )

    @classmethod
    def from_definition(cls, file: str | os.PathLike[str]) -> ConnectorPackage:
        """A package holding only a definition file (for checking a lone swagger)."""
        path = Path(file)
        doc = read_document(path)
        if not isinstance(doc.value, dict):
            raise InputError(f"{path}: expected a JSON object at the top level")
        return cls(
            definition=doc.value,
            documents={DEFINITION: doc},
            findings=doc.findings(),
            file_names={DEFINITION: path.name},
            path=path.parent,
        )

    # -- saving

    def files(self) -> dict[str, bytes]:
        """Every file of the package as bytes, under the names it will be saved with."""
        definition = compact_bytes(self.definition) if self.minify_definition else dump_bytes(self.definition)
        out: dict[str, bytes] = {self.name_of(DEFINITION): definition}
        out[self.name_of(PROPERTIES)] = dump_bytes(self.api_properties)
        if self.icon is not None:
            out[self.name_of(ICON)] = self.icon
        if self.script is not None:
            out[self.name_of(SCRIPT)] = self.script.encode()
        if self.settings is not None:
            out[self.name_of(SETTINGS)] = dump_bytes(self.settings)
        if self.readme is not None:
            out[self.name_of(README)] = self.readme.encode()
        if self.intro is not None:
            out[self.name_of(INTRO)] = self.intro.encode()
        return out

    def save(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the package to ``folder`` atomically: all files appear together or none do."""
        target = Path(folder)
        if target.exists() and not overwrite:
            raise InputError(f"{target}: already exists (use --force to replace it)")
        if target.exists() and not target.is_dir():
            raise InputError(f"{target}: exists and is not a folder")
        parent = target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{parent}: cannot create folder: {exc.strerror}") from None
        files = self.files()
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
        except OSError as exc:
            raise InputError(f"{parent}: cannot write here: {exc.strerror}") from None
        try:
            for name, data in files.items():
                (staging / name).write_bytes(data)
            replace_folder(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.path = target
        log.debug("saved %d files to %s", len(files), target)
        return target


def replace_folder(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an existing target is kept aside until the move succeeds
    (a package save and a submission folder are replaced whole or not at all)."""
    if not target.exists():
        os.replace(staging, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    aside.rmdir()
    os.replace(target, aside)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)
