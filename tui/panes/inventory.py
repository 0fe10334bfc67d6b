"""``InventoryPane``: a pane that shows what the source holds for its engine.

Panes 2–5 share this shape: a one-line summary and a table, filled by a
worker from the data source, refreshed on demand (``R``) or on a timer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Label

from tui.panes.base import DeckPane
from tui.widgets.keyed_data_table import KeyedDataTable


class InventoryPane(DeckPane):
    """Summary line plus a table; subclasses implement ``collect``."""

    COLUMNS: ClassVar[tuple[str, ...]] = ()
    REFRESH_SECONDS: ClassVar[float | None] = None

    BINDINGS: ClassVar[list[BindingType]] = [Binding("R", "refresh_inventory", "Refresh")]

    def compose(self) -> ComposeResult:
        yield Label("reading the source…", classes="pane-summary")
        yield KeyedDataTable(self.COLUMNS, classes="inventory")

    def on_mount(self) -> None:
        self.action_refresh_inventory()
        if self.REFRESH_SECONDS:
            self.set_interval(self.REFRESH_SECONDS, self.action_refresh_inventory)

    def focus_main(self) -> None:
        self.query_one(KeyedDataTable).focus()

    def action_refresh_inventory(self) -> None:
        self._refresh_worker()

    @work(exclusive=True, group="inventory", exit_on_error=False)
    async def _refresh_worker(self) -> None:
        summary, rows = await self.collect()
        self.query_one(".pane-summary", Label).update(summary)
        self.query_one(KeyedDataTable).sync_rows(rows)

    async def collect(self) -> tuple[str, dict[str, tuple[Any, ...]]]:
        """Read the source: return the summary line and rows by key."""
        raise NotImplementedError


def plural(count: int, word: str) -> str:
    """``plural(1, "run")`` -> ``1 run``; ``plural(3, "run")`` -> ``3 runs``."""
    return f"{count:,} {word}" + ("" if count == 1 else "s")
