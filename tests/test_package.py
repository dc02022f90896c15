"""Tests of connector folders: loading, saving, file names, typed views, against real connectors too."""

from __future__ import annotations

import json
import os
import pathlib
from pathlib import Path
from typing import Any

import pytest

from connectorkit.definition import package as package_module
from connectorkit.definition.documents import parse_document
from connectorkit.definition.jsontext import dumps
from connectorkit.definition.models import ApiProperties
from connectorkit.definition.package import DEFINITION, PROPERTIES, ConnectorPackage
from connectorkit.definition.swagger import Swagger
from connectorkit.errors import EXIT_USAGE, InputError, SourceError

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "connectors"
CONNECTORS = sorted(p for p in CORPUS.glob("*/*") if p.is_dir()) if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"connector corpus not found at {CORPUS} (tests over real connectors skipped)"
)

UNREPAIRABLE = "independent-publisher-connectors/Icon Horse"
ICON_HORSE_PROBLEM = "expecting a property name in double quotes, found '{'"


def rel(folder: Path) -> str:
    return folder.relative_to(CORPUS).as_posix()


def assert_four_space_indent(text: str) -> None:
    """Every line is indented by exactly 4 spaces per open bracket (as ``json.dumps(indent=4)`` writes)."""
    assert text.endswith("}\n") or text.endswith("]\n")
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith(("}", "]")):
            depth -= 1
        assert len(line) - len(stripped) == 4 * depth, f"line {number} badly indented: {line!r}"
        if stripped.endswith(("{", "[")):
            depth += 1
    assert depth == 0


def has_duplicate_keys(raw: bytes) -> bool:
    seen = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal seen
        seen = seen or len({k for k, _ in pairs}) != len(pairs)
        return dict(pairs)

    json.loads(raw, object_pairs_hook=hook)
    return seen


# --------------------------------------------------------------------------- (a) every corpus connector


@needs_corpus
def test_corpus_is_the_expected_one():
    assert len(CONNECTORS) == 150
    assert {p.parent.name for p in CONNECTORS} == {
        "certified-connectors",
        "custom-connectors",
        "independent-publisher-connectors",
    }


@needs_corpus
@pytest.mark.parametrize("folder", CONNECTORS, ids=[rel(p) for p in CONNECTORS])
def test_corpus_connector_round_trips(folder: Path, tmp_path: Path):
    if rel(folder) == UNREPAIRABLE:
        with pytest.raises(SourceError) as info:
            ConnectorPackage.load(folder)
        error = info.value
        assert str(error) == f"{folder}/apiDefinition.swagger.json:56:11: {ICON_HORSE_PROBLEM}"
        assert (error.line, error.column, error.problem) == (56, 11, ICON_HORSE_PROBLEM)
        assert error.exit_code == EXIT_USAGE
        assert error.__context__ is None and error.__cause__ is None  # one clean line, no chained traceback
        return

    package = ConnectorPackage.load(folder)
    assert package.path == folder
    properties = package.properties  # the pydantic view validates for every loadable connector
    assert isinstance(properties, ApiProperties)

    # Independent check: what a strict parser accepts must load to exactly what it reads, in the same order.
    for canonical, value in ((DEFINITION, package.definition), (PROPERTIES, package.api_properties)):
        raw = (folder / package.name_of(canonical)).read_bytes()
        try:
            expected = json.loads(raw)
        except ValueError:
            continue
        assert value == expected, canonical
        assert json.dumps(value) == json.dumps(expected), f"{canonical}: key order differs from json.loads"
        file_findings = [f for f in package.findings if f.file == str(folder / package.name_of(canonical))]
        if not raw.startswith(b"\xef\xbb\xbf") and not has_duplicate_keys(raw):
            assert file_findings == [], "strict JSON must load without findings"

    target = package.save(tmp_path / "out")
    assert target == tmp_path / "out"
    assert sorted(p.name for p in target.iterdir()) == sorted(package.files())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]

    for canonical in (DEFINITION, PROPERTIES):
        text = (target / package.name_of(canonical)).read_bytes().decode("utf-8")  # strict UTF-8
        json.loads(text)  # strict JSON
        assert_four_space_indent(text)

    reloaded = ConnectorPackage.load(target)
    assert reloaded.findings == []
    for before, after in (
        (package.definition, reloaded.definition),
        (package.api_properties, reloaded.api_properties),
    ):
        assert after == before
        assert json.dumps(after) == json.dumps(before)
    assert reloaded.settings == package.settings
    assert reloaded.readme == package.readme
    assert reloaded.intro == package.intro

    # The same files held in memory (as the store keeps them) read to the same package.
    in_memory = ConnectorPackage.from_files(package.files(), "stored")
    assert in_memory.path is None and in_memory.findings == []
    assert json.dumps(in_memory.definition) == json.dumps(reloaded.definition)
    assert in_memory.api_properties == reloaded.api_properties
    assert (in_memory.icon, in_memory.script, in_memory.readme) == (reloaded.icon, reloaded.script, reloaded.readme)
    assert in_memory.files() == reloaded.files()
    assert reloaded.icon == package.icon
    # Files other than the JSON documents are copied byte for byte (text files when they are plain UTF-8).
    for canonical in ("icon.png", "readme.md", "intro.md"):
        original = folder / package.name_of(canonical)
        if not original.exists():
            continue
        raw = original.read_bytes()
        if canonical != "icon.png" and (raw.startswith(b"\xef\xbb\xbf") or not is_utf8(raw)):
            continue
        assert (target / package.name_of(canonical)).read_bytes() == raw, canonical


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --------------------------------------------------------------------------- (b) repairs in the corpus


