"""``RunHeader``: the column titles above a ``RunTable``, aligned at paint time."""

from __future__ import annotations

from textual.widget import Widget

from tui.widgets.run_table import RunTable


class RunHeader(Widget):
    """Asks its table for the titles whenever it paints, so widths always agree."""

    DEFAULT_CSS = """
    RunHeader {
        height: 1;
        background: $panel;
        color: $text-muted;
        text-style: bold;
    }
    """

    def __init__(self, table: RunTable, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table = table

    def render(self) -> str:
        width = self.table.scrollable_content_region.width or self.size.width
        return self.table.header(width)
