"""``LiveEventScreen``: one live event in full, and what else the ring holds about its path."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from backends.events.model import MARKER_TYPES, FsEvent, display_path
from backends.events.ring import RAW_DEST, RAW_PATH, RAW_RECONCILED, RAW_TYPE, EventRing, Raw, from_raw, to_raw
from tui.theme_style import theme_style
from tui.widgets.live_stats import TYPE_STYLE
from tui.screens.detail import SCROLL_HINT, DetailScreen

RELATED_LIMIT = 50
"""Related events shown at most (the newest ones)."""

_MARKERS = frozenset({"lost", "resynced", "notice"})

_TYPE_STYLE = {
    **TYPE_STYLE,
    "lost": "bold reverse $text-error",
    "resynced": "italic $text-warning",
    "notice": "italic $text-warning",
}

Paint = Callable[[str], Style]
"""Turns a style written with theme variables (``"bold $text-error"``) into a Rich style."""


@dataclass(frozen=True, slots=True)
class Related:
    """Events of the ring that bear on one event, newest last.

    Attributes:
        title: What the list is (its heading).
        events: The newest ``RELATED_LIMIT`` of them, the event itself included.
        total: How many the ring holds in all.
        empty: What to say when there is nothing but the event itself.
    """

    title: str
    events: tuple[FsEvent, ...]
    total: int
    empty: str


def related_events(ring: EventRing, event: FsEvent, limit: int = RELATED_LIMIT) -> Related:
    """What the ring holds about ``event``, for the operator's next question.

    * A change: every event on its path, and for a move on its source and
      destination (an event counts when its path or destination is one of them).
    * A ``lost`` marker: the reconciliation it started: the ``reconciled``
      events that follow it up to and including the next ``resynced`` marker.
    * Another marker: the stream's other markers (losses, reconciliations, notices).

    One pass over the ring's raw tuples; only the events kept are rebuilt.

    Args:
        ring: The pane's ring, oldest first.
        event: The selected event (it is kept in the list, to place it).
        limit: Newest events kept.
    """
    kept: deque[Raw] = deque(maxlen=limit)
    total = 0
    if event.type == "lost":
        me = to_raw(event)
        after = False
        for raw in ring.raw:
            if not after:
                if raw == me:
                    after = True
                    kept.append(raw)
                    total += 1
                continue
            kind = raw[RAW_TYPE]
            if kind == "lost":
                break  # a later loss starts its own reconciliation
            if raw[RAW_RECONCILED] or kind == "resynced":
                kept.append(raw)
                total += 1
                if kind == "resynced":
                    break
        title, empty = "Reconciliation after this loss", "no reconciled event in the ring yet"
    elif event.is_marker:
        for raw in ring.raw:
            if raw[RAW_TYPE] in _MARKERS:
                kept.append(raw)
                total += 1
        title, empty = "Markers of the stream in the ring", "no other marker in the ring"
    else:
        paths = {event.path} if event.dest is None else {event.path, event.dest}
        for raw in ring.raw:
            if (raw[RAW_PATH] in paths or (raw[RAW_DEST] is not None and raw[RAW_DEST] in paths)) and raw[RAW_TYPE] not in MARKER_TYPES:
                kept.append(raw)
                total += 1
        title = "Events on this path in the ring" if event.dest is None else "Events on the move's source and destination in the ring"
        empty = "no other event on this path in the ring"
    return Related(title, tuple(from_raw(raw) for raw in kept), total, empty)


def wall_text(wall_ns: int) -> str:
    """Wall time in UTC to the microsecond, e.g. ``2026-11-18 07:33:20.123456 UTC``."""
    stamp = datetime.fromtimestamp(wall_ns // 1_000_000_000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp}.{(wall_ns % 1_000_000_000) // 1000:06d} UTC"


def latency_text(event: FsEvent, paint: Paint) -> Text:
    """The write-to-receipt latency, or why there is none."""
    if event.latency_us is not None:
        return Text(f"{event.latency_us / 1000:,.3f} ms (receipt time minus the file's mtime)")
    if event.is_marker:
        why = "not applicable to a marker"
    elif event.reconciled:
        why = "not applicable: found by a rescan, not seen live"
    elif event.is_dir or event.type not in ("created", "modified", "closed"):
        why = "not measured for this kind of event"
    else:
        why = "not measured (sampled at most once per ms, and not while the watcher has a backlog)"
    return Text(why, style=paint("$text-muted"))


def origin_text(event: FsEvent, paint: Paint) -> Text:
    """Where the event comes from: the kernel, a rescan, or the stream itself."""
    if event.type == "lost":
        count = "an unknown number of" if event.lost is None else f"{event.lost:,}"
        return Text.assemble(
            ("LOST-EVENTS MARKER", paint("bold reverse $text-error")),
            f": {count} events were lost here; the watcher rescans the tree and emits "
            "reconciled events for what changed, then a resynced marker",
        )
    if event.type == "resynced":
        return Text.assemble(("RESYNCED MARKER", paint("bold $text-warning")), ": the reconciliation after a loss is complete")
    if event.type == "notice":
        return Text.assemble(("NOTICE", paint("bold $text-warning")), ": a message from the watcher")
    if event.type == "exists":
        return Text("baseline: present when the watch started")
    if event.reconciled:
        return Text.assemble(("RECONCILED", paint("bold $text-warning")), " (synthetic): found by a rescan after a loss, not seen live")
    return Text("live: reported by the kernel")


def detail_table(event: FsEvent, paint: Paint) -> Table:
    """Every field of one event as a two-column grid."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("sequence", f"{event.seq:,}")
    table.add_row("type", Text(event.type, style=paint(_TYPE_STYLE.get(event.type, ""))))
    table.add_row("path", _path(event.path))
    if event.type == "moved" or event.dest is not None:
        table.add_row("destination", _path(event.dest) if event.dest is not None else Text("-", style=paint("$text-muted")))
    table.add_row("is_dir", "yes: a directory" if event.is_dir else "no: a file (or not a directory)")
    table.add_row("wall time", wall_text(event.wall_ns))
    table.add_row("monotonic", f"{event.mono_ns:,} ns")
    table.add_row("origin", origin_text(event, paint))
    if event.coalesced != 1:
        table.add_row("coalesced", f"stands for {event.coalesced:,} raw events (debounce)")
    if event.type == "lost":
        table.add_row("lost", "unknown (the kernel does not say)" if event.lost is None else f"{event.lost:,} events")
    if event.detail is not None:
        table.add_row("says", event.detail)
    table.add_row("write → receipt", latency_text(event, paint))
    return table


