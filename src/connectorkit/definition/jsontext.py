"""Reading JSON the way real connector files are written, with source positions.

Strict files take the C parser's fast path. Files it rejects go through a tolerant reader that
repairs what can be repaired without guessing (a byte order mark, cp1252 bytes, trailing or
missing commas, comments, raw control characters in strings, Unicode spaces between tokens,
brackets left open at the end of the file, duplicate keys) and reports each repair with its line
and column. Anything else is a :class:`~connectorkit.errors.SourceError` naming the place.

Positions are computed lazily: :class:`SourceText` maps JSON pointers to offsets only when a
caller asks where something is.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from connectorkit.errors import SourceError


@dataclass(frozen=True)
class Repair:
    """One thing the tolerant reader fixed, with where it was."""

    kind: str
    message: str
    line: int
    column: int


def escape_pointer_token(token: str) -> str:
    if "~" not in token and "/" not in token:
        return token
    return token.replace("~", "~0").replace("/", "~1")


def unescape_pointer_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def pointer_join(parent: str, token: str | int) -> str:
    return f"{parent}/{escape_pointer_token(str(token))}"


class LineIndex:
    """Converts character offsets into 1-based line and column numbers."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1

    def offset(self, line: int, column: int) -> int:
        line = max(1, min(line, len(self._starts)))
        return self._starts[line - 1] + column - 1


