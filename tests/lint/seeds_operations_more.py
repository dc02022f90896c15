"""Seeded defects for the Operations (part 2) and Webhooks rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.lint.harness import Files, Seed, op

P = "/paths/~1pets"
PID = "/paths/~1pets~1{petId}"
PUSHCUT = "certified-connectors/Pushcut"
ANNOTATION = "x-ms-api-annotation"


# --------------------------------------------------------------------------- parameters lists


def _same_parameter_twice(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append({"$ref": "#/parameters/limit"})


def _two_status_parameters(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append(
        {"name": "status", "in": "query", "type": "string", "x-ms-summary": "Status", "description": "Pet status."}
    )


def _path_level_duplicate(f: Files) -> None:
    params = f.definition["paths"]["/pets/{petId}"]["parameters"]
    params.append(dict(params[0], description="The identifier of the pet."))


def _path_level_two_bodies(f: Files) -> None:
    f.definition["paths"]["/pets/batch"] = {
        "parameters": [
            {"name": "first", "in": "body", "schema": {"$ref": "#/definitions/NewPet"}},
            {"name": "second", "in": "body", "schema": {"$ref": "#/definitions/NewPet"}},
        ]
    }


# --------------------------------------------------------------------------- form data


def _form_operation(
    name: str = "file", kind: str = "file", consumes: list[str] | None = None
) -> Callable[[Files], None]:
    """A new upload operation sending one form data field."""

    def mutate(f: Files) -> None:
        operation: dict[str, Any] = {
            "operationId": "UploadPhoto",
            "summary": "Upload a photo",
            "description": "Uploads a photo of a pet.",
            "parameters": [
                {
                    "name": name,
                    "in": "formData",
                    "type": kind,
                    "required": True,
                    "x-ms-summary": "Photo",
                    "description": "The photo.",
                }
            ],
            "responses": {"204": {"description": "The photo was stored."}},
        }
        if consumes is not None:
            operation["consumes"] = consumes
        f.definition["paths"]["/photos"] = {"post": operation}

    return mutate


PHOTOS = "/paths/~1photos/post"


# --------------------------------------------------------------------------- responses, summary, paths, size


def _second_success_schema(f: Files) -> None:
    op(f, "/pets", "post")["responses"]["200"] = {
        "description": "The pet, when it already existed.",
        "schema": {"$ref": "#/definitions/Pet"},
    }


def _slash_in_summary(f: Files) -> None:
    op(f, "/pets", "get")["summary"] = "List or search pets/animals"


def _static_twin_of_variable_path(f: Files) -> None:
    f.definition["paths"]["/subscriptions/all"] = {
        "delete": {
            "operationId": "DeleteAllSubscriptions",
            "summary": "Remove all action webhooks",
            "description": "Deletes every webhook subscription.",
            "responses": {"204": {"description": "The subscriptions were deleted."}},
            "x-ms-visibility": "internal",
        }
    }


def _huge_responses(f: Files) -> None:
    """34 error responses of 500 schemas each: no single body exceeds 512 schemas, the operation
    exceeds 16,384."""
    f.definition["definitions"]["Problem"] = {
        "type": "object",
        "properties": {f"field{i}": {"type": "string"} for i in range(499)},
    }
    responses = op(f, "/pets/{petId}", "get")["responses"]
    for code in range(400, 434):
        responses[str(code)] = {"description": "The request failed.", "schema": {"$ref": "#/definitions/Problem"}}


# --------------------------------------------------------------------------- versioning


def _annotate(**by_operation: dict[str, Any]) -> Callable[[Files], None]:
    """Set ``x-ms-api-annotation`` on operations named by operationId (``Name__NewId`` renames)."""

    def mutate(f: Files) -> None:
        for item in f.definition["paths"].values():
            for operation in item.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue
                for key, annotation in by_operation.items():
                    old, _, new = key.partition("__")
                    if operation["operationId"] == old:
                        operation[ANNOTATION] = annotation
                        if new:
                            operation["operationId"] = new

    return mutate


def _deprecated_with(replacement: dict[str, Any]) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        listing = op(f, "/pets", "get")
        listing["deprecated"] = True
        listing[ANNOTATION] = {"replacement": replacement}

    return mutate


def _production_ahead(f: Files) -> None:
    f.definition["info"][ANNOTATION] = {"status": "Preview"}
    op(f, "/pets", "get")[ANNOTATION] = {"status": "Production"}


# --------------------------------------------------------------------------- webhooks


def _notification(path: str, method: str, target: str) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        op(f, path, method)["x-ms-notification"] = {"operationId": target}

    return mutate


def _drop_notification_content(f: Files) -> None:
    del f.definition["paths"]["/subscriptions"]["x-ms-notification-content"]


def _subscription_url(**changes: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        url = f.definition["definitions"]["Subscription"]["properties"]["url"]
        for key, value in changes.items():
            if value is None:
                del url[key]
            else:
                url[key] = value

    return mutate


def _url_not_required(f: Files) -> None:
    f.definition["definitions"]["Subscription"]["required"] = ["actionName"]


def _url_in_notification_payload(f: Files) -> None:
    f.definition["definitions"]["EventData"].setdefault("properties", {})["callback"] = {
        "type": "string",
        "description": "Where to answer.",
        "x-ms-notification-url": True,
        "x-ms-visibility": "internal",
    }


SUBSCRIPTION_URL = "/definitions/Subscription/properties/url"

SEEDS = [
    Seed("OperationParametersAreNotUnique", _same_parameter_twice, (f"{P}/get/parameters/2",)),
    Seed("OperationParametersContainDuplicateParameter", _two_status_parameters, (f"{P}/get/parameters/2",)),
    Seed("PathParametersContainDuplicateParameter", _path_level_duplicate, (f"{PID}/parameters/1",)),
    Seed("PathParametersContainMultipleBodyParameters", _path_level_two_bodies, ("/paths/~1pets~1batch/parameters/1",)),
    Seed(
        "InvalidFormDataParameterName",
        _form_operation("fotografía", consumes=["multipart/form-data"]),
        (f"{PHOTOS}/parameters/0/name",),
    ),
    Seed("ConsumesMissing", _form_operation(consumes=[]), (PHOTOS,)),
    Seed("MimeTypeNotCompatibleWithRequestContentSchemaType", _form_operation(), (PHOTOS,)),
    Seed(
        "StringBinaryNotSupportedForFormUrlEncoded",
        _form_operation(consumes=["application/x-www-form-urlencoded"]),
        (f"{PHOTOS}/parameters/0",),
    ),
    Seed("OperationHasManyResponsesWithSchema", _second_success_schema, (f"{P}/post/responses",)),
    Seed("RestrictedCharactersInSummary", _slash_in_summary, (f"{P}/get/summary",)),
    Seed(
        "PartialDuplicateOperationPath",
        _static_twin_of_variable_path,
        ("/paths/~1subscriptions~1{subscriptionId}/delete",),
        base=PUSHCUT,
    ),
    Seed("OperationSchemaCountExceedsMaxAllowed", _huge_responses, (f"{PID}/get",)),
    Seed(
        "OperationFamilyHasDuplicateRevisions",
        _annotate(GetPet={"family": "GetPet", "revision": 1}, ListPets={"family": "GetPet", "revision": 1}),
        (f"{PID}/get/{ANNOTATION}/revision",),
    ),
    Seed("OperationFamilyHasManyEmptyRevisions", _annotate(ListPets={"family": "GetPet"}), (f"{P}/get/{ANNOTATION}",)),
    Seed(
        "OperationRevisionEmpty",
        _annotate(GetPet={"family": "GetPet", "revision": 1}, ListPets={"family": "GetPet"}),
        (f"{P}/get/{ANNOTATION}",),
    ),
    Seed(
        "OperationFamilyHasManyActiveOperations",
        _annotate(
            ListPets={"family": "ListPets", "revision": 1},
            GetPet__GetPet_V2={"family": "ListPets", "revision": 2},
            DeletePet__DeletePet_V3={"family": "ListPets", "revision": 3},
        ),
        (f"{P}/get/{ANNOTATION}",),
    ),
    Seed(
        "OperationFamilyHasManyActiveProductionOperations",
        _annotate(
            ListPets={"family": "ListPets", "revision": 1, "status": "Production"},
            GetPet__GetPet_V2={"family": "ListPets", "revision": 2, "status": "Production"},
        ),
        (f"{P}/get/{ANNOTATION}",),
    ),
    Seed(
        "OperationIdShouldEndWithRevision",
        _annotate(GetPet={"family": "ListPets", "revision": 2}),
        (f"{PID}/get/operationId",),
    ),
    Seed("OperationStatusAheadOfConnector", _production_ahead, (f"{P}/get/{ANNOTATION}/status",)),
    Seed(
        "ApiAnnotationExtensionReplacementInfoForNonDeprecatedOperations",
        _annotate(ListPets={"replacement": {"api": "petstore", "operationId": "GetPet"}}),
        (f"{P}/get/{ANNOTATION}/replacement",),
    ),
    Seed(
        "ApiAnnotationExtensionReplacementInfoMissingApiProperty",
        _deprecated_with({"operationId": "GetPet"}),
        (f"{P}/get/{ANNOTATION}/replacement",),
    ),
    Seed(
        "ApiAnnotationExtensionReplacementInfoMissingOperationIdProperty",
        _deprecated_with({"api": "petstore"}),
        (f"{P}/get/{ANNOTATION}/replacement",),
    ),
    Seed(
        "OperationMustHaveNotificationContentExtension",
        _drop_notification_content,
        ("/paths/~1subscriptions/post",),
        base=PUSHCUT,
    ),
    Seed(
        "WebhookOperationsMissingNotificationUrlProperty",
        _subscription_url(**{"x-ms-notification-url": None}),
        ("/paths/~1subscriptions/post",),
        base=PUSHCUT,
    ),
    Seed(
        "NotificationExtensionSupportedForTriggerOnly",
        _notification("/devices", "get", "ActionExecuted"),
        ("/paths/~1devices/get/x-ms-notification",),
        base=PUSHCUT,
    ),
    Seed(
        "NotificationExtensionNotSupportedInWebhookOperation",
        _notification("/subscriptions", "post", "ActionExecuted"),
        ("/paths/~1subscriptions/post/x-ms-notification",),
        base=PUSHCUT,
    ),
    Seed(
        "NotificationOperationMustBeWebhook",
        _notification("/pets/arrivals", "get", "ListPets"),
        ("/paths/~1pets~1arrivals/get/x-ms-notification/operationId",),
    ),
    Seed(
        "NotificationUrlNotAllowedInThisPosition",
        _url_in_notification_payload,
        ("/definitions/EventData/properties/callback/x-ms-notification-url",),
        base=PUSHCUT,
    ),
    Seed(
        "NotificationUrlNotInternal", _subscription_url(**{"x-ms-visibility": None}), (SUBSCRIPTION_URL,), base=PUSHCUT
    ),
    Seed("NotificationUrlNotRequired", _url_not_required, (SUBSCRIPTION_URL,), base=PUSHCUT),
    Seed("NotificationUrlNotString", _subscription_url(type="integer"), (f"{SUBSCRIPTION_URL}/type",), base=PUSHCUT),
]
