"""Typed errors raised by data sources and engines.

Every error carries a one-line, user-facing message that names the path (and
line, where one is known). The CLI prints ``str(error)`` and exits 2; the TUI
shows it as a notification. No caller needs a traceback to understand it.
"""

from __future__ import annotations

import errno


class DriftdeckError(Exception):
    """Base class of every error a source or engine raises on purpose."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path

    @property
    def message(self) -> str:
        """The one-line message."""
        return str(self)


class NotFoundError(DriftdeckError):
    """A run, artifact, file or source does not exist."""


class ForbiddenError(DriftdeckError):
    """A path resolves outside the source root, or access was refused."""


class UnreadableError(DriftdeckError):
    """A file exists but cannot be read (permission, I/O error, symlink loop)."""


class UnsupportedError(DriftdeckError):
    """The source does not offer this capability."""


class SourceSpecError(DriftdeckError):
    """A source spec string names nothing a source can open."""


class MalformedError(DriftdeckError):
    """A file's content does not parse; names the file and the line.

    Args:
        path: Path of the offending file, as the user knows it.
        line: 1-based line number, or ``None`` when the problem is file-wide.
        reason: What is wrong, without the location.
    """

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}", path=path)
        self.line = line
        self.reason = reason


class UnavailableError(DriftdeckError):
    """A remote source cannot be reached or failed (connection refused, 5xx)."""


class StalledError(UnavailableError):
    """A remote source stopped making progress: a response or a line it started
    did not complete within the client's deadline (a byte drip, a stuck proxy)."""


class AuthError(ForbiddenError):
    """A remote source refused the credentials (HTTP 401)."""


def os_reason(exc: OSError) -> str:
    """A short, human reason for an ``OSError`` (names symlink loops and directories)."""
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    if exc.errno == errno.EISDIR:
        return "is a directory"
    return exc.strerror or str(exc)
