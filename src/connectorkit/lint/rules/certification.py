"""Certification requirements on the definition (certified and independent-publisher profiles).

Microsoft's Swagger Validator runs extra checks when a connector is submitted for certification
(``IsCertificationValidation=True`` in the PowerPlatformConnectors pipeline, and always in
``paconn validate``): title and description limits, restricted words, the connector metadata
block. The certification guides add reviewer requirements on operation and parameter strings,
operationIds, hosts and size. Rules with a Microsoft id use Microsoft's message; the others are
connectorkit's, named after the requirement they check.

Severities are calibrated on the certified connectors of the corpus: what Microsoft accepted in
many merged connectors is a warning, what none of them does is an error.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import dump_bytes, pointer_join
from connectorkit.definition.package import DEFINITION
from connectorkit.definition.swagger import HTTP_METHODS, Operation, Swagger
from connectorkit.lint.engine import Context, ParameterNode
from connectorkit.lint.registry import CERTIFICATION, Category, Hit, On, Profile, hit, rule, svr

TITLE_LIMIT = 30
DESCRIPTION_RANGE = (30, 500)
SUMMARY_LIMIT = 80
VALIDATOR_SUMMARY_LIMIT = 120  # OperationSummaryTooLong reports these
MAX_CATEGORIES = 2
MAX_DEFINITION_BYTES = 1024 * 1024
METADATA = "x-ms-connector-metadata"
METADATA_NAMES = ("Website", "Privacy policy", "Categories")
CATEGORIES = (
    "AI",
    "Business Management",
    "Business Intelligence",
    "Collaboration",
    "Commerce",
    "Communication",
    "Content and Files",
    "Finance",
    "Data",
    "Human Resources",
    "Internet of Things",
    "IT Operations",
    "Lifestyle and Entertainment",
    "Marketing",
    "Productivity",
    "Sales and CRM",
    "Security",
    "Social Media",
    "Website",
)

# The lists Microsoft's validator prints (PR #3407): whole words, any case.
TITLE_WORDS = ("api", "connector")
DESCRIPTION_WORDS = ("power apps", "power automate", "logic apps")


def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in word.split()) for word in words)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


_TITLE_WORDS = _words_pattern(TITLE_WORDS)
_DESCRIPTION_WORDS = _words_pattern(DESCRIPTION_WORDS)

# Power Platform product names (and the two names the validator bans next to them).
_PRODUCT_NAMES = re.compile(
    r"\b(?:power\s*apps|power\s*automate|power\s*bi|power\s*pages|power\s*platform|power\s*virtual\s*agents?"
    r"|copilot\s*studio|microsoft\s*flow|logic\s*apps?|dataverse)\b",
    re.IGNORECASE,
)

# Host name labels that name a non-production environment.
_NON_PRODUCTION_LABELS = frozenset(
    {
        "localhost",
        "staging",
        "stage",
        "stg",
        "dev",
        "develop",
        "development",
        "test",
        "testing",
        "qa",
        "uat",
        "sandbox",
        "preprod",
        "preproduction",
    }
)
_LABEL_SPLIT = re.compile(r"[.\-]")

_REVISION_SUFFIX = re.compile(r"_V\d+$")
_SANITIZED = re.compile(r"^[A-Za-z0-9_]+$")
_DEPRECATED_MARK = "(deprecated)"
_TRAILING_CLOSERS = ")]\"'\u00bb\u201d\u2019"


# --------------------------------------------------------------------------- shared index


@dataclass(frozen=True, slots=True)
class _Entity:
    """An operation or a parameter object as written, with the names of its two strings."""

    kind: str  # "operation" or "parameter"
    raw: dict[str, Any]
    pointer: str
    summary_key: str  # "summary" for operations, "x-ms-summary" for parameters

    @property
    def summary(self) -> Any:
        return self.raw.get(self.summary_key)

    @property
    def description(self) -> Any:
        return self.raw.get("description")

    @property
    def shown(self) -> bool:
        """Internal operations and parameters are never shown to users."""
        return not _is_internal(self.raw)


def _is_internal(raw: dict[str, Any]) -> bool:
    value = raw.get("x-ms-visibility")
    return isinstance(value, str) and value.strip().lower() == "internal"


def _parameter_entities(params: Any, pointer: str) -> Iterator[_Entity]:
    if isinstance(params, list):
        for index, raw in enumerate(params):
            if isinstance(raw, dict) and "$ref" not in raw:
                yield _Entity("parameter", raw, f"{pointer}/{index}", "x-ms-summary")


def _build_entities(swagger: Swagger) -> list[_Entity]:
    """Every operation and every parameter object where it is written (no ``$ref`` entries)."""
    doc = swagger.doc
    out: list[_Entity] = []
    root = doc.get("parameters")
    if isinstance(root, dict):
        for name, raw in root.items():
            if isinstance(raw, dict) and "$ref" not in raw:
                out.append(_Entity("parameter", raw, pointer_join("/parameters", name), "x-ms-summary"))
    for path, item in swagger.paths.items():
        if not isinstance(item, dict):
            continue
        item_pointer = pointer_join("/paths", path)
        out.extend(_parameter_entities(item.get("parameters"), item_pointer + "/parameters"))
        for method in HTTP_METHODS:
            raw_op = item.get(method)
            if isinstance(raw_op, dict):
                op_pointer = pointer_join(item_pointer, method)
                out.append(_Entity("operation", raw_op, op_pointer, "summary"))
                out.extend(_parameter_entities(raw_op.get("parameters"), op_pointer + "/parameters"))
    return out


def _entities(ctx: Context) -> list[_Entity]:
    return ctx.memo("certification.entities", lambda: _build_entities(ctx.swagger))


def _texts(entity: _Entity) -> Iterator[tuple[str, str, str]]:
    """(field name, pointer, value) of the entity's summary and description strings."""
    for key in (entity.summary_key, "description"):
        value = entity.raw.get(key)
        if isinstance(value, str):
            yield key, entity.pointer + "/" + key, value


