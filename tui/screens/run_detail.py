"""``RunDetailScreen``: one run's status, artifacts with preview, evidence and record."""

from __future__ import annotations

from typing import ClassVar

import orjson
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from backends.models import ArtifactInfo, ArtifactPreview, RunDetail, RunEvent, RunSummary
from tui.widgets.event_list import EventList
from tui.widgets.keyed_option_list import KeyedOptionList
from tui.errors import error_message
from tui.host import deck_host
from tui.units import human_size
from tui.widgets.source_bar import SourceBar
from tui.theme_style import syntax_theme, theme_style

PREVIEW_BYTES = 64 * 1024
"""How much of an artifact the preview shows."""

TIMELINE_PAGE = 1000
TIMELINE_CAP = 200_000
"""Record events kept in memory for the timeline at most."""



class RunDetailScreen(Screen[None]):
    """Everything about one run; escape goes back to the list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("a", "focus_part('artifacts')", "Artifacts"),
        Binding("p", "focus_part('preview-scroll')", "Preview"),
        Binding("t", "focus_part('timeline')", "Timeline"),
        Binding("question_mark", "app.help", "Help"),
    ]

    def __init__(self, run: RunSummary) -> None:
        super().__init__()
        self.run = run
        self.detail: RunDetail | None = None
        self._events: list[RunEvent] = []

    def compose(self) -> ComposeResult:
        yield SourceBar()
        yield Static(self._headline(), id="detail-head")
        with Horizontal(id="detail-body"):
            with VerticalScroll(id="detail-left"):
                yield Static("loading…", id="status-table")
                yield Label("Quarantine artifacts", id="artifacts-title", classes="section-title")
                yield KeyedOptionList(id="artifacts")
                yield Label("Evidence", classes="section-title")
                yield Static("", id="evidence")
            with Vertical(id="detail-right"):
                yield Label("Preview", id="preview-title", classes="section-title")
                with VerticalScroll(id="preview-scroll"):
                    yield Static("", id="preview")
        yield Label("Record timeline", id="timeline-title", classes="section-title")
        yield EventList(id="timeline")
        yield Footer()

    def _headline(self) -> Text:
        run = self.run
        text = Text.assemble(
            (f" {run.run_id} ", "bold reverse"),
            "  ",
            (run.state or "UNREADABLE", "bold"),
            "  ",
            (run.reason_code or "no reason code", "bold"),
            f"   updated {run.updated_at or '-'}   {run.key}",
        )
        if run.problem is not None:
            text.append(f"\n ⚠ {run.problem}", style="bold")
        return text

    def on_mount(self) -> None:
        self._load_detail()
        self._load_timeline()
        self.query_one("#artifacts", OptionList).focus()
        # Its texts carry the theme's colours as Rich styles: drawn again when the theme changes.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._load_detail())

    # Loading -------------------------------------------------------------------

    @work(group="detail", exit_on_error=False)
    async def _load_detail(self) -> None:
        detail = await deck_host(self.app).source.get_run(self.run.key)
        self.detail = detail
        self.query_one("#status-table", Static).update(self._status_table(detail))
        artifacts = self.query_one("#artifacts", OptionList)
        artifacts.clear_options()
        for artifact in detail.artifacts:
            label = Text(artifact.name)
            label.append(f"  {human_size(artifact.size)}")
            if artifact.problem is not None:
                label.append("  ⚠", style=theme_style(self.app, "bold $text-error"))
            artifacts.add_option(Option(label, id=artifact.path))
        self.query_one("#artifacts-title", Label).update(f"Quarantine artifacts ({len(detail.artifacts)})")
        if detail.artifacts:
            artifacts.highlighted = 0
        else:
            self.query_one("#evidence", Static).update(Text("this run has no quarantine artifacts", style="italic"))
            self.query_one("#preview", Static).update(Text("nothing to preview", style="italic"))
        for problem in detail.problems:
            self.notify(str(problem), severity="warning", timeout=6)

    def _status_table(self, detail: RunDetail) -> Table:
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        if not detail.status:
            table.add_row("status", Text(str(detail.summary.problem or "no status"), style=theme_style(self.app, "$text-error")))
        for key, value in detail.status.items():
            shown = value if isinstance(value, str) else orjson.dumps(value).decode()
            table.add_row(str(key), shown[:300])
        table.add_row("record", f"{detail.record_path or '-'} ({human_size(detail.record_size)})")
        if detail.wal_files:
            table.add_row("wal", ", ".join(f.rsplit("/", 1)[-1] for f in detail.wal_files))
        return table

    @work(group="timeline", exit_on_error=False)
    async def _load_timeline(self) -> None:
        timeline = self.query_one(EventList)
        title = self.query_one("#timeline-title", Label)
        cursor: str | None = None
        while True:
            page = await deck_host(self.app).source.run_events(self.run.key, cursor, TIMELINE_PAGE)
            self._events.extend(page.items)
            cursor = page.next_cursor
            at_end = cursor is None or len(self._events) >= TIMELINE_CAP
            timeline.set_rows(self._events, cursor=len(self._events) - 1)
            bad = sum(1 for e in self._events if e.problem is not None)
            status = "" if at_end else " (loading…)"
            if cursor is not None and len(self._events) >= TIMELINE_CAP:
                status = f" (first {TIMELINE_CAP:,} shown)"
            warn = f", {bad} malformed" if bad else ""
            title.update(f"Record timeline: {len(self._events):,} events{warn}{status}, newest last")
            if at_end:
                return

    @on(OptionList.OptionHighlighted, "#artifacts")
    def _artifact_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.detail is None or event.option_index >= len(self.detail.artifacts):
            return
        artifact = self.detail.artifacts[event.option_index]
        self.query_one("#evidence", Static).update(self._evidence(artifact))
        self._load_preview(artifact)

    def _evidence(self, artifact: ArtifactInfo) -> Text:
        if artifact.problem is not None:
            return Text(f"⚠ {artifact.problem}", style=theme_style(self.app, "bold $text-error"))
        text = Text()
        if artifact.detail:
            text.append(artifact.detail + "\n", style="italic")
        if artifact.quarantined_at:
            text.append(f"quarantined at {artifact.quarantined_at}\n", style=theme_style(self.app, "$text-muted"))
        if not artifact.evidence:
            text.append("no evidence listed", style="italic")
        for ref in artifact.evidence:
            mark, style = {True: ("✓", "$text-success"), False: ("✗ missing", "bold $text-error"), None: ("·", "$text-muted")}[ref.exists]
            text.append(f"{mark} ", style=theme_style(self.app, style))
            text.append(f"[{ref.kind}] ", style=theme_style(self.app, "$text-muted"))
            text.append(ref.ref)
            if ref.note:
                text.append(f" — {ref.note}", style=theme_style(self.app, "$text-muted"))
            text.append("\n")
        return text

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def _load_preview(self, artifact: ArtifactInfo) -> None:
        self.query_one("#preview-title", Label).update(f"Preview: {artifact.path}")
        preview = await deck_host(self.app).source.artifact_preview(artifact.path, PREVIEW_BYTES)
        self.query_one("#preview", Static).update(self._render_preview(preview))
        self.query_one("#preview-scroll", VerticalScroll).scroll_home(animate=False)

    def _render_preview(self, preview: ArtifactPreview) -> Group:
        parts: list[RenderableType] = []
        if preview.problem is not None:
            parts.append(Text(f"⚠ {preview.problem}", style=theme_style(self.app, "bold $text-error")))
        parts.append(Syntax(preview.text, preview.language, theme=syntax_theme(self.app), line_numbers=True, word_wrap=True))
        if preview.truncated:
            parts.append(Text(f"… preview cut at {human_size(PREVIEW_BYTES)} of {human_size(preview.size)}", style="italic"))
        return Group(*parts)

    @on(EventList.Selected, "#timeline")
    def _event_selected(self, event: EventList.Selected) -> None:
        item = self._events[event.index]
        self.query_one("#preview-title", Label).update(f"Record event, line {item.line}")
        if item.problem is not None:
            body: RenderableType = Text(f"⚠ {item.problem}", style=theme_style(self.app, "bold $text-error"))
        else:
            text = orjson.dumps(dict(item.fields), option=orjson.OPT_INDENT_2).decode()
            body = Syntax(text, "json", theme=syntax_theme(self.app), line_numbers=True)
        self.query_one("#preview", Static).update(body)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            report_error = getattr(self.app, "report_error", None)
            if report_error is None:
                self.notify(error_message(event.worker.error), severity="error", timeout=8)
                return
            retry = {"detail": self._load_detail, "timeline": self._reload_timeline, "preview": self._reload_preview}.get(event.worker.group)
            report_error(event.worker.error, self, retry=retry, after=self.query_one(SourceBar))

    def _reload_timeline(self) -> None:
        self._events.clear()
        self._load_timeline()

    def _reload_preview(self) -> None:
        index = self.query_one("#artifacts", OptionList).highlighted
        if self.detail is not None and index is not None and index < len(self.detail.artifacts):
            self._load_preview(self.detail.artifacts[index])

    def action_focus_part(self, widget_id: str) -> None:
        """Focus one part of the screen by its id."""
        self.query_one(f"#{widget_id}").focus()

    def action_back(self) -> None:
        self.dismiss()
