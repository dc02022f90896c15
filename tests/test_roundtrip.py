"""Round trip through an independent converter: Swagger 2.0 -> OpenAPI 3 (swagger2openapi) -> back.

Every Swagger 2.0 definition of ``../shared/corpus`` is converted to OpenAPI 3.0 by the
``swagger2openapi`` npm package (installed here on first use, skipped with a reason when npm or
the registry is unavailable), then imported back by connectorkit. Operations, parameters and
parameter types must match the original; the differences that remain are the documented losses
listed in ``KNOWN_LOSSES``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from connectorkit.authoring.convert import ConvertOptions, convert
from connectorkit.authoring.source import read_spec
from connectorkit.definition.package import ConnectorPackage
from connectorkit.definition.swagger import Swagger
from connectorkit.errors import ConnectorkitError

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "connectors"
NODE_DIR = ROOT / ".cache" / "node"
CONVERTER = "swagger2openapi@7.0.8"

SCRIPT = r"""
const fs = require('fs');
const path = require('path');
const s2o = require('swagger2openapi');
const [inputDir, outputDir] = process.argv.slice(2);
const names = JSON.parse(fs.readFileSync(path.join(inputDir, 'index.json'), 'utf8'));
(async () => {
  const failures = {};
  for (const name of names) {
    const swagger = JSON.parse(fs.readFileSync(path.join(inputDir, name + '.json'), 'utf8'));
    try {
      const result = await s2o.convertObj(swagger, {patch: true, warnOnly: true, resolve: false});
      fs.writeFileSync(path.join(outputDir, name + '.json'), JSON.stringify(result.openapi));
    } catch (e) {
      failures[name] = String(e && e.message || e);
    }
  }
  fs.writeFileSync(path.join(outputDir, 'failures.json'), JSON.stringify(failures));
})();
"""

# Documented losses (not compared): the request body's parameter name (OpenAPI 3 has none; it
# comes back as "body"), and a body on a GET operation, which the converter drops on purpose
# because the platform rejects it (BodyOrFormDataParameterInFetchOperationNotAllowed; DocuSign).

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"connector corpus not found at {CORPUS}")


@cache
def _converter() -> Path:
    module = NODE_DIR / "node_modules" / "swagger2openapi"
    if not module.is_dir():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed; cannot install swagger2openapi")
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--silent", CONVERTER],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not module.is_dir():
            pytest.skip(f"could not install {CONVERTER}: {done.stderr.strip()[:200]}")
    return module


def _name(folder: Path) -> str:
    return f"{folder.parent.name}__{folder.name}".replace(" ", "_")


@cache
def _openapi_versions(tmp: Path) -> dict[str, Path]:
    """Every loadable corpus definition converted by swagger2openapi, by connector name."""
    _converter()
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    inputs, outputs = tmp / "in", tmp / "out"
    inputs.mkdir()
    outputs.mkdir()
    names = []
    for folder in sorted(p.parent for p in CORPUS.glob("*/*/apiDefinition.swagger.json")):
        try:
            package = ConnectorPackage.load(folder)
        except ConnectorkitError:
            continue
        name = _name(folder)
        (inputs / f"{name}.json").write_text(json.dumps(package.definition))
        names.append(name)
    (inputs / "index.json").write_text(json.dumps(names))
    script = tmp / "convert.js"
    script.write_text(SCRIPT)
    env_path = str(NODE_DIR / "node_modules")
    done = subprocess.run([node, str(script), str(inputs), str(outputs)], capture_output=True, text=True,
                          timeout=600, check=False, env={"NODE_PATH": env_path, "PATH": str(Path(node).parent)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return {name: outputs / f"{name}.json" for name in names if (outputs / f"{name}.json").exists()}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _openapi_versions(tmp_path_factory.mktemp("roundtrip"))


def _shape(swagger: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (method, path): non-body parameters with their type, and whether a body is sent."""
    shape: dict[tuple[str, str], dict[str, Any]] = {}
    for op in Swagger(swagger).operations():
        params = {}
        body = False
        for param in op.parameters:
            if param.location in ("body", "formData"):
                body = True
                continue
            params[(param.name, param.location)] = param.raw.get("type")
        shape[(op.method, op.path)] = {"params": params, "body": body}
    return shape


def test_round_trip_keeps_operations_parameters_and_types(converted: dict[str, Path]) -> None:
    assert len(converted) > 100, "swagger2openapi converted too few connectors to mean anything"
    problems: list[str] = []
    for name, openapi_file in sorted(converted.items()):
        category = name.partition("__")[0]
        original = ConnectorPackage.load(next(p for p in CORPUS.glob(f"{category}/*")
                                              if _name(p) == name)).definition  # fmt: skip
        try:
            back, _report = convert(read_spec(str(openapi_file)), ConvertOptions(enrich=False))
        except ConnectorkitError as exc:
            problems.append(f"{name}: import failed: {exc}")
            continue
        before, after = _shape(original), _shape(back.swagger)
        missing = sorted(set(before) - set(after))
        if missing:
            problems.append(f"{name}: operations lost: {missing[:3]}")
        for key in set(before) & set(after):
            if before[key]["params"].keys() != after[key]["params"].keys():
                lost = sorted(set(before[key]["params"]) ^ set(after[key]["params"]))
                problems.append(f"{name} {key}: parameters differ: {lost[:4]}")
                continue
            for param, kind in before[key]["params"].items():
                if kind is not None and after[key]["params"][param] != kind:
                    problems.append(f"{name} {key} {param}: type {kind} came back as {after[key]['params'][param]}")
            get_body_dropped = key[0] == "get" and before[key]["body"] and not after[key]["body"]
            if before[key]["body"] != after[key]["body"] and not get_body_dropped:
                problems.append(f"{name} {key}: body {'lost' if before[key]['body'] else 'added'}")
    assert problems == [], f"{len(problems)} differences:\n" + "\n".join(problems[:40])
