"""``appreg create | show | secrets`` against the Graph stand-in on loopback: every call checked
against the stand-in's state, idempotent re-runs, replication lag, 409 and 403 paths, and the
client secret going only where the user asked."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectorkit.cloud import appreg
from connectorkit.cloud.clouds import resolve_cloud
from connectorkit.cloud.graph import Graph
from connectorkit.errors import InputError
from standins.graph import APP_ROLES, DELEGATED_SCOPES, GRAPH_APP_ID, GRAPH_SP_ID, GraphStandIn, serve_graph

from conftest import Run

PLANTED = [f"PLANTED~secret~{n}~Zq8xK3vR9tLw2Yb" for n in range(1, 6)]
EXTRA_URI = "https://contoso.example/oauth/callback"
TEAMS = appreg.PRESETS["teams-governance"]


@pytest.fixture
def standin() -> GraphStandIn:
    return GraphStandIn(token="graph-token-for-tests", issue_secrets=list(PLANTED))


@pytest.fixture
def graph_url(standin: GraphStandIn) -> Iterator[str]:
    with serve_graph(standin) as url:
        yield url


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def graph(standin: GraphStandIn, graph_url: str, waits: list[float]) -> Iterator[Graph]:
    cloud = resolve_cloud("public", {"graph": graph_url}, environ={})
    with httpx.Client() as http:
        yield Graph.connect(cloud, lambda _scope: standin.token, http, sleep=waits.append)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, standin: GraphStandIn, graph_url: str, tmp_path: Path) -> None:
    monkeypatch.setenv("CONNECTORKIT_ACCESS_TOKEN", standin.token)
    monkeypatch.setenv("CONNECTORKIT_GRAPH_URL", graph_url)
    monkeypatch.setenv("CONNECTORKIT_PROFILE", str(tmp_path / "no-profile.json"))
    monkeypatch.delenv("CONNECTORKIT_CLOUD", raising=False)


def desired(name: str = "Contoso Orders connector", **kwargs: Any) -> appreg.Desired:
    values: dict[str, Any] = {
        "name": name,
        "redirect_uris": appreg.redirect_uris([EXTRA_URI]),
        "delegated": TEAMS,
        "application": ("User.Read.All",),
    }
    values.update(kwargs)
    return appreg.Desired(**values)


def converge(graph: Graph, wanted: appreg.Desired, **kwargs: Any) -> appreg.Outcome:
    return appreg.converge(graph, wanted, expiry=appreg.parse_expiry("24m"), **kwargs)


def counts(standin: GraphStandIn) -> tuple[int, int, int, int, int]:
    passwords = sum(len(a["passwordCredentials"]) for a in standin.applications.values())
    return (
        len(standin.applications),
        len(standin.service_principals),
        len(standin.grants),
        len(standin.role_assignments),
        passwords,
    )


# --- the procedure ------------------------------------------------------------------------------


def test_create_from_scratch_matches_the_documented_calls(graph: Graph, standin: GraphStandIn) -> None:
    outcome = converge(graph, desired())
    [app] = standin.find_app("Contoso Orders connector")
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["web"]["redirectUris"] == [appreg.GLOBAL_REDIRECT_URI, EXTRA_URI]
    assert app["web"]["implicitGrantSettings"] == {"enableAccessTokenIssuance": True, "enableIdTokenIssuance": True}
    [graph_access] = app["requiredResourceAccess"]
    assert graph_access["resourceAppId"] == GRAPH_APP_ID
    assert sorted((a["id"], a["type"]) for a in graph_access["resourceAccess"]) == sorted(
        [(DELEGATED_SCOPES[n], "Scope") for n in TEAMS] + [(APP_ROLES["User.Read.All"], "Role")]
    )
    sp = standin.sp_for(app["appId"])
    assert sp is not None and outcome.service_principal_id == sp["id"]
    [grant] = standin.grants.values()
    assert (grant["clientId"], grant["resourceId"], grant["consentType"]) == (sp["id"], GRAPH_SP_ID, "AllPrincipals")
    assert grant["scope"].split() == list(TEAMS)
    [assignment] = standin.role_assignments.values()
    assert (assignment["principalId"], assignment["resourceId"], assignment["appRoleId"]) == (
        sp["id"],
        GRAPH_SP_ID,
        APP_ROLES["User.Read.All"],
    )
    [password] = app["passwordCredentials"]
    assert password["secretText"] is None  # stored without its text; only the addPassword answer had it
    assert outcome.secret is not None and outcome.secret.value == PLANTED[0]
    assert outcome.secret.key_id == password["keyId"]
    end = datetime.fromisoformat(password["endDateTime"].replace("Z", "+00:00"))
    assert timedelta(days=725) < end - datetime.now(UTC) < timedelta(days=735)
    assert standin.writes() == [
        ("POST", "/applications"),
        ("POST", "/servicePrincipals"),
        ("POST", "/oauth2PermissionGrants"),
        ("POST", f"/servicePrincipals/{GRAPH_SP_ID}/appRoleAssignedTo"),
        ("POST", f"/applications/{app['id']}/addPassword"),
    ]
    create = next(c for c in standin.calls if (c.method, c.path) == ("POST", "/applications"))
    assert create.body["displayName"] == "Contoso Orders connector"
    assert "passwordCredentials" not in create.body


def test_rerun_converges_without_duplicates(graph: Graph, standin: GraphStandIn) -> None:
    converge(graph, desired())
    before, writes = counts(standin), len(standin.writes())
    again = converge(graph, desired())
    assert counts(standin) == before == (1, 2, 1, 1, 1)
    assert len(standin.writes()) == writes  # nothing written the second time
    assert again.changes == [] and again.secret is None
    assert [c.key_id for c in again.credentials] == [
        standin.find_app("Contoso Orders connector")[0]["passwordCredentials"][0]["keyId"]
    ]
    assert (
        appreg.plan(
            appreg.read_current(graph, desired(), appreg.Permissions.of(graph.graph_service_principal())),
            desired(),
            appreg.Permissions.of(graph.graph_service_principal()),
        )
        == []
    )


def test_new_secret_adds_exactly_one(graph: Graph, standin: GraphStandIn) -> None:
    converge(graph, desired())
    writes = len(standin.writes())
    outcome = converge(graph, desired(), new_secret=True)
    [app] = standin.applications.values()
    assert len(app["passwordCredentials"]) == 2
    assert outcome.secret is not None and outcome.secret.value == PLANTED[1]
    assert standin.writes()[writes:] == [("POST", f"/applications/{app['id']}/addPassword")]


def test_expired_secret_is_replaced_and_valid_one_kept(graph: Graph, standin: GraphStandIn) -> None:
    app = standin.add_application("Old app")
    standin.add_password(app, end=datetime.now(UTC) - timedelta(days=3))
    outcome = converge(graph, desired("Old app"))
    assert outcome.secret is not None and len(app["passwordCredentials"]) == 2
    assert converge(graph, desired("Old app")).secret is None


def test_merge_keeps_what_was_added_elsewhere_unless_exact(graph: Graph, standin: GraphStandIn) -> None:
    other_resource = {"resourceAppId": "00000007-0000-0000-c000-000000000000", "resourceAccess": []}
    app = standin.add_application(
        "Shared app",
        web={"redirectUris": ["https://elsewhere.example/cb"]},
        requiredResourceAccess=[
            other_resource,
            {"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": DELEGATED_SCOPES["Mail.Read"], "type": "Scope"}]},
        ],
    )
    standin.add_password(app, end=datetime.now(UTC) + timedelta(days=200))
    wanted = desired("Shared app", delegated=("User.Read",), application=())
    converge(graph, wanted)
    assert app["web"]["redirectUris"] == ["https://elsewhere.example/cb", appreg.GLOBAL_REDIRECT_URI, EXTRA_URI]
    assert app["requiredResourceAccess"][0] == other_resource
    assert [a["id"] for a in app["requiredResourceAccess"][1]["resourceAccess"]] == [
        DELEGATED_SCOPES["Mail.Read"],
        DELEGATED_SCOPES["User.Read"],
    ]
    [grant] = standin.grants.values()
    grant["scope"] = "Mail.Read User.Read"  # consent someone gave elsewhere stays too
    converge(graph, desired("Shared app", delegated=("openid",), application=()))
    assert grant["scope"] == "Mail.Read User.Read openid"
    assert len(app["passwordCredentials"]) == 1  # the valid secret made a new one unnecessary

    converge(graph, desired("Shared app", delegated=("openid",), application=(), exact=True))
    assert app["web"]["redirectUris"] == [appreg.GLOBAL_REDIRECT_URI, EXTRA_URI]
    assert app["requiredResourceAccess"] == [
        {"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": DELEGATED_SCOPES["openid"], "type": "Scope"}]}
    ]
    assert grant["scope"] == "openid"


def test_app_id_lookup_no_consent_and_exact_role_removal(graph: Graph, standin: GraphStandIn) -> None:
    app = standin.add_application("By id", signInAudience="AzureADMultipleOrgs")
    standin.add_password(app, end=datetime.now(UTC) + timedelta(days=90))
    outcome = converge(graph, appreg.Desired(app_id=app["appId"], consent=False))
    assert outcome.app["id"] == app["id"] and app["signInAudience"] == "AzureADMultipleOrgs"  # left alone
    assert not any("oauth2PermissionGrants" in c.path or "appRoleAssignedTo" in c.path for c in standin.calls)
    assert outcome.secret is None and app["web"]["redirectUris"] == [appreg.GLOBAL_REDIRECT_URI]
    converge(graph, appreg.Desired(app_id=app["appId"], application=("User.Read.All", "Group.Read.All")))
    assert len(standin.role_assignments) == 2
    converge(graph, appreg.Desired(app_id=app["appId"], application=("Group.Read.All",)))
    assert len(standin.role_assignments) == 2  # merged: nothing dropped without --exact
    converge(graph, appreg.Desired(app_id=app["appId"], application=("Group.Read.All",), exact=True))
    assert [a["appRoleId"] for a in standin.role_assignments.values()] == [APP_ROLES["Group.Read.All"]]
    with pytest.raises(InputError, match="--app-id 11111111-2222-3333-4444-555555555555: no app registration"):
        converge(graph, appreg.Desired(app_id="11111111-2222-3333-4444-555555555555"))


def test_replication_lag_is_retried(graph: Graph, standin: GraphStandIn, waits: list[float]) -> None:
    standin.lag = 2
    converge(graph, desired())
    lagged = [c for c in standin.calls if c.status == 400 and c.path == "/servicePrincipals"]
    assert len(lagged) == 2 and waits == [2.0, 4.0]
    assert counts(standin) == (1, 2, 1, 1, 1)
    # A direct read right after creating another app: 404 twice, then the object.
    standin.lag = 2
    made = graph.create_application({"displayName": "Fresh"})
    assert graph.get_application(made["id"])["appId"] == made["appId"]
    assert [c.status for c in standin.calls if c.path == f"/applications/{made['id']}"] == [404, 404, 200]


def test_duplicate_grant_409_reads_and_patches(graph: Graph, standin: GraphStandIn) -> None:
    converge(graph, desired(delegated=("User.Read",)))
    standin.stale_grant_reads = 1  # the grant exists but the next listing has not caught up
    converge(graph, desired(delegated=("openid",)))
    conflict = [c for c in standin.calls if (c.method, c.path, c.status) == ("POST", "/oauth2PermissionGrants", 409)]
    assert len(conflict) == 1
    [grant] = standin.grants.values()
    assert grant["scope"] == "User.Read openid"
    assert ("PATCH", f"/oauth2PermissionGrants/{grant['id']}") in standin.writes()


def test_unknown_permission_lists_close_matches_before_writing(graph: Graph, standin: GraphStandIn) -> None:
    with pytest.raises(InputError, match=r"--permissions User\.Raed: .*close: User\.Read"):
        converge(graph, desired(delegated=("User.Raed",)))
    with pytest.raises(InputError, match=r"--app-permissions Mail\.Read: not a Microsoft Graph application"):
        converge(graph, desired(application=("Mail.Read",)))
    assert standin.writes() == []


def test_pages_are_followed_and_ambiguous_names_refused(graph: Graph, standin: GraphStandIn) -> None:
    standin.page_size = 1
    for _ in range(3):
        standin.add_application("Twin")
    with pytest.raises(Exception, match=r"3 app registrations are named 'Twin'.*--app-id"):
        converge(graph, desired("Twin"))
    assert sum(1 for c in standin.calls if c.path == "/applications" and c.method == "GET") == 3


def test_add_and_remove_secret_for_rotation(graph: Graph, standin: GraphStandIn) -> None:
    app = standin.add_application("Rotated")
    key_id, secret = appreg.add_secret(graph, app, datetime.now(UTC) + timedelta(days=30), display_name="next")
    assert secret == PLANTED[0] and [c["keyId"] for c in app["passwordCredentials"]] == [key_id]
    appreg.remove_secret(graph, app, key_id)
    assert app["passwordCredentials"] == []


def test_existing_service_principal_409_is_read_back(graph: Graph, standin: GraphStandIn) -> None:
    app = standin.add_application("Has SP")
    first = graph.create_service_principal(app["appId"])
    again = graph.create_service_principal(app["appId"])
    assert again["id"] == first["id"] and len(standin.service_principals) == 2
    assert [c.status for c in standin.calls if c.path == "/servicePrincipals" and c.method == "POST"] == [201, 409]


def test_inputs() -> None:
    now = datetime(2025, 1, 31, tzinfo=UTC)
    assert appreg.parse_expiry("24m", now) == datetime(2027, 1, 31, tzinfo=UTC)
    assert appreg.parse_expiry("1m", now) == datetime(2025, 2, 28, tzinfo=UTC)
    assert appreg.parse_expiry("90d", now) == now + timedelta(days=90)
    assert appreg.parse_expiry("2026-06-30", now) == datetime(2026, 6, 30, tzinfo=UTC)
    for bad in ("0m", "soon", "2020-01-01"):
        with pytest.raises(InputError, match="--secret-expiry"):
            appreg.parse_expiry(bad, now)
    assert appreg.parse_expiry("100y", now) == datetime(2125, 1, 31, tzinfo=UTC)  # the cap itself is allowed
    for huge in ("101y", "1201m", "36601d", "99999y", "100000000d", "2125-02-01", "9999-12-31"):
        with pytest.raises(InputError, match=rf"^--secret-expiry {huge}: at most 100 years$"):
            appreg.parse_expiry(huge, now)
    assert appreg.expand_permissions(["teams-governance,User.Read", "Mail.Read"]) == (*TEAMS, "Mail.Read")
    with pytest.raises(InputError, match="--redirect-uri"):
        appreg.redirect_uris(["ftp://x"])


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_create_prints_the_secret_once_and_reruns_cleanly(
    cli: Callable[..., Run], env: None, standin: GraphStandIn
) -> None:
    first = cli("appreg", "create", "CLI app", "-p", "teams-governance", "--redirect-uri", EXTRA_URI)
    assert first.exit_code == 0, first.stderr
    assert first.stdout.count(PLANTED[0]) == 1
    assert "application (client) id" in first.stdout and PLANTED[0] not in first.stderr
    assert "created the app registration" in first.stderr  # progress goes to stderr
    second = cli("appreg", "create", "CLI app", "-p", "teams-governance", "--redirect-uri", EXTRA_URI)
    assert second.exit_code == 0, second.stderr
    assert "no changes" in second.stdout and "still valid" in second.stdout
    assert counts(standin) == (1, 2, 1, 0, 1)


def test_cli_secret_file_is_0600_and_atomic(cli: Callable[..., Run], env: None, tmp_path: Path) -> None:
    target = tmp_path / "out" / "client-secret"
    target.parent.mkdir()
    run = cli("appreg", "create", "File app", "--secret-file", target)
    assert run.exit_code == 0, run.stderr
    assert target.read_text() == PLANTED[0]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(target.parent) == ["client-secret"]  # no temporary left behind
    assert PLANTED[0] not in run.stdout + run.stderr and f"written to {target}" in run.stdout
    missing = cli("appreg", "create", "File app", "--secret-file", tmp_path / "nope" / "s")
    assert missing.exit_code == 2 and "--secret-file" in missing.stderr


def test_cli_secret_stdout_only_for_piping(cli: Callable[..., Run], env: None) -> None:
    run = cli("appreg", "create", "Piped app", "--secret-stdout-only", "--format", "json")
    assert run.exit_code == 0, run.stderr
    assert run.stdout == PLANTED[0] + "\n"
    report = json.loads(run.stderr[run.stderr.index("{") :])
    assert report["secret"]["keyId"] and "secretText" not in report["secret"]
    assert PLANTED[0] not in run.stderr


def test_cli_json_needs_a_destination_for_a_new_secret(
    cli: Callable[..., Run], env: None, standin: GraphStandIn
) -> None:
    refused = cli("appreg", "create", "Json app", "--format", "json")
    assert refused.exit_code == 2 and "--secret-file" in refused.stderr
    assert standin.writes() == []
    shown = cli("appreg", "create", "Json app", "--format", "json", "--show-secret")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["secret"]["secretText"] == PLANTED[0]
    quiet = cli("appreg", "create", "Json app", "--format", "json")  # a valid secret exists: nothing to deliver
    assert quiet.exit_code == 0 and json.loads(quiet.stdout)["secret"] is None


def test_cli_403_names_the_missing_permission(cli: Callable[..., Run], env: None, standin: GraphStandIn) -> None:
    standin.deny["oauth2PermissionGrants.create"] = "Insufficient privileges to complete the operation."
    run = cli("appreg", "create", "Denied app", "-p", "User.Read")
    assert run.exit_code == 1
    [line] = run.stderr.strip().splitlines()[-1:]
    assert "HTTP 403 Authorization_RequestDenied" in line and "DelegatedPermissionGrant.ReadWrite.All" in line
    assert "Traceback" not in run.stderr
    standin.deny = {"applications.create": "Insufficient privileges to complete the operation."}
    run = cli("appreg", "create", "Other app")
    assert run.exit_code == 1 and "Application.ReadWrite.All" in run.stderr.splitlines()[-1]


def test_cli_bad_token_and_unknown_permission(
    cli: Callable[..., Run], env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = cli("appreg", "create", "X", "-p", "Group.ReadWrite.Al")
    assert unknown.exit_code == 2 and "Group.ReadWrite.All" in unknown.stderr
    monkeypatch.setenv("CONNECTORKIT_ACCESS_TOKEN", "wrong-token")
    run = cli("appreg", "secrets", "X")
    assert run.exit_code == 1 and "401 InvalidAuthenticationToken" in run.stderr


def test_cli_show_prints_state_and_diff(cli: Callable[..., Run], env: None, standin: GraphStandIn) -> None:
    missing = cli("appreg", "show", "Shown app", "-p", "User.Read")
    assert missing.exit_code == 0 and "No app registration" in missing.stdout
    assert "+ create application: Shown app" in missing.stdout
    app = standin.add_application("Shown app", web={"redirectUris": [appreg.GLOBAL_REDIRECT_URI]})
    standin.add_password(app, end=datetime.now(UTC) + timedelta(days=400))
    run = cli("appreg", "show", "Shown app", "-p", "User.Read", "--redirect-uri", EXTRA_URI)
    assert run.exit_code == 0, run.stderr
    assert f"+ add redirect URI: {EXTRA_URI}" in run.stdout
    assert "+ add delegated permission: User.Read" in run.stdout
    assert "~ set implicit grant: enableAccessTokenIssuance=true" in run.stdout
    assert "+ create service principal" in run.stdout and "client secret" not in run.stdout.split("would make")[1]
    data = json.loads(cli("appreg", "show", "Shown app", "-p", "User.Read", "--format", "json").stdout)
    assert data["application"]["appId"] == app["appId"]
    assert {"action": "add", "target": "delegated permission", "value": "User.Read"} in data["changes"]
    assert standin.writes() == []  # show never writes


def test_cli_secrets_exit_code_follows_expiry(cli: Callable[..., Run], env: None, standin: GraphStandIn) -> None:
    now = datetime.now(UTC)
    healthy = standin.add_application("Healthy")
    standin.add_password(healthy, end=now + timedelta(days=300))
    run = cli("appreg", "secrets", "Healthy")
    assert run.exit_code == 0 and "valid" in run.stdout
    soon = standin.add_application("Soon")
    standin.add_password(soon, end=now + timedelta(days=10, hours=1), name="soon")
    soon["keyCredentials"].append(
        {"keyId": "5d4a6b1e-0000-4000-8000-000000000001", "displayName": "CN=cert", "type": "AsymmetricX509Cert",
         "usage": "Verify", "startDateTime": "2024-01-01T00:00:00Z", "endDateTime": _iso(now + timedelta(days=500))}
    )  # fmt: skip
    flagged = cli("appreg", "secrets", soon["appId"], "--format", "json")
    assert flagged.exit_code == 1
    data = json.loads(flagged.stdout)
    assert [(c["kind"], c["state"], c["daysLeft"]) for c in data["credentials"]] == [
        ("secret", "expiring", 10),
        ("certificate", "valid", 499),
    ]
    assert data["credentials"][0]["hint"].endswith("***") and len(data["credentials"][0]["hint"]) == 6
    assert cli("appreg", "secrets", "Soon", "--warn-days", "5").exit_code == 0
    expired = standin.add_application("Expired")
    standin.add_password(expired, end=now - timedelta(days=2))
    run = cli("appreg", "secrets", "Expired")
    assert run.exit_code == 1 and "expired" in run.stdout
    assert cli("appreg", "secrets", "Nobody").exit_code == 2


def test_planted_secrets_reach_only_the_chosen_destinations(
    cli: Callable[..., Run],
    env: None,
    standin: GraphStandIn,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)
    secret_file = tmp_path / "chosen.secret"
    runs = [
        cli("--debug", "appreg", "create", "Leak test", "-p", "teams-governance", "--secret-file", secret_file),
        cli(
            "--debug", "appreg", "create", "Leak test", "--new-secret", "--format", "json", "--secret-file", secret_file
        ),
        cli("--debug", "appreg", "show", "Leak test", "--format", "json"),
        cli("--debug", "appreg", "show", "Leak test"),
        cli("--debug", "appreg", "secrets", "Leak test"),
        cli("--debug", "appreg", "secrets", "Leak test", "--format", "json"),
    ]
    assert [r.exit_code for r in runs] == [0, 0, 0, 0, 0, 0], [r.stderr for r in runs]
    assert standin.issued == PLANTED[:2] and secret_file.read_text() == PLANTED[1]
    captured = "".join(r.stdout + r.stderr for r in runs) + caplog.text
    captured += json.dumps([c.body for c in standin.calls])  # what was sent to Graph
    for secret in standin.issued:
        assert secret not in captured
        for path in tmp_path.rglob("*"):
            if path.is_file() and path != secret_file:
                assert secret.encode() not in path.read_bytes(), path
    outcome = appreg.NewSecret("k", "n", datetime.now(UTC), PLANTED[0])
    assert PLANTED[0] not in repr(outcome)


def test_help_names_the_permissions(cli: Callable[..., Run]) -> None:
    run = cli("appreg", "create", "--help")
    assert run.exit_code == 0
    for needed in ("Application.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All", "AppRoleAssignment"):
        assert needed in run.stdout


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["create", "X", "--secret-expiry", "99999y"], "--secret-expiry 99999y: at most 100 years"),
        (["create", "X", "--secret-expiry", "100000000d"], "--secret-expiry 100000000d: at most 100 years"),
        (["create", "--app-id", "notaguid"], "--app-id 'notaguid': not an application (client) id"),
        (["show", "--app-id", "notaguid"], "--app-id 'notaguid': not an application (client) id"),
        (["create", "X", "-p", ""], "--permissions: no permission names given"),
        (["create", "X", "-p", " , "], "--permissions: no permission names given"),
        (["create", "X", "--app-permissions", ""], "--app-permissions: no permission names given"),
        (["create", "X", "-p", "User Read"], "--permissions 'User Read': not a permission name"),
        (["create", "  "], "NAME: the display name is empty"),
    ],
)
def test_cli_bad_options_fail_before_any_request(
    cli: Callable[..., Run], env: None, standin: GraphStandIn, args: list[str], expected: str
) -> None:
    run = cli("appreg", *args)
    assert run.exit_code == 2, run.stderr
    assert run.stderr.strip().splitlines() == [run.stderr.strip()] and run.stderr.startswith(f"error: {expected}")
    assert "Traceback" not in run.stderr
    assert standin.calls == []  # refused before Graph was asked anything


def test_cli_create_rides_out_replication_lag(
    cli: Callable[..., Run], env: None, standin: GraphStandIn, tmp_path: Path
) -> None:
    standin.lag = 1  # the new app is not visible to its first direct request
    target = tmp_path / "secret"
    first = cli("appreg", "create", "Lagging app", "-p", "User.Read", "--secret-file", target)
    assert first.exit_code == 0, first.stderr
    lagged = [c for c in standin.calls if c.status in (400, 404)]
    assert len(lagged) == 1 and lagged[0].method == "POST" and lagged[0].path == "/servicePrincipals"
    assert counts(standin) == (1, 2, 1, 0, 1) and target.read_text() == PLANTED[0]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    again = cli("appreg", "create", "Lagging app", "-p", "User.Read", "--secret-file", target)
    assert again.exit_code == 0, again.stderr
    assert "no changes" in again.stdout and counts(standin) == (1, 2, 1, 0, 1)
    assert target.read_text() == PLANTED[0]  # no second secret, the file untouched


def test_cli_grant_conflict_409_is_read_back_and_patched(
    cli: Callable[..., Run], env: None, standin: GraphStandIn
) -> None:
    assert cli("appreg", "create", "Granted app", "-p", "User.Read").exit_code == 0
    standin.stale_grant_reads = 1  # the listing misses the grant: the POST meets 409
    run = cli("appreg", "create", "Granted app", "-p", "openid")
    assert run.exit_code == 0, run.stderr
    assert "+ add delegated consent: openid" in run.stdout
    conflict = [c for c in standin.calls if (c.method, c.path, c.status) == ("POST", "/oauth2PermissionGrants", 409)]
    assert len(conflict) == 1
    [grant] = standin.grants.values()
    assert grant["scope"] == "User.Read openid"
    assert ("PATCH", f"/oauth2PermissionGrants/{grant['id']}") in standin.writes()
