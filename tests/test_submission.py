"""``connectorkit package submission``: the pull-request folder for microsoft/PowerPlatformConnectors.

Real connectors from the shared corpus, the real validator on every written folder, real files in
tmp_path. A refused submission must leave nothing behind: neither the folder nor a temporary one.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectorkit.definition.models import CONSENT_REDIRECT_URL
from connectorkit.definition.package import ConnectorPackage
from connectorkit.lint.registry import Profile
from connectorkit.lint.runner import Options, validate_one
from connectorkit.publish.submission import (
    BRAND_COLOR_MESSAGE,
    PublisherKind,
    folder_name,
    generate_readme,
    missing_readme_sections,
    prepare_submission,
)

from conftest import CORPUS, Run, needs_corpus

CERTIFIED = CORPUS / "certified-connectors"
INDEPENDENT = CORPUS / "independent-publisher-connectors"
LINK_MOBILITY = CERTIFIED / "LINKMobility"  # certified, icon.png, no readme, basic auth
ABSTRACT_EMAIL = INDEPENDENT / "Abstract Email Validator"  # independent publisher, API key, full readme
WORKABLE = INDEPENDENT / "Workable"  # independent publisher without a readme
SUBMITTED = {"apidefinition.swagger.json", "apiproperties.json", "readme.md", "icon.png", "script.csx"}
FINDING_LINE = re.compile(r"^(\S.*: )?error: .+ \[[A-Za-z][\w-]+\]$")

pytestmark = needs_corpus


def copy_connector(source: Path, tmp_path: Path, name: str = "src") -> Path:
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def edit_properties(folder: Path, **properties: Any) -> None:
    path = folder / "apiProperties.json"
    document = json.loads(path.read_text(encoding="utf-8-sig"))
    document["properties"].update(properties)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")


def revalidate(folder: Path, kind: str) -> list[str]:
    result = validate_one(folder, Options(profile=Profile(kind), use_config=False))
    return [str(f) for f in result.findings if f.severity == "error"]


def headings(readme: str, level: str) -> list[str]:
    return [line[len(level) + 1 :].strip() for line in readme.splitlines() if line.startswith(level + " ")]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --------------------------------------------------------------------------- both kinds, real connectors


def test_certified_submission_keeps_icon_and_generates_readme(cli: Callable[..., Run], tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = cli("package", "submission", LINK_MOBILITY, "--publisher-kind", "certified", "-o", out, "-f", "json")
    assert run.exit_code == 0, run.stderr
    summary = json.loads(run.stdout)
    target = out / "LINK Mobility"  # named after info.title, as the repository names folders
    assert summary["written"] is True
    assert summary["path"] == str(target)
    assert summary["repositoryPath"] == "certified-connectors/LINK Mobility"
    assert summary["readme"] == "generated"
    assert summary["files"] == ["apiDefinition.swagger.json", "apiProperties.json", "icon.png", "readme.md"]
    assert sorted(p.name for p in target.iterdir()) == summary["files"]
    assert (target / "icon.png").read_bytes() == (LINK_MOBILITY / "icon.png").read_bytes()
    properties = json.loads((target / "apiProperties.json").read_text())
    assert properties["properties"]["iconBrandColor"] == "#007B9B"  # certified colours are the publisher's own
    readme = (target / "readme.md").read_text()
    assert "## Deployment Instructions" in readme
    assert "paconn create --api-def apiDefinition.swagger.json --api-prop apiProperties.json --icon icon.png" in readme
    assert revalidate(target, "certified") == []
    assert leftovers(out) == ["LINK Mobility"]


def test_independent_publisher_submission_with_checked_readme(cli: Callable[..., Run], tmp_path: Path) -> None:
    run = cli("package", "submission", ABSTRACT_EMAIL, "--publisher-kind", "independent-publisher", "-o", tmp_path)
    assert run.exit_code == 0, run.stderr
    target = tmp_path / "Abstract Email Validator"
    assert "independent-publisher-connectors/Abstract Email Validator" in run.stdout
    assert "Abstract Email Validator (Independent Publisher)" in run.stdout  # the pull request's title
    assert "checked" in run.stdout
    assert (target / "readme.md").read_bytes() == (ABSTRACT_EMAIL / "readme.md").read_bytes()
    assert sorted(p.name for p in target.iterdir()) == ["apiDefinition.swagger.json", "apiProperties.json", "readme.md"]
    definition = json.loads((target / "apiDefinition.swagger.json").read_text())
    original = json.loads((ABSTRACT_EMAIL / "apiDefinition.swagger.json").read_text(encoding="utf-8-sig"))
    assert definition == original
    assert revalidate(target, "independent-publisher") == []


def test_independent_publisher_drops_icon_and_sets_brand_color(cli: Callable[..., Run], tmp_path: Path) -> None:
    run = cli("package", "submission", LINK_MOBILITY, "--publisher-kind", "independent-publisher", "-o", tmp_path)
    assert run.exit_code == 0, run.stderr
    target = tmp_path / "LINK Mobility"
    assert not (target / "icon.png").exists()
    assert json.loads((target / "apiProperties.json").read_text())["properties"]["iconBrandColor"] == "#da3b01"
    assert "iconBrandColor set to #da3b01 (was #007B9B)" in run.stdout  # the user is told
    assert "icon.png left out" in run.stdout
    assert "independent-publisher-connectors/LINK Mobility" in run.stdout
    readme = (target / "readme.md").read_text()
    assert "## Deployment Instructions" not in readme  # optional in the independent publisher template
    assert revalidate(target, "independent-publisher") == []
    # the source folder is untouched
    assert (
        json.loads((LINK_MOBILITY / "apiProperties.json").read_text(encoding="utf-8-sig"))["properties"][
            "iconBrandColor"
        ]
        == "#007B9B"
    )


def test_certified_refuses_white_and_default_blue(cli: Callable[..., Run], tmp_path: Path) -> None:
    for color, meaning in (("#FFFFFF", "white"), ("#007ee5", "the default blue")):
        source = copy_connector(LINK_MOBILITY, tmp_path, f"src-{color[1:]}")
        edit_properties(source, iconBrandColor=color)
        out = tmp_path / f"out-{color[1:]}"
        run = cli("package", "submission", source, "--publisher-kind", "certified", "-o", out)
        assert run.exit_code == 1
        expected = BRAND_COLOR_MESSAGE.format(color, meaning)
        assert expected.endswith(
            "Ensure brand color is a valid hexadecimal color and should not be white (#ffffff) or default (#007ee5)."
        )
        lines = run.stderr.splitlines()
        assert f"apiProperties.json: error: {expected} [BrandColorNotAllowed]" in lines
        assert lines.count(f"apiProperties.json: error: {expected} [BrandColorNotAllowed]") == 1  # not repeated
        assert lines[-1] == f"error: {out / 'LINK Mobility'}: not written: 1 error(s) remain"
        assert not out.exists()  # the output folder made for it is removed again
    # the same colour is replaced, not refused, for an independent publisher
    run = cli("package", "submission", source, "--publisher-kind", "independent-publisher", "-o", tmp_path / "ip")
    assert run.exit_code == 0, run.stderr
    assert "was #007ee5" in run.stdout


# --------------------------------------------------------------------------- the readme


def test_generated_readme_sections_and_operations(tmp_path: Path) -> None:
    package = ConnectorPackage.load(WORKABLE)
    assert package.readme is None
    readme = generate_readme(package, PublisherKind.INDEPENDENT_PUBLISHER)
    title = package.swagger.title
    assert readme.startswith(f"# {title}\n\n{' '.join(package.swagger.info['description'].split())}\n")
    publisher = package.api_properties["properties"]["publisher"]
    assert headings(readme, "##") == [
        f"Publisher: {publisher}",
        "Prerequisites",
        "Supported Operations",
        "Obtaining Credentials",
        "Known Issues and Limitations",
    ]
    visible = [op for op in package.swagger.operations() if op.raw.get("x-ms-visibility") != "internal"]
    actions = [op.summary for op in visible if not op.is_trigger]
    triggers = [op.summary for op in visible if op.is_trigger]
    supported = readme.split("## Supported Operations")[1].split("## Obtaining Credentials")[0]
    assert headings(supported, "###") == [" ".join(str(s).split()) for s in actions + triggers]
    for op in visible:
        description = " ".join(str(op.raw.get("description") or op.summary).split())
        assert description in supported
    assert missing_readme_sections(readme, PublisherKind.INDEPENDENT_PUBLISHER) == []
    certified = generate_readme(package, PublisherKind.CERTIFIED)
    assert headings(certified, "##")[-1] == "Deployment Instructions"
    assert missing_readme_sections(certified, PublisherKind.CERTIFIED) == []


def test_generated_readme_lists_triggers_and_skips_internal_operations() -> None:
    definition = {
        "swagger": "2.0",
        "info": {"title": "Acme Orders", "description": "Orders\nfrom Acme.", "version": "1.0"},
        "paths": {
            "/orders": {
                "get": {"operationId": "ListOrders", "summary": "List orders", "description": "All orders."},
                "post": {"operationId": "Lookup", "summary": "Look up", "x-ms-visibility": "internal"},
            },
            "/orders/new": {
                "get": {"operationId": "OnNewOrder", "summary": "When an order arrives", "x-ms-trigger": "batch"}
            },
            "/old": {"get": {"operationId": "Old", "summary": "Old list", "deprecated": True}},
        },
    }
    package = ConnectorPackage(definition=definition, api_properties={"properties": {"publisher": "Acme"}})
    readme = generate_readme(package, PublisherKind.INDEPENDENT_PUBLISHER)
    assert readme.startswith("# Acme Orders\n\nOrders from Acme.\n")
    assert headings(readme, "###") == ["List orders", "Old list", "When an order arrives"]
    assert "Look up" not in readme
    assert "Trigger (polling). When an order arrives" in readme
    assert "deprecated and will be removed: Old list." in readme
    assert "No credentials are needed" in readme


def test_existing_readme_missing_sections_are_listed(cli: Callable[..., Run], tmp_path: Path) -> None:
    source = copy_connector(ABSTRACT_EMAIL, tmp_path)
    (source / "readme.md").write_text(
        "# Abstract Email Validator\nValidates email addresses.\n\n## Publisher: Fördős András\n\n"
        "## Supported Operations\n### Validate email\nChecks an address.\n\n"
        "```\n## Prerequisites inside a code block does not count\n```\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    run = cli("package", "submission", source, "--publisher-kind", "certified", "-o", out)
    assert run.exit_code == 1
    missing = [
        line
        for line in run.stderr.splitlines()
        if line.startswith("readme.md: error:") and "ReadmeSectionMissing" in line
    ]
    assert missing == [
        f"readme.md: error: The readme has no '## {title}' section (required by the certified template). "
        "[ReadmeSectionMissing]"
        for title in (
            "Prerequisites",
            "Obtaining Credentials",
            "Known Issues and Limitations",
            "Deployment Instructions",
        )
    ]
    assert all(FINDING_LINE.match(line) for line in run.stderr.splitlines()[:-1])
    assert not out.exists()
    # Deployment Instructions are optional for independent publishers
    run = cli("package", "submission", source, "--publisher-kind", "independent-publisher", "-o", out, "-f", "json")
    assert run.exit_code == 1
    summary = json.loads(run.stdout)
    assert summary["written"] is False
    assert [e["message"].split("'")[1] for e in summary["errors"] if e["rule"] == "ReadmeSectionMissing"] == [
        "## Prerequisites",
        "## Obtaining Credentials",
        "## Known Issues and Limitations",
    ]
    assert not out.exists()


def test_readme_check_accepts_the_variants_reviewers_accept() -> None:
    text = (
        "## LAWLIFT\nA service.\n\n**Publisher:** LAWLIFT\n\n## Pre-requisites\n- an account\n\n"
        "## Supported Actions\n**When a file is exported**\n\n## How to get credentials\nAsk support.\n\n"
        "## Known issues & limitations\nNone.\n\n## Deployment instructions\nUse paconn.\n"
    )
    assert missing_readme_sections(text, PublisherKind.CERTIFIED) == []
    without_auth = (
        "# X\n\n## Publisher: Me\n## Prerequisites\n## Supported Operations\n## Known Issues and Limitations\n"
    )
    assert missing_readme_sections(without_auth, PublisherKind.INDEPENDENT_PUBLISHER, has_auth=False) == []
    assert missing_readme_sections(without_auth, PublisherKind.INDEPENDENT_PUBLISHER) == ["Obtaining Credentials"]


# --------------------------------------------------------------------------- credentials from the auth model


def _auth_package(
    parameters: dict[str, Any], security: dict[str, Any] | None = None, sets: list[dict[str, Any]] | None = None
) -> ConnectorPackage:
    definition: dict[str, Any] = {"swagger": "2.0", "info": {"title": "Acme", "version": "1"}, "paths": {}}
    if security:
        definition["securityDefinitions"] = security
    properties: dict[str, Any] = {"publisher": "Acme", "connectionParameters": parameters}
    if sets is not None:
        properties = {"publisher": "Acme", "connectionParameterSets": {"values": sets}}
    return ConnectorPackage(definition=definition, api_properties={"properties": properties})


def credentials(package: ConnectorPackage) -> str:
    readme = generate_readme(package, PublisherKind.INDEPENDENT_PUBLISHER)
    return readme.split("## Obtaining Credentials\n\n")[1].split("\n## ")[0]


def test_credentials_api_key_and_basic() -> None:
    key = {"api_key": {"type": "securestring", "uiDefinition": {"displayName": "API Key"}}}
    text = credentials(_auth_package(key, {"k": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}))
    assert text.startswith("This connector uses an API key.")
    assert "**API Key**" in text and "`X-Api-Key` header" in text
    basic = {
        "username": {"type": "securestring", "uiDefinition": {"displayName": "User name"}},
        "password": {"type": "securestring", "uiDefinition": {"displayName": "Password"}},
    }
    text = credentials(_auth_package(basic, {"b": {"type": "basic"}}))
    assert "basic authentication" in text and "**User name** and **Password**" in text


def test_credentials_oauth_app_steps_without_secrets() -> None:
    oauth = {
        "token": {
            "type": "oauthSetting",
            "oAuthSettings": {
                "identityProvider": "oauth2",
                "clientId": "client-id-123",
                "scopes": ["read write", "offline"],
                "redirectUrl": CONSENT_REDIRECT_URL,
            },
        }
    }
    security = {
        "o": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://acme.example/oauth/authorize",
            "tokenUrl": "https://acme.example/oauth/token",
        }
    }
    text = credentials(_auth_package(oauth, security))
    steps = [line for line in text.splitlines() if re.match(r"^\d+\. ", line)]
    assert len(steps) == 5
    assert "https://acme.example/oauth/authorize" in steps[0]
    assert f"`{CONSENT_REDIRECT_URL}`" in steps[1]
    assert "`read`, `write`, `offline`" in steps[2]
    assert "client-id-123" not in text  # client ids stay out of the readme
    aad = {
        "token": {
            "type": "oauthSetting",
            "oAuthSettings": {
                "identityProvider": "aad",
                "scopes": ["User.Read"],
                "customParameters": {"resourceUri": {"value": "https://graph.microsoft.com"}},
            },
        }
    }
    text = credentials(_auth_package(aad))
    assert "App registrations" in text and "`https://graph.microsoft.com`" in text and "`User.Read`" in text
    readme = generate_readme(_auth_package(aad), PublisherKind.INDEPENDENT_PUBLISHER)
    assert "Microsoft Entra ID (Azure AD) tenant" in readme


def test_credentials_for_each_parameter_set() -> None:
    sets = [
        {
            "name": "key",
            "uiDefinition": {"displayName": "API key"},
            "parameters": {"k": {"type": "securestring", "uiDefinition": {"displayName": "Key"}}},
        },
        {"name": "anon", "uiDefinition": {"displayName": "Anonymous"}, "parameters": {}},
    ]
    text = credentials(_auth_package({}, sets=sets))
    assert text.startswith("A connection can sign in in any of these ways:")
    assert headings(text, "###") == ["API key", "Anonymous"]
    assert "**Key**" in text and "No credentials are needed" in text


# --------------------------------------------------------------------------- writing


def test_existing_folder_needs_force(cli: Callable[..., Run], tmp_path: Path) -> None:
    target = tmp_path / "Abstract Email Validator"
    target.mkdir()
    (target / "stale.txt").write_text("from an earlier attempt")
    args = ("package", "submission", ABSTRACT_EMAIL, "--publisher-kind", "independent-publisher", "-o", tmp_path)
    run = cli(*args)
    assert run.exit_code == 2
    assert run.stderr.strip() == f"error: {target}: already exists (use --force to replace it)"
    assert (target / "stale.txt").exists()
    run = cli(*args, "--force")
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in target.iterdir()) == ["apiDefinition.swagger.json", "apiProperties.json", "readme.md"]
    assert leftovers(tmp_path) == ["Abstract Email Validator"]  # no temporary or set-aside folders left


def test_missing_output_folders_are_created_only_for_a_written_folder(cli: Callable[..., Run], tmp_path: Path) -> None:
    """As every `package ... -o`: missing parents are created, and removed again when nothing is written."""
    out = tmp_path / "a" / "b"
    run = cli("package", "submission", ABSTRACT_EMAIL, "--publisher-kind", "independent-publisher", "-o", out)
    assert run.exit_code == 0, run.stderr
    assert leftovers(out) == ["Abstract Email Validator"]
    source = copy_connector(ABSTRACT_EMAIL, tmp_path)
    edit_properties(source, publisher="")
    refused = tmp_path / "c" / "d"
    run = cli("package", "submission", source, "--publisher-kind", "independent-publisher", "-o", refused)
    assert run.exit_code == 1
    assert not (tmp_path / "c").exists()


def test_refusal_with_force_keeps_the_existing_folder(cli: Callable[..., Run], tmp_path: Path) -> None:
    source = copy_connector(ABSTRACT_EMAIL, tmp_path)
    out = tmp_path / "out"
    edit_properties(source, publisher="")
    target = out / "Abstract Email Validator"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("kept")
    run = cli("package", "submission", source, "--publisher-kind", "independent-publisher", "-o", out, "--force")
    assert run.exit_code == 1
    assert "apiProperties.json: error: The 'publisher' property is required for a submission. [PublisherMissing]" in (
        run.stderr.splitlines()
    )
    assert leftovers(target) == ["keep.txt"]
    assert leftovers(out) == ["Abstract Email Validator"]


def test_writes_into_a_clone_of_the_repository(cli: Callable[..., Run], tmp_path: Path) -> None:
    clone = tmp_path / "PowerPlatformConnectors"
    (clone / "independent-publisher-connectors").mkdir(parents=True)
    run = cli("package", "submission", WORKABLE, "--publisher-kind", "independent-publisher", "-o", clone, "-f", "json")
    assert run.exit_code == 0, run.stderr
    summary = json.loads(run.stdout)
    assert Path(summary["path"]).parent == clone / "independent-publisher-connectors"
    assert summary["readme"] == "generated"
    assert (Path(summary["path"]) / "readme.md").is_file()


def test_bad_input_is_one_line(cli: Callable[..., Run], tmp_path: Path) -> None:
    run = cli("package", "submission", tmp_path / "missing", "--publisher-kind", "certified", "-o", tmp_path)
    assert run.exit_code == 2 and run.stderr.count("\n") == 1 and "no such connector folder" in run.stderr
    run = cli("package", "submission", ABSTRACT_EMAIL, "--publisher-kind", "verified", "-o", tmp_path)
    assert run.exit_code == 2 and "--publisher-kind" in run.stderr


def test_folder_name_follows_the_title() -> None:
    def named(title: str) -> str:
        return folder_name(ConnectorPackage(definition={"info": {"title": title}}))

    assert named("Huddle for US Gov & Healthcare") == "Huddle for US Gov & Healthcare"
    assert named("Acme Search (Independent Publisher)") == "Acme Search"
    assert named("A/B: tests?") == "AB tests"
    assert named("..") == "connector"


# --------------------------------------------------------------------------- every corpus connector


def corpus_folders() -> list[Path]:
    return sorted(p for p in CORPUS.glob("*/*") if p.is_dir())


@pytest.mark.parametrize("kind", ["certified", "independent-publisher"])
def test_every_corpus_connector_is_written_clean_or_refused(cli: Callable[..., Run], tmp_path: Path, kind: str) -> None:
    written = refused = unreadable = 0
    for index, source in enumerate(corpus_folders()):
        out = tmp_path / str(index)
        run = cli("package", "submission", source, "--publisher-kind", kind, "-o", out, "-f", "json")
        assert "internal error" not in run.stderr and "Traceback" not in run.stderr, (source, run.stderr)
        if run.exit_code == 2:  # a definition that does not parse: one line naming the file
            assert run.stderr.count("\n") == 1 and str(source) in run.stderr, (source, run.stderr)
            assert not out.exists()
            unreadable += 1
            continue
        summary = json.loads(run.stdout)
        if run.exit_code == 0:
            target = Path(summary["path"])
            names = {p.name.lower() for p in target.iterdir()}
            assert names <= SUBMITTED and {"apidefinition.swagger.json", "apiproperties.json", "readme.md"} <= names
            assert ("icon.png" in names) == (kind == "certified" and (source / "icon.png").exists())
            assert revalidate(target, kind) == [], source
            properties = json.loads((target / "apiProperties.json").read_text())["properties"]
            if kind == "independent-publisher":
                assert properties["iconBrandColor"] == "#da3b01"
            assert leftovers(out) == [target.name]
            written += 1
        else:
            assert run.exit_code == 1, (source, run.stderr)
            assert summary["written"] is False and summary["errors"], source
            assert all(e["rule"] and e["message"] and "\n" not in e["message"] for e in summary["errors"])
            assert not out.exists(), source
            refused += 1
    print(f"{kind}: {written} written, {refused} refused, {unreadable} unreadable")
    assert written >= 20 and refused >= 20  # both paths are exercised by real connectors


def test_prepare_is_pure_and_leaves_the_package_alone() -> None:
    package = ConnectorPackage.load(LINK_MOBILITY)
    before = json.dumps(package.api_properties, sort_keys=True)
    submission = prepare_submission(package, PublisherKind.INDEPENDENT_PUBLISHER)
    assert json.dumps(package.api_properties, sort_keys=True) == before
    assert package.icon is not None and "icon.png" not in submission.files
    assert submission.errors == []
    assert submission.pull_request_title == "LINK Mobility (Independent Publisher)"
