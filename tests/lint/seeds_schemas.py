"""Seeded defects for the schema property ("Properties") and validation keyword ("Metadata") rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.lint.harness import Files, Seed, op

from connectorkit.lint.registry import Profile

P = "/paths/~1pets"
PID = "/paths/~1pets~1{petId}"
LIMIT = "/parameters/limit"
NEW_PET = "/definitions/NewPet"
PET = "/definitions/Pet"
PETS_200 = f"{P}/get/responses/200"


def _limit(f: Files) -> dict[str, Any]:
    value: dict[str, Any] = f.definition["parameters"]["limit"]
    return value


def _definition(f: Files, name: str) -> dict[str, Any]:
    value: dict[str, Any] = f.definition["definitions"][name]
    return value


def _prop(f: Files, definition: str, name: str) -> dict[str, Any]:
    value: dict[str, Any] = _definition(f, definition)["properties"][name]
    return value


def _pets_array(f: Files) -> dict[str, Any]:
    value: dict[str, Any] = op(f, "/pets", "get")["responses"]["200"]["schema"]
    return value


def _set(target: Callable[[Files], dict[str, Any]], **values: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        target(f).update(values)

    return mutate


def _undefined_required(f: Files) -> None:
    _definition(f, "NewPet")["required"].append("age")


def _required_on_string(f: Files) -> None:
    _prop(f, "Pet", "name")["required"] = ["first"]


def _read_only_required_input(f: Files) -> None:
    _prop(f, "NewPet", "name")["readOnly"] = True


def _enum_values_without_display_name(f: Files) -> None:
    op(f, "/pets", "get")["parameters"][1]["x-ms-enum-values"] = [
        {"value": "available", "displayName": "Available"},
        {"value": "pending"},
        {"value": "sold", "displayName": "Sold"},
    ]


def _filter_functions(definition: str, functions: list[str]) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        _prop(f, definition, "name")["x-ms-capabilities"] = {"filterFunctions": functions}

    return mutate


def _allow_empty_in_path(f: Files) -> None:
    f.definition["paths"]["/pets/{petId}"]["parameters"][0]["allowEmptyValue"] = True


def _allow_empty_in_body(f: Files) -> None:
    op(f, "/pets", "post")["parameters"][0]["allowEmptyValue"] = False


def _header(**keywords: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        op(f, "/pets", "get")["responses"]["200"]["headers"] = {
            "X-Next": {"type": "string", "description": "Cursor of the next page.", **keywords}
        }

    return mutate


def _array_query(**item_keywords: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        op(f, "/pets", "get")["parameters"].append(
            {
                "name": "tags",
                "in": "query",
                "type": "array",
                "items": {"type": "string", **item_keywords},
                "collectionFormat": "csv",
                "x-ms-summary": "Tags",
                "description": "Only pets with these tags.",
            }
        )

    return mutate


NAME = f"{NEW_PET}/properties/name"
TAG = f"{PET}/properties/tag"
FF = "x-ms-capabilities/filterFunctions"

SEEDS = [
    Seed("RequiredPropertyDefinitionMissing", _undefined_required, (f"{NEW_PET}/required/1",)),
    Seed("RequiredPropertyNotOnObject", _required_on_string, (f"{PET}/properties/name/required",)),
    Seed("RequiredReadOnlyPropertyNotAllowedAsInput", _read_only_required_input, (NAME,)),
    Seed("DefaultValueMustMatchType", _set(_limit, default="20"), (f"{LIMIT}/default",)),
    Seed(
        "DefaultValueMustMatchType",
        _set(lambda f: _prop(f, "NewPet", "tag"), default=3),
        (f"{NEW_PET}/properties/tag/default",),
        note="schema",
    ),
    Seed(
        "EnumMustContainAtLeastOneElement",
        lambda f: op(f, "/pets", "get")["parameters"][1].update(enum=[]),
        (f"{P}/get/parameters/1/enum",),
    ),
    Seed("MultipleOfMustBeGreaterThanZero", _set(_limit, multipleOf=0), (f"{LIMIT}/multipleOf",)),
    Seed("InternalPropertyWithDefaultOptional", _set(_limit, **{"x-ms-visibility": "internal"}), (LIMIT,)),
    Seed(
        "PropertyMustBeRequired", _set(_limit, **{"x-ms-visibility": "internal"}), (LIMIT,), profile=Profile.CERTIFIED
    ),
    Seed(
        "PropertyMustBeRequired",
        _set(lambda f: _prop(f, "NewPet", "tag"), default="new", **{"x-ms-visibility": "internal"}),
        (f"{NEW_PET}/properties/tag",),
        profile=Profile.CERTIFIED,
        note="schema",
    ),
    Seed("InvalidStringBinaryProperty", _set(lambda f: _prop(f, "Pet", "tag"), format="binary"), (TAG,)),
    Seed("InvalidStringBinaryProperty", _array_query(format="binary"), (f"{P}/get/parameters/2/items",), note="items"),
    Seed(
        "MissingEnumValuesDisplayName", _enum_values_without_display_name, (f"{P}/get/parameters/1/x-ms-enum-values/1",)
    ),
    Seed("FilterFunctionsPropertyEmpty", _filter_functions("Pet", []), (f"{PET}/properties/name/{FF}",)),
    Seed(
        "FilterFunctionsPropertyHasDuplicates",
        _filter_functions("Pet", ["eq", "startswith", "eq"]),
        (f"{PET}/properties/name/{FF}/2",),
    ),
    Seed("FilterFunctionsPropertyInInputSchema", _filter_functions("NewPet", ["eq"]), (f"{NAME}/{FF}",)),
    Seed("UnrecognizedTypeFormat", _set(lambda f: _prop(f, "Pet", "tag"), format="guid"), (f"{TAG}/format",)),
    Seed("UnrecognizedTypeFormat", _header(format="duration"), (f"{PETS_200}/headers/X-Next/format",), note="header"),
    Seed("AllowEmptyValueOnlyValidForQueryFormData", _allow_empty_in_path, (f"{PID}/parameters/0/allowEmptyValue",)),
    Seed(
        "AllowEmptyValueOnlyValidForQueryFormData",
        _allow_empty_in_body,
        (f"{P}/post/parameters/0/allowEmptyValue",),
        note="body",
    ),
    Seed(
        "DiscriminatorMustBeARequiredStringProperty",
        _set(lambda f: _definition(f, "Pet"), discriminator="status"),
        (f"{PET}/discriminator",),
    ),
    Seed("ExclusiveMaximumRequiresMaximum", _set(_limit, exclusiveMaximum=True), (f"{LIMIT}/exclusiveMaximum",)),
    Seed("ExclusiveMinimumRequiresMinimum", _set(_limit, exclusiveMinimum=True), (f"{LIMIT}/exclusiveMinimum",)),
    Seed("MaxItemsMustBeGreaterThanOrEqualToZero", _set(_pets_array, maxItems=-1), (f"{PETS_200}/schema/maxItems",)),
    Seed("MinItemsMustBeGreaterThanOrEqualToZero", _set(_pets_array, minItems=-1), (f"{PETS_200}/schema/minItems",)),
    Seed(
        "MaxLengthMustBeGreaterThanOrEqualToZero",
        _set(lambda f: _prop(f, "NewPet", "name"), maxLength=-1),
        (f"{NAME}/maxLength",),
    ),
    Seed(
        "MaxLengthMustBeGreaterThanOrEqualToZero",
        _header(maxLength=-5),
        (f"{PETS_200}/headers/X-Next/maxLength",),
        note="header",
    ),
    Seed(
        "MinLengthMustBeGreaterThanOrEqualToZero",
        _array_query(minLength=-1),
        (f"{P}/get/parameters/2/items/minLength",),
    ),
    Seed(
        "MaxPropertiesMustBeGreaterThanOrEqualToZero",
        _set(lambda f: _definition(f, "Pet"), maxProperties=-1),
        (f"{PET}/maxProperties",),
    ),
    Seed(
        "MinPropertiesMustBeGreaterThanOrEqualToZero",
        _set(lambda f: _definition(f, "Pet"), minProperties=-2),
        (f"{PET}/minProperties",),
    ),
    Seed("MinimumShouldBeLessThanOrEqualToMaximum", _set(_limit, minimum=10, maximum=5), (f"{LIMIT}/minimum",)),
    Seed(
        "MinItemsShouldBeLessThanOrEqualToMaxItems",
        _set(_pets_array, minItems=5, maxItems=2),
        (f"{PETS_200}/schema/minItems",),
    ),
    Seed(
        "MinLengthShouldBeLessThanOrEqualToMaxLength",
        _set(lambda f: _prop(f, "NewPet", "name"), minLength=10, maxLength=2),
        (f"{NAME}/minLength",),
    ),
    Seed(
        "PatternShouldBeValidRegularExpression",
        _set(lambda f: _prop(f, "NewPet", "name"), pattern="^[a-z"),
        (f"{NAME}/pattern",),
    ),
]
