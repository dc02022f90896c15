"""The management API's JSON shapes, as pydantic models so FastAPI can describe them in its
OpenAPI document. Field names are snake_case in Python and camelCase on the wire."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class Problem(ApiModel):
    """RFC 9457 problem details: every error the API answers has this body."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


class Health(ApiModel):
    service: str
    version: str


class ConnectorItem(ApiModel):
    name: str
    latest_version: int
    versions: int
    created_at: datetime
    updated_at: datetime


class Upload(ApiModel):
    """A connector package: relative file paths mapped to their base64 content."""

    name: str | None = Field(default=None, description="Name in the store (default: the definition's info.title).")
    files: dict[str, str] = Field(description="apiDefinition.swagger.json, apiProperties.json, ... as base64.")


class Deployed(ApiModel):
    name: str
    version: int


class OperationItem(ApiModel):
    operation_id: str
    summary: str | None = None
    description: str | None = None
    method: str
    path: str
    trigger: str | None = Field(default=None, description="polling or webhook for triggers, else null.")
    visibility: str | None = None
    deprecated: bool = False


class AllowedValue(ApiModel):
    value: Any
    text: str


class ConnectionField(ApiModel):
    """A declared connection parameter, as a form shows it."""

    name: str
    type: str
    display_name: str
    description: str | None = None
    required: bool
    secret: bool
    hidden: bool
    oauth: bool
    default: Any = None
    allowed_values: list[AllowedValue] = []


class ParameterSetItem(ApiModel):
    name: str
    display_name: str
    auth_kind: str
    parameters: list[ConnectionField]


class ConnectorDetail(ApiModel):
    name: str
    title: str
    description: str | None = None
    versions: list[int]
    latest_version: int
    auth_kind: str | None = Field(default=None, description="Without parameter sets: how a connection signs in.")
    connection_parameters: list[ConnectionField]
    parameter_sets: list[ParameterSetItem]
    operations: list[OperationItem]


class DynamicSource(ApiModel):
    """Marks a parameter whose choices come from another operation (x-ms-dynamic-values/-list)."""

    kind: str = Field(description="values or list")
    operation_id: str | None
    parameters: dict[str, Any] = {}


class ParameterItem(ApiModel):
    name: str
    location: str = Field(serialization_alias="in", validation_alias="in")
    type: str | None = None
    format: str | None = None
    required: bool
    visibility: str | None = None
    summary: str | None = None
    description: str | None = None
    default: Any = None
    enum: list[Any] | None = None
    dynamic: DynamicSource | None = None
    body_sample: Any = None


class OperationDetail(OperationItem):
    connector: str
    parameters: list[ParameterItem]


class ConnectionCreate(ApiModel):
    connector: str
    parameters: dict[str, str] = {}
    parameter_set: str | None = None


class Created(ApiModel):
    id: str


class SignInStarted(ApiModel):
    sign_in_url: str
    state: str


class SignInState(ApiModel):
    state: str
    status: str
    connection_id: str | None = None
    error: str | None = None


class ConnectionItem(ApiModel):
    id: str
    connector: str
    parameter_set: str | None = None
    parameters: dict[str, Any] = Field(description="Plain values; secrets as ***.")
    has_access_token: bool
    has_refresh_token: bool
    token_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class TestOutcome(ApiModel):
    id: str
    status: str = Field(description="Connected, Error, Unauthenticated or Untested.")
    http_status: int | None = None


class Invocation(ApiModel):
    connection: str
    operation: str
    arguments: dict[str, Any] = {}
    all_pages: bool = False


class SentRequest(ApiModel):
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: Any = None


class ReceivedResponse(ApiModel):
    status: int
    headers: list[tuple[str, str]]
    body: Any = None


class InvocationResult(ApiModel):
    request: SentRequest
    response: ReceivedResponse
    pages: list[Any]
    notes: list[str]
    attempts: int


class ChoiceItem(ApiModel):
    value: Any
    title: str


class DynamicSchemaItem(ApiModel):
    location: str = Field(description="Where it is declared: 'parameter body/row', 'response 200'.")
    operation_id: str = Field(description="The lookup operation called.")
    properties: list[str] = Field(description="Names of the properties the fetched schema declares.")
    schema_: Any = Field(alias="schema", description="The fetched schema; null when the lookup failed.")
    error: str | None = None


class HistoryItem(ApiModel):
    id: int
    connection_id: str | None
    operation_id: str
    method: str | None
    url: str | None
    request_headers: list[tuple[str, str]]
    request_body: str | None
    status: int | None
    duration_ms: float
    error: str | None
    created_at: datetime


class TriggerCreate(ApiModel):
    """Start a trigger: polling triggers are polled by the server's workers, webhook triggers
    subscribe at once with a callback URL under the server's public URL."""

    connection: str = Field(description="The connection id the trigger runs with.")
    operation: str = Field(description="The trigger's operationId (x-ms-trigger).")
    arguments: dict[str, Any] = Field(default={}, description="The trigger's parameters by name ('body' for a body).")
    target: str | None = Field(
        default=None, description="POST each event's body here (with retries); null keeps events for reading."
    )


class TriggerItem(ApiModel):
    """A stored trigger. Its state (poll cursor, subscription Location) is not shown: a Location
    may carry a signature."""

    id: str
    connection: str
    connector: str
    operation: str
    kind: str = Field(description="polling or webhook.")
    status: str = Field(description="active, stopped (POST .../stop; .../start resumes), unauthenticated or error.")
    last_error: str | None = None
    next_due_at: datetime | None = Field(default=None, description="When a polling trigger is polled next.")
    target: str | None = None
    arguments: dict[str, Any]
    lease_owner: str | None = Field(default=None, description="The worker polling it now, if any.")
    lease_expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class EventItem(ApiModel):
    """One kept trigger event: ``problems`` are the ways its payload did not match the declared schema."""

    id: int
    key: str = Field(description="The stable key the event is deduplicated by.")
    body: Any = None
    problems: list[str] = []
    received_at: datetime
    delivered_at: datetime | None = None
    attempts: int = 0
