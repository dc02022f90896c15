"""Connector enrichment: the strings and extensions the platform and certification expect.

:func:`enrich` works in place on a Swagger 2.0 definition, converted or written by hand, and
adds one :class:`~connectorkit.authoring.report.Kind.ENRICHED` report item per change, with
``source`` and ``target`` both the JSON pointer of the changed place in the definition:

- operationIds: missing ones are made from the method and the path (``GET /users/{id}/posts``
  becomes ``ListUserPosts``), invalid ones (dashes, dots, spaces, a leading digit) are rewritten
  in PascalCase (``get-user.by_id`` becomes ``GetUserById``), and with
  ``EnrichOptions.pascal_case_ids`` valid ones that are not PascalCase too (``getUser``,
  ``get_user``; a revision suffix ``_V2`` stays). Duplicates get a numeric suffix. References to a
  renamed id elsewhere in the definition (dynamic values, notifications …) follow.
- operation summaries: made from the operationId when missing, at most 80 characters (a longer
  one's full text becomes the description when there is none), without ``/`` and without
  trailing punctuation; deprecated operations are marked "(deprecated)".
- operation descriptions: made from the summary when missing ("List pets" → "Lists pets."),
  ending with a period, and never the summary again.
- responses without the description Swagger requires get the status code's name ("Not Found").
- parameters users see: ``x-ms-summary`` in Title Case from the title or the name (``user_id``
  becomes "User ID") and a ``description`` ("The user ID.") where missing, ``x-ms-url-encoding:
  single`` on path parameters, and with ``EnrichOptions.hide_optional`` ``x-ms-visibility:
  advanced`` on optional query and header parameters (not on a polling trigger and the webhook
  it names, whose parameters must keep the same visibility).
- schema properties: ``x-ms-summary`` from the ``title`` or the name, and with
  ``EnrichOptions.certification`` a ``description``; one report item per object.
- an info block without title or version gets one (the title from the host name).
- with ``EnrichOptions.certification``: the title trimmed to 30 characters without the words
  "API" and "Connector", the description brought to 30 to 500 characters without Microsoft product
  names, and a ``x-ms-connector-metadata`` block with what can be known: ``info.contact.url`` as
  the website, ``info.termsOfService`` as the privacy policy only when it is one, categories
  guessed from the title, description and tags. What only the user knows is a
  :class:`~connectorkit.authoring.report.Kind.NOTE`.

Enrichment is idempotent: a second run changes nothing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from connectorkit.authoring.report import Kind, Report
from connectorkit.definition.jsontext import pointer_join
from connectorkit.definition.swagger import HTTP_METHODS
from connectorkit.lint.rules.certification import (
    CATEGORIES,
    DESCRIPTION_RANGE,
    DESCRIPTION_WORDS,
    METADATA,
    SUMMARY_LIMIT,
    TITLE_LIMIT,
    TITLE_WORDS,
)
from connectorkit.lint.rules.structure import url_is_valid

log = logging.getLogger(__name__)

ROOT = "#"


@dataclass(frozen=True)
class EnrichOptions:
    """What :func:`enrich` may change beyond what every connector needs.

    ``certification`` also brings the title, the description and the connector metadata to
    certification's rules and describes schema properties; ``hide_optional`` marks optional
    query and header parameters ``advanced``; ``pascal_case_ids`` rewrites valid operationIds
    that are not PascalCase (a rename breaks flows that use an existing connector, so callers
    enriching a published definition may turn it off).
    """

    certification: bool = False
    hide_optional: bool = False
    pascal_case_ids: bool = True


def enrich(swagger: dict[str, Any], report: Report, options: EnrichOptions = EnrichOptions()) -> None:
    """Add the strings and extensions the platform and certification expect, in place."""
    if not isinstance(swagger, dict):
        return
    before = len(report.items)
    _Enricher(swagger, report, options).run()
    log.debug("enrichment: %d report items", len(report.items) - before)


# --------------------------------------------------------------------------- words

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+[A-Za-z]*")
_ACRONYMS = {
    word.lower(): word
    for word in (
        "ID",
        "IDs",
        "URL",
        "URLs",
        "URI",
        "URIs",
        "API",
        "APIs",
        "HTTP",
        "HTTPS",
        "JSON",
        "XML",
        "HTML",
        "UUID",
        "GUID",
        "IP",
        "SMS",
        "CSV",
        "PDF",
        "UTC",
        "SKU",
        "SSL",
        "TLS",
        "DNS",
        "VPC",
        "CDN",
        "SSH",
        "OAuth",
        "ETag",
        "SQL",
        "CRM",
        "TTL",
        "CPU",
        "GPU",
        "VM",
        "VMs",
        "UI",
        "MFA",
        "ISO",
        "JWT",
        "CIDR",
        "IPv4",
        "IPv6",
    )
}


def split_words(text: str) -> list[str]:
    """Words of an identifier or a phrase: ``createdAt`` → created, At; ``user_id`` → user, id."""
    return _WORD.findall(text)


def _display(word: str) -> str | None:
    """The spelling of an acronym or an all-capitals word, kept whatever the case around it."""
    known = _ACRONYMS.get(word.lower())
    if known is not None:
        return known
    if len(word) > 1 and word.isupper():
        return word
    return None


def title_case(text: str) -> str:
    """``user_id`` → "User ID", ``createdAt`` → "Created At", ``X-Request-Id`` → "X Request ID"."""
    out = []
    for word in split_words(text):
        shown = _display(word)
        out.append(shown if shown is not None else word[:1].upper() + word[1:])
    return " ".join(out)


def _phrase(label: str) -> str:
    """A label as it reads inside a sentence: "Created At" → "created at", "User ID" → "user ID"."""
    out = []
    for word in label.split():
        core = word.strip("()[],;:")
        if _display(core) is not None or any(c.isupper() for c in core[1:]):
            out.append(word)
        else:
            out.append(word.lower())
    return " ".join(out)


def _sentence_case(words: list[str]) -> str:
    out = []
    for index, word in enumerate(words):
        shown = _display(word)
        if shown is not None:
            out.append(shown)
        elif index == 0:
            out.append(word[:1].upper() + word[1:].lower())
        else:
            out.append(word.lower())
    return " ".join(out)


def _pascal(words: list[str]) -> str:
    return "".join(word[:1].upper() + word[1:] for word in words)


_PLURAL_KEEP = ("ss", "us", "is", "news", "series", "status", "ics")


def _is_plural(word: str) -> bool:
    lowered = word.lower()
    return lowered.endswith("s") and not lowered.endswith(_PLURAL_KEEP) and len(lowered) > 2


def _singular(word: str) -> str:
    if not _is_plural(word):
        return word
    lowered = word.lower()
    if lowered.endswith("ies") and len(word) > 4:
        return word[:-3] + ("Y" if word[-3].isupper() else "y")
    if lowered.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    return word[:-1]


def _third_person(verb: str) -> str:
    lowered = verb.lower()
    if lowered.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if len(lowered) > 1 and lowered.endswith("y") and lowered[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


# Imperative verbs that open operation summaries; a description is made by conjugating them.
_VERBS = frozenset(
    str.split(
        """
    accept activate add align append apply approve archive assign attach authenticate authorize
    ban block bulk calculate cancel change check clear clone close commit complete compute
    configure confirm connect convert copy count create deactivate decline delete deploy describe
    detach disable disconnect dismiss download duplicate edit empty enable end enqueue estimate
    execute expire export fetch find finish flag follow forward generate get grant hide import
    initiate insert install invalidate invite invoke join kick leave like link list load lock
    log login logout mark merge modify move mute notify open order patch pause pin ping place
    post preview process publish purge put query queue read reboot redeem refresh register
    reject reload remove rename renew reopen reorder replace reply report request resend reset
    resize resolve restart restore resume retrieve retry return revert revoke rotate run save
    schedule search select send set share show sign snooze sort split start stop submit
    subscribe suspend swap sync tag terminate test toggle transfer trigger unarchive unassign
    unban unblock undo unfollow uninstall unlike unlink unlock unmute unpin unpublish unsubscribe
    update upgrade upload upsert validate verify view void watch withdraw write
    """
    )
)

_OPERATION_VERBS = {
    "get": "Get",
    "put": "Update",
    "post": "Create",
    "delete": "Delete",
    "patch": "Update",
    "head": "Check",
    "options": "Describe",
}
_SKIPPED_SEGMENTS = re.compile(r"^(?:api|rest|v\d+(?:\.\d+)*)$", re.IGNORECASE)
_VARIABLE = re.compile(r"\{[^{}]*\}")
_VALID_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_REVISION = re.compile(r"_V\d+$")


def _is_pascal(value: str) -> bool:
    stem = _REVISION.sub("", value)
    return stem[:1].isupper() and "_" not in stem


def operation_id_for(method: str, path: str, *, replace: bool = False) -> str:
    """A readable operationId for an operation that has none.

    ``GET /users`` → ``ListUsers``, ``GET /users/{id}`` → ``GetUser``, ``GET /users/{id}/posts``
    → ``ListUserPosts``, ``POST /users`` → ``CreateUser``, ``POST /messages/send`` →
    ``SendMessages``, ``DELETE /users/{id}`` → ``DeleteUser``. Version segments (``v2``) and
    ``api`` are left out. ``replace`` names a PUT next to a PATCH on the same path ``Replace…``.
    """
    method = method.lower()
    raw_segments = [s for s in path.split("/") if s]
    parts: list[tuple[list[str], bool]] = []  # (words of a static segment, followed by a variable)
    ends_with_variable = False
    for segment in raw_segments:
        if _VARIABLE.fullmatch(segment):
            if parts:
                parts[-1] = (parts[-1][0], True)
            ends_with_variable = True
            continue
        ends_with_variable = False
        if _SKIPPED_SEGMENTS.match(segment):
            continue
        words = split_words(_VARIABLE.sub(" ", segment))
        if words:
            embedded = _VARIABLE.search(segment) is not None  # files({id}) names one file
            parts.append((words, embedded))
            ends_with_variable = embedded
    verb = _OPERATION_VERBS.get(method, method.capitalize())
    if method == "put" and replace:
        verb = "Replace"
    if not parts:
        return verb + ("Item" if ends_with_variable else "Root")
    last_words = parts[-1][0]
    if not ends_with_variable and len(last_words) == 1 and last_words[0].lower() in _VERBS and len(parts) > 1:
        # an action path such as /messages/send or /droplets/{id}/reboot
        verb = last_words[0].capitalize()
        return verb + _pascal([w for words, followed in parts[:-1] for w in _resource(words, followed)])
    collection = not ends_with_variable and _is_plural(last_words[-1])
    if method == "get" and collection:
        verb = "List"
    names: list[str] = []
    for index, (words, followed) in enumerate(parts):
        last = index == len(parts) - 1
        singular = followed or (last and method == "post" and collection)
        names.extend(_resource(words, singular))
    return verb + _pascal(names)


def _resource(words: list[str], singular: bool) -> list[str]:
    if not singular or not words:
        return words
    return [*words[:-1], _singular(words[-1])]


def pascal_case_id(value: str) -> str:
    """An operationId in PascalCase: ``get-user.by_id`` → ``GetUserById``, ``getUser`` →
    ``GetUser``; a revision suffix is kept (``get_items_v2`` → ``GetItems_V2``). Empty when no
    letter or digit is left."""
    suffix = ""
    found = re.search(r"_[Vv]\d+$", value)
    if found and _VALID_ID.match(value):
        suffix = found.group(0).upper()  # the revision convention: GetItems_V2
        value = value[: found.start()]
    pieces = [p for p in re.split(r"[^A-Za-z0-9]+", value) if p]
    result = "".join(p[:1].upper() + p[1:] for p in pieces)
    return result + suffix if result else ""


# --------------------------------------------------------------------------- strings


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_TRAILING_STOPWORDS = frozenset(str.split("a an and as at by for from in into of on or the to with via"))
_DEPRECATED = "(deprecated)"
_TRAILING_CLOSERS = ")]\"'\u00bb\u201d\u2019"


def _strip_trailing(text: str) -> str:
    """Drop trailing characters other than letters, digits and a closing parenthesis."""
    end = len(text)
    while end and not (text[end - 1].isalnum() or text[end - 1] == ")"):
        end -= 1
    return text[:end]


def _balanced(text: str) -> str:
    """Cut an unclosed parenthesis (and what follows it) off a shortened text."""
    while text.count("(") > text.count(")"):
        text = text[: text.rfind("(")].rstrip()
    return text


def shorten(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: its first sentence if that fits, else cut at a
    word boundary, without a dangling small word or an unclosed parenthesis."""
    if len(text) <= limit:
        return text
    found = _SENTENCE_END.search(text)
    if found and 0 < found.start() < limit:
        first = _strip_trailing(text[: found.start()])
        if len(first.split()) >= 2:
            return first
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else text[:limit]
    words = cut.split()
    while len(words) > 1 and words[-1].lower().strip(",;:-") in _TRAILING_STOPWORDS:
        words.pop()
    return _strip_trailing(_balanced(" ".join(words)))


