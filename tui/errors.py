"""How errors read on screen: one line, never a traceback."""

from __future__ import annotations

from backends.errors import DriftdeckError


def error_message(error: BaseException) -> str:
    """The one-line message of an error: ours as written, others prefixed with their type."""
    if isinstance(error, DriftdeckError):
        return str(error)
    return f"{type(error).__name__}: {error}"
