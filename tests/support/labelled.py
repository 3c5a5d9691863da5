"""Labelled data for the matcher tests (backtest, fit)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support import DATA


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def dataset(name: str) -> Path:
    """The labelled file ``name``; skipped (saying why) where the shared data folder is absent, but failed on
    CI, which has it: a quality floor that skips itself there proves nothing."""
    source = DATA / name / "docs.jsonl"
    if not source.exists():
        message = f"labelled data {source} is absent (the shared data folder sits beside the repository)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must provide it")
        pytest.skip(message)
    return source
