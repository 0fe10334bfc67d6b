"""Run the real ``driftdeck`` command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def driftdeck_command() -> list[str]:
    """The installed console script, or the module if the script is not on disk."""
    script = Path(sys.executable).parent / "driftdeck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]


@pytest.fixture
def run_cli():
    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "NO_COLOR": "1"}
        env.pop("DRIFTDECK_DEBUG", None)
        return subprocess.run(
            [*driftdeck_command(), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
        )

    return run
