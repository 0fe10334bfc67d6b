"""driftdeck's data layer: sources and engines. Never imports Textual or ``tui``.

``DataSource`` and ``open_source`` load on first use, so that importing one
engine (``backends.checksums``, say) costs a CLI command nothing more.
"""

from backends.errors import (
    DriftdeckError,
    ForbiddenError,
    MalformedError,
    NotFoundError,
    SourceSpecError,
    UnreadableError,
    UnsupportedError,
)

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


def __getattr__(name: str) -> object:
    if name in ("DataSource", "open_source"):
        from backends import source

        return getattr(source, name)
    raise AttributeError(f"module 'backends' has no attribute {name!r}")
