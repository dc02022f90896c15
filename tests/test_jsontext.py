"""Unit tests of the tolerant, position-aware JSON reader and of the document layer on top of it."""

from __future__ import annotations

import codecs
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from connectorkit.definition import jsontext
from connectorkit.definition.documents import REPAIR_RULES, parse_document, read_document
from connectorkit.definition.findings import Severity
from connectorkit.definition.jsontext import (
    decode,
    dumps,
    load_json_bytes,
    load_json_text,
    parse_tolerant,
    pointer_join,
)
from connectorkit.errors import EXIT_USAGE, InputError, SourceError

FILE = "conn/apiDefinition.swagger.json"


def kinds(parsed) -> list[str]:
    return [r.kind for r in parsed.repairs]


def position_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """Line and column (1-based, in characters) of the nth occurrence of ``needle``, computed by hand."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column


def load_error(text: str) -> SourceError:
    with pytest.raises(SourceError) as info:
        load_json_text(text, FILE)
    return info.value


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Turn a hang in pure-Python code into a TimeoutError (main thread, POSIX only)."""

    def on_alarm(signum, frame):
        raise TimeoutError(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------- strict fast path


def test_strict_json_takes_the_fast_path_without_repairs(monkeypatch):
    text = '{\n    "swagger": "2.0",\n    "info": {"title": "Caf\u00e9", "version": "1.0"},\n    "n": [1, 2.5, -3e2, null, true]\n}'

    def tolerant_must_not_run(*args, **kwargs):
        raise AssertionError("the tolerant reader ran on strict JSON")

    monkeypatch.setattr(jsontext, "parse_tolerant", tolerant_must_not_run)
    parsed = load_json_text(text, FILE)
    assert parsed.repairs == []
    assert parsed.value == json.loads(text)
    assert list(parsed.value) == ["swagger", "info", "n"]
    assert parsed.source.file == FILE
    assert parsed.source.text == text


def test_tolerant_reader_gives_the_same_values_as_the_c_parser_on_strict_input():
    text = '{"s": "a\\"b\\\\c\\u00e9\\n", "i": -12, "f": 0.5, "e": 1E3, "z": [], "o": {}, "l": [true, false, null]}'
    value, repairs, _ = parse_tolerant(text, FILE)
    assert repairs == []
    expected = json.loads(text)
    assert value == expected
    assert json.dumps(value) == json.dumps(expected)
    assert type(value["i"]) is int
    assert type(value["f"]) is float
    assert type(value["e"]) is float


# --------------------------------------------------------------------------- decoding repairs


def test_utf8_bom_is_removed_and_reported():
    parsed = load_json_bytes(codecs.BOM_UTF8 + b'{"a": 1}', FILE)
    assert parsed.value == {"a": 1}
    assert kinds(parsed) == ["bom"]
    assert (parsed.repairs[0].line, parsed.repairs[0].column) == (1, 1)
    assert not parsed.source.text.startswith("\ufeff")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_bom_is_converted(encoding):
    body = '{"name": "\u00e9t\u00e9 \u2713"}'
    raw = body.encode(encoding)
    if encoding == "utf-16-le":
        raw = codecs.BOM_UTF16_LE + raw
    elif encoding == "utf-16-be":
        raw = codecs.BOM_UTF16_BE + raw
    text, repairs = decode(raw, FILE)
    assert text == body
    assert [r.kind for r in repairs] == ["bom"]
    assert "UTF-16" in repairs[0].message
    assert load_json_bytes(raw, FILE).value == {"name": "\u00e9t\u00e9 \u2713"}


def test_cp1252_byte_is_read_as_windows_1252_with_its_line_and_column():
    raw = b'{\n  "a": "caf\xe9"\n}\n'
    parsed = load_json_bytes(raw, FILE)
    assert parsed.value == {"a": "caf\u00e9"}
    assert kinds(parsed) == ["non-utf8"]
    repair = parsed.repairs[0]
    assert (repair.line, repair.column) == (2, 12)
    assert "0xe9" in repair.message
    assert "more" not in repair.message


def test_cp1252_column_counts_characters_not_bytes_and_counts_the_others():
    # "é" before the bad byte is two UTF-8 bytes but one column.
    raw = b'{"\xc3\xa9": "\x92x", "b": "\x93q\x94", "c": "\x81"}'
    text, repairs = decode(raw, FILE)
    assert text == '{"\u00e9": "\u2019x", "b": "\u201cq\u201d", "c": "\x81"}'
    assert len(repairs) == 1
    assert (repairs[0].line, repairs[0].column) == (1, 8)
    assert "0x92" in repairs[0].message
    assert "(and 3 more)" in repairs[0].message


def test_valid_utf8_is_not_reported():
    text, repairs = decode('{"a": "\u00e9\u4e2d\U0001f600"}'.encode(), FILE)
    assert repairs == []
    assert text == '{"a": "\u00e9\u4e2d\U0001f600"}'


# --------------------------------------------------------------------------- syntax repairs


@pytest.mark.parametrize(
    ("text", "value", "where"),
    [
        ('{"a": 1, "b": 2,}', {"a": 1, "b": 2}, (1, 16)),
        ('{\n  "a": [1, 2,\n  ]\n}', {"a": [1, 2]}, (2, 13)),
        ("[1, 2, ]", [1, 2], (1, 6)),
    ],
    ids=["object", "nested-array", "array"],
)
def test_trailing_comma_is_removed(text, value, where):
    parsed = load_json_text(text, FILE)
    assert parsed.value == value
    assert kinds(parsed) == ["trailing-comma"]
    assert (parsed.repairs[0].line, parsed.repairs[0].column) == where


def test_missing_comma_between_properties_is_added():
    text = '{\n  "a": "x"\n  "b": {"c": 1}\n}'
    parsed = load_json_text(text, FILE)
    assert parsed.value == {"a": "x", "b": {"c": 1}}
    assert kinds(parsed) == ["missing-comma"]
    assert (parsed.repairs[0].line, parsed.repairs[0].column) == position_of(text, '"b"')
    assert "properties" in parsed.repairs[0].message


def test_missing_comma_between_array_items_is_added():
    text = '[\n  {"a": 1}\n  {"a": 2}\n  "s" 3 true [4]\n]'
    parsed = load_json_text(text, FILE)
    assert parsed.value == [{"a": 1}, {"a": 2}, "s", 3, True, [4]]
    # Five separators are missing: after each object (one across a line break) and between the scalars.
    assert kinds(parsed) == ["missing-comma"] * 5
    assert [(r.line, r.column) for r in parsed.repairs] == [(3, 3), (4, 3), (4, 7), (4, 9), (4, 14)]
    assert "array items" in parsed.repairs[0].message


def test_line_and_block_comments_are_removed():
    text = '/* header\n   spans lines */\n{\n  "a": 1, // note: "b": 2\n  "c": /* inline */ 3\n}'
    parsed = load_json_text(text, FILE)
    assert parsed.value == {"a": 1, "c": 3}
    assert kinds(parsed) == ["comment", "comment", "comment"]
    assert [(r.line, r.column) for r in parsed.repairs] == [(1, 1), (4, 11), (5, 8)]


def test_comment_markers_inside_strings_are_left_alone():
    parsed = load_json_text('{"url": "https://x/*y*/", "c": 1, }', FILE)
    assert parsed.value == {"url": "https://x/*y*/", "c": 1}
    assert kinds(parsed) == ["trailing-comma"]


def test_raw_control_character_in_string_is_read_as_escaped():
    text = '{\n  "a": "tab\there",\n  "b": "line\nbreak"\n}'
    parsed = load_json_text(text, FILE)
    assert parsed.value == {"a": "tab\there", "b": "line\nbreak"}
    assert kinds(parsed) == ["control-character", "control-character"]
    assert (parsed.repairs[0].line, parsed.repairs[0].column) == (2, 8)
    assert (parsed.repairs[1].line, parsed.repairs[1].column) == (3, 8)


@pytest.mark.parametrize("space", ["\u2003", "\u00a0", "\u3000", "\u202f"])
def test_unicode_space_between_tokens_is_read_as_a_space(space):
    text = f'{{\n{space}{space}"a": 1,{space}"b": 2\n}}'
    parsed = load_json_text(text, FILE)
    assert parsed.value == {"a": 1, "b": 2}
    assert kinds(parsed) == ["unicode-whitespace", "unicode-whitespace"]
    assert [(r.line, r.column) for r in parsed.repairs] == [(2, 1), (2, 10)]
    assert f"U+{ord(space):04X}" in parsed.repairs[0].message


def test_unicode_space_inside_a_string_is_kept():
    parsed = load_json_text('{"a": "x\u2003y",}', FILE)
    assert parsed.value == {"a": "x\u2003y"}
    assert kinds(parsed) == ["trailing-comma"]


def test_unclosed_brackets_at_end_of_file_are_closed():
    text = '{\n  "a": [1, 2,\n  "b"'
    parsed = load_json_text(text, FILE)
    assert parsed.value == {"a": [1, 2, "b"]}
    assert kinds(parsed) == ["unclosed-bracket", "unclosed-bracket"]
    # The innermost bracket is reported first, each at the place it was opened.
    assert [(r.line, r.column) for r in parsed.repairs] == [(2, 8), (1, 1)]
    assert "'['" in parsed.repairs[0].message
    assert "']'" in parsed.repairs[0].message
    assert "'{'" in parsed.repairs[1].message


def test_unclosed_array_at_eof_is_repaired():
    parsed = load_json_text("[1, 2", FILE)
    assert parsed.value == [1, 2]
    assert kinds(parsed) == ["unclosed-bracket"]


def test_duplicate_key_keeps_the_last_value_and_is_reported():
    text = '{\n  "a": 1,\n  "b": 2,\n  "a": {"x": 3}\n}'
    parsed = load_json_text(text, FILE)  # strict JSON for the C parser, but duplicates are noticed
    assert parsed.value == {"a": {"x": 3}, "b": 2}
    # Same position rule as json.loads: the key keeps its first place, with the last value.
    assert list(parsed.value) == list(json.loads(text)) == ["a", "b"]
    assert kinds(parsed) == ["duplicate-key"]
    assert (parsed.repairs[0].line, parsed.repairs[0].column) == (4, 3)
    assert "'a'" in parsed.repairs[0].message
    # The position of /a is the value that was kept.
    assert parsed.source.locate("/a") == (4, 8)


def test_nested_duplicate_key_is_noticed():
    parsed = load_json_text('[{"k": 1, "k": 2}]', FILE)
    assert parsed.value == [{"k": 2}]
    assert kinds(parsed) == ["duplicate-key"]


def test_repairs_of_several_kinds_are_all_reported():
    raw = codecs.BOM_UTF8 + b'{\n  "a": "\xe9", // c\n  "b": [1 2,]\n  "a": 0'
    parsed = load_json_bytes(raw, FILE)
    assert parsed.value == {"a": 0, "b": [1, 2]}
    # Decoding repairs come first; the rest are compared without relying on their order.
    assert kinds(parsed)[:2] == ["bom", "non-utf8"]
    assert sorted((r.kind, r.line, r.column) for r in parsed.repairs) == sorted(
        [
            ("bom", 1, 1),
            ("non-utf8", 2, 9),
            ("comment", 2, 13),
            ("missing-comma", 3, 11),
            ("trailing-comma", 3, 12),
            ("missing-comma", 4, 3),
            ("duplicate-key", 4, 3),
            ("unclosed-bracket", 1, 1),
        ]
    )


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        ('{"a": }', 1, 7, "expecting a value, found '}'"),
        ('{"a" 1}', 1, 6, "expecting ':' after property name 'a'"),
        ('{"a": [1}', 1, 9, "expecting ',' or ']' after an array item, found '}'"),
        ('{"a": 1]', 1, 8, "expecting ',' or '}' after a property value, found ']'"),
        ('{"a": "abc', 1, 7, "unterminated string"),
        ('{\n  "a": "abc\n}', 2, 8, "unterminated string"),
        ("[1] 2", 1, 5, "extra data after the top-level value: '2'"),
        ('{"a": 1}\n{"b": 2}', 2, 1, "extra data after the top-level value: '{'"),
        ('{\n  "k": "ab\\q"\n}', 2, 11, "invalid escape in string: Invalid \\escape"),
        ('["\\u12"]', 1, 4, "invalid escape in string: Invalid \\uXXXX escape"),
        ("", 1, 1, "expecting a value, found the end of the file"),
        ("  \n  ", 2, 3, "expecting a value, found the end of the file"),
        ('{"a": }'.replace(" ", "\r\n  "), 2, 3, "expecting a value, found '}'"),
        ("{1: 2}", 1, 2, "expecting a property name in double quotes, found '1'"),
        ("{'a': 2}", 1, 2, 'unexpected character "\'"'),
        ('{"a": tru}', 1, 7, "unexpected character 't'"),
        ("[1,,2]", 1, 4, "expecting a value, found ','"),
        ('{"a": 1, /x}', 1, 10, "unexpected character '/'"),
        ("[1, /* open", 1, 5, "unterminated comment"),
        ('{"a":', 1, 6, "expecting a value, found the end of the file"),
    ],
)
def test_unreadable_input_raises_source_error_at_the_place(text, line, column, problem):
    error = load_error(text)
    assert (error.file, error.line, error.column, error.problem) == (FILE, line, column, problem)
    assert str(error) == f"{FILE}:{line}:{column}: {problem}"
    assert isinstance(error, InputError)
    assert error.exit_code == EXIT_USAGE


