"""The pull-request folder for microsoft/PowerPlatformConnectors.

A connector reaches the public repository as one folder per pull request, under
``certified-connectors/<Name>`` or ``independent-publisher-connectors/<Name>``, holding exactly
``apiDefinition.swagger.json``, ``apiProperties.json``, ``readme.md``, ``icon.png`` (certified
connectors only: independent publishers get a generic icon and must not submit one) and
``script.csx`` when the connector has custom code. Reviewers and the repository's checks refuse
anything else, so this module builds that folder from a connector folder, applies the rules that
differ by publisher kind (the independent-publisher brand colour ``#da3b01``, no icon; certified
connectors may not use white or the default blue), writes ``readme.md`` from the definition when
there is none and checks the sections of one that exists.

Nothing is written until the whole folder passes the validator: the files go to a temporary folder
beside the target, the validator (passed in, so that ``publish`` does not depend on ``lint``) runs on
that folder, and only a clean folder is renamed into place.
"""

from __future__ import annotations

import copy
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from connectorkit.definition.findings import Finding, Severity
from connectorkit.definition.models import CONSENT_REDIRECT_URL, ConnectionParameter
from connectorkit.definition.package import PROPERTIES, README, ConnectorPackage, replace_folder
from connectorkit.definition.swagger import Operation, SecurityScheme, Swagger
from connectorkit.errors import ConnectorkitError, InputError, SourceError

log = logging.getLogger(__name__)

INDEPENDENT_PUBLISHER_COLOR = "#da3b01"
# The solution checker's connector-validate-brandcolor, summary and text.
BANNED_COLORS = {"#ffffff": "white", "#007ee5": "the default blue"}
BRAND_COLOR_MESSAGE = (
    "Invalid brand color: '{0}' is {1}. Ensure brand color is a valid hexadecimal color and should not be "
    "white (#ffffff) or default (#007ee5)."
)
IP_TITLE_SUFFIX = "(Independent Publisher)"
PAC_DOCS = "https://learn.microsoft.com/en-us/connectors/custom-connectors/paconn-cli"
_LOCATIONS = {"header": "header", "query": "query parameter"}
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


class PublisherKind(StrEnum):
    """Who submits the connector; decides the repository folder, the icon and the brand colour."""

    CERTIFIED = "certified"
    INDEPENDENT_PUBLISHER = "independent-publisher"

    @property
    def repo_folder(self) -> str:
        """The top-level folder of microsoft/PowerPlatformConnectors the connector goes in."""
        return "certified-connectors" if self is PublisherKind.CERTIFIED else "independent-publisher-connectors"


Validator = Callable[[Path, PublisherKind], list[Finding]]
"""Validates a connector folder for a publisher kind (``connectorkit validate --profile <kind>``)."""


@dataclass
class Submission:
    """The folder to submit, in memory: its files, and what was decided on the way."""

    kind: PublisherKind
    name: str
    files: dict[str, bytes]
    brand_color: str | None
    readme_generated: bool
    notes: list[str] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def repo_path(self) -> str:
        return f"{self.kind.repo_folder}/{self.name}"

    @property
    def pull_request_title(self) -> str:
        """Independent publishers title the pull request ``Name (Independent Publisher)``."""
        if self.kind is PublisherKind.INDEPENDENT_PUBLISHER:
            return f"{self.name} {IP_TITLE_SUFFIX}"
        return self.name


class SubmissionRefused(ConnectorkitError):
    """Errors remain, so nothing was written; ``errors`` lists them (one line each)."""

    def __init__(self, target: Path, errors: list[Finding]) -> None:
        self.target = target
        self.errors = errors
        super().__init__(f"{target}: not written: {len(errors)} error(s) remain")


def _error(rule: str, message: str, file: str | None = None, pointer: str | None = None) -> Finding:
    return Finding(rule=rule, severity=Severity.ERROR, message=message, file=file, pointer=pointer)


# --------------------------------------------------------------------------- building the folder