def remove_char_at(text: str, line: int, column: int, char: str) -> str:
    lines = text.split("\n")
    assert lines[line - 1][column - 1] == char, f"no {char!r} at {line}:{column}"
    lines[line - 1] = lines[line - 1][: column - 1] + lines[line - 1][column:]
    return "\n".join(lines)


def insert_char_at(text: str, line: int, column: int, char: str) -> str:
    lines = text.split("\n")
    lines[line - 1] = lines[line - 1][: column - 1] + char + lines[line - 1][column - 1 :]
    return "\n".join(lines)


# (connector, file, rule, [(line, column)...], independent fix of the original bytes for json.loads)
KNOWN_REPAIRS = [
    (
        "certified-connectors/DocuSignDemo",
        DEFINITION,
        "JsonTrailingComma",
        [(1635, 12)],
        lambda raw: remove_char_at(raw.decode(), 1635, 12, ","),
    ),
    (
        "certified-connectors/Revizto (Ireland)",
        DEFINITION,
        "JsonTrailingComma",
        [(980, 50)],
        lambda raw: remove_char_at(raw.decode(), 980, 50, ","),
    ),
    (
        "certified-connectors/Microsoft Bookings",
        DEFINITION,
        "JsonByteOrderMark",
        [(1, 1)],
        lambda raw: raw.decode("utf-8-sig"),
    ),
    (
        "certified-connectors/RecordedFutureV2",
        DEFINITION,
        "JsonDuplicateKey",
        [(2092, 9), (2094, 9), (2179, 9), (2181, 9)],
        lambda raw: raw.decode(),
    ),
    (
        "independent-publisher-connectors/Yelp",
        DEFINITION,
        "JsonNotUtf8",
        [(866, 118)],
        lambda raw: raw.decode("cp1252"),
    ),
    (
        "certified-connectors/Easyvista_Service._Manager",
        DEFINITION,
        "JsonControlCharacter",
        [(3819, 28)],
        lambda raw: json.dumps(json.loads(raw, strict=False)),
    ),
    (
        "certified-connectors/ZohoSign",
        DEFINITION,
        "JsonUnicodeWhitespace",
        [(14, 1), (29, 1)],
        lambda raw: raw.decode().replace("\u2003", " "),
    ),
    (
        "certified-connectors/Shopranos",
        PROPERTIES,
        "JsonUnclosedBracket",
        [(1, 1)],
        lambda raw: raw.decode() + "}",
    ),
    (
        "certified-connectors/SigningHub",
        PROPERTIES,
        "JsonMissingComma",
        [(24, 13)],
        lambda raw: insert_char_at(raw.decode(), 24, 13, ","),
    ),
]


@needs_corpus
@pytest.mark.parametrize(("name", "file", "rule", "where", "fix"), KNOWN_REPAIRS, ids=[r[0] for r in KNOWN_REPAIRS])
def test_corpus_repairs_are_reported(name, file, rule, where, fix):
    folder = CORPUS / name
    package = ConnectorPackage.load(folder)
    path = str(folder / file)
    assert [(f.rule, f.file, f.line, f.column) for f in package.findings] == [
        (rule, path, ln, col) for ln, col in where
    ]
    assert all(f.severity.value == "warning" for f in package.findings)
    raw = (folder / file).read_bytes()
    with pytest.raises(ValueError):
        json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    # The repaired value is what a hand-made fix of the original gives a strict parser.
    expected = json.loads(fix(raw))
    value = package.definition if file == DEFINITION else package.api_properties
    assert value == expected
    assert json.dumps(value) == json.dumps(expected)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("duplicate key")
    return dict(pairs)


@needs_corpus
def test_only_the_known_connectors_need_repairs():
    with_findings = set()
    for folder in CONNECTORS:
        if rel(folder) == UNREPAIRABLE:
            continue
        if ConnectorPackage.load(folder).findings:
            with_findings.add(rel(folder))
    assert with_findings == {r[0] for r in KNOWN_REPAIRS}


