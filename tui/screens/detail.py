"""``DetailScreen``: the pop-up every "details of one row" screen is built on."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

SCROLL_HINT = "j/k scroll · g/G top/bottom · esc to close"
"""The border subtitle of a detail box: the keys it answers."""


class DetailScreen(ModalScreen[None]):
    """A centred, bordered, scrollable box over the pane it was opened from.

    Subclasses compose a ``VerticalScroll`` holding their content and set its
    border title (``SCROLL_HINT`` as subtitle); their own ``DEFAULT_CSS`` may
    widen the box. The box takes the focus and answers the keyboard model's
    scroll keys; escape or ``q`` closes it.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("j,down", "scroll('down')", "Scroll down"),
        Binding("k,up", "scroll('up')", "Scroll up"),
        Binding("g,home", "scroll('home')", "Scroll to top"),
        Binding("G,end", "scroll('end')", "Scroll to bottom"),
        Binding("pagedown", "scroll('page_down')", "Page down", show=False),
        Binding("pageup", "scroll('page_up')", "Page up", show=False),
    ]

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

    def on_mount(self) -> None:
        box = self.query_one(VerticalScroll)
        box.can_focus = True
        box.focus()

    def action_scroll(self, where: str) -> None:
        """Scroll the box: ``down``, ``up``, ``home``, ``end``, ``page_down`` or ``page_up``."""
        box = self.query_one(VerticalScroll)
        {
            "down": box.scroll_down,
            "up": box.scroll_up,
            "home": box.scroll_home,
            "end": box.scroll_end,
            "page_down": box.scroll_page_down,
            "page_up": box.scroll_page_up,
        }[where](animate=False)
