"""The platform's budgets: at most 256 operations, 512 schemas per body, and less than 1 MB.

:func:`fit_budget` works in place on a Swagger 2.0 definition, in this order, reporting every
step as a :class:`~connectorkit.authoring.report.Kind.BUDGET` item:

1. **Selection** (only when asked): ``include_tags`` and ``include_paths`` (``fnmatch`` globs on
   the path template) choose operations, an operation matching any of them is kept;
   ``exclude_tags`` then leaves out operations with one of those tags; ``max_operations`` keeps
   the first N in document order. Operations that a kept one needs (named by ``operationId`` in
   ``x-ms-dynamic-values``, ``x-ms-notification`` …) are kept with it. Each operation left out is
   one report item. More than 256 operations remaining is an :class:`InputError` that says how
   many to exclude and which tags are biggest.
2. **Pruning**, always: definitions, shared parameters and shared responses no ``$ref`` reaches
   any more (followed transitively) are removed, one report item per section.
3. **Schemas per body**: a body, response or definition expanding to more than 512 schemas
   (counted as ``BodySchemaCountExceedsMaxAllowed`` counts them) is an :class:`InputError`
   naming it and the operations that use it.
4. **Size**, measured on the JSON as connectorkit writes it (``jsontext.dumps``, 4-space
   indent). Only while the definition is 1 MB or more, one step after the other:
   drop the ``x-ms-summary`` and ``description`` of schema properties that only restate the
   property's name (what :func:`~connectorkit.authoring.enrich.enrich` makes up); shorten the
   descriptions of nested schema properties (depth 2 and more) to their first sentence; drop
   examples; write the file minified (``BudgetResult.minify``: no indentation, which loses
   nothing); remove the descriptions of nested schema properties. Still too big is an
   :class:`InputError` with the size and the biggest paths and definitions.

Minifying is a decision for the writer, so :func:`fit_budget` returns a :class:`BudgetResult`
and whoever saves the definition writes :func:`compact_bytes` when ``minify`` is set.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import unquote

from connectorkit.authoring.enrich import describe_value, label_for, shorten
from connectorkit.authoring.report import Kind, Report
from connectorkit.definition import jsontext
from connectorkit.definition.jsontext import dump_bytes, pointer_join, unescape_pointer_token
from connectorkit.definition.swagger import HTTP_METHODS, Swagger
from connectorkit.errors import InputError
from connectorkit.lint.rules.responses import MAX_BODY_SCHEMAS, _Counter, schema_roots

log = logging.getLogger(__name__)

MAX_BYTES = 1024 * 1024  # the definition must be smaller than this
MAX_OPERATIONS = 256
DEEP = 2  # schema properties nested this deep or deeper lose description text first
SHORT_DESCRIPTION = 160
UNTAGGED = "(untagged)"

_SECTIONS = ("definitions", "parameters", "responses")
_NOT_REFERENCES = frozenset({"example", "examples", "x-example", "default", "enum", "x-ms-test-value"})
_SCHEMA_EXAMPLES = ("example", "x-example", "examples")
_VERSION = re.compile(r"^(?:api|v\d+(?:\.\d+)*)$", re.IGNORECASE)


@dataclass(frozen=True)
class BudgetOptions:
    """Which operations to keep (``connectorkit convert --include-tag`` …); empty keeps all."""

    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    include_paths: tuple[str, ...] = ()  # fnmatch globs on the path template, e.g. "/v2/droplets*"
    exclude_paths: tuple[str, ...] = ()  # leave out paths matching these globs
    max_operations: int | None = None


@dataclass(frozen=True)
class BudgetResult:
    """What the definition came to. ``size`` is as :func:`jsontext.dumps` writes it; with
    ``minify`` set it only fits written by :func:`compact_bytes`, which is ``compact_size``."""

    size: int
    compact_size: int
    operations: int
    minify: bool = False


def written_size(swagger: dict[str, Any]) -> int:
    """Bytes of the definition as connectorkit writes it (4-space indent, final newline)."""
    return len(dump_bytes(swagger))


def compact_bytes(swagger: dict[str, Any]) -> bytes:
    """The definition as minified JSON: no indentation, no spaces between tokens."""
    return jsontext.compact_bytes(swagger)


def fit_budget(
    swagger: dict[str, Any],
    report: Report,
    options: BudgetOptions = BudgetOptions(),
    *,
    location: str | None = None,
) -> BudgetResult:
    """Select, prune and shrink ``swagger`` in place until it meets the platform's limits.

    ``location`` (the file or URL the definition came from) starts error messages.
    """
    budget = _Budget(swagger, report, options, f"{location}: " if location else "")
    result = budget.run()
    log.debug("budget: %s", result)
    return result


# --------------------------------------------------------------------------- operations


@dataclass(eq=False)
class _Op:
    path: str
    method: str
    raw: dict[str, Any]
    pointer: str

    @property
    def label(self) -> str:
        op_id = self.raw.get("operationId")
        name = f" ({op_id})" if isinstance(op_id, str) and op_id else ""
        return f"{self.method.upper()} {self.path}{name}"

    @property
    def tags(self) -> list[str]:
        tags = self.raw.get("tags")
        if not isinstance(tags, list):
            return []
        return [tag for tag in tags if isinstance(tag, str)]


def _operations(doc: dict[str, Any]) -> list[_Op]:
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return []
    out = []
    for path, item in paths.items():
        if not isinstance(item, dict) or not isinstance(path, str) or path.startswith("x-"):
            continue
        for method in HTTP_METHODS:
            raw = item.get(method)
            if isinstance(raw, dict):
                out.append(_Op(path, method, raw, pointer_join(pointer_join("#/paths", path), method)))
    return out


def _referenced_ids(node: Any, out: set[str], top: bool = True) -> None:
    """operationIds that ``node`` names inside it (dynamic values, notifications, capabilities)."""
    if isinstance(node, dict):
        value = node.get("operationId")
        if not top and isinstance(value, str):
            out.add(value)
        for key, child in node.items():
            if key not in _NOT_REFERENCES and isinstance(child, dict | list):
                _referenced_ids(child, out, False)
    elif isinstance(node, list):
        for child in node:
            if isinstance(child, dict | list):
                _referenced_ids(child, out, False)


def _count_phrase(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# --------------------------------------------------------------------------- schema walks


def _schema_roots_in(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every schema where it is written: definitions, bodies, responses, webhook payloads."""
    definitions = doc.get("definitions")
    if isinstance(definitions, dict):
        yield from (schema for schema in definitions.values() if isinstance(schema, dict))

    def parameters(params: Any) -> Iterator[dict[str, Any]]:
        values = params.values() if isinstance(params, dict) else params if isinstance(params, list) else []
        for param in values:
            if isinstance(param, dict) and isinstance(param.get("schema"), dict):
                yield param["schema"]

    def responses(value: Any) -> Iterator[dict[str, Any]]:
        if isinstance(value, dict):
            for response in value.values():
                if isinstance(response, dict) and isinstance(response.get("schema"), dict):
                    yield response["schema"]

    yield from parameters(doc.get("parameters"))
    yield from responses(doc.get("responses"))
    paths = doc.get("paths")
    if isinstance(paths, dict):
        for item in paths.values():
            if not isinstance(item, dict):
                continue
            yield from parameters(item.get("parameters"))
            content = item.get("x-ms-notification-content")
            if isinstance(content, dict) and isinstance(content.get("schema"), dict):
                yield content["schema"]
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    yield from parameters(op.get("parameters"))
                    yield from responses(op.get("responses"))