@needs_corpus
def test_yelp_cp1252_message_counts_every_bad_byte():
    package = ConnectorPackage.load(CORPUS / "independent-publisher-connectors/Yelp")
    raw = (CORPUS / "independent-publisher-connectors/Yelp" / DEFINITION).read_bytes()
    bad = sum(1 for b in raw if b >= 0x80)  # this file is ASCII plus single cp1252 bytes
    (finding,) = package.findings
    assert finding.message == f"byte 0xad is not UTF-8; read as Windows-1252 (and {bad - 1} more)"


@needs_corpus
def test_repaired_corpus_connector_saves_clean(tmp_path: Path):
    package = ConnectorPackage.load(CORPUS / "certified-connectors/SigningHub")
    assert package.findings
    target = package.save(tmp_path / "SigningHub")
    raw = (target / PROPERTIES).read_bytes()
    assert json.loads(raw) == package.api_properties
    assert ConnectorPackage.load(target).findings == []


# --------------------------------------------------------------------------- (c) file names

MINIMAL_DEFINITION = {
    "swagger": "2.0",
    "info": {"title": "Demo", "version": "1.0"},
    "host": "api.example.com",
    "paths": {},
}
MINIMAL_PROPERTIES = {"properties": {"iconBrandColor": "#007ee5", "publisher": "Someone"}}


def write_json(path: Path, value: Any) -> Path:
    path.write_text(dumps(value), encoding="utf-8")
    return path


def make_connector(folder: Path, definition: Any = None, properties: Any = None, **extra: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / DEFINITION, definition if definition is not None else MINIMAL_DEFINITION)
    write_json(folder / PROPERTIES, properties if properties is not None else MINIMAL_PROPERTIES)
    for name, data in extra.items():
        (folder / name).write_bytes(data)
    return folder


