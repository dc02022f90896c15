"""The import pipeline: read, bundle, convert, enrich, fit the budgets.

Every step adds what it changed to one :class:`~connectorkit.authoring.report.Report`. The result
is a Swagger 2.0 definition ready to become a connector (``connectorkit new``) or to be written on
its own (``connectorkit convert``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from connectorkit.authoring.budget import BudgetOptions, fit_budget
from connectorkit.authoring.bundle import bundle
from connectorkit.authoring.converted import Converted
from connectorkit.authoring.enrich import EnrichOptions, enrich
from connectorkit.authoring.openapi3 import convert_openapi3
from connectorkit.authoring.postman import check_postman_version, convert_postman
from connectorkit.authoring.report import Report
from connectorkit.authoring.source import Spec, SpecFormat, is_url
from connectorkit.definition.swagger import Swagger
from connectorkit.errors import InputError

OPENAPI_3 = (SpecFormat.OPENAPI_30, SpecFormat.OPENAPI_31)
POSTMAN = (SpecFormat.POSTMAN_20, SpecFormat.POSTMAN_21)


@dataclass
class ConvertOptions:
    """``enrich`` None means the format's default: on for OpenAPI 3 and Postman (their output
    lacks what connectors need), off for Swagger 2.0 (kept as the author wrote it)."""

    enrich: bool | None = None
    enrich_options: EnrichOptions = field(default_factory=EnrichOptions)
    budget: BudgetOptions = field(default_factory=BudgetOptions)
    oidc_urls: tuple[str, str] | None = None


def convert(
    spec: Spec, options: ConvertOptions | None = None, *, client: httpx.Client | None = None
) -> tuple[Converted, Report]:
    """The Swagger 2.0 definition for ``spec`` and the report of everything done to get it."""
    options = options or ConvertOptions()
    report = Report(source_format=spec.format.value)
    if spec.format is SpecFormat.SWAGGER_2:
        converted = Converted(swagger=bundle(spec, report, client=client))
        _require_swagger_shape(converted.swagger, spec)
    elif spec.format in OPENAPI_3:
        document = bundle(spec, report, client=client)
        source_url = spec.location if is_url(spec.location) else None
        converted = convert_openapi3(
            document, report, source_url=source_url, oidc_urls=options.oidc_urls, location=spec.location
        )
    elif spec.format in POSTMAN:
        check_postman_version(spec.value, spec.location)
        converted = convert_postman(spec.value, report)
    else:  # pragma: no cover - detect_format only returns the formats above
        raise InputError(f"{spec.location}: {spec.format.label} cannot be imported")
    wants_enrichment = options.enrich if options.enrich is not None else spec.format is not SpecFormat.SWAGGER_2
    if wants_enrichment:
        enrich(converted.swagger, report, options.enrich_options)
    converted.minify = fit_budget(converted.swagger, report, options.budget, location=spec.location).minify
    report.operations = sum(1 for _ in Swagger(converted.swagger).operations())
    return converted, report


def _require_swagger_shape(definition: dict[str, object], spec: Spec) -> None:
    for key in ("info", "paths"):
        if not isinstance(definition.get(key), dict):
            line, column = spec.document.locate(f"/{key}")
            raise InputError(f"{spec.location}:{line}:{column}: Swagger 2.0 needs an '{key}' object")
