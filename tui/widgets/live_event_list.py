"""``LiveEventList``: the virtual, colour-per-type list of live filesystem events."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.strip import Strip

from backends.events.model import FsEvent, display_path
from tui.widgets.virtual_list import VirtualList

_TYPE_CLASS = {
    "created": "live-list--created",
    "modified": "live-list--modified",
    "deleted": "live-list--deleted",
    "moved": "live-list--moved",
    "opened": "live-list--quiet",
    "closed": "live-list--closed",
    "closed_no_write": "live-list--quiet",
    "exists": "live-list--quiet",
    "lost": "live-list--lost",
    "resynced": "live-list--marker",
    "notice": "live-list--marker",
}

_LABEL = {"closed_no_write": "closed-nw", "resynced": "resynced", "lost": "LOST"}


def _printable(text: str) -> str:
    """Control characters (a newline in a file name) shown as escapes, not drawn."""
    text = display_path(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class LiveEventList(VirtualList):
    """Rows of ``FsEvent``: time, type, path (→ destination), flags."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | set(_TYPE_CLASS.values())

    DEFAULT_CSS = """
    LiveEventList > .live-list--created { color: $success; }
    LiveEventList > .live-list--modified { color: $primary; }
    LiveEventList > .live-list--deleted { color: $error; }
    LiveEventList > .live-list--moved { color: $secondary; }
    LiveEventList > .live-list--closed { color: $accent; }
    LiveEventList > .live-list--quiet { color: $text-muted; }
    LiveEventList > .live-list--lost { color: $error; text-style: bold reverse; }
    LiveEventList > .live-list--marker { color: $warning; text-style: italic; }
    """

    MARK_SCOPE = "live"

    TYPE_WIDTH = 10
    TIME_WIDTH = 13

    show_times = True
    """Whether the time column is drawn (off gives stable screenshots)."""

    STRIP_CACHE = 256
    """Rendered rows kept (a few screens; in follow mode older strips are never shown again)."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._strips = LRUCache(self.STRIP_CACHE)

    def set_rows(self, rows: Sequence[FsEvent], *, cursor: int | None = None) -> None:
        """Replace the rows; a longer list only resizes the scrollbar, not the screen's layout.

        ``virtual_size`` is a layout reactive: each change reflows and
        repaints the whole screen. When only the length changes and the
        vertical scrollbar is shown before and after (the gutter is stable),
        the scrollbar is updated in place instead (measured: about half of
        what a merge cost to draw while a busy stream grows the ring).
        """
        region = self.scrollable_content_region
        size = Size(region.width, len(rows))
        old = self.virtual_size
        if size != old and old.width == size.width and self.show_vertical_scrollbar and min(old.height, size.height) > region.height:
            self.set_reactive(VirtualList.virtual_size, size)
            self._scroll_update(size)
        super().set_rows(rows, cursor=cursor)

    _frame_style: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Render a region, computing the widget's style once for all its lines.

        ``rich_style`` walks the ancestors on every call and ``render_line``
        asks for it per line: measured at ~0.2 ms a call under load, a large
        part of a line's cost when every line is new (following a busy stream).
        """
        self._frame_style = super().rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._frame_style = None

    @property
    def rich_style(self) -> Style:
        """The widget's style (computed once per ``render_lines``)."""
        return self._frame_style if self._frame_style is not None else super().rich_style

    def row_key(self, index: int, row: FsEvent) -> object:
        """Events are immutable: a row's strip survives the merges that shift its index."""
        return row

    def mark_key(self, row: FsEvent) -> object:
        """An event is marked by its sequence number (unique for the life of the pane)."""
        return row.seq

    def render_row(self, index: int, row: FsEvent, width: int) -> list[Segment]:
        style = self.row_style(_TYPE_CLASS.get(row.type, "live-list--quiet"))
        muted = self.row_style("live-list--quiet")
        segments = [Segment(" ")]
        if self.show_times:
            stamp = datetime.fromtimestamp(row.wall_ns / 1e9, tz=timezone.utc).strftime("%H:%M:%S.%f")[:12]
            segments.append(self.cell(stamp, self.TIME_WIDTH, muted))
        segments.append(self.cell(_LABEL.get(row.type, row.type), self.TYPE_WIDTH, style))
        segments.append(Segment(" "))
        used = sum(seg.cell_length for seg in segments)
        if row.type in ("lost", "resynced", "notice"):
            text = row.detail or ""
            if row.type == "lost":
                count = "an unknown number of" if row.lost is None else f"{row.lost:,}"
                text = f"{count} events lost: {text}"
            segments.append(self.cell(_printable(text), max(0, width - used), style))
            return segments
        text = _printable(row.path or ".")
        if row.dest is not None:
            text += f" → {_printable(row.dest)}"
        if row.is_dir:
            text += "/"
        flags = []
        if row.reconciled:
            flags.append("reconciled")
        if row.coalesced > 1:
            flags.append(f"×{row.coalesced}")
        tail = f"  [{', '.join(flags)}]" if flags else ""
        room = max(0, width - used - len(tail))
        segments.append(self.cell(text, room, style if row.type in ("deleted", "lost") else None, middle=True))
        if tail:
            segments.append(Segment(tail, muted + Style(italic=True)))
        return segments