def test_file_names_are_matched_case_insensitively_and_kept(tmp_path: Path):
    folder = tmp_path / "conn"
    folder.mkdir()
    write_json(folder / "APIDEFINITION.swagger.json", MINIMAL_DEFINITION)
    write_json(folder / "ApiProperties.JSON", MINIMAL_PROPERTIES)
    (folder / "Readme.md").write_bytes(b"# Demo\r\nLine \xc3\xa9\r\n")
    (folder / "ICON.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (folder / "Intro.MD").write_bytes(b"intro")
    (folder / "Script.csx").write_bytes(b"public class Script {}")
    (folder / "notes.txt").write_bytes(b"not part of a connector")

    package = ConnectorPackage.load(folder)
    assert package.definition == MINIMAL_DEFINITION
    assert package.api_properties == MINIMAL_PROPERTIES
    assert package.readme == "# Demo\r\nLine \u00e9\r\n"
    assert package.icon == b"\x89PNG\r\n\x1a\nfake"
    assert package.intro == "intro"
    assert package.script == "public class Script {}"
    assert package.findings == []
    assert set(package.files()) == {
        "APIDEFINITION.swagger.json",
        "ApiProperties.JSON",
        "Readme.md",
        "ICON.png",
        "Intro.MD",
        "Script.csx",
    }

    target = package.save(tmp_path / "copy")
    assert sorted(p.name for p in target.iterdir()) == sorted(package.files())
    assert (target / "Readme.md").read_bytes() == b"# Demo\r\nLine \xc3\xa9\r\n"
    assert (target / "ICON.png").read_bytes() == b"\x89PNG\r\n\x1a\nfake"
    again = ConnectorPackage.load(target)
    assert again.definition == MINIMAL_DEFINITION
    assert again.readme == package.readme


def test_canonical_names_are_used_for_a_new_package(tmp_path: Path):
    package = ConnectorPackage(definition=MINIMAL_DEFINITION, readme="hi")
    assert set(package.files()) == {DEFINITION, PROPERTIES, "readme.md"}
    assert json.loads(package.files()[PROPERTIES]) == {"properties": {}}
    target = package.save(tmp_path / "new")
    assert ConnectorPackage.load(target).definition == MINIMAL_DEFINITION


def test_settings_json_names_a_differently_named_definition(tmp_path: Path):
    folder = tmp_path / "conn"
    folder.mkdir()
    named = dict(MINIMAL_DEFINITION, info={"title": "Named by settings", "version": "2.0"})
    write_json(folder / "my-connector.swagger.json", named)
    write_json(folder / "MyProps.json", {"properties": {"publisher": "From settings"}})
    write_json(folder / DEFINITION, MINIMAL_DEFINITION)  # a decoy with the canonical name
    write_json(
        folder / "settings.json",
        {
            "connectorId": "abc",
            "environment": "env",
            "apiDefinition": "my-connector.swagger.json",
            "apiProperties": "myprops.json",  # case differs from the file on disk
            "icon": "icon.png",
        },
    )
    package = ConnectorPackage.load(folder)
    assert package.swagger.title == "Named by settings"
    assert package.api_properties == {"properties": {"publisher": "From settings"}}
    assert package.settings_model is not None
    assert package.settings_model.apiDefinition == "my-connector.swagger.json"
    assert package.name_of(DEFINITION) == "my-connector.swagger.json"
    assert package.name_of(PROPERTIES) == "MyProps.json"
    assert set(package.files()) == {"my-connector.swagger.json", "MyProps.json", "settings.json"}

    target = package.save(tmp_path / "out")
    assert sorted(p.name for p in target.iterdir()) == ["MyProps.json", "my-connector.swagger.json", "settings.json"]
    again = ConnectorPackage.load(target)
    assert again.swagger.title == "Named by settings"
    assert again.settings == package.settings


def test_settings_json_naming_a_missing_file_falls_back_to_the_canonical_one(tmp_path: Path):
    folder = make_connector(tmp_path / "conn")
    write_json(folder / "settings.json", {"apiDefinition": "gone.json"})
    package = ConnectorPackage.load(folder)
    assert package.definition == MINIMAL_DEFINITION
    assert package.name_of(DEFINITION) == DEFINITION


def test_yaml_definition_is_read_and_saved_as_json(tmp_path: Path):
    folder = tmp_path / "conn"
    folder.mkdir()
    (folder / "apiDefinition.swagger.yaml").write_text(
        "swagger: '2.0'\ninfo:\n  title: From YAML\n  version: '1.0'\npaths: {}\n", encoding="utf-8"
    )
    write_json(folder / PROPERTIES, MINIMAL_PROPERTIES)
    package = ConnectorPackage.load(folder)
    assert package.definition == {"swagger": "2.0", "info": {"title": "From YAML", "version": "1.0"}, "paths": {}}
    assert package.documents[DEFINITION].syntax == "yaml"
    target = package.save(tmp_path / "out")
    assert json.loads((target / DEFINITION).read_bytes()) == package.definition


def test_folder_without_definition_is_an_input_error(tmp_path: Path):
    folder = tmp_path / "conn"
    folder.mkdir()
    write_json(folder / PROPERTIES, MINIMAL_PROPERTIES)
    (folder / "readme.md").write_text("x")
    with pytest.raises(InputError) as info:
        ConnectorPackage.load(folder)
    assert str(info.value) == f"{folder}: no {DEFINITION} in this folder"
    assert not isinstance(info.value, SourceError)
    assert info.value.exit_code == EXIT_USAGE


def test_missing_folder_is_an_input_error(tmp_path: Path):
    with pytest.raises(InputError) as info:
        ConnectorPackage.load(tmp_path / "nope")
    assert str(info.value) == f"{tmp_path / 'nope'}: folder not found"


def test_a_file_instead_of_a_folder_is_an_input_error(tmp_path: Path):
    path = write_json(tmp_path / DEFINITION, MINIMAL_DEFINITION)
    with pytest.raises(InputError) as info:
        ConnectorPackage.load(path)
    assert str(info.value) == f"{path}: not a folder; expected a connector folder"


def test_a_definition_that_is_not_an_object_is_an_input_error(tmp_path: Path):
    folder = make_connector(tmp_path / "conn", definition=[1, 2])
    with pytest.raises(InputError, match="expected a JSON object at the top level"):
        ConnectorPackage.load(folder)


def test_unreadable_definition_names_file_line_and_column(tmp_path: Path):
    folder = make_connector(tmp_path / "conn")
    (folder / DEFINITION).write_text('{\n  "swagger": "2.0",\n  "info": {,\n}\n')
    with pytest.raises(SourceError) as info:
        ConnectorPackage.load(folder)
    assert str(info.value) == f"{folder / DEFINITION}:3:12: expecting a property name in double quotes, found ','"


def test_missing_properties_file_is_a_finding_not_an_error(tmp_path: Path):
    folder = tmp_path / "conn"
    folder.mkdir()
    write_json(folder / DEFINITION, MINIMAL_DEFINITION)
    package = ConnectorPackage.load(folder)
    assert package.api_properties == {"properties": {}}
    assert [f.rule for f in package.findings] == ["ConnectorFileMissing"]
    assert package.findings[0].file == str(folder)


def test_findings_of_a_loaded_package_point_into_its_files(tmp_path: Path):
    folder = make_connector(tmp_path / "conn")
    (folder / PROPERTIES).write_text('{\n  "properties": {\n    "publisher": "x",\n  }\n}\n')
    package = ConnectorPackage.load(folder)
    assert [(f.rule, f.file, f.line, f.column) for f in package.findings] == [
        ("JsonTrailingComma", str(folder / PROPERTIES), 3, 21)
    ]


# --------------------------------------------------------------------------- (d) saving


def leftovers(parent: Path, target: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p != target)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_save_refuses_an_existing_target_without_overwrite(tmp_path: Path):
    target = make_connector(tmp_path / "out" / "conn", extra_file=b"keep")
    before = snapshot(target)
    package = ConnectorPackage(definition=dict(MINIMAL_DEFINITION, host="new.example.com"))
    with pytest.raises(InputError) as info:
        package.save(target)
    assert str(info.value) == f"{target}: already exists (use --force to replace it)"
    assert snapshot(target) == before
    assert leftovers(target.parent, target) == []
    assert package.path is None


def test_save_with_overwrite_replaces_the_target_and_leaves_nothing_behind(tmp_path: Path):
    target = make_connector(tmp_path / "out" / "conn", **{"stale.txt": b"old"})
    package = ConnectorPackage(definition=dict(MINIMAL_DEFINITION, host="new.example.com"), readme="new")
    assert package.save(target, overwrite=True) == target
    assert sorted(p.name for p in target.iterdir()) == [DEFINITION, PROPERTIES, "readme.md"]
    assert json.loads((target / DEFINITION).read_bytes())["host"] == "new.example.com"
    assert (target / "readme.md").read_text() == "new"
    assert leftovers(target.parent, target) == []
    assert package.path == target


def test_save_creates_missing_parents(tmp_path: Path):
    target = tmp_path / "a" / "b" / "conn"
    ConnectorPackage(definition=MINIMAL_DEFINITION).save(target)
    assert (target / DEFINITION).is_file()
    assert leftovers(target.parent, target) == []


def test_save_onto_a_file_is_an_input_error_even_with_overwrite(tmp_path: Path):
    target = tmp_path / "conn"
    target.write_bytes(b"a file")
    with pytest.raises(InputError, match="exists and is not a folder"):
        ConnectorPackage(definition=MINIMAL_DEFINITION).save(target, overwrite=True)
    assert target.read_bytes() == b"a file"
    assert leftovers(tmp_path, target) == []


def test_save_load_save_in_place(tmp_path: Path):
    folder = make_connector(tmp_path / "conn", **{"readme.md": b"r"})
    package = ConnectorPackage.load(folder)
    package.definition["host"] = "changed.example.com"
    package.save(folder, overwrite=True)
    assert ConnectorPackage.load(folder).definition["host"] == "changed.example.com"
    assert (folder / "readme.md").read_bytes() == b"r"
    assert leftovers(tmp_path, folder) == []


def test_a_save_failing_midway_leaves_the_target_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = make_connector(tmp_path / "out" / "conn", **{"readme.md": b"original"})
    before = snapshot(target)
    package = ConnectorPackage(definition=dict(MINIMAL_DEFINITION, host="new.example.com"), readme="new")
    real_write_bytes = pathlib.Path.write_bytes
    calls: list[str] = []

    def failing_write_bytes(self: Path, data: bytes) -> int:
        calls.append(self.name)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real_write_bytes(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", failing_write_bytes)
    with pytest.raises(OSError, match="No space left"):
        package.save(target, overwrite=True)
    monkeypatch.undo()

    assert len(calls) == 2  # the first file was written, the second failed
    assert snapshot(target) == before
    assert leftovers(target.parent, target) == []
    assert package.path is None


def test_a_save_failing_at_the_final_move_restores_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = make_connector(tmp_path / "out" / "conn", **{"readme.md": b"original"})
    before = snapshot(target)
    real_replace = os.replace
    moves: list[tuple[str, str]] = []

    def failing_replace(src, dst):
        moves.append((Path(src).name, Path(dst).name))
        if Path(src).name.endswith(".tmp"):
            raise OSError(13, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(package_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="Permission denied"):
        ConnectorPackage(definition=MINIMAL_DEFINITION).save(target, overwrite=True)
    monkeypatch.undo()

    assert any(src.endswith(".tmp") and dst == "conn" for src, dst in moves)  # the move was attempted
    assert snapshot(target) == before
    assert leftovers(target.parent, target) == []


# --------------------------------------------------------------------------- (e) swagger views

SWAGGER: dict[str, Any] = {
    "swagger": "2.0",
    "info": {"title": "Views", "version": "1.0"},
    "host": "api.example.com",
    "basePath": "/v1",
    "schemes": ["https"],
    "paths": {
        "/items/{id}": {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "type": "string", "description": "path level"},
                {"$ref": "#/parameters/ApiVersion"},
                {"name": "filter", "in": "query", "type": "string"},
                {"name": "X-Trace", "in": "header", "type": "string"},
            ],
            "get": {
                "operationId": "GetItem",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "type": "string", "description": "operation level"},
                    {"name": "filter", "in": "header", "type": "string"},
                    {"$ref": "#/parameters/a~1b"},
                    {"$ref": "#/parameters/Chained"},
                    {"$ref": "#/parameters/Missing"},
                ],
                "responses": {"200": {"description": "ok"}},
            },
            "delete": {"operationId": "DeleteItem", "parameters": [{"$ref": "#/parameters/Trace"}]},
        },
        "/hooks": {
            "x-ms-notification-content": {"description": "not an operation"},
            "post": {
                "operationId": "OnEvent",
                "x-ms-trigger": "single",
                "parameters": [
                    {"name": "callback", "in": "query", "type": "string", "x-ms-notification-url": True},
                ],
            },
        },
        "/hooks/{event}": {
            "parameters": [{"$ref": "#/parameters/Callback"}],
            "post": {"operationId": "OnNamedEvent", "x-ms-trigger": "Batch"},
        },
        "/poll": {
            "get": {"operationId": "Poll", "x-ms-trigger": "batch", "parameters": [{"$ref": "#/parameters/Loop1"}]}
        },
        "/plain": {"get": {"operationId": "Plain"}, "parameters": "not a list"},
    },
    "parameters": {
        "ApiVersion": {"name": "api-version", "in": "query", "required": True, "type": "string"},
        "a/b": {"name": "slashy", "in": "query", "type": "string", "x-ms-visibility": "internal"},
        "Chained": {"$ref": "#/parameters/Target"},
        "Target": {"name": "chained", "in": "query", "type": "integer"},
        "Trace": {"name": "X-Trace", "in": "header", "type": "string", "description": "operation level"},
        "Callback": {"name": "cb", "in": "query", "type": "string", "x-ms-notification-url": True},
        "Loop1": {"$ref": "#/parameters/Loop2"},
        "Loop2": {"$ref": "#/parameters/Loop1"},
    },
    "securityDefinitions": {
        "oauth/2": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://login.example.com/authorize",
            "tokenUrl": "https://login.example.com/token",
            "scopes": {"read": "Read", "write": "Write"},
        },
        "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
        "basic": {"type": "basic"},
        "broken": "not an object",
    },
}


