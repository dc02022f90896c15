"""Extract Microsoft's validator rule texts from the reference notes into lint/catalogue.json.

The Swagger Validator table (section 2 of ../shared/reference/validator-rules.md) gives, per rule,
Microsoft's id, the exact message template, the documented fix and the source page. Rules read
their message from this file so the text users search for is exactly Microsoft's.

Usage: python scripts/build_catalogue.py [validator-rules.md]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "reference" / "validator-rules.md"
OUT = ROOT / "src" / "connectorkit" / "lint" / "catalogue.json"

SECTION = re.compile(r"^### 2\.\d+ (.+?) \(\d+ rules?\)")
ROW = re.compile(r"^\| `([A-Za-z]+)` \| ([^|]*) \| `(.*?)` \| (.*) \| \[[^\]]*\]\(([^)]+)\) \|\s*$")


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    section = None
    rules: dict[str, dict[str, str]] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        heading = SECTION.match(line)
        if heading:
            section = heading.group(1).lower()
            continue
        if line.startswith("## ") and not line.startswith("## 2."):
            section = None
        if section is None:
            continue
        row = ROW.match(line)
        if not row:
            continue
        rule_id, severity, message, check, url = row.groups()
        check_text, _, fix = check.partition("<br>*Doc fix:*")
        rules[rule_id] = {
            "section": section,
            "message": message,
            "severity": severity.strip(),
            "check": check_text.strip(),
            "fix": fix.strip(),
            "source": url,
        }
    OUT.write_text(json.dumps(rules, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(rules)} rules written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
