"""Validate every corpus connector with connectorkit and with openapi-spec-validator, in one run.

openapi-spec-validator is the structural Swagger 2.0 check most Python users would reach for. It
checks only the definition's structure; connectorkit runs every rule (structure, Microsoft's
Swagger Validator rules, certification, apiProperties, icon, docs, script) on the whole folder.

Each side runs in its own fresh process, so start-up and peak memory (max RSS) are measured
the same way. The processes run one after the other, never at the same time. The script prints
wall times, the ratio and peak memory.

Usage: python benchmarks/validate_corpus.py [CORPUS_DIR] [--repeat N] [--profile certified]
Needs: pip install -e '.[bench]'
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
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


def measure(code: str, *args: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    data: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the best is reported")
    parser.add_argument("--profile", default="certified")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        raise SystemExit(f"corpus not found: {args.corpus}")
    ours = min((measure(CONNECTORKIT, str(args.corpus), args.profile) for _ in range(args.repeat)),
               key=lambda m: m["seconds"])  # fmt: skip
    theirs = min((measure(SPEC_VALIDATOR, str(args.corpus)) for _ in range(args.repeat)), key=lambda m: m["seconds"])
    print(f"{'tool':44} {'targets':>7} {'seconds':>8} {'peak MB':>8}")
    print(f"{'connectorkit validate (all rules, ' + args.profile + ')':44} {ours['targets']:7.0f} "
          f"{ours['seconds']:8.2f} {ours['rss_mb']:8.0f}")  # fmt: skip
    print(f"{'openapi-spec-validator (structure only)':44} {theirs['targets']:7.0f} "
          f"{theirs['seconds']:8.2f} {theirs['rss_mb']:8.0f}")  # fmt: skip
    print(f"speed-up: {theirs['seconds'] / ours['seconds']:.1f}x  (target: at least 10x; peak memory target: < 200 MB)")


if __name__ == "__main__":
    main()
