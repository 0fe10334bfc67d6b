"""driftdeck's data layer: sources and engines. Never imports Textual or ``tui``."""

from backends.errors import (
    DriftdeckError,
    ForbiddenError,
    MalformedError,
    NotFoundError,
    SourceSpecError,
    UnreadableError,
    UnsupportedError,
)
from backends.source import DataSource, open_source

__all__ = [
    "DataSource",
    "DriftdeckError",
    "ForbiddenError",
    "MalformedError",
    "NotFoundError",
    "SourceSpecError",
    "UnreadableError",
    "UnsupportedError",
    "open_source",
]
