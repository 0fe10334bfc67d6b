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

from backends.models import CAP_INVENTORY, ArtifactInfo, ArtifactPreview, EvidenceRef, RunDetail, RunEvent, RunSummary, SnapshotInfo
from tui.widgets.event_list import EventList
from tui.widgets.keyed_option_list import KeyedOptionList
from tui.errors import error_message
from tui.host import deck_host
from tui.selection import Selection
from tui.units import human_size
from tui.evidence_targets import evidence_place, reason_place, split_ref
from tui.widgets.evidence_list import EvidenceList, EvidenceRow, evidence_rows, missing_summary
from tui.widgets.source_bar import SourceBar
from tui.theme_style import syntax_theme, theme_style

PREVIEW_BYTES = 64 * 1024
"""How much of an artifact the preview shows."""

TIMELINE_PAGE = 1000
TIMELINE_CAP = 200_000
"""Record events kept in memory for the timeline at most."""


def record_line(ref: str, record_path: str | None) -> int | None:
    """The line ``ref`` names in the run's record (``<record>#L<n>``), if it names one."""
    path, line = split_ref(ref)
    return line if record_path is not None and path == record_path else None


class RunDetailScreen(Screen[None]):
    """Everything about one run; escape goes back to the list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("f", "follow_reason", "Follow reason"),
        Binding("e", "missing(1)", "Next missing"),
        Binding("E", "missing(-1)", "Prev missing", show=False),
        Binding("a", "focus_part('artifacts')", "Artifacts"),
        Binding("v", "focus_part('evidence')", "Evidence"),
        Binding("p", "focus_part('preview-scroll')", "Preview"),
        Binding("t", "focus_part('timeline')", "Timeline"),
        Binding("j", "scroll_focused(1)", "Down", show=False),
        Binding("k", "scroll_focused(-1)", "Up", show=False),
        Binding("g", "scroll_focused_end(0)", "Top", show=False),
        Binding("G", "scroll_focused_end(1)", "Bottom", show=False),
        Binding("question_mark", "app.help", "Help"),
    ]

    def __init__(self, run: RunSummary) -> None:
        super().__init__()
        self.run = run
        self.detail: RunDetail | None = None
        self._events: list[RunEvent] = []
        self._evidence: list[EvidenceRow] = []
        self._places: tuple[list[SnapshotInfo], list[str]] | None = None
        """The source's snapshots and manifests, read once for the evidence links (a 100k-run walk takes seconds)."""

    def compose(self) -> ComposeResult:
        yield SourceBar()
        yield Static(self._headline(), id="detail-head")
        with Horizontal(id="detail-body"):
            with Vertical(id="detail-left"):
                yield Label("Quarantine artifacts", id="artifacts-title", classes="section-title")
                yield KeyedOptionList(id="artifacts")
                yield Static("", id="artifact-detail")
                yield Label("Evidence", id="evidence-title", classes="section-title")
                yield EvidenceList(id="evidence")
                yield Static("", id="evidence-current")
            with Vertical(id="detail-right"):
                with VerticalScroll(id="status-scroll"):
                    yield Static("loading…", id="status-table")
                yield Label("Preview", id="preview-title", classes="section-title")
                with VerticalScroll(id="preview-scroll"):
                    yield Static("", id="preview")
        yield Label("Record timeline", id="timeline-title", classes="section-title")
        yield EventList(id="timeline")
        yield Footer()

    def _headline(self) -> Text:
        run = self.run
        text = Text.assemble((f" {run.run_id} ", "bold reverse"), "  ", (run.state or "UNREADABLE", "bold"))
        if self.detail is not None:  # the count comes early: on a narrow terminal the line wraps after it
            missing = any(row.missing for row in self._evidence)
            text.append("  ")
            text.append(f" {missing_summary(self._evidence)} " if missing else missing_summary(self._evidence),
                        style="bold reverse" if missing else "")
        text.append("  ")
        text.append(run.reason_code or "no reason code", style="bold")
        text.append(f"   updated {run.updated_at or '-'}   {run.key}")
        if run.problem is not None:
            text.append(f"\n ⚠ {run.problem}", style="bold")
        return text

    def on_mount(self) -> None:
        self.query_one(EventList).mark_scope = self.run.key  # timeline marks belong to this run
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
        self._evidence = evidence_rows(detail.artifacts)
        evidence = self.query_one(EvidenceList)
        evidence.show_artifacts = len(detail.artifacts) > 1
        evidence.set_rows(self._evidence, cursor=0)
        self.query_one("#evidence-title", Label).update(f"Evidence: {missing_summary(self._evidence)}")
        self.query_one("#detail-head", Static).update(self._headline())
        if detail.artifacts:
            artifacts.highlighted = 0
        else:
            self.query_one("#artifact-detail", Static).update(Text("this run has no quarantine artifacts", style="italic"))
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
        self.query_one("#artifact-detail", Static).update(self._artifact_detail(artifact))
        self._load_preview(artifact)

    @staticmethod
    def _artifact_detail(artifact: ArtifactInfo) -> Text:
        """Why the artifact says the run was quarantined, and when."""
        if artifact.problem is not None:
            return Text(f"⚠ {artifact.problem}", style="bold")
        text = Text(artifact.detail or "no detail given", style="italic")
        if artifact.quarantined_at:
            text.append(f"\nquarantined at {artifact.quarantined_at}", style="not italic")
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

    def action_missing(self, step: int) -> None:
        """Next/previous missing evidence in the evidence list, wrapping around."""
        evidence = self.query_one(EvidenceList)
        count = len(self._evidence)
        for offset in range(1, count + 1):
            index = (evidence.cursor + step * offset) % count
            if self._evidence[index].missing:
                evidence.move_to(index)
                evidence.focus()
                return
        self.notify("no evidence of this run is missing" if count else "this run cites no evidence", timeout=3)

    def action_scroll_focused(self, step: int) -> None:
        """j/k for a focused part that has no cursor of its own (the preview, the status)."""
        focused = self.focused
        if focused is not None:
            focused.scroll_relative(y=step, animate=False)

    def action_scroll_focused_end(self, end: int) -> None:
        """g/G for a focused part that has no cursor of its own."""
        focused = self.focused
        if focused is not None:
            (focused.scroll_end if end else focused.scroll_home)(animate=False)

    @on(EvidenceList.Highlighted, "#evidence")
    def _evidence_highlighted(self, event: EvidenceList.Highlighted) -> None:
        """The highlighted reference in full (the row is cut on a narrow terminal)."""
        row = self._evidence[event.index]
        text = Text(row.ref.ref)
        if row.ref.note:
            text.append(f" — {row.ref.note}", style="italic")
        self.query_one("#evidence-current", Static).update(text)

    @on(EvidenceList.Selected, "#evidence")
    def _evidence_selected(self, event: EvidenceList.Selected) -> None:
        """enter on evidence: a line of this run's record shows in the timeline; a WAL line, a manifest
        or a snapshot file opens the pane that shows it (escape there comes back here)."""
        row = self._evidence[event.index]
        line = record_line(row.ref.ref, self.detail.record_path if self.detail else None)
        if line is None:
            self._follow(row.ref)
            return
        timeline = self.query_one(EventList)
        index = next((i for i, e in enumerate(self._events) if e.line >= line), None)
        if index is None:
            self.notify(f"line {line} of the record is not loaded (yet)", timeout=4)
            return
        timeline.move_to(index)
        timeline.focus()

    def action_follow_reason(self) -> None:
        """f: from the reason code to the place that answers it (the first divergence, the drifted manifest…)."""
        self._follow(None)

    @work(exclusive=True, group="follow", exit_on_error=False)
    async def _follow(self, ref: EvidenceRef | None) -> None:
        detail = self.detail
        if detail is None:
            return
        offered = getattr(self.app, "offered", None)  # absent on a screen tested outside the deck
        if self._places is None:
            source = deck_host(self.app).source
            if offered is None or (await offered()).offers(CAP_INVENTORY):
                self._places = (await source.list_snapshots(), await source.list_manifests())
            else:  # a source that lists no snapshots or manifests: its WAL evidence still leads somewhere
                self._places = ([], [])
        snapshots, manifests = self._places
        if ref is None:
            place = reason_place(detail, snapshots, manifests)
            what = detail.summary.reason_code or "this run"
        else:
            others = next((a.evidence for a in detail.artifacts if ref in a.evidence), ())
            place = evidence_place(ref, detail, snapshots, manifests, others)
            what = ref.ref
        if place is None:
            self.notify(f"{what}: no pane shows this (the evidence list and the timeline are all there is)", timeout=5)
            return
        follow = getattr(self.app, "follow", None)
        not_offered = getattr(self.app, "target_not_offered", None)
        if follow is None or not_offered is None:  # a screen tested outside the deck
            return
        missing = await not_offered(place.targets[0])
        if missing is not None:
            self.notify(f"{what} → {missing}", title="Not offered", timeout=8)
            return
        self.notify(f"{what} → {place.label}; escape comes back to {self.run.run_id}", timeout=5)
        follow(place.targets, self.run)

    def action_back(self) -> None:
        self.dismiss()

    # Selection and marks (the app's y, Y, m, O) ------------------------------------------

    def selected_item(self) -> Selection | None:
        """The timeline event or the artifact that has the focus; else the run itself."""
        timeline = self.query_one(EventList)
        if timeline.has_focus and timeline.current is not None:
            event: RunEvent = timeline.current
            record = self.detail.record_path if self.detail is not None else None
            detail = {"run_id": self.run.run_id, "line": event.line, "event_id": event.event_id, "ts": event.ts,
                      "kind": event.kind, "fields": dict(event.fields), "problem": None if event.problem is None else str(event.problem)}
            return Selection("event id" if event.event_id else "line", event.event_id or f"{record}:{event.line}", detail,
                             path=record, line=event.line, title=f"{self.run.run_id} line {event.line}")
        artifacts = self.query_one("#artifacts", OptionList)
        index = artifacts.highlighted
        if artifacts.has_focus and self.detail is not None and index is not None and index < len(self.detail.artifacts):
            artifact = self.detail.artifacts[index]
            return Selection("path", artifact.path, {"run_id": self.run.run_id, **artifact.to_json()}, path=artifact.path, title=artifact.path)
        return Selection("run id", self.run.run_id, self.run.to_json(), path=self.detail.status_path if self.detail else None,
                         title=f"run {self.run.run_id}")

    def mark_list(self) -> EventList:
        """Marks go on the record timeline."""
        return self.query_one(EventList)
