"""Seeded defects for the Parameters, Arrays, Not supported and enum rules."""

from __future__ import annotations

from typing import Any

from tests.lint.harness import Files, Seed, op

from connectorkit.lint.registry import Profile

P = "/paths/~1pets"
PID = "/paths/~1pets~1{petId}"
XKCD = "independent-publisher-connectors/xkcd"


def _query(name: str, **extra: Any) -> dict[str, Any]:
    """A documented query parameter, so only the property under test is unusual."""
    return {"name": name, "in": "query", "x-ms-summary": name.title(), "description": f"The {name}.", **extra}


def _status(f: Files) -> dict[str, Any]:
    status: dict[str, Any] = op(f, "/pets", "get")["parameters"][1]
    assert status["name"] == "status"
    return status


# --------------------------------------------------------------------------- parameters


def _file_in_query(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append(_query("photo", type="file"))


def _form_data_and_body(f: Files) -> None:
    op(f, "/pets", "post")["consumes"] = ["application/json", "multipart/form-data"]
    op(f, "/pets", "post")["parameters"].append(
        {"name": "note", "in": "formData", "type": "string", "x-ms-summary": "Note", "description": "A note."}
    )


def _reference_not_found(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append({"$ref": "#/parameters/offset"})


def _reference_not_valid(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append({"$ref": "common.json#/parameters/limit"})


def _parameter_ref_loop(f: Files) -> None:
    f.definition["parameters"]["max"] = {"$ref": "#/parameters/limit"}
    op(f, "/pets/arrivals", "get")["parameters"][0] = {"$ref": "#/parameters/max"}


def _response_ref_loop(f: Files) -> None:
    f.definition["responses"] = {
        "Gone": {"description": "No pet has this identifier."},
        "NotFound": {"$ref": "#/responses/Gone"},
    }
    op(f, "/pets/{petId}", "get")["responses"]["404"] = {"$ref": "#/responses/NotFound"}


def _drop_path_encoding(f: Files) -> None:
    param = op(f, "/{number}/info.0.json", "get")["parameters"][0]
    assert param["in"] == "path"
    del param["x-ms-url-encoding"]


def _query_encoding(f: Files) -> None:
    _status(f)["x-ms-url-encoding"] = "double"


# --------------------------------------------------------------------------- not supported


def _multi_in_header(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append(
        {
            "name": "X-Tags",
            "in": "header",
            "type": "array",
            "items": {"type": "string"},
            "collectionFormat": "multi",
            "x-ms-summary": "Tags",
            "description": "The tags.",
        }
    )


def _path_item_ref(f: Files) -> None:
    f.definition["paths"]["/animals"] = {"$ref": "#/paths/~1pets"}


def _unique_items(f: Files) -> None:
    op(f, "/pets", "get")["responses"]["200"]["schema"]["uniqueItems"] = True


# --------------------------------------------------------------------------- arrays


def _array_without_items(f: Files) -> None:
    del op(f, "/pets", "get")["responses"]["200"]["schema"]["items"]


def _query_array_without_items(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append(_query("tags", type="array"))


def _required_empty(f: Files) -> None:
    f.definition["definitions"]["NewPet"]["required"] = []


def _schemes_empty(f: Files) -> None:
    op(f, "/pets", "get")["schemes"] = []


# --------------------------------------------------------------------------- enums


def _duplicate_enum(f: Files) -> None:
    _status(f)["enum"].append("sold")


def _duplicate_scheme(f: Files) -> None:
    f.definition["produces"].append("application/json")


def _invalid_enum_value(f: Files) -> None:
    _status(f)["enum"].append(42)


def _enum_values(*values: str) -> list[dict[str, str]]:
    return [{"value": value, "displayName": f"{value.title()} ({index})"} for index, value in enumerate(values)]


def _duplicate_enum_values(f: Files) -> None:
    _status(f)["x-ms-enum-values"] = _enum_values("available", "pending", "available")


def _enum_value_not_in_enum(f: Files) -> None:
    _status(f)["x-ms-enum-values"] = _enum_values("available", "lost", "sold")


SEEDS = [
    Seed("FileParameterMustBeInFormData", _file_in_query, (f"{P}/get/parameters/2",)),
    Seed("ParameterListContainsFormDataAndBody", _form_data_and_body, (f"{P}/post/parameters",)),
    Seed("ParameterReferenceNotFound", _reference_not_found, (f"{P}/get/parameters/2/$ref",)),
    Seed("ParameterReferenceNotValid", _reference_not_valid, (f"{P}/get/parameters/2/$ref",)),
    Seed("ParameterRefLoopNotAllowed", _parameter_ref_loop, ("/parameters/max/$ref",)),
    Seed("ResponseRefLoopNotAllowed", _response_ref_loop, ("/responses/NotFound/$ref",)),
    Seed(
        "PathParameterMissingEncoding",
        _drop_path_encoding,
        ("/paths/~1{number}~1info.0.json/get/parameters/0",),
        base=XKCD,
        profile=Profile.CERTIFIED,
    ),
    Seed("QueryParameterEncodingNotSupported", _query_encoding, (f"{P}/get/parameters/1/x-ms-url-encoding",)),
    Seed("CollectionFormatValueNotSupported", _multi_in_header, (f"{P}/get/parameters/2/collectionFormat",)),
    Seed("PathItemRefNotSuppored", _path_item_ref, ("/paths/~1animals/$ref",)),
    Seed("SwaggerKeywordNotSupported", _unique_items, (f"{P}/get/responses/200/schema/uniqueItems",)),
    Seed("ArrayHasNoItems", _array_without_items, (f"{P}/get/responses/200/schema",)),
    Seed("ArrayHasNoItems", _query_array_without_items, (f"{P}/get/parameters/2",), note="parameter"),
    Seed("RequiredPropertyArrayEmpty", _required_empty, ("/definitions/NewPet/required",)),
    Seed("SchemesArrayEmpty", _schemes_empty, (f"{P}/get/schemes",)),
    Seed("ArrayDuplicateValue", _duplicate_enum, (f"{P}/get/parameters/1/enum/3",)),
    Seed("ArrayDuplicateValue", _duplicate_scheme, ("/produces/1",), note="produces"),
    Seed("InvalidEnumValue", _invalid_enum_value, (f"{P}/get/parameters/1/enum/3",)),
    Seed("DuplicateEnumValuesInExtension", _duplicate_enum_values, (f"{P}/get/parameters/1/x-ms-enum-values/2",)),
    Seed(
        "InvalidEnumValuesExtensionValue",
        _enum_value_not_in_enum,
        (f"{P}/get/parameters/1/x-ms-enum-values/1/value",),
    ),
]
