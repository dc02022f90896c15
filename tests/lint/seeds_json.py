"""Seeded defects for the JSON syntax rules: the definition's bytes are damaged, then read."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.lint.harness import Files, Seed


def _text(edit: Callable[[str], str | bytes]) -> Callable[[Files], None]:
    def mutate(f: Files) -> None:
        text = json.dumps(f.definition, indent=4, ensure_ascii=False)
        edited = edit(text)
        f.raw_definition = edited if isinstance(edited, bytes) else edited.encode("utf-8")

    return mutate


def _first(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


SEEDS = [
    Seed("JsonByteOrderMark", _text(lambda t: b"\xef\xbb\xbf" + t.encode()), ("",)),
    Seed("JsonNotUtf8", _text(lambda t: _first(t, "Manage", "Manag\u00e9").encode("cp1252")), ("",)),
    Seed("JsonTrailingComma", _text(lambda t: _first(t, '"https"\n', '"https",\n')), ("",)),
    Seed("JsonMissingComma", _text(lambda t: _first(t, '"2.0",', '"2.0"')), ("",)),
    Seed("JsonUnclosedBracket", _text(lambda t: t.rstrip().removesuffix("}")), ("",)),
    Seed("JsonComment", _text(lambda t: "// petstore\n" + t), ("",)),
    Seed("JsonControlCharacter", _text(lambda t: _first(t, "Manage the", "Manage\tthe")), ("",)),
    Seed("JsonUnicodeWhitespace", _text(lambda t: _first(t, '"swagger"', '\u2003"swagger"')), ("",)),
    Seed(
        "JsonDuplicateKey",
        _text(lambda t: _first(t, '"swagger": "2.0",', '"swagger": "2.0", "swagger": "2.0",')),
        ("",),
    ),
]
