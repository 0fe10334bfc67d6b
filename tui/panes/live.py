"""Pane 2, Live events: what is happening on disk under this path, right now."""

from __future__ import annotations

import os
import time
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from backends.errors import DriftdeckError
from backends.events.model import CHANGE_TYPES, DEFAULT_TYPES, FsEvent, WatchFilter, WatchHeader
from backends.events.recording import RecordingWriter, format_for, strip_prefix
from backends.events.ring import RAW_DEST, RAW_PATH, RAW_RECONCILED, RAW_TYPE
from tui.export import export_path
from tui.goto import GotoError, GotoTarget
from tui.host import deck_host
from tui.panes.base import DeckPane
from tui.selection import Selection, as_detail
from tui.state.live import LiveState
from tui.widgets.live_event_list import LiveEventList
from tui.widgets.live_stats import LiveStats
from tui.theme_style import theme_style

FLUSH_SECONDS = 0.05
"""Arrived events are merged into the view at most this often (20 Hz, the refresh budget)."""
STATS_SECONDS = 0.5
"""Period of the side panel and status line redraws (2 Hz)."""
RING_SIZE = int(os.environ.get("DRIFTDECK_LIVE_RING", "100000"))
"""Events kept for display (oldest fall off); ``DRIFTDECK_LIVE_RING`` overrides."""

TYPE_KEYS = {"c": "created", "m": "modified", "d": "deleted", "v": "moved", "o": "opened", "x": "closed", "w": "closed_no_write"}