def _walk_schemas(doc: dict[str, Any]) -> Iterator[tuple[dict[str, Any], int, str | None]]:
    """(schema, depth, property name) for every schema node written in the document.

    A root is depth 0; a property one deeper than its object; array items, ``allOf`` parts and
    ``additionalProperties`` at the depth of their parent. ``$ref`` is not followed.
    """
    seen: set[int] = set()
    stack: list[tuple[dict[str, Any], int, str | None]] = [(root, 0, None) for root in _schema_roots_in(doc)]
    stack.reverse()
    while stack:
        schema, depth, name = stack.pop()
        if id(schema) in seen:
            continue
        seen.add(id(schema))
        yield schema, depth, name
        children: list[tuple[dict[str, Any], int, str | None]] = []
        properties = schema.get("properties")
        if isinstance(properties, dict):
            children.extend((child, depth + 1, key) for key, child in properties.items() if isinstance(child, dict))
        for key in ("items", "additionalProperties"):
            child = schema.get(key)
            if isinstance(child, dict):
                children.append((child, depth, None))
            elif key == "items" and isinstance(child, list):
                children.extend((part, depth, None) for part in child if isinstance(part, dict))
        parts = schema.get("allOf")
        if isinstance(parts, list):
            children.extend((part, depth, None) for part in parts if isinstance(part, dict))
        stack.extend(reversed(children))


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    short = shorten(text, SHORT_DESCRIPTION)
    end = _sentence_end(short)
    if end is not None:
        short = short[:end]
    if short != text and short and short[-1] not in ".!?":
        short += "."
    return short


