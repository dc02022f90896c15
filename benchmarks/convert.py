"""Conversion speed and memory on the largest specs, and on a synthetic 5 MB spec.

Prints, for each input, the wall time of ``convert`` (read, bundle, convert, enrich, budgets,
each measured in a fresh process so imports and caches start cold) and its peak memory (max RSS):

- the largest single-file spec in ../shared/specs (Discord, OpenAPI 3.1, 1.2 MB);
- the largest multi-file spec (DigitalOcean, 2,850 YAML files);
- a synthetic OpenAPI 3.0 spec of at least 5 MB, made by repeating Twilio's paths under
  distinct prefixes. The target is under 10 seconds.

Each run selects operations as a user would to fit the platform's limits (the options are in
``runs`` below).

A spec that still breaks a platform limit after conversion ends with the budget's error; its time
covers the whole pipeline all the same, and the last column says so.

Usage: python benchmarks/convert.py [SPECS_DIR]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "specs"
DISCORD = "discord__discord-api-spec/specs/openapi.json"
DIGITALOCEAN = "digitalocean__openapi/specification/DigitalOcean-public.v2.yaml"
TWILIO = "twilio__twilio-oai/spec/yaml/twilio_messaging_v1.yaml"

RUN = textwrap.dedent(
    """
    import json, resource, sys, time
    start = time.perf_counter()
    from connectorkit.authoring.budget import BudgetOptions
    from connectorkit.authoring.convert import ConvertOptions, convert
    from connectorkit.authoring.source import read_spec
    from connectorkit.errors import ConnectorkitError
    result = {"operations": 0, "bytes": 0, "outcome": "ok"}
    try:
        budget = BudgetOptions(**{k: tuple(v) if isinstance(v, list) else v for k, v in json.loads(sys.argv[2]).items()})
        converted, report = convert(read_spec(sys.argv[1]), ConvertOptions(budget=budget))
        result["operations"] = report.operations
        result["bytes"] = len(json.dumps(converted.swagger, indent=4).encode())
    except ConnectorkitError as exc:  # over a platform limit: the time still counts the whole pipeline
        result["outcome"] = "over budget" if "platform allows" in str(exc) else "error"
    result["seconds"] = time.perf_counter() - start
    result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
    """
)


def measure(path: Path, budget: dict[str, Any]) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-c", RUN, str(path), json.dumps(budget)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{path}: {done.stderr.strip().splitlines()[-1]}")
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def synthetic(source: Path, target_bytes: int, folder: Path) -> Path:
    """An OpenAPI document of at least ``target_bytes``: ``source``'s paths repeated under prefixes."""
    from connectorkit.definition.documents import read_document

    spec = read_document(source).value
    paths = spec["paths"]
    big = dict(spec)
    big["paths"] = {}
    out = folder / "synthetic-openapi.json"
    index = 0
    while True:
        for path, item in paths.items():
            text = json.dumps(item).replace('"operationId": "', f'"operationId": "Copy{index}')
            big["paths"][f"/copy{index}{path}"] = json.loads(text)
        index += 1
        data = json.dumps(big, indent=2)
        if len(data) >= target_bytes:
            out.write_text(data, encoding="utf-8")
            return out


def main() -> None:
    specs = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not specs.is_dir():
        raise SystemExit(f"specs not found: {specs}")
    with tempfile.TemporaryDirectory() as tmp:
        big = synthetic(specs / TWILIO, 5 * 1024 * 1024, Path(tmp))
        runs = [
            ("Discord (OpenAPI 3.1, 1 file)", specs / DISCORD, {"include_paths": ["/applications*"]}),
            ("DigitalOcean (OpenAPI 3.0, 2,850 files)", specs / DIGITALOCEAN,
             {"exclude_tags": ["Apps", "GradientAI Platform"], "max_operations": 256}),
            (f"synthetic Twilio x{big.stat().st_size // 400_000} ({big.stat().st_size / 1e6:.1f} MB)", big,
             {"max_operations": 60}),
        ]  # fmt: skip
        print(f"{'input':42} {'seconds':>8} {'peak MB':>8} {'ops out':>8} {'bytes out':>10}  outcome")
        for label, path, budget in runs:
            m = measure(path, budget)
            print(
                f"{label:42} {m['seconds']:8.2f} {m['rss_mb']:8.0f} {m['operations']:8.0f} {m['bytes']:10.0f}  {m['outcome']}"
            )
    print("target: a 5 MB spec converts in under 10 seconds")


if __name__ == "__main__":
    main()