def test_unclosed_bracket_is_repaired_but_a_wrong_closer_is_an_error():
    assert load_json_text("[1, 2", FILE).value == [1, 2]
    error = load_error('{"a": [1}')
    assert (error.line, error.column) == (1, 9)


def test_error_after_non_utf8_bytes_is_located_in_characters():
    with pytest.raises(SourceError) as info:
        load_json_bytes(b'{"\xe9\xe9": }', FILE)
    assert (info.value.line, info.value.column) == (1, 8)


def test_deep_nesting_is_a_source_error_not_a_crash():
    error = load_error("[" * 100_000 + "]" * 100_000)
    assert (error.line, error.column, error.problem) == (1, 1, "nesting is too deep to read")
    with pytest.raises(SourceError, match="nesting is too deep to read"):
        parse_tolerant("[" * 5_000 + "]" * 4_999 + ",]", FILE)


def test_huge_integer_is_a_source_error():
    with pytest.raises(SourceError):
        load_json_text('{"a": ' + "1" * 5000 + "}", FILE)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_not_accepted_silently(literal):
    try:
        parsed = load_json_text(f'{{"a": {literal}}}', FILE)
    except SourceError:
        return
    assert parsed.repairs, f"{literal} was read without a repair being reported"


def test_non_json_number_literals_are_rejected_by_the_tolerant_reader():
    error = load_error('{"a": NaN,}')
    assert (error.line, error.column, error.problem) == (1, 7, "NaN is not a JSON number; use null or a string")


