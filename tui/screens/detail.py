"""``DetailScreen``: the pop-up every "details of one row" screen is built on."""

from __future__ import annotations

from textual.screen import ModalScreen


class DetailScreen(ModalScreen[None]):
    """A centred, bordered, scrollable box over the pane it was opened from.

    Subclasses compose a ``VerticalScroll`` holding their content and set its
    border title; their own ``DEFAULT_CSS`` may widen the box.
    """

    DEFAULT_CSS = """
    DetailScreen { align: center middle; }
    DetailScreen > VerticalScroll {
        width: 100;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """
