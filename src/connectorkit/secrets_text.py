"""Cutting secret values out of text: every form a secret takes on the wire, replaced by ``***``.

Shared by the local runtime (call history, console pages, webhook logs) and the cloud clients
(error messages that quote a request body back), which must not depend on each other: one rule
for what counts as "the secret showing" keeps them from drifting apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"


def secret_strings(values: Iterable[Any]) -> list[str]:
    """The strings to redact for each secret value: the value itself (non-strings as JSON), the
    URL-encoded and JSON-escaped forms it takes on the wire, and each of those with runs of
    whitespace collapsed to one space (error messages are often folded onto one line that way).
    Longest first, so a longer form is cut before a shorter one inside it; empties dropped."""
    forms: set[str] = set()
    for value in values:
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        if not text:
            continue
        for variant in {text, " ".join(text.split())}:
            if not variant:
                continue
            wire = {variant, quote(variant, safe=""), quote_plus(variant, safe=""), json.dumps(variant)[1:-1]}
            forms |= wire | {" ".join(form.split()) for form in wire}
    return sorted((form for form in forms if form), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each of ``secrets`` (as given by :func:`secret_strings`)
    replaced by ``***``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_json(value: Any, secrets: Iterable[str]) -> Any:
    """A JSON value with ``secrets`` cut out of its text. When cutting breaks the JSON (a secret
    that was a bare number, say), the redacted text is returned instead of the value."""
    text = json.dumps(value, ensure_ascii=False)
    cleaned = redact(text, secrets)
    if cleaned == text:
        return value
    try:
        return json.loads(cleaned)
    except ValueError:
        return cleaned