@pytest.mark.parametrize("text", ['{"a": 1e400}', '{"a": -1E999,}'])
def test_infinite_numbers_are_a_source_error(text):
    error = load_error(text)
    assert (error.line, error.column) == (1, 7)
    assert "out of range" in error.problem


def test_lone_surrogates_are_saved_as_escapes():
    from connectorkit.definition.jsontext import dump_bytes

    value = load_json_text('{"a": "\\ud800 é"}', FILE).value
    raw = dump_bytes(value)
    assert b"\\ud800" in raw
    assert json.loads(raw) == value


# --------------------------------------------------------------------------- locating pointers

LOCATE_STRICT = """
  {
    "a/b": {
      "m~n": [10, {"x": true}],
      "": "empty key"
    },
    "list": [
      1,
      22
    ],
    "~1": null
  }
"""
# The same layout with a trailing comma on the last line of the array: earlier positions do not move.
LOCATE_TOLERANT = LOCATE_STRICT.replace("      22\n", "      22,\n")

LOCATIONS = [
    ("", "{"),
    ("/a~1b", '{\n      "m~n"'),
    ("#/a~1b", '{\n      "m~n"'),
    ("/a~1b/m~0n", "[10"),
    ("/a~1b/m~0n/0", "10,"),
    ("/a~1b/m~0n/1", '{"x"'),
    ("/a~1b/m~0n/1/x", "true"),
    ("/a~1b/", '"empty key"'),
    ("/list", "[\n      1"),
    ("/list/0", "1,"),
    ("/list/1", "22"),
    ("/~01", "null"),
    # Missing pointers fall back to their nearest ancestor that exists.
    ("/list/7", "[\n      1"),
    ("/a~1b/m~0n/1/y/z", '{"x"'),
    ("/a~1b/m~0n/5", "[10"),
    ("/nope", "{"),
    ("/nope/deeper/still", "{"),
    ("/a", "{"),  # "/a" is not "/a~1b"
]