@dataclass(frozen=True, slots=True)
class _Strings:
    """Every summary and description of the operations and parameters, and all of them joined,
    so that a rule looking for something rare can search once per connector."""

    items: list[tuple[str, str, str, str]]  # (entity kind, field name, pointer, value)
    joined: str


def _build_strings(entities: list[_Entity]) -> _Strings:
    items = [(entity.kind, key, pointer, value) for entity in entities for key, pointer, value in _texts(entity)]
    return _Strings(items, "\n".join(item[3] for item in items))


def _strings(ctx: Context) -> _Strings:
    return ctx.memo("certification.strings", lambda: _build_strings(_entities(ctx)))


def _info_texts(swagger: Swagger) -> Iterator[tuple[str, str, str]]:
    for key in ("title", "description"):
        value = swagger.info.get(key)
        if isinstance(value, str):
            yield key, "/info/" + key, value


def _metadata(doc: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    entries = doc.get(METADATA)
    if not isinstance(entries, list):
        return []
    return [(index, entry) for index, entry in enumerate(entries) if isinstance(entry, dict)]


def _field(entry: dict[str, Any], name: str) -> tuple[str, Any]:
    """The key and value of ``name`` in a metadata entry; the validator reads keys in any case."""
    if name in entry:
        return name, entry[name]
    lowered = name.lower()
    for key, value in entry.items():
        if isinstance(key, str) and key.lower() == lowered:
            return key, value
    return name, None


def _metadata_name(entry: dict[str, Any]) -> str | None:
    value = _field(entry, "propertyName")[1]
    return value.strip().lower() if isinstance(value, str) else None


# --------------------------------------------------------------------------- info


@svr("FieldLengthExceeded", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION, keys=("info",))
def field_length_exceeded(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The connector title is what users see in the designer and the connector gallery, and
    certification allows at most 30 characters for it.

    Microsoft's validator reports ``The 'title' value goes over the character limit '30'`` at
    ``/info/title`` in certification mode (PowerPlatformConnectors PR #3407).
    """
    title = swagger.info.get("title")
    if isinstance(title, str) and len(title) > TITLE_LIMIT:
        yield hit("/info/title", "title", TITLE_LIMIT)


@svr("FieldLengthNotInRange", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION, keys=("info",))
def field_length_not_in_range(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The connector description is shown on the connector's page and in the gallery; certification
    requires 30 to 500 characters, enough to say what the service does without pasting a manual.

    A missing description is reported at ``/info`` (it is no length at all); an empty one is
    left to ``RequiredValueEmpty``.
    """
    low, high = DESCRIPTION_RANGE
    description = swagger.info.get("description")
    if description is None:
        if isinstance(swagger.doc.get("info"), dict):
            yield hit("/info", "description", low, high)
    elif isinstance(description, str) and description.strip() and not low <= len(description) <= high:
        yield hit("/info/description", "description", low, high)


@svr("ValueContainsRestrictedWords", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION, keys=("info",))
def value_contains_restricted_words(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Certification bans generic words from the title ('api', 'connector': every connector is
    one) and Microsoft product names from the description ('power apps', 'power automate',
    'logic apps'), so that the listing names the service rather than the platform.

    These are the lists Microsoft's validator prints; words are matched whole and in any case.
    """
    for key, pointer, value in _info_texts(swagger):
        pattern, words = (_TITLE_WORDS, TITLE_WORDS) if key == "title" else (_DESCRIPTION_WORDS, DESCRIPTION_WORDS)
        if pattern.search(value):
            yield hit(pointer, key, ", ".join(words))


@svr("ValueMustEndWithAlphanumeric", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION, keys=("info",))
def value_must_end_with_alphanumeric(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A connector title cannot end in punctuation, a space or a line break ("Can't end in a
    non-alphanumeric character, including carriage return, new line, or blank space").

    A closing parenthesis is accepted: Microsoft merged certified connectors titled
    ``Asite (Canada)`` or ``Revizto (Ireland)``, and summaries may likewise contain parentheses.
    Letters of any script count as alphanumeric. A blank title is left to ``RequiredValueEmpty``.
    """
    title = swagger.info.get("title")
    if isinstance(title, str) and title.strip() and not (title[-1].isalnum() or title[-1] == ")"):
        yield hit("/info/title", "title")


@rule(
    "TitleContainsIndependentPublisher",
    category=Category.CERTIFICATION,
    severity=Severity.WARNING,
    message="The title should be the name of the service alone; '(Independent Publisher)' belongs in the pull request title.",
    fix="Remove '(Independent Publisher)' from info.title and use it in the title of the pull request.",
    on=On.DOCUMENT,
    keys=("info",),
    profiles=frozenset({Profile.INDEPENDENT_PUBLISHER}),
    microsoft=False,
)
def title_contains_independent_publisher(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Independent-publisher submissions are named "*Service* (Independent Publisher)" in the pull
    request, not in the definition: none of the merged independent-publisher connectors has it
    in ``info.title``, and the suffix alone uses most of the 30-character title budget.
    """
    title = swagger.info.get("title")
    if isinstance(title, str) and "independent publisher" in " ".join(title.lower().split()):
        yield hit("/info/title")


# --------------------------------------------------------------------------- empty and non-English values


@svr("RequiredValueEmpty", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION)
def required_value_empty(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A value certification requires is present but blank: the title, the description, an
    operation's summary or description, a parameter's ``x-ms-summary``, or a connector metadata
    value. A blank string shows as an empty label in the designer and the listing.

    Blank parameter descriptions are not reported: many merged certified connectors carry them,
    so the validator evidently accepts them.
    """
    for key, pointer, value in _info_texts(swagger):
        if not value.strip():
            yield hit(pointer, key)
    for entity in _entities(ctx):
        keys = (entity.summary_key, "description") if entity.kind == "operation" else (entity.summary_key,)
        for key in keys:
            text = entity.raw.get(key)
            if isinstance(text, str) and not text.strip():
                yield hit(entity.pointer + "/" + key, key)
    for index, entry in _metadata(swagger.doc):
        name, entry_value = _field(entry, "propertyValue")
        if isinstance(entry_value, str) and not entry_value.strip():
            yield hit(f"/{METADATA}/{index}/{name}", name)


def _mostly_non_latin(text: str) -> bool:
    """At least three letters, and at least a third of them, from scripts other than Latin."""
    letters = 0
    foreign = 0
    for char in text:
        if char.isalpha():
            letters += 1
            if not char.isascii() and not unicodedata.name(char, "").startswith("LATIN"):
                foreign += 1
    return foreign >= 3 and foreign * 3 >= letters


_LATIN_ONLY = re.compile(r"[\x00-\u024f\u1e00-\u1eff\u2000-\u206f\u20a0-\u20cf\u2100-\u214f]*")


@svr("ValueMustBeInEnglish", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION)
def value_must_be_in_english(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Certified connectors are published in English (the platform localizes them), so the title,
    descriptions and summaries must be written in English.

    connectorkit cannot detect languages; it reports only text whose letters are largely from
    non-Latin scripts (Cyrillic, Greek, Arabic, Chinese, Japanese …), which cannot be English.
    A few such characters inside English text (a name, a symbol) are accepted.
    """
    texts = list(_info_texts(swagger))
    strings = _strings(ctx)
    if not _LATIN_ONLY.fullmatch(strings.joined):
        texts.extend((key, pointer, value) for _, key, pointer, value in strings.items)
    for key, pointer, value in texts:
        if not _LATIN_ONLY.fullmatch(value) and _mostly_non_latin(value):
            yield hit(pointer, key)


# --------------------------------------------------------------------------- connector metadata


@svr(
    "ConnectorMetadataPropertiesMissing",
    on=On.DOCUMENT,
    severity=Severity.ERROR,
    profiles=CERTIFICATION,
    keys=(METADATA,),
)
def connector_metadata_properties_missing(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The connector's listing shows its website, privacy policy and categories, taken from the
    ``Website``, ``Privacy policy`` and ``Categories`` entries of ``x-ms-connector-metadata``;
    certification requires all three.

    Names are compared without regard to case (merged certified connectors write
    ``Privacy Policy`` and ``PropertyName``). A missing ``x-ms-connector-metadata`` array is
    reported by ``RequiredPropertyMissing``.
    """
    entries = swagger.doc.get(METADATA)
    if not isinstance(entries, list):
        return
    present = {_metadata_name(entry) for _, entry in _metadata(swagger.doc)}
    for name in METADATA_NAMES:
        if name.lower() not in present:
            yield hit("/" + METADATA, name)


def _categories(ctx: Context) -> list[tuple[str, list[str]]]:
    """(pointer of the value, the categories) for each ``Categories`` entry."""
    out: list[tuple[str, list[str]]] = []
    for index, entry in _metadata(ctx.doc):
        if _metadata_name(entry) != "categories":
            continue
        key, value = _field(entry, "propertyValue")
        if isinstance(value, str):
            items = [item.strip() for item in value.split(";")]
        elif isinstance(value, list):
            items = [item.strip() for item in value if isinstance(item, str)]
        else:
            continue
        out.append((f"/{METADATA}/{index}/{key}", [item for item in items if item]))
    return out


@svr("InvalidConnectorCategory", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION, keys=(METADATA,))
def invalid_connector_category(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The connector gallery files connectors under a fixed list of categories; a ``Categories``
    value outside that list cannot be filed (reviewers rejected ``CDP``, ``Bot``, ``Chatbot``).

    The value is a semicolon-separated list; each entry must be one of the names exactly as
    Microsoft spells them.
    """
    for pointer, items in _categories(ctx):
        if any(item not in CATEGORIES for item in items):
            yield hit(pointer, ", ".join(CATEGORIES))


@svr("TooManyConnectorCategories", on=On.DOCUMENT, severity=Severity.ERROR, profiles=CERTIFICATION, keys=(METADATA,))
def too_many_connector_categories(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """A connector may be listed in at most two categories ("Only two categories are allowed with
    semicolon ( ; ) separated")."""
    for pointer, items in _categories(ctx):
        if len(items) > MAX_CATEGORIES:
            yield hit(pointer, MAX_CATEGORIES)


# --------------------------------------------------------------------------- operations


def _op_name(op: Operation) -> str:
    return op.operation_id or f"{op.method.upper()} {op.path}"


@rule(
    "OperationSummaryMissing",
    category=Category.CERTIFICATION,
    severity=Severity.ERROR,
    message="The operation '{0}' has no 'summary'; certification requires one for every operation users see.",
    fix="Add a short 'summary' (the action's name in the designer, 80 characters or fewer).",
    on=On.OPERATION,
    profiles=CERTIFICATION,
    microsoft=False,
)
def operation_summary_missing(ctx: Context, op: Operation) -> Iterator[Hit]:
    """The summary is the name of the action or trigger in the designer; without it users see
    the operationId. Certification's checklist requires a summary on every operation.

    Internal operations (``x-ms-visibility: internal``, e.g. those only feeding dynamic values)
    are never shown, and merged certified connectors leave them without one, so they are exempt.
    """
    if "summary" not in op.raw and not _is_internal(op.raw):
        yield hit(op.pointer, _op_name(op))


@rule(
    "OperationDescriptionMissing",
    category=Category.CERTIFICATION,
    severity=Severity.ERROR,
    message="The operation '{0}' has no 'description'; certification requires one for every operation users see.",
    fix="Add a 'description': one or two full sentences saying what the operation does, ending with a period.",
    on=On.OPERATION,
    profiles=CERTIFICATION,
    microsoft=False,
)
def operation_description_missing(ctx: Context, op: Operation) -> Iterator[Hit]:
    """The description is the tooltip and documentation of an action or trigger. Certification's
    checklist requires one on every operation ("Operations should always have a summary and
    description").

    Internal operations are never shown and are exempt.
    """
    if "description" not in op.raw and not _is_internal(op.raw):
        yield hit(op.pointer, _op_name(op))


@rule(
    "OperationIdNotPascalCase",
    category=Category.CERTIFICATION,
    severity=Severity.WARNING,
    message="The operationId '{0}' is not PascalCase.",
    fix="Capitalize every word, including the first, without hyphens or underscores (e.g. 'GetMessages'); "
    "a revision suffix such as '_V2' is allowed.",
    on=On.OPERATION,
    keys=("operationId",),
    profiles=CERTIFICATION,
    microsoft=False,
)
def operation_id_not_pascal_case(ctx: Context, op: Operation) -> Iterator[Hit]:
    """Microsoft's coding standards ask for PascalCase operationIds ("capitalize every word
    (including the first one). Don't add hyphens or underscores"): good ``GetMessages``, bad
    ``getMessages`` or ``Get_Messages``.

    A revision suffix such as ``_V2`` is the documented versioning convention and is accepted.
    Ids with characters other than letters, digits and underscores are reported by
    ``OperationIdSanitized``. Many merged certified connectors use other styles, so this is a
    warning.
    """
    value = op.raw.get("operationId")
    if not isinstance(value, str) or not _SANITIZED.match(value):
        return
    stem = _REVISION_SUFFIX.sub("", value)
    if not stem[:1].isupper() or "_" in stem:
        yield hit(op.pointer + "/operationId", value)


@rule(
    "SummaryEndsWithPunctuation",
    category=Category.CERTIFICATION,
    severity=Severity.ERROR,
    message="The summary '{0}' must end with a letter, a digit or a closing parenthesis.",
    fix="Remove the trailing punctuation or space from the summary.",
    on=On.OPERATION,
    keys=("summary",),
    profiles=CERTIFICATION,
    microsoft=False,
)
def summary_ends_with_punctuation(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation summary is a name, not a sentence: it "shouldn't end with a non-alphanumeric
    character, including punctuation or space" (connector string guidance), and summaries
    "contain only alphanumeric characters or parentheses" (certification).

    No merged certified connector has a summary ending otherwise. Internal operations are exempt.
    """
    summary = op.raw.get("summary")
    if isinstance(summary, str) and summary.strip() and not _is_internal(op.raw):
        last = summary[-1]
        if not (last.isalnum() or last == ")"):
            yield hit(op.pointer + "/summary", summary)


@rule(
    "DeprecatedOperationNotMarked",
    category=Category.CERTIFICATION,
    severity=Severity.WARNING,
    message="The operation '{0}' is deprecated, but its '{1}' does not say '(deprecated)'.",
    fix="Append ' (deprecated)' to the operation's summary and description.",
    on=On.OPERATION,
    keys=("deprecated",),
    profiles=CERTIFICATION,
    microsoft=False,
)
def deprecated_operation_not_marked(ctx: Context, op: Operation) -> Iterator[Hit]:
    """Deprecating an operation takes ``deprecated: true`` and "(deprecated)" appended to both its
    summary and its description, so that makers whose flows still use it see it in the designer.

    A missing summary or description is reported by the rules for those.
    """
    if op.raw.get("deprecated") is not True:
        return
    for key in ("summary", "description"):
        value = op.raw.get(key)
        if isinstance(value, str) and _DEPRECATED_MARK not in value.lower():
            yield hit(op.pointer + "/" + key, _op_name(op), key)


# --------------------------------------------------------------------------- operation and parameter strings


def _shown_entities(ctx: Context) -> Iterator[_Entity]:
    return (entity for entity in _entities(ctx) if entity.shown)


@rule(
    "SummaryEqualsDescription",
    category=Category.CERTIFICATION,
    severity=Severity.WARNING,
    message="The {0} summary and description are the same: '{1}'.",
    fix="Keep the summary a short name and let the description say more in a full sentence.",
    on=On.DOCUMENT,
    profiles=CERTIFICATION,
    microsoft=False,
)
def summary_equals_description(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """The summary names an operation or parameter and the description explains it; the designer
    shows both, so identical texts add nothing ("Summary and description text shouldn't be the
    same").

    Compared without regard to case, surrounding space and a final period. Operations and
    parameters are checked; internal ones are never shown and are exempt. Many merged certified
    connectors repeat the summary, so this is a warning.
    """
    for entity in _shown_entities(ctx):
        summary, description = entity.summary, entity.description
        if (
            isinstance(summary, str)
            and isinstance(description, str)
            and summary.strip()
            and _comparable(summary) == _comparable(description)
        ):
            yield hit(entity.pointer + "/description", entity.kind, summary)


def _comparable(text: str) -> str:
    return " ".join(text.split()).rstrip(".").lower()


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip()
    if stripped.lower().endswith(_DEPRECATED_MARK):
        stripped = stripped[: -len(_DEPRECATED_MARK)].rstrip()
    stripped = stripped.rstrip(_TRAILING_CLOSERS)
    return not stripped or stripped[-1] in ".!?:…"


@rule(
    "DescriptionWithoutPeriod",
    category=Category.CERTIFICATION,
    severity=Severity.WARNING,
    message="The description of operation '{0}' should be a full sentence ending with a period.",
    fix="End the description with a period (or other final punctuation).",
    on=On.OPERATION,
    keys=("description",),
    profiles=CERTIFICATION,
    microsoft=False,
)
def description_without_period(ctx: Context, op: Operation) -> Iterator[Hit]:
    """An operation's description is its help text in the designer and should be a full
    sentence that "ends in punctuation" (certification) — "end with a period" (coding standards).

    Single-word descriptions need no period. A trailing ``(deprecated)`` mark, closing brackets
    or quotes are looked through. Internal operations are exempt. About a third of the
    operations of merged certified connectors miss the period, so this is a warning. Parameter
    descriptions are not checked: they are short tooltips, and half of those in merged
    certified connectors are phrases without a period, so reporting them would bury the rest.
    """
    description = op.raw.get("description")
    if (
        isinstance(description, str)
        and len(description.split()) > 1
        and not _ends_sentence(description)
        and not _is_internal(op.raw)
    ):
        yield hit(op.pointer + "/description", _op_name(op))


@rule(
    "SummaryTooLongForCertification",
    category=Category.CERTIFICATION,
    severity=Severity.WARNING,
    message="The {0} summary has {1} characters; certification asks for {2} or fewer.",
    fix="Shorten the summary to 80 characters or fewer and move detail to the description.",
    on=On.DOCUMENT,
    profiles=CERTIFICATION,
    microsoft=False,
)
def summary_too_long_for_certification(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Operation summaries and parameter ``x-ms-summary`` labels "should be phrases of 80
    characters or shorter": longer ones are cut off in the designer's cards and fields.

    Operation summaries of 120 characters or more are reported by ``OperationSummaryTooLong``
    instead. Internal operations and parameters are exempt.
    """
    for entity in _shown_entities(ctx):
        summary = entity.summary
        if not isinstance(summary, str) or len(summary) <= SUMMARY_LIMIT:
            continue
        if entity.kind == "operation" and len(summary) >= VALIDATOR_SUMMARY_LIMIT:
            continue
        yield hit(entity.pointer + "/" + entity.summary_key, entity.kind, len(summary), SUMMARY_LIMIT)


@rule(
    "ProductNameInText",
    category=Category.CERTIFICATION,
    severity=Severity.ERROR,
    message="The {0} names the Microsoft product '{1}'; certified connector strings may not.",
    fix="Describe what the operation does with your service without naming Power Platform products.",
    on=On.DOCUMENT,
    profiles=CERTIFICATION,
    microsoft=False,
)
def product_name_in_text(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Summaries and descriptions "can't contain any of the Microsoft Power Platform product
    names (for example, "Power Apps")": the connector is used from all of them, so its strings
    must describe the service, not the product hosting it.

    Checks operation summaries and descriptions and parameter ``x-ms-summary`` and descriptions
    for Power Apps, Power Automate, Power BI, Power Pages, Power Platform, Power Virtual Agents,
    Copilot Studio, Microsoft Flow, Logic Apps and Dataverse. The title and connector
    description are checked by ``ValueContainsRestrictedWords`` with Microsoft's own list.
    """
    strings = _strings(ctx)
    if not _PRODUCT_NAMES.search(strings.joined):
        return
    for kind, key, pointer, value in strings.items:
        found = _PRODUCT_NAMES.search(value)
        if found:
            yield hit(pointer, f"{kind} {key}", " ".join(found.group(0).split()))


@rule(
    "InternalRequiredWithoutDefault",
    category=Category.CERTIFICATION,
    severity=Severity.ERROR,
    message="The parameter '{0}' is internal and required but has no default value.",
    fix="Give the parameter a 'default' value, or make it visible so users can fill it in.",
    on=On.PARAMETER,
    keys=("x-ms-visibility",),
    profiles=CERTIFICATION,
    microsoft=False,
)
def internal_required_without_default(ctx: Context, node: ParameterNode) -> Iterator[Hit]:
    """Users never see an internal parameter, so only its default can fill it: "For parameters
    that are internal and required, you must provide default values." Without one the required
    value is never sent.

    Body parameters are exempt (their schema's properties carry the defaults), as are parameters
    marked ``x-ms-notification-url`` (the platform fills in the callback URL).
    """
    raw = node.raw
    if (
        _is_internal(raw)
        and raw.get("required") is True
        and "default" not in raw
        and raw.get("in") != "body"
        and raw.get("x-ms-notification-url") is not True
    ):
        yield hit(node.pointer, node.name)


# --------------------------------------------------------------------------- host and size


def _host_name(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@rule(
    "HostNotProduction",
    category=Category.CERTIFICATION,
    severity=Severity.WARNING,
    message="The host '{0}' looks like a {1} host; certified connectors must call the production service.",
    fix="Set 'host' to the production host name of the service.",
    on=On.DOCUMENT,
    keys=("host",),
    profiles=CERTIFICATION,
    microsoft=False,
)
def host_not_production(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """Certified connectors are used against the live service: "Provide a production version of
    the host URL. Staging, dev, and test host URLs aren't allowed."

    Reported: ``localhost``, IP addresses, and host names with a label such as ``dev``, ``test``,
    ``staging``, ``uat``, ``qa`` or ``sandbox`` (labels are split at dots and hyphens). This is a
    guess from the name, so a warning.
    """
    host = swagger.host
    if not host or not host.strip():
        return
    name = _host_name(host)
    if _is_ip(name):
        yield hit("/host", host, "IP address")
        return
    labels = [label for label in _LABEL_SPLIT.split(name) if label]
    bad = next((label for label in labels if label in _NON_PRODUCTION_LABELS), None)
    if bad is not None:
        yield hit("/host", host, "local" if bad == "localhost" else f"'{bad}'")


def _definition_size(ctx: Context) -> int:
    document = ctx.package.documents.get(DEFINITION)
    if document is not None and document.value is ctx.package.definition:
        return len(document.source.text.encode("utf-8"))
    return len(dump_bytes(ctx.package.definition))


@rule(
    "DefinitionTooLarge",
    category=Category.CERTIFICATION,
    severity=Severity.ERROR,
    message="The definition is {0:,} bytes; it must be smaller than 1 MB ({1:,} bytes).",
    fix="Move repeated schemas to 'definitions' and reference them with $ref, or split the connector.",
    on=On.DOCUMENT,
    profiles=CERTIFICATION,
    microsoft=False,
)
def definition_too_large(ctx: Context, swagger: Swagger) -> Iterator[Hit]:
    """An OpenAPI definition for a connector "must be less than 1 MB"; certification repeats it
    ("Swagger files shouldn't be greater than 1 MB").

    The size is that of the file as read, or of the definition as connectorkit would save it.
    """
    size = _definition_size(ctx)
    if size >= MAX_DEFINITION_BYTES:
        yield hit("", size, MAX_DEFINITION_BYTES)
