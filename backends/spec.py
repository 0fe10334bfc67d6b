"""Source spec strings: which ones name a local directory (kept import-free for CLI start-up)."""

from __future__ import annotations


def local_root(spec: str) -> str | None:
    """The directory a spec names when it is local (a path or ``file://``), else ``None``.

    Used wherever a command needs to know whether it may read files directly.
    """
    if spec.startswith("file://"):
        return spec[len("file://"):]
    return None if "://" in spec else spec
