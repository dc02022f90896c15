"""Shared test material: the bundled example, spec writers, and a CLI runner."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectorkit.cli.main import app
from connectorkit.definition.documents import read_document

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "petstore" / "swagger.json"
SHARED = ROOT.parent / "shared"
SCHEMAS = SHARED / "schemas"
CORPUS = SHARED / "corpus" / "connectors"

needs_schemas = pytest.mark.skipif(not SCHEMAS.is_dir(), reason=f"Microsoft's schemas not found at {SCHEMAS}")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"connector corpus not found at {CORPUS}")


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


class RecordingCli:
    """``run(*args, stdin=None)``: the CLI in-process, every result kept in ``runs`` so a test can
    check that no secret reached any output; ``leading`` arguments (``--debug``) go before each call's."""

    def __init__(self, *leading: str) -> None:
        self.runner = CliRunner()
        self.leading = leading
        self.runs: list[Run] = []

    def __call__(self, *args: object, stdin: str | None = None) -> Run:
        result = self.runner.invoke(app, [*self.leading, *(str(a) for a in args)], input=stdin)
        self.runs.append(Run(result.exit_code, result.stdout, result.stderr))
        return self.runs[-1]


@pytest.fixture
def cli() -> Callable[..., Run]:
    return RecordingCli()


@pytest.fixture
def petstore() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(EXAMPLE.read_text())
    return value


@pytest.fixture
def write_spec(tmp_path: Path, petstore: dict[str, Any]) -> Callable[..., Path]:
    """Write the example with other securityDefinitions (``None`` removes them)."""

    def write(security: dict[str, Any] | None, name: str = "spec.json", **top: Any) -> Path:
        doc = copy.deepcopy(petstore)
        if security is None:
            doc.pop("securityDefinitions", None)
            doc.pop("security", None)
        else:
            doc["securityDefinitions"] = security
            doc["security"] = [{next(iter(security)): []}]
        doc.update(top)
        path = tmp_path / name
        path.write_text(json.dumps(doc, indent=2))
        return path

    return write


def load_schema(name: str) -> dict[str, Any]:
    """Microsoft's schemas carry // comments; our tolerant reader strips them."""
    value: dict[str, Any] = read_document(SCHEMAS / name).value
    return value