def _sentence_end(text: str) -> int | None:
    """Index just after the first sentence of ``text``, if it has more than one."""
    for index, char in enumerate(text):
        if char in ".!?" and index >= 10 and index + 1 < len(text) and text[index + 1] == " ":
            return index + 1
    return None


# --------------------------------------------------------------------------- the budget


class _Budget:
    def __init__(self, doc: dict[str, Any], report: Report, options: BudgetOptions, where: str) -> None:
        self.doc = doc
        self.report = report
        self.options = options
        self.where = where

    def budget(self, message: str, source: str | None = None, target: str | None = None) -> None:
        self.report.add(Kind.BUDGET, message, source, target)

    def run(self) -> BudgetResult:
        if self.options.max_operations is not None and self.options.max_operations < 1:
            raise InputError(f"{self.where}--max-operations must be 1 or more, not {self.options.max_operations}")
        selected = self.select()
        self.check_operations(selected)
        self.prune()
        self.check_body_schemas()
        return self.fit_size()

    # -- selection

    def select(self) -> bool:
        """Apply the selection options; whether any was given."""
        options = self.options
        ops = _operations(self.doc)
        if not (
            options.include_tags
            or options.exclude_tags
            or options.include_paths
            or options.exclude_paths
            or options.max_operations
        ):
            return False
        self._check_names(ops)
        include_tags = {tag.lower() for tag in options.include_tags}
        exclude_tags = {tag.lower() for tag in options.exclude_tags}
        reasons: dict[int, str] = {}
        kept: list[_Op] = []
        for op in ops:
            tags = {tag.lower() for tag in op.tags} or {UNTAGGED.lower()}
            if include_tags or options.include_paths:
                chosen = bool(tags & include_tags) or any(fnmatchcase(op.path, glob) for glob in options.include_paths)
                if not chosen:
                    reasons[id(op)] = "not chosen by " + self._include_flags()
                    continue
            excluded = sorted(tags & exclude_tags)
            if excluded:
                reasons[id(op)] = f"tag '{excluded[0]}' is excluded"
                continue
            dropped = next((glob for glob in options.exclude_paths if fnmatchcase(op.path, glob)), None)
            if dropped is not None:
                reasons[id(op)] = f"path matches --exclude-path {dropped}"
                continue
            kept.append(op)
        needs, always = self._dependencies(ops)
        kept_ids = {id(op) for op in kept}
        for op in self._closure(kept + always, needs):
            if id(op) not in kept_ids:
                kept_ids.add(id(op))
                self.budget(f"{op.label} is kept although not selected: a selected operation uses it.", op.pointer)
        if options.max_operations is not None and len(kept_ids) > options.max_operations:
            kept_ids = self._first(ops, kept_ids, needs, always, reasons)
        if not kept_ids:
            raise InputError(f"{self.where}no operation is left after {self._flags()}")
        for op in ops:
            if id(op) not in kept_ids:
                reason = reasons.get(id(op), "not selected")
                self.budget(f"{op.label} is left out: {reason}.", op.pointer)
        self._remove(ops, kept_ids)
        return True

    def _include_flags(self) -> str:
        flags = [f"--include-tag {tag}" for tag in self.options.include_tags]
        flags += [f"--include-path {glob}" for glob in self.options.include_paths]
        return " or ".join(flags)

    def _flags(self) -> str:
        options = self.options
        flags = [f"--include-tag {t}" for t in options.include_tags]
        flags += [f"--exclude-tag {t}" for t in options.exclude_tags]
        flags += [f"--include-path {g}" for g in options.include_paths]
        flags += [f"--exclude-path {g}" for g in options.exclude_paths]
        if options.max_operations is not None:
            flags.append(f"--max-operations {options.max_operations}")
        return " ".join(flags)

    def _check_names(self, ops: list[_Op]) -> None:
        counts = self._tag_counts(ops)
        known = {tag.lower() for tag in counts}
        for tag in (*self.options.include_tags, *self.options.exclude_tags):
            if tag.lower() not in known:
                raise InputError(f"{self.where}no operation has the tag '{tag}'; the tags are {self._tag_list(counts)}")
        for flag, globs in (
            ("--include-path", self.options.include_paths),
            ("--exclude-path", self.options.exclude_paths),
        ):
            for glob in globs:
                if not any(fnmatchcase(op.path, glob) for op in ops):
                    raise InputError(
                        f"{self.where}no path matches {flag} {glob} (a glob on the path template, e.g. '/v2/droplets*')"
                    )

    @staticmethod
    def _tag_counts(ops: list[_Op]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for op in ops:
            for tag in op.tags or [UNTAGGED]:
                counts[tag] = counts.get(tag, 0) + 1
        return counts

    @staticmethod
    def _tag_list(counts: dict[str, int], limit: int = 12) -> str:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{tag} ({count})" for tag, count in ranked[:limit])
        return shown + (f" and {len(ranked) - limit} more" if len(ranked) > limit else "")

    def _dependencies(self, ops: list[_Op]) -> tuple[dict[int, list[_Op]], list[_Op]]:
        """Operations each operation names, and those the rest of the definition names."""
        by_id: dict[str, _Op] = {}
        for op in ops:
            op_id = op.raw.get("operationId")
            if isinstance(op_id, str):
                by_id.setdefault(op_id, op)
        needs: dict[int, list[_Op]] = {}
        for op in ops:
            names: set[str] = set()
            _referenced_ids(op.raw, names)
            needs[id(op)] = [by_id[name] for name in sorted(names) if name in by_id and by_id[name] is not op]
        names = set()
        for key, value in self.doc.items():
            if key != "paths":
                _referenced_ids(value, names, False)
        always = [by_id[name] for name in sorted(names) if name in by_id]
        return needs, always

    @staticmethod
    def _closure(start: list[_Op], needs: dict[int, list[_Op]]) -> list[_Op]:
        seen: set[int] = set()
        out: list[_Op] = []
        stack = list(reversed(start))
        while stack:
            op = stack.pop()
            if id(op) in seen:
                continue
            seen.add(id(op))
            out.append(op)
            stack.extend(reversed(needs.get(id(op), [])))
        return out

    def _first(
        self,
        ops: list[_Op],
        kept_ids: set[int],
        needs: dict[int, list[_Op]],
        always: list[_Op],
        reasons: dict[int, str],
    ) -> set[int]:
        """The first ``max_operations`` kept operations in document order, each with those it needs."""
        limit = self.options.max_operations
        assert limit is not None
        chosen: set[int] = set()
        for op in self._closure(always, needs):
            chosen.add(id(op))
        for op in ops:
            if id(op) not in kept_ids or id(op) in chosen:
                continue
            group = [o for o in self._closure([op], needs) if id(o) not in chosen]
            if len(chosen) + len(group) <= limit:
                chosen.update(id(o) for o in group)
            else:
                reasons[id(op)] = f"beyond --max-operations {limit}"
        return chosen

    def _remove(self, ops: list[_Op], kept_ids: set[int]) -> None:
        paths = self.doc["paths"]
        for op in ops:
            if id(op) in kept_ids:
                continue
            item = paths.get(op.path)
            if isinstance(item, dict):
                item.pop(op.method, None)
        for path in [p for p, item in paths.items() if isinstance(item, dict)]:
            item = paths[path]
            if not any(isinstance(item.get(method), dict) for method in HTTP_METHODS):
                del paths[path]
        used = {tag for op in ops if id(op) in kept_ids for tag in op.tags}
        gone = {tag for op in ops for tag in op.tags} - used  # tags whose operations were all left out
        tags = self.doc.get("tags")
        if isinstance(tags, list):
            unused = [t for t in tags if isinstance(t, dict) and t.get("name") in gone]
            if unused:
                self.doc["tags"] = [t for t in tags if not any(t is u for u in unused)]
                names = ", ".join(str(t["name"]) for t in unused[:10])
                more = f" and {len(unused) - 10} more" if len(unused) > 10 else ""
                self.budget(
                    f"{_count_phrase(len(unused), 'tag')} whose operations were all left out removed from 'tags': {names}{more}.",
                    "#/tags",
                    "#/tags",
                )

    def check_operations(self, selected: bool) -> None:
        ops = _operations(self.doc)
        count = len(ops)
        if count <= MAX_OPERATIONS:
            return
        excess = count - MAX_OPERATIONS
        counts = self._tag_counts(ops)
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        removed: set[int] = set()
        example: list[tuple[str, int]] = []
        for tag, tag_count in ranked[:10]:
            if len(removed) >= excess:
                break
            example.append((tag, tag_count))
            removed.update(id(op) for op in ops if tag in (op.tags or [UNTAGGED]))
        flags = " ".join(f"--exclude-tag {_quoted(tag)} ({_count_phrase(n, 'operation')})" for tag, n in example)
        if not any(op.tags for op in ops):
            groups = self._path_groups(ops)
            listed = ", ".join(f"{prefix} ({n})" for prefix, n in groups[:6])
            advice = f"no operation has tags; the biggest path groups are {listed}: choose with --include-path '{groups[0][0]}*'"
        elif len(removed) >= excess:
            advice = f"for example {flags}"
        else:
            advice = f"the biggest tags: {self._tag_list(counts, 10)}"
        after = f" after {self._flags()}" if selected else ""
        raise InputError(
            f"{self.where}{count} operations{after}, the platform allows {MAX_OPERATIONS}: exclude {excess} "
            f"({advice}) or pass --max-operations {MAX_OPERATIONS}"
        )

    @staticmethod
    def _path_groups(ops: list[_Op]) -> list[tuple[str, int]]:
        """Operations per path prefix (up to the first segment that is not a version), biggest first."""
        counts: dict[str, int] = {}
        for op in ops:
            prefix = ""
            for segment in op.path.split("/"):
                if not segment:
                    continue
                prefix += "/" + segment
                if "{" in segment or not _VERSION.match(segment):
                    break
            counts[prefix or "/"] = counts.get(prefix or "/", 0) + 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    # -- pruning

    def prune(self) -> None:
        used: dict[str, set[str]] = {section: set() for section in _SECTIONS}
        sections = self._sections()
        stack: list[Any] = [value for key, value in self.doc.items() if key not in _SECTIONS]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                if isinstance(ref, str):
                    target = _ref_target(ref)
                    if target is not None:
                        section, name = target
                        if name not in used[section] and name in sections[section]:
                            used[section].add(name)
                            stack.append(sections[section][name])
                stack.extend(value for key, value in node.items() if isinstance(value, dict | list))
            elif isinstance(node, list):
                stack.extend(value for value in node if isinstance(value, dict | list))
        nouns = {"definitions": "definition", "parameters": "shared parameter", "responses": "shared response"}
        for section in _SECTIONS:
            entries = self.doc.get(section)
            if not isinstance(entries, dict):
                continue
            unused = [name for name in entries if name not in used[section]]
            if not unused:
                continue
            for name in unused:
                del entries[name]
            if not entries:
                del self.doc[section]
            shown = ", ".join(unused[:10]) + (f" and {len(unused) - 10} more" if len(unused) > 10 else "")
            self.budget(
                f"{_count_phrase(len(unused), 'unused ' + nouns[section])} removed (no $ref reaches "
                f"{'it' if len(unused) == 1 else 'them'}): {shown}.",
                "#/" + section,
                "#/" + section if section in self.doc else None,
            )

    # -- schemas per body

    def check_body_schemas(self) -> None:
        counter = _Counter(Swagger(self.doc))
        over = []
        for root in schema_roots(self.doc):
            count = counter.count_root(root)
            if count > MAX_BODY_SCHEMAS and not root.is_ref:
                over.append((root, count))
        if not over:
            return
        names = {str(root.at[1]) for root, _ in over if root.definition}
        inline = {
            (str(root.at[1]), str(root.at[2])) for root, _ in over if not root.definition and root.at[0] == "paths"
        }
        user_ops = [
            op
            for op in _operations(self.doc)
            if (op.path, op.method) in inline or (names and names & self._definitions_used_by(op))
        ]
        users = [op.label for op in user_ops]
        paths = list(dict.fromkeys(op.path for op in user_ops))
        listed = ", ".join(f"{root.pointer.lstrip('/')} ({count:,})" for root, count in over[:5])
        more = f" and {len(over) - 5} more" if len(over) > 5 else ""
        used = ""
        if users:
            used = f"; used by {', '.join(users[:5])}" + (f" and {len(users) - 5} more" if len(users) > 5 else "")
        raise InputError(
            f"{self.where}{_count_phrase(len(over), 'schema')} expand to more than the {MAX_BODY_SCHEMAS} schemas "
            f"the platform allows per body: {listed}{more}{used}. Leave those operations out "
            f"({' '.join(f'--exclude-path {p!r}' for p in paths[:4])}{' ...' if len(paths) > 4 else ''}, "
            "or --exclude-tag / --include-path) or simplify the schemas"
        )

    def _sections(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for section in _SECTIONS:
            entries = self.doc.get(section)
            out[section] = entries if isinstance(entries, dict) else {}
        return out

    def _definitions_used_by(self, op: _Op) -> set[str]:
        sections = self._sections()
        item = self.doc["paths"].get(op.path, {})
        found: dict[str, set[str]] = {section: set() for section in _SECTIONS}
        stack: list[Any] = [op.raw, item.get("parameters")]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                ref = node.get("$ref")
                target = _ref_target(ref) if isinstance(ref, str) else None
                if target is not None and target[1] not in found[target[0]] and target[1] in sections[target[0]]:
                    found[target[0]].add(target[1])
                    stack.append(sections[target[0]][target[1]])
                stack.extend(v for v in node.values() if isinstance(v, dict | list))
            elif isinstance(node, list):
                stack.extend(v for v in node if isinstance(v, dict | list))
        return found["definitions"]

    # -- size

    def fit_size(self) -> BudgetResult:
        size = written_size(self.doc)
        operations = len(_operations(self.doc))
        if size < MAX_BYTES:
            return BudgetResult(size, len(compact_bytes(self.doc)), operations)
        steps: list[tuple[Callable[[], int], str]] = [
            (self._drop_derived_labels, "removed property labels and descriptions that only restate the names"),
            (self._shorten_deep_descriptions, "shortened descriptions of nested schema properties to one sentence"),
            (self._drop_examples, "removed examples"),
        ]
        for step, what in steps:
            size = self._step(step, what, size)
            if size < MAX_BYTES:
                return BudgetResult(size, len(compact_bytes(self.doc)), operations)
        compact = len(compact_bytes(self.doc))
        if compact < MAX_BYTES:
            self._report_minify(size, compact)
            return BudgetResult(size, compact, operations, minify=True)
        size = self._step(self._remove_deep_descriptions, "removed descriptions of nested schema properties", size)
        compact = len(compact_bytes(self.doc))
        if size < MAX_BYTES:
            return BudgetResult(size, compact, operations)
        if compact < MAX_BYTES:
            self._report_minify(size, compact)
            return BudgetResult(size, compact, operations, minify=True)
        raise InputError(
            f"{self.where}the definition is {compact:,} bytes even minified, after pruning, shortening descriptions "
            f"and removing examples; the platform allows less than {MAX_BYTES:,} (1 MB), so {compact - MAX_BYTES + 1:,} "
            f"bytes must go. Biggest parts: {self._biggest()}. Leave operations out with --exclude-tag, "
            "--include-path or --max-operations"
        )

    def _step(self, step: Callable[[], int], what: str, before: int) -> int:
        changed = step()
        if not changed:
            return before
        after = written_size(self.doc)
        self.budget(
            f"The definition was {before:,} bytes, the platform allows less than {MAX_BYTES:,}: "
            f"{what} ({_count_phrase(changed, 'place')}), saving {before - after:,} bytes.",
            None,
            "#",
        )
        return after

    def _report_minify(self, size: int, compact: int) -> None:
        self.budget(
            f"The definition is {size:,} bytes written with indentation, the platform allows less than "
            f"{MAX_BYTES:,}: it is written minified instead ({compact:,} bytes), which loses nothing but "
            "readability.",
            None,
            "#",
        )

    def _drop_derived_labels(self) -> int:
        changed = 0
        for schema, _, _ in _walk_schemas(self.doc):
            properties = schema.get("properties")
            if not isinstance(properties, dict):
                continue
            for name, prop in properties.items():
                if not isinstance(prop, dict):
                    continue
                summary = prop.get("x-ms-summary")
                if not isinstance(summary, str) or summary not in (label_for({}, name), label_for(prop, name)):
                    continue
                if prop.get("description") == describe_value(prop, summary):
                    del prop["description"]
                del prop["x-ms-summary"]
                changed += 1
        return changed

    def _shorten_deep_descriptions(self) -> int:
        changed = 0
        for schema, depth, _ in _walk_schemas(self.doc):
            description = schema.get("description")
            if depth >= DEEP and isinstance(description, str):
                short = _first_sentence(description)
                if short != description:
                    schema["description"] = short
                    changed += 1
        return changed

    def _drop_examples(self) -> int:
        changed = 0
        for schema, _, _ in _walk_schemas(self.doc):
            for key in _SCHEMA_EXAMPLES:
                if key in schema:
                    del schema[key]
                    changed += 1
        for params in self._parameter_lists():
            for param in params:
                if isinstance(param, dict):
                    for key in ("x-example", "example", "x-ms-test-value"):
                        if key in param and param.get("in") != "body":
                            del param[key]
                            changed += 1
        for responses in self._response_maps():
            for response in responses.values():
                if isinstance(response, dict) and "examples" in response:
                    del response["examples"]
                    changed += 1
        return changed

    def _remove_deep_descriptions(self) -> int:
        changed = 0
        for schema, depth, _ in _walk_schemas(self.doc):
            if depth >= DEEP and "description" in schema:
                del schema["description"]
                changed += 1
        return changed

    def _parameter_lists(self) -> Iterator[list[Any]]:
        return Swagger(self.doc).parameter_lists()

    def _response_maps(self) -> Iterator[dict[str, Any]]:
        root = self.doc.get("responses")
        if isinstance(root, dict):
            yield root
        for item in self._path_items():
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict) and isinstance(op.get("responses"), dict):
                    yield op["responses"]

    def _path_items(self) -> Iterator[dict[str, Any]]:
        paths = self.doc.get("paths")
        if isinstance(paths, dict):
            yield from (item for item in paths.values() if isinstance(item, dict))

    def _biggest(self, limit: int = 6) -> str:
        parts: list[tuple[int, str]] = []
        for section in ("paths", "definitions"):
            entries = self.doc.get(section)
            if isinstance(entries, dict):
                for name, value in entries.items():
                    parts.append((len(compact_bytes(value)), f"{section} {name}"))
        parts.sort(key=lambda part: -part[0])
        return ", ".join(f"{name} ({size:,} bytes)" for size, name in parts[:limit])


def _ref_target(ref: str) -> tuple[str, str] | None:
    """(section, name) of a local reference into definitions, parameters or responses."""
    if not ref.startswith("#/"):
        return None
    tokens = ref[2:].split("/")
    if len(tokens) < 2 or tokens[0] not in _SECTIONS:
        return None
    name = unquote(tokens[1]) if "%" in tokens[1] else tokens[1]
    return tokens[0], unescape_pointer_token(name)


def _quoted(tag: str) -> str:
    return tag if re.fullmatch(r"[\w.-]+", tag) else f'"{tag}"'
