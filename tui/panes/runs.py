"""Pane 1, Runs & Quarantine: which runs are quarantined, why, and with what evidence."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Select

from backends.local import LocalSource
from backends.models import RUN_STATES, RunQuery, RunSummary
from tui.goto import GotoError, GotoTarget
from tui.panes.base import DeckPane
from tui.selection import Selection
from tui.state.runs import ALL, RunsState
from tui.widgets.reason_chart import ReasonChart
from tui.widgets.run_header import RunHeader
from tui.widgets.run_table import RunTable

FLUSH_SECONDS = 0.1
"""How often runs streamed in by the scan are merged into the view at first."""

SLOW_FLUSH_SECONDS = 0.5
"""The merge interval once the first screen is full: repaints compete with the scan."""



class RunsPane(DeckPane):
    """Runs streamed from the source, filtered and sorted in memory.

    The scan runs in a worker and hands over batches; a timer merges them into
    the view every ``FLUSH_SECONDS`` so the first screen shows while a large
    workspace is still being read.
    """

    PANE_KEY = "1"
    PANE_ID = "runs"
    PANE_TITLE = "Runs & Quarantine"
    PANE_SUMMARY = "Which runs are quarantined, why, and what evidence they hold."

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("n", "match(1)", "Next match", show=False),
        Binding("N", "match(-1)", "Prev match", show=False),
        Binding("e", "quarantined(1)", "Next quarantined"),
        Binding("E", "quarantined(-1)", "Prev quarantined", show=False),
        Binding("s", "cycle_state(1)", "State"),
        Binding("S", "cycle_state(-1)", "Prev state", show=False),
        Binding("r", "cycle_reason(1)", "Reason"),
        Binding("R", "cycle_reason(-1)", "Prev reason", show=False),
        Binding("t", "toggle_sort", "Sort"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, *, initial_state: str = "QUARANTINED", build: bool = True) -> None:
        super().__init__(build=build)
        self.state = RunsState(state_filter=initial_state)
        self._flush_timer: Timer | None = None
        self._flush_interval = 0.0

    def compose_content(self) -> ComposeResult:
        with Horizontal(id="runs-toolbar"):
            yield Select(
                [("All states", ALL), *((s, s) for s in RUN_STATES)],
                value=self.state.state_filter,
                allow_blank=False,
                id="state-filter",
                compact=True,
            )
            yield Select([("All reasons", ALL)], value=ALL, allow_blank=False, id="reason-filter", compact=True)
            yield Label("", id="runs-status")
        with Horizontal(id="runs-body"):
            with Vertical(id="runs-main"):
                table = RunTable(id="runs-table")
                yield RunHeader(table, id="runs-header")
                yield table
            with Vertical(id="runs-side"):
                yield Label("Reason codes", classes="side-title")
                yield ReasonChart(id="reason-chart")
        yield Input(placeholder="filter runs (prefix ! to invert), enter to keep, escape to clear", id="runs-filter")

    def content_resized(self) -> None:
        self.query_one(RunHeader).refresh()

    def content_mounted(self) -> None:
        self.query_one("#runs-filter", Input).display = False
        self.reload()

    def main_widget(self) -> Widget:
        return self.query_one(RunTable)

    # Loading -----------------------------------------------------------------

    def reload(self) -> None:
        """Forget what is shown and scan the source again."""
        generation = self.state.reload()
        self._rebuild()
        self._flush_every(FLUSH_SECONDS)
        self._scan(generation)

    def retry_after_outage(self) -> None:
        self.reload()

    def _flush_every(self, seconds: float | None) -> None:
        """Merge streamed runs every ``seconds`` (``None`` stops merging)."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        if seconds is not None:
            self._flush_timer = self.set_interval(seconds, self._flush)
        self._flush_interval = seconds or 0.0

    @work(exclusive=True, group="runs-scan", exit_on_error=False)
    async def _scan(self, generation: int) -> None:
        batches = self._batches()
        # The scan's first request goes out beside describe() (what the source offers), not after it: over
        # HTTP that is one round trip less before the first rows. Nothing is shown before the answer is in.
        first = asyncio.ensure_future(anext(batches, None))
        try:
            offered = await self.require()
        except BaseException:  # cancelled by a reload, or describe() failed in a way require() does not answer
            await _drop(first, batches)
            raise
        if not offered:  # the source lists no runs: the pane says so instead (its placeholder)
            await _drop(first, batches)
            self.state.scanning = False
            self._flush_every(None)
            return
        try:
            batch = await first
            while batch is not None:
                self.state.pending.extend(batch)
                if not self.state.view and generation == self.state.generation:
                    self._flush()  # nothing shown yet: a screenful costs ~1 ms, waiting for the timer up to 0.1 s
                batch = await anext(batches, None)
        finally:
            await _close(batches)
            if generation == self.state.generation:  # a reload may have replaced this scan already
                self.state.scanning = False
                if not self.state.runs and not self.state.pending:
                    await self._explain_no_runs()
                self._flush()
                self._flush_every(None)

    def _batches(self) -> AsyncIterator[list[RunSummary]]:
        """The source's runs in batches: a local source scans in a child process, a remote one streams pages."""
        if isinstance(self.source, LocalSource):  # a remote source streams pages; nothing to isolate
            return self.source.scan_runs_isolated()
        return self.source.iter_runs(RunQuery(), batch=500)

    async def _explain_no_runs(self) -> None:
        """Say where runs were looked for when none were found (a directory that is not a workspace)."""
        info = await self.source.describe()
        runs_glob = info.layout.get("runs", "?")
        self.state.no_runs_hint = (f"No runs: nothing under {info.root} matches the layout's runs glob {runs_glob!r}. "
                              "Is this a workspace? A driftdeck.yaml at its root says where runs, snapshots and manifests are.")

    def _flush(self) -> None:
        table = self.query_one(RunTable)
        if self.state.scanning and self._flush_interval == FLUSH_SECONDS and len(self.state.view) > table.size.height:
            self._flush_every(SLOW_FLUSH_SECONDS)
        if not self.state.pending:
            self._update_status()
            return
        shown, new_codes = self.state.merge()
        if new_codes:
            self._update_reason_options()
        if shown:
            # While streaming in, a cursor left at the top stays at the top (newest).
            self._sort_and_show(keep_selection=self.query_one(RunTable).cursor != 0)
        else:
            self._update_status()
        self.query_one(ReasonChart).set_counts(self.state.reasons)

    # Filtering ---------------------------------------------------------------

    def _rebuild(self) -> None:
        """Recompute the view and the chart from every run loaded so far."""
        self.state.refilter()
        chart = self.query_one(ReasonChart)
        chart.set_counts(self.state.reasons)
        chart.selected = self.state.reason_filter or None
        self._sort_and_show(keep_selection=True)

    def _sort_and_show(self, *, keep_selection: bool = True) -> None:
        table = self.query_one(RunTable)
        current = table.current if keep_selection else None
        self.state.sort()
        cursor = None
        if current is not None:
            cursor = next((i for i, run in enumerate(self.state.view) if run.key == current.key), 0)
        table.set_rows(self.state.view, cursor=cursor)
        self.query_one(RunHeader).refresh()
        self._update_status()

    def _update_status(self) -> None:
        if not self.state.scanning and not self.state.runs:
            self.query_one(RunTable).set_empty_text(self.state.no_runs_hint)
        self.query_one("#runs-status", Label).update(self.state.status())

    def _update_reason_options(self) -> None:
        select = self.query_one("#reason-filter", Select)
        with self.prevent(Select.Changed):
            select.set_options([("All reasons", ALL), *((code, code) for code in sorted(self.state.known_reasons))])
            select.value = self.state.reason_filter if self.state.reason_filter in self.state.known_reasons else ALL

    @on(Select.Changed, "#state-filter")
    def _state_changed(self, event: Select.Changed) -> None:
        self.state.state_filter = str(event.value)
        self._rebuild()

    @on(Select.Changed, "#reason-filter")
    def _reason_changed(self, event: Select.Changed) -> None:
        self.state.reason_filter = str(event.value)
        self._rebuild()

    @on(Input.Changed, "#runs-filter")
    def _text_changed(self, event: Input.Changed) -> None:
        self.state.text = event.value
        self._rebuild()

    @on(Input.Submitted, "#runs-filter")
    def _text_submitted(self) -> None:
        self.query_one(RunTable).focus()

    @on(RunTable.Selected)
    def _open_run(self, event: RunTable.Selected) -> None:
        from tui.screens.run_detail import RunDetailScreen

        run = self.state.view[event.index]
        self.app.push_screen(RunDetailScreen(run))

    # Actions -------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#runs-filter", Input)
        field.display = True
        field.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#runs-filter", Input)
        if not field.display and not field.value and self.back_to_origin():
            return
        if field.value:
            field.value = ""
        field.display = False
        self.query_one(RunTable).focus()

    def action_match(self, step: int) -> None:
        """Next/previous row of the filtered view, wrapping around."""
        table = self.query_one(RunTable)
        if self.state.view:
            table.move_to((table.cursor + step) % len(self.state.view))

    def action_quarantined(self, step: int) -> None:
        """Next/previous quarantined run from the cursor, wrapping around."""
        table = self.query_one(RunTable)
        count = len(self.state.view)
        for offset in range(1, count + 1):
            index = (table.cursor + step * offset) % count
            if self.state.view[index].state == "QUARANTINED":
                table.move_to(index)
                return
        self.notify("no quarantined run in this view", timeout=3)

    def action_cycle_state(self, step: int = 1) -> None:
        """Next (``s``) or previous (``S``) state filter, wrapping around."""
        self.query_one("#state-filter", Select).value = self.state.cycle_state(RUN_STATES, step)

    def action_cycle_reason(self, step: int = 1) -> None:
        """Next (``r``) or previous (``R``) reason filter, wrapping around."""
        self.query_one("#reason-filter", Select).value = self.state.cycle_reason(step)

    def action_toggle_sort(self) -> None:
        self.state.newest_first = not self.state.newest_first
        self._sort_and_show()

    # Selection, go-to and marks (the app's y, Y, :, m, O) -------------------------------

    def selected_item(self) -> Selection | None:
        run = self.query_one(RunTable).current
        if run is None:
            return None
        problem = run.problem
        return Selection("run id", run.run_id, run.to_json(), path=problem.path if problem else None,
                         line=problem.line if problem else None, title=f"run {run.run_id}")

    def mark_list(self) -> RunTable:
        return self.query_one(RunTable)

    def goto_candidates(self) -> dict[str, list[str]]:
        return {"run": sorted({run.run_id for run in self.state.runs})}

    async def goto(self, target: GotoTarget) -> str:
        """``run:ID``: the run with this id (or the one id it starts), shown whatever the filters."""
        if target.kind != "run":
            return await super().goto(target)

        def found() -> list[RunSummary]:
            loaded = [*self.state.runs, *self.state.pending]
            exact = [run for run in loaded if run.run_id == target.value]
            return exact or [run for run in loaded if run.run_id.startswith(target.value)]

        def exact() -> bool:
            return any(run.run_id == target.value for run in [*self.state.runs, *self.state.pending])

        await self.wait_for(lambda: not self.state.scanning or exact(), "the run list")
        self._flush()
        matches = found()
        ids = sorted({run.run_id for run in matches})
        if not matches:
            raise GotoError(f"no run {target.value!r} among {len(self.state.runs):,} runs")
        if len(ids) > 1:
            raise GotoError(f"{len(ids)} runs start with {target.value!r}: {', '.join(ids[:3])}{' …' if len(ids) > 3 else ''}")
        run = matches[0]
        if run not in self.state.view:
            self._show_every_run()
        self.query_one(RunTable).move_to(self.state.view.index(run))
        return f"run {run.run_id}"

    def _show_every_run(self) -> None:
        """Clear the state, reason and text filters (a go-to target must be visible)."""
        self.state.state_filter, self.state.reason_filter, self.state.text = ALL, ALL, ""
        with self.prevent(Select.Changed, Input.Changed):
            self.query_one("#state-filter", Select).value = ALL
            self.query_one("#reason-filter", Select).value = ALL
            field = self.query_one("#runs-filter", Input)
            field.value = ""
            field.display = False
        self._rebuild()
        self.notify("filters cleared to show the run", timeout=3)


async def _drop(first: asyncio.Future[Any], batches: AsyncIterator[Any]) -> None:
    """Stop a scan whose runs are not wanted: its first request, then the stream."""
    first.cancel()
    await asyncio.wait([first])
    if not first.cancelled():
        # Its outcome is read so asyncio does not log it as never retrieved, and not reported: a source that
        # does not offer runs refuses iter_runs (UnsupportedError), and the pane says what is not offered instead.
        first.exception()
    await _close(batches)


async def _close(batches: AsyncIterator[Any]) -> None:
    """Close a stream of batches (a source's async generator stops its requests ahead)."""
    close = getattr(batches, "aclose", None)
    if close is not None:
        await close()
