"""Pane 1, Runs & Quarantine: which runs are quarantined, why, and with what evidence."""

from __future__ import annotations

from collections import Counter
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Label, Select

from backends.local import LocalSource
from backends.models import RUN_STATES, RunQuery, RunSummary
from tui.goto import GotoError, GotoTarget
from tui.panes.base import DeckPane
from tui.selection import Selection
from tui.widgets.reason_chart import ReasonChart
from tui.widgets.run_header import RunHeader
from tui.widgets.run_table import RunTable

FLUSH_SECONDS = 0.1
"""How often runs streamed in by the scan are merged into the view at first."""

SLOW_FLUSH_SECONDS = 0.5
"""The merge interval once the first screen is full: repaints compete with the scan."""

ALL = ""


def run_sort_key(run: RunSummary) -> tuple[float, str]:
    """Sort key by last update, ties broken by run directory."""
    return (run.sort_ts, run.key)


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

    def __init__(self, *, initial_state: str = "QUARANTINED") -> None:
        super().__init__()
        self._all: list[RunSummary] = []
        self._pending: list[RunSummary] = []
        self._view: list[RunSummary] = []
        self._reasons: Counter[str] = Counter()
        self._known_reasons: set[str] = set()
        self._no_runs_hint = "no runs"
        self._state = initial_state
        self._reason = ALL
        self._text = ""
        self._newest_first = True
        self._scanning = False
        self._flush_timer: Timer | None = None
        self._flush_interval = 0.0
        self._generation = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="runs-toolbar"):
            yield Select(
                [("All states", ALL), *((s, s) for s in RUN_STATES)],
                value=self._state,
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

    def on_resize(self) -> None:
        self.query_one(RunHeader).refresh()

    def on_mount(self) -> None:
        self.query_one("#runs-filter", Input).display = False
        self.reload()

    def focus_main(self) -> None:
        self.query_one(RunTable).focus()

    # Loading -----------------------------------------------------------------

    def reload(self) -> None:
        """Forget what is shown and scan the source again."""
        self._all.clear()
        self._pending.clear()
        self._known_reasons.clear()
        self._scanning = True
        self._rebuild()
        self._flush_every(FLUSH_SECONDS)
        self._generation += 1
        self._scan(self._generation)

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
        try:
            if isinstance(self.source, LocalSource):  # a remote source streams pages; nothing to isolate
                batches = self.source.scan_runs_isolated()
            else:
                batches = self.source.iter_runs(RunQuery(), batch=500)
            async for batch in batches:
                self._pending.extend(batch)
        finally:
            if generation == self._generation:  # a reload may have replaced this scan already
                self._scanning = False
                if not self._all and not self._pending:
                    await self._explain_no_runs()
                self._flush()
                self._flush_every(None)

    async def _explain_no_runs(self) -> None:
        """Say where runs were looked for when none were found (a directory that is not a workspace)."""
        info = await self.source.describe()
        runs_glob = info.layout.get("runs", "?")
        self._no_runs_hint = (f"No runs: nothing under {info.root} matches the layout's runs glob {runs_glob!r}. "
                              "Is this a workspace? A driftdeck.yaml at its root says where runs, snapshots and manifests are.")

    def _flush(self) -> None:
        table = self.query_one(RunTable)
        if self._scanning and self._flush_interval == FLUSH_SECONDS and len(self._view) > table.size.height:
            self._flush_every(SLOW_FLUSH_SECONDS)
        if not self._pending:
            self._update_status()
            return
        new, self._pending = self._pending, []
        self._all.extend(new)
        codes = {run.reason_code for run in new if run.reason_code} - self._known_reasons
        if codes:
            self._known_reasons |= codes
            self._update_reason_options()
        query = self._query(with_reason=False)
        shown = [run for run in new if query.matches(run)]
        self._reasons.update(run.reason_code for run in shown if run.reason_code)
        if self._reason:
            shown = [run for run in shown if run.reason_code == self._reason or run.state is None]
        if shown:
            self._view.extend(shown)
            # While streaming in, a cursor left at the top stays at the top (newest).
            self._sort_and_show(keep_selection=self.query_one(RunTable).cursor != 0)
        else:
            self._update_status()
        self.query_one(ReasonChart).set_counts(self._reasons)

    # Filtering ---------------------------------------------------------------

    def _query(self, *, with_reason: bool = True) -> RunQuery:
        return RunQuery(
            states=frozenset({self._state}) if self._state else frozenset(),
            reason_codes=frozenset({self._reason}) if (with_reason and self._reason) else frozenset(),
            text=self._text,
        )

    def _rebuild(self) -> None:
        """Recompute the view and the chart from every run loaded so far."""
        query = self._query(with_reason=False)
        shown = [run for run in self._all if query.matches(run)]
        self._reasons = Counter(run.reason_code for run in shown if run.reason_code)
        if self._reason:
            shown = [run for run in shown if run.reason_code == self._reason or run.state is None]
        self._view = shown
        chart = self.query_one(ReasonChart)
        chart.set_counts(self._reasons)
        chart.selected = self._reason or None
        self._sort_and_show(keep_selection=True)

    def _sort_and_show(self, *, keep_selection: bool = True) -> None:
        table = self.query_one(RunTable)
        current = table.current if keep_selection else None
        self._view.sort(key=run_sort_key, reverse=self._newest_first)
        cursor = None
        if current is not None:
            cursor = next((i for i, run in enumerate(self._view) if run.key == current.key), 0)
        table.set_rows(self._view, cursor=cursor)
        self.query_one(RunHeader).refresh()
        self._update_status()

    def _update_status(self) -> None:
        order = "newest first" if self._newest_first else "oldest first"
        scope = self._state or "all states"
        if not self._scanning and not self._all:
            self.query_one("#runs-status", Label).update("no runs found")
            self.query_one(RunTable).set_empty_text(self._no_runs_hint)
            return
        # Unreadable runs are listed whatever the filters say; they are not counted as matching them.
        unreadable = sum(1 for run in self._view if run.state is None) if (self._state or self._reason) else 0
        text = f"{len(self._view) - unreadable:,} of {len(self._all):,} runs · {scope}"
        if unreadable:
            text += f" +{unreadable:,} unreadable"
        if self._reason:
            text += f" · {self._reason}"
        if self._text:
            text += f" · filter {self._text!r}"
        text += f" · {order}"
        if self._scanning:
            text += " · scanning…"
        self.query_one("#runs-status", Label).update(text)

    def _update_reason_options(self) -> None:
        select = self.query_one("#reason-filter", Select)
        with self.prevent(Select.Changed):
            select.set_options([("All reasons", ALL), *((code, code) for code in sorted(self._known_reasons))])
            select.value = self._reason if self._reason in self._known_reasons else ALL

    @on(Select.Changed, "#state-filter")
    def _state_changed(self, event: Select.Changed) -> None:
        self._state = str(event.value)
        self._rebuild()

    @on(Select.Changed, "#reason-filter")
    def _reason_changed(self, event: Select.Changed) -> None:
        self._reason = str(event.value)
        self._rebuild()

    @on(Input.Changed, "#runs-filter")
    def _text_changed(self, event: Input.Changed) -> None:
        self._text = event.value
        self._rebuild()

    @on(Input.Submitted, "#runs-filter")
    def _text_submitted(self) -> None:
        self.query_one(RunTable).focus()

    @on(RunTable.Selected)
    def _open_run(self, event: RunTable.Selected) -> None:
        from tui.screens.run_detail import RunDetailScreen

        run = self._view[event.index]
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
        if self._view:
            table.move_to((table.cursor + step) % len(self._view))

    def action_quarantined(self, step: int) -> None:
        """Next/previous quarantined run from the cursor, wrapping around."""
        table = self.query_one(RunTable)
        count = len(self._view)
        for offset in range(1, count + 1):
            index = (table.cursor + step * offset) % count
            if self._view[index].state == "QUARANTINED":
                table.move_to(index)
                return
        self.notify("no quarantined run in this view", timeout=3)

    def action_cycle_state(self, step: int = 1) -> None:
        """Next (``s``) or previous (``S``) state filter, wrapping around."""
        options = [ALL, *RUN_STATES]
        self.query_one("#state-filter", Select).value = options[(options.index(self._state) + step) % len(options)]

    def action_cycle_reason(self, step: int = 1) -> None:
        """Next (``r``) or previous (``R``) reason filter, wrapping around."""
        options = [ALL, *sorted(self._known_reasons)]
        current = options.index(self._reason) if self._reason in options else 0
        self.query_one("#reason-filter", Select).value = options[(current + step) % len(options)]

    def action_toggle_sort(self) -> None:
        self._newest_first = not self._newest_first
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
        return {"run": sorted({run.run_id for run in self._all})}

    async def goto(self, target: GotoTarget) -> str:
        """``run:ID``: the run with this id (or the one id it starts), shown whatever the filters."""
        if target.kind != "run":
            return await super().goto(target)

        def found() -> list[RunSummary]:
            loaded = [*self._all, *self._pending]
            exact = [run for run in loaded if run.run_id == target.value]
            return exact or [run for run in loaded if run.run_id.startswith(target.value)]

        def exact() -> bool:
            return any(run.run_id == target.value for run in [*self._all, *self._pending])

        await self.wait_for(lambda: not self._scanning or exact(), "the run list")
        self._flush()
        matches = found()
        ids = sorted({run.run_id for run in matches})
        if not matches:
            raise GotoError(f"no run {target.value!r} among {len(self._all):,} runs")
        if len(ids) > 1:
            raise GotoError(f"{len(ids)} runs start with {target.value!r}: {', '.join(ids[:3])}{' …' if len(ids) > 3 else ''}")
        run = matches[0]
        if run not in self._view:
            self._show_every_run()
        self.query_one(RunTable).move_to(self._view.index(run))
        return f"run {run.run_id}"

    def _show_every_run(self) -> None:
        """Clear the state, reason and text filters (a go-to target must be visible)."""
        self._state, self._reason, self._text = ALL, ALL, ""
        with self.prevent(Select.Changed, Input.Changed):
            self.query_one("#state-filter", Select).value = ALL
            self.query_one("#reason-filter", Select).value = ALL
            field = self.query_one("#runs-filter", Input)
            field.value = ""
            field.display = False
        self._rebuild()
        self.notify("filters cleared to show the run", timeout=3)
