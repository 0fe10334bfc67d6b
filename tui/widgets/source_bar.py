"""``SourceBar``: the header: app name, the source being read, a READ-ONLY badge."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label


class SourceBar(Horizontal):
    """One line at the top of every screen naming what is being inspected."""

    DEFAULT_CSS = """
    SourceBar {
        height: 1;
        background: $panel;
        color: $foreground;
    }
    SourceBar > #app-name {
        padding: 0 1;
        background: $primary;
        color: $background;
        text-style: bold;
    }
    SourceBar > #source-label {
        padding: 0 1;
        width: 1fr;
    }
    SourceBar > #read-only {
        padding: 0 1;
        background: $success;
        color: $background;
        text-style: bold;
    }
    """

    def compose(self) -> ComposeResult:
        app = self.app
        yield Label("driftdeck", id="app-name")
        yield Label(f"source: {getattr(app, 'source_label', '?')}", id="source-label")
        yield Label("READ-ONLY", id="read-only")
