"""``KeyedDataTable``: a ``DataTable`` that also answers j/k/g/G."""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class KeyedDataTable(DataTable[Any]):
    """A row-cursor table with the deck's vi-style movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    def __init__(self, columns: Sequence[str], **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._column_names = tuple(columns)

    def on_mount(self) -> None:
        self.add_columns(*self._column_names)

    def sync_rows(self, rows: dict[str, tuple[Any, ...]]) -> None:
        """Make the table hold exactly ``rows`` (key -> cells), touching only what changed.

        Rows keep their place and the cursor stays put; new keys are appended
        and vanished keys removed, all inside one batch update (as dolphie does).
        """
        columns = list(self.columns)
        with self.app.batch_update():
            for key in [k.value for k in list(self.rows) if k.value not in rows]:
                self.remove_row(key)
            for key, cells in rows.items():
                if key in self.rows:
                    for column, cell in zip(columns, cells):
                        if self.get_cell(key, column) != cell:
                            self.update_cell(key, column, cell)
                else:
                    self.add_row(*cells, key=key)
