"""Conversion speed and memory on the largest specs, and on a synthetic 5 MB spec.

Prints, for each input, the wall time of ``convert`` (read, bundle, convert, enrich, budgets,
each measured in a fresh process so imports and caches start cold) and its peak memory (max RSS):

- the largest single-file spec in ../shared/specs (Discord, OpenAPI 3.1, 1.2 MB);
- the largest multi-file spec (DigitalOcean, 2,850 YAML files);
- a synthetic OpenAPI 3.0 spec of about 5 MB, made by repeating Discord's paths under distinct
  prefixes. The target is under 10 seconds.

Operations beyond the platform's 256 are cut with --max-operations so every run completes.

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

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "specs"
DISCORD = "discord__discord-api-spec/specs/openapi.json"
DIGITALOCEAN = "digitalocean__openapi/specification/DigitalOcean-public.v2.yaml"

RUN = textwrap.dedent(
    """
    import json, resource, sys, time
    start = time.perf_counter()
    from connectorkit.authoring.budget import BudgetOptions
    from connectorkit.authoring.convert import ConvertOptions, convert
    from connectorkit.authoring.source import read_spec
    converted, report = convert(read_spec(sys.argv[1]), ConvertOptions(budget=BudgetOptions(max_operations=256)))
    seconds = time.perf_counter() - start
    size = len(json.dumps(converted.swagger, indent=4).encode())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss, "operations": report.operations, "bytes": size}))
    """
)


def measure(path: Path) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", RUN, str(path)], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{path}: {done.stderr.strip().splitlines()[-1]}")
    data: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def synthetic(source: Path, target_bytes: int, folder: Path) -> Path:
    """An OpenAPI document of about ``target_bytes``: ``source``'s paths repeated under prefixes."""
    spec = json.loads(source.read_text(encoding="utf-8"))
    paths = spec["paths"]
    copies = max(1, target_bytes // max(1, len(json.dumps(spec))))
    big = dict(spec)
    big["paths"] = {}
    for index in range(copies + 1):
        for path, item in paths.items():
            item = json.loads(json.dumps(item).replace('"operationId": "', f'"operationId": "copy{index}_'))
            big["paths"][f"/copy{index}{path}"] = item
    out = folder / "synthetic-openapi.json"
    out.write_text(json.dumps(big), encoding="utf-8")
    return out


def main() -> None:
    specs = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    if not specs.is_dir():
        raise SystemExit(f"specs not found: {specs}")
    with tempfile.TemporaryDirectory() as tmp:
        big = synthetic(specs / DISCORD, 5 * 1024 * 1024, Path(tmp))
        runs = [
            ("Discord (OpenAPI 3.1, 1 file)", specs / DISCORD),
            ("DigitalOcean (OpenAPI 3.0, 2,850 files)", specs / DIGITALOCEAN),
            (f"synthetic ({big.stat().st_size / 1e6:.1f} MB, 1 file)", big),
        ]
        print(f"{'input':42} {'seconds':>8} {'peak MB':>8} {'ops out':>8} {'bytes out':>10}")
        for label, path in runs:
            m = measure(path)
            print(f"{label:42} {m['seconds']:8.2f} {m['rss_mb']:8.0f} {m['operations']:8.0f} {m['bytes']:10.0f}")
    print("target: a 5 MB spec converts in under 10 seconds")


if __name__ == "__main__":
    main()
