"""Where the TUI may write an exported report: wherever the user says, except the data root."""

from __future__ import annotations

import os

from backends.errors import ForbiddenError


def export_path(source: object, typed: str) -> str:
    """The absolute path for a report the user typed, refusing the source's own root.

    The app promises READ-ONLY: even a report the user asks for is never
    written under a local source's root (a remote source has no local root).

    Raises:
        ForbiddenError: When the path resolves inside the local source root.
    """
    path = os.path.abspath(os.path.expanduser(typed))
    root = getattr(source, "root", None)
    if getattr(source, "kind", None) == "local" and isinstance(root, str):
        real_root = os.path.realpath(root)
        real = os.path.realpath(path)
        if real == real_root or real.startswith(real_root.rstrip("/") + "/"):
            raise ForbiddenError(f"{typed}: refusing to write under the read-only source root", path=typed)
    return path
