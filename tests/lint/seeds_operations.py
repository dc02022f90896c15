"""Seeded defects for the Operations rules."""

from __future__ import annotations

from tests.lint.harness import Files, Seed, op

P = "/paths/~1pets"
PID = "/paths/~1pets~1{petId}"


def _drop_operation_id(f: Files) -> None:
    del op(f, "/pets", "get")["operationId"]


def _duplicate_operation_id(f: Files) -> None:
    op(f, "/pets", "post")["operationId"] = "ListPets"


def _dash_operation_id(f: Files) -> None:
    op(f, "/pets", "get")["operationId"] = "List-Pets"


def _no_responses(f: Files) -> None:
    op(f, "/pets/{petId}", "delete")["responses"] = {}


def _no_success(f: Files) -> None:
    op(f, "/pets/{petId}", "delete")["responses"] = {"404": {"description": "Not found."}}


def _two_bodies(f: Files) -> None:
    op(f, "/pets", "post")["parameters"].append({"name": "other", "in": "body", "schema": {"type": "object"}})


def _body_in_get(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append({"name": "filter", "in": "body", "schema": {"type": "object"}})


def _connection_id(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append({"name": "connectionId", "in": "query", "type": "string"})


def _optional_path_param(f: Files) -> None:
    f.definition["paths"]["/pets/{petId}"]["parameters"][0]["required"] = False


def _param_not_in_template(f: Files) -> None:
    op(f, "/pets", "get")["parameters"].append({"name": "shop", "in": "path", "required": True, "type": "string"})


def _template_without_param(f: Files) -> None:
    paths = f.definition["paths"]
    paths["/pets/{petId}/toys/{toyId}"] = {"get": {"operationId": "GetToy", "parameters": [
        {"name": "petId", "in": "path", "required": True, "type": "integer"}],
        "responses": {"200": {"description": "The toy."}}}}  # fmt: skip


def _duplicate_route(f: Files) -> None:
    f.definition["paths"]["/pets/{id}"] = {"get": {"operationId": "GetPetById", "parameters": [
        {"name": "id", "in": "path", "required": True, "type": "integer"}],
        "responses": {"200": {"description": "The pet."}}}}  # fmt: skip


def _path_case(f: Files) -> None:
    f.definition["paths"]["/PETS"] = {
        "put": {"operationId": "ReplacePets", "responses": {"200": {"description": "Done."}}}
    }


def _many_operations(f: Files) -> None:
    for index in range(256):
        f.definition["paths"][f"/bulk/item{index}"] = {
            "get": {"operationId": f"Bulk{index}", "responses": {"200": {"description": "Done."}}}
        }


def _new_path(path: str):
    def mutate(f: Files) -> None:
        f.definition["paths"][path] = {"get": {"operationId": "Odd", "responses": {"200": {"description": "Done."}}}}

    return mutate


def _path_default(f: Files) -> None:
    f.definition["paths"]["/odd/{a=1}"] = {"get": {"operationId": "Odd", "parameters": [
        {"name": "a=1", "in": "path", "required": True, "type": "string"}],
        "responses": {"200": {"description": "Done."}}}}  # fmt: skip


def _pageable(f: Files) -> None:
    op(f, "/pets", "get")["x-ms-pageable"] = {"nextLinkName": "next"}


def _long_summary(f: Files) -> None:
    op(f, "/pets", "get")["summary"] = "List " + "pets " * 30


SEEDS = [
    Seed("OperationIdRequired", _drop_operation_id, (f"{P}/get",)),
    Seed("OperationIdNotUnique", _duplicate_operation_id, (f"{P}/post/operationId",)),
    Seed("OperationIdSanitized", _dash_operation_id, (f"{P}/get/operationId",)),
    Seed("OperationMustHaveResponse", _no_responses, (f"{PID}/delete",)),
    Seed("OperationShouldHaveSuccessfulResponse", _no_success, (f"{PID}/delete/responses",)),
    Seed("OperationParametersContainMultipleBodyParameters", _two_bodies, (f"{P}/post/parameters/1",)),
    Seed("BodyOrFormDataParameterInFetchOperationNotAllowed", _body_in_get, (f"{P}/get/parameters/2",)),
    Seed("ConnectionIdParameterNotAllowed", _connection_id, (f"{P}/get/parameters/2/name",)),
    Seed("PathParameterMustBeRequired", _optional_path_param, (f"{PID}/parameters/0",)),
    Seed("PathParameterNotDefinedInTemplate", _param_not_in_template, (f"{P}/get/parameters/2",)),
    Seed("OperationMissingPathParameter", _template_without_param, ("/paths/~1pets~1{petId}~1toys~1{toyId}/get",)),
    Seed("DuplicateOperationPath", _duplicate_route, ("/paths/~1pets~1{id}/get",)),
    Seed("PathRedefined", _path_case, ("/paths/~1PETS",)),
    Seed("TotalOperationsCountExceedsMaxAllowed", _many_operations, ("/paths",)),
    Seed("OperationPathMustStartWithSlash", _new_path("odd"), ("/paths/odd",)),
    Seed("OperationPathContainsUnsupportedCharacters", _new_path("/odd/*"), ("/paths/~1odd~1*",)),
    Seed("OperationPathMayNotContainQueryOrFragment", _new_path("/odd?x=1"), ("/paths/~1odd?x=1",)),
    Seed("OperationPathTemplateNotValid", _new_path("/odd/{a/b}"), ("/paths/~1odd~1{a~1b}",)),
    Seed("OperationPathVariablesContainDefaults", _path_default, ("/paths/~1odd~1{a=1}",)),
    Seed("InvalidNextLinkNameValue", _pageable, (f"{P}/get/x-ms-pageable/nextLinkName",)),
    Seed("OperationSummaryTooLong", _long_summary, (f"{P}/get/summary",)),
]
