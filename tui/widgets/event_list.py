"""``EventList``: a run's record timeline as a virtual list, newest last."""

from __future__ import annotations

from typing import ClassVar

import orjson
from rich.segment import Segment

from backends.models import RunEvent
from tui.widgets.virtual_list import VirtualList

_SHOWN_ELSEWHERE = {"event_id", "ts", "kind"}


def event_extras(event: RunEvent, limit: int = 200) -> str:
    """The event's other fields as compact ``key=value`` text."""
    parts = []
    for key, value in event.fields.items():
        if key in _SHOWN_ELSEWHERE:
            continue
        text = value if isinstance(value, str) else orjson.dumps(value).decode("utf-8", errors="replace")
        parts.append(f"{key}={text}")
        if sum(len(p) for p in parts) > limit:
            break
    return "  ".join(parts)


class EventList(VirtualList):
    """Record events: line, timestamp, kind and the rest of the fields."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | {
        "event-list--line",
        "event-list--kind",
        "event-list--bad",
    }

    MARK_SCOPE = "timeline"

    DEFAULT_CSS = """
    EventList > .event-list--line { color: $text-muted; }
    EventList > .event-list--kind { color: $primary; text-style: bold; }
    EventList > .event-list--bad { color: $error; }
    """

    def mark_key(self, row: RunEvent) -> object:
        """An event is marked by its run (``mark_scope``) and its line in the record."""
        return (self.mark_scope, row.line)

    def render_row(self, index: int, row: RunEvent, width: int) -> list[Segment]:
        line_style = self.row_style("event-list--line")
        number = self.cell(f"{row.line:>7} ", 8, line_style)
        if row.problem is not None:
            bad = self.row_style("event-list--bad")
            return [number, Segment(f"⚠ {row.problem.message}", bad)]
        kind_style = self.row_style("event-list--kind")
        ts = (row.ts or "-").replace("T", " ")
        return [
            number,
            self.cell(ts, 25, line_style),
            self.cell(row.kind or "-", 18, kind_style),
            self.cell(row.event_id or "", 12, line_style, middle=True),
            Segment(event_extras(row, width)),
        ]
