"""How every benchmark runs ``driftdeck``: the installed console script, measured as users run it.

``prepare()`` makes the measured processes match a normal install: pip
compiles a package's bytecode when it installs it, so a command does not
recompile driftdeck on every start. Development machines often set
``PYTHONDONTWRITEBYTECODE`` (this one does), which would charge every run for
compiling each module it imports; ``prepare`` drops it for the commands run
from here and compiles the package once. It also says when driftdeck is an
editable install of the "strict" kind, whose import hook costs each start a
few milliseconds that a normal install (``pip install .``) does not pay.
"""

from __future__ import annotations

import compileall
import glob
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def driftdeck_command() -> list[str]:
    """The ``driftdeck`` console script next to this interpreter, else ``python -m tui.cli``."""
    script = Path(sys.executable).parent / "driftdeck"
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "tui.cli"]


def prepare() -> None:
    """Bytecode compiled and kept, as after ``pip install``; a note if the install adds start-up cost."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    for package in ("backends", "tui"):
        compileall.compile_dir(str(ROOT / package), quiet=1)
    site = Path(sys.executable).parent.parent / "lib"
    if glob.glob(str(site / "python*" / "site-packages" / "__editable___driftdeck*finder.py")):
        print("note: driftdeck is an editable install with an import hook (adds ~9 ms to every start); "
              "`pip install -e . --config-settings editable_mode=compat` or `pip install .` measures what users run",
              file=sys.stderr)
