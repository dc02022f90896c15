"""A small pet-shop connector for the server tests, and helpers to deploy it.

Its backend is a pytest-httpserver on loopback. It covers what the console and API must show:
an API key sent in the query string (so the URL itself carries a secret), an enum, advanced and
internal parameters, a body with an internal property, x-ms-dynamic-values, paging and a test
operation."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

KEY = "PLANTED-srv-key-5c1e"


def definition(port: int) -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "PetShop", "version": "1.0", "description": "Pets for the server tests."},
        "host": f"127.0.0.1:{port}",
        "basePath": "/v1",
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"API Key": {"type": "apiKey", "in": "query", "name": "key"}},
        "x-ms-capabilities": {"testConnection": {"operationId": "ListOwners", "parameters": {}}},
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "ListPets",
                    "summary": "List pets",
                    "x-ms-pageable": {"nextLinkName": "next"},
                    "parameters": [
                        {"name": "status", "in": "query", "type": "string", "enum": ["available", "sold"]},
                        {"name": "limit", "in": "query", "type": "integer", "default": 10, "x-ms-visibility": "advanced"},
                        {"name": "X-Client", "in": "header", "type": "string", "default": "console",
                         "x-ms-visibility": "internal", "required": True},
                    ],
                    "responses": {"200": {"description": "pets"}},
                },
                "post": {
                    "operationId": "AddPet",
                    "summary": "Add a pet",
                    "parameters": [
                        {"name": "pet", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Pet"}}
                    ],
                    "responses": {"201": {"description": "added"}},
                },
            },
            "/pets/{petId}": {
                "get": {
                    "operationId": "GetPet",
                    "summary": "Get a pet",
                    "parameters": [
                        {"name": "petId", "in": "path", "required": True, "type": "integer", "x-ms-summary": "Pet id"}
                    ],
                    "responses": {"200": {"description": "a pet"}},
                }
            },
            "/owners": {
                "get": {
                    "operationId": "ListOwners",
                    "x-ms-visibility": "internal",
                    "responses": {"200": {"description": "owners"}},
                }
            },
            "/owners/{owner}/pets": {
                "get": {
                    "operationId": "PetsOfOwner",
                    "summary": "Pets of an owner",
                    "parameters": [
                        {"name": "owner", "in": "path", "required": True, "type": "string", "x-ms-summary": "Owner",
                         "x-ms-dynamic-values": {"operationId": "ListOwners", "value-collection": "items",
                                                 "value-path": "id", "value-title": "name"}},
                    ],
                    "responses": {"200": {"description": "pets"}},
                }
            },
        },
        "definitions": {
            "Pet": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "example": "Rex"},
                    "age": {"type": "integer"},
                    "kind": {"type": "string", "default": "dog", "x-ms-visibility": "internal"},
                },
            }
        },
    }  # fmt: skip


PROPERTIES = {
    "properties": {
        "connectionParameters": {
            "api_key": {
                "type": "securestring",
                "uiDefinition": {
                    "displayName": "API key",
                    "description": "The key for the pet shop",
                    "constraints": {"required": "true"},
                },
            },
            "region": {
                "type": "string",
                "allowedValues": [{"value": "eu"}, {"value": "us"}],
                "uiDefinition": {"displayName": "Region", "constraints": {"required": "false"}},
            },
        }
    }
}


def write_connector(folder: Path, port: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "apiDefinition.swagger.json").write_text(json.dumps(definition(port), indent=2))
    (folder / "apiProperties.json").write_text(json.dumps(PROPERTIES, indent=2))
    return folder


def upload_body(port: int, name: str | None = None) -> dict[str, Any]:
    """The JSON body of POST /api/connectors for the pet shop."""
    files = {
        "apiDefinition.swagger.json": json.dumps(definition(port)).encode(),
        "apiProperties.json": json.dumps(PROPERTIES).encode(),
    }
    body: dict[str, Any] = {"files": {path: base64.b64encode(data).decode() for path, data in files.items()}}
    if name is not None:
        body["name"] = name
    return body


def oauth_files(port: int) -> dict[str, bytes]:
    """The pet shop signing in with OAuth 2.0 (identityProvider oauth2) at a loopback provider."""
    base = f"http://127.0.0.1:{port}"
    swagger = definition(port)
    swagger["info"]["title"] = "OAuthPets"
    swagger["securityDefinitions"] = {
        "oauth2_auth": {
            "type": "oauth2", "flow": "accessCode", "authorizationUrl": f"{base}/authorize",
            "tokenUrl": f"{base}/token", "scopes": {},
        }
    }  # fmt: skip
    properties = {
        "properties": {
            "connectionParameters": {
                "token": {
                    "type": "oauthSetting",
                    "oAuthSettings": {
                        "identityProvider": "oauth2",
                        "clientId": "pets-client",
                        "scopes": ["pets.read"],
                        "redirectMode": "Global",
                        "customParameters": {
                            "authorizationUrl": {"value": f"{base}/authorize"},
                            "tokenUrl": {"value": f"{base}/token"},
                            "refreshUrl": {"value": f"{base}/token"},
                        },
                    },
                }
            }
        }
    }
    return {
        "apiDefinition.swagger.json": json.dumps(swagger).encode(),
        "apiProperties.json": json.dumps(properties).encode(),
    }


def oauth_upload_body(port: int) -> dict[str, Any]:
    return {"files": {path: base64.b64encode(data).decode() for path, data in oauth_files(port).items()}}
