"""``WalPairList``: record and replay side by side, aligned, divergent rows marked.

Rows are row numbers of an :class:`~backends.wal.alignment.Alignment`; the
lines themselves come from two LRU caches that the pane fills from the data
source. A line not fetched yet is drawn as ``…`` and listed in ``missing``,
which the pane polls to fetch just what is on screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache

from backends.wal.alignment import AlignedRow, Alignment
from backends.wal.diff import WalDivergence
from backends.wal.lines import WalLine
from tui.widgets.virtual_list import VirtualList

MARKS = {"changed": "≠", "missing": "−", "extra": "+", "malformed": "!", "torn": "✂"}
"""Gutter mark of each kind of divergence."""
_KIND_CLASS = {
    "changed": "wal-pair-list--changed",
    "missing": "wal-pair-list--missing",
    "extra": "wal-pair-list--extra",
    "malformed": "wal-pair-list--bad",
    "torn": "wal-pair-list--bad",
}
CACHE_LINES = 4096
"""Lines of each file kept in memory for drawing."""


class WalPairList(VirtualList):
    """Aligned rows: line, id, kind and payload of the record (left) and the replay (right)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | {
        "wal-pair-list--line",
        "wal-pair-list--kind",
        "wal-pair-list--changed",
        "wal-pair-list--missing",
        "wal-pair-list--extra",
        "wal-pair-list--bad",
        "wal-pair-list--absent",
        "wal-pair-list--diverged",
    }

    DEFAULT_CSS = """
    WalPairList > .wal-pair-list--line { color: $text-muted; }
    WalPairList > .wal-pair-list--kind { color: $primary; }
    WalPairList > .wal-pair-list--changed { color: $warning; text-style: bold; }
    WalPairList > .wal-pair-list--missing { color: $error; text-style: bold; }
    WalPairList > .wal-pair-list--extra { color: $success; text-style: bold; }
    WalPairList > .wal-pair-list--bad { color: $error; text-style: bold; }
    WalPairList > .wal-pair-list--absent { color: $text-muted; text-style: italic; }
    WalPairList > .wal-pair-list--diverged { background: $warning 12%; }
    """

    MARK_SCOPE = "wal"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l,right", "shift(1)", "Scroll right", show=False),
        Binding("h,left", "shift(-1)", "Scroll left", show=False),
    ]

    LINE_WIDTH = 7
    ID_WIDTH = 6
    KIND_WIDTH = 19

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.alignment = Alignment()
        self.has_replay = True
        self.record_cache: LRUCache[int, WalLine] = LRUCache(CACHE_LINES)
        self.replay_cache: LRUCache[int, WalLine] = LRUCache(CACHE_LINES)
        self.missing: dict[str, set[int]] = {"record": set(), "replay": set()}

    def reset(self, alignment: Alignment, *, has_replay: bool) -> None:
        """Show another pair: forget the cached lines."""
        self.shift = 0
        self.alignment = alignment
        self.has_replay = has_replay
        self.record_cache.clear()
        self.replay_cache.clear()
        self.missing = {"record": set(), "replay": set()}
        self.set_rows(range(0), cursor=0)

    def store(self, side: str, lines: list[WalLine]) -> None:
        """Keep fetched lines and repaint."""
        cache = self.record_cache if side == "record" else self.replay_cache
        for line in lines:
            cache[line.line] = line
        self.invalidate()

    def row_at(self, index: int) -> AlignedRow | None:
        """The aligned row shown at list index ``index``."""
        if not 0 <= index < len(self.rows):
            return None
        return self.alignment.at(self.rows[index])

    def visible_indexes(self) -> range:
        """List indexes on screen (plus a screenful either side, to prefetch)."""
        height = max(1, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        return range(max(0, top - height), min(len(self.rows), top + 2 * height))

    def mark_key(self, row: int) -> object:
        """A row is marked by its pair (``mark_scope``) and its two line numbers (row numbers move as divergences arrive)."""
        aligned = self.alignment.at(row)
        return (self.mark_scope, aligned.record_line, aligned.replay_line)

    def mark_column(self, width: int) -> int:
        """The blank before the middle bar: the first cell carries the divergence mark."""
        return 1 + max(10, (width - 3) // 2)

    # Drawing -------------------------------------------------------------------------

    def longest_text(self, row: int) -> int:
        aligned = self.alignment.at(row)
        lines = (self.record_cache.get(aligned.record_line or -1), self.replay_cache.get(aligned.replay_line or -1))
        return max((len(line.summary) for line in lines if line is not None), default=0)

    def _style(self, component: str) -> Style:
        return self.row_style(component)

    def render_row(self, index: int, row: int, width: int) -> list[Segment]:
        aligned = self.alignment.at(row)
        divergence = aligned.divergence
        half = max(10, (width - 3) // 2)
        if divergence is not None:
            style = self._style(_KIND_CLASS[divergence.kind]) + Style(reverse=True)
            gutter = Segment(MARKS[divergence.kind], style)
        else:
            gutter = Segment(" ")
        left = self._half(aligned.record_line, "record", half, divergence)
        right = self._half(aligned.replay_line, "replay", half, divergence) if self.has_replay else []
        segments = [gutter, *left, Segment(" │ ", self._style("wal-pair-list--line")), *right]
        if divergence is not None:
            segments = list(Segment.apply_style(segments, post_style=self._style("wal-pair-list--diverged")))
        return segments

    def _half(self, number: int | None, side: str, width: int, divergence: WalDivergence | None) -> list[Segment]:
        muted = self._style("wal-pair-list--line")
        if number is None:
            if divergence is not None and divergence.kind in ("missing", "extra"):
                note = "(missing in replay)" if side == "replay" else "(not in record: extra)"
            else:
                note = ""
            return [self.cell(note, width, self._style("wal-pair-list--absent"))]
        cache = self.record_cache if side == "record" else self.replay_cache
        line = cache.get(number)
        head = self.cell(f"{number:>{self.LINE_WIDTH - 1}} ", self.LINE_WIDTH, muted)
        rest = width - self.LINE_WIDTH
        if line is None:
            self.missing[side].add(number)
            return [head, self.cell("…", rest, muted)]
        if line.problem is not None:
            bad = self._style("wal-pair-list--bad")
            return [head, self.cell(f"⚠ {line.problem}: {line.text}", rest, bad)]
        kind_style = self._style("wal-pair-list--kind")
        event_id = "" if line.event_id is None else str(line.event_id)
        kind_width = self.kind_width(width)
        text_width = max(0, rest - self.ID_WIDTH - kind_width)
        self.text_width = text_width
        return [
            head,
            self.cell(event_id, self.ID_WIDTH, muted),
            self.cell(line.kind or "-", kind_width - 1, kind_style),
            Segment(" "),
            self.cell(line.summary[self.shift :], text_width),
        ]

    def kind_width(self, half: int) -> int:
        """The KIND column in a half ``half`` cells wide: narrower on a narrow screen, so payloads keep room.

        At 80 columns a 19-cell kind left 3 cells of payload per side.
        """
        return min(self.KIND_WIDTH, max(8, (half - self.LINE_WIDTH - self.ID_WIDTH) // 2))

    def header(self, width: int, record: str, replay: str | None) -> str:
        """Column titles aligned with the rows: line, id, kind and the file's name over its payloads."""
        half = max(10, (width - 3) // 2)
        titles = f"{'LINE':>{self.LINE_WIDTH - 1}} {'ID':<{self.ID_WIDTH}}{'KIND':<{self.kind_width(half)}}"
        left = f"{titles}{record.upper()}"[:half].ljust(half)
        right = f"{titles}{replay.upper()}"[:half] if replay else ""
        return f" {left} │ {right}"