class LivePane(DeckPane):
    """A live, bounded, filterable event stream of the source, with rates and losses.

    Watching starts the first time the pane is shown. Batches from the
    source arrive on a worker and are merged into the ring and the view at
    once when the last merge is at least ``FLUSH_SECONDS`` old, otherwise
    by a one-shot timer when it is (so the list is redrawn at most 20 times
    a second, and an event waits at most ``FLUSH_SECONDS`` for it). The
    list follows the newest event until the user scrolls up.
    """

    PANE_KEY = "2"
    PANE_ID = "live"
    PANE_TITLE = "Live events"
    PANE_SUMMARY = "What is happening on disk under this path, right now?"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pause", "Pause", tooltip="Pause/resume"),
        Binding("slash", "filter", "Filter"),
        Binding("n", "match(1)", "Next match", show=False),
        Binding("N", "match(-1)", "Prev match", show=False),
        Binding("e", "marker(1)", "Next loss", tooltip="Next loss/notice"),
        Binding("E", "marker(-1)", "Prev loss/notice", show=False),
        Binding("f", "follow", "Follow", tooltip="Follow newest"),
        Binding("p", "choose_path", "Path"),
        Binding("r", "record", "Record"),
        Binding("t", "toggle_times", "Times", show=False),
        Binding("C", "clear", "Clear", show=False),
        *(Binding(key, f"toggle_type('{kind}')", f"Toggle {kind}", show=False) for key, kind in TYPE_KEYS.items()),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    DEFAULT_CSS = """
    LivePane #live-head { height: 1; padding: 0 1; background: $boost; }
    LivePane #live-status { height: 1; padding: 0 1; color: $text-muted; }
    LivePane #live-banner { height: auto; padding: 0 1; display: none; }
    LivePane #live-banner.-lost { display: block; background: $error 30%; color: $text; text-style: bold; }
    LivePane #live-banner.-notice { display: block; background: $warning 25%; color: $text; }
    LivePane #live-body { height: 1fr; }
    LivePane #live-main { width: 1fr; }
    LivePane LiveEventList { height: 1fr; }
    LivePane #live-new { height: 1; padding: 0 1; background: $accent 30%; display: none; }
    LivePane #live-new.-shown { display: block; }
    """

    def __init__(self, ring_size: int = RING_SIZE, *, build: bool = True) -> None:
        super().__init__(build=build)
        self.state = LiveState.sized(ring_size, DEFAULT_TYPES)
        self._last_flush = 0.0  # time.monotonic() of the last merge
        self._flush_timer: Timer | None = None  # the one-shot merge scheduled, if any
        self._head_key: tuple[object, ...] | None = None
        self._banner_shown: tuple[str, str] | None = None

    def compose_content(self) -> ComposeResult:
        yield Static("", id="live-head")
        yield Label("", id="live-status")
        yield Static("", id="live-banner")
        with Horizontal(id="live-body"):
            with Vertical(id="live-main"):
                yield LiveEventList(id="live-list")
                yield Label("", id="live-new")
            yield LiveStats(id="live-stats")
        yield Input(placeholder="filter events by path (prefix ! to invert), enter to keep, escape to clear", id="live-filter")

    def content_mounted(self) -> None:
        self.query_one("#live-filter", Input).display = False
        self.set_interval(STATS_SECONDS, self._tick)
        self._draw_head()
        self._draw_status()

    def pane_shown(self) -> None:
        if not self.state.started:
            self.state.started = True
            self._restart()

    def main_widget(self) -> Widget:
        return self.query_one(LiveEventList)

    def on_unmount(self) -> None:
        self._stop_recording()

    # Watching -------------------------------------------------------------------------

    def _restart(self) -> None:
        if self.state.sequence.last:
            shown = ", ".join(t for t in CHANGE_TYPES if t in self.state.types)
            self.state.sequence.restart(f"watch restarted on {self.state.path or '.'} for {shown}", self.state.path)
        self.state.error = None
        self.state.backend = "starting…"
        self._watch(self.state.path, WatchFilter(types=self.state.types, isolate=True))
        self._draw_head()

    @work(exclusive=True, group="live-watch", exit_on_error=False)
    async def _watch(self, path: str, spec: WatchFilter) -> None:
        if not await self.require():
            return
        try:
            async for batch in self.source.watch(path, spec):
                if batch and batch[0].seq == 0 and batch[0].is_marker:
                    self._gap(batch[0])
                self.ingest(self.state.sequence.number(batch))
        except Exception as exc:
            self.state.error = str(exc)
            self._draw_head()
            raise

    def _gap(self, marker: FsEvent) -> None:
        """A remote source resumed its stream and says what the gap cost: shown as a banner."""
        self.state.gap(marker)
        self._draw_banner()

    def ingest(self, batch: list[FsEvent]) -> None:
        """Take a batch from the source (also how tests feed a known stream)."""
        self.state.take(batch)
        if self._flush_timer is None:
            wait = self._last_flush + FLUSH_SECONDS - time.monotonic()
            if wait <= 0:
                self._flush()
            else:
                self._flush_timer = self.set_timer(wait, self._flush)

    def _flush(self) -> None:
        """Merge what arrived into the ring and the view (one redraw)."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._last_flush = time.monotonic()
        if not self.query(LiveEventList):
            return  # the app is closing: Textual removes the list before the pane's timers stop (seen as NoMatches under load)
        if self.state.pending:
            self._absorb(self.state.drain())

    def _tick(self) -> None:
        self._draw_stats()
        self._draw_status()
        self._draw_head()  # a remote source's connection shows in the head

    def _absorb(self, batch: list[FsEvent]) -> None:
        if self.state.recorder is not None:
            self._record(batch)
        self.state.stats.add(batch)
        batch = self.state.read_markers(batch)
        if self.state.paused:
            self.state.held += len(batch)
            self._hold(batch)
            self._draw_banner()
            return
        self._append(batch)
        self._draw_banner()
        self._draw_head()

    def _hold(self, batch: list[FsEvent]) -> None:
        self.state.held_events.extend(batch)

    def _append(self, batch: list[FsEvent]) -> None:
        table = self.query_one(LiveEventList)
        before = len(self.state.view)
        if self.state.following and before and table.cursor < before - 1:
            # The user moved up (g, k, a click) and this merge came before the list's Highlighted
            # message: following would put the cursor back at the bottom and undo the key.
            self._set_following(False)
        dropped = 0
        self.state.ring.extend(batch)
        if self.state.view is not self.state.ring:
            shown = [e for e in batch if self.state.matches(e)]
            dropped = max(0, len(self.state.view) + len(shown) - (self.state.view.maxlen or 0))
            self.state.view.extend(shown)
            added = len(shown)
        else:
            dropped = max(0, before + len(batch) - (self.state.ring.maxlen or 0))
            added = len(batch)
        if not added:
            return
        if self.state.following:
            table.set_rows(self.state.view, cursor=len(self.state.view) - 1)
        else:
            self.state.unseen += added
            table.set_rows(self.state.view, cursor=max(0, table.cursor - dropped))
            self._draw_new()

    # Display -------------------------------------------------------------------------------

    def _draw_head(self) -> None:
        recording = None if self.state.recorder is None else (self.state.record_path, self.state.recorder.count // 1000)
        connection = self._connection()
        key = (self.state.path, self.state.paused, self.state.following, recording, deck_host(self.app).source_label, connection)
        if key == self._head_key:
            return
        self._head_key = key
        where = self.state.path or "."
        state = "paused" if self.state.paused else ("following" if self.state.following else "scrolled back")
        style = "bold reverse" if self.state.paused else "bold"
        if connection is not None:  # not following anything while offline
            state, style = (f"paused · {connection}" if self.state.paused else connection), "bold reverse"
        head = Text.assemble(
            ("watching ", "bold"), (deck_host(self.app).source_label, "bold"), f" · path {where} · ", (state, style),
        )
        if self.state.recorder is not None:
            head.append(f" · ● recording to {self.state.record_path}", style=theme_style(self.app, "bold $text-error"))
        self.query_one("#live-head", Static).update(head)

    def _connection(self) -> str | None:
        """What the head says instead of following while a remote source is not connected."""
        state = getattr(self.source, "state", None)
        if state is None or state == "connected" or not self.state.started or self.state.error:
            return None
        if state == "connecting":
            return "connecting…"
        return "offline" if state == "offline" else f"offline · {state}"

    def _draw_status(self) -> None:
        self.query_one("#live-status", Label).update(self.state.status(self.state.stats.rate(int(time.time()))))

    def _draw_banner(self) -> None:
        if self.state.banner == self._banner_shown:
            return
        self._banner_shown = self.state.banner
        banner = self.query_one("#live-banner", Static)
        banner.set_class(False, "-lost")
        banner.set_class(False, "-notice")
        if self.state.banner is not None:
            cls, text = self.state.banner
            banner.set_class(True, cls)
            banner.update(text)

    def _draw_new(self) -> None:
        label = self.query_one("#live-new", Label)
        label.set_class(self.state.unseen > 0 and not self.state.following, "-shown")
        label.update(f"▼ {self.state.unseen:,} new events — press G (or f) to jump to the newest and follow")

    def _draw_stats(self) -> None:
        self.query_one(LiveStats).show(self.state.stats.snapshot(int(time.time()), width=LiveStats.SPARK_SECONDS), self.state.types)

    def _set_following(self, following: bool) -> None:
        if following == self.state.following:
            return
        self.state.following = following
        if following:
            self.state.unseen = 0
        self._draw_new()
        self._draw_head()

    @on(LiveEventList.Highlighted)
    def _moved(self, event: LiveEventList.Highlighted) -> None:
        self._set_following(event.index >= len(self.state.view) - 1)

    @on(LiveEventList.Selected)
    def _details(self, event: LiveEventList.Selected) -> None:
        """Open the selected event in full, with the ring's other events on its path."""
        from tui.screens.live_event import LiveEventScreen, related_events

        row = self.state.view[event.index]
        self.app.push_screen(LiveEventScreen(row, related_events(self.state.ring, row)))

    # Filtering -------------------------------------------------------------------------------

    def _rebuild(self) -> None:
        """Recompute the view from the ring (filter text or shown types changed)."""
        self.state.refilter()
        table = self.query_one(LiveEventList)
        table.set_rows(self.state.view, cursor=len(self.state.view) - 1 if self.state.following else None)
        self._draw_status()

    @on(Input.Changed, "#live-filter")
    def _text_changed(self, event: Input.Changed) -> None:
        self.state.text = event.value
        self._rebuild()

    @on(Input.Submitted, "#live-filter")
    def _text_submitted(self) -> None:
        self.focus_main()

    # Actions ---------------------------------------------------------------------------------

    def action_pause(self) -> None:
        """Pause ingestion (events keep being counted), or resume and show what was held."""
        self.state.paused = not self.state.paused
        if not self.state.paused:
            held = list(self.state.held_events)
            self.state.held_events.clear()
            self.state.held = 0
            if held:
                self._append(held)
        self._draw_head()
        self._draw_status()

    def action_follow(self) -> None:
        table = self.query_one(LiveEventList)
        table.action_cursor_bottom()
        self._set_following(True)

    def action_filter(self) -> None:
        field = self.query_one("#live-filter", Input)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#live-filter", Input)
        if not field.display and not field.value and self.back_to_origin():
            return
        if field.value:
            field.value = ""
        field.display = False
        self.focus_main()

    def action_match(self, step: int) -> None:
        table = self.query_one(LiveEventList)
        if self.state.view:
            table.move_to((table.cursor + step) % len(self.state.view))

    def action_marker(self, step: int) -> None:
        """Next/previous loss, reconciliation or notice from the cursor."""
        table = self.query_one(LiveEventList)
        rows = list(self.state.view.raw)  # one copy: indexing a deque is linear
        count = len(rows)
        for offset in range(1, count + 1):
            index = (table.cursor + step * offset) % count
            row = rows[index]
            if row[RAW_TYPE] in ("lost", "resynced", "notice") or row[RAW_RECONCILED]:
                table.move_to(index)
                return
        self.notify("no loss, reconciliation or notice in view", timeout=3)

    def action_toggle_type(self, kind: str) -> None:
        """Show or hide a type; the watch is restarted so the kernel only reports what is shown."""
        types = set(self.state.types)
        types.symmetric_difference_update({kind})
        if not types & set(CHANGE_TYPES):
            self.notify("at least one event type must stay on", severity="warning", timeout=3)
            return
        self.state.types = frozenset(types)
        self._rebuild()
        self._draw_stats()
        if self.state.started:
            self._restart()

    def action_toggle_times(self) -> None:
        table = self.query_one(LiveEventList)
        table.show_times = not table.show_times
        table.invalidate()

    def action_clear(self) -> None:
        self.state.ring.clear()
        if self.state.view is not self.state.ring:
            self.state.view.clear()
        self.state.unseen = 0
        self.query_one(LiveEventList).set_rows(self.state.view, cursor=0)
        self._draw_new()

    def action_choose_path(self) -> None:
        from tui.screens.live_prompt import LivePrompt

        def chosen(value: str | None) -> None:
            if value is None:
                return
            self.state.path = "" if value in (".", "/") else value.strip("/")
            self.state.banner = None
            self._draw_banner()
            self._restart()

        self.app.push_screen(LivePrompt("Directory to watch, relative to the source root:", self.state.path or ".", "enter to watch, escape to cancel"), chosen)

    def action_record(self) -> None:
        """Start recording to a file the user names, or stop the recording in progress."""
        if self.state.recorder is not None:
            count, path = self.state.recorder.count, self.state.record_path
            if self._stop_recording():
                self.notify(f"recorded {count:,} events to {path}", title="Recording", timeout=6)
            self._draw_head()
            return
        from tui.screens.live_prompt import LivePrompt

        self.app.push_screen(
            LivePrompt("Record the stream to file (.jsonl or .yaml):", "driftdeck-events.jsonl", "written when you stop (r again)"),
            self._start_recording,
        )

    def _start_recording(self, value: str | None) -> None:
        """Open the recording the user named; never under a local source's (read-only) root."""
        if value is None:
            return
        try:
            target = export_path(self.source, value)
            header = WatchHeader(self.state.path or ".", WatchFilter(types=self.state.types), time.time_ns())
            self.state.recorder = RecordingWriter(target, header, format_for(target, None))
        except (OSError, DriftdeckError) as exc:
            self.report(exc)
            return
        self.state.record_path = target  # absolute: the notices say where the file is, not just its name
        self.state.record_prefix = self.state.path  # event paths are recorded relative to the watched directory
        self._draw_head()

    def _record(self, batch: list[FsEvent]) -> None:
        """Append a batch to the recording; a write error ends it (nothing is published) and is shown."""
        recorder = self.state.recorder
        assert recorder is not None
        try:
            recorder.write([strip_prefix(e, self.state.record_prefix) for e in batch])
        except (OSError, DriftdeckError) as exc:
            self.state.recorder = None
            _discard(recorder)
            self.report(exc)
            self.notify(f"recording to {self.state.record_path} stopped; nothing was written", title="Recording", severity="error", timeout=8)
            self._draw_head()

    def _stop_recording(self) -> bool:
        """Publish the recording in progress; on failure drop its temporary file. Whether it was published."""
        if self.state.recorder is None:
            return False
        recorder, self.state.recorder = self.state.recorder, None
        try:
            recorder.close()
        except (OSError, DriftdeckError) as exc:
            _discard(recorder)
            self.report(exc)
            return False
        return True


    # Selection, go-to and marks (the app's y, Y, :, m, O) -------------------------------

    def selected_item(self) -> Selection | None:
        event = self.query_one(LiveEventList).current
        if event is None:
            return None
        detail = as_detail(event)
        if event.is_marker:
            return Selection("event", event.detail or event.type, detail, title=f"#{event.seq} {event.type}")
        path = event.dest if event.type == "moved" and event.dest else event.path
        return Selection("path", path, detail, path=None if event.is_dir or event.type == "deleted" else path,
                         title=f"#{event.seq} {event.type} {path}")

    def mark_list(self) -> LiveEventList:
        return self.query_one(LiveEventList)

    def goto_candidates(self) -> dict[str, list[str]]:
        recent = self.state.view[-500:] if len(self.state.view) else []
        return {"path": list(dict.fromkeys(e.path for e in reversed(recent) if not e.is_marker))}

    async def goto(self, target: GotoTarget) -> str:
        """``path:P``: the newest event in view on P (as its path or a move's destination)."""
        if target.kind != "path":
            return await super().goto(target)
        wanted = target.value.strip("/")
        rows = list(self.state.view.raw)  # one copy: indexing a deque is linear
        for index in range(len(rows) - 1, -1, -1):
            if wanted in (rows[index][RAW_PATH], rows[index][RAW_DEST]):
                self.query_one(LiveEventList).move_to(index)
                return f"event #{self.state.view[index].seq} on {wanted}"
        raise GotoError(f"no event on {wanted!r} among the {len(self.state.view):,} shown")

def _discard(recorder: RecordingWriter) -> None:
    """Drop an unfinished recording's temporary file, whatever state its handle is in.

    ``abort()`` closes the handle before unlinking; when that close fails (its
    flush hits the same full disk as the write did) the handle is closed anyway,
    so a second ``abort()`` gets to the unlink.
    """
    for _ in range(2):
        try:
            recorder.abort()
            return
        except OSError:
            continue
