"""``LiveStats``: the Live pane's side panel: counters, rate sparkline, churn, latency."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline, Static

from backends.events.model import CHANGE_TYPES
from backends.events.stats import StatsSnapshot, latency_labels
from tui.theme_style import theme_style

TYPE_STYLE = {
    "created": "$text-success",
    "modified": "$text-primary",
    "deleted": "$text-error",
    "moved": "$text-secondary",
    "closed": "$text-accent",
}
"""Colour of each event type in the pane's side panel and its detail screen (see ``theme_style``)."""


class LiveStats(Vertical):
    """Per-type counters, events/s sparkline, top churning paths and latency buckets."""

    DEFAULT_CSS = """
    LiveStats {
        padding: 0 1;
        background: $panel;
    }
    LiveStats > .live-stats--title {
        text-style: bold;
        color: $text-accent;
        margin-top: 1;
    }
    LiveStats > Sparkline {
        height: 3;
        margin: 0 0;
    }
    LiveStats > #live-rate-line { color: $text-muted; }
    """

    SPARK_SECONDS = 40

    _shown: tuple[StatsSnapshot, frozenset[str]] | None = None

    def on_mount(self) -> None:
        # The counters carry the theme's colours as Rich styles: drawn again when the theme changes.
        self.app.theme_changed_signal.subscribe(self, self._redraw)

    def _redraw(self, _theme: object) -> None:
        if self._shown is not None:
            self.show(*self._shown)

    def compose(self) -> ComposeResult:
        yield Label("Events by type", classes="live-stats--title")
        yield Static("", id="live-counters")
        yield Label("Events per second", classes="live-stats--title")
        yield Sparkline([0] * self.SPARK_SECONDS, id="live-spark")
        yield Static("", id="live-rate-line")
        yield Label("Top churning paths", classes="live-stats--title")
        yield Static("", id="live-top")
        yield Label("Write → receipt latency", classes="live-stats--title")
        yield Static("", id="live-latency")

    def show(self, snap: StatsSnapshot, enabled: frozenset[str]) -> None:
        """Draw a snapshot; ``enabled`` marks which types are subscribed."""
        self._shown = (snap, enabled)
        counters = Table.grid(padding=(0, 1))
        counters.add_column(no_wrap=True)
        counters.add_column(justify="right", no_wrap=True)
        counters.add_column(no_wrap=True)
        counters.add_column(justify="right", no_wrap=True)
        cells: list[Text] = []
        for kind in CHANGE_TYPES:
            on = kind in enabled
            label = Text(("■ " if on else "□ ") + kind.replace("closed_no_write", "closed-nw"), style=theme_style(self.app, TYPE_STYLE.get(kind, "") if on else "$text-muted"))
            cells.extend([label, Text(f"{snap.by_type.get(kind, 0):,}")])
        cells.extend([Text("total", style="bold"), Text(f"{snap.total:,}", style="bold")])
        for i in range(0, len(cells), 4):
            row = cells[i : i + 4]
            counters.add_row(*row, *([Text("")] * (4 - len(row))))
        self.query_one("#live-counters", Static).update(counters)
        self.query_one("#live-spark", Sparkline).data = list(snap.series) or [0]
        self.query_one("#live-rate-line", Static).update(
            f"{snap.rate:,}/s now · peak {snap.peak_rate:,}/s · last {len(snap.series)} s"
        )
        top = Text()
        for path, count in snap.top_paths[:6]:
            top.append(f"{count:>7,} ", style="bold")
            top.append(_tail(path, 34) + "\n")
        self.query_one("#live-top", Static).update(top if snap.top_paths else Text("none yet", style=theme_style(self.app, "italic $text-muted")))
        latency = Text()
        if snap.latency_p50_ms is None:
            latency.append("no file writes measured yet", style=theme_style(self.app, "italic $text-muted"))
        else:
            latency.append(f"p50 {snap.latency_p50_ms:.1f} ms · p95 {snap.latency_p95_ms:.1f} ms\n")
            peak = max(snap.latency_buckets) or 1
            for bucket, count in zip(latency_labels(), snap.latency_buckets, strict=True):
                bar = "█" * max(1 if count else 0, round(14 * count / peak))
                latency.append(f"{bucket:>9} {bar:<14} {count:,}\n")
        self.query_one("#live-latency", Static).update(latency)


def _tail(path: str, width: int) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1) :]
