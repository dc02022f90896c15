"""Light typed views over a Swagger 2.0 document kept as parsed JSON.

The views never copy the document: they read it where it is, so edits to the dict show through
and nothing is lost on save. Local ``$ref``s are followed; a reference that leads nowhere is left
for the validator to report, and the view shows the reference object itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from connectorkit.definition.jsontext import pointer_join, unescape_pointer_token

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")


class Swagger:
    """A Swagger 2.0 document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc if isinstance(doc, dict) else {}

    # -- top level

    @property
    def version(self) -> str | None:
        value = self.doc.get("swagger")
        return str(value) if value is not None else None

    @property
    def info(self) -> dict[str, Any]:
        info = self.doc.get("info")
        return info if isinstance(info, dict) else {}

    @property
    def title(self) -> str:
        return str(self.info.get("title") or "")

    @property
    def host(self) -> str | None:
        host = self.doc.get("host")
        return host if isinstance(host, str) else None

    @property
    def base_path(self) -> str:
        base = self.doc.get("basePath")
        return base if isinstance(base, str) else "/"

    @property
    def schemes(self) -> list[str]:
        schemes = self.doc.get("schemes")
        return [str(s) for s in schemes] if isinstance(schemes, list) else []

    def resolve(self, ref: str) -> Any:
        """The node a local ``$ref`` points to, or ``None`` when it points nowhere."""
        if ref == "#":
            return self.doc
        if not ref.startswith("#/"):
            return None
        node: Any = self.doc
        for token in ref[2:].split("/"):
            token = unescape_pointer_token(token)
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    def deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains from ``node``; return the target and its pointer."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                break
            seen.add(ref)
            target = self.resolve(ref)
            if target is None:
                break
            node, pointer = target, ref[1:]
        return node, pointer

    # -- operations

    @cached_property
    def paths(self) -> dict[str, Any]:
        paths = self.doc.get("paths")
        return paths if isinstance(paths, dict) else {}

    def operations(self) -> Iterator[Operation]:
        for path, item in self.paths.items():
            if not isinstance(item, dict):
                continue
            item_pointer = pointer_join("/paths", path)
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict):
                    yield Operation(self, path, method, op, item, pointer_join(item_pointer, method))

    def parameter_lists(self) -> Iterator[list[Any]]:
        """Every list of parameter objects as written: root ``parameters`` (its values), each path
        item's and each operation's ``parameters``."""
        root = self.doc.get("parameters")
        if isinstance(root, dict):
            yield list(root.values())
        for item in self.paths.values():
            if not isinstance(item, dict):
                continue
            if isinstance(item.get("parameters"), list):
                yield item["parameters"]
            for method in HTTP_METHODS:
                op = item.get(method)
                if isinstance(op, dict) and isinstance(op.get("parameters"), list):
                    yield op["parameters"]

    def security_schemes(self) -> list[SecurityScheme]:
        defs = self.doc.get("securityDefinitions")
        if not isinstance(defs, dict):
            return []
        return [
            SecurityScheme(name, body, pointer_join("/securityDefinitions", name))
            for name, body in defs.items()
            if isinstance(body, dict)
        ]


@dataclass(frozen=True)
class Parameter:
    """An effective parameter of an operation: ``$ref`` followed, operation level winning."""

    raw: dict[str, Any]
    pointer: str

    @property
    def name(self) -> str:
        return str(self.raw.get("name", ""))

    @property
    def location(self) -> str:
        return str(self.raw.get("in", ""))

    @property
    def required(self) -> bool:
        return self.raw.get("required") is True

    @property
    def visibility(self) -> str | None:
        value = self.raw.get("x-ms-visibility")
        return str(value) if value is not None else None


@dataclass
class Operation:
    swagger: Swagger
    path: str
    method: str
    raw: dict[str, Any]
    path_item: dict[str, Any]
    pointer: str

    @property
    def operation_id(self) -> str | None:
        value = self.raw.get("operationId")
        return str(value) if value is not None else None

    @property
    def summary(self) -> str | None:
        value = self.raw.get("summary")
        return str(value) if value is not None else None

    def _parameter_list(self, node: Any, pointer: str) -> list[Parameter]:
        out = []
        if isinstance(node, list):
            for index, entry in enumerate(node):
                target, where = self.swagger.deref(entry, pointer_join(pointer, index))
                if isinstance(target, dict):
                    out.append(Parameter(target, where))
        return out

    @cached_property
    def parameters(self) -> list[Parameter]:
        """Path-level parameters merged with the operation's; the operation's win per (name, in)."""
        path_pointer = self.pointer.rsplit("/", 1)[0]
        inherited = self._parameter_list(self.path_item.get("parameters"), path_pointer + "/parameters")
        own = self._parameter_list(self.raw.get("parameters"), self.pointer + "/parameters")
        keys = {(p.name, p.location) for p in own}
        return [p for p in inherited if (p.name, p.location) not in keys] + own

    @property
    def responses(self) -> dict[str, Any]:
        responses = self.raw.get("responses")
        return responses if isinstance(responses, dict) else {}

    @property
    def trigger(self) -> str | None:
        """``single`` or ``batch`` when the operation is a trigger (``x-ms-trigger``)."""
        value = self.raw.get("x-ms-trigger")
        return str(value).lower() if value is not None else None

    @property
    def is_trigger(self) -> bool:
        return self.trigger is not None

    @property
    def trigger_kind(self) -> str | None:
        """``webhook`` when the trigger registers a callback URL, else ``polling``.

        The callback URL is marked ``x-ms-notification-url`` either on a parameter or, as most
        real connectors do, on a property of the body parameter's schema.
        """
        if not self.is_trigger:
            return None
        for param in self.parameters:
            if param.raw.get("x-ms-notification-url") is True:
                return "webhook"
            if param.location == "body" and self._schema_has_notification_url(param.raw.get("schema"), set()):
                return "webhook"
        return "polling"

    def _schema_has_notification_url(self, schema: Any, seen: set[str]) -> bool:
        if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            ref = schema["$ref"]
            if ref in seen:
                return False
            seen.add(ref)
            schema = self.swagger.resolve(ref)
        if not isinstance(schema, dict):
            return False
        if schema.get("x-ms-notification-url") is True:
            return True
        children: list[Any] = []
        properties = schema.get("properties")
        if isinstance(properties, dict):
            children += properties.values()
        for key in ("allOf", "items"):
            value = schema.get(key)
            children += value if isinstance(value, list) else [value]
        return any(self._schema_has_notification_url(child, seen) for child in children)


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    raw: dict[str, Any]
    pointer: str

    @property
    def type(self) -> str:
        return str(self.raw.get("type", ""))

    @property
    def flow(self) -> str | None:
        value = self.raw.get("flow")
        return str(value) if value is not None else None

    @property
    def location(self) -> str | None:
        value = self.raw.get("in")
        return str(value) if value is not None else None

    @property
    def parameter_name(self) -> str | None:
        value = self.raw.get("name")
        return str(value) if value is not None else None

    @property
    def authorization_url(self) -> str | None:
        value = self.raw.get("authorizationUrl")
        return str(value) if value else None

    @property
    def token_url(self) -> str | None:
        value = self.raw.get("tokenUrl")
        return str(value) if value else None

    @property
    def scopes(self) -> list[str]:
        scopes = self.raw.get("scopes")
        return [str(s) for s in scopes] if isinstance(scopes, dict) else []
