"""List the pieces of ``monitor/`` that are too big to take in at once: modules over 400 lines and
functions over 50 (STYLE.md "small pieces"). Migrations and the generated prior table are left out.

    python tools/sizes.py            # every offender, longest first; exit 1 if there is any
    python tools/sizes.py PATH...    # only these files
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "monitor"
MAX_MODULE, MAX_FUNCTION = 400, 50
EXEMPT = ("migrations", "match_prior_table.py")


def offenders(paths: list[Path]) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for path in paths:
        if any(part in EXEMPT for part in path.parts):
            continue
        text = path.read_text(encoding="utf-8")
        rel = path.resolve().relative_to(PACKAGE.parent)
        lines = len(text.splitlines())
        if lines > MAX_MODULE:
            found.append((lines, f"{rel}: module of {lines} lines"))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION:
                    found.append((length, f"{rel}:{node.lineno}: {node.name} is {length} lines"))
    return sorted(found, reverse=True)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(PACKAGE.rglob("*.py"))
    found = offenders(paths)
    for _, line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
