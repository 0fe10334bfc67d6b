"""``RunTable``: the virtual list of runs on the Runs & Quarantine pane."""

from __future__ import annotations

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

    def header(self, width: int) -> str:
        """The column titles, aligned with ``render_row`` at ``width``."""
        id_w, reason_w = self._widths(width)
        return f" {'STATE':<12}{'RUN ID':<{id_w}}{'REASON':<{reason_w}}UPDATED"

    @staticmethod
    def _widths(width: int) -> tuple[int, int]:
        rest = max(20, width - 1 - 12 - 22)
        id_w = max(12, min(34, rest // 2 + 2))
        return id_w, max(8, rest - id_w)

    def render_row(self, index: int, row: RunSummary, width: int) -> list[Segment]:
        id_w, reason_w = self._widths(width)
        state_style = self._style(_STATE_CLASS.get(row.state or "", "run-table--bad"))
        muted = self._style("run-table--muted")
        state = row.state or "⚠ UNREADABLE"
        if row.problem is not None:
            reason = row.problem.message if row.state is None else f"⚠ {row.problem.message}"
            reason_style = self._style("run-table--warn")
        else:
            reason, reason_style = row.reason_code or "-", (muted if not row.reason_code else None)
        return [
            Segment(" "),
            self.cell(state, 12, state_style),
            self.cell(row.run_id, id_w),
            self.cell(reason, reason_w, reason_style),
            self.cell((row.updated_at or "-").replace("T", " "), 22, muted),
        ]

    def _style(self, component: str) -> Style:
        return self.get_component_rich_style(component, partial=True)
