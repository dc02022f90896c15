"""Breaking changes: one seeded change per rule, each firing alone, and silence on no change."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from tests.lint.harness import EXAMPLE
from typer.testing import CliRunner

from connectorkit.cli.main import app
from connectorkit.definition.package import ConnectorPackage
from connectorkit.lint.diff import breaking_rules, diff_packages

Doc = dict[str, Any]


def _base() -> Doc:
    doc: Doc = json.loads(EXAMPLE.read_text())
    return doc


def _op(doc: Doc, path: str, method: str) -> Doc:
    value: Doc = doc["paths"][path][method]
    return value


def _findings(old: Doc, new: Doc, old_props: Doc | None = None, new_props: Doc | None = None):
    return diff_packages(
        ConnectorPackage(definition=old, api_properties=old_props or {"properties": {}}),
        ConnectorPackage(definition=new, api_properties=new_props or {"properties": {}}),
    )


def _rename(d: Doc) -> None:
    _op(d, "/pets/{petId}", "delete")["operationId"] = "RemovePet"


def _hide(d: Doc) -> None:
    _op(d, "/pets", "post")["x-ms-visibility"] = "internal"


def _move(d: Doc) -> None:
    d["paths"]["/animals"] = d["paths"].pop("/pets")


def _verb(d: Doc) -> None:
    d["paths"]["/pets/{petId}"]["put"] = d["paths"]["/pets/{petId}"].pop("delete")


def _required_param(d: Doc) -> None:
    _op(d, "/pets", "get")["parameters"].append({"name": "shop", "in": "query", "required": True, "type": "string"})


def _drop_param(d: Doc) -> None:
    _op(d, "/pets", "get")["parameters"].pop(1)


def _relocate(d: Doc) -> None:
    _op(d, "/pets", "get")["parameters"][1]["in"] = "header"


def _now_required(d: Doc) -> None:
    _op(d, "/pets", "get")["parameters"][1]["required"] = True


def _param_hidden(d: Doc) -> None:
    _op(d, "/pets", "get")["parameters"][1]["x-ms-visibility"] = "internal"


def _input_type(d: Doc) -> None:
    d["definitions"]["NewPet"]["properties"]["tag"]["type"] = "integer"


def _input_format(d: Doc) -> None:
    d["definitions"]["NewPet"]["properties"]["tag"]["format"] = "date"


def _enum_added(d: Doc) -> None:
    d["definitions"]["NewPet"]["properties"]["tag"]["enum"] = ["cat", "dog"]


def _enum_removed(d: Doc) -> None:
    _op(d, "/pets", "get")["parameters"][1]["enum"].remove("sold")


def _required_field(d: Doc) -> None:
    d["definitions"]["NewPet"]["required"].append("tag")


def _output_deleted(d: Doc) -> None:
    del _op(d, "/pets/{petId}", "get")["responses"]["200"]["schema"]
    _op(d, "/pets/{petId}", "get")["responses"]["200"]["schema"] = {
        "type": "object", "properties": {"id": {"type": "integer", "format": "int64"}, "name": {"type": "string"},
                                         "status": {"type": "string"}}}  # fmt: skip


def _output_type(d: Doc) -> None:
    _op(d, "/pets/{petId}", "get")["responses"]["200"]["schema"] = {
        "type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"},
                                         "tag": {"type": "string"}, "status": {"type": "string"}}}  # fmt: skip


def _output_format(d: Doc) -> None:
    _op(d, "/pets/{petId}", "get")["responses"]["200"]["schema"] = {
        "type": "object", "properties": {"id": {"type": "integer", "format": "int32"}, "name": {"type": "string"},
                                         "tag": {"type": "string"}, "status": {"type": "string"}}}  # fmt: skip


def _auth(d: Doc) -> None:
    d["securityDefinitions"] = {"basic": {"type": "basic"}}
    d["security"] = [{"basic": []}]


CASES: list[tuple[str, Callable[[Doc], None], str, str]] = [
    ("OperationDeleted", _rename, "/paths/~1pets~1{petId}/delete", "operation/DeletePet"),
    ("OperationHidden", _hide, "/paths/~1pets/post/x-ms-visibility", "operation/CreatePet/x-ms-visibility"),
    ("OperationMethodChanged", _verb, "/paths/~1pets~1{petId}/put", "operation/DeletePet"),
    ("RequiredParameterAdded", _required_param, "/paths/~1pets/get/parameters/2", "operation/ListPets/parameter/shop"),
    ("ParameterDeleted", _drop_param, "/paths/~1pets/get/parameters/1", "operation/ListPets/parameter/status"),
    ("ParameterLocationChanged", _relocate, "/paths/~1pets/get/parameters/1/in", "operation/ListPets/parameter/status"),
    ("ParameterBecameRequired", _now_required, "/paths/~1pets/get/parameters/1/required",
     "operation/ListPets/parameter/status"),
    ("ParameterHidden", _param_hidden, "/paths/~1pets/get/parameters/1",
     "operation/ListPets/parameter/status/x-ms-visibility"),
    ("InputTypeChanged", _input_type, "/definitions/NewPet/properties/tag",
     "operation/CreatePet/parameter/body/schema/tag/type"),
    ("InputFormatChanged", _input_format, "/definitions/NewPet/properties/tag",
     "operation/CreatePet/parameter/body/schema/tag/format"),
    ("InputEnumAdded", _enum_added, "/definitions/NewPet/properties/tag/enum",
     "operation/CreatePet/parameter/body/schema/tag/enum"),
    ("InputEnumValueRemoved", _enum_removed, "/paths/~1pets/get/parameters/1/enum",
     "operation/ListPets/parameter/status/enum"),
    ("RequiredInputFieldAdded", _required_field, "/definitions/NewPet/properties/tag",
     "operation/CreatePet/parameter/body/schema/tag"),
    ("OutputFieldDeleted", _output_deleted, "/definitions/Pet/properties/tag", "operation/GetPet/responses/200/schema/tag"),
    ("OutputTypeChanged", _output_type, "/paths/~1pets~1{petId}/get/responses/200/schema/properties/id",
     "operation/GetPet/responses/200/schema/id/type"),
    ("OutputFormatChanged", _output_format, "/paths/~1pets~1{petId}/get/responses/200/schema/properties/id",
     "operation/GetPet/responses/200/schema/id/format"),
    ("AuthenticationTypeChanged", _auth, "/securityDefinitions", "securityDefinitions"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "mutate", "pointer", "value_path"), CASES, ids=[c[0] for c in CASES])
def test_each_breaking_change_fires_alone(rule, mutate, pointer, value_path):
    old = _base()
    new = copy.deepcopy(old)
    mutate(new)
    found = [(f.rule, f.pointer, f.value_path) for f in _findings(old, new)]
    assert found == [(rule, pointer, value_path)]


def test_path_template_change_is_reported_per_operation():
    old = _base()
    new = copy.deepcopy(old)
    _move(new)
    found = sorted((f.rule, f.value_path) for f in _findings(old, new))
    assert found == [("PathTemplateChanged", "operation/CreatePet"), ("PathTemplateChanged", "operation/ListPets")]


def test_every_breaking_rule_has_a_case():
    covered = {c[0] for c in CASES} | {"PathTemplateChanged"}
    assert covered == {r.id for r in breaking_rules()}


def test_no_change_and_safe_changes_are_silent():
    old = _base()
    assert _findings(old, copy.deepcopy(old)) == []
    new = copy.deepcopy(old)
    _op(new, "/pets", "get")["parameters"].append({"name": "color", "in": "query", "type": "string"})
    new["paths"]["/toys"] = {"get": {"operationId": "ListToys", "responses": {"200": {"description": "Toys."}}}}
    new["paths"]["/pets/{petId}"]["parameters"][0]["description"] = "Changed wording."
    _op(new, "/pets", "get")["parameters"][1]["enum"].append("reserved")
    _op(new, "/pets", "get")["parameters"].append({"name": "page", "in": "query", "required": True, "type": "integer",
                                                   "default": 1, "x-ms-visibility": "internal"})  # fmt: skip
    assert _findings(old, new) == []


def test_identity_provider_change_in_api_properties():
    old = _base()
    props = {"properties": {"connectionParameters": {"token": {"type": "oauthSetting",
             "oAuthSettings": {"identityProvider": "aad"}}}}}  # fmt: skip
    changed = copy.deepcopy(props)
    changed["properties"]["connectionParameters"]["token"]["oAuthSettings"]["identityProvider"] = "oauth2"
    found = _findings(old, copy.deepcopy(old), props, changed)
    assert [(f.rule, f.pointer) for f in found] == [("AuthenticationTypeChanged", "/properties/connectionParameters")]


def test_cli_diff_exit_codes_and_json(tmp_path):
    runner = CliRunner()
    old = tmp_path / "old.json"
    new = tmp_path / "new.json"
    doc = _base()
    old.write_text(json.dumps(doc, indent=4))
    _rename(doc)
    new.write_text(json.dumps(doc, indent=4))
    same = runner.invoke(app, ["diff", str(old), str(old)])
    assert same.exit_code == 0
    changed = runner.invoke(app, ["diff", str(old), str(new), "--format", "json"])
    assert changed.exit_code == 1
    [finding] = json.loads(changed.stdout)["results"][0]["findings"]
    assert finding["rule"] == "OperationDeleted" and finding["value_path"] == "operation/DeletePet"
    assert finding["file"] == str(old) and finding["line"] > 1
    text = runner.invoke(app, ["diff", str(old), str(new)]).stdout
    assert "ValuePath: operation/DeletePet" in text
    ignored = runner.invoke(app, ["diff", str(old), str(new), "--ignore", "OperationDeleted"])
    assert ignored.exit_code == 0
    missing = runner.invoke(app, ["diff", str(old), str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr
