"""Edge cases of the schema property and validation keyword rules (rules/schemas.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.lint.harness import Files, files_of, findings_for, op

from connectorkit.lint.registry import REGISTRY, Profile
from connectorkit.lint.rules.schemas import pattern_error


def fired(rule: str, mutate: Callable[[Files], None], profile: Profile = Profile.CUSTOM) -> list[str]:
    """Pointers where ``rule`` fires on the example after ``mutate``."""
    files = files_of("example")
    mutate(files)
    return sorted(p for (r, p), n in findings_for(files, "example", profile).items() for _ in range(n) if r == rule)


def defs(f: Files) -> dict[str, Any]:
    value: dict[str, Any] = f.definition["definitions"]
    return value


# --------------------------------------------------------------------------- required


def test_required_inherited_through_all_of_is_defined() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Dog"] = {
            "allOf": [{"$ref": "#/definitions/Pet"}, {"type": "object", "properties": {"bark": {"type": "string"}}}],
            "required": ["name", "bark"],
        }

    assert fired("RequiredPropertyDefinitionMissing", mutate) == []


def test_required_missing_in_all_of_composition_fires() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Dog"] = {"allOf": [{"$ref": "#/definitions/Pet"}], "required": ["name", "wag"]}

    assert fired("RequiredPropertyDefinitionMissing", mutate) == ["/definitions/Dog/required/1"]


def test_required_with_dynamic_schema_is_not_checked() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Dyn"] = {"type": "object", "required": ["x"], "x-ms-dynamic-schema": {"operationId": "ListPets"}}

    assert fired("RequiredPropertyDefinitionMissing", mutate) == []


def test_required_on_non_object_is_reported_once() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Pet"]["properties"]["tag"]["required"] = ["x"]

    assert fired("RequiredPropertyNotOnObject", mutate) == ["/definitions/Pet/properties/tag/required"]
    assert fired("RequiredPropertyDefinitionMissing", mutate) == []


def test_read_only_required_only_matters_in_inputs() -> None:
    def response_only(f: Files) -> None:
        pet = defs(f)["Pet"]
        pet["required"] = ["id"]
        pet["properties"]["id"]["readOnly"] = True

    assert fired("RequiredReadOnlyPropertyNotAllowedAsInput", response_only) == []

    def through_reference(f: Files) -> None:
        response_only(f)
        defs(f)["NewPet"]["properties"]["friend"] = {"$ref": "#/definitions/Pet"}

    assert fired("RequiredReadOnlyPropertyNotAllowedAsInput", through_reference) == ["/definitions/Pet/properties/id"]


def test_read_only_required_inline_body() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "post")["parameters"][0]["schema"] = {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer", "readOnly": True}},
        }

    assert fired("RequiredReadOnlyPropertyNotAllowedAsInput", mutate) == [
        "/paths/~1pets/post/parameters/0/schema/properties/id"
    ]


# --------------------------------------------------------------------------- default


@pytest.mark.parametrize(
    ("declared", "value", "fires"),
    [
        ("integer", 5, False),
        ("integer", 5.0, False),
        ("integer", 5.5, True),
        ("integer", "5", True),
        ("integer", True, True),
        ("number", 3, False),
        ("boolean", "true", True),
        ("boolean", False, False),
        ("string", 1, True),
        ("array", "a,b", True),
        ("array", ["a"], False),
        ("object", {}, False),
        ("string", None, False),
    ],
)
def test_default_value_must_match_type(declared: str, value: Any, fires: bool) -> None:
    def mutate(f: Files) -> None:
        f.definition["parameters"]["limit"].update(type=declared, default=value)
        f.definition["parameters"]["limit"].pop("format", None)

    assert fired("DefaultValueMustMatchType", mutate) == (["/parameters/limit/default"] if fires else [])


def test_default_message_names_both_types() -> None:
    rule = REGISTRY.get("DefaultValueMustMatchType")
    assert rule is not None
    assert rule.format(("string", "integer")) == (
        "The 'default' value is of type 'string', but should match the given type 'integer'."
    )


# --------------------------------------------------------------------------- internal with default


def test_internal_optional_with_default_exemptions() -> None:
    def trigger_state(f: Files) -> None:
        op(f, "/pets/arrivals", "get")["parameters"].append(
            {"name": "since", "in": "query", "type": "integer", "default": 0, "x-ms-visibility": "internal",
             "x-ms-trigger-value": {"value-collection": "value", "value-path": "id"}}
        )  # fmt: skip

    assert fired("InternalPropertyWithDefaultOptional", trigger_state) == []

    def required(f: Files) -> None:
        f.definition["parameters"]["limit"].update({"x-ms-visibility": "internal", "required": True})

    assert fired("InternalPropertyWithDefaultOptional", required) == []

    def response_property(f: Files) -> None:
        defs(f)["Pet"]["properties"]["tag"].update({"x-ms-visibility": "internal", "default": "x"})

    assert fired("InternalPropertyWithDefaultOptional", response_property) == []


def test_internal_default_rules_split_by_profile() -> None:
    def mutate(f: Files) -> None:
        f.definition["parameters"]["limit"]["x-ms-visibility"] = "Internal"

    assert fired("InternalPropertyWithDefaultOptional", mutate) == ["/parameters/limit"]
    assert fired("PropertyMustBeRequired", mutate) == []
    assert fired("InternalPropertyWithDefaultOptional", mutate, Profile.CERTIFIED) == []
    assert fired("PropertyMustBeRequired", mutate, Profile.CERTIFIED) == ["/parameters/limit"]


# --------------------------------------------------------------------------- formats


def test_string_binary_allowed_at_the_top_of_bodies_and_in_form_data() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets/{petId}", "get")["responses"]["200"]["schema"] = {"type": "string", "format": "binary"}
        f.definition["paths"]["/pets/{petId}/photo"] = {
            "post": {
                "operationId": "UploadPhoto",
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"name": "petId", "in": "path", "required": True, "type": "integer"},
                    {"name": "file", "in": "formData", "type": "string", "format": "binary"},
                    {"name": "X-Thumb", "in": "header", "type": "string", "format": "binary"},
                ],
                "responses": {"200": {"description": "Stored."}},
            }
        }

    assert fired("InvalidStringBinaryProperty", mutate) == ["/paths/~1pets~1{petId}~1photo/post/parameters/2"]


def test_unrecognized_format_on_parameter_items_and_known_formats() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "get")["parameters"].append(
            {"name": "ids", "in": "query", "type": "array", "items": {"type": "string", "format": "uuid"}}
        )
        op(f, "/pets", "get")["parameters"].append(
            {"name": "at", "in": "query", "type": "string", "format": "date-no-tz"}
        )
        op(f, "/pets", "get")["parameters"].append(
            {"name": "n", "in": "query", "type": "array", "items": {"type": "number", "format": "decimal"}}
        )

    assert fired("UnrecognizedTypeFormat", mutate) == ["/paths/~1pets/get/parameters/4/items/format"]


# --------------------------------------------------------------------------- discriminator


def test_discriminator_inherited_through_all_of() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Base"] = {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}}
        defs(f)["Dog"] = {"allOf": [{"$ref": "#/definitions/Base"}], "discriminator": "kind"}
        defs(f)["Cat"] = {"allOf": [{"$ref": "#/definitions/Base"}], "discriminator": "lives"}

    assert fired("DiscriminatorMustBeARequiredStringProperty", mutate) == ["/definitions/Cat/discriminator"]


def test_discriminator_must_be_a_string() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Pet"].update(discriminator="id", required=["id"])

    assert fired("DiscriminatorMustBeARequiredStringProperty", mutate) == ["/definitions/Pet/discriminator"]


# --------------------------------------------------------------------------- numbers


def test_bounds_ignore_non_numbers_and_equal_bounds() -> None:
    def mutate(f: Files) -> None:
        defs(f)["Pet"]["properties"]["name"].update(minLength=3, maxLength=3)
        defs(f)["Pet"]["properties"]["tag"].update(minLength="9", maxLength=2)
        f.definition["parameters"]["limit"].update(minimum=True, maximum=0, maxLength=-0.0)

    for rule in ("MinLengthShouldBeLessThanOrEqualToMaxLength", "MinimumShouldBeLessThanOrEqualToMaximum",
                 "MaxLengthMustBeGreaterThanOrEqualToZero"):  # fmt: skip
        assert fired(rule, mutate) == [], rule


def test_exclusive_bound_with_its_bound_is_fine() -> None:
    def mutate(f: Files) -> None:
        f.definition["parameters"]["limit"].update(maximum=100, exclusiveMaximum=True)

    assert fired("ExclusiveMaximumRequiresMaximum", mutate) == []


# --------------------------------------------------------------------------- pattern


@pytest.mark.parametrize(
    "pattern",
    [
        "^[a-z]+$",
        r"(?<year>\d{4})-\k<year>",  # ECMA-262 named groups
        r"\p{L}+",  # Unicode property escapes
        r"[\w-.]+",  # a literal '-' after a class escape
        r"\e\z",  # identity escapes
        r"(?<=a+)b",  # variable-width look-behind
        "a(?i)b",  # .NET inline options
        r"\1(a)",  # ECMA-262 octal escape
        "[^]",  # ECMA-262 'any character'
        r"^\/api\/.*$",
        r"\u{1F600}",
        r"\cM",
    ],
)
def test_pattern_accepted_by_some_dialect_is_valid(pattern: str) -> None:
    assert pattern_error(pattern) is None


@pytest.mark.parametrize("pattern", ["(abc", "abc)", "*a", "a**", "[abc", "[z-a]", "a{3,1}", "abc\\"])
def test_pattern_invalid_everywhere_is_reported(pattern: str) -> None:
    assert pattern_error(pattern) is not None
