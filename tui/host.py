"""``DeckHost``: what panes and screens read of the app (its one data source and that source's name).

Widgets know their app only as a Textual ``App``; ``deck_host(self.app)`` gives the
typed view of it without importing ``tui.app`` (which imports every pane).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from backends.source import DataSource


@runtime_checkable
class DeckHost(Protocol):
    """The attributes ``DriftdeckApp`` offers its panes and screens."""

    source: DataSource
    source_label: str


def deck_host(app: object) -> DeckHost:
    """``app`` as a ``DeckHost``.

    Raises:
        TypeError: When the app offers no data source (a widget mounted in another app).
    """
    if not isinstance(app, DeckHost):
        raise TypeError(f"{type(app).__name__} is not a driftdeck app: it has no source and source_label")
    return app