def clean_summary(text: str) -> str:
    """A summary as certification wants it: one line, no ``/``, no trailing punctuation, ≤ 80."""
    text = " ".join(text.split())
    text = re.sub(r"\band/or\b", "or", text, flags=re.IGNORECASE)
    text = re.sub(r"(?<=[A-Za-z])/(?=[A-Za-z])", " or ", text)
    text = " ".join(text.replace("/", " ").split())
    text = _strip_trailing(text)
    return _strip_trailing(shorten(text, SUMMARY_LIMIT))


def ends_sentence(text: str) -> bool:
    """Whether a description ends like a sentence, read as the validator reads it."""
    stripped = text.rstrip()
    if stripped.lower().endswith(_DEPRECATED):
        stripped = stripped[: -len(_DEPRECATED)].rstrip()
    stripped = stripped.rstrip(_TRAILING_CLOSERS)
    return not stripped or stripped[-1] in ".!?:…"


def comparable(text: str) -> str:
    """Text as the validator compares summaries and descriptions."""
    return " ".join(text.split()).rstrip(".").lower()


def describe_operation(summary: str, method: str, path: str) -> str:
    """A description sentence that says more than ``summary``: "List pets" → "Lists pets."."""
    words = summary.split()
    if words and words[0].lower() in _VERBS:
        words[0] = _third_person(words[0][:1].upper() + words[0][1:])
        if len(words) > 2 and words[1].lower() in ("or", "and") and words[2].lower() in _VERBS:
            words[2] = _third_person(words[2])
        sentence = " ".join(words)
        if comparable(sentence) != comparable(summary):
            return _with_period(sentence)
    return f"{summary} ({method.upper()} {path})."


