"""Edge cases of the Operations (part 2) and Webhooks rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.lint.harness import Files, _base, files_of, op, package_of

from connectorkit.lint.engine import active_rules, lint_package
from connectorkit.lint.registry import Profile

P = "/paths/~1pets"
PUSHCUT = "certified-connectors/Pushcut"


def findings(mutate: Callable[[Files], None], *rules: str, base: str = "example") -> list[tuple[str, str]]:
    files = files_of(base)
    mutate(files)
    package = package_of(files, _base(base))
    chosen = active_rules(Profile.CUSTOM, select=rules)
    return sorted((f.rule, f.pointer or "") for f in lint_package(package, chosen))


def messages(mutate: Callable[[Files], None], rule: str, base: str = "example") -> list[str]:
    files = files_of(base)
    mutate(files)
    package = package_of(files, _base(base))
    return [f.message for f in lint_package(package, active_rules(Profile.CUSTOM, select=(rule,)))]


# --------------------------------------------------------------------------- parameters lists

DUPLICATES = ("OperationParametersAreNotUnique", "OperationParametersContainDuplicateParameter")


def test_an_operation_may_override_a_path_level_parameter() -> None:
    def override(f: Files) -> None:
        op(f, "/pets/{petId}", "get")["parameters"] = [
            {"name": "petId", "in": "path", "required": True, "type": "string", "description": "Other."}
        ]

    assert findings(override, *DUPLICATES, "PathParametersContainDuplicateParameter") == []


def test_identical_and_conflicting_duplicates_are_told_apart() -> None:
    def both(f: Files) -> None:
        params = op(f, "/pets", "get")["parameters"]
        params.append(dict(params[1]))  # the same object again
        params.append(dict(params[1], type="integer"))  # same name and location, another definition

    assert findings(both, *DUPLICATES) == [
        ("OperationParametersAreNotUnique", f"{P}/get/parameters/2"),
        ("OperationParametersContainDuplicateParameter", f"{P}/get/parameters/3"),
    ]


def test_duplicate_message_names_the_parameter() -> None:
    def twice(f: Files) -> None:
        params = op(f, "/pets", "get")["parameters"]
        params.append(dict(params[1], description="Again."))

    assert messages(twice, "OperationParametersContainDuplicateParameter") == [
        "The operation 'ListPets' contains duplicate parameters with name 'status', location 'query'."
    ]


# --------------------------------------------------------------------------- consumes and form data

FORM_RULES = (
    "ConsumesMissing",
    "MimeTypeNotCompatibleWithRequestContentSchemaType",
    "StringBinaryNotSupportedForFormUrlEncoded",
)


def _upload(consumes: list[str] | None, **field: Any) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        param = {"name": "photo", "in": "formData", "type": "file", "required": True} | field
        operation: dict[str, Any] = {
            "operationId": "Upload",
            "parameters": [param],
            "responses": {"204": {"description": "Done."}},
        }
        if consumes is not None:
            operation["consumes"] = consumes
        f.definition["paths"]["/photos"] = {"post": operation}

    return mutate


def test_a_json_body_needs_no_consumes() -> None:
    def no_consumes(f: Files) -> None:
        del f.definition["consumes"]

    assert findings(no_consumes, *FORM_RULES) == []


def test_form_data_without_any_consumes_is_missing() -> None:
    def mutate(f: Files) -> None:
        del f.definition["consumes"]
        _upload(None)(f)

    assert findings(mutate, *FORM_RULES) == [("ConsumesMissing", "/paths/~1photos/post")]


def test_media_type_parameters_are_ignored() -> None:
    assert findings(_upload(["multipart/form-data; boundary=x"]), *FORM_RULES) == []


def test_multipart_next_to_url_encoding_carries_files() -> None:
    both = ["application/x-www-form-urlencoded", "multipart/form-data"]
    assert findings(_upload(both), *FORM_RULES) == []


def test_text_fields_may_be_url_encoded() -> None:
    assert findings(_upload(["application/x-www-form-urlencoded"], type="string"), *FORM_RULES) == []


def test_binary_string_is_not_url_encodable() -> None:
    mutate = _upload(["application/x-www-form-urlencoded"], type="string", format="binary")
    assert findings(mutate, *FORM_RULES) == [
        ("StringBinaryNotSupportedForFormUrlEncoded", "/paths/~1photos/post/parameters/0")
    ]


def test_a_body_may_be_sent_form_encoded() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "post")["consumes"] = ["application/x-www-form-urlencoded"]

    assert findings(mutate, *FORM_RULES) == []


# --------------------------------------------------------------------------- responses and paths


def test_error_schemas_are_not_outputs() -> None:
    def mutate(f: Files) -> None:
        op(f, "/pets", "post")["responses"]["400"] = {"description": "Bad.", "schema": {"type": "object"}}

    assert findings(mutate, "OperationHasManyResponsesWithSchema") == []


def test_partial_duplicate_is_reported_on_the_variable_side_only() -> None:
    def mutate(f: Files) -> None:
        f.definition["paths"]["/pets/{petId}/toys/{toyId}"] = {
            "get": {"operationId": "GetToy", "responses": {"200": {"description": "The toy."}}}
        }
        f.definition["paths"]["/pets/{petId}/toys/latest"] = {
            "get": {"operationId": "GetLatestToy", "responses": {"200": {"description": "The toy."}}}
        }

    found = findings(mutate, "PartialDuplicateOperationPath")
    assert ("PartialDuplicateOperationPath", "/paths/~1pets~1{petId}~1toys~1{toyId}/get") in found
    assert not any("latest" in pointer for _, pointer in found)


def test_same_shape_paths_are_not_partial_duplicates() -> None:
    def mutate(f: Files) -> None:
        f.definition["paths"]["/shops/{a}"] = {"get": {"operationId": "A", "responses": {"200": {"description": "A."}}}}
        f.definition["paths"]["/shops/{b}"] = {"get": {"operationId": "B", "responses": {"200": {"description": "B."}}}}

    assert findings(mutate, "PartialDuplicateOperationPath") == []


def test_a_variable_that_cannot_take_the_fixed_text_is_not_misrouted() -> None:
    # The example has GET /pets/{petId} with an integer petId next to GET /pets/arrivals.
    assert findings(lambda f: None, "PartialDuplicateOperationPath") == []

    def string_id(f: Files) -> None:
        param = f.definition["paths"]["/pets/{petId}"]["parameters"][0]
        param["type"] = "string"
        del param["format"]

    assert findings(string_id, "PartialDuplicateOperationPath") == [
        ("PartialDuplicateOperationPath", "/paths/~1pets~1{petId}/get")
    ]

    def enum_id(f: Files) -> None:
        string_id(f)
        f.definition["paths"]["/pets/{petId}"]["parameters"][0]["enum"] = ["a", "b"]

    assert findings(enum_id, "PartialDuplicateOperationPath") == []


def test_recursive_schemas_are_counted_once_per_cycle() -> None:
    def mutate(f: Files) -> None:
        f.definition["definitions"]["Node"] = {
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/Node"}}},
        }
        op(f, "/pets", "get")["responses"]["200"]["schema"] = {"$ref": "#/definitions/Node"}

    assert findings(mutate, "OperationSchemaCountExceedsMaxAllowed") == []


# --------------------------------------------------------------------------- versioning


def _annotate(operation_id: str, annotation: dict[str, Any]) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        for item in f.definition["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                    operation["x-ms-api-annotation"] = annotation

    return mutate


def test_revision_suffix_variants_are_accepted() -> None:
    for new_id in ("ListPetsV2", "ListPets_v2", "ListPets_V2"):

        def mutate(f: Files, new_id: str = new_id) -> None:
            listing = op(f, "/pets", "get")
            listing["operationId"] = new_id
            listing["x-ms-api-annotation"] = {"family": "ListPets", "revision": 2}

        assert findings(mutate, "OperationIdShouldEndWithRevision") == []


def test_revision_suffix_message() -> None:
    mutate = _annotate("ListPets", {"family": "ListPets", "revision": 3})
    assert messages(mutate, "OperationIdShouldEndWithRevision") == [
        "The operation Id 'ListPets' should end with revision suffix '_V3'."
    ]


def test_production_operation_without_connector_status_is_accepted() -> None:
    assert findings(_annotate("ListPets", {"status": "Production"}), "OperationStatusAheadOfConnector") == []


def test_deprecated_members_do_not_count_as_active() -> None:
    def mutate(f: Files) -> None:
        _annotate("GetPet", {"family": "ListPets", "revision": 2})(f)
        _annotate("DeletePet", {"family": "ListPets", "revision": 3})(f)
        op(f, "/pets", "get")["deprecated"] = True

    assert findings(mutate, "OperationFamilyHasManyActiveOperations") == []


# --------------------------------------------------------------------------- notification URL

URL_RULES = (
    "NotificationUrlNotAllowedInThisPosition",
    "NotificationUrlNotInternal",
    "NotificationUrlNotRequired",
    "NotificationUrlNotString",
)


def _subscription(f: Files) -> dict[str, Any]:
    value: dict[str, Any] = f.definition["definitions"]["Subscription"]
    return value


def test_the_body_parameter_itself_need_not_be_required() -> None:
    def mutate(f: Files) -> None:
        op(f, "/subscriptions", "post")["parameters"][0]["required"] = False

    assert findings(mutate, *URL_RULES, base=PUSHCUT) == []


def test_an_internal_parent_hides_the_url() -> None:
    def mutate(f: Files) -> None:
        subscription = _subscription(f)
        url = subscription["properties"].pop("url")
        del url["x-ms-visibility"]
        subscription["properties"]["hook"] = {
            "type": "object",
            "x-ms-visibility": "internal",
            "required": ["url"],
            "properties": {"url": url},
        }
        subscription["required"] = ["hook", "actionName"]

    assert findings(mutate, *URL_RULES, base=PUSHCUT) == []


def test_every_level_must_be_required() -> None:
    def mutate(f: Files) -> None:
        subscription = _subscription(f)
        url = subscription["properties"].pop("url")
        subscription["properties"]["hook"] = {"type": "object", "required": ["url"], "properties": {"url": url}}
        subscription["required"] = ["actionName"]

    assert findings(mutate, *URL_RULES, base=PUSHCUT) == [
        ("NotificationUrlNotRequired", "/definitions/Subscription/properties/hook/properties/url")
    ]


def test_a_url_without_type_is_accepted() -> None:
    def mutate(f: Files) -> None:
        del _subscription(f)["properties"]["url"]["type"]

    assert findings(mutate, *URL_RULES, base=PUSHCUT) == []


def test_a_url_in_an_inline_response_is_misplaced() -> None:
    def mutate(f: Files) -> None:
        op(f, "/devices", "get")["responses"]["200"]["schema"]["items"]["properties"]["hook"] = {
            "type": "string",
            "x-ms-notification-url": True,
        }

    pointer = "/paths/~1devices/get/responses/200/schema/items/properties/hook/x-ms-notification-url"
    assert findings(mutate, *URL_RULES, base=PUSHCUT) == [("NotificationUrlNotAllowedInThisPosition", pointer)]


def test_a_definition_shared_by_body_and_response_is_an_input() -> None:
    def mutate(f: Files) -> None:
        op(f, "/devices", "get")["responses"]["200"]["schema"] = {"$ref": "#/definitions/Subscription"}

    assert findings(mutate, *URL_RULES, base=PUSHCUT) == []


def test_webhook_detection_follows_references_for_notification_content() -> None:
    def mutate(f: Files) -> None:
        del f.definition["paths"]["/subscriptions"]["x-ms-notification-content"]

    assert messages(mutate, "OperationMustHaveNotificationContentExtension", base=PUSHCUT) == [
        "The operation 'ActionExecuted' is missing notification content extension as it has '1' properties marked "
        "as notification URL."
    ]
