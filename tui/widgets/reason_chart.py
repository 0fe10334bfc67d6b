"""``ReasonChart``: counts per reason code as a horizontal bar chart."""

from __future__ import annotations

from collections import Counter

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive

from tui.theme_style import theme_style
from textual.widget import Widget

BAR_CHARS = " ▏▎▍▌▋▊▉█"


def bar(value: int, maximum: int, width: int) -> str:
    """A bar of eighth-cell precision: ``value`` of ``maximum`` over ``width`` cells."""
    if maximum <= 0 or width <= 0:
        return ""
    eighths = round(value / maximum * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (BAR_CHARS[part] if part else "")


class ReasonChart(Widget):
    """Bars of how many shown runs carry each reason code, largest first."""

    DEFAULT_CSS = """
    ReasonChart {
        height: auto;
        padding: 0 1;
    }
    """

    counts: reactive[tuple[tuple[str, int], ...]] = reactive(())
    """``(reason_code, count)`` pairs, largest first."""

    selected: reactive[str | None] = reactive(None)
    """The reason code currently used as a filter, drawn highlighted."""

    def set_counts(self, counter: Counter[str]) -> None:
        """Show ``counter`` (reason code -> runs)."""
        counts = tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))
        if counts != self.counts:
            relayout = len(counts) != len(self.counts)
            self.counts = counts
            if relayout:
                self.refresh(layout=True)

    def render(self) -> Table | Text:
        if not self.counts:
            return Text("no reason codes among the runs shown", style="italic")
        maximum = self.counts[0][1]
        count_width = len(str(maximum))
        width = self.content_size.width
        label_width = min(max(len(code) for code, _ in self.counts), max(8, width - count_width - 8))
        bar_width = max(3, width - label_width - count_width - 2)
        table = Table.grid(padding=(0, 1, 0, 0))
        table.add_column(width=label_width, no_wrap=True, overflow="ellipsis")
        table.add_column(width=bar_width, no_wrap=True)
        table.add_column(justify="right", width=count_width)
        accent = theme_style(self.app, "bold $text-accent")
        primary = theme_style(self.app, "$text-primary")
        for code, count in self.counts:
            style = accent if code == self.selected else ""
            table.add_row(Text(code, style=style), Text(bar(count, maximum, bar_width), style=primary), str(count))
        return table