def related_table(related: Related, selected: FsEvent, paint: Paint) -> RenderableType:
    """The related events, newest last, the selected one marked."""
    shown = len(related.events)
    heading = Text(related.title, style="bold")
    if related.total > shown:
        heading.append(f" · newest {shown:,} of {related.total:,}", style=paint("$text-muted"))
    else:
        heading.append(f" · {related.total:,}", style=paint("$text-muted"))
    if related.total == 0 or (related.total == 1 and related.events[-1] == selected):
        return Group(heading, Text(related.empty, style=paint("italic $text-muted")))
    table = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold", expand=True)
    table.add_column("", width=1, no_wrap=True)
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("time (UTC)", no_wrap=True)
    table.add_column("type", no_wrap=True)
    table.add_column("path", overflow="fold", ratio=1)
    for other in related.events:
        mark = "▶" if other == selected else ""
        text = _path(other.detail or "" if other.is_marker else other.path or ".")
        if other.dest is not None:
            text.append(" → ")
            text.append_text(_path(other.dest))
        if other.is_dir and not other.is_marker:
            text.append("/")
        if other.reconciled:
            text.append("  [reconciled]", style=paint("italic $text-muted"))
        row_style = "bold" if mark else ""
        table.add_row(
            mark,
            f"{other.seq:,}",
            wall_text(other.wall_ns)[11:-4],
            Text("LOST" if other.type == "lost" else other.type, style=paint(_TYPE_STYLE.get(other.type, "$text-muted"))),
            text,
            style=row_style,
        )
    return Group(heading, table)


def _path(path: str | None) -> Text:
    """A path as text, control characters escaped; the root as ``.``."""
    shown = display_path(path or "") or "."
    if not shown.isprintable():
        shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in shown)
    return Text(shown)


class LiveEventScreen(DetailScreen):
    """Everything about one live event, and the ring's other events on its path.

    Args:
        event: The selected event.
        related: What the ring holds about it (``related_events``), taken when opened.
    """

    DEFAULT_CSS = """
    LiveEventScreen > VerticalScroll { width: 110; }
    LiveEventScreen #live-event-related { margin-top: 1; }
    """

    def __init__(self, event: FsEvent, related: Related) -> None:
        super().__init__()
        self.event = event
        self.related = related

    def _paint(self, spec: str) -> Style:
        return theme_style(self.app, spec)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="live-event-scroll") as scroll:
            kind = "LOST" if self.event.type == "lost" else self.event.type
            scroll.border_title = f"Event {self.event.seq:,}: {kind}"
            scroll.border_subtitle = SCROLL_HINT
            yield Static(detail_table(self.event, self._paint), id="live-event-fields")
            yield Static(related_table(self.related, self.event, self._paint), id="live-event-related")
