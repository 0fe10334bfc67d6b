"""Static checks run with the tests: ruff, mypy and the import-linter contracts.

Their configuration lives in ``pyproject.toml``; the tools come with the
``test`` extra, so a missing tool fails here rather than skipping (a check
that silently does not run is the thing these tests exist to prevent).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 600  # seconds: generous for a cold mypy run on a busy two-core machine

# pytest-timeout's default (pyproject) is shorter than a cold mypy run may take here.
pytestmark = pytest.mark.timeout(TIMEOUT + 60)


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, env=env)


def require_module(name: str) -> None:
    probe = run([sys.executable, "-c", f"import {name}"])
    if probe.returncode != 0:
        pytest.fail(f"{name} is not installed (it comes with the test extra: pip install -e '.[test]')\n{probe.stderr}")


def test_ruff_reports_nothing() -> None:
    require_module("ruff")
    result = run([sys.executable, "-m", "ruff", "check", "--no-fix", "--output-format", "concise", "."])
    assert result.returncode == 0, f"ruff check found problems:\n{result.stdout}{result.stderr}"


def test_mypy_reports_nothing() -> None:
    require_module("mypy")
    result = run([sys.executable, "-m", "mypy"])  # files and strictness: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, f"mypy found problems:\n{result.stdout}{result.stderr}"


def test_import_contracts_are_kept() -> None:
    script = Path(sys.executable).parent / "lint-imports"
    if not script.exists():
        pytest.fail(f"lint-imports is not installed next to {sys.executable} (it comes with the test extra: pip install -e '.[test]')")
    result = run([str(script), "--no-cache"])  # contracts: [tool.importlinter] in pyproject.toml
    assert result.returncode == 0, f"import-linter found broken contracts:\n{result.stdout}{result.stderr}"
    assert "0 broken" in result.stdout, result.stdout
