"""Pane 3, WAL / replay: did the replay reproduce the recorded run, and where did it first diverge?

Opening a pair starts five streams from the data source at once: the offset
index of each file (so any line can be fetched), the parity diff (whose
divergences build the alignment), and the validation of each file. A timer
merges what has arrived every ``FLUSH_SECONDS``; the list draws only what is
on screen and fetches just those lines, so a million-event pair shows its
first screen while it is still being indexed.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static

from backends.models import WalPair
from backends.wal.alignment import AlignedRow, Alignment
from backends.wal.diff import WalDiffSummary, WalDivergence
from backends.wal.index import WalIndexInfo
from backends.wal.progress import WalProgress
from backends.wal.rules import WalRules
from backends.wal.validate import WalProblem, WalValidation
from tui.errors import error_message
from tui.panes.base import DeckPane
from tui.widgets.wal_pair_list import MARKS, WalPairList
from tui.widgets.wal_problem_list import WalProblemList
from tui.units import counted

FLUSH_SECONDS = 0.1
"""How often streamed results are merged into the view."""
MAX_DIVERGENCES = 50_000
"""Divergences the pane keeps at most (the diff stops there)."""
FETCH_LINES = 400
"""Lines of one file fetched per request at most."""
TOLERANCES = (0.0, 1e-9, 1e-6)
"""Float tolerances ``t`` cycles through."""
SIDES = ("record", "replay")


def _name(path: str | None) -> str:
    return "-" if path is None else path.rsplit("/", 1)[-1]



CONTEXT_ROWS = 5
"""Rows kept above a divergence the pane jumps to (the events leading up to it)."""

class WalPane(DeckPane):
    """A record/replay pair side by side, aligned, with its divergences and validation problems."""

    PANE_KEY = "3"
    PANE_ID = "wal"
    PANE_TITLE = "WAL / replay"
    PANE_SUMMARY = "Did the replay reproduce the recorded run, and where did it first diverge?"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "divergence(1)", "Next divergence"),
        Binding("E", "divergence(-1)", "Prev divergence", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("n", "match(1)", "Next match", show=False),
        Binding("N", "match(-1)", "Prev match", show=False),
        Binding("right_square_bracket", "pair(1)", "Next pair"),
        Binding("left_square_bracket", "pair(-1)", "Prev pair", show=False),
        Binding("p", "pick_pair", "Pick pair", show=False),
        Binding("o", "open_files", "Open files", show=False),
        Binding("v", "problems", "Problems", show=False),
        Binding("t", "tolerance", "Float tolerance", show=False),
        Binding("R", "rerun", "Refresh", show=False),
        Binding("escape", "escape", "Clear filter / stop", show=False),
    ]

    DEFAULT_CSS = """
    WalPane #wal-toolbar { height: 1; background: $panel; }
    WalPane #wal-pair { width: 44; }
    WalPane #wal-status { width: 1fr; padding: 0 1; color: $text-muted; }
    WalPane #wal-banner { display: none; height: auto; padding: 0 1; background: $warning 25%; color: $text; text-style: bold; }
    WalPane #wal-banner.shown { display: block; }
    WalPane #wal-header { height: 1; color: $accent; text-style: bold; }
    WalPane #wal-rows { height: 1fr; }
    WalPane #wal-current { height: 1; padding: 0 1; background: $panel; }
    WalPane #wal-problems { height: auto; max-height: 5; }
    WalPane .wal-problems-side { height: auto; }
    WalPane .wal-problems-side { width: 1fr; }
    WalPane #wal-replay-problems-side { border-left: vkey $panel; }
    WalPane .wal-problems-title { padding: 0 1; color: $accent; text-style: bold; }
    WalPane #wal-filter { dock: bottom; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._pairs_started = False
        self._pairs: list[WalPair] = []
        self._pair: WalPair | None = None
        self._rules = WalRules()
        self._alignment = Alignment()
        self._generation = 0
        self._pending: list[WalDivergence] = []
        self._summary: WalDiffSummary | None = None
        self._diff_progress: WalProgress | None = None
        self._index_state: dict[str, WalProgress | WalIndexInfo | None] = {}
        self._problems: dict[str, list[WalProblem]] = {"record": [], "replay": []}
        self._problems_dirty = False
        self._validation: dict[str, WalValidation | None] = {}
        self._first_shown = False
        self._shown_rows = -1
        self._filter_text = ""
        self._filter_lines: dict[str, list[int]] = {"record": [], "replay": []}
        self._filtered: array[int] | None = None
        self._searching = False
        self._fetching: set[str] = set()
        self._failure: str | None = None
        self._flush_timer: Timer | None = None

    # Layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="wal-toolbar"):
            yield Select([], prompt="WAL pair…", id="wal-pair", compact=True)
            yield Label("reading the source…", id="wal-status")
        yield Label("", id="wal-banner")
        yield Static("", id="wal-header")
        yield WalPairList(id="wal-rows")
        yield Label("", id="wal-current")
        with Horizontal(id="wal-problems"):
            for side in SIDES:
                with Vertical(classes="wal-problems-side", id=f"wal-{side}-problems-side"):
                    yield Label(f"{side.capitalize()} problems", id=f"wal-{side}-problems-title", classes="wal-problems-title")
                    yield WalProblemList(id=f"wal-{side}-problems")
        yield Input(placeholder="filter lines by kind or text (prefix ! to invert), enter to apply, escape to clear",
                    id="wal-filter")

    def on_mount(self) -> None:
        self.query_one("#wal-filter", Input).display = False
        self._flush_timer = self.set_interval(FLUSH_SECONDS, self._flush)

    def on_show(self) -> None:
        # Read only once the pane is first shown: at start-up this walk (3-12 s on
        # 100,000 runs) ran on a thread of the TUI's process and starved the Runs
        # pane's first screen and scan of the GIL.
        if not self._pairs_started:
            self._pairs_started = True
            self._load_pairs()

    def focus_main(self) -> None:
        self.query_one(WalPairList).focus()

    def on_resize(self) -> None:
        self._update_header()

    # Pairs ---------------------------------------------------------------------------

    @work(exclusive=True, group="wal-pairs", exit_on_error=False)
    async def _load_pairs(self) -> None:
        self._pairs = await self.source.list_wal_pairs()
        select = self.query_one("#wal-pair", Select)
        options = [(f"{p.run_id} {_name(p.record).removesuffix('.jsonl')}↔{_name(p.replay).removesuffix('.jsonl')}", i)
                   for i, p in enumerate(self._pairs)]
        with self.prevent(Select.Changed):
            select.set_options(options)
            if options:
                select.value = 0
        if self._pairs:
            self.open_pair(self._pairs[0])
        else:
            self.query_one("#wal-status", Label).update("this source holds no WAL record/replay pairs (o: open two files)")

    @on(Select.Changed, "#wal-pair")
    def _pair_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and 0 <= event.value < len(self._pairs):
            self.open_pair(self._pairs[event.value])
            self.query_one(WalPairList).focus()

    def open_pair(self, pair: WalPair) -> None:
        """Show ``pair``: index, diff and validate both files from scratch."""
        self._generation += 1
        generation = self._generation
        for group in ("wal-diff", "wal-search", "wal-index", "wal-validate", "wal-fetch"):
            self.workers.cancel_group(self, group)
        self._pair = pair
        self._failure = None
        if pair not in self._pairs:  # two files opened with o: the picker no longer names the pair shown
            with self.prevent(Select.Changed):
                self.query_one("#wal-pair", Select).clear()
        self._alignment = Alignment()
        self._pending = []
        self._summary = None
        self._diff_progress = None
        self._index_state = {side: None for side in SIDES}
        self._problems = {"record": [], "replay": []}
        self._problems_dirty = True
        self._validation = {side: None for side in SIDES}
        self._first_shown = False
        self._shown_rows = -1
        self._clear_filter_state()
        self._fetching = set()
        rows = self.query_one(WalPairList)
        rows.reset(self._alignment, has_replay=pair.replay is not None)
        self._update_header()
        for side, path in self._paths():
            self._run_index(side, path, generation)
            self._run_validate(side, path, generation)
        if pair.replay is not None:
            self._run_diff(generation)
        self._flush()

    def _paths(self) -> list[tuple[str, str]]:
        if self._pair is None:
            return []
        paths = [("record", self._pair.record)]
        if self._pair.replay is not None:
            paths.append(("replay", self._pair.replay))
        return paths

    def _path(self, side: str) -> str | None:
        if self._pair is None:
            return None
        return self._pair.record if side == "record" else self._pair.replay

    # Streams -------------------------------------------------------------------------

    def _stream_failed(self, generation: int, path: str | None, error: BaseException) -> None:
        """Say in the status line that a stream of the open pair failed (else it reads "diffing…" for ever)."""
        if generation == self._generation:
            message = error_message(error)
            self._failure = f"⚠ {message}" if path and path in message else f"⚠ cannot read {path}: {message}"
            self._update_status()

    @work(group="wal-index", exit_on_error=False)
    async def _run_index(self, side: str, path: str, generation: int) -> None:
        try:
            await self._index_stream(side, path, generation)
        except Exception as exc:
            self._stream_failed(generation, path, exc)
            raise

    async def _index_stream(self, side: str, path: str, generation: int) -> None:
        async for item in self.source.wal_index(path):
            if generation != self._generation:
                return
            self._index_state[side] = item
            lines = item.lines
            if side == "record":
                self._alignment.record_lines = max(self._alignment.record_lines, lines)
            else:
                self._alignment.replay_lines = max(self._alignment.replay_lines, lines)

    @work(group="wal-diff", exit_on_error=False)
    async def _run_diff(self, generation: int) -> None:
        try:
            await self._diff_stream(generation)
        except Exception as exc:
            self._stream_failed(generation, self._pair.replay if self._pair else None, exc)
            raise

    async def _diff_stream(self, generation: int) -> None:
        assert self._pair is not None and self._pair.replay is not None
        stream = self.source.diff_wal(
            self._pair.record, self._pair.replay, self._rules, max_divergences=MAX_DIVERGENCES
        )
        async for item in stream:
            if generation != self._generation:
                return
            if isinstance(item, WalDivergence):
                self._pending.append(item)
            elif isinstance(item, WalProgress):
                self._diff_progress = item
            elif isinstance(item, WalDiffSummary):
                self._summary = item

    @work(group="wal-validate", exit_on_error=False)
    async def _run_validate(self, side: str, path: str, generation: int) -> None:
        try:
            await self._validate_stream(side, path, generation)
        except Exception as exc:
            self._stream_failed(generation, path, exc)
            raise

    async def _validate_stream(self, side: str, path: str, generation: int) -> None:
        async for item in self.source.validate_wal(path):
            if generation != self._generation:
                return
            if isinstance(item, WalProblem):
                self._problems[side].append(item)
                self._problems_dirty = True
            elif isinstance(item, WalValidation):
                self._validation[side] = item
                self._problems_dirty = True

    @work(group="wal-fetch", exit_on_error=False)
    async def _fetch(self, side: str, start: int, count: int, generation: int) -> None:
        path = self._path(side)
        try:
            if path is None:
                return
            lines = await self.source.wal_lines(path, start, count, self._rules)
        finally:
            self._fetching.discard(side)
        if generation == self._generation:
            self.query_one(WalPairList).store(side, lines)

    # Merging -------------------------------------------------------------------------

    def _flush(self) -> None:
        rows = self.query_one(WalPairList)
        if self._pending:
            pending, self._pending = self._pending, []
            for divergence in pending:
                self._alignment.add(divergence)
        if self._summary is not None and self._alignment.final_rows is None:
            self._alignment.final_rows = self._summary.rows
            if self._filter_text:
                self._apply_filter()
        total = len(self._alignment)
        if self._filtered is None and total != self._shown_rows:
            self._shown_rows = total
            rows.set_rows(range(total))
        if not self._first_shown and self._alignment.divergences:
            self._first_shown = True
            self._show_row(self._alignment.divergences[0].row, context=True)
        if self._problems_dirty:
            self._problems_dirty = False
            self._update_problems()
        self._request_lines()
        self._update_status()

    def _request_lines(self) -> None:
        rows = self.query_one(WalPairList)
        wanted: dict[str, list[int]] = {"record": [], "replay": []}
        caches = {"record": rows.record_cache, "replay": rows.replay_cache}
        for index in rows.visible_indexes():
            aligned = rows.row_at(index)
            if aligned is None:
                continue
            for side, number in (("record", aligned.record_line), ("replay", aligned.replay_line)):
                if number is not None and number not in caches[side]:
                    wanted[side].append(number)
        for side in SIDES:
            rows.missing[side].clear()
            numbers = wanted[side]
            if not numbers or side in self._fetching or self._path(side) is None:
                continue
            start = min(numbers)
            count = min(FETCH_LINES, max(numbers) - start + 1)
            self._fetching.add(side)
            self._fetch(side, start, count, self._generation)

    # Status ---------------------------------------------------------------------------

    def _lines_text(self, side: str) -> str:
        state = self._index_state.get(side)
        if isinstance(state, WalIndexInfo):
            return f"{state.lines:,}"
        if isinstance(state, WalProgress):
            return f"{state.lines:,}+ (indexing {state.fraction:.0%})"
        return "…"

    def _update_status(self) -> None:
        if self._pair is None:
            return
        if self._pair.replay is None:
            parts = [f"{self._lines_text('record')} lines", "no replay"]
        else:
            parts = [f"{self._lines_text('record')} ↔ {self._lines_text('replay')} lines"]
            summary = self._summary
            count = len(self._alignment.divergences)
            if summary is not None and summary.parity:
                parts.append(f"parity ✓ {summary.matched:,} matched")
            elif count:
                kinds: dict[str, int] = {}
                for divergence in self._alignment.divergences:
                    kinds[divergence.kind] = kinds.get(divergence.kind, 0) + 1
                detail = ", ".join(f"{n} {k}" for k, n in kinds.items())
                parts.append(f"{counted(count, 'divergence')}: {detail}")
            if self._failure is not None:
                parts.append("⚠ not compared")
            elif summary is None:
                progress = self._diff_progress
                parts.append(f"diffing {progress.fraction:.0%}…" if progress else "diffing…")
            elif summary.truncated:
                parts.append(f"first {MAX_DIVERGENCES:,} kept")
            elif not summary.complete:
                parts.append("diff stopped")
        if self._rules.float_tolerance:
            parts.append(f"tolerance {self._rules.float_tolerance:g}")
        if self._filtered is not None or self._searching:
            shown = "searching…" if self._searching else f"{len(self._filtered or ()):,} rows"
            parts.append(f"filter: {shown}")
        self.query_one("#wal-status", Label).update(" · ".join(parts))
        self._update_banner()

    def _update_banner(self) -> None:
        torn = []
        for side in SIDES:
            validation = self._validation.get(side)
            if validation is not None and validation.torn_tail is not None:
                torn.append(f"{_name(self._path(side))} line {validation.torn_tail}")
        banner = self.query_one("#wal-banner", Label)
        lines = [] if self._failure is None else [self._failure]
        if torn:
            lines.append(f"✂ torn tail: {', '.join(torn)} is cut short (the writer stopped mid-event); "
                         "reported as a torn tail, not as corruption")
        banner.update("\n".join(lines))
        banner.set_class(bool(lines), "shown")

    def _update_header(self) -> None:
        rows = self.query_one(WalPairList)
        width = rows.scrollable_content_region.width or self.size.width
        record = "record" if self._pair is None else f"record · {_name(self._pair.record)}"
        replay = None if self._pair is None or self._pair.replay is None else f"replay · {_name(self._pair.replay)}"
        self.query_one("#wal-header", Static).update(rows.header(width, record, replay))

    def _update_problems(self) -> None:
        for side in SIDES:
            problems = self._problems[side]
            listing = self.query_one(f"#wal-{side}-problems", WalProblemList)
            if len(problems) != listing.row_count:
                listing.set_rows(problems)
            validation = self._validation.get(side)
            title = self.query_one(f"#wal-{side}-problems-title", Label)
            name = _name(self._path(side))
            if self._path(side) is None:
                title.update(f"{side.capitalize()}: none")
            elif validation is None:
                title.update(f"{side.capitalize()} {name}: validating… ({len(problems)} problems so far)")
            elif not validation.problems:
                title.update(f"{side.capitalize()} {name}: valid ✓ ({validation.events:,} events)")
            else:
                title.update(f"{side.capitalize()} {name}: {counted(validation.errors, 'error')}, {counted(validation.warnings, 'warning')}")

    def _describe_row(self, aligned: AlignedRow | None) -> Text:
        if aligned is None:
            return Text("")
        divergence = aligned.divergence
        if divergence is not None:
            text = Text(f"{MARKS[divergence.kind]} {divergence.kind}: ", style="bold")
            text.append(divergence.headline())
            return text
        record = "-" if aligned.record_line is None else str(aligned.record_line)
        replay = "-" if aligned.replay_line is None else str(aligned.replay_line)
        checked = self._summary is not None or self._checked_through(aligned)
        verdict = "matched under the rules" if checked else "not compared yet"
        return Text(f"record line {record} ↔ replay line {replay}: {verdict}", style="dim")

    def _checked_through(self, aligned: AlignedRow) -> bool:
        progress = self._diff_progress
        return progress is not None and aligned.record_line is not None and 2 * aligned.record_line <= progress.lines

    @on(WalPairList.Highlighted, "#wal-rows")
    def _row_highlighted(self, event: WalPairList.Highlighted) -> None:
        rows = self.query_one(WalPairList)
        self.query_one("#wal-current", Label).update(self._describe_row(rows.row_at(event.index)))

    # Moving around ---------------------------------------------------------------------

    def _index_of_row(self, row: int) -> int:
        """List index of aligned ``row`` (the nearest one in a filtered view)."""
        if self._filtered is None:
            return row
        return min(bisect_left(self._filtered, row), max(0, len(self._filtered) - 1))

    def _show_row(self, row: int, *, context: bool = False) -> None:
        rows = self.query_one(WalPairList)
        index = self._index_of_row(row)
        rows.move_to(index)
        if context:
            # A fixed number of rows above, not a share of the height: the panels below
            # fill in later and change the height, and the picture must not depend on when.
            rows.call_after_refresh(rows.scroll_to, y=max(0, index - CONTEXT_ROWS), animate=False)
        self.query_one("#wal-current", Label).update(self._describe_row(rows.row_at(rows.cursor)))

    def action_divergence(self, step: int) -> None:
        """Next/previous divergence from the cursor (in the filtered view, if any)."""
        rows = self.query_one(WalPairList)
        current = rows.rows[rows.cursor] if rows.row_count else -1
        target = self._alignment.next_divergence(current, step)
        while target is not None and self._filtered is not None and not self._in_filter(target):
            target = self._alignment.next_divergence(target, step)
        if target is None:
            self.notify("no further divergence" if self._alignment.divergences else "no divergence", timeout=3)
            return
        self._show_row(target, context=True)

    def _in_filter(self, row: int) -> bool:
        filtered = self._filtered
        if filtered is None:
            return True
        index = bisect_left(filtered, row)
        return index < len(filtered) and filtered[index] == row

    def action_match(self, step: int) -> None:
        """Next/previous row of the (filtered) view, wrapping around."""
        rows = self.query_one(WalPairList)
        if rows.row_count:
            rows.move_to((rows.cursor + step) % rows.row_count)

    def action_pair(self, step: int) -> None:
        if not self._pairs:
            return
        select = self.query_one("#wal-pair", Select)
        current = select.value if isinstance(select.value, int) else 0
        select.value = (current + step) % len(self._pairs)

    def action_pick_pair(self) -> None:
        select = self.query_one("#wal-pair", Select)
        select.focus()
        select.expanded = True

    def action_open_files(self) -> None:
        from tui.screens.wal_open import WalOpenScreen

        def chosen(pair: WalPair | None) -> None:
            if pair is not None:
                self.open_pair(pair)

        record = self._pair.record if self._pair else ""
        replay = (self._pair.replay or "") if self._pair else ""
        self.app.push_screen(WalOpenScreen(record, replay), chosen)

    def action_problems(self) -> None:
        listing = self.query_one("#wal-record-problems", WalProblemList)
        target = listing if listing.row_count or not self._problems["replay"] else self.query_one("#wal-replay-problems")
        target.focus()

    def action_tolerance(self) -> None:
        current = self._rules.float_tolerance
        following = TOLERANCES[(TOLERANCES.index(current) + 1) % len(TOLERANCES)] if current in TOLERANCES else 0.0
        self._rules = WalRules(self._rules.ignore, following, self._rules.redact)
        self.notify(f"float tolerance {following:g}: comparing again", timeout=3)
        if self._pair is not None:
            self.open_pair(self._pair)

    def action_rerun(self) -> None:
        if self._pair is not None:
            self.open_pair(self._pair)

    def retry_after_outage(self) -> None:
        if not self._pairs:
            self._pairs_started = True
            self._load_pairs()
        else:
            self.action_rerun()

    def action_escape(self) -> None:
        field = self.query_one("#wal-filter", Input)
        if field.display or self._filtered is not None or self._searching:
            self._clear_filter()
            return
        running = [w for w in self.workers if w.group in ("wal-diff", "wal-index", "wal-validate") and w.is_running]
        if running:
            for worker in running:
                worker.cancel()
            self.notify("stopped; what is shown covers what was read", timeout=4)

    @on(WalPairList.Selected, "#wal-rows")
    def _open_row(self, event: WalPairList.Selected) -> None:
        from tui.screens.wal_event import WalEventScreen

        aligned = self.query_one(WalPairList).row_at(event.index)
        if aligned is None or self._pair is None:
            return
        self.app.push_screen(WalEventScreen(aligned, self._pair.record, self._pair.replay, self._rules))

    @on(WalProblemList.Selected, "WalProblemList")
    def _jump_to_problem(self, event: WalProblemList.Selected) -> None:
        replay = event.list.id == "wal-replay-problems"
        problem = self._problems["replay" if replay else "record"][event.index]
        if self._filtered is not None:
            self._clear_filter()
        self._show_row(self._alignment.row_of(problem.line, replay=replay), context=True)
        self.query_one(WalPairList).focus()

    # Filter ----------------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#wal-filter", Input)
        field.display = True
        field.focus()

    @on(Input.Submitted, "#wal-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        text = event.value
        self.query_one(WalPairList).focus()  # the field stays shown while its filter applies
        if not text or text == "!":
            self._clear_filter()
            return
        self._filter_text = text
        self._searching = True
        self._filter_lines = {"record": [], "replay": []}
        self._run_search(text, self._generation)

    @work(exclusive=True, group="wal-search", exit_on_error=False)
    async def _run_search(self, text: str, generation: int) -> None:
        try:
            for side, path in self._paths():
                async for item in self.source.search_wal(path, text, self._rules):
                    if generation != self._generation:
                        return
                    if isinstance(item, list):
                        self._filter_lines[side].extend(item)
        finally:
            if generation == self._generation:
                self._searching = False
        self._apply_filter()

    def _apply_filter(self) -> None:
        inverted = self._filter_text.startswith("!")
        rows_of = self._alignment.row_of
        record = {rows_of(n) for n in self._filter_lines["record"]}
        replay = {rows_of(n, replay=True) for n in self._filter_lines["replay"]}
        if inverted and self._pair is not None and self._pair.replay is not None:
            # "!x": rows where neither side shows x; one-sided rows follow the side they have.
            keep = (record & replay) | {r for r in record ^ replay if self._one_sided(r)}
        else:
            keep = record | replay
        self._filtered = array("q", sorted(keep))
        rows = self.query_one(WalPairList)
        rows.set_rows(self._filtered, cursor=0)
        self._update_status()

    def _one_sided(self, row: int) -> bool:
        aligned = self._alignment.at(row)
        return aligned.record_line is None or aligned.replay_line is None

    def _clear_filter_state(self) -> None:
        self._filter_text = ""
        self._filtered = None
        self._searching = False
        self._filter_lines = {"record": [], "replay": []}

    def _clear_filter(self) -> None:
        self.workers.cancel_group(self, "wal-search")
        field = self.query_one("#wal-filter", Input)
        field.value = ""
        field.display = False
        rows = self.query_one(WalPairList)
        current = rows.rows[rows.cursor] if rows.row_count else 0
        had_filter = self._filtered is not None
        self._clear_filter_state()
        self._shown_rows = len(self._alignment)
        rows.set_rows(range(self._shown_rows), cursor=current if had_filter else None)
        rows.focus()
        self._update_status()