# --------------------------------------------------------------------------- decoding

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(raw: bytes, file: str) -> tuple[str, list[Repair]]:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16 with BOM, or UTF-8 with cp1252 bytes."""
    repairs: list[Repair] = []
    if raw.startswith(codecs.BOM_UTF8):
        repairs.append(Repair("bom", "UTF-8 byte order mark removed", 1, 1))
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith(_UTF16_BOMS):
        repairs.append(Repair("bom", "UTF-16 text converted to UTF-8", 1, 1))
        return raw.decode("utf-16"), repairs
    try:
        return raw.decode("utf-8"), repairs
    except UnicodeDecodeError:
        pass
    pieces: list[str] = []
    bad: list[int] = []
    pos = 0
    while pos < len(raw):
        try:
            pieces.append(raw[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            start = pos + exc.start
            pieces.append(raw[pos:start].decode("utf-8"))
            byte = raw[start : start + 1]
            try:
                pieces.append(byte.decode("cp1252"))
            except UnicodeDecodeError:
                pieces.append(byte.decode("latin-1"))
            bad.append(start)
            pos = start + 1
    first = bad[0]
    line = raw.count(b"\n", 0, first) + 1
    line_start = raw.rfind(b"\n", 0, first) + 1
    column = len(raw[line_start:first].decode("utf-8", "replace")) + 1
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    repairs.append(
        Repair(
            "non-utf8",
            f"byte 0x{raw[first]:02x} is not UTF-8; read as Windows-1252{more}",
            line,
            column,
        )
    )
    return "".join(pieces), repairs


# --------------------------------------------------------------------------- tolerant parsing

_TOKEN = re.compile(
    r"""
    [ \t\r\n]*
    (?:
        (?P<str>"(?:[^"\\\x00-\x1f]|\\.)*")
      | (?P<punct>[{}\[\]:,])
      | (?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      | (?P<lit>true|false|null)
      | (?P<cstr>"(?:[^"\\]|\\.)*")
      | (?P<comment>//[^\n]*|/\*.*?\*/)
      | (?P<uws>[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+)
      | (?P<bad>[^ \t\r\n])
    )
    """,
    re.VERBOSE | re.DOTALL,
)

_LITERALS: dict[str, Any] = {"true": True, "false": False, "null": None}
_NOT_JSON_NUMBERS = ("NaN", "Infinity", "-Infinity")


def _number(text: str) -> int | float:
    """A JSON number as Python reads it; infinities and absurdly long integers are refused."""
    if "." in text or "e" in text or "E" in text:
        value = float(text)
        if math.isinf(value):
            raise ValueError(f"number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
        return value
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"integer with {len(text)} digits is too long to read") from None


def _reject_constant(name: str) -> Any:
    raise _NotJson(name)


class _NotJson(ValueError):
    """Raised inside the C parser's hooks to send a document to the tolerant reader."""


_VALUE_START = frozenset({"{", "["})


@dataclass(slots=True)
class _Token:
    kind: str  # str, num, lit, punct, eof
    text: str
    offset: int


class _Parser:
    def __init__(self, text: str, file: str, record: bool) -> None:
        self.text = text
        self.file = file
        self.record = record
        self.lines = LineIndex(text)
        self.repairs: list[Repair] = []
        self.pointers: dict[str, int] = {}
        self.tokens = self._tokenize()
        self.i = 0

    # -- tokens

    def _repair(self, kind: str, message: str, offset: int) -> None:
        line, column = self.lines.position(offset)
        self.repairs.append(Repair(kind, message, line, column))

    def _fail(self, message: str, offset: int) -> SourceError:
        line, column = self.lines.position(offset)
        return SourceError(self.file, line, column, message)

    def _tokenize(self) -> list[_Token]:
        out: list[_Token] = []
        append = out.append
        text = self.text
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup or ""
            pos = m.start(kind)
            if kind == "str" or kind == "punct" or kind == "num" or kind == "lit":
                append(_Token(kind, m.group(kind), pos))
            elif kind == "cstr":
                self._repair("control-character", "raw control character inside a string read as its escaped form", pos)
                append(_Token("str", m.group(kind), pos))
            elif kind == "comment":
                self._repair("comment", "comment removed (JSON has no comments)", pos)
            elif kind == "uws":
                self._repair(
                    "unicode-whitespace",
                    f"Unicode space U+{ord(text[pos]):04X} between tokens read as a plain space",
                    pos,
                )
            else:
                raise self._bad(pos)
        out.append(_Token("eof", "", len(text)))
        return out

    def _bad(self, pos: int) -> SourceError:
        text = self.text
        for literal in _NOT_JSON_NUMBERS:
            if text.startswith(literal, pos):
                return self._fail(f"{literal} is not a JSON number; use null or a string", pos)
        if text[pos] == '"':
            return self._fail("unterminated string", pos)
        if text.startswith("/*", pos):
            return self._fail("unterminated comment", pos)
        return self._fail(f"unexpected character {text[pos]!r}", pos)

    def _next(self) -> _Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def _peek(self) -> _Token:
        return self.tokens[self.i]

    def _string(self, tok: _Token) -> str:
        raw = tok.text
        if "\\" not in raw and tok.kind == "str":
            body = raw[1:-1]
            if not any(ord(c) < 0x20 for c in body):
                return body
        try:
            value: str = json.loads(raw, strict=False)
        except json.JSONDecodeError as exc:
            raise self._fail(f"invalid escape in string: {exc.msg}", tok.offset + exc.pos) from None
        return value

    def _number(self, tok: _Token) -> int | float:
        text = tok.text
        try:
            return _number(text)
        except ValueError as exc:
            raise self._fail(str(exc), tok.offset) from None

    # -- grammar

    def document(self) -> Any:
        value = self._value("")
        tok = self._peek()
        if tok.kind != "eof":
            raise self._fail(f"extra data after the top-level value: {tok.text!r}", tok.offset)
        return value

    def _value(self, pointer: str) -> Any:
        tok = self._next()
        if self.record:
            self.pointers[pointer] = tok.offset
        if tok.kind == "str":
            return self._string(tok)
        if tok.kind == "num":
            return self._number(tok)
        if tok.kind == "lit":
            return _LITERALS[tok.text]
        if tok.text == "{":
            return self._object(pointer, tok)
        if tok.text == "[":
            return self._array(pointer, tok)
        if tok.kind == "eof":
            raise self._fail("expecting a value, found the end of the file", tok.offset)
        raise self._fail(f"expecting a value, found {tok.text!r}", tok.offset)

    def _close_at_eof(self, opener: _Token, closer: str) -> None:
        self._repair(
            "unclosed-bracket",
            f"{opener.text!r} opened here was never closed; {closer!r} added at the end of the file",
            opener.offset,
        )

    def _object(self, pointer: str, opener: _Token) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        after_comma: _Token | None = None
        while True:
            tok = self._next()
            if tok.text == "}" and tok.kind == "punct":
                if after_comma is not None:
                    self._repair("trailing-comma", "trailing comma removed", after_comma.offset)
                return obj
            if tok.kind == "eof":
                self._close_at_eof(opener, "}")
                return obj
            if tok.kind != "str":
                raise self._fail(f"expecting a property name in double quotes, found {tok.text!r}", tok.offset)
            key = self._string(tok)
            colon = self._next()
            if colon.text != ":" or colon.kind != "punct":
                raise self._fail(f"expecting ':' after property name {key!r}", colon.offset)
            child = pointer_join(pointer, key) if self.record else ""
            value = self._value(child)
            if key in obj:
                self._repair("duplicate-key", f"duplicate key {key!r}: the last value is kept", tok.offset)
            obj[key] = value
            sep = self._next()
            if sep.kind == "punct" and sep.text == ",":
                after_comma = sep
                continue
            after_comma = None
            if sep.kind == "punct" and sep.text == "}":
                return obj
            if sep.kind == "eof":
                self._close_at_eof(opener, "}")
                return obj
            if sep.kind == "str":
                self._repair("missing-comma", "missing ',' between properties added", sep.offset)
                self.i -= 1
                continue
            raise self._fail(f"expecting ',' or '}}' after a property value, found {sep.text!r}", sep.offset)

    def _array(self, pointer: str, opener: _Token) -> list[Any]:
        arr: list[Any] = []
        after_comma: _Token | None = None
        while True:
            tok = self._peek()
            if tok.kind == "punct" and tok.text == "]":
                self._next()
                if after_comma is not None:
                    self._repair("trailing-comma", "trailing comma removed", after_comma.offset)
                return arr
            if tok.kind == "eof":
                self._close_at_eof(opener, "]")
                return arr
            child = pointer_join(pointer, len(arr)) if self.record else ""
            arr.append(self._value(child))
            sep = self._next()
            if sep.kind == "punct" and sep.text == ",":
                after_comma = sep
                continue
            after_comma = None
            if sep.kind == "punct" and sep.text == "]":
                return arr
            if sep.kind == "eof":
                self._close_at_eof(opener, "]")
                return arr
            if sep.kind in ("str", "num", "lit") or sep.text in _VALUE_START:
                self._repair("missing-comma", "missing ',' between array items added", sep.offset)
                self.i -= 1
                continue
            raise self._fail(f"expecting ',' or ']' after an array item, found {sep.text!r}", sep.offset)


def parse_tolerant(text: str, file: str, *, record_positions: bool = True) -> tuple[Any, list[Repair], dict[str, int]]:
    """Parse with repairs; return the value, the repairs and a pointer -> offset map."""
    parser = _Parser(text, file, record_positions)
    try:
        value = parser.document()
    except RecursionError:
        raise SourceError(file, 1, 1, "nesting is too deep to read") from None
    return value, parser.repairs, parser.pointers


_WS = re.compile(r"[ \t\r\n]*")
_DECODER = json.JSONDecoder()


class _LazyIndex:
    """Finds pointers in strict JSON text on demand, at the C parser's speed.

    Each object or array on the way to a pointer is scanned once: its members' offsets are
    remembered and the values in between are skipped with ``raw_decode``. Locating a few
    findings in a large file therefore costs a fraction of indexing every node.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        start = _WS.match(text, 0)
        self.values: dict[str, int] = {"": start.end() if start else 0}
        self.scanned: set[str] = set()

    def offset(self, pointer: str) -> int | None:
        """Offset of the value at ``pointer`` (the same place the tolerant reader records)."""
        return self._value(pointer)

    def _value(self, pointer: str) -> int | None:
        if pointer in self.values:
            return self.values[pointer]
        parent, _, _ = pointer.rpartition("/")
        if not pointer.startswith("/") or parent in self.scanned:
            return None
        start = self._value(parent)
        if start is None:
            return None
        with contextlib.suppress(ValueError, IndexError):
            self._scan(parent, start)
        self.scanned.add(parent)
        return self.values.get(pointer)

    def _scan(self, pointer: str, start: int) -> None:
        text = self.text
        opener = text[start]
        if opener not in "{[":
            return
        pos = _WS.match(text, start + 1).end()  # type: ignore[union-attr]
        closer = "}" if opener == "{" else "]"
        index = 0
        while text[pos] != closer:
            if opener == "{":
                key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
                pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]  # past ':'
                child = pointer_join(pointer, key)
            else:
                child = f"{pointer}/{index}"
                index += 1
            self.values[child] = pos
            _, pos = _DECODER.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos] == ",":
                pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]


@dataclass
class SourceText:
    """The text a document was read from, able to say where a JSON pointer sits in it.

    ``pointers`` is a ready map (from the tolerant reader or YAML); without it the text is
    strict JSON and pointers are found lazily.
    """

    file: str
    text: str
    _pointers: dict[str, int] | None = field(default=None, repr=False)
    _lines: LineIndex | None = field(default=None, repr=False)
    _lazy: _LazyIndex | None = field(default=None, repr=False)

    @property
    def lines(self) -> LineIndex:
        if self._lines is None:
            self._lines = LineIndex(self.text)
        return self._lines

    def _offset(self, pointer: str) -> int | None:
        if self._pointers is not None:
            return self._pointers.get(pointer)
        if self._lazy is None:
            self._lazy = _LazyIndex(self.text)
        return self._lazy.offset(pointer)

    def locate(self, pointer: str) -> tuple[int, int]:
        """Line and column of the node at ``pointer``, or of its nearest ancestor that exists."""
        pointer = pointer[1:] if pointer.startswith("#") else pointer
        while True:
            offset = self._offset(pointer)
            if offset is not None:
                return self.lines.position(offset)
            if "/" not in pointer:
                return self.lines.position(self._offset("") or 0)
            pointer = pointer.rsplit("/", 1)[0]


@dataclass
class ParsedJson:
    value: Any
    repairs: list[Repair]
    source: SourceText


def _float(text: str) -> float:
    try:
        return float(_number(text))
    except ValueError:
        raise _NotJson(text) from None


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _NotJson(text) from None


class _DuplicateKeys:
    """An ``object_pairs_hook`` that notices duplicate keys while the C parser runs."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            self.seen = True
        return obj


def load_json_text(text: str, file: str) -> ParsedJson:
    """Parse JSON text: the C parser when it is strict, the tolerant reader otherwise."""
    hook = _DuplicateKeys()
    try:
        value = json.loads(
            text, object_pairs_hook=hook, parse_constant=_reject_constant, parse_float=_float, parse_int=_int
        )
    except (json.JSONDecodeError, _NotJson):
        hook.seen = True
    except RecursionError:
        raise SourceError(file, 1, 1, "nesting is too deep to read") from None
    if hook.seen:
        value, repairs, pointers = parse_tolerant(text, file)
        return ParsedJson(value, repairs, SourceText(file, text, pointers))
    return ParsedJson(value, [], SourceText(file, text))


def load_json_bytes(raw: bytes, file: str) -> ParsedJson:
    text, repairs = decode(raw, file)
    parsed = load_json_text(text, file)
    parsed.repairs[:0] = repairs
    return parsed


def dumps(value: Any) -> str:
    """Serialise as Microsoft's files are written: 4-space indent, non-ASCII kept, final newline."""
    return json.dumps(value, indent=4, ensure_ascii=False, allow_nan=False) + "\n"


def compact_bytes(value: Any) -> bytes:
    """Minified JSON (no indentation): for definitions that fit the platform's 1 MB only so."""
    try:
        return (json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False) + "\n").encode("ascii")


def dump_bytes(value: Any) -> bytes:
    """UTF-8 bytes of :func:`dumps`; text with lone surrogates is written with ASCII escapes."""
    try:
        return dumps(value).encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(value, indent=4, ensure_ascii=True, allow_nan=False) + "\n").encode("ascii")
