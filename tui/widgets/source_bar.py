"""``SourceBar``: the header: app name, the source, its connection state, a READ-ONLY badge."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from tui.host import deck_host


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
    SourceBar > #connection {
        padding: 0 1;
        color: $warning;
    }
    SourceBar > #connection.-connected {
        color: $success;
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
        yield Label("", id="connection")
        yield Label("READ-ONLY", id="read-only")

    def on_mount(self) -> None:
        source = getattr(self.app, "source", None)
        if hasattr(source, "state"):
            self._show_state()
            self.set_interval(0.5, self._show_state)
        else:
            self.query_one("#connection", Label).display = False

    def _show_state(self) -> None:
        """Show a remote source's connection state: connected / retrying in Ns / offline."""
        state = str(getattr(deck_host(self.app).source, "state", ""))  # remote sources say how their connection is
        label = self.query_one("#connection", Label)
        label.update(f"● {state}")
        label.set_class(state == "connected", "-connected")
