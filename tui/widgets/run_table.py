"""``RunTable``: the virtual list of runs on the Runs & Quarantine pane."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style

from backends.models import RunSummary
from tui.widgets.virtual_list import VirtualList

_STATE_CLASS = {
    "QUARANTINED": "run-table--bad",
    "FAILED": "run-table--bad",
    "WAITING": "run-table--warn",
    "PENDING": "run-table--warn",
    "RUNNING": "run-table--active",
    "READY": "run-table--ok",
}


class RunTable(VirtualList):
    """Runs as rows: state, id, reason code, last update; broken runs flagged."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | {
        "run-table--bad",
        "run-table--warn",
        "run-table--ok",
        "run-table--active",
        "run-table--muted",
    }

    DEFAULT_CSS = """
    RunTable > .run-table--bad { color: $error; text-style: bold; }
    RunTable > .run-table--warn { color: $warning; }
    RunTable > .run-table--ok { color: $success; }
    RunTable > .run-table--active { color: $primary; }
    RunTable > .run-table--muted { color: $text-muted; }
    """

    MARK_SCOPE = "runs"

    STATE_WIDTH = 13
    UPDATED_WIDTH = 17

    def set_rows(self, rows: Sequence[RunSummary], *, cursor: int | None = None) -> None:
        self._id_width: int = min(40, max((len(run.run_id) for run in rows[:5000]), default=6) + 1)
        super().set_rows(rows, cursor=cursor)

    def row_key(self, index: int, row: RunSummary) -> object:
        """Runs are frozen: a run's strip stays valid wherever it moves."""
        return (row, self._id_width)

    def header(self, width: int) -> str:
        """The column titles, aligned with ``render_row`` at ``width``."""
        id_w, reason_w = self._widths(width)
        return f" {'STATE':<{self.STATE_WIDTH}}{'RUN ID':<{id_w}}{'REASON':<{reason_w}}UPDATED (UTC)"

    def _widths(self, width: int) -> tuple[int, int]:
        rest = max(20, width - 1 - self.STATE_WIDTH - self.UPDATED_WIDTH)
        id_w = min(getattr(self, "_id_width", 28), max(12, rest - 8))  # the id before the reason: ids tell rows apart
        return id_w, max(8, rest - id_w)

    def render_row(self, index: int, row: RunSummary, width: int) -> list[Segment]:
        id_w, reason_w = self._widths(width)
        state_style = self._style(_STATE_CLASS.get(row.state or "", "run-table--bad"))
        muted = self._style("run-table--muted")
        state = row.state or "⚠ UNREADABLE"
        if row.problem is not None:
            reason = row.problem.message if row.state is None else f"⚠ {row.problem.message}"
            reason_style: Style | None = self._style("run-table--warn")
        else:
            reason, reason_style = row.reason_code or "-", (muted if not row.reason_code else None)
        updated = (row.updated_at or "-").replace("T", " ")[:16]
        return [
            Segment(" "),
            self.cell(state, self.STATE_WIDTH, state_style),
            self.cell(row.run_id, id_w, middle=True),
            self.cell(reason, reason_w - 1, reason_style),
            Segment(" "),
            self.cell(updated, self.UPDATED_WIDTH, muted),
        ]

    def mark_key(self, row: RunSummary) -> object:
        """A run is marked by its directory (unique per source)."""
        return row.key

    def _style(self, component: str) -> Style:
        return self.row_style(component)
