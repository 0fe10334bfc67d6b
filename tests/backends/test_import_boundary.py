"""``backends`` never imports Textual or ``tui`` (the Harlequin rule)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

BACKENDS = Path(__file__).resolve().parents[2] / "backends"


def test_importing_every_backend_module_loads_no_textual() -> None:
    modules = sorted(
        ".".join(path.relative_to(BACKENDS.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in BACKENDS.rglob("*.py")
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui'))\n"
        "print(bad)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=BACKENDS.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_backend_source_mentions_textual_or_tui_imports() -> None:
    offenders = []
    for path in BACKENDS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("textual", "tui")]
    assert offenders == []
