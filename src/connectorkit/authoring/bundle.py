"""Bundling a multi-file API description into one document whose every ``$ref`` is local.

A reference is resolved the JSON Reference way: the URI is joined with the URL of the file the
``$ref`` sits in (so ``../../shared/x.yml`` climbs up from that file, and a relative reference in
a fetched document resolves against its URL), and the fragment is a JSON pointer into the target.
References are honoured anywhere in a document, not only where the specification allows them
(DigitalOcean puts whole operations and tag descriptions behind ``$ref``).

What happens to a reference depends on where it sits:

* in a schema position (``schema``, ``items``, ``properties/*``, ``allOf/*``, ``components/schemas/*``
  and the like) an external target is *hoisted*: added once to ``components/schemas`` (OpenAPI 3)
  or ``definitions`` (Swagger 2.0) under a readable unique name, and the reference points there.
  Recursive schemas therefore stay recursive references and are never expanded;
* in a response position (an entry of an operation's ``responses``, of ``components/responses``
  or of Swagger's root ``responses``), a parameter position (an item of the ``parameters`` of a
  path item or operation, an entry of ``components/parameters`` or of Swagger's root
  ``parameters``) and a header position (an entry of a response's ``headers`` or of
  ``components/headers``; OpenAPI 3 only, Swagger 2.0 has no shared headers) an external target
  is hoisted the same way into ``components/responses``, ``components/parameters`` and
  ``components/headers`` (Swagger's root ``responses`` and ``parameters``), so that an error
  response or a paging parameter shared by hundreds of operations is written once. A target
  only one place uses is copied back into that place afterwards: a shared section entry saves
  nothing there. A reference that is itself only a reference to another file counts as its
  target;
* anywhere else an external target is *inlined*: copied in place after its own references are
  resolved. A cycle among inlined references cannot be copied and is an :class:`InputError`;
* references into the root document itself stay as they are (the converter follows them).

Resolution uses :func:`urllib.parse.urljoin` and a small JSON pointer walker rather than the
``referencing`` library: that library implements JSON Schema's resource model (``$id`` scoping,
dialect detection), which does not describe the non-schema parts of an OpenAPI document (path
items, responses, descriptions behind ``$ref``), and it knows nothing of source positions, which
every error here must name. YAML files are parsed with PyYAML's libyaml loader set to the YAML 1.2
core schema when it is available (twenty times faster than the round-trip reader, which matters
for trees of thousands of files); positions for an error message are then recovered by reading
that one file again with :func:`~connectorkit.definition.documents.parse_document`.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import logging
import os
import posixpath
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urldefrag, urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from connectorkit.authoring.report import Report
from connectorkit.authoring.source import Spec, SpecFormat, fetch, is_url
from connectorkit.definition.documents import Document, looks_like_yaml, parse_document
from connectorkit.definition.jsontext import decode, escape_pointer_token, unescape_pointer_token
from connectorkit.errors import InputError

log = logging.getLogger(__name__)

__all__ = ["bundle"]

# What the node being walked is, which decides what a ``$ref`` in it becomes.
_OTHER: Final = 0  # any non-schema part of the document
_SCHEMA: Final = 1  # a Schema Object
_SCHEMA_MAP: Final = 2  # name -> Schema Object (properties, components/schemas, definitions, ...)
_SCHEMA_LIST: Final = 3  # list of Schema Objects (allOf, anyOf, oneOf, prefixItems)
_LITERAL: Final = 4  # example or default data: a $ref there may be data, not a reference
_EXAMPLE_MAP: Final = 5  # OpenAPI 3 examples: name -> Example Object
_EXAMPLE: Final = 6  # an Example Object: its value is literal
_RESPONSES: Final = 7  # a 'responses' map met elsewhere ("default" is a response, not a default value)
_DISCRIMINATOR: Final = 8
_MAPPING: Final = 9  # discriminator mapping: value -> schema name or reference
_PATHS: Final = 10  # path (webhook name, callback expression) -> Path Item
_PATH_ITEM: Final = 11
_OPERATION: Final = 12
_CALLBACKS: Final = 13  # name -> Callback (itself a map of expressions to path items)
_PARAMETER_LIST: Final = 14  # the parameters of a path item or operation
_PARAMETER_MAP: Final = 15  # components/parameters, Swagger's root parameters
_PARAMETER: Final = 16
_RESPONSE_MAP: Final = 17  # an operation's responses, components/responses, Swagger's root responses
_RESPONSE: Final = 18
_HEADER_MAP: Final = 19  # a response's headers, components/headers
_HEADER: Final = 20

# What the entries of a map of named objects are (extensions aside).
_MEMBER: Final = {
    _PATHS: _PATH_ITEM,
    _CALLBACKS: _PATHS,
    _PARAMETER_MAP: _PARAMETER,
    _RESPONSE_MAP: _RESPONSE,
    _HEADER_MAP: _HEADER,
}
# The section a hoisted target of each kind goes to, and the context its content is walked in.
_SECTION_OF_CONTEXT: Final = {_SCHEMA: "schemas", _PARAMETER: "parameters", _RESPONSE: "responses", _HEADER: "headers"}
_CONTEXT_OF_SECTION: Final = {section: ctx for ctx, section in _SECTION_OF_CONTEXT.items()}
_OPENAPI_SECTIONS: Final = ("schemas", "responses", "parameters", "headers")
_SWAGGER_SECTIONS: Final = {"schemas": "definitions", "responses": "responses", "parameters": "parameters"}
_SWAGGER_ORDER: Final = (
    "swagger",
    "info",
    "host",
    "basePath",
    "schemes",
    "consumes",
    "produces",
    "paths",
    "definitions",
    "parameters",
    "responses",
    "securityDefinitions",
    "security",
    "tags",
    "externalDocs",
)
_NOUNS: Final = {"schemas": "schema", "responses": "response", "parameters": "parameter", "headers": "header"}
_METHODS: Final = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

_SCHEMA_MAP_KEYS = frozenset({"properties", "patternProperties", "dependentSchemas", "$defs", "definitions"})
_SCHEMA_LIST_KEYS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_KEYS = frozenset(
    {
        "additionalProperties",
        "additionalItems",
        "not",
        "contains",
        "if",
        "then",
        "else",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "contentSchema",
    }
)
_SCHEMA_LITERAL_KEYS = frozenset({"example", "examples", "default", "enum", "const"})
_REF_SUFFIXES = (".json", ".yaml", ".yml")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_STEM_SUFFIXES = (".json", ".yaml", ".yml")
# Pointer tokens that say where a schema sits rather than what it is; names skip them.
_STRUCTURAL_TOKENS = (
    _SCHEMA_MAP_KEYS
    | _SCHEMA_LIST_KEYS
    | _SCHEMA_KEYS
    | {"schema", "items", "content", "components", "schemas", "paths", "parameters", "responses", "requestBody"}
    | {"headers", "get", "put", "post", "delete", "options", "head", "patch", "trace"}
)
_FRACTION = re.compile(r":[0-9][0-9]\.([0-9]+)")


class _Unresolved(Exception):
    """A reference whose target cannot be found; turned into a located InputError by the caller."""


@dataclass
class _Loaded:
    """One document of the tree: its URL, the name users see, its value and (lazily) its positions."""

    url: str
    display: str
    value: Any
    raw: bytes | None = None
    document: Document | None = None

    def locate(self, pointer: str) -> tuple[int, int]:
        if self.document is None:
            try:
                self.document = parse_document(self.raw or b"", self.display)
            except InputError:
                return 1, 1
        return self.document.locate(pointer)


# --------------------------------------------------------------------------- fast YAML


def _yaml_int(text: str) -> int:
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    return sign * int(digits)


def _make_fast_loader() -> tuple[type[Exception], Callable[[str], Any]] | None:
    """PyYAML's C loader resolving plain scalars by the YAML 1.2 core schema, as ruamel does."""
    try:
        yaml: Any = importlib.import_module("yaml")
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    base = getattr(yaml, "CSafeLoader", None)
    if base is None:  # pragma: no cover - PyYAML built without libyaml
        return None
    loader: Any = type("_Yaml12Loader", (base,), {})
    loader.yaml_implicit_resolvers = {}
    loader.yaml_constructors = dict(base.yaml_constructors)
    resolvers = [
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        (
            "float",
            r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
            |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
            |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
            "-+0123456789.",
        ),
        ("int", r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$", "-+0123456789"),
        ("merge", r"^(?:<<)$", "<"),
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        (
            "timestamp",
            r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
            |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
            (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
            (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
            "0123456789",
        ),
    ]
    for tag, pattern, first in resolvers:
        loader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(pattern, re.X), list(first))

    def construct_int(self: Any, node: Any) -> int:
        return _yaml_int(str(self.construct_scalar(node)))

    def construct_map(self: Any, node: Any) -> Any:
        # Duplicate keys: the first one wins, and explicit keys win over merged ones (as ruamel reads them).
        data: dict[Any, Any] = {}
        yield data
        merged: list[Any] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.extend(value_node.value if value_node.id == "sequence" else [value_node])
                continue
            key = self.construct_object(key_node, deep=True)
            key = key if _hashable(key) else str(tuple(key) if isinstance(key, list) else key)
            if key not in data:
                data[key] = self.construct_object(value_node, deep=True)
        for source in merged:
            if source.id != "mapping":
                raise yaml.constructor.ConstructorError(None, None, "merge key needs a mapping", source.start_mark)
            for key, value in self.construct_object(source, deep=True).items():
                data.setdefault(key, value)

    def construct_timestamp(self: Any, node: Any) -> Any:
        # Fractions beyond microseconds are rounded, not cut (as ruamel reads them).
        value = base.construct_yaml_timestamp(self, node)
        fraction = _FRACTION.search(str(node.value))
        if isinstance(value, _dt.datetime) and fraction and len(fraction[1]) > 6 and fraction[1][6] > "4":
            micro = int(fraction[1][:6]) + 1
            value = value.replace(microsecond=micro if micro <= 999999 else 0)
        return value

    loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    loader.add_constructor("tag:yaml.org,2002:map", construct_map)
    loader.add_constructor("tag:yaml.org,2002:timestamp", construct_timestamp)

    def load(text: str) -> Any:
        return yaml.load(text, Loader=loader)

    return yaml.YAMLError, load


def _hashable(key: Any) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True


_FAST_YAML = _make_fast_loader()


def _plain(node: Any, display: str, pointer: str, active: set[int]) -> Any:
    """PyYAML's values as the document layer gives them: string keys, dates as ISO text."""
    if isinstance(node, dict):
        if id(node) in active:
            raise InputError(f"{display}: recursive YAML alias at {pointer or '/'}")
        active.add(id(node))
        out: dict[str, Any] = {}
        for key, child in node.items():
            token = key if isinstance(key, str) else _key_text(key)
            out[token] = _plain(child, display, f"{pointer}/{escape_pointer_token(token)}", active)
        active.discard(id(node))
        return out
    if isinstance(node, list):
        if id(node) in active:
            raise InputError(f"{display}: recursive YAML alias at {pointer or '/'}")
        active.add(id(node))
        items = [_plain(child, display, f"{pointer}/{i}", active) for i, child in enumerate(node)]
        active.discard(id(node))
        return items
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if isinstance(node, _dt.date | _dt.datetime):
        return node.isoformat()
    return str(node)


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, _dt.date | _dt.datetime):
        return key.isoformat()
    return str(key)


def _copy(value: Any) -> Any:
    """A deep copy of JSON data (several times faster than copy.deepcopy)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _pointer(tokens: list[str]) -> str:
    return "".join("/" + escape_pointer_token(t) for t in tokens)


def _tokens(fragment: str) -> list[str]:
    if not fragment:
        return []
    if not fragment.startswith("/"):
        raise _Unresolved(f"fragment {fragment!r} is not a JSON pointer")
    return [unescape_pointer_token(t) for t in fragment[1:].split("/")]


def _looks_like_reference(value: str) -> bool:
    return "#" in value or "/" in value or value.lower().endswith(_REF_SUFFIXES)


# --------------------------------------------------------------------------- the bundler


class _Bundler:
    def __init__(self, spec: Spec, report: Report, client: httpx.Client | None) -> None:
        self.report = report
        self.client = client
        self.own_client: httpx.Client | None = None
        self.swagger = spec.format is SpecFormat.SWAGGER_2
        self.openapi31 = spec.format is SpecFormat.OPENAPI_31
        self.sections: tuple[str, ...] = tuple(_SWAGGER_SECTIONS) if self.swagger else _OPENAPI_SECTIONS
        self.prefixes = {
            section: f"#/{_SWAGGER_SECTIONS[section]}/" if self.swagger else f"#/components/{section}/"
            for section in self.sections
        }
        self.prefix = self.prefixes["schemas"]
        self.remote_root = is_url(spec.location)
        if self.remote_root:
            self.root_url = urldefrag(spec.location)[0]
            self.root_dir = ""
            self.root_dir_display = ""
        else:
            absolute = os.path.abspath(spec.location)
            self.root_url = Path(absolute).as_uri()
            self.root_dir = os.path.dirname(absolute)
            self.root_dir_display = os.path.dirname(spec.location)
        self.root = _Loaded(self.root_url, spec.location, spec.value, None, spec.document)
        self.docs: dict[str, _Loaded] = {self.root_url: self.root}
        self.splits: dict[tuple[str, str], tuple[str, str]] = {}
        # per section: url#pointer -> component name, component name -> (url, pointer), names taken
        self.hoisted: dict[str, dict[str, str]] = {section: {} for section in self.sections}
        self.hoisted_from: dict[str, dict[str, tuple[str, str]]] = {section: {} for section in self.sections}
        self.used_names: dict[str, set[str]] = {section: set() for section in self.sections}
        self.claimed: dict[str, set[str]] = {section: set() for section in self.sections}  # root entries' names
        self.queue: deque[tuple[str, str, str, str, Any]] = deque()  # section, name, url, pointer, value
        self.new_components: dict[str, dict[str, Any]] = {section: {} for section in self.sections}
        self.new_schemas = self.new_components["schemas"]
        self.copied_back = 0
        self.inline_cache: dict[tuple[str, int, tuple[str, ...] | None], Any] = {}
        self.active: dict[str, None] = {}  # inlined targets being walked, in order
        self.external_refs = 0
        self.inlined = 0

    # -- names and places

    def display_of(self, url: str) -> str:
        loaded = self.docs.get(url)
        return loaded.display if loaded is not None else url

    def source_of(self, url: str, pointer: str) -> str:
        return f"#{pointer}" if url == self.root_url else f"{self.display_of(url)}#{pointer}"

    def target_name(self, url: str, pointer: str) -> str:
        shown = self.display_of(url)
        return f"{shown}#{pointer}" if pointer else shown

    def located(self, url: str, pointer: str, message: str) -> InputError:
        loaded = self.docs.get(url)
        if loaded is None:
            return InputError(f"{url}: {message}")
        line, column = loaded.locate(pointer)
        return InputError(f"{loaded.display}:{line}:{column}: {message}")

    def file_display(self, path: str) -> str:
        relative = os.path.relpath(path, self.root_dir)
        return os.path.normpath(os.path.join(self.root_dir_display, relative))

    # -- loading

    def http(self) -> httpx.Client:
        if self.client is None:
            self.own_client = self.client = httpx.Client(timeout=30.0)
        return self.client

    def split(self, base: str, ref: str) -> tuple[str, str]:
        """The absolute URL (no fragment) and the decoded fragment ``ref`` names from ``base``."""
        cached = self.splits.get((base, ref))
        if cached is not None:
            return cached
        url, fragment = urldefrag(urljoin(base, ref.strip()))
        if url.startswith("file:"):
            url = Path(url2pathname(urlsplit(url).path)).as_uri()
        result = (url, unquote(fragment))
        self.splits[(base, ref)] = result
        return result

    def load(self, url: str) -> _Loaded:
        loaded = self.docs.get(url)
        if loaded is not None:
            return loaded
        scheme = urlsplit(url).scheme
        if scheme == "file":
            if self.remote_root:
                raise _Unresolved("a document fetched from a URL cannot refer to a local file")
            path = url2pathname(urlsplit(url).path)
            display = self.file_display(path)
            try:
                raw = Path(path).read_bytes()
            except FileNotFoundError:
                raise _Unresolved(f"{display}: file not found") from None
            except IsADirectoryError:
                raise _Unresolved(f"{display}: is a directory, expected a file") from None
            except OSError as exc:
                raise _Unresolved(f"{display}: cannot read: {exc.strerror}") from None
        elif scheme in ("http", "https"):
            display = url
            try:
                raw = fetch(url, self.http())
            except InputError as exc:
                raise _Unresolved(str(exc)) from None
        else:
            raise _Unresolved(f"unsupported URL scheme {scheme!r}")
        loaded = self.parse(url, display, raw)
        self.docs[url] = loaded
        return loaded

    def parse(self, url: str, display: str, raw: bytes) -> _Loaded:
        if _FAST_YAML is not None:
            text, _ = decode(raw, display)
            if looks_like_yaml(display, text):
                yaml_error, load = _FAST_YAML
                try:
                    value = load(text)
                except yaml_error:
                    pass  # the round-trip reader below names the place, or reads what libyaml would not
                else:
                    return _Loaded(url, display, _plain(value, display, "", set()), raw)
        document = parse_document(raw, display)
        return _Loaded(url, display, document.value, raw, document)

    # -- pointers

    def follow(self, url: str, fragment: str) -> tuple[str, str, Any]:
        """The URL, pointer and value the reference names; ``$ref``s met on the way are followed."""
        loaded = self.load(url)
        tokens = _tokens(fragment)
        node = loaded.value
        walked: list[str] = []
        seen: set[tuple[str, str]] = set()
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if isinstance(node, dict) and token not in node and isinstance(node.get("$ref"), str):
                next_url, next_fragment = self.split(url, node["$ref"])
                if (next_url, next_fragment) in seen:
                    raise _Unresolved(f"{self.target_name(url, _pointer(walked))} is a cycle of $refs")
                seen.add((next_url, next_fragment))
                url = next_url
                loaded = self.load(url)
                tokens = _tokens(next_fragment) + tokens[i:]
                node, walked, i = loaded.value, [], 0
                continue
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif (
                isinstance(node, list)
                and token.isdigit()
                and (token == "0" or token[0] != "0")
                and int(token) < len(node)
            ):
                node = node[int(token)]
            else:
                where = _pointer(walked) or "the top level"
                raise _Unresolved(f"{loaded.display} has no {_pointer(tokens)} (nothing named {token!r} at {where})")
            walked.append(token)
            i += 1
        return url, _pointer(walked), node

    def pointer_fragment(self, url: str, fragment: str, ref: str, at: str) -> str:
        """A JSON pointer for a fragment that is not one: a ``$anchor`` or a pointer missing its '/'."""
        loaded = self.load(url)
        found = _find_anchor(loaded.value, fragment, "")
        if found is not None:
            self.report.note(
                f"$ref {ref!r} names the plain-name fragment {fragment!r}; it was resolved to the $anchor at "
                f"{loaded.display}#{found}.",
                source=at,
            )
            return found
        guess = "/" + fragment
        try:
            self.follow(url, guess)
        except _Unresolved:
            raise _Unresolved(
                f"fragment {fragment!r} is neither a JSON pointer nor an $anchor in {loaded.display}"
            ) from None
        self.report.approximated(
            f"$ref {ref!r} has the fragment {fragment!r}, which is not a JSON pointer; it was read as {guess!r}.",
            source=at,
        )
        return guess

    # -- names for hoisted schemas

    def fresh_name(self, url: str, pointer: str, section: str = "schemas") -> str:
        """The last telling token of the pointer (``#/job_name/schema`` -> ``job_name``), else the file stem."""
        tokens = [unescape_pointer_token(t) for t in pointer[1:].split("/")] if pointer else []
        telling = [t for t in tokens if t not in _STRUCTURAL_TOKENS and not t.isdigit() and "/" not in t]
        if telling:
            base = telling[-1]
        else:
            base = unquote(posixpath.basename(urlsplit(url).path))
            for suffix in _STEM_SUFFIXES:
                if base.lower().endswith(suffix):
                    base = base[: -len(suffix)]
                    break
        base = _NAME_UNSAFE.sub("_", base).strip("_") or _NOUNS[section]
        used = self.used_names[section]
        name, n = base, 2
        while name in used:
            name, n = f"{base}_{n}", n + 1
        used.add(name)
        return name

    def hoist(self, key: str, url: str, pointer: str, value: Any, section: str = "schemas") -> str:
        name = self.hoisted[section].get(key)
        if name is None:
            name = self.fresh_name(url, pointer, section)
            self.register(key, name, url, pointer, value, section)
        return name

    def register(self, key: str, name: str, url: str, pointer: str, value: Any, section: str = "schemas") -> None:
        self.hoisted[section][key] = name
        self.hoisted_from[section][name] = (url, pointer)
        self.queue.append((section, name, url, pointer, value))

    # -- walking

    def child_context(self, ctx: int, key: str, child: Any, where: tuple[str, ...] | None) -> int:
        if ctx == _SCHEMA:
            if key in _SCHEMA_MAP_KEYS:
                return _SCHEMA_MAP
            if key in _SCHEMA_LIST_KEYS:
                return _SCHEMA_LIST
            if key == "items":
                return _SCHEMA_LIST if isinstance(child, list) else _SCHEMA
            if key in _SCHEMA_KEYS:
                return _SCHEMA
            if key in _SCHEMA_LITERAL_KEYS:
                return _LITERAL
            return _DISCRIMINATOR if key == "discriminator" else _OTHER
        if ctx in (_SCHEMA_MAP, _SCHEMA_LIST):
            return _SCHEMA
        if ctx == _LITERAL:
            return _LITERAL
        if ctx == _EXAMPLE_MAP:
            return _EXAMPLE
        if ctx == _EXAMPLE:
            return _LITERAL if key == "value" else _OTHER
        if ctx == _DISCRIMINATOR:
            return _MAPPING if key == "mapping" else _OTHER
        if ctx in (_RESPONSES, _MAPPING):
            return _OTHER
        member = _MEMBER.get(ctx)
        if member is not None:
            return _OTHER if key.startswith("x-") else member
        if ctx == _PATH_ITEM:
            if key in _METHODS:
                return _OPERATION
            if key == "parameters":
                return _PARAMETER_LIST
        elif ctx == _OPERATION:
            if key == "parameters":
                return _PARAMETER_LIST
            if key == "responses":
                return _RESPONSE_MAP
            if key == "callbacks":
                return _CALLBACKS
        elif ctx == _RESPONSE and key == "headers":
            return _HEADER_MAP
        if where is not None:
            section = self.section_context(key, where)
            if section is not None:
                return section
        # _OTHER, and what the other non-schema objects have in common with it
        if key == "schema":
            return _SCHEMA
        if key == "responses":
            return _RESPONSES
        if key == "example" or key == "enum" or key == "default":
            return _LITERAL
        if key == "examples":
            return _LITERAL if self.swagger else _EXAMPLE_MAP
        return _OTHER

    def section_context(self, key: str, where: tuple[str, ...]) -> int | None:
        """The context of a top-level section (``paths``, ``definitions``, ``components/*`` ...)."""
        if where == ():
            if key == "paths" or (key == "webhooks" and not self.swagger):
                return _PATHS
            if self.swagger:
                return {"definitions": _SCHEMA_MAP, "parameters": _PARAMETER_MAP, "responses": _RESPONSE_MAP}.get(key)
        elif where == ("components",) and not self.swagger:
            return {
                "schemas": _SCHEMA_MAP,
                "parameters": _PARAMETER_MAP,
                "responses": _RESPONSE_MAP,
                "headers": _HEADER_MAP,
                "pathItems": _PATHS,
                "callbacks": _CALLBACKS,
            }.get(key)
        return None

    def walk(self, node: Any, ctx: int, url: str, pointer: str, where: tuple[str, ...] | None) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ctx != _MAPPING:
                if ctx != _LITERAL:
                    return self.reference(node, ref, ctx, url, pointer, where)
                if len(node) == 1:
                    return self.literal_reference(node, ref, url, pointer, where)
            out: dict[str, Any] = {}
            for key, child in node.items():
                child_pointer = f"{pointer}/{escape_pointer_token(key)}"
                child_where = (*where, key) if where is not None and len(where) < 3 else None
                if ctx == _MAPPING and isinstance(child, str):
                    out[key] = self.mapping_value(child, url, child_pointer)
                else:
                    child_ctx = self.child_context(ctx, key, child, where)
                    out[key] = self.walk(child, child_ctx, url, child_pointer, child_where)
            return out
        if isinstance(node, list):
            item_ctx = {_SCHEMA_LIST: _SCHEMA, _LITERAL: _LITERAL, _PARAMETER_LIST: _PARAMETER}.get(ctx, _OTHER)
            return [
                self.walk(
                    item,
                    item_ctx,
                    url,
                    f"{pointer}/{i}",
                    (*where, str(i)) if where is not None and len(where) < 3 else None,
                )
                for i, item in enumerate(node)
            ]
        return node

    def resolve(self, ref: str, url: str, at: str) -> tuple[str, str, Any, bool]:
        """Follow ``ref`` written at ``url``#``at``: target URL, pointer and value.

        The flag tells whether the fragment was a JSON pointer that reached its target without
        passing through another ``$ref`` (a local reference can then stay as it was written).
        """
        try:
            target_url, fragment = self.split(url, ref)
            is_pointer = not fragment or fragment.startswith("/")
            if not is_pointer:
                self.load(target_url)
                fragment = self.pointer_fragment(target_url, fragment, ref, self.source_of(url, at))
            final_url, final_pointer, value = self.follow(target_url, fragment)
        except _Unresolved as exc:
            raise self.located(url, at, f"cannot resolve $ref {ref!r}: {exc}") from None
        direct = is_pointer and final_url == target_url and final_pointer == fragment
        return final_url, final_pointer, value, direct

    def reference(
        self, node: dict[str, Any], ref: str, ctx: int, url: str, pointer: str, where: tuple[str, ...] | None
    ) -> Any:
        at = f"{pointer}/$ref"
        target_url, target_pointer, value, direct = self.resolve(ref, url, at)
        siblings = [key for key in node if key != "$ref"]
        if target_url == self.root_url:
            # A reference into the root document stays a local reference for the converter to follow.
            local = ref if url == self.root_url and ref.startswith("#") and direct else "#" + target_pointer
            out: dict[str, Any] = {"$ref": local}
            self.walk_siblings(node, siblings, out, _SCHEMA if ctx == _SCHEMA else _OTHER, url, pointer)
            return out
        self.external_refs += 1
        key = f"{target_url}#{target_pointer}"
        if ctx == _SCHEMA:
            out = {"$ref": self.prefix + escape_pointer_token(self.hoist(key, target_url, target_pointer, value))}
            self.walk_siblings(node, siblings, out, _SCHEMA, url, pointer)
            return out
        section = _SECTION_OF_CONTEXT.get(ctx)
        overrides = self.openapi31 and ("summary" in node or "description" in node)
        if section is not None and section in self.prefixes:
            if not overrides:
                return self.shared_reference(
                    node, ref, siblings, section, target_url, target_pointer, value, url, pointer
                )
            # its own summary or description: a copy of the target, even behind a chain of references
            target_url, target_pointer, value = self.settle(target_url, target_pointer, value)
            key = f"{target_url}#{target_pointer}"
        self.inlined += 1
        cache_key = (key, ctx, where)
        cached = self.inline_cache.get(cache_key, _MISSING)
        if cached is not _MISSING:
            result = _copy(cached)
        else:
            if key in self.active:
                chain = [*list(self.active)[list(self.active).index(key) :], key]
                shown = " -> ".join(self.target_name(*k.split("#", 1)) for k in chain)
                raise self.located(url, at, f"cyclic $ref: {shown}")
            self.active[key] = None
            try:
                result = self.walk(value, ctx, target_url, target_pointer, where)
            finally:
                del self.active[key]
            self.inline_cache[cache_key] = result
            if siblings:
                result = _copy(result)
        if siblings:
            self.merge_siblings(node, siblings, result, ref, url, pointer, where)
        return result

    def shared_reference(
        self,
        node: dict[str, Any],
        ref: str,
        siblings: list[str],
        section: str,
        target_url: str,
        target_pointer: str,
        value: Any,
        url: str,
        pointer: str,
    ) -> dict[str, Any]:
        """A reference to a response, parameter or header of another file: hoisted into its section."""
        target_url, target_pointer, value = self.settle(target_url, target_pointer, value)
        if target_url == self.root_url:
            out: dict[str, Any] = {"$ref": "#" + target_pointer}
        else:
            name = self.hoist(f"{target_url}#{target_pointer}", target_url, target_pointer, value, section)
            out = {"$ref": self.prefixes[section] + escape_pointer_token(name)}
        if siblings:
            self.merge_siblings(node, siblings, out, ref, url, pointer, None)
        return out

    def settle(self, url: str, pointer: str, value: Any) -> tuple[str, str, Any]:
        """The end of a chain of objects in other files that are only a reference to the next one."""
        chain = [f"{url}#{pointer}"]
        while (
            url != self.root_url and isinstance(value, dict) and len(value) == 1 and isinstance(value.get("$ref"), str)
        ):
            at_url, at = url, f"{pointer}/$ref"
            url, pointer, value, _ = self.resolve(value["$ref"], at_url, at)
            key = f"{url}#{pointer}"
            if key in chain:
                cycle = [*chain[chain.index(key) :], key]
                shown = " -> ".join(self.target_name(*k.split("#", 1)) for k in cycle)
                raise self.located(at_url, at, f"cyclic $ref: {shown}")
            chain.append(key)
        return url, pointer, value

    def walk_siblings(
        self, node: dict[str, Any], siblings: list[str], out: dict[str, Any], ctx: int, url: str, pointer: str
    ) -> None:
        for key in siblings:
            child = node[key]
            out[key] = self.walk(child, self.child_context(ctx, key, child, None), url, f"{pointer}/{key}", None)

    def merge_siblings(
        self,
        node: dict[str, Any],
        siblings: list[str],
        result: Any,
        ref: str,
        url: str,
        pointer: str,
        where: tuple[str, ...] | None,
    ) -> None:
        """OpenAPI 3.1 lets summary and description override the target's; anything else is dropped."""
        dropped = list(siblings)
        if self.openapi31 and isinstance(result, dict):
            for key in ("summary", "description"):
                if key in node:
                    result[key] = self.walk(node[key], _OTHER, url, f"{pointer}/{key}", None)
                    dropped.remove(key)
        if dropped:
            names = ", ".join(repr(k) for k in dropped)
            self.report.dropped(
                f"$ref {ref!r} has sibling keys {names}; a reference stands for the whole object it names, so they were dropped.",
                source=self.source_of(url, pointer),
            )

    def literal_reference(
        self, node: dict[str, Any], ref: str, url: str, pointer: str, where: tuple[str, ...] | None
    ) -> Any:
        """A ``$ref`` inside example or default data: resolved when it can be, kept as data when not."""
        try:
            return self.reference(node, ref, _LITERAL, url, pointer, where)
        except InputError as exc:
            self.report.note(
                f"$ref {ref!r} inside example or default data could not be resolved ({exc}); it was kept as literal data.",
                source=self.source_of(url, pointer),
            )
            return _copy(node)

    def mapping_value(self, value: str, url: str, pointer: str) -> str:
        """A discriminator mapping value: a schema name stays, a reference to another file is hoisted."""
        if not _looks_like_reference(value):
            return value
        try:
            target_url, fragment = self.split(url, value)
            final_url, final_pointer, target = self.follow(target_url, fragment)
        except _Unresolved as exc:
            raise self.located(url, pointer, f"cannot resolve discriminator mapping {value!r}: {exc}") from None
        if final_url == self.root_url:
            return value if url == self.root_url and value.startswith("#") else "#" + final_pointer
        self.external_refs += 1
        name = self.hoist(f"{final_url}#{final_pointer}", final_url, final_pointer, target)
        return self.prefix + escape_pointer_token(name)

    # -- the whole

    def root_container(self, section: str) -> tuple[Any, str, str]:
        """The root's container of a section (followed if it is a reference), its URL and pointer."""
        keys = (_SWAGGER_SECTIONS[section],) if self.swagger else ("components", section)
        node: Any = self.root.value
        url, pointer = self.root_url, ""
        for key in keys:
            if isinstance(node, dict) and isinstance(node.get("$ref"), str):
                url, pointer, node, _ = self.resolve(node["$ref"], url, f"{pointer}/$ref")
            if not isinstance(node, dict):
                return None, url, pointer
            node = node.get(key)
            pointer = f"{pointer}/{escape_pointer_token(key)}"
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            url, pointer, node, _ = self.resolve(node["$ref"], url, f"{pointer}/$ref")
        return node, url, pointer

    def claim_root_names(self) -> None:
        """Root entries that are only a reference to another file keep their name for its content."""
        for section in self.sections:
            container, base_url, base = self.root_container(section)
            if not isinstance(container, dict):
                continue
            self.used_names[section].update(container)
            for name, entry in container.items():
                if base_url != self.root_url:
                    # the section itself lives in another file: references to its entries name them
                    own = f"{base}/{escape_pointer_token(name)}"
                    if f"{base_url}#{own}" not in self.hoisted[section]:
                        self.register(f"{base_url}#{own}", name, base_url, own, entry, section)
                        self.claimed[section].add(name)
                if not (isinstance(entry, dict) and len(entry) == 1 and isinstance(entry.get("$ref"), str)):
                    continue
                target_url, target_pointer, value, _ = self.resolve(
                    entry["$ref"], base_url, f"{base}/{escape_pointer_token(name)}/$ref"
                )
                if section != "schemas":
                    target_url, target_pointer, value = self.settle(target_url, target_pointer, value)
                key = f"{target_url}#{target_pointer}"
                if target_url != self.root_url and key not in self.hoisted[section]:
                    self.register(key, name, target_url, target_pointer, value, section)
                    self.claimed[section].add(name)

    def run(self) -> dict[str, Any]:
        self.claim_root_names()
        out = self.walk(self.root.value, _OTHER, self.root_url, "", ())
        while self.queue:
            section, name, url, pointer, value = self.queue.popleft()
            self.new_components[section][name] = self.walk(value, _CONTEXT_OF_SECTION[section], url, pointer, None)
        self.copy_back_single_uses(out)
        for section in self.sections:
            if self.new_components[section]:
                self.output_container(out, section).update(self.new_components[section])
        if self.new_schemas:
            self.check_alias_cycles(self.output_container(out, "schemas"))
        loaded = len(self.docs) - 1
        if loaded:
            self.report.note(
                f"Bundled {loaded} other file{'s' if loaded != 1 else ''} into one document: "
                f"{self.external_refs} external $ref{'s' if self.external_refs != 1 else ''} resolved, "
                + ", ".join(
                    self.added(section)
                    for section in self.sections
                    if section == "schemas" or self.new_components[section]
                )
                + f", {self.inlined} other reference{'s' if self.inlined != 1 else ''} copied in place."
            )
        result: dict[str, Any] = out
        return result

    def added(self, section: str) -> str:
        count = len(self.new_components[section])
        where = _SWAGGER_SECTIONS[section] if self.swagger else f"components/{section}"
        return f"{count} {_NOUNS[section]}{'s' if count != 1 else ''} added to {where}"

    def copy_back_single_uses(self, out: dict[str, Any]) -> None:
        """Hoisted responses, parameters and headers only one place refers to go back to that place."""
        targets = {
            self.prefixes[section] + escape_pointer_token(name): (section, name)
            for section in self.sections
            if section != "schemas"
            for name in self.new_components[section]
            if name not in self.claimed[section]
        }
        if not targets:
            return
        uses: dict[str, list[dict[str, Any]]] = {}
        stack: list[Any] = [out, *(self.new_components[s] for s in self.sections if s != "schemas")]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str) and ref in targets:
                    uses.setdefault(ref, []).append(node)
                stack.extend(child for child in node.values() if isinstance(child, dict | list))
            elif isinstance(node, list):
                stack.extend(child for child in node if isinstance(child, dict | list))
        for ref, places in uses.items():
            if len(places) != 1:
                continue
            section, name = targets[ref]
            content = self.new_components[section].pop(name)
            (place,) = places
            place.clear()
            if isinstance(content, dict):
                place.update(content)
            else:  # not an object: the converter or validator names the problem where it is used
                place["$ref"] = ref
                self.new_components[section][name] = content
                continue
            self.copied_back += 1
        self.inlined += self.copied_back

    def output_container(self, out: dict[str, Any], section: str) -> dict[str, Any]:
        if self.swagger:
            key = _SWAGGER_SECTIONS[section]
            container = out.get(key)
            if container is None:
                container = {}
                self.insert_in_order(out, key, container)
            if not isinstance(container, dict):
                raise self.located(self.root_url, f"/{key}", f"'{key}' must be an object")
            return container
        components = out.setdefault("components", {})
        if not isinstance(components, dict):
            raise self.located(self.root_url, "/components", "'components' must be an object")
        container = components.setdefault(section, {})
        if not isinstance(container, dict):
            raise self.located(self.root_url, f"/components/{section}", f"'components/{section}' must be an object")
        return container

    @staticmethod
    def insert_in_order(out: dict[str, Any], key: str, value: Any) -> None:
        """Add a top-level section of a Swagger 2.0 document where the conventional order puts it."""
        rank = _SWAGGER_ORDER.index(key)
        ordered = list(out.items())
        out.clear()
        for existing, existing_value in ordered:
            if key not in out and existing in _SWAGGER_ORDER and _SWAGGER_ORDER.index(existing) > rank:
                out[key] = value
            out[existing] = existing_value
        out.setdefault(key, value)

    def check_alias_cycles(self, container: dict[str, Any]) -> None:
        """Schemas that are nothing but a reference to each other name no schema at all."""
        hoisted_from = self.hoisted_from["schemas"]
        for start in self.new_schemas:
            seen: list[str] = []
            name = start
            while True:
                entry = container.get(name)
                if not (isinstance(entry, dict) and len(entry) == 1 and isinstance(entry.get("$ref"), str)):
                    break
                target = entry["$ref"]
                if not target.startswith(self.prefix):
                    break
                seen.append(name)
                name = unescape_pointer_token(target[len(self.prefix) :])
                if name in seen:
                    cycle = [*seen[seen.index(name) :], name]
                    shown = " -> ".join(self.target_name(*hoisted_from.get(n, (self.root_url, ""))) for n in cycle)
                    url, pointer = hoisted_from.get(cycle[0], (self.root_url, ""))
                    raise self.located(url, f"{pointer}/$ref", f"cyclic $ref: {shown} (each is only a reference)")

    def close(self) -> None:
        if self.own_client is not None:
            self.own_client.close()


_MISSING: Final = object()


def _find_anchor(node: Any, name: str, pointer: str) -> str | None:
    if isinstance(node, dict):
        if node.get("$anchor") == name or node.get("$id") == f"#{name}":
            return pointer
        children: Any = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    else:
        return None
    for key, child in children:
        found = _find_anchor(child, name, f"{pointer}/{escape_pointer_token(str(key))}")
        if found is not None:
            return found
    return None


def bundle(spec: Spec, report: Report, *, client: httpx.Client | None = None) -> dict[str, Any]:
    """One self-contained document made of ``spec`` and every file or URL its ``$ref``s reach.

    Every ``$ref`` in the result is local: external schemas are added to ``components/schemas``
    (``definitions`` for Swagger 2.0), anything else is copied in place. A Postman collection
    has no references and comes back as it is.
    """
    if spec.format in (SpecFormat.POSTMAN_20, SpecFormat.POSTMAN_21):
        return spec.value
    bundler = _Bundler(spec, report, client)
    try:
        return bundler.run()
    except RecursionError:
        raise InputError(f"{spec.location}: $refs nest too deeply to bundle") from None
    finally:
        bundler.close()