@pytest.mark.parametrize("variant", ["strict", "tolerant"])
@pytest.mark.parametrize(("pointer", "needle"), LOCATIONS, ids=[p or "<root>" for p, _ in LOCATIONS])
def test_locate_nested_pointers(variant, pointer, needle):
    text = LOCATE_STRICT if variant == "strict" else LOCATE_TOLERANT
    parsed = load_json_text(text, FILE)
    assert kinds(parsed) == ([] if variant == "strict" else ["trailing-comma"])
    assert parsed.source.locate(pointer) == position_of(text, needle)


def test_locate_hand_checked_positions():
    parsed = load_json_text(LOCATE_STRICT, FILE)
    assert parsed.source.locate("") == (2, 3)
    assert parsed.source.locate("/a~1b/m~0n/1/x") == (4, 25)
    assert parsed.source.locate("/list/1") == (9, 7)
    assert parsed.source.locate("/list/99") == (7, 13)


def test_pointer_join_escapes_tilde_before_slash():
    assert pointer_join("", "a/b") == "/a~1b"
    assert pointer_join("/x", "m~n") == "/x/m~0n"
    assert pointer_join("/x", "~1") == "/x/~01"
    assert pointer_join("/x", 3) == "/x/3"


def test_locate_a_pointer_without_leading_slash_returns():
    parsed = load_json_text('{"a": 1}', FILE)
    with time_limit(0.5):
        where = parsed.source.locate("definitions")
    assert where == (1, 1)


