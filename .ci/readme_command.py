"""Print one of the README's quickstart commands, so CI and tests run exactly what the README says.

Usage: python .ci/readme_command.py (install|test)
The README marks them with ``<!-- cmd:install -->`` / ``<!-- cmd:test -->`` before a ```bash block.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path


def command(name: str, readme: Path = Path(__file__).resolve().parents[1] / "README.md") -> str:
    text = readme.read_text(encoding="utf-8")
    m = re.search(rf"<!-- cmd:{re.escape(name)} -->\s*```(?:bash|sh|console)?\n(.*?)\n```", text, re.S)
    if not m:
        raise SystemExit(f"README.md has no <!-- cmd:{name} --> code block")
    lines = [ln.strip() for ln in m.group(1).strip().splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if len(lines) != 1:
        raise SystemExit(f"the {name} command in README.md must be exactly one line, found {len(lines)}")
    return lines[0]


if __name__ == "__main__":
    print(command(sys.argv[1] if len(sys.argv) > 1 else "test"))
