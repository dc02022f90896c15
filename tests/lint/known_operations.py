"""Operations-rule errors on connectors Microsoft accepted anyway (see test_corpus_accuracy.py)."""

KNOWN: dict[tuple[str, str, str], str] = {
    (
        "certified-connectors/AzureIoTCentral",
        "OperationMustHaveResponse",
        "/paths/~1api~1preview~1_internal~1workflow~1schema~1WebhookActionBody/get",
    ): "internal schema helper operation written without 'responses'; Swagger 2.0 requires it",
    (
        "certified-connectors/DocuSign",
        "BodyOrFormDataParameterInFetchOperationNotAllowed",
        "/paths/~1build_number/get/parameters/0",
    ): "a GET with a body parameter; HTTP GET carries no body, so the parameter is never sent",
    (
        "certified-connectors/DocuSignDemo",
        "BodyOrFormDataParameterInFetchOperationNotAllowed",
        "/paths/~1build_number/get/parameters/0",
    ): "copy of DocuSign with the same GET-with-body parameter",
}