# --------------------------------------------------------------------------- documents (JSON and YAML)


def test_parse_document_json_findings_use_rule_ids():
    raw = codecs.BOM_UTF8 + b'{"a": [1 2,], // c\n"b": "\t", "b":\xe2\x80\x83"\xe9"'
    doc = parse_document(raw, FILE)
    assert doc.syntax == "json"
    assert doc.value == {"a": [1, 2], "b": "\u00e9"}
    findings = doc.findings()
    assert all(f.severity is Severity.WARNING and f.file == FILE for f in findings)
    assert sorted((f.rule, f.line, f.column) for f in findings) == sorted(
        [
            ("JsonByteOrderMark", 1, 1),
            ("JsonNotUtf8", 2, 17),
            ("JsonMissingComma", 1, 10),
            ("JsonTrailingComma", 1, 11),
            ("JsonComment", 1, 15),
            ("JsonControlCharacter", 2, 6),
            ("JsonUnicodeWhitespace", 2, 15),
            ("JsonDuplicateKey", 2, 11),
            ("JsonUnclosedBracket", 1, 1),
        ]
    )
    # Every repair kind has its own rule id, none falls back to the generic one.
    assert {f.rule for f in findings} == set(REPAIR_RULES.values())
    trailing = next(f for f in findings if f.rule == "JsonTrailingComma")
    assert str(trailing) == f"{FILE}:1:11: warning: trailing comma removed [JsonTrailingComma]"


def test_parse_document_strict_json_has_no_findings():
    doc = parse_document(b'{"a": 1}', FILE)
    assert doc.findings() == []
    assert doc.value == {"a": 1}


YAML_TEXT = """\
swagger: '2.0'
info:
  title: Demo
  version: 1.0.0
paths:
  /items/{id}:
    get:
      parameters:
        - name: id
          in: path
        - name: q
          in: query
released: 2024-01-02
stamp: 2024-01-02T03:04:05
"slash/key~": 7
"""


def test_yaml_document_values_and_iso_dates():
    doc = parse_document(YAML_TEXT.encode(), "conn/apiDefinition.swagger.yaml")
    assert doc.syntax == "yaml"
    assert doc.repairs == []
    assert doc.value["swagger"] == "2.0"
    assert doc.value["info"] == {"title": "Demo", "version": "1.0.0"}
    assert doc.value["paths"]["/items/{id}"]["get"]["parameters"][1] == {"name": "q", "in": "query"}
    assert doc.value["released"] == "2024-01-02"
    assert doc.value["stamp"] == "2024-01-02T03:04:05"
    assert doc.value["slash/key~"] == 7
    assert type(doc.value["slash/key~"]) is int
    assert list(doc.value) == ["swagger", "info", "paths", "released", "stamp", "slash/key~"]
    # Plain Python types, so the value serialises as JSON.
    assert json.loads(json.dumps(doc.value)) == doc.value


