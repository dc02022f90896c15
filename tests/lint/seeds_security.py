"""Seeded defects for the security requirement rules."""

from __future__ import annotations

from tests.lint.harness import Files, Seed, op

SURVEY = "certified-connectors/Survey123"


def _undefined_scheme(f: Files) -> None:
    op(f, "/pets", "get")["security"] = [{"token": []}]


def _null_value(f: Files) -> None:
    f.definition["security"][0]["api_key"] = None


def _api_key_scopes(f: Files) -> None:
    f.definition["security"][0]["api_key"] = ["pets.read"]


def _undeclared_scope(f: Files) -> None:
    f.definition["security"][0]["oauth2_auth"].append("publisher")


def _repeated_scope(f: Files) -> None:
    f.definition["security"][0]["oauth2_auth"].append("user")


SEEDS = [
    Seed("SecurityRequirementMustBeDefined", _undefined_scheme, ("/paths/~1pets/get/security/0/token",)),
    Seed("SecurityRequirementMustHaveValue", _null_value, ("/security/0/api_key",)),
    Seed("SecurityRequirementMustHaveEmptyValue", _api_key_scopes, ("/security/0/api_key",)),
    Seed(
        "OAuthSecurityRequirementValueMustBeScopeName", _undeclared_scope, ("/security/0/oauth2_auth/2",), base=SURVEY
    ),
    Seed("ArrayDuplicateValue", _repeated_scope, ("/security/0/oauth2_auth/2",), base=SURVEY, note="scope"),
]