def operation(swagger: Swagger, operation_id: str):
    return next(op for op in swagger.operations() if op.operation_id == operation_id)


def test_top_level_views():
    swagger = Swagger(SWAGGER)
    assert (swagger.version, swagger.title, swagger.host, swagger.base_path, swagger.schemes) == (
        "2.0",
        "Views",
        "api.example.com",
        "/v1",
        ["https"],
    )
    empty = Swagger({})
    assert (empty.title, empty.host, empty.base_path, empty.schemes, list(empty.operations())) == (
        "",
        None,
        "/",
        [],
        [],
    )


def test_operations_are_listed_with_their_pointers():
    ops = [(op.method, op.path, op.operation_id, op.pointer) for op in Swagger(SWAGGER).operations()]
    assert ops == [
        ("get", "/items/{id}", "GetItem", "/paths/~1items~1{id}/get"),
        ("delete", "/items/{id}", "DeleteItem", "/paths/~1items~1{id}/delete"),
        ("post", "/hooks", "OnEvent", "/paths/~1hooks/post"),
        ("post", "/hooks/{event}", "OnNamedEvent", "/paths/~1hooks~1{event}/post"),
        ("get", "/poll", "Poll", "/paths/~1poll/get"),
        ("get", "/plain", "Plain", "/paths/~1plain/get"),
    ]


