"""``WalState``: what pane 3 knows about the pair it shows."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass, field

from backends.models import WalPair
from backends.units import counted
from backends.wal.alignment import AlignedRow, Alignment
from backends.wal.diff import WalDiffSummary, WalDivergence
from backends.wal.index import WalIndexInfo
from backends.wal.progress import WalProgress
from backends.wal.rules import WalRules
from backends.wal.validate import WalProblem, WalValidation

SIDES = ("record", "replay")
MAX_DIVERGENCES = 50_000
"""Divergences the pane keeps at most (the diff stops there)."""


def _sides() -> dict[str, list[int]]:
    return {side: [] for side in SIDES}


@dataclass
class WalState:
    """The pairs of the source, the pair open and everything its five streams have delivered.

    Attributes:
        started: Whether loading has begun (the pane reads the source only once it is first shown).
        pairs: WAL pairs the source lists.
        pair: The pair shown (one of ``pairs``, or two files opened by hand).
        rules: Parity rules of the comparison.
        alignment: Rows of the two files side by side, built from the divergences.
        generation: Bumped whenever a pair is (re)opened: a stream of an older one is ignored.
        pending: Divergences received since the last merge into ``alignment``.
        summary: The diff's summary, once it has finished.
        diff_progress: The diff's latest progress.
        index_state: Per side, the index's progress or its final description.
        problems: Per side, validation problems so far.
        problems_dirty: Whether ``problems`` changed since they were last drawn.
        validation: Per side, the validation's summary once finished.
        first_shown: Whether the cursor has been put on the first divergence (only once per pair).
        shown_rows: How many rows the list was last given (unfiltered).
        filter_text: The filter (``!`` prefix inverts).
        filter_lines: Per side, line numbers the filter's search has matched.
        filtered: The rows kept by the filter, ascending; ``None`` without a filter.
        searching: Whether the filter's search is running.
        fetching: Sides with a line fetch in flight.
        failure: Why a stream of the open pair failed, if one did.
    """

    pairs: list[WalPair] = field(default_factory=list)
    pair: WalPair | None = None
    rules: WalRules = field(default_factory=WalRules)
    alignment: Alignment = field(default_factory=Alignment)
    generation: int = 0
    pending: list[WalDivergence] = field(default_factory=list)
    summary: WalDiffSummary | None = None
    diff_progress: WalProgress | None = None
    index_state: dict[str, WalProgress | WalIndexInfo | None] = field(default_factory=dict)
    problems: dict[str, list[WalProblem]] = field(default_factory=lambda: {"record": [], "replay": []})
    problems_dirty: bool = False
    validation: dict[str, WalValidation | None] = field(default_factory=dict)
    first_shown: bool = False
    shown_rows: int = -1
    filter_text: str = ""
    filter_lines: dict[str, list[int]] = field(default_factory=_sides)
    filtered: array[int] | None = None
    searching: bool = False
    fetching: set[str] = field(default_factory=set)
    failure: str | None = None
    started: bool = False

    # Opening ---------------------------------------------------------------------------

    def open(self, pair: WalPair) -> int:
        """Forget the last pair's results and start on ``pair``; the new generation."""
        self.generation += 1
        self.pair = pair
        self.failure = None
        self.alignment = Alignment()
        self.pending = []
        self.summary = None
        self.diff_progress = None
        self.index_state = {side: None for side in SIDES}
        self.problems = {"record": [], "replay": []}
        self.problems_dirty = True
        self.validation = {side: None for side in SIDES}
        self.first_shown = False
        self.shown_rows = -1
        self.clear_filter()
        self.fetching = set()
        return self.generation

    def paths(self) -> list[tuple[str, str]]:
        """``(side, path)`` of each file of the open pair."""
        if self.pair is None:
            return []
        paths = [("record", self.pair.record)]
        if self.pair.replay is not None:
            paths.append(("replay", self.pair.replay))
        return paths

    def path(self, side: str) -> str | None:
        """The open pair's file on ``side``, if it has one."""
        if self.pair is None:
            return None
        return self.pair.record if side == "record" else self.pair.replay

    # Streams ---------------------------------------------------------------------------

    def add_index(self, side: str, item: WalProgress | WalIndexInfo) -> None:
        """Take one item of a side's index stream (the alignment learns the line count)."""
        self.index_state[side] = item
        if side == "record":
            self.alignment.record_lines = max(self.alignment.record_lines, item.lines)
        else:
            self.alignment.replay_lines = max(self.alignment.replay_lines, item.lines)

    def add_diff(self, item: object) -> None:
        """Take one item of the diff stream."""
        if isinstance(item, WalDivergence):
            self.pending.append(item)
        elif isinstance(item, WalProgress):
            self.diff_progress = item
        elif isinstance(item, WalDiffSummary):
            self.summary = item

    def add_validation(self, side: str, item: object) -> None:
        """Take one item of a side's validation stream."""
        if isinstance(item, WalProblem):
            self.problems[side].append(item)
            self.problems_dirty = True
        elif isinstance(item, WalValidation):
            self.validation[side] = item
            self.problems_dirty = True

    def merge(self) -> bool:
        """Merge pending divergences (and the final row count) into the alignment; whether the
        row count became final just now (a filter must then be applied again)."""
        if self.pending:
            pending, self.pending = self.pending, []
            for divergence in pending:
                self.alignment.add(divergence)
        if self.summary is not None and self.alignment.final_rows is None:
            self.alignment.final_rows = self.summary.rows
            return True
        return False

    # Words -----------------------------------------------------------------------------

    def indexed(self, side: str) -> bool:
        """Whether a side's index has finished (its line count is final)."""
        return isinstance(self.index_state.get(side), WalIndexInfo)

    def line_count(self, side: str) -> int:
        """Lines of a side counted so far (0 before its index starts)."""
        state = self.index_state.get(side)
        return state.lines if state is not None else 0

    def lines_text(self, side: str) -> str:
        """A side's line count as known so far: ``400``, ``1,200+ (indexing 40%)`` or ``…``."""
        state = self.index_state.get(side)
        if isinstance(state, WalIndexInfo):
            return f"{state.lines:,}"
        if isinstance(state, WalProgress):
            return f"{state.lines:,}+ (indexing {state.fraction:.0%})"
        return "…"

    def status(self) -> str:
        """The toolbar's one-line status of the open pair ("" before one is open)."""
        if self.pair is None:
            return ""
        if self.pair.replay is None:
            parts = [f"{self.lines_text('record')} lines", "no replay"]
        else:
            parts = [f"{self.lines_text('record')} ↔ {self.lines_text('replay')} lines"]
            summary = self.summary
            count = len(self.alignment.divergences)
            if summary is not None and summary.parity:
                parts.append(f"parity ✓ {summary.matched:,} matched")
            elif count:
                kinds: dict[str, int] = {}
                for divergence in self.alignment.divergences:
                    kinds[divergence.kind] = kinds.get(divergence.kind, 0) + 1
                detail = ", ".join(f"{n} {k}" for k, n in kinds.items())
                parts.append(f"{counted(count, 'divergence')}: {detail}")
            if self.failure is not None:
                parts.append("⚠ not compared")
            elif summary is None:
                progress = self.diff_progress
                parts.append(f"diffing {progress.fraction:.0%}…" if progress else "diffing…")
            elif summary.truncated:
                parts.append(f"first {MAX_DIVERGENCES:,} kept")
            elif not summary.complete:
                parts.append("diff stopped")
        if self.rules.float_tolerance:
            parts.append(f"tolerance {self.rules.float_tolerance:g}")
        if self.filtered is not None or self.searching:
            shown = "searching…" if self.searching else f"{len(self.filtered or ()):,} rows"
            parts.append(f"filter: {shown}")
        return " · ".join(parts)

    def problems_title(self, side: str, name: str) -> str:
        """The title above a side's validation problems."""
        problems = self.problems[side]
        validation = self.validation.get(side)
        if self.path(side) is None:
            return f"{side.capitalize()}: none"
        if validation is None:
            if self.failure is not None:
                return f"{side.capitalize()} {name}: not validated"
            return f"{side.capitalize()} {name}: validating… ({counted(len(problems), 'problem')} so far)"
        if not validation.problems:
            return f"{side.capitalize()} {name}: valid ✓ ({validation.events:,} events)"
        return f"{side.capitalize()} {name}: {counted(validation.errors, 'error')}, {counted(validation.warnings, 'warning')}"

    def checked_through(self, aligned: AlignedRow) -> bool:
        """Whether the diff has already compared ``aligned``'s record line."""
        progress = self.diff_progress
        return progress is not None and aligned.record_line is not None and 2 * aligned.record_line <= progress.lines

    # Filter ----------------------------------------------------------------------------

    def clear_filter(self) -> None:
        """No filter, no search."""
        self.filter_text = ""
        self.filtered = None
        self.searching = False
        self.filter_lines = _sides()

    def start_filter(self, text: str) -> None:
        """A search for ``text`` is starting."""
        self.filter_text = text
        self.searching = True
        self.filter_lines = _sides()

    def apply_filter(self) -> array[int]:
        """The rows the search's matches keep (``!x``: rows where neither side shows x)."""
        inverted = self.filter_text.startswith("!")
        rows_of = self.alignment.row_of
        record = {rows_of(n) for n in self.filter_lines["record"]}
        replay = {rows_of(n, replay=True) for n in self.filter_lines["replay"]}
        if inverted and self.pair is not None and self.pair.replay is not None:
            # One-sided rows follow the side they have.
            keep = (record & replay) | {r for r in record ^ replay if self.one_sided(r)}
        else:
            keep = record | replay
        self.filtered = array("q", sorted(keep))
        return self.filtered

    def one_sided(self, row: int) -> bool:
        """Whether aligned ``row`` has a line on one side only."""
        aligned = self.alignment.at(row)
        return aligned.record_line is None or aligned.replay_line is None

    def in_filter(self, row: int) -> bool:
        """Whether aligned ``row`` is shown (always, without a filter)."""
        filtered = self.filtered
        if filtered is None:
            return True
        index = bisect_left(filtered, row)
        return index < len(filtered) and filtered[index] == row

    def index_of_row(self, row: int) -> int:
        """List index of aligned ``row`` (the nearest one in a filtered view)."""
        if self.filtered is None:
            return row
        return min(bisect_left(self.filtered, row), max(0, len(self.filtered) - 1))
