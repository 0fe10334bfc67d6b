"""``OutageLine``: what a pane or screen could not load because the source is unreachable, said in place."""

from __future__ import annotations

from typing import Callable

from textual.widget import Widget
from textual.widgets import Static


class OutageLine(Static):
    """One line at the top of a pane (or under a screen's header): what failed, and that it will be retried.

    Args:
        message: The error's one-line message.
        retry: Called once the source is reachable again (the line then goes away).
    """

    DEFAULT_CSS = """
    OutageLine {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $warning 25%;
        color: $text;
    }
    """

    def __init__(self, message: str, retry: Callable[[], None] | None = None) -> None:
        super().__init__(self.text_for(message, retry is not None))
        self.retries: list[Callable[[], None]] = [retry] if retry is not None else []

    def add(self, message: str, retry: Callable[[], None] | None) -> None:
        """Another failure while the source is unreachable: the latest message, every retry once."""
        if retry is not None and retry not in self.retries:
            self.retries.append(retry)
        self.update(self.text_for(message, bool(self.retries)))

    @staticmethod
    def text_for(message: str, retried: bool) -> str:
        then = "loads again once the source is back" if retried else "the header shows when the source is back"
        return f"⚠ not loaded ({then}): {message}"

    def source_back(self) -> None:
        """The source answers again: retry what failed and go away."""
        self.remove()
        for retry in self.retries:
            retry()


def show_outage(container: Widget, message: str, retry: Callable[[], None] | None = None, *, after: Widget | None = None) -> None:
    """Say in ``container`` that something could not be loaded (one line, updated if already there).

    Args:
        container: The pane or screen whose request failed.
        message: The error's one-line message.
        retry: What to run once the source is back.
        after: Put the line after this child (a screen's header); default: first.
    """
    for line in container.query_children(OutageLine):
        line.add(message, retry)
        return
    line = OutageLine(message, retry)
    if after is not None:
        container.mount(line, after=after)
    else:
        container.mount(line, before=0)