def test_effective_parameters_merge_path_and_operation_levels():
    params = operation(Swagger(SWAGGER), "GetItem").parameters
    got = sorted((p.name, p.location, p.pointer, p.raw.get("description")) for p in params)
    item = "/paths/~1items~1{id}"
    assert got == sorted(
        [
            ("id", "path", f"{item}/get/parameters/0", "operation level"),  # the operation wins
            ("api-version", "query", "/parameters/ApiVersion", None),  # $ref: the target's pointer
            ("filter", "query", f"{item}/parameters/2", None),  # same name, other location: both kept
            ("filter", "header", f"{item}/get/parameters/1", None),
            ("X-Trace", "header", f"{item}/parameters/3", None),
            ("slashy", "query", "/parameters/a~1b", None),
            ("chained", "query", "/parameters/Target", None),  # a chain of $refs is followed to its end
            ("", "", f"{item}/get/parameters/4", None),  # a $ref leading nowhere stays as it is
        ]
    )
    by_name = {(p.name, p.location): p for p in params}
    assert by_name[("id", "path")].required is True
    assert by_name[("filter", "query")].required is False
    assert by_name[("slashy", "query")].visibility == "internal"
    assert by_name[("", "")].raw == {"$ref": "#/parameters/Missing"}
    assert len(params) == 8