def _with_period(text: str) -> str:
    text = text.rstrip()
    return text if ends_sentence(text) else text + "."


_SMALL_WORDS = frozenset(str.split("a an and as at by for from in into of on or the to via with"))


def title_phrase(text: str) -> str:
    """A phrase in Title Case: "Widget size in cm" → "Widget Size in Cm"; acronyms as usual."""
    out = []
    for index, word in enumerate(text.split()):
        shown = _display(word.strip("()[],;:"))
        if shown is not None and word.strip("()[],;:").isalpha():
            out.append(word.replace(word.strip("()[],;:"), shown))
        elif word[:1].islower() and (index == 0 or word not in _SMALL_WORDS):
            out.append(word[:1].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out)


def label_for(raw: dict[str, Any], name: str, header: bool = False) -> str:
    """The ``x-ms-summary`` of a parameter or property: its ``title``, else its name, in Title
    Case (a header's ``X-`` prefix left out)."""
    title = raw.get("title")
    if isinstance(title, str) and title.strip():
        return clean_summary(title_phrase(title.strip()))
    if header and re.match(r"(?i)x-", name) and len(name) > 2:
        name = name[2:]
    return clean_summary(title_case(name))


def describe_value(raw: dict[str, Any], summary: str) -> str:
    """A description for a parameter or property labelled ``summary``: "The user ID."."""
    phrase = _phrase(summary)
    text = f"The {phrase}." if not phrase.lower().startswith("the ") else f"Value of {phrase}."
    enum = raw.get("enum")
    if isinstance(enum, list) and 0 < len(enum) <= 8 and all(isinstance(v, str | int) for v in enum):
        values = ", ".join(str(v) for v in enum)
        if len(values) <= 120:
            text += f" One of: {values}."
    return text


# --------------------------------------------------------------------------- the walk


def _is_internal(raw: dict[str, Any]) -> bool:
    value = raw.get("x-ms-visibility")
    return isinstance(value, str) and value.strip().lower() == "internal"


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


@dataclass
class _Operation:
    path: str
    method: str
    raw: dict[str, Any]
    item: dict[str, Any]
    pointer: str


