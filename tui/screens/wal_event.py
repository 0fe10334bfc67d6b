"""``WalEventScreen``: one aligned row: the recorded and the replayed event, and what differs."""

from __future__ import annotations

from typing import ClassVar

import orjson
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static
from textual.worker import Worker, WorkerState

from backends.wal.alignment import AlignedRow
from backends.wal.lines import WalLine
from backends.wal.rules import WalRules
from tui.errors import error_message
from tui.host import deck_host
from tui.widgets.source_bar import SourceBar
from tui.theme_style import syntax_theme, theme_style

EVENT_CHARS = 256 * 1024
"""Characters of one event fetched for this screen at most."""


class WalEventScreen(Screen[None]):
    """The event pair of one row, pretty-printed side by side, with its field-level diff."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("question_mark", "app.help", "Help"),
    ]

    DEFAULT_CSS = """
    WalEventScreen #wal-event-head { height: auto; padding: 0 1; background: $panel; }
    WalEventScreen #wal-event-changes { height: auto; max-height: 12; padding: 0 1; }
    WalEventScreen #wal-event-body { height: 1fr; }
    WalEventScreen .wal-event-side { width: 1fr; }
    WalEventScreen #wal-event-replay-scroll { border-left: vkey $panel; }
    WalEventScreen .wal-event-title { padding: 0 1; text-style: bold; color: $accent; }
    """

    def __init__(self, row: AlignedRow, record: str, replay: str | None, rules: WalRules) -> None:
        super().__init__()
        self.row = row
        self.record = record
        self.replay = replay
        self.rules = rules

    def compose(self) -> ComposeResult:
        yield SourceBar()
        yield Static(self._headline(), id="wal-event-head")
        yield Static(self._changes(), id="wal-event-changes")
        with Horizontal(id="wal-event-body"):
            for side, path, line in (("record", self.record, self.row.record_line),
                                     ("replay", self.replay, self.row.replay_line)):
                with VerticalScroll(classes="wal-event-side", id=f"wal-event-{side}-scroll"):
                    where = f"line {line}" if line is not None else "no line"
                    yield Label(f"{side.capitalize()}: {path or '-'} · {where}", classes="wal-event-title")
                    yield Static("loading…" if line is not None else self._absent(side), id=f"wal-event-{side}")
        yield Footer()

    def _headline(self) -> Text:
        divergence = self.row.divergence
        if divergence is None:
            return Text(" identical under the parity rules ", style="bold reverse")
        text = Text.assemble((f" {divergence.kind} ", "bold reverse"), "  ", divergence.headline())
        return text

    def _changes(self) -> RenderableType:
        divergence = self.row.divergence
        if divergence is None or not divergence.changes:
            return Text(f"rules: {self.rules.describe()}", style=theme_style(self.app, "$text-muted"))
        table = Table(box=None, padding=(0, 2), show_edge=False, header_style="bold")
        table.add_column("field", no_wrap=True)
        table.add_column("expected (record)", overflow="fold")
        table.add_column("found (replay)", overflow="fold")
        for change in divergence.changes[:200]:
            table.add_row(change.path or "(event)", change.expected or "absent", change.found or "absent")
        return table

    @staticmethod
    def _absent(side: str) -> Text:
        return Text("(missing in replay)" if side == "replay" else "(not in the record: extra in replay)", style="italic")

    def on_mount(self) -> None:
        self._load()

    @work(exclusive=True, group="wal-event", exit_on_error=False)
    async def _load(self) -> None:
        source = deck_host(self.app).source
        for side, path, number in (("record", self.record, self.row.record_line),
                                   ("replay", self.replay, self.row.replay_line)):
            if path is None or number is None:
                continue
            lines = await source.wal_lines(path, number, 1, self.rules, max_chars=EVENT_CHARS)
            body: RenderableType = Text("(past the end of the file)", style="italic") if not lines else self._render_event(lines[0])
            self.query_one(f"#wal-event-{side}", Static).update(body)

    def _render_event(self, line: WalLine) -> RenderableType:
        parts: list[RenderableType] = []
        if line.problem is not None:
            parts.append(Text(f"⚠ line {line.line}: {line.problem}", style=theme_style(self.app, "bold $text-error")))
            parts.append(Text(line.text))
            return Group(*parts)
        text = line.text
        if not line.cut:
            text = orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode()
        parts.append(Syntax(text, "json", theme=syntax_theme(self.app), word_wrap=True))
        if line.cut:
            parts.append(Text(f"… cut at {EVENT_CHARS:,} characters", style="italic"))
        return Group(*parts)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            report_error = getattr(self.app, "report_error", None)
            if report_error is None:
                self.notify(error_message(event.worker.error), severity="error", timeout=8)
                return
            report_error(event.worker.error, self, retry=self._load, after=self.query_one(SourceBar))

    def action_back(self) -> None:
        self.dismiss()
