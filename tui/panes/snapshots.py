"""Pane 4, Snapshots: what differs between two trace snapshots (trees of files)?

The left side is a tree of differences (group → directory → entry) streamed
from ``source.diff_snapshots``; the right side shows the highlighted entry's
content diff, fetched on demand with ``source.diff_entry``: unified or side by
side for text, a path/old/new table for JSON/YAML/JSONL, sizes and digests for
binary files.
"""

from __future__ import annotations

import asyncio
import os
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static
from textual.worker import Worker, get_current_worker

from backends.errors import DriftdeckError, ForbiddenError
from backends.snapshots.models import CATEGORY_TITLES, EntryContent, EntryDiff, SnapshotRules
from tui.export import export_path
from tui.state.snapshots import SnapshotsState
from tui.goto import GotoError, GotoTarget
from tui.panes.base import DeckPane
from tui.selection import Selection, as_detail
from tui.widgets.snapshot_diff_view import SnapshotDiffView
from tui.widgets.snapshot_tree import SnapshotTree, TreeRow, build_rows

FLUSH_SECONDS = 0.1
"""How often streamed entries are merged into the tree."""

PREVIEW_DELAY = 0.15
"""The content diff loads once the cursor rests this long on an entry."""


class SnapshotsPane(DeckPane):
    """Baseline and candidate pickers, the tree of differences, and the selected entry's diff."""

    PANE_KEY = "4"
    PANE_ID = "snapshots"
    PANE_TITLE = "Snapshots"
    PANE_SUMMARY = "What differs between two trace snapshots (trees of files)?"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "difference(1)", "Next diff", tooltip="Next difference"),
        Binding("E", "difference(-1)", "Prev difference", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("n", "match(1)", "Next match", show=False),
        Binding("N", "match(-1)", "Prev match", show=False),
        Binding("v", "toggle_view", "Split", tooltip="Unified/side"),
        Binding("t", "toggle_structured", "Values/lines", show=False),
        Binding("a", "toggle_rules", "Rules", tooltip="Apply rules"),
        Binding("u", "toggle_unchanged", "Unchanged"),
        Binding("x", "export", "Export"),
        Binding("b", "focus_select('snap-baseline')", "Baseline", show=False),
        Binding("c", "focus_select('snap-candidate')", "Candidate", show=False),
        Binding("d", "focus_diff", "Diff", show=False),
        Binding("R", "rerun", "Re-run", show=False),
        Binding("escape", "back", "Back/cancel", show=False),
    ]

    DEFAULT_CSS = """
    SnapshotsPane #snap-toolbar { height: 1; background: $panel; }
    SnapshotsPane #snap-toolbar Select { width: 25; }
    SnapshotsPane #snap-arrow { padding: 0 1; color: $text-muted; }
    SnapshotsPane #snap-status { padding: 0 1; width: 1fr; color: $text-muted; }
    SnapshotsPane #snap-body { height: 1fr; }
    SnapshotsPane #snap-left { width: 38%; min-width: 30; border-right: vkey $panel; }
    SnapshotsPane #snap-right { width: 1fr; }
    SnapshotsPane #snap-tree { height: 1fr; }
    SnapshotsPane #snap-diff { height: 1fr; }
    SnapshotsPane .snap-title { padding: 0 1; color: $accent; text-style: bold; height: 1; }
    SnapshotsPane #snap-context { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    SnapshotsPane #snap-filter, SnapshotsPane #snap-export { dock: bottom; }
    """

    def __init__(self, *, build: bool = True) -> None:
        super().__init__(build=build)
        self.state = SnapshotsState()
        self._flush_timer: Timer | None = None
        self._preview_timer: Timer | None = None
        self._diff_worker: Worker[None] | None = None

    def compose_content(self) -> ComposeResult:
        with Horizontal(id="snap-toolbar"):
            yield Select([], prompt="baseline", id="snap-baseline", compact=True)
            yield Label("→", id="snap-arrow")
            yield Select([], prompt="candidate", id="snap-candidate", compact=True)
            yield Label("reading snapshots…", id="snap-status")
        with Horizontal(id="snap-body"):
            with Vertical(id="snap-left"):
                yield Label("Differences", id="snap-tree-title", classes="snap-title")
                yield SnapshotTree(id="snap-tree")
            with Vertical(id="snap-right"):
                yield Label("", id="snap-diff-title", classes="snap-title")
                yield SnapshotDiffView(id="snap-diff")
                yield Static("", id="snap-context")
        yield Input(placeholder="filter paths (prefix ! to invert), enter to keep, escape to clear", id="snap-filter")
        yield Input(placeholder="write the report to (.html for HTML, else Markdown), enter to write, escape to cancel", id="snap-export")

    def content_mounted(self) -> None:
        self._flush_timer = self.set_interval(FLUSH_SECONDS, self._flush, pause=True)
        self.query_one("#snap-filter", Input).display = False
        self.query_one("#snap-export", Input).display = False
        self.query_one("#snap-context", Static).display = False
        self._load()

    def main_widget(self) -> Widget:
        return self.query_one(SnapshotTree)

    # Loading -------------------------------------------------------------------

    @work(exclusive=True, group="snap-load", exit_on_error=False)
    async def _load(self) -> None:
        if not await self.require():
            return
        state = self.state
        try:
            state.rules = await self.source.snapshot_rules()
        except DriftdeckError as exc:
            self.report(exc)
            state.rules = SnapshotRules()
        state.snapshots = await self.source.list_snapshots()
        names = [s.name for s in state.snapshots]
        options = [(s.name, s.name) for s in state.snapshots]
        for select_id in ("snap-baseline", "snap-candidate"):
            select = self.query_one(f"#{select_id}", Select)
            with self.prevent(Select.Changed):
                select.set_options(options)
        if len(names) < 2:
            found = "no snapshot" if not names else f"only {names[0]}"
            self._set_status(f"needs two snapshots to compare; found {found} under the layout's snapshots glob")
            self.query_one(SnapshotDiffView).set_content(None, "nothing to compare")
            return
        state.baseline, state.candidate = names[-2], names[-1]
        with self.prevent(Select.Changed):
            self.query_one("#snap-baseline", Select).value = state.baseline
            self.query_one("#snap-candidate", Select).value = state.candidate
        self._start_diff()

    def _start_diff(self) -> None:
        pair = self.state.pair
        if pair is None:
            return
        self.state.start()
        self.query_one(SnapshotTree).set_rows([], cursor=0)
        self.query_one(SnapshotDiffView).set_content(None, "comparing…")
        self.query_one("#snap-diff-title", Label).update("")
        if self._flush_timer is not None:
            self._flush_timer.resume()
        self._diff_worker = self._diff(*pair, self.state.rules)

    @work(exclusive=True, group="snap-diff", exit_on_error=False)
    async def _diff(self, baseline: str, candidate: str, rules: SnapshotRules) -> None:
        this = get_current_worker()
        try:
            async for item in self.source.diff_snapshots(baseline, candidate, rules):
                self.state.add(item)
        finally:
            if this is self._diff_worker:  # a comparison replaced by another (a go-to) ends without a word
                self._diff_ended()

    def _diff_ended(self) -> None:
        """The comparison shown has ended (all read, failed or cancelled): show what it read."""
        self.state.comparing = False
        self._flush()
        if self._flush_timer is not None:
            self._flush_timer.pause()
        tree = self.query_one(SnapshotTree)
        if tree.current is None or tree.current.entry is None:
            first = next((i for i, r in enumerate(tree.rows) if r.entry is not None and r.entry.is_difference), None)
            if first is not None:
                tree.move_to(first)

    def _flush(self) -> None:
        if self.state.take_pending():
            self._rebuild()
        else:
            self._update_status()

    def _rebuild(self) -> None:
        tree = self.query_one(SnapshotTree)
        current: TreeRow | None = tree.current
        state = self.state
        rows = build_rows(
            state.entries,
            group_order=[label for _, label in state.rules.groups],
            collapsed=state.collapsed,
            show_unchanged=state.show_unchanged,
            text=state.text,
        )
        cursor = 0
        if current is not None:
            cursor = next((i for i, row in enumerate(rows) if row.key == current.key and row.kind == current.kind), 0)
        elif not state.comparing:
            cursor = next((i for i, row in enumerate(rows) if row.entry is not None and row.entry.is_difference), 0)
        tree.set_rows(rows, cursor=cursor)
        self._update_status()
        self._schedule_preview()

    def _update_status(self) -> None:
        self._set_status(self.state.status())
        self.query_one("#snap-tree-title", Label).update(self.state.tree_title())

    def _set_status(self, text: str) -> None:
        self.query_one("#snap-status", Label).update(text)

    # The selected entry's diff ---------------------------------------------------

    def _schedule_preview(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()
        self._preview_timer = self.set_timer(PREVIEW_DELAY, self._show_current)

    @on(SnapshotTree.Highlighted, "#snap-tree")
    def _highlighted(self) -> None:
        self._schedule_preview()

    @on(SnapshotTree.Selected, "#snap-tree")
    def _selected(self, event: SnapshotTree.Selected) -> None:
        row: TreeRow = self.query_one(SnapshotTree).rows[event.index]
        if row.kind == "entry":
            self._show_current()
            self.query_one(SnapshotDiffView).focus()
            return
        self.state.collapsed = self.state.collapsed ^ {row.key}
        self._rebuild()

    def _show_current(self) -> None:
        row: TreeRow | None = self.query_one(SnapshotTree).current
        if row is None or row.entry is None:
            return
        entry = row.entry
        key = self.state.content_key(entry)
        if key == self.state.shown_key:
            return
        self.state.shown_key = key
        self.query_one("#snap-diff-title", Label).update(self._entry_title(entry))
        self._load_content(entry, self.state.content_mode)

    def _entry_title(self, entry: EntryDiff) -> Text:
        title = Text(entry.path, style="bold")
        if entry.old_path:
            title = Text.assemble((entry.old_path, "bold"), " → ", (entry.path, "bold"))
        what = CATEGORY_TITLES[entry.category]
        if entry.same_after_rules:
            what += ", same after rules"
        elif entry.label:
            what += f", {entry.label}"
        title.append(f"  {what} · {entry.group}", style="not bold")
        return title

    @work(exclusive=True, group="snap-content", exit_on_error=False)
    async def _load_content(self, entry: EntryDiff, mode: str) -> None:
        view = self.query_one(SnapshotDiffView)
        context = self.query_one("#snap-context", Static)
        context.display = False
        if entry.kind_a not in (None, "file") or entry.kind_b not in (None, "file") or entry.category == "unreadable":
            view.set_content(None, self._describe(entry))
            return
        pair = self.state.pair
        if pair is None:  # entries come from a diff of a chosen pair
            return
        view.set_content(None, "loading…")
        try:
            content = await self.source.diff_entry(*pair, entry.path, self.state.rules, mode, old_path=entry.old_path)
        except DriftdeckError as exc:
            view.set_content(None, str(exc))
            return
        self.state.content = content
        view.set_content(content, f"same after rules: {entry.rule}" if entry.same_after_rules else "")
        self._update_context()

    @staticmethod
    def _describe(entry: EntryDiff) -> str:
        if entry.category == "unreadable":
            return f"could not be read: {entry.error}"
        sides = []
        for side, kind, target in (("baseline", entry.kind_a, entry.target_a), ("candidate", entry.kind_b, entry.target_b)):
            if kind is None:
                sides.append(f"{side}: absent")
            elif kind == "symlink":
                sides.append(f"{side}: symlink → {target}")
            else:
                sides.append(f"{side}: {'directory' if kind == 'dir' else kind}")
        return "; ".join(sides)

    @on(SnapshotDiffView.Highlighted, "#snap-diff")
    def _update_context(self) -> None:
        change = self.query_one(SnapshotDiffView).current_field
        context = self.query_one("#snap-context", Static)
        if change is None or not (change.parent or change.context):
            context.display = False
            return
        text = Text(f"{change.path}", style="bold")
        if change.context:
            text.append(f"  @ {change.context}")
        if change.parent:
            text.append(f"\nin {change.parent}")
        context.update(text)
        context.display = True

    # Choosing snapshots -----------------------------------------------------------

    @on(Select.Changed, "#snap-baseline")
    def _baseline_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.state.baseline:
            self.state.baseline = event.value
            self._start_diff()

    @on(Select.Changed, "#snap-candidate")
    def _candidate_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.state.candidate:
            self.state.candidate = event.value
            self._start_diff()

    # Filter ------------------------------------------------------------------------

    @on(Input.Changed, "#snap-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.state.text = event.value
        self._rebuild()

    @on(Input.Submitted, "#snap-filter")
    def _filter_submitted(self) -> None:
        self.query_one(SnapshotTree).focus()

    # Export ------------------------------------------------------------------------

    @on(Input.Submitted, "#snap-export")
    def _export_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        field = self.query_one("#snap-export", Input)
        field.display = False
        self.query_one(SnapshotTree).focus()
        if path:
            self._export(path)

    @work(exclusive=True, group="snap-export", exit_on_error=False)
    async def _export(self, path: str) -> None:
        from backends.atomic import atomic_write
        from backends.snapshots.report import render_markdown, wanted_contents

        try:
            path = export_path(self.source, path)
        except ForbiddenError as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return
        summary, pair = self.state.summary, self.state.pair
        if summary is None or pair is None:
            self.notify("nothing to export yet: the comparison has not finished", severity="warning", timeout=5)
            return
        entries = self.state.exported_entries()
        contents: dict[str, EntryContent] = {}
        wanted = wanted_contents(entries)
        for index, entry in enumerate(wanted, start=1):
            self._set_status(f"exporting: content diff {index:,} of {len(wanted):,}…")
            try:
                contents[entry.path] = await self.source.diff_entry(
                    *pair, entry.path, self.state.rules, "auto", old_path=entry.old_path
                )
            except DriftdeckError as exc:
                contents[entry.path] = EntryContent(entry.path, "none", notes=(str(exc),))
        if path.lower().endswith((".html", ".htm")):
            from backends.reports.html import render_html
            from backends.reports.snapshots import snapshots_report

            data = render_html(snapshots_report(entries, summary, contents))
        else:
            data = render_markdown(entries, summary, contents).encode("utf-8")
        try:
            written = await asyncio.to_thread(atomic_write, path, data)
        except DriftdeckError as exc:
            self.notify(f"cannot write the report: {exc}", title=self.PANE_TITLE, severity="error", timeout=8)
            return
        finally:
            self._update_status()
        self.notify(f"report written to {written}", title=self.PANE_TITLE, timeout=6)

    # Actions -----------------------------------------------------------------------

    def action_difference(self, step: int) -> None:
        """Move to the next/previous entry that still differs after the rules, wrapping around."""
        tree = self.query_one(SnapshotTree)
        rows = tree.rows
        for offset in range(1, len(rows) + 1):
            index = (tree.cursor + step * offset) % len(rows)
            entry = rows[index].entry
            if entry is not None and entry.is_difference:
                tree.move_to(index)
                return
        self.notify("no difference in this view", timeout=3)

    def action_match(self, step: int) -> None:
        """Next/previous entry of the (filtered) tree, wrapping around."""
        tree = self.query_one(SnapshotTree)
        rows = tree.rows
        for offset in range(1, len(rows) + 1):
            index = (tree.cursor + step * offset) % len(rows)
            if rows[index].entry is not None:
                tree.move_to(index)
                return

    def action_filter(self) -> None:
        field = self.query_one("#snap-filter", Input)
        field.display = True
        field.focus()

    def action_toggle_view(self) -> None:
        """Switch the content diff between unified and side by side."""
        self.state.view = "side" if self.state.view == "unified" else "unified"
        self.notify(f"{'side-by-side' if self.state.view == 'side' else 'unified'} diff", timeout=2)
        self._show_current()

    def action_toggle_structured(self) -> None:
        """Switch JSON/YAML/JSONL entries between the value table and a line diff."""
        self.state.structured = not self.state.structured
        self._show_current()

    def action_toggle_rules(self) -> None:
        """Apply the ignore rules, or show everything they hide (re-runs the comparison)."""
        applied = self.state.toggle_rules()
        self.notify("rules applied" if applied else "rules off: showing everything they hide", timeout=3)
        self._start_diff()

    def action_toggle_unchanged(self) -> None:
        self.state.show_unchanged = not self.state.show_unchanged
        self._rebuild()

    def action_export(self) -> None:
        field = self.query_one("#snap-export", Input)
        pair = self.state.pair
        if not field.value and pair is not None:
            field.value = os.path.join(os.getcwd(), f"snapshot-diff-{pair[0]}-vs-{pair[1]}.md")
        field.display = True
        field.focus()

    def action_focus_select(self, select_id: str) -> None:
        self.query_one(f"#{select_id}", Select).focus()

    def action_focus_diff(self) -> None:
        self.query_one(SnapshotDiffView).focus()

    def action_rerun(self) -> None:
        self._start_diff()

    def retry_after_outage(self) -> None:
        if self.state.pair is None:
            self._load()
        else:
            self._start_diff()

    def action_back(self) -> None:
        """Escape: close an input, cancel a running comparison, or go back to the tree."""
        for field_id in ("snap-export", "snap-filter"):
            field = self.query_one(f"#{field_id}", Input)
            if field.display:
                if field_id == "snap-filter" and field.value:
                    field.value = ""
                field.display = False
                self.query_one(SnapshotTree).focus()
                return
        if self.back_to_origin():
            return
        if self.state.comparing and self._diff_worker is not None:
            self._diff_worker.cancel()
            self.state.comparing = False
            self.notify("comparison cancelled; R re-runs it", timeout=3)
            self._update_status()
            return
        self.query_one(SnapshotTree).focus()

    # Selection, go-to and marks (the app's y, Y, :, O) ----------------------------------

    def selected_item(self) -> Selection | None:
        row: TreeRow | None = self.query_one(SnapshotTree).current
        if row is None:
            return None
        if row.entry is None:
            return Selection("path", row.text.rstrip("/") if row.kind == "dir" else row.key,
                             {"kind": row.kind, "key": row.key, "baseline": self.state.baseline, "candidate": self.state.candidate},
                             title=f"{row.kind} {row.key}")
        entry = row.entry
        detail = {"baseline": self.state.baseline, "candidate": self.state.candidate, **as_detail(entry)}
        side, name = (self.state.candidate, entry.path) if entry.kind_b == "file" else (self.state.baseline, entry.old_path or entry.path)
        folder = next((s.path for s in self.state.snapshots if s.name == side), None)
        path = f"{folder}/{name}" if folder and (entry.kind_a == "file" or entry.kind_b == "file") else None
        return Selection("path", entry.path, detail, path=path, title=f"{entry.category} {entry.path}")

    def goto_candidates(self) -> dict[str, list[str]]:
        return {"snap": [s.name for s in self.state.snapshots], "path": [e.path for e in self.state.entries[:5000]]}

    async def source_candidates(self) -> dict[str, list[str]]:
        return {"snap": [s.name for s in await self.source.list_snapshots()]}

    async def goto(self, target: GotoTarget) -> str:
        """``snap:A..B``: compare A with B; ``path:P``: entry P of the comparison shown (shown whatever the filters)."""
        if target.kind == "snap":
            await self.wait_for(lambda: bool(self.state.snapshots) or self.settled("snap-load"),
                                "the snapshot list")
            names = [s.name for s in self.state.snapshots]
            unknown = [n for n in (target.value, target.other) if n not in names]
            if unknown:
                raise GotoError(f"no snapshot {unknown[0]!r} (snapshots: {', '.join(names) or 'none'})")
            self.state.baseline, self.state.candidate = target.value, target.other
            with self.prevent(Select.Changed):
                self.query_one("#snap-baseline", Select).value = target.value
                self.query_one("#snap-candidate", Select).value = str(target.other)
            self._start_diff()
            self.focus_main()
            return f"snapshots {target.value} → {target.other}"
        if target.kind != "path":
            return await super().goto(target)
        await self.wait_for(lambda: not self.state.comparing and self.settled("snap-load"),
                            "the snapshot comparison")
        self._flush()
        wanted = target.value.strip("/")
        entry = next((e for e in self.state.entries if wanted in (e.path, e.old_path)), None)
        if entry is None:
            raise GotoError(f"{wanted!r} is not in the comparison {self.state.baseline} → {self.state.candidate}")
        self._reveal(entry)
        tree = self.query_one(SnapshotTree)
        tree.move_to(next(i for i, row in enumerate(tree.rows) if row.entry is entry))
        self.focus_main()
        return f"{entry.path} ({entry.category})"

    def _reveal(self, entry: EntryDiff) -> None:
        """Unfold, unfilter and (for an unchanged entry) unhide so that ``entry`` has a row."""
        folder = entry.path.rpartition("/")[0]
        self.state.collapsed = self.state.collapsed - {entry.group, f"{entry.group}/{folder}"}
        if entry.category == "unchanged":
            self.state.show_unchanged = True
        if self.state.text:
            field = self.query_one("#snap-filter", Input)
            with self.prevent(Input.Changed):
                field.value = ""
            field.display = False
            self.state.text = ""
        self._rebuild()