_OPERATION_FIRST = ("summary", "description", "operationId")
_NOT_REFERENCES = frozenset({"example", "examples", "x-example", "default", "enum", "x-ms-test-value"})
_SCHEMA_CHILDREN = ("items", "additionalProperties")

_CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "AI": ("ai", "gpt", "llm", "openai", "machine learning", "ml", "model", "models", "embedding", "embeddings"),
    "Business Intelligence": ("analytics", "dashboard", "dashboards", "reporting", "metrics", "insights", "bi"),
    "Business Management": ("erp", "inventory", "procurement", "accounting", "business"),
    "Collaboration": ("team", "teams", "collaboration", "guild", "guilds", "channel", "channels", "workspace"),
    "Commerce": ("shop", "store", "order", "orders", "cart", "product", "products", "commerce", "ecommerce"),
    "Communication": ("sms", "voice", "message", "messages", "messaging", "email", "chat", "fax", "phone"),
    "Content and Files": ("file", "files", "folder", "folders", "document", "documents", "storage", "drive"),
    "Data": ("data", "database", "databases", "dataset", "datasets", "sql", "query", "records"),
    "Finance": ("payment", "payments", "invoice", "invoices", "billing", "bank", "transfer", "transfers", "finance"),
    "Human Resources": ("employee", "employees", "payroll", "recruiting", "hr", "candidate", "candidates"),
    "Internet of Things": ("iot", "device", "devices", "sensor", "sensors", "telemetry"),
    "IT Operations": ("droplet", "droplets", "kubernetes", "server", "servers", "deploy", "monitoring", "incident"),
    "Lifestyle and Entertainment": ("music", "game", "games", "movie", "movies", "travel", "pet", "pets", "sport"),
    "Marketing": ("marketing", "campaign", "campaigns", "newsletter", "audience", "audiences", "seo"),
    "Productivity": ("task", "tasks", "calendar", "calendars", "note", "notes", "todo", "project", "projects"),
    "Sales and CRM": ("crm", "lead", "leads", "deal", "deals", "sales", "opportunity", "opportunities"),
    "Security": ("security", "vault", "secret", "secrets", "threat", "vulnerability", "firewall", "firewalls"),
    "Social Media": ("social", "tweet", "tweets", "follower", "followers", "instagram", "twitter"),
    "Website": ("website", "websites", "cms", "blog", "page", "pages", "domain", "domains"),
}

_PRODUCT_REPLACEMENTS = {"power apps": "apps", "power automate": "flows", "logic apps": "workflows"}


def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in word.split()) for word in words)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


_TITLE_WORDS = _words_pattern(TITLE_WORDS)
_DESCRIPTION_WORDS = _words_pattern(DESCRIPTION_WORDS)


