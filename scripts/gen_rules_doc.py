"""Regenerate docs/rules.md from the rule registry: python scripts/gen_rules_doc.py"""

from pathlib import Path

from connectorkit.lint.docs import render_markdown

target = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
target.write_text(render_markdown(), encoding="utf-8")
print(f"wrote {target}")