def test_a_ref_parameter_overrides_a_path_level_parameter():
    params = operation(Swagger(SWAGGER), "DeleteItem").parameters
    headers = [p for p in params if p.location == "header"]
    assert [(p.name, p.pointer, p.raw.get("description")) for p in headers] == [
        ("X-Trace", "/parameters/Trace", "operation level")
    ]
    assert sorted(p.name for p in params) == ["X-Trace", "api-version", "filter", "id"]


def test_a_ref_loop_ends_without_hanging():
    (param,) = operation(Swagger(SWAGGER), "Poll").parameters
    assert "$ref" in param.raw


def test_parameter_pointers_locate_the_target_in_the_source():
    doc = parse_document(dumps(SWAGGER).encode(), "def.json")
    lines = dumps(SWAGGER).splitlines()
    params = {p.name: p for p in operation(Swagger(doc.value), "GetItem").parameters}
    # A parameter's position is where its object opens, on the line of its key.
    line, column = doc.locate(params["chained"].pointer)
    assert lines[line - 1].strip() == '"Target": {'
    assert lines[line - 1][column - 1] == "{"
    assert lines[line].strip() == '"name": "chained",'
    line, column = doc.locate(params["id"].pointer)
    following = "".join(lines[line - 1 : line + 6])
    assert '"operation level"' in following
    assert "path level" not in following


def test_edits_to_the_document_show_through_the_views():
    doc = json.loads(json.dumps(SWAGGER))
    swagger = Swagger(doc)
    doc["parameters"]["ApiVersion"]["name"] = "version"
    assert "version" in {p.name for p in operation(swagger, "GetItem").parameters}


def test_trigger_kinds():
    swagger = Swagger(SWAGGER)
    hook = operation(swagger, "OnEvent")
    assert (hook.trigger, hook.is_trigger, hook.trigger_kind) == ("single", True, "webhook")
    named = operation(swagger, "OnNamedEvent")  # the notification URL comes from a path-level $ref
    assert (named.trigger, named.trigger_kind) == ("batch", "webhook")
    poll = operation(swagger, "Poll")
    assert (poll.trigger, poll.trigger_kind) == ("batch", "polling")
    plain = operation(swagger, "GetItem")
    assert (plain.trigger, plain.is_trigger, plain.trigger_kind) == (None, False, None)


