"""Validate every corpus connector with connectorkit and with openapi-spec-validator, in one run.

openapi-spec-validator is the structural Swagger 2.0 check most Python users would reach for. It
checks only the definition's structure; connectorkit runs every rule (structure, Microsoft's
Swagger Validator rules, certification, apiProperties, icon, docs, script) on the whole folder.

Each side runs in fresh processes, one after the other, so start-up is counted the same way.
Bytecode caching is left on for both (PYTHONDONTWRITEBYTECODE is removed from the children's
environment), as it is for any installed package. Three figures:

- ``connectorkit validate DIR``, the command as users run it (parallel over all cores);
- connectorkit in one process (``validate_one`` per connector), with its peak memory (max RSS);
- openapi-spec-validator in one process, with its peak memory.

Usage: python benchmarks/validate_corpus.py [CORPUS_DIR] [--repeat N] [--profile certified]
Needs: pip install -e '.[bench]'
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "connectors"

CONNECTORKIT = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    start = time.perf_counter()
    from connectorkit.lint.registry import Profile
    from connectorkit.lint.runner import Options, discover, validate_one
    targets = discover([Path(sys.argv[1])])
    results = [validate_one(t, Options(profile=Profile(sys.argv[2]), use_config=False)) for t in targets]
    seconds = time.perf_counter() - start
    findings = sum(len(r.findings) for r in results)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "targets": len(targets), "findings": findings, "rss_mb": rss}))
    """
)

SPEC_VALIDATOR = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    start = time.perf_counter()
    from openapi_spec_validator import validate
    from connectorkit.definition.jsontext import load_json_bytes
    checked = invalid = 0
    for path in sorted(Path(sys.argv[1]).glob("*/*/apiDefinition.swagger.json")):
        try:
            spec = load_json_bytes(path.read_bytes(), str(path)).value
        except Exception:
            continue
        checked += 1
        try:
            validate(spec)
        except Exception:
            invalid += 1
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "targets": checked, "findings": invalid, "rss_mb": rss}))
    """
)


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(code: str, *args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, env=ENV)
    data: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def measure_cli(corpus: Path, profile: str) -> float:
    command = [sys.executable, "-m", "connectorkit", "validate", str(corpus), "--profile", profile,
               "--format", "json", "--output", os.devnull]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=ENV)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"connectorkit validate failed: {done.stderr.strip()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the best is reported")
    parser.add_argument("--profile", default="certified")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"corpus not found: {args.corpus}")
    measure(CONNECTORKIT, str(args.corpus), args.profile)  # warm the bytecode cache
    cli = min(measure_cli(args.corpus, args.profile) for _ in range(args.repeat))
    ours = min((measure(CONNECTORKIT, str(args.corpus), args.profile) for _ in range(args.repeat)),
               key=lambda m: m["seconds"])  # fmt: skip
    theirs = min((measure(SPEC_VALIDATOR, str(args.corpus)) for _ in range(args.repeat)), key=lambda m: m["seconds"])
    cores = os.cpu_count() or 1
    rows = [
        (f"connectorkit validate DIR ({args.profile}, {cores} cores)", ours["targets"], cli, None),
        (f"connectorkit, one process ({args.profile})", ours["targets"], ours["seconds"], ours["rss_mb"]),
        ("openapi-spec-validator, one process", theirs["targets"], theirs["seconds"], theirs["rss_mb"]),
    ]
    print(f"{'run':48} {'targets':>7} {'seconds':>8} {'peak MB':>8} {'speed-up':>9}")
    for label, targets, seconds, rss in rows:
        peak = f"{rss:8.0f}" if rss is not None else f"{'-':>8}"
        print(f"{label:48} {targets:7.0f} {seconds:8.2f} {peak} {theirs['seconds'] / seconds:8.1f}x")
    print("targets: at least 10x faster than openapi-spec-validator; peak memory under 200 MB in one process")


if __name__ == "__main__":
    main()
