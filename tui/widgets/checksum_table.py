"""``ChecksumTable``: the virtual list of checksum entries on the Checksums pane."""

from __future__ import annotations

from typing import ClassVar, Sequence

from rich.segment import Segment
from rich.style import Style

from backends.checksums.models import ChecksumEntry
from tui.units import human_size
from tui.widgets.virtual_list import VirtualList

CATEGORY_CLASS = {
    "changed": "checksum-table--bad",
    "missing": "checksum-table--bad",
    "unreadable": "checksum-table--warn",
    "malformed": "checksum-table--warn",
    "duplicate": "checksum-table--warn",
    "moved": "checksum-table--moved",
    "new": "checksum-table--new",
    "alias": "checksum-table--muted",
    "ok": "checksum-table--ok",
}
"""Component class that colours each category."""


def entry_detail(entry: ChecksumEntry, prefix: str = "") -> str:
    """One line saying what is wrong with an entry (or its hash when ok)."""
    if entry.category == "changed":
        return f"expected {(entry.expected or '?')[:12]}  actual {(entry.actual or '?')[:12]}"
    if entry.category == "moved":
        return f"→ {entry.other.removeprefix(prefix) if entry.other else '?'}"
    if entry.category == "ok":
        return entry.actual or ""
    return entry.reason or ""


class ChecksumTable(VirtualList):
    """Entries as rows: category, manifest line, path, size, what is wrong."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | set(CATEGORY_CLASS.values())

    DEFAULT_CSS = """
    ChecksumTable > .checksum-table--bad { color: $error; text-style: bold; }
    ChecksumTable > .checksum-table--warn { color: $warning; }
    ChecksumTable > .checksum-table--moved { color: $accent; }
    ChecksumTable > .checksum-table--new { color: $primary; }
    ChecksumTable > .checksum-table--muted { color: $text-muted; }
    ChecksumTable > .checksum-table--ok { color: $success; }
    """

    prefix = ""
    """Directory of the manifest shown (``a/b/``): paths are drawn relative to it."""

    CATEGORY_WIDTH = 11
    LINE_WIDTH = 7
    SIZE_WIDTH = 10

    def set_rows(self, rows: Sequence[ChecksumEntry], *, cursor: int | None = None) -> None:
        cut = len(self.prefix)
        self._path_width = min(60, max((len(e.path) - cut for e in rows[:5000]), default=8) + 2)
        super().set_rows(rows, cursor=cursor)

    def _widths(self, width: int) -> tuple[int, int]:
        rest = max(20, width - 1 - self.CATEGORY_WIDTH - self.LINE_WIDTH - self.SIZE_WIDTH)
        path_w = min(getattr(self, "_path_width", 40), max(16, rest - 12))
        return path_w, max(8, rest - path_w)

    def header(self, width: int) -> str:
        """Column titles aligned with ``render_row`` at ``width``."""
        path_w, detail_w = self._widths(width)
        return (
            f" {'CATEGORY':<{self.CATEGORY_WIDTH}}{'LINE':>{self.LINE_WIDTH - 1}} "
            f"{'PATH':<{path_w}}{'SIZE':>{self.SIZE_WIDTH - 1}} DETAIL"
        )

    def render_row(self, index: int, row: ChecksumEntry, width: int) -> list[Segment]:
        path_w, detail_w = self._widths(width)
        style = self._style(CATEGORY_CLASS.get(row.category, "checksum-table--warn"))
        muted = self._style("checksum-table--muted")
        path = row.path.removeprefix(self.prefix).replace("\n", "\\n").replace("\r", "\\r")
        size = human_size(row.size) if row.size is not None else "-"
        return [
            Segment(" "),
            self.cell(row.category, self.CATEGORY_WIDTH, style),
            self.cell((str(row.line) if row.line is not None else "-").rjust(self.LINE_WIDTH - 1), self.LINE_WIDTH - 1, muted),
            Segment(" "),
            self.cell(path, path_w, middle=True),
            self.cell(size.rjust(self.SIZE_WIDTH - 1), self.SIZE_WIDTH - 1, muted),
            Segment(" "),
            self.cell(entry_detail(row, self.prefix).replace("\n", "\\n"), detail_w - 1, None if row.category == "ok" else style),
        ]

    def _style(self, component: str) -> Style:
        return self.row_style(component)
