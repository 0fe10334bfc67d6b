"""``SnapshotDiffView``: one entry's content diff, virtual: unified, side by side, values, or bytes."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType

from backends.snapshots.models import DiffLine, EntryContent, FieldChange, SideRow
from tui.units import human_size
from tui.widgets.virtual_list import VirtualList

NUMBER_WIDTH = 5

Row = tuple[str, Any]
"""``(kind, payload)``: ``note``, ``line``, ``side``, ``field_head``, ``field``, ``info``."""


def content_rows(content: EntryContent) -> list[Row]:
    """The rows that show ``content``, notes first."""
    rows: list[Row] = [("note", note) for note in content.notes]
    if content.mode == "unified":
        rows += [("line", line) for line in content.lines]
    elif content.mode == "side":
        rows += [("side", row) for row in content.rows]
    elif content.mode == "structured":
        if content.records is not None:
            a, b, differing = content.records
            rows.append(("note", f"{differing:,} of {max(a, b):,} records differ (records paired by key)"))
        if content.fields:
            rows.append(("field_head", None))
            rows += [("field", change) for change in content.fields]
    elif content.mode == "binary":
        for label, size, digest in (("baseline", content.size_a, content.sha256_a),
                                     ("candidate", content.size_b, content.sha256_b)):
            rows.append(("info", f"{label:<10} {human_size(size):>10}  ({size:,} bytes)"))
            rows.append(("info", f"sha256 {digest or '-'}"))
    if content.truncated:
        rows.append(("note", "cut short: the rest is in the exported report or `driftdeck snapshots diff`"))
    return rows


def _longest(row: Row) -> str:
    """The longest text a row shows (what sideways scrolling must reach)."""
    kind, payload = row
    if kind == "line":
        return str(payload.text)
    if kind == "side":
        return max(payload.left or "", payload.right or "", key=len)
    if kind == "field":
        return max(payload.old or "", payload.new or "", key=len)
    return ""


class SnapshotDiffView(VirtualList):
    """A content diff with line numbers, +/- colours and the changed words highlighted."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | {
        "snapshot-diff--add",
        "snapshot-diff--add-word",
        "snapshot-diff--del",
        "snapshot-diff--del-word",
        "snapshot-diff--hunk",
        "snapshot-diff--ignored",
        "snapshot-diff--number",
        "snapshot-diff--note",
        "snapshot-diff--head",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l,right", "shift(1)", "Scroll right", show=False),
        Binding("h,left", "shift(-1)", "Scroll left", show=False),
    ]

    DEFAULT_CSS = """
    SnapshotDiffView > .snapshot-diff--add { color: $success; }
    SnapshotDiffView > .snapshot-diff--add-word { color: $text; background: $success 45%; text-style: bold; }
    SnapshotDiffView > .snapshot-diff--del { color: $error; }
    SnapshotDiffView > .snapshot-diff--del-word { color: $text; background: $error 45%; text-style: bold; }
    SnapshotDiffView > .snapshot-diff--hunk { color: $accent; }
    SnapshotDiffView > .snapshot-diff--ignored { color: $text-muted; text-style: italic; }
    SnapshotDiffView > .snapshot-diff--number { color: $text-muted; }
    SnapshotDiffView > .snapshot-diff--note { color: $warning; text-style: italic; }
    SnapshotDiffView > .snapshot-diff--head { color: $accent; text-style: bold underline; }
    """

    def set_content(self, content: EntryContent | None, message: str = "") -> None:
        """Show ``content`` (or just ``message``), cursor at the top."""
        rows: list[Row] = [] if content is None else content_rows(content)
        if message:
            rows.insert(0, ("note", message))
        fields = content.fields if content is not None else ()
        self._widths = tuple(
            max((cell_len(text or "—") for text in column), default=4) + 1
            for column in zip(*((c.path, c.old, c.new, c.context) for c in fields), strict=True)
        ) or (10, 10, 10, 10)
        self.shift = 0
        self.set_rows(rows, cursor=0)

    def longest_text(self, row: Row) -> int:
        return len(_longest(row))

    @property
    def current_field(self) -> FieldChange | None:
        """The value change under the cursor, if any."""
        row = self.current
        return row[1] if row is not None and row[0] == "field" else None

    # Rendering ---------------------------------------------------------------

    def render_row(self, index: int, row: Row, width: int) -> list[Segment]:
        kind, payload = row
        if kind == "note":
            return [self.cell(f"• {payload}", width, self._style("snapshot-diff--note"))]
        if kind == "line":
            return self._line(payload, width)
        if kind == "side":
            return self._side(payload, width)
        if kind == "field_head":
            return self._field_cells(("", "PATH", "OLD", "NEW", "WHERE"), width, self._style("snapshot-diff--head"))
        if kind == "field":
            return self._field(payload, width)
        return [self.cell(payload, width)]

    def _line(self, line: DiffLine, width: int) -> list[Segment]:
        number = self._style("snapshot-diff--number")
        if line.tag == "@":
            return [self.cell(line.text, width, self._style("snapshot-diff--hunk"))]
        old = "" if line.old is None else str(line.old)
        new = "" if line.new is None else str(line.new)
        gutter = [self.cell(old.rjust(NUMBER_WIDTH), NUMBER_WIDTH + 1, number),
                  self.cell(new.rjust(NUMBER_WIDTH), NUMBER_WIDTH + 1, number)]
        room = max(1, width - 2 * (NUMBER_WIDTH + 1) - 2)
        tag = "≈" if line.tag == "~" else line.tag
        base, word = self._tag_styles(line.tag)
        return [*gutter, self.cell(tag + " ", 2, base), *self._spanned(line.text, line.spans, room, base, word)]

    def _side(self, row: SideRow, width: int) -> list[Segment]:
        if row.tag == "@":
            return [self.cell(row.left, width, self._style("snapshot-diff--hunk"))]
        half = max(8, (width - 1) // 2)
        number = self._style("snapshot-diff--number")
        room = max(1, half - NUMBER_WIDTH - 1)
        left_tag = {"!": "-", "-": "-", "~": "~"}.get(row.tag, " ")
        right_tag = {"!": "+", "+": "+", "~": "~"}.get(row.tag, " ")
        lbase, lword = self._tag_styles(left_tag)
        rbase, rword = self._tag_styles(right_tag)
        left = [self.cell("" if row.old is None else str(row.old).rjust(NUMBER_WIDTH), NUMBER_WIDTH + 1, number),
                *self._spanned(row.left, row.left_spans, room, lbase, lword)]
        right = [self.cell("" if row.new is None else str(row.new).rjust(NUMBER_WIDTH), NUMBER_WIDTH + 1, number),
                 *self._spanned(row.right, row.right_spans, room, rbase, rword)]
        return [*left, self.cell("│", 1, number), *right]

    def _field(self, change: FieldChange, width: int) -> list[Segment]:
        marks = {"added": "+", "removed": "-", "changed": "~", "type_changed": "⇄"}
        style = self._style("snapshot-diff--ignored") if change.ignored else None
        old = "—" if change.old is None else change.old[self.shift :]
        new = "—" if change.new is None else change.new[self.shift :]
        where = change.context + (" (ignored)" if change.ignored else "")
        cells = self._field_cells((marks.get(change.kind, "?"), change.path, old, new, where), width, style)
        if not change.ignored:
            cells[2] = Segment(cells[2].text, self._style("snapshot-diff--del"))
            cells[3] = Segment(cells[3].text, self._style("snapshot-diff--add"))
        return cells

    def _field_cells(self, values: tuple[str, str, str, str, str], width: int, style: Style | None) -> list[Segment]:
        path_w, old_w, new_w, where_w = self._column_widths(width - 2)
        mark, path, old, new, where = values
        return [
            self.cell(mark, 2, style),
            self.cell(path, path_w, style, middle=True),
            self.cell(old, old_w, style),
            self.cell(new, new_w, style),
            self.cell(where, where_w, style),
        ]

    def _column_widths(self, room: int) -> tuple[int, int, int, int]:
        """Path, old, new and where widths: each as wide as its content, shrunk to fit."""
        path_w, old_w, new_w, where_w = (max(6, w) for w in getattr(self, "_widths", (10, 10, 10, 10)))
        where_w = min(where_w, 18)
        old_w, new_w = min(old_w, max(8, room // 4)), min(new_w, max(8, room // 4))
        path_w = max(10, min(path_w, room - old_w - new_w - where_w))
        where_w = max(1, room - path_w - old_w - new_w)
        return path_w, old_w, new_w, where_w

    def _tag_styles(self, tag: str) -> tuple[Style | None, Style | None]:
        if tag == "-":
            return self._style("snapshot-diff--del"), self._style("snapshot-diff--del-word")
        if tag == "+":
            return self._style("snapshot-diff--add"), self._style("snapshot-diff--add-word")
        if tag == "~":
            return self._style("snapshot-diff--ignored"), None
        return None, None

    def _spanned(
        self, text: str, spans: tuple[tuple[int, int], ...], width: int, base: Style | None, word: Style | None
    ) -> list[Segment]:
        text = text.replace("\t", "→")[self.shift :]  # one cell per tab keeps the span offsets right
        spans = tuple((max(0, a - self.shift), b - self.shift) for a, b in spans if b > self.shift)
        if not spans or word is None:
            return [self.cell(text, width, base)]
        out: list[Segment] = []
        at = 0
        for start, end in spans:
            if start > at:
                out.append(Segment(text[at:start], base))
            out.append(Segment(text[start:end], word))
            at = end
        if at < len(text):
            out.append(Segment(text[at:], base))
        used = sum(cell_len(s.text) for s in out)
        if used > width:
            return list(Segment.split_and_crop_lines(out, width, pad=False))[0] if width > 0 else []
        out.append(Segment(" " * (width - used)))
        return out

    def _style(self, component: str) -> Style:
        return self.row_style(component)