def prepare_submission(package: ConnectorPackage, kind: PublisherKind) -> Submission:
    """The submission folder's files for ``package``, with the problems found without validating."""
    errors = [f for f in package.findings if f.severity is Severity.ERROR]
    api_properties = copy.deepcopy(package.api_properties)
    props = api_properties.get("properties")
    if not isinstance(props, dict):
        props = {}
        api_properties["properties"] = props
    notes: list[str] = []
    brand_color = _brand_color(props, kind, notes, errors)
    errors += _required_names(props)

    readme = package.readme
    generated = readme is None
    if readme is None:
        try:
            readme = generate_readme(package, kind)
        except SourceError as exc:
            errors.append(_error("ApiPropertiesNotReadable", f"cannot write readme.md: {exc}", PROPERTIES))
    else:
        errors += [
            _error(
                "ReadmeSectionMissing",
                f"The readme has no '## {title}' section (required by the {kind} template).",
                README,
            )
            for title in missing_readme_sections(readme, kind, has_auth=_has_auth(package))
        ]

    icon = package.icon
    if kind is PublisherKind.INDEPENDENT_PUBLISHER and icon is not None:
        notes.append("icon.png left out: independent publisher connectors get the generic icon and must not submit one")
        icon = None
    elif kind is PublisherKind.CERTIFIED and icon is None:
        notes.append(
            "no icon.png: a certified connector's icon must be submitted (here or with the certification package)"
        )

    submitted = ConnectorPackage(
        definition=package.definition,
        api_properties=api_properties,
        icon=icon,
        script=package.script,
        readme=readme,
        minify_definition=package.minify_definition,
    )
    return Submission(
        kind=kind,
        name=folder_name(package),
        files=submitted.files(),
        brand_color=brand_color,
        readme_generated=generated,
        notes=notes,
        errors=errors,
    )


def display_title(package: ConnectorPackage) -> str:
    """``info.title`` without ``(Independent Publisher)``: the suffix belongs to the pull-request
    title only (the validator reports a title that carries it)."""
    title = re.sub(r"\s+", " ", package.swagger.title).strip()
    if title.lower().endswith(IP_TITLE_SUFFIX.lower()):
        title = title[: -len(IP_TITLE_SUFFIX)].strip()
    return title


def folder_name(package: ConnectorPackage) -> str:
    """The repository names a connector's folder after its title, as displayed; characters no file
    system accepts are dropped."""
    name = _UNSAFE_NAME.sub("", display_title(package)).strip().rstrip(".")
    if not name and package.path is not None:
        name = package.path.name
    return name or "connector"


def _brand_color(props: dict[str, Any], kind: PublisherKind, notes: list[str], errors: list[Finding]) -> str | None:
    """Independent publishers all use ``#da3b01`` (set here); certified connectors may not use
    white or the default blue (refused with the solution checker's message)."""
    value = props.get("iconBrandColor")
    if kind is PublisherKind.INDEPENDENT_PUBLISHER:
        if not (isinstance(value, str) and value.strip().lower() == INDEPENDENT_PUBLISHER_COLOR):
            was = f" (was {value})" if isinstance(value, str) else ""
            notes.append(
                f"iconBrandColor set to {INDEPENDENT_PUBLISHER_COLOR}{was}: independent publisher connectors must "
                "use the generic icon's colour"
            )
        props["iconBrandColor"] = INDEPENDENT_PUBLISHER_COLOR
        return INDEPENDENT_PUBLISHER_COLOR
    if not isinstance(value, str):
        return None
    banned = BANNED_COLORS.get(value.strip().lower())
    if banned is not None:
        errors.append(
            _error(
                "BrandColorNotAllowed",
                BRAND_COLOR_MESSAGE.format(value, banned),
                PROPERTIES,
                "/properties/iconBrandColor",
            )
        )
    return value


