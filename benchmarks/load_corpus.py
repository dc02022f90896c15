"""Reading every connector definition in the corpus: connectorkit's reader beside the stdlib.

Prints, measured side by side in one run (best of N):
- the stdlib's strict ``json.loads`` on the files it accepts (the floor: C speed, no repairs);
- connectorkit's ``load_json_bytes`` on the same files (the fast path plus duplicate-key check);
- connectorkit on all files, including the ones only the tolerant reader can read;
- the tolerant reader forced on every file with full position maps (what locating findings costs).

Usage: python benchmarks/load_corpus.py [CORPUS_DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from pathlib import Path

from connectorkit.definition.jsontext import decode, load_json_bytes, parse_tolerant
from connectorkit.errors import SourceError

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "connectors"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*/*/apiDefinition.swagger.json"))
    if not files:
        raise SystemExit(f"no definitions under {args.corpus}")
    raws = [(str(f), f.read_bytes()) for f in files]
    strict = []
    for name, raw in raws:
        try:
            json.loads(raw.decode("utf-8"))
            strict.append((name, raw))
        except (ValueError, UnicodeDecodeError):
            pass
    total_mb = sum(len(r) for _, r in raws) / 1e6
    strict_mb = sum(len(r) for _, r in strict) / 1e6

    def stdlib() -> None:
        for _, raw in strict:
            json.loads(raw)

    def ours_strict() -> None:
        for name, raw in strict:
            load_json_bytes(raw, name)

    def ours_all() -> None:
        for name, raw in raws:
            with contextlib.suppress(SourceError):
                load_json_bytes(raw, name)

    def tolerant_positions() -> None:
        for name, raw in raws:
            with contextlib.suppress(SourceError):
                parse_tolerant(decode(raw, name)[0], name)

    floor = best(stdlib, args.repeat)
    rows = [
        ("stdlib json.loads, strict files", len(strict), strict_mb, floor),
        ("connectorkit, strict files", len(strict), strict_mb, best(ours_strict, args.repeat)),
        ("connectorkit, all files", len(raws), total_mb, best(ours_all, args.repeat)),
        ("tolerant reader + positions, all", len(raws), total_mb, best(tolerant_positions, args.repeat)),
    ]
    print(f"{'reader':38} {'files':>5} {'MB':>6} {'seconds':>8} {'MB/s':>7} {'x stdlib':>8}")
    for label, count, mb, seconds in rows:
        print(f"{label:38} {count:5d} {mb:6.1f} {seconds:8.3f} {mb / seconds:7.1f} {seconds / floor:8.2f}")


if __name__ == "__main__":
    main()