WEBHOOK_WITH_BODY = {
    "swagger": "2.0",
    "paths": {
        "/subscriptions": {
            "post": {
                "operationId": "WhenSomethingHappens",
                "x-ms-trigger": "single",
                "parameters": [
                    {"name": "body", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Subscription"}}
                ],
                "responses": {"201": {"description": "Created"}},
            }
        }
    },
    "definitions": {
        "Subscription": {
            "type": "object",
            "properties": {
                "callbackUrl": {"type": "string", "x-ms-notification-url": True, "x-ms-visibility": "internal"}
            },
        }
    },
}


def test_webhook_with_notification_url_in_the_body_schema():
    assert operation(Swagger(WEBHOOK_WITH_BODY), "WhenSomethingHappens").trigger_kind == "webhook"


def test_security_schemes():
    schemes = {s.name: s for s in Swagger(SWAGGER).security_schemes()}
    assert set(schemes) == {"oauth/2", "key", "basic"}
    oauth = schemes["oauth/2"]
    assert (oauth.type, oauth.flow, oauth.authorization_url, oauth.token_url, oauth.scopes) == (
        "oauth2",
        "accessCode",
        "https://login.example.com/authorize",
        "https://login.example.com/token",
        ["read", "write"],
    )
    assert oauth.pointer == "/securityDefinitions/oauth~12"
    key = schemes["key"]
    assert (key.type, key.location, key.parameter_name, key.flow, key.scopes) == (
        "apiKey",
        "header",
        "X-Api-Key",
        None,
        [],
    )
    assert (schemes["basic"].type, schemes["basic"].authorization_url) == ("basic", None)
    assert Swagger({"securityDefinitions": []}).security_schemes() == []


def test_resolve_follows_escaped_pointers_and_array_indexes():
    swagger = Swagger(SWAGGER)
    assert swagger.resolve("#/parameters/a~1b")["name"] == "slashy"
    assert swagger.resolve("#/paths/~1items~1{id}/parameters/2/name") == "filter"
    assert swagger.resolve("#/paths/~1items~1{id}/parameters/9") is None
    assert swagger.resolve("#/parameters/Nope") is None
    assert swagger.resolve("other.json#/parameters/ApiVersion") is None


def test_resolve_rejects_a_ref_without_a_leading_slash():
    assert Swagger(SWAGGER).resolve("#parameters") is None


@needs_corpus
def test_corpus_views_of_a_real_connector():
    package = ConnectorPackage.load(CORPUS / "certified-connectors/Pushcut")
    assert sorted(s.type for s in package.swagger.security_schemes()) == ["apiKey", "oauth2"]
    ops = list(package.swagger.operations())
    assert ops and all(op.pointer.startswith("/paths/") for op in ops)
    doc = package.documents[DEFINITION]
    for op in ops:
        for param in op.parameters:
            line, _ = doc.locate(param.pointer)
            assert line > 1


# --------------------------------------------------------------------------- (f) apiProperties model


def test_api_properties_model_keeps_unknown_keys():
    value = {
        "properties": {
            "connectionParameters": {
                "api_key": {
                    "type": "securestring",
                    "uiDefinition": {
                        "displayName": "Key",
                        "constraints": {"tabIndex": 2, "required": "true", "futureConstraint": [1]},
                        "unknownUi": {"x": 1},
                    },
                    "extraParam": True,
                }
            },
            "iconBrandColor": "#007ee5",
            "policyTemplateInstances": [
                {"templateId": "SetHeader", "parameters": {"x-ms-apimTemplateParameter.name": "h"}, "other": 1}
            ],
            "somethingNew": {"nested": [1, 2]},
        },
        "topLevelExtra": "kept",
    }
    model = ApiProperties.model_validate(value)
    assert model.dump() == value
    assert model.model_extra == {"topLevelExtra": "kept"}
    assert model.properties.model_extra == {"somethingNew": {"nested": [1, 2]}}
    param = model.properties.connectionParameters["api_key"]
    assert param.is_secret and not param.is_oauth
    assert param.uiDefinition.constraints.tabIndex == 2
    assert model.properties.policyTemplateInstances[0].template == "setheader"


@pytest.mark.parametrize("spelling", ["oauthSettings", "oAuthSettings", "OAuthSettings"])
def test_api_properties_model_accepts_oauth_settings_spellings(spelling):
    value = {
        "properties": {
            "connectionParameters": {
                "token": {
                    "type": "oauthSetting",
                    spelling: {
                        "identityProvider": "aad",
                        "clientId": "abc",
                        "scopes": ["s"],
                        "customParameters": {"tenantId": {"value": "common"}},
                        "unknownOAuthKey": 5,
                    },
                }
            },
            "stackowner": "Owner",
        }
    }
    model = ApiProperties.model_validate(value)
    token = model.properties.connectionParameters["token"]
    assert token.is_oauth
    assert token.oAuthSettings is not None
    assert token.oAuthSettings.identityProvider == "aad"
    assert token.oAuthSettings.customParameters["tenantId"].value == "common"
    assert token.model_extra == {}
    assert model.properties.stackOwner == "Owner"
    dumped = model.dump()["properties"]
    assert (
        dumped["connectionParameters"]["token"]["oAuthSettings"]
        == value["properties"]["connectionParameters"]["token"][spelling]
    )
    assert dumped["stackOwner"] == "Owner"


@needs_corpus
def test_corpus_lowercase_oauth_settings_is_read():
    package = ConnectorPackage.load(CORPUS / "certified-connectors/Azure Communication Services SMS Events")
    assert '"oauthSettings"' in (package.path / PROPERTIES).read_text()
    sets = package.properties.properties.connectionParameterSets
    providers = [value.parameters["token"].oAuthSettings.identityProvider for value in sets.values]
    assert providers == ["aadcertificate", "aad"]


def test_invalid_api_properties_is_a_source_error_located_in_the_file(tmp_path: Path):
    folder = make_connector(tmp_path / "conn")
    (folder / PROPERTIES).write_text(
        '{\n  "properties": {\n    "connectionParameters": {\n      "k": {\n        "type": [1]\n      }\n    }\n  }\n}\n'
    )
    package = ConnectorPackage.load(folder)
    with pytest.raises(SourceError) as info:
        _ = package.properties
    error = info.value
    assert (error.file, error.line, error.column) == (str(folder / PROPERTIES), 5, 17)
    assert error.problem.startswith("/properties/connectionParameters/k/type: ")


def test_from_files_reports_problems_under_its_label() -> None:
    with pytest.raises(InputError, match=r"^stored: no apiDefinition.swagger.json"):
        ConnectorPackage.from_files({"apiProperties.json": b"{}"}, "stored")
    with pytest.raises(SourceError, match=r"^stored/apiDefinition.swagger.json:1:2: "):
        ConnectorPackage.from_files({"apiDefinition.swagger.json": b"{,}"}, "stored")
