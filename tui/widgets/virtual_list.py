"""``VirtualList``: a cursor list that renders only the rows on screen.

Modelled on toolong's ``LogLines``: a ``ScrollView`` whose ``render_line``
asks the subclass for one row at a time and keeps the rendered strips in an
LRU cache, so 100,000 rows cost what 40 do. Subclasses implement
``render_row`` and hold their rows in any ``Sequence``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Container, Hashable
from typing import Any, ClassVar, Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.marks import MarkBook
from tui.units import fit

MARK_GLYPH = "●"
"""Drawn over a marked row's first cell (``m`` marks, ``'`` / ``"`` jump between marks)."""


class VirtualList(ScrollView, can_focus=True):
    """A keyboard-driven list over a sequence, virtual in both memory and paint."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", show=False),
        Binding("k,up", "cursor_up", "Up", show=False),
        Binding("g,home", "cursor_top", "Top", show=False),
        Binding("G,end", "cursor_bottom", "Bottom", show=False),
        Binding("pagedown", "page_down_rows", "Page down", show=False),
        Binding("pageup", "page_up_rows", "Page up", show=False),
        Binding("enter", "select", "Details"),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"virtual-list--cursor", "virtual-list--dim", "virtual-list--mark"}

    MARK_SCOPE: ClassVar[str | None] = None
    """Name of this list's marks in the app's :class:`~tui.marks.MarkBook`; ``None``: rows cannot be marked."""

    DEFAULT_CSS = """
    VirtualList {
        background: $surface;
        scrollbar-gutter: stable;
        overflow-x: hidden;
    }
    VirtualList > .virtual-list--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
    }
    VirtualList:focus > .virtual-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    VirtualList > .virtual-list--dim {
        color: $text-muted;
    }
    VirtualList > .virtual-list--mark {
        color: $accent;
        text-style: bold;
    }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)
    """Index of the highlighted row."""

    class Highlighted(Message):
        """The cursor moved to a row."""

        def __init__(self, sender: "VirtualList", index: int) -> None:
            super().__init__()
            self.list = sender
            self.index = index

        @property
        def control(self) -> "VirtualList":
            return self.list

    class Selected(Highlighted):
        """A row was chosen with enter or a double click."""

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._rows: Sequence[Any] = ()
        self._strips: LRUCache[tuple[Any, ...], Strip] = LRUCache(2048)
        self._generation = 0
        self._row_styles: dict[tuple[str, bool], Style] = {}
        self.marked: Container[Hashable] = frozenset()
        """Keys (``mark_key``) of the marked rows: the app's marks of ``MARK_SCOPE``, once mounted."""
        self._pending_top: int | None = None
        """A scroll asked for while the list could not scroll yet (``scroll_to_top``)."""
        self.mark_scope: Hashable = None
        """What the rows belong to (a WAL pair, a run), part of every mark key."""

    def on_mount(self) -> None:
        book = getattr(self.app, "marks", None)
        if self.MARK_SCOPE is not None and isinstance(book, MarkBook):
            self.marked = book.scope(self.MARK_SCOPE)

    # Data ------------------------------------------------------------------

    @property
    def rows(self) -> Sequence[Any]:
        """The rows shown, as last given to ``set_rows``."""
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def current(self) -> Any | None:
        """The row under the cursor, if any."""
        return self._rows[self.cursor] if 0 <= self.cursor < len(self._rows) else None

    def set_rows(self, rows: Sequence[Any], *, cursor: int | None = None) -> None:
        """Replace the rows; keep the cursor index unless ``cursor`` is given."""
        self._rows = rows
        self._generation += 1
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows))
        target = self.cursor if cursor is None else cursor
        self.cursor = max(0, min(target, len(rows) - 1))
        if not rows:
            self._pending_top = None  # a scroll waiting for the last rows is not one for the next
        # the cursor as it is once laid out, not as it is now: a move made before then (a go-to, the
        # first divergence) must not be scrolled away from by a stale index
        self.call_after_refresh(lambda: self.scroll_to_row(self.cursor))
        self.refresh()

    def set_empty_text(self, text: str) -> None:
        """Say why the list is empty (shown only while it is)."""
        if text != self.empty_text:
            self.empty_text = text
            self.refresh()
    shift = 0
    """Columns of each row's long text scrolled off to the left (lists that bind ``action_shift``)."""

    SHIFT_STEP = 16
    """Columns one sideways step moves: long values (a 64-hex digest) are cut at the list's edge."""

    text_width = SHIFT_STEP
    """Cells the scrolled text gets in a row, as last drawn: a step never skips characters."""

    def longest_text(self, row: Any) -> int:
        """Cells of the longest text ``row`` shows; sideways scrolling stops when it has been seen.

        Lists that scroll sideways override this and cut their texts at ``self.shift``.
        """
        return 0

    def action_shift(self, direction: int) -> None:
        """Scroll the rows' texts sideways by ``SHIFT_STEP`` columns, never past the longest on screen."""
        top = self.scroll_offset.y
        shown = self._rows[top : top + max(1, self.scrollable_content_region.height)]
        longest = max((self.longest_text(row) for row in shown), default=0)
        step = max(1, min(self.SHIFT_STEP, self.text_width))
        self.shift = max(0, min(self.shift + direction * step, max(0, longest - step)))
        self.invalidate()

    def invalidate(self) -> None:
        """Forget cached strips (styles changed) and repaint."""
        self._generation += 1
        self._strips.clear()
        self.refresh()

    # Rendering ---------------------------------------------------------------

    def render_row(self, index: int, row: Any, width: int) -> list[Segment]:
        """Segments of one row. Subclasses override.

        Args:
            index: Row index.
            row: The row object.
            width: Width available, in cells.
        """
        return [Segment(str(row))]

    def row_key(self, index: int, row: Any) -> Any:
        """What identifies a row's rendering in the strip cache.

        The default ties strips to positions, so ``set_rows`` forgets them all.
        Lists whose rows are immutable and identifiable override this so that
        re-sorting or appending keeps the strips of rows already drawn.
        """
        return (self._generation, index)

    empty_text = ""
    """Shown, wrapped and dim, in place of rows while there are none (why the list is empty)."""

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if not self._rows and self.empty_text:
            lines = textwrap.wrap(self.empty_text, max(10, width - 2))
            text = f" {lines[y]}" if y < len(lines) else ""
            style = self.get_component_rich_style("virtual-list--dim")
            return Strip([Segment(text, style)]).crop_extend(0, width, None).apply_style(self.rich_style)
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        selected = index == self.cursor
        row = self._rows[index]
        marked = bool(self.marked) and self.mark_key(row) in self.marked
        key = (self.row_key(index, row), width, selected, self.has_focus, marked)
        strip = self._strips.get(key)
        if strip is None:
            segments = self.render_row(index, row, width)
            if selected:
                # The cursor's colours go over the row's own: a state or kind colour kept on the
                # cursor background measured 1.1:1 to 3.7:1 (yellow on white, red on blue).
                segments = list(Segment.apply_style(segments, post_style=self.row_style("virtual-list--cursor")))
            strip = Strip(segments).crop_extend(0, width, None)
            if marked:
                strip = self._with_mark(strip, width)
            strip = strip.apply_style(self.rich_style)
            self._strips[key] = strip
        return strip

    # Marks -----------------------------------------------------------------

    def mark_key(self, row: Any) -> Hashable:
        """What identifies a row among the marks (stable across re-sorts and refills); subclasses override."""
        return (self.mark_scope, row)

    def mark_column(self, width: int) -> int:
        """The cell the mark glyph covers (a blank one: the first, unless a subclass uses it)."""
        return 0

    def _with_mark(self, strip: Strip, width: int) -> Strip:
        column = min(self.mark_column(width), max(0, width - 1))
        glyph = Strip([Segment(MARK_GLYPH, self.row_style("virtual-list--mark"))], 1)
        return Strip.join([strip.crop(0, column), glyph, strip.crop(column + 1, width)])

    def is_marked(self, index: int) -> bool:
        """Whether the row at ``index`` is marked."""
        return 0 <= index < len(self._rows) and self.mark_key(self._rows[index]) in self.marked

    def marked_indexes(self) -> list[int]:
        """Indexes of the marked rows, in list order (one pass over the rows)."""
        if not self.marked:
            return []
        key, marked = self.mark_key, self.marked
        return [i for i, row in enumerate(self._rows) if key(row) in marked]

    def jump_mark(self, step: int) -> bool:
        """Move to the next (``step`` 1) or previous (-1) marked row, wrapping; whether there was one."""
        indexes = self.marked_indexes()
        if not indexes:
            return False
        if step > 0:
            target = next((i for i in indexes if i > self.cursor), indexes[0])
        else:
            target = next((i for i in reversed(indexes) if i < self.cursor), indexes[-1])
        self.move_to(target)
        return True

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._rows))
        self._strips.clear()
        # a scroll made while the list had another height (panels below filling in) may have been
        # clamped: the cursor stays in view whatever the height settles at
        self.call_after_refresh(lambda: self.scroll_to_row(self.cursor))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._row_styles.clear()

    def row_style(self, component: str) -> Style:
        """The Rich style of one of this list's component classes, as the terminal will draw it.

        ``get_component_rich_style(partial=True)`` drops alpha and ``auto``: ``$warning 12%``
        came out as solid warning and ``$text-muted`` (``auto 60%``) as pure white, white on
        light grey in the light theme. Here translucent colours are blended over this
        widget's own background and ``auto`` picks the readable text colour for it.
        """
        key = (component, self.has_focus)
        style = self._row_styles.get(key)
        if style is None:
            styles = self.get_component_styles(component)
            base = self.background_colors[1]
            background = base + styles.background if styles.has_rule("background") else None
            under = background or base
            color = None
            if styles.has_rule("color"):
                colour = under.get_contrast_text(styles.color.a) if styles.auto_color else styles.color
                color = (under + colour).rich_color
            style = Style(color=color, bgcolor=None if background is None else background.rich_color) + styles.text_style
            self._row_styles[key] = style
        return style

    # Cursor ------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self.scroll_to_row(new)
        if self._rows:
            self.post_message(self.Highlighted(self, new))

    def scroll_to_row(self, index: int) -> None:
        """Scroll the least needed to show ``index`` (from where a scroll still waiting will put the list)."""
        top = self.scroll_offset.y if self._pending_top is None else self._pending_top
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        if index < top:
            self.scroll_to_top(index)
        elif index >= top + height:
            self.scroll_to_top(index - height + 1)

    def scroll_to_top(self, index: int) -> None:
        """Put row ``index`` at the top (as far as the rows go), now or as soon as the list can scroll.

        Textual drops a scroll while the list shows no scrollbar, and rows that grew
        from none show one only at a later layout: a WAL pair's first divergence
        stayed off screen (1 run in 25 under load). Forcing the scroll instead left
        the scrollbar's thumb where it was.
        """
        if self.allow_vertical_scroll:
            self._pending_top = None
            self.scroll_to(y=index, animate=False)
        else:
            self._pending_top = index

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        if shown and self._pending_top is not None:
            top, self._pending_top = self._pending_top, None
            self.scroll_to(y=top, animate=False)

    def move_to(self, index: int) -> None:
        """Put the cursor on ``index`` (clamped)."""
        if self._rows:
            self.cursor = max(0, min(index, len(self._rows) - 1))

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1)

    def action_cursor_top(self) -> None:
        self.move_to(0)

    def action_cursor_bottom(self) -> None:
        self.move_to(len(self._rows) - 1)

    def action_page_down_rows(self) -> None:
        self.move_to(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up_rows(self) -> None:
        self.move_to(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_select(self) -> None:
        if self._rows:
            self.post_message(self.Selected(self, self.cursor))

    def on_click(self, event: Click) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self._rows):
            self.cursor = index
            if event.chain >= 2:
                self.action_select()

    @staticmethod
    def cell(text: str, width: int, style: Style | None = None, *, middle: bool = False) -> Segment:
        """A segment of ``text`` cut (at the end, or the ``middle`` for ids and paths) or padded to ``width`` cells."""
        from rich.cells import set_cell_size

        return Segment(set_cell_size(fit(text, max(0, width), middle=middle), width), style)
