"""``news-monitor --help``, ``version`` and a config error answer without loading the database layer: the
service layer (SQLAlchemy, httpx, feedparser) loads with the command that needs it (reader's
test_lazy_imports)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "httpx", "feedparser", "monitor.store", "monitor.service")


def test_importing_the_cli_loads_no_service_layer() -> None:
    code = f"import sys, monitor.cli; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
