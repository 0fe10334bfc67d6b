"""Pane 3, WAL / replay: did the replay reproduce the recorded run, and where did it first diverge?

Opening a pair starts five streams from the data source at once: the offset
index of each file (so any line can be fetched), the parity diff (whose
divergences build the alignment), and the validation of each file. A timer
merges what has arrived every ``FLUSH_SECONDS``; the list draws only what is
on screen and fetches just those lines, so a million-event pair shows its
first screen while it is still being indexed.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static

from backends.models import CAP_INVENTORY, WalPair
from backends.wal.alignment import AlignedRow
from backends.wal.rules import WalRules
from tui.errors import error_message
from tui.goto import GotoError, GotoTarget
from tui.panes.base import DeckPane
from tui.selection import Selection, as_detail
from tui.theme_style import theme_style
from tui.widgets.wal_pair_list import MARKS, WalPairList
from tui.state.wal import MAX_DIVERGENCES, SIDES, WalState
from tui.widgets.wal_problem_list import WalProblemList

FLUSH_SECONDS = 0.1
"""How often streamed results are merged into the view."""
FETCH_LINES = 400
"""Lines of one file fetched per request at most."""
TOLERANCES = (0.0, 1e-9, 1e-6)
"""Float tolerances ``t`` cycles through."""


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
    ACTION_NEEDS: ClassVar[dict[str, str]] = {"pair": CAP_INVENTORY, "pick_pair": CAP_INVENTORY}

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

    def __init__(self, *, build: bool = True) -> None:
        super().__init__(build=build)
        self.state = WalState()
        self._flush_timer: Timer | None = None

    # Layout --------------------------------------------------------------------------

    def compose_content(self) -> ComposeResult:
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

    def content_mounted(self) -> None:
        self.query_one("#wal-filter", Input).display = False
        self._flush_timer = self.set_interval(FLUSH_SECONDS, self._flush)

    def pane_shown(self) -> None:
        # Read only once the pane is first shown: at start-up this walk (3-12 s on
        # 100,000 runs) ran on a thread of the TUI's process and starved the Runs
        # pane's first screen and scan of the GIL.
        if not self.state.started:
            self.state.started = True
            self._load_pairs()

    def main_widget(self) -> Widget:
        return self.query_one(WalPairList)

    def content_resized(self) -> None:
        self._update_header()

    # Pairs ---------------------------------------------------------------------------

    @work(exclusive=True, group="wal-pairs", exit_on_error=False)
    async def _load_pairs(self) -> None:
        if not await self.require():
            return
        offered = await self.offered()
        missing = None if offered is None else offered.not_offered(CAP_INVENTORY)
        if missing is not None:
            self.query_one("#wal-status", Label).update(f"{missing}; o compares two WAL files named by path")
            return
        self.state.pairs = await self.source.list_wal_pairs()
        select = self.query_one("#wal-pair", Select)
        options = [(f"{p.run_id} {_name(p.record).removesuffix('.jsonl')}↔{_name(p.replay).removesuffix('.jsonl')}", i)
                   for i, p in enumerate(self.state.pairs)]
        with self.prevent(Select.Changed):
            select.set_options(options)
            if options:
                select.value = 0
        if self.state.pairs:
            self.open_pair(self.state.pairs[0])
        else:
            self.query_one("#wal-status", Label).update("this source holds no WAL record/replay pairs (o: open two files)")

    @on(Select.Changed, "#wal-pair")
    def _pair_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and 0 <= event.value < len(self.state.pairs):
            self.open_pair(self.state.pairs[event.value])
            self.query_one(WalPairList).focus()

    def open_pair(self, pair: WalPair) -> None:
        """Show ``pair``: index, diff and validate both files from scratch."""
        for group in ("wal-diff", "wal-search", "wal-index", "wal-validate", "wal-fetch"):
            self.workers.cancel_group(self, group)
        generation = self.state.open(pair)
        if pair not in self.state.pairs:  # two files opened with o: the picker no longer names the pair shown
            with self.prevent(Select.Changed):
                self.query_one("#wal-pair", Select).clear()
        rows = self.query_one(WalPairList)
        rows.reset(self.state.alignment, has_replay=pair.replay is not None)
        rows.mark_scope = (pair.record, pair.replay)
        self._update_header()
        for side, path in self.state.paths():
            self._run_index(side, path, generation)
            self._run_validate(side, path, generation)
        if pair.replay is not None:
            self._run_diff(generation)
        self._flush()

    # Streams -------------------------------------------------------------------------

    def _stream_failed(self, generation: int, path: str | None, error: BaseException) -> None:
        """Say in the status line that a stream of the open pair failed (else it reads "diffing…" for ever)."""
        if generation == self.state.generation:
            message = error_message(error)
            self.state.failure = f"⚠ {message}" if path and path in message else f"⚠ cannot read {path}: {message}"
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
            if generation != self.state.generation:
                return
            self.state.add_index(side, item)

    @work(group="wal-diff", exit_on_error=False)
    async def _run_diff(self, generation: int) -> None:
        try:
            await self._diff_stream(generation)
        except Exception as exc:
            self._stream_failed(generation, self.state.pair.replay if self.state.pair else None, exc)
            raise

    async def _diff_stream(self, generation: int) -> None:
        assert self.state.pair is not None and self.state.pair.replay is not None
        stream = self.source.diff_wal(
            self.state.pair.record, self.state.pair.replay, self.state.rules, max_divergences=MAX_DIVERGENCES
        )
        async for item in stream:
            if generation != self.state.generation:
                return
            self.state.add_diff(item)

    @work(group="wal-validate", exit_on_error=False)
    async def _run_validate(self, side: str, path: str, generation: int) -> None:
        try:
            await self._validate_stream(side, path, generation)
        except Exception as exc:
            self._stream_failed(generation, path, exc)
            raise

    async def _validate_stream(self, side: str, path: str, generation: int) -> None:
        async for item in self.source.validate_wal(path):
            if generation != self.state.generation:
                return
            self.state.add_validation(side, item)

    @work(group="wal-fetch", exit_on_error=False)
    async def _fetch(self, side: str, start: int, count: int, generation: int) -> None:
        path = self.state.path(side)
        try:
            if path is None:
                return
            lines = await self.source.wal_lines(path, start, count, self.state.rules)
        finally:
            self.state.fetching.discard(side)
        if generation == self.state.generation:
            self.query_one(WalPairList).store(side, lines)

    # Merging -------------------------------------------------------------------------

    def _flush(self) -> None:
        rows = self.query_one(WalPairList)
        if self.state.merge() and self.state.filter_text:
            self._apply_filter()
        total = len(self.state.alignment)
        if self.state.filtered is None and total != self.state.shown_rows:
            self.state.shown_rows = total
            rows.set_rows(range(total))
        if not self.state.first_shown and self.state.alignment.divergences:
            self.state.first_shown = True
            self._show_row(self.state.alignment.divergences[0].row, context=True)
        if self.state.problems_dirty:
            self.state.problems_dirty = False
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
            if not numbers or side in self.state.fetching or self.state.path(side) is None:
                continue
            start = min(numbers)
            count = min(FETCH_LINES, max(numbers) - start + 1)
            self.state.fetching.add(side)
            self._fetch(side, start, count, self.state.generation)

    # Status ---------------------------------------------------------------------------

    def _update_status(self) -> None:
        if self.state.pair is None:
            return
        self.query_one("#wal-status", Label).update(self.state.status())
        self._update_banner()

    def _update_banner(self) -> None:
        torn = []
        for side in SIDES:
            validation = self.state.validation.get(side)
            if validation is not None and validation.torn_tail is not None:
                torn.append(f"{_name(self.state.path(side))} line {validation.torn_tail}")
        banner = self.query_one("#wal-banner", Label)
        lines = [] if self.state.failure is None else [self.state.failure]
        if torn:
            lines.append(f"✂ torn tail: {', '.join(torn)} is cut short (the writer stopped mid-event); "
                         "reported as a torn tail, not as corruption")
        banner.update("\n".join(lines))
        banner.set_class(bool(lines), "shown")

    def _update_header(self) -> None:
        rows = self.query_one(WalPairList)
        width = rows.scrollable_content_region.width or self.size.width
        record = "record" if self.state.pair is None else f"record · {_name(self.state.pair.record)}"
        replay = None if self.state.pair is None or self.state.pair.replay is None else f"replay · {_name(self.state.pair.replay)}"
        self.query_one("#wal-header", Static).update(rows.header(width, record, replay))

    def _update_problems(self) -> None:
        for side in SIDES:
            problems = self.state.problems[side]
            listing = self.query_one(f"#wal-{side}-problems", WalProblemList)
            if len(problems) != listing.row_count:
                listing.set_rows(problems)
            title = self.query_one(f"#wal-{side}-problems-title", Label)
            title.update(self.state.problems_title(side, _name(self.state.path(side))))

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
        checked = self.state.summary is not None or self.state.checked_through(aligned)
        verdict = "matched under the rules" if checked else "not compared yet"
        return Text(f"record line {record} ↔ replay line {replay}: {verdict}", style=theme_style(self.app, "$text-muted"))

    @on(WalPairList.Highlighted, "#wal-rows")
    def _row_highlighted(self, event: WalPairList.Highlighted) -> None:
        rows = self.query_one(WalPairList)
        self.query_one("#wal-current", Label).update(self._describe_row(rows.row_at(event.index)))

    # Moving around ---------------------------------------------------------------------

    def _show_row(self, row: int, *, context: bool = False) -> None:
        rows = self.query_one(WalPairList)
        index = self.state.index_of_row(row)
        rows.move_to(index)
        if context:
            # A fixed number of rows above, not a share of the height: the panels below
            # fill in later and change the height, and the picture must not depend on when.
            rows.call_after_refresh(rows.scroll_to_top, max(0, index - CONTEXT_ROWS))
        self.query_one("#wal-current", Label).update(self._describe_row(rows.row_at(rows.cursor)))

    def action_divergence(self, step: int) -> None:
        """Next/previous divergence from the cursor (in the filtered view, if any)."""
        rows = self.query_one(WalPairList)
        current = rows.rows[rows.cursor] if rows.row_count else -1
        target = self.state.alignment.next_divergence(current, step)
        while target is not None and self.state.filtered is not None and not self.state.in_filter(target):
            target = self.state.alignment.next_divergence(target, step)
        if target is None:
            self.notify("no further divergence" if self.state.alignment.divergences else "no divergence", timeout=3)
            return
        self._show_row(target, context=True)

    def action_match(self, step: int) -> None:
        """Next/previous row of the (filtered) view, wrapping around."""
        rows = self.query_one(WalPairList)
        if rows.row_count:
            rows.move_to((rows.cursor + step) % rows.row_count)

    def action_pair(self, step: int) -> None:
        if not self.state.pairs:
            return
        select = self.query_one("#wal-pair", Select)
        current = select.value if isinstance(select.value, int) else 0
        select.value = (current + step) % len(self.state.pairs)

    def action_pick_pair(self) -> None:
        select = self.query_one("#wal-pair", Select)
        select.focus()
        select.expanded = True

    def action_open_files(self) -> None:
        from tui.screens.wal_open import WalOpenScreen

        def chosen(pair: WalPair | None) -> None:
            if pair is not None:
                self.open_pair(pair)

        record = self.state.pair.record if self.state.pair else ""
        replay = (self.state.pair.replay or "") if self.state.pair else ""
        self.app.push_screen(WalOpenScreen(record, replay), chosen)

    def action_problems(self) -> None:
        listing = self.query_one("#wal-record-problems", WalProblemList)
        target = listing if listing.row_count or not self.state.problems["replay"] else self.query_one("#wal-replay-problems")
        target.focus()

    def action_tolerance(self) -> None:
        current = self.state.rules.float_tolerance
        following = TOLERANCES[(TOLERANCES.index(current) + 1) % len(TOLERANCES)] if current in TOLERANCES else 0.0
        self.state.rules = WalRules(self.state.rules.ignore, following, self.state.rules.redact)
        self.notify(f"float tolerance {following:g}: comparing again", timeout=3)
        if self.state.pair is not None:
            self.open_pair(self.state.pair)

    def action_rerun(self) -> None:
        if self.state.pair is not None:
            self.open_pair(self.state.pair)

    def retry_after_outage(self) -> None:
        if not self.state.pairs:
            self.state.started = True
            self._load_pairs()
        else:
            self.action_rerun()

    def action_escape(self) -> None:
        field = self.query_one("#wal-filter", Input)
        if field.display or self.state.filtered is not None or self.state.searching:
            self._clear_filter()
            return
        if self.back_to_origin():
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
        if aligned is None or self.state.pair is None:
            return
        self.app.push_screen(WalEventScreen(aligned, self.state.pair.record, self.state.pair.replay, self.state.rules))

    @on(WalProblemList.Selected, "WalProblemList")
    def _jump_to_problem(self, event: WalProblemList.Selected) -> None:
        replay = event.list.id == "wal-replay-problems"
        problem = self.state.problems["replay" if replay else "record"][event.index]
        if self.state.filtered is not None:
            self._clear_filter()
        self._show_row(self.state.alignment.row_of(problem.line, replay=replay), context=True)
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
        self.state.start_filter(text)
        self._run_search(text, self.state.generation)

    @work(exclusive=True, group="wal-search", exit_on_error=False)
    async def _run_search(self, text: str, generation: int) -> None:
        try:
            for side, path in self.state.paths():
                async for item in self.source.search_wal(path, text, self.state.rules):
                    if generation != self.state.generation:
                        return
                    if isinstance(item, list):
                        self.state.filter_lines[side].extend(item)
        finally:
            if generation == self.state.generation:
                self.state.searching = False
        self._apply_filter()

    def _apply_filter(self) -> None:
        rows = self.query_one(WalPairList)
        rows.set_rows(self.state.apply_filter(), cursor=0)
        self._update_status()

    def _clear_filter(self) -> None:
        self.workers.cancel_group(self, "wal-search")
        field = self.query_one("#wal-filter", Input)
        field.value = ""
        field.display = False
        rows = self.query_one(WalPairList)
        current = rows.rows[rows.cursor] if rows.row_count else 0
        had_filter = self.state.filtered is not None
        self.state.clear_filter()
        self.state.shown_rows = len(self.state.alignment)
        rows.set_rows(range(self.state.shown_rows), cursor=current if had_filter else None)
        rows.focus()
        self._update_status()

    # Selection, go-to and marks (the app's y, Y, :, m, O) -------------------------------

    def selected_item(self) -> Selection | None:
        rows = self.query_one(WalPairList)
        aligned = rows.row_at(rows.cursor)
        pair = self.state.pair
        if aligned is None or pair is None:
            return None
        detail: dict[str, object] = {"run_id": pair.run_id, "record": pair.record, "replay": pair.replay,
                                     "record_line": aligned.record_line, "replay_line": aligned.replay_line}
        for side, number, cache in (("record", aligned.record_line, rows.record_cache), ("replay", aligned.replay_line, rows.replay_cache)):
            line = cache.get(number) if number is not None else None
            if line is not None:
                detail[f"{side}_text"] = line.text
        side, number = ("record", aligned.record_line) if aligned.record_line is not None else ("replay", aligned.replay_line)
        path = self.state.path(side)
        where = f"{path}:{number}"
        if aligned.divergence is not None:
            detail["divergence"] = as_detail(aligned.divergence)
            return Selection("divergence", aligned.divergence.headline(), detail, path=path, line=number,
                             title=f"{aligned.divergence.kind} at {where}")
        return Selection("line", where, detail, path=path, line=number, title=where)

    def mark_list(self) -> WalPairList:
        return self.query_one(WalPairList)

    def goto_candidates(self) -> dict[str, list[str]]:
        return {"wal": list(dict.fromkeys(pair.run_id for pair in self.state.pairs))}

    async def source_candidates(self) -> dict[str, list[str]]:
        return {"wal": list(dict.fromkeys(pair.run_id for pair in await self.source.list_wal_pairs()))}

    async def goto(self, target: GotoTarget) -> str:
        """``wal:RUN``: the first pair of that run; ``line:N``: record line N of the pair shown."""
        if target.kind == "wal":
            await self.wait_for(lambda: bool(self.state.pairs) or self.settled("wal-pairs"),
                                "the WAL pairs")
            index = next((i for i, p in enumerate(self.state.pairs) if p.run_id == target.value), None)
            if index is None:
                runs = sorted({p.run_id for p in self.state.pairs if p.run_id.startswith(target.value)})
                if len(runs) != 1:
                    some = f"{len(runs)} runs start with it" if runs else f"{len(self.state.pairs)} pairs, none of that run"
                    raise GotoError(f"no WAL pair of run {target.value!r} ({some})")
                index = next(i for i, p in enumerate(self.state.pairs) if p.run_id == runs[0])
            with self.prevent(Select.Changed):
                self.query_one("#wal-pair", Select).value = index
            self.open_pair(self.state.pairs[index])
            self.focus_main()
            chosen = self.state.pairs[index]
            return f"WAL pair {chosen.run_id} {_name(chosen.record)} ↔ {_name(chosen.replay)}"
        if target.kind != "line":
            return await super().goto(target)
        if self.state.pair is None:
            await self.wait_for(lambda: self.state.pair is not None or self.settled("wal-pairs"),
                                "the WAL pairs")
        pair = self.state.pair
        if pair is None:
            raise GotoError("no WAL pair is open (o opens two files)")
        generation = self.state.generation
        # Row numbers are final once the diff has placed every divergence (and the index counted the lines).
        await self.wait_for(lambda: generation != self.state.generation or (
            self.state.indexed("record") and (pair.replay is None or self.state.summary is not None)
            or self.settled("wal-index", "wal-diff")), "the WAL diff")
        lines = self.state.line_count("record")
        if target.line > lines:
            raise GotoError(f"{_name(pair.record)} has {lines:,} lines; no line {target.line:,}")
        self.state.first_shown = True  # the first divergence no longer takes the cursor
        if self.state.filtered is not None:
            self._clear_filter()
        self._flush()
        self._show_row(self.state.alignment.row_of(target.line), context=True)
        self.focus_main()
        return f"{_name(pair.record)} line {target.line:,}"