@pytest.mark.parametrize(
    ("pointer", "where"),
    [
        ("/swagger", (1, 10)),
        ("/info", (3, 3)),
        ("/info/title", (3, 10)),
        ("/info/version", (4, 12)),
        ("/paths/~1items~1{id}/get/parameters", (9, 9)),
        ("/paths/~1items~1{id}/get/parameters/1", (11, 11)),
        ("/paths/~1items~1{id}/get/parameters/1/in", (12, 15)),
        ("/released", (13, 11)),
        ("/slash~1key~0", (15, 15)),
        ("#/info/title", (3, 10)),
        # Missing pointers fall back to the nearest ancestor.
        ("/info/missing", (3, 3)),
        ("/paths/~1items~1{id}/get/parameters/9", (9, 9)),
        ("/nothing", (1, 1)),
    ],
)
def test_yaml_document_locates_pointers(pointer, where):
    doc = parse_document(YAML_TEXT.encode(), "conn/apiDefinition.swagger.yaml")
    assert doc.locate(pointer) == where


def test_yaml_is_chosen_by_extension_or_content():
    assert parse_document(b"a: 1\n", "x.yml").syntax == "yaml"
    assert parse_document(b"a: 1\n", "settings").syntax == "yaml"
    assert parse_document(b'  {"a": 1}', "settings").syntax == "json"
    assert parse_document(b"a: 1\n", "x", syntax="yaml").value == {"a": 1}
    with pytest.raises(SourceError) as info:
        parse_document(b"a: 1\n", "x.json")
    assert (info.value.line, info.value.column, info.value.problem) == (1, 1, "unexpected character 'a'")


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        ("a: b\n  c: d\n", 2, 4, "mapping values are not allowed here"),
        ("a: [1, 2\nb: 3\n", 2, 2, "expected ',' or ']', but got ':'"),
        ("a:\n\tb: 1\n", 2, 1, "found character '\\t' that cannot start any token"),
    ],
)
def test_yaml_syntax_error_is_a_source_error(text, line, column, problem):
    with pytest.raises(SourceError) as info:
        parse_document(text.encode(), "conn/def.yaml")
    error = info.value
    assert (error.file, error.line, error.column, error.problem) == ("conn/def.yaml", line, column, problem)


def test_read_document_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_document(tmp_path / "missing.json")
    with pytest.raises(InputError, match="is a directory"):
        read_document(tmp_path)
    path = tmp_path / "x.json"
    path.write_bytes(b'{"a": [1,]}')
    doc = read_document(path)
    assert doc.value == {"a": [1]}
    assert doc.file == str(path)
    assert doc.findings()[0].file == str(path)
    assert read_document(path, display="shown.json").file == "shown.json"


def test_read_document_bad_json_names_the_display_path(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "a": }\n')
    with pytest.raises(SourceError) as info:
        read_document(path)
    assert str(info.value) == f"{path}:2:8: expecting a value, found '}}'"


# --------------------------------------------------------------------------- dumps


def test_dumps_format_is_exact():
    value = {"z\u00e9": 1, "a": ["\u4e2d", {"c": None, "b": True}], "e": {}, "l": []}
    assert dumps(value) == (
        "{\n"
        '    "z\u00e9": 1,\n'
        '    "a": [\n'
        '        "\u4e2d",\n'
        "        {\n"
        '            "c": null,\n'
        '            "b": true\n'
        "        }\n"
        "    ],\n"
        '    "e": {},\n'
        '    "l": []\n'
        "}\n"
    )


def test_dumps_round_trips_through_strict_json():
    value = load_json_text('{"b": "\\u00e9\\n", "a": [1.5, -2], "\U0001f600": "x",}', FILE).value
    text = dumps(value)
    assert text.endswith("}\n")
    assert not text.endswith("\n\n")
    assert "\\u" not in text
    assert "\U0001f600" in text
    assert json.loads(text) == value
    assert list(json.loads(text)) == ["b", "a", "\U0001f600"]


def test_dumps_of_a_scalar_ends_with_newline():
    assert dumps("x") == '"x"\n'


def test_write_then_read_keeps_source_positions(tmp_path: Path):
    path = tmp_path / "d.json"
    path.write_text(dumps({"a": {"b": [1, 2]}}))
    doc = read_document(path)
    assert doc.locate("/a/b/1") == (5, 13)