def _required_names(props: dict[str, Any]) -> list[Finding]:
    """Reviewers require ``publisher`` and ``stackOwner`` on every new submission (the validator
    only warns, because connectors merged before the rule lack them)."""
    found = []
    for key, rule in (("publisher", "PublisherMissing"), ("stackOwner", "StackOwnerMissing")):
        value = props.get(key)
        if not isinstance(value, str) or not value.strip():
            found.append(_error(rule, f"The '{key}' property is required for a submission.", PROPERTIES, "/properties"))
    return found


# --------------------------------------------------------------------------- writing


def write_submission(submission: Submission, output: Path, *, validate: Validator, force: bool = False) -> Path:
    """Write ``submission`` as ``output/<Name>`` (or ``output/<repo folder>/<Name>`` when ``output``
    is a clone of the repository) once the whole folder passes ``validate``.

    Raises :class:`SubmissionRefused` listing every error (nothing is written), and
    :class:`InputError` when the folder exists and ``force`` is not set.
    """
    target = submission_target(submission, output)
    if target.exists() and not force:
        raise InputError(f"{target}: already exists (use --force to replace it)")
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: exists and is not a folder")
    parent = target.parent
    created = [p for p in (parent, *parent.parents) if not p.exists()]
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{submission.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write here: {exc.strerror}") from None
    written = False
    try:
        folder = staging / submission.name
        folder.mkdir()
        for name, data in submission.files.items():
            (folder / name).write_bytes(data)
        findings = [_relative(f, folder) for f in validate(folder, submission.kind)]
        submission.warnings = [f for f in findings if f.severity is Severity.WARNING]
        errors = _merge(submission.errors, [f for f in findings if f.severity is Severity.ERROR])
        if errors:
            raise SubmissionRefused(target, errors)
        replace_folder(folder, target)
        written = True
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not written:
            _remove_empty(created)
    log.debug("wrote submission %s with %d files", target, len(submission.files))
    return target


def submission_target(submission: Submission, output: Path) -> Path:
    """Where the folder goes: ``output/<Name>``, or inside the kind's folder when ``output`` is a
    clone of microsoft/PowerPlatformConnectors (it has ``certified-connectors/`` and the like)."""
    repo_folder = output / submission.kind.repo_folder
    return (repo_folder if repo_folder.is_dir() else output) / submission.name


def _remove_empty(created: list[Path]) -> None:
    """Folders made for the output are removed again when nothing was written into them."""
    for path in created:  # deepest first
        try:
            path.rmdir()
        except OSError:
            return


def _relative(finding: Finding, folder: Path) -> Finding:
    """Findings name the files of the submission, not the temporary folder they were checked in."""
    if finding.file is None:
        return finding
    try:
        name = Path(finding.file).relative_to(folder).as_posix()
    except ValueError:
        return finding
    return finding.model_copy(update={"file": name or None})


def _merge(first: list[Finding], second: list[Finding]) -> list[Finding]:
    """Both lists, a finding the validator repeats (same rule and place) given once."""
    seen = {(f.rule, f.file, f.pointer) for f in first}
    return first + [f for f in second if (f.rule, f.file, f.pointer) not in seen]


# --------------------------------------------------------------------------- readme: checking

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$")
_BOLD_HEADING = re.compile(r"^\s*(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*$")
_PUBLISHER_LINE = re.compile(r"^\s*[#*_\s]*publisher[*_\s]*:", re.IGNORECASE)


@dataclass(frozen=True)
class ReadmeSection:
    """A section the templates require, and the heading words reviewers accept for it."""

    title: str
    words: tuple[str, ...]
    needs_auth: bool = False
    certified_only: bool = False

    def found_in(self, headings: list[str]) -> bool:
        return any(word in heading for heading in headings for word in self.words)


# templates/certified-connectors/readme.md and templates/Independent Publisher/readme.md: the same
# required sections, except Deployment Instructions (required for certified, optional otherwise).
README_SECTIONS = (
    ReadmeSection("Publisher", ("publisher",)),
    ReadmeSection("Prerequisites", ("prerequisite", "pre-requisite", "pre requisite", "requirement")),
    ReadmeSection("Supported Operations", ("operation", "action", "trigger")),
    ReadmeSection(
        "Obtaining Credentials",
        ("credential", "api key", "apikey", "authenticat", "authoriz", "access token", "sign in", "sign-in"),
        needs_auth=True,
    ),
    ReadmeSection("Known Issues and Limitations", ("known issue", "limitation")),
    ReadmeSection("Deployment Instructions", ("deploy",), certified_only=True),
)


def readme_headings(text: str) -> list[str]:
    """The readme's headings, lower case without markup, outside code blocks. Bold lines count:
    several merged readmes write ``**Prerequisites**`` instead of a ``##`` heading."""
    found: list[str] = []
    in_code = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        match = None if in_code else _HEADING.match(line) or _BOLD_HEADING.match(line)
        if match:
            found.append(re.sub(r"\s+", " ", re.sub(r"[*_`]", "", match.group(1))).strip().lower())
    return found


def missing_readme_sections(text: str, kind: PublisherKind, *, has_auth: bool = True) -> list[str]:
    """The template sections ``text`` lacks, in template order. Obtaining Credentials is not asked
    of a connector that needs none."""
    headings = readme_headings(text)
    missing = []
    for section in README_SECTIONS:
        if (section.needs_auth and not has_auth) or (section.certified_only and kind is not PublisherKind.CERTIFIED):
            continue
        if section.found_in(headings):
            continue
        if section.title == "Publisher" and any(_PUBLISHER_LINE.match(line) for line in text.splitlines()):
            continue
        missing.append(section.title)
    return missing


# --------------------------------------------------------------------------- readme: writing


def generate_readme(package: ConnectorPackage, kind: PublisherKind) -> str:
    """A readme in the shape of Microsoft's template, from what the definition already says: the
    description, the publisher, the operations and triggers, and how to get the credentials its
    connection parameters ask for."""
    swagger = package.swagger
    title = display_title(package) or folder_name(package)
    props = package.api_properties.get("properties")
    publisher = str(props.get("publisher") or "").strip() if isinstance(props, dict) else ""
    auth = _auth_options(package)
    schemes = swagger.security_schemes()
    blocks = [
        f"# {title}\n\n{_paragraph(swagger.info.get('description')) or _default_intro(title)}",
        f"## Publisher: {publisher}",
        "## Prerequisites\n\n" + "\n".join(f"- {item}" for item in _prerequisites(title, auth, schemes)),
        "## Supported Operations\n\n" + _operations(swagger),
        "## Obtaining Credentials\n\n" + _credentials(title, auth, swagger),
        "## Known Issues and Limitations\n\n" + _limitations(swagger),
    ]
    if kind is PublisherKind.CERTIFIED:
        blocks.append("## Deployment Instructions\n\n" + _deployment(package))
    return "\n\n".join(blocks) + "\n"


def _paragraph(text: Any) -> str:
    """One paragraph: the template asks for two or three sentences, not a page."""
    return re.sub(r"\s+", " ", text).strip() if isinstance(text, str) else ""


def _default_intro(title: str) -> str:
    return f"The {title} connector brings {title} to Power Automate, Power Apps and Logic Apps."


def _visible(swagger: Swagger) -> Iterator[Operation]:
    """Operations a user sees: internal ones (used for dynamic values) are not documented."""
    for op in swagger.operations():
        if str(op.raw.get("x-ms-visibility", "")).lower() != "internal":
            yield op


def _operations(swagger: Swagger) -> str:
    """One ``###`` entry per action, then per trigger, from their summaries and descriptions."""
    visible = list(_visible(swagger))
    ordered = [op for op in visible if not op.is_trigger] + [op for op in visible if op.is_trigger]
    if not ordered:
        return "This connector has no operations."
    entries = []
    for op in ordered:
        summary = _paragraph(op.summary) or op.operation_id or f"{op.method.upper()} {op.path}"
        description = _paragraph(op.raw.get("description")) or summary
        if op.is_trigger:
            description = f"Trigger ({op.trigger_kind}). {description}"
        if op.raw.get("deprecated") is True:
            description = f"Deprecated. {description}"
        entries.append(f"### {summary}\n\n{description}")
    return "\n\n".join(entries)


def _limitations(swagger: Swagger) -> str:
    deprecated = [
        _paragraph(op.summary) or op.operation_id or op.path
        for op in _visible(swagger)
        if op.raw.get("deprecated") is True
    ]
    if deprecated:
        return "These operations are deprecated and will be removed: " + ", ".join(deprecated) + "."
    return "No known issues or limitations at the time of submission."


def _deployment(package: ConnectorPackage) -> str:
    files = ["--api-def apiDefinition.swagger.json", "--api-prop apiProperties.json"]
    if package.icon is not None:
        files.append("--icon icon.png")
    if package.script is not None:
        files.append("--script script.csx")
    return (
        f"Deploy this connector as a custom connector with the [paconn CLI]({PAC_DOCS}) from this folder:\n\n"
        "```\npaconn login\npaconn create " + " ".join(files) + "\n```\n\n"
        "or with connectorkit (to a Power Platform environment, or `--env local` to try it locally):\n\n"
        "```\nconnectorkit deploy . --env <environment id>\n```"
    )


# --------------------------------------------------------------------------- readme: credentials


@dataclass(frozen=True)
class AuthOption:
    """One way to sign in (a connection parameter set, or the connector's only one)."""

    label: str | None
    parameters: dict[str, ConnectionParameter]


def _auth_options(package: ConnectorPackage) -> list[AuthOption]:
    """The connection's sign-in options, read from apiProperties (multi-auth connectors list them
    in ``connectionParameterSets``)."""
    props = package.properties.properties
    sets = props.connectionParameterSets
    if sets is not None and sets.values:
        return [
            AuthOption(
                (s.uiDefinition.displayName if s.uiDefinition else None) or s.name,
                dict(s.parameters or {}),
            )
            for s in sets.values
        ]
    return [AuthOption(None, dict(props.connectionParameters or {}))]


def _has_auth(package: ConnectorPackage) -> bool:
    try:
        options = _auth_options(package)
    except SourceError:
        options = []
    secret = any(p.is_secret or p.is_oauth for option in options for p in option.parameters.values())
    return secret or bool(package.swagger.security_schemes())


def _display(name: str, param: ConnectionParameter) -> str:
    ui = param.uiDefinition
    return (ui.displayName if ui and ui.displayName else None) or name


def _prerequisites(title: str, auth: list[AuthOption], schemes: list[SecurityScheme]) -> list[str]:
    items = ["A Microsoft Power Automate, Power Apps or Logic Apps plan that includes custom connectors."]
    params = [p for option in auth for p in option.parameters.values()]
    if any(p.is_oauth and _is_entra(p, schemes) for p in params):
        items.append("A Microsoft Entra ID (Azure AD) tenant where you can register an application.")
    elif any(p.is_oauth for p in params):
        items.append(f"An account with {title} that can register an OAuth application.")
    elif any(p.is_secret for p in params):
        items.append(f"An account with {title}, to get the credentials the connection asks for.")
    if any((p.type or "").lower() == "gatewaysetting" for p in params):
        items.append("An on-premises data gateway that can reach the service.")
    return items


def _is_entra(param: ConnectionParameter, schemes: list[SecurityScheme]) -> bool:
    """Signs in with Microsoft Entra ID (Azure AD): the ``aad`` providers, or a generic OAuth
    provider pointed at Microsoft's login endpoint."""
    settings = param.oAuthSettings
    if settings is not None and (settings.identityProvider or "").lower() in ("aad", "aadcertificate"):
        return True
    return any("login.microsoftonline." in (s.authorization_url or "") for s in schemes if s.type == "oauth2")


def _scopes(param: ConnectionParameter) -> list[str]:
    """Scopes as separate names (some connectors list them as one space-separated string)."""
    settings = param.oAuthSettings
    return [scope for entry in (settings.scopes if settings else None) or [] for scope in entry.split()]


def _redirect(param: ConnectionParameter) -> str:
    settings = param.oAuthSettings
    if settings is not None and (settings.redirectMode or "").lower() == "globalperconnector":
        return "the connector's own redirect URL (shown on its **Security** tab once the connector is created)"
    return f"`{(settings.redirectUrl if settings else None) or CONSENT_REDIRECT_URL}`"


def _credentials(title: str, auth: list[AuthOption], swagger: Swagger) -> str:
    schemes = swagger.security_schemes()
    texts = []
    for option in auth:
        text = _credentials_for(title, option.parameters, schemes)
        texts.append(f"### {option.label}\n\n{text}" if option.label and len(auth) > 1 else text)
    if len(auth) > 1:
        texts.insert(0, "A connection can sign in in any of these ways:")
    return "\n\n".join(texts)


def _credentials_for(title: str, params: dict[str, ConnectionParameter], schemes: list[SecurityScheme]) -> str:
    oauth = next((p for p in params.values() if p.is_oauth), None)
    if oauth is not None:
        return _oauth_steps(title, oauth, schemes)
    secrets = [_display(name, p) for name, p in params.items() if p.is_secret]
    fields = [_display(name, p) for name, p in params.items() if not p.is_oauth]
    if any(s.type == "basic" for s in schemes):
        names = " and ".join(f"**{f}**" for f in fields) or "the user name and password fields"
        return (
            f"This connector uses basic authentication: enter your {title} user name and password in {names} "
            "when you create a connection."
        )
    if secrets:
        where = next(
            (
                f" It is sent in the `{s.parameter_name}` {_LOCATIONS.get(s.location or '', 'field')}."
                for s in schemes
                if s.type == "apiKey" and s.parameter_name
            ),
            "",
        )
        names = ", ".join(f"**{f}**" for f in secrets)
        return (
            f"This connector uses an API key. Get one from your {title} account and enter it in {names} when you "
            f"create a connection.{where}"
        )
    if fields:
        names = ", ".join(f"**{f}**" for f in fields)
        return f"No credentials are needed; a connection asks only for {names}."
    return f"No credentials are needed: the {title} API accepts calls without signing in."


def _oauth_steps(title: str, param: ConnectionParameter, schemes: list[SecurityScheme]) -> str:
    """Step by step, as independent publishers must document it, how to create the OAuth app the
    connector signs in with (its client id and secret go into the connector, not the readme)."""
    settings = param.oAuthSettings
    redirect = _redirect(param)
    scopes = _scopes(param)
    oauth = next((s for s in schemes if s.type == "oauth2"), None)
    if _is_entra(param, schemes):
        resource = settings.customParameters.get("resourceUri") if settings and settings.customParameters else None
        steps = [
            "In the Microsoft Entra admin center, open **App registrations** and select **New registration**.",
            f"Add the redirect URI {redirect} (platform **Web**).",
            "Under **API permissions**, add the permissions the connector needs"
            + (f" on `{resource.value}`" if resource is not None and resource.value else "")
            + (f": {', '.join(f'`{s}`' for s in scopes)}." if scopes else "."),
            "Under **Certificates & secrets**, create a client secret.",
        ]
    else:
        steps = [f"Sign in to {title}'s developer settings and register a new OAuth 2.0 application."]
        if oauth is not None and oauth.authorization_url:
            steps[0] += f" The connector signs in at `{oauth.authorization_url}`"
            steps[0] += f" and gets tokens from `{oauth.token_url}`." if oauth.token_url else "."
        steps.append(f"Set the application's redirect (callback) URL to {redirect}.")
        if scopes:
            steps.append("Allow the scopes " + ", ".join(f"`{s}`" for s in scopes) + ".")
        steps.append("Copy the application's client ID and client secret.")
    steps.append(
        "Enter the client ID and secret in the custom connector's **Security** settings (or pass the secret to "
        "`paconn create --secret`), then create a connection and sign in."
    )
    lines = "\n".join(f"{n}. {step}" for n, step in enumerate(steps, 1))
    return f"This connector signs in with OAuth 2.0. To create the OAuth application:\n\n{lines}"
