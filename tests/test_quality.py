"""The tooling the ecosystem expects, run as part of the test suite so CI holds the line:
ruff (lint and format) on the whole tree, mypy --strict on the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(shutil.which("ruff") is None and run("ruff", "--version").returncode, reason="ruff not installed")
def test_ruff_lint_and_format() -> None:
    lint = run("ruff", "check", "monitor", "tests", "bench")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = run("ruff", "format", "--check", "monitor", "tests", "bench")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_strict() -> None:
    result = run("mypy", "monitor")
    assert result.returncode == 0, result.stdout + result.stderr
