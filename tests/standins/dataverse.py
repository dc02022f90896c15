"""A stand-in for one Dataverse org's Web API: the ``connectors`` table and the ``solutions`` lookup
that solution-aware deploys use (``../shared/reference/cloud-apis.md`` C.2-C.4).

:class:`DataverseBackend` holds the rows and which solution each was added to; the Starlette app
checks the bearer token (401 with ``WWW-Authenticate`` and no body, as Dataverse answers), the
OData version headers, the columns a ``connector`` has (unknown ones are refused with the OData
error Dataverse gives), and ``MSCRM.SolutionUniqueName`` against the solutions it knows
(``0x80040217`` otherwise). ``POST`` answers 204 with ``OData-EntityId``; ``PATCH`` answers 204.

Inferred, not documented (Gaps 5): the row's ``connectorinternalid`` is given the RP's
``shared_<name>-5f<hash>`` form, ``name`` cannot change on update, and a ``clientSecret`` inside
``connectionparameters`` is kept aside and not returned on reads.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from standins.powerapps import serve

PREFIX = "/api/data/v9.2"
COLUMNS = frozenset(
    {
        "connectorid", "name", "displayname", "description", "connectortype", "openapidefinition",
        "connectionparameters", "connectionparametersets", "policytemplateinstances", "iconblob", "iconbrandcolor",
        "capabilities", "customcodeblobcontent", "scriptoperations", "interfaces", "iscustomizable",
    }
)  # fmt: skip
JSON_COLUMNS = ("openapidefinition", "connectionparameters", "connectionparametersets", "policytemplateinstances",
                "scriptoperations")  # fmt: skip


class DataverseError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass
class DataverseBackend:
    token: str
    solutions: dict[str, str] = field(default_factory=dict)
    """Solution unique name -> its publisher's customization prefix."""
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)
    """connectorid -> the solution the row was placed in."""
    client_secrets: dict[str, dict[str, str]] = field(default_factory=dict)
    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def solution(self, request: Request) -> str | None:
        name = request.headers.get("mscrm.solutionuniquename")
        if name is not None and name not in self.solutions:
            raise DataverseError(404, "0x80040217", f"The given solution unique name ({name}) is not valid")
        return name

    def check_columns(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise DataverseError(
                400, "0x80048d19", "Error identified in Payload provided by the user for Entity :'connectors'"
            )
        for column in body:
            if column not in COLUMNS:
                raise DataverseError(
                    400, "0x80060888",
                    f"An undeclared property '{column}' which only has property annotations in the payload but no "
                    "property value was found in the payload.",
                )  # fmt: skip
        for column in JSON_COLUMNS:
            if column in body and body[column] is not None:
                if not isinstance(body[column], str):
                    raise DataverseError(400, "0x80048d19", f"'{column}' must be a string (a JSON text).")
                json.loads(body[column])
        return body

    def create(self, body: Any, solution: str | None) -> str:
        row = self.check_columns(body)
        name = row.get("name")
        if not isinstance(name, str) or "_" not in name:
            raise DataverseError(400, "0x80040203", "name: a connector needs a name with a publisher prefix.")
        if any(r["name"] == name for r in self.rows.values()):
            raise DataverseError(412, "0x80040237", "A record with matching key values already exists.")
        ident = str(row.get("connectorid") or uuid.uuid4())
        stored = {k: v for k, v in row.items() if k != "connectorid"}
        self._keep_secret(ident, stored)
        stored.update(
            connectorid=ident,
            connectorinternalid=f"shared_{name.replace('_', '-5f')}-5f{secrets.token_hex(9)}",
            statecode=0,
            statuscode=1,
        )
        self.rows[ident] = stored
        if solution:
            self.members[ident] = solution
        return ident

    def update(self, ident: str, body: Any, solution: str | None) -> None:
        row = self.rows.get(ident)
        if row is None:
            raise DataverseError(404, "0x80040217", f"connector With Id = {ident} Does Not Exist")
        changes = self.check_columns(body)
        if "name" in changes and changes["name"] != row["name"]:
            raise DataverseError(400, "0x80040203", "name: the connector's name cannot be changed.")
        changes = dict(changes)
        self._keep_secret(ident, changes)
        row.update(changes)
        if solution:
            self.members[ident] = solution

    def _keep_secret(self, ident: str, row: dict[str, Any]) -> None:
        found: dict[str, str] = {}
        for column in ("connectionparameters", "connectionparametersets"):
            text = row.get(column)
            if not isinstance(text, str):
                continue
            value = json.loads(text)
            scopes = [("", value)] if column == "connectionparameters" else [
                (f"{entry.get('name')}/", entry.get("parameters") or {}) for entry in (value or {}).get("values") or []
            ]  # fmt: skip
            for prefix, params in scopes:
                for pname, spec in params.items():
                    settings = spec.get("oAuthSettings") if isinstance(spec, dict) else None
                    if isinstance(settings, dict) and settings.get("clientSecret"):
                        found[prefix + pname] = settings.pop("clientSecret")
            row[column] = json.dumps(value)
        self.client_secrets.setdefault(ident, {}).update(found)

    def select(self, row: dict[str, Any], request: Request) -> dict[str, Any]:
        chosen = request.query_params.get("$select")
        shown = {k: v for k, v in row.items() if k != "iconblob"}
        if chosen:
            shown = {k: row.get(k) for k in chosen.split(",")}
        return {"@odata.etag": 'W/"1"', **copy.deepcopy(shown)}


def dataverse_app(backend: DataverseBackend) -> Starlette:
    def refused(request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {backend.token}":
            challenge = f"Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/authorize, resource_id={backend.base_url}/"
            return Response(status_code=401, headers={"WWW-Authenticate": challenge})
        if request.headers.get("odata-version") not in (None, "4.0"):
            return _error(DataverseError(400, "0x80060888", "OData-Version must be 4.0"))
        return None

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            raw = await request.body()
            backend.requests.append(
                {"method": request.method, "path": request.url.path, "query": request.url.query,
                 "headers": {k: v for k, v in request.headers.items() if k != "authorization"}}
            )  # fmt: skip
            answer = refused(request)
            if answer is not None:
                return answer
            try:
                body = json.loads(raw) if raw else None
                with backend.lock:
                    return await handler(request, body)  # type: ignore[no-any-return]
            except DataverseError as exc:
                return _error(exc)
            except ValueError as exc:
                return _error(DataverseError(400, "0x80048d19", f"Invalid JSON: {exc}"))

        return endpoint

    async def connectors(request: Request, body: Any) -> Response:
        if request.method == "POST":
            ident = backend.create(body, backend.solution(request))
            entity = f"{backend.base_url}{PREFIX}/connectors({ident})"
            return Response(status_code=204, headers={"OData-EntityId": entity})
        rows = list(backend.rows.values())
        match = re.fullmatch(r"name eq '([^']*)'", request.query_params.get("$filter", ""))
        if match:
            rows = [r for r in rows if r["name"] == match[1]]
        context = f"{backend.base_url}{PREFIX}/$metadata#connectors"
        return JSONResponse({"@odata.context": context, "value": [backend.select(r, request) for r in rows]})

    async def connector(request: Request, body: Any) -> Response:
        ident = request.path_params["ident"]
        if request.method == "PATCH":
            backend.update(ident, body, backend.solution(request))
            return Response(status_code=204)
        row = backend.rows.get(ident)
        if row is None:
            raise DataverseError(404, "0x80040217", f"connector With Id = {ident} Does Not Exist")
        return JSONResponse(backend.select(row, request))

    async def solutions(request: Request, body: Any) -> Response:
        match = re.fullmatch(r"uniquename eq '([^']*)'", request.query_params.get("$filter", ""))
        found = [name for name in backend.solutions if match is None or name == match[1]]
        value = [
            {"solutionid": str(uuid.uuid5(uuid.NAMESPACE_URL, name)), "uniquename": name,
             "publisherid": {"customizationprefix": backend.solutions[name]}}
            for name in found
        ]  # fmt: skip
        return JSONResponse({"value": value})

    return Starlette(
        routes=[
            Route(f"{PREFIX}/connectors", guarded(connectors), methods=["GET", "POST"]),
            Route(PREFIX + "/connectors({ident})", guarded(connector), methods=["GET", "PATCH"]),
            Route(f"{PREFIX}/solutions", guarded(solutions), methods=["GET"]),
        ]
    )


def _error(exc: DataverseError) -> Response:
    return JSONResponse({"error": {"code": exc.code, "message": str(exc)}}, status_code=exc.status)


@contextmanager
def dataverse_standin(token: str, solutions: dict[str, str]) -> Iterator[DataverseBackend]:
    backend = DataverseBackend(token=token, solutions=dict(solutions))
    with serve(dataverse_app(backend)) as url:
        backend.base_url = url
        yield backend
