"""``WalProblemList``: the validation problems of one WAL file; enter jumps to the line."""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment

from backends.wal.validate import WalProblem
from tui.widgets.virtual_list import VirtualList


class WalProblemList(VirtualList):
    """Problems as rows: line, severity, code, message."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | {
        "wal-problem-list--error",
        "wal-problem-list--warning",
        "wal-problem-list--line",
    }

    DEFAULT_CSS = """
    WalProblemList { height: auto; max-height: 4; }
    WalProblemList > .wal-problem-list--error { color: $error; text-style: bold; }
    WalProblemList > .wal-problem-list--warning { color: $warning; }
    WalProblemList > .wal-problem-list--line { color: $text-muted; }
    """

    def render_row(self, index: int, row: WalProblem, width: int) -> list[Segment]:
        severity = self.row_style(f"wal-problem-list--{row.severity}")
        muted = self.row_style("wal-problem-list--line")
        return [
            self.cell(f"{row.line:>7} ", 8, muted),
            self.cell(row.code, 20, severity),
            Segment(row.message),
        ]