class _Enricher:
    def __init__(self, swagger: dict[str, Any], report: Report, options: EnrichOptions) -> None:
        self.doc = swagger
        self.report = report
        self.options = options
        self.operations = list(self._operations())
        self.seen_schemas: set[int] = set()
        self.category_text = self._category_text()  # before any string is made up

    def enriched(self, message: str, pointer: str) -> None:
        self.report.add(Kind.ENRICHED, message, pointer, pointer)

    def run(self) -> None:
        self.info()
        self.operation_ids()
        for op in self.operations:
            self.operation_strings(op)
            self.responses(op)
        self.response_descriptions(self.doc.get("responses"), ROOT + "/responses", "Shared responses")
        self.parameters()
        self.schemas()
        if self.options.certification:
            info = self.doc["info"]
            self.certification_title(info)
            self.certification_description(info)
            self.metadata()

    def _operations(self) -> Iterator[_Operation]:
        paths = self.doc.get("paths")
        if not isinstance(paths, dict):
            return
        for path, item in paths.items():
            if not isinstance(item, dict) or not isinstance(path, str) or path.startswith("x-"):
                continue
            item_pointer = pointer_join(ROOT + "/paths", path)
            for method in HTTP_METHODS:
                raw = item.get(method)
                if isinstance(raw, dict):
                    yield _Operation(path, method, raw, item, pointer_join(item_pointer, method))

    # -- operationIds

    def operation_ids(self) -> None:
        """Keep valid ids, fix the others, fill the missing, and make them all unique."""
        originals = [op.raw.get("operationId") for op in self.operations]
        counts: dict[str, int] = {}
        for value in originals:
            if isinstance(value, str):
                counts[value] = counts.get(value, 0) + 1
        wanted: list[tuple[str, str | None]] = []  # (id wanted, why it changed or None)
        for op, value in zip(self.operations, originals, strict=True):
            wanted.append(self._wanted_id(op, value))
        used: set[str] = set()
        # ids kept as they are claim their names first, in document order
        final: list[str | None] = [None] * len(wanted)
        for index, (value, why) in enumerate(wanted):
            if why is None and value.lower() not in used:
                used.add(value.lower())
                final[index] = value
        renames: dict[str, str] = {}
        for index, (value, why) in enumerate(wanted):
            if final[index] is not None:
                continue
            unique = self._unique(value, used)
            used.add(unique.lower())
            final[index] = unique
            op = self.operations[index]
            original = originals[index]
            op.raw["operationId"] = unique
            pointer = op.pointer + "/operationId"
            if why is None:
                why = f"operationId '{original}' is used by another operation"
            elif unique != value:
                why += f"; '{value}' is taken, so numbered"
            label = f"{op.method.upper()} {op.path}"
            if isinstance(original, str) and original:
                self.enriched(f"{label}: {why}; renamed to '{unique}'.", pointer)
                if counts.get(original) == 1:
                    renames[original] = unique
            else:
                self.enriched(f"{label}: {why}; set to '{unique}' from the method and path.", pointer)
        if renames:
            self._follow_renames(renames)

    def _wanted_id(self, op: _Operation, value: Any) -> tuple[str, str | None]:
        replace = op.method == "put" and isinstance(op.item.get("patch"), dict)
        generated = operation_id_for(op.method, op.path, replace=replace)
        if not isinstance(value, str) or not value.strip():
            return generated, "the operation has no operationId"
        if _VALID_ID.match(value):
            if not self.options.pascal_case_ids or _is_pascal(value):
                return value, None
            fixed = pascal_case_id(value)
            return fixed, f"operationId '{value}' is not PascalCase"
        fixed = pascal_case_id(value)
        if not fixed:
            return generated, f"operationId '{value}' has no letters or digits"
        if not fixed[0].isalpha():
            fixed = _OPERATION_VERBS.get(op.method, op.method.capitalize()) + fixed
        return fixed, f"operationId '{value}' may only hold letters, digits and underscores, starting with a letter"

    @staticmethod
    def _unique(value: str, used: set[str]) -> str:
        if value.lower() not in used:
            return value
        found = _REVISION.search(value)
        stem, suffix = (value[: found.start()], found.group(0)) if found else (value, "")
        number = 2
        while f"{stem}{number}{suffix}".lower() in used:
            number += 1
        return f"{stem}{number}{suffix}"

    def _follow_renames(self, renames: dict[str, str]) -> None:
        """Point references to renamed operationIds (dynamic values, notifications …) at the new ids."""
        operations = {id(op.raw) for op in self.operations}

        def walk(node: Any, pointer: str) -> None:
            if isinstance(node, dict):
                ref = node.get("operationId")
                if id(node) not in operations and isinstance(ref, str) and ref in renames:
                    node["operationId"] = renames[ref]
                    self.enriched(
                        f"The reference to operationId '{ref}' now names '{renames[ref]}', its new id.",
                        pointer + "/operationId",
                    )
                for key, value in node.items():
                    if key not in _NOT_REFERENCES and isinstance(value, dict | list):
                        walk(value, pointer_join(pointer, key))
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    if isinstance(value, dict | list):
                        walk(value, pointer_join(pointer, index))

        walk(self.doc, ROOT)

    # -- operation summary and description

    def operation_strings(self, op: _Operation) -> None:
        added = [key for key in _OPERATION_FIRST if key not in op.raw]
        self._operation_strings(op)
        if any(key in op.raw for key in added):
            # strings made up here go where people look for them: first, as Microsoft writes them
            rest = {key: value for key, value in op.raw.items() if key not in _OPERATION_FIRST}
            first = {key: op.raw[key] for key in _OPERATION_FIRST if key in op.raw}
            op.raw.clear()
            op.raw.update(first)
            op.raw.update(rest)

    def responses(self, op: _Operation) -> None:
        """Swagger requires a description on every response; the status code's name fills it."""
        self.response_descriptions(op.raw.get("responses"), op.pointer + "/responses", f"{op.method.upper()} {op.path}")

    def response_descriptions(self, responses: Any, pointer: str, label: str) -> None:
        if not isinstance(responses, dict):
            return
        for code, response in responses.items():
            if not isinstance(response, dict) or "$ref" in response or "description" in response:
                continue
            if not isinstance(code, str) or code.startswith("x-"):
                continue
            try:
                text = HTTPStatus(int(code)).phrase
            except ValueError:
                text = "Default response" if code == "default" else f"Status {code}"
            if comparable(text) == code.lower():
                text = f"Status {code}"
            response["description"] = text
            self.enriched(
                f"{label}: response {code} had no description; it is now '{text}'.",
                pointer_join(pointer, code) + "/description",
            )

    def _operation_strings(self, op: _Operation) -> None:
        raw = op.raw
        label = f"{op.method.upper()} {op.path}"
        summary = raw.get("summary")
        description = raw.get("description")
        long_summary: str | None = None
        summary_pointer = op.pointer + "/summary"
        if _blank(summary):
            made = _sentence_case(split_words(str(raw.get("operationId", "")))) or label
            made = clean_summary(made) or op.method.capitalize()
            raw["summary"] = made
            self.enriched(f"{label}: summary '{made}' made from the operationId.", summary_pointer)
        else:
            assert isinstance(summary, str)
            cleaned = clean_summary(summary)
            if not cleaned:
                cleaned = clean_summary(_sentence_case(split_words(str(raw.get("operationId", ""))))) or "Call"
            if cleaned != summary:
                raw["summary"] = cleaned
                if len(" ".join(summary.split())) > SUMMARY_LIMIT:
                    long_summary = " ".join(summary.split())
                self.enriched(
                    f"{label}: summary '{_clip(summary)}' became '{cleaned}' "
                    f"(at most {SUMMARY_LIMIT} characters, no '/', no trailing punctuation).",
                    summary_pointer,
                )
        summary = str(raw["summary"])
        deprecated = raw.get("deprecated") is True
        if deprecated and _DEPRECATED not in summary.lower():
            marked = clean_summary(summary[: SUMMARY_LIMIT - len(_DEPRECATED) - 1]) + " " + _DEPRECATED
            raw["summary"] = summary = marked
            self.enriched(f"{label}: the deprecated operation's summary is marked '{_DEPRECATED}'.", summary_pointer)
        description_pointer = op.pointer + "/description"
        if _blank(description):
            if long_summary is not None:
                made = _with_period(long_summary)
                why = "the full text of the shortened summary"
            else:
                made = describe_operation(summary, op.method, op.path)
                why = "made from the summary"
            if comparable(made) == comparable(summary):
                made = f"{summary} ({op.method.upper()} {op.path})."
            if deprecated and _DEPRECATED not in made.lower():
                made = made.rstrip(".") + " " + _DEPRECATED + "."
            raw["description"] = made
            self.enriched(f"{label}: description '{_clip(made)}' {why}.", description_pointer)
            return
        assert isinstance(description, str)
        new = description
        if deprecated and _DEPRECATED not in new.lower():
            new = new.rstrip().rstrip(".") + " " + _DEPRECATED
        if comparable(new) == comparable(summary):
            new = describe_operation(summary, op.method, op.path)
        if len(new.split()) > 1 and not ends_sentence(new):
            new = new.rstrip() + "."
        if new != description:
            raw["description"] = new
            if comparable(description) == comparable(summary):
                why = "repeated the summary"
            elif deprecated and _DEPRECATED not in description.lower():
                why = f"is marked '{_DEPRECATED}' and ends with a period"
            else:
                why = "now ends with a period"
            self.enriched(f"{label}: the description {why}: '{_clip(new)}'.", description_pointer)

    # -- parameters

    def parameters(self) -> None:
        root = self.doc.get("parameters")
        if isinstance(root, dict):
            for name, param in root.items():
                if isinstance(param, dict):
                    self.parameter(param, pointer_join(ROOT + "/parameters", name), hidden=False, linked=False)
        linked = self._notification_linked()
        done: set[int] = set()
        for op in self.operations:
            is_linked = id(op.raw) in linked
            hidden_op = _is_internal(op.raw)
            item_pointer = op.pointer.rsplit("/", 1)[0]
            lists = [(op.item.get("parameters"), item_pointer + "/parameters", False)]
            lists.append((op.raw.get("parameters"), op.pointer + "/parameters", hidden_op))
            for params, pointer, hidden in lists:
                if not isinstance(params, list):
                    continue
                for index, param in enumerate(params):
                    if isinstance(param, dict) and id(param) not in done:
                        done.add(id(param))
                        self.parameter(param, pointer_join(pointer, index), hidden=hidden, linked=is_linked)

    def _notification_linked(self) -> set[int]:
        """Operations whose parameters must keep the same visibility as another's (a polling
        trigger and the webhook it names in ``x-ms-notification``)."""
        by_id = {op.raw.get("operationId"): op for op in self.operations}
        linked: set[int] = set()
        for op in self.operations:
            notification = op.raw.get("x-ms-notification")
            if isinstance(notification, dict):
                linked.add(id(op.raw))
                target = by_id.get(notification.get("operationId"))
                if target is not None:
                    linked.add(id(target.raw))
        return linked

    def parameter(self, param: dict[str, Any], pointer: str, *, hidden: bool, linked: bool) -> None:
        if "$ref" in param:
            return
        name = param.get("name")
        location = param.get("in")
        if not isinstance(name, str) or not isinstance(location, str):
            return
        if location == "body":
            schema = param.get("schema")
            if isinstance(schema, dict):
                self.schema(schema, pointer + "/schema")
            summary, description = param.get("x-ms-summary"), param.get("description")
            if (
                not hidden
                and not _is_internal(param)
                and isinstance(summary, str)
                and summary.strip()
                and isinstance(description, str)
                and comparable(description) == comparable(summary)
            ):
                param["description"] = describe_value(param, summary)
                self.enriched(
                    f"The body parameter '{name}' repeated its summary in its description; "
                    f"it is now '{_clip(param['description'])}'.",
                    pointer + "/description",
                )
            return
        if location == "path" and "x-ms-url-encoding" not in param:
            param["x-ms-url-encoding"] = "single"
            self.enriched(
                f"Path parameter '{name}' is URL-encoded once (x-ms-url-encoding: single).",
                pointer + "/x-ms-url-encoding",
            )
        if (
            self.options.hide_optional
            and not linked
            and location in ("query", "header")
            and param.get("required") is not True
            and "x-ms-visibility" not in param
        ):
            param["x-ms-visibility"] = "advanced"
            self.enriched(
                f"Optional {location} parameter '{name}' is shown under advanced options.",
                pointer + "/x-ms-visibility",
            )
        self.labels(
            param,
            name,
            pointer,
            kind=f"{location} parameter",
            header=location == "header",
            add=not hidden and not _is_internal(param),
        )

    def labels(
        self, raw: dict[str, Any], name: str, pointer: str, *, kind: str, header: bool = False, add: bool = True
    ) -> None:
        """``x-ms-summary`` and ``description`` of a parameter where missing (``add``), and
        different from each other (the validator compares them even on hidden parameters)."""
        summary = raw.get("x-ms-summary")
        added: list[str] = []
        if not add and _blank(summary):
            return
        if isinstance(summary, str) and len(summary) > SUMMARY_LIMIT:
            short = clean_summary(summary)
            if short:
                if _blank(raw.get("description")):
                    raw["description"] = _with_period(" ".join(summary.split()))
                raw["x-ms-summary"] = summary = short
                added.append(f"an x-ms-summary of at most {SUMMARY_LIMIT} characters")
        if _blank(summary):
            summary = label_for(raw, name, header)
            if not summary:
                return
            raw["x-ms-summary"] = summary
            added.append("x-ms-summary")
        assert isinstance(summary, str)
        description = raw.get("description")
        if _blank(description):
            if not add:
                return
            raw["description"] = description = describe_value(raw, summary)
            added.append("description")
        elif comparable(str(description)) == comparable(summary):
            raw["description"] = describe_value(raw, summary)
            added.append("description (it repeated the summary)")
        if added:
            fields = " and ".join(added)
            self.enriched(
                f"The {kind} '{name}' got {fields}: '{raw['x-ms-summary']}', '{_clip(str(raw['description']))}'.",
                pointer,
            )

    # -- schema properties

    def schemas(self) -> None:
        definitions = self.doc.get("definitions")
        if isinstance(definitions, dict):
            for name, schema in definitions.items():
                if isinstance(schema, dict):
                    self.schema(schema, pointer_join(ROOT + "/definitions", name))
        responses = self.doc.get("responses")
        if isinstance(responses, dict):
            for name, response in responses.items():
                self.response(response, pointer_join(ROOT + "/responses", name))
        for op in self.operations:
            responses = op.raw.get("responses")
            if isinstance(responses, dict):
                for code, response in responses.items():
                    self.response(response, pointer_join(op.pointer + "/responses", code))
        paths = self.doc.get("paths")
        if isinstance(paths, dict):
            for path, item in paths.items():
                content = item.get("x-ms-notification-content") if isinstance(item, dict) else None
                if isinstance(content, dict) and isinstance(content.get("schema"), dict):
                    pointer = pointer_join(ROOT + "/paths", path) + "/x-ms-notification-content/schema"
                    self.schema(content["schema"], pointer)

    def response(self, response: Any, pointer: str) -> None:
        if isinstance(response, dict) and isinstance(response.get("schema"), dict):
            self.schema(response["schema"], pointer + "/schema")

    def schema(self, schema: dict[str, Any], pointer: str, depth: int = 0) -> None:
        if id(schema) in self.seen_schemas or "$ref" in schema or depth > 64:
            return
        self.seen_schemas.add(id(schema))
        properties = schema.get("properties")
        if isinstance(properties, dict):
            labelled: list[str] = []
            for name, prop in properties.items():
                if not isinstance(prop, dict) or "$ref" in prop or _is_internal(prop):
                    continue
                changed = False
                if _blank(prop.get("x-ms-summary")):
                    label = label_for(prop, name)
                    if label:
                        prop["x-ms-summary"] = label
                        changed = True
                summary = prop.get("x-ms-summary")
                if self.options.certification and isinstance(summary, str) and summary.strip():
                    description = prop.get("description")
                    if _blank(description) or comparable(str(description)) == comparable(summary):
                        prop["description"] = describe_value(prop, summary)
                        changed = True
                if changed:
                    labelled.append(name)
            if labelled:
                what = "x-ms-summary and description" if self.options.certification else "x-ms-summary"
                self.enriched(
                    f"{len(labelled)} propert{'y' if len(labelled) == 1 else 'ies'} got {what} from "
                    f"their titles or names: {_names(labelled)}.",
                    pointer + "/properties",
                )
            for name, prop in properties.items():
                if isinstance(prop, dict):
                    self.schema(prop, pointer_join(pointer + "/properties", name), depth + 1)
        for key in _SCHEMA_CHILDREN:
            child = schema.get(key)
            if isinstance(child, dict):
                self.schema(child, f"{pointer}/{key}", depth + 1)
        parts = schema.get("allOf")
        if isinstance(parts, list):
            for index, part in enumerate(parts):
                if isinstance(part, dict):
                    self.schema(part, f"{pointer}/allOf/{index}", depth + 1)

    # -- info and metadata

    def info(self) -> None:
        info = self.doc.get("info")
        if not isinstance(info, dict):
            info = {}
            self.doc["info"] = info
            self._reorder_info()
        title = info.get("title")
        if _blank(title):
            made = self._host_title() or "Untitled"
            info["title"] = made
            self.enriched(f"The definition had no title; it is now '{made}', change it as you see fit.", "#/info/title")
        if "version" not in info:
            info["version"] = "1.0.0"
            self.enriched("The definition had no version; it is now '1.0.0'.", "#/info/version")

    def _reorder_info(self) -> None:
        order = ["swagger", "info"]
        items = dict(self.doc)
        self.doc.clear()
        for key in order:
            if key in items:
                self.doc[key] = items.pop(key)
        self.doc.update(items)

    def _host_title(self) -> str:
        """The service's name from its host: ``api.widgets.com`` → "Widgets"."""
        host = self.doc.get("host")
        if not isinstance(host, str) or not host.strip():
            return ""
        labels = [label for label in host.split(":")[0].split(".") if label and not label.isdigit()]
        if len(labels) > 1:
            labels = labels[:-1]  # the top-level domain
            if len(labels) > 1 and labels[-1].lower() in ("co", "com", "org", "net", "ac", "gov", "edu"):
                labels = labels[:-1]  # example.co.uk
        generic = {"api", "apis", "www", "rest", "gateway", "service", "services"}
        candidates = [label for label in labels if label.lower() not in generic]
        if not candidates:
            return ""
        return title_case(candidates[-1])[:TITLE_LIMIT].strip()

    def certification_title(self, info: dict[str, Any]) -> None:
        title = info.get("title")
        if not isinstance(title, str):
            return
        new = _TITLE_WORDS.sub(" ", title)
        new = re.sub(r"\(\s*\)|\[\s*\]", " ", new)
        new = " ".join(new.split())
        new = re.sub(r"^[\s\-\u2013\u2014:|,]+|[\s\-\u2013\u2014:|,]+$", "", new)
        new = _strip_trailing(new)
        if len(new) > TITLE_LIMIT:
            new = shorten(new, TITLE_LIMIT)
        if not new:
            new = self._host_title()
        if not new or new == title:
            return
        info["title"] = new
        self.enriched(
            f"Title '{title}' became '{new}': certification allows {TITLE_LIMIT} characters ending with a letter "
            f"or digit, without the words {' or '.join(repr(w) for w in TITLE_WORDS)}.",
            "#/info/title",
        )

    def certification_description(self, info: dict[str, Any]) -> None:
        low, high = DESCRIPTION_RANGE
        description = info.get("description")
        original = description if isinstance(description, str) else None
        text = " ".join(original.split()) if original else ""
        text = _DESCRIPTION_WORDS.sub(lambda m: _PRODUCT_REPLACEMENTS[" ".join(m.group(0).lower().split())], text)
        why: list[str] = []
        if original and text != " ".join(original.split()) and _DESCRIPTION_WORDS.search(original):
            why.append("named Microsoft products")
        if len(text) < low:
            text = (_with_period(text) + " " if text else "") + self._service_sentence(str(info.get("title", "")))
            why.append(f"had fewer than {low} characters" if original and original.strip() else "was missing")
        if len(text) > high:
            text = self._trim_description(text, high)
            why.append(f"had more than {high} characters")
        if not why or text == original:
            return
        info["description"] = text
        self.enriched(
            f"The connector description {' and '.join(why)}, which certification does not allow; "
            f"it is now '{_clip(text)}'.",
            "#/info/description",
        )

    def _service_sentence(self, title: str) -> str:
        summaries = []
        for op in self.operations:
            summary = op.raw.get("summary")
            if isinstance(summary, str) and summary.strip() and not _is_internal(op.raw):
                summaries.append(_phrase(summary.strip()))
            if len(summaries) == 3:
                break
        name = re.sub(r"(?i)^the\s+", "", title.strip()) or "this"
        if summaries:
            listed = ", ".join(summaries[:-1]) + (" and " if len(summaries) > 1 else "") + summaries[-1]
            sentence = f"Connect to the {name} service to {listed}."
        else:
            sentence = f"Connect to the {name} service and call its operations."
        if len(sentence) < DESCRIPTION_RANGE[0]:
            sentence += " Use its operations in your flows and apps."
        return sentence

    @staticmethod
    def _trim_description(text: str, high: int) -> str:
        cut = text[:high]
        ends = [m.end() for m in _SENTENCE_END.finditer(cut)]
        ends = [end for end in ends if end >= DESCRIPTION_RANGE[0]]
        if ends:
            return cut[: ends[-1]].rstrip()
        return _strip_trailing(shorten(text, high - 1)) + "."

    def metadata(self) -> None:
        entries = self.doc.get(METADATA)
        if entries is not None and not isinstance(entries, list):
            return
        created = entries is None
        if entries is None:
            entries = []
        present = {
            str(entry.get("propertyName", "")).strip().lower()
            for entry in entries
            if isinstance(entry, dict) and isinstance(entry.get("propertyName"), str)
        }
        added: list[str] = []
        missing: list[str] = []
        website = self._website()
        privacy = self._privacy()
        categories = self._categories()
        for name, value, hint in (
            ("Website", website, "the URL of the service's website"),
            ("Privacy policy", privacy, "the URL of the service's privacy policy"),
            ("Categories", ";".join(categories), "one or two of: " + ", ".join(CATEGORIES)),
        ):
            if name.lower() in present:
                continue
            if value:
                entries.append({"propertyName": name, "propertyValue": value})
                added.append(f"{name} '{value}'")
            else:
                missing.append(f"{name} ({hint})")
        if created and not entries and not missing:
            return
        if created:
            self.doc[METADATA] = entries
        pointer = "#/" + METADATA
        if added:
            guess = " (Categories guessed from the title, description and tags: check them)" if categories else ""
            self.enriched(f"Connector metadata added: {', '.join(added)}{guess}.", pointer)
        if missing:
            self.report.note(
                f"Connector metadata for certification still needs values you must fill in: {'; '.join(missing)}.",
                pointer,
                pointer,
            )
        info = self.doc.get("info")
        if isinstance(info, dict) and not isinstance(info.get("contact"), dict):
            self.report.note(
                "Certification needs info.contact with the name, URL and email address of the support team; "
                "fill it in.",
                "#/info",
                "#/info",
            )

    def _website(self) -> str:
        info = self.doc.get("info")
        contact = info.get("contact") if isinstance(info, dict) else None
        url = contact.get("url") if isinstance(contact, dict) else None
        if isinstance(url, str) and _web_url(url):
            return url
        docs = self.doc.get("externalDocs")
        url = docs.get("url") if isinstance(docs, dict) else None
        if isinstance(url, str) and _web_url(url):
            return url
        return ""

    def _privacy(self) -> str:
        """``info.termsOfService`` when it is the privacy policy; terms of service are not one."""
        info = self.doc.get("info")
        terms = info.get("termsOfService") if isinstance(info, dict) else None
        if isinstance(terms, str) and _web_url(terms) and "privacy" in terms.lower():
            return terms
        return ""

    def _category_text(self) -> str:
        """The title, description and tag names as written, in lower-case words."""
        info = self.doc.get("info")
        texts: list[str] = []
        if isinstance(info, dict):
            texts.extend(str(info.get(key, "")) for key in ("title", "description"))
        tags = self.doc.get("tags")
        if isinstance(tags, list):
            texts.extend(str(tag.get("name", "")) for tag in tags if isinstance(tag, dict))
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", " ".join(texts))]
        return " " + " ".join(words) + " "

    def _categories(self) -> list[str]:
        joined = self.category_text
        scores: dict[str, int] = {}
        for category, keys in _CATEGORY_WORDS.items():
            score = sum(joined.count(f" {key} ") for key in keys)
            if score:
                scores[category] = score
        ranked = sorted(scores, key=lambda c: (-scores[c], CATEGORIES.index(c)))
        return ranked[:2]


def _web_url(url: str) -> bool:
    return url_is_valid(url) and urlsplit(url).scheme.lower() in ("http", "https")


def _clip(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _names(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
