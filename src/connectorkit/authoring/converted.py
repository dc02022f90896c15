"""What an importer hands back: the Swagger 2.0 definition and facts the connector needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Converted:
    """A Swagger 2.0 definition made from another format.

    ``bearer_schemes`` names the ``securityDefinitions`` entries (type apiKey, in header,
    name Authorization) that stand for an HTTP bearer token: the connector must send
    ``Authorization: Bearer <key>``, which ``connectorkit new`` does with a setheader policy.
    ``servers`` lists every server URL of the source, first one used as host/basePath.
    ``per_tenant_host`` is set when the host has variables the user must choose (a
    connection parameter and a dynamichosturl policy then carry it).
    """

    swagger: dict[str, Any]
    bearer_schemes: set[str] = field(default_factory=set)
    servers: list[str] = field(default_factory=list)
    host_parameters: dict[str, Any] = field(default_factory=dict)  # server variable -> {default, enum, description}
    url_template: str | None = None  # e.g. "https://@connectionParameters('region').example.com/v1"
    minify: bool = False  # the definition fits the platform's 1 MB only when written as compact JSON
