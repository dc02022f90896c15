"""Seeded defects for the certification rules (run under the certification profiles)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.lint.harness import Files, Seed, op

from connectorkit.lint.registry import Profile

P = "/paths/~1pets"
PID = "/paths/~1pets~1{petId}"
MD = "/x-ms-connector-metadata"
CERT = Profile.CERTIFIED
IP = Profile.INDEPENDENT_PUBLISHER


def _info(key: str, value: str | None) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        if value is None:
            del f.definition["info"][key]
        else:
            f.definition["info"][key] = value

    return mutate


def _op_field(path: str, method: str, key: str, value: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        if value is None:
            del op(f, path, method)[key]
        else:
            op(f, path, method)[key] = value

    return mutate


def _metadata(*entries: tuple[str, str]) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.definition["x-ms-connector-metadata"] = [{"propertyName": n, "propertyValue": v} for n, v in entries]

    return mutate


WEBSITE = ("Website", "https://petstore.example.com")
PRIVACY = ("Privacy policy", "https://petstore.example.com/privacy")


def _deprecate(f: Files) -> None:
    op(f, "/pets/{petId}", "delete")["deprecated"] = True


def _same_summary(f: Files) -> None:
    op(f, "/pets", "get")["description"] = "List pets."


def _same_parameter_summary(f: Files) -> None:
    op(f, "/pets", "get")["parameters"][1]["description"] = "Status"


def _internal_required(f: Files) -> None:
    status = op(f, "/pets", "get")["parameters"][1]
    status["x-ms-visibility"] = "internal"
    status["required"] = True


def _internal_required_body(f: Files) -> None:
    body = op(f, "/pets", "post")["parameters"][0]
    body["x-ms-visibility"] = "internal"


def _host(value: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        f.definition["host"] = value

    return mutate


def _pad(f: Files) -> None:
    f.definition["definitions"]["Pet"]["properties"]["name"]["description"] = "The pet's name. " * 70_000


LONG_SUMMARY = "List the pets of the shop that match the status given and that arrived in the past week"

SEEDS = [
    Seed("FieldLengthExceeded", _info("title", "Petstore for shops and their owners"), ("/info/title",), profile=CERT),
    Seed("FieldLengthNotInRange", _info("description", "Manage pets."), ("/info/description",), profile=CERT),
    Seed(
        "FieldLengthNotInRange",
        _info("description", "Manage pets. " * 40),
        ("/info/description",),
        profile=CERT,
        note="long",
    ),
    Seed("FieldLengthNotInRange", _info("description", None), ("/info",), profile=CERT, note="missing"),
    Seed("ValueContainsRestrictedWords", _info("title", "Petstore API"), ("/info/title",), profile=CERT),
    Seed(
        "ValueContainsRestrictedWords",
        _info("title", "Petstore Connector"),
        ("/info/title",),
        profile=IP,
        note="connector",
    ),
    Seed(
        "ValueContainsRestrictedWords",
        _info("description", "Manage the pets of a pet shop from your Power  Automate flows and apps."),
        ("/info/description",),
        profile=CERT,
        note="description",
    ),
    Seed("ValueMustEndWithAlphanumeric", _info("title", "Petstore."), ("/info/title",), profile=CERT),
    Seed("ValueMustEndWithAlphanumeric", _info("title", "Petstore "), ("/info/title",), profile=IP, note="space"),
    Seed(
        "TitleContainsIndependentPublisher",
        _info("title", "Pets (Independent Publisher)"),
        ("/info/title",),
        profile=IP,
    ),
    Seed("RequiredValueEmpty", _op_field("/pets", "get", "summary", ""), (f"{P}/get/summary",), profile=CERT),
    Seed("RequiredValueEmpty", _info("title", " "), ("/info/title",), profile=CERT, note="title"),
    Seed(
        "RequiredValueEmpty",
        _metadata(WEBSITE, PRIVACY, ("Categories", " ")),
        (f"{MD}/2/propertyValue",),
        profile=CERT,
        note="metadata",
    ),
    Seed(
        "ValueMustBeInEnglish",
        _info("description", "ペットショップのペットを管理します。ペットの一覧表示、追加、読み取り、削除ができます。"),
        ("/info/description",),
        profile=CERT,
    ),
    Seed(
        "ValueMustBeInEnglish",
        _op_field("/pets/{petId}", "get", "description", "Читает одного питомца."),
        (f"{PID}/get/description",),
        profile=CERT,
        note="operation",
    ),
    Seed(
        "ConnectorMetadataPropertiesMissing",
        _metadata(WEBSITE, ("Categories", "Productivity")),
        (MD,),
        profile=CERT,
    ),
    Seed(
        "InvalidConnectorCategory",
        _metadata(WEBSITE, PRIVACY, ("Categories", "Productivity;Pets")),
        (f"{MD}/2/propertyValue",),
        profile=CERT,
    ),
    Seed(
        "TooManyConnectorCategories",
        _metadata(WEBSITE, PRIVACY, ("Categories", "Productivity; Commerce; Data")),
        (f"{MD}/2/propertyValue",),
        profile=CERT,
    ),
    Seed("OperationSummaryMissing", _op_field("/pets", "get", "summary", None), (f"{P}/get",), profile=CERT),
    Seed("OperationDescriptionMissing", _op_field("/pets", "get", "description", None), (f"{P}/get",), profile=CERT),
    Seed(
        "OperationIdNotPascalCase",
        _op_field("/pets", "get", "operationId", "listPets"),
        (f"{P}/get/operationId",),
        profile=CERT,
    ),
    Seed(
        "OperationIdNotPascalCase",
        _op_field("/pets", "get", "operationId", "List_Pets_V2"),
        (f"{P}/get/operationId",),
        profile=CERT,
        note="underscore",
    ),
    Seed(
        "SummaryEndsWithPunctuation",
        _op_field("/pets", "get", "summary", "List pets "),
        (f"{P}/get/summary",),
        profile=CERT,
    ),
    Seed(
        "DeprecatedOperationNotMarked", _deprecate, (f"{PID}/delete/summary", f"{PID}/delete/description"), profile=CERT
    ),
    Seed("SummaryEqualsDescription", _same_summary, (f"{P}/get/description",), profile=CERT),
    Seed(
        "SummaryEqualsDescription",
        _same_parameter_summary,
        (f"{P}/get/parameters/1/description",),
        profile=CERT,
        note="parameter",
    ),
    Seed(
        "DescriptionWithoutPeriod",
        _op_field("/pets", "get", "description", "Lists the pets in the shop, newest first"),
        (f"{P}/get/description",),
        profile=CERT,
    ),
    Seed(
        "SummaryTooLongForCertification",
        _op_field("/pets", "get", "summary", LONG_SUMMARY),
        (f"{P}/get/summary",),
        profile=CERT,
    ),
    Seed(
        "ProductNameInText",
        _op_field("/pets", "post", "description", "Adds a pet to the shop from a Power Apps form."),
        (f"{P}/post/description",),
        profile=CERT,
    ),
    Seed("InternalRequiredWithoutDefault", _internal_required, (f"{P}/get/parameters/1",), profile=CERT),
    Seed("HostNotProduction", _host("petstore-staging.example.com"), ("/host",), profile=CERT),
    Seed("HostNotProduction", _host("127.0.0.1:8080"), ("/host",), profile=IP, note="ip"),
    Seed("DefinitionTooLarge", _pad, ("",), profile=CERT),
]
